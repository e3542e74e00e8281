//! [`Server`]: the handle to a running server (HTTP.jl `Server`).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::ToSocketAddrs;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::builder::ServerBuilder;
use super::conn::connection_count::ConnectionCount;

/// A running server, as returned by [`serve`](super::serve) and [`ServerBuilder::serve`]
/// (HTTP.jl `Server`, returned by `serve!`).
///
/// The server runs in background tasks until [`close`](Server::close) or
/// [`force_close`](Server::force_close) is called. **Dropping the handle does not stop it**,
/// as in HTTP.jl: the server keeps serving until closed or until the tokio runtime ends.
///
/// `Server` is cheap to clone (one `Arc`): every clone controls the same server, so one
/// task can [`wait`](Server::wait) while another closes it.
///
/// ```
/// use httpstack::server::{handler_fn, serve};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let server = serve("127.0.0.1:0", handler_fn(|_req| async {
///     http::Response::new(String::from("up"))
/// }))
/// .await?;
/// // Port 0: the OS picked a free port, which the handle tells.
/// assert_ne!(server.port(), 0);
/// let url = format!("http://{}/health", server.local_addr());
/// assert_eq!(httpstack::get(&url).await?.text(), "up");
///
/// // One task waits for the server to stop; another closes it, gracefully.
/// let waiter = tokio::spawn({
///     let server = server.clone();
///     async move { server.wait().await }
/// });
/// server.close().await;
/// waiter.await.unwrap();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Server {
    shared: Arc<Shared>,
}

/// The state the handle shares with the accept loop and the connection tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) local_addr: SocketAddr,
    /// Graceful close: the accept loop stops, each connection finishes its in-flight
    /// requests and then ends.
    pub(crate) closing: CancellationToken,
    /// Force close: every connection task drops its connection at once.
    pub(crate) killing: CancellationToken,
    pub(crate) connections: ConnectionCount,
    /// Becomes `true` once the server has fully stopped. The sender lives in the server
    /// task, so a task that ended any other way (runtime shut down) also reads as stopped.
    pub(crate) stopped: watch::Receiver<bool>,
}

impl Server {
    /// Starts configuring a server that will listen on `addr` (`"127.0.0.1:8080"`,
    /// `("0.0.0.0", 0)`, a `SocketAddr`...); finish with [`ServerBuilder::serve`].
    pub fn bind<A: ToSocketAddrs>(addr: A) -> ServerBuilder<A> {
        ServerBuilder::new(addr)
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Server { shared }
    }

    /// The port the server listens on (the one the OS picked when bound to port 0).
    pub fn port(&self) -> u16 {
        self.shared.local_addr.port()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// How many client connections are open right now (including ones still in their TLS
    /// handshake).
    pub fn connections(&self) -> usize {
        self.shared.connections.get()
    }

    /// Waits until the server has fully stopped: closed (by any clone of this handle),
    /// every connection ended, and the `on_shutdown` hooks run (HTTP.jl `wait(server)`).
    pub async fn wait(&self) {
        let mut stopped = self.shared.stopped.clone();
        // An error means the server task is gone, which is stopped as well.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }

    /// Closes the server gracefully (HTTP.jl `close(server)`) and waits until it has
    /// stopped: it stops accepting (the port is released), lets in-flight requests finish
    /// — at most for the [grace period](ServerBuilder::grace_period) when one is set —
    /// closes idle connections, then runs the `on_shutdown` hooks. Calling it again, or
    /// on a clone, just waits.
    pub async fn close(&self) {
        self.shared.closing.cancel();
        self.wait().await;
    }

    /// Stops accepting and drops every connection now, in-flight requests included
    /// (HTTP.jl `forceclose`). Returns at once; [`wait`](Server::wait) tells when the
    /// connections are gone and the `on_shutdown` hooks have run.
    pub fn force_close(&self) {
        self.shared.closing.cancel();
        self.shared.killing.cancel();
    }

    /// Serves until the server is closed, for binaries (HTTP.jl's blocking `serve`).
    /// Ctrl-C closes gracefully; a second Ctrl-C while closing forces the close.
    pub async fn run(self) {
        tokio::select! {
            () = self.wait() => return,
            signal = tokio::signal::ctrl_c() => match signal {
                Ok(()) => tracing::info!(addr = %self.local_addr(), "Ctrl-C: closing the server"),
                Err(err) => {
                    // No signal handler (unusual platform set-up): serve until closed.
                    tracing::warn!(error = %err, "cannot listen for Ctrl-C");
                    return self.wait().await;
                }
            },
        }
        tokio::select! {
            () = self.close() => {}
            Ok(()) = tokio::signal::ctrl_c() => {
                tracing::warn!("second Ctrl-C: dropping the open connections");
                self.force_close();
                self.wait().await;
            }
        }
    }
}
