//! [`ResponseFuture`]: the handler's future raced against the deadline's timer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use tokio::time::{sleep_until, Sleep};

use super::body::ResponseBody;
use super::deadline::Deadline;
use super::layer::HandlerTimeoutLayer;

pin_project! {
    /// The response future of [`HandlerTimeout`](super::HandlerTimeout): the handler's
    /// response, or the timeout response once the deadline passes (the handler's future
    /// is then dropped in place).
    pub struct ResponseFuture<F> {
        #[pin]
        handler: Handler<F>,
        #[pin]
        sleep: Sleep,
        timeout: Option<TimeoutResponse>,
    }
}

pin_project! {
    #[project = HandlerProj]
    enum Handler<F> {
        Running { #[pin] future: F },
        Done,
    }
}

/// What to answer on timeout, copied from the layer (cheap: `Bytes` and `HeaderValue`
/// clones).
struct TimeoutResponse {
    status: StatusCode,
    body: Bytes,
    content_type: HeaderValue,
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(future: F, deadline: Deadline, config: &HandlerTimeoutLayer) -> Self {
        ResponseFuture {
            handler: Handler::Running { future },
            sleep: sleep_until(deadline.instant()),
            timeout: Some(TimeoutResponse {
                status: config.status,
                body: config.body.clone(),
                content_type: config.content_type.clone(),
            }),
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    B::Data: From<Bytes>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let HandlerProj::Running { future } = this.handler.as_mut().project() {
            if let Poll::Ready(result) = future.poll(cx) {
                this.handler.set(Handler::Done);
                return Poll::Ready(result.map(|r| r.map(ResponseBody::handler)));
            }
        }
        if this.sleep.poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Cancel the handler: drop its future now, not when this future is dropped.
        this.handler.set(Handler::Done);
        let Some(timeout) = this.timeout.take() else {
            // Polled again after completing: stay pending rather than answer twice.
            return Poll::Pending;
        };
        let mut response = Response::new(ResponseBody::timeout(timeout.body));
        *response.status_mut() = timeout.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, timeout.content_type);
        Poll::Ready(Ok(response))
    }
}
