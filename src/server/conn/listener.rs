//! [`bind`]: the listening socket, with HTTP.jl's `backlog` and `reuseaddr` options.
//!
//! Built with socket2 because tokio's `TcpListener::bind` fixes the backlog (1024) and
//! offers no SO_REUSEPORT. Like tokio and std, SO_REUSEADDR is always set on Unix, so a
//! restarted server can bind while its old connections sit in TIME_WAIT; `reuseaddr`
//! adds SO_REUSEPORT (HTTP.jl sets it too), so several processes can listen on one port
//! and the kernel spreads connections between them.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::Error;

/// How the listening socket is set up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListenOptions {
    pub(crate) backlog: u32,
    pub(crate) reuseaddr: bool,
}

/// Binds the first address `addr` resolves to that can be bound, and listens on it.
pub(crate) async fn bind<A: ToSocketAddrs>(
    addr: A,
    options: ListenOptions,
) -> Result<TcpListener, Error> {
    let addrs = tokio::net::lookup_host(addr)
        .await
        .map_err(|err| Error::server(err).with_message("cannot resolve the server address"))?;
    let mut last_err = None;
    for addr in addrs {
        match bind_one(addr, options) {
            Ok(listener) => return Ok(listener),
            Err(err) => {
                last_err = Some(Error::server(err).with_message(format!("cannot bind {addr}")))
            }
        }
    }
    Err(last_err
        .unwrap_or_else(|| Error::invalid_input("the server address resolves to no address")))
}

fn bind_one(addr: SocketAddr, options: ListenOptions) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if options.reuseaddr {
        set_reuse_port(&socket)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(options.backlog).unwrap_or(i32::MAX))?;
    TcpListener::from_std(socket.into())
}

#[cfg(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
))]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

/// Windows has no SO_REUSEPORT; its SO_REUSEADDR lets several sockets bind one port.
#[cfg(windows)]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)
}

#[cfg(not(any(
    windows,
    all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    )
)))]
fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "reuseaddr (SO_REUSEPORT) is not supported on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reuseaddr_lets_two_listeners_share_a_port() {
        let shared = ListenOptions {
            backlog: 16,
            reuseaddr: true,
        };
        let first = bind("127.0.0.1:0", shared).await.expect("first bind");
        let addr = first.local_addr().expect("address");
        let second = bind(addr, shared)
            .await
            .expect("second bind with reuseaddr");
        assert_eq!(second.local_addr().expect("address"), addr);

        let exclusive = ListenOptions {
            backlog: 16,
            reuseaddr: false,
        };
        let err = bind(addr, exclusive).await.expect_err("port taken");
        assert_eq!(err.kind(), &crate::ErrorKind::Server, "{err}");
    }
}
