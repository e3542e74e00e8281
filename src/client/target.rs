//! The request target: an `http::Uri` straight from the string on the fast path, a
//! `url::Url` (WHATWG parsing: normalisation, IDNA, percent-encoding) when it is needed.
//!
//! Parsing every URL with `url::Url` costs more per request than the rest of the client
//! stack together (measured: 6% of the client's CPU at 64 requests in flight, IDNA
//! processing even for `127.0.0.1`). A string that is already canonical — lowercase
//! `http`/`https`, a lowercase DNS name or bracketed IPv6 host, a valid port, only RFC 3986
//! characters, no percent-escapes, dot segments, userinfo or fragment — means the same to
//! both parsers, so it goes straight to `http::Uri`; any other string takes `url::Url`.

use std::sync::OnceLock;

use http::Uri;
use url::Url;

use crate::Error;

/// A parsed request target.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Uri(Uri),
    Url(Url),
}

impl Target {
    pub(crate) fn parse(s: &str) -> Result<Target, Error> {
        match canonical_uri(s) {
            Some(uri) => Ok(Target::Uri(uri)),
            None => parse_url(s).map(Target::Url),
        }
    }

    /// The target as a `url::Url`, converting a fast-path `Uri` first (for `query`).
    pub(crate) fn url_mut(&mut self) -> &mut Url {
        if let Target::Uri(uri) = self {
            *self = Target::Url(url_of(uri));
        }
        match self {
            Target::Url(url) => url,
            // Converted just above.
            Target::Uri(_) => unreachable!("target was converted to a Url"),
        }
    }

    /// The `http::Uri` to send, without any fragment.
    pub(crate) fn into_uri(self, method: &http::Method) -> Result<Uri, Error> {
        match self {
            Target::Uri(uri) => Ok(uri),
            Target::Url(mut url) => {
                url.set_fragment(None);
                Uri::try_from(url.as_str()).map_err(|e| {
                    Error::invalid_url("the URL is not a valid request target")
                        .with_source(e)
                        .with_url(method, url.as_str())
                })
            }
        }
    }

    /// The target as text (for error messages, which redact userinfo).
    pub(crate) fn as_string(&self) -> String {
        match self {
            Target::Uri(uri) => uri.to_string(),
            Target::Url(url) => url.to_string(),
        }
    }
}

/// Parses and checks a URL the client can request: http or https, with a host.
pub(crate) fn parse_url(url: &str) -> Result<Url, Error> {
    let parsed =
        Url::parse(url).map_err(|e| Error::invalid_url(format!("cannot parse the URL: {e}")))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::invalid_url(format!(
                "unsupported scheme `{other}` (use http or https)"
            )))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_url("the URL has no host"));
    }
    Ok(parsed)
}

/// A `url::Url` for a URI that went out on the fast path (or any valid `http::Uri`).
/// `uri` without its userinfo (`user:password@`), which `http::Uri` keeps in the
/// authority: what a response's URL and its printed forms show.
pub(crate) fn without_userinfo(uri: Uri) -> Uri {
    let Some(at) = uri.authority().and_then(|a| a.as_str().rfind('@')) else {
        return uri;
    };
    let mut parts = uri.into_parts();
    if let Some(authority) = &parts.authority {
        if let Ok(host) = http::uri::Authority::try_from(&authority.as_str()[at + 1..]) {
            parts.authority = Some(host);
        }
    }
    Uri::from_parts(parts).unwrap_or_default()
}

/// Marks every value of header `name` sensitive, so `Debug` output and verbose logs show
/// `Sensitive` instead of it (a map without the header is not touched).
pub(crate) fn mark_sensitive(headers: &mut http::HeaderMap, name: http::HeaderName) {
    if headers.contains_key(&name) {
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
}

pub(crate) fn url_of(uri: &Uri) -> Url {
    Url::parse(&uri.to_string()).unwrap_or_else(|_| unparsable().clone())
}

/// Stands in for a URL `url::Url` cannot read, which `canonical_uri` never lets through;
/// a reply must still have some URL rather than panic.
fn unparsable() -> &'static Url {
    static URL: OnceLock<Url> = OnceLock::new();
    URL.get_or_init(|| {
        Url::from_file_path("/").unwrap_or_else(|()| unreachable!("`/` is an absolute path"))
    })
}

/// The fast path: `Some` only for strings both parsers read the same way. One pass over
/// the bytes, then `http::Uri`'s own parse.
fn canonical_uri(s: &str) -> Option<Uri> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))?;
    let bytes = rest.as_bytes();
    let authority_end = bytes.iter().position(|&b| b == b'/').unwrap_or(bytes.len());
    let (authority, path) = bytes.split_at(authority_end);
    if !canonical_authority(authority) || !canonical_path_and_query(path) {
        return None;
    }
    Uri::try_from(s).ok()
}

fn canonical_authority(authority: &[u8]) -> bool {
    if authority.first() == Some(&b'[') {
        return canonical_ipv6_authority(authority);
    }
    let (host, port) = match authority.iter().position(|&b| b == b':') {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    port.is_none_or(canonical_port) && (canonical_dns_name(host) || canonical_ipv4(host))
}

/// 1–65535 as url::Url prints it: digits, no leading zero.
fn canonical_port(port: &[u8]) -> bool {
    let mut value: u32 = 0;
    for &b in port {
        if !b.is_ascii_digit() {
            return false;
        }
        value = value * 10 + u32::from(b - b'0');
        if value > 65535 {
            return false;
        }
    }
    !port.is_empty() && port[0] != b'0'
}

/// A lowercase ASCII name with a letter in it (so not an IPv4 look-alike), no empty label,
/// no IDNA (`xn--`) label — what url::Url leaves exactly as it is.
fn canonical_dns_name(host: &[u8]) -> bool {
    let mut has_letter = false;
    let mut previous = b'.';
    for (i, &b) in host.iter().enumerate() {
        match b {
            b'a'..=b'z' => has_letter = true,
            b'0'..=b'9' | b'-' => {}
            b'.' if previous != b'.' => {}
            _ => return false,
        }
        if b == b'-' && previous == b'-' && i >= 3 && host[i - 3..i - 1] == *b"xn" {
            return false;
        }
        previous = b;
    }
    has_letter && previous != b'.'
}

/// Four decimal octets, each 0–255 without leading zeros: the form url::Url prints.
fn canonical_ipv4(host: &[u8]) -> bool {
    let (mut octets, mut value, mut digits) = (0, 0u32, 0);
    for &b in host.iter().chain(std::iter::once(&b'.')) {
        if b == b'.' {
            if digits == 0 || value > 255 {
                return false;
            }
            octets += 1;
            (value, digits) = (0, 0);
        } else if b.is_ascii_digit() {
            if digits > 0 && value == 0 {
                return false; // leading zero
            }
            value = value * 10 + u32::from(b - b'0');
            digits += 1;
            if digits > 3 {
                return false;
            }
        } else {
            return false;
        }
    }
    octets == 4
}

/// `[v6]` or `[v6]:port`, with the address already in url::Url's compressed lowercase form.
fn canonical_ipv6_authority(authority: &[u8]) -> bool {
    let Some(close) = authority.iter().position(|&b| b == b']') else {
        return false;
    };
    let port_ok = match &authority[close + 1..] {
        [] => true,
        [b':', port @ ..] => canonical_port(port),
        _ => false,
    };
    let text = std::str::from_utf8(&authority[1..close]).unwrap_or("");
    // Rare enough on the hot path that a parse and re-print is fine.
    port_ok
        && text
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|a| a.to_string() == text)
}

fn canonical_path_and_query(path: &[u8]) -> bool {
    // RFC 3986 unreserved and sub-delims, ':', '@', '/', '?' — nothing url::Url would
    // escape or rewrite — and no "." or ".." path segment (url::Url removes those).
    let mut in_query = false;
    let mut segment_dots = 0;
    let mut segment_len = 0;
    for &b in path.iter().chain(std::iter::once(&b'/')) {
        let allowed =
            crate::uri::is_unreserved_or_sub_delim(b) || matches!(b, b':' | b'@' | b'/' | b'?');
        if !allowed {
            return false;
        }
        if in_query {
            continue;
        }
        if b == b'/' || b == b'?' {
            if segment_len > 0 && segment_dots == segment_len {
                return false; // "." or ".." (or more dots) segment
            }
            (segment_dots, segment_len) = (0, 0);
            in_query = b == b'?';
        } else {
            segment_len += 1;
            segment_dots += usize::from(b == b'.');
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_url_parsing() {
        let fast = [
            "http://127.0.0.1:8080/tiny",
            "http://localhost/",
            "https://api.example.com/v1/items?limit=10&sort=name",
            "http://[::1]:3000/x",
            "http://example.com",
            "http://a-b.c0m/p;q=1/@x:y?z=(1)*2~",
            "http://10.0.0.1:65535/a.b/...c?x=..",
            "http://h1/",
        ];
        for s in fast {
            let uri = canonical_uri(s).unwrap_or_else(|| panic!("{s} should take the fast path"));
            let url = parse_url(s).unwrap();
            assert_eq!(
                uri.to_string(),
                Uri::try_from(url.as_str()).unwrap().to_string(),
                "case {s}"
            );
        }
        let slow = [
            "HTTP://example.com/",
            "http://Example.com/",
            "http://u:p@example.com/",
            "http://example.com/a/../b",
            "http://example.com/a b",
            "http://example.com/%41",
            "http://example.com/#frag",
            "http://bücher.example/",
            "http://xn--bcher-kva.example/",
            "http://999.1.1.1/",
            "http://1.2.3/",
            "http://01.2.3.4/",
            "http://1.2.3.256/",
            "http://1.2.3.4.5/",
            "http://example.com:0/",
            "http://example.com:080/",
            "http://a..b/",
            "http://.a/",
            "http://example.com/./x",
            "http://example.com/x/..?q",
            "http://example.com/.../x",
            "http://ex_ample.com/",
            "http://example.com./",
            "http:///x",
            "http://[::FFFF:1.2.3.4]/",
            "http://example.com:99999/",
            "http://example.com:/",
            "http://example.com/{x}",
            "ftp://example.com/",
            "http:/example.com",
        ];
        for s in slow {
            assert!(
                canonical_uri(s).is_none(),
                "{s} should take the url::Url path"
            );
        }
    }

    #[test]
    fn fast_path_urls_convert_back_to_url() {
        let uri = canonical_uri("http://[::1]:3000/x?y=1").unwrap();
        assert_eq!(url_of(&uri).as_str(), "http://[::1]:3000/x?y=1");
    }
}
