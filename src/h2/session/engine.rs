//! The task that runs one connection: it reads and decodes frames, applies them to the
//! connection and stream state (RFC 9113 §5, §6), turns actions into frames, and writes.
//!
//! One task polls three things at once: the transport's read half, its write half (when
//! bytes wait in the write buffer) and the action channel. Reading never waits for
//! writing, so two sessions that both send more than the transport buffers cannot
//! deadlock; reading pauses only while the answers queued for a peer that does not read
//! them pass a bound (then the flood counter ends the connection). Data frames are cut
//! from the streams' queues round-robin, only while the write buffer is short, so a large
//! body never sits in memory twice and control frames are not stuck behind it. Header
//! blocks are HPACK-encoded at the moment they enter the write buffer, so the encoder's
//! table follows wire order (RFC 7541 §2.2).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

use super::fields::{self, Block};
use super::{Action, Command, Event, Role, SessionBuilder, SessionError};
use crate::h2::frame::{
    self, ContinuationFrame, DataFrame, ErrorCode, ErrorScope, Frame, GoAwayFrame, HeadersFrame,
    PingFrame, PushPromiseFrame, RstStreamFrame, Setting, SettingsFrame, WindowUpdateFrame,
    MAX_WINDOW_SIZE,
};
use crate::h2::hpack::{Decoder, Encoder, Field};
use crate::h2::Headers;

/// The client connection preface (RFC 9113 §3.4).
pub(crate) const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Data frames are added to the write buffer only while it is shorter than this.
const WRITE_HIGH_WATER: usize = 64 * 1024;
/// Reading pauses while this much waits to be written (answers a peer does not read).
const READ_PAUSE: usize = 1 << 20;
/// How many streams this side reset are remembered, to ignore the frames in flight.
const RECENT_RESETS: usize = 512;
/// How long a connection that ends on an error keeps reading (and discarding), so the
/// peer reads our GOAWAY before a TCP reset can destroy it.
const LINGER: Duration = Duration::from_secs(1);
/// The largest HPACK table we use for encoding, whatever the peer allows.
const MAX_ENCODER_TABLE: u32 = 16 * 1024;

/// A connection error: the code for GOAWAY and what happened.
struct ConnError {
    code: ErrorCode,
    reason: String,
}

fn conn_err(code: ErrorCode, reason: impl Into<String>) -> ConnError {
    ConnError {
        code,
        reason: reason.into(),
    }
}

enum Ended {
    /// The peer closed the transport, or both sides are done.
    Clean,
    /// This side found a connection error (GOAWAY queued).
    Conn(ConnError),
    /// The transport failed.
    Io(std::io::Error),
    /// The peer sent GOAWAY with an error code.
    PeerGoAway(ErrorCode, Bytes),
}

enum Out {
    Headers { fields: Headers, end_stream: bool },
    Data { data: Bytes, end_stream: bool },
}

#[derive(Default)]
struct Stream {
    /// We sent END_STREAM (or cannot send: reserved by the peer).
    local_end: bool,
    /// The peer sent END_STREAM (or cannot send: reserved by us).
    remote_end: bool,
    /// Reserved by PUSH_PROMISE (§5.1), not yet opened by HEADERS.
    reserved: bool,
    /// We opened it (odd for a client, a push for a server).
    local: bool,
    /// Counted against a concurrency limit.
    counted: bool,
    /// The headers that open it (request or response) went out.
    headers_sent: bool,
    /// Final (non-1xx) headers arrived.
    headers_received: bool,
    /// Waiting in `pending_open` for the peer's concurrency limit.
    waiting_open: bool,
    send_window: i64,
    recv_window: i64,
    /// Bytes the user took and we have not yet returned by WINDOW_UPDATE.
    unacked: u32,
    queue: VecDeque<Out>,
    /// In `ready`.
    scheduled: bool,
}

/// A header block being assembled from HEADERS or PUSH_PROMISE and CONTINUATIONs.
struct PartialBlock {
    stream_id: u32,
    kind: BlockKind,
    block: BytesMut,
    frames: u32,
}

#[derive(Clone, Copy)]
enum BlockKind {
    Headers { end_stream: bool },
    Promise { promised: u32 },
}

enum Preface {
    /// Bytes of the client magic still expected (server).
    Magic(usize),
    /// The peer's first frame must be SETTINGS.
    Settings,
    Done,
}

pub(crate) struct Engine<T> {
    reader: ReadHalf<T>,
    writer: WriteHalf<T>,
    cfg: SessionBuilder,
    role: Role,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    rbuf: BytesMut,
    wbuf: BytesMut,
    needs_flush: bool,
    encoder: Encoder,
    decoder: Decoder,
    preface: Preface,
    streams: HashMap<u32, Stream>,
    ready: VecDeque<u32>,
    pending_open: VecDeque<u32>,
    recent_resets: VecDeque<u32>,
    partial: Option<PartialBlock>,
    /// Settings we sent, awaiting ACK.
    unacked_settings: VecDeque<Vec<Setting>>,
    // Our settings in force.
    local_max_frame: u32,
    local_initial_window: u32,
    local_max_concurrent: u32,
    // The peer's settings.
    peer_max_frame: u32,
    peer_initial_window: u32,
    peer_max_concurrent: u32,
    peer_enable_push: bool,
    peer_max_header_list: u32,
    conn_send_window: i64,
    conn_recv_window: i64,
    conn_unacked: u32,
    /// Highest stream the peer opened (or we saw it use); highest we opened; highest
    /// stream promised to us.
    last_peer_stream: u32,
    last_local_stream: u32,
    last_promised: u32,
    local_active: u32,
    remote_active: u32,
    remote_resets: u32,
    pending_control: u32,
    empty_frames: u32,
    goaway_sent: Option<u32>,
    goaway_received: Option<u32>,
    closing: bool,
    commands_closed: bool,
    read_closed: bool,
    /// The peer's GOAWAY carried an error code: the connection ends.
    peer_error: Option<(ErrorCode, Bytes)>,
}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Engine<T> {
    pub(crate) fn new(
        io: T,
        cfg: SessionBuilder,
        commands: mpsc::UnboundedReceiver<Command>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let (reader, writer) = tokio::io::split(io);
        let mut decoder = Decoder::new();
        decoder.set_max_header_list_size(cfg.max_header_list_size as usize);
        let role = cfg.role;
        let preface = match (role, cfg.skip_preface) {
            (Role::Server, false) => Preface::Magic(0),
            _ => Preface::Settings,
        };
        Engine {
            reader,
            writer,
            role,
            commands,
            events,
            rbuf: BytesMut::with_capacity(16 * 1024),
            wbuf: BytesMut::with_capacity(16 * 1024),
            needs_flush: false,
            encoder: Encoder::new(),
            decoder,
            preface,
            streams: HashMap::new(),
            ready: VecDeque::new(),
            pending_open: VecDeque::new(),
            recent_resets: VecDeque::new(),
            partial: None,
            unacked_settings: VecDeque::new(),
            local_max_frame: frame::DEFAULT_MAX_FRAME_SIZE,
            local_initial_window: 65_535,
            local_max_concurrent: u32::MAX,
            peer_max_frame: frame::DEFAULT_MAX_FRAME_SIZE,
            peer_initial_window: 65_535,
            peer_max_concurrent: u32::MAX,
            peer_enable_push: true,
            peer_max_header_list: u32::MAX,
            conn_send_window: 65_535,
            conn_recv_window: 65_535,
            conn_unacked: 0,
            last_peer_stream: 0,
            last_local_stream: 0,
            last_promised: 0,
            local_active: 0,
            remote_active: 0,
            remote_resets: 0,
            pending_control: 0,
            empty_frames: 0,
            goaway_sent: None,
            goaway_received: None,
            closing: false,
            commands_closed: false,
            read_closed: false,
            peer_error: None,
            cfg,
        }
    }

    pub(crate) async fn run(mut self) {
        let ended = self.drive().await;
        let error = match ended {
            Ended::Clean => None,
            Ended::Io(err) => Some(SessionError::Io(err)),
            Ended::PeerGoAway(code, debug) => Some(SessionError::Protocol {
                code,
                reason: String::from_utf8_lossy(&debug).into_owned(),
                remote: true,
            }),
            Ended::Conn(err) => {
                if self.goaway_sent.is_none() {
                    self.goaway(err.code, Bytes::from(err.reason.clone().into_bytes()));
                }
                Some(SessionError::Protocol {
                    code: err.code,
                    reason: err.reason,
                    remote: false,
                })
            }
        };
        let lingering = error.is_some();
        if let Some(error) = error {
            tracing::debug!(%error, "HTTP/2 session ends");
            let _ = self.events.send(Event::Error(error));
        }
        // Whatever is queued (a GOAWAY at least) goes out, then the write side closes;
        // after an error the read side is drained for a moment, so the peer reads the
        // GOAWAY rather than a TCP reset (RFC 9113 §5.4.1: "the endpoint SHOULD ... send
        // a GOAWAY frame" before closing).
        let _ = tokio::time::timeout(LINGER, async {
            let _ = self.writer.write_all(&self.wbuf).await;
            let _ = self.writer.flush().await;
            let _ = self.writer.shutdown().await;
            if lingering && !self.read_closed {
                let mut sink = [0u8; 8192];
                let mut drained = 0usize;
                while drained < (1 << 20) {
                    match self.reader.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => drained += n,
                    }
                }
            }
        })
        .await;
    }

    async fn drive(&mut self) -> Ended {
        self.start();
        loop {
            self.fill_data();
            if self.is_done() {
                return Ended::Clean;
            }
            enum Step {
                Wrote(std::io::Result<usize>),
                Flushed(std::io::Result<()>),
                Read(std::io::Result<usize>),
                Command(Option<Command>),
            }
            let can_read = !self.read_closed && self.wbuf.len() < READ_PAUSE;
            let can_write = !self.wbuf.is_empty();
            let can_flush = self.wbuf.is_empty() && self.needs_flush;
            if self.rbuf.capacity() - self.rbuf.len() < 4096 {
                self.rbuf.reserve(16 * 1024);
            }
            let (writer, wbuf) = (&mut self.writer, &self.wbuf);
            let output = async move {
                if can_write {
                    Step::Wrote(writer.write(wbuf).await)
                } else {
                    Step::Flushed(writer.flush().await)
                }
            };
            let step = tokio::select! {
                step = output, if can_write || can_flush => step,
                r = self.reader.read_buf(&mut self.rbuf), if can_read => Step::Read(r),
                c = self.commands.recv(), if !self.commands_closed => Step::Command(c),
                else => return Ended::Clean,
            };
            let result = match step {
                Step::Wrote(Ok(0)) => {
                    return Ended::Io(std::io::ErrorKind::WriteZero.into());
                }
                Step::Wrote(Ok(n)) => {
                    self.wbuf.advance(n);
                    self.needs_flush = true;
                    if self.wbuf.is_empty() {
                        // The peer read our answers: the flood counter starts again.
                        self.pending_control = 0;
                    }
                    Ok(())
                }
                Step::Flushed(r) => {
                    self.needs_flush = false;
                    r.map_err(Ended::Io)
                }
                Step::Wrote(Err(e)) => Err(Ended::Io(e)),
                Step::Read(Err(e)) => Err(Ended::Io(e)),
                Step::Read(Ok(0)) => {
                    self.read_closed = true;
                    // The peer is gone: nothing more can be received; finish writing what
                    // is queued and end. Streams still open learn it from the error.
                    self.closing = true;
                    let open = self.streams.values().filter(|s| !s.remote_end).count();
                    if open > 0 || self.partial.is_some() || !self.rbuf.is_empty() {
                        return Ended::Io(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("the peer closed the connection with {open} streams open"),
                        ));
                    }
                    Ok(())
                }
                Step::Read(Ok(_)) => self.on_input().map_err(Ended::Conn),
                Step::Command(None) => {
                    self.commands_closed = true;
                    if self.goaway_sent.is_none() {
                        self.goaway(ErrorCode::NO_ERROR, Bytes::new());
                    }
                    Ok(())
                }
                Step::Command(Some(c)) => self.on_command(c).map_err(Ended::Conn),
            };
            if let Err(ended) = result {
                return ended;
            }
            if let Some((code, debug)) = self.peer_error.take() {
                return Ended::PeerGoAway(code, debug);
            }
        }
    }

    fn is_done(&self) -> bool {
        if !self.wbuf.is_empty() || self.needs_flush {
            return false;
        }
        if self.closing {
            return true;
        }
        if self.commands_closed {
            // The user dropped the session: what it queued still goes out; streams that
            // only wait for the peer are abandoned, since no one would take their data.
            return self.pending_open.is_empty()
                && self.streams.values().all(|s| s.queue.is_empty());
        }
        self.goaway_received.is_some() && self.streams.is_empty() && self.pending_open.is_empty()
    }

    /// Our preface: the magic (client), SETTINGS, and the connection window raised.
    fn start(&mut self) {
        if self.role == Role::Client && !self.cfg.skip_preface {
            self.wbuf.extend_from_slice(PREFACE);
        }
        let mut params = vec![
            Setting::new(Setting::ENABLE_PUSH, u32::from(self.cfg.enable_push)),
            Setting::new(
                Setting::MAX_CONCURRENT_STREAMS,
                self.cfg.max_concurrent_streams,
            ),
            Setting::new(Setting::INITIAL_WINDOW_SIZE, self.cfg.initial_window_size),
            Setting::new(Setting::MAX_FRAME_SIZE, self.cfg.max_frame_size),
            Setting::new(Setting::MAX_HEADER_LIST_SIZE, self.cfg.max_header_list_size),
        ];
        if self.cfg.header_table_size != 4096 {
            params.push(Setting::new(
                Setting::HEADER_TABLE_SIZE,
                self.cfg.header_table_size,
            ));
        }
        // Until the peer acknowledges, it may use the defaults; the stricter of the two
        // applies to what we accept where that matters (frame size, concurrency).
        self.local_max_concurrent = self.cfg.max_concurrent_streams;
        self.send_settings(params);
        let raise = self.cfg.connection_window_size.saturating_sub(65_535);
        if raise > 0 {
            self.put(&Frame::WindowUpdate(WindowUpdateFrame {
                stream_id: 0,
                increment: raise,
            }));
            self.conn_recv_window += i64::from(raise);
        }
    }

    fn send_settings(&mut self, params: Vec<Setting>) {
        self.put(&Frame::Settings(SettingsFrame {
            ack: false,
            params: params.clone(),
        }));
        self.unacked_settings.push_back(params);
    }

    fn put(&mut self, frame: &Frame) {
        frame::encode(frame, &mut self.wbuf);
    }

    /// An answer the peer must read: counted against the flood bound.
    fn put_control(&mut self, frame: &Frame) -> Result<(), ConnError> {
        self.put(frame);
        self.pending_control += 1;
        if self.pending_control > self.cfg.max_pending_control {
            return Err(conn_err(
                ErrorCode::ENHANCE_YOUR_CALM,
                "too many answers queued for a peer that does not read them",
            ));
        }
        Ok(())
    }

    fn emit(&self, event: Event) {
        // The user may have dropped the session; events then go nowhere.
        let _ = self.events.send(event);
    }

    fn goaway(&mut self, code: ErrorCode, debug: Bytes) {
        let last = self.last_peer_stream;
        self.put(&Frame::GoAway(GoAwayFrame {
            last_stream_id: last,
            code,
            debug,
        }));
        self.goaway_sent = Some(last);
    }

    // ---- input -------------------------------------------------------------------

    fn on_input(&mut self) -> Result<(), ConnError> {
        if let Preface::Magic(seen) = self.preface {
            let want = &PREFACE[seen..];
            let n = want.len().min(self.rbuf.len());
            if self.rbuf[..n] != want[..n] {
                return Err(conn_err(
                    ErrorCode::PROTOCOL_ERROR,
                    "invalid connection preface",
                ));
            }
            self.rbuf.advance(n);
            self.preface = if seen + n == PREFACE.len() {
                Preface::Settings
            } else {
                Preface::Magic(seen + n)
            };
            if let Preface::Magic(_) = self.preface {
                return Ok(());
            }
        }
        loop {
            let decoded = frame::decode(&mut self.rbuf, self.local_max_frame);
            let frame = match decoded {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(err) if err.scope == ErrorScope::Stream && self.partial.is_none() => {
                    self.reset_stream(err.stream_id, err.code)?;
                    continue;
                }
                Err(err) => return Err(conn_err(err.code, err.to_string())),
            };
            if let Preface::Settings = self.preface {
                match &frame {
                    Frame::Settings(s) if !s.ack => self.preface = Preface::Done,
                    _ => {
                        return Err(conn_err(
                            ErrorCode::PROTOCOL_ERROR,
                            "the peer's first frame is not SETTINGS",
                        ))
                    }
                }
            }
            self.on_frame(frame)?;
            if self.closing || self.peer_error.is_some() {
                return Ok(());
            }
        }
    }

    fn on_frame(&mut self, frame: Frame) -> Result<(), ConnError> {
        // §6.10: while a header block is open, only its CONTINUATIONs may arrive.
        if let Some(partial) = &self.partial {
            match &frame {
                Frame::Continuation(c) if c.stream_id == partial.stream_id => {}
                _ => {
                    return Err(conn_err(
                        ErrorCode::PROTOCOL_ERROR,
                        "a frame other than CONTINUATION inside a header block",
                    ))
                }
            }
        }
        match frame {
            Frame::Data(f) => self.on_data(f),
            Frame::Headers(f) => {
                if !f.end_headers {
                    self.start_block(
                        f.stream_id,
                        BlockKind::Headers {
                            end_stream: f.end_stream,
                        },
                        f.block,
                    )
                } else {
                    self.on_block(
                        f.stream_id,
                        BlockKind::Headers {
                            end_stream: f.end_stream,
                        },
                        &f.block,
                    )
                }
            }
            Frame::PushPromise(f) => {
                let kind = BlockKind::Promise {
                    promised: f.promised_stream_id,
                };
                if f.end_headers {
                    self.on_block(f.stream_id, kind, &f.block)
                } else {
                    self.start_block(f.stream_id, kind, f.block)
                }
            }
            Frame::Continuation(f) => self.on_continuation(f),
            Frame::Priority(_) => Ok(()), // §5.3: deprecated; checked by decode, ignored
            Frame::RstStream(f) => self.on_reset(f),
            Frame::Settings(f) => self.on_settings(f),
            Frame::Ping(f) => {
                if f.ack {
                    self.emit(Event::PingAck(f.data));
                    Ok(())
                } else {
                    self.put_control(&Frame::Ping(PingFrame {
                        ack: true,
                        data: f.data,
                    }))
                }
            }
            Frame::GoAway(f) => {
                self.on_goaway(f);
                Ok(())
            }
            Frame::WindowUpdate(f) => self.on_window_update(f),
            Frame::Unknown(_) => Ok(()), // §5.5: ignored
        }
    }

    fn is_peer_stream(&self, id: u32) -> bool {
        // Clients open odd streams; servers push even ones.
        (id % 2 == 1) == (self.role == Role::Server)
    }

    /// Whether `id` (not in the map) is idle: never opened by its side.
    fn is_idle(&self, id: u32) -> bool {
        if self.is_peer_stream(id) {
            id > self.last_peer_stream && (self.role == Role::Server || id > self.last_promised)
        } else {
            id > self.last_local_stream
        }
    }

    fn recently_reset(&self, id: u32) -> bool {
        self.recent_resets.contains(&id)
    }

    fn on_data(&mut self, f: DataFrame) -> Result<(), ConnError> {
        let id = f.stream_id;
        let len = f.flow_len() as i64;
        if f.data.is_empty() && !f.end_stream {
            self.empty_frames += 1;
            if self.empty_frames > self.cfg.max_empty_frames {
                return Err(conn_err(
                    ErrorCode::ENHANCE_YOUR_CALM,
                    "too many empty DATA frames",
                ));
            }
        } else {
            self.empty_frames = 0;
        }
        // §6.9.1: the whole payload counts against the connection window, whatever the
        // stream's state.
        if len > self.conn_recv_window {
            return Err(conn_err(
                ErrorCode::FLOW_CONTROL_ERROR,
                "DATA beyond the connection window",
            ));
        }
        self.conn_recv_window -= len;
        let state = self
            .streams
            .get(&id)
            .map(|s| (s.remote_end, s.reserved, s.headers_received));
        match state {
            None if self.is_idle(id) => {
                return Err(conn_err(
                    ErrorCode::PROTOCOL_ERROR,
                    "DATA on an idle stream",
                ))
            }
            None => {
                self.credit_connection(len as u32);
                if self.recently_reset(id) {
                    return Ok(());
                }
                // §6.1: DATA on a stream not open nor half-closed (local).
                return self.reset_stream(id, ErrorCode::STREAM_CLOSED);
            }
            Some((true, _, _)) | Some((_, true, _)) => {
                self.credit_connection(len as u32);
                return self.reset_stream(id, ErrorCode::STREAM_CLOSED);
            }
            Some((_, _, false)) => {
                // §8.1: DATA before the headers is malformed.
                self.credit_connection(len as u32);
                return self.reset_stream(id, ErrorCode::PROTOCOL_ERROR);
            }
            Some(_) => {}
        }
        let Some(stream) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        if len > stream.recv_window {
            self.credit_connection(len as u32);
            return self.reset_stream(id, ErrorCode::FLOW_CONTROL_ERROR);
        }
        stream.recv_window -= len;
        let padding = len - f.data.len() as i64;
        if f.end_stream {
            stream.remote_end = true;
        }
        if padding > 0 {
            // Padding is never taken by the user: give it back now.
            self.credit(id, padding as usize);
        }
        self.emit(Event::RecvData {
            stream: id,
            data: f.data,
            end_stream: f.end_stream,
        });
        if f.end_stream {
            self.maybe_close(id);
        }
        Ok(())
    }

    fn start_block(
        &mut self,
        stream_id: u32,
        kind: BlockKind,
        block: Bytes,
    ) -> Result<(), ConnError> {
        let mut buf = BytesMut::with_capacity(block.len());
        buf.extend_from_slice(&block);
        self.partial = Some(PartialBlock {
            stream_id,
            kind,
            block: buf,
            frames: 0,
        });
        self.check_block_size()
    }

    fn block_limit(&self) -> usize {
        // A compressed block is no larger than the list it encodes plus a few bytes a
        // field; twice the list bound leaves room for an encoder that never indexes.
        (self.cfg.max_header_list_size as usize).saturating_mul(2) + 1024
    }

    fn check_block_size(&self) -> Result<(), ConnError> {
        if let Some(p) = &self.partial {
            if p.block.len() > self.block_limit() {
                return Err(conn_err(
                    ErrorCode::ENHANCE_YOUR_CALM,
                    "header block larger than the header list limit allows",
                ));
            }
            if p.frames > self.cfg.max_continuation_frames {
                return Err(conn_err(
                    ErrorCode::ENHANCE_YOUR_CALM,
                    "too many CONTINUATION frames in one header block",
                ));
            }
        }
        Ok(())
    }

    fn on_continuation(&mut self, f: ContinuationFrame) -> Result<(), ConnError> {
        let Some(mut partial) = self.partial.take() else {
            return Err(conn_err(
                ErrorCode::PROTOCOL_ERROR,
                "CONTINUATION without a header block",
            ));
        };
        partial.block.extend_from_slice(&f.block);
        partial.frames += 1;
        if f.block.is_empty() && !f.end_headers {
            self.empty_frames += 1;
            if self.empty_frames > self.cfg.max_empty_frames {
                return Err(conn_err(
                    ErrorCode::ENHANCE_YOUR_CALM,
                    "too many empty CONTINUATION frames",
                ));
            }
        }
        if f.end_headers {
            let block = partial.block.freeze();
            self.on_block(partial.stream_id, partial.kind, &block)
        } else {
            self.partial = Some(partial);
            self.check_block_size()
        }
    }

    /// A whole header block: HPACK first (always, to keep the table in step, §4.3), then
    /// the stream rules.
    fn on_block(&mut self, id: u32, kind: BlockKind, block: &[u8]) -> Result<(), ConnError> {
        if block.len() > self.block_limit() {
            return Err(conn_err(
                ErrorCode::ENHANCE_YOUR_CALM,
                "header block larger than the header list limit allows",
            ));
        }
        let decoded = match self.decoder.decode(block) {
            Ok(fields) => Ok(fields),
            Err(err) if err.is_connection_error() => {
                return Err(conn_err(ErrorCode::COMPRESSION_ERROR, err.to_string()))
            }
            Err(err) => Err(err),
        };
        match kind {
            BlockKind::Headers { end_stream } => self.on_headers(id, decoded, end_stream),
            BlockKind::Promise { promised } => self.on_promise(id, promised, decoded),
        }
    }

    fn on_headers(
        &mut self,
        id: u32,
        decoded: Result<Vec<Field>, crate::h2::hpack::DecoderError>,
        end_stream: bool,
    ) -> Result<(), ConnError> {
        if !self.streams.contains_key(&id) {
            if !self.is_peer_stream(id) || self.role == Role::Client {
                if self.is_idle(id) {
                    let what = if self.role == Role::Server {
                        "HEADERS on an even stream from a client"
                    } else {
                        "HEADERS on a stream the client never opened"
                    };
                    return Err(conn_err(ErrorCode::PROTOCOL_ERROR, what));
                }
                if self.recently_reset(id) {
                    return Ok(());
                }
                return Err(conn_err(
                    ErrorCode::STREAM_CLOSED,
                    "HEADERS on a closed stream",
                ));
            }
            if id <= self.last_peer_stream {
                if self.recently_reset(id) {
                    return Ok(());
                }
                // §5.1.1: a new stream must have a higher id; reuse of a closed one is
                // a frame on a closed stream.
                return Err(conn_err(
                    ErrorCode::STREAM_CLOSED,
                    "HEADERS on a closed stream",
                ));
            }
            // A new request (server side).
            self.last_peer_stream = id;
            if self.goaway_sent.is_some_and(|last| id > last) {
                // §6.8: streams above the GOAWAY's last id are ignored.
                return Ok(());
            }
            if self.remote_active >= self.local_max_concurrent {
                self.count_remote_reset()?;
                return self.reset_stream(id, ErrorCode::REFUSED_STREAM);
            }
            let fields = match decoded {
                Ok(fields) => fields,
                Err(_) => return self.refuse_too_large(id),
            };
            if let Err(reason) = fields::check(&fields, Block::Request) {
                tracing::debug!(stream = id, reason, "malformed request");
                return self.reset_stream(id, ErrorCode::PROTOCOL_ERROR);
            }
            let stream = Stream {
                counted: true,
                remote_end: end_stream,
                headers_received: true,
                send_window: i64::from(self.peer_initial_window),
                recv_window: i64::from(self.local_initial_window),
                ..Stream::default()
            };
            self.streams.insert(id, stream);
            self.remote_active += 1;
            self.emit(Event::RecvHeaders {
                stream: id,
                headers: Headers::from(fields),
                end_stream,
            });
            return Ok(());
        }
        let Some(stream) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        if stream.remote_end {
            return self.reset_stream(id, ErrorCode::STREAM_CLOSED);
        }
        let fields = match decoded {
            Ok(fields) => fields,
            Err(_) => return self.reset_stream(id, ErrorCode::PROTOCOL_ERROR),
        };
        let block = if stream.headers_received {
            Block::Trailers
        } else if self.role == Role::Client {
            Block::Response
        } else {
            Block::Request
        };
        let malformed = fields::check(&fields, block).err().or(
            // §8.1: trailers end the stream.
            (block == Block::Trailers && !end_stream).then_some("trailers without END_STREAM"),
        );
        if let Some(reason) = malformed {
            tracing::debug!(stream = id, reason, "malformed header block");
            return self.reset_stream(id, ErrorCode::PROTOCOL_ERROR);
        }
        let informational = block == Block::Response
            && fields
                .first()
                .is_some_and(|f| f.name == ":status" && f.value.starts_with(b"1"));
        if !informational {
            stream.headers_received = true;
        }
        if stream.reserved {
            // A pushed response opens the reserved stream: half-closed (local) (§5.1).
            stream.reserved = false;
            stream.counted = true;
            self.remote_active += 1;
        }
        if end_stream {
            stream.remote_end = true;
        }
        self.emit(Event::RecvHeaders {
            stream: id,
            headers: Headers::from(fields),
            end_stream,
        });
        if end_stream {
            self.maybe_close(id);
        }
        Ok(())
    }

    /// A request whose header list is over the limit: 431 from a server (RFC 6585 §5,
    /// RFC 9113 §10.5.1), the stream reset otherwise.
    fn refuse_too_large(&mut self, id: u32) -> Result<(), ConnError> {
        let headers = Headers::from_iter([(":status", "431")]);
        self.write_headers(id, &headers, true);
        // The peer may still send the body: reset after the answer, as servers do.
        self.put(&Frame::RstStream(RstStreamFrame {
            stream_id: id,
            code: ErrorCode::NO_ERROR,
        }));
        self.remember_reset(id);
        Ok(())
    }

    fn on_promise(
        &mut self,
        id: u32,
        promised: u32,
        decoded: Result<Vec<Field>, crate::h2::hpack::DecoderError>,
    ) -> Result<(), ConnError> {
        if self.role == Role::Server {
            return Err(conn_err(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE from a client",
            ));
        }
        if !self.cfg.enable_push {
            return Err(conn_err(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE with push disabled",
            ));
        }
        if !promised.is_multiple_of(2) || promised <= self.last_promised {
            return Err(conn_err(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE of an invalid stream identifier",
            ));
        }
        self.last_promised = promised;
        match self.streams.get(&id) {
            Some(s) if !s.remote_end && s.local => {}
            _ if self.recently_reset(id) => {
                return self.reset_stream(promised, ErrorCode::REFUSED_STREAM);
            }
            _ => {
                return Err(conn_err(
                    ErrorCode::PROTOCOL_ERROR,
                    "PUSH_PROMISE on a stream that is not open",
                ))
            }
        }
        let fields = match decoded {
            Ok(fields) => fields,
            Err(_) => return self.reset_stream(promised, ErrorCode::PROTOCOL_ERROR),
        };
        if fields::check(&fields, Block::Request).is_err() {
            return self.reset_stream(promised, ErrorCode::PROTOCOL_ERROR);
        }
        self.streams.insert(
            promised,
            Stream {
                reserved: true,
                local_end: true,
                send_window: i64::from(self.peer_initial_window),
                recv_window: i64::from(self.local_initial_window),
                ..Stream::default()
            },
        );
        self.emit(Event::Promise {
            stream: id,
            promised_stream: promised,
            headers: Headers::from(fields),
        });
        Ok(())
    }

    fn on_reset(&mut self, f: RstStreamFrame) -> Result<(), ConnError> {
        let id = f.stream_id;
        let Some(stream) = self.streams.remove(&id) else {
            if self.is_idle(id) {
                return Err(conn_err(
                    ErrorCode::PROTOCOL_ERROR,
                    "RST_STREAM on an idle stream",
                ));
            }
            return Ok(());
        };
        self.uncount(&stream);
        self.pending_open.retain(|&s| s != id);
        self.emit(Event::Reset {
            stream: id,
            code: f.code,
            local: false,
        });
        if !stream.local && !stream.local_end {
            // CVE-2023-44487: a peer that opens and resets streams faster than we answer.
            self.count_remote_reset()?;
        }
        Ok(())
    }

    fn count_remote_reset(&mut self) -> Result<(), ConnError> {
        self.remote_resets += 1;
        if self.remote_resets > self.cfg.max_remote_resets {
            return Err(conn_err(
                ErrorCode::ENHANCE_YOUR_CALM,
                "too many streams reset by the peer (rapid reset)",
            ));
        }
        Ok(())
    }

    fn on_settings(&mut self, f: SettingsFrame) -> Result<(), ConnError> {
        if f.ack {
            if let Some(params) = self.unacked_settings.pop_front() {
                self.apply_local_settings(&params);
            }
            return Ok(());
        }
        for s in &f.params {
            match s.id {
                Setting::HEADER_TABLE_SIZE => self
                    .encoder
                    .set_max_table_size(s.value.min(MAX_ENCODER_TABLE) as usize),
                Setting::ENABLE_PUSH => {
                    if self.role == Role::Client && s.value != 0 {
                        // §6.5.2: a server must not enable push.
                        return Err(conn_err(
                            ErrorCode::PROTOCOL_ERROR,
                            "SETTINGS_ENABLE_PUSH from a server",
                        ));
                    }
                    self.peer_enable_push = s.value == 1;
                }
                Setting::MAX_CONCURRENT_STREAMS => self.peer_max_concurrent = s.value,
                Setting::INITIAL_WINDOW_SIZE => {
                    // §6.9.2: the change applies to every stream's send window.
                    let delta = i64::from(s.value) - i64::from(self.peer_initial_window);
                    self.peer_initial_window = s.value;
                    let mut overflow = false;
                    for (id, stream) in self.streams.iter_mut() {
                        stream.send_window += delta;
                        overflow |= stream.send_window > i64::from(MAX_WINDOW_SIZE);
                        if delta > 0 && !stream.scheduled && sendable(stream) {
                            stream.scheduled = true;
                            self.ready.push_back(*id);
                        }
                    }
                    if overflow {
                        return Err(conn_err(
                            ErrorCode::FLOW_CONTROL_ERROR,
                            "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window",
                        ));
                    }
                }
                Setting::MAX_FRAME_SIZE => self.peer_max_frame = s.value,
                Setting::MAX_HEADER_LIST_SIZE => self.peer_max_header_list = s.value,
                _ => {} // §6.5.2: unknown settings are ignored
            }
        }
        self.put_control(&Frame::Settings(SettingsFrame {
            ack: true,
            params: Vec::new(),
        }))?;
        self.emit(Event::Settings(f.params));
        self.open_pending();
        Ok(())
    }

    fn apply_local_settings(&mut self, params: &[Setting]) {
        for s in params {
            match s.id {
                Setting::HEADER_TABLE_SIZE => self.decoder.set_max_table_size(s.value as usize),
                Setting::MAX_FRAME_SIZE => self.local_max_frame = s.value,
                Setting::MAX_CONCURRENT_STREAMS => self.local_max_concurrent = s.value,
                Setting::MAX_HEADER_LIST_SIZE => {
                    self.cfg.max_header_list_size = s.value;
                    self.decoder.set_max_header_list_size(s.value as usize)
                }
                Setting::INITIAL_WINDOW_SIZE => {
                    let delta = i64::from(s.value) - i64::from(self.local_initial_window);
                    self.local_initial_window = s.value;
                    for stream in self.streams.values_mut() {
                        stream.recv_window += delta;
                    }
                }
                _ => {}
            }
        }
    }

    fn on_goaway(&mut self, f: GoAwayFrame) {
        self.goaway_received = Some(f.last_stream_id);
        self.emit(Event::GoAway {
            last_stream: f.last_stream_id,
            code: f.code,
            debug: f.debug.clone(),
        });
        // §6.8: our streams above last_stream_id were not processed.
        let refused: Vec<u32> = self
            .streams
            .iter()
            .filter(|(id, s)| s.local && **id > f.last_stream_id)
            .map(|(id, _)| *id)
            .collect();
        for id in refused {
            if let Some(stream) = self.streams.remove(&id) {
                self.uncount(&stream);
            }
            self.emit(Event::Reset {
                stream: id,
                code: ErrorCode::REFUSED_STREAM,
                local: false,
            });
        }
        self.pending_open.clear();
        if f.code != ErrorCode::NO_ERROR {
            self.peer_error = Some((f.code, f.debug));
        }
    }

    fn on_window_update(&mut self, f: WindowUpdateFrame) -> Result<(), ConnError> {
        let inc = i64::from(f.increment);
        if f.stream_id == 0 {
            self.conn_send_window += inc;
            if self.conn_send_window > i64::from(MAX_WINDOW_SIZE) {
                return Err(conn_err(
                    ErrorCode::FLOW_CONTROL_ERROR,
                    "connection window overflow",
                ));
            }
            return Ok(());
        }
        let id = f.stream_id;
        let Some(stream) = self.streams.get_mut(&id) else {
            if self.is_idle(id) {
                return Err(conn_err(
                    ErrorCode::PROTOCOL_ERROR,
                    "WINDOW_UPDATE on an idle stream",
                ));
            }
            return Ok(());
        };
        stream.send_window += inc;
        if stream.send_window > i64::from(MAX_WINDOW_SIZE) {
            return self.reset_stream(id, ErrorCode::FLOW_CONTROL_ERROR);
        }
        if !stream.scheduled && sendable(stream) {
            stream.scheduled = true;
            self.ready.push_back(id);
        }
        Ok(())
    }

    /// Sends RST_STREAM for `id` and forgets the stream (a stream error, §5.4.2).
    fn reset_stream(&mut self, id: u32, code: ErrorCode) -> Result<(), ConnError> {
        let known = self.streams.remove(&id);
        if let Some(stream) = &known {
            self.uncount(stream);
            self.emit(Event::Reset {
                stream: id,
                code,
                local: true,
            });
        }
        if self.is_peer_stream(id) && id > self.last_peer_stream && self.role == Role::Server {
            self.last_peer_stream = id;
        }
        self.remember_reset(id);
        self.put_control(&Frame::RstStream(RstStreamFrame {
            stream_id: id,
            code,
        }))
    }

    fn remember_reset(&mut self, id: u32) {
        if self.recent_resets.len() == RECENT_RESETS {
            self.recent_resets.pop_front();
        }
        self.recent_resets.push_back(id);
    }

    fn uncount(&mut self, stream: &Stream) {
        if stream.counted {
            if stream.local {
                self.local_active = self.local_active.saturating_sub(1);
            } else {
                self.remote_active = self.remote_active.saturating_sub(1);
            }
        }
    }

    /// Forgets a stream both of whose sides ended (closed, §5.1).
    fn maybe_close(&mut self, id: u32) {
        let done = self
            .streams
            .get(&id)
            .is_some_and(|s| s.local_end && s.remote_end && s.queue.is_empty());
        if done {
            if let Some(stream) = self.streams.remove(&id) {
                self.uncount(&stream);
                if !stream.local {
                    // A stream that ran its course pays back one reset of the budget.
                    self.remote_resets = self.remote_resets.saturating_sub(1);
                }
            }
            self.open_pending();
        }
    }

    fn credit_connection(&mut self, len: u32) {
        self.conn_unacked = self.conn_unacked.saturating_add(len);
        if self.conn_unacked >= self.cfg.connection_window_size / 2 {
            let inc = self.conn_unacked;
            self.conn_unacked = 0;
            self.conn_recv_window += i64::from(inc);
            self.put(&Frame::WindowUpdate(WindowUpdateFrame {
                stream_id: 0,
                increment: inc,
            }));
        }
    }

    /// The user took `len` bytes of `id`: returns them to the windows, in batches of half
    /// a window so WINDOW_UPDATEs stay few.
    fn credit(&mut self, id: u32, len: usize) {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.credit_connection(len);
        let threshold = self.local_initial_window / 2;
        if let Some(stream) = self.streams.get_mut(&id) {
            if stream.remote_end {
                return;
            }
            stream.unacked = stream.unacked.saturating_add(len);
            if stream.unacked >= threshold.max(1) {
                let inc = stream.unacked;
                stream.unacked = 0;
                stream.recv_window += i64::from(inc);
                self.put(&Frame::WindowUpdate(WindowUpdateFrame {
                    stream_id: id,
                    increment: inc,
                }));
            }
        }
    }

    // ---- actions -----------------------------------------------------------------

    fn on_command(&mut self, command: Command) -> Result<(), ConnError> {
        match command {
            Command::Credit { stream, len } => {
                self.credit(stream, len);
                Ok(())
            }
            Command::Close => {
                if self.goaway_sent.is_none() {
                    self.goaway(ErrorCode::NO_ERROR, Bytes::new());
                }
                self.closing = true;
                Ok(())
            }
            Command::Act(action) => self.on_action(action),
        }
    }

    fn fail(&self, stream: u32, reason: impl Into<String>) -> Result<(), ConnError> {
        self.emit(Event::ActionFailed {
            stream,
            reason: reason.into(),
        });
        Ok(())
    }

    fn on_action(&mut self, action: Action) -> Result<(), ConnError> {
        match action {
            Action::SendHeaders {
                stream: id,
                headers,
                end_stream,
            } => self.act_headers(id, headers, end_stream),
            Action::SendData {
                stream: id,
                data,
                end_stream,
            } => {
                let Some(stream) = self.streams.get_mut(&id) else {
                    return self.fail(id, "SendData on a stream that is not open");
                };
                let ended = stream.local_end
                    || stream.queue.iter().any(|o| {
                        matches!(
                            o,
                            Out::Data {
                                end_stream: true,
                                ..
                            } | Out::Headers {
                                end_stream: true,
                                ..
                            }
                        )
                    });
                if ended {
                    return self.fail(id, "SendData after the end of the stream");
                }
                if !stream.headers_sent && stream.queue.is_empty() {
                    return self.fail(id, "SendData before SendHeaders");
                }
                stream.queue.push_back(Out::Data { data, end_stream });
                self.schedule(id);
                Ok(())
            }
            Action::Promise {
                stream,
                promised_stream,
                headers,
            } => self.act_promise(stream, promised_stream, headers),
            Action::Reset { stream, code } => {
                if self.streams.contains_key(&stream) {
                    let removed = self.streams.remove(&stream);
                    if let Some(s) = removed {
                        self.uncount(&s);
                    }
                    self.pending_open.retain(|&s| s != stream);
                    self.remember_reset(stream);
                    self.put(&Frame::RstStream(RstStreamFrame {
                        stream_id: stream,
                        code,
                    }));
                    self.open_pending();
                    Ok(())
                } else {
                    self.fail(stream, "Reset of a stream that is not open")
                }
            }
            Action::Ping(data) => {
                self.put(&Frame::Ping(PingFrame { ack: false, data }));
                Ok(())
            }
            Action::GoAway { code, debug } => {
                self.goaway(code, debug);
                if code != ErrorCode::NO_ERROR {
                    self.closing = true;
                }
                Ok(())
            }
            Action::Settings(params) => {
                self.send_settings(params);
                Ok(())
            }
        }
    }

    fn act_headers(
        &mut self,
        id: u32,
        headers: Headers,
        end_stream: bool,
    ) -> Result<(), ConnError> {
        if headers.list_size() > self.peer_max_header_list as usize {
            return self.fail(
                id,
                "header list larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE",
            );
        }
        if let Some(stream) = self.streams.get_mut(&id) {
            if stream.local_end
                || stream.queue.iter().any(|o| {
                    matches!(
                        o,
                        Out::Data {
                            end_stream: true,
                            ..
                        } | Out::Headers {
                            end_stream: true,
                            ..
                        }
                    )
                })
            {
                return self.fail(id, "SendHeaders after the end of the stream");
            }
            if stream.reserved && stream.local {
                // A pushed response: reserved (local) becomes half-closed (remote).
                stream.reserved = false;
                stream.counted = true;
                self.local_active += 1;
            }
            stream.queue.push_back(Out::Headers {
                fields: headers,
                end_stream,
            });
            self.schedule(id);
            return Ok(());
        }
        if self.is_peer_stream(id) || id == 0 {
            return self.fail(id, "SendHeaders on a stream that is not open");
        }
        if id <= self.last_local_stream {
            return self.fail(
                id,
                "SendHeaders opening a stream identifier lower than one already used (RFC 9113 §5.1.1)",
            );
        }
        if self.role == Role::Server {
            return self.fail(id, "a server opens streams only by Promise");
        }
        if self.goaway_received.is_some() || self.goaway_sent.is_some() {
            return self.fail(id, "SendHeaders after GOAWAY");
        }
        self.last_local_stream = id;
        let mut stream = Stream {
            local: true,
            send_window: i64::from(self.peer_initial_window),
            recv_window: i64::from(self.local_initial_window),
            waiting_open: true,
            ..Stream::default()
        };
        stream.queue.push_back(Out::Headers {
            fields: headers,
            end_stream,
        });
        self.streams.insert(id, stream);
        self.pending_open.push_back(id);
        self.open_pending();
        Ok(())
    }

    /// Opens waiting local streams, in identifier order, while the peer's concurrency
    /// limit allows (§5.1.2): their HEADERS are written now, so identifiers go out in
    /// increasing order.
    fn open_pending(&mut self) {
        while let Some(&id) = self.pending_open.front() {
            if self.local_active >= self.peer_max_concurrent {
                break;
            }
            self.pending_open.pop_front();
            let Some(stream) = self.streams.get_mut(&id) else {
                continue;
            };
            stream.waiting_open = false;
            stream.counted = true;
            self.local_active += 1;
            let Some(Out::Headers { fields, end_stream }) = stream.queue.pop_front() else {
                continue;
            };
            stream.headers_sent = true;
            if end_stream {
                stream.local_end = true;
            }
            self.write_headers(id, &fields, end_stream);
            self.schedule(id);
        }
    }

    fn act_promise(&mut self, id: u32, promised: u32, headers: Headers) -> Result<(), ConnError> {
        if self.role != Role::Server {
            return self.fail(id, "only a server can push");
        }
        if !self.peer_enable_push {
            return self.fail(id, "the client disabled push (SETTINGS_ENABLE_PUSH 0)");
        }
        if !promised.is_multiple_of(2) || promised <= self.last_local_stream {
            return self.fail(promised, "promised stream identifier not even and new");
        }
        match self.streams.get(&id) {
            Some(s) if !s.local && !s.local_end => {}
            _ => return self.fail(id, "Promise on a stream that is not open"),
        }
        self.last_local_stream = promised;
        self.streams.insert(
            promised,
            Stream {
                local: true,
                reserved: true,
                remote_end: true,
                headers_sent: true,
                send_window: i64::from(self.peer_initial_window),
                recv_window: 0,
                ..Stream::default()
            },
        );
        let mut block = BytesMut::new();
        self.encoder.encode(&headers, &mut block);
        let mut block = block.freeze();
        let first_len = block.len().min(self.peer_max_frame as usize - 4);
        let first = block.split_to(first_len);
        self.put(&Frame::PushPromise(PushPromiseFrame {
            stream_id: id,
            promised_stream_id: promised,
            block: first,
            end_headers: block.is_empty(),
            padding: None,
        }));
        self.put_continuations(id, block);
        Ok(())
    }

    fn schedule(&mut self, id: u32) {
        if let Some(stream) = self.streams.get_mut(&id) {
            if !stream.scheduled && !stream.waiting_open && sendable(stream) {
                stream.scheduled = true;
                self.ready.push_back(id);
            }
        }
    }

    /// HEADERS (and CONTINUATIONs) for `fields`, HPACK-encoded now (wire order).
    fn write_headers(&mut self, id: u32, fields: &Headers, end_stream: bool) {
        let mut block = BytesMut::new();
        self.encoder.encode(fields, &mut block);
        let mut block = block.freeze();
        let first = block.split_to(block.len().min(self.peer_max_frame as usize));
        self.put(&Frame::Headers(HeadersFrame::new(
            id,
            first,
            end_stream,
            block.is_empty(),
        )));
        self.put_continuations(id, block);
    }

    fn put_continuations(&mut self, id: u32, mut rest: Bytes) {
        while !rest.is_empty() {
            let piece = rest.split_to(rest.len().min(self.peer_max_frame as usize));
            self.put(&Frame::Continuation(ContinuationFrame {
                stream_id: id,
                block: piece,
                end_headers: rest.is_empty(),
            }));
        }
    }

    /// Moves queued output into the write buffer, round-robin over the streams, while
    /// the buffer is short and the windows allow (§6.9: sends wait for window).
    fn fill_data(&mut self) {
        let mut closed = Vec::new();
        while self.wbuf.len() < WRITE_HIGH_WATER {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            let conn_window = self.conn_send_window;
            let max_frame = self.peer_max_frame as usize;
            let Some(stream) = self.streams.get_mut(&id) else {
                continue;
            };
            stream.scheduled = false;
            let Some(out) = stream.queue.front_mut() else {
                continue;
            };
            match out {
                Out::Headers { .. } => {
                    let Some(Out::Headers { fields, end_stream }) = stream.queue.pop_front() else {
                        continue;
                    };
                    stream.headers_sent = true;
                    if end_stream {
                        stream.local_end = true;
                    }
                    self.write_headers(id, &fields, end_stream);
                }
                Out::Data { data, end_stream } => {
                    let window = stream.send_window.min(conn_window).max(0) as usize;
                    let n = data.len().min(window).min(max_frame);
                    if n == 0 && !data.is_empty() {
                        if stream.send_window > 0 {
                            // Blocked on the connection window: retry after an update.
                            stream.scheduled = true;
                            self.ready.push_front(id);
                            break;
                        }
                        continue; // rescheduled by the stream's WINDOW_UPDATE
                    }
                    let piece = data.split_to(n);
                    let last = data.is_empty();
                    let end = last && *end_stream;
                    stream.send_window -= n as i64;
                    self.conn_send_window -= n as i64;
                    if last {
                        stream.queue.pop_front();
                    }
                    if end {
                        stream.local_end = true;
                    }
                    frame::encode(&Frame::Data(DataFrame::new(id, piece, end)), &mut self.wbuf);
                }
            }
            let Some(stream) = self.streams.get_mut(&id) else {
                continue;
            };
            if sendable(stream) {
                stream.scheduled = true;
                self.ready.push_back(id);
            } else if stream.local_end && stream.remote_end && stream.queue.is_empty() {
                closed.push(id);
            }
        }
        for id in closed {
            self.maybe_close(id);
        }
    }
}

/// Whether the front of the stream's queue can go out now.
fn sendable(stream: &Stream) -> bool {
    match stream.queue.front() {
        Some(Out::Headers { .. }) => true,
        Some(Out::Data { data, .. }) => data.is_empty() || stream.send_window > 0,
        None => false,
    }
}
