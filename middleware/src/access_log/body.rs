//! [`AccessLogBody`]: counts the response body's data bytes as they pass and logs the
//! request when the body ends, fails or is dropped.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::entry::Entry;

pin_project! {
    /// The response body of [`AccessLog`](super::AccessLog): the inner body, unchanged,
    /// plus the request's log entry.
    ///
    /// `$body_bytes_sent` is the data the server took from the body, frame by frame, so a
    /// streamed body is counted as sent, and a body dropped early (client gone) logs what
    /// went out before.
    pub struct AccessLogBody<B> {
        #[pin]
        inner: B,
        entry: Option<Entry>,
    }
}

impl<B> AccessLogBody<B> {
    pub(crate) fn new(inner: B, entry: Option<Entry>) -> Self {
        AccessLogBody { inner, entry }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// Unwraps the body; the request is logged now, with the bytes counted so far.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: Body> Body for AccessLogBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(entry)) = (frame.data_ref(), this.entry.as_mut()) {
                    entry.sent(data.remaining());
                }
                // A server stops polling once the body says it has ended.
                if this.inner.is_end_stream() {
                    this.entry.take();
                }
            }
            // Ended or failed: log now, not when the server gets round to dropping it.
            Some(Err(_)) | None => {
                this.entry.take();
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for AccessLogBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogBody")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
