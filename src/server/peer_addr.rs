//! [`PeerAddr`]: the client's address, carried by the requests the server hands over.

/// The address of the client that sent a request: with
/// [`ServerBuilder::peer_addr`](super::ServerBuilder::peer_addr) (and always with an access
/// log or a stream handler) the server puts it in every request's extensions, for
/// handlers and the access log to read (HTTP.jl's `$remote_addr` / `$remote_port`, Go's
/// `Request.RemoteAddr`).
///
/// ```
/// use httpstack::server::{handler_fn, PeerAddr};
///
/// let whoami = handler_fn(|req: http::Request<httpstack::Body>| async move {
///     match req.extensions().get::<PeerAddr>() {
///         Some(PeerAddr(addr)) => http::Response::new(format!("you are {addr}")),
///         None => http::Response::new(String::from("not served by httpstack")),
///     }
/// });
/// # let _ = whoami;
/// ```
///
/// It is the access log's own [`PeerAddr`](httpstack_middleware::access_log::PeerAddr),
/// so one extension serves both (one insert per request, not two).
pub use httpstack_middleware::access_log::PeerAddr;
