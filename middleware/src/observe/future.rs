use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use http::Response;
use pin_project_lite::pin_project;

use super::LayerTimings;

pin_project! {
    /// The response future of [`Observe`](super::Observe).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        timings: LayerTimings,
        name: Cow<'static, str>,
        started: Instant,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        timings: LayerTimings,
        name: Cow<'static, str>,
        started: Instant,
    ) -> Self {
        ResponseFuture {
            inner,
            timings,
            name,
            started,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(cx));
        this.timings.record(this.name, this.started.elapsed());
        if let Ok(resp) = &mut result {
            if resp.extensions().get::<LayerTimings>().is_none() {
                resp.extensions_mut().insert(this.timings.clone());
            }
        }
        Poll::Ready(result)
    }
}
