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
