use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use super::body::TimeoutBody;
use super::timer::Timer;
use crate::error::{BoxError, Error, TimeoutKind};

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

impl<F> ResponseFuture<F> {
    pub(super) fn new(
        inner: F,
        timer: Option<Timer>,
        sleep: Option<Pin<Box<Sleep>>>,
        kind: TimeoutKind,
    ) -> Self {
        ResponseFuture {
            inner,
            timer,
            sleep,
            kind,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<TimeoutBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let timer = *this.timer;
            return Poll::Ready(
                result
                    .map(|resp| resp.map(|body| TimeoutBody::new(body, timer, this.sleep.take())))
                    .map_err(|e| Error::from_boxed(e.into())),
            );
        }
        if let Some(sleep) = this.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            return Poll::Ready(Err(Error::timeout(*this.kind)));
        }
        Poll::Pending
    }
}
