//! [`CookieLayer`]: the client's cookie layer (HTTP.jl `cookielayer`).

use tower::Layer;

use super::{CookieConfig, CookieJar, Cookies};

/// Sends a jar's cookies with each request and stores the response's `Set-Cookie` headers
/// in it; see the [module docs](super).
///
/// ```
/// use httpstack_middleware::cookies::{CookieJar, CookieLayer};
/// use httpstack_middleware::Body;
/// use tower::{service_fn, ServiceBuilder};
///
/// // One jar shared by every clone of the client: cookies set by a response go out on the
/// // next request to the same site.
/// let jar = CookieJar::new();
/// let client = ServiceBuilder::new()
///     .layer(CookieLayer::new(jar.clone()))
///     .service(service_fn(|_req: http::Request<Body>| async {
///         Ok::<_, httpstack_middleware::Error>(http::Response::new(Body::empty()))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Debug, Default)]
pub struct CookieLayer {
    jar: CookieJar,
    config: CookieConfig,
}

impl CookieLayer {
    /// A layer over `jar` with cookies enabled. Clones of the jar share its cookies, so one
    /// jar can serve several clients.
    pub fn new(jar: CookieJar) -> Self {
        CookieLayer {
            jar,
            config: CookieConfig::default(),
        }
    }

    /// Sets the default for requests that carry no [`CookieConfig`] (HTTP.jl `cookies=`):
    /// `true`, `false`, or name → value pairs to send as well.
    pub fn cookies(mut self, config: impl Into<CookieConfig>) -> Self {
        self.config = config.into();
        self
    }

    /// Uses `jar` (HTTP.jl `cookiejar=`).
    pub fn cookie_jar(mut self, jar: CookieJar) -> Self {
        self.jar = jar;
        self
    }

    /// The layer's jar.
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }
}

impl<S> Layer<S> for CookieLayer {
    type Service = Cookies<S>;

    fn layer(&self, inner: S) -> Cookies<S> {
        Cookies::new(inner, self.jar.clone(), self.config.clone())
    }
}
