use tower::Layer;

use super::{Redirect, RedirectConfig, RedirectMethod};

/// Follows redirects with HTTP.jl's rules; see the [module docs](super).
///
/// ```
/// use httpstack_middleware::redirect::RedirectLayer;
/// use httpstack_middleware::Body;
/// use tower::{service_fn, ServiceBuilder};
///
/// let client = ServiceBuilder::new()
///     .layer(RedirectLayer::new().redirect_limit(5))
///     .service(service_fn(|_req: http::Request<Body>| async {
///         Ok::<_, httpstack_middleware::Error>(http::Response::new(Body::empty()))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Debug, Default)]
pub struct RedirectLayer {
    config: RedirectConfig,
}

impl RedirectLayer {
    /// A layer with HTTP.jl's defaults (follow up to 3 redirects).
    pub fn new() -> Self {
        RedirectLayer::default()
    }

    /// Sets the default `redirect` (follow 3xx responses at all).
    pub fn redirect(mut self, on: bool) -> Self {
        self.config.redirect = on;
        self
    }

    /// Sets the default `redirect_limit`.
    pub fn redirect_limit(mut self, limit: usize) -> Self {
        self.config.redirect_limit = limit;
        self
    }

    /// Sets the default `redirect_method`.
    pub fn redirect_method(mut self, rule: RedirectMethod) -> Self {
        self.config.redirect_method = rule;
        self
    }

    /// Sets the default `forward_headers`.
    pub fn forward_headers(mut self, on: bool) -> Self {
        self.config.forward_headers = on;
        self
    }

    /// Sets the whole default config.
    pub fn config(mut self, config: RedirectConfig) -> Self {
        self.config = config;
        self
    }

    /// The default config of this layer.
    pub fn get_config(&self) -> &RedirectConfig {
        &self.config
    }
}

impl<S> Layer<S> for RedirectLayer {
    type Service = Redirect<S>;

    fn layer(&self, inner: S) -> Redirect<S> {
        Redirect::new(inner, self.config.clone())
    }
}
