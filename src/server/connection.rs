//! [`serve_connection`]: one accepted connection, from TLS handshake to close.
//!
//! hyper-util's auto builder picks the protocol per connection: HTTP/1.1 (keep-alive), or
//! HTTP/2 when the client opens with the HTTP/2 preface — after ALPN `h2` on TLS, or by
//! prior knowledge on plaintext (h2c, RFC 9113 §3.3). Per-connection options (timeouts,
//! limits) belong on [`ConnectionConfig`].

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use super::builder::Protocols;
use super::catch_failure::CatchFailure;
use super::connection_count::ConnectionGuard;
use super::handle::Shared;
use crate::BoxError;

/// What every connection of one server is served with.
pub(crate) struct ConnectionConfig {
    protocols: Protocols,
    /// HTTP/1.1 and HTTP/2 by preface detection; with `http2_only`, HTTP/2 alone.
    auto: auto::Builder<TokioExecutor>,
    /// `http1_only`. The auto builder ignores `http1_only` when serving with upgrades
    /// (hyper-util 0.1), so an HTTP/1-only server uses hyper's HTTP/1 builder directly.
    /// HTTP/1 options must be set on both this and `auto.http1()`.
    http1: http1::Builder,
    tls: Option<TlsAcceptor>,
}

impl ConnectionConfig {
    pub(crate) fn new(protocols: Protocols, tls: Option<TlsAcceptor>) -> Self {
        let mut auto = auto::Builder::new(TokioExecutor::new());
        // hyper's HTTP/1 header-read timeout and HTTP/2 keep-alive only run with a timer.
        auto.http1().timer(TokioTimer::new());
        auto.http2().timer(TokioTimer::new());
        if protocols == Protocols::Http2Only {
            auto = auto.http2_only();
        }
        let mut http1 = http1::Builder::new();
        http1.timer(TokioTimer::new());
        ConnectionConfig {
            protocols,
            auto,
            http1,
            tls,
        }
    }
}

/// Serves `stream` until the client is done, the server closes it gracefully, or it is
/// force-closed. `guard` and `permit` are held until then: they are the connection's
/// place in `Server::connections` and in `max_connections`.
pub(crate) async fn serve_connection<S, B>(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ConnectionConfig>,
    service: S,
    shared: Arc<Shared>,
    guard: ConnectionGuard,
    permit: Option<OwnedSemaphorePermit>,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let _held = (guard, permit);
    match &config.tls {
        None => serve_io(&config, stream, peer, service, &shared).await,
        Some(acceptor) => {
            let tls = tokio::select! {
                handshake = acceptor.accept(stream) => match handshake {
                    Ok(tls) => tls,
                    Err(err) => {
                        tracing::debug!(%peer, error = %err, "TLS handshake failed");
                        return;
                    }
                },
                // No request has started yet, so closing (gracefully or not) drops it.
                () = shared.closing.cancelled() => return,
            };
            serve_io(&config, tls, peer, service, &shared).await;
        }
    }
}

async fn serve_io<I, S, B>(
    config: &ConnectionConfig,
    io: I,
    peer: SocketAddr,
    service: S,
    shared: &Shared,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (io, service) = (TokioIo::new(io), CatchFailure::new(service));
    // With upgrades where HTTP/1 is spoken, so WebSocket handlers can take the
    // connection over.
    match config.protocols {
        Protocols::Auto => {
            let conn = config.auto.serve_connection_with_upgrades(io, service);
            until_done(conn, peer, shared).await;
        }
        Protocols::Http2Only => {
            let conn = config.auto.serve_connection(io, service);
            until_done(conn, peer, shared).await;
        }
        Protocols::Http1Only => {
            let conn = config.http1.serve_connection(io, service).with_upgrades();
            until_done(conn, peer, shared).await;
        }
    }
}

/// Drives `conn` to its end, starting a graceful shutdown when the server closes and
/// dropping it when the server is force-closed.
async fn until_done<C: GracefulConnection>(conn: C, peer: SocketAddr, shared: &Shared) {
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        tokio::select! {
            biased;
            // Dropping `conn` closes the socket and drops the in-flight handler futures.
            () = shared.killing.cancelled() => return,
            () = shared.closing.cancelled(), if !draining => {
                // HTTP/1: finish the current response, then close instead of keeping
                // alive; HTTP/2: GOAWAY, then finish the open streams.
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            served = conn.as_mut() => {
                if let Err(err) = served {
                    // Peers reset and vanish all the time; not worth more than debug.
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                return;
            }
        }
    }
}

/// A hyper connection future that can be asked to finish gracefully. hyper-util has
/// such a trait, but it is sealed and leaves out hyper's upgradeable HTTP/1 connection.
trait GracefulConnection: Future<Output = Result<(), Self::Error>> {
    type Error: Display;
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for auto::UpgradeableConnection<'_, I, S, TokioExecutor>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    type Error = BoxError;
    fn graceful_shutdown(self: Pin<&mut Self>) {
        auto::UpgradeableConnection::graceful_shutdown(self);
    }
}

impl<I, S, B> GracefulConnection for auto::Connection<'_, I, S, TokioExecutor>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    type Error = BoxError;
    fn graceful_shutdown(self: Pin<&mut Self>) {
        auto::Connection::graceful_shutdown(self);
    }
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
