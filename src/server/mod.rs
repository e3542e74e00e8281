//! The server: HTTP.jl's `serve!` / `listen!` and `Server` handle, over hyper.
//!
//! [`serve`] binds an address, starts serving in background tasks and returns a
//! [`Server`] handle at once, as HTTP.jl's `serve!` does. The server runs until
//! [`Server::close`] (graceful: stop accepting, let in-flight requests finish, then run the
//! `on_shutdown` hooks) or [`Server::force_close`]; **dropping the handle does not stop
//! it**. [`Server::run`] is HTTP.jl's blocking `serve` for binaries: it waits, and closes
//! gracefully on Ctrl-C.
//!
//! Any `tower::Service<http::Request<httpstack::Body>>` can be served: a closure through
//! [`handler_fn`], an httpstack router, an axum `Router`. The request body is hyper's,
//! inside httpstack's [`Body`](crate::Body) (no allocation), bounded by `max_body_bytes`
//! and `read_timeout` as the handler reads it; since the served type is an ordinary
//! body, a handler or router is tested without a socket:
//!
//! ```
//! use httpstack::{Body, Router};
//! use http::{Method, Request, Response};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! async fn echo(req: Request<Body>) -> Response<Body> {
//!     let body = req.into_body().collect_bytes().await.unwrap_or_default();
//!     Response::new(Body::from(body))
//! }
//! let mut router = Router::new();
//! router.register(Method::POST, "/echo", echo)?;
//! let req = Request::post("/echo").body(Body::from("ping")).unwrap();
//! let resp = router.oneshot(req).await.unwrap();
//! assert_eq!(resp.into_body().collect_bytes().await?, "ping");
//! # Ok(())
//! # }
//! ```
//!
//! A connection speaks HTTP/1.1 with keep-alive, HTTP/2 when TLS ALPN picks `h2`, or h2c when a plaintext client opens with
//! the HTTP/2 preface (prior knowledge, RFC 9113 §3.3). Requests carry the client's
//! address as a [`PeerAddr`] extension when [`ServerBuilder::peer_addr`] asks for it. As
//! in HTTP.jl, a handler that fails — here:
//! panics, or its service returns `Err` — gets its client an empty
//! `500 Internal Server Error`, the failure is logged with `tracing`, and the server keeps
//! serving.
//!
//! ```
//! use httpstack::server::{handler_fn, serve};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = serve(
//!     "127.0.0.1:0",
//!     handler_fn(|req| async move { http::Response::new(format!("hello {}", req.uri().path())) }),
//! )
//! .await?;
//!
//! // One HTTP/1.1 request, by hand.
//! let mut conn = tokio::net::TcpStream::connect(server.local_addr()).await?;
//! conn.write_all(b"GET /world HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
//!     .await?;
//! let mut response = String::new();
//! conn.read_to_string(&mut response).await?;
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.ends_with("\r\n\r\nhello /world"));
//!
//! server.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Stream handlers
//!
//! [`listen`] is HTTP.jl's `listen!`: its handler gets a [`Stream`] per request, reads the
//! request body as it arrives and writes the response as it is produced — never holding
//! either whole. This is HTTP.jl's README example, echoing the body chunk by chunk:
//!
//! ```
//! use httpstack::server::{listen, Stream};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! let server = listen("127.0.0.1:0", |mut http: Stream| async move {
//!     println!("{} {} from {}", http.method(), http.uri(), http.peer_addr());
//!     http.set_status(200)?;
//!     http.set_header("Foo-Header", "bar")?;
//!     http.start_write()?;
//!     while let Some(chunk) = http.read_chunk().await? {
//!         http.write(chunk).await?;
//!     }
//!     http.close_write()
//! })
//! .await?;
//!
//! let url = format!("http://{}/echo", server.local_addr());
//! let resp = httpstack::post(url).body_chunks(vec!["one ", "two"]).await?;
//! assert_eq!(resp.headers()["foo-header"], "bar");
//! assert_eq!(resp.text(), "one two");
//! server.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! A stream handler that returns without having set a status or written anything gets
//! its client a 500, as in HTTP.jl. [`stream_handler`] turns a request handler into a
//! stream handler (HTTP.jl `streamhandler`).
//!
//! # Options
//!
//! Options go through [`Server::bind`]; HTTP.jl's keyword arguments keep their names.
//! Each option's default is on its method. Unlike HTTP.jl, two timeouts are on by
//! default — `read_header_timeout` (30 s) and `idle_timeout` (60 s) — so a client cannot
//! hold a connection with a partial request or nothing at all; the others are off unless
//! set, as in HTTP.jl.
//!
//! | option | HTTP/1.1 | HTTP/2 |
//! |---|---|---|
//! | [`read_timeout`](ServerBuilder::read_timeout) | gap between body pieces (408); bounds the head timeout | gap between body pieces (408); bounds the TLS handshake and preface |
//! | [`read_header_timeout`](ServerBuilder::read_header_timeout) | each request head; the first from accept | TLS handshake and preface |
//! | [`write_timeout`](ServerBuilder::write_timeout) | connection dropped past it | stream reset past it |
//! | [`idle_timeout`](ServerBuilder::idle_timeout) | graceful close when idle | GOAWAY when no stream is open; dropped if still idle a header timeout later |
//! | [`max_header_bytes`](ServerBuilder::max_header_bytes) | 431, raw head bytes | 431, SETTINGS_MAX_HEADER_LIST_SIZE |
//! | [`max_body_bytes`](ServerBuilder::max_body_bytes) | 413: `Content-Length`, and as a chunked body is read | 413: `content-length`, and as a body without one is read |
//! | [`http2_keep_alive_interval`](ServerBuilder::http2_keep_alive_interval) | — | PINGs against dead peers |
//! | [`backlog`](ServerBuilder::backlog), [`reuseaddr`](ServerBuilder::reuseaddr), [`connection_filter`](ServerBuilder::connection_filter), [`max_connections`](ServerBuilder::max_connections) | the listener: both | |
//!
//! Also: TLS with a rustls config ([`server_config_from_pem`]), `http1_only`, `http2_only`,
//! `grace_period` and `on_shutdown` hooks.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! use std::time::Duration;
//! use httpstack::server::{handler_fn, Server};
//!
//! let server = Server::bind("127.0.0.1:0")
//!     .read_header_timeout(Duration::from_secs(10))
//!     .idle_timeout(Duration::from_secs(60))
//!     .max_body_bytes(16 * 1024 * 1024)
//!     .max_connections(1024)
//!     .connection_filter(|peer| peer.ip().is_loopback())
//!     .grace_period(Duration::from_secs(10))
//!     .on_shutdown(|| println!("server stopped"))
//!     .serve(handler_fn(|_req| async { http::Response::new(String::from("ok")) }))
//!     .await?;
//! assert_ne!(server.port(), 0);
//! server.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! Malformed requests get hyper's answers: `400 Bad Request` for a bad request line or
//! header, `431` for a head over the limit, `414 URI Too Long` past hyper's 64 KiB URI
//! limit; the connection then closes. The server adds RFC 9112's rules that hyper leaves
//! to it, each a `400` and a closed connection: exactly one valid `Host` on HTTP/1.1, a
//! request target in a form its method allows, `chunked` once and last in
//! `Transfer-Encoding`. Two leniencies of hyper's HTTP/1 parser stay, as no option of
//! hyper's turns them off and refusing them would take a second parser under it: a bare
//! LF as a line end (RFC 9112 §2.2 allows a recipient to accept it) and whitespace
//! after a chunk size (`ff \r\n`, which HTTP.jl 2.x refuses). Neither moves where a
//! message ends.
//!
//! A `HEAD` request gets the head a `GET` would, without the body, on every protocol.
//! Trailer fields that RFC 9110 §6.5.1 keeps out of trailers (`Content-Length`,
//! `Set-Cookie`, `Content-Type`...) are dropped from request trailers and never sent in
//! response trailers.

mod builder;
mod conn;
mod handle;
mod handler_fn;
mod listen;
mod peer_addr;
mod serve;
mod stream;
mod stream_handler;
mod stream_service;

/// `multipart/form-data` parsing, now in [`crate::multipart`].
#[cfg(feature = "multipart")]
pub use crate::multipart;
pub use crate::tls::{server_config_from_pem, server_config_from_pem_bytes};
pub(crate) use builder::Protocols;
pub use builder::ServerBuilder;
#[cfg(feature = "ws")]
pub(crate) use conn::connection_io::ConnectionIo;
pub use handle::Server;
pub use handler_fn::{handler_fn, HandlerFn, ResponseFuture};
pub use listen::listen;
#[cfg(feature = "multipart")]
pub use multipart::{
    parse_multipart_form, parse_multipart_form_with, MultipartError, MultipartForm, MultipartLimits,
};
pub use peer_addr::PeerAddr;
pub use serve::serve;
pub use stream::Stream;
pub use stream_handler::{stream_handler, ServiceStreamHandler};
pub use stream_service::StreamHandler;
