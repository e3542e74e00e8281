//! The server side: [`sse_stream`] (HTTP.jl `sse_stream(status) do stream ... end`), the
//! [`SseSender`] its producer writes events into, and the response body that carries them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use http_body::{Frame, SizeHint};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::sse::SseEvent;
use crate::{Body, BoxError, Error};

/// HTTP.jl's `max_len` default: the largest event, 16 MiB.
pub const DEFAULT_MAX_LEN: usize = 16 * 1024 * 1024;

/// How many bytes of events may wait unsent on one stream by default: 64 KiB.
pub const DEFAULT_BUFFER: usize = 64 * 1024;

/// Options of an SSE response: keep-alive comments, the per-stream `buffer` and
/// `max_len`. [`sse_stream`] uses the defaults (no keep-alive, a 64 KiB buffer, events of
/// up to 16 MiB).
///
/// ```
/// use std::time::Duration;
/// use httpstack::sse::{SseConfig, SseEvent};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let response = SseConfig::new()
///     .keep_alive(Duration::from_secs(15))
///     .buffer(16 * 1024) // a client that stops reading pins at most this much
///     .max_len(1024 * 1024)
///     .sse_stream(http::StatusCode::OK, |tx| async move {
///         tx.send(SseEvent::new("hello")).await
///     });
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SseConfig {
    keep_alive: Option<Duration>,
    buffer: usize,
    max_len: usize,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig::new()
    }
}

impl SseConfig {
    /// No keep-alive comments, a 64 KiB buffer, `max_len` 16 MiB.
    pub fn new() -> SseConfig {
        SseConfig {
            keep_alive: None,
            buffer: DEFAULT_BUFFER,
            max_len: DEFAULT_MAX_LEN,
        }
    }

    /// Sends a comment line (`: keep-alive`) whenever the stream has been idle this long,
    /// so proxies and clients with read timeouts keep the connection.
    pub fn keep_alive(mut self, every: Duration) -> SseConfig {
        self.keep_alive = Some(every).filter(|d| !d.is_zero());
        self
    }

    /// The most bytes of events that may wait unsent on this stream (default 64 KiB): a
    /// producer faster than its client waits in [`SseSender::send`] once this much is
    /// queued, so a client that stops reading pins no more than this (plus what the
    /// connection itself holds), however long it stalls. An event larger than the buffer
    /// waits until the queue is empty and then goes alone.
    pub fn buffer(mut self, bytes: usize) -> SseConfig {
        // Semaphore permits are taken per send as a u32.
        self.buffer = bytes.clamp(1, u32::MAX as usize);
        self
    }

    /// The largest event, in bytes (HTTP.jl `max_len`, 16 MiB): a larger one is refused
    /// by [`SseSender::send`].
    pub fn max_len(mut self, bytes: usize) -> SseConfig {
        self.max_len = bytes.max(1);
        self
    }

    /// An SSE response whose events come from `producer`, run on its own tokio task; the
    /// body ends when the producer returns (and every [`SseSender`] clone is dropped). Its
    /// output is dropped, so it may return a `Result` and use `?` on sends. When the
    /// client goes away its next send fails (also one waiting on a full buffer), and
    /// [`SseSender::closed`] completes, so a producer that stops on either ends with the
    /// client. Must be called within a tokio runtime.
    pub fn sse_stream<F, Fut>(self, status: StatusCode, producer: F) -> http::Response<Body>
    where
        F: FnOnce(SseSender) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let (sender, response) = self.channel(status);
        tokio::spawn(producer(sender));
        response
    }

    /// An SSE response and the [`SseSender`] that feeds it, for producers that live
    /// elsewhere (HTTP.jl `sse_stream(status)` without a `do` block). The body ends when
    /// every sender is dropped.
    pub fn channel(self, status: StatusCode) -> (SseSender, http::Response<Body>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let permits = Arc::new(Semaphore::new(self.buffer));
        let body = SseBody {
            rx,
            permits: permits.clone(),
            keep_alive: self.keep_alive.map(|every| KeepAlive {
                every,
                sleep: Box::pin(tokio::time::sleep(every)),
            }),
        };
        let mut response = http::Response::new(Body::wrap(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let sender = SseSender {
            tx,
            permits,
            buffer: self.buffer,
            max_len: self.max_len,
        };
        (sender, response)
    }
}

/// An SSE response whose events come from `producer` (HTTP.jl
/// `sse_stream(status) do stream ... end`), with the default [`SseConfig`].
///
/// The response has `Content-Type: text/event-stream` and `Cache-Control: no-cache`; each
/// event goes out as one body frame as soon as it is sent (one chunk on HTTP/1.1, one DATA
/// frame on HTTP/2). When the client goes away the body is dropped and the producer's next
/// [`SseSender::send`] fails, so a producer that stops on the first error never leaks.
/// Must be called within a tokio runtime (the producer is spawned).
///
/// ```
/// use futures_util::StreamExt;
/// use httpstack::server::{handler_fn, serve};
/// use httpstack::sse::{sse_stream, SseEvent};
/// use http::StatusCode;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let server = serve("127.0.0.1:0", handler_fn(|_req: http::Request<httpstack::Body>| async {
///     sse_stream(StatusCode::OK, |tx| async move {
///         tx.send(SseEvent::new("job 7 started").event("status")).await?;
///         tx.send(SseEvent::new("50%").event("progress").id("1")).await?;
///         tx.send(SseEvent::new("done").event("status").id("2")).await
///     })
/// }))
/// .await?;
///
/// let url = format!("http://{}/jobs/7/events", server.local_addr());
/// let mut events = httpstack::get(&url).sse().await?;
/// let first = events.next().await.unwrap()?;
/// assert_eq!((first.event_type(), first.data.as_str()), ("status", "job 7 started"));
/// let rest: Vec<_> = events.map(|e| e.map(|e| e.data)).collect().await;
/// assert_eq!(rest.into_iter().collect::<Result<Vec<_>, _>>()?, ["50%", "done"]);
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub fn sse_stream<F, Fut>(status: StatusCode, producer: F) -> http::Response<Body>
where
    F: FnOnce(SseSender) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    SseConfig::new().sse_stream(status, producer)
}

/// The producer's end of an SSE response; cheap to clone (every clone feeds the same
/// response, which ends when all are dropped).
///
/// A producer that waits on something between events watches
/// [`closed`](Self::closed) too, so it stops as soon as the client goes away:
///
/// ```
/// use std::time::Duration;
/// use futures_util::StreamExt;
/// use httpstack::server::{handler_fn, serve};
/// use httpstack::sse::{sse_stream, SseSender};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let clock = |tx: SseSender| async move {
///     tx.comment("ticking every 10 ms").await?; // clients skip comments
///     let mut ticks = tokio::time::interval(Duration::from_millis(10));
///     for n in 0.. {
///         tokio::select! {
///             _ = ticks.tick() => tx.send(format!("tick {n}")).await?,
///             _ = tx.closed() => break, // the client went away
///         }
///     }
///     Ok::<_, httpstack::Error>(())
/// };
/// let server = serve("127.0.0.1:0", handler_fn(move |_req: http::Request<httpstack::Body>| {
///     async move { sse_stream(http::StatusCode::OK, clock) }
/// }))
/// .await?;
///
/// let url = format!("http://{}/clock", server.local_addr());
/// let events = httpstack::get(&url).sse().await?;
/// let first_two: Vec<_> = events.take(2).map(|e| e.unwrap().data).collect().await;
/// assert_eq!(first_two, ["tick 0", "tick 1"]);
/// // The stream was dropped: the producer stops, so the server closes at once.
/// server.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SseSender {
    tx: mpsc::UnboundedSender<Queued>,
    permits: Arc<Semaphore>,
    buffer: usize,
    max_len: usize,
}

struct Queued {
    bytes: Bytes,
    _permit: Option<OwnedSemaphorePermit>,
}

impl SseSender {
    /// Sends one event. It is handed to the connection at once, waiting only while the
    /// stream's [buffer](SseConfig::buffer) is full (the client is slower than the
    /// producer).
    ///
    /// Fails with [`ErrorKind::Body`](crate::ErrorKind::Body) when the client went away
    /// (the response body was dropped) or the event is larger than `max_len`, and with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when a field cannot be
    /// written (see [`SseEvent::to_bytes`]).
    pub async fn send(&self, event: impl Into<SseEvent>) -> Result<(), Error> {
        let bytes = event.into().to_bytes()?;
        self.send_bytes(bytes).await
    }

    /// Sends a comment (`: text`; one comment line per line of `text`), which clients
    /// ignore: a keep-alive or a debugging aid.
    pub async fn comment(&self, text: &str) -> Result<(), Error> {
        let mut out = BytesMut::with_capacity(text.len() + 3);
        for line in text.split(['\r', '\n']) {
            out.extend_from_slice(b": ");
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\n");
        }
        self.send_bytes(out.freeze()).await
    }

    async fn send_bytes(&self, bytes: Bytes) -> Result<(), Error> {
        if bytes.len() > self.max_len {
            return Err(Error::body(format!(
                "SSE event of {} bytes is larger than max_len ({} bytes)",
                bytes.len(),
                self.max_len
            )));
        }
        // An event larger than the whole buffer takes all of it: it waits for an empty
        // queue, then goes alone. `buffer` fits a u32 (SseConfig::buffer clamps it).
        let needed = bytes.len().min(self.buffer) as u32;
        let permit = match needed {
            0 => None,
            n => Some(
                self.permits
                    .clone()
                    .acquire_many_owned(n)
                    .await
                    .map_err(|_| client_gone())?,
            ),
        };
        self.tx
            .send(Queued {
                bytes,
                _permit: permit,
            })
            .map_err(|_| client_gone())
    }

    /// Whether the client went away (the response body was dropped).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Completes when the client goes away; for producers that wait on something else
    /// between events (`tokio::select!` on both).
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

fn client_gone() -> Error {
    Error::new(crate::ErrorKind::Body)
        .with_message("the SSE stream is closed: the client went away or the response was dropped")
}

struct KeepAlive {
    every: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

/// The body of an SSE response: one frame per event, keep-alive comments when idle.
struct SseBody {
    rx: mpsc::UnboundedReceiver<Queued>,
    permits: Arc<Semaphore>,
    keep_alive: Option<KeepAlive>,
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(queued)) => {
                if let Some(keep_alive) = &mut this.keep_alive {
                    let next = tokio::time::Instant::now() + keep_alive.every;
                    keep_alive.sleep.as_mut().reset(next);
                }
                // The permit drops here: the bytes now belong to the connection.
                Poll::Ready(Some(Ok(Frame::data(queued.bytes))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if let Some(keep_alive) = &mut this.keep_alive {
                    if keep_alive.sleep.as_mut().poll(cx).is_ready() {
                        let next = tokio::time::Instant::now() + keep_alive.every;
                        keep_alive.sleep.as_mut().reset(next);
                        let comment = Bytes::from_static(b": keep-alive\n\n");
                        return Poll::Ready(Some(Ok(Frame::data(comment))));
                    }
                }
                Poll::Pending
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        // Wakes a producer blocked on a full buffer so it sees the send error too.
        self.permits.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn frames_one_per_event_then_ends() {
        let response = sse_stream(StatusCode::OK, |tx| async move {
            tx.send("a").await?;
            tx.comment("note").await?;
            tx.send(SseEvent::new("b").id("2")).await
        });
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache");
        let mut body = response.into_body();
        let mut frames = Vec::new();
        while let Some(frame) = body.frame().await {
            frames.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(frames, ["data: a\n\n", ": note\n", "id: 2\ndata: b\n\n"]);
    }

    #[tokio::test]
    async fn producer_sees_error_when_body_dropped() {
        let (tx, response) = SseConfig::new().buffer(16).channel(StatusCode::OK);
        tx.send("0123456").await.unwrap(); // 15 bytes queued
        let blocked = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send("x").await }
        });
        drop(response);
        assert!(blocked.await.unwrap().unwrap_err().is_body());
        assert!(tx.send("y").await.unwrap_err().is_body());
        assert!(tx.is_closed());
    }

    #[tokio::test]
    async fn event_larger_than_max_len_is_refused() {
        let (tx, _response) = SseConfig::new().max_len(8).channel(StatusCode::OK);
        let err = tx.send("0123456789").await.unwrap_err();
        let chain = err.report();
        assert!(err.is_body() && chain.contains("max_len"), "{chain}");
    }

    #[tokio::test]
    async fn the_buffer_bounds_what_waits_and_a_big_event_goes_alone() {
        let (tx, response) = SseConfig::new().buffer(20).channel(StatusCode::OK);
        tx.send("0123456789").await.expect("16 bytes fit");
        // 16 more do not: the send waits for the client.
        let waiting = tokio::time::timeout(Duration::from_millis(50), tx.send("abcdefghij")).await;
        assert!(waiting.is_err(), "a full buffer makes the producer wait");
        // An event larger than the whole buffer goes once the queue is empty.
        let mut body = response.into_body();
        let big = "x".repeat(100);
        let sender = tx.clone();
        let big_send = tokio::spawn(async move { sender.send(big.as_str()).await });
        let first = body
            .frame()
            .await
            .expect("frame")
            .expect("data")
            .into_data();
        assert_eq!(
            first.ok(),
            Some(Bytes::from_static(b"data: 0123456789\n\n"))
        );
        let second = body
            .frame()
            .await
            .expect("frame")
            .expect("data")
            .into_data();
        assert_eq!(second.map(|b| b.len()).ok(), Some(108));
        assert!(big_send.await.expect("task").is_ok());
    }

    #[tokio::test]
    async fn keep_alive_comment_when_idle() {
        let (tx, response) = SseConfig::new()
            .keep_alive(Duration::from_millis(20))
            .channel(StatusCode::OK);
        let mut body = response.into_body();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(frame, ": keep-alive\n\n");
        tx.send("x").await.unwrap();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(frame, "data: x\n\n");
    }
}
