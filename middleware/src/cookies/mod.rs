//! Cookies, client and server side (HTTP.jl `Cookies`, `cookielayer`, `cookie_middleware`).
//!
//! - [`Cookie`] with HTTP.jl's fields, parsed by HTTP.jl's (Go's) rules
//!   ([`Cookie::parse_set_cookie`], [`Cookie::parse_cookie_header`]) and written in the
//!   request or `Set-Cookie` form ([`Cookie::to_request_string`],
//!   [`Cookie::to_set_cookie_string`], HTTP.jl `stringify`).
//! - [`cookies`] and [`add_cookie`] read and add the cookies of a request or a response.
//! - [`CookieJar`]: thread-safe RFC 6265 storage on `cookie_store`, refusing public
//!   suffixes, with JSON save and load.
//! - [`CookieLayer`] (client): before each request, the jar's cookies for its URL go into
//!   its `Cookie` header (with the request's explicit ones, [`CookieConfig`]); after it, the
//!   response's `Set-Cookie` headers go into the jar — also those of a status error's
//!   response. Placed below the redirect layer it runs once per hop, so cookies set by one
//!   hop of a redirect chain are sent on the next.
//! - [`CookieParseLayer`] (server): parses a request's `Cookie` header into
//!   [`ParsedCookies`] in its extensions, where [`cookies`] finds them.
//!
//! ```
//! use httpstack_middleware::cookies::{add_cookie, cookies, Cookie, CookieJar, CookieLayer};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A "server" that sets a cookie and echoes back the Cookie header it got.
//! let server = service_fn(|req: http::Request<()>| async move {
//!     let sent = req.headers().get("cookie").and_then(|v| v.to_str().ok());
//!     let mut resp = http::Response::new(format!("{sent:?}"));
//!     add_cookie(&mut resp, &Cookie::new("session", "abc").with_path("/")).unwrap();
//!     Ok::<_, std::convert::Infallible>(resp)
//! });
//! let jar = CookieJar::new();
//! let client = ServiceBuilder::new().layer(CookieLayer::new(jar.clone())).service(server);
//!
//! let first = client.clone().oneshot(http::Request::get("http://example.com/").body(()).unwrap()).await.unwrap();
//! assert_eq!(first.body(), "None");
//! assert_eq!(cookies(&first)[0].name, "session");
//!
//! let second = client.oneshot(http::Request::get("http://example.com/x").body(()).unwrap()).await.unwrap();
//! assert_eq!(second.body(), "Some(\"session=abc\")");
//! # }
//! ```
//!
//! # Parsing rules
//!
//! As in HTTP.jl and Go's `net/http`, which HTTP.jl ports:
//! - the name must be a non-empty RFC 9110 token, else the cookie is refused;
//! - a value in double quotes is unquoted; a value with a byte outside `0x20..0x7e`, or a
//!   `"`, `;` or `\` in it, refuses the cookie;
//! - attribute names are case-insensitive; an attribute whose value has an invalid byte is
//!   ignored, as is an unknown attribute;
//! - `Expires` is `Wdy, DD Mon YYYY HH:MM:SS GMT` or `Wdy, DD-Mon-YYYY HH:MM:SS GMT`; any other
//!   date is ignored (the cookie stays, as a session cookie);
//! - `Max-Age` is an integer without leading zeros; zero or less means "delete now";
//! - `Domain` loses one leading dot (RFC 6265 §5.2.3) and is lower-cased;
//! - `SameSite` is `Lax`, `Strict` or `None`; anything else leaves it unset.
//!
//! One leniency over Go, from RFC 6265 §5.2: whitespace around an attribute's name and
//! value, and around the cookie's value, is trimmed.

mod config;
mod cookie;
mod future;
mod jar;
mod layer;
mod parse_layer;
mod service;

pub use self::config::CookieConfig;
pub use self::cookie::{add_cookie, cookies, Cookie, CookieMessage, SameSite};
pub use self::future::ResponseFuture;
pub use self::jar::CookieJar;
pub use self::layer::CookieLayer;
pub use self::parse_layer::{CookieParse, CookieParseLayer, ParsedCookies};
pub use self::service::Cookies;
/// The URL type of [`CookieJar`]'s methods, re-exported so no `url` dependency is needed.
pub use url::Url;
