//! `multipart/form-data` request bodies on the server (HTTP.jl `parse_multipart_form`),
//! read as a stream of parts.
//!
//! [`parse_multipart_form`] takes a request and returns a [`MultipartForm`]: call
//! [`next_part`](MultipartForm::next_part) for each [`Part`] (name, filename, content
//! type, headers) and read its data with [`chunk`](Part::chunk) as it arrives — a part is
//! never held whole unless [`bytes`](Part::bytes) asks for it: what is buffered stays
//! near one read of the connection plus 64 KiB. The parsing is the
//! well-kept `multer` crate (RFC 7578 / RFC 2046 framing, used by axum's `Multipart`);
//! this module adds HTTP.jl's entry point, the part-count limit, the up-front
//! `Content-Length` check and typed errors that map to HTTP statuses.
//!
//! [`MultipartLimits`] bounds the number of parts, each part's data and the whole body;
//! going one byte or one part over gives [`MultipartError::TooManyParts`],
//! [`PartTooLarge`](MultipartError::PartTooLarge) or
//! [`BodyTooLarge`](MultipartError::BodyTooLarge), whose [`status`](MultipartError::status)
//! is `413 Payload Too Large`. The limits come from the argument of
//! [`parse_multipart_form_with`], else from a `MultipartLimits` request extension (set by
//! a layer), else the defaults.
//!
//! ```
//! use httpstack::server::multipart::{parse_multipart_form_with, MultipartLimits};
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

use std::fmt;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;

use crate::{Body, BoxError, Error};

/// Limits on a multipart body; going over one is a [`MultipartError`] with status 413.
///
/// A body, part count or part size exactly at its limit is accepted. Also usable as a
/// request extension: [`parse_multipart_form`] reads it from there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultipartLimits {
    max_parts: usize,
    max_part_bytes: u64,
    max_body_bytes: u64,
}

impl MultipartLimits {
    /// The defaults: 128 parts, 16 MiB per part, 64 MiB in all.
    pub const fn new() -> Self {
        MultipartLimits {
            max_parts: 128,
            max_part_bytes: 16 << 20,
            max_body_bytes: 64 << 20,
        }
    }

    /// The most parts a body may have.
    pub const fn max_parts(mut self, parts: usize) -> Self {
        self.max_parts = parts;
        self
    }

    /// The most data bytes one part may have (its headers not counted).
    pub const fn max_part_bytes(mut self, bytes: u64) -> Self {
        self.max_part_bytes = bytes;
        self
    }

    /// The most bytes the whole body may have, boundaries and part headers included.
    pub const fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The part-count limit.
    pub const fn parts_limit(&self) -> usize {
        self.max_parts
    }

    /// The per-part limit in bytes.
    pub const fn part_bytes_limit(&self) -> u64 {
        self.max_part_bytes
    }

    /// The whole-body limit in bytes.
    pub const fn body_bytes_limit(&self) -> u64 {
        self.max_body_bytes
    }
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits::new()
    }
}

/// Why a multipart body was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The request's `Content-Type` is not `multipart/form-data` (415).
    #[error("the request body is not multipart/form-data")]
    NotMultipart,
    /// `multipart/form-data` without a `boundary` parameter (400).
    #[error("the multipart/form-data Content-Type has no boundary")]
    MissingBoundary,
    /// More parts than [`MultipartLimits::max_parts`] (413).
    #[error("the multipart body has more than {limit} parts")]
    TooManyParts {
        /// The limit.
        limit: usize,
    },
    /// A part's data is longer than [`MultipartLimits::max_part_bytes`] (413).
    #[error("multipart part {name:?} is larger than {limit} bytes")]
    PartTooLarge {
        /// The limit.
        limit: u64,
        /// The part's name, if it has one.
        name: Option<String>,
    },
    /// The body is longer than [`MultipartLimits::max_body_bytes`] (413).
    #[error("the multipart body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The body does not follow the multipart syntax (400).
    #[error("malformed multipart body")]
    Malformed(#[source] BoxError),
    /// Reading the request body failed (400): the client went away, or a server limit
    /// cut the body off.
    #[error("reading the multipart body failed")]
    Body(#[source] BoxError),
}

impl MultipartError {
    /// The status the client should get: 413 for a limit, 415 for another content type,
    /// 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            MultipartError::NotMultipart => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MultipartError::TooManyParts { .. }
            | MultipartError::PartTooLarge { .. }
            | MultipartError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            MultipartError::MissingBoundary
            | MultipartError::Malformed(_)
            | MultipartError::Body(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether a [`MultipartLimits`] limit was exceeded.
    pub fn is_limit(&self) -> bool {
        self.status() == StatusCode::PAYLOAD_TOO_LARGE
    }

    /// A response for the client: [`status`](Self::status) and the message as text.
    pub fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::from(self.to_string()));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }

    fn from_multer(err: multer::Error) -> Self {
        match err {
            multer::Error::FieldSizeExceeded { limit, field_name } => {
                MultipartError::PartTooLarge {
                    limit,
                    name: field_name,
                }
            }
            multer::Error::StreamSizeExceeded { limit } => MultipartError::BodyTooLarge { limit },
            multer::Error::StreamReadFailed(source) => MultipartError::Body(source),
            multer::Error::NoMultipart | multer::Error::DecodeContentType(_) => {
                MultipartError::NotMultipart
            }
            multer::Error::NoBoundary => MultipartError::MissingBoundary,
            other => MultipartError::Malformed(other.into()),
        }
    }
}

impl From<MultipartError> for Error {
    fn from(err: MultipartError) -> Self {
        Error::invalid_input(err.to_string()).with_source(err)
    }
}

/// Reads `req`'s body as `multipart/form-data` (HTTP.jl `parse_multipart_form`), with
/// the [`MultipartLimits`] found in its extensions, else the defaults.
///
/// Fails at once when the `Content-Type` is not multipart or has no boundary, or when a
/// `Content-Length` is over the body limit; later errors come from
/// [`MultipartForm::next_part`] and [`Part::chunk`].
pub fn parse_multipart_form<B>(req: Request<B>) -> Result<MultipartForm, MultipartError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    let limits = req
        .extensions()
        .get::<MultipartLimits>()
        .copied()
        .unwrap_or_default();
    parse_multipart_form_with(req, limits)
}

/// [`parse_multipart_form`] with explicit limits.
pub fn parse_multipart_form_with<B>(
    req: Request<B>,
    limits: MultipartLimits,
) -> Result<MultipartForm, MultipartError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .ok_or(MultipartError::NotMultipart)?;
    let boundary = multer::parse_boundary(content_type).map_err(MultipartError::from_multer)?;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_bytes) {
        return Err(MultipartError::BodyTooLarge {
            limit: limits.max_body_bytes,
        });
    }
    let stream = PollBudget {
        inner: req
            .into_body()
            .into_data_stream()
            .map_ok(Into::<Bytes>::into)
            .map_err(Into::<BoxError>::into),
        taken: 0,
    };
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limits.max_body_bytes)
            .per_field(limits.max_part_bytes),
    );
    Ok(MultipartForm {
        inner: multer::Multipart::with_constraints(stream, boundary, constraints),
        parts: 0,
        limits,
    })
}

/// How many body bytes multer may pull in one poll before it must hand out what it has.
const POLL_BUDGET: usize = 64 * 1024;

pin_project_lite::pin_project! {
    /// Ends multer's read loop every [`POLL_BUDGET`] bytes. multer reads the body until it
    /// is `Pending`, so a fast client could make it buffer megabytes of a part before the
    /// handler sees any; here it yields (waking itself at once) after each budget, and the
    /// handler's `chunk()` gets what was read so far. What is held stays near one budget
    /// plus one read of the connection.
    struct PollBudget<S> {
        #[pin]
        inner: S,
        taken: usize,
    }
}

impl<S> futures_util::Stream for PollBudget<S>
where
    S: futures_util::Stream<Item = Result<Bytes, BoxError>>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.taken >= POLL_BUDGET {
            *this.taken = 0;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let polled = this.inner.poll_next(cx);
        match &polled {
            std::task::Poll::Ready(Some(Ok(chunk))) => *this.taken += chunk.len(),
            std::task::Poll::Pending => *this.taken = 0,
            std::task::Poll::Ready(_) => {}
        }
        polled
    }
}

/// The parts of a multipart body, read one after the other as the body arrives.
pub struct MultipartForm {
    inner: multer::Multipart<'static>,
    parts: usize,
    limits: MultipartLimits,
}

impl MultipartForm {
    /// The next part, or `None` after the last. Data of the previous part not yet read
    /// is skipped.
    pub async fn next_part(&mut self) -> Result<Option<Part>, MultipartError> {
        let Some(field) = self
            .inner
            .next_field()
            .await
            .map_err(MultipartError::from_multer)?
        else {
            return Ok(None);
        };
        self.parts += 1;
        if self.parts > self.limits.max_parts {
            return Err(MultipartError::TooManyParts {
                limit: self.limits.max_parts,
            });
        }
        Ok(Some(Part { field }))
    }

    /// The limits in force.
    pub fn limits(&self) -> MultipartLimits {
        self.limits
    }
}

impl fmt::Debug for MultipartForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartForm")
            .field("parts_read", &self.parts)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// One part of a multipart body (HTTP.jl `Multipart`): its headers, then its data.
pub struct Part {
    field: multer::Field<'static>,
}

impl Part {
    /// The `name` of its `Content-Disposition: form-data` (RFC 7578 §4.2).
    pub fn name(&self) -> Option<&str> {
        self.field.name()
    }

    /// The `filename`, for a file part.
    pub fn filename(&self) -> Option<&str> {
        self.field.file_name()
    }

    /// The part's `Content-Type`, as sent (RFC 7578 §4.4: `text/plain` when absent).
    pub fn content_type(&self) -> Option<&str> {
        self.field
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }

    /// All of the part's headers.
    pub fn headers(&self) -> &HeaderMap {
        self.field.headers()
    }

    /// The next piece of the data as it arrives, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, MultipartError> {
        self.field
            .chunk()
            .await
            .map_err(MultipartError::from_multer)
    }

    /// The whole data, collected (bounded by [`MultipartLimits::max_part_bytes`]).
    pub async fn bytes(self) -> Result<Bytes, MultipartError> {
        self.field
            .bytes()
            .await
            .map_err(MultipartError::from_multer)
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name())
            .field("filename", &self.filename())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: &str, body: &'static str) -> Request<Body> {
        Request::post("/")
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    }

    const BODY: &str = "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\n\
        --XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\
        Content-Type: text/plain\r\n\r\ntwo two\r\n--XX--\r\n";

    #[tokio::test]
    async fn reads_parts() {
        let mut form =
            parse_multipart_form(request("multipart/form-data; boundary=XX", BODY)).unwrap();
        let a = form.next_part().await.unwrap().unwrap();
        assert_eq!(
            (a.name(), a.filename(), a.content_type()),
            (Some("a"), None, None)
        );
        assert_eq!(a.bytes().await.unwrap(), "one");
        let f = form.next_part().await.unwrap().unwrap();
        assert_eq!(
            (f.name(), f.filename(), f.content_type()),
            (Some("f"), Some("f.txt"), Some("text/plain"))
        );
        assert_eq!(f.bytes().await.unwrap(), "two two");
        assert!(form.next_part().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn limits_from_a_request_extension() {
        let mut req = request("multipart/form-data; boundary=XX", BODY);
        req.extensions_mut()
            .insert(MultipartLimits::new().max_parts(1));
        let mut form = parse_multipart_form(req).unwrap();
        assert_eq!(form.limits().parts_limit(), 1);
        form.next_part().await.unwrap().unwrap();
        let err = form.next_part().await.unwrap_err();
        assert!(
            matches!(err, MultipartError::TooManyParts { limit: 1 }),
            "{err}"
        );
        assert!(err.is_limit());
        let err: Error = err.into();
        assert!(err.is_invalid_input(), "{err}");
    }

    #[tokio::test]
    async fn typed_errors() {
        let cases: &[(&str, &str, MultipartLimits, StatusCode)] = &[
            (
                "text/plain",
                BODY,
                MultipartLimits::new(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "multipart/form-data",
                BODY,
                MultipartLimits::new(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "multipart/form-data; boundary=XX",
                BODY,
                MultipartLimits::new().max_parts(1),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "multipart/form-data; boundary=XX",
                BODY,
                MultipartLimits::new().max_part_bytes(6),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "multipart/form-data; boundary=XX",
                BODY,
                MultipartLimits::new().max_body_bytes(20),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "multipart/form-data; boundary=XX",
                "--XX\r\nno headers end",
                MultipartLimits::new(),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (content_type, body, limits, status) in cases {
            let what = format!("{content_type} {limits:?}");
            let result = async {
                let mut form = parse_multipart_form_with(request(content_type, body), *limits)?;
                while let Some(part) = form.next_part().await? {
                    part.bytes().await?;
                }
                Ok::<_, MultipartError>(())
            }
            .await;
            let err = result.expect_err(&what);
            assert_eq!(err.status(), *status, "{what}: {err}");
        }
    }
}
