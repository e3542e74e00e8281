//! [`ConnectionCount`]: how many connections are open, for `Server::connections` and for
//! waiting until all have ended.

use std::sync::Arc;

use tokio::sync::watch;

/// A count of open connections that can be awaited down to zero.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionCount {
    count: Arc<watch::Sender<usize>>,
}

impl ConnectionCount {
    pub(crate) fn new() -> Self {
        ConnectionCount {
            count: Arc::new(watch::Sender::new(0)),
        }
    }

    pub(crate) fn get(&self) -> usize {
        *self.count.borrow()
    }

    /// Counts one more connection until the guard is dropped; the guard lives in the
    /// connection's task, so the count falls however the task ends (done, dropped, panic).
    pub(crate) fn track(&self) -> ConnectionGuard {
        self.count.send_modify(|n| *n += 1);
        ConnectionGuard {
            count: self.count.clone(),
        }
    }

    /// Resolves once no connection is open.
    pub(crate) async fn zero(&self) {
        let mut count = self.count.subscribe();
        // Cannot fail: `self` keeps the sender alive.
        let _ = count.wait_for(|n| *n == 0).await;
    }
}

/// One open connection; see [`ConnectionCount::track`].
#[derive(Debug)]
pub(crate) struct ConnectionGuard {
    count: Arc<watch::Sender<usize>>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_guards_and_wakes_at_zero() {
        let count = ConnectionCount::new();
        let a = count.track();
        let b = count.track();
        assert_eq!(count.get(), 2);
        drop(a);
        assert_eq!(count.get(), 1);
        let waiter = tokio::spawn({
            let count = count.clone();
            async move { count.zero().await }
        });
        drop(b);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("zero() resolves once the last guard is dropped")
            .expect("waiter task");
        assert_eq!(count.get(), 0);
    }
}
