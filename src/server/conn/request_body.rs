//! [`bound`]: the request body a handler gets — hyper's `Incoming` inside httpstack's
//! [`Body`], bounded by `max_body_bytes` and `read_timeout` as the handler reads it.
//!
//! The bounds live on the body, the same for HTTP/1 and HTTP/2: a body that grows past
//! `max_body_bytes` fails the read that would pass the limit with an error for which
//! [`Error::is_body_too_large`] holds; a body whose next piece does not arrive within
//! `read_timeout` of the handler asking for it fails with a read-timeout error. Either
//! way the [`Breach`] shared with the connection's service is set, so the client gets
//! 413 or 408 when the handler's response has not started (HTTP.jl's rule), and an HTTP/1
//! connection closes after it.
//!
//! A body no bound applies to — none, a `Content-Length` within `max_body_bytes` (hyper
//! holds the body to it) with no `read_timeout` — is hyper's body as it is, in a variant
//! of [`Body`]: no allocation. A bounded one costs one box and one `Arc`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::{Body, BoxError, Error, TimeoutKind};

/// What bounds the request bodies of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyBounds {
    pub(crate) max_body_bytes: Option<u64>,
    /// The longest wait for the next piece of a body.
    pub(crate) read_timeout: Option<Duration>,
}

/// Which bound a request body broke, for the connection's service to answer.
#[derive(Debug, Default)]
pub(crate) struct Breach(AtomicU8);

/// What [`Breach`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Broken {
    /// Past `max_body_bytes`: 413.
    TooLarge,
    /// No piece within `read_timeout`: 408.
    TimedOut,
}

const TOO_LARGE: u8 = 1;
const TIMED_OUT: u8 = 2;

impl Breach {
    fn set(&self, broken: Broken) {
        let value = match broken {
            Broken::TooLarge => TOO_LARGE,
            Broken::TimedOut => TIMED_OUT,
        };
        self.0.store(value, Ordering::Release);
    }

    /// The bound the body broke, if it broke one.
    pub(crate) fn get(&self) -> Option<Broken> {
        match self.0.load(Ordering::Acquire) {
            TOO_LARGE => Some(Broken::TooLarge),
            TIMED_OUT => Some(Broken::TimedOut),
            _ => None,
        }
    }
}

/// `body` as the handler's [`Body`], bounded by `bounds` where they apply;
/// `content_length` is the request's (already checked against `max_body_bytes`). The
/// [`Breach`] comes back when the body is bounded.
pub(crate) fn bound(
    body: Incoming,
    bounds: BodyBounds,
    content_length: Option<u64>,
) -> (Body, Option<Arc<Breach>>) {
    // hyper fails a body that overruns its Content-Length, so only a body without one
    // needs counting.
    let max = bounds.max_body_bytes.filter(|_| content_length.is_none());
    if body.is_end_stream() || (max.is_none() && bounds.read_timeout.is_none()) {
        return (Body::from_incoming(body), None);
    }
    let breach = Arc::new(Breach::default());
    let bounded = Bounded {
        inner: Body::from_incoming(body),
        max,
        received: 0,
        read_timeout: bounds.read_timeout,
        sleep: None,
        armed: false,
        broken: false,
        breach: breach.clone(),
    };
    (Body::wrap(bounded), Some(breach))
}

pin_project! {
    /// A request body held to `max_body_bytes` and `read_timeout`.
    struct Bounded {
        #[pin]
        inner: Body,
        max: Option<u64>,
        received: u64,
        read_timeout: Option<Duration>,
        // Made at the first wait; reset at each later one.
        #[pin]
        sleep: Option<Sleep>,
        // The sleep is set for the current wait.
        armed: bool,
        // A bound broke: the body has ended in an error.
        broken: bool,
        breach: Arc<Breach>,
    }
}

impl http_body::Body for Bounded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if *this.broken {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                *this.armed = false;
                if let (Some(max), Some(data)) = (*this.max, frame.data_ref()) {
                    *this.received = this.received.saturating_add(data.len() as u64);
                    if *this.received > max {
                        *this.broken = true;
                        this.breach.set(Broken::TooLarge);
                        return Poll::Ready(Some(Err(Error::body_too_large(max).into())));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                let Some(timeout) = *this.read_timeout else {
                    return Poll::Pending;
                };
                if !*this.armed {
                    let deadline = Instant::now() + timeout;
                    match this.sleep.as_mut().as_pin_mut() {
                        Some(sleep) => sleep.reset(deadline),
                        None => this.sleep.set(Some(tokio::time::sleep_until(deadline))),
                    }
                    *this.armed = true;
                }
                let Some(sleep) = this.sleep.as_pin_mut() else {
                    return Poll::Pending;
                };
                if sleep.poll(cx).is_pending() {
                    return Poll::Pending;
                }
                *this.broken = true;
                this.breach.set(Broken::TimedOut);
                let err = Error::timeout(TimeoutKind::Read).with_message(format!(
                    "no piece of the request body within read_timeout ({timeout:?})"
                ));
                Poll::Ready(Some(Err(err.into())))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.broken || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.broken {
            return SizeHint::with_exact(0);
        }
        let mut hint = self.inner.size_hint();
        if let Some(max) = self.max {
            // Never more than the limit lets through.
            let room = max.saturating_sub(self.received);
            if hint.upper().is_none_or(|upper| upper > room) && hint.lower() <= room {
                hint.set_upper(room);
            }
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breach_reports_what_broke() {
        let breach = Breach::default();
        assert_eq!(breach.get(), None);
        breach.set(Broken::TimedOut);
        assert_eq!(breach.get(), Some(Broken::TimedOut));
        breach.set(Broken::TooLarge);
        assert_eq!(breach.get(), Some(Broken::TooLarge));
    }

    // The end-to-end behaviour (a real `Incoming` over HTTP/1 and HTTP/2, split and
    // pipelined) is in tests/server_limits.rs and tests/server_timeouts.rs; here the
    // `Bounded` logic is driven over a channel body.
    fn bounded(inner: Body, max: Option<u64>, timeout: Option<Duration>) -> (Bounded, Arc<Breach>) {
        let breach = Arc::new(Breach::default());
        let body = Bounded {
            inner,
            max,
            received: 0,
            read_timeout: timeout,
            sleep: None,
            armed: false,
            broken: false,
            breach: breach.clone(),
        };
        (body, breach)
    }

    async fn next(body: &mut Pin<Box<Bounded>>) -> Option<Result<Frame<Bytes>, BoxError>> {
        std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await
    }

    #[tokio::test]
    async fn exactly_the_limit_passes_one_more_byte_fails() {
        for (chunks, limit, ok) in [
            (vec!["abc", "de"], 5, true),
            (vec!["abc", "def"], 5, false),
            (vec!["abcdef"], 5, false),
            (vec!["", "abcde", ""], 5, true),
        ] {
            let (body, breach) = bounded(Body::from_chunks(chunks.clone()), Some(limit), None);
            let mut body = Box::pin(body);
            let mut got = Vec::new();
            let mut failed = None;
            while let Some(frame) = next(&mut body).await {
                match frame {
                    Ok(frame) => got.extend_from_slice(&frame.into_data().unwrap_or_default()),
                    Err(err) => failed = Some(Error::from_boxed(err)),
                }
            }
            let case = format!("{chunks:?} limit {limit}");
            assert_eq!(failed.is_none(), ok, "{case}");
            if let Some(err) = failed {
                assert!(err.is_body_too_large(), "{case}: {err}");
                assert_eq!(breach.get(), Some(Broken::TooLarge), "{case}");
                assert!(got.len() as u64 <= limit, "{case}");
            } else {
                assert_eq!(got.len(), 5, "{case}");
                assert_eq!(breach.get(), None, "{case}");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_past_read_timeout_fails_each_piece_restarts_it() {
        let (tx, body) = Body::channel(4);
        let (body, breach) = bounded(body, None, Some(Duration::from_secs(2)));
        let mut body = Box::pin(body);
        let feeder = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                tx.send("x").await.expect("send");
            }
            // Then nothing, with the sender kept open.
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(tx);
        });
        for _ in 0..3 {
            let frame = next(&mut body).await.expect("a piece").expect("in time");
            assert_eq!(frame.into_data().ok(), Some(Bytes::from_static(b"x")));
        }
        let err = next(&mut body)
            .await
            .expect("an error")
            .expect_err("timed out");
        let err = Error::from_boxed(err);
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{err}");
        assert_eq!(breach.get(), Some(Broken::TimedOut));
        assert!(next(&mut body).await.is_none(), "ended after the error");
        assert!(body.is_end_stream());
        feeder.abort();
        let _ = feeder.await;
    }

    #[test]
    fn the_size_hint_never_promises_past_the_limit() {
        let (body, _) = bounded(Body::from_chunks(vec!["abc"]), Some(2), None);
        let hint = body.size_hint();
        assert_eq!(hint.upper(), Some(2));
    }
}
