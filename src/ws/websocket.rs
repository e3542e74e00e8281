//! [`WebSocket`]: one open connection (HTTP.jl `WebSocket`), and its
//! [`split`](WebSocket::split) halves.
//!
//! A thin layer over the protocol's [`Connection`]: a message is moved, never copied or
//! boxed, between it and the caller. What it adds is HTTP.jl's
//! behaviour around the edges — pings answered and skipped, a received close answered and
//! turned into a close error (`is_ok()` for normal codes), protocol failures closed with
//! the right code (1002, 1007, 1009), idle timeouts, and a close when the socket is
//! dropped while still open.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{self, Error as WsError};

use super::close::{self, classify, Failure};
use super::config::Limits;
use super::connection::Connection;
use super::message::Message;
use crate::{CloseFrame, Error, TimeoutKind};

/// How long a closing handshake may take: our close frame going out, the peer's reply
/// coming back and, on the client, the server closing the TCP connection (RFC 6455 §7.1.1).
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) type Inner = Connection;

/// The handshake a WebSocket came from.
#[derive(Debug)]
pub(crate) struct Handshake {
    pub(crate) request: http::Request<()>,
    pub(crate) response: http::Response<()>,
}

/// An open WebSocket connection (HTTP.jl `WebSocket`), client or server side.
///
/// - [`send`](Self::send) a [`Message`] (text from `&str`/`String`, binary from
///   `Bytes`/`Vec<u8>`), [`send_fragments`](Self::send_fragments) for one frame per
///   piece, [`ping`](Self::ping), [`pong`](Self::pong), [`close`](Self::close);
/// - [`receive`](Self::receive) the next whole message: pings are answered and skipped,
///   fragments joined; a close from the peer is answered and returned as an [`Error`]
///   carrying its [`CloseFrame`] — [`Error::is_ok`] tells a normal close (1000, 1001,
///   1005) from a failure;
/// - or iterate: `WebSocket` is a [`Stream`] of `Result<Message, Error>` that ends on a
///   normal close and yields the error otherwise;
/// - [`split`](Self::split) it to read and write from two tasks.
///
/// Dropping a `WebSocket` that is still open closes it with 1000. Under
/// [`open_with`](super::open_with) and the server's handler the close is a full closing
/// handshake, with 1011 when the handler failed.
///
/// ```
/// use futures_util::StreamExt;
/// use httpstack::ws;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// // The server side: iterate the messages, answer each.
/// let server = ws::listen("127.0.0.1:0", |mut ws: ws::WebSocket| async move {
///     while let Some(message) = ws.next().await {
///         let message = message?;
///         ws.send(format!("{} bytes, text: {}", message.len(), message.is_text())).await?;
///     }
///     Ok(())
/// })
/// .await?;
///
/// // The client side: send text and binary, receive the answers, close.
/// let mut ws = ws::open(format!("ws://{}/", server.server_addr())).await?;
/// ws.send("hello").await?;
/// ws.send(vec![1u8, 2, 3]).await?;
/// assert_eq!(ws.receive().await?.as_text(), Some("5 bytes, text: true"));
/// assert_eq!(ws.receive().await?.as_text(), Some("3 bytes, text: false"));
/// ws.close(1000, "done").await?;
/// assert!(!ws.is_open());
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub struct WebSocket {
    /// `None` once split, or handed back to the task that runs the handler.
    stream: Option<Inner>,
    /// What [`is_ready`](Self::is_ready) found; `receive` returns it first.
    ready: Option<Result<Message, Error>>,
    reader: Reader,
    write_idle_timeout: Option<Duration>,
    handshake: Box<Handshake>,
    hand_back: Option<oneshot::Sender<Inner>>,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("uri", self.handshake.request.uri())
            .field("subprotocol", &self.subprotocol())
            .field("closed", &self.close_frame())
            .finish_non_exhaustive()
    }
}

impl WebSocket {
    pub(crate) fn new(
        stream: Inner,
        limits: &Limits,
        handshake: Handshake,
        hand_back: Option<oneshot::Sender<Inner>>,
    ) -> Self {
        WebSocket {
            stream: Some(stream),
            ready: None,
            reader: Reader::new(limits.read_idle_timeout),
            write_idle_timeout: limits.write_idle_timeout,
            handshake: Box::new(handshake),
            hand_back,
        }
    }

    /// The handshake request: on the server, the client's (path, query, headers, and the
    /// extensions the server and router added); on the client, the one sent.
    pub fn request(&self) -> &http::Request<()> {
        &self.handshake.request
    }

    /// The handshake response (101 Switching Protocols over HTTP/1.1, 200 over HTTP/2).
    pub fn response(&self) -> &http::Response<()> {
        &self.handshake.response
    }

    /// The subprotocol both ends agreed on (`Sec-WebSocket-Protocol`), if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.handshake
            .response
            .headers()
            .get(http::header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
    }

    /// The extensions both ends agreed on (`Sec-WebSocket-Extensions` of the answer),
    /// e.g. `permessage-deflate; client_max_window_bits=15`; `None` for none.
    pub fn extensions(&self) -> Option<&str> {
        self.handshake
            .response
            .headers()
            .get(http::header::SEC_WEBSOCKET_EXTENSIONS)
            .and_then(|v| v.to_str().ok())
    }

    /// The close frame, once the connection is closed (received, or sent on failure).
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.reader.closed()
    }

    /// HTTP.jl `isopen`-like: whether no close has been sent or received yet.
    pub fn is_open(&self) -> bool {
        self.stream.is_some() && matches!(self.reader.state, ReadState::Open)
    }

    fn stream(&mut self) -> Result<&mut Inner, Error> {
        match &mut self.stream {
            Some(stream) => Ok(stream),
            None => Err(Error::websocket(CloseFrame::new(close::NORMAL, "closed"))),
        }
    }

    /// Sends a whole message (HTTP.jl `send`): `&str`/`String` as TEXT, `Bytes`,
    /// `Vec<u8>` or `&[u8]` as BINARY.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into().into_tungstenite();
        match (&mut self.stream, self.write_idle_timeout) {
            // The hot path: tungstenite's send (ready, queue, flush — as
            // `SinkExt::send`) polled in place, without nested futures.
            (Some(stream), None) => {
                let mut message = Some(message);
                let sent = poll_fn(|cx| poll_send(Pin::new(&mut *stream), &mut message, cx)).await;
                sent.map_err(|e| write_error(e, self.reader.closed()))
            }
            _ => self.send_raw(message).await,
        }
    }

    /// Sends one message as fragments, one frame per item (HTTP.jl `send` with an
    /// iterable): the first item's kind (text or binary) is the message's. An empty
    /// iterator sends nothing.
    pub async fn send_fragments<I>(&mut self, pieces: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let write_idle = self.write_idle_timeout;
        let closed = self.reader.closed().cloned();
        let stream = self.stream()?;
        with_write_timeout(write_idle, send_fragments(stream, pieces))
            .await
            .map_err(|e| write_error(e, closed.as_ref()))
    }

    /// Sends a PING with `data` (at most 125 bytes); the peer answers with a PONG, which
    /// [`receive`](Self::receive) skips.
    pub async fn ping(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_raw(tungstenite::Message::Ping(data.into())).await
    }

    /// Sends an unsolicited PONG with `data`, a one-way heartbeat (HTTP.jl `pong`).
    pub async fn pong(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_raw(tungstenite::Message::Pong(data.into())).await
    }

    async fn send_raw(&mut self, message: tungstenite::Message) -> Result<(), Error> {
        let Some(stream) = &mut self.stream else {
            return Err(Error::websocket(CloseFrame::new(close::NORMAL, "closed")));
        };
        // The common case (no write timeout) awaits tungstenite's send directly; the
        // close frame an error may need is looked up only on an error.
        let sent = match self.write_idle_timeout {
            None => stream.send(message).await.map_err(WriteFailure::Ws),
            Some(_) => with_write_timeout(self.write_idle_timeout, stream.send(message)).await,
        };
        sent.map_err(|e| write_error(e, self.reader.closed()))
    }

    /// Receives the next whole message (HTTP.jl `receive`). A close from the peer is
    /// answered, then returned as an error carrying its close frame ([`Error::is_ok`] for
    /// a normal close); so is every later call.
    pub async fn receive(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.poll_receive(cx)).await
    }

    /// HTTP.jl `isready(ws)`: whether a whole message has arrived, so that
    /// [`receive`](Self::receive) returns it without waiting. Looks at what was already
    /// read and what the socket holds, without waiting; pings found on the way are
    /// answered. A close found on the way is kept for `receive` (this returns false).
    ///
    /// ```
    /// # use httpstack::ws;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), httpstack::Error> {
    /// # let server = ws::listen("127.0.0.1:0", |mut ws: ws::WebSocket| async move {
    /// #     while let Ok(m) = ws.receive().await { ws.send(m).await?; }
    /// #     Ok(())
    /// # }).await?;
    /// let mut ws = ws::open(format!("ws://{}/", server.server_addr())).await?;
    /// assert!(!ws.is_ready());
    /// ws.send("echo me").await?;
    /// // Look now and then, doing other work in between.
    /// for _ in 0..1000 {
    ///     if ws.is_ready() {
    ///         break;
    ///     }
    ///     tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    /// }
    /// assert!(ws.is_ready());
    /// assert_eq!(ws.receive().await?.as_text(), Some("echo me"));
    /// # server.force_close(); Ok(()) }
    /// ```
    pub fn is_ready(&mut self) -> bool {
        if self.ready.is_none() {
            let mut polled = None;
            poll_once(|cx| {
                if let Poll::Ready(result) = self.poll_receive(cx) {
                    polled = Some(result);
                }
            });
            self.ready = polled;
        }
        matches!(self.ready, Some(Ok(_)))
    }

    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        if let Some(ready) = self.ready.take() {
            return Poll::Ready(ready);
        }
        match &mut self.stream {
            Some(stream) => self.reader.poll_receive(cx, stream),
            None => Poll::Ready(Err(Error::websocket(CloseFrame::new(
                close::NORMAL,
                "closed",
            )))),
        }
    }

    /// Starts the closing handshake with `code` and `reason` (HTTP.jl `close`; 1000 is a
    /// normal close), waits — at most a few seconds — for the peer's close frame and the
    /// end of the connection. Closing a closed WebSocket does nothing.
    ///
    /// A code that may not be sent ([`close::is_sendable`]: 1005, 1006, 1015, the
    /// reserved 0–999 and 1016–2999, 5000 and up) or a reason over 123 bytes is an input
    /// error, and nothing is sent: the WebSocket stays open.
    ///
    /// ```
    /// # use httpstack::ws;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), httpstack::Error> {
    /// # let server = ws::listen("127.0.0.1:0", |mut ws: ws::WebSocket| async move {
    /// #     while ws.receive().await.is_ok() {}
    /// #     Ok(())
    /// # }).await?;
    /// let mut ws = ws::open(format!("ws://{}/", server.server_addr())).await?;
    /// assert!(ws.close(1006, "").await.unwrap_err().is_invalid_input());
    /// assert!(ws.is_open());
    /// ws.close(4000, "done").await?;
    /// # server.force_close(); Ok(()) }
    /// ```
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        close::check_sendable(code, reason)?;
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        if !matches!(self.reader.state, ReadState::Open) {
            // Already closing or closed: let a pending reply go out.
            let _ = tokio::time::timeout(
                CLOSE_TIMEOUT,
                poll_fn(|cx| self.reader.poll_receive(cx, stream)),
            )
            .await;
            return Ok(());
        }
        let frame = CloseFrame::new(code, reason);
        let sent = tokio::time::timeout(
            CLOSE_TIMEOUT,
            stream.send(tungstenite::Message::Close(close::to_tungstenite(&frame))),
        )
        .await;
        let peer = drain(stream, Instant::now() + CLOSE_TIMEOUT).await;
        self.reader.state = ReadState::Closed(peer.unwrap_or(frame));
        match sent {
            Ok(Ok(())) | Ok(Err(WsError::ConnectionClosed)) => Ok(()),
            Ok(Err(err)) => Err(write_error(err, None)),
            Err(_) => Err(Error::timeout(TimeoutKind::Write)),
        }
    }

    /// Splits into a sending and a receiving half, for use from two tasks at once (a
    /// lock shared by the halves; each operation holds it only while it polls).
    pub fn split(mut self) -> (WebSocketSender, WebSocketReceiver) {
        self.hand_back = None;
        let reader = std::mem::replace(&mut self.reader, Reader::new(None));
        let ready = self.ready.take();
        match self.stream.take() {
            Some(stream) => {
                let (sink, stream) = stream.split();
                (
                    WebSocketSender {
                        sink: Some(sink),
                        write_idle_timeout: self.write_idle_timeout,
                    },
                    WebSocketReceiver {
                        stream: Some(stream),
                        ready,
                        reader,
                    },
                )
            }
            None => (
                WebSocketSender {
                    sink: None,
                    write_idle_timeout: None,
                },
                WebSocketReceiver {
                    stream: None,
                    ready,
                    reader,
                },
            ),
        }
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.reader.ended {
            return Poll::Ready(None);
        }
        let result = ready!(this.poll_receive(cx));
        Poll::Ready(this.reader.item(result))
    }
}

impl Drop for WebSocket {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        if !matches!(self.reader.state, ReadState::Open) {
            return;
        }
        let stream = match self.hand_back.take() {
            Some(runner) => match runner.send(stream) {
                Ok(()) => return,
                Err(stream) => stream,
            },
            None => stream,
        };
        close_now(stream);
    }
}

/// The sending half of a [`WebSocket::split`].
pub struct WebSocketSender {
    sink: Option<SplitSink<Inner, tungstenite::Message>>,
    write_idle_timeout: Option<Duration>,
}

impl std::fmt::Debug for WebSocketSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketSender").finish_non_exhaustive()
    }
}

impl WebSocketSender {
    fn sink(&mut self) -> Result<&mut SplitSink<Inner, tungstenite::Message>, Error> {
        match &mut self.sink {
            Some(sink) => Ok(sink),
            None => Err(Error::websocket(CloseFrame::new(close::NORMAL, "closed"))),
        }
    }

    async fn send_raw(&mut self, message: tungstenite::Message) -> Result<(), Error> {
        let write_idle = self.write_idle_timeout;
        let sink = self.sink()?;
        let sent = match write_idle {
            None => sink.send(message).await.map_err(WriteFailure::Ws),
            Some(_) => with_write_timeout(write_idle, sink.send(message)).await,
        };
        sent.map_err(|e| write_error(e, None))
    }

    /// [`WebSocket::send`].
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.send_raw(message.into().into_tungstenite()).await
    }

    /// [`WebSocket::send_fragments`].
    pub async fn send_fragments<I>(&mut self, pieces: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let write_idle = self.write_idle_timeout;
        with_write_timeout(write_idle, send_fragments(self.sink()?, pieces))
            .await
            .map_err(|e| write_error(e, None))
    }

    /// [`WebSocket::ping`].
    pub async fn ping(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_raw(tungstenite::Message::Ping(data.into())).await
    }

    /// [`WebSocket::pong`].
    pub async fn pong(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send_raw(tungstenite::Message::Pong(data.into())).await
    }

    /// Sends a close frame with `code` and `reason`; the receiving half then sees the
    /// peer's reply as the end of the stream. The code and reason are checked as by
    /// [`WebSocket::close`].
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        close::check_sendable(code, reason)?;
        let frame = close::to_tungstenite(&CloseFrame::new(code, reason));
        match self.send_raw(tungstenite::Message::Close(frame)).await {
            Err(err) if err.is_websocket() => Ok(()),
            other => other,
        }
    }
}

impl Drop for WebSocketSender {
    fn drop(&mut self) {
        if let Some(mut sink) = self.sink.take() {
            let normal = close::to_tungstenite(&CloseFrame::new(close::NORMAL, ""));
            poll_once(|cx| {
                let mut sink = Pin::new(&mut sink);
                if let Poll::Ready(Ok(())) = sink.as_mut().poll_ready(cx) {
                    if sink
                        .as_mut()
                        .start_send(tungstenite::Message::Close(normal))
                        .is_ok()
                    {
                        let _ = sink.poll_flush(cx);
                    }
                }
            });
        }
    }
}

/// The receiving half of a [`WebSocket::split`]: [`receive`](Self::receive), or iterate
/// it as a [`Stream`]. Pings are answered, as on a whole [`WebSocket`].
pub struct WebSocketReceiver {
    stream: Option<SplitStream<Inner>>,
    ready: Option<Result<Message, Error>>,
    reader: Reader,
}

impl std::fmt::Debug for WebSocketReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketReceiver")
            .field("closed", &self.reader.closed())
            .finish_non_exhaustive()
    }
}

impl WebSocketReceiver {
    /// [`WebSocket::receive`]. A protocol failure by the peer ends the connection here
    /// without a close frame: the sending half owns the writing side.
    pub async fn receive(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.poll_receive(cx)).await
    }

    /// [`WebSocket::is_ready`].
    pub fn is_ready(&mut self) -> bool {
        if self.ready.is_none() {
            let mut polled = None;
            poll_once(|cx| {
                if let Poll::Ready(result) = self.poll_receive(cx) {
                    polled = Some(result);
                }
            });
            self.ready = polled;
        }
        matches!(self.ready, Some(Ok(_)))
    }

    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        if let Some(ready) = self.ready.take() {
            return Poll::Ready(ready);
        }
        match &mut self.stream {
            Some(stream) => self.reader.poll_receive(cx, stream),
            None => Poll::Ready(Err(Error::websocket(CloseFrame::new(
                close::NORMAL,
                "closed",
            )))),
        }
    }

    /// The close frame, once the connection is closed.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.reader.closed()
    }
}

impl Stream for WebSocketReceiver {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.reader.ended {
            return Poll::Ready(None);
        }
        let result = ready!(this.poll_receive(cx));
        Poll::Ready(this.reader.item(result))
    }
}

/// What reading may still do.
enum ReadState {
    Open,
    /// A close frame arrived: reading on sends the queued reply and waits for the end.
    Draining(CloseFrame, Pin<Box<Sleep>>),
    /// The peer broke the protocol: our close frame (`sent` once queued) goes out.
    Failing {
        frame: CloseFrame,
        error: Option<Error>,
        sent: bool,
        deadline: Pin<Box<Sleep>>,
    },
    Closed(CloseFrame),
}

/// The read side's state, shared by [`WebSocket`] and [`WebSocketReceiver`].
struct Reader {
    state: ReadState,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    /// The `Stream` gave its last item.
    ended: bool,
}

/// What a reader reads from: the whole stream, which can send a close frame when the
/// peer fails, or the receiving half, which cannot.
trait ReadHalf: Stream<Item = Result<tungstenite::Message, WsError>> + Unpin {
    /// Drives `frame` out; `sent` records that it was queued.
    fn poll_fail(&mut self, cx: &mut Context<'_>, frame: &CloseFrame, sent: &mut bool) -> Poll<()>;
}

impl ReadHalf for Inner {
    fn poll_fail(&mut self, cx: &mut Context<'_>, frame: &CloseFrame, sent: &mut bool) -> Poll<()> {
        let mut this = Pin::new(self);
        if !*sent {
            match ready!(this.as_mut().poll_ready(cx)) {
                Ok(()) => {}
                Err(_) => return Poll::Ready(()),
            }
            let close = tungstenite::Message::Close(close::to_tungstenite(frame));
            if this.as_mut().start_send(close).is_err() {
                return Poll::Ready(());
            }
            *sent = true;
        }
        this.poll_flush(cx).map(|_| ())
    }
}

impl ReadHalf for SplitStream<Inner> {
    fn poll_fail(&mut self, _: &mut Context<'_>, _: &CloseFrame, _: &mut bool) -> Poll<()> {
        Poll::Ready(())
    }
}

impl Reader {
    fn new(read_idle_timeout: Option<Duration>) -> Self {
        Reader {
            state: ReadState::Open,
            idle: read_idle_timeout.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
            ended: false,
        }
    }

    fn closed(&self) -> Option<&CloseFrame> {
        match &self.state {
            ReadState::Closed(frame) | ReadState::Draining(frame, _) => Some(frame),
            ReadState::Failing { frame, .. } => Some(frame),
            ReadState::Open => None,
        }
    }

    /// The `Stream` item for a receive result: a normal close ends the stream, any
    /// other end is yielded once, then the stream ends.
    fn item(&mut self, result: Result<Message, Error>) -> Option<Result<Message, Error>> {
        match result {
            Ok(message) => Some(Ok(message)),
            Err(err) => {
                if matches!(self.state, ReadState::Closed(_)) {
                    self.ended = true;
                    if err.is_ok() {
                        return None;
                    }
                }
                Some(Err(err))
            }
        }
    }

    fn poll_receive<S: ReadHalf>(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut S,
    ) -> Poll<Result<Message, Error>> {
        loop {
            match &mut self.state {
                ReadState::Open => {
                    let next = match stream.poll_next_unpin(cx) {
                        Poll::Ready(next) => next,
                        Poll::Pending => {
                            if let Some((idle, sleep)) = &mut self.idle {
                                if sleep.as_mut().poll(cx).is_ready() {
                                    let idle = *idle;
                                    sleep.as_mut().reset(Instant::now() + idle);
                                    return Poll::Ready(Err(Error::timeout(TimeoutKind::Read)
                                        .with_message(format!(
                                            "no WebSocket frame within read_idle_timeout {idle:?}"
                                        ))));
                                }
                            }
                            return Poll::Pending;
                        }
                    };
                    if let Some((idle, sleep)) = &mut self.idle {
                        sleep.as_mut().reset(Instant::now() + *idle);
                    }
                    match next {
                        Some(Ok(tungstenite::Message::Text(text))) => {
                            return Poll::Ready(Ok(Message::Text(text)))
                        }
                        Some(Ok(tungstenite::Message::Binary(bytes))) => {
                            return Poll::Ready(Ok(Message::Binary(bytes)))
                        }
                        // Pings are answered by tungstenite (the pong goes out with the
                        // next read or write, i.e. the next turn of this loop).
                        Some(Ok(
                            tungstenite::Message::Ping(_)
                            | tungstenite::Message::Pong(_)
                            | tungstenite::Message::Frame(_),
                        )) => {}
                        Some(Ok(tungstenite::Message::Close(frame))) => {
                            self.state = ReadState::Draining(
                                close::from_tungstenite(frame),
                                Box::pin(tokio::time::sleep(CLOSE_TIMEOUT)),
                            );
                        }
                        None => {
                            self.state = ReadState::Closed(CloseFrame::new(
                                close::ABNORMAL,
                                "connection closed",
                            ));
                        }
                        Some(Err(err)) => match classify(err, None) {
                            Failure::Fail(frame, error) => {
                                self.state = ReadState::Failing {
                                    frame,
                                    error: Some(error),
                                    sent: false,
                                    deadline: Box::pin(tokio::time::sleep(CLOSE_TIMEOUT)),
                                };
                            }
                            Failure::Closed(error) => {
                                let frame = error.close_frame().cloned().unwrap_or_else(|| {
                                    CloseFrame::new(close::ABNORMAL, "connection failed")
                                });
                                self.state = ReadState::Closed(frame);
                                return Poll::Ready(Err(error));
                            }
                            Failure::Other(error) => return Poll::Ready(Err(error)),
                        },
                    }
                }
                ReadState::Draining(frame, deadline) => {
                    match stream.poll_next_unpin(cx) {
                        // A late data frame: dropped, we are closing.
                        Poll::Ready(Some(Ok(_))) => continue,
                        Poll::Ready(_) => {}
                        Poll::Pending => {
                            if deadline.as_mut().poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                        }
                    }
                    let frame = frame.clone();
                    self.state = ReadState::Closed(frame.clone());
                    return Poll::Ready(Err(Error::websocket(frame)));
                }
                ReadState::Failing {
                    frame,
                    error,
                    sent,
                    deadline,
                } => {
                    if stream.poll_fail(cx, frame, sent).is_pending()
                        && deadline.as_mut().poll(cx).is_pending()
                    {
                        return Poll::Pending;
                    }
                    let error = error
                        .take()
                        .unwrap_or_else(|| Error::websocket(frame.clone()));
                    self.state = ReadState::Closed(frame.clone());
                    return Poll::Ready(Err(error));
                }
                ReadState::Closed(frame) => {
                    return Poll::Ready(Err(Error::websocket(frame.clone())))
                }
            }
        }
    }
}

/// `SinkExt::send` as a poll function: waits for room, queues `message` (taken once),
/// then flushes.
fn poll_send<K>(
    mut sink: Pin<&mut K>,
    message: &mut Option<tungstenite::Message>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), WsError>>
where
    K: Sink<tungstenite::Message, Error = WsError>,
{
    if message.is_some() {
        ready!(sink.as_mut().poll_ready(cx))?;
        if let Some(message) = message.take() {
            sink.as_mut().start_send(message)?;
        }
    }
    sink.poll_flush(cx)
}

/// Sends `pieces` as one fragmented message and flushes once at the end.
async fn send_fragments<K, I>(sink: &mut K, pieces: I) -> Result<(), WsError>
where
    K: Sink<tungstenite::Message, Error = WsError> + Unpin,
    I: IntoIterator,
    I::Item: Into<Message>,
{
    let mut pieces = pieces.into_iter().peekable();
    let mut first = true;
    while let Some(piece) = pieces.next() {
        let piece = piece.into();
        let opcode = match (first, piece.is_text()) {
            (false, _) => Data::Continue,
            (true, true) => Data::Text,
            (true, false) => Data::Binary,
        };
        first = false;
        let last = pieces.peek().is_none();
        let frame = Frame::message(piece.into_bytes(), OpCode::Data(opcode), last);
        sink.feed(tungstenite::Message::Frame(frame)).await?;
    }
    sink.flush().await
}

/// Bounds a write by `write_idle_timeout`, when one is set.
async fn with_write_timeout<F>(timeout: Option<Duration>, write: F) -> Result<(), WriteFailure>
where
    F: Future<Output = Result<(), WsError>>,
{
    match timeout {
        None => write.await.map_err(WriteFailure::Ws),
        Some(limit) => match tokio::time::timeout(limit, write).await {
            Ok(done) => done.map_err(WriteFailure::Ws),
            Err(_) => Err(WriteFailure::TimedOut(limit)),
        },
    }
}

enum WriteFailure {
    Ws(WsError),
    TimedOut(Duration),
}

impl From<WsError> for WriteFailure {
    fn from(err: WsError) -> Self {
        WriteFailure::Ws(err)
    }
}

fn write_error(failure: impl Into<WriteFailure>, closed: Option<&CloseFrame>) -> Error {
    match failure.into() {
        WriteFailure::TimedOut(limit) => Error::timeout(TimeoutKind::Write).with_message(format!(
            "WebSocket write not done within write_idle_timeout {limit:?}"
        )),
        WriteFailure::Ws(err) => match classify(err, closed) {
            Failure::Fail(_, error) | Failure::Closed(error) | Failure::Other(error) => error,
        },
    }
}

/// Reads until the connection ends or `deadline`, after our close frame went out; the
/// peer's close frame, if one came.
pub(crate) async fn drain(stream: &mut Inner, deadline: Instant) -> Option<CloseFrame> {
    let mut peer = None;
    let _ = tokio::time::timeout_at(deadline, async {
        while let Some(Ok(message)) = stream.next().await {
            if let tungstenite::Message::Close(frame) = message {
                peer = Some(close::from_tungstenite(frame));
            }
        }
    })
    .await;
    peer
}

/// The whole closing handshake with `frame`, bounded by [`CLOSE_TIMEOUT`]: for a
/// WebSocket handed back by a dropped handler.
pub(crate) async fn close_gracefully(mut stream: Inner, frame: CloseFrame) {
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    let close = tungstenite::Message::Close(close::to_tungstenite(&frame));
    if let Ok(Ok(())) = tokio::time::timeout_at(deadline, stream.send(close)).await {
        drain(&mut stream, deadline).await;
    }
}

/// A close frame written without waiting, for a WebSocket dropped outside any task that
/// could wait: it goes out if the socket takes it at once (the usual case), then the
/// connection is dropped.
fn close_now(mut stream: Inner) {
    let normal = close::to_tungstenite(&CloseFrame::new(close::NORMAL, ""));
    poll_once(|cx| {
        let mut stream = Pin::new(&mut stream);
        if let Poll::Ready(Ok(())) = stream.as_mut().poll_ready(cx) {
            if stream
                .as_mut()
                .start_send(tungstenite::Message::Close(normal))
                .is_ok()
            {
                let _ = stream.poll_flush(cx);
            }
        }
    });
}

fn poll_once(f: impl FnOnce(&mut Context<'_>)) {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    f(&mut cx);
}
