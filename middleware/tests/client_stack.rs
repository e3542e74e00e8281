//! The layers httpstack's `Client` is built from, stacked in its order (see the main
//! crate's `src/client/layers.rs`) with `tower::ServiceBuilder` around a *bare* hyper-util
//! legacy client — no httpstack transport — against a real axum server on 127.0.0.1.
//!
//! This is the README's claim made concrete: every layer takes the inner service's error
//! as it comes (hyper-util's own `Error` here) and the whole stack type-checks and works.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use httpstack_middleware::cookies::{CookieJar, CookieLayer};
use httpstack_middleware::decompression::DecompressionLayer;
use httpstack_middleware::headers::HeadersLayer;
use httpstack_middleware::log_errors::LogErrorsLayer;
use httpstack_middleware::redirect::{RedirectChain, RedirectLayer};
use httpstack_middleware::retry::{ExponentialBackOff, RetryCount, RetryLayer};
use httpstack_middleware::status::StatusLayer;
use httpstack_middleware::timeout::{DeadlineLayer, TimeoutLayer};
use httpstack_middleware::{Body, Error};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{ServiceBuilder, ServiceExt};

/// An axum app: `/start` redirects to `/flaky`, which answers 503 once, then 200
/// with the cookie it was sent; `/missing` is a 404. Returns its address and the number of
/// requests `/flaky` saw.
async fn server() -> (SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = axum::Router::new()
        .route(
            "/start",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [
                        ("location", "/flaky"),
                        ("set-cookie", "session=abc; Path=/"),
                    ],
                )
            }),
        )
        .route(
            "/flaky",
            get(move |headers: http::HeaderMap| {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        return (StatusCode::SERVICE_UNAVAILABLE, String::from("busy"));
                    }
                    let cookie = headers
                        .get("cookie")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_owned();
                    (StatusCode::OK, format!("ok, cookie {cookie}"))
                }
            }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, calls)
}

#[tokio::test]
async fn the_client_stack_wraps_a_bare_hyper_util_client() {
    let (addr, calls) = server().await;
    let bare: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    // Outermost first, as httpstack's Client stacks them.
    let client = ServiceBuilder::new()
        .layer(DeadlineLayer::new().timeout(Duration::from_secs(10)))
        .layer(RedirectLayer::new())
        .layer(HeadersLayer::new())
        .layer(CookieLayer::new(CookieJar::new()))
        .layer(RetryLayer::new().retry_delays(ExponentialBackOff::fixed(Duration::from_millis(1))))
        .layer(LogErrorsLayer::new())
        // --- connection boundary ---
        .layer(TimeoutLayer::new().read_timeout(Duration::from_secs(5)))
        .layer(StatusLayer::new())
        .layer(DecompressionLayer::new())
        .service(bare);

    // A redirect, then a 503 retried, with the redirect's cookie sent along.
    let req = Request::get(format!("http://{addr}/start"))
        .body(Body::empty())
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(10), client.clone().oneshot(req))
        .await
        .expect("in time")
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(RetryCount::of(&resp), 1);
    let chain = RedirectChain::of(&resp).expect("a redirect chain");
    assert_eq!(chain.url().path(), "/flaky");
    assert_eq!(chain.first_url().path(), "/start");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body, "ok, cookie session=abc");
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // An error status becomes httpstack's StatusError (404 is not retried).
    let req = Request::get(format!("http://{addr}/missing"))
        .body(Body::empty())
        .expect("request");
    let err: Error = client.clone().oneshot(req).await.expect_err("404");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND), "{err:?}");

    // hyper-util's own connect error comes through the stack as an httpstack Error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let req = Request::get(format!("http://{closed}/"))
        .body(Body::empty())
        .expect("request");
    let err = client.oneshot(req).await.expect_err("nothing listens");
    assert!(err.is_request(), "{err:?}");
    // A refused connection was never sent, so it was retried (4 times by default).
    assert_eq!(err.retries(), Some(4), "{err:?}");
}
