//! The one body type of httpstack, for requests and responses.
//!
//! HTTP.jl accepts bytes and strings (sent as is), an IO (streamed), an iterable of chunks
//! (sent chunked, one chunk per element) and forms. [`Body`] holds each of those: empty,
//! full bytes (replayable, so retries and redirects can resend it), or a stream of frames.
//!
//! ```
//! use httpstack_middleware::Body;
//! use http_body::Body as _;
//!
//! let body = Body::from("hello");
//! assert_eq!(body.size_hint().exact(), Some(5));
//! assert!(body.try_clone().is_some());
//!
//! let chunks = Body::from_chunks(vec!["a", "b"]);
//! assert!(chunks.try_clone().is_none());
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::io::ReaderStream;

use crate::error::{BoxError, Error};

/// A request or response body: empty, full bytes, or a stream.
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    /// hyper's body as a server received it: held as it is, so serving a request costs
    /// no allocation for its body.
    Incoming(hyper::body::Incoming),
    Stream(UnsyncBoxBody<Bytes, BoxError>),
}

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Body { kind: Kind::Empty }
    }

    /// Wraps any `http_body::Body` (a hyper `Incoming`, a tower-http body...).
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body + Send + 'static,
        B::Data: Into<Bytes>,
        B::Error: Into<BoxError>,
    {
        Body {
            kind: Kind::Stream(IntoBytes { inner: body }.boxed_unsync()),
        }
    }

    /// A body streamed from a `Stream` of chunks; each item becomes one data frame (one
    /// chunk on a chunked HTTP/1.1 connection).
    pub fn from_stream<S, T, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        let frames = stream
            .map_ok(|chunk| Frame::data(chunk.into()))
            .map_err(Into::into);
        Body {
            kind: Kind::Stream(StreamBody::new(frames).boxed_unsync()),
        }
    }

    /// A chunked body from an iterator of chunks, one chunk per item (HTTP.jl's iterable body).
    pub fn from_chunks<I>(chunks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
        I::IntoIter: Send + 'static,
    {
        let iter = chunks
            .into_iter()
            .map(|c| Ok::<_, std::convert::Infallible>(c.into()));
        Body::from_stream(futures_util::stream::iter(iter))
    }

    /// A body streamed from any `AsyncRead` (a file, a socket, a pipe), read in pieces of up
    /// to 64 KiB and never held whole in memory.
    pub fn from_reader<R>(reader: R) -> Self
    where
        R: AsyncRead + Send + 'static,
    {
        Body::from_stream(ReaderStream::with_capacity(reader, 64 * 1024))
    }

    /// A body fed through a channel: write chunks with the [`BodySender`], drop it (or call
    /// [`BodySender::finish`]) to end the body. `capacity` chunks may wait unread.
    pub fn channel(capacity: usize) -> (BodySender, Body) {
        let (tx, rx) = mpsc::channel::<Result<Bytes, BoxError>>(capacity.max(1));
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        (BodySender { tx }, Body::from_stream(stream))
    }

    /// hyper's `Incoming` as a `Body`, without boxing it: what httpstack's server hands
    /// its handlers. Trailer fields that RFC 9110 §6.5.1 forbids are dropped as the
    /// trailers arrive (see [`trailers`](crate::trailers)).
    pub fn from_incoming(body: hyper::body::Incoming) -> Self {
        Body {
            kind: Kind::Incoming(body),
        }
    }

    /// A copy of this body if it can be sent again (empty or full bytes); `None` for streams.
    /// Retry and redirect use this: only replayable bodies are resent.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Empty => Some(Body::empty()),
            Kind::Full(bytes) => Some(Body {
                kind: Kind::Full(bytes.clone()),
            }),
            Kind::Incoming(_) | Kind::Stream(_) => None,
        }
    }

    /// The bytes of a full body (`None` for streams; empty for an empty body).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Empty => Some(&[]),
            Kind::Full(Some(bytes)) => Some(bytes),
            Kind::Full(None) => Some(&[]),
            Kind::Incoming(_) | Kind::Stream(_) => None,
        }
    }

    /// Whether the body is a stream (not replayable, length maybe unknown).
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Incoming(_) | Kind::Stream(_))
    }

    /// Reads the whole body into one `Bytes`.
    pub async fn collect_bytes(self) -> Result<Bytes, Error> {
        match self.kind {
            Kind::Empty => Ok(Bytes::new()),
            Kind::Full(bytes) => Ok(bytes.unwrap_or_default()),
            Kind::Incoming(_) => Ok(http_body_util::BodyExt::collect(self)
                .await
                .map_err(Error::from_boxed)?
                .to_bytes()),
            Kind::Stream(body) => Ok(body.collect().await.map_err(Error::from_boxed)?.to_bytes()),
        }
    }
}

/// A request body that can be sent again, when a retry or a 307/308 redirect needs it.
///
/// The retry and redirect layers are generic over the request body; they resend a request
/// only when its body says it can be replayed (HTTP.jl retries only bodies it can rewind).
/// A streamed body returns `None` and the request is not resent.
pub trait TryCloneBody: Sized {
    /// A copy that sends the same bytes, or `None` when the body is a one-shot stream.
    fn try_clone_body(&self) -> Option<Self>;
}

impl TryCloneBody for Body {
    fn try_clone_body(&self) -> Option<Self> {
        self.try_clone()
    }
}

impl<D: Clone> TryCloneBody for http_body_util::Full<D> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D> TryCloneBody for http_body_util::Empty<D> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(http_body_util::Empty::new())
    }
}

impl TryCloneBody for String {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("Body::Empty"),
            Kind::Full(b) => write!(f, "Body::Full({} bytes)", b.as_ref().map_or(0, Bytes::len)),
            Kind::Incoming(_) => f.write_str("Body::Incoming"),
            Kind::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            Body::empty()
        } else {
            Body {
                kind: Kind::Full(Some(bytes)),
            }
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(s))
    }
}

impl From<()> for Body {
    fn from(_: ()) -> Self {
        Body::empty()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Incoming(body) => match ready!(Pin::new(body).poll_frame(cx)) {
                // RFC 9110 §6.5.1: fields a trailer may not carry are dropped on receipt.
                Some(Ok(frame)) => {
                    Poll::Ready(Some(Ok(crate::trailers::strip_forbidden_trailers(frame).0)))
                }
                Some(Err(err)) => Poll::Ready(Some(Err(err.into()))),
                None => Poll::Ready(None),
            },
            Kind::Stream(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Incoming(body) => body.is_end_stream(),
            Kind::Stream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Incoming(body) => body.size_hint(),
            Kind::Stream(body) => body.size_hint(),
        }
    }
}

pin_project_lite::pin_project! {
    /// Converts a body's data to `Bytes` and its error to `BoxError`, keeping its size hint
    /// and end-of-stream (http-body-util's `map_frame` must drop the hint, since it cannot
    /// know the mapping keeps lengths; `Into<Bytes>` does).
    struct IntoBytes<B> {
        #[pin]
        inner: B,
    }
}

impl<B> http_body::Body for IntoBytes<B>
where
    B: http_body::Body,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.project()
            .inner
            .poll_frame(cx)
            .map(|f| f.map(|f| f.map(|f| f.map_data(Into::into)).map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The writing end of [`Body::channel`].
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Result<Bytes, BoxError>>,
}

impl BodySender {
    /// Sends one chunk, waiting while the channel is full. Fails when the body was dropped
    /// (the peer went away or the request failed).
    pub async fn send(&self, chunk: impl Into<Bytes>) -> Result<(), Error> {
        self.tx
            .send(Ok(chunk.into()))
            .await
            .map_err(|_| Error::body(BodyClosed))
    }

    /// Ends the body with an error: the receiving side sees it as a body error.
    pub async fn abort(self, error: impl Into<BoxError>) {
        let _ = self.tx.send(Err(error.into())).await;
    }

    /// Ends the body normally (the same as dropping the sender).
    pub fn finish(self) {}

    /// Whether the receiving body is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The receiving side of a [`Body::channel`] was dropped before the sender finished.
#[derive(Debug)]
struct BodyClosed;

impl fmt::Display for BodyClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the body's receiver is closed")
    }
}

impl std::error::Error for BodyClosed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_arrive_one_frame_each() {
        let mut body = Body::from_chunks(vec!["ab", "cd", "e"]);
        let mut frames = Vec::new();
        while let Some(frame) = body.frame().await {
            frames.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(frames, vec!["ab", "cd", "e"]);
    }

    #[tokio::test]
    async fn channel_body_ends_when_sender_drops() {
        let (tx, body) = Body::channel(2);
        tokio::spawn(async move {
            tx.send("x").await.unwrap();
            tx.send("y").await.unwrap();
        });
        assert_eq!(body.collect_bytes().await.unwrap(), "xy");
    }

    #[tokio::test]
    async fn channel_abort_is_an_error() {
        let (tx, body) = Body::channel(1);
        tokio::spawn(tx.abort("boom"));
        assert!(body.collect_bytes().await.is_err());
    }

    #[test]
    fn wrap_keeps_the_size_hint() {
        use http_body::Body as _;
        let wrapped = Body::wrap(http_body_util::Full::new(Bytes::from_static(b"12345")));
        assert_eq!(wrapped.size_hint().exact(), Some(5));
        assert!(!wrapped.is_end_stream());
    }

    #[test]
    fn full_body_is_replayable_and_exact() {
        use http_body::Body as _;
        let b = Body::from(vec![1u8, 2, 3]);
        assert_eq!(b.size_hint().exact(), Some(3));
        assert_eq!(b.try_clone().unwrap().as_bytes(), Some(&[1u8, 2, 3][..]));
    }
}
