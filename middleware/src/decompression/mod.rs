//! Response decompression with HTTP.jl's `decompress` rules and a cap on the output size.
//!
//! - `decompress = None` (default): decode by `Content-Encoding` — gzip (HTTP.jl), plus
//!   deflate, br and zstd — and advertise them in `Accept-Encoding` when the request sets none.
//!   Each coding is a cargo feature of this crate (`gzip`, `deflate`, `br`, `zstd`, off by
//!   default as in tower-http; httpstack turns all four on): a coding left out is neither
//!   advertised nor decoded (its responses pass through encoded).
//! - `decompress = Some(true)`: decode even without `Content-Encoding` (as gzip, HTTP.jl's
//!   "regardless of Content-Encoding"; with the `gzip` feature).
//! - `decompress = Some(false)`: never decode, and advertise nothing.
//!
//! A decoded body that grows past `max_size` (64 MiB by default) fails with a
//! `DecompressionLimit` error instead of exhausting memory (a "zip bomb"). A decoded
//! response loses `Content-Encoding` and `Content-Length`, which described the encoded form.
//!
//! Hand-written rather than tower-http's `Decompression`: that one has no per-request
//! switch, no "always" mode and no output cap, all three of which HTTP.jl's rules need. The
//! decoders themselves are async-compression's.
//!
//! ```
//! use httpstack_middleware::decompression::DecompressionLayer;
//! use http_body_util::BodyExt;
//! use std::io::Write;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[cfg(feature = "gzip")]
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! gz.write_all(b"hello, gzip").unwrap();
//! let encoded = bytes::Bytes::from(gz.finish().unwrap());
//! let server = service_fn(move |_req: http::Request<()>| {
//!     let body = http_body_util::Full::new(encoded.clone());
//!     async move {
//!         Ok::<_, std::convert::Infallible>(http::Response::builder().header("content-encoding", "gzip").body(body).unwrap())
//!     }
//! });
//! let resp = DecompressionLayer::new().layer(server).oneshot(http::Request::new(())).await.unwrap();
//! assert!(resp.headers().get("content-encoding").is_none());
//! assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "hello, gzip");
//! # }
//! # #[cfg(not(feature = "gzip"))] fn main() {}
//! ```

mod body;
mod config;
mod encoding;
mod future;
mod layer;
mod service;

pub use body::DecompressionBody;
pub use config::{DecompressionConfig, DEFAULT_MAX_SIZE};
pub use encoding::Encoding;
pub use future::ResponseFuture;
pub use layer::DecompressionLayer;
pub use service::Decompression;
