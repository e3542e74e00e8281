//! The URI helpers, the cookie parsers and jar, and the access-log format parser on
//! arbitrary text: never panic; `unescape(escape(s)) == s`.
#![no_main]

use httpstack::middleware::access_log::AccessLogLayer;
use httpstack::middleware::cookies::{Cookie, CookieJar, Url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let escaped = httpstack::uri::escape(&text);
    assert_eq!(httpstack::uri::unescape(&escaped), text);
    let _ = httpstack::uri::try_unescape(&text);
    let _ = httpstack::uri::split_path(&text);
    let _ = httpstack::uri::query_params(&text);
    let _ = Cookie::parse_set_cookie(&text);
    let _ = Cookie::parse_cookie_header(&text);
    if let (Ok(url), Ok(value)) = (
        Url::parse("http://a.example.com/p"),
        http::HeaderValue::from_bytes(data),
    ) {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::SET_COOKIE, value);
        let jar = CookieJar::new();
        jar.set_cookies(&url, &headers);
        let _ = jar.get_cookies(&url);
    }
    let _ = AccessLogLayer::new(&text);
});
