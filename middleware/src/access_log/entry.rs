//! One request's log entry: what the format needs from the request, then from the
//! response, and the count of body bytes; its line is written when it is dropped.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use http::{HeaderValue, Method, Request, Response, Uri, Version};

use super::clock::Timestamp;
use super::format::Piece;
use super::logger::Logger;
use super::peer_addr::peer_addr_of;

/// nginx's status for a request whose client went away before the response (the response
/// future was dropped).
pub(crate) const STATUS_CLIENT_CLOSED: u16 = 499;
/// The inner service failed: HTTP.jl logs a failed handler as a 500.
pub(crate) const STATUS_SERVICE_FAILED: u16 = 500;

/// The record of one request. Dropping it writes its line, so every way a request can end
/// (body finished, body dropped early, service error, future dropped) logs exactly once.
pub(crate) struct Entry {
    logger: Arc<Logger>,
    method: Option<Method>,
    uri: Option<Uri>,
    version: Version,
    remote: Option<SocketAddr>,
    authorization: Option<HeaderValue>,
    /// The `$http_*` values, then (once the response is in) the `$sent_http_*` ones.
    headers: Vec<Option<HeaderValue>>,
    status: u16,
    body_bytes_sent: u64,
}

impl Entry {
    /// Copies from the request only what the format reads.
    pub(crate) fn capture<B>(logger: &Arc<Logger>, req: &Request<B>) -> Entry {
        let format = &logger.format;
        let needs = format.needs;
        let mut headers =
            Vec::with_capacity(format.request_headers.len() + format.response_headers.len());
        headers.extend(
            format
                .request_headers
                .iter()
                .map(|name| req.headers().get(name).cloned()),
        );
        let remote = if needs.remote {
            peer_addr_of(req.extensions())
        } else {
            None
        };
        Entry {
            logger: logger.clone(),
            method: needs.method.then(|| req.method().clone()),
            uri: needs.uri.then(|| req.uri().clone()),
            version: req.version(),
            remote,
            authorization: if needs.authorization {
                req.headers().get(http::header::AUTHORIZATION).cloned()
            } else {
                None
            },
            headers,
            status: STATUS_CLIENT_CLOSED,
            body_bytes_sent: 0,
        }
    }

    /// Records the status and the response headers the format reads.
    pub(crate) fn response<B>(&mut self, resp: &Response<B>) {
        self.status = resp.status().as_u16();
        let names = &self.logger.format.response_headers;
        self.headers
            .extend(names.iter().map(|name| resp.headers().get(name).cloned()));
    }

    /// The inner service failed before a response.
    pub(crate) fn failed(&mut self) {
        self.status = STATUS_SERVICE_FAILED;
    }

    /// Counts body bytes handed on to the server.
    pub(crate) fn sent(&mut self, bytes: usize) {
        self.body_bytes_sent = self.body_bytes_sent.saturating_add(bytes as u64);
    }

    fn write_line<W: fmt::Write>(&self, out: &mut W, now: Option<&Timestamp>) -> fmt::Result {
        let format = &self.logger.format;
        for piece in &format.pieces {
            match piece {
                Piece::Literal(s) => out.write_str(s)?,
                Piece::RemoteAddr => match self.remote {
                    // IPv4 by hand: `Ipv4Addr`'s `Display` handles padding and is slow.
                    Some(SocketAddr::V4(addr)) => {
                        let [a, b, c, d] = addr.ip().octets();
                        write_decimal(out, a.into())?;
                        for octet in [b, c, d] {
                            out.write_char('.')?;
                            write_decimal(out, octet.into())?;
                        }
                    }
                    Some(SocketAddr::V6(addr)) => write!(out, "{}", addr.ip())?,
                    None => out.write_str("-")?,
                },
                Piece::RemotePort => match self.remote {
                    Some(addr) => write_decimal(out, addr.port().into())?,
                    None => out.write_str("-")?,
                },
                Piece::RemoteUser => self.write_remote_user(out)?,
                Piece::Request => {
                    self.write_method(out)?;
                    out.write_char(' ')?;
                    self.write_uri(out)?;
                    out.write_char(' ')?;
                    out.write_str(protocol(self.version))?;
                }
                Piece::RequestMethod => self.write_method(out)?,
                Piece::RequestUri => self.write_uri(out)?,
                Piece::ServerProtocol => out.write_str(protocol(self.version))?,
                Piece::Status => write_decimal(out, self.status.into())?,
                Piece::BodyBytesSent => write_decimal(out, self.body_bytes_sent)?,
                Piece::TimeIso8601 => match now {
                    Some(t) => t.write_iso8601(out)?,
                    None => out.write_str("-")?,
                },
                Piece::TimeLocal => match now {
                    Some(t) => t.write_local(out)?,
                    None => out.write_str("-")?,
                },
                Piece::RequestHeader(i) => self.write_header(out, *i)?,
                Piece::ResponseHeader(i) => {
                    self.write_header(out, format.request_headers.len() + *i)?
                }
            }
        }
        Ok(())
    }

    fn write_method<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        match &self.method {
            Some(m) => write_escaped(out, m.as_str().as_bytes()),
            None => out.write_str("-"),
        }
    }

    /// The request target as the client sent it. HTTP/2 carries it in `:path` (the `Uri`
    /// also holds `:scheme` and `:authority`), so from HTTP/2 on only path and query are
    /// logged, as nginx does; HTTP/1 logs the target's own form (origin, absolute,
    /// authority or `*`).
    fn write_uri<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let Some(uri) = &self.uri else {
            return out.write_str("-");
        };
        if self.version < Version::HTTP_2 {
            if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
                write_escaped(out, scheme.as_bytes())?;
                out.write_str("://")?;
                write_escaped(out, authority.as_str().as_bytes())?;
            }
        }
        match (uri.path_and_query(), uri.authority()) {
            (Some(pq), _) => write_escaped(out, pq.as_str().as_bytes()),
            // Authority-form (CONNECT) has no path.
            (None, Some(authority)) => write_escaped(out, authority.as_str().as_bytes()),
            (None, None) => out.write_str("-"),
        }
    }

    /// RFC 7617: `Authorization: Basic base64(user ":" password)`; the scheme name is
    /// case-insensitive. Anything else, or an empty user, logs `-`.
    fn write_remote_user<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let user = self.authorization.as_ref().and_then(|value| {
            let value = value.as_bytes();
            let (scheme, rest) = value.split_at(value.iter().position(|b| *b == b' ')?);
            if !scheme.eq_ignore_ascii_case(b"basic") {
                return None;
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim_ascii())
                .ok()?;
            let mut user = decoded;
            if let Some(colon) = user.iter().position(|b| *b == b':') {
                user.truncate(colon);
            }
            (!user.is_empty()).then_some(user)
        });
        match user {
            Some(user) => write_escaped(out, &user),
            None => out.write_str("-"),
        }
    }

    fn write_header<W: fmt::Write>(&self, out: &mut W, index: usize) -> fmt::Result {
        match self.headers.get(index).and_then(Option::as_ref) {
            Some(value) => write_escaped(out, value.as_bytes()),
            None => out.write_str("-"),
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let logger = &self.logger;
        let now = logger
            .format
            .needs
            .time
            .then(|| Timestamp::new((logger.clock)(), logger.utc_offset_minutes));
        logger.sink.emit(&Line {
            entry: self,
            now: now.as_ref(),
        });
    }
}

/// A log line, formatted straight into whatever displays it.
struct Line<'a> {
    entry: &'a Entry,
    now: Option<&'a Timestamp>,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entry.write_line(f, self.now)
    }
}

/// `$server_protocol`, as nginx writes it.
fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "-",
    }
}

fn write_decimal<W: fmt::Write>(out: &mut W, mut n: u64) -> fmt::Result {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.write_str(ascii(&digits[start..]))
}

/// nginx's default escaping of variable values: `"`, `\`, bytes below 0x20 and above 0x7e
/// become `\xHH`, so a peer cannot forge or break a log line.
fn write_escaped<W: fmt::Write>(out: &mut W, bytes: &[u8]) -> fmt::Result {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            out.write_str(ascii(&bytes[start..i]))?;
            write!(out, "\\x{b:02X}")?;
            start = i + 1;
        }
    }
    out.write_str(ascii(&bytes[start..]))
}

/// Bytes known to be ASCII (escaped runs, digits) as a `str`; never loses anything.
pub(super) fn ascii(run: &[u8]) -> &str {
    std::str::from_utf8(run).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_decimals() {
        for n in [0, 7, 10, 499, 65_535, u64::MAX] {
            let mut out = String::new();
            write_decimal(&mut out, n).unwrap();
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn escapes_like_nginx() {
        for (input, expected) in [
            (&b"curl/8.5.0"[..], "curl/8.5.0"),
            (b"a\"b", "a\\x22b"),
            (b"back\\slash", "back\\x5Cslash"),
            (b"tab\there", "tab\\x09here"),
            (b"\xff\x7f", "\\xFF\\x7F"),
            (b"", ""),
        ] {
            let mut out = String::new();
            write_escaped(&mut out, input).unwrap();
            assert_eq!(out, expected, "{input:?}");
        }
    }
}
