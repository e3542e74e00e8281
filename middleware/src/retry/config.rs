//! The per-request retry settings (HTTP.jl's `retry`, `retries`, `retry_non_idempotent`,
//! `retry_delays`, `retry_check`) and the delay schedule between attempts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

/// HTTP.jl's `retry_check`: called when the default rule would not retry a failed attempt
/// (an error, or a response with a 4xx/5xx status); returning `true` retries it anyway.
///
/// Arguments, as in HTTP.jl `(s, ex, req, resp, resp_body)`: the [`RetryState`]; the
/// error, if the attempt failed without a response (an `httpstack_middleware::Error`
/// carrying a status is passed here too, with its response in the next arguments); the
/// request's head; the response's head, if there was one; the response body, when it was
/// already read (a status error's buffered body), `None` for a streamed response body.
/// Retry limits, one-shot bodies and the per-host budget still apply to a forced retry.
pub type RetryCheck = Arc<
    dyn Fn(
            &RetryState,
            Option<&(dyn std::error::Error + 'static)>,
            &http::request::Parts,
            Option<&http::response::Parts>,
            Option<&Bytes>,
        ) -> bool
        + Send
        + Sync,
>;

/// Where a request is in its retries, as passed to a [`RetryCheck`] (HTTP.jl passes the
/// `ExponentialBackOff` iteration state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryState {
    /// Retries made before the attempt that just failed (0 for the first attempt).
    pub retries_made: usize,
    /// Retries still allowed by `retries`.
    pub retries_left: usize,
    /// The back-off delay the next attempt would wait (a `Retry-After` may replace it).
    pub next_delay: Duration,
}

/// HTTP.jl's retry keyword arguments, as one request extension.
///
/// A [`RetryLayer`](super::RetryLayer) holds the client-wide default; a request that
/// carries a `RetryConfig` in its extensions uses that one instead (the whole config: start
/// from the client's default and change what differs).
///
/// ```
/// use std::time::Duration;
/// use httpstack_middleware::retry::{ExponentialBackOff, RetryConfig};
///
/// let config = RetryConfig::default()
///     .retries(2)
///     .retry_delays(ExponentialBackOff::fixed(Duration::from_millis(10)));
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(config);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RetryConfig {
    /// `retry` (default true): retry failed attempts at all.
    pub retry: bool,
    /// `retries` (default 4): how many retries after the first attempt.
    pub retries: usize,
    /// `retry_non_idempotent` (default false): retry methods other than GET, HEAD, OPTIONS,
    /// TRACE, PUT and DELETE even when the request carries no `Idempotency-Key`.
    pub retry_non_idempotent: bool,
    /// `retry_delays`: the wait before each retry.
    pub retry_delays: ExponentialBackOff,
    /// `retry_check`: forces a retry the default rule would not make.
    pub retry_check: Option<RetryCheck>,
    /// The longest `Retry-After` (on a 429 or 503) that is honoured; a longer one is cut to
    /// this (default 10 s, HTTP.jl's longest back-off delay).
    pub retry_after_max: Duration,
}

impl RetryConfig {
    /// HTTP.jl's defaults: retry, 4 retries, idempotent requests only, exponential back-off.
    pub fn new() -> Self {
        RetryConfig::default()
    }

    /// Sets `retry`.
    pub fn retry(mut self, retry: bool) -> Self {
        self.retry = retry;
        self
    }

    /// Sets `retries`.
    pub fn retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// Sets `retry_non_idempotent`.
    pub fn retry_non_idempotent(mut self, on: bool) -> Self {
        self.retry_non_idempotent = on;
        self
    }

    /// Sets `retry_delays`.
    pub fn retry_delays(mut self, delays: ExponentialBackOff) -> Self {
        self.retry_delays = delays;
        self
    }

    /// Sets `retry_check`; see [`RetryCheck`] for the arguments.
    pub fn retry_check<F>(mut self, check: F) -> Self
    where
        F: Fn(
                &RetryState,
                Option<&(dyn std::error::Error + 'static)>,
                &http::request::Parts,
                Option<&http::response::Parts>,
                Option<&Bytes>,
            ) -> bool
            + Send
            + Sync
            + 'static,
    {
        self.retry_check = Some(Arc::new(check));
        self
    }

    /// Sets the cap on an honoured `Retry-After`.
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// Whether a request under this config can be retried at all.
    pub(crate) fn is_active(&self) -> bool {
        self.retry && self.retries > 0
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            retry: true,
            retries: 4,
            retry_non_idempotent: false,
            retry_delays: ExponentialBackOff::default(),
            retry_check: None,
            retry_after_max: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for RetryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryConfig")
            .field("retry", &self.retry)
            .field("retries", &self.retries)
            .field("retry_non_idempotent", &self.retry_non_idempotent)
            .field("retry_delays", &self.retry_delays)
            .field("retry_check", &self.retry_check.as_ref().map(|_| ".."))
            .field("retry_after_max", &self.retry_after_max)
            .finish()
    }
}

/// Julia's `Base.ExponentialBackOff`, the schedule of HTTP.jl's `retry_delays`.
///
/// The first retry waits `initial`; each next wait is the previous one times `factor`,
/// times a random amount in `1 ± jitter` (so clients that failed together do not retry in
/// step), never more than `max`. The number of delays is `retries`, not a field here.
/// The default is HTTP.jl 1.x's `ExponentialBackOff(n = retries, factor = 3.0)`: 50 ms,
/// ×3, at most 10 s, jitter 0.1 (4 retries wait about 0.05 + 0.15 + 0.45 + 1.35 s).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExponentialBackOff {
    /// The first delay (Julia `first_delay`).
    pub initial: Duration,
    /// The growth per retry (Julia `factor`).
    pub factor: f64,
    /// The longest delay (Julia `max_delay`).
    pub max: Duration,
    /// The random spread, 0.0 to 1.0 (Julia `jitter`).
    pub jitter: f64,
}

impl ExponentialBackOff {
    /// A schedule starting at `initial`, growing by `factor`, capped at `max`, with
    /// `jitter` (clamped to 0.0–1.0).
    pub fn new(initial: Duration, factor: f64, max: Duration, jitter: f64) -> Self {
        ExponentialBackOff {
            initial,
            factor,
            max,
            jitter,
        }
    }

    /// The same delay before every retry, without jitter.
    pub fn fixed(delay: Duration) -> Self {
        ExponentialBackOff::new(delay, 1.0, delay, 0.0)
    }

    /// Sets the first delay.
    pub fn initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets the growth factor.
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets the longest delay.
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Sets the jitter.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The delay after `previous` (`None` for the first retry), as Julia computes it.
    pub fn next_delay(&self, previous: Option<Duration>) -> Duration {
        let Some(previous) = previous else {
            return self.initial.min(self.max);
        };
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let spread = 1.0 - jitter + fastrand::f64() * 2.0 * jitter;
        let secs = previous.as_secs_f64() * self.factor * spread;
        // A NaN, negative or huge factor falls back to the cap rather than panicking.
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

impl Default for ExponentialBackOff {
    fn default() -> Self {
        ExponentialBackOff::new(Duration::from_millis(50), 3.0, Duration::from_secs(10), 0.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_grows_within_its_jitter_and_stops_at_max() {
        let ms = Duration::from_millis;
        let schedule = ExponentialBackOff::new(ms(100), 2.0, ms(500), 0.1);
        let mut previous = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let d = schedule.next_delay(previous);
            seen.push(d);
            previous = Some(d);
        }
        assert_eq!(seen[0], ms(100), "{seen:?}");
        assert!(seen[1] >= ms(180) && seen[1] <= ms(220), "{seen:?}");
        assert_eq!(seen[4], ms(500), "{seen:?}");
    }

    #[test]
    fn odd_schedules_do_not_panic() {
        let ms = Duration::from_millis;
        for (schedule, expected) in [
            (ExponentialBackOff::fixed(ms(3)), ms(3)),
            (
                ExponentialBackOff::new(ms(10), f64::NAN, ms(40), 0.0),
                ms(40),
            ),
            (ExponentialBackOff::new(ms(10), -1.0, ms(40), 0.0), ms(40)),
            (
                ExponentialBackOff::new(ms(10), 1e300, ms(40), f64::NAN),
                ms(40),
            ),
            (ExponentialBackOff::new(ms(90), 2.0, ms(40), 0.0), ms(40)),
        ] {
            let d = schedule.next_delay(Some(schedule.next_delay(None)));
            assert_eq!(d, expected, "{schedule:?}");
        }
    }
}
