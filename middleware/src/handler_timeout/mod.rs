//! Handler timeout: HTTP.jl's `handlertimeout(timeout; status=503, body, content_type)`.
//!
//! [`HandlerTimeoutLayer`] gives a server handler a wall-clock budget. Each request gets a
//! [`Deadline`] in its extensions — now plus the timeout, or an earlier deadline the
//! request already carries (an outer layer's, or a client's budget), as HTTP.jl bounds the
//! child context's deadline by its parent's. A handler reads it to stop early or to pass
//! the budget on. When the deadline passes first, the layer answers with the configured
//! response (default `503 Service Unavailable`, `handler timed out`,
//! `text/plain; charset=utf-8`) and **drops the handler's future**, cancelling it at its
//! next `.await`; HTTP.jl only cancels the context and leaves the task running.
//!
//! The response body is [`ResponseBody<B>`]: the handler's body `B`, or the timeout body
//! (no boxing; any body whose data is `Bytes` works, which covers hyper, axum, httpstack
//! and tower-http bodies). Errors of the inner service pass through unchanged.
//!
//! ```
//! use std::time::Duration;
//! use httpstack_middleware::handler_timeout::{Deadline, HandlerTimeoutLayer};
//! use http_body_util::BodyExt;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let slow = service_fn(|req: http::Request<()>| async move {
//!     assert!(req.extensions().get::<Deadline>().is_some());
//!     tokio::time::sleep(Duration::from_secs(60)).await;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("late")))
//! });
//! let svc = ServiceBuilder::new()
//!     .layer(HandlerTimeoutLayer::new(Duration::from_secs(5)))
//!     .service(slow);
//! let resp = svc.oneshot(http::Request::new(())).await.unwrap();
//! assert_eq!(resp.status(), 503);
//! assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
//! assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "handler timed out");
//! # }
//! ```

mod body;
mod deadline;
mod future;
mod layer;
mod service;

pub use body::ResponseBody;
pub use deadline::Deadline;
pub use future::ResponseFuture;
pub use layer::HandlerTimeoutLayer;
pub use service::HandlerTimeout;
