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
//!
//! # Cargo features
//!
//! The defaults give everything the README shows; `default-features = false, features =
//! ["client"]` is a lean HTTP client (plain `http://`; add a TLS provider for `https://`).
//!
//! | feature | default | what it brings |
//! |---|---|---|
//! | `client` | yes | [`Client`], [`get`]/[`post`]..., [`open`], [`download`], proxies, `client!` |
//! | `cookies` | yes | the client's cookie jar (HTTP.jl's rules, the Public Suffix List), `CookieParseLayer` |
//! | `server` | yes | [`serve`], [`listen`], [`ServerBuilder`]: HTTP/1.1 and HTTP/2, TLS |
//! | `router` | yes | [`Router`] (a tower `Service`; also under axum or hyper) |
//! | `ws` | yes | WebSockets, client and server (implies `client` and `server`) |
//! | `sse` | yes | Server-Sent Events: `sse_stream`; `EventSource` with `client` |
//! | `files` | yes | [`file_server`], [`serve_file`], ranges, conditional requests |
//! | `multipart` | yes | `multipart/form-data` and `multipart/mixed`, build and parse |
//! | `json` | yes | `RequestBuilder::json`, `Response::json` (serde) |
//! | `h2` | yes | HTTP2.jl's low-level API: frames, HPACK, `h2::Session` |
//! | `gzip`, `deflate` | yes | response decompression of those codings |
//! | `br`, `zstd` | no | Brotli and Zstandard decompression |
//! | `axum` | no | the access log reads axum's `ConnectInfo` for the peer address |
//! | `tls-aws-lc` | yes | rustls on aws-lc-rs: post-quantum `X25519MLKEM768` first |
//! | `tls-ring` | no | rustls on ring (no post-quantum key exchange) |
//! | `native-roots` | yes | trust the platform's root certificates |
//! | `webpki-roots` | no | trust Mozilla's roots, compiled in |
//!
//! Without `tls-aws-lc` or `tls-ring`, TLS uses the provider a program installs with
//! `rustls::crypto::CryptoProvider::install_default` (see [`tls::provider`]).
#![warn(missing_docs)]
#![deny(unsafe_code)]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "files")]
pub mod files;
#[cfg(feature = "h2")]
pub mod h2;
pub mod messages;
#[cfg(feature = "multipart")]
pub mod multipart;
#[cfg(feature = "router")]
pub mod router;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "sse")]
pub mod sse;
pub mod tls;
pub mod uri;
#[cfg(feature = "ws")]
pub mod ws;

#[doc(inline)]
pub use httpstack_middleware as middleware;
pub use httpstack_middleware::{
    Body, BodySender, BoxError, CloseFrame, Delivery, Error, ErrorKind, Result, TimeoutKind,
};

#[cfg(feature = "client")]
pub use client::{
    default_client, delete, download, download_temp, get, head, open, options, patch, post, put,
    request, set_default_client, Certificate, Client, ClientBuilder, Download, OpenStream,
    Progress, RequestBuilder, Response,
};
#[cfg(feature = "files")]
#[cfg(all(feature = "client", feature = "multipart"))]
pub use client::{Form, Multipart};
#[cfg(feature = "files")]
pub use files::{file_server, serve_content, serve_file};
#[cfg(feature = "router")]
pub use router::Router;
#[cfg(feature = "server")]
pub use server::{handler_fn, listen, serve, Server, ServerBuilder};

/// Paths the `client!` macro expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use http::Method;
}
