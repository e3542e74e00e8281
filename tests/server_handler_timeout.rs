//! `HandlerTimeoutLayer` (HTTP.jl `handlertimeout`) under httpstack's server, over real
//! sockets on 127.0.0.1: a slow handler gets the configured response and its future is
//! dropped, a fast one passes, an earlier deadline already in the request wins. The
//! client is httpstack's own, with `status_exception` off to read the 503.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::HeaderValue;
use http::{Request, Response, StatusCode};
use httpstack::middleware::handler_timeout::{Deadline, HandlerTimeoutLayer};
use httpstack::server::{handler_fn, serve};
use httpstack::Body;
use support::{until, within};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceBuilder};

/// Sets its flag when dropped: shows the handler's future is gone.
struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What the handlers report to the test.
#[derive(Clone, Default)]
struct Probe {
    slow_dropped: Arc<AtomicBool>,
    slow_finished: Arc<AtomicBool>,
    deadline: Arc<Mutex<Option<Deadline>>>,
}

/// `/fast` answers at once; `/slow` never does unless cancelled (it holds a drop guard
/// and says when it started); both record the deadline they were given.
fn handler(
    probe: Probe,
    started: mpsc::UnboundedSender<()>,
) -> impl Service<
    Request<httpstack::Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future: Send,
> + Clone
       + Send
       + 'static {
    handler_fn(move |req: Request<httpstack::Body>| {
        let probe = probe.clone();
        let started = started.clone();
        async move {
            *probe.deadline.lock().unwrap() = req.extensions().get::<Deadline>().copied();
            if req.uri().path() == "/slow" {
                let _guard = DropGuard(probe.slow_dropped.clone());
                let _ = started.send(());
                tokio::time::sleep(Duration::from_secs(3600)).await;
                probe.slow_finished.store(true, Ordering::SeqCst);
            }
            Response::new(Body::from("handled"))
        }
    })
}

#[tokio::test]
async fn slow_handler_gets_the_timeout_response_and_is_cancelled() {
    let probe = Probe::default();
    let (started, mut started_rx) = mpsc::unbounded_channel();
    let svc = HandlerTimeoutLayer::new(Duration::from_millis(200))
        .body(r#"{"error":"timeout"}"#)
        .content_type(HeaderValue::from_static("application/json"))
        .layer(handler(probe.clone(), started));
    let server = serve("127.0.0.1:0", svc).await.unwrap();
    let base = format!("http://{}", server.local_addr());

    let resp = within(
        "GET /slow",
        httpstack::get(format!("{base}/slow"))
            .status_exception(false)
            .retry(false),
    )
    .await
    .unwrap();
    within("the slow handler to start", started_rx.recv()).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.text(), r#"{"error":"timeout"}"#);
    until("the slow handler's future to be dropped", || {
        probe.slow_dropped.load(Ordering::SeqCst)
    })
    .await;
    assert!(!probe.slow_finished.load(Ordering::SeqCst));

    // The server goes on serving, and a fast handler passes.
    let resp = within("GET /fast", httpstack::get(format!("{base}/fast")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text(), "handled");
    server.close().await;
}

#[tokio::test]
async fn default_response_is_httpjl_s() {
    let (started, _started_rx) = mpsc::unbounded_channel();
    let svc = HandlerTimeoutLayer::new(Duration::from_millis(50))
        .layer(handler(Probe::default(), started));
    let server = serve("127.0.0.1:0", svc).await.unwrap();
    let resp = within(
        "GET /slow",
        httpstack::get(format!("http://{}/slow", server.local_addr()))
            .status_exception(false)
            .retry(false),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(resp.text(), "handler timed out");
    server.close().await;
}

/// An outer step that puts a deadline in the request, as an upstream budget would.
fn set_deadline(
    budget: Duration,
) -> impl Fn(Request<httpstack::Body>) -> Request<httpstack::Body> + Clone {
    move |mut req| {
        req.extensions_mut().insert(Deadline::after(budget));
        req
    }
}

#[tokio::test]
async fn an_earlier_deadline_in_the_request_wins() {
    let probe = Probe::default();
    let (started, mut started_rx) = mpsc::unbounded_channel();
    // The layer allows an hour; the request arrives with 200 ms left.
    let svc = ServiceBuilder::new()
        .map_request(set_deadline(Duration::from_millis(200)))
        .layer(HandlerTimeoutLayer::new(Duration::from_secs(3600)))
        .service(handler(probe.clone(), started));
    let server = serve("127.0.0.1:0", svc).await.unwrap();
    let sent = Instant::now();
    let resp = within(
        "GET /slow",
        httpstack::get(format!("http://{}/slow", server.local_addr()))
            .status_exception(false)
            .retry(false),
    )
    .await
    .unwrap();
    within("the slow handler to start", started_rx.recv()).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let deadline = probe
        .deadline
        .lock()
        .unwrap()
        .expect("the handler saw a deadline");
    assert!(
        deadline.instant() < sent + Duration::from_secs(60),
        "the handler's deadline is the request's earlier one"
    );
    until("the slow handler's future to be dropped", || {
        probe.slow_dropped.load(Ordering::SeqCst)
    })
    .await;

    // And a later deadline in the request does not extend the layer's.
    let probe = Probe::default();
    let (started, _started_rx) = mpsc::unbounded_channel();
    let svc = ServiceBuilder::new()
        .map_request(set_deadline(Duration::from_secs(3600)))
        .layer(HandlerTimeoutLayer::new(Duration::from_millis(100)))
        .service(handler(probe.clone(), started));
    let server2 = serve("127.0.0.1:0", svc).await.unwrap();
    let sent = Instant::now();
    let resp = within(
        "GET /slow",
        httpstack::get(format!("http://{}/slow", server2.local_addr()))
            .status_exception(false)
            .retry(false),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let deadline = probe
        .deadline
        .lock()
        .unwrap()
        .expect("the handler saw a deadline");
    assert!(deadline.instant() < sent + Duration::from_secs(60));
    server.close().await;
    server2.close().await;
}

/// The layer around an httpstack `Router`, as the README shows it.
#[tokio::test]
async fn around_a_router() {
    let mut router = httpstack::Router::new();
    router
        .register(
            http::Method::GET,
            "/slow",
            |_req: Request<httpstack::Body>| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Response::new(String::from("late"))
            },
        )
        .unwrap()
        .register(
            http::Method::GET,
            "/users/{id}",
            |req: Request<httpstack::Body>| async move {
                Response::new(format!(
                    "user {}",
                    httpstack::router::param::<String>(&req, "id").unwrap_or_else(|_| "?".into())
                ))
            },
        )
        .unwrap();
    let app = ServiceBuilder::new()
        .layer(HandlerTimeoutLayer::new(Duration::from_millis(100)))
        .service(router);
    let server = serve("127.0.0.1:0", app).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let resp = within("GET /users/7", httpstack::get(format!("{base}/users/7")))
        .await
        .unwrap();
    assert_eq!(resp.text(), "user 7");
    let resp = within(
        "GET /slow",
        httpstack::get(format!("{base}/slow"))
            .status_exception(false)
            .retry(false),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    server.close().await;
}
