//! SSE load: events per second from one server to one client, httpstack's `sse_stream`
//! against axum's `Sse`, built in the same run and printed side by side as ratios.
//!
//! Run: `cargo bench --bench sse_load` (`BENCH_EVENTS=20000` for a quick look; default
//! 200000 events per run, 3 measured rounds after one warm-up).
//!
//! Servers, each on its own current-thread runtime and thread, all sending the same
//! events (`id: <n>` and a 64-byte `data` line) as fast as the client takes them:
//! - `httpstack`: `sse_stream(200, |tx| ..)`, the producer on its own task sending through
//!   the `SseSender` (default `max_len`);
//! - `axum (channel)`: the same shape in axum — a producer task feeding a bounded tokio
//!   channel (64 events) whose receiver is the `Sse` stream;
//! - `axum (iter)`: `Sse` over `stream::iter`, no producer task at all (an upper bound).
//!
//! The client is the same for all: a hyper HTTP/1.1 connection on its own runtime that
//! counts the blank lines ending each event, so the parsing cost is identical. Each round
//! opens a fresh connection and times request to last event. Traffic stays on 127.0.0.1;
//! every run stops at its event count or a 60 s deadline.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use httpstack::server::{handler_fn, serve};
use httpstack::sse::{sse_stream, SseEvent};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

const DEFAULT_EVENTS: usize = 200_000;
const ROUNDS: usize = 3;
const RUN_DEADLINE: Duration = Duration::from_secs(60);
const PAYLOAD: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn main() {
    // `cargo bench` passes `--bench`; criterion-style filters are not used here.
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_EVENTS);
    let servers = [
        ("httpstack", start_in_thread(Server::Httpstack)),
        ("axum (channel)", start_in_thread(Server::AxumChannel)),
        ("axum (iter)", start_in_thread(Server::AxumIter)),
    ];
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");

    println!("SSE load: {events} events per run, one client, {ROUNDS} rounds");
    for (name, addr) in &servers {
        let got = client
            .block_on(run(*addr, events.min(1000)))
            .unwrap_or_else(|e| panic!("{name} warm-up: {e}"));
        assert_eq!(got.0, events.min(1000), "{name} warm-up event count");
    }
    let mut totals = vec![(0usize, Duration::ZERO); servers.len()];
    for _ in 0..ROUNDS {
        for (i, (name, addr)) in servers.iter().enumerate() {
            let (count, took) = client
                .block_on(run(*addr, events))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(count, events, "{name} event count");
            totals[i].0 += count;
            totals[i].1 += took;
        }
    }
    let rate = |(count, took): (usize, Duration)| count as f64 / took.as_secs_f64();
    let httpstack = rate(totals[0]);
    println!(
        "{:<16} {:>14} {:>22}",
        "server", "events/s", "httpstack / server"
    );
    for (i, (name, _)) in servers.iter().enumerate() {
        let r = rate(totals[i]);
        println!("{name:<16} {r:>14.0} {:>22.2}", httpstack / r);
    }
}

#[derive(Clone, Copy)]
enum Server {
    Httpstack,
    AxumChannel,
    AxumIter,
}

/// Starts a server on its own thread and current-thread runtime; returns its address.
fn start_in_thread(server: Server) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let addr = match server {
                Server::Httpstack => start_httpstack().await,
                Server::AxumChannel => start_axum(true).await,
                Server::AxumIter => start_axum(false).await,
            };
            tx.send(addr).expect("report address");
            std::future::pending::<()>().await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("server started")
}

fn requested_events(uri: &http::Uri) -> usize {
    uri.query()
        .and_then(|q| q.strip_prefix("n="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn start_httpstack() -> SocketAddr {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<httpstack::Body>| async move {
            let n = requested_events(req.uri());
            sse_stream(StatusCode::OK, move |tx| async move {
                for i in 0..n {
                    tx.send(SseEvent::new(PAYLOAD).id(i.to_string())).await?;
                }
                Ok::<_, httpstack::Error>(())
            })
        }),
    )
    .await
    .expect("httpstack server");
    let addr = server.local_addr();
    std::mem::forget(server); // lives as long as the bench process
    addr
}

async fn start_axum(channel: bool) -> SocketAddr {
    use axum::response::sse::{Event, Sse};
    use axum::response::IntoResponse;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = axum::Router::new().route(
        "/events",
        axum::routing::get(move |req: axum::extract::Request| async move {
            let n = requested_events(req.uri());
            let event =
                |i: usize| Ok::<_, Infallible>(Event::default().id(i.to_string()).data(PAYLOAD));
            if channel {
                let (tx, rx) = tokio::sync::mpsc::channel(64);
                tokio::spawn(async move {
                    for i in 0..n {
                        if tx.send(event(i)).await.is_err() {
                            break;
                        }
                    }
                });
                let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|item| (item, rx))
                });
                Sse::new(stream).into_response()
            } else {
                Sse::new(futures_util::stream::iter((0..n).map(event))).into_response()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// One client run: `GET /events?n=<events>` on a fresh connection, counting events (the
/// blank line ending each) until `events` arrived; returns the count and the time taken.
async fn run(addr: SocketAddr, events: usize) -> Result<(usize, Duration), String> {
    tokio::time::timeout(RUN_DEADLINE, async move {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let started = Instant::now();
        let request = Request::get(format!("/events?n={events}"))
            .header("host", addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response: Response<Incoming> = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!("status {}", response.status()));
        }
        let mut body = response.into_body();
        let (mut count, mut last_was_lf) = (0usize, false);
        while count < events {
            let Some(frame) = body.frame().await else {
                break;
            };
            let Ok(data) = frame.map_err(|e| e.to_string())?.into_data() else {
                continue;
            };
            for lf in memchr::memchr_iter(b'\n', &data) {
                let previous_lf = if lf == 0 {
                    last_was_lf
                } else {
                    data[lf - 1] == b'\n'
                };
                if previous_lf {
                    count += 1;
                }
            }
            last_was_lf = data.last() == Some(&b'\n');
        }
        Ok((count, started.elapsed()))
    })
    .await
    .map_err(|_| format!("no {events} events within {RUN_DEADLINE:?}"))?
}
