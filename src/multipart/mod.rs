//! Multipart bodies (RFC 2046 §5.1), both ways: HTTP.jl's `Form`, `Multipart` and
//! `Batch` to send, `parse_multipart_form` and `parse_multipart_mixed` to read.
//!
//! | | to send | to read |
//! |---|---|---|
//! | `multipart/form-data` (RFC 7578): uploads | a [`Form`] of fields and [`Multipart`] files, sent with [`RequestBuilder::multipart`](crate::RequestBuilder::multipart) | [`parse_multipart_form`] on a server request, [`Response::multipart_form`](crate::Response::multipart_form): a stream of [`Part`]s |
//! | `multipart/mixed`: batch APIs (OData `$batch`, Google batch) | a [`Batch`] of [`BodyPart`]s, nested batches allowed, sent with [`RequestBuilder::multipart_mixed`](crate::RequestBuilder::multipart_mixed) | [`parse_multipart_mixed`] on bytes, [`read_multipart_mixed`] on a server request, [`Response::multipart_mixed`](crate::Response::multipart_mixed): a `Vec` of [`BodyPart`]s, [`BodyPart::parts`] for nested ones |
//!
//! Every part is framed as RFC 2046 §5.1.1 says (RFC 7578 §4 adds `Content-Disposition`
//! for a form):
//!
//! ```text
//! preamble, skipped\r\n
//! --BOUNDARY\r\n
//! Content-Disposition: form-data; name="field"; filename="cat.png"\r\n
//! Content-Type: image/png\r\n
//! \r\n
//! <data>\r\n
//! --BOUNDARY--\r\n
//! epilogue, skipped
//! ```
//!
//! A boundary is 1 to 70 characters from RFC 2046's set; builders draw a random one of
//! 32 hex digits or check the one given, and parsers refuse any other with
//! [`MultipartError::InvalidBoundary`].
//!
//! A form is streamed both ways: a form with reader or file parts is read as it is sent,
//! and the server reads each part as it arrives. A batch is built and read whole, as its
//! parts are small requests and answers. Either way [`MultipartLimits`] bounds what a
//! peer can make the parser hold or do (body size, part count, header block size and
//! count, name length, nesting depth), and a [`MultipartError`] says which rule was
//! broken, where, and the HTTP status to answer with.
//!
//! Forms are parsed by the `multer` crate (streaming, used by axum's `Multipart`).
//! `multipart/mixed` is parsed here, as no crate fits: `multer` reads only
//! `multipart/form-data`, and gives neither a part's raw header block (for its limit)
//! nor nested parts; a batch is already one `Bytes`, so parts are slices of it.
//!
//! # Sending a form
//!
//! A form of in-memory parts becomes a full, replayable [`Body`](crate::Body) (retries
//! and redirects can resend it); a form with reader or file parts a streamed one.
//!
//! ```
//! use httpstack::multipart::{Form, Multipart};
//!
//! let form = Form::new()
//!     .text("user", "ada")
//!     .part("avatar", Multipart::new("cat.png", &b"\x89PNG\r\n\x1a\n..."[..]));
//! assert!(form.content_type().starts_with("multipart/form-data; boundary="));
//! let length = form.content_length();
//! let body: httpstack::Body = form.into_body();
//! assert_eq!(body.as_bytes().map(|b| b.len() as u64), length);
//! ```
//!
//! # Reading a form in a handler
//!
//! [`parse_multipart_form`] returns a [`MultipartForm`]: call
//! [`next_part`](MultipartForm::next_part) for each [`Part`] (name, filename, content
//! type, headers) and read its data with [`chunk`](Part::chunk) as it arrives. The limits
//! come from the argument of [`parse_multipart_form_with`], else from a
//! `MultipartLimits` request extension (set by a layer), else the defaults.
//!
//! ```
//! use httpstack::multipart::{parse_multipart_form_with, MultipartLimits};
//! use httpstack::server::{handler_fn, serve};
//! use httpstack::{Body, Form};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! let limits = MultipartLimits::new().max_parts(10).max_part_bytes(1 << 20);
//! let server = serve("127.0.0.1:0", handler_fn(move |req| async move {
//!     let mut form = match parse_multipart_form_with(req, limits) {
//!         Ok(form) => form,
//!         Err(err) => return err.into_response(),
//!     };
//!     let mut summary = String::new();
//!     loop {
//!         let mut part = match form.next_part().await {
//!             Ok(Some(part)) => part,
//!             Ok(None) => break,
//!             Err(err) => return err.into_response(),
//!         };
//!         let mut len = 0;
//!         loop {
//!             match part.chunk().await {
//!                 Ok(Some(chunk)) => len += chunk.len(),
//!                 Ok(None) => break,
//!                 Err(err) => return err.into_response(),
//!             }
//!         }
//!         summary += &format!("{}={len};", part.name().unwrap_or("?"));
//!     }
//!     http::Response::new(Body::from(summary))
//! }))
//! .await?;
//!
//! let form = Form::new().text("title", "holiday").bytes("photo", vec![0u8; 5000]);
//! let url = format!("http://{}/upload", server.local_addr());
//! let resp = httpstack::post(url).multipart(form).await?;
//! assert_eq!(resp.text(), "title=7;photo=5000;");
//! server.close().await;
//! # Ok(()) }
//! ```
//!
//! # Sending a batch, reading the answer
//!
//! ```
//! use http::header::{HeaderValue, CONTENT_TYPE};
//! use httpstack::multipart::{read_multipart_mixed, Batch, BodyPart};
//! use httpstack::server::{handler_fn, serve};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), httpstack::Error> {
//! // A batch endpoint: one answer part per request part.
//! let server = serve("127.0.0.1:0", handler_fn(|req| async move {
//!     let parts = match read_multipart_mixed(req).await {
//!         Ok(parts) => parts,
//!         Err(err) => return err.into_response(),
//!     };
//!     let mut answer = Batch::new();
//!     for part in &parts {
//!         answer = answer.part(BodyPart::new(format!("got {} bytes", part.body().len())));
//!     }
//!     let content_type = HeaderValue::from_str(&answer.content_type()).unwrap();
//!     let mut response = http::Response::new(answer.into_body());
//!     response.headers_mut().insert(CONTENT_TYPE, content_type);
//!     response
//! }))
//! .await?;
//!
//! let http = HeaderValue::from_static("application/http");
//! let batch = Batch::new()
//!     .part(BodyPart::new("GET /users/1 HTTP/1.1\r\n\r\n").header(CONTENT_TYPE, http.clone()))
//!     .part(BodyPart::new("GET /users/2 HTTP/1.1\r\n\r\n").header(CONTENT_TYPE, http));
//! let url = format!("http://{}/$batch", server.local_addr());
//! let resp = httpstack::post(url).multipart_mixed(batch).await?;
//! let answers = resp.multipart_mixed()?;
//! assert_eq!(answers.len(), 2);
//! assert_eq!(answers[0].text(), "got 25 bytes");
//! server.close().await;
//! # Ok(()) }
//! ```

mod boundary;
mod error;
mod form;
mod limits;
mod mixed;
mod parse;

pub use error::MultipartError;
pub use form::{Form, Multipart};
pub use limits::MultipartLimits;
#[cfg(feature = "client")]
pub(crate) use mixed::parse_message;
pub use mixed::{
    parse_multipart_mixed, parse_multipart_mixed_with, read_multipart_mixed,
    read_multipart_mixed_with, Batch, BodyPart,
};
pub use parse::{parse_multipart_form, parse_multipart_form_with, MultipartForm, Part};
