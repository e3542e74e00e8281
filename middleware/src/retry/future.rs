//! The response future of [`Retry`](super::Retry).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// The future of [`Retry`](super::Retry): either the inner service's own future (the
    /// request is not retried at all: `retry` off or `retries` 0) or `tower::retry`'s.
    pub struct ResponseFuture<F, R> {
        #[pin]
        kind: Kind<F, R>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, R> {
        Direct { #[pin] future: F },
        Retrying { #[pin] future: R },
    }
}

impl<F, R> ResponseFuture<F, R> {
    pub(crate) fn direct(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Direct { future },
        }
    }

    pub(crate) fn retrying(future: R) -> Self {
        ResponseFuture {
            kind: Kind::Retrying { future },
        }
    }
}

impl<F, R, T, E> Future for ResponseFuture<F, R>
where
    F: Future<Output = Result<T, E>>,
    R: Future<Output = Result<T, E>>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Direct { future } => future.poll(cx),
            KindProj::Retrying { future } => future.poll(cx),
        }
    }
}
