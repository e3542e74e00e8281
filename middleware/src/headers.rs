//! Request headers HTTP.jl's `HeadersRequest` layer sets before a request goes out.
//!
//! - `User-Agent`: the layer's value when the request has none (httpstack's client uses
//!   `httpstack/<version>`; `None` sends none).
//! - Basic auth from the URL's userinfo (`http://user:pass@host/`): the userinfo is always
//!   removed from the URI (it must never reach the wire or a log) and, unless
//!   `basic_auth` is off, becomes `Authorization: Basic …` when the request has none.
//! - A header whose value is empty is not sent (curl's convention, kept by HTTP.jl).
//! - `Content-Length: 0` on a POST, PUT or PATCH with an empty body, which hyper leaves
//!   out (RFC 9110 §8.6: a user agent SHOULD send it when the method defines content).
//!
//! A request overrides the layer's settings with a [`HeadersConfig`] extension.
//!
//! ```
//! use httpstack_middleware::headers::HeadersLayer;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let echo = service_fn(|req: http::Request<String>| async move {
//!     Ok::<_, std::convert::Infallible>(req)
//! });
//! let svc = HeadersLayer::new().user_agent("demo/1.0").layer(echo);
//! let req = http::Request::get("http://aladdin:opensesame@example.com/").body(String::new()).unwrap();
//! let sent = svc.oneshot(req).await.unwrap();
//! assert_eq!(sent.uri(), "http://example.com/");
//! assert_eq!(sent.headers()["authorization"], "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
//! assert_eq!(sent.headers()["user-agent"], "demo/1.0");
//! # }
//! ```

use std::task::{Context, Poll};

use base64::Engine as _;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, TRANSFER_ENCODING, USER_AGENT};
use http::uri::{Authority, Parts};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use percent_encoding::percent_decode_str;
use tower::{Layer, Service};

/// Per-request header settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadersConfig {
    /// The `User-Agent` sent when the request has none; `None` sends none.
    pub user_agent: Option<HeaderValue>,
    /// Turn URL userinfo into `Authorization: Basic` (default true).
    pub basic_auth: bool,
}

impl Default for HeadersConfig {
    fn default() -> Self {
        HeadersConfig {
            user_agent: None,
            basic_auth: true,
        }
    }
}

/// Sets the default request headers; see the [module docs](self).
///
/// ```
/// use httpstack_middleware::headers::HeadersLayer;
/// use tower::{service_fn, ServiceBuilder};
///
/// let client = ServiceBuilder::new()
///     .layer(HeadersLayer::new().user_agent("my-app/1.0"))
///     .service(service_fn(|_req: http::Request<String>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Debug, Default)]
pub struct HeadersLayer {
    config: HeadersConfig,
}

impl HeadersLayer {
    /// No User-Agent, basic auth from userinfo on.
    pub fn new() -> Self {
        HeadersLayer::default()
    }

    /// Sets the default User-Agent. A value that is not a valid header value is ignored.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.config.user_agent = HeaderValue::from_str(user_agent).ok();
        self
    }

    /// Sets the whole default config.
    pub fn config(mut self, config: HeadersConfig) -> Self {
        self.config = config;
        self
    }
}

impl<S> Layer<S> for HeadersLayer {
    type Service = Headers<S>;

    fn layer(&self, inner: S) -> Headers<S> {
        Headers {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`HeadersLayer`].
#[derive(Clone, Debug)]
pub struct Headers<S> {
    inner: S,
    config: HeadersConfig,
}

impl<S> Headers<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, config: HeadersConfig) -> Self {
        Headers { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for Headers<S>
where
    S: Service<Request<B>>,
    B: http_body::Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        let config = req
            .extensions()
            .get::<HeadersConfig>()
            .unwrap_or(&self.config);
        let (user_agent, basic_auth) = (config.user_agent.clone(), config.basic_auth);

        if let Some(credentials) = take_userinfo(req.uri_mut()) {
            if basic_auth && !req.headers().contains_key(AUTHORIZATION) {
                if let Some(value) = basic_auth_value(&credentials) {
                    req.headers_mut().insert(AUTHORIZATION, value);
                }
            }
        }
        if let Some(ua) = user_agent {
            req.headers_mut().entry(USER_AGENT).or_insert(ua);
        }
        remove_empty_values(req.headers_mut());
        if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
            && req.body().size_hint().exact() == Some(0)
            && !req.headers().contains_key(CONTENT_LENGTH)
            && !req.headers().contains_key(TRANSFER_ENCODING)
        {
            req.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        self.inner.call(req)
    }
}

/// `Authorization: Basic base64(user:password)` from percent-encoded userinfo.
pub fn basic_auth_value(userinfo: &str) -> Option<HeaderValue> {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let user = percent_decode_str(user).decode_utf8_lossy();
    let password = percent_decode_str(password).decode_utf8_lossy();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Removes `userinfo@` from the URI's authority and returns it.
fn take_userinfo(uri: &mut Uri) -> Option<String> {
    let authority = uri.authority()?.as_str();
    let (userinfo, host) = authority.rsplit_once('@')?;
    let userinfo = userinfo.to_owned();
    let host = Authority::try_from(host).ok()?;
    let mut parts = Parts::from(std::mem::take(uri));
    parts.authority = Some(host);
    // Same scheme and path as before, only the authority changed, so this cannot fail;
    // on the impossible failure the request goes out without a URI rather than with
    // credentials in it.
    *uri = Uri::from_parts(parts).unwrap_or_default();
    Some(userinfo)
}

fn remove_empty_values(headers: &mut HeaderMap) {
    if !headers.values().any(|v| v.is_empty()) {
        return;
    }
    let old = std::mem::take(headers);
    let mut name = None;
    for (key, value) in old {
        // HeaderMap's owning iterator gives the name only on a name's first value.
        if key.is_some() {
            name = key;
        }
        if let (Some(name), false) = (&name, value.is_empty()) {
            headers.append(name.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::{service_fn, ServiceExt};

    async fn sent(req: Request<String>, layer: HeadersLayer) -> Request<String> {
        let echo = service_fn(|req: Request<String>| async move { Ok::<_, Infallible>(req) });
        layer.layer(echo).oneshot(req).await.unwrap()
    }

    #[tokio::test]
    async fn empty_header_values_are_not_sent() {
        let req = Request::post("http://h/")
            .header("x-a", "")
            .header("x-b", "1")
            .header("x-c", "2")
            .header("x-c", "")
            .body(String::new())
            .unwrap();
        let req = sent(req, HeadersLayer::new()).await;
        assert!(!req.headers().contains_key("x-a"));
        assert_eq!(req.headers()["x-b"], "1");
        assert_eq!(req.headers().get_all("x-c").iter().count(), 1);
        assert_eq!(req.headers()[CONTENT_LENGTH], "0");
    }

    #[tokio::test]
    async fn userinfo_is_stripped_even_without_basic_auth() {
        let mut req = Request::get("http://u%40x:p%3Aw@h:81/p?q")
            .body(String::new())
            .unwrap();
        req.extensions_mut().insert(HeadersConfig {
            user_agent: None,
            basic_auth: false,
        });
        let req = sent(req, HeadersLayer::new()).await;
        assert_eq!(req.uri(), "http://h:81/p?q");
        assert!(!req.headers().contains_key(AUTHORIZATION));
        assert!(!req.headers().contains_key(USER_AGENT));
    }

    #[tokio::test]
    async fn explicit_authorization_and_user_agent_win() {
        let req = Request::get("http://u:p@h/")
            .header(AUTHORIZATION, "Bearer t")
            .header(USER_AGENT, "mine")
            .body(String::new())
            .unwrap();
        let req = sent(req, HeadersLayer::new().user_agent("default")).await;
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer t");
        assert_eq!(req.headers()[USER_AGENT], "mine");
    }

    #[test]
    fn basic_auth_decodes_percent_escapes() {
        // "u@x:p:w" → base64
        assert_eq!(
            basic_auth_value("u%40x:p%3Aw").unwrap(),
            "Basic dUB4OnA6dw=="
        );
    }
}
