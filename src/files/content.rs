//! [`serve_content`] (HTTP.jl `servecontent`) and the [`Content`] it serves.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::io::{self, SeekFrom};
use std::path::Path;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt};

use super::content_body::ContentBody;
use super::entity_tag::EntityTag;
use super::preconditions::{RequestConditions, Validators};
use super::representation::{method_not_allowed, status_response, Representation};
use crate::messages::sniff;
use crate::Body;

/// How many bytes [`sniff`] looks at.
pub(crate) const SNIFF_LEN: usize = 512;

/// A seekable reader [`Content`] can hold.
trait SeekableReader: AsyncRead + AsyncSeek + Send + Unpin {}
impl<R: AsyncRead + AsyncSeek + Send + Unpin> SeekableReader for R {}

enum Source {
    Bytes(Bytes),
    Reader(Box<dyn SeekableReader>),
}

/// What [`serve_content`] serves: bytes or a seekable reader, with what is known about
/// them (HTTP.jl `servecontent`'s source and keywords).
///
/// - **Content-Type**: the one given; else guessed from [`filename`](Content::filename)'s
///   extension; else sniffed from the first 512 bytes ([`sniff`]).
/// - **ETag**: the one given; for bytes, else a strong tag made from their length and a
///   hash of them; a reader without one has none.
/// - **Last-Modified**: the time given, or none.
///
/// A reader is served from its start (it is seeked), `Content-Length` is its length
/// found by seeking to the end, and it is read in chunks of at most 64 KiB, never whole.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use httpstack::files::{Content, EntityTag};
///
/// let page = Content::from_bytes("<h1>hi</h1>")
///     .filename("index.html")
///     .last_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
///     .etag(EntityTag::strong("page-v3")?);
/// # let _ = page;
/// # Ok::<(), httpstack::Error>(())
/// ```
pub struct Content {
    source: Source,
    content_type: Option<HeaderValue>,
    filename_type: Option<&'static str>,
    last_modified: Option<SystemTime>,
    etag: Option<EntityTag>,
}

impl Content {
    /// Content held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Content::new(Source::Bytes(bytes.into()))
    }

    /// Content read from a seekable reader (a `tokio::fs::File`, a `std::io::Cursor`...),
    /// streamed.
    pub fn from_reader<R>(reader: R) -> Self
    where
        R: AsyncRead + AsyncSeek + Send + Unpin + 'static,
    {
        Content::new(Source::Reader(Box::new(reader)))
    }

    fn new(source: Source) -> Self {
        Content {
            source,
            content_type: None,
            filename_type: None,
            last_modified: None,
            etag: None,
        }
    }

    /// Sets the `Content-Type`.
    pub fn content_type(mut self, content_type: HeaderValue) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// Guesses the `Content-Type` from this file name's extension (mime_guess), unless one
    /// is set.
    pub fn filename(mut self, name: impl AsRef<Path>) -> Self {
        self.filename_type = mime_guess::from_path(name).first_raw();
        self
    }

    /// Sets `Last-Modified`, used by `If-Modified-Since`, `If-Unmodified-Since` and
    /// `If-Range`.
    pub fn last_modified(mut self, time: SystemTime) -> Self {
        self.last_modified = Some(time);
        self
    }

    /// Sets the `ETag`, used by `If-Match`, `If-None-Match` and `If-Range`.
    pub fn etag(mut self, etag: EntityTag) -> Self {
        self.etag = Some(etag);
        self
    }
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Bytes(bytes) => format!("{} bytes", bytes.len()),
            Source::Reader(_) => "reader".to_owned(),
        };
        f.debug_struct("Content")
            .field("source", &source)
            .field("content_type", &self.content_type)
            .field("last_modified", &self.last_modified)
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl From<Bytes> for Content {
    fn from(bytes: Bytes) -> Self {
        Content::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for Content {
    fn from(bytes: Vec<u8>) -> Self {
        Content::from_bytes(bytes)
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content::from_bytes(text)
    }
}

impl From<&'static str> for Content {
    fn from(text: &'static str) -> Self {
        Content::from_bytes(text)
    }
}

impl From<&'static [u8]> for Content {
    fn from(bytes: &'static [u8]) -> Self {
        Content::from_bytes(bytes)
    }
}

/// Serves `content` as the response to `req` (HTTP.jl `servecontent`): a GET or HEAD gets
/// `200` with `Content-Type`, `Content-Length`, `Accept-Ranges`, and `ETag` /
/// `Last-Modified` when known; a single byte range `206` with `Content-Range`; the
/// conditional headers `304` or `412`, evaluated in RFC 9110 §13.2.2 order; an
/// unsatisfiable range `416`. Other methods get `405`.
///
/// The returned future owns what it needs from `req`, so it is `'static` and `Send`.
/// A reader that fails to seek or read before the response starts gets `500`.
///
/// ```
/// use httpstack::files::serve_content;
/// use http::{Request, StatusCode};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let req = Request::get("/").header("range", "bytes=0-4").body(()).unwrap();
/// let res = serve_content(&req, "hello world").await;
/// assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
/// assert_eq!(res.headers()["content-range"], "bytes 0-4/11");
/// # }
/// ```
pub fn serve_content<B>(
    req: &Request<B>,
    content: impl Into<Content>,
) -> impl Future<Output = Response<Body>> + Send + 'static {
    let conditions = RequestConditions::new(req.method(), req.headers());
    let content = content.into();
    async move {
        if let Some(response) = method_not_allowed(&conditions.method) {
            return response;
        }
        match respond(&conditions, content).await {
            Ok(response) => response,
            Err(err) => {
                tracing::warn!(error = %err, "serve_content: reading the content failed");
                status_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

async fn respond(conditions: &RequestConditions, content: Content) -> io::Result<Response<Body>> {
    let Content {
        source,
        content_type,
        filename_type,
        last_modified,
        etag,
    } = content;
    match source {
        Source::Bytes(bytes) => {
            let content_type = content_type
                .or_else(|| filename_type.map(HeaderValue::from_static))
                .unwrap_or_else(|| HeaderValue::from_static(sniff(&bytes)));
            let etag = etag.or_else(|| Some(bytes_etag(&bytes)));
            let representation = Representation {
                len: bytes.len() as u64,
                content_type,
                validators: Validators {
                    etag,
                    last_modified,
                },
            };
            let mut planned = representation.plan(conditions);
            if let Some((start, len)) = planned.body {
                // Both fit in `usize`: they come from a slice's length.
                let (start, len) = (start as usize, len as usize);
                *planned.response.body_mut() = Body::from(bytes.slice(start..start + len));
            }
            Ok(planned.response)
        }
        Source::Reader(mut reader) => {
            let len = reader.seek(SeekFrom::End(0)).await?;
            let content_type =
                match content_type.or_else(|| filename_type.map(HeaderValue::from_static)) {
                    Some(content_type) => content_type,
                    None => {
                        reader.seek(SeekFrom::Start(0)).await?;
                        let mut head = Vec::with_capacity(SNIFF_LEN);
                        (&mut reader)
                            .take(SNIFF_LEN as u64)
                            .read_to_end(&mut head)
                            .await?;
                        HeaderValue::from_static(sniff(&head))
                    }
                };
            let representation = Representation {
                len,
                content_type,
                validators: Validators {
                    etag,
                    last_modified,
                },
            };
            let mut planned = representation.plan(conditions);
            if let Some((start, len)) = planned.body {
                reader.seek(SeekFrom::Start(start)).await?;
                *planned.response.body_mut() = Body::wrap(ContentBody::new(reader, len));
            }
            Ok(planned.response)
        }
    }
}

/// A strong tag for in-memory bytes: their length and a 64-bit hash of them. Stable for
/// the life of the program (std's hasher may change between Rust releases; then the tags
/// change once, which costs clients one full download).
fn bytes_etag(bytes: &[u8]) -> EntityTag {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let tag = format!("{:x}-{:016x}", bytes.len(), hasher.finish());
    EntityTag::from_hex_digits(tag)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use http::header::{CONTENT_RANGE, CONTENT_TYPE, ETAG};
    use http::Method;
    use http_body_util::BodyExt;

    use super::*;

    fn get(headers: &[(&str, &str)]) -> Request<()> {
        let mut req = Request::get("/x");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(()).unwrap()
    }

    async fn text(res: Response<Body>) -> String {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn bytes_and_readers_agree() {
        let data = "The quick brown fox jumps over the lazy dog";
        type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, Option<&'a str>);
        let cases: &[Case] = &[
            (&[], 200, data, None),
            (
                &[("range", "bytes=4-8")],
                206,
                "quick",
                Some("bytes 4-8/43"),
            ),
            (&[("range", "bytes=-3")], 206, "dog", Some("bytes 40-42/43")),
            (
                &[("range", "bytes=40-")],
                206,
                "dog",
                Some("bytes 40-42/43"),
            ),
            (&[("range", "bytes=43-")], 416, "", Some("bytes */43")),
        ];
        for (headers, status, body, content_range) in cases {
            let sources = [
                Content::from_bytes(data),
                Content::from_reader(Cursor::new(data.as_bytes().to_vec())),
            ];
            for content in sources {
                let what = format!("{headers:?} {content:?}");
                let res = serve_content(&get(headers), content).await;
                assert_eq!(res.status().as_u16(), *status, "{what}");
                assert_eq!(
                    res.headers()
                        .get(CONTENT_RANGE)
                        .map(|v| v.to_str().unwrap()),
                    *content_range,
                    "{what}"
                );
                assert_eq!(text(res).await, *body, "{what}");
            }
        }
    }

    #[tokio::test]
    async fn content_type_given_guessed_or_sniffed() {
        let cases = [
            (
                Content::from_bytes("{}").content_type(HeaderValue::from_static("x/y")),
                "x/y",
            ),
            (Content::from_bytes("{}").filename("a.css"), "text/css"),
            (
                Content::from_bytes("<html><body>"),
                "text/html; charset=utf-8",
            ),
            (
                Content::from_reader(Cursor::new(b"%PDF-1.4 ...".to_vec())),
                "application/pdf",
            ),
        ];
        for (content, expected) in cases {
            let what = format!("{content:?}");
            let res = serve_content(&get(&[]), content).await;
            assert_eq!(res.headers()[CONTENT_TYPE], expected, "{what}");
        }
    }

    #[tokio::test]
    async fn bytes_get_a_strong_etag_that_revalidates() {
        let res = serve_content(&get(&[]), "v1").await;
        let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"'), "{etag}");
        let res = serve_content(&get(&[("if-none-match", &etag)]), "v1").await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        let res = serve_content(&get(&[("if-none-match", &etag)]), "v2").await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn only_get_and_head() {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/")
            .body(())
            .unwrap();
        let res = serve_content(&req, "x").await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()["allow"], "GET, HEAD");
    }
}
