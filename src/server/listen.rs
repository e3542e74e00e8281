//! [`listen`]: start a server for a stream handler with default options.

use tokio::net::ToSocketAddrs;

use super::handle::Server;
use super::stream_service::StreamHandler;
use crate::Error;

/// Binds `addr` and serves the stream handler `handler` on it in background tasks,
/// returning the running [`Server`] at once (HTTP.jl `listen!`). The same as
/// `Server::bind(addr).listen(handler).await`; use [`Server::bind`] for options.
///
/// `handler` gets a [`Stream`](super::Stream) per request: the request head, the body to
/// read as it arrives, and the response to write as it is produced. See the
/// [module docs](super) for an example.
///
/// # Errors
///
/// A server error when the address cannot be bound.
pub async fn listen<H: StreamHandler>(
    addr: impl ToSocketAddrs,
    handler: H,
) -> Result<Server, Error> {
    Server::bind(addr).listen(handler).await
}
