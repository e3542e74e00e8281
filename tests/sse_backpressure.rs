//! SSE back-pressure: clients that stop reading pin no more than each stream's buffer.
//! Producers as fast as they can go, 20 stalled HTTP/1.1 clients and 20 stalled streams
//! on one HTTP/2 connection; the process's resident memory (`VmRSS` in
//! `/proc/self/status`) must stay within a stated bound. Its own test binary, so no other
//! test's memory is counted. Every loop is bounded in count and time.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Empty;
use httpstack::server::{handler_fn, serve};
use httpstack::sse::{sse_stream, SseEvent};
use support::h2c::h2c;
use support::raw_http::{connect, write};
use support::within;

/// Stalled streams per protocol.
const STALLED: usize = 20;
/// Events each producer tries to send (1 KiB each): 20 MiB a stream if nothing held it
/// back, 800 MiB in all.
const EVENTS: usize = 20_000;
/// The most the process may grow while the streams stall. The buffers themselves are
/// 40 × 64 KiB; the rest is hyper's and h2's connection buffers (HTTP/2 flow-control
/// windows) and the allocator.
const BOUND: u64 = 48 * 1024 * 1024;

/// The process's resident memory, in bytes.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_pin_only_their_buffers_over_http1_and_http2() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = serve(
        "127.0.0.1:0",
        handler_fn(move |_req: Request<httpstack::Body>| {
            let sent = counter.clone();
            async move {
                sse_stream(StatusCode::OK, move |tx| async move {
                    let data = "x".repeat(1000);
                    for _ in 0..EVENTS {
                        if tx.send(SseEvent::new(data.as_str())).await.is_err() {
                            break;
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                })
            }
        }),
    )
    .await
    .expect("serve");
    let before = resident();

    // HTTP/1.1: each client sends its request and never reads.
    let mut http1 = Vec::new();
    for _ in 0..STALLED {
        let mut conn = connect(server.local_addr()).await;
        write(&mut conn, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").await;
        http1.push(conn);
    }
    // HTTP/2: one connection, every stream's response head taken, no body read.
    let mut sender = h2c::<Empty<Bytes>>(server.local_addr()).await;
    let mut http2 = Vec::new();
    for _ in 0..STALLED {
        within("h2 ready", sender.ready()).await.expect("ready");
        let request = Request::get("http://x/events")
            .body(Empty::new())
            .expect("request");
        let response = within("h2 response", sender.send_request(request))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        http2.push(response);
    }

    // Until the producers stop getting anywhere (bounded: 10 s).
    let mut last = usize::MAX;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = sent.load(Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    let grown = resident().saturating_sub(before);
    let sent_events = sent.load(Ordering::Relaxed);
    assert!(
        sent_events < 2 * STALLED * EVENTS,
        "the producers were held back ({sent_events} events sent)"
    );
    assert!(
        grown < BOUND,
        "resident memory grew by {} MiB with {} stalled streams (bound {} MiB)",
        grown >> 20,
        2 * STALLED,
        BOUND >> 20
    );

    // The clients go away: every producer ends, and the server closes without waiting.
    drop((http1, http2, sender));
    within("close", server.close()).await;
}
