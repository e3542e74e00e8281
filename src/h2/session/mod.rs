//! [`Session`]: one HTTP/2 connection driven by its own task, talked to through
//! [`Action`]s and [`Event`]s (HTTP2.jl's `Session`: `new_connection`, `put_act!`,
//! `take_evt!`, `next_free_stream_identifier`, `close`).

mod engine;
mod fields;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::frame::{ErrorCode, Setting};
use super::Headers;

/// Which end of the connection a session is (RFC 9113 §5.1.1: clients open odd streams,
/// servers even ones, by push).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends the connection preface and opens odd-numbered streams.
    Client,
    /// Expects the preface; may push on even-numbered streams.
    Server,
}

/// What the user asks the connection to do ([`Session::put_act`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Action {
    /// Sends a header block: a request, a response, an informational response, or
    /// trailers (after data, with `end_stream`). Opens the stream when it is new.
    SendHeaders {
        /// The stream.
        stream: u32,
        /// The fields, pseudo-headers first.
        headers: Headers,
        /// The last thing sent on the stream.
        end_stream: bool,
    },
    /// Sends data; it waits for flow-control window, in order, and is never dropped
    /// while the stream and the connection live.
    SendData {
        /// The stream.
        stream: u32,
        /// The bytes (split into frames as the peer's frame size and windows allow).
        data: Bytes,
        /// The last thing sent on the stream.
        end_stream: bool,
    },
    /// Server push (RFC 9113 §8.4): reserves `promised_stream` (even, from
    /// [`Session::next_free_stream_identifier`]) for the response to the request
    /// `headers`, announced on the client's `stream`.
    Promise {
        /// The client's stream the push relates to.
        stream: u32,
        /// The stream reserved for the pushed response.
        promised_stream: u32,
        /// The request the pushed response answers.
        headers: Headers,
    },
    /// Ends a stream at once with RST_STREAM.
    Reset {
        /// The stream.
        stream: u32,
        /// Why (`CANCEL` for a client that lost interest).
        code: ErrorCode,
    },
    /// Sends a PING; its answer arrives as [`Event::PingAck`].
    Ping([u8; 8]),
    /// Sends GOAWAY: with `NO_ERROR` the streams open so far finish; with any other
    /// code the connection closes once the frame is out.
    GoAway {
        /// Why.
        code: ErrorCode,
        /// Diagnostic bytes for the peer.
        debug: Bytes,
    },
    /// Sends SETTINGS; they apply to this side once the peer acknowledges them.
    Settings(Vec<Setting>),
}

/// What happened on the connection ([`Session::take_evt`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A header block arrived: a request (server), a response or informational response
    /// (client), or trailers (with `end_stream`).
    RecvHeaders {
        /// The stream.
        stream: u32,
        /// The fields.
        headers: Headers,
        /// The peer sends nothing more on the stream.
        end_stream: bool,
    },
    /// Data arrived. Taking this event gives its bytes back to the flow-control windows.
    RecvData {
        /// The stream.
        stream: u32,
        /// The bytes of one DATA frame, padding removed.
        data: Bytes,
        /// The peer sends nothing more on the stream.
        end_stream: bool,
    },
    /// The server promised to push the response to `headers` on `promised_stream`; its
    /// response headers and data follow as events on that stream.
    Promise {
        /// The client's stream the push relates to.
        stream: u32,
        /// The reserved stream.
        promised_stream: u32,
        /// The request the push answers.
        headers: Headers,
    },
    /// The peer sent GOAWAY: streams above `last_stream` that this side opened were not
    /// processed (each also gets an [`Event::Reset`] with `REFUSED_STREAM`).
    GoAway {
        /// The last stream the peer may have processed.
        last_stream: u32,
        /// Why.
        code: ErrorCode,
        /// The peer's diagnostic bytes.
        debug: Bytes,
    },
    /// The stream ended abnormally: the peer reset it, or it was refused by GOAWAY, or
    /// this side reset it for breaking a rule (then `local` is true).
    Reset {
        /// The stream.
        stream: u32,
        /// Why.
        code: ErrorCode,
        /// This side sent the RST_STREAM.
        local: bool,
    },
    /// The peer's SETTINGS, already applied and acknowledged.
    Settings(Vec<Setting>),
    /// The answer to an [`Action::Ping`].
    PingAck([u8; 8]),
    /// An action could not be carried out (an unknown or closed stream, a stream
    /// identifier out of order, data before headers, a push the peer disabled).
    ActionFailed {
        /// The stream the action named.
        stream: u32,
        /// Why.
        reason: String,
    },
    /// The connection ended with an error; no events follow.
    Error(SessionError),
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Reading or writing the transport failed.
    #[error("HTTP/2 connection I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A connection error (RFC 9113 §5.4.1): this side sent GOAWAY with `code`, or the
    /// peer did (`remote`).
    #[error("HTTP/2 connection error {code} ({}): {reason}", if *.remote { "from the peer" } else { "sent" })]
    Protocol {
        /// The error code.
        code: ErrorCode,
        /// What happened.
        reason: String,
        /// The peer ended the connection.
        remote: bool,
    },
    /// The session has ended; no more actions are taken.
    #[error("HTTP/2 session closed")]
    Closed,
}

/// Settings and limits of a [`Session`], with the protections against known floods.
///
/// ```
/// use httpstack::h2::{Role, Session};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (io, _peer) = tokio::io::duplex(64 * 1024);
/// let session = Session::builder(Role::Server)
///     .max_concurrent_streams(1000)
///     .initial_window_size(1 << 20)
///     .build(io);
/// # drop(session); }
/// ```
#[derive(Clone, Debug)]
pub struct SessionBuilder {
    pub(crate) role: Role,
    pub(crate) skip_preface: bool,
    pub(crate) max_concurrent_streams: u32,
    pub(crate) initial_window_size: u32,
    pub(crate) connection_window_size: u32,
    pub(crate) max_frame_size: u32,
    pub(crate) max_header_list_size: u32,
    pub(crate) header_table_size: u32,
    pub(crate) enable_push: bool,
    pub(crate) max_remote_resets: u32,
    pub(crate) max_pending_control: u32,
    pub(crate) max_empty_frames: u32,
    pub(crate) max_continuation_frames: u32,
}

impl SessionBuilder {
    /// Defaults: 100 concurrent streams, 64 KiB − 1 stream window (RFC default), 1 MiB
    /// connection window, 16 KiB frames, 64 KiB header lists, 4 KiB HPACK table, push
    /// accepted by clients; flood bounds below.
    pub fn new(role: Role) -> SessionBuilder {
        SessionBuilder {
            role,
            skip_preface: false,
            max_concurrent_streams: 100,
            initial_window_size: 65_535,
            connection_window_size: 1 << 20,
            max_frame_size: super::frame::DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: 64 * 1024,
            header_table_size: 4096,
            enable_push: role == Role::Client,
            max_remote_resets: 200,
            max_pending_control: 1024,
            max_empty_frames: 100,
            max_continuation_frames: 256,
        }
    }

    /// Skips the 24-byte client preface magic (neither sent nor expected): for a
    /// connection that already agreed on HTTP/2 another way, as HTTP2.jl's `skip_preface`.
    /// SETTINGS are still exchanged (RFC 9113 §3.4).
    pub fn skip_preface(mut self, skip: bool) -> Self {
        self.skip_preface = skip;
        self
    }

    /// `SETTINGS_MAX_CONCURRENT_STREAMS` we advertise: streams the peer opens beyond it
    /// are refused with `REFUSED_STREAM` (§5.1.2).
    pub fn max_concurrent_streams(mut self, n: u32) -> Self {
        self.max_concurrent_streams = n;
        self
    }

    /// `SETTINGS_INITIAL_WINDOW_SIZE` we advertise: how much each stream may send before
    /// the user takes its data.
    pub fn initial_window_size(mut self, n: u32) -> Self {
        self.initial_window_size = n.min(super::frame::MAX_WINDOW_SIZE);
        self
    }

    /// The connection receive window (raised from 65,535 by a WINDOW_UPDATE at start).
    pub fn connection_window_size(mut self, n: u32) -> Self {
        self.connection_window_size = n.clamp(65_535, super::frame::MAX_WINDOW_SIZE);
        self
    }

    /// `SETTINGS_MAX_FRAME_SIZE` we advertise (clamped to 2¹⁴..2²⁴−1).
    pub fn max_frame_size(mut self, n: u32) -> Self {
        self.max_frame_size = n.clamp(
            super::frame::DEFAULT_MAX_FRAME_SIZE,
            super::frame::MAX_MAX_FRAME_SIZE,
        );
        self
    }

    /// `SETTINGS_MAX_HEADER_LIST_SIZE` we advertise and enforce.
    pub fn max_header_list_size(mut self, n: u32) -> Self {
        self.max_header_list_size = n;
        self
    }

    /// `SETTINGS_HEADER_TABLE_SIZE` we advertise (our HPACK decoder's table).
    pub fn header_table_size(mut self, n: u32) -> Self {
        self.header_table_size = n;
        self
    }

    /// `SETTINGS_ENABLE_PUSH` (clients only; a server always sends 0).
    pub fn enable_push(mut self, on: bool) -> Self {
        self.enable_push = on && self.role == Role::Client;
        self
    }

    /// Streams the peer may reset before finishing, net of those that finish normally,
    /// before the connection ends with `ENHANCE_YOUR_CALM` (the rapid reset attack,
    /// CVE-2023-44487).
    pub fn max_remote_resets(mut self, n: u32) -> Self {
        self.max_remote_resets = n;
        self
    }

    /// Answers (PING and SETTINGS acknowledgements, RST_STREAM) queued while the peer
    /// does not read them, before `ENHANCE_YOUR_CALM` (the PING, SETTINGS and reset
    /// floods, CVE-2019-9512/9515/9514).
    pub fn max_pending_control(mut self, n: u32) -> Self {
        self.max_pending_control = n;
        self
    }

    /// DATA frames without payload nor END_STREAM (and empty CONTINUATIONs) in a row
    /// before `ENHANCE_YOUR_CALM` (CVE-2019-9518).
    pub fn max_empty_frames(mut self, n: u32) -> Self {
        self.max_empty_frames = n;
        self
    }

    /// CONTINUATION frames in one header block before `ENHANCE_YOUR_CALM` (the
    /// CONTINUATION flood, 2024); the block's bytes are bounded by the header list size.
    pub fn max_continuation_frames(mut self, n: u32) -> Self {
        self.max_continuation_frames = n;
        self
    }

    /// Starts the session over `io` on the current tokio runtime.
    pub fn build<T>(self, io: T) -> Session
    where
        T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (evt_tx, evt_rx) = mpsc::unbounded_channel();
        let role = self.role;
        let task = tokio::spawn(engine::Engine::new(io, self, cmd_rx, evt_tx).run());
        Session {
            commands: cmd_tx,
            events: tokio::sync::Mutex::new(evt_rx),
            next_stream: AtomicU32::new(if role == Role::Client { 1 } else { 2 }),
            role,
            task: Mutex::new(Some(task)),
        }
    }
}

pub(crate) enum Command {
    Act(Action),
    /// The user took `len` bytes of data of `stream`: window to give back.
    Credit {
        stream: u32,
        len: usize,
    },
    Close,
}

/// One HTTP/2 connection (RFC 9113), run by a task of its own; HTTP2.jl's `Session`.
///
/// [`put_act`](Session::put_act) queues an [`Action`] and returns at once;
/// [`take_evt`](Session::take_evt) waits for the next [`Event`]. Everything else the
/// protocol asks is done by the session itself: the preface and SETTINGS exchange and
/// acknowledgements, PING answers, flow control in both directions (a WINDOW_UPDATE goes
/// out as the user takes data; sends wait for window, queued), stream states and their
/// errors (§5.1), CONTINUATION assembly, HPACK, GOAWAY, the advertised limits, and
/// bounded counters against the known floods (see [`SessionBuilder`]).
///
/// A server that answers each request with 200 (the HTTP2.jl README's server):
///
/// ```
/// use httpstack::h2::{Action, Event, Headers, Role, Session};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::h2::SessionError> {
/// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
/// let server = Session::new(server_io, Role::Server);
/// let client = Session::new(client_io, Role::Client);
///
/// let stream = client.next_free_stream_identifier();
/// let request = Headers::from_iter([
///     (":method", "GET"), (":scheme", "http"), (":authority", "example"), (":path", "/"),
/// ]);
/// client.put_act(Action::SendHeaders { stream, headers: request, end_stream: true })?;
///
/// while let Some(event) = server.take_evt().await {
///     if let Event::RecvHeaders { stream, .. } = event {
///         let headers = Headers::from_iter([(":status", "200")]);
///         server.put_act(Action::SendHeaders { stream, headers, end_stream: false })?;
///         server.put_act(Action::SendData { stream, data: "hello".into(), end_stream: true })?;
///         break;
///     }
/// }
/// let mut body = Vec::new();
/// while let Some(event) = client.take_evt().await {
///     match event {
///         Event::RecvHeaders { headers, .. } => assert_eq!(headers.get(":status"), Some("200")),
///         Event::RecvData { data, end_stream, .. } => {
///             body.extend_from_slice(&data);
///             if end_stream { break; }
///         }
///         _ => {}
///     }
/// }
/// assert_eq!(body, b"hello");
/// client.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Session {
    commands: mpsc::UnboundedSender<Command>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>,
    next_stream: AtomicU32,
    role: Role,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Session {
    /// A session with default settings over `io` (TCP, a rustls stream,
    /// `tokio::io::duplex`, …), started on the current tokio runtime.
    pub fn new<T>(io: T, role: Role) -> Session
    where
        T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        SessionBuilder::new(role).build(io)
    }

    /// A builder for settings and limits.
    pub fn builder(role: Role) -> SessionBuilder {
        SessionBuilder::new(role)
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Queues `action` and returns at once; its outcome shows in events (an
    /// [`Event::ActionFailed`] when it could not be done).
    ///
    /// # Errors
    ///
    /// [`SessionError::Closed`] once the connection has ended.
    pub fn put_act(&self, action: Action) -> Result<(), SessionError> {
        self.commands
            .send(Command::Act(action))
            .map_err(|_| SessionError::Closed)
    }

    /// The next event; `None` once the connection has ended (after an
    /// [`Event::Error`] if it ended with one). Taking an [`Event::RecvData`] gives its
    /// bytes back to the flow-control windows, so a peer can send only as fast as the
    /// user takes.
    pub async fn take_evt(&self) -> Option<Event> {
        let event = self.events.lock().await.recv().await?;
        if let Event::RecvData { stream, data, .. } = &event {
            if !data.is_empty() {
                // The engine may have ended; then no window is owed.
                let _ = self.commands.send(Command::Credit {
                    stream: *stream,
                    len: data.len(),
                });
            }
        }
        Some(event)
    }

    /// The next stream identifier this side may open (odd for a client; even for a
    /// server's pushes), reserved for the caller. Streams must be opened in the order
    /// their identifiers were taken (RFC 9113 §5.1.1).
    pub fn next_free_stream_identifier(&self) -> u32 {
        self.next_stream.fetch_add(2, Ordering::Relaxed)
    }

    /// Sends GOAWAY (`NO_ERROR`), writes what is queued for the wire, closes the
    /// connection and waits for its task to end.
    pub async fn close(&self) {
        let _ = self.commands.send(Command::Close);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
