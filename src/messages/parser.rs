//! The HTTP/1 message-head parser interface (HTTP.jl `parse_request_line!`,
//! `parse_status_line!`, `readheaders`, `writeheaders`), on top of `httparse`.
//!
//! Parsing reads a request or status line and its header fields (RFC 9112 §2-§5) from a
//! byte buffer into `http` crate `Parts`, and says how many bytes the head took, so the
//! caller knows where the body starts. Writing is the inverse, in HTTP/1.1 wire form.

use std::fmt;
use std::io::Write as _;

use http::header::{HeaderName, HeaderValue};
use http::{request, response, HeaderMap, Method, StatusCode, Uri, Version};

use super::status_text;

/// The most header fields a parsed head may have; more is [`ParseError::TooManyHeaders`].
pub const MAX_HEADERS: usize = 100;

/// Which part of a message head is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadPart {
    /// The request method (RFC 9112 §3.1).
    Method,
    /// The request target (RFC 9112 §3.2).
    Target,
    /// The `HTTP/1.x` version (RFC 9112 §2.3).
    Version,
    /// The status code or reason phrase of a status line (RFC 9112 §4).
    Status,
    /// A header field name (RFC 9112 §5).
    HeaderName,
    /// A header field value (RFC 9112 §5).
    HeaderValue,
    /// A line ending: CRLF expected (RFC 9112 §2.2).
    LineEnding,
}

impl fmt::Display for HeadPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeadPart::Method => "method",
            HeadPart::Target => "request target",
            HeadPart::Version => "HTTP version",
            HeadPart::Status => "status line",
            HeadPart::HeaderName => "header name",
            HeadPart::HeaderValue => "header value",
            HeadPart::LineEnding => "line ending",
        })
    }
}

/// An HTTP/1 message head that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A byte the grammar does not allow, at `offset` from the start of the buffer.
    #[error("malformed HTTP/1 message head: invalid {part} at byte {offset}")]
    Invalid {
        /// The part of the head that is malformed.
        part: HeadPart,
        /// Where in the buffer the parser gave up.
        offset: usize,
    },
    /// More than `limit` header fields.
    #[error("HTTP/1 message head has more than {limit} header fields")]
    TooManyHeaders {
        /// The limit, [`MAX_HEADERS`].
        limit: usize,
    },
}

impl ParseError {
    /// The byte offset of the error in the parsed buffer, when there is one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            ParseError::Invalid { offset, .. } => Some(*offset),
            ParseError::TooManyHeaders { .. } => None,
        }
    }
}

/// Parses a request line and header fields from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` ends before the head does (read more and retry), or the
/// parts and the number of bytes the head used, up to and including the empty line. The
/// target is kept as sent (origin-form `/a?b`, absolute-form `http://h/a`, authority-form
/// for CONNECT, or `*` for OPTIONS).
///
/// Strict where RFC 9112 leaves a choice, as HTTP.jl is: a bare LF as a line end is a
/// [`HeadPart::LineEnding`] error (§2.2), and a target in none of the four forms, or in a
/// form its method may not use (`GET foo`, `GET *`), a [`HeadPart::Target`] error (§3.2).
///
/// ```
/// use httpstack::messages::parse_request_head;
///
/// let buf = b"GET /search?q=rust HTTP/1.1\r\nHost: example.com\r\n\r\nbody";
/// let (parts, len) = parse_request_head(buf)?.expect("complete head");
/// assert_eq!(parts.method, http::Method::GET);
/// assert_eq!(parts.uri, "/search?q=rust");
/// assert_eq!(parts.headers["host"], "example.com");
/// assert_eq!(&buf[len..], b"body");
///
/// assert!(parse_request_head(b"GET / HTTP/1.1\r\nHost: exa")?.is_none());
/// # Ok::<(), httpstack::messages::ParseError>(())
/// ```
pub fn parse_request_head(buf: &[u8]) -> Result<Option<(request::Parts, usize)>, ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(buf);
    // RFC 9112 §2.2: httparse accepts a bare LF as a line end; HTTP.jl does not.
    let examined = match parsed {
        Ok(httparse::Status::Complete(len)) => &buf[..len],
        _ => buf,
    };
    if let Some(at) = bare_lf(examined) {
        return Err(invalid(HeadPart::LineEnding, at));
    }
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(locate(buf, e, request_prefix_fails)),
    };
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        // httparse fills all three on a complete parse; treat anything else as malformed.
        return Err(invalid(HeadPart::Method, 0));
    };
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = Method::from_bytes(method.as_bytes())
        .map_err(|_| invalid(HeadPart::Method, offset_in(buf, method.as_bytes())))?;
    let target_at = offset_in(buf, target.as_bytes());
    parts.uri = Uri::try_from(target).map_err(|_| invalid(HeadPart::Target, target_at))?;
    check_target_form(&parts.method, &parts.uri)
        .map_err(|_| invalid(HeadPart::Target, target_at))?;
    parts.version = version(minor);
    parts.headers = header_map(buf, req.headers)?;
    Ok(Some((parts, len)))
}

/// Parses a status line and header fields from the start of `buf`; see
/// [`parse_request_head`]. The reason phrase is read but not kept.
///
/// ```
/// use httpstack::messages::parse_response_head;
///
/// let buf = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// let (parts, len) = parse_response_head(buf)?.expect("complete head");
/// assert_eq!(parts.status, 404);
/// assert_eq!(len, buf.len());
/// # Ok::<(), httpstack::messages::ParseError>(())
/// ```
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(response::Parts, usize)>, ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let len = match res.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(locate(buf, e, response_prefix_fails)),
    };
    let (Some(minor), Some(code)) = (res.version, res.code) else {
        return Err(invalid(HeadPart::Status, 0));
    };
    let (mut parts, ()) = http::Response::new(()).into_parts();
    // httparse takes any three digits; RFC 9110 §15 codes start at 100.
    parts.status = StatusCode::from_u16(code).map_err(|_| {
        let offset = buf.iter().position(|&b| b == b' ').map_or(0, |sp| sp + 1);
        invalid(HeadPart::Status, offset)
    })?;
    parts.version = version(minor);
    parts.headers = header_map(buf, res.headers)?;
    Ok(Some((parts, len)))
}

/// Appends the request line and header fields of `parts`, then the empty line, to `out`
/// (RFC 9112 §3, §5).
///
/// The target is written as the URI holds it, so a URI with a scheme and host goes out in
/// absolute-form (what a proxy expects); use a path-only URI for origin-form. The version
/// is `HTTP/1.0` for [`Version::HTTP_10`] and `HTTP/1.1` otherwise. Header names are written
/// as the `http` crate stores them, in lower case (names are case-insensitive, RFC 9110
/// §5.1).
///
/// ```
/// use httpstack::messages::write_request_head;
///
/// let (mut parts, ()) = http::Request::new(()).into_parts();
/// parts.method = http::Method::POST;
/// parts.uri = "/upload".parse()?;
/// parts.headers.insert("host", "example.com".parse()?);
/// let mut out = Vec::new();
/// write_request_head(&parts, &mut out);
/// assert_eq!(out, b"POST /upload HTTP/1.1\r\nhost: example.com\r\n\r\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_request_head(parts: &request::Parts, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{} {} {}\r\n",
        parts.method,
        parts.uri,
        version_str(parts.version)
    );
    write_fields(&parts.headers, out);
}

/// Appends the status line (with [`status_text`] as the reason phrase) and header fields
/// of `parts`, then the empty line, to `out` (RFC 9112 §4, §5).
///
/// ```
/// use httpstack::messages::write_response_head;
///
/// let (mut parts, ()) = http::Response::new(()).into_parts();
/// parts.status = http::StatusCode::NOT_FOUND;
/// let mut out = Vec::new();
/// write_response_head(&parts, &mut out);
/// assert_eq!(out, b"HTTP/1.1 404 Not Found\r\n\r\n");
/// ```
pub fn write_response_head(parts: &response::Parts, out: &mut Vec<u8>) {
    let code = parts.status.as_u16();
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{} {code} {}\r\n",
        version_str(parts.version),
        status_text(code)
    );
    write_fields(&parts.headers, out);
}

fn write_fields(headers: &HeaderMap, out: &mut Vec<u8>) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn version(minor: u8) -> Version {
    if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    }
}

fn version_str(version: Version) -> &'static str {
    if version == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    }
}

fn header_map(buf: &[u8], fields: &[httparse::Header<'_>]) -> Result<HeaderMap, ParseError> {
    let mut map = HeaderMap::with_capacity(fields.len());
    for field in fields {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| invalid(HeadPart::HeaderName, offset_in(buf, field.name.as_bytes())))?;
        let value = HeaderValue::from_bytes(field.value)
            .map_err(|_| invalid(HeadPart::HeaderValue, offset_in(buf, field.value)))?;
        map.append(name, value);
    }
    Ok(map)
}

/// RFC 9112 §3.2.1–§3.2.4: a request target is in origin-form, absolute-form,
/// authority-form (CONNECT's only form) or asterisk-form (OPTIONS only). `Err` says what
/// is wrong. (The server holds the requests hyper parsed to the same rule.)
pub(crate) fn check_target_form(method: &Method, uri: &Uri) -> Result<(), &'static str> {
    match (uri.scheme().is_some(), uri.authority().is_some()) {
        (true, true) => Ok(()),
        (false, true) if method == Method::CONNECT => Ok(()),
        (false, true) => Err("a request target in authority-form on a method other than CONNECT"),
        (_, false) if method == Method::CONNECT => {
            Err("a CONNECT request target not in authority-form")
        }
        (false, false) if uri.path() == "*" && uri.query().is_none() => {
            if method == Method::OPTIONS {
                Ok(())
            } else {
                Err("an asterisk-form request target on a method other than OPTIONS")
            }
        }
        (false, false) if uri.path().starts_with('/') => Ok(()),
        _ => Err("a request target in no valid form"),
    }
}

/// Where the first LF without a CR before it is, if any.
fn bare_lf(head: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', head).find(|&at| at == 0 || head[at - 1] != b'\r')
}

fn invalid(part: HeadPart, offset: usize) -> ParseError {
    ParseError::Invalid { part, offset }
}

/// Where `part`, a slice borrowed from `buf`, starts in it.
fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize)
}

fn request_prefix_fails(prefix: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    httparse::Request::new(&mut headers).parse(prefix).is_err()
}

fn response_prefix_fails(prefix: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    httparse::Response::new(&mut headers).parse(prefix).is_err()
}

/// Turns an httparse error into a [`ParseError`] with the offending byte's offset.
///
/// httparse does not say where it failed, but it rejects a bad byte as soon as it sees it
/// and reports a shorter, still valid buffer as incomplete. So the shortest failing prefix
/// ends at the bad byte: binary search finds it (this runs only on the error path).
fn locate(buf: &[u8], error: httparse::Error, fails: fn(&[u8]) -> bool) -> ParseError {
    let part = match error {
        httparse::Error::TooManyHeaders => {
            return ParseError::TooManyHeaders { limit: MAX_HEADERS }
        }
        httparse::Error::HeaderName => HeadPart::HeaderName,
        httparse::Error::HeaderValue => HeadPart::HeaderValue,
        httparse::Error::NewLine => HeadPart::LineEnding,
        httparse::Error::Status => HeadPart::Status,
        httparse::Error::Version => HeadPart::Version,
        httparse::Error::Token => HeadPart::Method,
    };
    // Invariant: buf[..ok] does not fail, buf[..bad] does.
    let (mut ok, mut bad) = (0, buf.len());
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if fails(&buf[..mid]) {
            bad = mid;
        } else {
            ok = mid;
        }
    }
    let offset = bad.saturating_sub(1);
    // httparse calls both a bad method and a bad target a bad token; in a request line the
    // target comes after the first space (RFC 9112 §3).
    let part = match buf.iter().position(|&b| b == b' ') {
        Some(space) if part == HeadPart::Method && offset > space => HeadPart::Target,
        _ => part,
    };
    invalid(part, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"POST /form?a=1&b=2 HTTP/1.1\r\nhost: example.com\r\ncontent-type: text/plain\r\nx-multi: a\r\nx-multi: b\r\ncontent-length: 5\r\n\r\nhello";
    const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n<p>";

    #[test]
    fn parses_a_request() {
        let (parts, len) = parse_request_head(REQUEST).unwrap().unwrap();
        assert_eq!(parts.method, Method::POST);
        assert_eq!(parts.uri, "/form?a=1&b=2");
        assert_eq!(parts.version, Version::HTTP_11);
        assert_eq!(parts.headers.len(), 5);
        let multi: Vec<_> = parts.headers.get_all("x-multi").iter().collect();
        assert_eq!(multi, ["a", "b"]);
        assert_eq!(&REQUEST[len..], b"hello");
    }

    #[test]
    fn refuses_bare_lf_and_targets_in_no_valid_form() {
        let cases: [(&[u8], Option<HeadPart>); 9] = [
            (b"GET / HTTP/1.1\nHost: x\n\n", Some(HeadPart::LineEnding)),
            (
                b"GET / HTTP/1.1\r\nHost: x\n\r\n",
                Some(HeadPart::LineEnding),
            ),
            (b"GET / HTTP/1.1\r\nHost: x\n", Some(HeadPart::LineEnding)),
            (
                b"GET foo HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(HeadPart::Target),
            ),
            (b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", Some(HeadPart::Target)),
            (
                b"CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(HeadPart::Target),
            ),
            (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", None),
            (b"CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", None),
            (b"GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", None),
        ];
        for (input, expected) in cases {
            let got = parse_request_head(input);
            let part = match &got {
                Err(ParseError::Invalid { part, .. }) => Some(*part),
                Ok(Some(_)) => None,
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
            };
            assert_eq!(part, expected, "{:?}", String::from_utf8_lossy(input));
        }
        // The offset points at the bare LF.
        let err = parse_request_head(b"GET / HTTP/1.1\nHost: x\r\n\r\n").unwrap_err();
        assert_eq!(err.offset(), Some(14));
    }

    #[test]
    fn parses_a_response() {
        let (parts, len) = parse_response_head(RESPONSE).unwrap().unwrap();
        assert_eq!(parts.status, StatusCode::OK);
        assert_eq!(parts.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(&RESPONSE[len..], b"<p>");
        let (old, _) = parse_response_head(b"HTTP/1.0 599 Whatever\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(old.version, Version::HTTP_10);
        assert_eq!(old.status.as_u16(), 599);
    }

    #[test]
    fn round_trips() {
        let (parts, len) = parse_request_head(REQUEST).unwrap().unwrap();
        let mut out = Vec::new();
        write_request_head(&parts, &mut out);
        assert_eq!(out, &REQUEST[..len]);

        let (parts, len) = parse_response_head(RESPONSE).unwrap().unwrap();
        let mut out = Vec::new();
        write_response_head(&parts, &mut out);
        assert_eq!(out, &RESPONSE[..len]);

        for target in ["*", "http://example.com/a?b", "example.com:443"] {
            let (mut parts, ()) = http::Request::new(()).into_parts();
            parts.method = if target.ends_with("443") {
                Method::CONNECT
            } else {
                Method::OPTIONS
            };
            parts.uri = target.parse().unwrap();
            parts.version = Version::HTTP_10;
            parts.headers.append("x-a", HeaderValue::from_static("1"));
            let mut out = Vec::new();
            write_request_head(&parts, &mut out);
            let (back, len) = parse_request_head(&out).unwrap().unwrap();
            assert_eq!(len, out.len());
            assert_eq!(
                (back.method, back.uri, back.version),
                (parts.method, parts.uri, parts.version)
            );
            assert_eq!(back.headers, parts.headers);
        }
    }

    #[test]
    fn response_head_uses_status_text() {
        let (mut parts, ()) = http::Response::new(()).into_parts();
        parts.status = StatusCode::from_u16(299).unwrap();
        let mut out = Vec::new();
        write_response_head(&parts, &mut out);
        assert_eq!(out, b"HTTP/1.1 299 Unknown Code\r\n\r\n");
    }

    #[test]
    fn every_truncation_is_incomplete() {
        let (_, req_len) = parse_request_head(REQUEST).unwrap().unwrap();
        for end in 0..req_len {
            assert!(
                matches!(parse_request_head(&REQUEST[..end]), Ok(None)),
                "request cut at {end}"
            );
        }
        let (_, res_len) = parse_response_head(RESPONSE).unwrap().unwrap();
        for end in 0..res_len {
            assert!(
                matches!(parse_response_head(&RESPONSE[..end]), Ok(None)),
                "response cut at {end}"
            );
        }
    }

    #[test]
    fn malformed_heads_say_what_and_where() {
        const CASES: &[(&[u8], HeadPart, usize)] = &[
            (b"GE(T / HTTP/1.1\r\n\r\n", HeadPart::Method, 2),
            (b"GET /a\x01b HTTP/1.1\r\n\r\n", HeadPart::Target, 6),
            (b"GET / HTTP/1.2\r\n\r\n", HeadPart::Version, 13),
            (b"GET / HTTQ/1.1\r\n\r\n", HeadPart::Version, 9),
            (
                b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                HeadPart::HeaderName,
                19,
            ),
            (
                b"GET / HTTP/1.1\r\nok: a\x00b\r\n\r\n",
                HeadPart::HeaderValue,
                21,
            ),
            (b"GET / HTTP/1.1\rX\r\n\r\n", HeadPart::LineEnding, 15),
            (
                b"GET / HTTP/1.1\r\nok: a\x7fb\r\n\r\n",
                HeadPart::HeaderValue,
                21,
            ),
            // httparse accepts this target; the `http` crate's Uri does not.
            (b"GET http://[::1/ HTTP/1.1\r\n\r\n", HeadPart::Target, 4),
        ];
        for (input, part, offset) in CASES {
            let expected = ParseError::Invalid {
                part: *part,
                offset: *offset,
            };
            assert_eq!(
                parse_request_head(input).err(),
                Some(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
        let err = parse_response_head(b"HTTP/1.1 2x0 OK\r\n\r\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::Invalid {
                part: HeadPart::Status,
                offset: 10
            }
        );
        let err = parse_response_head(b"HTTP/1.1 099 Low\r\n\r\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::Invalid {
                part: HeadPart::Status,
                offset: 9
            }
        );
        assert_eq!(
            err.to_string(),
            "malformed HTTP/1 message head: invalid status line at byte 9"
        );
    }

    #[test]
    fn too_many_headers() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            head.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let err = parse_request_head(&head).unwrap_err();
        assert_eq!(err, ParseError::TooManyHeaders { limit: MAX_HEADERS });
        assert_eq!(err.offset(), None);
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet = b"GET /HTP1.\r\n: \x00\xff\x7fa0";
        for _ in 0..5_000 {
            let len = rng.usize(0..64);
            let junk: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            for result in [
                parse_request_head(&junk).map(|_| ()),
                parse_response_head(&junk).map(|_| ()),
            ] {
                if let Err(ParseError::Invalid { offset, .. }) = result {
                    assert!(
                        offset < junk.len().max(1),
                        "offset {offset} outside {junk:?}"
                    );
                }
            }
        }
    }
}
