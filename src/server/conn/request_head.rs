//! [`check_http1`]: the RFC 9112 rules hyper leaves to the server, checked on the request
//! head hyper has parsed (no second parser under hyper).
//!
//! - §3.2: an HTTP/1.1 request carries exactly one `Host`, an HTTP/1.0 one at most one,
//!   and its value is `uri-host [ ":" port ]` (RFC 9110 §7.2) or empty.
//! - §3.2: the request target is in origin-form, absolute-form, authority-form (CONNECT
//!   only) or asterisk-form (OPTIONS only).
//! - §6.1: `chunked` is the last transfer coding and is applied once.
//!
//! A request that breaks one gets `400 Bad Request` and the connection closes (§9.6),
//! so nothing after it on the connection is read as a request.
//!
//! Two leniencies of hyper's own parser are not refused here, since only a framing parser
//! could see them: a bare LF as a line end (RFC 9112 §2.2 lets a recipient accept it) and
//! whitespace after a chunk size (`ff \r\n`). Neither changes where a message ends, so
//! neither lets a request be smuggled past hyper; hyper 1.x has no switch for either.

use http::header::{HOST, TRANSFER_ENCODING};
use http::{Request, Version};

/// Why a request head was refused.
pub(crate) type Refusal = &'static str;

/// Checks an HTTP/1 request head; `Err` says which rule it breaks.
pub(crate) fn check_http1<B>(req: &Request<B>) -> Result<(), Refusal> {
    check_target(req)?;
    // One pass over the fields (a request has a handful) rather than a hashed look-up
    // per rule: this runs on every HTTP/1 request.
    let mut host = None;
    let mut hosts = 0;
    let mut transfer_coding = false;
    for (name, value) in req.headers() {
        if name == HOST {
            hosts += 1;
            host = Some(value);
        } else if name == TRANSFER_ENCODING {
            transfer_coding = true;
        }
    }
    match (hosts, host) {
        (0, _) if req.version() == Version::HTTP_11 => {
            return Err("an HTTP/1.1 request without a Host header")
        }
        (2.., _) => return Err("more than one Host header"),
        (_, Some(host)) if !is_host(host.as_bytes()) => return Err("an invalid Host header"),
        _ => {}
    }
    if transfer_coding {
        check_transfer_coding(req)?;
    }
    Ok(())
}

/// RFC 9112 §3.2.1–§3.2.4: the four forms of a request target, each where it belongs
/// (the rule [`parse_request_head`](crate::messages::parse_request_head) holds to).
fn check_target<B>(req: &Request<B>) -> Result<(), Refusal> {
    crate::messages::check_target_form(req.method(), req.uri())
}

/// RFC 9112 §6.1, §7: `chunked` at most once, and last.
fn check_transfer_coding<B>(req: &Request<B>) -> Result<(), Refusal> {
    let mut chunked = 0;
    let mut after_chunked = false;
    for value in req.headers().get_all(TRANSFER_ENCODING) {
        let Ok(value) = value.to_str() else {
            return Err("an invalid Transfer-Encoding header");
        };
        for coding in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if chunked > 0 {
                after_chunked = true;
            }
            if coding.eq_ignore_ascii_case("chunked") {
                chunked += 1;
            }
        }
    }
    match (chunked, after_chunked) {
        (n, _) if n > 1 => Err("Transfer-Encoding lists chunked more than once"),
        (_, true) => Err("Transfer-Encoding has a coding after chunked"),
        _ => Ok(()),
    }
}

/// RFC 9110 §7.2: `Host = uri-host [ ":" port ]`, or empty (a target with no authority).
fn is_host(value: &[u8]) -> bool {
    let (host, port) = match value.first() {
        // IP-literal (RFC 3986 §3.2.2): "[" IPv6address / IPvFuture "]"
        Some(b'[') => {
            let Some(close) = value.iter().position(|&b| b == b']') else {
                return false;
            };
            let inside = &value[1..close];
            if inside.is_empty()
                || !inside
                    .iter()
                    .all(|&b| b == b':' || crate::uri::is_unreserved_or_sub_delim(b))
            {
                return false;
            }
            match &value[close + 1..] {
                [] => return true,
                [b':', port @ ..] => (&[][..], port),
                _ => return false,
            }
        }
        _ => match value.iter().rposition(|&b| b == b':') {
            Some(colon) => (&value[..colon], &value[colon + 1..]),
            None => (value, &[][..]),
        },
    };
    port.iter().all(u8::is_ascii_digit) && is_reg_name(host)
}

/// RFC 3986 §3.2.2: `reg-name = *( unreserved / pct-encoded / sub-delims )` (which also
/// covers IPv4 addresses).
fn is_reg_name(host: &[u8]) -> bool {
    let mut i = 0;
    while i < host.len() {
        match host[i] {
            b'%' => {
                let hex = host.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            b if crate::uri::is_unreserved_or_sub_delim(b) => i += 1,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        method: &str,
        target: &str,
        version: Version,
        headers: &[(&str, &str)],
    ) -> Request<()> {
        let mut builder = Request::builder()
            .method(method)
            .uri(target)
            .version(version);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("a request")
    }

    #[test]
    fn host_rules() {
        let v11 = Version::HTTP_11;
        type Case<'a> = (&'a [(&'a str, &'a str)], Version, bool);
        let cases: &[Case] = &[
            (&[("host", "example.com")], v11, true),
            (&[("host", "example.com:8080")], v11, true),
            (&[("host", "127.0.0.1:1")], v11, true),
            (&[("host", "[::1]:80")], v11, true),
            (&[("host", "[::1]")], v11, true),
            (&[("host", "")], v11, true),
            (&[("host", "xn--bcher-kva.example")], v11, true),
            (&[], v11, false),
            (&[], Version::HTTP_10, true),
            (&[("host", "a"), ("host", "a")], v11, false),
            (&[("host", "a"), ("host", "b")], Version::HTTP_10, false),
            (&[("host", "a b")], v11, false),
            (&[("host", "example.com/path")], v11, false),
            (&[("host", "user@example.com")], v11, false),
            (&[("host", "example.com:80a")], v11, false),
            (&[("host", "[::1")], v11, false),
            (&[("host", "[::1]x")], v11, false),
            (&[("host", "bad%zz")], v11, false),
        ];
        for (headers, version, ok) in cases {
            let req = request("GET", "/", *version, headers);
            assert_eq!(
                check_http1(&req).is_ok(),
                *ok,
                "case {headers:?} {version:?}"
            );
        }
    }

    #[test]
    fn target_forms() {
        let host = [("host", "example.com")];
        let cases = [
            ("GET", "/", true),
            ("GET", "/a?b=c", true),
            ("GET", "http://example.com/x", true),
            ("OPTIONS", "*", true),
            ("GET", "*", false),
            ("CONNECT", "example.com:443", true),
            ("CONNECT", "/", false),
            ("GET", "example.com:443", false),
            ("GET", "foo", false),
        ];
        for (method, target, ok) in cases {
            let req = request(method, target, Version::HTTP_11, &host);
            assert_eq!(check_http1(&req).is_ok(), ok, "case {method} {target}");
        }
    }

    #[test]
    fn chunked_once_and_last() {
        let cases: &[(&[&str], bool)] = &[
            (&["chunked"], true),
            (&["gzip, chunked"], true),
            (&["gzip", "chunked"], true),
            (&["chunked, chunked"], false),
            (&["chunked", "chunked"], false),
            (&["chunked, gzip"], false),
            (&["chunked", "gzip"], false),
        ];
        for (values, ok) in cases {
            let mut headers = vec![("host", "h")];
            headers.extend(values.iter().map(|v| ("transfer-encoding", *v)));
            let req = request("POST", "/", Version::HTTP_11, &headers);
            assert_eq!(check_http1(&req).is_ok(), *ok, "case {values:?}");
        }
    }
}
