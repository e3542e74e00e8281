//! `multipart/mixed` bodies for batch APIs: HTTP.jl 2.x's `Batch` and
//! `parse_multipart_mixed`, with nested parts.
//!
//! Hand-written rather than `multer`'s: multer reads `multipart/form-data` only, streams
//! (a batch is read whole) and does not give a part's raw header block or nesting.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::Request;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use memchr::memmem;

use super::boundary::{check_boundary, content_type_value, multipart_boundary, random_boundary};
use super::{MultipartError, MultipartLimits};
use crate::{Body, BoxError};

/// A `multipart/mixed` body of parts, each with its own headers and body (HTTP.jl
/// `Batch`), for batch APIs (OData `$batch`, Google batch requests).
///
/// Parts are framed as RFC 2046 §5.1.1 says: `--BOUNDARY\r\n`, the part's headers, a
/// blank line, its body, `\r\n`, and `--BOUNDARY--\r\n` after the last. A [`Batch`] can
/// itself be a part (`multipart/mixed` inside `multipart/mixed`). The body is built in
/// memory, so a request carrying it can be retried and redirected.
///
/// ```
/// use http::header::{HeaderValue, CONTENT_TYPE};
/// use httpstack::multipart::{parse_multipart_mixed, Batch, BodyPart};
///
/// let get = BodyPart::new("GET /users/1 HTTP/1.1\r\n\r\n")
///     .header(CONTENT_TYPE, HeaderValue::from_static("application/http"));
/// let changeset = Batch::new().part(
///     BodyPart::new("{\"name\": \"ada\"}")
///         .header(CONTENT_TYPE, HeaderValue::from_static("application/json")),
/// );
/// let batch = Batch::new().part(get).part(changeset);
///
/// let content_type = batch.content_type(); // multipart/mixed; boundary=...
/// let body = batch.to_bytes();
/// assert_eq!(body.len() as u64, batch.content_length());
///
/// // What the other side reads:
/// let parts = parse_multipart_mixed(&content_type, body)?;
/// assert_eq!(parts[0].content_type(), Some("application/http"));
/// assert_eq!(parts[1].parts()?[0].text(), "{\"name\": \"ada\"}");
/// # Ok::<(), httpstack::multipart::MultipartError>(())
/// ```
#[derive(Clone)]
pub struct Batch {
    boundary: String,
    /// Whether the boundary was drawn here (and may be drawn again) or given.
    random: bool,
    parts: Vec<BodyPart>,
}

impl Batch {
    /// An empty batch with a random boundary of 32 hex digits. Should a part contain
    /// `--` and the boundary, another boundary is drawn.
    pub fn new() -> Self {
        Batch {
            boundary: random_boundary(),
            random: true,
            parts: Vec::new(),
        }
    }

    /// An empty batch with the given boundary: 1 to 70 characters from RFC 2046
    /// §5.1.1's set (letters, digits, `'()+_,-./:=?` and space, not ending in a space),
    /// else [`MultipartError::InvalidBoundary`]. No part's body may contain `--` and
    /// the boundary: the boundary is kept as given.
    pub fn with_boundary(boundary: impl Into<String>) -> Result<Self, MultipartError> {
        let boundary = boundary.into();
        check_boundary(&boundary)?;
        Ok(Batch {
            boundary,
            random: false,
            parts: Vec::new(),
        })
    }

    /// Adds a part: a [`BodyPart`], or a `Batch` (a nested `multipart/mixed` part).
    pub fn part(mut self, part: impl Into<BodyPart>) -> Self {
        let part = part.into();
        let collides = self.random && contains_delimiter(&part.body, &self.boundary);
        self.parts.push(part);
        while collides
            && self
                .parts
                .iter()
                .any(|part| contains_delimiter(&part.body, &self.boundary))
        {
            self.boundary = random_boundary();
        }
        self
    }

    /// The boundary between parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The parts added so far.
    pub fn parts(&self) -> &[BodyPart] {
        &self.parts
    }

    /// The value for the request's Content-Type header (HTTP.jl `content_type(batch)`),
    /// `multipart/mixed; boundary=...`, the boundary quoted when it is not a token.
    pub fn content_type(&self) -> String {
        content_type_value("mixed", &self.boundary)
    }

    /// The body's length in bytes.
    pub fn content_length(&self) -> u64 {
        let delimiter = 2 + self.boundary.len();
        let parts: usize = self
            .parts
            .iter()
            .map(|part| {
                let headers: usize = part
                    .headers
                    .iter()
                    .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
                    .sum();
                delimiter + 2 + headers + 2 + part.body.len() + 2
            })
            .sum();
        (parts + delimiter + 4) as u64
    }

    /// The body (HTTP.jl `read(batch)`).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.content_length() as usize);
        for part in &self.parts {
            put_delimiter(&mut out, &self.boundary);
            out.put_slice(b"\r\n");
            for (name, value) in &part.headers {
                put_header_name(&mut out, name);
                out.put_slice(b": ");
                out.put_slice(value.as_bytes());
                out.put_slice(b"\r\n");
            }
            out.put_slice(b"\r\n");
            out.put_slice(&part.body);
            out.put_slice(b"\r\n");
        }
        put_delimiter(&mut out, &self.boundary);
        out.put_slice(b"--\r\n");
        out.freeze()
    }

    /// The body as a request body: full bytes, so replayable.
    pub fn into_body(self) -> Body {
        Body::from(self.to_bytes())
    }
}

impl Default for Batch {
    fn default() -> Self {
        Batch::new()
    }
}

impl From<Batch> for Body {
    fn from(batch: Batch) -> Self {
        batch.into_body()
    }
}

/// A nested batch: a part whose Content-Type is the batch's.
impl From<Batch> for BodyPart {
    fn from(batch: Batch) -> Self {
        let content_type = HeaderValue::from_str(&batch.content_type());
        let part = BodyPart::new(batch.to_bytes());
        match content_type {
            Ok(content_type) => part.header(CONTENT_TYPE, content_type),
            // A checked boundary is visible ASCII and space: always a valid value.
            Err(_) => part,
        }
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts)
            .finish()
    }
}

/// Whether `--boundary` occurs in `data`, where it could end the part early.
fn contains_delimiter(data: &[u8], boundary: &str) -> bool {
    let mut dash = Vec::with_capacity(boundary.len() + 2);
    dash.extend_from_slice(b"--");
    dash.extend_from_slice(boundary.as_bytes());
    memmem::find(data, &dash).is_some()
}

fn put_delimiter(out: &mut BytesMut, boundary: &str) {
    out.put_slice(b"--");
    out.put_slice(boundary.as_bytes());
}

/// Header names in their usual capitals (`Content-Type`, `Content-Id`): case does not
/// matter to MIME (RFC 2045 §3), but some batch servers read them as written.
fn put_header_name(out: &mut BytesMut, name: &HeaderName) {
    let mut word_start = true;
    for &b in name.as_str().as_bytes() {
        out.put_u8(if word_start {
            b.to_ascii_uppercase()
        } else {
            b
        });
        word_start = b == b'-';
    }
}

/// One part of a multipart body: its headers and its body bytes (HTTP.jl `Multipart`,
/// as `parse_multipart_mixed` returns it). Built with [`BodyPart::new`] for a [`Batch`],
/// or parsed.
///
/// A parsed body is returned as sent: a `Content-Transfer-Encoding` (base64,
/// quoted-printable) is not decoded, as HTTP sends 8bit and binary bodies as they are
/// (RFC 9110 §8.4 has no transfer encodings inside content).
///
/// ```
/// use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
/// use httpstack::multipart::BodyPart;
///
/// let part = BodyPart::new("GET /a HTTP/1.1\r\n\r\n")
///     .header(CONTENT_TYPE, HeaderValue::from_static("application/http"))
///     .header(HeaderName::from_static("content-id"), HeaderValue::from_static("<1>"));
/// assert_eq!(part.content_type(), Some("application/http"));
/// assert!(!part.is_multipart());
/// ```
#[derive(Clone)]
pub struct BodyPart {
    headers: HeaderMap,
    body: Bytes,
    /// How many multipart levels were parsed to reach it: 0 for a part built here, 1 for
    /// a part of a parsed body, 2 for a part of one of those...
    depth: usize,
    /// Where its body starts in the outermost body parsed (0 for a part built here).
    offset: usize,
    /// The limits it was parsed with, for [`BodyPart::parts`].
    limits: MultipartLimits,
}

impl BodyPart {
    /// A part without headers (read as `text/plain; charset=us-ascii`, RFC 2046 §5.1).
    pub fn new(body: impl Into<Bytes>) -> Self {
        BodyPart {
            headers: HeaderMap::new(),
            body: body.into(),
            depth: 0,
            offset: 0,
            limits: MultipartLimits::new(),
        }
    }

    /// Adds a header (after any of the same name).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The part's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The part's headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The part's `Content-Type`, if it has one that is visible ASCII.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }

    /// Whether the part's `Content-Type` is `multipart/*`, so [`BodyPart::parts`] can
    /// read it.
    pub fn is_multipart(&self) -> bool {
        self.content_type().is_some_and(|content_type| {
            content_type
                .trim_start()
                .get(..10)
                .is_some_and(|kind| kind.eq_ignore_ascii_case("multipart/"))
        })
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body (a cheap reference-counted clone).
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// The body as text; invalid UTF-8 is replaced by U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The parts of a part whose `Content-Type` is `multipart/*` (a nested batch, an
    /// OData changeset), with the limits its body was parsed with; one level deeper,
    /// so past [`MultipartLimits::max_depth`] it is [`MultipartError::TooDeep`]. A part
    /// that is not multipart gives [`MultipartError::NotMultipart`].
    ///
    /// ```
    /// use httpstack::multipart::{parse_multipart_mixed, Batch, BodyPart};
    ///
    /// let inner = Batch::new().part(BodyPart::new("a")).part(BodyPart::new("b"));
    /// let outer = Batch::new().part(inner);
    /// let parts = parse_multipart_mixed(&outer.content_type(), outer.to_bytes())?;
    /// assert!(parts[0].is_multipart());
    /// let nested = parts[0].parts()?;
    /// assert_eq!((nested[0].text(), nested[1].text()), ("a".into(), "b".into()));
    /// # Ok::<(), httpstack::multipart::MultipartError>(())
    /// ```
    pub fn parts(&self) -> Result<Vec<BodyPart>, MultipartError> {
        let content_type = self.content_type().ok_or(MultipartError::NotMultipart)?;
        let boundary = multipart_boundary(content_type)?;
        parse_level(
            &self.body,
            &boundary,
            self.limits,
            self.depth + 1,
            self.offset,
        )
    }
}

impl fmt::Debug for BodyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyPart")
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Parses a `multipart/mixed` body (HTTP.jl `parse_multipart_mixed(content_type, body)`)
/// with the default [`MultipartLimits`]: its parts, in order, each with its headers and
/// body. Any `multipart/*` type is read this way (RFC 2046 §5.1.3: an unknown subtype is
/// read as `mixed`); the preamble and epilogue are skipped.
///
/// Parsing follows RFC 2046 §5.1.1 to the byte: a delimiter is a line of `--` and the
/// boundary at the body's start or after a CRLF, then optional spaces or tabs, then CRLF;
/// the CRLF before a delimiter belongs to it, not to the part; the body must end with
/// `--boundary--`. Part headers are parsed as MIME headers (RFC 5322 §2.2: folded lines
/// are unfolded).
///
/// ```
/// use httpstack::multipart::parse_multipart_mixed;
///
/// let body = "preamble\r\n\
///     --b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
///     --b\r\n\r\nno headers\r\n\
///     --b--\r\nepilogue";
/// let parts = parse_multipart_mixed("multipart/mixed; boundary=b", body)?;
/// assert_eq!(parts.len(), 2);
/// assert_eq!(parts[0].content_type(), Some("text/plain"));
/// assert_eq!(parts[0].body(), "hello");
/// assert!(parts[1].headers().is_empty());
/// assert_eq!(parts[1].body(), "no headers");
/// # Ok::<(), httpstack::multipart::MultipartError>(())
/// ```
pub fn parse_multipart_mixed(
    content_type: &str,
    body: impl Into<Bytes>,
) -> Result<Vec<BodyPart>, MultipartError> {
    parse_multipart_mixed_with(content_type, body, MultipartLimits::new())
}

/// [`parse_multipart_mixed`] with explicit limits.
pub fn parse_multipart_mixed_with(
    content_type: &str,
    body: impl Into<Bytes>,
    limits: MultipartLimits,
) -> Result<Vec<BodyPart>, MultipartError> {
    let boundary = multipart_boundary(content_type)?;
    parse_level(&body.into(), &boundary, limits, 1, 0)
}

/// Reads `req`'s body and parses it as `multipart/mixed` (HTTP.jl
/// `parse_multipart_mixed(request)`), with the [`MultipartLimits`] found in its
/// extensions, else the defaults.
///
/// The `Content-Type` is checked before the body is read, and a `Content-Length` over
/// [`MultipartLimits::max_body_bytes`] refused at once; reading stops at that limit.
///
/// ```
/// use httpstack::multipart::read_multipart_mixed;
/// use httpstack::server::handler_fn;
///
/// let batch_handler = handler_fn(|req| async move {
///     match read_multipart_mixed(req).await {
///         Ok(parts) => http::Response::new(httpstack::Body::from(format!("{} parts", parts.len()))),
///         Err(err) => err.into_response(),
///     }
/// });
/// ```
pub async fn read_multipart_mixed<B>(req: Request<B>) -> Result<Vec<BodyPart>, MultipartError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let limits = MultipartLimits::of(&req);
    read_multipart_mixed_with(req, limits).await
}

/// [`read_multipart_mixed`] with explicit limits.
pub async fn read_multipart_mixed_with<B>(
    req: Request<B>,
    limits: MultipartLimits,
) -> Result<Vec<BodyPart>, MultipartError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let (head, body) = req.into_parts();
    let boundary = boundary_of(&head.headers)?;
    let limit = limits.body_bytes_limit();
    let declared = head
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(MultipartError::BodyTooLarge { limit });
    }
    let body = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
        .await
        .map_err(|err| {
            if err.is::<LengthLimitError>() {
                MultipartError::BodyTooLarge { limit }
            } else {
                MultipartError::Body(err)
            }
        })?
        .to_bytes();
    parse_level(&body, &boundary, limits, 1, 0)
}

/// The parts of a message already read whole (a client [`Response`](crate::Response)).
#[cfg(feature = "client")]
pub(crate) fn parse_message(
    headers: &HeaderMap,
    body: Bytes,
    limits: MultipartLimits,
) -> Result<Vec<BodyPart>, MultipartError> {
    let boundary = boundary_of(headers)?;
    parse_level(&body, &boundary, limits, 1, 0)
}

fn boundary_of(headers: &HeaderMap) -> Result<String, MultipartError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .ok_or(MultipartError::NotMultipart)?;
    multipart_boundary(content_type)
}

/// Whether a delimiter line opens the next part or closes the body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delimiter {
    Open,
    Close,
}

/// The parts of `body`, parsed as level `depth`; `base` is where `body` starts in the
/// outermost body, for error offsets.
fn parse_level(
    body: &Bytes,
    boundary: &str,
    limits: MultipartLimits,
    depth: usize,
    base: usize,
) -> Result<Vec<BodyPart>, MultipartError> {
    if depth > limits.depth_limit() {
        return Err(MultipartError::TooDeep {
            limit: limits.depth_limit(),
        });
    }
    if body.len() as u64 > limits.body_bytes_limit() {
        return Err(MultipartError::BodyTooLarge {
            limit: limits.body_bytes_limit(),
        });
    }
    // RFC 2046 §5.1.1: delimiter := CRLF dash-boundary; the first may start the body.
    let mut delimiter = Vec::with_capacity(boundary.len() + 4);
    delimiter.extend_from_slice(b"\r\n--");
    delimiter.extend_from_slice(boundary.as_bytes());
    let finder = memmem::Finder::new(&delimiter);
    let at_start = body
        .starts_with(&delimiter[2..])
        .then(|| delimiter_line(body, delimiter.len() - 2))
        .flatten();
    let first = at_start.or_else(|| next_delimiter(body, 0, &finder).map(|(_, line)| line));
    let Some((mut kind, mut pos)) = first else {
        return Err(MultipartError::syntax(
            "no delimiter line (--boundary)",
            None,
            base + body.len(),
        ));
    };
    let mut parts = Vec::new();
    while kind == Delimiter::Open {
        let index = parts.len();
        let Some((end, (next_kind, next_pos))) = next_delimiter(body, pos, &finder) else {
            return Err(MultipartError::syntax(
                "no close delimiter (--boundary--) after the last part",
                Some(index),
                base + body.len(),
            ));
        };
        if index == limits.parts_limit() {
            return Err(MultipartError::TooManyParts {
                limit: limits.parts_limit(),
            });
        }
        parts.push(parse_part(
            body.slice(pos..end),
            index,
            depth,
            base + pos,
            limits,
        )?);
        (kind, pos) = (next_kind, next_pos);
    }
    Ok(parts)
}

/// The next delimiter line (`CRLF--boundary`) at or after `from`: where it starts (the
/// part before it ends there), its kind, and where the line after it starts.
fn next_delimiter(
    body: &[u8],
    from: usize,
    finder: &memmem::Finder<'_>,
) -> Option<(usize, (Delimiter, usize))> {
    let mut search = from;
    while let Some(found) = finder.find(body.get(search..)?) {
        let start = search + found;
        let after = start + finder.needle().len();
        if let Some(line) = delimiter_line(body, after) {
            return Some((start, line));
        }
        // `--boundary` followed by other text is data (RFC 2046 §5.1.1 makes the
        // sender keep it out; Python's email parser reads it as data too).
        search = start + 1;
    }
    None
}

/// What follows `--boundary` at `after`, if it makes a delimiter line: `--` for the
/// close delimiter, then transport padding (spaces, tabs), then CRLF (or the end of
/// the body, after a close delimiter). Returns the kind and where the next line starts.
fn delimiter_line(body: &[u8], after: usize) -> Option<(Delimiter, usize)> {
    let rest = body.get(after..)?;
    let (kind, rest) = match rest.strip_prefix(b"--") {
        Some(rest) => (Delimiter::Close, rest),
        None => (Delimiter::Open, rest),
    };
    let padding = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let line_end = body.len() - rest.len() + padding;
    match &rest[padding..] {
        [b'\r', b'\n', ..] => Some((kind, line_end + 2)),
        [] if kind == Delimiter::Close => Some((kind, line_end)),
        _ => None,
    }
}

/// One part: `MIME-part-headers [CRLF *OCTET]` (RFC 2046 §5.1.1). `offset` is where it
/// starts in the outermost body.
fn parse_part(
    part: Bytes,
    index: usize,
    depth: usize,
    offset: usize,
    limits: MultipartLimits,
) -> Result<BodyPart, MultipartError> {
    let max = limits.header_bytes_limit();
    let too_large = MultipartError::HeadersTooLarge {
        limit: max,
        part: index,
    };
    // Search only as far as a header block within the limit could reach.
    let window = &part[..part.len().min(max.saturating_add(4))];
    let (header_len, body_start) = if part.starts_with(b"\r\n") {
        (0, 2)
    } else if let Some(blank) = memmem::find(window, b"\r\n\r\n") {
        (blank + 2, blank + 4)
    } else if window.len() < part.len() {
        return Err(too_large);
    } else if part.is_empty() || part.ends_with(b"\r\n") {
        // Headers and no body: the CRLF before the delimiter ends the last header.
        (part.len(), part.len())
    } else {
        return Err(MultipartError::syntax(
            "the part's headers do not end with CRLF",
            Some(index),
            offset + part.len(),
        ));
    };
    if header_len > max {
        return Err(too_large);
    }
    let headers = parse_headers(&part[..header_len], index, offset, limits)?;
    Ok(BodyPart {
        headers,
        body: part.slice(body_start..),
        depth,
        offset: offset + body_start,
        limits,
    })
}

/// A header block of whole lines, each ending in CRLF.
fn parse_headers(
    block: &[u8],
    index: usize,
    offset: usize,
    limits: MultipartLimits,
) -> Result<HeaderMap, MultipartError> {
    let syntax = |reason, at| MultipartError::syntax(reason, Some(index), offset + at);
    let mut headers = HeaderMap::new();
    let mut count = 0;
    // The field being read: its name, its value so far, where its line starts.
    let mut field: Option<(HeaderName, Vec<u8>, usize)> = None;
    let mut start = 0;
    while start < block.len() {
        let Some(len) = memmem::find(&block[start..], b"\r\n") else {
            return Err(syntax("a header line does not end with CRLF", block.len()));
        };
        let line = &block[start..start + len];
        if let [b' ' | b'\t', ..] = line {
            // RFC 5322 §2.2.3: a folded line continues the field; unfolding drops the CRLF.
            let Some((_, value, _)) = field.as_mut() else {
                return Err(syntax("the headers start with a continuation line", start));
            };
            value.extend_from_slice(line);
        } else {
            if let Some((name, value, at)) = field.take() {
                append(&mut headers, name, &value).map_err(|reason| syntax(reason, at))?;
            }
            count += 1;
            if count > limits.headers_limit() {
                return Err(MultipartError::TooManyHeaders {
                    limit: limits.headers_limit(),
                    part: index,
                });
            }
            let Some(colon) = memchr::memchr(b':', line) else {
                return Err(syntax("a header line without a colon", start));
            };
            let name = HeaderName::from_bytes(&line[..colon])
                .map_err(|_| syntax("an invalid header name", start))?;
            field = Some((name, line[colon + 1..].to_vec(), start));
        }
        start += len + 2;
    }
    if let Some((name, value, at)) = field {
        append(&mut headers, name, &value).map_err(|reason| syntax(reason, at))?;
    }
    Ok(headers)
}

fn append(headers: &mut HeaderMap, name: HeaderName, value: &[u8]) -> Result<(), &'static str> {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let first = value
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(value.len());
    let last = value
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(first, |i| i + 1);
    let value =
        HeaderValue::from_bytes(&value[first..last]).map_err(|_| "an invalid header value")?;
    headers.append(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<BodyPart>, MultipartError> {
        parse_multipart_mixed("multipart/mixed; boundary=b", body.to_owned())
    }

    fn bodies(parts: &[BodyPart]) -> Vec<String> {
        parts.iter().map(BodyPart::text).collect()
    }

    #[test]
    fn crlf_rules() {
        let cases: &[(&str, &[&str])] = &[
            ("--b\r\n\r\none\r\n--b--", &["one"]),
            ("--b\r\n\r\none\r\n--b--\r\n", &["one"]),
            ("preamble\r\n--b\r\n\r\none\r\n--b--\r\nepilogue", &["one"]),
            // A preamble line that merely starts like the boundary is preamble.
            ("--bad\r\n--b\r\n\r\none\r\n--b--", &["one"]),
            // Transport padding after the boundary, before CRLF.
            (
                "--b \t\r\n\r\none\r\n--b  \r\n\r\ntwo\r\n--b-- \r\n",
                &["one", "two"],
            ),
            // The CRLF before a delimiter belongs to it: one CRLF of data stays.
            ("--b\r\n\r\none\r\n\r\n--b--", &["one\r\n"]),
            // A line with the boundary and more text is data.
            ("--b\r\n\r\n--bx\r\n--b--x\r\n--b--", &["--bx\r\n--b--x"]),
            // Bare LF does not end a delimiter line.
            ("--b\r\n\r\na\n--b\nc\r\n--b--", &["a\n--b\nc"]),
            // An empty part, a part of headers only, a part with an empty body.
            (
                "--b\r\n\r\n--b\r\nA: 1\r\n\r\n--b\r\n\r\n\r\n--b--",
                &["", "", ""],
            ),
            ("--b--\r\n", &[]),
        ];
        for (body, expected) in cases {
            let parts = parse(body).unwrap_or_else(|e| panic!("{body:?}: {e}"));
            assert_eq!(bodies(&parts), *expected, "{body:?}");
        }
    }

    #[test]
    fn syntax_errors_say_where() {
        let cases: &[(&str, Option<usize>, usize)] = &[
            ("no delimiter at all", None, 19),
            ("--b\r\n\r\none\r\n--b\r\n\r\ntwo", Some(1), 22),
            ("--b\r\n\r\none\r\n--b", Some(0), 15),
            ("--b\r\n\r\none", Some(0), 10),
            ("--b\r\n--b--", Some(0), 10),
            ("--b\r\nA: 1\r\n--b--", Some(0), 9),
            ("--b\r\nno colon\r\n\r\nx\r\n--b--", Some(0), 5),
            ("--b\r\n folded first\r\n\r\nx\r\n--b--", Some(0), 5),
            ("--b\r\nA: 1\r\nB c: 2\r\n\r\nx\r\n--b--", Some(0), 11),
            ("--b\r\nA: \x01\r\n\r\nx\r\n--b--", Some(0), 5),
        ];
        for (body, part, offset) in cases {
            match parse(body) {
                Err(MultipartError::Syntax {
                    part: got_part,
                    offset: got_offset,
                    ..
                }) => assert_eq!((got_part, got_offset), (*part, *offset), "{body:?}"),
                other => panic!("{body:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn headers_are_unfolded_and_trimmed() {
        let body = "--b\r\nContent-Type: text/plain;\r\n\tcharset=utf-8  \r\nX-A:1\r\nx-a: 2\r\n\r\nz\r\n--b--";
        let parts = parse(body).unwrap();
        let headers = parts[0].headers();
        assert_eq!(headers["content-type"], "text/plain;\tcharset=utf-8");
        let all: Vec<_> = headers.get_all("x-a").iter().collect();
        assert_eq!(all, ["1", "2"]);
    }

    #[test]
    fn nested_errors_count_from_the_outer_body() {
        let inner = "--i\r\n\r\nx\r\n--i";
        let body =
            format!("--b\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n{inner}\r\n--b--");
        let parts = parse(&body).unwrap();
        let start = body.find("--i").unwrap();
        match parts[0].parts() {
            Err(MultipartError::Syntax { part, offset, .. }) => {
                assert_eq!((part, offset), (Some(0), start + inner.len()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_random_boundary_is_redrawn_on_collision() {
        let batch = Batch {
            boundary: "x".into(),
            random: true,
            parts: Vec::new(),
        }
        .part(BodyPart::new("--x"));
        assert_ne!(batch.boundary(), "x");
        let parts = parse_multipart_mixed(&batch.content_type(), batch.to_bytes()).unwrap();
        assert_eq!(bodies(&parts), ["--x"]);
        // A given boundary is kept.
        let batch = Batch::with_boundary("x")
            .unwrap()
            .part(BodyPart::new("--x"));
        assert_eq!(batch.boundary(), "x");
    }

    #[test]
    fn exact_bytes_and_length() {
        let batch = Batch::with_boundary("b")
            .unwrap()
            .part(
                BodyPart::new("GET / HTTP/1.1\r\n\r\n")
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/http"))
                    .header(
                        HeaderName::from_static("content-id"),
                        HeaderValue::from_static("<1>"),
                    ),
            )
            .part(BodyPart::new(""));
        let expected = "--b\r\nContent-Type: application/http\r\nContent-Id: <1>\r\n\r\n\
            GET / HTTP/1.1\r\n\r\n\r\n--b\r\n\r\n\r\n--b--\r\n";
        assert_eq!(batch.to_bytes(), expected);
        assert_eq!(batch.content_length(), expected.len() as u64);
        assert_eq!(batch.content_type(), "multipart/mixed; boundary=b");
        assert_eq!(Batch::with_boundary("b").unwrap().to_bytes(), "--b--\r\n");
    }
}
