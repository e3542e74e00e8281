//! Static-file load benchmark: a 1 MiB file served by httpstack's `file_server`, by
//! tower-http's `ServeDir` and by nginx, side by side, as ratios (docs/design.md, "Tests and
//! benchmarks"; the approach of `benches/server_load.rs`).
//!
//! Run: `cargo bench --bench files_load` (`BENCH_SECS=2` for a quick look; default 5;
//! `BENCH_HTTP1_LOAD=builtin` uses the built-in generator even where wrk is).
//!
//! Workload: `GET /file.bin`, a 1 MiB file on disk (generated at start into a tempdir),
//! over HTTP/1.1 keep-alive at 64 connections. Servers:
//!
//! - `httpstack`: `file_server(root)` under `httpstack::serve`, default options;
//! - `tower-http`: `ServeDir::new(root)` under the same `httpstack::serve`, so the ratio
//!   between these two is the file service alone;
//! - `nginx`: Debian's nginx-light with `tests/fixtures/nginx.conf` (one process,
//!   `sendfile on`), skipped with the reason when nginx is not installed.
//!
//! The Rust servers run on a current-thread runtime (plus tokio's blocking pool for file
//! reads) in a child process (this bench re-executed with `--serve NAME ROOT`); every
//! server is pinned to core 0 with `taskset`, the load generator to core 1. The load
//! comes from `wrk -t1 -c64`, or, when wrk is not installed, from a built-in generator
//! (tokio, raw TCP, 64 keep-alive connections). Each server is checked once (status,
//! length and bytes of the file), warmed up, then measured in rounds that rotate the
//! order of the servers. Reported: requests/s, MiB/s, p99 latency, and the ratios.
//!
//! Traffic goes to 127.0.0.1 only; every loop stops on a count cap and every wait on a
//! deadline. Children are killed when their guard drops, and the Rust servers also exit
//! when their standard input (a pipe from this process) closes.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener, TcpStream as StdTcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "load_support/mod.rs"]
mod load_support;

use load_support::{
    exit_when_stdin_closes, load_average, measured_secs, parse_wrk, percentile, pinned,
    round_lengths, run_bounded, runs, ChildGuard, Pinning, Sample,
};

/// HTTP/1.1 connections.
const CONNECTIONS: usize = 64;
/// The file's size.
const FILE_LEN: usize = 1 << 20;
/// The request path.
const PATH: &str = "/file.bin";
/// Default measured seconds per server; `BENCH_SECS` overrides.
const DEFAULT_SECS: u64 = 5;
/// The measured time is split into at most this many rounds of whole seconds.
const MAX_ROUNDS: u64 = 3;
/// Unmeasured run per server before the first round.
const WARM_UP_SECS: u64 = 1;
/// How long a server may take to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a load generator may run past its own duration before it is killed.
const RUN_SLACK: Duration = Duration::from_secs(20);
/// Core of the servers and core of the load generator.
const SERVER_CORE: usize = 0;
const LOAD_CORE: usize = 1;
/// The nginx config template, shared with `tests/files_nginx.rs`.
const NGINX_TEMPLATE: &str = include_str!("../tests/fixtures/nginx.conf");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|arg| arg == "--serve") {
        let name = args.get(i + 1).map(String::as_str).unwrap_or("");
        let root = args.get(i + 2).map(PathBuf::from).unwrap_or_default();
        serve_child(name, &root);
    }
    run_bench();
}

/// The file's bytes: varied, so a wrong offset or a short read shows in the check.
fn file_bytes() -> Vec<u8> {
    (0..FILE_LEN).map(|i| (i % 251) as u8).collect()
}

// ---------------------------------------------------------------------------------------
// The servers.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Httpstack,
    TowerHttp,
    Nginx,
}

impl Peer {
    const ALL: [Peer; 3] = [Peer::Httpstack, Peer::TowerHttp, Peer::Nginx];

    fn name(self) -> &'static str {
        match self {
            Peer::Httpstack => "httpstack",
            Peer::TowerHttp => "tower-http",
            Peer::Nginx => "nginx",
        }
    }
}

/// Child mode: serves `root` with server `name` until standard input closes.
fn serve_child(name: &str, root: &Path) -> ! {
    exit_when_stdin_closes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build tokio runtime");
    runtime.block_on(async move {
        let addr = (Ipv4Addr::LOCALHOST, 0);
        let server = match name {
            "httpstack" => httpstack::serve(addr, httpstack::files::file_server(root)).await,
            "tower-http" => httpstack::serve(addr, tower_http::services::ServeDir::new(root)).await,
            _ => {
                eprintln!("files_load --serve: unknown server {name:?}");
                std::process::exit(2);
            }
        };
        let server = server.expect("server starts");
        println!("READY {}", server.port());
        let _ = std::io::stdout().flush();
        std::future::pending::<()>().await;
    });
    unreachable!("the server runs until its standard input closes")
}

/// A running server; dropping it ends it.
struct ServerProcess {
    port: u16,
    // Field order: the pipe closes before the guard kills, so the child may exit first.
    _stdin: Option<ChildStdin>,
    _child: ChildGuard,
    _scratch: Option<tempfile::TempDir>,
}

struct Tools {
    wrk: bool,
    taskset: bool,
    nginx: bool,
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
            wrk: std::env::var("BENCH_HTTP1_LOAD").as_deref() != Ok("builtin")
                && runs("wrk", "--version"),
            taskset: runs("taskset", "--version"),
            nginx: runs("nginx", "-v"),
            cores: core_affinity::get_core_ids().map_or(0, |ids| ids.len()),
        }
    }
}

/// Starts `peer` serving `root`, pinned to the server core, and checks it serves the file.
fn start_server(tools: &Tools, peer: Peer, root: &Path) -> Result<ServerProcess, String> {
    let server = match peer {
        Peer::Nginx => start_nginx(tools, root)?,
        _ => {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            let mut command = pinned(&tools.pinning(), SERVER_CORE, exe);
            command.arg("--serve").arg(peer.name()).arg(root);
            command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            let mut child = ChildGuard(command.spawn().map_err(|e| format!("spawn: {e}"))?);
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
            ServerProcess {
                port,
                _stdin: stdin,
                _child: child,
                _scratch: None,
            }
        }
    };
    check_file(server.port)?;
    Ok(server)
}

/// nginx with the test template, on a port found free just before.
fn start_nginx(tools: &Tools, root: &Path) -> Result<ServerProcess, String> {
    if !tools.nginx {
        return Err("nginx is not installed (apt-get install nginx-light)".into());
    }
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let port = StdTcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("free port: {e}"))?
        .port();
    let conf = NGINX_TEMPLATE
        .replace("{{PREFIX}}", &scratch.path().display().to_string())
        .replace("{{ROOT}}", &root.display().to_string())
        .replace("{{PORT}}", &port.to_string());
    let conf_path = scratch.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).map_err(|e| format!("write nginx.conf: {e}"))?;
    let mut command = pinned(&tools.pinning(), SERVER_CORE, "nginx");
    command
        .arg("-p")
        .arg(scratch.path())
        .arg("-c")
        .arg(&conf_path)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = ChildGuard(command.spawn().map_err(|e| format!("spawn nginx: {e}"))?);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    while StdTcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline || matches!(child.0.try_wait(), Ok(Some(_))) {
            let log = std::fs::read_to_string(scratch.path().join("error.log")).unwrap_or_default();
            return Err(format!("nginx did not start: {}", log.trim()));
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(ServerProcess {
        port,
        _stdin: None,
        _child: child,
        _scratch: Some(scratch),
    })
}

/// One `Connection: close` GET of the file: 200 and its exact bytes.
fn check_file(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream =
        StdTcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let request = format!("GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .take(4 << 20)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(&raw) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Err("incomplete response head".into()),
        Err(error) => return Err(error.to_string()),
    };
    if response.code != Some(200) || raw[head..] != file_bytes()[..] {
        return Err(format!(
            "GET {PATH}: status {:?}, {} body bytes, expected 200 and the {FILE_LEN}-byte file",
            response.code,
            raw.len() - head
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Load generators.

fn run_load(tools: &Tools, port: u16, secs: u64) -> Result<Sample, String> {
    if tools.wrk {
        let mut command = pinned(&tools.pinning(), LOAD_CORE, "wrk");
        command
            .arg("-t1")
            .arg(format!("-c{CONNECTIONS}"))
            .arg(format!("-d{secs}s"))
            .arg("--latency")
            .arg(format!("http://127.0.0.1:{port}{PATH}"));
        parse_wrk(&run_bounded(
            command,
            Duration::from_secs(secs) + RUN_SLACK,
        )?)
    } else {
        builtin_load(tools, port, secs)
    }
}

/// Requests per connection per run at most, whatever the clock says.
const MAX_REQUESTS_PER_CONNECTION: u64 = 10_000_000;
/// Latency samples kept per connection at most.
const MAX_SAMPLES_PER_CONNECTION: usize = 100_000;

/// [`CONNECTIONS`] keep-alive connections GETting the file for `secs`, on a thread
/// pinned to the load core.
fn builtin_load(tools: &Tools, port: u16, secs: u64) -> Result<Sample, String> {
    let core = core_affinity::get_core_ids()
        .and_then(|ids| ids.into_iter().find(|id| id.id == LOAD_CORE))
        .filter(|_| tools.cores > LOAD_CORE);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let duration = Duration::from_secs(secs);
    thread::spawn(move || {
        if let Some(core) = core {
            core_affinity::set_for_current(core);
        }
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build tokio runtime")
            .block_on(builtin_run(addr, duration))
    })
    .join()
    .map_err(|_| "built-in generator panicked".to_string())?
}

async fn builtin_run(addr: SocketAddr, duration: Duration) -> Result<Sample, String> {
    let start = Instant::now();
    let deadline = start + duration;
    let hard_deadline = tokio::time::Instant::from_std(deadline + RUN_SLACK);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            tokio::spawn(tokio::time::timeout_at(
                hard_deadline,
                builtin_connection(addr, deadline),
            ))
        })
        .collect();
    let (mut requests, mut latencies, mut first_error) = (0, Vec::new(), None);
    for task in tasks {
        match task.await {
            Ok(Ok(Ok((done, samples)))) => {
                requests += done;
                latencies.extend(samples);
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

/// One connection: GET, read the whole response (the body is counted, not kept), repeat.
async fn builtin_connection(
    addr: SocketAddr,
    deadline: Instant,
) -> Result<(u64, Vec<f64>), String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let request = format!(
        "GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        addr.port()
    );
    let mut buf = vec![0u8; 256 * 1024];
    let mut filled = 0;
    let (mut done, mut samples) = (0u64, Vec::new());
    while done < MAX_REQUESTS_PER_CONNECTION && Instant::now() < deadline {
        let sent = Instant::now();
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        // The head.
        let (head, length) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&buf[..filled]) {
                Ok(httparse::Status::Complete(head)) => {
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
                    break (head, length);
                }
                Ok(httparse::Status::Partial) if filled < buf.len() => {
                    let n = stream
                        .read(&mut buf[filled..])
                        .await
                        .map_err(|e| format!("read: {e}"))?;
                    if n == 0 {
                        return Err("server closed the connection".into());
                    }
                    filled += n;
                }
                Ok(httparse::Status::Partial) => return Err("response head too large".into()),
                Err(error) => return Err(format!("bad response: {error}")),
            }
        };
        // The body: what is buffered after the head, then reads until `length`.
        let mut remaining = length.saturating_sub(filled - head);
        let extra = (filled - head).saturating_sub(length);
        buf.copy_within(filled - extra..filled, 0);
        filled = extra;
        while remaining > 0 {
            let n = stream
                .read(&mut buf[filled..])
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("server closed the connection".into());
            }
            let used = n.min(remaining);
            remaining -= used;
            // Keep only what belongs to a later response (none without pipelining).
            buf.copy_within(filled + used..filled + n, filled);
            filled += n - used;
        }
        if samples.len() < MAX_SAMPLES_PER_CONNECTION {
            samples.push(sent.elapsed().as_secs_f64() * 1e6);
        }
        done += 1;
    }
    Ok((done, samples))
}

// ---------------------------------------------------------------------------------------
// The run.

#[derive(Default)]
struct Tally {
    requests: u64,
    secs: f64,
    p99s: Vec<f64>,
    errors: u64,
}

impl Tally {
    fn rate(&self) -> Option<f64> {
        (self.secs > 0.0 && self.requests > 0).then(|| self.requests as f64 / self.secs)
    }
}

fn run_bench() {
    let secs = measured_secs(DEFAULT_SECS);
    let rounds = round_lengths(secs, MAX_ROUNDS);
    let tools = Tools::detect();
    println!(
        "files_load: GET {PATH} ({} KiB) at {CONNECTIONS} connections, {secs} s per server in \
         rounds of {rounds:?} s, {} cores visible, load average {}",
        FILE_LEN / 1024,
        tools.cores,
        load_average()
    );
    if tools.wrk {
        println!("load: wrk -t1 -c{CONNECTIONS}");
    } else {
        println!("load: wrk not installed (or BENCH_HTTP1_LOAD=builtin); built-in generator");
    }
    if tools.taskset && tools.cores > LOAD_CORE {
        println!("servers pinned to core {SERVER_CORE}, load generator to core {LOAD_CORE}");
    } else {
        println!("not pinning: servers and load share cores, ratios are noisier");
    }

    let site = tempfile::tempdir().expect("temporary directory");
    std::fs::write(site.path().join("file.bin"), file_bytes()).expect("write file.bin");
    let servers: Vec<(Peer, Result<ServerProcess, String>)> = Peer::ALL
        .into_iter()
        .map(|peer| (peer, start_server(&tools, peer, site.path())))
        .collect();
    for (peer, server) in &servers {
        match server {
            Ok(server) => println!("  {:10} ready on 127.0.0.1:{}", peer.name(), server.port),
            Err(error) => println!("  {:10} not started: {error}", peer.name()),
        }
    }

    let mut tallies: Vec<(Peer, Result<Tally, String>)> = servers
        .iter()
        .map(|(peer, server)| {
            (
                *peer,
                server
                    .as_ref()
                    .map(|_| Tally::default())
                    .map_err(Clone::clone),
            )
        })
        .collect();
    for (peer, server) in &servers {
        if let Ok(server) = server {
            if let Err(error) = run_load(&tools, server.port, WARM_UP_SECS) {
                println!("  warm-up of {} failed: {error}", peer.name());
            }
        }
    }
    for (round, &secs) in rounds.iter().enumerate() {
        println!("round {}/{} ({secs} s per run)", round + 1, rounds.len());
        let mut order: Vec<usize> = (0..servers.len()).collect();
        order.rotate_left(round % servers.len());
        for index in order {
            let (peer, server) = &servers[index];
            let Ok(server) = server else { continue };
            let Ok(tally) = &mut tallies[index].1 else {
                continue;
            };
            match run_load(&tools, server.port, secs) {
                Ok(sample) => {
                    println!(
                        "  {:10} {:>8.0} req/s {:>8.0} MiB/s  p99 {}",
                        peer.name(),
                        sample.requests as f64 / sample.secs,
                        sample.requests as f64 / sample.secs * FILE_LEN as f64 / (1 << 20) as f64,
                        format_us(sample.p99_us)
                    );
                    tally.requests += sample.requests;
                    tally.secs += sample.secs;
                    tally.errors += sample.errors;
                    tally.p99s.extend(sample.p99_us);
                }
                Err(error) => {
                    println!("  {:10} failed: {error}", peer.name());
                    tallies[index].1 = Err(error);
                }
            }
        }
    }
    drop(servers);

    let rate_of = |peer: Peer| {
        tallies
            .iter()
            .find(|(p, _)| *p == peer)
            .and_then(|(_, t)| t.as_ref().ok())
            .and_then(Tally::rate)
    };
    let bases = [Peer::TowerHttp, Peer::Nginx];
    let mut header = format!(
        "\n{:<11} {:>9} {:>9} {:>9}",
        "server", "req/s", "MiB/s", "p99"
    );
    for base in bases {
        let _ = write!(header, " {:>14}", format!("vs {}", base.name()));
    }
    println!("{header} {:>7}", "errors");
    for (peer, tally) in &tallies {
        let mut line = format!("{:<11}", peer.name());
        match tally {
            Ok(tally) => {
                let rate = tally.rate();
                let p99 = (!tally.p99s.is_empty())
                    .then(|| tally.p99s.iter().sum::<f64>() / tally.p99s.len() as f64);
                let _ = write!(
                    line,
                    " {:>9} {:>9} {:>9}",
                    rate.map_or("-".into(), |r| format!("{r:.0}")),
                    rate.map_or("-".into(), |r| format!(
                        "{:.0}",
                        r * FILE_LEN as f64 / (1 << 20) as f64
                    )),
                    format_us(p99)
                );
                for base in bases {
                    let ratio = rate
                        .zip(rate_of(base).filter(|b| *b > 0.0))
                        .map(|(r, b)| r / b);
                    let _ = write!(
                        line,
                        " {:>14}",
                        ratio.map_or("-".into(), |r| format!("{r:.2}"))
                    );
                }
                let _ = write!(line, " {:>7}", tally.errors);
            }
            Err(error) => {
                let _ = write!(line, " skipped: {error}");
            }
        }
        println!("{line}");
    }
    println!("load average at the end: {}", load_average());
}

fn format_us(micros: Option<f64>) -> String {
    match micros {
        None => "-".into(),
        Some(us) if us < 1e3 => format!("{us:.0}us"),
        Some(us) if us < 1e6 => format!("{:.2}ms", us / 1e3),
        Some(us) => format!("{:.2}s", us / 1e6),
    }
}
