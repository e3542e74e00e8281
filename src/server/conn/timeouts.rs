//! [`Timeouts`]: the server's timeout options, resolved; [`ConnectionTimers`]: the one
//! timer of a connection task, which enforces them from the connection's [`Activity`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

use super::activity::{duration_nanos, Activity, Phase};

/// `read_header_timeout` when none is set: hyper's own default.
pub(crate) const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// `idle_timeout` when none is set (and no `read_timeout` stands in for it).
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A timeout option as the user left it: not set (the default applies), or set, to a
/// duration or to none.
pub(crate) type Setting = Option<Option<Duration>>;

/// The timeout options as the connections use them (`None`: no timeout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// `read_timeout`: the longest gap between pieces of a request body.
    pub(crate) read: Option<Duration>,
    /// The head of a request: `read_header_timeout`, bounded by `read_timeout`.
    pub(crate) header: Option<Duration>,
    /// `write_timeout`: from the request head being read to the response being written.
    pub(crate) write: Option<Duration>,
    /// `idle_timeout`, or `read_timeout` when it is unset (as in Go).
    pub(crate) idle: Option<Duration>,
}

impl Timeouts {
    /// Resolves the options; a zero duration means "none", as HTTP.jl's `0` does. An
    /// unset `read_header` or `idle` is `read` when that is set (as in Go), else its safe
    /// default.
    pub(crate) fn new(
        read: Option<Duration>,
        read_header: Setting,
        write: Option<Duration>,
        idle: Setting,
    ) -> Self {
        let set = |d: Option<Duration>| d.filter(|d| !d.is_zero());
        let (read, write) = (set(read), set(write));
        let read_header = read_header.map_or(read.or(Some(DEFAULT_READ_HEADER_TIMEOUT)), set);
        let idle = idle.map_or(read.or(Some(DEFAULT_IDLE_TIMEOUT)), set);
        let header = match (read_header, read) {
            (Some(header), Some(read)) => Some(header.min(read)),
            (header, _) => header,
        };
        Timeouts {
            read,
            header,
            write,
            idle,
        }
    }

    /// Whether a connection needs its timer at all.
    pub(crate) fn any_connection_timer(&self) -> bool {
        self.header.is_some() || self.write.is_some() || self.idle.is_some()
    }
}

/// What the connection task must do when a timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerAction {
    /// Idle past `idle_timeout`: close gracefully (HTTP/2 sends GOAWAY).
    Idle,
    /// A request head took longer than `read_header_timeout`: drop the connection.
    HeaderTimeout,
    /// HTTP/1: a response was not written within `write_timeout`: drop the connection.
    WriteTimeout,
    /// Closing for idleness did not finish (an HTTP/2 client that sends neither a
    /// request nor anything that ends its connection, e.g. a header block without its
    /// END_HEADERS): drop the connection.
    Drained,
}

/// The timer of one connection: a future that resolves when the connection's current
/// phase has lasted too long, re-arming itself as the phase changes. It is polled after
/// the connection on every wake-up of the connection task, so phase changes made while
/// serving are seen at once; the last response finishing in another task (HTTP/2) wakes
/// it through the [`Activity`].
#[derive(Debug)]
pub(crate) struct ConnectionTimers {
    activity: Arc<Activity>,
    timeouts: Timeouts,
    http1: bool,
    sleep: Pin<Box<Sleep>>,
    armed: Option<u64>,
    /// When idle fired: the connection is draining, do not fire it again; if it is still
    /// idle a header timeout (or an idle timeout) later, it is dropped.
    idle_fired: Option<u64>,
}

impl ConnectionTimers {
    pub(crate) fn new(activity: Arc<Activity>, timeouts: Timeouts, http1: bool) -> Self {
        let sleep = Box::pin(tokio::time::sleep_until(activity.epoch()));
        ConnectionTimers {
            activity,
            timeouts,
            http1,
            sleep,
            armed: None,
            idle_fired: None,
        }
    }

    /// The next deadline (nanoseconds since the epoch) and what it means.
    fn next(&self) -> Option<(u64, TimerAction)> {
        let after = |since: u64, d: Duration| since.saturating_add(duration_nanos(d));
        match self.activity.phase() {
            Phase::Upgraded => None,
            // HTTP/2 bounds each stream's response instead (see ConnectionService).
            Phase::Busy { write_deadline } => write_deadline
                .filter(|_| self.http1)
                .map(|at| (at, TimerAction::WriteTimeout)),
            Phase::ReadingHead { since } => self
                .timeouts
                .header
                .filter(|_| self.http1)
                .map(|d| (after(since, d), TimerAction::HeaderTimeout)),
            Phase::Idle {
                since,
                write_deadline,
            } => {
                let idle = match self.idle_fired {
                    None => self
                        .timeouts
                        .idle
                        .map(|d| (after(since, d), TimerAction::Idle)),
                    Some(fired) => self
                        .timeouts
                        .header
                        .or(self.timeouts.idle)
                        .map(|d| (after(fired.max(since), d), TimerAction::Drained)),
                };
                let write = write_deadline
                    .filter(|_| self.http1)
                    .map(|at| (at, TimerAction::WriteTimeout));
                match (idle, write) {
                    (Some(idle), Some(write)) => Some(if write.0 < idle.0 { write } else { idle }),
                    (idle, write) => idle.or(write),
                }
            }
        }
    }
}

impl Future for ConnectionTimers {
    type Output = TimerAction;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<TimerAction> {
        let this = &mut *self;
        this.activity.register(cx.waker());
        loop {
            let Some((at, action)) = this.next() else {
                // Nothing to time: the sleep stays as it is, and if it fires it only
                // brings the task here to look again.
                return Poll::Pending;
            };
            // Re-armed only for an earlier deadline: moving a tokio timer costs more than
            // the whole rest of a request's bookkeeping, and phases mostly move deadlines
            // later (a request's head, then idle), so a sleep that fires before the
            // deadline it is for is re-armed then, instead of at every phase change.
            if this.armed.is_none_or(|armed| at < armed) {
                this.sleep.as_mut().reset(this.activity.instant(at));
                this.armed = Some(at);
            }
            if this.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let fired = this.armed.take().unwrap_or(at);
            if fired < at {
                // Early: armed for a deadline that has since moved later.
                continue;
            }
            if action == TimerAction::Idle {
                this.idle_fired = Some(at);
            }
            return Poll::Ready(action);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[test]
    fn options_resolve_as_go_does_with_safe_defaults() {
        let s = Duration::from_secs;
        let (header, idle) = (
            Some(DEFAULT_READ_HEADER_TIMEOUT),
            Some(DEFAULT_IDLE_TIMEOUT),
        );
        let zero = Some(Some(Duration::ZERO));
        let cases = [
            // (read, read_header, write, idle) -> (header, idle)
            ((None, None, None, None), (header, idle)),
            ((None, Some(None), None, Some(None)), (None, None)),
            ((Some(s(10)), None, None, None), (Some(s(10)), Some(s(10)))),
            (
                (Some(s(10)), Some(Some(s(2))), None, Some(Some(s(60)))),
                (Some(s(2)), Some(s(60))),
            ),
            (
                (Some(s(1)), Some(Some(s(5))), None, None),
                (Some(s(1)), Some(s(1))),
            ),
            ((None, Some(Some(s(5))), None, None), (Some(s(5)), idle)),
            ((Some(Duration::ZERO), zero, None, zero), (None, None)),
        ];
        for ((read, header, write, idle), expected) in cases {
            let t = Timeouts::new(read, header, write, idle);
            assert_eq!(
                (t.header, t.idle),
                expected,
                "case {read:?} {header:?} {idle:?}"
            );
        }
        assert!(Timeouts::new(None, None, None, None).any_connection_timer());
        assert!(!Timeouts::new(None, Some(None), None, Some(None)).any_connection_timer());
        assert!(Timeouts::new(None, Some(None), Some(s(1)), Some(None)).any_connection_timer());
    }

    #[tokio::test]
    async fn idle_fires_once_and_busy_holds_it_off() {
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, true));
        let timeouts = Timeouts::new(
            None,
            Some(None),
            None,
            Some(Some(Duration::from_millis(20))),
        );
        let mut timers = ConnectionTimers::new(activity.clone(), timeouts, true);

        // Reading the first head with no header timeout: nothing to fire.
        assert_eq!(timers.next(), None);
        activity.request_started(None);
        assert_eq!(timers.next(), None, "busy, no write timeout");
        activity.request_finished();
        let action = tokio::time::timeout(Duration::from_secs(5), &mut timers)
            .await
            .expect("idle fires");
        assert_eq!(action, TimerAction::Idle);
        // Still idle an idle timeout later (the close did not finish): dropped.
        let action = tokio::time::timeout(Duration::from_secs(5), &mut timers)
            .await
            .expect("drain fires");
        assert_eq!(action, TimerAction::Drained);
    }

    #[tokio::test]
    async fn header_and_write_timeouts_fire_for_http1_only() {
        let now = Instant::now();
        let timeouts = Timeouts::new(
            None,
            Some(Some(Duration::from_millis(10))),
            Some(Duration::from_millis(10)),
            Some(None),
        );
        let activity = Arc::new(Activity::new(now, now, true));
        let mut timers = ConnectionTimers::new(activity.clone(), timeouts, true);
        let action = tokio::time::timeout(Duration::from_secs(5), &mut timers)
            .await
            .expect("header timeout fires");
        assert_eq!(action, TimerAction::HeaderTimeout);

        activity.request_started(timeouts.write);
        let action = tokio::time::timeout(Duration::from_secs(5), &mut timers)
            .await
            .expect("write timeout fires");
        assert_eq!(action, TimerAction::WriteTimeout);

        let http2 = Arc::new(Activity::new(now, now, false));
        http2.request_started(timeouts.write);
        let timers = ConnectionTimers::new(http2, timeouts, false);
        assert_eq!(
            timers.next(),
            None,
            "HTTP/2 bounds streams, not the connection"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_moved_later_does_not_fire_at_the_old_one() {
        let now = Instant::now();
        let activity = Arc::new(Activity::new(now, now, false));
        let idle = Duration::from_millis(50);
        let timeouts = Timeouts::new(None, Some(None), None, Some(Some(idle)));
        let mut timers = ConnectionTimers::new(activity.clone(), timeouts, false);
        // Armed for now + 50 ms.
        let poll = |timers: &mut ConnectionTimers| {
            let waker = futures_util::task::noop_waker_ref();
            Pin::new(timers).poll(&mut Context::from_waker(waker))
        };
        assert!(poll(&mut timers).is_pending());
        tokio::time::sleep(Duration::from_millis(30)).await;
        // A request comes and goes: idle now counts from here.
        activity.request_started(None);
        activity.request_finished();
        assert!(poll(&mut timers).is_pending());
        tokio::time::sleep(Duration::from_millis(25)).await;
        // Past the old deadline, before the new one: the sleep fired early, nothing to do.
        assert!(poll(&mut timers).is_pending(), "not at the old deadline");
        let started = Instant::now();
        let action = tokio::time::timeout(Duration::from_secs(5), &mut timers)
            .await
            .expect("idle fires");
        assert_eq!(action, TimerAction::Idle);
        let waited = Instant::now() - started;
        assert!(
            waited >= Duration::from_millis(20),
            "fired at the new deadline: {waited:?}"
        );
    }
}
