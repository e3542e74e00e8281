//! Server load benchmark: HTTP.jl's own server workload (its `bench/server.jl`) served by
//! httpstack and by its peers, side by side, as ratios (docs/design.md, "Tests and benchmarks").
//!
//! Run: `cargo bench --bench server_load` (`BENCH_SECS=2` for a quick look; default 5;
//! `BENCH_HTTP1_LOAD=builtin` uses the built-in HTTP/1.1 generator even where wrk is;
//! `BENCH_CELLS=h1,p16` runs only the cells whose names contain one of those parts).
//!
//! Workload, the same bytes from every server: `GET /tiny` → 200 with an empty body,
//! `GET /json` → a 209-byte JSON object, `GET /large` → 100 KiB, and `GET /` → the
//! 13-byte `Hello, World!` (an empty `/tiny` is a single HEADERS frame on HTTP/2, which
//! flatters it). Servers, all on one port each for HTTP/1.1 and h2c (prior knowledge),
//! all on one current-thread runtime or one worker:
//!
//! - `router`: what users write — an httpstack `Router` with one `GET` route per path,
//!   each an `async fn` returning `Response<Body>`, served with default options;
//! - `httpstack`: `Server::bind(..).serve(handler_fn(..))` with default options;
//!   (`SERVER_LOAD_TIMEOUTS=off` runs both httpstack servers without the header and idle
//!   timeouts that are on by default, to measure their cost);
//! - `hyper`: a bare hyper-util auto server (`serve_connection`, `TCP_NODELAY`);
//! - `hyper+flush`: the same with `http1().pipeline_flush(true)`, for the pipelined cell;
//! - `axum`: an axum `Router` through `axum::serve`, `TCP_NODELAY`;
//! - `actix`: actix-web, from the separate project `benches/peers/actix_hello`, built by
//!   this bench at start into its own target dir (skipped with the reason if that fails).
//!
//! Cells: HTTP/1.1 at 64 connections for each path; HTTP/1.1 at 64 connections with 16
//! requests pipelined (`/tiny`); h2c at 16 connections × 10 streams for each path. The
//! HTTP/1.1 load comes from `wrk -t1` (the pipelined cell through a generated Lua script),
//! or, when `wrk` is not installed, from a built-in generator (tokio, raw TCP, keep-alive
//! GETs, same connection counts); the h2c load from `h2load -t1`, and those cells are
//! skipped with a printed reason when it is missing.
//!
//! Each server runs in a child process pinned to core 0 (the bench binary re-executed
//! with `--serve NAME`, or the actix binary, under `taskset -c 0`); `--serve NAME ADDR`
//! serves on ADDR until killed, the form `../shared/tools/callgrind-server.sh` runs (a
//! one-line wrapper script per server: `exec server_load --serve NAME "$@"`). The load
//! generator is
//! pinned to core 1. Every server is checked once (status and body of each path), warmed
//! up once, then the measured time of each cell is split into rounds, and each round runs
//! every cell and server in turn, so slow drift of the machine spreads over all of them.
//!
//! Reported per cell and server: requests per second (all rounds' responses over all
//! rounds' time), p99 latency, the mean of the rounds' p99s, and the server's CPU time
//! (user and system, from `/proc`) per request. When the load generator, not the server,
//! is the ceiling (wrk at 64 connections often is, on two cores), the rates of fast servers
//! converge and the CPU per request still tells them apart; it is also steadier on a
//! shared machine. The p99 comes from wrk's
//! `--latency` distribution (not for the pipelined cell, where wrk's is unreliable), from
//! h2load's per-request `--log-file`, or from the built-in generator's own samples (timed
//! from the write of the request, or of its batch when pipelined).
//!
//! Traffic goes to 127.0.0.1 only; every loop stops on a count cap and every wait on a
//! deadline. Children are killed when their guard drops (also on panic), and exit by
//! themselves when their standard input, a pipe from this process, closes.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream as StdTcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[path = "load_support/mod.rs"]
mod load_support;

use load_support::{
    exit_when_stdin_closes, load_average, measured_secs, parse_duration_us, parse_wrk, percentile,
    pinned, process_cpu, round_lengths, run_bounded, runs, ChildGuard, Pinning, Sample,
};

/// HTTP/1.1 connections per cell.
const CONNECTIONS: usize = 64;
/// Requests per write in the pipelined cell.
const PIPELINE: usize = 16;
/// h2c connections and streams per connection.
const H2_CLIENTS: usize = 16;
const H2_STREAMS: usize = 10;
/// Default measured seconds per server per cell; `BENCH_SECS` overrides.
const DEFAULT_SECS: u64 = 5;
/// The measured time of a cell is split into at most this many rounds of whole seconds.
const MAX_ROUNDS: u64 = 3;
/// Unmeasured run per server and protocol before the first round.
const WARM_UP_SECS: u64 = 1;
/// How long a server may take to print `READY <port>`.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a load generator may run past its own duration before it is killed.
const RUN_SLACK: Duration = Duration::from_secs(20);
/// How long building the actix peer may take (a first build compiles actix-web).
const ACTIX_BUILD_TIMEOUT: Duration = Duration::from_secs(900);
/// Core of the servers and core of the load generators.
const SERVER_CORE: usize = 0;
const LOAD_CORE: usize = 1;

/// Why the pipelined cell has no p99 under wrk.
const WRK_PIPELINE_P99: &str = "\
wrk's latency distribution is not reported for the pipelined cell: wrk times a batch, \
not a request, its coordinated-omission correction assumes one request per round trip, \
and at ~1M req/s it prints 0 for p90 and p99; BENCH_HTTP1_LOAD=builtin measures \
pipelined p99 with the built-in generator.";

/// The `/json` body, shared with the actix peer.
const JSON: &str = include_str!("peers/actix_hello/src/hello.json");
/// The `/large` body: 100 KiB of `x`.
static LARGE: [u8; 100 * 1024] = [b'x'; 100 * 1024];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|arg| arg == "--serve") {
        let name = args.get(i + 1).map(String::as_str).unwrap_or("");
        serve_child(name, args.get(i + 2).map(String::as_str));
    }
    run_bench();
}

// ---------------------------------------------------------------------------------------
// The servers, each run in a child process: `server_load --serve NAME`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Router,
    Httpstack,
    Hyper,
    HyperFlush,
    Axum,
    Actix,
}

impl Peer {
    const ALL: [Peer; 6] = [
        Peer::Router,
        Peer::Httpstack,
        Peer::Hyper,
        Peer::HyperFlush,
        Peer::Axum,
        Peer::Actix,
    ];

    fn name(self) -> &'static str {
        match self {
            Peer::Router => "router",
            Peer::Httpstack => "httpstack",
            Peer::Hyper => "hyper",
            Peer::HyperFlush => "hyper+flush",
            Peer::Axum => "axum",
            Peer::Actix => "actix",
        }
    }

    fn from_name(name: &str) -> Option<Peer> {
        Peer::ALL.into_iter().find(|peer| peer.name() == name)
    }
}

/// Child mode: serves `name` on 127.0.0.1 until standard input closes, or on `addr`
/// until killed.
fn serve_child(name: &str, addr: Option<&str>) -> ! {
    let Some(peer) = Peer::from_name(name).filter(|peer| *peer != Peer::Actix) else {
        eprintln!("server_load --serve: unknown server {name:?}");
        std::process::exit(2);
    };
    let addr: SocketAddr = match addr.map(str::parse).transpose() {
        Ok(addr) => addr.unwrap_or((Ipv4Addr::LOCALHOST, 0).into()),
        Err(error) => {
            eprintln!("server_load --serve {name}: bad address: {error}");
            std::process::exit(2);
        }
    };
    if addr.port() == 0 {
        exit_when_stdin_closes();
    }
    current_thread_runtime().block_on(async move {
        let port = match peer {
            Peer::Router => start_router(addr).await,
            Peer::Httpstack => start_httpstack(addr).await,
            Peer::Hyper => start_hyper(addr, false).await,
            Peer::HyperFlush => start_hyper(addr, true).await,
            Peer::Axum => start_axum(addr).await,
            Peer::Actix => unreachable!("filtered above"),
        };
        println!("READY {port}");
        let _ = std::io::stdout().flush();
        std::future::pending::<()>().await;
    });
    unreachable!("the server runs until its standard input closes")
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build tokio runtime")
}

/// The body of `GET /`, the same as every peer's hello-world.
const HELLO: &str = "Hello, World!";

/// The workload's answer to `path`, for any body type made from `Bytes`.
fn workload_response<B: From<Bytes>>(path: &str) -> Response<B> {
    let (body, content_type) = match path {
        "/" => (Bytes::from_static(HELLO.as_bytes()), Some("text/plain")),
        "/tiny" => (Bytes::new(), None),
        "/json" => (
            Bytes::from_static(JSON.as_bytes()),
            Some("application/json"),
        ),
        "/large" => (Bytes::from_static(&LARGE), Some("application/octet-stream")),
        _ => {
            let mut response = Response::new(B::from(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            return response;
        }
    };
    let mut response = Response::new(B::from(body));
    if let Some(content_type) = content_type {
        let value = HeaderValue::from_static(content_type);
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

async fn start_httpstack(addr: SocketAddr) -> u16 {
    use httpstack::server::handler_fn;
    let handler = handler_fn(|req: Request<httpstack::Body>| async move {
        workload_response::<httpstack::Body>(req.uri().path())
    });
    let server = builder(addr)
        .serve(handler)
        .await
        .expect("httpstack server starts");
    server.port()
}

/// httpstack's defaults; with `SERVER_LOAD_TIMEOUTS=off` in the environment, without the
/// header and idle timeouts that are on by default (to measure what they cost).
fn builder(addr: SocketAddr) -> httpstack::ServerBuilder<SocketAddr> {
    let builder = httpstack::Server::bind(addr);
    match std::env::var("SERVER_LOAD_TIMEOUTS").as_deref() {
        Ok("off") => builder.read_header_timeout(None).idle_timeout(None),
        _ => builder,
    }
}

/// The `router` peer's handlers: each an `async fn` returning `Response<Body>`, as a
/// user writes one.
async fn hello(_req: Request<httpstack::Body>) -> Response<httpstack::Body> {
    workload_response("/")
}

async fn tiny(_req: Request<httpstack::Body>) -> Response<httpstack::Body> {
    workload_response("/tiny")
}

async fn json(_req: Request<httpstack::Body>) -> Response<httpstack::Body> {
    workload_response("/json")
}

async fn large(_req: Request<httpstack::Body>) -> Response<httpstack::Body> {
    workload_response("/large")
}

async fn start_router(addr: SocketAddr) -> u16 {
    use http::Method;
    use httpstack::Router;
    let mut router = Router::new();
    router
        .register(Method::GET, "/", hello)
        .and_then(|router| router.register(Method::GET, "/tiny", tiny))
        .and_then(|router| router.register(Method::GET, "/json", json))
        .and_then(|router| router.register(Method::GET, "/large", large))
        .expect("routes register");
    let server = builder(addr)
        .serve(router)
        .await
        .expect("httpstack router server starts");
    server.port()
}

async fn start_hyper(addr: SocketAddr, pipeline_flush: bool) -> u16 {
    let listener = bind(addr).await;
    let port = listener.local_addr().expect("listener address").port();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if pipeline_flush {
        builder.http1().pipeline_flush(true);
    }
    let builder = Arc::new(builder);
    tokio::spawn(async move {
        // Runs as long as the process: the parent ends it.
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    eprintln!("hyper accept: {error}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let builder = Arc::clone(&builder);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    Ok::<_, std::convert::Infallible>(workload_response::<Full<Bytes>>(
                        req.uri().path(),
                    ))
                });
                // Errors are clients closing their connections at the end of a run.
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

async fn start_axum(addr: SocketAddr) -> u16 {
    use axum::routing::get;
    use axum::serve::ListenerExt;
    let router = axum::Router::new()
        .route(
            "/",
            get(|| async { ([(CONTENT_TYPE, "text/plain")], HELLO) }),
        )
        .route("/tiny", get(|| async {}))
        .route(
            "/json",
            get(|| async {
                let body = Bytes::from_static(JSON.as_bytes());
                ([(CONTENT_TYPE, "application/json")], body)
            }),
        )
        .route(
            "/large",
            get(|| async {
                let body = Bytes::from_static(&LARGE);
                ([(CONTENT_TYPE, "application/octet-stream")], body)
            }),
        );
    let listener = bind(addr).await;
    let port = listener.local_addr().expect("listener address").port();
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
        listener, router,
    )));
    port
}

async fn bind(addr: SocketAddr) -> TcpListener {
    TcpListener::bind(addr)
        .await
        .expect("bind the server's address")
}

// ---------------------------------------------------------------------------------------
// Child processes.

/// A running server child; dropping it ends the child.
struct ServerProcess {
    port: u16,
    pid: u32,
    // Field order: the pipe closes before the guard kills, so the child may exit first.
    _stdin: Option<ChildStdin>,
    _child: ChildGuard,
}

impl ServerProcess {
    /// Spawns `command`, whose first line of output must be `READY <port>`.
    fn start(mut command: Command) -> Result<ServerProcess, String> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = ChildGuard(command.spawn().map_err(|e| format!("spawn: {e}"))?);
        let pid = child.0.id();
        let stdin = child.0.stdin.take();
        let stdout = child.0.stdout.take().ok_or("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(READY_TIMEOUT)
            .map_err(|_| format!("no READY line within {READY_TIMEOUT:?}"))?;
        let port = line
            .strip_prefix("READY ")
            .and_then(|port| port.trim().parse().ok())
            .ok_or_else(|| format!("expected `READY <port>`, got {line:?}"))?;
        Ok(ServerProcess {
            port,
            pid,
            _stdin: stdin,
            _child: child,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Setup: tools, servers.

/// What this machine offers the bench.
struct Tools {
    wrk: bool,
    h2load: bool,
    taskset: bool,
    cores: usize,
}

impl Tools {
    fn pinning(&self) -> Pinning {
        Pinning {
            taskset: self.taskset,
            cores: self.cores,
        }
    }

    fn detect() -> Tools {
        Tools {
            // `BENCH_HTTP1_LOAD=builtin` exercises the fallback on a machine with wrk.
            wrk: std::env::var("BENCH_HTTP1_LOAD").as_deref() != Ok("builtin")
                && runs("wrk", "--version"),
            h2load: runs("h2load", "--version"),
            taskset: runs("taskset", "--version"),
            cores: core_affinity::get_core_ids().map_or(0, |ids| ids.len()),
        }
    }
}

/// Builds the actix peer into its own target dir; returns the binary.
fn build_actix() -> Result<PathBuf, String> {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/actix_hello");
    let target = project.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(project.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target);
    run_bounded(command, ACTIX_BUILD_TIMEOUT)?;
    Ok(target.join("release/actix_hello"))
}

/// Starts one server, pinned to the server core, and checks it serves the workload.
fn start_server(
    tools: &Tools,
    peer: Peer,
    actix: &Result<PathBuf, String>,
) -> Result<ServerProcess, String> {
    let command = match peer {
        Peer::Actix => pinned(
            &tools.pinning(),
            SERVER_CORE,
            actix.as_ref().map_err(Clone::clone)?,
        ),
        _ => {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            let mut command = pinned(&tools.pinning(), SERVER_CORE, exe);
            command.arg("--serve").arg(peer.name());
            command
        }
    };
    let server = ServerProcess::start(command)?;
    check_workload(server.port)?;
    Ok(server)
}

/// One HTTP/1.1 GET of each path; each must answer 200 with the workload's body.
fn check_workload(port: u16) -> Result<(), String> {
    let expected: [(&str, &[u8]); 4] = [
        ("/", HELLO.as_bytes()),
        ("/tiny", b""),
        ("/json", JSON.as_bytes()),
        ("/large", &LARGE),
    ];
    for (path, body) in expected {
        let (status, got) = get_once(port, path).map_err(|e| format!("GET {path}: {e}"))?;
        if status != 200 || got != body {
            return Err(format!(
                "GET {path}: status {status}, {} body bytes, expected 200 and {}",
                got.len(),
                body.len()
            ));
        }
    }
    Ok(())
}

/// A blocking `Connection: close` GET: status and body (up to 1 MiB, 5 s).
fn get_once(port: u16, path: &str) -> Result<(u16, Vec<u8>), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream =
        StdTcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .take(1 << 20)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&raw) {
        Ok(httparse::Status::Complete(head)) => {
            Ok((response.code.unwrap_or(0), raw[head..].to_vec()))
        }
        Ok(httparse::Status::Partial) => Err("incomplete response head".into()),
        Err(error) => Err(error.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// Cells and load generators.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Load {
    /// HTTP/1.1 at [`CONNECTIONS`] connections, `pipeline` requests per write.
    Http1 { pipeline: usize },
    /// h2c at [`H2_CLIENTS`] connections × [`H2_STREAMS`] streams.
    H2c,
}

struct Cell {
    name: String,
    path: &'static str,
    load: Load,
    peers: Vec<Peer>,
}

impl Cell {
    fn is_pipelined(&self) -> bool {
        matches!(self.load, Load::Http1 { pipeline } if pipeline > 1)
    }
}

fn cells() -> Vec<Cell> {
    use Peer::*;
    let paths = ["/", "/tiny", "/json", "/large"];
    let mut cells = Vec::new();
    for path in paths {
        cells.push(Cell {
            name: format!("h1 c{CONNECTIONS} {path}"),
            path,
            load: Load::Http1 { pipeline: 1 },
            peers: vec![Router, Httpstack, Hyper, Axum, Actix],
        });
    }
    cells.push(Cell {
        name: format!("h1 c{CONNECTIONS} p{PIPELINE} /"),
        path: "/",
        load: Load::Http1 { pipeline: PIPELINE },
        peers: vec![Router, Httpstack, Hyper, HyperFlush, Axum, Actix],
    });
    for path in paths {
        cells.push(Cell {
            name: format!("h2c {H2_CLIENTS}x{H2_STREAMS} {path}"),
            path,
            load: Load::H2c,
            peers: vec![Router, Httpstack, Hyper, Axum, Actix],
        });
    }
    cells
}

/// The cells whose name contains one of `BENCH_CELLS`' comma-separated parts (all cells
/// when it is unset), e.g. `BENCH_CELLS="h1 c64 /,p16"`.
fn selected_cells() -> Vec<Cell> {
    let filter = std::env::var("BENCH_CELLS").unwrap_or_default();
    let parts: Vec<&str> = filter.split(',').filter(|part| !part.is_empty()).collect();
    cells()
        .into_iter()
        .filter(|cell| parts.is_empty() || parts.iter().any(|part| cell.name.contains(part)))
        .collect()
}

/// Shared by every run: tools, scratch files.
struct Generator {
    tools: Tools,
    dir: tempfile::TempDir,
}

impl Generator {
    fn run(&self, load: Load, port: u16, path: &str, secs: u64) -> Result<Sample, String> {
        match load {
            Load::Http1 { pipeline } if self.tools.wrk => self.wrk(port, path, pipeline, secs),
            Load::Http1 { pipeline } => builtin_load(&self.tools, port, path, pipeline, secs),
            Load::H2c => self.h2load(port, path, secs),
        }
    }

    fn wrk(&self, port: u16, path: &str, pipeline: usize, secs: u64) -> Result<Sample, String> {
        let mut command = pinned(&self.tools.pinning(), LOAD_CORE, "wrk");
        command
            .arg("-t1")
            .arg(format!("-c{CONNECTIONS}"))
            .arg(format!("-d{secs}s"))
            .arg("--latency");
        if pipeline > 1 {
            command.arg("-s").arg(self.pipeline_script()?);
        }
        command.arg(format!("http://127.0.0.1:{port}{path}"));
        if pipeline > 1 {
            command.arg("--").arg(path).arg(pipeline.to_string());
        }
        let output = run_bounded(command, Duration::from_secs(secs) + RUN_SLACK)?;
        let mut sample = parse_wrk(&output)?;
        if pipeline > 1 {
            // See `WRK_PIPELINE_P99`.
            sample.p99_us = None;
        }
        Ok(sample)
    }

    /// A wrk script that sends `args[2]` GETs of `args[1]` in each write.
    fn pipeline_script(&self) -> Result<PathBuf, String> {
        let path = self.dir.path().join("pipeline.lua");
        if !path.exists() {
            let script = "\
init = function(args)\n\
  local batch = {}\n\
  for i = 1, tonumber(args[2]) do batch[i] = wrk.format(nil, args[1]) end\n\
  req = table.concat(batch)\n\
end\n\
request = function() return req end\n";
            std::fs::write(&path, script).map_err(|e| format!("write {path:?}: {e}"))?;
        }
        Ok(path)
    }

    fn h2load(&self, port: u16, path: &str, secs: u64) -> Result<Sample, String> {
        if !self.tools.h2load {
            return Err("h2load is not installed".into());
        }
        let log = self.dir.path().join("h2load.log");
        let _ = std::fs::remove_file(&log);
        let mut command = pinned(&self.tools.pinning(), LOAD_CORE, "h2load");
        command
            .arg("-t1")
            .arg(format!("-c{H2_CLIENTS}"))
            .arg(format!("-m{H2_STREAMS}"))
            .arg(format!("-D{secs}"))
            .arg(format!("--log-file={}", log.display()))
            .arg(format!("http://127.0.0.1:{port}{path}"));
        let output = run_bounded(command, Duration::from_secs(secs) + RUN_SLACK)?;
        let log = std::fs::read_to_string(&log).map_err(|e| format!("read h2load log: {e}"))?;
        parse_h2load(&output, &log)
    }
}

/// h2load's `finished in T, R req/s` and `requests:` lines; p99 from its per-request log
/// (`start µs \t status \t duration µs` per line; status -1 for a failed stream).
fn parse_h2load(output: &str, log: &str) -> Result<Sample, String> {
    let mut secs = None;
    let mut counts = None;
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["finished", "in", time, ..] => {
                secs = Some(parse_duration_us(time.trim_end_matches(','))? / 1e6);
            }
            ["requests:", ..] => counts = Some(h2load_counts(&words)),
            _ => {}
        }
    }
    let secs = secs.ok_or_else(|| format!("h2load: no `finished in` in {output:?}"))?;
    let (succeeded, failed) = counts.ok_or_else(|| format!("h2load: no counts in {output:?}"))?;
    let mut latencies: Vec<f64> = log
        .lines()
        .filter_map(|line| {
            let mut columns = line.split('\t');
            let status: i32 = columns.nth(1)?.trim().parse().ok()?;
            let micros: f64 = columns.next()?.trim().parse().ok()?;
            (200..300).contains(&status).then_some(micros)
        })
        .collect();
    Ok(Sample {
        requests: succeeded,
        secs,
        p99_us: percentile(&mut latencies, 0.99),
        errors: failed,
    })
}

/// `requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout`
/// → (succeeded, failed + errored + timeout).
fn h2load_counts(words: &[&str]) -> (u64, u64) {
    let mut succeeded = 0;
    let mut failed = 0;
    for pair in words.windows(2) {
        let count: u64 = pair[0].parse().unwrap_or(0);
        match pair[1].trim_end_matches(',') {
            "succeeded" => succeeded = count,
            "failed" | "errored" | "timeout" => failed += count,
            _ => {}
        }
    }
    (succeeded, failed)
}

// ---------------------------------------------------------------------------------------
// The built-in HTTP/1.1 generator, for machines without wrk.

/// Requests per connection per run at most, whatever the clock says.
const MAX_REQUESTS_PER_CONNECTION: u64 = 20_000_000;
/// Latency samples kept per connection at most.
const MAX_SAMPLES_PER_CONNECTION: usize = 200_000;
/// Response heads larger than this are an error.
const MAX_HEAD: usize = 16 * 1024;

/// [`CONNECTIONS`] keep-alive connections sending `pipeline` GETs per write for `secs`,
/// from a current-thread runtime on a thread pinned to the load core.
fn builtin_load(
    tools: &Tools,
    port: u16,
    path: &str,
    pipeline: usize,
    secs: u64,
) -> Result<Sample, String> {
    let core = core_affinity::get_core_ids()
        .and_then(|ids| ids.into_iter().find(|id| id.id == LOAD_CORE))
        .filter(|_| tools.cores > LOAD_CORE);
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").repeat(pipeline);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let duration = Duration::from_secs(secs);
    thread::spawn(move || {
        if let Some(core) = core {
            core_affinity::set_for_current(core);
        }
        current_thread_runtime().block_on(builtin_run(addr, Arc::new(request), pipeline, duration))
    })
    .join()
    .map_err(|_| "built-in generator panicked".to_string())?
}

async fn builtin_run(
    addr: SocketAddr,
    request: Arc<String>,
    pipeline: usize,
    duration: Duration,
) -> Result<Sample, String> {
    let start = Instant::now();
    let deadline = start + duration;
    let hard_deadline = tokio::time::Instant::from_std(deadline + RUN_SLACK);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let request = Arc::clone(&request);
            tokio::spawn(tokio::time::timeout_at(
                hard_deadline,
                builtin_connection(addr, request, pipeline, deadline),
            ))
        })
        .collect();
    let mut requests = 0;
    let mut latencies = Vec::new();
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok(Ok((done, samples)))) => {
                requests += done;
                latencies.extend(samples.into_iter().map(f64::from));
            }
            Ok(Ok(Err(error))) => first_error = first_error.or(Some(error)),
            Ok(Err(_elapsed)) => first_error = first_error.or(Some("timed out".into())),
            Err(join) => first_error = first_error.or(Some(join.to_string())),
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    Ok(Sample {
        requests,
        secs: start.elapsed().as_secs_f64(),
        p99_us: percentile(&mut latencies, 0.99),
        errors: 0,
    })
}

/// One connection's loop: write a batch, read its responses, until `deadline`. Latency is
/// timed from the batch's write, as wrk does.
async fn builtin_connection(
    addr: SocketAddr,
    request: Arc<String>,
    pipeline: usize,
    deadline: Instant,
) -> Result<(u64, Vec<u32>), String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(256 * 1024);
    let mut done = 0u64;
    let mut samples = Vec::new();
    while done < MAX_REQUESTS_PER_CONNECTION && Instant::now() < deadline {
        let sent = Instant::now();
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        for _ in 0..pipeline {
            read_response(&mut stream, &mut buf).await?;
            if samples.len() < MAX_SAMPLES_PER_CONNECTION {
                let micros = sent.elapsed().as_micros();
                samples.push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            done += 1;
        }
    }
    Ok((done, samples))
}

/// Reads one whole `200` response with a `Content-Length` body and removes it from
/// `buf`; what follows it (the next pipelined response) stays.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Result<(), String> {
    let total = loop {
        if let Some(total) = parse_head(buf)? {
            break total;
        }
        if buf.len() > MAX_HEAD {
            return Err("response head too large".into());
        }
        read_more(stream, buf).await?;
    };
    while buf.len() < total {
        read_more(stream, buf).await?;
    }
    buf.drain(..total);
    Ok(())
}

/// The length of the response at the start of `buf` (head and body), once its head is in.
fn parse_head(buf: &[u8]) -> Result<Option<usize>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buf) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(format!("bad response: {error}")),
    };
    if response.code != Some(200) {
        return Err(format!("status {:?}", response.code));
    }
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .ok_or("response without Content-Length")?;
    Ok(Some(head + length))
}

async fn read_more(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    buf.reserve(64 * 1024);
    match stream.read_buf(buf).await {
        Ok(0) => Err("server closed the connection".into()),
        Ok(_) => Ok(()),
        Err(error) => Err(format!("read: {error}")),
    }
}

// ---------------------------------------------------------------------------------------
// The run.

/// Accumulated results of one server in one cell.
struct Tally {
    requests: u64,
    secs: f64,
    /// The server's CPU time over the runs.
    cpu: Duration,
    p99s: Vec<f64>,
    errors: u64,
}

struct Row {
    cell: usize,
    peer: Peer,
    result: Result<Tally, String>,
}

fn run_bench() {
    let secs = measured_secs(DEFAULT_SECS);
    let rounds = round_lengths(secs, MAX_ROUNDS);
    let tools = Tools::detect();
    println!(
        "server_load: {secs} s per server per cell in rounds of {rounds:?} s, \
         {} cores visible, load average {}",
        tools.cores,
        load_average()
    );
    report_tools(&tools);

    println!(
        "building the actix-web peer (benches/peers/actix_hello; the first build takes minutes)"
    );
    let actix = build_actix();
    if let Err(error) = &actix {
        println!("actix-web peer unavailable, its cells are skipped: {error}");
    }
    let servers: Vec<(Peer, Result<ServerProcess, String>)> = Peer::ALL
        .into_iter()
        .map(|peer| (peer, start_server(&tools, peer, &actix)))
        .collect();
    for (peer, server) in &servers {
        match server {
            Ok(server) => println!("  {:11} ready on 127.0.0.1:{}", peer.name(), server.port),
            Err(error) => println!("  {:11} not started: {error}", peer.name()),
        }
    }
    let server_of = |peer: Peer| -> Result<(u16, u32), String> {
        let (_, server) = servers
            .iter()
            .find(|(p, _)| *p == peer)
            .expect("every peer");
        server
            .as_ref()
            .map(|s| (s.port, s.pid))
            .map_err(Clone::clone)
    };

    let generator = Generator {
        tools,
        dir: tempfile::tempdir().expect("temporary directory"),
    };
    let cells = selected_cells();
    warm_up(&generator, &server_of);
    let rows = measure(&generator, &cells, &rounds, &server_of);
    drop(servers);

    print_table(&cells, &rows);
    if generator.tools.wrk {
        println!("note: {WRK_PIPELINE_P99}");
    }
    print_goals(&cells, &rows);
    println!("load average at the end: {}", load_average());
}

fn report_tools(tools: &Tools) {
    if tools.wrk {
        println!("HTTP/1.1 load: wrk -t1 -c{CONNECTIONS}");
    } else {
        println!(
            "HTTP/1.1 load: wrk not installed (or BENCH_HTTP1_LOAD=builtin); built-in generator \
             (tokio, raw TCP, {CONNECTIONS} keep-alive connections)"
        );
    }
    if tools.h2load {
        println!("h2c load: h2load -t1 -c{H2_CLIENTS} -m{H2_STREAMS}");
    } else {
        println!("h2c load: h2load not installed; the h2c cells are skipped");
    }
    if !tools.taskset || tools.cores <= LOAD_CORE {
        println!(
            "not pinning (taskset {}, {} cores): servers and load share cores, ratios are noisier",
            if tools.taskset { "present" } else { "missing" },
            tools.cores
        );
    } else {
        println!("servers pinned to core {SERVER_CORE}, load generators to core {LOAD_CORE}");
    }
}

/// One unmeasured second per server and protocol.
fn warm_up(generator: &Generator, server_of: &dyn Fn(Peer) -> Result<(u16, u32), String>) {
    for peer in Peer::ALL {
        let Ok((port, _)) = server_of(peer) else {
            continue;
        };
        for load in [Load::Http1 { pipeline: 1 }, Load::H2c] {
            if load == Load::H2c && !generator.tools.h2load {
                continue;
            }
            if let Err(error) = generator.run(load, port, "/json", WARM_UP_SECS) {
                println!("  warm-up of {} ({load:?}) failed: {error}", peer.name());
            }
        }
    }
}

/// Every round runs every cell and, within it, every server, starting from a different
/// server each round. A server that fails in a cell keeps its error there.
fn measure(
    generator: &Generator,
    cells: &[Cell],
    rounds: &[u64],
    server_of: &dyn Fn(Peer) -> Result<(u16, u32), String>,
) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for (cell_index, cell) in cells.iter().enumerate() {
        for &peer in &cell.peers {
            let result = if cell.load == Load::H2c && !generator.tools.h2load {
                Err("h2load not installed".into())
            } else {
                server_of(peer).map(|_| Tally {
                    requests: 0,
                    secs: 0.0,
                    cpu: Duration::ZERO,
                    p99s: Vec::new(),
                    errors: 0,
                })
            };
            rows.push(Row {
                cell: cell_index,
                peer,
                result,
            });
        }
    }
    for (round, &secs) in rounds.iter().enumerate() {
        println!("round {}/{} ({secs} s per run)", round + 1, rounds.len());
        for (cell_index, cell) in cells.iter().enumerate() {
            let order = rotated(&cell.peers, round);
            for peer in order {
                let row = rows
                    .iter_mut()
                    .find(|row| row.cell == cell_index && row.peer == peer)
                    .expect("a row per cell and peer");
                let Ok(tally) = &mut row.result else { continue };
                let Ok((port, pid)) = server_of(peer) else {
                    continue;
                };
                let cpu_before = process_cpu(Some(pid));
                let outcome = generator.run(cell.load, port, cell.path, secs);
                let cpu = process_cpu(Some(pid)).saturating_sub(cpu_before);
                print_run(cell, peer, &outcome);
                match outcome {
                    Ok(sample) => {
                        add(tally, sample);
                        tally.cpu += cpu;
                    }
                    Err(error) => row.result = Err(error),
                }
            }
        }
    }
    rows
}

fn rotated(peers: &[Peer], by: usize) -> Vec<Peer> {
    let mut order = peers.to_vec();
    if !order.is_empty() {
        let shift = by % order.len();
        order.rotate_left(shift);
    }
    order
}

fn add(tally: &mut Tally, sample: Sample) {
    tally.requests += sample.requests;
    tally.secs += sample.secs;
    tally.errors += sample.errors;
    tally.p99s.extend(sample.p99_us);
}

fn print_run(cell: &Cell, peer: Peer, outcome: &Result<Sample, String>) {
    let text = match outcome {
        Ok(sample) => format!(
            "{:>9.0} req/s  p99 {:>8}{}",
            sample.requests as f64 / sample.secs,
            format_us(sample.p99_us),
            if sample.errors > 0 {
                format!("  {} errors", sample.errors)
            } else {
                String::new()
            }
        ),
        Err(error) => format!("failed: {error}"),
    };
    println!("  {:22} {:11} {text}", cell.name, peer.name());
}

fn format_us(micros: Option<f64>) -> String {
    match micros {
        None => "-".into(),
        Some(us) if us < 1e3 => format!("{us:.0}us"),
        Some(us) if us < 1e6 => format!("{:.2}ms", us / 1e3),
        Some(us) => format!("{:.2}s", us / 1e6),
    }
}

// ---------------------------------------------------------------------------------------
// Reporting.

fn rate(tally: &Tally) -> Option<f64> {
    (tally.secs > 0.0).then(|| tally.requests as f64 / tally.secs)
}

/// The server's CPU time per request, in µs; `None` without requests or without `/proc`.
fn cpu_per_request(tally: &Tally) -> Option<f64> {
    (tally.requests > 0 && !tally.cpu.is_zero())
        .then(|| tally.cpu.as_secs_f64() * 1e6 / tally.requests as f64)
}

/// `peer`'s results in `cell`, when it ran there.
fn tally_of(rows: &[Row], cell: usize, peer: Peer) -> Option<&Tally> {
    rows.iter()
        .find(|row| row.cell == cell && row.peer == peer)
        .and_then(|row| row.result.as_ref().ok())
}

fn rate_of(rows: &[Row], cell: usize, peer: Peer) -> Option<f64> {
    tally_of(rows, cell, peer).and_then(rate)
}

fn ratio(rows: &[Row], cell: usize, peer: Peer, base: Peer) -> Option<f64> {
    let base = rate_of(rows, cell, base).filter(|base| *base > 0.0)?;
    Some(rate_of(rows, cell, peer)? / base)
}

fn print_table(cells: &[Cell], rows: &[Row]) {
    let bases = [Peer::Hyper, Peer::HyperFlush, Peer::Axum, Peer::Actix];
    let mut header = format!(
        "\n{:<22} {:<11} {:>9} {:>9}",
        "cell", "server", "req/s", "p99"
    );
    for base in bases {
        let _ = write!(header, " {:>14}", format!("vs {}", base.name()));
    }
    println!(
        "{header} {:>7} {:>9} {:>14}",
        "errors", "cpu/req", "cpu vs hyper"
    );
    for row in rows {
        let cell = &cells[row.cell];
        let mut line = format!("{:<22} {:<11}", cell.name, row.peer.name());
        match &row.result {
            Ok(tally) => {
                let p99 = (!tally.p99s.is_empty())
                    .then(|| tally.p99s.iter().sum::<f64>() / tally.p99s.len() as f64);
                let rate = rate(tally).map_or("-".into(), |rate| format!("{rate:.0}"));
                let _ = write!(line, " {rate:>9} {:>9}", format_us(p99));
                for base in bases {
                    let cell_ratio = ratio(rows, row.cell, row.peer, base);
                    let text = cell_ratio.map_or("-".into(), |r| format!("{r:.2}"));
                    let _ = write!(line, " {text:>14}");
                }
                let _ = write!(line, " {:>7}", tally.errors);
                let cpu = cpu_per_request(tally);
                let cpu_text = cpu.map_or("-".into(), |us| format!("{us:.2}us"));
                // hyper's CPU per request over this server's: above 1, this one spends less.
                let cpu_ratio = tally_of(rows, row.cell, Peer::Hyper)
                    .and_then(cpu_per_request)
                    .zip(cpu)
                    .map_or("-".into(), |(base, ours)| format!("{:.2}", base / ours));
                let _ = write!(line, " {cpu_text:>9} {cpu_ratio:>14}");
            }
            Err(error) => {
                let _ = write!(line, " skipped: {error}");
            }
        }
        println!("{line}");
    }
}

/// The goals for what users write (the `router` peer), as ratios in this run.
/// (`hyper+flush` holds a streaming response behind a pipelined request: a reference,
/// not a goal.)
fn print_goals(cells: &[Cell], rows: &[Row]) {
    println!("\ngoals (the httpstack router's req/s over the peer's, same run):");
    for (index, cell) in cells.iter().enumerate() {
        let goals: &[(Peer, f64)] = match cell.load {
            Load::Http1 { .. } if cell.is_pipelined() => &[(Peer::Actix, 1.0)],
            Load::Http1 { .. } => &[(Peer::Hyper, 0.97), (Peer::Axum, 1.0)],
            Load::H2c => &[(Peer::Actix, 1.0)],
        };
        for &(base, goal) in goals {
            let verdict = match ratio(rows, index, Peer::Router, base) {
                Some(r) if r >= goal => format!("{r:.2}  met"),
                Some(r) => format!("{r:.2}  MISSED"),
                None => "-     not measured".into(),
            };
            println!(
                "  {:22} vs {:11} >= {goal:.2}: {verdict}",
                cell.name,
                base.name()
            );
        }
    }
}
