//! HTTP.jl's `observelayer`: time spent in each layer and how often it ran.
//!
//! [`ObserveLayer::new("name")`](ObserveLayer::new) wraps a service and records, in a
//! shared [`LayerTimings`] that travels in the request's extensions, the time from entering
//! the wrapped service until its response (or error) came back, and the call count. When
//! the request is retried or redirected the same `LayerTimings` is seen again, so times and
//! counts are cumulative over attempts, as in HTTP.jl (`[layer]_duration_ms`,
//! `[layer]_count` in `request.context`). The final response carries the `LayerTimings` in
//! its extensions.
//!
//! Times are inclusive: a layer's time contains the time of every layer below it, so the
//! time a layer adds is its figure minus the next one's.
//!
//! ```
//! use std::convert::Infallible;
//! use httpstack_middleware::observe::{LayerTimings, ObserveLayer};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let svc = ServiceBuilder::new()
//!     .layer(ObserveLayer::new("outer"))
//!     .layer(ObserveLayer::new("inner"))
//!     .service(service_fn(|_req: http::Request<()>| async {
//!         Ok::<_, Infallible>(http::Response::new(()))
//!     }));
//! let resp = svc.oneshot(http::Request::new(())).await.unwrap();
//! let timings = resp.extensions().get::<LayerTimings>().unwrap();
//! assert_eq!(timings.get("inner").unwrap().count, 1);
//! assert!(timings.get("outer").unwrap().duration >= timings.get("inner").unwrap().duration);
//! # }
//! ```

mod future;
mod layer;
mod service;
mod timings;

pub use future::ResponseFuture;
pub use layer::ObserveLayer;
pub use service::Observe;
pub use timings::{LayerTiming, LayerTimings};
