//! [`handler_fn`]: a plain async function as a server handler.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower::Service;

/// Turns `f(request) -> response` into a `tower::Service` that never fails, the shape of
/// an HTTP.jl handler (`f(req::HTTP.Request) -> HTTP.Response`).
///
/// A handler that panics gets its client a `500 Internal Server Error` from the server;
/// to answer some other error status, return that response.
///
/// ```
/// use httpstack::server::handler_fn;
/// use http::{Response, StatusCode};
///
/// let hello = handler_fn(|req| async move {
///     match req.uri().path() {
///         "/" => Response::new("hello".to_owned()),
///         _ => Response::builder()
///             .status(StatusCode::NOT_FOUND)
///             .body(String::new())
///             .unwrap(),
///     }
/// });
/// # let _ = hello;
/// ```
pub fn handler_fn<F, Fut, B>(f: F) -> HandlerFn<F>
where
    F: Fn(Request<crate::Body>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
{
    HandlerFn { f }
}

/// The service made by [`handler_fn`].
#[derive(Clone, Copy)]
pub struct HandlerFn<F> {
    f: F,
}

impl<F> fmt::Debug for HandlerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFn")
            .field("f", &std::any::type_name::<F>())
            .finish()
    }
}

impl<F, Fut, B> Service<Request<crate::Body>> for HandlerFn<F>
where
    F: Fn(Request<crate::Body>) -> Fut,
    Fut: Future<Output = Response<B>>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = ResponseFuture<Fut>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, req: Request<crate::Body>) -> Self::Future {
        ResponseFuture {
            future: (self.f)(req),
        }
    }
}

pin_project! {
    /// The response future of [`HandlerFn`]: the handler's future, its response wrapped
    /// in `Ok`.
    pub struct ResponseFuture<Fut> {
        #[pin]
        future: Fut,
    }
}

impl<Fut> fmt::Debug for ResponseFuture<Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<Fut, B> Future for ResponseFuture<Fut>
where
    Fut: Future<Output = Response<B>>,
{
    type Output = Result<Response<B>, Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(ready!(self.project().future.poll(cx))))
    }
}
