//! A retry budget per host, so a failing host is not hammered by every request's retries.
//!
//! Each host (URI authority) gets a `tower::retry::budget::TpsBudget`: every request
//! deposits, every retry withdraws, and once a host's budget is spent its requests fail
//! after their first attempt until enough time passes or enough requests go through. The
//! budgets are shared by the services one [`RetryLayer`](super::RetryLayer) makes and all
//! their clones; the number of hosts kept is bounded.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};

/// The size of each host's retry budget (tower's `TpsBudget` parameters).
///
/// `min_per_sec` retries per second are always allowed; beyond that, retries may be at
/// most `retry_percent` of the requests (0.2 = one retry per five requests) seen in the
/// last `ttl`. The default is tower's: 10 s, 10 per second, 20 %. Out-of-range values are
/// clamped (`ttl` to 1–60 s, `retry_percent` to 0–1000) rather than rejected.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryBudget {
    /// How long a deposit counts.
    pub ttl: Duration,
    /// Retries per second allowed regardless of deposits.
    pub min_per_sec: u32,
    /// Retries allowed per request, as a fraction.
    pub retry_percent: f32,
    /// How many hosts keep a budget; past that, one is forgotten for each new host.
    pub max_hosts: usize,
}

impl RetryBudget {
    /// A budget of `ttl`, `min_per_sec` and `retry_percent`, for up to 1024 hosts.
    pub fn new(ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Self {
        RetryBudget {
            ttl,
            min_per_sec,
            retry_percent,
            max_hosts: 1024,
        }
    }

    /// Sets how many hosts keep a budget (at least 1).
    pub fn max_hosts(mut self, max_hosts: usize) -> Self {
        self.max_hosts = max_hosts;
        self
    }

    fn make(&self) -> TpsBudget {
        // TpsBudget::new asserts its ranges; clamp so user input cannot panic.
        let ttl = self
            .ttl
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        let percent = if self.retry_percent.is_nan() {
            0.0
        } else {
            self.retry_percent.clamp(0.0, 1000.0)
        };
        let min_per_sec = self.min_per_sec.min(i32::MAX as u32 - 1);
        TpsBudget::new(ttl, min_per_sec, percent)
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new(Duration::from_secs(10), 10, 0.2)
    }
}

/// The budgets of every host, shared across clones.
#[derive(Clone)]
pub(crate) struct HostBudgets {
    config: RetryBudget,
    hosts: Arc<Mutex<HashMap<String, Arc<TpsBudget>>>>,
}

impl HostBudgets {
    pub(crate) fn new(config: RetryBudget) -> Self {
        HostBudgets {
            config,
            hosts: Arc::default(),
        }
    }

    fn budget(&self, host: &str) -> Arc<TpsBudget> {
        // A panic elsewhere while holding the lock leaves the map usable: it holds only
        // counters.
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(budget) = hosts.get(host) {
            return budget.clone();
        }
        if hosts.len() >= self.config.max_hosts.max(1) {
            if let Some(old) = hosts.keys().next().cloned() {
                hosts.remove(&old);
            }
        }
        let budget = Arc::new(self.config.make());
        hosts.insert(host.to_owned(), budget.clone());
        budget
    }

    /// Records a request to `host`.
    pub(crate) fn deposit(&self, host: &str) {
        self.budget(host).deposit();
    }

    /// Takes one retry from `host`'s budget; `false` when it is spent.
    pub(crate) fn withdraw(&self, host: &str) -> bool {
        self.budget(host).withdraw()
    }
}

impl fmt::Debug for HostBudgets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts = self
            .hosts
            .lock()
            .map(|h| h.len())
            .unwrap_or_else(|p| p.into_inner().len());
        f.debug_struct("HostBudgets")
            .field("config", &self.config)
            .field("hosts", &hosts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hosts_have_their_own_budgets() {
        // One retry per two requests, nothing free.
        let budgets = HostBudgets::new(RetryBudget::new(Duration::from_secs(10), 0, 0.5));
        budgets.deposit("a:80");
        assert!(!budgets.withdraw("a:80"), "one request is not enough");
        budgets.deposit("a:80");
        assert!(budgets.withdraw("a:80"), "two requests buy one retry");
        assert!(!budgets.withdraw("a:80"), "and only one");
        budgets.deposit("b:80");
        budgets.deposit("b:80");
        assert!(budgets.withdraw("b:80"), "b has its own budget");
    }

    #[tokio::test]
    async fn the_host_map_is_bounded_and_bad_values_do_not_panic() {
        let config = RetryBudget::new(Duration::ZERO, u32::MAX, f32::NAN).max_hosts(2);
        let budgets = HostBudgets::new(config);
        for host in ["a", "b", "c", "d"] {
            budgets.deposit(host);
        }
        assert_eq!(budgets.hosts.lock().unwrap().len(), 2);
    }
}
