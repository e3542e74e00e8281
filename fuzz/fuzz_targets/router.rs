//! Router registration and lookup on arbitrary patterns and paths: never panics; a
//! lookup answers 200, 404 or 405.
#![no_main]

use http::{Method, Request, Response};
use httpstack::{Body, Router};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Lines: patterns, the last one the path to look up.
    let mut lines: Vec<&str> = text.split('\n').collect();
    let path = lines.pop().unwrap_or("/");
    let mut router = Router::new();
    for pattern in lines.iter().take(16) {
        let _ = router.register(Method::GET, pattern, |_req: Request<Body>| async {
            Response::new(Body::empty())
        });
    }
    let Ok(req) = Request::get(path).body(Body::empty()) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let status = runtime
        .block_on(router.oneshot(req))
        .map(|r| r.status().as_u16())
        .unwrap_or_default();
    assert!(matches!(status, 200 | 404 | 405), "status {status}");
});
