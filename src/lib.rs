//! httpstack: HTTP.jl's whole feature set for Rust, built tower-native.
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod client;
pub mod messages;
pub mod server;
pub mod uri;

#[doc(inline)]
pub use httpstack_middleware as middleware;
pub use httpstack_middleware::{Body, BodySender, BoxError, Error, ErrorKind, Result, TimeoutKind};
