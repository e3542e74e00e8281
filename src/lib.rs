//! httpstack: the whole of Julia's HTTP.jl for Rust — client, server, cookies, WebSockets,
//! Server-Sent Events, HTTP/2, static files — built tower-native: every feature is a
//! `tower::Layer` or `Service` that also drops into an axum / tower / hyper application.
//!
//! ```
//! # use httpstack::server::{handler_fn, serve};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
//! let server = serve("127.0.0.1:0", handler_fn(|_req: http::Request<httpstack::Body>| async {
//!     http::Response::new(httpstack::Body::from("hello"))
//! })).await?;
//! let resp = httpstack::get(format!("http://127.0.0.1:{}/", server.port())).await?;
//! assert_eq!(resp.text(), "hello");
//! server.close().await;
//! # Ok(()) }
//! ```
//!
//! The layers live in [`middleware`] (the `httpstack-middleware` crate), usable without
//! the rest of this crate.
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod client;
pub mod files;
pub mod h2;
pub mod messages;
pub mod router;
pub mod server;
pub mod sse;
pub mod uri;
pub mod ws;

#[doc(inline)]
pub use httpstack_middleware as middleware;
pub use httpstack_middleware::{
    Body, BodySender, BoxError, CloseFrame, Delivery, Error, ErrorKind, Result, TimeoutKind,
};

pub use client::{
    default_client, delete, download, download_temp, get, head, open, options, patch, post, put,
    request, set_default_client, Certificate, Client, ClientBuilder, Download, Form, Multipart,
    OpenStream, Progress, RequestBuilder, Response,
};
pub use files::{file_server, serve_content, serve_file};
pub use router::Router;
pub use server::{handler_fn, listen, serve, Server, ServerBuilder};

/// Paths the `client!` macro expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use http::Method;
}
