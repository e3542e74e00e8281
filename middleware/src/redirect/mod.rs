//! Redirects: HTTP.jl's `redirect`, `redirect_limit`, `redirect_method` and
//! `forwardheaders`, as a tower layer.
//!
//! A 301, 302, 303, 307 or 308 with a usable `Location` is followed with a new request
//! through the inner service, so the layers below (cookies, retries, the connection) see
//! every hop — a cookie set by one redirect is sent on the next. The rules:
//!
//! - **Limit.** At most `redirect_limit` (3) redirects; one more is a
//!   [`TooManyRedirects`](crate::ErrorKind::TooManyRedirects) error naming the first
//!   request. `redirect = false` or `redirect_limit = 0` returns the 3xx as it is (HTTP.jl).
//! - **Location.** Resolved against the current URL (RFC 9110 §10.2.2); missing, not a
//!   URL, or not http(s): the 3xx is returned as it is.
//! - **Method** ([`RedirectMethod`]): 307/308 keep the method and body; 303 becomes GET
//!   (HEAD stays HEAD); 301/302 become GET (HEAD stays HEAD) under `Auto`, keep the method
//!   under `Same`, or use an explicit method. When the method becomes GET or HEAD the body
//!   is dropped with its `Content-*` and `Transfer-Encoding` headers.
//! - **Bodies.** A body that must go along but cannot be sent again (a stream; see
//!   [`TryCloneBody`](crate::TryCloneBody)) ends the chain: the 3xx is returned.
//! - **Headers.** With `forward_headers` (default) each hop repeats the request's headers
//!   except `Host`; without, it carries none of them. Once the chain leaves the first
//!   request's origin (scheme, host or port), `Authorization`, `Cookie` and
//!   `Proxy-Authorization` are removed and every later hop carries the
//!   [`CrossOriginRedirect`](crate::cross_origin::CrossOriginRedirect) marker, so layers
//!   below leave their own per-request credentials off. `Referer` is set to the previous
//!   URL (without userinfo), but not from https to http (RFC 9110 §10.1.3).
//! - **Extensions.** Each hop carries the first request's extensions (per-request configs
//!   of the layers below), plus the marker above.
//! - **Chain.** The final response carries a [`RedirectChain`]: the heads of the earlier
//!   responses (HTTP.jl's `parent`) and the final URL. Their bodies are read if already
//!   there (so the connection can be reused), then dropped.
//!
//! A request overrides the layer's [`RedirectConfig`] by carrying its own in its
//! extensions. The inner service's errors become [`Error`](crate::Error)s (from any
//! `Into<BoxError>` error, so a bare hyper-util client fits; an `Error` from below keeps
//! its kind); while redirects are on they name the method and URL of the hop that failed.
//!
//! tower-http's `FollowRedirect` and its `Policy` trait are not used: the service hard-codes
//! its method rules (only POST turns into GET on 301/302, no `Same` or explicit method),
//! its policy sees the status and Location but not the response head, so it cannot build
//! the parent chain, and it drops the request's extensions on each hop. What is left of
//! it — `Policy::clone_body` and stopping on an unclonable body — is
//! [`TryCloneBody`](crate::TryCloneBody) and the rule above.
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use httpstack_middleware::redirect::{RedirectChain, RedirectLayer};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let site = service_fn(|req: Request<String>| async move {
//!     let resp = match req.uri().path() {
//!         "/old" => Response::builder().status(301).header("location", "/new").body(String::new()),
//!         _ => Response::builder().body(format!("{} {}", req.method(), req.uri())),
//!     };
//!     Ok::<_, http::Error>(resp.unwrap())
//! });
//! let client = ServiceBuilder::new().layer(RedirectLayer::new()).service(site);
//!
//! let req = Request::post("http://example.test/old").body(String::from("form")).unwrap();
//! let resp = client.oneshot(req).await.unwrap();
//! assert_eq!(resp.body(), "GET http://example.test/new");
//! let chain = RedirectChain::of(&resp).unwrap();
//! assert_eq!(chain.url(), "http://example.test/new");
//! assert_eq!(chain.parent().unwrap().status(), StatusCode::MOVED_PERMANENTLY);
//! # }
//! ```

mod chain;
mod config;
mod future;
mod layer;
mod policy;
mod service;

pub use chain::{RedirectChain, RedirectHop};
pub use config::{RedirectConfig, RedirectMethod, DEFAULT_REDIRECT_LIMIT};
pub use future::ResponseFuture;
pub use layer::RedirectLayer;
pub use policy::{is_redirect, keeps_body, next_method};
pub use service::Redirect;
