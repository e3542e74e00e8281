use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use super::timer::{rearm, Timer};
use crate::error::{BoxError, Error, TimeoutKind};

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
    pub(super) fn new(inner: B, timer: Option<Timer>, sleep: Option<Pin<Box<Sleep>>>) -> Self {
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
