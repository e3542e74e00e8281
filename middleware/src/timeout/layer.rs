use std::time::Duration;

use tower::Layer;

use super::{Timeout, TimeoutConfig};

/// Applies [`TimeoutConfig`] to a client service; see the [module docs](super).
///
/// ```
/// use httpstack_middleware::timeout::TimeoutLayer;
/// use std::time::Duration;
/// use tower::{service_fn, ServiceBuilder};
///
/// let client = ServiceBuilder::new()
///     .layer(TimeoutLayer::new().read_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(60)))
///     // Any inner error converts (`Into<BoxError>`), a bare hyper-util client's included.
///     .service(service_fn(|_req: http::Request<()>| async {
///         Ok::<_, std::io::Error>(http::Response::new(String::new()))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeoutLayer {
    config: TimeoutConfig,
}

impl TimeoutLayer {
    /// A layer with no timeouts (HTTP.jl's default); requests may still carry their own.
    pub fn new() -> Self {
        TimeoutLayer::default()
    }

    /// Sets the default read timeout.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.config.read_timeout = Some(timeout);
        self
    }

    /// Sets the default total timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        self
    }

    /// Sets the whole default config.
    pub fn config(mut self, config: TimeoutConfig) -> Self {
        self.config = config;
        self
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout::new(inner, self.config)
    }
}
