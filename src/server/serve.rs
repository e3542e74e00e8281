//! [`serve`]: start a server with default options.

use http::{Request, Response};
use http_body::Body;
use tokio::net::ToSocketAddrs;
use tower::Service;

use super::handle::Server;
use crate::{BoxError, Error};

/// Binds `addr` and serves `service` on it in background tasks, returning the running
/// [`Server`] at once (HTTP.jl `serve!`). The same as
/// `Server::bind(addr).serve(service).await`; use [`Server::bind`] for options.
///
/// `service` is any tower service for `http::Request<crate::Body>`: a [`handler_fn`]
/// closure, an httpstack router, an axum `Router`. It is cloned for every request, so
/// shared state belongs behind an `Arc`.
///
/// # Errors
///
/// A server error when the address cannot be bound.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use httpstack::server::{handler_fn, serve};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let visits = Arc::new(AtomicUsize::new(0));
/// let server = serve("127.0.0.1:0", handler_fn(move |req: http::Request<httpstack::Body>| {
///     let n = visits.fetch_add(1, Ordering::SeqCst) + 1;
///     async move { http::Response::new(format!("visit {n} to {}", req.uri().path())) }
/// }))
/// .await?;
///
/// let base = format!("http://{}", server.local_addr());
/// assert_eq!(httpstack::get(format!("{base}/a")).await?.text(), "visit 1 to /a");
/// assert_eq!(httpstack::get(format!("{base}/b")).await?.text(), "visit 2 to /b");
/// server.close().await;
/// # Ok(())
/// # }
/// ```
///
/// [`handler_fn`]: super::handler_fn
pub async fn serve<S, B>(addr: impl ToSocketAddrs, service: S) -> Result<Server, Error>
where
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Server::bind(addr).serve(service).await
}
