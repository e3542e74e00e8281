use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tokio::time::Instant;
use tower::{Layer, Service};

use super::{Deadline, TimeoutConfig};

/// Stamps each request with a [`Deadline`] from its total `timeout` (the request's own
/// [`TimeoutConfig`] extension, else the layer's), so one deadline covers the retries and
/// redirects of layers below; see the [module docs](super).
///
/// ```
/// use httpstack_middleware::timeout::{Deadline, DeadlineLayer};
/// use std::time::Duration;
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let inner = service_fn(|req: http::Request<()>| async move {
///     // Every layer below sees the same deadline, however often it calls further down.
///     Ok::<_, std::convert::Infallible>(req.extensions().get::<Deadline>().is_some())
/// });
/// let svc = DeadlineLayer::new().timeout(Duration::from_secs(5)).layer(inner);
/// assert!(svc.oneshot(http::Request::new(())).await.unwrap());
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DeadlineLayer {
    timeout: Option<Duration>,
}

impl DeadlineLayer {
    /// A layer with no default deadline; requests may still carry a [`TimeoutConfig`].
    pub fn new() -> Self {
        DeadlineLayer::default()
    }

    /// Sets the default total timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Takes the default total timeout from `config` (its `read_timeout` is not used).
    pub fn config(mut self, config: TimeoutConfig) -> Self {
        self.timeout = config.timeout;
        self
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = SetDeadline<S>;

    fn layer(&self, inner: S) -> SetDeadline<S> {
        SetDeadline {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The service of [`DeadlineLayer`].
#[derive(Clone, Debug)]
pub struct SetDeadline<S> {
    inner: S,
    timeout: Option<Duration>,
}

impl<S> SetDeadline<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB> Service<Request<ReqB>> for SetDeadline<S>
where
    S: Service<Request<ReqB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> S::Future {
        let extensions = req.extensions();
        if extensions.get::<Deadline>().is_none() {
            let timeout = match extensions.get::<TimeoutConfig>() {
                Some(own) => own.timeout,
                None => self.timeout,
            };
            if let Some(timeout) = timeout {
                req.extensions_mut()
                    .insert(Deadline(Instant::now() + timeout));
            }
        }
        self.inner.call(req)
    }
}
