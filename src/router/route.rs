//! [`Route`]: a handler boxed once, when it is registered, and [`Handler`]: what can be
//! registered (any tower `Service`, or an async fn of the request).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::Either;
use futures_util::TryFutureExt;
use http::header::{HeaderValue, ALLOW};
use http::{Request, Response, StatusCode};
use tower::{Service, ServiceExt};

use crate::{Body, BoxError};

/// A registered handler with its type erased: the router's routes, 404 and 405 handlers,
/// and what a [`Router::middleware`](super::Router::middleware) layer wraps.
///
/// Routes are boxed once at registration, as axum's are, so a router holds handlers of
/// any type; a call clones the handler and boxes its future.
pub struct Route<B> {
    inner: Arc<dyn ErasedHandler<B> + Send + Sync>,
}

impl<B> Clone for Route<B> {
    fn clone(&self) -> Self {
        Route {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B> fmt::Debug for Route<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route").finish_non_exhaustive()
    }
}

impl<B: Send + 'static> Route<B> {
    /// Boxes a service that answers `Request<B>` with a response of any body type.
    /// A service error becomes an empty `500 Internal Server Error`, logged with `tracing`.
    pub fn new<S, RB>(service: S) -> Self
    where
        S: Service<Request<B>, Response = Response<RB>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        RB: http_body::Body + Send + 'static,
        RB::Data: Into<Bytes>,
        RB::Error: Into<BoxError>,
    {
        Route {
            inner: Arc::new(ServiceHandler { service }),
        }
    }

    pub(crate) fn call_route(&self, req: Request<B>) -> RouteFuture {
        self.inner.call(req)
    }
}

impl<B: Send + 'static> Service<Request<B>> for Route<B> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> RouteFuture {
        self.inner.call(req)
    }
}

trait ErasedHandler<B> {
    fn call(&self, req: Request<B>) -> RouteFuture;
}

struct ServiceHandler<S> {
    service: S,
}

impl<S, B, RB> ErasedHandler<B> for ServiceHandler<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
    RB: http_body::Body + Send + 'static,
    RB::Data: Into<Bytes>,
    RB::Error: Into<BoxError>,
{
    fn call(&self, req: Request<B>) -> RouteFuture {
        let mut service = self.service.clone();
        // A service ready at once (an async fn always is) is called here, sparing the
        // request its moves through a `Oneshot`; its readiness is asked with a no-op
        // waker, and a `Pending` one waits in a `Oneshot`, woken properly.
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let future = match service.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => Either::Left(service.call(req).map_err(Into::into)),
            Poll::Ready(Err(e)) => Either::Right(Either::Left(std::future::ready(Err(e.into())))),
            Poll::Pending => Either::Right(Either::Right(service.oneshot(req).map_err(Into::into))),
        };
        RouteFuture::new(async move {
            let response: Result<Response<RB>, BoxError> = future.await;
            match response {
                Ok(response) => Ok(response.map(into_body)),
                Err(e) => {
                    tracing::error!(error = %e, "route handler failed; answering 500");
                    let mut response = Response::new(Body::empty());
                    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    Ok(response)
                }
            }
        })
    }
}

/// An httpstack [`Body`] as is; any other body wrapped.
fn into_body<RB>(body: RB) -> Body
where
    RB: http_body::Body + Send + 'static,
    RB::Data: Into<Bytes>,
    RB::Error: Into<BoxError>,
{
    let mut slot = Some(body);
    match (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Body>>() {
        Some(body) => body.take().unwrap_or_default(),
        None => slot.map(Body::wrap).unwrap_or_default(),
    }
}

/// What [`Router::register`](super::Router::register) accepts: any tower `Service` of
/// `Request<B>` whose response body is an `http_body::Body` (an httpstack
/// [`handler_fn`](crate::server::handler_fn), an axum `Router`, another httpstack
/// `Router`, a tower-http service), or an async fn / closure
/// `Fn(Request<B>) -> impl Future<Output = Response<impl Body>>`.
///
/// `M` tells the two kinds apart ([`IsService`], [`IsFn`]); it is always inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a router handler for `Request<{B}>`",
    label = "not a handler",
    note = "a handler is an async fn or closure `Fn(http::Request<B>) -> impl Future<Output = http::Response<impl http_body::Body>>` that is Clone + Send + Sync + 'static, e.g. `async fn h(req: Request<httpstack::Body>) -> Response<httpstack::Body>`",
    note = "or a tower `Service<http::Request<B>>` (Clone + Send + Sync + 'static) whose response is `http::Response<impl http_body::Body>` and whose error converts into a `BoxError`",
    note = "a handler returns a response, not a `Result`: answer errors with their status (e.g. `ParamError::into_response`)"
)]
pub trait Handler<B, M>: Sized {
    /// Boxes the handler into a [`Route`].
    fn into_route(self) -> Route<B>;
}

/// Marks the [`Handler`] impl for tower services.
#[derive(Debug)]
pub enum IsService {}

/// Marks the [`Handler`] impl for async functions.
#[derive(Debug)]
pub enum IsFn {}

impl<S, B, RB> Handler<B, IsService> for S
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
    RB: http_body::Body + Send + 'static,
    RB::Data: Into<Bytes>,
    RB::Error: Into<BoxError>,
{
    fn into_route(self) -> Route<B> {
        Route::new(self)
    }
}

impl<F, Fut, B, RB> Handler<B, IsFn> for F
where
    F: Fn(Request<B>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<RB>> + Send + 'static,
    B: Send + 'static,
    RB: http_body::Body + Send + 'static,
    RB::Data: Into<Bytes>,
    RB::Error: Into<BoxError>,
{
    fn into_route(self) -> Route<B> {
        Route::new(FnService { f: self })
    }
}

/// An async fn as a service that never fails.
#[derive(Clone)]
struct FnService<F> {
    f: F,
}

impl<F, Fut, B, RB> Service<Request<B>> for FnService<F>
where
    F: Fn(Request<B>) -> Fut,
    Fut: Future<Output = Response<RB>>,
{
    type Response = Response<RB>;
    type Error = Infallible;
    type Future =
        futures_util::future::Map<Fut, fn(Response<RB>) -> Result<Response<RB>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        futures_util::FutureExt::map((self.f)(req), Ok)
    }
}

/// The response future of a [`Route`] and of the [`Router`](super::Router): the
/// handler's future, boxed once. On a 405 it adds the `Allow` header unless the handler
/// set one.
pub struct RouteFuture {
    future: Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>,
    allow: Option<HeaderValue>,
}

impl RouteFuture {
    fn new<F>(future: F) -> Self
    where
        F: Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
    {
        RouteFuture {
            future: Box::pin(future),
            allow: None,
        }
    }

    pub(crate) fn with_allow(mut self, allow: HeaderValue) -> Self {
        self.allow = Some(allow);
        self
    }
}

impl fmt::Debug for RouteFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteFuture").finish_non_exhaustive()
    }
}

impl Future for RouteFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut response) = std::task::ready!(self.future.as_mut().poll(cx));
        if let Some(allow) = self.allow.take() {
            response.headers_mut().entry(ALLOW).or_insert(allow);
        }
        Poll::Ready(Ok(response))
    }
}
