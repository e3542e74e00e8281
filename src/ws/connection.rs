//! [`Connection`]: the WebSocket protocol above the byte stream — frames in and out with
//! tungstenite's frame types ([`FrameHeader`] parses and formats the header), and the
//! message layer above them, which is ours: fragmentation and reassembly, control frames
//! between fragments, the closing handshake, UTF-8 checked as fragments arrive, the frame
//! and message size limits, and permessage-deflate (RFC 7692).
//!
//! Why not tungstenite's `WebSocket`: it fails every frame with RSV1 set before the
//! message layer sees it, so permessage-deflate cannot be built on it (its PR #426 is
//! still open). Its framing and header types are kept; its `Message` and `Error` stay the
//! vocabulary between this layer and [`WebSocket`](super::WebSocket), which behaves as
//! it did over tokio-tungstenite's `WebSocketStream`: this type is a `Stream` and `Sink`
//! of the same items with the same closing rules (pings answered on the next read or
//! write, a close echoed, the server ending the TCP connection first).
//!
//! The socket is polled directly (no blocking-I/O adapter with waker proxies as in
//! tokio-tungstenite), received payloads are split off the read buffer without copying,
//! and an uncompressed message in one frame is returned as that slice.

use std::io::{self, Cursor};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{Sink, Stream};
use tokio::io::AsyncWrite;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::close;
use super::config::Limits;
use super::deflate::{Deflate, InflateError, Output};
use super::socket::Socket;

/// How much room a read is given, at least. (Over tungstenite, whose 128 KiB default it
/// zeroed before every read, 32 KiB cut user CPU per small message by a quarter; here
/// nothing is zeroed, and it stays the size that keeps the buffer in cache.)
const READ_CHUNK: usize = 32 << 10;

/// The most reserved at once for a frame still arriving (a larger one grows as it comes).
const MAX_RESERVE: usize = 16 << 20;

/// A reassembled or inflated message smaller than this is copied out of the buffer,
/// which is kept; a larger one takes the buffer with it.
const KEEP_INFLATED: usize = 64 << 10;

/// Written out before a send returns ready again.
const WRITE_HIGH_WATER: usize = 128 << 10;

/// Which end this is (RFC 6455 §5.1: clients mask, servers do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Client,
    Server,
}

/// The closing handshake (RFC 6455 §7), as tungstenite names its states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Active,
    /// We sent a close frame; the peer's may still come, after data.
    ClosedByUs,
    /// The peer sent one; our reply is queued.
    ClosedByPeer,
    /// Both sent one.
    CloseAcknowledged,
    /// Over.
    Terminated,
}

impl State {
    fn can_read(self) -> bool {
        matches!(self, State::Active | State::ClosedByUs)
    }
}

/// A control frame waiting to go out with the next read or write.
#[derive(Debug)]
enum Reply {
    Pong(Bytes),
    /// The close frame's payload (code and reason), echoed.
    Close(Bytes),
}

/// A message being received over several frames.
#[derive(Debug)]
struct Partial {
    text: bool,
    compressed: bool,
    data: Output,
    /// How much of `data` is known to be UTF-8 (text only).
    checked: usize,
    /// The payload bytes received so far.
    wire_len: usize,
}

/// One WebSocket connection's protocol state over its socket.
pub(crate) struct Connection {
    io: Socket,
    role: Role,
    read_buf: BytesMut,
    /// The header of the frame whose payload is still arriving, and its length.
    header: Option<(FrameHeader, usize)>,
    out: Vec<u8>,
    /// How much of `out` is written.
    out_pos: usize,
    /// Compression scratch space, kept between messages.
    scratch: Output,
    /// The reassembly and inflate buffer, kept between small messages.
    inflated: Output,
    max_message: usize,
    max_frame: usize,
    partial: Option<Partial>,
    deflate: Option<Box<Deflate>>,
    /// An outgoing fragmented message is in progress, compressed or not.
    sending: Option<bool>,
    reply: Option<Reply>,
    state: State,
    /// The `Stream` has ended.
    ended: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("deflate", &self.deflate)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection on `io` after the handshake; `read` holds bytes already read past
    /// the handshake.
    pub(crate) fn new(
        io: Socket,
        role: Role,
        limits: &Limits,
        deflate: Option<Deflate>,
        read: &[u8],
    ) -> Self {
        let mut read_buf = BytesMut::with_capacity(READ_CHUNK.max(read.len()));
        read_buf.extend_from_slice(read);
        Connection {
            io,
            role,
            read_buf,
            header: None,
            out: Vec::new(),
            out_pos: 0,
            scratch: Output::default(),
            inflated: Output::default(),
            max_message: limits.max_message_size.unwrap_or(usize::MAX),
            max_frame: limits.max_frame_size.unwrap_or(usize::MAX),
            partial: None,
            deflate: deflate.map(Box::new),
            sending: None,
            reply: None,
            state: State::Active,
            ended: false,
        }
    }

    fn poll_read_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, WsError>> {
        if self.state == State::Terminated {
            return Poll::Ready(Err(WsError::AlreadyClosed));
        }
        loop {
            if self.reply.is_some() || self.out_pos < self.out.len() {
                // Replies go out while reading; a blocked write does not stop reading.
                self.queue_reply()?;
                if let Poll::Ready(written) = self.poll_write_out(cx) {
                    written?;
                    let _ = Pin::new(&mut self.io).poll_flush(cx)?;
                }
            }
            if self.role == Role::Server
                && !self.state.can_read()
                && self.reply.is_none()
                && self.out_pos == self.out.len()
            {
                // RFC 6455 §7.1.1: the server closes the TCP connection first.
                self.state = State::Terminated;
                return Poll::Ready(Err(WsError::ConnectionClosed));
            }
            if let Some((header, payload)) = self.next_frame()? {
                if let Some(message) = self.on_frame(header, payload)? {
                    return Poll::Ready(Ok(message));
                }
                continue;
            }
            if self.read_buf.capacity() - self.read_buf.len() < READ_CHUNK / 2 {
                self.read_buf.reserve(READ_CHUNK);
            }
            // A large frame under way is read up to its end and no further (what came
            // after it would be moved to the buffer's front for the next one); else at
            // most two chunks, so that the bytes buffered when a large frame's header
            // is parsed — and copied when room is made for the frame — stay few.
            let missing = match &self.header {
                Some((_, length)) => length.saturating_sub(self.read_buf.len()),
                None => 0,
            };
            let mut limited = BufMut::limit(&mut self.read_buf, missing.max(2 * READ_CHUNK));
            let read = ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut self.io),
                cx,
                &mut limited
            ));
            match read {
                Ok(0) => {
                    let was = std::mem::replace(&mut self.state, State::Terminated);
                    return Poll::Ready(Err(match was {
                        State::ClosedByPeer | State::CloseAcknowledged => WsError::ConnectionClosed,
                        _ => WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                    }));
                }
                Ok(_) => {}
                Err(err) => return Poll::Ready(Err(self.io_error(err))),
            }
        }
    }

    /// A reset after the closing handshake is its end, not a failure.
    fn io_error(&mut self, err: io::Error) -> WsError {
        if err.kind() == io::ErrorKind::ConnectionReset
            && matches!(self.state, State::ClosedByPeer | State::CloseAcknowledged)
        {
            self.state = State::Terminated;
            WsError::ConnectionClosed
        } else {
            WsError::Io(err)
        }
    }

    /// The next whole frame in the read buffer, unmasked, if it has arrived.
    fn next_frame(&mut self) -> Result<Option<(FrameHeader, BytesMut)>, WsError> {
        if self.header.is_none() {
            if self.read_buf.len() < 2 {
                return Ok(None);
            }
            let mut cursor = Cursor::new(&self.read_buf[..]);
            let Some((header, length)) = FrameHeader::parse(&mut cursor)? else {
                return Ok(None);
            };
            let used = cursor.position() as usize;
            self.read_buf.advance(used);
            if length > self.max_frame as u64 {
                return Err(WsError::Capacity(CapacityError::MessageTooLong {
                    size: usize::try_from(length).unwrap_or(usize::MAX),
                    max_size: self.max_frame,
                }));
            }
            // Fits: it is at most max_frame, a usize.
            let length = length as usize;
            self.header = Some((header, length));
        }
        let Some((_, length)) = &self.header else {
            return Ok(None);
        };
        let length = *length;
        if self.read_buf.len() < length {
            let missing = length - self.read_buf.len();
            self.read_buf.reserve(missing.min(MAX_RESERVE));
            return Ok(None);
        }
        let Some((header, _)) = self.header.take() else {
            return Ok(None);
        };
        let mut payload = self.read_buf.split_to(length);
        if let Some(mask) = header.mask {
            apply_mask(&mut payload, mask);
        }
        Ok(Some((header, payload)))
    }

    /// RFC 6455 §5 and RFC 7692 §6: what a frame means; `Some` when a message is whole.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        payload: BytesMut,
    ) -> Result<Option<Message>, WsError> {
        if !self.state.can_read() {
            return Err(WsError::Protocol(ProtocolError::ReceivedAfterClosing));
        }
        if header.rsv2 || header.rsv3 {
            return Err(WsError::Protocol(ProtocolError::NonZeroReservedBits));
        }
        match (self.role, header.mask.is_some()) {
            (Role::Client, true) => {
                return Err(WsError::Protocol(ProtocolError::MaskedFrameFromServer))
            }
            (Role::Server, false) => {
                return Err(WsError::Protocol(ProtocolError::UnmaskedFrameFromClient))
            }
            _ => {}
        }
        let fin = header.is_final;
        match header.opcode {
            OpCode::Control(control) => {
                if header.rsv1 {
                    return Err(WsError::Protocol(ProtocolError::NonZeroReservedBits));
                }
                if !fin {
                    return Err(WsError::Protocol(ProtocolError::FragmentedControlFrame));
                }
                if payload.len() > 125 {
                    return Err(WsError::Protocol(ProtocolError::ControlFrameTooBig));
                }
                match control {
                    Control::Ping => {
                        let data = payload.freeze();
                        if self.state == State::Active
                            && !matches!(self.reply, Some(Reply::Close(_)))
                        {
                            self.reply = Some(Reply::Pong(data.clone()));
                        }
                        Ok(Some(Message::Ping(data)))
                    }
                    Control::Pong => Ok(Some(Message::Pong(payload.freeze()))),
                    Control::Close => self.on_close(payload.freeze()),
                    Control::Reserved(op) => Err(WsError::Protocol(
                        ProtocolError::UnknownControlFrameType(op),
                    )),
                }
            }
            OpCode::Data(data) => match (data, self.partial.is_some()) {
                (Data::Continue, false) => {
                    Err(WsError::Protocol(ProtocolError::UnexpectedContinueFrame))
                }
                (Data::Continue, true) => {
                    if header.rsv1 {
                        // RFC 7692 §6.1: RSV1 only on a message's first frame.
                        return Err(WsError::Protocol(ProtocolError::NonZeroReservedBits));
                    }
                    self.extend(&payload, fin)
                }
                (Data::Reserved(op), _) => {
                    Err(WsError::Protocol(ProtocolError::UnknownDataFrameType(op)))
                }
                (_, true) => Err(WsError::Protocol(ProtocolError::ExpectedFragment(data))),
                (Data::Text | Data::Binary, false) => {
                    let text = data == Data::Text;
                    if header.rsv1 && self.deflate.is_none() {
                        return Err(WsError::Protocol(ProtocolError::NonZeroReservedBits));
                    }
                    if fin && !header.rsv1 {
                        // The common case: the payload is the message, as it lies in the
                        // read buffer.
                        check_size(payload.len(), self.max_message)?;
                        let payload = payload.freeze();
                        return Ok(Some(if text {
                            Message::Text(Utf8Bytes::try_from(payload).map_err(utf8_error)?)
                        } else {
                            Message::Binary(payload)
                        }));
                    }
                    // Fragments are joined, and compressed messages inflated, in the kept
                    // buffer (see `extend`).
                    let mut data = std::mem::take(&mut self.inflated);
                    data.clear();
                    self.partial = Some(Partial {
                        text,
                        compressed: header.rsv1,
                        data,
                        checked: 0,
                        wire_len: 0,
                    });
                    self.extend(&payload, fin)
                }
            },
        }
    }

    /// Adds a frame's payload to the message being received.
    fn extend(&mut self, payload: &[u8], fin: bool) -> Result<Option<Message>, WsError> {
        let Some(partial) = &mut self.partial else {
            return Err(WsError::Protocol(ProtocolError::UnexpectedContinueFrame));
        };
        partial.wire_len += payload.len();
        if partial.compressed && !(fin && partial.wire_len == 0) {
            // (A compressed message with no payload at all is empty: with the tail put
            // back it would be an incomplete stored block.)
            let Some(deflate) = &mut self.deflate else {
                return Err(WsError::Protocol(ProtocolError::NonZeroReservedBits));
            };
            // The inflated size counts against the limit as it grows.
            deflate
                .decompress(payload, fin, &mut partial.data, self.max_message)
                .map_err(|err| match err {
                    InflateError::TooBig => WsError::Capacity(CapacityError::MessageTooLong {
                        size: partial.data.len(),
                        max_size: self.max_message,
                    }),
                    InflateError::Corrupt(why) => {
                        WsError::Utf8(format!("invalid compressed data: {why}"))
                    }
                })?;
        } else if !partial.compressed {
            check_size(
                partial.data.len().saturating_add(payload.len()),
                self.max_message,
            )?;
            partial.data.extend_from_slice(payload);
        }
        if !fin {
            if partial.text {
                // Fail fast on invalid UTF-8, without waiting for the message's end.
                match std::str::from_utf8(&partial.data.as_slice()[partial.checked..]) {
                    Ok(_) => partial.checked = partial.data.len(),
                    Err(err) if err.error_len().is_none() => partial.checked += err.valid_up_to(),
                    Err(_) => return Err(utf8_error(())),
                }
            }
            return Ok(None);
        }
        let Some(partial) = self.partial.take() else {
            return Ok(None);
        };
        let data = if partial.data.len() < KEEP_INFLATED {
            // Small messages are copied out at their size and the buffer is kept, so a
            // stream of them allocates (and zeroes) no buffer per message.
            let data = Bytes::copy_from_slice(partial.data.as_slice());
            self.inflated = partial.data;
            data
        } else {
            partial.data.into_bytes()
        };
        Ok(Some(if partial.text {
            Message::Text(Utf8Bytes::try_from(data).map_err(utf8_error)?)
        } else {
            Message::Binary(data)
        }))
    }

    /// RFC 6455 §5.5.1 and §7.1.5: a received close frame.
    fn on_close(&mut self, payload: Bytes) -> Result<Option<Message>, WsError> {
        let frame = match payload.len() {
            0 => None,
            1 => return Err(WsError::Protocol(ProtocolError::InvalidCloseSequence)),
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                let reason = Utf8Bytes::try_from(payload.slice(2..)).map_err(utf8_error)?;
                Some((code, reason))
            }
        };
        match self.state {
            State::Active => {
                self.state = State::ClosedByPeer;
                let (reply, frame) = match frame {
                    Some((code, _)) if !close::is_sendable(code) => {
                        let reason = "Protocol violation";
                        (
                            close_payload(close::PROTOCOL_ERROR, reason),
                            Some((close::PROTOCOL_ERROR, Utf8Bytes::from_static(reason))),
                        )
                    }
                    Some(frame) => (payload, Some(frame)),
                    None => (Bytes::new(), None),
                };
                self.reply = Some(Reply::Close(reply));
                Ok(Some(Message::Close(frame.map(to_close_frame))))
            }
            State::ClosedByUs => {
                self.state = State::CloseAcknowledged;
                Ok(Some(Message::Close(frame.map(to_close_frame))))
            }
            _ => Ok(None),
        }
    }

    /// Moves a pending reply into the output.
    fn queue_reply(&mut self) -> Result<(), WsError> {
        match self.reply.take() {
            Some(Reply::Pong(data)) => {
                self.write_frame(OpCode::Control(Control::Pong), &data, true, false)
            }
            Some(Reply::Close(data)) => {
                self.write_frame(OpCode::Control(Control::Close), &data, true, false)
            }
            None => Ok(()),
        }
    }

    /// Formats one frame into the output, masked on the client.
    fn write_frame(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        fin: bool,
        rsv1: bool,
    ) -> Result<(), WsError> {
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        } else if self.out_pos > WRITE_HIGH_WATER {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        let mask = match self.role {
            // RFC 6455 §5.3: a fresh, unpredictable key per frame.
            Role::Client => Some(fastrand::u32(..).to_ne_bytes()),
            Role::Server => None,
        };
        let header = FrameHeader {
            is_final: fin,
            rsv1,
            rsv2: false,
            rsv3: false,
            opcode,
            mask,
        };
        header.format(payload.len() as u64, &mut self.out)?;
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(mask) = mask {
            apply_mask(&mut self.out[start..], mask);
        }
        Ok(())
    }

    /// A data frame of a message: compressed when permessage-deflate is on (RSV1 on
    /// the first frame only).
    fn write_data(&mut self, data: Data, payload: &[u8], fin: bool) -> Result<(), WsError> {
        let compressed = match (data, self.sending) {
            (Data::Continue, Some(compressed)) => compressed,
            (Data::Continue, None) => {
                return Err(WsError::Protocol(ProtocolError::UnexpectedContinueFrame))
            }
            (_, Some(_)) => return Err(WsError::Protocol(ProtocolError::ExpectedFragment(data))),
            (_, None) => self.deflate.is_some(),
        };
        self.sending = if fin { None } else { Some(compressed) };
        let first = data != Data::Continue;
        match (&mut self.deflate, compressed) {
            (Some(deflate), true) => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                deflate.compress(payload, fin, &mut scratch);
                let written = self.write_frame(OpCode::Data(data), scratch.as_slice(), fin, first);
                if scratch.capacity() <= 4 * WRITE_HIGH_WATER {
                    self.scratch = scratch; // not kept after a very large message
                }
                written
            }
            _ => self.write_frame(OpCode::Data(data), payload, fin, false),
        }
    }

    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        while self.out_pos < self.out.len() {
            let n = match ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.out_pos..])) {
                Ok(n) => n,
                Err(err) => return Poll::Ready(Err(self.io_error(err))),
            };
            if n == 0 {
                return Poll::Ready(Err(WsError::Io(io::ErrorKind::WriteZero.into())));
            }
            self.out_pos += n;
        }
        self.out.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }

    /// Writes and flushes everything queued; on the server, after the closing
    /// handshake, the connection is then over.
    fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.queue_reply()?;
        ready!(self.poll_write_out(cx))?;
        if let Err(err) = ready!(Pin::new(&mut self.io).poll_flush(cx)) {
            return Poll::Ready(Err(self.io_error(err)));
        }
        if self.role == Role::Server && !self.state.can_read() {
            self.state = State::Terminated;
        }
        Poll::Ready(Ok(()))
    }
}

impl Stream for Connection {
    type Item = Result<Message, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match ready!(this.poll_read_message(cx)) {
            Ok(message) => Poll::Ready(Some(Ok(message))),
            Err(err) => {
                this.ended = true;
                if matches!(err, WsError::ConnectionClosed | WsError::AlreadyClosed) {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(err)))
                }
            }
        }
    }
}

impl Sink<Message> for Connection {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let this = self.get_mut();
        if this.out.len() - this.out_pos >= WRITE_HIGH_WATER {
            ready!(this.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), WsError> {
        let this = self.get_mut();
        if this.state == State::Terminated {
            return Err(WsError::AlreadyClosed);
        }
        if let Message::Close(frame) = message {
            if this.state == State::Active {
                this.state = State::ClosedByUs;
                let payload = match frame {
                    Some(frame) => close_payload(u16::from(frame.code), &frame.reason),
                    None => Bytes::new(),
                };
                this.reply = None; // a pending pong is not owed once closing
                this.write_frame(OpCode::Control(Control::Close), &payload, true, false)?;
            }
            return Ok(());
        }
        if this.state != State::Active {
            return Err(WsError::Protocol(ProtocolError::SendAfterClosing));
        }
        this.queue_reply()?;
        match message {
            Message::Text(text) => this.write_data(Data::Text, text.as_bytes(), true),
            Message::Binary(data) => this.write_data(Data::Binary, &data, true),
            Message::Ping(data) | Message::Pong(data) if data.len() > 125 => {
                Err(WsError::Protocol(ProtocolError::ControlFrameTooBig))
            }
            Message::Ping(data) => {
                this.write_frame(OpCode::Control(Control::Ping), &data, true, false)
            }
            Message::Pong(data) => {
                this.write_frame(OpCode::Control(Control::Pong), &data, true, false)
            }
            Message::Frame(frame) => {
                let header = frame.header().clone();
                match header.opcode {
                    OpCode::Data(data) => this.write_data(data, frame.payload(), header.is_final),
                    OpCode::Control(control) => {
                        this.write_frame(OpCode::Control(control), frame.payload(), true, false)
                    }
                }
            }
            Message::Close(_) => Ok(()),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let this = self.get_mut();
        if this.state == State::Active {
            this.state = State::ClosedByUs;
            this.write_frame(OpCode::Control(Control::Close), &[], true, false)?;
        }
        match ready!(this.poll_flush_all(cx)) {
            Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {}
            Err(err) => return Poll::Ready(Err(err)),
        }
        let _ = ready!(Pin::new(&mut this.io).poll_shutdown(cx));
        Poll::Ready(Ok(()))
    }
}

/// A close frame's payload: the code, big-endian, then the reason.
fn close_payload(code: u16, reason: &str) -> Bytes {
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    Bytes::from(payload)
}

fn to_close_frame(
    (code, reason): (u16, Utf8Bytes),
) -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason,
    }
}

fn check_size(size: usize, max_size: usize) -> Result<(), WsError> {
    if size > max_size {
        return Err(WsError::Capacity(CapacityError::MessageTooLong {
            size,
            max_size,
        }));
    }
    Ok(())
}

fn utf8_error<E>(_: E) -> WsError {
    WsError::Utf8("invalid UTF-8 in a text message or close reason".into())
}

/// RFC 6455 §5.3: XOR with the 4-byte key. 64 bytes at a time against the key repeated,
/// a loop the compiler turns into a few vector instructions (no `unsafe` alignment
/// tricks needed).
pub(crate) fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let mut block = [0u8; 64];
    for (i, byte) in block.iter_mut().enumerate() {
        *byte = mask[i & 3];
    }
    let mut chunks = data.chunks_exact_mut(64);
    for chunk in &mut chunks {
        for (byte, key) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= *key;
        }
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(block.iter()) {
        *byte ^= *key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_matches_the_byte_rule() {
        let mask = [0x6d, 0xb6, 0xb2, 0x80];
        for len in 0..200 {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut fast = data.clone();
            apply_mask(&mut fast, mask);
            let slow: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(fast, slow, "case {len}");
        }
    }
}
