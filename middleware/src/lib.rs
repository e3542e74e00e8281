//! The tower layers of httpstack, usable on their own around any
//! `tower::Service<http::Request<B>>`: a hyper-util client, an axum app, a bare service.
//!
//! Each layer is one of HTTP.jl's client or server layers. Per-request options travel as
//! typed request extensions (a layer's `...Config` type): the layer holds the default, a
//! request that carries the config overrides it.
//!
//! ```
//! use httpstack_middleware::Body;
//! let _ = Body::empty();
//! ```
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod access_log;
pub mod body;
#[cfg(feature = "cookies")]
pub mod cookies;
pub mod cross_origin;
pub mod decompression;
pub mod error;
pub mod handler_timeout;
pub mod headers;
pub mod log_errors;
pub mod observe;
pub mod redirect;
pub mod retry;
pub mod status;
pub mod timeout;
pub mod trailers;

pub use body::{Body, BodySender, TryCloneBody};
pub use error::{BoxError, CloseFrame, Delivery, Error, ErrorKind, Result, TimeoutKind};
