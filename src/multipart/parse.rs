//! `multipart/form-data` bodies read as a stream of parts (HTTP.jl
//! `parse_multipart_form`), with `multer` doing the RFC 7578 framing.

use std::fmt;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use http::Request;
use http_body_util::BodyExt;

use super::boundary::check_boundary;
use super::{MultipartError, MultipartLimits};
use crate::BoxError;

/// Reads `req`'s body as `multipart/form-data` (HTTP.jl `parse_multipart_form`), with
/// the [`MultipartLimits`] found in its extensions, else the defaults.
///
/// Fails at once when the `Content-Type` is not `multipart/form-data`, has no boundary
/// or an invalid one, or when a `Content-Length` is over the body limit; later errors
/// (limits, syntax, the body failing) come from [`MultipartForm::next_part`] and
/// [`Part::chunk`]. What is buffered stays near one read of the connection plus 64 KiB:
/// a part is never held whole unless [`Part::bytes`] asks for it.
///
/// ```
/// use httpstack::multipart::{parse_multipart_form, MultipartError};
/// use httpstack::Body;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), MultipartError> {
/// let body = "--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n--XX--\r\n";
/// let req = http::Request::post("/upload")
///     .header("content-type", "multipart/form-data; boundary=XX")
///     .body(Body::from(body))
///     .unwrap();
/// let mut form = parse_multipart_form(req)?;
/// while let Some(part) = form.next_part().await? {
///     assert_eq!(part.name(), Some("title"));
///     assert_eq!(part.bytes().await?, "holiday");
/// }
/// # Ok(()) }
/// ```
pub fn parse_multipart_form<B>(req: Request<B>) -> Result<MultipartForm, MultipartError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    let limits = MultipartLimits::of(&req);
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
    let (parts, body) = req.into_parts();
    let stream = body
        .into_data_stream()
        .map_ok(Into::<Bytes>::into)
        .map_err(Into::<BoxError>::into);
    MultipartForm::from_stream(&parts.headers, stream, limits)
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
    #[cfg(feature = "client")]
    /// A form over a body already read whole (a client [`Response`](crate::Response)'s).
    pub(crate) fn from_bytes(
        headers: &HeaderMap,
        body: Bytes,
        limits: MultipartLimits,
    ) -> Result<Self, MultipartError> {
        let stream = futures_util::stream::iter([Ok::<_, BoxError>(body)]);
        MultipartForm::from_stream(headers, stream, limits)
    }

    fn from_stream<S>(
        headers: &HeaderMap,
        stream: S,
        limits: MultipartLimits,
    ) -> Result<Self, MultipartError>
    where
        S: futures_util::Stream<Item = Result<Bytes, BoxError>> + Send + 'static,
    {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .ok_or(MultipartError::NotMultipart)?;
        let boundary = multer::parse_boundary(content_type).map_err(MultipartError::from_multer)?;
        check_boundary(&boundary)?;
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let max_body_bytes = limits.body_bytes_limit();
        if declared.is_some_and(|length| length > max_body_bytes) {
            return Err(MultipartError::BodyTooLarge {
                limit: max_body_bytes,
            });
        }
        let stream = PollBudget {
            inner: stream,
            taken: 0,
        };
        let constraints = multer::Constraints::new().size_limit(
            multer::SizeLimit::new()
                .whole_stream(max_body_bytes)
                .per_field(limits.part_bytes_limit()),
        );
        Ok(MultipartForm {
            inner: multer::Multipart::with_constraints(stream, boundary, constraints),
            parts: 0,
            limits,
        })
    }

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
        let index = self.parts;
        self.parts += 1;
        let limits = self.limits;
        if self.parts > limits.parts_limit() {
            return Err(MultipartError::TooManyParts {
                limit: limits.parts_limit(),
            });
        }
        let headers = field.headers();
        if headers.len() > limits.headers_limit() {
            return Err(MultipartError::TooManyHeaders {
                limit: limits.headers_limit(),
                part: index,
            });
        }
        // multer keeps no raw head: measure it as `Name: value\r\n` lines.
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        if header_bytes > limits.header_bytes_limit() {
            return Err(MultipartError::HeadersTooLarge {
                limit: limits.header_bytes_limit(),
                part: index,
            });
        }
        if field.name().map_or(0, str::len) > limits.name_bytes_limit() {
            return Err(MultipartError::NameTooLong {
                limit: limits.name_bytes_limit(),
                part: index,
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
    use crate::{Body, Error};
    use http::StatusCode;

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

    /// Each new limit at its edge: exactly at it is read, one over is refused.
    #[tokio::test]
    async fn header_and_name_limits_at_their_edge() {
        // `Content-Disposition: form-data; name="ab"` is 19 + 20 + 4 bytes as measured.
        const ONE: &str =
            "--XX\r\nContent-Disposition: form-data; name=\"ab\"\r\n\r\nv\r\n--XX--\r\n";
        const TWO: &str = "--XX\r\nContent-Disposition: form-data; name=\"ab\"\r\n\
            Content-Type: text/plain\r\n\r\nv\r\n--XX--\r\n";
        let base = MultipartLimits::new();
        let cases: &[(&str, MultipartLimits, Option<&str>)] = &[
            (ONE, base.max_header_bytes(43), None),
            (ONE, base.max_header_bytes(42), Some("HeadersTooLarge")),
            (TWO, base.max_headers(2), None),
            (TWO, base.max_headers(1), Some("TooManyHeaders")),
            (ONE, base.max_name_bytes(2), None),
            (ONE, base.max_name_bytes(1), Some("NameTooLong")),
        ];
        for (body, limits, expected) in cases {
            let ct = "multipart/form-data; boundary=XX";
            let result = async {
                let mut form = parse_multipart_form_with(request(ct, body), *limits)?;
                while let Some(part) = form.next_part().await? {
                    part.bytes().await?;
                }
                Ok::<_, MultipartError>(())
            }
            .await;
            let got = result.as_ref().err().map(|err| {
                assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE, "{err}");
                format!("{err:?}")
            });
            match (expected, &got) {
                (None, None) => {}
                (Some(variant), Some(got)) if got.starts_with(variant) => {
                    assert!(got.contains("part: 0"), "{got}");
                }
                _ => panic!("{limits:?}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn boundaries_are_checked() {
        let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
        for content_type in [long.as_str(), "multipart/form-data; boundary=\"a b \""] {
            let err = parse_multipart_form(request(content_type, BODY)).unwrap_err();
            assert!(
                matches!(err, MultipartError::InvalidBoundary { .. }),
                "{content_type}: {err}"
            );
        }
        let seventy = format!("multipart/form-data; boundary={}", "x".repeat(70));
        assert!(parse_multipart_form(request(&seventy, BODY)).is_ok());
    }
}
