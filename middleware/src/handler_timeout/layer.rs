//! [`HandlerTimeoutLayer`]: the timeout and the response sent when it passes.

use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderValue;
use http::StatusCode;
use tower::Layer;

use super::service::HandlerTimeout;

/// Bounds a server handler's time; see the [module docs](super).
///
/// ```
/// use httpstack_middleware::handler_timeout::HandlerTimeoutLayer;
/// use std::time::Duration;
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let server = ServiceBuilder::new()
///     .layer(HandlerTimeoutLayer::new(Duration::from_millis(10)))
///     .service(service_fn(|_req: http::Request<()>| async {
///         tokio::time::sleep(Duration::from_secs(5)).await;
///         Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::new())))
///     }));
/// let resp = server.oneshot(http::Request::new(())).await.unwrap();
/// assert_eq!(resp.status(), http::StatusCode::SERVICE_UNAVAILABLE);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct HandlerTimeoutLayer {
    pub(crate) timeout: Duration,
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) content_type: HeaderValue,
}

impl HandlerTimeoutLayer {
    /// A layer giving handlers `timeout`, answering HTTP.jl's default on expiry:
    /// `503`, body `handler timed out`, `Content-Type: text/plain; charset=utf-8`.
    pub fn new(timeout: Duration) -> Self {
        HandlerTimeoutLayer {
            timeout,
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: Bytes::from_static(b"handler timed out"),
            content_type: HeaderValue::from_static("text/plain; charset=utf-8"),
        }
    }

    /// The status of the timeout response (HTTP.jl `status`).
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The body of the timeout response (HTTP.jl `body`).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The `Content-Type` of the timeout response (HTTP.jl `content_type`).
    pub fn content_type(mut self, content_type: HeaderValue) -> Self {
        self.content_type = content_type;
        self
    }

    /// The handler's time budget.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl<S> Layer<S> for HandlerTimeoutLayer {
    type Service = HandlerTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HandlerTimeout::new(inner, self.clone())
    }
}
