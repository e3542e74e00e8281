//! [`CookieParseLayer`]: the server side (HTTP.jl `cookie_middleware` and `getcookies`).

use std::ops::Deref;
use std::task::{Context, Poll};

use http::Request;
use tower::{Layer, Service};

use super::cookie::request_cookies;
use super::Cookie;

/// The cookies of a request, parsed by a [`CookieParseLayer`] and kept in the request's
/// extensions. [`cookies(&req)`](super::cookies) returns them; in axum,
/// `Extension<ParsedCookies>` extracts them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedCookies(pub Vec<Cookie>);

impl ParsedCookies {
    /// The first cookie named `name`.
    pub fn get(&self, name: &str) -> Option<&Cookie> {
        self.0.iter().find(|c| c.name == name)
    }

    /// The value of the first cookie named `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|c| c.value.as_str())
    }
}

impl Deref for ParsedCookies {
    type Target = [Cookie];

    fn deref(&self) -> &[Cookie] {
        &self.0
    }
}

/// Parses each request's `Cookie` headers into [`ParsedCookies`] in its extensions (HTTP.jl
/// `cookie_middleware`), by HTTP.jl's rules: quoted values unquoted, invalid pairs skipped.
///
/// ```
/// use httpstack_middleware::cookies::{CookieParseLayer, ParsedCookies};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let server = ServiceBuilder::new()
///     .layer(CookieParseLayer::new())
///     .service(service_fn(|req: http::Request<()>| async move {
///         let count = req.extensions().get::<ParsedCookies>().map_or(0, |c| c.0.len());
///         Ok::<_, std::convert::Infallible>(http::Response::new(count.to_string()))
///     }));
/// let req = http::Request::get("/").header("cookie", "a=1; b=2").body(()).unwrap();
/// assert_eq!(server.oneshot(req).await.unwrap().body(), "2");
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CookieParseLayer;

impl CookieParseLayer {
    /// The layer.
    pub fn new() -> Self {
        CookieParseLayer
    }
}

impl<S> Layer<S> for CookieParseLayer {
    type Service = CookieParse<S>;

    fn layer(&self, inner: S) -> CookieParse<S> {
        CookieParse { inner }
    }
}

/// The service of [`CookieParseLayer`].
#[derive(Clone, Copy, Debug)]
pub struct CookieParse<S> {
    inner: S,
}

impl<S> CookieParse<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        CookieParse { inner }
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

impl<S, B> Service<Request<B>> for CookieParse<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    // Parsing happens before the call, so the inner future is all there is to wait for.
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        let cookies = ParsedCookies(request_cookies(req.headers()));
        req.extensions_mut().insert(cookies);
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookies::cookies;
    use tower::{service_fn, ServiceExt};

    #[tokio::test]
    async fn parsed_cookies_reach_the_handler() {
        let svc = CookieParseLayer::new().layer(service_fn(|req: Request<()>| async move {
            let parsed = req.extensions().get::<ParsedCookies>().cloned().unwrap();
            Ok::<_, std::convert::Infallible>((parsed, cookies(&req)))
        }));
        let req = Request::builder()
            .header("cookie", "a=1; b=\"two\"")
            .header("cookie", "bad name=3; c=")
            .body(())
            .unwrap();
        let (parsed, via_fn) = svc.oneshot(req).await.unwrap();
        assert_eq!(parsed.value("a"), Some("1"));
        assert_eq!(parsed.value("b"), Some("two"));
        assert_eq!(parsed.value("c"), Some(""));
        assert_eq!(parsed.len(), 3);
        assert_eq!(via_fn, parsed.0);
    }
}
