//! [`serve_connection`]: one accepted connection, from TLS handshake to close.
//!
//! The protocol is picked per connection, as hyper-util's auto builder does, but here so
//! that hyper's own HTTP/1 and HTTP/2 builders can be used with every option they have
//! (hyper-util's HTTP/1 builder lacks `max_header_size`): TLS ALPN decides when it was
//! negotiated; otherwise the first bytes do — the HTTP/2 preface (RFC 9113 §3.4) means
//! h2c by prior knowledge, anything else HTTP/1.1. Those bytes are replayed to hyper.
//!
//! The connection task then drives hyper's connection future together with the
//! connection's [`ConnectionTimers`] (idle, header and write timeouts) and the server's
//! close signals.

use std::fmt::Display;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::WaitForCancellationFuture;
use tower::Service;

use super::activity::Activity;
use super::connection_count::ConnectionGuard;
use super::connection_io::ConnectionIo;
use super::connection_service::{ConnectionService, RequestLimits};
use super::pipelining::{FlushHeld, PipelineCounters, Pipelining};
use super::request_body::BodyBounds;
use super::stream_deadline::{SplitEndService, StreamExecutor};
use super::timeouts::{ConnectionTimers, Timeouts, TimerAction};
use crate::server::builder::Protocols;
use crate::server::handle::Shared;
use crate::BoxError;

/// HTTP.jl's `tcpisvalid`: decides, from the client's address, whether to serve it.
pub(crate) type ConnectionFilter = Arc<dyn Fn(SocketAddr) -> bool + Send + Sync + 'static>;

/// hyper's HTTP/1 read buffer limit (`DEFAULT_MAX_BUFFER_SIZE`); a head that does not
/// fit is a 431 there too, so a larger `max_header_bytes` raises the buffer with it.
const HYPER_MAX_BUF_SIZE: usize = 8192 + 4096 * 100;

/// The HTTP/2 preface a client sends first (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The options of one server's connections.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionOptions {
    pub(crate) timeouts: Timeouts,
    pub(crate) max_header_bytes: usize,
    /// `max_body_bytes` and `read_timeout`, on each request body.
    pub(crate) body: BodyBounds,
    pub(crate) http2_keep_alive_interval: Option<Duration>,
    pub(crate) http2_keep_alive_timeout: Option<Duration>,
    /// Every request gets a [`PeerAddr`](super::PeerAddr) extension.
    pub(crate) peer_addr: bool,
}

/// What every connection of one server is served with.
pub(crate) struct ConnectionConfig {
    protocols: Protocols,
    http1: http1::Builder,
    http2: http2::Builder<StreamExecutor>,
    tls: Option<TlsAcceptor>,
    options: ConnectionOptions,
    pub(crate) connection_filter: Option<ConnectionFilter>,
}

impl ConnectionConfig {
    pub(crate) fn new(
        protocols: Protocols,
        tls: Option<TlsAcceptor>,
        options: ConnectionOptions,
        connection_filter: Option<ConnectionFilter>,
    ) -> Self {
        let mut http1 = http1::Builder::new();
        // Head timeouts are the connection timers' job: hyper's starts while the
        // connection is still idle, so it cannot tell idle from slow.
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .max_header_size(options.max_header_bytes);
        if options.max_header_bytes > HYPER_MAX_BUF_SIZE {
            http1.max_buf_size(options.max_header_bytes);
        }
        let mut http2 = http2::Builder::new(StreamExecutor);
        // h2 refuses a header list whose size is >= its setting, where RFC 9113 §6.5.2
        // makes the setting the largest accepted: one more makes `max_header_bytes` the
        // largest accepted. HTTP/2 keep-alive pings only run with a timer.
        let max_header_list = options.max_header_bytes.saturating_add(1);
        http2
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(max_header_list).unwrap_or(u32::MAX))
            // RFC 8441: WebSockets over HTTP/2 (extended CONNECT, see `ws::upgrade`).
            .enable_connect_protocol();
        if let Some(interval) = options.http2_keep_alive_interval {
            http2.keep_alive_interval(interval);
            if let Some(timeout) = options.http2_keep_alive_timeout {
                http2.keep_alive_timeout(timeout);
            }
        }
        ConnectionConfig {
            protocols,
            http1,
            http2,
            tls,
            options,
            connection_filter,
        }
    }

    /// Whether connections track their [`Activity`]: only with connection timeouts, so
    /// a server without them pays nothing for it.
    fn tracks_activity(&self) -> bool {
        self.options.timeouts.any_connection_timer()
    }
}

/// Serves `stream` until the client is done, the server closes it gracefully, it is
/// force-closed, or a timeout ends it. `guard` and `permit` are held until then: they are
/// the connection's place in `Server::connections` and in `max_connections`.
pub(crate) async fn serve_connection<S, B>(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ConnectionConfig>,
    service: S,
    shared: Arc<Shared>,
    guard: ConnectionGuard,
    permit: Option<OwnedSemaphorePermit>,
) where
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let _held = (guard, permit);
    let accepted = Instant::now();
    // The first request's head — TLS handshake and protocol detection included — is
    // bounded by read_header_timeout from the accept, as in Go.
    let head_deadline = config
        .options
        .timeouts
        .header
        .and_then(|d| accepted.checked_add(d));
    let connection = Connection {
        config: &config,
        peer,
        shared: &shared,
        accepted,
        head_deadline,
    };
    match &config.tls {
        None => connection.serve(stream, None, service).await,
        // Boxed: a TLS session and its handshake are several KB, which every connection's
        // task would otherwise carry. With HTTP/2's state boxed too (see `serve`), a
        // plaintext HTTP/1 connection's task is 2.5 KB rather than 10.3 KB.
        Some(acceptor) => {
            Box::pin(async move {
                let tls = tokio::select! {
                    handshake = before(head_deadline, acceptor.accept(stream)) => match handshake {
                        Some(Ok(tls)) => tls,
                        Some(Err(err)) => {
                            tracing::debug!(%peer, error = %err, "TLS handshake failed");
                            return;
                        }
                        None => {
                            tracing::debug!(%peer, "TLS handshake not done within read_header_timeout");
                            return;
                        }
                    },
                    // No request has started yet, so closing (gracefully or not) drops it.
                    () = connection.shared.closing.cancelled() => return,
                };
                let alpn_h2 = tls.get_ref().1.alpn_protocol().map(|alpn| alpn == b"h2");
                connection.serve(tls, alpn_h2, service).await;
            })
            .await
        }
    }
}

/// One connection being served.
struct Connection<'a> {
    config: &'a ConnectionConfig,
    peer: SocketAddr,
    shared: &'a Shared,
    accepted: Instant,
    head_deadline: Option<Instant>,
}

impl Connection<'_> {
    /// Picks the protocol (`alpn_h2`: what TLS ALPN chose, if it chose) and serves it.
    async fn serve<I, S, B>(self, mut io: I, alpn_h2: Option<bool>, service: S)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        // What TLS ALPN or the options already decided; `None`: the first bytes decide.
        let decided = match (self.config.protocols, alpn_h2) {
            (Protocols::Http1Only, _) | (Protocols::Auto, Some(false)) => Some(false),
            (Protocols::Http2Only, _) | (Protocols::Auto, Some(true)) => Some(true),
            (Protocols::Auto, None) => None,
        };
        // An HTTP/1 connection is served at once (its head is timed by the connection
        // timers). Any other starts with reading its first bytes — the HTTP/2 preface,
        // if it is HTTP/2 — within read_header_timeout, which hyper's HTTP/2 has no
        // equivalent of.
        let (http2, prefix) = if decided == Some(false) {
            (false, Bytes::new())
        } else {
            let detected = tokio::select! {
                detected = before(self.head_deadline, detect_http2(&mut io)) => detected,
                () = self.shared.closing.cancelled() => return,
            };
            match detected {
                // Not the preface on an HTTP/2-only connection: hyper refuses it.
                Some(Ok(Some((preface, bytes)))) => (decided.unwrap_or(preface), bytes),
                Some(Ok(None)) => return, // closed before sending anything
                Some(Err(err)) => {
                    tracing::debug!(peer = %self.peer, error = %err, "reading the first request failed");
                    return;
                }
                None => {
                    tracing::debug!(peer = %self.peer, "no request within read_header_timeout");
                    return;
                }
            }
        };
        let http1 = !http2;
        let options = &self.config.options;
        let activity = self
            .config
            .tracks_activity()
            .then(|| Arc::new(Activity::new(self.accepted, Instant::now(), http1)));
        let io = match &activity {
            None => ConnectionIo::plain(io, prefix),
            Some(activity) => ConnectionIo::watched(io, prefix, activity.clone(), http1),
        };
        // HTTP/1: responses to pipelined requests are written together.
        let pipeline = http1.then(|| Arc::new(PipelineCounters::default()));
        let io = match &pipeline {
            Some(counters) => io.with_pipelining(Pipelining::new(counters.clone())),
            None => io,
        };
        let timers = activity
            .clone()
            .filter(|_| options.timeouts.any_connection_timer())
            .map(|activity| ConnectionTimers::new(activity, options.timeouts, http1));
        let limits = RequestLimits {
            body: options.body,
            connection_write_timeout: options.timeouts.write.filter(|_| http1),
            stream_write_timeout: options.timeouts.write.filter(|_| http2),
        };
        let peer = options.peer_addr.then_some(self.peer);
        let service = ConnectionService::new(service, peer, activity, limits, pipeline.clone());
        let io = TokioIo::new(io);
        if http2 {
            // Boxed, as h2's connection state is large and HTTP/1 connections, the many,
            // need not carry room for it.
            let service = SplitEndService::new(service, options.timeouts.write.is_some());
            let (config, peer, shared) = (self.config, self.peer, self.shared);
            Box::pin(async move {
                let conn = config.http2.serve_connection(io, service);
                until_done(conn, timers, peer, shared).await;
            })
            .await;
        } else {
            // With upgrades, so WebSocket handlers can take the connection over.
            let conn = self
                .config
                .http1
                .serve_connection(io, service)
                .with_upgrades();
            match pipeline {
                Some(counters) => {
                    let conn = FlushHeld::new(conn, counters);
                    until_done(conn, timers, self.peer, self.shared).await;
                }
                None => until_done(conn, timers, self.peer, self.shared).await,
            }
        }
    }
}

/// `future`'s output, or `None` if `deadline` comes first.
async fn before<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
    }
}

/// Reads until the bytes so far are the HTTP/2 preface or cannot become it; returns
/// whether they are, and the bytes, for hyper to read again. `None`: the client closed
/// before sending anything.
async fn detect_http2<I: AsyncRead + Unpin>(io: &mut I) -> io::Result<Option<(bool, Bytes)>> {
    let mut buf = [0u8; H2_PREFACE.len()];
    let mut len = 0;
    while len < buf.len() {
        let n = io.read(&mut buf[len..]).await?;
        if n == 0 {
            return match len {
                0 => Ok(None),
                _ => Err(io::ErrorKind::UnexpectedEof.into()),
            };
        }
        len += n;
        if buf[..len] != H2_PREFACE[..len] {
            return Ok(Some((false, Bytes::copy_from_slice(&buf[..len]))));
        }
    }
    Ok(Some((true, Bytes::from_static(H2_PREFACE))))
}

/// Drives `conn` to its end, starting a graceful shutdown when the server closes or the
/// connection idles out, and dropping it when the server is force-closed or a request
/// head or response misses its timeout.
async fn until_done<C: GracefulConnection>(
    conn: C,
    mut timers: Option<ConnectionTimers>,
    peer: SocketAddr,
    shared: &Shared,
) {
    tokio::pin!(conn);
    let mut signals = Signals::new(shared);
    let mut draining = false;
    std::future::poll_fn(move |cx| loop {
        match signals.poll_next(cx) {
            // Dropping `conn` closes the socket and drops the in-flight handler futures.
            Poll::Ready(Signal::Kill) => return Poll::Ready(()),
            Poll::Ready(Signal::Close) => {
                // HTTP/1: finish the current response, then close instead of keeping
                // alive; HTTP/2: GOAWAY, then finish the open streams.
                if !draining {
                    conn.as_mut().graceful_shutdown();
                    draining = true;
                }
            }
            Poll::Pending => {}
        }
        if let Poll::Ready(served) = conn.as_mut().poll(cx) {
            if let Err(err) = served {
                // Peers reset and vanish all the time; not worth more than debug.
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            return Poll::Ready(());
        }
        // After the connection, so the phase changes it made are seen.
        let Some(timers) = timers.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(timers).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(TimerAction::Idle) => {
                tracing::debug!(%peer, "idle_timeout: closing the connection");
                if !draining {
                    conn.as_mut().graceful_shutdown();
                    draining = true;
                }
                // Polled again, for the shutdown to start.
            }
            Poll::Ready(TimerAction::HeaderTimeout) => {
                tracing::debug!(%peer, "read_header_timeout: dropping the connection");
                return Poll::Ready(());
            }
            Poll::Ready(TimerAction::WriteTimeout) => {
                tracing::debug!(%peer, "write_timeout: dropping the connection");
                return Poll::Ready(());
            }
            Poll::Ready(TimerAction::Drained) => {
                tracing::debug!(%peer, "idle connection did not close: dropping it");
                return Poll::Ready(());
            }
        }
    })
    .await;
}

/// What the server asks of its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    /// Finish gracefully.
    Close,
    /// Stop now.
    Kill,
}

/// The server's close and kill signals, for one connection. They wake its task rarely,
/// but the task wakes for every request: they are polled only after one of them woke it
/// (and on the first poll), as polling a cancellation future locks its token.
struct Signals<'a> {
    killed: Pin<Box<WaitForCancellationFuture<'a>>>,
    /// `None` once reported.
    closed: Option<Pin<Box<WaitForCancellationFuture<'a>>>>,
    gate: Arc<Gate>,
    // The waker last handed to `gate`: registering again is two atomic swaps per poll,
    // and a spawned task's waker does not change.
    registered: Option<Waker>,
}

/// Whether a signal woke, and the task to wake then.
struct Gate {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Gate {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<'a> Signals<'a> {
    fn new(shared: &'a Shared) -> Self {
        let gate = Gate {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        };
        Signals {
            killed: Box::pin(shared.killing.cancelled()),
            closed: Some(Box::pin(shared.closing.cancelled())),
            gate: Arc::new(gate),
            registered: None,
        }
    }

    /// The next signal: `Close` at most once, then `Kill`.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Signal> {
        // A wake-up takes the registered waker and sets the flag, so while the flag is clear
        // the waker registered last is still there: it is registered again only after a
        // wake-up or when the task's waker changed.
        let mut woken = self.gate.woken.load(Ordering::Acquire);
        if woken
            || !self
                .registered
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            self.gate.task.register(cx.waker());
            self.registered = Some(cx.waker().clone());
            // Read again: a wake-up before this registration went to the old waker.
            woken = self.gate.woken.load(Ordering::Acquire);
        }
        // Not registered anew: a wake-up after the load finds this task's waker still
        // registered and wakes it again, so the next poll sees it.
        if !woken {
            return Poll::Pending;
        }
        self.gate.woken.store(false, Ordering::Release);
        let waker = Waker::from(self.gate.clone());
        let mut gated = Context::from_waker(&waker);
        if self.killed.as_mut().poll(&mut gated).is_ready() {
            return Poll::Ready(Signal::Kill);
        }
        if let Some(closed) = &mut self.closed {
            if closed.as_mut().poll(&mut gated).is_ready() {
                self.closed = None;
                return Poll::Ready(Signal::Close);
            }
        }
        Poll::Pending
    }
}

/// A hyper connection future that can be asked to finish gracefully. hyper-util has
/// such a trait, but it is sealed.
trait GracefulConnection: Future<Output = Result<(), Self::Error>> {
    type Error: Display;
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for http1::UpgradeableConnection<I, S>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    type Error = hyper::Error;
    fn graceful_shutdown(self: Pin<&mut Self>) {
        http1::UpgradeableConnection::graceful_shutdown(self);
    }
}

impl<C: GracefulConnection> GracefulConnection for FlushHeld<C> {
    type Error = C::Error;
    fn graceful_shutdown(self: Pin<&mut Self>) {
        self.conn().graceful_shutdown();
    }
}

impl<I, S, B> GracefulConnection for http2::Connection<I, S, StreamExecutor>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    StreamExecutor: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    type Error = hyper::Error;
    fn graceful_shutdown(self: Pin<&mut Self>) {
        http2::Connection::graceful_shutdown(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn detects_the_http2_preface_or_anything_else() {
        let cases: [(&[u8], Option<bool>); 4] = [
            (H2_PREFACE, Some(true)),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", Some(false)),
            (b"PRI * HTTP/1.1\r\n", Some(false)),
            (b"", None),
        ];
        for (input, expected) in cases {
            let (mut client, mut server) = tokio::io::duplex(64);
            // Byte by byte, so detection sees partial prefaces.
            for byte in input {
                client.write_all(&[*byte]).await.expect("write");
            }
            drop(client);
            let detected = detect_http2(&mut server).await.expect("detect");
            assert_eq!(
                detected.as_ref().map(|(h2, _)| *h2),
                expected,
                "case {:?}",
                String::from_utf8_lossy(input)
            );
            if let Some((_, replay)) = detected {
                assert!(input.starts_with(&replay), "replayed bytes are the input's");
            }
        }
    }
}
