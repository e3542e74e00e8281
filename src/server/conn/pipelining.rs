//! [`Pipelining`]: HTTP/1 responses to pipelined requests written to the socket together.
//!
//! hyper writes every response as soon as it is made, one `write` per response, even when
//! the next requests are already read. Its own remedy, `pipeline_flush`, also lets a
//! streaming body buffer without bound, so it is not used. Instead, [`ConnectionIo`]
//! holds a response back while another request head is known to be waiting, up to
//! [`HOLD_MAX`] bytes, and writes what it holds with the next response:
//!
//! - the connection's service counts the requests started. hyper reads only once no
//!   complete request head is left unstarted in its buffer, so after each read the heads
//!   waiting are the blank lines in the bytes just read (a blank line ends a head; one in
//!   a body only makes a response wait for the next poll);
//! - those bytes are scanned only once the connection has pipelined: once a request
//!   started with no read since the one before (it was read with that one). A connection
//!   that never pipelines costs a counter per read; the first batch of one that does is
//!   not held;
//! - a held response is written when hyper flushes again without having written
//!   anything since (its next request is not answered at once), when the hold would
//!   pass [`HOLD_MAX`], and on shutdown. hyper writes only when it flushes, and flushes
//!   on every poll; a poll of the connection that ends while bytes are held wakes the
//!   task (see [`FlushHeld`]), so there is a next poll. That is one check per poll
//!   rather than a wake-up per held response;
//! - a request asking to switch protocols ends holding for the connection, so what is
//!   handed over is never holding bytes.
//!
//! The count is a hint, not a parse: it bounds nothing (the request limits live on the
//! request body) and has no state to lose sync with (the last two bytes). Counting too
//! many heads holds a response one poll longer; too few writes it sooner. Neither changes
//! what is answered: `tests/server_pipelining.rs` sends random pipelined streams cut at
//! random points and compares every byte with bare hyper's answers.
//!
//! [`ConnectionIo`]: super::connection_io::ConnectionIo

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::AsyncWrite;

/// The most response bytes held back per connection.
pub(crate) const HOLD_MAX: usize = 64 * 1024;

/// What the connection's service and its IO tell each other: reads and requests
/// started, whether the connection has pipelined, and whether holding is over (an upgrade
/// or CONNECT was asked for). (Atomics only for `Sync`: both sides run in the connection's
/// task.)
#[derive(Debug, Default)]
pub(crate) struct PipelineCounters {
    started: AtomicU64,
    /// Reads that returned bytes.
    reads: AtomicU64,
    /// `reads` when the last request started.
    reads_at_start: AtomicU64,
    /// A request was read together with the one before: scan reads for heads.
    pipelined: AtomicBool,
    off: AtomicBool,
    /// hyper's last flush left bytes held: the connection must be polled again.
    flush_wanted: AtomicBool,
}

impl PipelineCounters {
    /// A request was handed to the service; `upgrade`: it asks to switch protocols.
    pub(crate) fn request_started(&self, upgrade: bool) {
        if upgrade {
            self.off.store(true, Ordering::Relaxed);
        }
        let reads = self.reads.load(Ordering::Relaxed);
        if self.reads_at_start.swap(reads, Ordering::Relaxed) == reads {
            self.pipelined.store(true, Ordering::Relaxed);
        }
        self.started.fetch_add(1, Ordering::Release);
    }
}

/// The IO side: the heads read so far and the responses held back.
#[derive(Debug)]
pub(crate) struct Pipelining {
    counters: Arc<PipelineCounters>,
    /// The requests started plus the heads waiting, as of the last scanned read.
    heads: u64,
    /// The last two bytes read, for a blank line split across reads.
    last: [u8; 2],
    held: Vec<u8>,
    /// How much of `held` is written already.
    sent: usize,
    /// Bytes were held since the last flush.
    wrote: bool,
}

impl Pipelining {
    pub(crate) fn new(counters: Arc<PipelineCounters>) -> Self {
        Pipelining {
            counters,
            heads: 0,
            last: [0; 2],
            held: Vec::new(),
            sent: 0,
            wrote: false,
        }
    }

    /// After a read of `bytes`: once the connection has pipelined, the heads they hold.
    pub(crate) fn read(&mut self, bytes: &[u8]) {
        let Some(last) = bytes.len().checked_sub(1) else {
            return;
        };
        let counters = &self.counters;
        let reads = counters.reads.load(Ordering::Relaxed);
        counters.reads.store(reads + 1, Ordering::Relaxed);
        if counters.pipelined.load(Ordering::Relaxed) {
            let waiting = self.count_heads(bytes);
            self.heads = counters.started.load(Ordering::Acquire) + waiting;
        }
        self.last = match last {
            0 => [self.last[1], bytes[0]],
            _ => [bytes[last - 1], bytes[last]],
        };
    }

    /// The request heads that `bytes`, just read, complete: the blank lines, each found
    /// at its `\n` — eight bytes at a time, for every `\n` of a word at once.
    fn count_heads(&self, bytes: &[u8]) -> u64 {
        // The byte `back` before `bytes[i]`, from the previous reads at the start.
        let before = |i: usize, back: usize| match i.checked_sub(back) {
            Some(j) => bytes[j],
            None => self.last[2 + i - back],
        };
        let ends_head = |i: usize| {
            let prev = before(i, 1);
            prev == b'\n' || (prev == b'\r' && before(i, 2) == b'\n')
        };
        let mut heads = 0;
        let mut words = bytes.chunks_exact(8);
        let mut base = 0;
        for word in words.by_ref() {
            let mut found = newlines(word);
            while found != 0 {
                let i = base + (found.trailing_zeros() / 8) as usize;
                // The bit trick can flag a `\v` right after a `\n`: check the byte.
                if bytes[i] == b'\n' && ends_head(i) {
                    heads += 1;
                }
                found &= found - 1;
            }
            base += 8;
        }
        for (offset, &byte) in words.remainder().iter().enumerate() {
            if byte == b'\n' && ends_head(base + offset) {
                heads += 1;
            }
        }
        heads
    }

    /// Whether a complete request head is read and not yet handed to the service.
    fn next_is_waiting(&self) -> bool {
        !self.counters.off.load(Ordering::Relaxed)
            && self.heads > self.counters.started.load(Ordering::Acquire)
    }

    fn holds(&self) -> bool {
        self.sent < self.held.len()
    }

    /// Whether `len` more bytes are held rather than written.
    pub(crate) fn hold(&mut self, len: usize) -> bool {
        len > 0
            && self.held.len() - self.sent + len <= HOLD_MAX
            && (self.holds() || self.next_is_waiting())
            && !self.counters.off.load(Ordering::Relaxed)
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if !self.holds() {
            self.held.clear();
            self.sent = 0;
        }
        self.held.extend_from_slice(bytes);
        self.wrote = true;
    }

    /// On hyper's flush: `true` to hold on ([`FlushHeld`] then has the connection polled
    /// again).
    pub(crate) fn flush_later(&mut self) -> bool {
        let later = self.holds() && self.wrote && self.next_is_waiting();
        self.wrote = false;
        if later || self.counters.flush_wanted.load(Ordering::Relaxed) {
            self.counters.flush_wanted.store(later, Ordering::Relaxed);
        }
        later
    }

    /// Writes everything held to `io`.
    pub(crate) fn poll_drain<I: AsyncWrite + Unpin>(
        &mut self,
        io: &mut I,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.holds() {
            let n = ready!(Pin::new(&mut *io).poll_write(cx, &self.held[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.held.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Whether holding is over for the connection (an upgrade or CONNECT was asked
    /// for): nothing is held from now on, so the heads need no counting.
    pub(crate) fn is_over(&self) -> bool {
        self.counters.off.load(Ordering::Relaxed)
    }

    /// Whether bytes are held (for a read to write them first).
    pub(crate) fn is_holding(&self) -> bool {
        self.holds()
    }
}

pin_project! {
    /// An HTTP/1 connection future whose IO holds responses: a poll that ends with bytes
    /// held wakes the task, so hyper flushes them on the next poll.
    pub(crate) struct FlushHeld<C> {
        #[pin]
        conn: C,
        counters: Arc<PipelineCounters>,
    }
}

impl<C> FlushHeld<C> {
    pub(crate) fn new(conn: C, counters: Arc<PipelineCounters>) -> Self {
        FlushHeld { conn, counters }
    }

    pub(crate) fn conn(self: Pin<&mut Self>) -> Pin<&mut C> {
        self.project().conn
    }
}

impl<C: Future> Future for FlushHeld<C> {
    type Output = C::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C::Output> {
        let this = self.project();
        let polled = this.conn.poll(cx);
        if polled.is_pending() && this.counters.flush_wanted.load(Ordering::Relaxed) {
            this.counters.flush_wanted.store(false, Ordering::Relaxed);
            cx.waker().wake_by_ref();
        }
        polled
    }
}

/// A mask with the high bit set in the bytes of `word` (8 bytes) that are `\n`, and
/// possibly in a `\v` right after one (a borrow of the zero-byte trick).
fn newlines(word: &[u8]) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ NEWLINES;
    word.wrapping_sub(ONES) & !word & HIGHS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection's IO that has pipelined already, and its counters.
    fn pipelined() -> (Pipelining, Arc<PipelineCounters>) {
        let counters = Arc::new(PipelineCounters::default());
        counters.pipelined.store(true, Ordering::Relaxed);
        (Pipelining::new(counters.clone()), counters)
    }

    /// The heads waiting after each read of `reads` (no request is started between).
    fn heads_per_read(p: &mut Pipelining, reads: &[&[u8]]) -> u64 {
        reads
            .iter()
            .map(|bytes| {
                p.read(bytes);
                p.heads - p.counters.started.load(Ordering::Acquire)
            })
            .sum()
    }

    #[test]
    fn counts_heads_across_reads_and_line_endings() {
        let (mut p, counters) = pipelined();
        p.read(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r");
        assert_eq!(p.heads, 1);
        // hyper reads again once the head it has is started.
        counters.request_started(false);
        p.read(b"\n");
        assert_eq!(p.heads, 2);
        counters.request_started(false);
        p.read(b"GET / HTTP/1.1\nHost: a\n\nGET / HTTP/1.1\n\n");
        assert_eq!(p.heads, 4);
        counters.request_started(false);
        assert!(p.next_is_waiting());
        counters.request_started(false);
        assert!(!p.next_is_waiting());
        // Split everywhere: the count does not depend on how the bytes arrive.
        let stream: &[u8] = b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        for split in 0..stream.len() {
            let (mut q, _) = pipelined();
            let heads = heads_per_read(&mut q, &[&stream[..split], &stream[split..]]);
            assert_eq!(heads, 2, "split at {split}");
        }
        let (mut q, _) = pipelined();
        let bytes: Vec<&[u8]> = stream.iter().map(std::slice::from_ref).collect();
        assert_eq!(heads_per_read(&mut q, &bytes), 2, "byte by byte");
        // A `\v` right after a `\n` is not a line end.
        let (mut v, _) = pipelined();
        v.read(b"GET / HTTP/1.1\r\nX: a\n\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\r\n\r\n");
        assert_eq!(v.heads, 1);
    }

    #[test]
    fn reads_are_scanned_once_two_requests_came_in_one_read() {
        let counters = Arc::new(PipelineCounters::default());
        let mut p = Pipelining::new(counters.clone());
        p.read(b"GET / HTTP/1.1\r\n\r\n");
        counters.request_started(false);
        p.read(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        counters.request_started(false);
        assert!(
            !p.next_is_waiting(),
            "one request per read so far: not scanned"
        );
        // The second request of that read starts with no read in between.
        counters.request_started(false);
        p.read(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        counters.request_started(false);
        assert!(p.next_is_waiting(), "pipelined: the next head is seen");
        counters.request_started(false);
        assert!(!p.next_is_waiting());
        // A blank line in a body makes one response wait, not every one after it.
        p.read(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\r\n\r\n");
        counters.request_started(false);
        assert!(
            p.next_is_waiting(),
            "the body's blank line looks like a head"
        );
        p.read(b"GET / HTTP/1.1\r\n\r\n");
        counters.request_started(false);
        assert!(!p.next_is_waiting(), "counted afresh at the next read");
    }

    #[test]
    fn holds_only_while_a_head_waits_and_up_to_the_cap() {
        let (mut p, counters) = pipelined();
        assert!(!p.hold(10), "nothing waits");
        p.read(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        counters.request_started(false);
        assert!(p.hold(10));
        assert!(!p.hold(HOLD_MAX + 1));
        p.push(&[b'x'; 10]);
        assert!(p.flush_later(), "wrote, and the next head waits");
        assert!(counters.flush_wanted.load(Ordering::Relaxed));
        assert!(!p.flush_later(), "flushed again with nothing new: write");
        assert!(!counters.flush_wanted.load(Ordering::Relaxed));
        counters.request_started(true);
        assert!(!p.hold(10), "an upgrade ends holding");
    }
}
