//! [`Socket`]: the byte stream under a WebSocket — plain TCP, TLS, a connection hyper
//! handed over after an upgrade (HTTP/1.1 101, or an HTTP/2 extended CONNECT stream), or
//! the client's own connection after its HTTP/1.1 upgrade.
//!
//! An enum rather than a boxed trait object, so the common cases (TCP and TLS on the
//! client, and httpstack's own server connections after a 101, recovered from hyper's
//! `Upgraded` by downcasting) cost a branch per read or write, not dynamic calls through
//! hyper's upgrade wrappers.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::client::RawIo;
use crate::server::ConnectionIo;

/// An httpstack server's TLS stream.
type ServerTls = tokio_rustls::server::TlsStream<TcpStream>;

/// The stream a WebSocket runs on.
#[derive(Debug)]
pub(crate) enum Socket {
    /// ws:// over TCP.
    Tcp(TcpStream),
    /// wss:// (boxed: a TLS session is large, and made once per connection).
    Tls(Box<TlsStream<TcpStream>>),
    /// An httpstack server's ws:// connection after the 101: the TCP stream itself,
    /// the bytes hyper read past the handshake replayed first.
    Server(Rewound<TcpStream>),
    /// The same, in the (never seen) case of response bytes still held back.
    ServerHeld(Box<ConnectionIo<TcpStream>>),
    /// An httpstack server's wss:// connection after the 101.
    ServerTls(Box<Rewound<ServerTls>>),
    /// The same, with response bytes still held back.
    ServerTlsHeld(Box<ConnectionIo<ServerTls>>),
    /// Taken over from hyper after the handshake (another server, or HTTP/2).
    Upgraded(TokioIo<Upgraded>),
    /// The client's connection after an HTTP/1.1 upgrade ([`Client::openraw`]).
    ///
    /// [`Client::openraw`]: crate::Client::openraw
    Raw(RawIo),
}

impl Socket {
    /// The stream under a connection hyper handed over: httpstack's own server
    /// connection when it is one (read and written directly, see
    /// [`ConnectionIo::into_upgraded`]), else hyper's `Upgraded` as is.
    pub(crate) fn from_upgraded(upgraded: Upgraded) -> Self {
        let upgraded = match upgraded.downcast::<TokioIo<ConnectionIo<TcpStream>>>() {
            Ok(parts) => {
                return match parts.io.into_inner().into_upgraded(parts.read_buf) {
                    Ok((tcp, prefix)) => Socket::Server(Rewound { prefix, io: tcp }),
                    Err(held) => Socket::ServerHeld(Box::new(held)),
                }
            }
            Err(upgraded) => upgraded,
        };
        match upgraded.downcast::<TokioIo<ConnectionIo<ServerTls>>>() {
            Ok(parts) => match parts.io.into_inner().into_upgraded(parts.read_buf) {
                Ok((tls, prefix)) => Socket::ServerTls(Box::new(Rewound { prefix, io: tls })),
                Err(held) => Socket::ServerTlsHeld(Box::new(held)),
            },
            Err(upgraded) => Socket::Upgraded(TokioIo::new(upgraded)),
        }
    }
}

/// A stream with bytes already read from it (by hyper) replayed first.
#[derive(Debug)]
pub(crate) struct Rewound<S> {
    prefix: Bytes,
    io: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewound<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.is_empty() {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        buf.put_slice(&this.prefix.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewound<S> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
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
            Socket::ServerHeld($io) => {
                let $io = Pin::new(&mut **$io);
                $e
            }
            Socket::ServerTls($io) => {
                let $io = Pin::new(&mut **$io);
                $e
            }
            Socket::ServerTlsHeld($io) => {
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
            Socket::Server(io) => io.is_write_vectored(),
            Socket::ServerHeld(io) => io.is_write_vectored(),
            Socket::ServerTls(io) => io.is_write_vectored(),
            Socket::ServerTlsHeld(io) => io.is_write_vectored(),
            Socket::Upgraded(io) => io.is_write_vectored(),
            Socket::Raw(io) => io.is_write_vectored(),
        }
    }
}
