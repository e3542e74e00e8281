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
///
/// ```
/// use httpstack::server::{listen, Stream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// // Each line goes to the client as it is written: the response is never held whole.
/// let server = listen("127.0.0.1:0", |mut http: Stream| async move {
///     http.set_header("content-type", "text/plain")?;
///     for n in 1..=3 {
///         http.write(format!("line {n}\n")).await?;
///     }
///     http.close_write()
/// })
/// .await?;
///
/// let resp = httpstack::get(format!("http://{}/lines", server.local_addr())).await?;
/// assert_eq!(resp.text(), "line 1\nline 2\nline 3\n");
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub async fn listen<H: StreamHandler>(
    addr: impl ToSocketAddrs,
    handler: H,
) -> Result<Server, Error> {
    Server::bind(addr).listen(handler).await
}
