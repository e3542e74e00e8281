//! [`HandlerTimeout`]: the service that sets the deadline and races the handler against it.

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower::Service;

use super::body::ResponseBody;
use super::deadline::Deadline;
use super::future::ResponseFuture;
use super::layer::HandlerTimeoutLayer;

/// Runs the inner service under a deadline; made by [`HandlerTimeoutLayer`].
#[derive(Clone, Debug)]
pub struct HandlerTimeout<S> {
    inner: S,
    config: HandlerTimeoutLayer,
}

impl<S> HandlerTimeout<S> {
    /// Wraps `inner` with the layer's settings.
    pub fn new(inner: S, config: HandlerTimeoutLayer) -> Self {
        HandlerTimeout { inner, config }
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

impl<S, ReqB, ResB> Service<Request<ReqB>> for HandlerTimeout<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: http_body::Body,
    ResB::Data: From<Bytes>,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let own = Deadline::after(self.config.timeout);
        let deadline = match req.extensions().get::<Deadline>() {
            Some(&earlier) => earlier.min(own),
            None => own,
        };
        req.extensions_mut().insert(deadline);
        ResponseFuture::new(self.inner.call(req), deadline, &self.config)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use http::header::HeaderValue;
    use http::StatusCode;
    use http_body_util::BodyExt;
    use tokio::time::Instant;
    use tower::{service_fn, Layer, ServiceExt};

    use super::*;

    /// Sets its flag when dropped: shows the handler's future is gone.
    struct DropGuard(Arc<AtomicBool>);

    impl Drop for DropGuard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn sleeper(
        dropped: Arc<AtomicBool>,
    ) -> impl Service<Request<()>, Response = Response<String>, Error = Infallible, Future: Send> + Clone
    {
        service_fn(move |req: Request<()>| {
            let guard = DropGuard(dropped.clone());
            async move {
                let _guard = guard;
                let wait = req.headers()["sleep-ms"].to_str().unwrap().parse().unwrap();
                tokio::time::sleep(Duration::from_millis(wait)).await;
                Ok::<_, Infallible>(Response::new(String::from("done")))
            }
        })
    }

    fn request(sleep_ms: u64) -> Request<()> {
        Request::builder()
            .header("sleep-ms", sleep_ms)
            .body(())
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn slow_handler_gets_the_configured_response_and_is_dropped() {
        let dropped = Arc::new(AtomicBool::new(false));
        let svc = HandlerTimeoutLayer::new(Duration::from_secs(1))
            .status(StatusCode::GATEWAY_TIMEOUT)
            .body("too slow")
            .content_type(HeaderValue::from_static("text/x-late"))
            .layer(sleeper(dropped.clone()));
        let mut future = std::pin::pin!(svc.oneshot(request(60_000)));
        let resp = (&mut future).await.unwrap();
        // The handler's future went when the timeout answered, not later.
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(resp.headers()["content-type"], "text/x-late");
        assert!(resp.body().is_timeout());
        assert_eq!(
            resp.into_body().collect().await.unwrap().to_bytes(),
            "too slow"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn fast_handler_passes() {
        let dropped = Arc::new(AtomicBool::new(false));
        let svc = HandlerTimeoutLayer::new(Duration::from_secs(1)).layer(sleeper(dropped));
        let resp = svc.oneshot(request(10)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(!resp.body().is_timeout());
        assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "done");
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_deadline_in_the_request_wins() {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let inner = {
            let seen = seen.clone();
            service_fn(move |req: Request<()>| {
                *seen.lock().unwrap() = req.extensions().get::<Deadline>().copied();
                async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok::<_, Infallible>(Response::new(String::new()))
                }
            })
        };
        let svc = HandlerTimeoutLayer::new(Duration::from_secs(10)).layer(inner);
        let start = Instant::now();
        let mut req = Request::new(());
        let earlier = Deadline::at(start + Duration::from_secs(2));
        req.extensions_mut().insert(earlier);
        let resp = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(*seen.lock().unwrap(), Some(earlier));

        // A later deadline in the request does not extend the layer's.
        let mut req = Request::new(());
        req.extensions_mut()
            .insert(Deadline::at(Instant::now() + Duration::from_secs(60)));
        let now = Instant::now();
        let _ = svc.oneshot(req).await.unwrap();
        assert_eq!(
            seen.lock().unwrap().map(|d| d.instant() - now),
            Some(Duration::from_secs(10))
        );
    }
}
