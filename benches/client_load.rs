//! Client load benchmark: requests per second through each HTTP client against one bare
//! hyper server, side by side, as ratios (docs/design.md, "Tests and benchmarks").
//!
//! Run: `cargo bench --bench client_load` (`BENCH_SECS=1` for a quick look; default 3).
//!
//! Cells: {HTTP/1.1 keep-alive, h2c prior knowledge} x {1, 64 requests in flight}. Clients,
//! always in this order: raw hyper-util legacy client (the floor httpstack's transport is
//! built on), reqwest (what users compare us with), httpstack. The server and the clients
//! each run on one OS thread with a current-thread tokio runtime, pinned to separate cores,
//! so a client's cost shows as its own core's throughput rather than as contention with
//! the server. Each cell warms every client up once (connections open, pool filled), then
//! measures in rounds that alternate the clients, so slow drift of the machine (thermal,
//! a neighbour) spreads over all of them instead of landing on whichever ran last.
//!
//! Traffic goes to 127.0.0.1 only; every loop stops on a deadline and on a count cap.

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Requests in flight per cell.
const CONCURRENCY: [usize; 2] = [1, 64];
/// Unmeasured run per client at the start of each cell.
const WARM_UP: Duration = Duration::from_millis(500);
/// The measured time of a cell is split into this many alternating rounds per client.
const ROUNDS: u32 = 3;
/// Default measured seconds per client per cell; `BENCH_SECS` overrides.
const DEFAULT_SECS: f64 = 3.0;
/// Upper bound on requests per task per run, so a loop ends even if the clock misbehaves.
const MAX_REQUESTS_PER_TASK: u64 = 50_000_000;
/// The server's whole response body.
const BODY: &[u8] = b"ok";

fn main() {
    let secs = measured_secs();
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    println!(
        "client_load: {secs:.1} s measured per client per cell ({ROUNDS} rounds), \
         {:.1} s warm-up, {} cores visible",
        WARM_UP.as_secs_f64(),
        cores.len()
    );

    let server = Server::start(cores.first().copied());
    let client_core = cores.get(1).copied();
    let addrs = (server.http1, server.http2);
    let rows = thread::spawn(move || {
        pin("client", client_core);
        runtime().block_on(run_cells(addrs, Duration::from_secs_f64(secs)))
    })
    .join()
    .expect("client thread panicked");
    server.stop();

    print_table(&rows);
}

/// `BENCH_SECS` as a positive number of seconds, else [`DEFAULT_SECS`].
fn measured_secs() -> f64 {
    match std::env::var("BENCH_SECS") {
        Ok(text) => match text.parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs.is_finite() => secs,
            _ => {
                println!("BENCH_SECS={text:?} is not a positive number; using {DEFAULT_SECS}");
                DEFAULT_SECS
            }
        },
        Err(_) => DEFAULT_SECS,
    }
}

/// Pins the calling thread; a failure is reported and the run goes on unpinned, since
/// the ratios still mean something, only noisier.
fn pin(who: &str, core: Option<core_affinity::CoreId>) {
    match core {
        Some(id) if core_affinity::set_for_current(id) => {
            println!("pinned {who} thread to core {}", id.id)
        }
        Some(id) => println!(
            "could not pin {who} thread to core {}; running unpinned",
            id.id
        ),
        None => println!("no core to pin {who} thread to; running unpinned"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build tokio runtime")
}

// ---------------------------------------------------------------------------------------
// The server: bare hyper, one listener per protocol, on its own pinned thread.

struct Server {
    http1: SocketAddr,
    http2: SocketAddr,
    stop: oneshot::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl Server {
    fn start(core: Option<core_affinity::CoreId>) -> Server {
        let (addrs_tx, addrs_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            pin("server", core);
            runtime().block_on(async move {
                let h1 = bind().await;
                let h2 = bind().await;
                addrs_tx
                    .send((local(&h1), local(&h2)))
                    .expect("main thread waits for the server address");
                tokio::select! {
                    _ = accept_loop(h1, serve_http1) => {}
                    _ = accept_loop(h2, serve_http2) => {}
                    _ = stop_rx => {}
                }
            });
            // Dropping the runtime here cancels every connection task.
        });
        let (http1, http2) = addrs_rx.recv().expect("server thread started");
        Server {
            http1,
            http2,
            stop,
            thread,
        }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("server thread panicked");
    }
}

async fn bind() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0")
}

fn local(listener: &TcpListener) -> SocketAddr {
    listener.local_addr().expect("listener address")
}

/// Accepts until the task is dropped; each connection gets its own task. An accept error
/// (e.g. out of file descriptors) pauses briefly instead of spinning.
async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TokioIo<tokio::net::TcpStream>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(TokioIo::new(stream)));
            }
            Err(error) => {
                eprintln!("server accept: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn ok(_req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

async fn serve_http1(io: TokioIo<tokio::net::TcpStream>) {
    // Errors are clients closing their pooled connections at the end of a cell.
    let _ = http1::Builder::new()
        .serve_connection(io, service_fn(ok))
        .await;
}

async fn serve_http2(io: TokioIo<tokio::net::TcpStream>) {
    let _ = http2::Builder::new(TokioExecutor::new())
        .serve_connection(io, service_fn(ok))
        .await;
}

// ---------------------------------------------------------------------------------------
// The clients.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Protocol {
    Http1,
    H2c,
}

impl Protocol {
    const ALL: [Protocol; 2] = [Protocol::Http1, Protocol::H2c];

    fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "HTTP/1.1",
            Protocol::H2c => "h2c",
        }
    }
}

/// Where a cell sends its requests, parsed once for the clients that want a `Uri`.
struct Target {
    url: String,
    uri: hyper::Uri,
}

/// One client under test, built fresh for each cell so no pool carries over.
// Built once per cell and shared through an `Arc`, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Arm {
    HyperUtil(LegacyClient<HttpConnector, Empty<Bytes>>),
    Reqwest(reqwest::Client),
    Httpstack(httpstack::client::Client),
}

/// Client names in table order; the first two are the ratio baselines.
const HYPER_UTIL: &str = "hyper-util";
const REQWEST: &str = "reqwest";
const HTTPSTACK: &str = "httpstack";

impl Arm {
    /// Every client for `protocol`, in the fixed table order.
    fn all(protocol: Protocol) -> Vec<(&'static str, Result<Arm, String>)> {
        let h2 = protocol == Protocol::H2c;
        vec![
            (HYPER_UTIL, Ok(Arm::hyper_util(h2))),
            (REQWEST, Arm::reqwest(h2)),
            (HTTPSTACK, Arm::httpstack(h2)),
        ]
    }

    fn hyper_util(h2: bool) -> Arm {
        // As `build_http()`, plus TCP_NODELAY, which reqwest and httpstack's server set
        // too: without it the baseline would measure Nagle, not hyper.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Arm::HyperUtil(
            LegacyClient::builder(TokioExecutor::new())
                .http2_only(h2)
                .build(connector),
        )
    }

    fn reqwest(h2: bool) -> Result<Arm, String> {
        let builder = reqwest::Client::builder();
        let builder = if h2 {
            builder.http2_prior_knowledge()
        } else {
            builder.http1_only()
        };
        builder.build().map(Arm::Reqwest).map_err(|e| e.to_string())
    }

    fn httpstack(h2: bool) -> Result<Arm, String> {
        let builder = httpstack::client::Client::builder();
        let builder = if h2 {
            builder.http2_prior_knowledge()
        } else {
            builder
        };
        builder
            .build()
            .map(Arm::Httpstack)
            .map_err(|e| e.to_string())
    }

    /// One GET, checked for status 200 and the full body, so a client that fails fast
    /// cannot post a high rate.
    async fn get(&self, target: &Target) -> Result<(), String> {
        match self {
            Arm::HyperUtil(client) => {
                let request = Request::get(target.uri.clone())
                    .body(Empty::new())
                    .map_err(|e| e.to_string())?;
                let response = client.request(request).await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = response.into_body().collect().await;
                check(status, &body.map_err(|e| e.to_string())?.to_bytes())
            }
            Arm::Reqwest(client) => {
                let response = client.get(&target.url).send().await;
                let response = response.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                check(status, &response.bytes().await.map_err(|e| e.to_string())?)
            }
            Arm::Httpstack(client) => {
                let response = client.get(&target.url).await;
                let response = response.map_err(|e| e.to_string())?;
                check(response.status().as_u16(), &response.bytes())
            }
        }
    }
}

fn check(status: u16, body: &[u8]) -> Result<(), String> {
    if status == 200 && body == BODY {
        Ok(())
    } else {
        Err(format!(
            "unexpected response: {status} {:?}",
            String::from_utf8_lossy(body)
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Measuring.

/// One table row: a client's rate in one cell, or why it has none.
struct Row {
    protocol: Protocol,
    concurrency: usize,
    client: &'static str,
    rate: Result<f64, String>,
}

/// Requests done and time spent by one client over a cell's rounds.
#[derive(Default)]
struct Tally {
    requests: u64,
    elapsed: Duration,
}

async fn run_cells(addrs: (SocketAddr, SocketAddr), measured: Duration) -> Vec<Row> {
    let mut rows = Vec::new();
    for protocol in Protocol::ALL {
        let addr = match protocol {
            Protocol::Http1 => addrs.0,
            Protocol::H2c => addrs.1,
        };
        let url = format!("http://{addr}/");
        let target = Arc::new(Target {
            uri: url.parse().expect("valid URI"),
            url,
        });
        for concurrency in CONCURRENCY {
            rows.extend(run_cell(protocol, concurrency, &target, measured).await);
        }
    }
    rows
}

/// Warms every client up, then alternates them for [`ROUNDS`] rounds. A client that fails
/// drops out of the cell with its error.
async fn run_cell(
    protocol: Protocol,
    concurrency: usize,
    target: &Arc<Target>,
    measured: Duration,
) -> Vec<Row> {
    let mut arms: Vec<(&'static str, Result<Arc<Arm>, String>)> = Arm::all(protocol)
        .into_iter()
        .map(|(name, arm)| (name, arm.map(Arc::new)))
        .collect();
    let mut tallies: Vec<Tally> = arms.iter().map(|_| Tally::default()).collect();
    for (_, arm) in arms.iter_mut() {
        if let Ok(client) = arm {
            if let Err(error) = burst(client, target, concurrency, WARM_UP).await {
                *arm = Err(format!("warm-up: {error}"));
            }
        }
    }
    let slice = measured / ROUNDS;
    for _ in 0..ROUNDS {
        for ((_, arm), tally) in arms.iter_mut().zip(&mut tallies) {
            let Ok(client) = arm else { continue };
            match burst(client, target, concurrency, slice).await {
                Ok((requests, elapsed)) => {
                    tally.requests += requests;
                    tally.elapsed += elapsed;
                }
                Err(error) => *arm = Err(error),
            }
        }
    }
    let rows: Vec<Row> = arms
        .into_iter()
        .zip(tallies)
        .map(|((client, arm), tally)| Row {
            protocol,
            concurrency,
            client,
            rate: arm.map(|_| tally.requests as f64 / tally.elapsed.as_secs_f64()),
        })
        .collect();
    for row in &rows {
        let rate = match &row.rate {
            Ok(rate) => format!("{rate:.0} req/s"),
            Err(error) => format!("failed: {error}"),
        };
        println!(
            "  {:8} c={:<3} {:11} {rate}",
            protocol.name(),
            concurrency,
            row.client
        );
    }
    rows
}

/// Keeps `concurrency` requests in flight for `duration`; returns how many completed and
/// the time until the last one did (requests in flight at the deadline finish and count).
async fn burst(
    client: &Arc<Arm>,
    target: &Arc<Target>,
    concurrency: usize,
    duration: Duration,
) -> Result<(u64, Duration), String> {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = Arc::clone(client);
            let target = Arc::clone(target);
            tokio::spawn(async move {
                let mut done = 0u64;
                while done < MAX_REQUESTS_PER_TASK && Instant::now() < deadline {
                    client.get(&target).await?;
                    done += 1;
                }
                Ok::<u64, String>(done)
            })
        })
        .collect();
    let mut total = 0;
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok(done)) => total += done,
            Ok(Err(error)) => first_error = first_error.or(Some(error)),
            Err(join) => first_error = first_error.or(Some(join.to_string())),
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok((total, start.elapsed())),
    }
}

// ---------------------------------------------------------------------------------------
// Reporting.

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<9} {:>4}  {:<11} {:>10}  {:>13}  {:>10}",
        "protocol", "conc", "client", "req/s", "vs hyper-util", "vs reqwest"
    );
    for row in rows {
        let baseline = |name: &str| {
            rows.iter()
                .find(|r| {
                    r.protocol == row.protocol
                        && r.concurrency == row.concurrency
                        && r.client == name
                })
                .and_then(|r| r.rate.as_ref().ok().copied())
        };
        let ratio = |base: Option<f64>| match (&row.rate, base) {
            (Ok(rate), Some(base)) if base > 0.0 => format!("{:.2}", rate / base),
            _ => "-".to_string(),
        };
        let rate = match &row.rate {
            Ok(rate) => format!("{rate:.0}"),
            Err(_) => "failed".to_string(),
        };
        println!(
            "{:<9} {:>4}  {:<11} {:>10}  {:>13}  {:>10}",
            row.protocol.name(),
            row.concurrency,
            row.client,
            rate,
            ratio(baseline(HYPER_UTIL)),
            ratio(baseline(REQWEST)),
        );
    }
}
