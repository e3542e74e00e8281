//! [`accept_loop`]: the one loop that accepts connections, filters them
//! (`connection_filter`) and spawns a task for each.

use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

use super::catch_failure::panic_message;
use super::connection::{serve_connection, ConnectionConfig};
use crate::server::handle::Shared;
use crate::BoxError;

/// Accepts until the server closes. With `slots` (`max_connections`), a slot is taken
/// before `accept`, so surplus clients wait in the kernel's backlog rather than being
/// accepted and refused.
pub(crate) async fn accept_loop<S, B>(
    listener: TcpListener,
    config: Arc<ConnectionConfig>,
    service: S,
    slots: Option<Arc<Semaphore>>,
    shared: Arc<Shared>,
) where
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut backoff = Backoff::default();
    loop {
        let permit = match &slots {
            None => None,
            Some(slots) => tokio::select! {
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => Some(permit),
                    Err(_closed) => return, // never closed; nothing left to wait for
                },
                () = shared.closing.cancelled() => return,
            },
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.closing.cancelled() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff.reset();
                if !admits(&config, peer) {
                    // Dropping the stream closes it; the slot (`permit`) is free again.
                    tracing::debug!(%peer, "connection_filter refused the connection");
                    continue;
                }
                // Responses are written whole by hyper; Nagle would only delay them.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%peer, error = %err, "cannot set TCP_NODELAY");
                }
                let guard = shared.connections.track();
                tokio::spawn(serve_connection(
                    stream,
                    peer,
                    config.clone(),
                    service.clone(),
                    shared.clone(),
                    guard,
                    permit,
                ));
            }
            Err(err) if is_peer_gone(&err) => {
                tracing::debug!(error = %err, "client left before its connection was accepted");
            }
            Err(err) => {
                // EMFILE, ENFILE, ENOBUFS...: retrying at once would spin; pause and retry,
                // since connections closing will free the resource.
                let pause = backoff.next_pause();
                tracing::error!(error = %err, ?pause, "accept failed; retrying after a pause");
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = shared.closing.cancelled() => return,
                }
            }
        }
    }
}

/// Runs the `connection_filter` (HTTP.jl `tcpisvalid`); a filter that panics refuses.
fn admits(config: &ConnectionConfig, peer: SocketAddr) -> bool {
    let Some(filter) = &config.connection_filter else {
        return true;
    };
    match panic::catch_unwind(AssertUnwindSafe(|| filter(peer))) {
        Ok(admitted) => admitted,
        Err(panic) => {
            tracing::error!(%peer, panic = panic_message(&*panic), "connection_filter panicked; refusing");
            false
        }
    }
}

/// Errors about one client that went away, which say nothing about the listener.
fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// Pauses after failed accepts as Go's `net/http` does: 5 ms, doubling, at most 1 s.
#[derive(Debug, Default)]
struct Backoff {
    last: Option<Duration>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn next_pause(&mut self) -> Duration {
        let pause = self
            .last
            .map_or(Self::FIRST, |last| (last * 2).min(Self::MAX));
        self.last = Some(pause);
        pause
    }

    fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        let mut backoff = Backoff::default();
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.next_pause()).collect();
        let expected = [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000].map(Duration::from_millis);
        assert_eq!(pauses, expected);
        backoff.reset();
        assert_eq!(backoff.next_pause(), Duration::from_millis(5));
    }

    #[test]
    fn only_per_client_errors_skip_the_pause() {
        for (kind, gone) in [
            (io::ErrorKind::ConnectionAborted, true),
            (io::ErrorKind::ConnectionReset, true),
            (io::ErrorKind::ConnectionRefused, true),
            (io::ErrorKind::OutOfMemory, false),
            (io::ErrorKind::Other, false),
        ] {
            assert_eq!(is_peer_gone(&io::Error::from(kind)), gone, "case {kind:?}");
        }
    }

    #[test]
    fn emfile_gets_a_pause() {
        // EMFILE (24 on Linux and macOS) is the classic "accept failed" that must not
        // end the loop.
        assert!(!is_peer_gone(&io::Error::from_raw_os_error(24)));
    }
}
