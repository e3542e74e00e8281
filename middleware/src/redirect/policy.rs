//! HTTP.jl's redirect rules: which statuses are followed, the next method, whether the
//! body goes along, where the next request goes, and what its headers lose on the way.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri};
use url::Url;

use super::RedirectMethod;

/// The statuses followed (HTTP.jl `isredirect`): 301, 302, 303, 307 and 308. 300 (a
/// choice for the user) and 304 (a cache answer) are returned as they are.
pub fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The method of the request that follows a `status` redirect (HTTP.jl `newmethod`):
/// 307/308 keep the method; 303 becomes GET (HEAD stays HEAD, RFC 9110 §15.4.4); 301/302
/// follow `rule` — `Auto` turns POST into GET and keeps every other method (RFC 9110
/// §15.4.2/§15.4.3 allow only that change; curl and the Fetch standard do the same, where
/// HTTP.jl 1.x also turns PUT, DELETE or QUERY into a bodyless GET).
pub fn next_method(method: &Method, status: StatusCode, rule: &RedirectMethod) -> Method {
    match status.as_u16() {
        307 | 308 => method.clone(),
        303 if method == Method::HEAD => Method::HEAD,
        303 => Method::GET,
        _ => match rule {
            RedirectMethod::Same => method.clone(),
            RedirectMethod::Method(explicit) => explicit.clone(),
            RedirectMethod::Auto if method == Method::POST => Method::GET,
            RedirectMethod::Auto => method.clone(),
        },
    }
}

/// Whether the request that follows a `status` redirect resends the body: always on
/// 307/308 (RFC 9110 §15.4.8: the request is repeated as it was), otherwise unless the
/// next method is GET or HEAD (HTTP.jl drops the body when the method becomes GET).
pub fn keeps_body(status: StatusCode, next_method: &Method) -> bool {
    matches!(status.as_u16(), 307 | 308)
        || !(next_method == Method::GET || next_method == Method::HEAD)
}

/// Where a redirect goes: the current URL, the `Location` resolved against it (RFC 9110
/// §10.2.2: a relative reference is resolved against the request's URL), and the latter
/// as a request URI. `None` when the Location cannot be followed: not UTF-8, not a URL,
/// not http(s), or not representable as a request URI.
pub(crate) struct Target {
    pub(crate) from: Url,
    pub(crate) to: Url,
    pub(crate) uri: Uri,
}

pub(crate) fn resolve(
    current: &Uri,
    location: &HeaderValue,
    location_credentials: bool,
) -> Option<Target> {
    // Servers do send raw UTF-8 in Location; the url crate percent-encodes it.
    let location = std::str::from_utf8(location.as_bytes()).ok()?.trim();
    if location.is_empty() {
        return None;
    }
    let from = Url::parse(&current.to_string()).ok()?;
    let mut to = from.join(location).ok()?;
    if !matches!(to.scheme(), "http" | "https") || to.host_str().is_none_or(str::is_empty) {
        return None;
    }
    // Userinfo the server put in the Location is not the user's to send: it is dropped
    // unless the user opted in. A relative Location keeps the user's own (same origin).
    if !location_credentials
        && (to.username() != from.username() || to.password() != from.password())
    {
        // Both fail only for URLs that cannot carry userinfo, which have none.
        let _ = to.set_username("");
        let _ = to.set_password(None);
    }
    // The fragment is never sent (RFC 9110 §7.1).
    to.set_fragment(None);
    let uri = Uri::try_from(to.as_str()).ok()?;
    Some(Target { from, to, uri })
}

/// Whether two URLs share an origin: scheme, host and port, default ports filled in
/// (RFC 6454 §4).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// The `Referer` for a hop from `from` to `to`: `from` without userinfo and fragment
/// (RFC 9110 §10.1.3), and none when leaving https for http (the same section: a user
/// agent must not send a Referer from a secure page on an insecure request).
pub(crate) fn referer(from: &Url, to: &Url) -> Option<HeaderValue> {
    if from.scheme() == "https" && to.scheme() != "https" {
        return None;
    }
    let mut referer = from.clone();
    // Both fail only for URLs that cannot carry userinfo, which have none to remove.
    let _ = referer.set_username("");
    let _ = referer.set_password(None);
    referer.set_fragment(None);
    HeaderValue::from_str(referer.as_str()).ok()
}

/// The credentials a hop to another origin must not carry (HTTP.jl 2.x, Go's net/http,
/// the Fetch standard's "CORS non-wildcard request-header names" plus cookies).
pub(crate) const CREDENTIAL_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

/// Removes the headers describing a body that is no longer sent: every `Content-*` and
/// `Transfer-Encoding`.
pub(crate) fn remove_body_headers(headers: &mut HeaderMap) {
    headers.remove(header::TRANSFER_ENCODING);
    if headers.keys().any(is_content_header) {
        let names: Vec<HeaderName> = headers
            .keys()
            .filter(|n| is_content_header(n))
            .cloned()
            .collect();
        for name in names {
            headers.remove(name);
        }
    }
}

fn is_content_header(name: &HeaderName) -> bool {
    name.as_str().starts_with("content-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_method_and_body_follow_http_jl() {
        use RedirectMethod::{Auto, Same};
        let put = || RedirectMethod::Method(Method::PUT);
        // (status, method, rule) → (next method, body resent)
        let cases: &[(u16, Method, RedirectMethod, Method, bool)] = &[
            (301, Method::POST, Auto, Method::GET, false),
            (302, Method::POST, Auto, Method::GET, false),
            (302, Method::PUT, Auto, Method::PUT, true),
            (301, Method::DELETE, Auto, Method::DELETE, true),
            (
                302,
                Method::from_bytes(b"QUERY").unwrap(),
                Auto,
                Method::from_bytes(b"QUERY").unwrap(),
                true,
            ),
            (303, Method::PUT, Auto, Method::GET, false),
            (301, Method::HEAD, Auto, Method::HEAD, false),
            (302, Method::GET, Auto, Method::GET, false),
            (303, Method::POST, Auto, Method::GET, false),
            (303, Method::HEAD, Auto, Method::HEAD, false),
            (303, Method::POST, Same, Method::GET, false),
            (303, Method::POST, put(), Method::GET, false),
            (307, Method::POST, Auto, Method::POST, true),
            (308, Method::PUT, Auto, Method::PUT, true),
            (307, Method::GET, Auto, Method::GET, true),
            (307, Method::POST, put(), Method::POST, true),
            (308, Method::PATCH, Same, Method::PATCH, true),
            (301, Method::POST, Same, Method::POST, true),
            (302, Method::PATCH, Same, Method::PATCH, true),
            (302, Method::GET, Same, Method::GET, false),
            (302, Method::POST, put(), Method::PUT, true),
            (
                301,
                Method::POST,
                RedirectMethod::Method(Method::GET),
                Method::GET,
                false,
            ),
        ];
        for (status, method, rule, want_method, want_body) in cases {
            let status = StatusCode::from_u16(*status).unwrap();
            let next = next_method(method, status, rule);
            assert_eq!(&next, want_method, "{status} {method} {rule:?}");
            assert_eq!(
                keeps_body(status, &next),
                *want_body,
                "{status} {method} {rule:?}"
            );
        }
    }

    #[test]
    fn only_the_five_redirect_statuses_are_followed() {
        for (code, expected) in [
            (200, false),
            (300, false),
            (301, true),
            (302, true),
            (303, true),
            (304, false),
            (305, false),
            (307, true),
            (308, true),
            (399, false),
            (404, false),
        ] {
            assert_eq!(
                is_redirect(StatusCode::from_u16(code).unwrap()),
                expected,
                "{code}"
            );
        }
    }

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base: Uri = "http://a.test:8080/dir/page?q=1".parse().unwrap();
        for (location, expected) in [
            ("/abs", Some("http://a.test:8080/abs")),
            ("rel", Some("http://a.test:8080/dir/rel")),
            ("../up?x=2", Some("http://a.test:8080/up?x=2")),
            (
                "?only=query",
                Some("http://a.test:8080/dir/page?only=query"),
            ),
            ("//b.test/x", Some("http://b.test/x")),
            ("https://b.test/x#frag", Some("https://b.test/x")),
            ("http://b.test:80/x", Some("http://b.test/x")),
            ("/caf\u{e9}", Some("http://a.test:8080/caf%C3%A9")),
            ("/a b", Some("http://a.test:8080/a%20b")),
            ("", None),
            ("ftp://b.test/x", None),
            ("javascript:alert(1)", None),
            ("http://", None),
            ("http://[::1", None),
        ] {
            let value = HeaderValue::from_bytes(location.as_bytes()).unwrap();
            let got = resolve(&base, &value, false).map(|t| t.uri.to_string());
            assert_eq!(got.as_deref(), expected, "Location {location:?}");
        }
        // Bytes that are not UTF-8 cannot be a URL.
        let latin1 = HeaderValue::from_bytes(b"/caf\xe9").unwrap();
        assert!(resolve(&base, &latin1, false).is_none());
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        for (a, b, same) in [
            ("http://a.test/x", "http://a.test/y?z", true),
            ("http://a.test/", "http://a.test:80/", true),
            ("https://a.test/", "https://a.test:443/", true),
            ("http://A.test/", "http://a.test/", true),
            ("http://a.test/", "https://a.test/", false),
            ("http://a.test/", "http://a.test:8080/", false),
            ("http://a.test/", "http://b.a.test/", false),
            ("http://127.0.0.1:5000/", "http://localhost:5000/", false),
            ("http://127.0.0.1:5000/", "http://127.0.0.1:5001/", false),
        ] {
            let (ua, ub) = (Url::parse(a).unwrap(), Url::parse(b).unwrap());
            assert_eq!(same_origin(&ua, &ub), same, "{a} vs {b}");
        }
    }

    #[test]
    fn referer_drops_credentials_and_is_not_sent_from_https_to_http() {
        for (from, to, expected) in [
            (
                "http://a.test/p?q=1",
                "http://b.test/",
                Some("http://a.test/p?q=1"),
            ),
            (
                "http://u:pw@a.test/p#f",
                "http://a.test/",
                Some("http://a.test/p"),
            ),
            ("http://a.test/", "https://a.test/", Some("http://a.test/")),
            (
                "https://a.test/s",
                "https://b.test/",
                Some("https://a.test/s"),
            ),
            ("https://a.test/s", "http://a.test/", None),
            ("https://a.test/s", "http://b.test/", None),
        ] {
            let got = referer(&Url::parse(from).unwrap(), &Url::parse(to).unwrap());
            assert_eq!(
                got.as_ref().map(|v| v.to_str().unwrap()),
                expected,
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn body_headers_go_with_the_body() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("content-type", "text/plain"),
            ("content-length", "5"),
            ("content-encoding", "gzip"),
            ("transfer-encoding", "chunked"),
            ("accept", "*/*"),
            ("x-content", "kept"),
        ] {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        remove_body_headers(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "x-content"]);
    }
}
