//! The client's address, as a request extension the access log reads.

use std::net::SocketAddr;

/// The peer address of the connection a request came on, for `$remote_addr` and
/// `$remote_port`.
///
/// A server inserts it into every request's extensions (httpstack's server does). A bare
/// [`SocketAddr`] extension is read too; with neither, both variables log `-`. Behind a
/// proxy, log `$http_x_forwarded_for` as well.
///
/// ```
/// use httpstack_middleware::access_log::RemoteAddr;
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(RemoteAddr("192.0.2.10:54321".parse().unwrap()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);

impl From<SocketAddr> for RemoteAddr {
    fn from(addr: SocketAddr) -> Self {
        RemoteAddr(addr)
    }
}
