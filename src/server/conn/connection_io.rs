//! [`ConnectionIo`]: a connection's byte stream as hyper sees it — the bytes read while
//! telling HTTP/1 from HTTP/2 replayed first, reads and blocked writes reported to the
//! connection's [`Activity`] (for the idle, header and write timeouts). It never parses
//! what it carries: the request bounds live on the request body (see
//! [`request_body`](super::request_body)). For HTTP/1, responses to pipelined requests
//! are written together (see [`Pipelining`]).
//!
//! A connection closing with request bytes unread (a 413) lingers: after its FIN it reads
//! and drops what the client still sends, for a moment, as Go's server does — else the
//! kernel answers those bytes with a reset that can destroy the response before the
//! client reads it.

use std::fmt;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::activity::Activity;
use super::pipelining::Pipelining;

/// How long a closing connection keeps reading (Go: `rstAvoidanceDelay`, 500 ms).
const LINGER_FOR: Duration = Duration::from_millis(500);
/// How much a lingering connection reads at most before closing anyway.
const LINGER_BYTES: usize = 1 << 20;

/// See the module docs.
pub(crate) struct ConnectionIo<I> {
    inner: I,
    /// Read while detecting the protocol; hyper reads these first.
    prefix: Bytes,
    watch: Option<Box<Watch>>,
    /// HTTP/1: responses to pipelined requests held back and written together.
    pipelining: Option<Pipelining>,
}

/// What is tracked when the server has timeouts or limits.
struct Watch {
    activity: Arc<Activity>,
    /// HTTP/1: the first bytes after idle start a request head.
    http1: bool,
    linger: Option<Linger>,
}

struct Linger {
    until: Pin<Box<Sleep>>,
    read: usize,
    shut: bool,
}

impl<I> ConnectionIo<I> {
    /// A stream that tracks nothing.
    pub(crate) fn plain(inner: I, prefix: Bytes) -> Self {
        ConnectionIo {
            inner,
            prefix,
            watch: None,
            pipelining: None,
        }
    }

    /// HTTP/1: holds responses back while another request is waiting (see
    /// [`Pipelining`]).
    pub(crate) fn with_pipelining(mut self, pipelining: Pipelining) -> Self {
        self.pipelining = Some(pipelining);
        self
    }

    /// A stream that reports to `activity`.
    pub(crate) fn watched(inner: I, prefix: Bytes, activity: Arc<Activity>, http1: bool) -> Self {
        ConnectionIo {
            inner,
            prefix,
            watch: Some(Box::new(Watch {
                activity,
                http1,
                linger: None,
            })),
            pipelining: None,
        }
    }
}

impl<I: fmt::Debug> fmt::Debug for ConnectionIo<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionIo")
            .field("inner", &self.inner)
            .field("prefix", &self.prefix.len())
            .field("watched", &self.watch.is_some())
            .finish()
    }
}

impl Watch {
    /// Reports the bytes just read (`fresh` of them).
    fn after_read(&self, fresh: usize) {
        if fresh > 0 && self.http1 {
            self.activity.bytes_read();
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for ConnectionIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.end_pipelining_if_over();
        if this.pipelining.is_none() {
            return this.read_through(cx, buf);
        }
        // What is held is not written here: hyper reads to look for the end of the
        // connection even with its next response about to be written and held too.
        let start = buf.filled().len();
        ready!(this.read_through(cx, buf))?;
        if let Some(pipelining) = &mut this.pipelining {
            pipelining.read(&buf.filled()[start..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + Unpin> ConnectionIo<I> {
    fn read_through(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self;
        let start = buf.filled().len();
        if !this.prefix.is_empty() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..n]);
            this.prefix.advance(n);
        } else {
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        }
        if let Some(watch) = &this.watch {
            watch.after_read(buf.filled().len() - start);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ConnectionIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.end_pipelining_if_over();
        if let Some(pipelining) = &mut this.pipelining {
            if pipelining.hold(buf.len()) {
                pipelining.push(buf);
                return Poll::Ready(Ok(buf.len()));
            }
            ready!(this.poll_drain(cx))?;
        }
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.note_write(written.is_pending());
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.end_pipelining_if_over();
        if let Some(pipelining) = &mut this.pipelining {
            let len = bufs.iter().map(|buf| buf.len()).sum();
            if pipelining.hold(len) {
                for buf in bufs {
                    pipelining.push(buf);
                }
                return Poll::Ready(Ok(len));
            }
            ready!(this.poll_drain(cx))?;
        }
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note_write(written.is_pending());
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(pipelining) = &mut this.pipelining {
            if pipelining.flush_later() {
                return Poll::Ready(Ok(()));
            }
            ready!(this.poll_drain(cx))?;
        }
        let flushed = Pin::new(&mut this.inner).poll_flush(cx);
        this.note_write(flushed.is_pending());
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        let watch = match &mut this.watch {
            Some(watch) if watch.activity.lingers() && !watch.activity.is_upgraded() => watch,
            _ => return Pin::new(&mut this.inner).poll_shutdown(cx),
        };
        let linger = watch.linger.get_or_insert_with(|| Linger {
            until: Box::pin(tokio::time::sleep(LINGER_FOR)),
            read: 0,
            shut: false,
        });
        if !linger.shut {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            linger.shut = true;
        }
        // Read and drop until the client closes, the time is up, or enough was read.
        let mut scratch = [0u8; 8192];
        loop {
            if linger.until.as_mut().poll(cx).is_ready() || linger.read >= LINGER_BYTES {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    linger.read += buf.filled().len()
                }
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<I: AsyncWrite + Unpin> ConnectionIo<I> {
    /// Writes what [`Pipelining`] holds.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(pipelining) = &mut self.pipelining else {
            return Poll::Ready(Ok(()));
        };
        if !pipelining.is_holding() {
            return Poll::Ready(Ok(()));
        }
        let drained = pipelining.poll_drain(&mut self.inner, cx);
        self.note_write(drained.is_pending());
        drained
    }
}

impl<I> ConnectionIo<I> {
    /// Once holding is over for good (an upgrade or CONNECT was asked for) and nothing is
    /// held, drops [`Pipelining`]: reads no longer scan for request heads, writes go
    /// straight through.
    fn end_pipelining_if_over(&mut self) {
        if self
            .pipelining
            .as_ref()
            .is_some_and(|p| p.is_over() && !p.is_holding())
        {
            self.pipelining = None;
        }
    }

    /// After hyper handed the connection over (`unread`: what it read and did not use,
    /// [`hyper::upgrade::Parts::read_buf`]): the stream itself and the bytes to replay
    /// before reading it — the HTTP/1 bookkeeping (activity reports, head scanning) ends, as after an upgrade the connection's timers and limits no
    /// longer apply. `Err`: response bytes are still held back for writing (not once
    /// hyper has flushed its 101, as holding ends when an upgrade is asked for), so the
    /// stream stays wrapped, without the bookkeeping, to write them first.
    #[cfg(feature = "ws")]
    pub(crate) fn into_upgraded(mut self, unread: Bytes) -> Result<(I, Bytes), Self> {
        if !unread.is_empty() {
            self.prefix = if self.prefix.is_empty() {
                unread
            } else {
                let mut joined = Vec::with_capacity(unread.len() + self.prefix.len());
                joined.extend_from_slice(&unread);
                joined.extend_from_slice(&self.prefix);
                Bytes::from(joined)
            };
        }
        self.watch = None;
        match &self.pipelining {
            Some(pipelining) if pipelining.is_holding() => Err(self),
            _ => Ok((self.inner, self.prefix)),
        }
    }

    fn note_write(&self, pending: bool) {
        if let Some(watch) = &self.watch {
            if watch.http1 {
                watch.activity.set_write_blocked(pending);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    #[tokio::test]
    async fn replays_the_prefix_then_reads_on() {
        let (client, server) = tokio::io::duplex(64);
        let mut io = ConnectionIo::plain(server, Bytes::from_static(b"PRI "));
        let mut client = client;
        client.write_all(b"rest").await.expect("write");
        drop(client);
        let mut all = Vec::new();
        io.read_to_end(&mut all).await.expect("read");
        assert_eq!(all, b"PRI rest");
    }

    #[tokio::test]
    async fn upgraded_gives_the_stream_and_what_to_replay() {
        use super::super::pipelining::PipelineCounters;
        let (mut client, server) = tokio::io::duplex(1024);
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        let counters = Arc::new(PipelineCounters::default());
        let io = ConnectionIo::watched(server, Bytes::from_static(b"-prefix"), activity, true)
            .with_pipelining(Pipelining::new(counters.clone()));
        counters.request_started(true);
        let Ok((mut io, unread)) = io.into_upgraded(Bytes::from_static(b"unread")) else {
            panic!("nothing was held");
        };
        assert_eq!(unread, &b"unread-prefix"[..]);
        client.write_all(b"\r\n\r\nframes").await.expect("write");
        drop(client);
        let mut all = Vec::new();
        io.read_to_end(&mut all).await.expect("read");
        assert_eq!(all, b"\r\n\r\nframes");
    }

    #[tokio::test]
    async fn pipelining_ends_once_an_upgrade_is_asked_for() {
        use super::super::pipelining::PipelineCounters;
        let (mut client, server) = tokio::io::duplex(1024);
        let counters = Arc::new(PipelineCounters::default());
        let mut io = ConnectionIo::plain(server, Bytes::new())
            .with_pipelining(Pipelining::new(counters.clone()));
        client
            .write_all(b"GET / HTTP/1.1\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 64];
        let head = b"GET / HTTP/1.1\r\n\r\n".len();
        io.read_exact(&mut buf[..head]).await.expect("read");
        assert!(io.pipelining.is_some(), "still HTTP/1");
        counters.request_started(true);
        client.write_all(b"\n\nraw").await.expect("write");
        let n = io.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], b"\n\nraw");
        assert!(io.pipelining.is_none(), "no scanning after the upgrade");
    }

    #[tokio::test]
    async fn a_lingering_shutdown_drains_what_the_client_still_sends() {
        let (mut client, server) = tokio::io::duplex(64);
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        activity.set_linger();
        let mut io = ConnectionIo::watched(server, Bytes::new(), activity, true);
        // More than the pipe holds: it only gets through if the server keeps reading.
        let client = tokio::spawn(async move {
            client.write_all(&[b'z'; 4096]).await.expect("write");
            let mut rest = Vec::new();
            client.read_to_end(&mut rest).await.expect("read");
            rest
        });
        tokio::time::timeout(Duration::from_secs(5), io.shutdown())
            .await
            .expect("shutdown returns")
            .expect("shutdown");
        let rest = tokio::time::timeout(Duration::from_secs(5), client)
            .await
            .expect("client done")
            .expect("client task");
        assert!(rest.is_empty(), "the server only closed its side");
    }
}
