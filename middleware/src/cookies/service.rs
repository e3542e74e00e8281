//! [`Cookies`]: the service of [`CookieLayer`](super::CookieLayer).

use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;
use url::Url;

use super::cookie::append_cookie_header;
use super::{CookieConfig, CookieJar, ResponseFuture};
use crate::cross_origin::CrossOriginRedirect;

/// Adds the jar's (and explicit) cookies to each request and stores the response's
/// `Set-Cookie` headers; see the [module docs](super). Errors pass through unchanged.
#[derive(Clone, Debug)]
pub struct Cookies<S> {
    inner: S,
    jar: CookieJar,
    config: CookieConfig,
}

impl<S> Cookies<S> {
    /// Wraps `inner` with `jar` and the default `config`.
    pub fn new(inner: S, jar: CookieJar, config: CookieConfig) -> Self {
        Cookies { inner, jar, config }
    }

    /// A [`CookieLayer`](super::CookieLayer) over `jar`.
    pub fn layer(jar: CookieJar) -> super::CookieLayer {
        super::CookieLayer::new(jar)
    }

    /// The jar.
    pub fn jar(&self) -> &CookieJar {
        &self.jar
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

impl<S, ReqB, ResB> Service<Request<ReqB>> for Cookies<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let config = req
            .extensions()
            .get::<CookieConfig>()
            .unwrap_or(&self.config);
        if !config.is_enabled() {
            return ResponseFuture::new(self.inner.call(req), None);
        }
        // Explicit cookies are the caller's credentials: not for another origin.
        let explicit = config
            .explicit_pairs()
            .filter(|_| !CrossOriginRedirect::is_marked(&req));
        // HTTP.jl `cookiejar=` per request: a jar in the extensions replaces the layer's.
        let jar = match req.extensions().get::<CookieJar>() {
            Some(jar) => jar.clone(),
            None => self.jar.clone(),
        };
        let target = Target::of(&req);
        // The URL is parsed only when there is something to send or, on the way back,
        // something to store: most requests of a client with an empty jar need neither.
        if explicit.is_some() || !jar.is_empty() {
            let Some(url) = target.url() else {
                return ResponseFuture::new(self.inner.call(req), None);
            };
            let mut pairs = String::new();
            for cookie in jar.get_cookies(&url) {
                if explicit.is_some_and(|e| e.contains_key(&cookie.name)) {
                    continue;
                }
                push_pair(&mut pairs, &cookie.name, &cookie.value);
            }
            for (name, value) in explicit.into_iter().flatten() {
                push_pair(&mut pairs, name, value);
            }
            if !pairs.is_empty() {
                if let Err(err) = append_cookie_header(req.headers_mut(), &pairs) {
                    tracing::debug!(%url, error = %err, "cookies not sent");
                }
            }
        }
        ResponseFuture::new(self.inner.call(req), Some((jar, target)))
    }
}

/// Appends `name=value` in the request form; a pair with an invalid name is left out.
fn push_pair(out: &mut String, name: &str, value: &str) {
    let cookie = super::Cookie::new(name, value);
    match cookie.to_request_string() {
        Ok(pair) => {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&pair);
        }
        Err(err) => tracing::debug!(error = %err, "cookie not sent"),
    }
}

/// Where a request goes, kept cheaply (the URI and the `Host` header are reference
/// counted) until a URL is needed.
#[derive(Debug)]
pub(super) struct Target {
    uri: http::Uri,
    host: Option<http::HeaderValue>,
}

impl Target {
    fn of<B>(req: &Request<B>) -> Target {
        let host = match req.uri().authority() {
            Some(_) => None,
            None => req.headers().get(http::header::HOST).cloned(),
        };
        Target {
            uri: req.uri().clone(),
            host,
        }
    }

    /// The URL the request goes to: its absolute URI (client side), else `http://` with
    /// its `Host` header. `None` when neither names a host.
    pub(super) fn url(&self) -> Option<Url> {
        let uri = &self.uri;
        let authority = match uri.authority() {
            Some(authority) => authority.as_str(),
            None => self.host.as_ref()?.to_str().ok()?,
        };
        let scheme = uri.scheme_str().unwrap_or("http");
        // `OPTIONS *` (asterisk-form) has no path: the cookies of `/` are the right ones.
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| p.starts_with('/'))
            .unwrap_or("/");
        Url::parse(&format!("{scheme}://{authority}{path}")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_urls() {
        for (uri, host, expected) in [
            (
                "http://example.com/a?b",
                None,
                Some("http://example.com/a?b"),
            ),
            (
                "https://u:p@example.com:8443/",
                None,
                Some("https://u:p@example.com:8443/"),
            ),
            (
                "/path",
                Some("example.com:8080"),
                Some("http://example.com:8080/path"),
            ),
            ("/path", None, None),
            ("*", Some("example.com"), Some("http://example.com/")),
        ] {
            let mut req = Request::builder().uri(uri);
            if let Some(host) = host {
                req = req.header("host", host);
            }
            let req = req.body(()).unwrap();
            let got = Target::of(&req).url().map(String::from);
            assert_eq!(got.as_deref(), expected, "{uri} with Host {host:?}");
        }
    }
}
