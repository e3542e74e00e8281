//! [`ServerBuilder`]: the server's options, from [`Server::bind`] to
//! [`ServerBuilder::serve`] or [`ServerBuilder::listen`].

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use httpstack_middleware::access_log::AccessLogLayer;
use rustls::ServerConfig;
use tokio::net::ToSocketAddrs;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::{Layer, Service};

use super::conn::accept::accept_loop;
use super::conn::connection::{ConnectionConfig, ConnectionFilter, ConnectionOptions};
use super::conn::connection_count::ConnectionCount;
use super::conn::listener::{bind, ListenOptions};
use super::conn::request_body::BodyBounds;
use super::conn::shutdown::{finish_shutdown, ShutdownHook};
use super::conn::timeouts::{Setting, Timeouts};
use super::handle::{Server, Shared};
use super::stream_service::{StreamHandler, StreamService};
use crate::tls;
use crate::{BoxError, Error};

/// HTTP.jl's `max_header_bytes` default: 1 MiB.
const DEFAULT_MAX_HEADER_BYTES: usize = 1024 * 1024;
/// HTTP.jl's `backlog` default.
const DEFAULT_BACKLOG: u32 = 128;

/// Options for a server; made by [`Server::bind`], started by [`serve`](Self::serve)
/// (request handlers) or [`listen`](Self::listen) (stream handlers).
///
/// By default a connection speaks HTTP/1.1 or HTTP/2 (by TLS ALPN, or h2c by prior
/// knowledge on plaintext), request heads are limited to 1 MiB and bodies are not, the
/// number of connections is unbounded, and [`Server::close`] waits as long as in-flight
/// requests take.
///
/// Unlike HTTP.jl, whose timeouts are all off (`0`) by default, two are on, so a client
/// cannot hold a connection for ever with a partial request head or nothing at all:
/// [`read_header_timeout`](Self::read_header_timeout) (30 s, hyper's) and
/// [`idle_timeout`](Self::idle_timeout) (60 s). Pass `None` to switch either off.
///
/// A timeout set to `None` or zero is off, as HTTP.jl's `0` is. Which option applies to
/// which protocol is in the [module docs](super#options).
///
/// ```
/// use std::time::Duration;
/// use httpstack::server::{handler_fn, Server};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let server = Server::bind("127.0.0.1:0")
///     .max_body_bytes(1024)
///     .read_timeout(Duration::from_secs(30))
///     .grace_period(Duration::from_secs(5))
///     .serve(handler_fn(|req: http::Request<httpstack::Body>| async move {
///         let body = req.into_body().collect_bytes().await.unwrap_or_default();
///         http::Response::new(format!("{} bytes", body.len()))
///     }))
///     .await?;
///
/// let url = format!("http://{}/upload", server.local_addr());
/// assert_eq!(httpstack::post(&url).body("hello").await?.text(), "5 bytes");
/// // Over `max_body_bytes`: 413, without reaching the handler.
/// let err = httpstack::post(&url).body(vec![0u8; 2048]).await.unwrap_err();
/// assert_eq!(err.status(), Some(http::StatusCode::PAYLOAD_TOO_LARGE));
/// server.close().await;
/// # Ok(())
/// # }
/// ```
#[must_use = "a ServerBuilder does nothing until `.serve(service).await`"]
pub struct ServerBuilder<A> {
    addr: A,
    tls: Option<Arc<ServerConfig>>,
    http1_only: bool,
    http2_only: bool,
    max_connections: Option<usize>,
    grace_period: Option<Duration>,
    on_shutdown: Vec<ShutdownHook>,
    read_timeout: Option<Duration>,
    read_header_timeout: Setting,
    write_timeout: Option<Duration>,
    idle_timeout: Setting,
    max_header_bytes: usize,
    max_body_bytes: Option<u64>,
    peer_addr: bool,
    backlog: u32,
    reuseaddr: bool,
    connection_filter: Option<ConnectionFilter>,
    http2_keep_alive_interval: Option<Duration>,
    http2_keep_alive_timeout: Option<Duration>,
    access_log: Option<AccessLogLayer>,
    access_log_error: Option<Error>,
}

/// Which HTTP versions connections may speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocols {
    Auto,
    Http1Only,
    Http2Only,
}

impl<A> ServerBuilder<A> {
    pub(crate) fn new(addr: A) -> Self {
        ServerBuilder {
            addr,
            access_log: None,
            access_log_error: None,
            tls: None,
            http1_only: false,
            http2_only: false,
            max_connections: None,
            grace_period: None,
            on_shutdown: Vec::new(),
            read_timeout: None,
            read_header_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_body_bytes: None,
            peer_addr: true,
            backlog: DEFAULT_BACKLOG,
            reuseaddr: false,
            connection_filter: None,
            http2_keep_alive_interval: None,
            http2_keep_alive_timeout: None,
        }
    }

    /// Serves HTTPS with this rustls config (see
    /// [`server_config_from_pem`](crate::tls::server_config_from_pem)). If the config offers no ALPN
    /// protocols, the server sets them: `h2` and `http/1.1`, or only the one allowed by
    /// [`http1_only`](Self::http1_only) / [`http2_only`](Self::http2_only).
    ///
    /// Default: plaintext (HTTP/1.1 and h2c by prior knowledge).
    pub fn tls(mut self, config: Arc<ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Speaks only HTTP/1.x. Default: HTTP/1.1 and HTTP/2.
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self
    }

    /// Speaks only HTTP/2: over TLS by ALPN `h2`, on plaintext only to clients that start
    /// with the HTTP/2 preface (h2c with prior knowledge; the HTTP/1.1 `Upgrade: h2c`
    /// dance is not supported, as RFC 9113 deprecates it). Default: HTTP/1.1 and HTTP/2.
    pub fn http2_only(mut self) -> Self {
        self.http2_only = true;
        self
    }

    /// Serves at most `n` connections at a time; further clients wait, unaccepted (in the
    /// [`backlog`](Self::backlog)), until one closes. Must be at least 1. Default:
    /// unbounded.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// Bounds how long [`Server::close`] lets in-flight requests run; connections still
    /// open after it are dropped. Default: none, `close` waits as long as they take.
    pub fn grace_period(mut self, grace_period: Duration) -> Self {
        self.grace_period = Some(grace_period);
        self
    }

    /// Adds a function to run once the server has stopped, after its last connection
    /// ended (HTTP.jl `on_shutdown`). Hooks run in the order added, on a close or a force
    /// close alike. Default: none.
    pub fn on_shutdown(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.on_shutdown.push(Box::new(hook));
        self
    }

    /// HTTP.jl `read_timeout`: the longest a request body may keep the handler waiting
    /// for its next piece. A read that waits longer fails with a read-timeout error
    /// ([`Error::timeout_kind`] is [`TimeoutKind::Read`](crate::TimeoutKind::Read)), and
    /// the client gets `408 Request Timeout` if the handler had not answered yet (HTTP/1
    /// then closes the connection). The same on HTTP/1 and HTTP/2, enforced on the body
    /// the handler reads. It also bounds
    /// [`read_header_timeout`](Self::read_header_timeout), and stands in for
    /// [`idle_timeout`](Self::idle_timeout) when that is not set, as in Go.
    ///
    /// Default: none (HTTP.jl `read_timeout_ns=0`).
    pub fn read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.read_timeout = timeout.into();
        self
    }

    /// HTTP.jl `read_header_timeout`: the longest a request head may take, from its first
    /// byte — for a connection's first request, from the accept, TLS handshake included
    /// (so a client that connects and stays silent is dropped). A client dribbling its
    /// head is cut off: the connection is dropped without a response, as Go does.
    ///
    /// HTTP/1 heads, and the TLS handshake and HTTP/2 preface of every connection. (HTTP/2
    /// request heads are frames on an open connection; an idle one is ended by
    /// [`idle_timeout`](Self::idle_timeout).)
    ///
    /// Default: 30 s (hyper's), or [`read_timeout`](Self::read_timeout) when that is set
    /// — a departure from HTTP.jl's `read_header_timeout_ns=0`, so that a client cannot
    /// hold a connection with a partial head. `None` switches it off. (hyper's own timer
    /// is not used: it cannot tell an idle keep-alive connection from a slow head.)
    pub fn read_header_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.read_header_timeout = Some(timeout.into());
        self
    }

    /// HTTP.jl `write_timeout` (Go's `WriteTimeout`): the longest from a request head
    /// having been read to its response having been written, body included.
    ///
    /// HTTP/1: past it the connection is dropped — whether the handler is slow or the
    /// client does not read. HTTP/2: the stream is reset (`CANCEL`) if by then its
    /// handler has not answered, its body is still running, or the client's flow control
    /// still holds back any of it; the connection's other streams go on. To keep a
    /// body's last chunk inside that bound too, the server sends the last byte of a last
    /// chunk over 16 KiB in a `DATA` frame of its own. What the client's flow control
    /// holds back of a smaller last chunk, or of one whose trailers are not ready with it,
    /// waits with no bound.
    ///
    /// Default: none (HTTP.jl `write_timeout_ns=0`).
    pub fn write_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.write_timeout = timeout.into();
        self
    }

    /// HTTP.jl `idle_timeout`: the longest a keep-alive connection may wait, after its
    /// last response, for the first byte of another request; then it is closed
    /// gracefully (HTTP/2: GOAWAY once no stream is open for that long). A connection
    /// still idle a [`read_header_timeout`](Self::read_header_timeout) after that (an
    /// HTTP/2 client holding a header block without its END_HEADERS, say) is dropped.
    /// hyper has no such timeout for HTTP/1; the server tracks connection activity itself.
    ///
    /// Default: 60 s, or [`read_timeout`](Self::read_timeout) when that is set, as in Go —
    /// a departure from HTTP.jl's `idle_timeout_ns=0`. `None` switches it off.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = Some(timeout.into());
        self
    }

    /// HTTP.jl `max_header_bytes`: the largest request head, in bytes.
    ///
    /// HTTP/1: the request line, the header lines and the blank line after them; a head
    /// of exactly `n` bytes is served, one byte more gets `431 Request Header Fields Too
    /// Large` and the connection closes. HTTP/2: the header list as RFC 9113 §6.5.2
    /// counts it — decoded names and values plus 32 bytes per field, pseudo-headers
    /// included — announced in SETTINGS_MAX_HEADER_LIST_SIZE; exactly `n` is served, a
    /// larger one gets a 431 on its stream.
    ///
    /// Default: 1 MiB (HTTP.jl `max_header_bytes=1*1024*1024`). Must be at least 1.
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.max_header_bytes = n;
        self
    }

    /// The largest request body, in bytes. A request whose `Content-Length` is over it
    /// gets `413 Content Too Large` without reaching the handler. A body without a length
    /// (chunked, or HTTP/2 without `content-length`) that grows past it fails the
    /// handler's read that would pass byte `n`, with an error for which
    /// [`Error::is_body_too_large`] holds, and the client gets 413 if the handler had not
    /// answered yet — exactly `n` bytes are fine, `n + 1` are not. HTTP/1 then closes the
    /// connection. The same on HTTP/1 and HTTP/2, enforced on the body the handler reads.
    ///
    /// Default: none (HTTP.jl has no such limit).
    pub fn max_body_bytes(mut self, n: u64) -> Self {
        self.max_body_bytes = Some(n);
        self
    }

    /// HTTP.jl `backlog`: how many connections the kernel may queue, accepted by it but
    /// not yet by the server. Default: 128 (HTTP.jl's).
    pub fn backlog(mut self, n: u32) -> Self {
        self.backlog = n;
        self
    }

    /// HTTP.jl `reuseaddr`: lets several servers, in this process or others, listen on the
    /// same port at once; the kernel spreads new connections between them (SO_REUSEPORT
    /// on Unix, SO_REUSEADDR on Windows). SO_REUSEADDR's other meaning — binding a port
    /// that old connections still hold in TIME_WAIT — is always on (Unix), as in tokio.
    /// Default: `false` (HTTP.jl 1.x).
    pub fn reuseaddr(mut self, reuse: bool) -> Self {
        self.reuseaddr = reuse;
        self
    }

    /// Whether every request carries the client's address in its extensions as a
    /// [`PeerAddr`](super::PeerAddr), for handlers and the access log to read (Go's
    /// `Request.RemoteAddr`, axum's `ConnectInfo`). On by default (one extension insert
    /// per request); `false` saves it for a handler that never asks, except with an
    /// [`access_log`](Self::access_log), whose `$remote_addr` reads it, and for stream
    /// handlers ([`listen`](Self::listen)), whose
    /// [`Stream::peer_addr`](super::Stream::peer_addr) does.
    ///
    /// ```
    /// # use httpstack::server::{handler_fn, PeerAddr, Server};
    /// # async fn run() -> Result<(), httpstack::Error> {
    /// let server = Server::bind("127.0.0.1:0")
    ///     .serve(handler_fn(|req: http::Request<httpstack::Body>| async move {
    ///         match req.extensions().get::<PeerAddr>() {
    ///             Some(PeerAddr(addr)) => http::Response::new(format!("you are {addr}")),
    ///             None => http::Response::new(String::from("unknown")),
    ///         }
    ///     }))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn peer_addr(mut self, enabled: bool) -> Self {
        self.peer_addr = enabled;
        self
    }

    /// HTTP.jl `tcpisvalid`: called with each accepted client's address; a connection it
    /// returns `false` for is closed at once, before any byte is read. A filter that
    /// panics refuses. Default: every connection is served.
    ///
    /// ```
    /// # use httpstack::server::{handler_fn, Server};
    /// # async fn run() -> Result<(), httpstack::Error> {
    /// let server = Server::bind("0.0.0.0:8080")
    ///     .connection_filter(|peer| peer.ip().is_loopback())
    ///     .serve(handler_fn(|_req| async { http::Response::new(String::from("local only")) }))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn connection_filter(
        mut self,
        filter: impl Fn(SocketAddr) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.connection_filter = Some(Arc::new(filter));
        self
    }

    /// HTTP/2 only: sends a PING every `interval` and closes a connection whose peer does
    /// not answer within [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout), so
    /// dead peers do not hold streams forever (hyper's `keep_alive_interval`). Default:
    /// none.
    pub fn http2_keep_alive_interval(mut self, interval: impl Into<Option<Duration>>) -> Self {
        self.http2_keep_alive_interval = interval.into();
        self
    }

    /// HTTP/2 only: how long to wait for a keep-alive PING's answer. Default: 20 s
    /// (hyper's); only used with
    /// [`http2_keep_alive_interval`](Self::http2_keep_alive_interval).
    pub fn http2_keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.http2_keep_alive_timeout = Some(timeout);
        self
    }

    /// HTTP.jl `access_log`: one line per request in HTTP.jl's `logfmt` variables
    /// (`$remote_addr`, `$request`, `$status`, `$body_bytes_sent`, `$http_<name>`, ...; see
    /// [`httpstack_middleware::access_log`]), to `tracing` (target `httpstack::access_log`),
    /// which prints nothing without a subscriber: use [`access_log_layer`](Self::access_log_layer)
    /// with `AccessLogLayer::new(format)?.to_stderr()` (or `.writer(file)`) to write lines
    /// without one. The format is parsed here: an unknown variable makes `serve` fail at start-up with
    /// an invalid-input error naming it. Default: no access log.
    pub fn access_log(mut self, format: &str) -> Self {
        match AccessLogLayer::new(format) {
            Ok(layer) => self.access_log = Some(layer),
            Err(e) => self.access_log_error = Some(e),
        }
        self
    }

    /// Like [`ServerBuilder::access_log`] with a ready layer, e.g. one that writes to a
    /// file: `AccessLogLayer::new(format)?.writer(file)`.
    pub fn access_log_layer(mut self, layer: AccessLogLayer) -> Self {
        self.access_log = Some(layer);
        self
    }

    fn protocols(&self) -> Result<Protocols, Error> {
        match (self.http1_only, self.http2_only) {
            (false, false) => Ok(Protocols::Auto),
            (true, false) => Ok(Protocols::Http1Only),
            (false, true) => Ok(Protocols::Http2Only),
            (true, true) => Err(Error::invalid_input(
                "http1_only and http2_only cannot both be set",
            )),
        }
    }
}

impl<A: ToSocketAddrs> ServerBuilder<A> {
    /// Binds the address and starts serving `service` in background tasks, returning the
    /// [`Server`] handle at once (HTTP.jl `serve!`).
    ///
    /// `service` is any tower service for `http::Request<httpstack::Body>`: a
    /// [`handler_fn`](super::handler_fn) closure, an httpstack router, an axum `Router`.
    /// With [`peer_addr`](Self::peer_addr), every request carries the client's address
    /// as a [`PeerAddr`](super::PeerAddr) extension. Must be called within a tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// An invalid-input error for conflicting options (`http1_only` with `http2_only`,
    /// `max_connections(0)`, `max_header_bytes(0)`); a server error when the address
    /// cannot be bound.
    pub async fn serve<S, B>(mut self, service: S) -> Result<Server, Error>
    where
        S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if let Some(err) = self.access_log_error.take() {
            return Err(err);
        }
        // Outermost, so it sees every request with its PeerAddr and the final status (the
        // 500s of failed handlers are made further in; the 400s, 413s and 431s the
        // connection answers itself never reach a service). Two monomorphic paths rather
        // than an `Either`: no cost at all when the log is off.
        match self.access_log.take() {
            Some(layer) => {
                self.peer_addr = true;
                self.serve_service(layer.layer(service)).await
            }
            None => self.serve_service(service).await,
        }
    }

    async fn serve_service<S, B>(self, service: S) -> Result<Server, Error>
    where
        S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let protocols = self.protocols()?;
        let slots = match self.max_connections {
            Some(0) => return Err(Error::invalid_input("max_connections must be at least 1")),
            Some(n) => Some(Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))),
            None => None,
        };
        if self.max_header_bytes == 0 {
            return Err(Error::invalid_input("max_header_bytes must be at least 1"));
        }
        let listener = bind(
            self.addr,
            ListenOptions {
                backlog: self.backlog,
                reuseaddr: self.reuseaddr,
            },
        )
        .await?;
        let local_addr = listener
            .local_addr()
            .map_err(|err| Error::server(err).with_message("cannot read the bound address"))?;

        let tls = self
            .tls
            .map(|config| TlsAcceptor::from(tls::with_alpn(config, protocols)));
        let options = ConnectionOptions {
            timeouts: Timeouts::new(
                self.read_timeout,
                self.read_header_timeout,
                self.write_timeout,
                self.idle_timeout,
            ),
            max_header_bytes: self.max_header_bytes,
            body: BodyBounds {
                max_body_bytes: self.max_body_bytes,
                read_timeout: self.read_timeout.filter(|timeout| !timeout.is_zero()),
            },
            http2_keep_alive_interval: self.http2_keep_alive_interval,
            http2_keep_alive_timeout: self.http2_keep_alive_timeout,
            peer_addr: self.peer_addr,
        };
        let config = Arc::new(ConnectionConfig::new(
            protocols,
            tls,
            options,
            self.connection_filter,
        ));
        let (stopped_tx, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            local_addr,
            closing: CancellationToken::new(),
            killing: CancellationToken::new(),
            connections: ConnectionCount::new(),
            stopped,
        });

        let (grace_period, hooks) = (self.grace_period, self.on_shutdown);
        let task_shared = shared.clone();
        tokio::spawn(async move {
            accept_loop(listener, config, service, slots, task_shared.clone()).await;
            // The listener is dropped by now: the port is free while connections drain.
            finish_shutdown(&task_shared, grace_period, hooks).await;
            stopped_tx.send_replace(true);
        });
        tracing::debug!(addr = %local_addr, "server listening");
        Ok(Server::from_shared(shared))
    }

    /// Binds the address and starts serving the stream handler `handler` in background
    /// tasks, returning the [`Server`] handle at once (HTTP.jl `listen!`). See
    /// [`listen`](super::listen) and [`Stream`](super::Stream).
    ///
    /// # Errors
    ///
    /// As [`serve`](Self::serve).
    pub async fn listen<H: StreamHandler>(mut self, handler: H) -> Result<Server, Error> {
        self.peer_addr = true;
        self.serve(StreamService::new(handler)).await
    }
}

impl<A: fmt::Debug> fmt::Debug for ServerBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("addr", &self.addr)
            .field("tls", &self.tls.is_some())
            .field("http1_only", &self.http1_only)
            .field("http2_only", &self.http2_only)
            .field("max_connections", &self.max_connections)
            .field("grace_period", &self.grace_period)
            .field("on_shutdown", &self.on_shutdown.len())
            .field("read_timeout", &self.read_timeout)
            .field("read_header_timeout", &self.read_header_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("backlog", &self.backlog)
            .field("reuseaddr", &self.reuseaddr)
            .field("connection_filter", &self.connection_filter.is_some())
            .field("http2_keep_alive_interval", &self.http2_keep_alive_interval)
            .field("http2_keep_alive_timeout", &self.http2_keep_alive_timeout)
            .finish()
    }
}
