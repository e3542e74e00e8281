//! [`RetryLayer`]: the client-wide retry settings, applied to an inner service.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tower::Layer;

use super::budget::{HostBudgets, RetryBudget};
use super::config::{ExponentialBackOff, RetryConfig, RetryState};
use super::service::Retry;

/// Retries failed attempts by HTTP.jl's rule; see the [module docs](super).
///
/// Holds the default [`RetryConfig`] (a request's own `RetryConfig` extension replaces it)
/// and the per-host [`RetryBudget`]. The services one layer makes, and their clones, share
/// the hosts' budgets.
///
/// ```
/// use httpstack_middleware::retry::{ExponentialBackOff, RetryLayer};
/// use httpstack_middleware::Body;
/// use std::time::Duration;
/// use tower::{service_fn, ServiceBuilder};
///
/// let client = ServiceBuilder::new()
///     .layer(RetryLayer::new().retries(2).retry_delays(ExponentialBackOff::fixed(Duration::from_millis(10))))
///     .service(service_fn(|_req: http::Request<Body>| async {
///         Ok::<_, httpstack_middleware::Error>(http::Response::new(Body::empty()))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Debug)]
pub struct RetryLayer {
    config: Arc<RetryConfig>,
    budgets: Option<HostBudgets>,
}

impl RetryLayer {
    /// HTTP.jl's defaults (4 retries of idempotent requests, exponential back-off) and the
    /// default per-host budget.
    pub fn new() -> Self {
        RetryLayer::from_config(RetryConfig::default())
    }

    /// A layer whose default is `config`, with the default per-host budget.
    pub fn from_config(config: RetryConfig) -> Self {
        RetryLayer {
            config: Arc::new(config),
            budgets: Some(HostBudgets::new(RetryBudget::default())),
        }
    }

    /// The default config.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    fn update(mut self, change: impl FnOnce(RetryConfig) -> RetryConfig) -> Self {
        let config = Arc::unwrap_or_clone(self.config);
        self.config = Arc::new(change(config));
        self
    }

    /// Sets the default `retry`.
    pub fn retry(self, retry: bool) -> Self {
        self.update(|c| c.retry(retry))
    }

    /// Sets the default `retries`.
    pub fn retries(self, retries: usize) -> Self {
        self.update(|c| c.retries(retries))
    }

    /// Sets the default `retry_non_idempotent`.
    pub fn retry_non_idempotent(self, on: bool) -> Self {
        self.update(|c| c.retry_non_idempotent(on))
    }

    /// Sets the default `retry_delays`.
    pub fn retry_delays(self, delays: ExponentialBackOff) -> Self {
        self.update(|c| c.retry_delays(delays))
    }

    /// Sets the default `retry_check`; see [`RetryCheck`](super::RetryCheck).
    pub fn retry_check<F>(self, check: F) -> Self
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
        self.update(|c| c.retry_check(check))
    }

    /// Sets the default cap on an honoured `Retry-After`.
    pub fn retry_after_max(self, max: Duration) -> Self {
        self.update(|c| c.retry_after_max(max))
    }

    /// Sets the per-host retry budget (fresh budgets for the services made from now on).
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.budgets = Some(HostBudgets::new(budget));
        self
    }

    /// No per-host budget: only `retries` bounds the retries.
    pub fn no_budget(mut self) -> Self {
        self.budgets = None;
        self
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        RetryLayer::new()
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Retry<S> {
        Retry::from_parts(inner, self.config.clone(), self.budgets.clone())
    }
}
