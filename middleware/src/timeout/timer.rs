use std::time::Duration;

use std::pin::Pin;
use tokio::time::{Instant, Sleep};

use super::{Deadline, TimeoutConfig};
use crate::error::TimeoutKind;

/// The deadlines of one exchange. Only built when a timeout is set, so the default
/// (no timeouts) costs nothing per request.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timer {
    read: Option<Duration>,
    deadline: Option<Instant>,
}

impl Timer {
    /// The timer of one attempt: `deadline`, when the request carries one, else its own
    /// total timeout from now.
    pub(super) fn start(config: TimeoutConfig, deadline: Option<Deadline>) -> Option<Timer> {
        let deadline = match deadline {
            Some(Deadline(at)) => Some(at),
            None => config.timeout.map(|t| Instant::now() + t),
        };
        if config.read_timeout.is_none() && deadline.is_none() {
            return None;
        }
        Some(Timer {
            read: config.read_timeout,
            deadline,
        })
    }

    /// When the next wait for data ends, and which timeout that is.
    pub(super) fn next(&self) -> (Instant, TimeoutKind) {
        let read_at = self.read.map(|r| Instant::now() + r);
        match (read_at, self.deadline) {
            (Some(r), Some(d)) if d <= r => (d, TimeoutKind::Total),
            (Some(r), _) => (r, TimeoutKind::Read),
            (None, Some(d)) => (d, TimeoutKind::Total),
            // Timer::start never builds a timer with neither set.
            (None, None) => (
                Instant::now() + Duration::from_secs(u32::MAX as u64),
                TimeoutKind::Read,
            ),
        }
    }
}

/// Restarts the wait for the next piece of data (no-op without a timer).
pub(super) fn rearm(
    timer: &Option<Timer>,
    sleep: &mut Option<Pin<Box<Sleep>>>,
    kind: &mut TimeoutKind,
) {
    if let (Some(timer), Some(sleep)) = (timer.as_ref(), sleep.as_mut()) {
        let (at, next_kind) = timer.next();
        sleep.as_mut().reset(at);
        *kind = next_kind;
    }
}
