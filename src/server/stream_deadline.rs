//! HTTP/2 `write_timeout`: the server's stream executor, which bounds each stream's whole
//! life — handler, body and the wait for the client's flow control — by a deadline.
//!
//! hyper runs every HTTP/2 stream as a task of its own, spawned through the connection's
//! executor right after the service was called for the request. A deadline kept in the
//! response future or body is only checked while hyper polls them, and hyper stops polling
//! a body while it waits for the client to open its flow-control window (RFC 9113 §5.2):
//! a client that reads the stream's first window and then sends no `WINDOW_UPDATE` would
//! hold the stream, its task and its buffered data for ever. So the deadline wraps the
//! stream's task instead: past it, the task is dropped, and h2 resets the stream
//! (`RST_STREAM` with `CANCEL`, RFC 9113 §6.4) and frees what it buffered.
//!
//! [`ConnectionService`](super::connection_service::ConnectionService) arms the deadline
//! when it is called for an HTTP/2 request; hyper spawns that request's stream next, on
//! the same thread, and [`StreamExecutor`] takes the armed deadline with it. Anything else
//! spawned (an RFC 8441 WebSocket's tunnel after its `200`) runs unbounded.
//!
//! hyper ends a stream's task once it has handed h2 the body's last frame, whatever of it
//! the client's window still holds back; so with a deadline armed, the response body
//! hands over its last frame in two (see
//! [`ConnectionBody`](super::connection_service::ConnectionBody)), and the task waits for
//! the client to take in the first part before it ends.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;

thread_local! {
    /// The deadline for the stream hyper spawns next on this thread.
    static ARMED: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Bounds the HTTP/2 stream about to be spawned on this thread by `timeout`.
pub(crate) fn arm(timeout: Duration) {
    ARMED.set(Some(timeout));
}

/// hyper's executor for the server's HTTP/2 connections: spawns on tokio, with the armed
/// deadline if there is one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamExecutor;

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        match ARMED.take() {
            Some(timeout) => {
                tokio::spawn(Deadlined {
                    stream: fut,
                    deadline: tokio::time::sleep(timeout),
                });
            }
            None => {
                tokio::spawn(fut);
            }
        }
    }
}

pin_project! {
    /// A stream's task, dropped at its deadline.
    struct Deadlined<F> {
        #[pin]
        stream: F,
        #[pin]
        deadline: Sleep,
    }
}

impl<F: Future> Future for Deadlined<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.stream.poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if this.deadline.poll(cx).is_ready() {
            tracing::debug!(
                "HTTP/2 response not written within write_timeout; resetting the stream"
            );
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Executor;
    use tokio::sync::oneshot;

    /// Sends on drop: whether the spawned future was dropped.
    struct DropSignal(Option<oneshot::Sender<()>>);

    impl Drop for DropSignal {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_armed_stream_is_dropped_at_its_deadline_and_only_the_next_one_is_armed() {
        let (dropped_tx, dropped) = oneshot::channel();
        arm(Duration::from_secs(5));
        let signal = DropSignal(Some(dropped_tx));
        StreamExecutor.execute(async move {
            let _signal = signal;
            std::future::pending::<()>().await;
        });
        // The next spawn is not armed: it runs past the first one's deadline.
        let (done_tx, done) = oneshot::channel();
        StreamExecutor.execute(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let _ = done_tx.send(());
        });
        assert!(dropped.await.is_ok(), "the armed stream was dropped");
        assert!(done.await.is_ok(), "the unarmed one ran to its end");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_finishes_in_time_runs_to_its_end() {
        arm(Duration::from_secs(5));
        let (done_tx, done) = oneshot::channel();
        StreamExecutor.execute(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = done_tx.send(());
        });
        assert!(done.await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_timeout_does_not_overflow() {
        arm(Duration::MAX);
        let (done_tx, done) = oneshot::channel();
        StreamExecutor.execute(async move {
            let _ = done_tx.send(());
        });
        assert!(done.await.is_ok());
    }
}
