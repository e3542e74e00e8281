//! Client timeouts: HTTP.jl's `readtimeout` and a total `timeout`, as [`TimeoutError`]s.
//!
//! - `read_timeout`: the longest wait for the response head, and afterwards the longest gap
//!   between two pieces of the response body (an idle timeout, so a slow but steady
//!   download is not cut).
//! - `timeout`: the whole exchange, response body included.
//!
//! Both are off by default, as in HTTP.jl (`readtimeout = 0`). A request overrides the
//! layer's values by carrying a [`TimeoutConfig`] extension. The connect timeout belongs to
//! the connector (it must cover TCP and TLS), not to this layer.
//!
//! Under a retry or redirect layer, [`TimeoutLayer`] times each attempt. For one deadline
//! over all of them (retries, back-off sleeps and redirects included, as the client's
//! `timeout` is), put a [`DeadlineLayer`] outside them: it stamps the request with a
//! [`Deadline`] that every attempt's timer and the retry layer's back-off respect.
//!
//! ```
//! use httpstack_middleware::retry::RetryLayer;
//! use httpstack_middleware::timeout::{DeadlineLayer, TimeoutLayer};
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//!
//! let stack = ServiceBuilder::new()
//!     // Five seconds for the whole exchange, retries included...
//!     .layer(DeadlineLayer::new().timeout(Duration::from_secs(5)))
//!     .layer(RetryLayer::new())
//!     // ...and at most one second of silence from the server per attempt.
//!     .layer(TimeoutLayer::new().read_timeout(Duration::from_secs(1)))
//!     .service_fn(|_req: http::Request<String>| async {
//!         Ok::<_, httpstack_middleware::Error>(http::Response::new(String::new()))
//!     });
//! # let _ = stack;
//! ```
//!
//! [`TimeoutError`]: crate::ErrorKind::Timeout
//!
//! ```
//! use httpstack_middleware::timeout::{TimeoutConfig, TimeoutLayer};
//! use std::time::Duration;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let slow = service_fn(|_req: http::Request<()>| async {
//!     tokio::time::sleep(Duration::from_secs(10)).await;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! });
//! let svc = TimeoutLayer::new().read_timeout(Duration::from_millis(10)).layer(slow);
//! let err = svc.oneshot(http::Request::new(())).await.unwrap_err();
//! assert!(err.is_timeout());
//! # }
//! ```

mod body;
mod config;
mod deadline;
mod future;
mod layer;
mod service;
mod timer;

pub use body::TimeoutBody;
pub use config::{Deadline, TimeoutConfig};
pub use deadline::{DeadlineLayer, SetDeadline};
pub use future::ResponseFuture;
pub use layer::TimeoutLayer;
pub use service::Timeout;
