//! HTTP/2 frames as typed values (HTTP2.jl `HTTP2.Frame`): [`encode`] a [`Frame`] into
//! bytes and [`decode`] one back, checking every rule of RFC 9113 §4–§6 that the frame
//! alone can check.
//!
//! Every frame starts with the 9-byte header of RFC 9113 §4.1: a 24-bit payload length,
//! an 8-bit type, 8 bits of flags, a reserved bit and a 31-bit stream identifier. What
//! [`decode`] checks:
//!
//! - the payload length against the receiver's `SETTINGS_MAX_FRAME_SIZE` (§4.2), before
//!   any of the payload is buffered, so a peer cannot make the reader hold more than
//!   `9 + max_frame_size` bytes for one frame;
//! - the length each type requires (PRIORITY 5, RST_STREAM 4, PING 8, WINDOW_UPDATE 4,
//!   SETTINGS a multiple of 6 and 0 with ACK, GOAWAY at least 8): `FRAME_SIZE_ERROR`;
//! - whether the type may, or must, be on stream 0 (§6.1–§6.10): `PROTOCOL_ERROR`;
//! - the pad length against the payload (§6.1, §6.2, §6.6): `PROTOCOL_ERROR`;
//! - SETTINGS values (§6.5.2): `ENABLE_PUSH` 0 or 1, `INITIAL_WINDOW_SIZE` at most
//!   2³¹−1 (`FLOW_CONTROL_ERROR`), `MAX_FRAME_SIZE` within 2¹⁴..2²⁴−1;
//! - a WINDOW_UPDATE increment of 0 (§6.9), a stream depending on itself (§5.3.1), a
//!   PUSH_PROMISE promising stream 0.
//!
//! Flags a type does not define are ignored, and the reserved bit of the stream identifier
//! (and of the WINDOW_UPDATE increment and the dependency fields) is masked off, as §4.1
//! requires of a receiver ("MUST be ignored"); [`encode`] always writes them as zero.
//! Frames of unknown type are kept whole as [`Frame::Unknown`] (§4.1: "MUST ignore and
//! discard"; the session does the discarding).
//!
//! Header blocks stay bytes here: joining HEADERS/PUSH_PROMISE with their CONTINUATION
//! frames and running HPACK is the session's work (§4.3), because only it knows the
//! connection's compression context.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use httpstack::h2::frame::{self, DataFrame, Frame};
//!
//! let mut buf = BytesMut::new();
//! frame::encode(&Frame::Data(DataFrame::new(1, Bytes::from_static(b"hello"), true)), &mut buf);
//! let frame = frame::decode(&mut buf, frame::DEFAULT_MAX_FRAME_SIZE)?.expect("a whole frame");
//! assert_eq!(frame, Frame::Data(DataFrame::new(1, Bytes::from_static(b"hello"), true)));
//! assert!(buf.is_empty());
//! # Ok::<(), httpstack::h2::frame::FrameError>(())
//! ```

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The size of the frame header (RFC 9113 §4.1).
pub const HEADER_LEN: usize = 9;
/// `SETTINGS_MAX_FRAME_SIZE`'s initial value, and its smallest allowed one (§6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;
/// The largest `SETTINGS_MAX_FRAME_SIZE` a peer may set (§6.5.2).
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;
/// The largest flow-control window (§6.9.1).
pub const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;

const STREAM_ID_MASK: u32 = 0x7fff_ffff;

/// An HTTP/2 error code (RFC 9113 §7), as carried by RST_STREAM and GOAWAY. Codes this
/// crate does not name are kept as they are (§7: "MUST NOT trigger any special behavior").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// Graceful shutdown, or no error.
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    /// An unspecific protocol error.
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    /// An unexpected internal error.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    /// The peer broke flow control.
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    /// A SETTINGS frame was not acknowledged in time.
    pub const SETTINGS_TIMEOUT: ErrorCode = ErrorCode(0x4);
    /// A frame arrived after the stream was half-closed.
    pub const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    /// A frame had an invalid size.
    pub const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    /// The stream was refused before any processing.
    pub const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    /// The stream is no longer needed.
    pub const CANCEL: ErrorCode = ErrorCode(0x8);
    /// The field-compression context cannot be kept.
    pub const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    /// The CONNECT tunnel failed.
    pub const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);
    /// The peer generates excessive load.
    pub const ENHANCE_YOUR_CALM: ErrorCode = ErrorCode(0xb);
    /// The transport does not meet the security requirements.
    pub const INADEQUATE_SECURITY: ErrorCode = ErrorCode(0xc);
    /// HTTP/1.1 is required for this request.
    pub const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    /// The RFC's name for this code, if it has one.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 14] = [
            "NO_ERROR",
            "PROTOCOL_ERROR",
            "INTERNAL_ERROR",
            "FLOW_CONTROL_ERROR",
            "SETTINGS_TIMEOUT",
            "STREAM_CLOSED",
            "FRAME_SIZE_ERROR",
            "REFUSED_STREAM",
            "CANCEL",
            "COMPRESSION_ERROR",
            "CONNECT_ERROR",
            "ENHANCE_YOUR_CALM",
            "INADEQUATE_SECURITY",
            "HTTP_1_1_REQUIRED",
        ];
        NAMES.get(self.0 as usize).copied()
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "unknown error code {:#x}", self.0),
        }
    }
}

/// Frame type codes (RFC 9113 §6, table in §11.2).
pub mod kind {
    /// DATA (§6.1).
    pub const DATA: u8 = 0x0;
    /// HEADERS (§6.2).
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY (§6.3).
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS (§6.5).
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING (§6.7).
    pub const PING: u8 = 0x6;
    /// GOAWAY (§6.8).
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: u8 = 0x9;
}

mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// The priority fields of HEADERS and PRIORITY (RFC 9113 §5.3.2, §6.3). RFC 9113
/// deprecates this scheme; the fields are still parsed, checked and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrioritySpec {
    /// The E flag: an exclusive dependency.
    pub exclusive: bool,
    /// The stream this one depends on.
    pub dependency: u32,
    /// The weight minus one, as on the wire (0..=255 means 1..=256).
    pub weight: u8,
}

/// DATA (RFC 9113 §6.1): a piece of a stream's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFrame {
    /// The stream (never 0).
    pub stream_id: u32,
    /// The content, without padding.
    pub data: Bytes,
    /// END_STREAM: the sender's last frame on the stream.
    pub end_stream: bool,
    /// The padding length when PADDED is set.
    pub padding: Option<u8>,
}

impl DataFrame {
    /// A DATA frame without padding.
    pub fn new(stream_id: u32, data: Bytes, end_stream: bool) -> DataFrame {
        DataFrame {
            stream_id,
            data,
            end_stream,
            padding: None,
        }
    }

    /// The bytes this frame counts against flow-control windows: the whole payload,
    /// padding included (§6.9.1).
    pub fn flow_len(&self) -> usize {
        self.data.len() + self.padding.map_or(0, |pad| 1 + pad as usize)
    }
}

/// HEADERS (RFC 9113 §6.2): opens a stream or carries trailers; a header block fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadersFrame {
    /// The stream (never 0).
    pub stream_id: u32,
    /// The HPACK-encoded field block fragment.
    pub block: Bytes,
    /// END_STREAM.
    pub end_stream: bool,
    /// END_HEADERS: no CONTINUATION follows.
    pub end_headers: bool,
    /// The PRIORITY fields when that flag is set.
    pub priority: Option<PrioritySpec>,
    /// The padding length when PADDED is set.
    pub padding: Option<u8>,
}

impl HeadersFrame {
    /// A HEADERS frame without priority or padding.
    pub fn new(stream_id: u32, block: Bytes, end_stream: bool, end_headers: bool) -> Self {
        HeadersFrame {
            stream_id,
            block,
            end_stream,
            end_headers,
            priority: None,
            padding: None,
        }
    }
}

/// PRIORITY (RFC 9113 §6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityFrame {
    /// The stream (never 0).
    pub stream_id: u32,
    /// The priority fields.
    pub priority: PrioritySpec,
}

/// RST_STREAM (RFC 9113 §6.4): ends a stream at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RstStreamFrame {
    /// The stream (never 0).
    pub stream_id: u32,
    /// Why.
    pub code: ErrorCode,
}

/// One SETTINGS parameter (RFC 9113 §6.5.1). Unknown identifiers are kept; a receiver
/// ignores them (§6.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The identifier.
    pub id: u16,
    /// The value.
    pub value: u32,
}

impl Setting {
    /// `SETTINGS_HEADER_TABLE_SIZE`.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// `SETTINGS_ENABLE_PUSH`.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    /// `SETTINGS_INITIAL_WINDOW_SIZE`.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    /// `SETTINGS_MAX_FRAME_SIZE`.
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    /// `SETTINGS_MAX_HEADER_LIST_SIZE`.
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;

    /// A parameter.
    pub fn new(id: u16, value: u32) -> Setting {
        Setting { id, value }
    }
}

/// SETTINGS (RFC 9113 §6.5), or its acknowledgement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsFrame {
    /// ACK: acknowledges the peer's SETTINGS; has no parameters.
    pub ack: bool,
    /// The parameters, in order.
    pub params: Vec<Setting>,
}

/// PUSH_PROMISE (RFC 9113 §6.6): a server reserves a stream for a response it will push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushPromiseFrame {
    /// The stream the promise is associated with.
    pub stream_id: u32,
    /// The stream being reserved.
    pub promised_stream_id: u32,
    /// The HPACK-encoded request field block fragment.
    pub block: Bytes,
    /// END_HEADERS.
    pub end_headers: bool,
    /// The padding length when PADDED is set.
    pub padding: Option<u8>,
}

/// PING (RFC 9113 §6.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingFrame {
    /// ACK: the answer to a PING.
    pub ack: bool,
    /// Opaque data, echoed in the answer.
    pub data: [u8; 8],
}

/// GOAWAY (RFC 9113 §6.8): the connection is shutting down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoAwayFrame {
    /// The last peer-initiated stream the sender may have processed.
    pub last_stream_id: u32,
    /// Why.
    pub code: ErrorCode,
    /// Opaque diagnostic data.
    pub debug: Bytes,
}

/// WINDOW_UPDATE (RFC 9113 §6.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowUpdateFrame {
    /// The stream, or 0 for the connection window.
    pub stream_id: u32,
    /// The increment, 1..=2³¹−1.
    pub increment: u32,
}

/// CONTINUATION (RFC 9113 §6.10): more of a header block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinuationFrame {
    /// The stream (never 0).
    pub stream_id: u32,
    /// The field block fragment.
    pub block: Bytes,
    /// END_HEADERS.
    pub end_headers: bool,
}

/// A frame of a type RFC 9113 does not define, kept whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFrame {
    /// The type code.
    pub kind: u8,
    /// The flags, as received.
    pub flags: u8,
    /// The stream identifier.
    pub stream_id: u32,
    /// The payload.
    pub payload: Bytes,
}

/// One HTTP/2 frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// DATA.
    Data(DataFrame),
    /// HEADERS.
    Headers(HeadersFrame),
    /// PRIORITY.
    Priority(PriorityFrame),
    /// RST_STREAM.
    RstStream(RstStreamFrame),
    /// SETTINGS.
    Settings(SettingsFrame),
    /// PUSH_PROMISE.
    PushPromise(PushPromiseFrame),
    /// PING.
    Ping(PingFrame),
    /// GOAWAY.
    GoAway(GoAwayFrame),
    /// WINDOW_UPDATE.
    WindowUpdate(WindowUpdateFrame),
    /// CONTINUATION.
    Continuation(ContinuationFrame),
    /// A type this crate does not know.
    Unknown(UnknownFrame),
}

impl Frame {
    /// The frame's stream identifier (0 for connection frames).
    pub fn stream_id(&self) -> u32 {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::PushPromise(f) => f.stream_id,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::Unknown(f) => f.stream_id,
            Frame::Settings(_) | Frame::Ping(_) | Frame::GoAway(_) => 0,
        }
    }

    /// The frame's type code.
    pub fn kind(&self) -> u8 {
        match self {
            Frame::Data(_) => kind::DATA,
            Frame::Headers(_) => kind::HEADERS,
            Frame::Priority(_) => kind::PRIORITY,
            Frame::RstStream(_) => kind::RST_STREAM,
            Frame::Settings(_) => kind::SETTINGS,
            Frame::PushPromise(_) => kind::PUSH_PROMISE,
            Frame::Ping(_) => kind::PING,
            Frame::GoAway(_) => kind::GOAWAY,
            Frame::WindowUpdate(_) => kind::WINDOW_UPDATE,
            Frame::Continuation(_) => kind::CONTINUATION,
            Frame::Unknown(f) => f.kind,
        }
    }
}

/// Whether a decode error ends the connection or only the stream (RFC 9113 §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorScope {
    /// A connection error: answer with GOAWAY and close.
    Connection,
    /// A stream error: answer with RST_STREAM on [`FrameError::stream_id`]; the frame's
    /// bytes were consumed and the connection goes on.
    Stream,
}

/// What rule a frame broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameErrorKind {
    /// The payload is longer than `SETTINGS_MAX_FRAME_SIZE` (§4.2).
    TooLarge {
        /// The announced payload length.
        length: u32,
        /// The receiver's limit.
        max: u32,
    },
    /// The payload length is wrong for the type (§6).
    BadLength,
    /// The type must not be on stream 0 (§6.1–§6.4, §6.6, §6.10).
    StreamIdZero,
    /// The type must be on stream 0 (§6.5, §6.7, §6.8).
    StreamIdNotZero,
    /// The pad length is the payload length or more (§6.1, §6.2, §6.6).
    PaddingTooLong,
    /// A stream depends on itself (§5.3.1).
    SelfDependency,
    /// A WINDOW_UPDATE with an increment of 0 (§6.9).
    ZeroIncrement,
    /// A PUSH_PROMISE promising stream 0 (§6.6).
    PromisedStreamZero,
    /// A SETTINGS value out of range (§6.5.2).
    BadSetting {
        /// The parameter.
        id: u16,
        /// Its value.
        value: u32,
    },
}

/// A frame that breaks a rule of RFC 9113, with the error code the RFC gives and where it
/// was: the frame's type and stream, and the offset of the offending field from the first
/// byte of the frame header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code} in frame type {frame_type:#x} on stream {stream_id} at byte {offset}: {kind:?}")]
pub struct FrameError {
    /// The RFC 9113 §7 error code to send.
    pub code: ErrorCode,
    /// Connection or stream error.
    pub scope: ErrorScope,
    /// The rule broken.
    pub kind: FrameErrorKind,
    /// The frame's type code.
    pub frame_type: u8,
    /// The frame's stream identifier.
    pub stream_id: u32,
    /// The offending field's offset from the start of the frame header.
    pub offset: usize,
}

/// Appends `frame`'s wire form to `dst`.
///
/// The caller keeps the frame within the peer's `SETTINGS_MAX_FRAME_SIZE` (the session
/// splits header blocks and data to fit); padding is written as zeros (§6.1).
///
/// ```
/// use bytes::BytesMut;
/// use httpstack::h2::frame::{encode, Frame, PingFrame};
///
/// let mut buf = BytesMut::new();
/// encode(&Frame::Ping(PingFrame { ack: false, data: *b"12345678" }), &mut buf);
/// assert_eq!(&buf[..9], &[0, 0, 8, 6, 0, 0, 0, 0, 0]);
/// ```
pub fn encode(frame: &Frame, dst: &mut BytesMut) {
    match frame {
        Frame::Data(f) => {
            let mut flags = if f.end_stream { flag::END_STREAM } else { 0 };
            if f.padding.is_some() {
                flags |= flag::PADDED;
            }
            head(dst, f.flow_len(), kind::DATA, flags, f.stream_id);
            padded(dst, f.padding, &f.data);
        }
        Frame::Headers(f) => {
            let mut flags = 0;
            if f.end_stream {
                flags |= flag::END_STREAM;
            }
            if f.end_headers {
                flags |= flag::END_HEADERS;
            }
            if f.padding.is_some() {
                flags |= flag::PADDED;
            }
            if f.priority.is_some() {
                flags |= flag::PRIORITY;
            }
            let len = f.block.len()
                + f.padding.map_or(0, |p| 1 + p as usize)
                + if f.priority.is_some() { 5 } else { 0 };
            head(dst, len, kind::HEADERS, flags, f.stream_id);
            if let Some(pad) = f.padding {
                dst.put_u8(pad);
            }
            if let Some(p) = f.priority {
                put_priority(dst, p);
            }
            dst.extend_from_slice(&f.block);
            if let Some(pad) = f.padding {
                dst.put_bytes(0, pad as usize);
            }
        }
        Frame::Priority(f) => {
            head(dst, 5, kind::PRIORITY, 0, f.stream_id);
            put_priority(dst, f.priority);
        }
        Frame::RstStream(f) => {
            head(dst, 4, kind::RST_STREAM, 0, f.stream_id);
            dst.put_u32(f.code.0);
        }
        Frame::Settings(f) => {
            let flags = if f.ack { flag::ACK } else { 0 };
            head(dst, f.params.len() * 6, kind::SETTINGS, flags, 0);
            for s in &f.params {
                dst.put_u16(s.id);
                dst.put_u32(s.value);
            }
        }
        Frame::PushPromise(f) => {
            let mut flags = if f.end_headers { flag::END_HEADERS } else { 0 };
            if f.padding.is_some() {
                flags |= flag::PADDED;
            }
            let len = 4 + f.block.len() + f.padding.map_or(0, |p| 1 + p as usize);
            head(dst, len, kind::PUSH_PROMISE, flags, f.stream_id);
            if let Some(pad) = f.padding {
                dst.put_u8(pad);
            }
            dst.put_u32(f.promised_stream_id & STREAM_ID_MASK);
            dst.extend_from_slice(&f.block);
            if let Some(pad) = f.padding {
                dst.put_bytes(0, pad as usize);
            }
        }
        Frame::Ping(f) => {
            head(dst, 8, kind::PING, if f.ack { flag::ACK } else { 0 }, 0);
            dst.extend_from_slice(&f.data);
        }
        Frame::GoAway(f) => {
            head(dst, 8 + f.debug.len(), kind::GOAWAY, 0, 0);
            dst.put_u32(f.last_stream_id & STREAM_ID_MASK);
            dst.put_u32(f.code.0);
            dst.extend_from_slice(&f.debug);
        }
        Frame::WindowUpdate(f) => {
            head(dst, 4, kind::WINDOW_UPDATE, 0, f.stream_id);
            dst.put_u32(f.increment & STREAM_ID_MASK);
        }
        Frame::Continuation(f) => {
            let flags = if f.end_headers { flag::END_HEADERS } else { 0 };
            head(dst, f.block.len(), kind::CONTINUATION, flags, f.stream_id);
            dst.extend_from_slice(&f.block);
        }
        Frame::Unknown(f) => {
            head(dst, f.payload.len(), f.kind, f.flags, f.stream_id);
            dst.extend_from_slice(&f.payload);
        }
    }
}

fn head(dst: &mut BytesMut, len: usize, kind: u8, flags: u8, stream_id: u32) {
    dst.reserve(HEADER_LEN + len);
    // 24-bit length: the session never builds a longer payload (it splits at the peer's
    // MAX_FRAME_SIZE, at most 2^24-1), so the top byte is dropped by design.
    let len = len as u32;
    dst.put_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
    dst.put_u32(stream_id & STREAM_ID_MASK);
}

fn padded(dst: &mut BytesMut, padding: Option<u8>, data: &[u8]) {
    if let Some(pad) = padding {
        dst.put_u8(pad);
    }
    dst.extend_from_slice(data);
    if let Some(pad) = padding {
        dst.put_bytes(0, pad as usize);
    }
}

fn put_priority(dst: &mut BytesMut, p: PrioritySpec) {
    let dep = (p.dependency & STREAM_ID_MASK) | if p.exclusive { 1 << 31 } else { 0 };
    dst.put_u32(dep);
    dst.put_u8(p.weight);
}

/// Decodes one frame from the front of `src`, consuming its bytes.
///
/// Returns `Ok(None)` when `src` does not yet hold a whole frame (nothing is consumed;
/// read more and call again). `max_frame_size` is the receiver's
/// `SETTINGS_MAX_FRAME_SIZE`: a longer frame is refused as soon as its 9-byte header is
/// in, so a reader never needs to buffer more than `9 + max_frame_size` bytes. Decoding
/// never grows `src` (the payload is split off it, not copied); the only allocation is a
/// SETTINGS frame's parameter list, bounded by the frame's length.
///
/// # Errors
///
/// A [`FrameError`] for a frame that breaks a rule of RFC 9113 §4–§6 (see the module
/// doc). For a [`ErrorScope::Stream`] error the frame's bytes have been consumed and the
/// next call decodes the next frame; after a connection error the buffer's state is
/// unspecified and the connection must end.
///
/// ```
/// use bytes::BytesMut;
/// use httpstack::h2::frame::{decode, ErrorCode, DEFAULT_MAX_FRAME_SIZE};
///
/// // A PING frame on stream 1: PING belongs to the connection (RFC 9113 §6.7).
/// let mut buf = BytesMut::from(&[0, 0, 8, 6, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8][..]);
/// let err = decode(&mut buf, DEFAULT_MAX_FRAME_SIZE).unwrap_err();
/// assert_eq!(err.code, ErrorCode::PROTOCOL_ERROR);
/// assert_eq!(err.stream_id, 1);
///
/// // Half a frame: more bytes are needed.
/// let mut buf = BytesMut::from(&[0, 0, 8, 6, 0][..]);
/// assert_eq!(decode(&mut buf, DEFAULT_MAX_FRAME_SIZE), Ok(None));
/// ```
pub fn decode(src: &mut BytesMut, max_frame_size: u32) -> Result<Option<Frame>, FrameError> {
    if src.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = (u32::from(src[0]) << 16) | (u32::from(src[1]) << 8) | u32::from(src[2]);
    let kind = src[3];
    let flags = src[4];
    // RFC 9113 §4.1: the reserved bit "MUST be ignored when receiving".
    let stream_id = u32::from_be_bytes([src[5], src[6], src[7], src[8]]) & STREAM_ID_MASK;
    let at =
        |offset: usize, code: ErrorCode, scope: ErrorScope, kind_: FrameErrorKind| FrameError {
            code,
            scope,
            kind: kind_,
            frame_type: kind,
            stream_id,
            offset,
        };
    if len > max_frame_size {
        // §4.2: a frame that may alter connection state (or any frame here, since the
        // reader cannot skip it cheaply) is a connection error.
        return Err(at(
            0,
            ErrorCode::FRAME_SIZE_ERROR,
            ErrorScope::Connection,
            FrameErrorKind::TooLarge {
                length: len,
                max: max_frame_size,
            },
        ));
    }
    let total = HEADER_LEN + len as usize;
    if src.len() < total {
        // The caller reads more; decode never grows the buffer itself.
        return Ok(None);
    }
    let mut frame = src.split_to(total);
    frame.advance(HEADER_LEN);
    let mut payload = frame.freeze();
    let len = len as usize;

    let conn = |offset, code, k| at(offset, code, ErrorScope::Connection, k);
    let size_error = |offset| {
        conn(
            offset,
            ErrorCode::FRAME_SIZE_ERROR,
            FrameErrorKind::BadLength,
        )
    };
    let need_stream = || {
        if stream_id == 0 {
            Err(conn(
                5,
                ErrorCode::PROTOCOL_ERROR,
                FrameErrorKind::StreamIdZero,
            ))
        } else {
            Ok(())
        }
    };
    let need_zero = || {
        if stream_id != 0 {
            Err(conn(
                5,
                ErrorCode::PROTOCOL_ERROR,
                FrameErrorKind::StreamIdNotZero,
            ))
        } else {
            Ok(())
        }
    };
    // Strips PADDED's pad-length byte and padding (§6.1): the pad length must leave room
    // for what the type needs besides (`fixed` bytes).
    let unpad = |payload: &mut Bytes, fixed: usize| -> Result<Option<u8>, FrameError> {
        if flags & flag::PADDED == 0 {
            return Ok(None);
        }
        if payload.is_empty() {
            return Err(size_error(HEADER_LEN));
        }
        let pad = payload[0];
        if pad as usize + fixed >= payload.len() {
            return Err(conn(
                HEADER_LEN,
                ErrorCode::PROTOCOL_ERROR,
                FrameErrorKind::PaddingTooLong,
            ));
        }
        payload.advance(1);
        payload.truncate(payload.len() - pad as usize);
        Ok(Some(pad))
    };
    let priority_of = |b: &[u8]| PrioritySpec {
        exclusive: b[0] & 0x80 != 0,
        dependency: u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & STREAM_ID_MASK,
        weight: b[4],
    };

    let frame = match kind {
        kind::DATA => {
            need_stream()?;
            let padding = unpad(&mut payload, 0)?;
            Frame::Data(DataFrame {
                stream_id,
                data: payload,
                end_stream: flags & flag::END_STREAM != 0,
                padding,
            })
        }
        kind::HEADERS => {
            need_stream()?;
            let has_priority = flags & flag::PRIORITY != 0;
            let fixed = if has_priority { 5 } else { 0 };
            let padding = unpad(&mut payload, fixed)?;
            if payload.len() < fixed {
                return Err(size_error(HEADER_LEN));
            }
            let priority = if has_priority {
                let p = priority_of(&payload[..5]);
                payload.advance(5);
                if p.dependency == stream_id {
                    return Err(at(
                        HEADER_LEN + usize::from(padding.is_some()),
                        ErrorCode::PROTOCOL_ERROR,
                        ErrorScope::Stream,
                        FrameErrorKind::SelfDependency,
                    ));
                }
                Some(p)
            } else {
                None
            };
            Frame::Headers(HeadersFrame {
                stream_id,
                block: payload,
                end_stream: flags & flag::END_STREAM != 0,
                end_headers: flags & flag::END_HEADERS != 0,
                priority,
                padding,
            })
        }
        kind::PRIORITY => {
            need_stream()?;
            if len != 5 {
                // §6.3: a stream error, not a connection one.
                return Err(at(
                    0,
                    ErrorCode::FRAME_SIZE_ERROR,
                    ErrorScope::Stream,
                    FrameErrorKind::BadLength,
                ));
            }
            let priority = priority_of(&payload);
            if priority.dependency == stream_id {
                return Err(at(
                    HEADER_LEN,
                    ErrorCode::PROTOCOL_ERROR,
                    ErrorScope::Stream,
                    FrameErrorKind::SelfDependency,
                ));
            }
            Frame::Priority(PriorityFrame {
                stream_id,
                priority,
            })
        }
        kind::RST_STREAM => {
            need_stream()?;
            if len != 4 {
                return Err(size_error(0));
            }
            Frame::RstStream(RstStreamFrame {
                stream_id,
                code: ErrorCode(payload.get_u32()),
            })
        }
        kind::SETTINGS => {
            need_zero()?;
            let ack = flags & flag::ACK != 0;
            if (ack && len != 0) || !len.is_multiple_of(6) {
                return Err(size_error(0));
            }
            let mut params = Vec::with_capacity(len / 6);
            for i in 0..len / 6 {
                let id = payload.get_u16();
                let value = payload.get_u32();
                let offset = HEADER_LEN + i * 6;
                let bad = |code| Err(conn(offset, code, FrameErrorKind::BadSetting { id, value }));
                match id {
                    Setting::ENABLE_PUSH if value > 1 => return bad(ErrorCode::PROTOCOL_ERROR),
                    Setting::INITIAL_WINDOW_SIZE if value > MAX_WINDOW_SIZE => {
                        return bad(ErrorCode::FLOW_CONTROL_ERROR)
                    }
                    Setting::MAX_FRAME_SIZE
                        if !(DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
                    {
                        return bad(ErrorCode::PROTOCOL_ERROR)
                    }
                    _ => {}
                }
                params.push(Setting { id, value });
            }
            Frame::Settings(SettingsFrame { ack, params })
        }
        kind::PUSH_PROMISE => {
            need_stream()?;
            let padding = unpad(&mut payload, 4)?;
            if payload.len() < 4 {
                return Err(size_error(HEADER_LEN));
            }
            let promised_stream_id = payload.get_u32() & STREAM_ID_MASK;
            if promised_stream_id == 0 {
                return Err(conn(
                    HEADER_LEN + usize::from(padding.is_some()),
                    ErrorCode::PROTOCOL_ERROR,
                    FrameErrorKind::PromisedStreamZero,
                ));
            }
            Frame::PushPromise(PushPromiseFrame {
                stream_id,
                promised_stream_id,
                block: payload,
                end_headers: flags & flag::END_HEADERS != 0,
                padding,
            })
        }
        kind::PING => {
            need_zero()?;
            if len != 8 {
                return Err(size_error(0));
            }
            let mut data = [0; 8];
            data.copy_from_slice(&payload);
            Frame::Ping(PingFrame {
                ack: flags & flag::ACK != 0,
                data,
            })
        }
        kind::GOAWAY => {
            need_zero()?;
            if len < 8 {
                return Err(size_error(0));
            }
            let last_stream_id = payload.get_u32() & STREAM_ID_MASK;
            let code = ErrorCode(payload.get_u32());
            Frame::GoAway(GoAwayFrame {
                last_stream_id,
                code,
                debug: payload,
            })
        }
        kind::WINDOW_UPDATE => {
            if len != 4 {
                return Err(size_error(0));
            }
            let increment = payload.get_u32() & STREAM_ID_MASK;
            if increment == 0 {
                // §6.9: a stream error on a stream, a connection error on stream 0.
                let scope = if stream_id == 0 {
                    ErrorScope::Connection
                } else {
                    ErrorScope::Stream
                };
                return Err(at(
                    HEADER_LEN,
                    ErrorCode::PROTOCOL_ERROR,
                    scope,
                    FrameErrorKind::ZeroIncrement,
                ));
            }
            Frame::WindowUpdate(WindowUpdateFrame {
                stream_id,
                increment,
            })
        }
        kind::CONTINUATION => {
            need_stream()?;
            Frame::Continuation(ContinuationFrame {
                stream_id,
                block: payload,
                end_headers: flags & flag::END_HEADERS != 0,
            })
        }
        _ => Frame::Unknown(UnknownFrame {
            kind,
            flags,
            stream_id,
            payload,
        }),
    };
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip_frames() -> Vec<Frame> {
        let prio = PrioritySpec {
            exclusive: true,
            dependency: 3,
            weight: 200,
        };
        vec![
            Frame::Data(DataFrame::new(1, Bytes::from_static(b"abc"), false)),
            Frame::Data(DataFrame {
                stream_id: 7,
                data: Bytes::from_static(b"padded"),
                end_stream: true,
                padding: Some(4),
            }),
            Frame::Data(DataFrame::new(9, Bytes::new(), true)),
            Frame::Headers(HeadersFrame {
                stream_id: 5,
                block: Bytes::from_static(b"\x82\x86"),
                end_stream: true,
                end_headers: false,
                priority: Some(prio),
                padding: Some(2),
            }),
            Frame::Headers(HeadersFrame::new(
                1,
                Bytes::from_static(b"\x88"),
                false,
                true,
            )),
            Frame::Priority(PriorityFrame {
                stream_id: 11,
                priority: prio,
            }),
            Frame::RstStream(RstStreamFrame {
                stream_id: 3,
                code: ErrorCode::CANCEL,
            }),
            Frame::Settings(SettingsFrame {
                ack: false,
                params: vec![
                    Setting::new(Setting::MAX_CONCURRENT_STREAMS, 100),
                    Setting::new(0x99, 7),
                ],
            }),
            Frame::Settings(SettingsFrame {
                ack: true,
                params: vec![],
            }),
            Frame::PushPromise(PushPromiseFrame {
                stream_id: 1,
                promised_stream_id: 2,
                block: Bytes::from_static(b"\x82"),
                end_headers: true,
                padding: Some(1),
            }),
            Frame::Ping(PingFrame {
                ack: true,
                data: *b"pingpong",
            }),
            Frame::GoAway(GoAwayFrame {
                last_stream_id: 99,
                code: ErrorCode::ENHANCE_YOUR_CALM,
                debug: Bytes::from_static(b"calm down"),
            }),
            Frame::WindowUpdate(WindowUpdateFrame {
                stream_id: 0,
                increment: MAX_WINDOW_SIZE,
            }),
            Frame::Continuation(ContinuationFrame {
                stream_id: 5,
                block: Bytes::from_static(b"\x84"),
                end_headers: true,
            }),
            Frame::Unknown(UnknownFrame {
                kind: 0xfa,
                flags: 0xff,
                stream_id: 3,
                payload: Bytes::from_static(b"whatever"),
            }),
        ]
    }

    #[test]
    fn every_frame_roundtrips() {
        for frame in roundtrip_frames() {
            let mut buf = BytesMut::new();
            encode(&frame, &mut buf);
            let decoded = decode(&mut buf, DEFAULT_MAX_FRAME_SIZE);
            assert_eq!(decoded, Ok(Some(frame.clone())), "{frame:?}");
            assert!(buf.is_empty());
        }
    }

    /// Every frame, in one stream, split at every offset: decode must wait for the rest
    /// and then give the same frames.
    #[test]
    fn decode_split_at_every_offset() {
        let frames = roundtrip_frames();
        let mut wire = BytesMut::new();
        for frame in &frames {
            encode(frame, &mut wire);
        }
        for cut in 0..=wire.len() {
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                buf.extend_from_slice(part);
                while let Some(frame) = decode(&mut buf, DEFAULT_MAX_FRAME_SIZE).unwrap() {
                    out.push(frame);
                }
            }
            assert_eq!(out, frames, "cut at {cut}");
            assert!(buf.is_empty());
        }
    }

    fn raw(len: u32, kind: u8, flags: u8, stream: u32, payload: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_slice(&len.to_be_bytes()[1..]);
        b.put_u8(kind);
        b.put_u8(flags);
        b.put_u32(stream);
        b.put_slice(payload);
        b
    }

    #[test]
    fn rule_violations_give_the_rfc_code() {
        use ErrorCode as C;
        use ErrorScope::*;
        use FrameErrorKind as K;
        let p5 = [0u8, 0, 0, 3, 16];
        #[rustfmt::skip]
        let cases: Vec<(&str, BytesMut, ErrorCode, ErrorScope, FrameErrorKind)> = vec![
            ("DATA on stream 0", raw(1, 0, 0, 0, b"x"), C::PROTOCOL_ERROR, Connection, K::StreamIdZero),
            ("DATA padding = length", raw(3, 0, 0x8, 1, &[3, 0, 0]), C::PROTOCOL_ERROR, Connection, K::PaddingTooLong),
            ("DATA padded, empty", raw(0, 0, 0x8, 1, &[]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("HEADERS on stream 0", raw(1, 1, 0x4, 0, b"\x82"), C::PROTOCOL_ERROR, Connection, K::StreamIdZero),
            ("HEADERS priority too short", raw(3, 1, 0x24, 1, &[0, 0, 0]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("HEADERS padding eats priority", raw(6, 1, 0x2c, 1, &[1, 0, 0, 0, 3, 16]), C::PROTOCOL_ERROR, Connection, K::PaddingTooLong),
            ("HEADERS depends on itself", raw(5, 1, 0x24, 3, &p5), C::PROTOCOL_ERROR, Stream, K::SelfDependency),
            ("PRIORITY length 4", raw(4, 2, 0, 1, &[0, 0, 0, 0]), C::FRAME_SIZE_ERROR, Stream, K::BadLength),
            ("PRIORITY on stream 0", raw(5, 2, 0, 0, &p5), C::PROTOCOL_ERROR, Connection, K::StreamIdZero),
            ("PRIORITY on itself", raw(5, 2, 0, 3, &p5), C::PROTOCOL_ERROR, Stream, K::SelfDependency),
            ("RST_STREAM length 3", raw(3, 3, 0, 1, &[0, 0, 0]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("RST_STREAM on stream 0", raw(4, 3, 0, 0, &[0, 0, 0, 8]), C::PROTOCOL_ERROR, Connection, K::StreamIdZero),
            ("SETTINGS on stream 1", raw(0, 4, 0, 1, &[]), C::PROTOCOL_ERROR, Connection, K::StreamIdNotZero),
            ("SETTINGS length 5", raw(5, 4, 0, 0, &[0; 5]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("SETTINGS ACK with payload", raw(6, 4, 1, 0, &[0, 3, 0, 0, 0, 1]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("ENABLE_PUSH 2", raw(6, 4, 0, 0, &[0, 2, 0, 0, 0, 2]), C::PROTOCOL_ERROR, Connection, K::BadSetting { id: 2, value: 2 }),
            ("INITIAL_WINDOW_SIZE 2^31", raw(6, 4, 0, 0, &[0, 4, 0x80, 0, 0, 0]), C::FLOW_CONTROL_ERROR, Connection, K::BadSetting { id: 4, value: 1 << 31 }),
            ("MAX_FRAME_SIZE 16383", raw(6, 4, 0, 0, &[0, 5, 0, 0, 0x3f, 0xff]), C::PROTOCOL_ERROR, Connection, K::BadSetting { id: 5, value: 16383 }),
            ("MAX_FRAME_SIZE 2^24", raw(6, 4, 0, 0, &[0, 5, 1, 0, 0, 0]), C::PROTOCOL_ERROR, Connection, K::BadSetting { id: 5, value: 1 << 24 }),
            ("PUSH_PROMISE on stream 0", raw(4, 5, 4, 0, &[0, 0, 0, 2]), C::PROTOCOL_ERROR, Connection, K::StreamIdZero),
            ("PUSH_PROMISE short", raw(3, 5, 4, 1, &[0, 0, 0]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("PUSH_PROMISE of stream 0", raw(4, 5, 4, 1, &[0, 0, 0, 0]), C::PROTOCOL_ERROR, Connection, K::PromisedStreamZero),
            ("PING length 7", raw(7, 6, 0, 0, &[0; 7]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("PING on stream 1", raw(8, 6, 0, 1, &[0; 8]), C::PROTOCOL_ERROR, Connection, K::StreamIdNotZero),
            ("GOAWAY length 7", raw(7, 7, 0, 0, &[0; 7]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("GOAWAY on stream 1", raw(8, 7, 0, 1, &[0; 8]), C::PROTOCOL_ERROR, Connection, K::StreamIdNotZero),
            ("WINDOW_UPDATE length 5", raw(5, 8, 0, 0, &[0; 5]), C::FRAME_SIZE_ERROR, Connection, K::BadLength),
            ("WINDOW_UPDATE 0 on conn", raw(4, 8, 0, 0, &[0; 4]), C::PROTOCOL_ERROR, Connection, K::ZeroIncrement),
            ("WINDOW_UPDATE 0 on stream", raw(4, 8, 0, 1, &[0x80, 0, 0, 0]), C::PROTOCOL_ERROR, Stream, K::ZeroIncrement),
            ("CONTINUATION on stream 0", raw(1, 9, 4, 0, b"\x82"), C::PROTOCOL_ERROR, Connection, K::StreamIdZero),
            ("too large", raw(16385, 0, 0, 1, &[]), C::FRAME_SIZE_ERROR, Connection, K::TooLarge { length: 16385, max: 16384 }),
        ];
        for (name, mut buf, code, scope, kind) in cases {
            let err = decode(&mut buf, DEFAULT_MAX_FRAME_SIZE).expect_err(name);
            assert_eq!(
                (err.code, err.scope, err.kind),
                (code, scope, kind),
                "{name}"
            );
            if scope == Stream {
                assert!(buf.is_empty(), "{name}: a stream error consumes the frame");
            }
        }
    }

    #[test]
    fn limits_at_their_edge() {
        // A frame of exactly max_frame_size decodes; one byte more is refused at the header.
        let mut buf = raw(100, 0, 0, 1, &[7; 100]);
        assert!(matches!(decode(&mut buf, 100), Ok(Some(Frame::Data(_)))));
        let mut buf = raw(101, 0, 0, 1, &[]);
        assert!(decode(&mut buf, 100).is_err());
        // A pad length of payload - 1 leaves an empty body and is allowed; one more is not.
        let mut buf = raw(3, 0, 0x8, 1, &[3, 0, 0]);
        assert!(decode(&mut buf, 100).is_err());
        let mut buf = raw(3, 0, 0x8, 1, &[2, 0, 0]);
        let Ok(Some(Frame::Data(d))) = decode(&mut buf, 100) else {
            panic!("padded DATA")
        };
        assert_eq!((d.data.len(), d.flow_len()), (0, 3));
        // Reserved bits are masked off.
        let mut buf = raw(4, 8, 0, 0x8000_0001, &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            decode(&mut buf, 100),
            Ok(Some(Frame::WindowUpdate(WindowUpdateFrame {
                stream_id: 1,
                increment: MAX_WINDOW_SIZE
            })))
        );
    }

    #[test]
    fn error_codes_print_their_names() {
        assert_eq!(
            ErrorCode::ENHANCE_YOUR_CALM.to_string(),
            "ENHANCE_YOUR_CALM"
        );
        assert_eq!(ErrorCode(0x42).to_string(), "unknown error code 0x42");
    }
}
