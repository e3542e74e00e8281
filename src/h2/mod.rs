//! HTTP/2 at the frame level, as Julia's HTTP2.jl: typed [`frame`]s, [`hpack`] field
//! compression, and a [`Session`] that runs one connection and talks to its user through
//! [`Action`]s and [`Event`]s.
//!
//! - [`frame`] (HTTP2.jl `HTTP2.Frame`): one enum of typed frames with `encode` and
//!   `decode`; decode checks what RFC 9113 §4–§6 lets a frame be checked for alone.
//! - [`hpack`]: RFC 7541 encoder and decoder, Huffman included.
//! - [`Session`] (HTTP2.jl `HTTP2.Session`): `Session::new(io, Role::Client)`, then
//!   [`put_act`](Session::put_act) and [`take_evt`](Session::take_evt).
//!
//! Why our own engine rather than the `h2` crate: HTTP2.jl's API is frame-shaped (the
//! user names stream identifiers, sends a PUSH_PROMISE for a promised stream it chose,
//! sees SETTINGS and PING answers as events, and takes every stream's headers and data
//! from one ordered event queue). `h2` is request-shaped: it picks stream identifiers
//! itself, hands out per-stream handles (pushes reach a client only through a response
//! future's `push_promises`), exposes no raw frames, and answers pings through a separate
//! handle; turning those handles back into one event queue would be a second engine on
//! top of the first. The engine here stands on [`frame`] and [`hpack`] alone: a task
//! owning the transport, an unbounded channel of actions in (`put_act` returns at once,
//! as in HTTP2.jl) and one of events out. Memory stays bounded without bounding the event
//! channel: data by the flow-control windows (returned only as the user takes the data),
//! streams by `SETTINGS_MAX_CONCURRENT_STREAMS`, header blocks by
//! `SETTINGS_MAX_HEADER_LIST_SIZE`, and answers to a peer that does not read by the flood
//! bounds of [`SessionBuilder`].
//!
//! ```
//! use httpstack::h2::{Action, Event, Headers, Role, Session};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::h2::SessionError> {
//! let (a, b) = tokio::io::duplex(64 * 1024);
//! let client = Session::new(a, Role::Client);
//! let server = Session::new(b, Role::Server);
//! client.put_act(Action::Ping(*b"ping1234"))?;
//! loop {
//!     if let Some(Event::PingAck(data)) = client.take_evt().await {
//!         assert_eq!(&data, b"ping1234");
//!         break;
//!     }
//! }
//! # drop(server); Ok(()) }
//! ```

pub mod frame;
mod headers;
pub mod hpack;
mod session;

pub use frame::ErrorCode;
pub use headers::Headers;
pub use session::{Action, Event, Role, Session, SessionBuilder, SessionError};
