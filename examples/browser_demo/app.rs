//! The browser demo's server, shared by `examples/browser_demo.rs` and
//! `tests/browser_demo.rs` (which includes this file with `#[path]`, so the test drives the
//! very app the example serves).
//!
//! Routes:
//! - `GET /` — the page (`index.html`), one section per check.
//! - `GET /sse/events?n=N&drop_after=K` — an `sse_stream`. A first connection (no
//!   `Last-Event-ID`) sends events 1..=K with `retry: 100`, then ends: the stream is
//!   dropped once. A reconnection resumes after its `Last-Event-ID` up to N, then stays
//!   open until the browser goes away.
//! - `GET /ws/echo` — [`ws::echo`]: a WebSocket that sends every message back, mounted as
//!   a tower `Service`.
//! - `POST /report` — the page's JSON results, kept in [`Demo`] for whoever waits on them.

use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use httpstack::server::{handler_fn, serve};
use httpstack::sse::{sse_stream, SseEvent};
use httpstack::{ws, Body, Server};
use serde_json::Value;
use tokio::sync::Notify;
use tower::Service;

const INDEX_HTML: &str = include_str!("index.html");

/// Where the WebSocket echo is mounted.
const WS_ECHO_PATH: &str = "/ws/echo";

/// The reconnection time the SSE route asks for, in milliseconds (browsers default to ~3 s).
const RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// What the demo server saw: the page's reports and the `Last-Event-ID` of each SSE
/// connection.
#[derive(Default)]
pub struct Demo {
    reports: Mutex<Vec<Value>>,
    last_event_ids: Mutex<Vec<Option<String>>>,
    changed: Notify,
}

impl Demo {
    /// Waits until the page has reported `check`, and returns that report.
    pub async fn report(&self, check: &str) -> Value {
        loop {
            let changed = self.changed.notified();
            if let Some(report) = self.find(check) {
                return report;
            }
            changed.await;
        }
    }

    fn find(&self, check: &str) -> Option<Value> {
        let reports = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        reports.iter().find(|r| r["check"] == check).cloned()
    }

    /// The `Last-Event-ID` header of each SSE connection so far, in order.
    pub fn last_event_ids(&self) -> Vec<Option<String>> {
        self.last_event_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Starts the demo server on `addr` (`"127.0.0.1:0"` for an ephemeral port).
pub async fn start(addr: &str) -> Result<(Server, Arc<Demo>), httpstack::Error> {
    let demo = Arc::new(Demo::default());
    let state = demo.clone();
    let echo = ws::echo();
    let server = serve(
        addr,
        handler_fn(move |req: Request<httpstack::Body>| {
            let demo = state.clone();
            // The upgrade service answers at once (a 101, or 400 / 426 to a request that
            // is no WebSocket handshake), so it is called here, outside the async block.
            let routed = if req.uri().path() == WS_ECHO_PATH {
                Err(websocket(&echo, req))
            } else {
                Ok(req)
            };
            async move {
                match routed {
                    Ok(req) => route(demo, req).await,
                    Err(response) => response,
                }
            }
        }),
    )
    .await?;
    Ok((server, demo))
}

/// `ws::echo` mounted as a tower `Service`: it answers the handshake and runs the echo
/// on the upgraded connection in a task of its own.
fn websocket(echo: &ws::Upgrade<ws::EchoHandler>, req: Request<httpstack::Body>) -> Response<Body> {
    match echo.clone().call(req).into_inner() {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

async fn route(demo: Arc<Demo>, req: Request<httpstack::Body>) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Body::from(INDEX_HTML))
            .unwrap_or_default(),
        (&Method::GET, "/sse/events") => sse_events(&demo, &req),
        (&Method::POST, "/report") => {
            let body = req.into_body().collect().await.map(|b| b.to_bytes());
            match body
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            {
                Some(report) => {
                    println!("report: {report}");
                    demo.reports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(report);
                    demo.changed.notify_waiters();
                    status(StatusCode::NO_CONTENT)
                }
                None => status(StatusCode::BAD_REQUEST),
            }
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

fn sse_events(demo: &Demo, req: &Request<httpstack::Body>) -> Response<Body> {
    let query = |name: &str, default: u64| {
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    };
    let (n, drop_after) = (query("n", 10), query("drop_after", 4));
    let last_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    demo.last_event_ids
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(last_id.clone());
    let first = last_id
        .as_deref()
        .and_then(|id| id.parse::<u64>().ok())
        .map_or(1, |id| id + 1);
    let reconnected = last_id.is_some();
    sse_stream(StatusCode::OK, move |tx| async move {
        let last = if reconnected { n } else { drop_after.min(n) };
        for i in first..=last {
            let event = SseEvent::new(format!("event {i}"))
                .id(i.to_string())
                .retry(RETRY);
            tx.send(event).await?;
        }
        if reconnected {
            // Stay open until the page closes its EventSource.
            tx.closed().await;
        }
        // Otherwise returning drops the stream: the browser reconnects.
        Ok::<_, httpstack::Error>(())
    })
}

fn status(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}
