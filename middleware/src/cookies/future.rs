//! [`ResponseFuture`]: stores the response's cookies once it arrives.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;

use super::service::Target;
use super::CookieJar;
use crate::error::{BoxError, Error};

pin_project! {
    /// The future of [`Cookies`](super::Cookies): the inner future, then the response's
    /// `Set-Cookie` headers into the jar.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        store: Option<(CookieJar, Target)>,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, store: Option<(CookieJar, Target)>) -> Self {
        ResponseFuture { inner, store }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some((jar, target)) = this.store.take() {
            let headers = match &result {
                Ok(resp) => Some(resp.headers()),
                Err(err) => status_error_response(err).map(Response::headers),
            };
            // The URL is parsed only when there are cookies to store.
            if let Some(headers) = headers.filter(|h| h.contains_key(http::header::SET_COOKIE)) {
                if let Some(url) = target.url() {
                    jar.set_cookies(&url, headers);
                }
            }
        }
        Poll::Ready(result)
    }
}

/// The response inside a status error (from a `StatusLayer` below): its cookies count too,
/// as HTTP.jl stores them before raising `StatusError`. The error is looked at, not
/// changed, so any error type passes through.
fn status_error_response<E: 'static>(err: &E) -> Option<&Response<Bytes>> {
    let err = err as &dyn Any;
    if let Some(err) = err.downcast_ref::<Error>() {
        return err.response();
    }
    err.downcast_ref::<BoxError>()?
        .downcast_ref::<Error>()?
        .response()
}
