//! [`finish_shutdown`]: what happens after the accept loop has stopped.

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use super::catch_failure::panic_message;
use crate::server::handle::Shared;

/// A function run once the server has stopped (HTTP.jl `on_shutdown`).
pub(crate) type ShutdownHook = Box<dyn FnOnce() + Send + 'static>;

/// Waits for the open connections to end — at most `grace_period`, after which they are
/// dropped — then runs the hooks in the order they were added. A panicking hook is logged
/// and the others still run.
pub(crate) async fn finish_shutdown(
    shared: &Shared,
    grace_period: Option<Duration>,
    hooks: Vec<ShutdownHook>,
) {
    match grace_period {
        None => shared.connections.zero().await,
        Some(grace) => {
            if tokio::time::timeout(grace, shared.connections.zero())
                .await
                .is_err()
            {
                tracing::warn!(
                    open = shared.connections.get(),
                    ?grace,
                    "grace period over; dropping the open connections"
                );
                shared.killing.cancel();
                shared.connections.zero().await;
            }
        }
    }
    for hook in hooks {
        if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(hook)) {
            tracing::error!(panic = panic_message(&*panic), "on_shutdown hook panicked");
        }
    }
}
