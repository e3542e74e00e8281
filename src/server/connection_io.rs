//! [`ConnectionIo`]: a connection's byte stream as hyper sees it — the bytes read while
//! telling HTTP/1 from HTTP/2 replayed first, reads and blocked writes reported to the
//! connection's [`Activity`], and, for HTTP/1, the request framing followed so a chunked
//! body over `max_body_bytes` or a request over `read_timeout` fails the read. For
//! HTTP/1, responses to pipelined requests are written together (see
//! [`Pipelining`]).
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
use tokio::time::{Instant, Sleep};

use super::activity::Activity;
use super::pipelining::Pipelining;
use super::request_framing::{Fed, RequestFraming};

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
    /// HTTP/1 with `max_body_bytes` or `read_timeout`.
    framing: Option<RequestFraming>,
    read_timeout: Option<Duration>,
    read_deadline: Option<(Instant, Pin<Box<Sleep>>)>,
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

    /// A stream that reports to `activity`; `framing` for HTTP/1 connections with
    /// `max_body_bytes` or `read_timeout`.
    pub(crate) fn watched(
        inner: I,
        prefix: Bytes,
        activity: Arc<Activity>,
        http1: bool,
        framing: Option<RequestFraming>,
        read_timeout: Option<Duration>,
    ) -> Self {
        ConnectionIo {
            inner,
            prefix,
            watch: Some(Box::new(Watch {
                activity,
                http1,
                framing,
                read_timeout,
                read_deadline: None,
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

/// The read error after a chunked body broke `max_body_bytes`.
#[derive(Debug)]
pub(crate) struct BodyTooLarge;

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request body larger than the server's max_body_bytes")
    }
}

impl std::error::Error for BodyTooLarge {}

/// The read error after a request took longer than `read_timeout`.
#[derive(Debug)]
pub(crate) struct ReadTimedOut;

impl fmt::Display for ReadTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request not received within the server's read_timeout")
    }
}

impl std::error::Error for ReadTimedOut {}

impl Watch {
    fn failed_read(&self) -> Option<io::Error> {
        let framing = self.framing.as_ref()?;
        if !framing.failed() {
            return None;
        }
        Some(if self.activity.body_overflowed_any() {
            io::Error::new(io::ErrorKind::InvalidData, BodyTooLarge)
        } else {
            io::Error::new(io::ErrorKind::TimedOut, ReadTimedOut)
        })
    }

    /// The instant the request being read must be complete by, if any.
    fn read_deadline(&self) -> Option<Instant> {
        let since = self.framing.as_ref()?.reading_since()?;
        Instant::from_std(since).checked_add(self.read_timeout?)
    }

    /// Reports the bytes just read (at `filled[start..]`); may cut them.
    fn after_read(&mut self, buf: &mut ReadBuf<'_>, start: usize) -> io::Result<()> {
        let fresh = buf.filled().len() - start;
        if fresh == 0 {
            return Ok(());
        }
        if self.http1 {
            self.activity.bytes_read();
        }
        let Some(framing) = &mut self.framing else {
            return Ok(());
        };
        match framing.feed(&buf.filled()[start..], &self.activity) {
            Fed::All => Ok(()),
            Fed::Cut(0) => {
                buf.set_filled(start);
                Err(io::Error::new(io::ErrorKind::InvalidData, BodyTooLarge))
            }
            Fed::Cut(n) => {
                buf.set_filled(start + n);
                Ok(())
            }
        }
    }

    /// While a read waits: fails it once the request is past `read_timeout`.
    fn poll_read_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(deadline) = self.read_deadline() else {
            return Poll::Pending;
        };
        let sleep = match &mut self.read_deadline {
            Some((armed, sleep)) => {
                if *armed != deadline {
                    sleep.as_mut().reset(deadline);
                    *armed = deadline;
                }
                sleep
            }
            slot @ None => {
                &mut slot
                    .insert((deadline, Box::pin(tokio::time::sleep_until(deadline))))
                    .1
            }
        };
        ready!(sleep.as_mut().poll(cx));
        if let Some(framing) = &mut self.framing {
            framing.fail();
        }
        Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, ReadTimedOut))
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
            let Some(watch) = &mut this.watch else {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            };
            if let Some(err) = watch.failed_read() {
                return Poll::Ready(Err(err));
            }
            if watch.read_deadline().is_some_and(|at| at <= Instant::now()) {
                if let Some(framing) = &mut watch.framing {
                    framing.fail();
                }
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, ReadTimedOut)));
            }
            match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return watch.poll_read_deadline(cx).map(Err),
            }
        }
        match &mut this.watch {
            Some(watch) => Poll::Ready(watch.after_read(buf, start)),
            None => Poll::Ready(Ok(())),
        }
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
    /// before reading it — the HTTP/1 bookkeeping (activity reports, request framing,
    /// head scanning) ends, as after an upgrade the connection's timers and limits no
    /// longer apply. `Err`: response bytes are still held back for writing (not once
    /// hyper has flushed its 101, as holding ends when an upgrade is asked for), so the
    /// stream stays wrapped, without the bookkeeping, to write them first.
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
        let io = ConnectionIo::watched(
            server,
            Bytes::from_static(b"-prefix"),
            activity,
            true,
            Some(RequestFraming::new(Some(1), 1 << 20)),
            Some(Duration::from_millis(1)),
        )
        .with_pipelining(Pipelining::new(counters.clone()));
        counters.request_started(true);
        let Ok((mut io, unread)) = io.into_upgraded(Bytes::from_static(b"unread")) else {
            panic!("nothing was held");
        };
        assert_eq!(unread, &b"unread-prefix"[..]);
        // Past the old body limit and read timeout: neither applies any more.
        tokio::time::sleep(Duration::from_millis(5)).await;
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
    async fn a_chunked_body_over_the_limit_fails_the_read_at_the_byte() {
        let (mut client, server) = tokio::io::duplex(1024);
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        let framing = RequestFraming::new(Some(3), 1 << 20);
        let mut io = ConnectionIo::watched(
            server,
            Bytes::new(),
            activity.clone(),
            true,
            Some(framing),
            None,
        );
        let request =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
        client.write_all(request).await.expect("write");
        let mut got = Vec::new();
        let err = loop {
            let mut buf = [0u8; 16];
            match io.read(&mut buf).await {
                Ok(0) => panic!("EOF before the limit error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        let head_and_three = request.windows(4).position(|w| w == b"abcd").expect("data") + 3;
        assert_eq!(got, &request[..head_and_three]);
        assert!(activity.body_overflowed(0));
        assert!(activity.lingers());
    }

    #[tokio::test]
    async fn a_request_past_read_timeout_fails_the_read() {
        let (mut client, server) = tokio::io::duplex(1024);
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        let framing = RequestFraming::new(None, 1 << 20);
        let mut io = ConnectionIo::watched(
            server,
            Bytes::new(),
            activity,
            true,
            Some(framing),
            Some(Duration::from_millis(20)),
        );
        client
            .write_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
            .await
            .expect("write");
        let mut buf = [0u8; 128];
        let n = io.read(&mut buf).await.expect("first bytes");
        assert!(n > 0);
        // The rest of the body never comes.
        let err = tokio::time::timeout(Duration::from_secs(5), io.read(&mut buf))
            .await
            .expect("the read timeout fires")
            .expect_err("timed out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        drop(client);
    }

    #[tokio::test]
    async fn a_lingering_shutdown_drains_what_the_client_still_sends() {
        let (mut client, server) = tokio::io::duplex(64);
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        activity.set_linger();
        let mut io = ConnectionIo::watched(server, Bytes::new(), activity, true, None, None);
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
