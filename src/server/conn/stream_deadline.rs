//! HTTP/2 `write_timeout`: the server's stream executor, which bounds each stream's whole
//! life — handler, body and the wait for the client's flow control — by a deadline.
//!
//! hyper runs every HTTP/2 stream as a task of its own, spawned through the connection's
//! executor right after the service was called for the request. A deadline kept in the
//! response future or body is only checked while hyper polls them, and hyper stops polling
//! a body while it waits for the client to open its flow-control window (RFC 9113 §5.2):
//! a client that reads the stream's first window and then sends no `WINDOW_UPDATE` would
//! hold the stream, its task and its buffered data for ever. So the deadline wraps the
//! stream's task instead: past it, the task is dropped, and h2 resets the stream
//! (`RST_STREAM` with `CANCEL`, RFC 9113 §6.4) and frees what it buffered.
//!
//! [`ConnectionService`](super::connection_service::ConnectionService) arms the deadline
//! when it is called for an HTTP/2 request; hyper spawns that request's stream next, on
//! the same thread, and [`StreamExecutor`] takes the armed deadline with it. Anything else
//! spawned (an RFC 8441 WebSocket's tunnel after its `200`) runs unbounded.
//!
//! hyper ends a stream's task once it has handed h2 the body's last frame, whatever of it
//! the client's window still holds back; so with a deadline armed, the response body
//! hands over a large last frame in two (see [`SplitEnd`]), and the task waits for the
//! client to take in the first part before it ends.
//!
//! Cost, by callgrind (h2load, 16 × 10 streams, a 19-byte body): 27,907 instructions per
//! request without `write_timeout`, 28,578 with it (the deadline's timer).

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tokio::time::Sleep;

thread_local! {
    /// The deadline for the stream hyper spawns next on this thread.
    static ARMED: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Bounds the HTTP/2 stream about to be spawned on this thread by `timeout`.
pub(crate) fn arm(timeout: Duration) {
    ARMED.set(Some(timeout));
}

/// hyper's executor for the server's HTTP/2 connections: spawns on tokio, with the armed
/// deadline if there is one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamExecutor;

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        match ARMED.take() {
            Some(timeout) => {
                tokio::spawn(Deadlined {
                    stream: fut,
                    deadline: tokio::time::sleep(timeout),
                });
            }
            None => {
                tokio::spawn(fut);
            }
        }
    }
}

pin_project! {
    /// A stream's task, dropped at its deadline.
    struct Deadlined<F> {
        #[pin]
        stream: F,
        #[pin]
        deadline: Sleep,
    }
}

impl<F: Future> Future for Deadlined<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.stream.poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if this.deadline.poll(cx).is_ready() {
            tracing::debug!(
                "HTTP/2 response not written within write_timeout; resetting the stream"
            );
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// HTTP/2's connection service: `inner`'s responses, their bodies in [`SplitEnd`] when
/// `split` (the server has a `write_timeout`). HTTP/1 does without: its connection timers
/// see a blocked write, and [`SplitData`] would cost each of its responses.
#[derive(Debug)]
pub(crate) struct SplitEndService<T> {
    inner: T,
    split: bool,
}

impl<T> SplitEndService<T> {
    pub(crate) fn new(inner: T, split: bool) -> Self {
        SplitEndService { inner, split }
    }
}

impl<T, B> hyper::service::Service<Request<Incoming>> for SplitEndService<T>
where
    T: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    B: Body,
{
    type Response = Response<SplitEnd<B>>;
    type Error = T::Error;
    type Future = SplitEndFuture<T::Future>;

    #[inline]
    fn call(&self, req: Request<Incoming>) -> Self::Future {
        SplitEndFuture {
            inner: self.inner.call(req),
            split: self.split,
        }
    }
}

pin_project! {
    /// The response future of [`SplitEndService`].
    pub(crate) struct SplitEndFuture<F> {
        #[pin]
        inner: F,
        split: bool,
    }
}

impl<F, B, E> Future for SplitEndFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<SplitEnd<B>>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let split = *this.split;
        let response = ready!(this.inner.poll(cx))?;
        Poll::Ready(Ok(response.map(|body| SplitEnd::new(body, split))))
    }
}

/// The largest last data frame [`SplitEnd`] hands over whole: one `DATA` frame at h2's
/// default `SETTINGS_MAX_FRAME_SIZE`.
const SPLIT_ABOVE: usize = 16 * 1024;

pin_project! {
    /// An HTTP/2 response body whose last data frame, with `split`, goes to hyper in two:
    /// all but its last byte, then that byte. hyper waits for the client's flow control
    /// to take in what it sent a stream before it sends more, but not after the frame it
    /// sends as the last (the last data, or the data before the trailers); and the
    /// stream's task ends with that frame, so nothing would bound how long the client
    /// keeps the rest of it waiting. Split, that wait is inside the task, which
    /// [`StreamExecutor`] bounds. The split copies nothing when the data is `Bytes`, but
    /// the extra `DATA` frame costs h2 about 3,000 instructions (11 % of a small response,
    /// by callgrind), so a last frame of up to [`SPLIT_ABOVE`] bytes goes whole: of that,
    /// what the client's window holds back waits unbounded.
    ///
    /// A data frame is known to be the last when the body says it has ended, or when the
    /// next frame, polled at once, is the trailers or the end. A body whose trailers are
    /// not ready with its last data (they come later) has that data sent whole, unbounded.
    pub(crate) struct SplitEnd<B: Body> {
        #[pin]
        body: B,
        split: bool,
        // Taken from `body` and not handed over yet, in this order: the last byte of a
        // split frame, and a frame polled ahead.
        tail: Option<B::Data>,
        ahead: Option<Result<Frame<B::Data>, B::Error>>,
        // `body` returned its end while polled ahead.
        ended: bool,
    }
}

impl<B: Body> SplitEnd<B> {
    pub(crate) fn new(body: B, split: bool) -> Self {
        SplitEnd {
            body,
            split,
            tail: None,
            ahead: None,
            ended: false,
        }
    }
}

impl<B: Body> fmt::Debug for SplitEnd<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitEnd")
            .field("split", &self.split)
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for SplitEnd<B> {
    type Data = SplitData<B::Data>;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, B::Error>>> {
        let mut this = self.project();
        if let Some(tail) = this.tail.take() {
            return Poll::Ready(Some(Ok(Frame::data(SplitData::Whole(tail)))));
        }
        let frame = match this.ahead.take() {
            Some(frame) => frame,
            None if *this.ended => return Poll::Ready(None),
            None => match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(frame) => frame,
                None => {
                    *this.ended = true;
                    return Poll::Ready(None);
                }
            },
        };
        let frame = frame?;
        if !*this.split {
            return Poll::Ready(Some(Ok(frame.map_data(SplitData::Whole))));
        }
        let mut data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => return Poll::Ready(Some(Ok(frame.map_data(SplitData::Whole)))),
        };
        // Small enough for what the client's window holds back of it not to matter: as is.
        if data.remaining() <= SPLIT_ABOVE {
            return Poll::Ready(Some(Ok(Frame::data(SplitData::Whole(data)))));
        }
        let last = this.body.is_end_stream()
            || match this.body.as_mut().poll_frame(cx) {
                Poll::Ready(None) => {
                    *this.ended = true;
                    true
                }
                Poll::Ready(Some(next)) => {
                    let trailers = matches!(&next, Ok(frame) if frame.is_trailers());
                    *this.ahead = Some(next);
                    trailers
                }
                Poll::Pending => false,
            };
        if !last {
            return Poll::Ready(Some(Ok(Frame::data(SplitData::Whole(data)))));
        }
        let front = data.copy_to_bytes(data.remaining() - 1);
        *this.tail = Some(data);
        Poll::Ready(Some(Ok(Frame::data(SplitData::Front(front)))))
    }

    fn is_end_stream(&self) -> bool {
        self.tail.is_none() && self.ahead.is_none() && (self.ended || self.body.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = if self.ended {
            SizeHint::with_exact(0)
        } else {
            self.body.size_hint()
        };
        let held = self.tail.as_ref().map_or(0, Buf::remaining)
            + match &self.ahead {
                Some(Ok(frame)) => frame.data_ref().map_or(0, Buf::remaining),
                _ => 0,
            };
        if held > 0 {
            let held = held as u64;
            // The upper bound first: a lower one above it panics.
            if let Some(upper) = hint.upper() {
                hint.set_upper(upper.saturating_add(held));
            }
            hint.set_lower(hint.lower().saturating_add(held));
        }
        hint
    }
}

/// A [`SplitEnd`] body's data: as the body made it, or the front of its last frame.
#[derive(Debug)]
pub(crate) enum SplitData<D> {
    Whole(D),
    Front(Bytes),
}

impl<D: Buf> Buf for SplitData<D> {
    fn remaining(&self) -> usize {
        match self {
            SplitData::Whole(data) => data.remaining(),
            SplitData::Front(bytes) => bytes.remaining(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match self {
            SplitData::Whole(data) => data.chunk(),
            SplitData::Front(bytes) => bytes.chunk(),
        }
    }

    fn advance(&mut self, cnt: usize) {
        match self {
            SplitData::Whole(data) => data.advance(cnt),
            SplitData::Front(bytes) => bytes.advance(cnt),
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [io::IoSlice<'a>]) -> usize {
        match self {
            SplitData::Whole(data) => data.chunks_vectored(dst),
            SplitData::Front(bytes) => bytes.chunks_vectored(dst),
        }
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        match self {
            SplitData::Whole(data) => data.copy_to_bytes(len),
            SplitData::Front(bytes) => bytes.copy_to_bytes(len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Executor;
    use tokio::sync::oneshot;

    /// Sends on drop: whether the spawned future was dropped.
    struct DropSignal(Option<oneshot::Sender<()>>);

    impl Drop for DropSignal {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_armed_stream_is_dropped_at_its_deadline_and_only_the_next_one_is_armed() {
        let (dropped_tx, dropped) = oneshot::channel();
        arm(Duration::from_secs(5));
        let signal = DropSignal(Some(dropped_tx));
        StreamExecutor.execute(async move {
            let _signal = signal;
            std::future::pending::<()>().await;
        });
        // The next spawn is not armed: it runs past the first one's deadline.
        let (done_tx, done) = oneshot::channel();
        StreamExecutor.execute(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let _ = done_tx.send(());
        });
        assert!(dropped.await.is_ok(), "the armed stream was dropped");
        assert!(done.await.is_ok(), "the unarmed one ran to its end");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_finishes_in_time_runs_to_its_end() {
        arm(Duration::from_secs(5));
        let (done_tx, done) = oneshot::channel();
        StreamExecutor.execute(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = done_tx.send(());
        });
        assert!(done.await.is_ok());
    }

    /// The frames `body` hands over: data as its length, trailers as `None`.
    async fn frames<B: Body<Data = SplitData<D>> + Unpin, D: Buf>(
        mut body: B,
    ) -> Vec<Option<usize>> {
        use http_body_util::BodyExt;
        let mut frames = Vec::new();
        while let Some(Ok(frame)) = body.frame().await {
            frames.push(frame.into_data().ok().map(|data| data.remaining()));
        }
        frames
    }

    fn stream_of(
        frames: Vec<Frame<Bytes>>,
    ) -> impl Body<Data = Bytes, Error = std::convert::Infallible> {
        let frames = frames.into_iter().map(Ok);
        http_body_util::StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn split_end_hands_over_a_large_last_frame_in_two_and_keeps_the_length() {
        use http_body_util::{BodyExt, Full};
        const BIG: usize = SPLIT_ABOVE + 10;
        let piece = |len: usize| Frame::data(Bytes::from(vec![b'x'; len]));
        let mut body = SplitEnd::new(Full::new(Bytes::from(vec![b'x'; BIG])), true);
        assert_eq!(body.size_hint().exact(), Some(BIG as u64));
        let front = body.frame().await.and_then(Result::ok);
        assert_eq!(
            front
                .and_then(|f| f.into_data().ok())
                .map(|d| d.remaining()),
            Some(BIG - 1)
        );
        assert!(!body.is_end_stream());
        assert_eq!(
            body.size_hint().exact(),
            Some(1),
            "the tail is still to come"
        );
        assert_eq!(frames(body).await, [Some(1)]);
        // The last data before trailers, or before an end the body did not announce.
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-checksum", http::HeaderValue::from_static("abc"));
        let body = stream_of(vec![piece(BIG), piece(BIG), Frame::trailers(trailers)]);
        let expected = [Some(BIG), Some(BIG - 1), Some(1), None];
        assert_eq!(frames(SplitEnd::new(body, true)).await, expected);
        let body = stream_of(vec![piece(BIG), piece(BIG)]);
        let expected = [Some(BIG), Some(BIG - 1), Some(1)];
        assert_eq!(frames(SplitEnd::new(body, true)).await, expected);
        // A small last frame, and a body that is not split, go as they are.
        let body = stream_of(vec![piece(BIG), piece(SPLIT_ABOVE)]);
        let expected = [Some(BIG), Some(SPLIT_ABOVE)];
        assert_eq!(frames(SplitEnd::new(body, true)).await, expected);
        let whole = SplitEnd::new(Full::new(Bytes::from(vec![b'x'; BIG])), false);
        assert_eq!(frames(whole).await, [Some(BIG)]);
    }

    #[tokio::test]
    async fn split_end_hands_over_an_error_polled_ahead_after_the_data_before_it() {
        use http_body_util::BodyExt;
        let items: [Result<Frame<Bytes>, &str>; 2] = [
            Ok(Frame::data(Bytes::from(vec![b'x'; SPLIT_ABOVE + 1]))),
            Err("the body broke"),
        ];
        let stream = futures_util::stream::iter(items);
        let mut body = SplitEnd::new(http_body_util::StreamBody::new(stream), true);
        let data = body.frame().await.and_then(Result::ok);
        let whole = data.and_then(|f| f.into_data().ok()).map(|d| d.remaining());
        assert_eq!(whole, Some(SPLIT_ABOVE + 1), "not the last: sent whole");
        assert!(!body.is_end_stream());
        assert!(matches!(body.frame().await, Some(Err("the body broke"))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_timeout_does_not_overflow() {
        arm(Duration::MAX);
        let (done_tx, done) = oneshot::channel();
        StreamExecutor.execute(async move {
            let _ = done_tx.send(());
        });
        assert!(done.await.is_ok());
    }
}
