//! The connection machinery under the public server API: accepting, per-connection
//! protocol detection and hyper's connection drivers, the request-body bounds, the
//! HTTP/1 head rules hyper leaves to a server, pipelining, timeouts and shutdown.
//!
//! Nothing here is public; [`ServerBuilder`](super::ServerBuilder) wires it together.

pub(super) mod accept;
pub(super) mod activity;
pub(super) mod catch_failure;
pub(super) mod connection;
pub(super) mod connection_count;
pub(crate) mod connection_io;
pub(super) mod connection_service;
pub(super) mod listener;
pub(super) mod pipelining;
pub(super) mod request_body;
pub(super) mod request_head;
pub(super) mod shutdown;
pub(super) mod stream_deadline;
pub(super) mod timeouts;
