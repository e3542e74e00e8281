//! The server: HTTP.jl's `serve!` and `Server` handle, over hyper-util's auto builder.
//!
//! [`serve`] binds an address, starts serving in background tasks and returns a
//! [`Server`] handle at once, as HTTP.jl's `serve!` does. The server runs until
//! [`Server::close`] (graceful: stop accepting, let in-flight requests finish, then run the
//! `on_shutdown` hooks) or [`Server::force_close`]; **dropping the handle does not stop
//! it**. [`Server::run`] is HTTP.jl's blocking `serve` for binaries: it waits, and closes
//! gracefully on Ctrl-C.
//!
//! Any `tower::Service<http::Request<Incoming>>` can be served: a closure through
//! [`handler_fn`], an httpstack router, an axum `Router`. A connection speaks HTTP/1.1 with
//! keep-alive, HTTP/2 when TLS ALPN picks `h2`, or h2c when a plaintext client opens with
//! the HTTP/2 preface (prior knowledge, RFC 9113 §3.3). As in HTTP.jl, a handler that
//! fails — here: panics, or its service returns `Err` — gets its client an empty
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
//! Options go through [`Server::bind`]: TLS with a rustls config
//! ([`tls_config_from_pem`]), `http1_only`, `http2_only`, `max_connections`,
//! `grace_period` and `on_shutdown` hooks.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! use std::time::Duration;
//! use httpstack::server::{handler_fn, Server};
//!
//! let server = Server::bind("127.0.0.1:0")
//!     .max_connections(1024)
//!     .grace_period(Duration::from_secs(10))
//!     .on_shutdown(|| println!("server stopped"))
//!     .serve(handler_fn(|_req| async { http::Response::new(String::from("ok")) }))
//!     .await?;
//! assert_ne!(server.port(), 0);
//! server.close().await;
//! # Ok(())
//! # }
//! ```

mod accept;
mod builder;
mod catch_failure;
mod connection;
mod connection_count;
mod handle;
mod handler_fn;
mod serve;
mod shutdown;
mod tls;

pub use builder::ServerBuilder;
pub use handle::Server;
pub use handler_fn::{handler_fn, HandlerFn, ResponseFuture};
pub use serve::serve;
pub use tls::{tls_config_from_pem, tls_config_from_pem_bytes};
