//! [`Deadline`]: the time by which a request's handler must have answered.

use std::time::Duration;

use tokio::time::Instant;

/// The time by which the handler must answer, carried in the request's extensions by
/// [`HandlerTimeoutLayer`](super::HandlerTimeoutLayer) (HTTP.jl's request-context
/// deadline). A request that already carries one keeps the earlier of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline(Instant);

impl Deadline {
    /// A deadline at `instant`.
    pub fn at(instant: Instant) -> Self {
        Deadline(instant)
    }

    /// A deadline `timeout` from now (saturating far in the future).
    pub fn after(timeout: Duration) -> Self {
        let now = Instant::now();
        Deadline(now.checked_add(timeout).unwrap_or_else(|| far_future(now)))
    }

    /// When it falls.
    pub fn instant(&self) -> Instant {
        self.0
    }

    /// The time left, zero once it has passed.
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether it has passed.
    pub fn is_past(&self) -> bool {
        Instant::now() >= self.0
    }
}

/// About 30 years on: tokio's own "never" for timers.
fn far_future(now: Instant) -> Instant {
    now + Duration::from_secs(86_400 * 365 * 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn remaining_counts_down_to_zero() {
        let d = Deadline::after(Duration::from_secs(2));
        assert_eq!(d.remaining(), Duration::from_secs(2));
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(d.is_past());
        assert_eq!(d.remaining(), Duration::ZERO);
        assert!(Deadline::after(Duration::MAX) > d);
    }
}
