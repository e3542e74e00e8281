//! [`Socket`]: the byte stream under a WebSocket — plain TCP, TLS, or a connection hyper
//! handed over after an upgrade (HTTP/1.1 101, or an HTTP/2 extended CONNECT stream).
//!
//! An enum rather than a boxed trait object, so the common cases (TCP and TLS on the
//! client, and httpstack's own server connections after a 101, recovered from hyper's
//! `Upgraded` by downcasting) cost a branch per read or write, not dynamic calls through
//! hyper's upgrade wrappers.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::server::ConnectionIo;

/// An httpstack server connection over TLS, as hyper hands it over.
type ServerTls = ConnectionIo<tokio_rustls::server::TlsStream<TcpStream>>;

/// The stream a WebSocket runs on.
#[derive(Debug)]
pub(crate) enum Socket {
    /// ws:// over TCP.
    Tcp(TcpStream),
    /// wss:// (boxed: a TLS session is large, and made once per connection).
    Tls(Box<TlsStream<TcpStream>>),
    /// An httpstack server's ws:// connection after the 101 (the bytes hyper read past
    /// the handshake replayed first).
    Server(ConnectionIo<TcpStream>),
    /// An httpstack server's wss:// connection after the 101.
    ServerTls(Box<ServerTls>),
    /// Taken over from hyper after the handshake (another server, or HTTP/2).
    Upgraded(TokioIo<Upgraded>),
}

impl Socket {
    /// The stream under a connection hyper handed over: httpstack's own server
    /// connection when it is one (read and written directly, see
    /// [`ConnectionIo::into_upgraded`]), else hyper's `Upgraded` as is.
    pub(crate) fn from_upgraded(upgraded: Upgraded) -> Self {
        let upgraded = match upgraded.downcast::<TokioIo<ConnectionIo<TcpStream>>>() {
            Ok(parts) => {
                return Socket::Server(parts.io.into_inner().into_upgraded(parts.read_buf))
            }
            Err(upgraded) => upgraded,
        };
        match upgraded.downcast::<TokioIo<ServerTls>>() {
            Ok(parts) => Socket::ServerTls(Box::new(
                parts.io.into_inner().into_upgraded(parts.read_buf),
            )),
            Err(upgraded) => Socket::Upgraded(TokioIo::new(upgraded)),
        }
    }
}

macro_rules! each {
    ($self:ident, $io:ident => $e:expr) => {
        match $self.get_mut() {
            Socket::Tcp($io) => {
                let $io = Pin::new($io);
                $e
            }
            Socket::Tls($io) => {
                let $io = Pin::new(&mut **$io);
                $e
            }
            Socket::Server($io) => {
                let $io = Pin::new($io);
                $e
            }
            Socket::ServerTls($io) => {
                let $io = Pin::new(&mut **$io);
                $e
            }
            Socket::Upgraded($io) => {
                let $io = Pin::new($io);
                $e
            }
        }
    };
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, io => io.poll_read(cx, buf))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, io => io.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, io => io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, io => io.poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, io => io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Socket::Tcp(io) => io.is_write_vectored(),
            Socket::Tls(io) => io.is_write_vectored(),
            Socket::Server(io) => io.is_write_vectored(),
            Socket::ServerTls(io) => io.is_write_vectored(),
            Socket::Upgraded(io) => io.is_write_vectored(),
        }
    }
}
