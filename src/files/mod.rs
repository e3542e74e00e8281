//! Static files: HTTP.jl's `servefile`, `fileserver` and `servecontent`.
//!
//! - [`serve_file`]`(&req, path)` answers a request with one file (or a directory's index
//!   file);
//! - [`file_server`]`(root)` is a tower service serving every file below `root`, with an
//!   [index file](FileServer::index_file) and an optional
//!   [SPA fallback](FileServer::spa_fallback);
//! - [`serve_content`]`(&req, content)` answers with bytes or a seekable reader
//!   ([`Content`]).
//!
//! All three follow the same rules. GET and HEAD only (else `405` with `Allow`). The
//! response carries `Content-Type`, `X-Content-Type-Options: nosniff`, `Content-Length`,
//! `Last-Modified`, a strong `ETag` and `Accept-Ranges: bytes`. A file's type comes from
//! its extension alone (mime_guess; text types with `charset=utf-8`, as HTTP.jl's), and an
//! unknown one is `application/octet-stream`: an uploaded `evil.custom` holding HTML is
//! never served as `text/html`. ([`serve_content`]'s bytes, which come from the
//! application, are [sniffed](crate::messages::sniff) when no name or type is given.)
//! [`file_server`] serves nothing from outside its root: no `..`, and no symbolic link
//! that resolves outside unless [`FileServer::follow_symlinks`] says so. The conditional headers are evaluated in RFC 9110 §13.2.2
//! order: `If-Match`, then `If-Unmodified-Since` (`412`), then `If-None-Match`, then
//! `If-Modified-Since` (`304`), then `Range` under `If-Range`. One byte range gets `206`
//! with `Content-Range`; a range past the end `416` with `Content-Range: bytes */len`;
//! a stale `If-Range`, a malformed `Range` or several ranges get the whole file (`200`),
//! which RFC 9110 §14.2 allows. Files are streamed in chunks of at most 64 KiB.
//!
//! ```
//! use httpstack::files::file_server;
//! use httpstack::server::serve;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let site = tempfile::tempdir()?;
//! std::fs::write(site.path().join("index.html"), "<h1>home</h1>")?;
//! std::fs::write(site.path().join("app.js"), "run()")?;
//!
//! let server = serve("127.0.0.1:0", file_server(site.path()).spa_fallback("index.html")).await?;
//! let base = format!("http://{}", server.local_addr());
//!
//! let js = httpstack::get(format!("{base}/app.js")).await?;
//! assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
//! assert_eq!(js.headers()["x-content-type-options"], "nosniff");
//! let part = httpstack::get(format!("{base}/app.js")).header("range", "bytes=0-2").await?;
//! assert_eq!((part.status().as_u16(), part.text().as_str()), (206, "run"));
//! // A client-side route gets the app; a missing asset does not.
//! assert_eq!(httpstack::get(format!("{base}/settings/profile")).await?.text(), "<h1>home</h1>");
//! let missing = httpstack::get(format!("{base}/missing.css")).status_exception(false).await?;
//! assert_eq!(missing.status().as_u16(), 404);
//! server.close().await;
//! # Ok(()) }
//! ```
//!
//! # What tower-http's ServeDir does and why it is not underneath
//!
//! tower-http's `ServeDir` / `ServeFile` stream files, guess types with mime_guess, serve
//! single ranges and evaluate `If-Modified-Since` / `If-Unmodified-Since`. They send no
//! `ETag` and so cannot answer `If-Match`, `If-None-Match` or `If-Range`; they answer an
//! unsafe path with 404 where HTTP.jl answers 400, a malformed or multiple `Range` with
//! 416, redirect directories with 307, and take only `index.html` as index file. Since
//! [`serve_content`] needs the RFC 9110 §13.2.2 evaluation and the range logic for readers
//! anyway, the file services use that same code instead of wrapping `ServeDir` and
//! patching its answers (which would stat each file twice). `ServeDir` is the peer the
//! `files_load` benchmark measures against.

mod byte_range;
mod content;
mod content_body;
mod entity_tag;
mod file_server;
mod preconditions;
mod representation;
mod request_path;
mod serve_file;

pub use content::{serve_content, Content};
pub use entity_tag::EntityTag;
pub use file_server::{file_server, FileServer, ResponseFuture};
pub use serve_file::{serve_file, serve_file_with, EtagFn, FileOptions};
