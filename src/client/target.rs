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

/// The fast path: `Some` only for strings both parsers read the same way.
fn canonical_uri(s: &str) -> Option<Uri> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if !canonical_authority(authority) || !canonical_path_and_query(path) {
        return None;
    }
    Uri::try_from(s).ok()
}

fn canonical_authority(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, Some(port)),
        _ => (authority, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        // url::Url prints IPv6 in its compressed form; take only what is already lowercase hex.
        !v6.is_empty()
            && v6
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b':'))
            && v6
                .parse::<std::net::Ipv6Addr>()
                .is_ok_and(|a| a.to_string() == v6)
    } else {
        // A lowercase DNS name, or a dotted IPv4 address exactly as url::Url prints it.
        let dns = !host.is_empty()
            && host
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.'))
            && host.bytes().any(|b| b.is_ascii_lowercase())
            && !host.contains("..")
            && !host.starts_with('.')
            && !host.contains("xn--");
        dns || canonical_ipv4(host)
    };
    host_ok && port_ok
}

/// Four decimal octets, each 0–255 without leading zeros: the form url::Url prints.
fn canonical_ipv4(host: &str) -> bool {
    let mut octets = 0;
    for octet in host.split('.') {
        octets += 1;
        let canonical = !octet.is_empty()
            && octet.len() <= 3
            && octet.bytes().all(|b| b.is_ascii_digit())
            && (octet == "0" || !octet.starts_with('0'))
            && octet.parse::<u16>().is_ok_and(|n| n <= 255);
        if !canonical {
            return false;
        }
    }
    octets == 4
}

fn canonical_path_and_query(path: &str) -> bool {
    // RFC 3986 unreserved and sub-delims, ':', '@', '/', '?' — nothing url::Url would
    // escape or rewrite.
    let chars_ok = path.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
            )
    });
    let (path_only, _query) = path.split_once('?').unwrap_or((path, ""));
    let no_dot_segments = !path_only.split('/').any(|seg| seg == "." || seg == "..");
    chars_ok && no_dot_segments
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
