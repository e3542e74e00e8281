//! [`ServerBuilder`]: the server's options, from [`Server::bind`] to
//! [`ServerBuilder::serve`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use rustls::ServerConfig;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::Service;

use super::accept::accept_loop;
use super::connection::ConnectionConfig;
use super::connection_count::ConnectionCount;
use super::handle::{Server, Shared};
use super::shutdown::{finish_shutdown, ShutdownHook};
use super::tls;
use crate::{BoxError, Error};

/// Options for a server; made by [`Server::bind`], started by [`serve`](Self::serve).
///
/// By default a connection speaks HTTP/1.1 or HTTP/2 (by TLS ALPN, or h2c by prior
/// knowledge on plaintext), the number of connections is unbounded, and
/// [`Server::close`] waits as long as in-flight requests take.
#[must_use = "a ServerBuilder does nothing until `.serve(service).await`"]
pub struct ServerBuilder<A> {
    addr: A,
    tls: Option<Arc<ServerConfig>>,
    http1_only: bool,
    http2_only: bool,
    max_connections: Option<usize>,
    grace_period: Option<Duration>,
    on_shutdown: Vec<ShutdownHook>,
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
            tls: None,
            http1_only: false,
            http2_only: false,
            max_connections: None,
            grace_period: None,
            on_shutdown: Vec::new(),
        }
    }

    /// Serves HTTPS with this rustls config (see
    /// [`tls_config_from_pem`](super::tls_config_from_pem)). If the config offers no ALPN
    /// protocols, the server sets them: `h2` and `http/1.1`, or only the one allowed by
    /// [`http1_only`](Self::http1_only) / [`http2_only`](Self::http2_only).
    pub fn tls(mut self, config: Arc<ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Speaks only HTTP/1.x.
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self
    }

    /// Speaks only HTTP/2: over TLS by ALPN `h2`, on plaintext only to clients that start
    /// with the HTTP/2 preface (h2c with prior knowledge; the HTTP/1.1 `Upgrade: h2c`
    /// dance is not supported, as RFC 9113 deprecates it).
    pub fn http2_only(mut self) -> Self {
        self.http2_only = true;
        self
    }

    /// Serves at most `n` connections at a time; further clients wait, unaccepted, until
    /// one closes. Must be at least 1.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// Bounds how long [`Server::close`] lets in-flight requests run; connections still
    /// open after it are dropped. Without it, `close` waits as long as they take.
    pub fn grace_period(mut self, grace_period: Duration) -> Self {
        self.grace_period = Some(grace_period);
        self
    }

    /// Adds a function to run once the server has stopped, after its last connection
    /// ended (HTTP.jl `on_shutdown`). Hooks run in the order added, on a close or a force
    /// close alike.
    pub fn on_shutdown(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.on_shutdown.push(Box::new(hook));
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
    /// Must be called within a tokio runtime.
    ///
    /// # Errors
    ///
    /// An invalid-input error for conflicting options (`http1_only` with `http2_only`,
    /// `max_connections(0)`); a server error when the address cannot be bound.
    pub async fn serve<S, B>(self, service: S) -> Result<Server, Error>
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
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
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|err| Error::server(err).with_message("cannot bind the server address"))?;
        let local_addr = listener
            .local_addr()
            .map_err(|err| Error::server(err).with_message("cannot read the bound address"))?;

        let tls = self
            .tls
            .map(|config| TlsAcceptor::from(tls::with_alpn(config, protocols)));
        let config = Arc::new(ConnectionConfig::new(protocols, tls));
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
            .finish()
    }
}
