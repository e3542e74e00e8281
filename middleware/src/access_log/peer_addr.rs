//! The client's address, as a request extension the access log (and handlers) read.

use std::net::SocketAddr;

/// The address of the client that sent a request, for `$remote_addr` and `$remote_port`
/// (HTTP.jl's access log variables, Go's `Request.RemoteAddr`).
///
/// A server inserts it into every request's extensions (httpstack's server does, and
/// re-exports this type as `httpstack::server::PeerAddr`). The access log also reads a
/// bare [`SocketAddr`] extension and, with this crate's `axum` feature, axum's
/// `ConnectInfo<SocketAddr>` (what `into_make_service_with_connect_info::<SocketAddr>()`
/// inserts); with none of them, both variables log `-`. Behind a proxy, log
/// `$http_x_forwarded_for` as well.
///
/// ```
/// use httpstack_middleware::access_log::PeerAddr;
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(PeerAddr("192.0.2.10:54321".parse().unwrap()));
/// assert_eq!(req.extensions().get::<PeerAddr>().map(|p| p.0.port()), Some(54321));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// The former name of [`PeerAddr`] (one type, one name now). As a type alias it names the
/// type (`extensions().get::<RemoteAddr>()`); construct and match with `PeerAddr(..)`.
#[deprecated(note = "renamed to `PeerAddr`")]
pub type RemoteAddr = PeerAddr;

impl From<SocketAddr> for PeerAddr {
    fn from(addr: SocketAddr) -> Self {
        PeerAddr(addr)
    }
}

/// The peer address a request carries: [`PeerAddr`], else a bare [`SocketAddr`], else
/// (with the `axum` feature) axum's `ConnectInfo<SocketAddr>`.
pub(crate) fn peer_addr_of(extensions: &http::Extensions) -> Option<SocketAddr> {
    if let Some(PeerAddr(addr)) = extensions.get::<PeerAddr>() {
        return Some(*addr);
    }
    if let Some(addr) = extensions.get::<SocketAddr>() {
        return Some(*addr);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(*addr);
    }
    None
}
