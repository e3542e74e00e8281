//! URI helpers from HTTP.jl's `URIs` module: `escapeuri` / `unescapeuri`
//! ([`escape`], [`unescape`], [`try_unescape`]), `splitpath` ([`split_path`]) and
//! `queryparams` ([`query_params`], [`query_map`]).
//!
//! Percent-encoding follows RFC 3986 §2; query strings are decoded as
//! `application/x-www-form-urlencoded` (the WHATWG URL Standard's rules, `+` is a space),
//! both through the `percent-encoding` and `url` crates.
//!
//! ```
//! use httpstack::uri::{escape, query_params, split_path, unescape};
//!
//! assert_eq!(escape("a b/c"), "a%20b%2Fc");
//! assert_eq!(unescape("a%20b%2Fc"), "a b/c");
//! assert_eq!(split_path("http://example.com/foo/bar?a=b&c=d"), ["foo", "bar"]);
//! assert_eq!(split_path("/foo/bar/"), ["foo", "bar"]);
//! assert_eq!(
//!     query_params("https://example.com/search?q=tower+http&page=2"),
//!     [("q".to_string(), "tower http".to_string()), ("page".to_string(), "2".to_string())],
//! );
//! ```

use std::collections::BTreeMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986 §2.3's unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~".
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes every byte of `s` except the unreserved characters (HTTP.jl
/// `escapeuri`), so the result is safe in any URI component.
///
/// ```
/// use httpstack::uri::escape;
///
/// assert_eq!(escape("key=välue&x"), "key%3Dv%C3%A4lue%26x");
/// assert_eq!(escape("a-b.c_d~e"), "a-b.c_d~e");
/// ```
pub fn escape(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

/// Decodes `%XX` escapes (HTTP.jl `unescapeuri`). Lenient: a `%` not followed by two hex
/// digits is kept as is, and bytes that do not form UTF-8 become U+FFFD. `+` stays `+`;
/// use [`query_params`] for form-encoded text.
///
/// ```
/// use httpstack::uri::unescape;
///
/// assert_eq!(unescape("caf%C3%A9"), "café");
/// assert_eq!(unescape("100%"), "100%");
/// assert_eq!(unescape("%FF"), "\u{FFFD}");
/// ```
pub fn unescape(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Decodes `%XX` escapes strictly: `None` if a `%` is not followed by two hex digits
/// (RFC 3986 §2.1) or the decoded bytes are not UTF-8.
///
/// ```
/// use httpstack::uri::try_unescape;
///
/// assert_eq!(try_unescape("a%2Fb").as_deref(), Some("a/b"));
/// assert_eq!(try_unescape("100%"), None);
/// assert_eq!(try_unescape("%FF"), None);
/// ```
pub fn try_unescape(s: &str) -> Option<String> {
    let well_formed = s.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// The segments of a path, or of a URL's path (HTTP.jl `splitpath` with
/// `rstrip_empty_segment=true`): split on `/`, ignoring a leading `/`, any `?query` and
/// `#fragment`, and a final empty segment (so `/a/` and `/a` agree). Segments stay
/// percent-encoded, as in HTTP.jl; [`unescape`] them if needed.
///
/// ```
/// use httpstack::uri::split_path;
///
/// assert_eq!(split_path("/foo/bar/"), ["foo", "bar"]);
/// assert_eq!(split_path("http://example.com/foo/bar?a=b&c=d"), ["foo", "bar"]);
/// assert_eq!(split_path("/a//b"), ["a", "", "b"]);
/// assert!(split_path("/").is_empty());
/// ```
pub fn split_path(path_or_url: &str) -> Vec<String> {
    split_path_with(path_or_url, true)
}

/// [`split_path`] with HTTP.jl's `rstrip_empty_segment` choice: `false` keeps a final
/// empty segment, as RFC 3986 §3.3's grammar has it.
///
/// ```
/// use httpstack::uri::split_path_with;
///
/// assert_eq!(split_path_with("/foo/bar/", false), ["foo", "bar", ""]);
/// ```
pub fn split_path_with(path_or_url: &str, rstrip_empty_segment: bool) -> Vec<String> {
    let path = path_of(path_or_url);
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return Vec::new();
    }
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    if rstrip_empty_segment && segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    segments
}

/// The query's `name=value` pairs, decoded as `application/x-www-form-urlencoded` (`+`
/// is a space), in order and with duplicates (HTTP.jl `queryparampairs`).
///
/// Accepts a whole URL or path (the part after `?` is read, up to any `#`) or a bare
/// query (`a=1&b=2`, with or without the leading `?`). A URL or path without `?` has no
/// parameters.
///
/// ```
/// use httpstack::uri::query_params;
///
/// let pairs = query_params("/search?tag=a&tag=b&empty=&flag#top");
/// let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
/// assert_eq!(pairs, [("tag", "a"), ("tag", "b"), ("empty", ""), ("flag", "")]);
/// assert_eq!(query_params("a=%C3%A9+x")[0].1, "é x");
/// ```
pub fn query_params(query_or_url: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query_of(query_or_url).as_bytes())
        .into_owned()
        .collect()
}

/// The query's parameters as a map, the last value winning for a repeated name (HTTP.jl
/// `queryparams`). See [`query_params`] for what is accepted.
///
/// ```
/// use httpstack::uri::query_map;
///
/// let params = query_map("http://example.com/?a=1&b=2&a=3");
/// assert_eq!(params["a"], "3");
/// assert_eq!(params["b"], "2");
/// ```
pub fn query_map(query_or_url: &str) -> BTreeMap<String, String> {
    query_params(query_or_url).into_iter().collect()
}

/// The path of a path or URL: RFC 3986 §3.3, it ends at the first `?` or `#`; in a URL it
/// starts at the first `/` after `scheme://authority`.
fn path_of(s: &str) -> &str {
    let s = &s[..s.find(['?', '#']).unwrap_or(s.len())];
    match authority_start(s) {
        Some(start) => {
            let rest = &s[start..];
            rest.find('/').map_or("", |slash| &rest[slash..])
        }
        None => s,
    }
}

/// The query of a URL or path, or `s` itself if it is a bare query.
fn query_of(s: &str) -> &str {
    let s = &s[..s.find('#').unwrap_or(s.len())];
    match s.find('?') {
        Some(mark) => &s[mark + 1..],
        None if s.starts_with('/') || authority_start(s).is_some() => "",
        None => s,
    }
}

/// Where the authority starts if `s` begins with `scheme://` (RFC 3986 §3.1: a scheme is
/// a letter then letters, digits, `+`, `-` or `.`).
fn authority_start(s: &str) -> Option<usize> {
    let colon = s.find("://")?;
    let scheme = &s.as_bytes()[..colon];
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some(colon + 3)
}

/// RFC 3986 §2.2–§2.3: whether `b` is an unreserved character or a sub-delimiter, the
/// bytes a host name, a path segment or a query may hold as they are.
#[inline]
#[cfg(any(feature = "client", feature = "server"))]
pub(crate) fn is_unreserved_or_sub_delim(b: u8) -> bool {
    UNRESERVED_OR_SUB_DELIM[usize::from(b)]
}

/// The table behind [`is_unreserved_or_sub_delim`]: a look-up per byte, as the server
/// checks every request's `Host` with it.
#[cfg(any(feature = "client", feature = "server"))]
static UNRESERVED_OR_SUB_DELIM: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
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
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_unescape() {
        const CASES: &[(&str, &str)] = &[
            ("", ""),
            ("abcXYZ019", "abcXYZ019"),
            ("-._~", "-._~"),
            (" ", "%20"),
            ("+", "%2B"),
            ("a/b?c#d", "a%2Fb%3Fc%23d"),
            (
                "!*'();:@&=$,[]%",
                "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%5B%5D%25",
            ),
            ("é", "%C3%A9"),
            ("😀", "%F0%9F%98%80"),
        ];
        for (raw, escaped) in CASES {
            assert_eq!(escape(raw), *escaped, "escape {raw:?}");
            assert_eq!(unescape(escaped), *raw, "unescape {escaped:?}");
            assert_eq!(
                try_unescape(escaped).as_deref(),
                Some(*raw),
                "try_unescape {escaped:?}"
            );
        }
    }

    #[test]
    fn unescape_lenient_and_strict() {
        const CASES: &[(&str, &str, Option<&str>)] = &[
            ("a+b", "a+b", Some("a+b")),
            ("%41%42", "AB", Some("AB")),
            ("%4a%4A", "JJ", Some("JJ")),
            ("%", "%", None),
            ("%4", "%4", None),
            ("%zz", "%zz", None),
            ("%%41", "%A", None),
            ("50%off", "50%off", None),
            ("%C3", "\u{FFFD}", None),
            ("%C3%A9%", "é%", None),
            ("é%C3%A9", "éé", Some("éé")),
        ];
        for (input, lossy, strict) in CASES {
            assert_eq!(unescape(input), *lossy, "unescape {input:?}");
            assert_eq!(
                try_unescape(input).as_deref(),
                *strict,
                "try_unescape {input:?}"
            );
        }
    }

    #[test]
    fn split_paths() {
        const CASES: &[(&str, &[&str], &[&str])] = &[
            ("", &[], &[]),
            ("/", &[], &[]),
            ("/foo/bar/", &["foo", "bar"], &["foo", "bar", ""]),
            ("/foo/bar", &["foo", "bar"], &["foo", "bar"]),
            ("foo/bar", &["foo", "bar"], &["foo", "bar"]),
            ("/a//b", &["a", "", "b"], &["a", "", "b"]),
            ("//", &[""], &["", ""]),
            ("/a%2Fb/c", &["a%2Fb", "c"], &["a%2Fb", "c"]),
            ("/foo?x=/y/z", &["foo"], &["foo"]),
            ("/foo#frag/x", &["foo"], &["foo"]),
            ("/foo/?x", &["foo"], &["foo", ""]),
            (
                "http://example.com/foo/bar?a=b&c=d",
                &["foo", "bar"],
                &["foo", "bar"],
            ),
            ("https://u:p@host:8080/a/b/#x", &["a", "b"], &["a", "b", ""]),
            ("http://example.com", &[], &[]),
            ("http://example.com?q=/a", &[], &[]),
            ("http://example.com/", &[], &[]),
            (
                "/redirect/http://x/y",
                &["redirect", "http:", "", "x", "y"],
                &["redirect", "http:", "", "x", "y"],
            ),
        ];
        for (input, stripped, kept) in CASES {
            assert_eq!(split_path(input), *stripped, "split_path {input:?}");
            assert_eq!(
                split_path_with(input, false),
                *kept,
                "split_path_with {input:?}"
            );
        }
    }

    #[test]
    fn query_parameters() {
        type Pairs = &'static [(&'static str, &'static str)];
        const CASES: &[(&str, Pairs)] = &[
            ("", &[]),
            ("a=1", &[("a", "1")]),
            ("?a=1&b=2", &[("a", "1"), ("b", "2")]),
            ("a=1&a=2", &[("a", "1"), ("a", "2")]),
            ("a=x+y%2Bz", &[("a", "x y+z")]),
            ("a&b=&=c", &[("a", ""), ("b", ""), ("", "c")]),
            ("a=1&&b=2&", &[("a", "1"), ("b", "2")]),
            ("a=b=c", &[("a", "b=c")]),
            ("k%C3%A9=v%E9", &[("ké", "v\u{FFFD}")]),
            ("/path", &[]),
            ("/path?x=1#y=2", &[("x", "1")]),
            (
                "http://example.com/foo/bar?a=b&c=d",
                &[("a", "b"), ("c", "d")],
            ),
            ("http://example.com/p", &[]),
            ("http://example.com/p#a=1", &[]),
            ("redirect=http://x/y", &[("redirect", "http://x/y")]),
            ("next=/home", &[("next", "/home")]),
        ];
        for (input, expected) in CASES {
            let got = query_params(input);
            let got: Vec<(&str, &str)> =
                got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(got, *expected, "query_params {input:?}");
        }
    }

    #[test]
    fn query_map_last_wins() {
        let map = query_map("a=1&b=2&a=3");
        assert_eq!(map.len(), 2);
        assert_eq!(map["a"], "3");
        assert_eq!(map["b"], "2");
    }
}
