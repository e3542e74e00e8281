//! Server-Sent Events, both sides (HTTP.jl `sse_stream`, `SSEEvent`, `SSEStream`).
//!
//! - Server: [`sse_stream`]`(status, |tx| async move { ... })` returns a
//!   `text/event-stream` response whose producer runs on its own task; each
//!   [`SseSender::send`] goes out as one body frame at once. When the client goes away the
//!   producer's next send fails. Each stream holds at most a small buffer of unsent events
//!   (64 KiB by default), so a client that stops reading pins no more than that.
//!   [`SseConfig`] adds keep-alive comments, the buffer size and `max_len`.
//! - Client: `.sse()` on a request ([`RequestBuilder::sse`](crate::RequestBuilder::sse))
//!   or on a streamed `http::Response` ([`SseResponseExt`]) gives an [`SseStream`] of
//!   [`SseEvent`]s parsed by the WHATWG rules (HTML §9.2.6) over any chunking;
//!   [`EventSource`] reconnects, resending `Last-Event-ID` and honouring `retry:`.
//!
//! Errors are [`httpstack::Error`](crate::Error)s: a line over 1 MiB or an event over
//! 16 MiB is an [`ErrorKind::Body`](crate::ErrorKind::Body) error whose source is an
//! [`SseParseError`]; a send to a gone client is an `ErrorKind::Body` error too.
//!
//! Behind tower-http's `CompressionLayer`: its default predicate does not compress
//! `text/event-stream`; with a predicate that does, each event still arrives on its own,
//! because the encoder (async-compression) flushes whenever the body has nothing more to
//! give, which is after every event here (`tests/sse.rs` checks both).
//!
//! ```
//! use futures_util::StreamExt;
//! use httpstack::server::{handler_fn, serve};
//! use httpstack::sse::{sse_stream, SseEvent};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
//! let server = serve("127.0.0.1:0", handler_fn(|_req: http::Request<httpstack::Body>| async {
//!     sse_stream(http::StatusCode::OK, |tx| async move {
//!         for n in 1..=3 {
//!             tx.send(SseEvent::new(format!("tick {n}")).id(n.to_string())).await?;
//!         }
//!         Ok::<_, httpstack::Error>(())
//!     })
//! })).await?;
//!
//! let url = format!("http://127.0.0.1:{}/ticks", server.port());
//! let events: Vec<_> = httpstack::get(&url).sse().await?.collect().await;
//! let data: Vec<_> = events.into_iter().map(|e| e.map(|e| e.data)).collect::<Result<_, _>>()?;
//! assert_eq!(data, ["tick 1", "tick 2", "tick 3"]);
//! # server.close().await; Ok(()) }
//! ```

#[cfg(feature = "client")]
mod client;
mod event;
#[cfg(feature = "client")]
mod event_source;
mod parser;
mod server;

#[cfg(feature = "client")]
pub use client::{SseResponseExt, SseStream};
pub use event::SseEvent;
#[cfg(feature = "client")]
pub use event_source::{EventSource, DEFAULT_RETRY};
pub use parser::{SseParseError, SseParser, DEFAULT_MAX_EVENT, DEFAULT_MAX_LINE};
pub use server::{sse_stream, SseConfig, SseSender, DEFAULT_BUFFER, DEFAULT_MAX_LEN};
