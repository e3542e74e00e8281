use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use super::body::TimeoutBody;
use super::timer::Timer;
use super::{Deadline, ResponseFuture, TimeoutConfig};
use crate::error::{BoxError, Error, TimeoutKind};

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
    S::Error: Into<BoxError>,
{
    type Response = Response<TimeoutBody<ResB>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| Error::from_boxed(e.into()))
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
        ResponseFuture::new(self.inner.call(req), timer, sleep, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeout::TimeoutLayer;
    use http_body::Frame;
    use http_body_util::{BodyExt, StreamBody};
    use std::convert::Infallible;
    use std::time::Duration;
    use tower::Layer;
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
