//! [`Activity`]: what one connection is doing right now, shared by its IO, its requests
//! and its task, so the connection task can enforce the idle, header and write timeouts.
//!
//! hyper has no keep-alive idle timeout for HTTP/1, and its header-read timeout starts
//! when it begins waiting for a request — idle time included — so the two cannot be told
//! apart. Here the phases are explicit, as in Go's `net/http` (whose field names HTTP.jl
//! 2.x adopted):
//!
//! - **idle**: no request in flight and no byte of the next one yet (`idle_timeout`);
//! - **reading a head** (HTTP/1): the first byte of a request has arrived, the head is not
//!   complete; for the first request the phase starts at accept (`read_header_timeout`);
//! - **busy**: a request was handed to the service and its response is not finished
//!   (`write_timeout`, counted from the request head, as Go does).
//!
//! Everything is atomics: HTTP/2 answers streams in tasks of their own.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::time::Instant;

/// "No deadline" / "no request" in the `u64` fields.
const NONE: u64 = u64::MAX;

/// The shared state of one connection; see the module docs.
#[derive(Debug)]
pub(crate) struct Activity {
    /// When the connection was accepted; every time below is nanoseconds since then.
    epoch: Instant,
    in_flight: AtomicUsize,
    /// HTTP/1: bytes of a request head have arrived since the connection went idle.
    reading_head: AtomicBool,
    head_since: AtomicU64,
    idle_since: AtomicU64,
    /// HTTP/1: the current response must be written by then (`write_timeout`).
    write_deadline: AtomicU64,
    /// HTTP/1: the last write to the socket could not proceed (the client is not reading).
    write_blocked: AtomicBool,
    /// The connection was handed over (101 Switching Protocols, CONNECT): no timers.
    upgraded: AtomicBool,
    /// How many requests were handed to the service: the index of the next one.
    requests: AtomicU64,
    /// The connection closes with request bytes possibly unread: read them for a moment
    /// before closing, so the client sees the response rather than a reset.
    linger: AtomicBool,
    /// The connection task's timers, woken when the last request finishes in another task.
    waker: AtomicWaker,
    /// HTTP/2: responses finish in their streams' tasks, so the connection task is woken
    /// to see it. (HTTP/1 responses finish inside the connection task, whose timers are
    /// polled right after the connection: a wake-up there would only poll it once more.)
    wake_on_finish: bool,
}

impl Activity {
    /// A connection accepted at `epoch`. An HTTP/1 connection starts reading its first
    /// head at once (Go counts `read_header_timeout` from accept); an HTTP/2 one starts
    /// idle, at `start`.
    pub(crate) fn new(epoch: Instant, start: Instant, http1: bool) -> Self {
        let since = nanos_between(epoch, start);
        Activity {
            epoch,
            in_flight: AtomicUsize::new(0),
            reading_head: AtomicBool::new(http1),
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(since),
            write_deadline: AtomicU64::new(NONE),
            write_blocked: AtomicBool::new(false),
            upgraded: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            linger: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            wake_on_finish: !http1,
        }
    }

    pub(crate) fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Nanoseconds from the epoch to now.
    pub(crate) fn now(&self) -> u64 {
        nanos_between(self.epoch, Instant::now())
    }

    /// The instant `at` nanoseconds after the epoch (at most ~584 years: always fits).
    pub(crate) fn instant(&self, at: u64) -> Instant {
        let after = Duration::from_nanos(at);
        self.epoch
            .checked_add(after)
            .unwrap_or_else(|| self.epoch + Duration::from_secs(86_400 * 365 * 30))
    }

    /// HTTP/1: bytes arrived. The first after idle starts the next request's head.
    pub(crate) fn bytes_read(&self) {
        if !self.reading_head.load(Ordering::Relaxed) && self.in_flight.load(Ordering::Relaxed) == 0
        {
            self.head_since.store(self.now(), Ordering::Relaxed);
            self.reading_head.store(true, Ordering::Relaxed);
        }
    }

    /// A request head was handed to the service; returns the request's index on the
    /// connection. `write_timeout` (HTTP/1) starts now.
    pub(crate) fn request_started(&self, write_timeout: Option<Duration>) -> u64 {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.reading_head.store(false, Ordering::Relaxed);
        if let Some(write_timeout) = write_timeout {
            let deadline = self.now().saturating_add(duration_nanos(write_timeout));
            self.write_deadline.store(deadline, Ordering::Relaxed);
        }
        self.requests.fetch_add(1, Ordering::Relaxed)
    }

    /// A response is finished (its body ended or was dropped). The last one makes the
    /// connection idle.
    pub(crate) fn request_finished(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle_since.store(self.now(), Ordering::Relaxed);
            if self.wake_on_finish {
                self.waker.wake();
            }
        }
    }

    pub(crate) fn set_write_blocked(&self, blocked: bool) {
        // Checked first: the common case (not blocked, stays so) does not write the line.
        if self.write_blocked.load(Ordering::Relaxed) != blocked {
            self.write_blocked.store(blocked, Ordering::Relaxed);
        }
    }

    pub(crate) fn mark_upgraded(&self) {
        self.upgraded.store(true, Ordering::Relaxed);
        self.waker.wake();
    }

    pub(crate) fn is_upgraded(&self) -> bool {
        self.upgraded.load(Ordering::Relaxed)
    }

    pub(crate) fn set_linger(&self) {
        self.linger.store(true, Ordering::Relaxed);
    }

    pub(crate) fn lingers(&self) -> bool {
        self.linger.load(Ordering::Relaxed)
    }

    pub(crate) fn register(&self, waker: &std::task::Waker) {
        self.waker.register(waker);
    }

    /// A snapshot of the phase, for the timers.
    pub(crate) fn phase(&self) -> Phase {
        if self.upgraded.load(Ordering::Relaxed) {
            Phase::Upgraded
        } else if self.in_flight.load(Ordering::Acquire) > 0 {
            Phase::Busy {
                write_deadline: self.write_deadline(),
            }
        } else if self.reading_head.load(Ordering::Relaxed) {
            Phase::ReadingHead {
                since: self.head_since.load(Ordering::Relaxed),
            }
        } else {
            let blocked = self.write_blocked.load(Ordering::Relaxed);
            Phase::Idle {
                since: self.idle_since.load(Ordering::Relaxed),
                write_deadline: if blocked { self.write_deadline() } else { None },
            }
        }
    }

    fn write_deadline(&self) -> Option<u64> {
        Some(self.write_deadline.load(Ordering::Relaxed)).filter(|&at| at != NONE)
    }
}

/// What a connection is doing; times are nanoseconds since its epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Upgraded,
    Busy {
        write_deadline: Option<u64>,
    },
    ReadingHead {
        since: u64,
    },
    Idle {
        since: u64,
        /// Set while the last response is still stuck in the socket.
        write_deadline: Option<u64>,
    },
}

/// The in-flight mark of one request: dropped when its response is finished.
#[derive(Debug)]
pub(crate) struct InFlight {
    activity: Arc<Activity>,
}

impl InFlight {
    pub(crate) fn new(activity: Arc<Activity>) -> Self {
        InFlight { activity }
    }

    pub(crate) fn activity(&self) -> &Activity {
        &self.activity
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.request_finished();
    }
}

pub(crate) fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn nanos_between(earlier: Instant, later: Instant) -> u64 {
    duration_nanos(later.saturating_duration_since(earlier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_requests() {
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        assert_eq!(activity.phase(), Phase::ReadingHead { since: 0 });

        let first = activity.request_started(None);
        assert_eq!(first, 0);
        assert_eq!(
            activity.phase(),
            Phase::Busy {
                write_deadline: None
            }
        );
        let in_flight = InFlight::new(activity.clone());
        // Bytes of a pipelined request while busy do not start a head.
        activity.bytes_read();
        assert!(matches!(activity.phase(), Phase::Busy { .. }));
        drop(in_flight);
        assert!(matches!(activity.phase(), Phase::Idle { .. }));

        activity.bytes_read();
        assert!(matches!(activity.phase(), Phase::ReadingHead { .. }));
        assert_eq!(activity.request_started(Some(Duration::from_secs(1))), 1);
        let Phase::Busy {
            write_deadline: Some(at),
        } = activity.phase()
        else {
            panic!("busy with a write deadline: {:?}", activity.phase());
        };
        assert!(at >= duration_nanos(Duration::from_secs(1)));

        activity.mark_upgraded();
        assert_eq!(activity.phase(), Phase::Upgraded);
    }

    #[test]
    fn http2_starts_idle() {
        let now = Instant::now();
        let activity = Activity::new(now, now, false);
        assert!(matches!(activity.phase(), Phase::Idle { since: 0, .. }));
        assert!(!activity.lingers());
        activity.set_linger();
        assert!(activity.lingers());
    }
}
