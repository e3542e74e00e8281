//! HTTP messages: header lookups, status text, content sniffing and the HTTP/1 parser
//! interface — HTTP.jl's `header` / `hasheader` / `headercontains`, `statustext`, `sniff` /
//! `isjson`, and its `Parsers` (`parse_request_head`, `write_request_head`, ...).
//!
//! The header helpers work on `http` types ([`http::HeaderMap`], [`http::Request`],
//! [`http::Response`] and their `Parts`) through the [`HeaderExt`] extension trait, so they
//! apply to any tower or hyper message, not only httpstack's.
//!
//! ```
//! use httpstack::messages::{sniff, status_text, HeaderExt};
//!
//! let res = http::Response::builder()
//!     .header("content-type", "text/html")
//!     .header("vary", "Accept, Origin")
//!     .body(())?;
//! assert_eq!(res.header("Content-Type"), Some("text/html"));
//! assert_eq!(res.header_or("X-Missing", "none"), "none");
//! assert!(res.header_contains("Vary", "origin"));
//!
//! assert_eq!(status_text(404), "Not Found");
//! assert_eq!(sniff(b"<html><body>Hello world!!</body></html>"), "text/html; charset=utf-8");
//! assert_eq!(sniff(br#"{"a": -1.0}"#), "application/json; charset=utf-8");
//! # Ok::<(), http::Error>(())
//! ```

mod headers;
mod parser;
mod sniff;
mod status_text;

pub use headers::{canonicalize_header_name, HeaderExt};
#[cfg(feature = "server")]
pub(crate) use parser::check_target_form;
pub use parser::{
    parse_request_head, parse_response_head, write_request_head, write_response_head, HeadPart,
    ParseError, MAX_HEADERS,
};
pub use sniff::{is_json, sniff};
pub use status_text::status_text;
