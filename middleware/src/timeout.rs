//! Client timeouts: HTTP.jl's `readtimeout` and a total `timeout`, as [`TimeoutError`]s.
//!
//! - `read_timeout`: the longest wait for the response head, and afterwards the longest gap
//!   between two pieces of the response body (an idle timeout, so a slow but steady
//!   download is not cut).
//! - `timeout`: the whole exchange, response body included.
//!
//! Both are off by default, as in HTTP.jl (`readtimeout = 0`). A request overrides the
//! layer's values by carrying a [`TimeoutConfig`] extension. The connect timeout belongs to
//! the connector (it must cover TCP and TLS), not to this layer.
//!
//! Under a retry or redirect layer, [`TimeoutLayer`] times each attempt. For one deadline
//! over all of them (retries, back-off sleeps and redirects included, as the client's
//! `timeout` is), put a [`DeadlineLayer`] outside them: it stamps the request with a
//! [`Deadline`] that every attempt's timer and the retry layer's back-off respect.
//!
//! ```
//! use httpstack_middleware::retry::RetryLayer;
//! use httpstack_middleware::timeout::{DeadlineLayer, TimeoutLayer};
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//!
//! let stack = ServiceBuilder::new()
//!     // Five seconds for the whole exchange, retries included...
//!     .layer(DeadlineLayer::new().timeout(Duration::from_secs(5)))
//!     .layer(RetryLayer::new())
//!     // ...and at most one second of silence from the server per attempt.
//!     .layer(TimeoutLayer::new().read_timeout(Duration::from_secs(1)))
//!     .service_fn(|_req: http::Request<String>| async {
//!         Ok::<_, httpstack_middleware::Error>(http::Response::new(String::new()))
//!     });
//! # let _ = stack;
//! ```
//!
//! [`TimeoutError`]: crate::ErrorKind::Timeout
//!
//! ```
//! use httpstack_middleware::timeout::{TimeoutConfig, TimeoutLayer};
//! use std::time::Duration;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let slow = service_fn(|_req: http::Request<()>| async {
//!     tokio::time::sleep(Duration::from_secs(10)).await;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! });
//! let svc = TimeoutLayer::new().read_timeout(Duration::from_millis(10)).layer(slow);
//! let err = svc.oneshot(http::Request::new(())).await.unwrap_err();
//! assert!(err.is_timeout());
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use crate::error::{BoxError, Error, TimeoutKind};

/// Per-request timeouts; carry one in the request's extensions to override the layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// Longest wait for the response head, then longest gap between body pieces.
    pub read_timeout: Option<Duration>,
    /// Longest time for the whole exchange, body included.
    pub timeout: Option<Duration>,
}

/// The instant by which a whole exchange must end, in a request's extensions: every
/// [`Timeout`] below ends its attempt by then at the latest (as a total timeout), and the
/// retry layer does not start a back-off sleep that would end after it. [`DeadlineLayer`]
/// sets it; a request that already carries one keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(pub Instant);

/// Stamps each request with a [`Deadline`] from its total `timeout` (the request's own
/// [`TimeoutConfig`] extension, else the layer's), so one deadline covers the retries and
/// redirects of layers below; see the [module docs](self).
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

/// Applies [`TimeoutConfig`] to a client service; see the [module docs](self).
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
        Timeout {
            inner,
            config: self.config,
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    config: TimeoutConfig,
}

impl<S> Timeout<S> {
    /// Wraps `inner` with the given default timeouts.
    pub fn new(inner: S, config: TimeoutConfig) -> Self {
        Timeout { inner, config }
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

impl<S, ReqB, ResB> Service<Request<ReqB>> for Timeout<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<Error>,
{
    type Response = Response<TimeoutBody<ResB>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let config = req
            .extensions()
            .get::<TimeoutConfig>()
            .copied()
            .unwrap_or(self.config);
        let timer = Timer::start(config, req.extensions().get::<Deadline>().copied());
        let (sleep, kind) = match &timer {
            Some(t) => {
                let (at, kind) = t.next();
                (Some(Box::pin(tokio::time::sleep_until(at))), kind)
            }
            None => (None, TimeoutKind::Read),
        };
        ResponseFuture {
            inner: self.inner.call(req),
            timer,
            sleep,
            kind,
        }
    }
}

/// The deadlines of one exchange. Only built when a timeout is set, so the default
/// (no timeouts) costs nothing per request.
#[derive(Clone, Copy, Debug)]
struct Timer {
    read: Option<Duration>,
    deadline: Option<Instant>,
}

impl Timer {
    /// The timer of one attempt: `deadline`, when the request carries one, else its own
    /// total timeout from now.
    fn start(config: TimeoutConfig, deadline: Option<Deadline>) -> Option<Timer> {
        let deadline = match deadline {
            Some(Deadline(at)) => Some(at),
            None => config.timeout.map(|t| Instant::now() + t),
        };
        if config.read_timeout.is_none() && deadline.is_none() {
            return None;
        }
        Some(Timer {
            read: config.read_timeout,
            deadline,
        })
    }

    /// When the next wait for data ends, and which timeout that is.
    fn next(&self) -> (Instant, TimeoutKind) {
        let read_at = self.read.map(|r| Instant::now() + r);
        match (read_at, self.deadline) {
            (Some(r), Some(d)) if d <= r => (d, TimeoutKind::Total),
            (Some(r), _) => (r, TimeoutKind::Read),
            (None, Some(d)) => (d, TimeoutKind::Total),
            // Timer::start never builds a timer with neither set.
            (None, None) => (
                Instant::now() + Duration::from_secs(u32::MAX as u64),
                TimeoutKind::Read,
            ),
        }
    }
}

pin_project! {
    /// The future of [`Timeout`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        timer: Option<Timer>,
        sleep: Option<Pin<Box<Sleep>>>,
        kind: TimeoutKind,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<Error>,
{
    type Output = Result<Response<TimeoutBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let timer = *this.timer;
            return Poll::Ready(
                result
                    .map(|resp| resp.map(|body| TimeoutBody::new(body, timer, this.sleep.take())))
                    .map_err(Into::into),
            );
        }
        if let Some(sleep) = this.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            return Poll::Ready(Err(Error::timeout(*this.kind)));
        }
        Poll::Pending
    }
}

/// Restarts the wait for the next piece of data (no-op without a timer).
fn rearm(timer: &Option<Timer>, sleep: &mut Option<Pin<Box<Sleep>>>, kind: &mut TimeoutKind) {
    if let (Some(timer), Some(sleep)) = (timer.as_ref(), sleep.as_mut()) {
        let (at, next_kind) = timer.next();
        sleep.as_mut().reset(at);
        *kind = next_kind;
    }
}

pin_project! {
    /// A response body that fails with a timeout error when data stops coming (read
    /// timeout) or the exchange's deadline passes (total timeout).
    pub struct TimeoutBody<B> {
        #[pin]
        inner: B,
        timer: Option<Timer>,
        sleep: Option<Pin<Box<Sleep>>>,
        kind: TimeoutKind,
    }
}

impl<B> TimeoutBody<B> {
    fn new(inner: B, timer: Option<Timer>, sleep: Option<Pin<Box<Sleep>>>) -> Self {
        let mut body = TimeoutBody {
            inner,
            timer,
            sleep,
            kind: TimeoutKind::Read,
        };
        rearm(&body.timer, &mut body.sleep, &mut body.kind);
        body
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for TimeoutBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutBody")
            .field("inner", &self.inner)
            .field("kind", &self.kind)
            .finish()
    }
}

impl<B> Body for TimeoutBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            rearm(this.timer, this.sleep, this.kind);
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if let Some(sleep) = this.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            return Poll::Ready(Some(Err(Box::new(Error::timeout(*this.kind)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};
    use std::convert::Infallible;
    use tower::{service_fn, ServiceExt};

    fn dribble(
        gap: Duration,
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<bytes::Bytes>, Infallible>>> {
        let s = futures_util::stream::unfold(0, move |n| async move {
            if n == 3 {
                return None;
            }
            tokio::time::sleep(gap).await;
            Some((Ok(Frame::data(bytes::Bytes::from_static(b"x"))), n + 1))
        });
        StreamBody::new(s)
    }

    #[tokio::test(start_paused = true)]
    async fn read_timeout_is_per_gap_in_the_body() {
        let svc = service_fn(|_r: Request<()>| async {
            Ok::<_, Infallible>(Response::new(dribble(Duration::from_millis(40))))
        });
        // 3 pieces 40 ms apart: a 50 ms idle timeout lets them through (120 ms in all)...
        let ok = TimeoutLayer::new()
            .read_timeout(Duration::from_millis(50))
            .layer(svc);
        let body = ok.oneshot(Request::new(())).await.unwrap().into_body();
        assert_eq!(body.collect().await.unwrap().to_bytes(), "xxx");
        // ...a 30 ms one cuts the first gap.
        let svc = service_fn(|_r: Request<()>| async {
            Ok::<_, Infallible>(Response::new(dribble(Duration::from_millis(40))))
        });
        let cut = TimeoutLayer::new()
            .read_timeout(Duration::from_millis(30))
            .layer(svc);
        let body = cut.oneshot(Request::new(())).await.unwrap().into_body();
        let err = Error::from_boxed(body.collect().await.unwrap_err());
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read));
    }

    #[tokio::test(start_paused = true)]
    async fn total_timeout_covers_the_body() {
        let svc = service_fn(|_r: Request<()>| async {
            Ok::<_, Infallible>(Response::new(dribble(Duration::from_millis(40))))
        });
        let svc = TimeoutLayer::new()
            .read_timeout(Duration::from_millis(50))
            .timeout(Duration::from_millis(100))
            .layer(svc);
        let body = svc.oneshot(Request::new(())).await.unwrap().into_body();
        let err = Error::from_boxed(body.collect().await.unwrap_err());
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total));
    }

    #[tokio::test(start_paused = true)]
    async fn request_extension_overrides_layer() {
        let svc = service_fn(|_r: Request<()>| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, Infallible>(Response::new(String::new()))
        });
        let svc = TimeoutLayer::new()
            .read_timeout(Duration::from_millis(10))
            .layer(svc);
        let mut req = Request::new(());
        req.extensions_mut().insert(TimeoutConfig {
            read_timeout: None,
            timeout: Some(Duration::from_secs(1)),
        });
        assert!(svc.oneshot(req).await.is_ok());
    }
}
