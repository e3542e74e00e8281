//! Server-Sent Events over real sockets: httpstack's `sse_stream` server, read by
//! httpstack's client (`.sse()`, `EventSource`) and by reqwest.

mod support;

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use httpstack::server::{handler_fn, serve};
use httpstack::sse::{
    sse_stream, EventSource, SseConfig, SseEvent, SseParseError, SseParser, SseResponseExt,
};
use httpstack::{Body, Client, Server};
use support::within;
use tokio::sync::{mpsc, oneshot};

/// Serves `service` on an ephemeral port; returns the server and its base URL.
async fn start<S, B>(service: S) -> (Server, String)
where
    S: tower::Service<Request<httpstack::Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<httpstack::BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<httpstack::BoxError>,
{
    let server = within("bind", serve("127.0.0.1:0", service)).await.unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    (server, base)
}

/// A server whose every response is `n` numbered events (`id: i`, `data: event i`).
async fn numbered(n: usize) -> (Server, String) {
    start(handler_fn(
        move |_req: Request<httpstack::Body>| async move {
            sse_stream(StatusCode::OK, move |tx| async move {
                for i in 1..=n {
                    tx.send(SseEvent::new(format!("event {i}")).id(i.to_string()))
                        .await?;
                }
                Ok::<_, httpstack::Error>(())
            })
        },
    ))
    .await
}

fn expected(n: usize) -> Vec<(String, Option<String>)> {
    (1..=n)
        .map(|i| (format!("event {i}"), Some(i.to_string())))
        .collect()
}

fn data_and_ids(events: Vec<Result<SseEvent, httpstack::Error>>) -> Vec<(String, Option<String>)> {
    events
        .into_iter()
        .map(|e| e.map(|e| (e.data, e.id)).unwrap())
        .collect()
}

#[tokio::test]
async fn httpstack_client_receives_events_in_order() {
    let (server, base) = numbered(200).await;
    let stream = within(
        "sse request",
        httpstack::get(format!("{base}/events")).sse(),
    )
    .await
    .unwrap();
    let events: Vec<_> = within("all events", stream.collect()).await;
    assert_eq!(data_and_ids(events), expected(200));

    // The same through `Client::execute` and the `.sse()` extension on `http::Response`.
    let client = Client::new();
    let request = client.get(format!("{base}/events")).build().unwrap();
    let response = within("execute", client.execute(request)).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let events: Vec<_> = within("all events", response.sse().collect()).await;
    assert_eq!(data_and_ids(events), expected(200));
    server.close().await;
}

#[tokio::test]
async fn reqwest_receives_events_in_order() {
    let (server, base) = numbered(200).await;
    let response = within("reqwest", reqwest::get(format!("{base}/events")))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let response: http::Response<reqwest::Body> = response.into();
    let events: Vec<_> = within("all events", response.sse().collect()).await;
    assert_eq!(data_and_ids(events), expected(200));
    server.close().await;
}

/// A server whose producer sends event `i + 1` only after the test acknowledged event `i`
/// over a channel: if any layer held an event back, the test would wait forever (bounded
/// by `within`), so reaching the end shows each event was delivered on its own.
fn ack_handler(
    acks: Arc<Mutex<Option<mpsc::Receiver<usize>>>>,
    n: usize,
) -> impl Fn(Request<httpstack::Body>) -> std::future::Ready<Response<Body>> + Clone + Send + 'static
{
    move |_req| {
        let acks = acks.lock().unwrap().take();
        std::future::ready(sse_stream(StatusCode::OK, move |tx| async move {
            let Some(mut acks) = acks else { return };
            for i in 1..=n {
                // Padding makes the event worth compressing (and bigger than gzip's header).
                let event = SseEvent::new(format!("event {i} {}", "x".repeat(200)));
                if tx.send(event).await.is_err() || acks.recv().await != Some(i) {
                    return;
                }
            }
        }))
    }
}

async fn ack_events_httpstack(base: &str, n: usize, acks: mpsc::Sender<usize>) {
    let mut stream = within("sse request", httpstack::get(format!("{base}/ack")).sse())
        .await
        .unwrap();
    for i in 1..=n {
        let event = within(
            &format!("event {i} before the next is produced"),
            stream.next(),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(
            event.data.starts_with(&format!("event {i} ")),
            "{}",
            event.data
        );
        acks.send(i).await.unwrap();
    }
    assert!(within("end", stream.next()).await.is_none());
}

#[tokio::test]
async fn each_event_is_flushed_as_sent() {
    let (ack_tx, ack_rx) = mpsc::channel(1);
    let acks = Arc::new(Mutex::new(Some(ack_rx)));
    let (server, base) = start(handler_fn(ack_handler(acks, 5))).await;
    ack_events_httpstack(&base, 5, ack_tx).await;
    server.close().await;
}

/// The same over HTTP/2 (h2c by prior knowledge, hyper's client): one DATA frame per
/// event, read through the `.sse()` extension on hyper's response.
#[tokio::test]
async fn each_event_is_flushed_over_h2c() {
    let (ack_tx, ack_rx) = mpsc::channel(1);
    let acks = Arc::new(Mutex::new(Some(ack_rx)));
    let (server, _base) = start(handler_fn(ack_handler(acks, 5))).await;
    let mut sender = support::h2c::h2c(server.local_addr()).await;
    let request = Request::get(format!("http://{}/ack", server.local_addr()))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = within("h2c request", sender.send_request(request))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.sse();
    for i in 1..=5 {
        let event = within(&format!("event {i} over h2c"), stream.next())
            .await
            .unwrap()
            .unwrap();
        assert!(
            event.data.starts_with(&format!("event {i} ")),
            "{}",
            event.data
        );
        ack_tx.send(i).await.unwrap();
    }
    assert!(within("end", stream.next()).await.is_none());
    server.close().await;
}

#[tokio::test]
async fn flushed_behind_default_compression_layer() {
    // tower-http's default predicate leaves text/event-stream uncompressed.
    let (ack_tx, ack_rx) = mpsc::channel(1);
    let acks = Arc::new(Mutex::new(Some(ack_rx)));
    let service = tower::ServiceBuilder::new()
        .layer(tower_http::compression::CompressionLayer::new())
        .service(handler_fn(ack_handler(acks, 5)));
    let (server, base) = start(service).await;
    ack_events_httpstack(&base, 5, ack_tx).await;
    server.close().await;
}

/// With a predicate that does compress event streams, each event still arrives alone: the
/// gzip encoder flushes whenever the SSE body has no more to give. Read with reqwest
/// (without its gzip feature, so the bytes arrive compressed) and decompressed here chunk
/// by chunk, and with httpstack's client (which decompresses as it streams).
#[tokio::test]
async fn flushed_behind_compression_that_compresses_event_streams() {
    use tower_http::compression::predicate::SizeAbove;
    use tower_http::compression::CompressionLayer;

    let (ack_tx, ack_rx) = mpsc::channel(1);
    let acks = Arc::new(Mutex::new(Some(ack_rx)));
    let service = tower::ServiceBuilder::new()
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(0)))
        .service(handler_fn(ack_handler(acks.clone(), 5)));
    let (server, base) = start(service).await;

    let mut response = within(
        "reqwest",
        reqwest::Client::new()
            .get(format!("{base}/ack"))
            .header("accept-encoding", "gzip")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let mut gunzip = flate2::write::GzDecoder::new(Vec::new());
    let mut parser = SseParser::new();
    for i in 1..=5 {
        let event = loop {
            if let Some(event) = parser.next_event() {
                break event;
            }
            let chunk = within(&format!("compressed bytes of event {i}"), response.chunk())
                .await
                .unwrap()
                .expect("the stream ended before every event arrived");
            gunzip.write_all(&chunk).unwrap();
            gunzip.flush().unwrap();
            parser.feed(&std::mem::take(gunzip.get_mut())).unwrap();
        };
        assert!(
            event.data.starts_with(&format!("event {i} ")),
            "{}",
            event.data
        );
        ack_tx.send(i).await.unwrap();
    }
    drop(response);

    let (ack_tx, ack_rx) = mpsc::channel(1);
    *acks.lock().unwrap() = Some(ack_rx);
    ack_events_httpstack(&base, 5, ack_tx).await;
    server.close().await;
}

#[tokio::test]
async fn keep_alive_comments_while_idle_and_producer_ends_when_client_leaves() {
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let done = Arc::new(Mutex::new(Some(done_tx)));
    let (server, base) = start(handler_fn(move |_req: Request<httpstack::Body>| {
        let done = done.lock().unwrap().take();
        async move {
            SseConfig::new()
                .keep_alive(Duration::from_millis(20))
                .sse_stream(StatusCode::OK, move |tx| async move {
                    let _ = tx.send("hello").await;
                    // Idle until the client goes away; only keep-alives flow meanwhile.
                    tx.closed().await;
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                })
        }
    }))
    .await;

    let mut response = within("reqwest", reqwest::get(format!("{base}/idle")))
        .await
        .unwrap();
    let mut seen = String::new();
    while seen.matches(": keep-alive\n").count() < 2 {
        let chunk = within("keep-alive comments", response.chunk())
            .await
            .unwrap()
            .expect("stream ended early");
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.starts_with("data: hello\n\n"), "{seen:?}");
    // The parser skips the comments: only the one event comes out.
    let mut parser = SseParser::new();
    parser.feed(seen.as_bytes()).unwrap();
    assert_eq!(parser.next_event().unwrap().data, "hello");
    assert!(parser.next_event().is_none());

    drop(response);
    within("producer notices the client left", done_rx)
        .await
        .unwrap();
    server.close().await;
}

#[tokio::test]
async fn client_disconnect_gives_the_producer_a_send_error() {
    let (result_tx, result_rx) = oneshot::channel::<(usize, httpstack::Error)>();
    let result = Arc::new(Mutex::new(Some(result_tx)));
    let (server, base) = start(handler_fn(move |_req: Request<httpstack::Body>| {
        let result = result.lock().unwrap().take();
        async move {
            SseConfig::new()
                .max_len(64 * 1024)
                .sse_stream(StatusCode::OK, move |tx| async move {
                    let mut sent = 0;
                    let err = loop {
                        match tx.send(format!("event {sent}")).await {
                            Ok(()) => sent += 1,
                            Err(err) => break err,
                        }
                        tokio::task::yield_now().await;
                    };
                    if let Some(result) = result {
                        let _ = result.send((sent, err));
                    }
                })
        }
    }))
    .await;

    let mut stream = within(
        "sse request",
        httpstack::get(format!("{base}/forever")).sse(),
    )
    .await
    .unwrap();
    for i in 0..3 {
        let event = within("event", stream.next()).await.unwrap().unwrap();
        assert_eq!(event.data, format!("event {i}"));
    }
    drop(stream);
    let (sent, err) = within("producer sees the send error", result_rx)
        .await
        .unwrap();
    assert!(sent >= 3, "sent {sent}");
    assert!(err.is_body(), "{err}");
    assert!(err.to_string().contains("client went away"), "{err}");
    server.close().await;
}

/// The reconnect script: connection 1 sends `retry: 10` and events 1–3 then ends;
/// connection 2 (which must carry `Last-Event-ID: 3`) sends 4–5 then ends; connection 3
/// gets 204, which stops the EventSource. The EventSource starts with a one-hour retry, so
/// reaching the end shows it took the server's `retry: 10`.
#[tokio::test]
async fn event_source_reconnects_with_last_event_id_and_honours_retry() {
    let connections = Arc::new(AtomicUsize::new(0));
    let seen_ids = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let (server, base) = start(handler_fn({
        let (connections, seen_ids) = (connections.clone(), seen_ids.clone());
        move |req: Request<httpstack::Body>| {
            let n = connections.fetch_add(1, Ordering::SeqCst);
            let last_id = req
                .headers()
                .get("last-event-id")
                .map(|v| v.to_str().unwrap().to_owned());
            seen_ids.lock().unwrap().push(last_id);
            async move {
                let range = match n {
                    0 => 1..=3,
                    1 => 4..=5,
                    _ => {
                        let mut response = Response::new(Body::empty());
                        *response.status_mut() = StatusCode::NO_CONTENT;
                        return response;
                    }
                };
                sse_stream(StatusCode::OK, move |tx| async move {
                    tx.send(
                        SseEvent::new("hint")
                            .retry(Duration::from_millis(10))
                            .event("setup"),
                    )
                    .await?;
                    for i in range {
                        tx.send(SseEvent::new(format!("event {i}")).id(i.to_string()))
                            .await?;
                    }
                    Ok::<_, httpstack::Error>(())
                })
            }
        }
    }))
    .await;

    let source = EventSource::new(format!("{base}/events")).retry(Duration::from_secs(3600));
    let events: Vec<_> = within(
        "all events over two connections",
        source.into_stream().collect(),
    )
    .await;
    let got: Vec<_> = data_and_ids(events)
        .into_iter()
        .filter(|(data, _)| data != "hint")
        .collect();
    assert_eq!(got, expected(5));
    assert_eq!(connections.load(Ordering::SeqCst), 3);
    assert_eq!(
        *seen_ids.lock().unwrap(),
        [None, Some("3".to_owned()), Some("5".to_owned())]
    );
    server.close().await;
}

#[tokio::test]
async fn event_source_stops_on_answers_that_fail_the_connection() {
    let connections = Arc::new(AtomicUsize::new(0));
    let (server, base) = start(handler_fn({
        let connections = connections.clone();
        move |req: Request<httpstack::Body>| {
            connections.fetch_add(1, Ordering::SeqCst);
            let path = req.uri().path().to_owned();
            async move {
                let (status, content_type) = match path.as_str() {
                    "/500" => (StatusCode::INTERNAL_SERVER_ERROR, "text/event-stream"),
                    "/404" => (StatusCode::NOT_FOUND, "text/plain"),
                    _ => (StatusCode::OK, "text/plain"),
                };
                Response::builder()
                    .status(status)
                    .header("content-type", content_type)
                    .body(Body::from("data: not an event stream\n\n"))
                    .unwrap()
            }
        }
    }))
    .await;
    for (path, says) in [
        ("/500", "status 500"),
        ("/404", "status 404"),
        ("/plain", "Content-Type text/event-stream, got text/plain"),
    ] {
        let before = connections.load(Ordering::SeqCst);
        let mut source = EventSource::new(format!("{base}{path}")).retry(Duration::from_millis(1));
        let err = within(path, source.next()).await.unwrap().unwrap_err();
        assert!(
            err.is_body() && err.to_string().contains(says),
            "{path}: {err}"
        );
        assert!(within(path, source.next()).await.is_none(), "{path}");
        assert!(source.is_closed());
        assert_eq!(
            connections.load(Ordering::SeqCst),
            before + 1,
            "{path}: no reconnect"
        );

        let err = within(
            path,
            httpstack::get(format!("{base}{path}"))
                .status_exception(false)
                .sse(),
        )
        .await
        .unwrap_err();
        assert!(
            err.is_body() && err.to_string().contains(says),
            "{path}: {err}"
        );
    }
    server.close().await;
}

#[tokio::test]
async fn event_source_gives_up_after_max_retries() {
    let connections = Arc::new(AtomicUsize::new(0));
    let (server, base) = start(handler_fn({
        let connections = connections.clone();
        move |_req: Request<httpstack::Body>| {
            connections.fetch_add(1, Ordering::SeqCst);
            // A stream that ends at once, without events.
            async move { sse_stream(StatusCode::OK, |_tx| async {}) }
        }
    }))
    .await;
    let mut source = EventSource::new(format!("{base}/empty"))
        .retry(Duration::from_millis(1))
        .max_retries(2);
    let err = within("gives up", source.next())
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("without events"), "{err}");
    assert!(within("closed", source.next()).await.is_none());
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "one connection and two retries"
    );
    server.close().await;
}

/// Raw `text/event-stream` bodies that break the client's limits.
#[tokio::test]
async fn line_and_event_limits_are_typed_errors() {
    const MIB: usize = 1024 * 1024;
    let (server, base) = start(handler_fn(|req: Request<httpstack::Body>| async move {
        let body = match req.uri().path() {
            // One 2 MiB line, after a good event.
            "/long-line" => format!("data: ok\n\ndata: {}\n\n", "x".repeat(2 * MIB)),
            // 17 lines of 1 MiB - 10 bytes each: every line fits, the event does not.
            _ => format!(
                "data: ok\n\n{}\n",
                format!("data: {}\n", "y".repeat(MIB - 10)).repeat(17)
            ),
        };
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from(body))
            .unwrap()
    }))
    .await;
    let cases = [
        ("/long-line", SseParseError::LineTooLong { limit: MIB }),
        (
            "/big-event",
            SseParseError::EventTooLarge { limit: 16 * MIB },
        ),
    ];
    for (path, expected) in cases {
        let stream = within(path, httpstack::get(format!("{base}{path}")).sse())
            .await
            .unwrap();
        let items: Vec<_> = within(path, stream.collect()).await;
        assert_eq!(items.len(), 2, "{path}: the good event, then the error");
        assert_eq!(items[0].as_ref().unwrap().data, "ok", "{path}");
        let err = items[1].as_ref().unwrap_err();
        assert!(err.is_body(), "{path}: {err}");
        assert!(
            err.url().is_some_and(|u| u.ends_with(path)),
            "{path}: {err}"
        );
        let source = std::error::Error::source(err).and_then(|s| s.downcast_ref::<SseParseError>());
        assert_eq!(source, Some(&expected), "{path}: {err}");
    }

    // An EventSource stops on a limit error instead of reconnecting.
    let mut source = EventSource::new(format!("{base}/long-line"))
        .retry(Duration::from_millis(1))
        .limits(1024, 4096);
    assert_eq!(
        within("ok", source.next()).await.unwrap().unwrap().data,
        "ok"
    );
    let err = within("limit", source.next()).await.unwrap().unwrap_err();
    assert!(
        err.report().contains("longer than the limit of 1024 bytes"),
        "{err}"
    );
    assert!(within("closed", source.next()).await.is_none());
    server.close().await;
}
