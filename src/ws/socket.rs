//! [`Socket`]: the byte stream under a WebSocket — plain TCP, TLS, a connection hyper
//! handed over after an upgrade (HTTP/1.1 101, or an HTTP/2 extended CONNECT stream), or
//! the client's own connection after its HTTP/1.1 upgrade.
//!
//! An enum rather than a boxed trait object, so the common cases (TCP and TLS on the
//! client) cost a branch per read or write, not a dynamic call.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::client::RawIo;

/// The stream a WebSocket runs on.
#[derive(Debug)]
pub(crate) enum Socket {
    /// ws:// over TCP.
    Tcp(TcpStream),
    /// wss:// (boxed: a TLS session is large, and made once per connection).
    Tls(Box<TlsStream<TcpStream>>),
    /// Taken over from hyper after the handshake.
    Upgraded(TokioIo<Upgraded>),
    /// The client's connection after an HTTP/1.1 upgrade ([`Client::openraw`]).
    ///
    /// [`Client::openraw`]: crate::Client::openraw
    Raw(RawIo),
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
            Socket::Upgraded($io) => {
                let $io = Pin::new($io);
                $e
            }
            Socket::Raw($io) => {
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
            Socket::Upgraded(io) => io.is_write_vectored(),
            Socket::Raw(io) => io.is_write_vectored(),
        }
    }
}
