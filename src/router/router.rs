//! [`Router`]: HTTP.jl's `Router`, `register!` and the lookup, as a tower `Service`.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Method, Request, Response, StatusCode};
use tower::{Layer, Service};

use super::lookup::Lookup;
use super::pattern::{normalize_path, Pattern};
use super::route::{Handler, Route, RouteFuture};
use super::table::{Outcome, Table};
use crate::{Body, BoxError, Error};

/// Maps requests to handlers by method and path, with HTTP.jl's rules; see the
/// [module docs](super).
///
/// `B` is the request body type: httpstack's [`Body`] under httpstack's server (and in
/// tests: `router.oneshot(Request::new(Body::from("..")))`), axum's `Body` inside an
/// axum app. Cloning is cheap (the routes are shared); registering on a
/// clone leaves the others as they were.
///
/// ```
/// use http::{Method, Request, Response, StatusCode};
/// use httpstack::router::param;
/// use httpstack::{Body, Router};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let mut router = Router::new();
/// router.register(Method::GET, "/users/{id:[0-9]+}", |req: Request<Body>| async move {
///     let id: u64 = param(&req, "id").unwrap_or_default();
///     Response::new(format!("user {id}"))
/// })?;
/// router.not_found(|_req: Request<Body>| async {
///     Response::builder().status(StatusCode::NOT_FOUND).body(String::from("no such page")).unwrap()
/// });
///
/// let server = httpstack::serve("127.0.0.1:0", router).await?;
/// let base = format!("http://{}", server.local_addr());
/// assert_eq!(httpstack::get(format!("{base}/users/7")).await?.text(), "user 7");
/// let err = httpstack::get(format!("{base}/users/bob")).await.unwrap_err();
/// assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
/// assert_eq!(err.response().unwrap().body(), "no such page");
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub struct Router<B = Body> {
    inner: Arc<Inner<B>>,
}

/// A router middleware, applied to each route's handler.
type WrapRoute<B> = Arc<dyn Fn(Route<B>) -> Route<B> + Send + Sync>;

struct Inner<B> {
    table: Table,
    /// Handlers as registered, by index.
    handlers: Vec<Route<B>>,
    /// The same, wrapped in the router middleware.
    wrapped: Vec<Route<B>>,
    middleware: Vec<WrapRoute<B>>,
    not_found: Route<B>,
    method_not_allowed: Route<B>,
}

impl<B> Clone for Inner<B> {
    fn clone(&self) -> Self {
        Inner {
            table: self.table.clone(),
            handlers: self.handlers.clone(),
            wrapped: self.wrapped.clone(),
            middleware: self.middleware.clone(),
            not_found: self.not_found.clone(),
            method_not_allowed: self.method_not_allowed.clone(),
        }
    }
}

impl<B> Clone for Router<B> {
    fn clone(&self) -> Self {
        Router {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B> fmt::Debug for Router<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("handlers", &self.inner.handlers.len())
            .finish_non_exhaustive()
    }
}

impl<B: Send + 'static> Default for Router<B> {
    fn default() -> Self {
        Router::new()
    }
}

/// An empty response with `status` (HTTP.jl's default 404 and 405 handlers).
fn status_route<B: Send + 'static>(status: StatusCode) -> Route<B> {
    Route::new(tower::service_fn(move |_req: Request<B>| async move {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = status;
        Ok::<_, Infallible>(response)
    }))
}

impl<B: Send + 'static> Router<B> {
    /// A router with no routes, answering an empty 404 (no route for the path) or 405
    /// (routes for the path, none for the method) as HTTP.jl's does.
    pub fn new() -> Self {
        Router {
            inner: Arc::new(Inner {
                table: Table::default(),
                handlers: Vec::new(),
                wrapped: Vec::new(),
                middleware: Vec::new(),
                not_found: status_route(StatusCode::NOT_FOUND),
                method_not_allowed: status_route(StatusCode::METHOD_NOT_ALLOWED),
            }),
        }
    }

    /// Registers `handler` for `method` requests to `path` (HTTP.jl `register!`).
    /// Registering the same pattern and method again replaces the handler; patterns
    /// that differ only in variable names or empty segments are the same.
    ///
    /// # Errors
    ///
    /// An invalid-input error for a bad pattern: `**` or `{*rest}` not last, an empty or
    /// repeated variable name, a regex that does not compile.
    ///
    /// ```
    /// use http::{Method, Request, Response, StatusCode};
    /// use httpstack::router::param;
    /// use httpstack::{Body, Router};
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), httpstack::Error> {
    /// async fn create(_req: Request<Body>) -> Response<Body> {
    ///     Response::builder().status(StatusCode::CREATED).body(Body::empty()).unwrap()
    /// }
    ///
    /// let mut router = Router::new();
    /// router
    ///     .register(Method::GET, "/items/{id}", |req: Request<Body>| async move {
    ///         Response::new(format!("item {}", param::<String>(&req, "id").unwrap_or_default()))
    ///     })?
    ///     .register(Method::POST, "/items", create)?;
    ///
    /// // A router is a tower `Service`: try it without a socket.
    /// let get = Request::get("/items/9").body(Body::empty()).unwrap();
    /// let resp = router.clone().oneshot(get).await.unwrap();
    /// assert_eq!(resp.into_body().collect_bytes().await?, "item 9");
    /// // A path with routes, but none for the method: 405 with `Allow`.
    /// let delete = Request::delete("/items").body(Body::empty()).unwrap();
    /// let resp = router.oneshot(delete).await.unwrap();
    /// assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    /// assert_eq!(resp.headers()["allow"], "POST");
    /// # Ok(())
    /// # }
    /// ```
    pub fn register<H, M>(
        &mut self,
        method: Method,
        path: &str,
        handler: H,
    ) -> Result<&mut Self, Error>
    where
        H: Handler<B, M>,
    {
        self.add(Some(method), path, handler.into_route())
    }

    /// Registers `handler` for every method on `path` (HTTP.jl's 3-argument `register!`).
    /// A route registered for a given method comes first at the same pattern.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register).
    pub fn route<H, M>(&mut self, path: &str, handler: H) -> Result<&mut Self, Error>
    where
        H: Handler<B, M>,
    {
        self.add(None, path, handler.into_route())
    }

    /// Sets the handler for requests no route matches (HTTP.jl's `_404`); the default
    /// answers an empty 404. The router middleware does not wrap it.
    pub fn not_found<H, M>(&mut self, handler: H) -> &mut Self
    where
        H: Handler<B, M>,
    {
        Arc::make_mut(&mut self.inner).not_found = handler.into_route();
        self
    }

    /// Sets the handler for requests whose path matches a route but whose method does not
    /// (HTTP.jl's `_405`); the default answers an empty 405. The router adds an `Allow`
    /// header listing the path's methods unless the handler set one. The router
    /// middleware does not wrap it.
    pub fn method_not_allowed<H, M>(&mut self, handler: H) -> &mut Self
    where
        H: Handler<B, M>,
    {
        Arc::make_mut(&mut self.inner).method_not_allowed = handler.into_route();
        self
    }

    /// Adds a middleware that runs only on matched routes, after matching (so it sees
    /// [`route`](super::route) and [`params`](super::params)) and before the handler:
    /// HTTP.jl's `Router(_404, _405, middleware)`. It wraps routes registered before and
    /// after this call; a later call wraps outside an earlier one.
    pub fn middleware<L, RB>(&mut self, layer: L) -> &mut Self
    where
        L: Layer<Route<B>> + Send + Sync + 'static,
        L::Service: Service<Request<B>, Response = Response<RB>> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request<B>>>::Future: Send + 'static,
        <L::Service as Service<Request<B>>>::Error: Into<BoxError>,
        RB: http_body::Body + Send + 'static,
        RB::Data: Into<Bytes>,
        RB::Error: Into<BoxError>,
    {
        let inner = Arc::make_mut(&mut self.inner);
        inner
            .middleware
            .push(Arc::new(move |route| Route::new(layer.layer(route))));
        inner.wrapped = inner
            .handlers
            .iter()
            .map(|h| inner.wrap(h.clone()))
            .collect();
        self
    }

    /// Looks up the route for `method` and `path` without calling it: the matched route
    /// and its variables, the methods allowed when only the method failed, or nothing.
    ///
    /// ```
    /// use httpstack::router::{Lookup, Router};
    /// use http::Method;
    /// # fn main() -> Result<(), httpstack::Error> {
    /// let mut router = Router::<()>::new();
    /// router.register(Method::GET, "/users/{id:[0-9]+}", |_req: http::Request<()>| async {
    ///     http::Response::new(String::new())
    /// })?;
    /// match router.lookup(&Method::GET, "/users/42") {
    ///     Lookup::Found(found) => assert_eq!(found.params().get("id"), Some("42")),
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(matches!(router.lookup(&Method::POST, "/users/42"), Lookup::MethodNotAllowed(_)));
    /// assert!(matches!(router.lookup(&Method::GET, "/users/bob"), Lookup::NotFound));
    /// # Ok(()) }
    /// ```
    pub fn lookup<'r, 'p>(&'r self, method: &Method, path: &'p str) -> Lookup<'r, 'p> {
        let path = normalize_path(path);
        match self.inner.table.lookup(method, &path) {
            Outcome::Found { entry, segments } => Lookup::found(path, entry, segments),
            Outcome::MethodNotAllowed(allowed) => Lookup::MethodNotAllowed(allowed),
            Outcome::NotFound => Lookup::NotFound,
        }
    }

    fn add(
        &mut self,
        method: Option<Method>,
        path: &str,
        route: Route<B>,
    ) -> Result<&mut Self, Error> {
        let pattern = Pattern::parse(path)?;
        let inner = Arc::make_mut(&mut self.inner);
        let next = inner.handlers.len();
        let wrapped = inner.wrap(route.clone());
        match inner.table.insert(method, pattern, path.into(), next)? {
            Some(replaced) => {
                inner.handlers[replaced] = route;
                inner.wrapped[replaced] = wrapped;
            }
            None => {
                inner.handlers.push(route);
                inner.wrapped.push(wrapped);
            }
        }
        Ok(self)
    }

    fn dispatch(&self, mut req: Request<B>) -> RouteFuture {
        let inner = &*self.inner;
        let found = match self.lookup(req.method(), req.uri().path()) {
            Lookup::Found(found) => Ok((found.handler(), found.to_matched_route())),
            Lookup::MethodNotAllowed(allowed) => Err(Some(allow_header(&allowed))),
            Lookup::NotFound => Err(None),
        };
        match found {
            Ok((handler, matched)) => {
                req.extensions_mut().insert(matched);
                inner.wrapped[handler].call_route(req)
            }
            Err(None) => inner.not_found.call_route(req),
            Err(Some(allow)) => inner.method_not_allowed.call_route(req).with_allow(allow),
        }
    }
}

impl<B: Send + 'static> Inner<B> {
    fn wrap(&self, route: Route<B>) -> Route<B> {
        self.middleware
            .iter()
            .fold(route, |route, layer| layer(route))
    }
}

/// RFC 9110 §10.2.1: `Allow` lists the methods the target resource supports.
fn allow_header(methods: &[Method]) -> HeaderValue {
    let list = methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    // Method names are tokens, always a valid header value.
    HeaderValue::from_str(&list).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl<B: Send + 'static> Service<Request<B>> for Router<B> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> RouteFuture {
        self.dispatch(req)
    }
}
