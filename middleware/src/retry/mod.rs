//! HTTP.jl's `retrylayer`: retry failed attempts, on `tower::retry`.
//!
//! The rule (HTTP.jl's, see [`RetryPolicy`]): a request whose body can be sent again
//! ([`TryCloneBody`](crate::TryCloneBody); a one-shot stream is never resent) is retried
//! up to `retries` times (default 4) when
//!
//! - it never reached the server: a connect error or connect timeout, an HTTP/2 stream
//!   refused (`REFUSED_STREAM`) or cut by a graceful `GOAWAY` — whatever its method;
//! - or it is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE; any method with an
//!   `Idempotency-Key` header, or with `retry_non_idempotent`) and the exchange broke (I/O
//!   error or read timeout before a response, a pooled connection closed under it, an
//!   HTTP/2 reset) or the status is one HTTP.jl retries: 403, 408, 409, 429, 5xx;
//! - or `retry_check` says so, for a failure the rule would not retry.
//!
//! Between attempts it waits by `retry_delays` (HTTP.jl 1.x's `ExponentialBackOff`: 50 ms,
//! ×3, at most 10 s, with jitter), or by the `Retry-After` of a 429 or 503, up to
//! `retry_after_max`; it does not start a wait that would end past the request's
//! [`Deadline`](crate::timeout::Deadline), if it has one. A per-host [`RetryBudget`] (tower's `TpsBudget`) stops retries to a
//! host that keeps failing. Sleeps use tokio's timer.
//!
//! The inner service's error type is kept. Errors are judged through [`AttemptError`],
//! which views them as `std::error::Error` and walks the `source()` chain, reading the
//! kind and [`Delivery`](crate::Delivery) a transport recorded on httpstack's `Error`,
//! hyper's errors and I/O errors. So the layer works above httpstack's own stack (its
//! `Error`, where `StatusLayer` below turns 4xx/5xx into status errors carrying the
//! response) and above a bare hyper-util client whose error is mapped first (its error
//! type is foreign to this crate): `.map_err(httpstack::client::transport_error)` for
//! every rule, or `.map_err(BoxError::from)` for all but the HTTP/2 ones.
//! The retries made are recorded on the outcome: a [`RetryCount`] in the final response's
//! extensions (only when there was a retry), and `Error::with_retries(n)` on a final
//! httpstack `Error` (even boxed), so its message ends "after n retries".
//!
//! A request overrides the layer's settings by carrying a [`RetryConfig`] extension. One
//! with `retry` off or `retries` 0 goes straight to the inner service, with no copy made.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use httpstack_middleware::retry::{ExponentialBackOff, RetryCount, RetryLayer};
//! use httpstack_middleware::Body;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A service that answers 503 twice, then 200.
//! let calls = Arc::new(AtomicUsize::new(0));
//! let flaky = service_fn(move |_req: http::Request<Body>| {
//!     let n = calls.fetch_add(1, Ordering::SeqCst);
//!     async move {
//!         let status = if n < 2 { 503 } else { 200 };
//!         Ok::<_, std::io::Error>(http::Response::builder().status(status).body(()).unwrap())
//!     }
//! });
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new().retry_delays(ExponentialBackOff::fixed(Duration::from_millis(1))))
//!     .service(flaky);
//! let req = http::Request::get("http://example.com/").body(Body::empty()).unwrap();
//! let resp = client.oneshot(req).await.unwrap();
//! assert_eq!(resp.status(), 200);
//! assert_eq!(RetryCount::of(&resp), 2);
//! # }
//! ```

mod attempt_error;
mod budget;
mod config;
mod future;
mod layer;
mod policy;
mod retry_count;
mod service;

pub use attempt_error::{AttemptError, Refused};
pub use budget::RetryBudget;
pub use config::{ExponentialBackOff, RetryCheck, RetryConfig, RetryState};
pub use future::ResponseFuture;
pub use layer::RetryLayer;
pub use policy::{is_idempotent, is_retried_status, RetryPolicy, IDEMPOTENCY_KEY};
pub use retry_count::RetryCount;
pub use service::Retry;
