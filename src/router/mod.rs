//! The router: HTTP.jl's `Router`, `register!`, `getroute`, `getparams` and `getparam`,
//! as a tower `Service`.
//!
//! A [`Router`] maps a request to a handler by path and method. Patterns are HTTP.jl's:
//!
//! | pattern | matches |
//! |---|---|
//! | `/api/widgets` | exactly that path |
//! | `/api/*/owner` | any one segment in place of `*` (not captured) |
//! | `/api/widget/{id}` | any one segment, captured as `id` |
//! | `/api/widget/{id:[0-9]+}` | a segment the regex matches *whole*, captured as `id` |
//! | `/api/**` | one or more trailing segments (last segment only) |
//! | `/api/{*rest}` | the same, capturing the rest of the path as `rest` (matchit's syntax) |
//!
//! **Priority.** When several routes match, the more specific wins segment by segment:
//! exact, then regex variable, then plain variable, then `*`, then `**`. A regex that
//! fails, or a route without a handler for the method, falls back to the next, less
//! specific route: with `/files/{n:\w+}` and `/files/**`, `GET /files/a.b` reaches the
//! second. Two regex variables at the same place keep registration order. Regexes are
//! the `regex` crate's syntax (HTTP.jl's PCRE without look-around or backreferences).
//!
//! **Paths.** Segments are split on `/` with empty ones ignored, so `/a/b/`, `//a//b` and
//! `/a/b` are the same path, for patterns and requests alike. Matching is on the raw
//! (percent-encoded) path, so an encoded `%2F` stays inside its segment; regexes and
//! captured values see the segment percent-decoded (as axum's do; HTTP.jl hands back the
//! raw text).
//!
//! **Methods.** [`Router::register`] binds one method, [`Router::route`] every method (a
//! route for the exact method comes first). `HEAD` falls back to the `GET` handler when
//! the route has no `HEAD` one, as in axum; the server sends the headers without the
//! body. Re-registering a pattern for the same method replaces its handler.
//!
//! **404 and 405.** No route for the path: the [`not_found`](Router::not_found) handler
//! (default: empty 404). Routes for the path, none for the method: the
//! [`method_not_allowed`](Router::method_not_allowed) handler (default: empty 405), its
//! response given an `Allow` header with the path's methods.
//!
//! **Middleware.** [`Router::middleware`] wraps only matched routes, after matching, so it
//! reads [`route`] and [`params`]; the 404 and 405 handlers are not wrapped (HTTP.jl's
//! router middleware, which the docs suggest for metrics and logging).
//!
//! **Handlers** are any tower `Service` (an httpstack [`handler_fn`], an axum `Router`,
//! a tower-http service, another `Router`) or an async fn of `Request<B>`; see
//! [`Handler`]. The router answers `Response<httpstack::Body>` and never fails, so it can
//! be served by [`serve`](crate::serve) and nested in an axum app with `nest_service` or
//! `fallback_service` (a `Router<axum::body::Body>` there).
//!
//! ```
//! use http::{Method, Request, Response};
//! use httpstack::router::{param, route, Router};
//! use httpstack::server::handler_fn;
//! use httpstack::Body;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! let mut router = Router::new();
//! router
//!     .register(Method::GET, "/widgets/{id:[0-9]+}", handler_fn(|req| async move {
//!         let id = param::<String>(&req, "id").unwrap_or_default();
//!         Response::new(format!("widget {id}"))
//!     }))?
//!     .register(Method::GET, "/widgets/{name}", |req: Request<Body>| async move {
//!         Response::new(format!("{} named {}", route(&req).unwrap_or_default(),
//!                               param::<String>(&req, "name").unwrap_or_default()))
//!     })?
//!     .route("/static/**", handler_fn(|_req| async { Response::new(String::from("a file")) }))?;
//!
//! let server = httpstack::serve("127.0.0.1:0", router).await?;
//! let base = format!("http://{}", server.local_addr());
//! assert_eq!(httpstack::get(format!("{base}/widgets/7")).await?.text(), "widget 7");
//! assert_eq!(
//!     httpstack::get(format!("{base}/widgets/seven")).await?.text(),
//!     "/widgets/{name} named seven"
//! );
//! assert_eq!(httpstack::get(format!("{base}/static/css/a.css")).await?.text(), "a file");
//! let err = httpstack::post(format!("{base}/widgets/7")).await.unwrap_err();
//! assert_eq!(err.status(), Some(http::StatusCode::METHOD_NOT_ALLOWED));
//! server.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! matchit (the engine behind axum) does the structural match; regex constraints,
//! anonymous `*`, several routes of one shape, the fallback to less specific routes and
//! 404 vs 405 are built around it (see `table.rs`).
//!
//! [`handler_fn`]: crate::server::handler_fn

mod lookup;
mod params;
mod pattern;
mod route;
#[allow(clippy::module_inception)]
mod router;
mod table;

pub use lookup::{Lookup, RouteMatch};
pub use params::{param, params, route, MatchedRoute, ParamError, Params};
pub use route::{Handler, IsFn, IsService, Route, RouteFuture};
pub use router::Router;
