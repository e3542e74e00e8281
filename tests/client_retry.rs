//! The retry layer (HTTP.jl `retrylayer`) over real sockets on 127.0.0.1.
//!
//! Most tests wrap a bare hyper-util legacy client (its errors mapped by
//! `httpstack::client::transport_error`, as a foreign error type must be), so the layer is
//! shown to work outside httpstack's stack; one wraps httpstack's `StatusLayer`, where error statuses arrive as
//! `StatusError`s. Servers: httpstack's own (`serve` + `handler_fn`) for status-level
//! failures, raw `TcpListener`s for connection-level ones, and the `h2` crate's server for
//! HTTP/2 `REFUSED_STREAM`. Delays are 1 ms and attempts are counted, never timed.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use httpstack::client::transport_error;
use httpstack::middleware::retry::{
    ExponentialBackOff, RetryBudget, RetryConfig, RetryCount, RetryLayer, IDEMPOTENCY_KEY,
};
use httpstack::middleware::status::StatusLayer;
use httpstack::server::{handler_fn, serve, Server};
use httpstack::{Body, Error};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::within;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder, ServiceExt};

type HyperClient = tower::util::MapErr<
    Client<HttpConnector, Body>,
    fn(hyper_util::client::legacy::Error) -> Error,
>;

fn client() -> HyperClient {
    bare(Client::builder(TokioExecutor::new()).build_http())
}

/// A bare hyper-util client whose errors read as httpstack's transport's do.
fn bare(client: Client<HttpConnector, Body>) -> HyperClient {
    client.map_err(transport_error as fn(_) -> _)
}

/// HTTP.jl's defaults with 1 ms between attempts.
fn fast() -> RetryLayer {
    RetryLayer::new().retry_delays(ExponentialBackOff::fixed(Duration::from_millis(1)))
}

/// A server answering `status` (with `headers`) to its first `fails` requests, then 200
/// `ok`; and its count of requests.
async fn flaky(
    fails: usize,
    status: u16,
    headers: &'static [(&'static str, &'static str)],
) -> (Server, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let handler = handler_fn(move |_req: Request<httpstack::Body>| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut resp = Response::builder();
            if n < fails {
                resp = resp.status(status);
                for (name, value) in headers {
                    resp = resp.header(*name, *value);
                }
                resp.body(Body::from("failed")).unwrap()
            } else {
                resp.body(Body::from("ok")).unwrap()
            }
        }
    });
    let server = within("serve", serve("127.0.0.1:0", handler))
        .await
        .expect("serve");
    (server, calls)
}

fn get(server: &Server) -> Request<Body> {
    request(Method::GET, server.local_addr(), Body::empty())
}

fn request(method: Method, addr: SocketAddr, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(format!("http://{addr}/"))
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn a_server_failing_fewer_times_than_retries_is_retried_to_success() {
    for fails in [0, 1, 3, 4] {
        let (server, calls) = flaky(fails, 503, &[]).await;
        let svc = ServiceBuilder::new().layer(fast()).service(client());
        let resp = within("request", svc.oneshot(get(&server)))
            .await
            .expect("response");
        assert_eq!(resp.status(), StatusCode::OK, "fails={fails}");
        assert_eq!(RetryCount::of(&resp), fails, "fails={fails}");
        assert_eq!(
            resp.extensions().get::<RetryCount>().is_some(),
            fails > 0,
            "fails={fails}: the count is recorded only after a retry"
        );
        assert_eq!(calls.load(Ordering::SeqCst), fails + 1, "fails={fails}");
    }
}

#[tokio::test]
async fn a_server_that_always_fails_gets_retries_plus_one_attempts() {
    for (retries, status) in [(4, 500), (1, 503), (0, 502), (2, 429), (2, 403)] {
        let (server, calls) = flaky(usize::MAX, status, &[]).await;
        let svc = ServiceBuilder::new()
            .layer(fast().retries(retries))
            .service(client());
        let resp = within("request", svc.oneshot(get(&server)))
            .await
            .expect("response");
        let case = format!("retries={retries} status={status}");
        assert_eq!(resp.status().as_u16(), status, "{case}");
        assert_eq!(RetryCount::of(&resp), retries, "{case}");
        assert_eq!(calls.load(Ordering::SeqCst), retries + 1, "{case}");
    }
}

#[tokio::test]
async fn non_idempotent_requests_are_retried_only_when_allowed() {
    // (method, Idempotency-Key, retry_non_idempotent, attempts against an always-500 server)
    let cases: &[(Method, bool, bool, usize)] = &[
        (Method::GET, false, false, 3),
        (Method::PUT, false, false, 3),
        (Method::DELETE, false, false, 3),
        (Method::POST, false, false, 1),
        (Method::PATCH, false, false, 1),
        (Method::POST, true, false, 3),
        (Method::POST, false, true, 3),
        (Method::PATCH, true, false, 3),
    ];
    for (method, key, non_idempotent, attempts) in cases {
        let (server, calls) = flaky(usize::MAX, 500, &[]).await;
        let layer = fast().retries(2).retry_non_idempotent(*non_idempotent);
        let svc = ServiceBuilder::new().layer(layer).service(client());
        let mut req = request(method.clone(), server.local_addr(), Body::from("data"));
        if *key {
            req.headers_mut()
                .insert(IDEMPOTENCY_KEY, "order-17".parse().unwrap());
        }
        let resp = within("request", svc.oneshot(req)).await.expect("response");
        let case = format!("{method} key={key} retry_non_idempotent={non_idempotent}");
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR, "{case}");
        assert_eq!(calls.load(Ordering::SeqCst), *attempts, "{case}");
    }
}

#[tokio::test]
async fn a_request_config_overrides_the_layer() {
    for (config, attempts) in [
        (None, 5),
        (Some(RetryConfig::default().retry(false)), 1),
        (Some(RetryConfig::default().retries(1)), 2),
        (
            Some(RetryConfig::default().retry_non_idempotent(true).retries(2)),
            3,
        ),
    ] {
        let (server, calls) = flaky(usize::MAX, 503, &[]).await;
        let svc = ServiceBuilder::new().layer(fast()).service(client());
        let mut req = get(&server);
        if let Some(config) = &config {
            let config = config
                .clone()
                .retry_delays(ExponentialBackOff::fixed(Duration::from_millis(1)));
            req.extensions_mut().insert(config);
        }
        within("request", svc.oneshot(req)).await.expect("response");
        assert_eq!(calls.load(Ordering::SeqCst), attempts, "{config:?}");
    }
}

#[tokio::test]
async fn a_streamed_body_is_never_resent() {
    let (server, calls) = flaky(usize::MAX, 503, &[]).await;
    let svc = ServiceBuilder::new().layer(fast()).service(client());
    let body = Body::from_chunks(vec!["one-", "shot"]);
    let req = request(Method::PUT, server.local_addr(), body);
    let resp = within("request", svc.oneshot(req)).await.expect("response");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(RetryCount::of(&resp), 0);
}

/// The hyper client behind a counter of the attempts that reach it.
fn counted(
    layer: RetryLayer,
) -> (
    impl Service<Request<Body>, Response = Response<Incoming>, Error = Error>,
    Arc<AtomicUsize>,
) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let svc = ServiceBuilder::new()
        .layer(layer)
        .map_request(move |req: Request<Body>| {
            seen.fetch_add(1, Ordering::SeqCst);
            req
        })
        .service(client());
    (svc, attempts)
}

/// An address on 127.0.0.1 where nothing listens.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr
}

#[tokio::test]
async fn connect_errors_are_retried_whatever_the_method_then_returned() {
    let addr = closed_port().await;
    for method in [Method::GET, Method::POST] {
        let (svc, attempts) = counted(fast().retries(3));
        let req = request(method.clone(), addr, Body::from("data"));
        let err = within("request", svc.oneshot(req))
            .await
            .expect_err("nothing listens");
        assert!(err.is_connect(), "{method}: {err:?}");
        assert_eq!(attempts.load(Ordering::SeqCst), 4, "{method}");
    }
}

/// A raw HTTP/1 server that reads each request head and closes the connection without a
/// reply for the first `fails` connections, then answers 200 `ok`; and its count of
/// connections.
async fn closing(fails: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let conns = Arc::new(AtomicUsize::new(0));
    let seen = conns.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                if n >= fails {
                    let reply =
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                    let _ = tcp.write_all(reply).await;
                }
                // Dropping the stream closes it: without a reply for the failing ones.
            });
        }
    });
    (addr, conns)
}

#[tokio::test]
async fn a_connection_closed_before_the_response_is_retried_for_idempotent_requests() {
    // (method, connections closed without a reply, connections made, success)
    for (method, fails, made, ok) in [
        (Method::GET, 2, 3, true),
        (Method::DELETE, 1, 2, true),
        (Method::GET, 9, 5, false),
        (Method::POST, 2, 1, false),
    ] {
        let (addr, conns) = closing(fails).await;
        let svc = ServiceBuilder::new().layer(fast()).service(client());
        let result = within(
            "request",
            svc.oneshot(request(method.clone(), addr, Body::from("x"))),
        )
        .await;
        let case = format!("{method} fails={fails}");
        assert_eq!(conns.load(Ordering::SeqCst), made, "{case}");
        match result {
            Ok(resp) => {
                assert!(ok, "{case}: unexpected success");
                assert_eq!(RetryCount::of(&resp), fails, "{case}");
            }
            Err(err) => {
                assert!(!ok, "{case}: {err:?}");
                assert!(!err.is_connect(), "{case}: {err:?}");
            }
        }
    }
}

/// Reads one request head (and nothing more) from `tcp`; `false` when the peer closed.
async fn read_head(tcp: &mut tokio::net::TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tcp.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

#[tokio::test]
async fn a_stale_pooled_connection_is_retried_for_idempotent_requests() {
    // The first connection answers one request, keeps alive, then closes under the next
    // request (the keep-alive race); later connections answer and close.
    for (method, ok) in [(Method::GET, true), (Method::POST, false)] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let conns = Arc::new(AtomicUsize::new(0));
        let seen = conns.clone();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let first = seen.fetch_add(1, Ordering::SeqCst) == 0;
                tokio::spawn(async move {
                    if !read_head(&mut tcp).await {
                        return;
                    }
                    let close = if first { "keep-alive" } else { "close" };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: {close}\r\n\r\nok"
                    );
                    let _ = tcp.write_all(reply.as_bytes()).await;
                    if first {
                        read_head(&mut tcp).await;
                    }
                });
            }
        });
        let mut svc = ServiceBuilder::new().layer(fast()).service(client());
        let warm = request(Method::GET, addr, Body::empty());
        let resp = within("first request", svc.ready().await.unwrap().call(warm))
            .await
            .expect("first response");
        // Read the body so the connection goes back to the pool.
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .expect("first body");
        let req = request(method.clone(), addr, Body::from("x"));
        let result = within("second request", svc.ready().await.unwrap().call(req)).await;
        match result {
            Ok(resp) => {
                assert!(ok, "{method}: unexpected success");
                assert_eq!(RetryCount::of(&resp), 1, "{method}");
                assert_eq!(conns.load(Ordering::SeqCst), 2, "{method}");
            }
            Err(err) => {
                assert!(!ok, "{method}: {err:?}");
                assert_eq!(conns.load(Ordering::SeqCst), 1, "{method}");
            }
        }
    }
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_its_cap() {
    // A long Retry-After would stall the test if it were not capped at 1 ms.
    const CASES: &[(u16, &str)] = &[
        (503, "0"),
        (429, "1"),
        (503, "3600"),
        (429, "Fri, 31 Dec 2100 23:59:59 GMT"),
        (503, "not a date"),
    ];
    for (status, value) in CASES {
        let headers: &'static [(&str, &str)] = Box::leak(Box::new([("retry-after", *value)]));
        let (server, calls) = flaky(1, *status, headers).await;
        let layer = fast().retry_after_max(Duration::from_millis(1));
        let svc = ServiceBuilder::new().layer(layer).service(client());
        let resp = within("request", svc.oneshot(get(&server)))
            .await
            .expect("response");
        let case = format!("{status} Retry-After: {value}");
        assert_eq!(resp.status(), StatusCode::OK, "{case}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{case}");
    }
}

#[tokio::test]
async fn retry_check_forces_a_retry_the_rule_would_not_make() {
    for (force, attempts, status) in [(false, 1, 404), (true, 2, 200)] {
        let (server, calls) = flaky(1, 404, &[]).await;
        let layer = fast().retry_check(move |state, error, req, resp, _body| {
            force
                && state.retries_made == 0
                && error.is_none()
                && req.method == Method::GET
                && resp.is_some_and(|r| r.status == StatusCode::NOT_FOUND)
        });
        let svc = ServiceBuilder::new().layer(layer).service(client());
        let resp = within("request", svc.oneshot(get(&server)))
            .await
            .expect("response");
        assert_eq!(resp.status().as_u16(), status, "force={force}");
        assert_eq!(calls.load(Ordering::SeqCst), attempts, "force={force}");
    }
}

#[tokio::test]
async fn a_spent_host_budget_stops_retries_across_clones() {
    // Nothing free; one retry per two requests to a host.
    let budget = RetryBudget::new(Duration::from_secs(10), 0, 0.5);
    let (server, calls) = flaky(usize::MAX, 503, &[]).await;
    let (other, other_calls) = flaky(usize::MAX, 503, &[]).await;
    let first = ServiceBuilder::new()
        .layer(fast().budget(budget))
        .service(client());
    let second = first.clone();
    // (service, server, attempts): the first request deposits, the second can afford one
    // retry (through a clone: the budget is shared), the third finds it spent again.
    let mut made = Vec::new();
    for svc in [&first, &second, &first] {
        let before = calls.load(Ordering::SeqCst);
        within("request", svc.clone().oneshot(get(&server)))
            .await
            .expect("response");
        made.push(calls.load(Ordering::SeqCst) - before);
    }
    assert_eq!(made, [1, 2, 1]);
    // Another host has its own budget.
    within("request", second.clone().oneshot(get(&other)))
        .await
        .expect("response");
    assert_eq!(other_calls.load(Ordering::SeqCst), 1);

    // Without a budget, every request gets its retries.
    let unbounded = ServiceBuilder::new()
        .layer(fast().no_budget())
        .service(client());
    let before = calls.load(Ordering::SeqCst);
    within("request", unbounded.oneshot(get(&server)))
        .await
        .expect("response");
    assert_eq!(calls.load(Ordering::SeqCst) - before, 5);
}

#[tokio::test]
async fn above_the_status_layer_status_errors_are_retried_and_counted() {
    // (failing status, times it fails, retries, final status, retries recorded)
    for (status, fails, retries, final_status, recorded) in [
        (503, 2, 4, 200, Some(2)),
        (503, usize::MAX, 2, 503, Some(2)),
        (404, usize::MAX, 4, 404, None),
    ] {
        let (server, calls) = flaky(fails, status, &[]).await;
        let svc = ServiceBuilder::new()
            .layer(fast().retries(retries))
            .layer(StatusLayer::new())
            .service(client());
        let case = format!("{status} x{fails} retries={retries}");
        match within("request", svc.oneshot(get(&server))).await {
            Ok(resp) => {
                assert_eq!(resp.status().as_u16(), final_status, "{case}");
                assert_eq!(recorded, Some(RetryCount::of(&resp)), "{case}");
            }
            Err(err) => {
                assert_eq!(
                    err.status().map(|s| s.as_u16()),
                    Some(final_status),
                    "{case}"
                );
                assert_eq!(err.retries(), recorded, "{case}");
                assert_eq!(err.response().unwrap().body(), "failed", "{case}");
                if let Some(n) = recorded {
                    let message = err.to_string();
                    assert!(
                        message.contains(&format!("after {n} retries")),
                        "{case}: {message}"
                    );
                }
            }
        }
        let attempts = recorded.map_or(1, |n| n + 1);
        assert_eq!(calls.load(Ordering::SeqCst), attempts, "{case}");
    }
}

#[tokio::test]
async fn above_the_status_layer_connect_errors_record_their_retries() {
    let addr = closed_port().await;
    let svc = ServiceBuilder::new()
        .layer(fast().retries(2))
        .layer(StatusLayer::new())
        .service(client());
    let req = request(Method::GET, addr, Body::empty());
    let err = within("request", svc.oneshot(req))
        .await
        .expect_err("nothing listens");
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(err.retries(), Some(2));
    assert!(err.to_string().contains("after 2 retries"), "{err}");
}

/// An h2c server (the `h2` crate's) that refuses its first `fails` streams with
/// `REFUSED_STREAM`, then answers 200; and its count of streams.
async fn refusing(fails: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let streams = Arc::new(AtomicUsize::new(0));
    let seen = streams.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(tcp).await else {
                    return;
                };
                while let Some(Ok((_req, mut respond))) = conn.accept().await {
                    if seen.fetch_add(1, Ordering::SeqCst) < fails {
                        respond.send_reset(h2::Reason::REFUSED_STREAM);
                    } else {
                        let _ = respond.send_response(Response::new(()), true);
                    }
                }
            });
        }
    });
    (addr, streams)
}

#[tokio::test]
async fn a_refused_http2_stream_is_retried_even_for_post() {
    let (addr, streams) = refusing(2).await;
    let h2c = bare(
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http(),
    );
    let svc = ServiceBuilder::new().layer(fast()).service(h2c);
    let req = request(Method::POST, addr, Body::from("order"));
    let resp = within("request", svc.oneshot(req)).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(RetryCount::of(&resp), 2);
    assert_eq!(streams.load(Ordering::SeqCst), 3);
}
