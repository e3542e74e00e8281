//! Property tests of the entry points hostile input reaches: the HTTP/1 head parsers,
//! multipart forms, the router (registration and lookup), cookies (`Set-Cookie`,
//! `Cookie`, the jar), the SSE parser, the URI helpers and the access-log format parser.
//! Arbitrary bytes (and arbitrary splits of them) never panic: each entry point gives its
//! result or its typed error. Fixed seeds (proptest's `Config::with_source_file` and
//! `rng_seed`) and bounded case counts keep the run fast and repeatable. The `fuzz/`
//! targets run the same entry points under libFuzzer, by hand.

use bytes::Bytes;
use http::{Method, Request};
use httpstack::messages::{parse_request_head, parse_response_head};
use httpstack::middleware::access_log::AccessLogLayer;
use httpstack::middleware::cookies::{Cookie, CookieJar, Url};
use httpstack::server::parse_multipart_form;
use httpstack::sse::SseParser;
use httpstack::{Body, Router};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use tower::ServiceExt;

/// The same cases on every run; enough to be worth running, few enough for CI.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x4854_5450),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Bytes that look like HTTP more often than uniform noise would.
fn http_ish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        &b"GET "[..],
        b"POST ",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b" 200 OK",
        b"\r\n",
        b"\n",
        b"\r",
        b": ",
        b"Host",
        b"Content-Length",
        b"Transfer-Encoding: chunked",
        b"/",
        b"*",
        b"%",
        b"\0",
        b"\xff",
        b" ",
        b"x",
    ]);
    prop::collection::vec(
        prop_oneof![
            pieces.prop_map(<[u8]>::to_vec),
            any::<u8>().prop_map(|b| vec![b])
        ],
        0..64,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn head_parsers_never_panic_and_agree_with_themselves_split(bytes in http_ish(), cut in any::<prop::sample::Index>()) {
        // A complete head parses the same from any longer buffer; a partial one is `None`
        // or an error, never a different head.
        let whole = parse_request_head(&bytes);
        let cut = cut.index(bytes.len() + 1);
        if let Ok(Some((parts, len))) = &whole {
            prop_assert!(*len <= bytes.len());
            if cut >= *len {
                let again = parse_request_head(&bytes[..cut]);
                let (again, again_len) = again.expect("same head").expect("complete");
                prop_assert_eq!(again_len, *len);
                prop_assert_eq!(&again.uri, &parts.uri);
            }
        }
        let _ = parse_response_head(&bytes);
    }

    #[test]
    fn uri_helpers_never_panic(s in ".{0,64}", bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let lossy = String::from_utf8_lossy(&bytes);
        for input in [s.as_str(), &lossy] {
            let escaped = httpstack::uri::escape(input);
            prop_assert_eq!(httpstack::uri::unescape(&escaped), input);
            let _ = httpstack::uri::try_unescape(input);
            let _ = httpstack::uri::split_path(input);
            let _ = httpstack::uri::query_params(input);
            let _ = httpstack::uri::query_map(input);
        }
    }

    #[test]
    fn cookie_parsers_and_the_jar_never_panic(line in ".{0,96}", host in "[a-z.]{1,12}") {
        let _ = Cookie::parse_set_cookie(&line);
        let _ = Cookie::parse_cookie_header(&line);
        let jar = CookieJar::new();
        if let Ok(url) = Url::parse(&format!("http://{host}/p")) {
            let mut headers = http::HeaderMap::new();
            if let Ok(value) = http::HeaderValue::from_str(&line) {
                headers.append(http::header::SET_COOKIE, value);
            }
            jar.set_cookies(&url, &headers);
            let _ = jar.get_cookies(&url);
        }
    }

    #[test]
    fn the_sse_parser_never_panics_on_any_split(bytes in prop::collection::vec(any::<u8>(), 0..256), cut in any::<prop::sample::Index>()) {
        let cut = cut.index(bytes.len() + 1);
        let mut parser = SseParser::new();
        for piece in [&bytes[..cut], &bytes[cut..]] {
            if parser.feed(piece).is_err() {
                break;
            }
            while parser.next_event().is_some() {}
        }
    }

    #[test]
    fn access_log_formats_never_panic(format in ".{0,48}") {
        let _ = AccessLogLayer::new(&format);
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn multipart_bodies_never_panic(body in http_ish(), boundary in "[a-zA-Z0-9'()+_,./:=?-]{1,40}") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            for content_type in [
                format!("multipart/form-data; boundary={boundary}"),
                format!("multipart/mixed; boundary=\"{boundary}\""),
                "multipart/form-data".to_owned(),
            ] {
                let req = Request::post("/")
                    .header("content-type", content_type)
                    .body(Body::from(Bytes::from(body.clone())))
                    .expect("request");
                let Ok(mut form) = parse_multipart_form(req) else { continue };
                // Bounded: a form has at most as many parts as the body has bytes.
                for _ in 0..=body.len() {
                    match form.next_part().await {
                        Ok(Some(mut part)) => while let Ok(Some(_)) = part.chunk().await {},
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        });
    }

    #[test]
    fn router_registration_and_lookup_never_panic(
        patterns in prop::collection::vec("(/([a-z]{1,3}|\\*|\\*\\*|\\{[a-z]{1,3}\\}|\\{[a-z]:[0-9a-z+*\\[\\]()|.^$]{0,6}\\}|\\{\\*[a-z]\\}))*", 1..6),
        path in "(/([a-z0-9.]{0,3}|%[0-9a-fA-F]{0,2}))*",
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let mut router = Router::new();
            for pattern in &patterns {
                // A pattern may be refused (a bad regex, `**` not last): a typed error.
                let _ = router.register(Method::GET, pattern, |_req: Request<Body>| async {
                    http::Response::new(Body::from("ok"))
                });
            }
            if let Ok(req) = Request::get(if path.is_empty() { "/" } else { path.as_str() }).body(Body::empty()) {
                let response = router.clone().oneshot(req).await;
                let status = response.map(|r| r.status().as_u16()).unwrap_or_default();
                assert!(matches!(status, 200 | 404 | 405), "status {status}");
            }
        });
    }
}
