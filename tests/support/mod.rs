//! Shared helpers for the integration tests: real third-party peers, test TLS material,
//! raw HTTP/1 on the wire, and bounded waits. Each test crate includes this module with
//! `mod support;`, so each compiles its own copy and uses only part of it; hence the
//! `allow`s.
#![allow(dead_code, unused_imports)]

pub mod h2_peers;
pub mod h2c;
pub mod httpbin;
pub mod nginx;
pub mod peers;
pub mod python_peers;
pub mod raw_http;
pub mod static_files;
pub mod tinyproxy;
pub mod tls;

use std::future::IntoFuture;
use std::time::Duration;

pub use httpbin::{httpbin, raw_get, Httpbin};
pub use tls::{other_ca_pem, test_cert, TestCert};

/// The bound on a test's waits, unless its crate names another with [`within_for`].
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test (`timed out: <what>`) if it takes longer than
/// [`WAIT`].
pub async fn within<F: IntoFuture>(what: &str, future: F) -> F::Output {
    within_for(WAIT, what, future).await
}

/// Awaits `future`, failing the test (`timed out: <what>`) if it takes longer than
/// `limit`.
pub async fn within_for<F: IntoFuture>(limit: Duration, what: &str, future: F) -> F::Output {
    tokio::time::timeout(limit, future.into_future())
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Polls `condition` until it holds, failing the test after [`WAIT`].
pub async fn until(what: &str, condition: impl FnMut() -> bool) {
    until_for(WAIT, what, condition).await
}

/// Polls `condition` every 10 ms until it holds, failing the test after `limit`.
pub async fn until_for(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    within_for(limit, what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}
