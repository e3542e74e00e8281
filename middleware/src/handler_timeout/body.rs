//! [`ResponseBody`]: the handler's body, or the timeout response's.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a [`HandlerTimeout`](super::HandlerTimeout) response: the handler's
    /// own, or the configured timeout body.
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Handler { #[pin] body: B },
        Timeout { body: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn handler(body: B) -> Self {
        ResponseBody {
            kind: Kind::Handler { body },
        }
    }

    pub(crate) fn timeout(body: Bytes) -> Self {
        ResponseBody {
            kind: Kind::Timeout {
                body: (!body.is_empty()).then_some(body),
            },
        }
    }

    /// Whether this is the timeout response's body.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout { .. })
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Handler { body } => f.debug_tuple("ResponseBody::Handler").field(body).finish(),
            Kind::Timeout { .. } => f.write_str("ResponseBody::Timeout"),
        }
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body,
    B::Data: From<Bytes>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Handler { body } => body.poll_frame(cx),
            KindProj::Timeout { body } => {
                Poll::Ready(body.take().map(|b| Ok(Frame::data(B::Data::from(b)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Handler { body } => body.is_end_stream(),
            Kind::Timeout { body } => body.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Handler { body } => body.size_hint(),
            Kind::Timeout { body } => {
                SizeHint::with_exact(body.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
