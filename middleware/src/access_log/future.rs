//! [`ResponseFuture`]: moves the log entry from the request into the response body.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use super::body::AccessLogBody;
use super::entry::Entry;

pin_project! {
    /// The future of [`AccessLog`](super::AccessLog).
    ///
    /// On a response the entry moves into the [`AccessLogBody`]; on an error it is logged
    /// as a 500 (as HTTP.jl logs a failed handler); dropped before either (the client went
    /// away), it is logged as nginx's 499.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        entry: Option<Entry>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, entry: Entry) -> Self {
        ResponseFuture {
            inner,
            entry: Some(entry),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<AccessLogBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match ready!(this.inner.poll(cx)) {
            Ok(resp) => {
                let mut entry = this.entry.take();
                if let Some(entry) = entry.as_mut() {
                    entry.response(&resp);
                }
                Poll::Ready(Ok(resp.map(|body| AccessLogBody::new(body, entry))))
            }
            Err(err) => {
                if let Some(mut entry) = this.entry.take() {
                    entry.failed();
                }
                Poll::Ready(Err(err))
            }
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
