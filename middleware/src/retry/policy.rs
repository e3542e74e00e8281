//! HTTP.jl's retry rule as a `tower::retry::Policy`.
//!
//! HTTP.jl (`retrylayer`): "requests that have a retryable body, where the request wasn't
//! written or is idempotent will be retried. If the request is made and a response is
//! received with a status code of 403, 408, 409, 429, or 5xx, the request will be
//! retried." `retries` bounds the retries, `retry_check` may force one the rule would not
//! make. HTTP.jl 2.x's additions: an `Idempotency-Key` header makes any method safe to
//! retry, and a `Retry-After` on a 429 or 503 replaces the back-off delay (capped by
//! `retry_after_max`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::{HeaderName, HOST, RETRY_AFTER};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use tokio::time::Sleep;
use tower::retry::Policy;

use super::attempt_error::{classify, AttemptError, Failure};
use super::budget::{HostBudgets, RetryBudget};
use super::config::{RetryConfig, RetryState};
use super::retry_count::RetryCount;
use crate::body::TryCloneBody;
use crate::error::Error;
use crate::status::is_error_status;
use crate::timeout::Deadline;

/// The `Idempotency-Key` request header: a request carrying it may be retried whatever
/// its method (the server de-duplicates by the key).
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// HTTP.jl's retried statuses: 403, 408, 409, 429 and 5xx.
pub fn is_retried_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 403 | 408 | 409 | 429 | 500..=599)
}

/// HTTP.jl's idempotent methods (RFC 9110 §9.2.2): GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// HTTP.jl's retry rule for `tower::retry::Retry`; [`Retry`](super::Retry) uses it.
///
/// Cloned per request by `tower::retry` (the clone counts that request's retries); the
/// default [`RetryConfig`] and the per-host budgets are shared. A request's own
/// `RetryConfig` extension replaces the default.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    config: Arc<RetryConfig>,
    budgets: Option<HostBudgets>,
    retries_made: usize,
    last_delay: Option<Duration>,
}

impl RetryPolicy {
    /// A policy with `config` as the default and the default per-host [`RetryBudget`].
    pub fn new(config: RetryConfig) -> Self {
        RetryPolicy::from_parts(
            Arc::new(config),
            Some(HostBudgets::new(RetryBudget::default())),
        )
    }

    /// Sets the per-host retry budget (`None`: no budget, only `retries` bounds retries).
    /// Clones made after this share the budgets.
    pub fn budget(mut self, budget: Option<RetryBudget>) -> Self {
        self.budgets = budget.map(HostBudgets::new);
        self
    }

    /// The default config.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    pub(crate) fn from_parts(config: Arc<RetryConfig>, budgets: Option<HostBudgets>) -> Self {
        RetryPolicy {
            config,
            budgets,
            retries_made: 0,
            last_delay: None,
        }
    }

    /// Whether the attempt that gave `result` is retried, and after which delay (and the
    /// back-off delay it consumed).
    fn judge<B, ResB, E: AttemptError>(
        &self,
        config: &RetryConfig,
        req: &Request<B>,
        result: &Result<Response<ResB>, E>,
    ) -> Option<(Duration, Duration)> {
        if !config.retry || self.retries_made >= config.retries {
            return None;
        }
        let error = match result {
            Ok(_) => None,
            Err(e) => e.as_error(),
        };
        // The status error httpstack's StatusLayer makes, if that is what failed.
        let status_error = error.and_then(|e| {
            std::iter::successors(Some(e), |e| (*e).source())
                .find_map(|e| e.downcast_ref::<Error>().filter(|e| e.is_status()))
        });
        let failure = match result {
            Ok(resp) if !is_error_status(resp.status()) => return None,
            Ok(resp) => Failure::Status(resp.status()),
            Err(_) => error.map_or(Failure::Fatal, classify),
        };
        let safe = config.retry_non_idempotent
            || is_idempotent(req.method())
            || req.headers().contains_key(IDEMPOTENCY_KEY);
        let mut retry = match failure {
            Failure::NotSent => true,
            Failure::Transport => safe,
            Failure::Status(status) => safe && is_retried_status(status),
            Failure::Fatal => false,
        };
        let backoff = config.retry_delays.next_delay(self.last_delay);
        if !retry {
            if let Some(check) = &config.retry_check {
                let state = RetryState {
                    retries_made: self.retries_made,
                    retries_left: config.retries - self.retries_made,
                    next_delay: backoff,
                };
                let (resp_head, resp_body) = match (result, status_error) {
                    (Ok(resp), _) => (Some(response_head(resp)), None),
                    (Err(_), Some(e)) => (
                        e.response().map(response_head),
                        e.response().map(|r| r.body()),
                    ),
                    (Err(_), None) => (None, None),
                };
                retry = check(
                    &state,
                    error,
                    &request_head(req),
                    resp_head.as_ref(),
                    resp_body,
                );
            }
        }
        if !retry {
            return None;
        }
        let response_headers = match (result, status_error) {
            (Ok(resp), _) => Some(resp.headers()),
            (Err(_), Some(e)) => e.response().map(|r| r.headers()),
            (Err(_), None) => None,
        };
        let delay = match (failure, response_headers) {
            (Failure::Status(status), Some(headers)) => {
                retry_after(status, headers, config.retry_after_max)
            }
            _ => None,
        }
        .unwrap_or(backoff);
        // A retry that could only start at or after the exchange's deadline would fail
        // with a timeout at once: the attempt's own outcome says more.
        if let Some(Deadline(deadline)) = req.extensions().get::<Deadline>() {
            if tokio::time::Instant::now() + delay >= *deadline {
                return None;
            }
        }
        if let Some(budgets) = &self.budgets {
            if !budgets.withdraw(host_of(req)) {
                return None;
            }
        }
        Some((delay, backoff))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new(RetryConfig::default())
    }
}

impl<B, ResB, E> Policy<Request<B>, Response<ResB>, E> for RetryPolicy
where
    B: TryCloneBody,
    E: AttemptError,
{
    type Future = Sleep;

    fn retry(
        &mut self,
        req: &mut Request<B>,
        result: &mut Result<Response<ResB>, E>,
    ) -> Option<Sleep> {
        let config = req
            .extensions()
            .get::<RetryConfig>()
            .unwrap_or(&self.config);
        match self.judge(config, req, result) {
            Some((delay, backoff)) => {
                self.retries_made += 1;
                self.last_delay = Some(backoff);
                Some(tokio::time::sleep(delay))
            }
            None => {
                let retries = self.retries_made;
                if retries > 0 {
                    match result {
                        Ok(resp) => {
                            resp.extensions_mut().insert(RetryCount(retries));
                        }
                        Err(e) => e.record_retries(retries),
                    }
                }
                None
            }
        }
    }

    fn clone_request(&mut self, req: &Request<B>) -> Option<Request<B>> {
        // Only the first call (the request as it arrives) counts toward the host's budget;
        // later calls are this request's retries.
        if self.retries_made == 0 {
            if let Some(budgets) = &self.budgets {
                budgets.deposit(host_of(req));
            }
        }
        let body = req.body().try_clone_body()?;
        let mut clone = Request::new(body);
        *clone.method_mut() = req.method().clone();
        *clone.uri_mut() = req.uri().clone();
        *clone.version_mut() = req.version();
        *clone.headers_mut() = req.headers().clone();
        *clone.extensions_mut() = req.extensions().clone();
        Some(clone)
    }
}

/// The key of a request's host budget: its authority, else its `Host` header.
fn host_of<B>(req: &Request<B>) -> &str {
    req.uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| req.headers().get(HOST).and_then(|h| h.to_str().ok()))
        .unwrap_or("")
}

fn request_head<B>(req: &Request<B>) -> http::request::Parts {
    let (mut head, ()) = Request::new(()).into_parts();
    head.method = req.method().clone();
    head.uri = req.uri().clone();
    head.version = req.version();
    head.headers = req.headers().clone();
    head.extensions = req.extensions().clone();
    head
}

fn response_head<B>(resp: &Response<B>) -> http::response::Parts {
    let (mut head, ()) = Response::new(()).into_parts();
    head.status = resp.status();
    head.version = resp.version();
    head.headers = resp.headers().clone();
    head.extensions = resp.extensions().clone();
    head
}

/// The wait a `Retry-After` asks for on a 429 or 503 (RFC 9110 §10.2.3: seconds or an
/// HTTP date), at most `cap`.
fn retry_after(status: StatusCode, headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    retry_after_delay(value, SystemTime::now()).map(|d| d.min(cap))
}

fn retry_after_delay(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // A number too large for u64 is "very long": the cap applies.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Body;
    use crate::error::TimeoutKind;
    use bytes::Bytes;

    type Outcome = Result<Response<()>, Error>;

    fn status(code: u16) -> Outcome {
        Ok(Response::builder().status(code).body(()).unwrap())
    }

    fn status_error(code: u16) -> Outcome {
        let resp = Response::builder().status(code).body(Bytes::new()).unwrap();
        Err(Error::status_error(resp))
    }

    fn io() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset")
    }

    fn outcome(name: &str) -> Outcome {
        match name {
            "connect" => Err(Error::connect(io())),
            "io" => Err(Error::request(io())),
            "read timeout" => Err(Error::timeout(TimeoutKind::Read)),
            "connect timeout" => Err(Error::timeout(TimeoutKind::Connect)),
            "invalid url" => Err(Error::invalid_url("no host")),
            "body" => Err(Error::body(io())),
            "err 503" => status_error(503),
            "err 404" => status_error(404),
            code => status(code.parse().unwrap()),
        }
    }

    fn no_wait() -> RetryConfig {
        RetryConfig::default().retry_delays(super::super::ExponentialBackOff::fixed(
            Duration::from_millis(1),
        ))
    }

    /// Runs one attempt's outcome through a fresh policy: is it retried?
    fn retried(policy: &mut RetryPolicy, req: &Request<Body>, outcome: Outcome) -> bool {
        let Some(mut clone) = Policy::<_, Response<()>, Error>::clone_request(policy, req) else {
            return false;
        };
        let mut result = outcome;
        policy.retry(&mut clone, &mut result).is_some()
    }

    #[tokio::test]
    async fn the_rule_by_method_body_and_outcome() {
        // (method, Idempotency-Key, retry_non_idempotent, replayable body, outcome, retried)
        const CASES: &[(&str, bool, bool, bool, &str, bool)] = &[
            ("GET", false, false, true, "503", true),
            ("GET", false, false, true, "500", true),
            ("GET", false, false, true, "599", true),
            ("GET", false, false, true, "403", true),
            ("GET", false, false, true, "408", true),
            ("GET", false, false, true, "409", true),
            ("GET", false, false, true, "429", true),
            ("GET", false, false, true, "404", false),
            ("GET", false, false, true, "400", false),
            ("GET", false, false, true, "200", false),
            ("GET", false, false, true, "301", false),
            ("GET", false, false, false, "503", false),
            ("GET", false, false, false, "connect", false),
            ("GET", false, false, true, "connect", true),
            ("GET", false, false, true, "io", true),
            ("GET", false, false, true, "read timeout", true),
            ("GET", false, false, true, "invalid url", false),
            ("GET", false, false, true, "body", false),
            ("GET", false, false, true, "err 503", true),
            ("GET", false, false, true, "err 404", false),
            ("HEAD", false, false, true, "io", true),
            ("OPTIONS", false, false, true, "io", true),
            ("TRACE", false, false, true, "io", true),
            ("PUT", false, false, true, "io", true),
            ("DELETE", false, false, true, "502", true),
            ("POST", false, false, true, "connect", true),
            ("POST", false, false, true, "connect timeout", true),
            ("POST", false, false, true, "io", false),
            ("POST", false, false, true, "503", false),
            ("POST", false, false, true, "err 503", false),
            ("POST", true, false, true, "503", true),
            ("POST", true, false, true, "io", true),
            ("POST", false, true, true, "503", true),
            ("POST", false, true, true, "err 503", true),
            ("POST", false, true, true, "404", false),
            ("POST", false, true, false, "503", false),
            ("PATCH", false, false, true, "io", false),
            ("PATCH", true, false, true, "io", true),
        ];
        for &(method, key, non_idempotent, replayable, result, expected) in CASES {
            let config = no_wait().retry_non_idempotent(non_idempotent);
            let mut policy = RetryPolicy::new(config).budget(None);
            let body = if replayable {
                Body::from("payload")
            } else {
                Body::from_chunks(vec!["payload"])
            };
            let mut req = Request::builder()
                .method(method)
                .uri("http://h/")
                .body(body)
                .unwrap();
            if key {
                req.headers_mut()
                    .insert(IDEMPOTENCY_KEY, "k-1".parse().unwrap());
            }
            assert_eq!(
                retried(&mut policy, &req, outcome(result)),
                expected,
                "case {method} key={key} non_idempotent={non_idempotent} \
                 replayable={replayable} {result}"
            );
        }
    }

    #[tokio::test]
    async fn settings_turn_retries_off() {
        for (config, expected) in [
            (no_wait(), true),
            (no_wait().retry(false), false),
            (no_wait().retries(0), false),
        ] {
            let mut policy = RetryPolicy::new(no_wait()).budget(None);
            let mut req = Request::new(Body::empty());
            req.extensions_mut().insert(config.clone());
            assert_eq!(
                retried(&mut policy, &req, outcome("503")),
                expected,
                "{config:?}"
            );
        }
    }

    #[tokio::test]
    async fn retries_stop_at_the_limit_and_are_counted() {
        let mut policy = RetryPolicy::new(no_wait().retries(3)).budget(None);
        let req = Request::new(Body::empty());
        let mut clone = Policy::<_, Response<()>, Error>::clone_request(&mut policy, &req).unwrap();
        let mut made = 0;
        loop {
            let mut result = outcome("503");
            if policy.retry(&mut clone, &mut result).is_none() {
                assert_eq!(RetryCount::of(&result.unwrap()), 3);
                break;
            }
            made += 1;
        }
        assert_eq!(made, 3);

        let mut policy = RetryPolicy::new(no_wait().retries(1)).budget(None);
        let mut clone = Policy::<_, Response<()>, Error>::clone_request(&mut policy, &req).unwrap();
        let mut result = outcome("err 503");
        assert!(policy.retry(&mut clone, &mut result).is_some());
        let mut result = outcome("err 503");
        assert!(policy.retry(&mut clone, &mut result).is_none());
        let err = result.unwrap_err();
        assert_eq!(err.retries(), Some(1));
        assert!(err.to_string().contains("after 1 retries"), "{err}");
    }

    #[tokio::test]
    async fn retry_check_sees_the_attempt_and_can_force_a_retry() {
        let config = no_wait().retry_check(|state, error, req, resp, body| {
            assert_eq!(state.retries_made, 0);
            assert_eq!(state.retries_left, 4);
            assert_eq!(req.uri.path(), "/page");
            match (error, resp) {
                (None, Some(resp)) => resp.status == StatusCode::NOT_FOUND && body.is_none(),
                (Some(_), Some(resp)) => {
                    resp.status == StatusCode::NOT_FOUND && body.is_some_and(|b| b == "gone")
                }
                (Some(e), None) => e.to_string().contains("no host"),
                (None, None) => false,
            }
        });
        let err_404_with_body = || {
            let resp = Response::builder().status(404).body(Bytes::from("gone"));
            Err(Error::status_error(resp.unwrap()))
        };
        for (name, result, expected) in [
            ("ok 404", outcome("404"), true),
            ("ok 400", outcome("400"), false),
            ("ok 200 (success: no check)", outcome("200"), false),
            ("err 404", err_404_with_body(), true),
            ("err invalid url", outcome("invalid url"), true),
        ] {
            let mut policy = RetryPolicy::new(config.clone()).budget(None);
            let req = Request::get("http://h/page").body(Body::empty()).unwrap();
            assert_eq!(retried(&mut policy, &req, result), expected, "case {name}");
        }
    }

    #[tokio::test]
    async fn retry_after_replaces_the_back_off_up_to_its_cap() {
        let now = SystemTime::now();
        let in_a_minute = httpdate::fmt_http_date(now + Duration::from_secs(60));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        for (value, expected) in [
            ("0", Some(Duration::ZERO)),
            (" 2 ", Some(Duration::from_secs(2))),
            (
                "99999999999999999999999",
                Some(Duration::from_secs(u64::MAX)),
            ),
            (past.as_str(), Some(Duration::ZERO)),
            ("-1", None),
            ("soon", None),
            ("", None),
        ] {
            assert_eq!(retry_after_delay(value, now), expected, "case {value:?}");
        }
        let later = retry_after_delay(&in_a_minute, now).unwrap();
        assert!(later > Duration::from_secs(58), "{later:?}");

        let cap = Duration::from_secs(5);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "120".parse().unwrap());
        for (code, expected) in [(503, Some(cap)), (429, Some(cap)), (500, None)] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(
                retry_after(status, &headers, cap),
                expected,
                "status {code}"
            );
        }
    }

    #[tokio::test]
    async fn a_spent_host_budget_stops_retries() {
        // Nothing free, one retry per request.
        let budget = RetryBudget::new(Duration::from_secs(10), 0, 1.0);
        let policy = RetryPolicy::new(no_wait()).budget(Some(budget));
        let req = Request::get("http://h/").body(Body::empty()).unwrap();
        // Each request buys one retry: the first retry passes, the second does not.
        let mut attempt = policy.clone();
        let mut clone =
            Policy::<_, Response<()>, Error>::clone_request(&mut attempt, &req).unwrap();
        assert!(attempt.retry(&mut clone, &mut outcome("503")).is_some());
        assert!(attempt.retry(&mut clone, &mut outcome("503")).is_none());
    }
}
