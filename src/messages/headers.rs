//! Header lookups with HTTP.jl's semantics (`header`, `hasheader`, `headercontains`) as an
//! extension trait over the `http` crate's messages, and HTTP.jl's Canonical-Camel-Dash
//! header-name spelling.
//!
//! Names are case-insensitive (RFC 9110 §5.1). A name that is not a valid header name simply
//! matches nothing: lookups return `None` / `false` and never panic.

use http::{request, response, HeaderMap, HeaderValue, Request, Response};

/// HTTP.jl's header lookups for anything that holds a [`HeaderMap`].
///
/// Implemented for [`HeaderMap`], [`Request`], [`Response`] and their `Parts`.
///
/// ```
/// use httpstack::messages::HeaderExt;
///
/// let req = http::Request::builder()
///     .header("Accept-Encoding", "gzip, br")
///     .header("Accept-Encoding", "zstd")
///     .header("Connection", "Upgrade")
///     .body(())?;
/// assert_eq!(req.header("accept-encoding"), Some("gzip, br"));
/// assert!(req.header_contains("Accept-Encoding", "ZSTD"));
/// assert!(req.has_header_value("connection", "upgrade"));
/// assert!(!req.has_header("Host"));
/// assert_eq!(req.header("not a valid name"), None);
/// # Ok::<(), http::Error>(())
/// ```
pub trait HeaderExt {
    /// The headers the lookups read.
    fn header_map(&self) -> &HeaderMap;

    /// The first value of header `key` (any case), or `None` if the header is missing or
    /// its value is not UTF-8. HTTP.jl `header(m, key)`.
    fn header(&self, key: &str) -> Option<&str> {
        let value = self.header_map().get(key)?;
        std::str::from_utf8(value.as_bytes()).ok()
    }

    /// The first value of header `key`, or `default` (HTTP.jl `header(m, key, default)`).
    fn header_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.header(key).unwrap_or(default)
    }

    /// Whether header `key` is present with a non-empty value.
    ///
    /// As in HTTP.jl (`hasheader(m, k) = header(m, k) != ""`), a header whose value is
    /// empty counts as absent; by the same convention empty headers are not sent.
    fn has_header(&self, key: &str) -> bool {
        self.header_map().get_all(key).iter().any(|v| !v.is_empty())
    }

    /// Whether any value of header `key` equals `value`, both compared case-insensitively
    /// (HTTP.jl `hasheader(m, key, value)`).
    fn has_header_value(&self, key: &str, value: &str) -> bool {
        self.header_map()
            .get_all(key)
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
    }

    /// Whether header `key`, read as a comma-separated list across all its field lines
    /// (RFC 9110 §5.3, §5.6.1), has an element equal to `token`, case-insensitively
    /// (HTTP.jl `headercontains`). Elements are trimmed of spaces and tabs; quoted strings
    /// are not parsed, so a comma inside quotes still splits.
    fn header_contains(&self, key: &str, token: &str) -> bool {
        let token = trim_ows(token.as_bytes());
        self.header_map()
            .get_all(key)
            .iter()
            .any(|v| list_contains(v, token))
    }
}

fn list_contains(value: &HeaderValue, token: &[u8]) -> bool {
    value
        .as_bytes()
        .split(|&b| b == b',')
        .any(|element| trim_ows(element).eq_ignore_ascii_case(token))
}

/// RFC 9110 §5.6.3: OWS is spaces and horizontal tabs.
fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

impl HeaderExt for HeaderMap {
    fn header_map(&self) -> &HeaderMap {
        self
    }
}

impl<B> HeaderExt for Request<B> {
    fn header_map(&self) -> &HeaderMap {
        self.headers()
    }
}

impl<B> HeaderExt for Response<B> {
    fn header_map(&self) -> &HeaderMap {
        self.headers()
    }
}

impl HeaderExt for request::Parts {
    fn header_map(&self) -> &HeaderMap {
        &self.headers
    }
}

impl HeaderExt for response::Parts {
    fn header_map(&self) -> &HeaderMap {
        &self.headers
    }
}

/// A header name in HTTP.jl's Canonical-Camel-Dash form: the first letter and every letter
/// after a `-` upper case, all others lower case (HTTP.jl `tocameldash`, used by its
/// `canonicalize_headers` option).
///
/// ```
/// use httpstack::messages::canonicalize_header_name;
///
/// assert_eq!(canonicalize_header_name("content-type"), "Content-Type");
/// assert_eq!(canonicalize_header_name("x-ABC-def"), "X-Abc-Def");
/// ```
pub fn canonicalize_header_name(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HeaderMap {
        let mut map = HeaderMap::new();
        map.append("content-type", HeaderValue::from_static("text/plain"));
        map.append(
            "accept",
            HeaderValue::from_static("text/html , Application/JSON"),
        );
        map.append("accept", HeaderValue::from_static("\timage/png\t"));
        map.append("x-empty", HeaderValue::from_static(""));
        map.append("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        map.append(
            "x-utf8",
            HeaderValue::from_bytes("café".as_bytes()).unwrap(),
        );
        map
    }

    #[test]
    fn header_lookups() {
        let map = sample();
        assert_eq!(map.header("Content-Type"), Some("text/plain"));
        assert_eq!(map.header("CONTENT-TYPE"), Some("text/plain"));
        assert_eq!(map.header("accept"), Some("text/html , Application/JSON"));
        assert_eq!(map.header("missing"), None);
        assert_eq!(map.header("x-empty"), Some(""));
        assert_eq!(map.header("x-latin"), None);
        assert_eq!(map.header("x-utf8"), Some("café"));
        assert_eq!(map.header_or("missing", "dflt"), "dflt");
        assert_eq!(map.header_or("content-type", "dflt"), "text/plain");
    }

    #[test]
    fn has_header_follows_httpjl() {
        let map = sample();
        assert!(map.has_header("Content-Type"));
        assert!(!map.has_header("x-empty"));
        assert!(!map.has_header("missing"));
        assert!(map.has_header_value("content-type", "TEXT/PLAIN"));
        assert!(!map.has_header_value("content-type", "text/html"));
        assert!(map.has_header_value("x-empty", ""));
        assert!(map.has_header_value("accept", "\timage/png\t"));
    }

    #[test]
    fn header_contains_reads_lists_across_lines() {
        let map = sample();
        for (token, expected) in [
            ("text/html", true),
            ("application/json", true),
            (" image/png ", true),
            ("image", false),
            ("", false),
        ] {
            assert_eq!(
                map.header_contains("Accept", token),
                expected,
                "token {token:?}"
            );
        }
        assert!(!map.header_contains("missing", "x"));
    }

    #[test]
    fn invalid_names_match_nothing() {
        let map = sample();
        let long = "a".repeat(70_000);
        for name in ["", "bad name", "bad\nname", "naïve", "x:y", long.as_str()] {
            assert_eq!(map.header(name), None, "name {name:?}");
            assert!(!map.has_header(name));
            assert!(!map.has_header_value(name, ""));
            assert!(!map.header_contains(name, ""));
        }
    }

    #[test]
    fn messages_and_parts() {
        let req = Request::builder()
            .header("Host", "example.com")
            .body(())
            .unwrap();
        assert_eq!(req.header("host"), Some("example.com"));
        let (parts, ()) = req.into_parts();
        assert_eq!(parts.header("HOST"), Some("example.com"));
        let res = Response::builder().header("Server", "x").body(()).unwrap();
        assert!(res.has_header("server"));
        assert!(res.into_parts().0.has_header("server"));
    }

    #[test]
    fn canonical_names() {
        const CASES: &[(&str, &str)] = &[
            ("content-type", "Content-Type"),
            ("x-ABC-def", "X-Abc-Def"),
            ("HOST", "Host"),
            ("www-authenticate", "Www-Authenticate"),
            ("-a", "-A"),
            ("a--b", "A--B"),
            ("", ""),
            ("x-1abc", "X-1abc"),
        ];
        for (input, expected) in CASES {
            assert_eq!(
                canonicalize_header_name(input),
                *expected,
                "input {input:?}"
            );
        }
    }
}
