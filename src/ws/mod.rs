//! WebSockets (HTTP.jl `HTTP.WebSockets`): RFC 6455 client and server on
//! tokio-tungstenite.
//!
//! - Client: [`open`] / [`open_with`] (HTTP.jl `WebSockets.open`), [`connect`] for
//!   headers, subprotocols, timeouts, TLS settings, a [`Client`](crate::Client) and a
//!   proxy; ws:// and wss:// through the client's transport
//!   ([`Client::openraw`](crate::Client::openraw)), so its proxies (HTTP `CONNECT`
//!   tunnels, SOCKS5, the environment's), cookies and default headers apply.
//! - Server: [`listen`] (`WebSockets.listen!`), [`upgrade`] — a tower `Service` to mount
//!   at a path in a router, under [`serve`](crate::serve) or in axum — and
//!   [`is_upgrade`] (`isupgrade`); [`echo`] is a ready-made echo route.
//! - The connection: [`WebSocket`] — `send`, `send_fragments`, `receive`, `is_ready`,
//!   `ping`, `pong`, `close`, iteration as a `Stream`, `split` into halves.
//! - HTTP/2 (RFC 8441 extended CONNECT): [`upgrade`] accepts it as well as the HTTP/1.1
//!   upgrade, and httpstack's server announces it; [`Connect::http2`] opens one, over
//!   TLS (ALPN h2) or h2c.
//!
//! A close is an [`Error`](crate::Error) carrying the [`CloseFrame`]
//! (HTTP.jl `WebSocketError`); [`Error::is_ok`](crate::Error::is_ok) is HTTP.jl's
//! `isok` — true for 1000, 1001 and 1005 — so a loop can end quietly on a normal close.
//! A message or frame over the size limit (16 MiB by default) closes with 1009.
//!
//! ```
//! use futures_util::StreamExt;
//! use httpstack::ws;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! // HTTP.jl's protocols guide: an upper-casing echo server and a client.
//! let server = ws::listen("127.0.0.1:0", |mut ws: ws::WebSocket| async move {
//!     while let Some(message) = ws.next().await {
//!         if let Some(text) = message?.as_text() {
//!             ws.send(text.to_uppercase()).await?;
//!         }
//!     }
//!     Ok(())
//! })
//! .await?;
//!
//! let url = format!("ws://{}/echo", server.server_addr());
//! let reply = ws::open_with(url, |mut ws| async move {
//!     ws.send("hello").await?;
//!     ws.receive().await
//! })
//! .await?;
//! assert_eq!(reply.as_text(), Some("HELLO"));
//! server.force_close();
//! # Ok(()) }
//! ```
//!
//! Mounted as a route (here under httpstack's server; in axum:
//! `Router::new().route_service("/ws", ws::echo())`):
//!
//! ```
//! # use httpstack::{server::Server, ws};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! let service = ws::upgrade(|mut ws: ws::WebSocket| async move {
//!     ws.send(format!("hello {}", ws.request().uri().path())).await
//! })
//! .allowed_origins(["https://example.com"])
//! .max_message_size(Some(1 << 20));
//! let server = Server::bind("127.0.0.1:0").serve(service).await?;
//! let mut ws = ws::open(format!("ws://{}/chat", server.local_addr())).await?;
//! assert_eq!(ws.receive().await?.as_text(), Some("hello /chat"));
//! // The handler returned: the server closed the connection normally.
//! assert!(ws.receive().await.unwrap_err().is_ok());
//! # server.close().await; Ok(()) }
//! ```
//!
//! permessage-deflate (RFC 7692) is on by default on both sides, over HTTP/1.1 and
//! HTTP/2: a client offers it, a server accepts an offer it can serve; see
//! [`DeflateConfig`] for the settings and `permessage_deflate(false)` on [`Connect`] and
//! [`Upgrade`] for the off switch. tokio-tungstenite does the HTTP/1.1 handshake's
//! helpers and lends its frame types; the message layer above the frames (fragments,
//! control frames, the closing handshake, UTF-8, limits, compression) is httpstack's,
//! because tungstenite rejects the RSV1 bit compression sets.
//!
//! The handshake is held to HTTP.jl 2.x's rules: browsers' requests must come from the
//! same origin by default ([`Upgrade::allowed_origins`], [`Upgrade::allow_any_origin`],
//! [`Upgrade::check_origin`]); RFC 6455 §4.2.1's checks of the request; a client that
//! refuses a `101` picking what it did not offer, and follows redirects
//! ([`Connect::redirect_limit`]); close codes that may not be sent are input errors
//! ([`close::is_sendable`]).
//!
//! Not yet here: proxies for [`Connect::http2`] (RFC 8441 dials the server directly).

mod client;
pub mod close;
mod config;
mod connection;
mod deflate;
mod h2;
mod message;
mod server;
mod socket;
mod websocket;

pub use crate::CloseFrame;
pub use client::{connect, open, open_with, Connect};
pub use config::DEFAULT_MAX_MESSAGE_SIZE;
pub use deflate::DeflateConfig;
pub use message::{Message, Utf8Bytes};
pub use server::{echo, is_upgrade, listen, upgrade, EchoHandler, Upgrade, WsServer};
pub use websocket::{WebSocket, WebSocketReceiver, WebSocketSender};
