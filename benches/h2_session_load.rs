//! `httpstack::h2::Session` serving h2c load beside httpstack's `Server` and a bare hyper
//! server, in the same run: `h2load -c 16 -m 100` (16 connections × 100 streams) against
//! each, every server answering every request with 200 and a 13-byte body.
//!
//! Run: `cargo bench --bench h2_session_load` (`BENCH_REQUESTS=N` per round, default
//! 200,000; 3 rounds, each running every server in turn so drift spreads over all).
//!
//! Each server runs in a child process (this binary re-executed with `--serve NAME`) on a
//! current-thread tokio runtime, pinned to core 0 with `taskset` where there is one;
//! h2load runs pinned to core 1 (`-t 1`). Reported per server: requests per second
//! (h2load's), the server's CPU time per request (user + system, from `/proc`), requests
//! per CPU-second, and that figure's ratio to bare hyper's (the goal for `Session`:
//! at least 0.8). Skipped with a printed reason when h2load is not installed. Traffic
//! goes to 127.0.0.1 only; children die when their standard input closes.

#[path = "load_support/mod.rs"]
mod load_support;

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use httpstack::h2::{Action, Event, Headers, Role, Session};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use load_support::{
    exit_when_stdin_closes, pinned, process_cpu, run_bounded, runs, ChildGuard, Pinning,
};
use tokio::net::TcpListener;

const BODY: &[u8] = b"Hello, World!";
const SERVERS: [&str; 3] = ["session", "httpstack", "hyper"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        serve_child(args.get(i + 1).map(String::as_str).unwrap_or(""));
    }
    run_bench();
}

fn serve_child(name: &str) -> ! {
    exit_when_stdin_closes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let port = match name {
            "session" => start_session().await,
            "httpstack" => start_httpstack().await,
            "hyper" => start_hyper().await,
            other => {
                eprintln!("h2_session_load --serve: unknown server {other:?}");
                std::process::exit(2);
            }
        };
        println!("READY {port}");
        let _ = std::io::stdout().flush();
        std::future::pending::<()>().await;
    });
    unreachable!("the server runs until its standard input closes")
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

async fn start_session() -> u16 {
    let listener = listener().await;
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let session = Session::new(tcp, Role::Server);
                while let Some(event) = session.take_evt().await {
                    let stream = match event {
                        Event::RecvHeaders {
                            stream,
                            end_stream: true,
                            ..
                        }
                        | Event::RecvData {
                            stream,
                            end_stream: true,
                            ..
                        } => stream,
                        _ => continue,
                    };
                    let headers = Headers::from_iter([
                        (":status", "200"),
                        ("content-type", "text/plain"),
                        ("content-length", "13"),
                    ]);
                    let _ = session.put_act(Action::SendHeaders {
                        stream,
                        headers,
                        end_stream: false,
                    });
                    let _ = session.put_act(Action::SendData {
                        stream,
                        data: Bytes::from_static(BODY),
                        end_stream: true,
                    });
                }
            });
        }
    });
    port
}

async fn start_httpstack() -> u16 {
    let handler = httpstack::handler_fn(|_req| async {
        Response::builder()
            .header("content-type", "text/plain")
            .body(httpstack::Body::from(Bytes::from_static(BODY)))
            .expect("response")
    });
    httpstack::serve("127.0.0.1:0", handler)
        .await
        .expect("httpstack serves")
        .port()
}

async fn start_hyper() -> u16 {
    let listener = listener().await;
    let port = listener.local_addr().expect("addr").port();
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let builder = Arc::clone(&builder);
            tokio::spawn(async move {
                let service = service_fn(|_req: Request<Incoming>| async {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "text/plain")
                            .body(Full::new(Bytes::from_static(BODY)))
                            .expect("response"),
                    )
                });
                let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
            });
        }
    });
    port
}

struct Child {
    guard: ChildGuard,
    port: u16,
}

fn spawn_server(tools: &Pinning, name: &str) -> Child {
    let exe = std::env::current_exe().expect("current exe");
    let mut command = pinned(tools, 0, exe);
    command
        .arg("--serve")
        .arg(name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn().expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let guard = ChildGuard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("READY line");
    let port = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no READY line: {line:?}"));
    Child { guard, port }
}

#[derive(Default)]
struct Tally {
    requests: u64,
    secs: f64,
    cpu: Duration,
}

fn run_bench() {
    if !runs("h2load", "--version") {
        println!("skipping h2_session_load: h2load not installed (apt-get install nghttp2-client)");
        return;
    }
    let tools = Pinning::detect();
    let per_round: u64 = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let children: Vec<(&str, Child)> = SERVERS
        .iter()
        .map(|name| (*name, spawn_server(&tools, name)))
        .collect();
    let mut tallies: HashMap<&str, Tally> = HashMap::new();
    for round in 0..4 {
        for (name, child) in &children {
            let url = format!("http://127.0.0.1:{}/", child.port);
            // Round 0 warms up (a tenth of the requests) and checks every answer is 2xx.
            let n = if round == 0 {
                per_round / 10
            } else {
                per_round
            };
            let pid = Some(child.guard.0.id());
            let before = process_cpu(pid);
            let mut command = pinned(&tools, 1, "h2load");
            command.args([
                "-c",
                "16",
                "-m",
                "100",
                "-t",
                "1",
                "-n",
                &n.to_string(),
                &url,
            ]);
            let output = run_bounded(command, Duration::from_secs(300))
                .unwrap_or_else(|e| panic!("h2load {name}: {e}"));
            let cpu = process_cpu(pid).saturating_sub(before);
            let succeeded = format!("{n} succeeded, 0 failed, 0 errored");
            assert!(
                output.contains(&succeeded) && output.contains(&format!("status codes: {n} 2xx")),
                "{name}: h2load:\n{output}"
            );
            let secs = output
                .lines()
                .find_map(|l| l.strip_prefix("finished in "))
                .and_then(|rest| rest.split(',').next())
                .and_then(|t| load_support::parse_duration_us(t.trim()).ok())
                .map(|us| us / 1e6)
                .unwrap_or_else(|| panic!("{name}: no time in h2load output:\n{output}"));
            if round > 0 {
                let tally = tallies.entry(name).or_default();
                tally.requests += n;
                tally.secs += secs;
                tally.cpu += cpu;
            }
        }
    }
    println!(
        "h2c, h2load -c 16 -m 100 -t 1, {} requests per server over 3 rounds; 13-byte body",
        per_round * 3
    );
    println!(
        "{:<10} {:>10} {:>14} {:>14} {:>12}",
        "server", "req/s", "CPU us/req", "req/CPU-s", "vs hyper"
    );
    let per_cpu = |t: &Tally| t.requests as f64 / t.cpu.as_secs_f64().max(1e-9);
    let hyper = tallies.get("hyper").map(per_cpu).unwrap_or(f64::NAN);
    for name in SERVERS {
        let Some(t) = tallies.get(name) else { continue };
        println!(
            "{:<10} {:>10.0} {:>14.2} {:>14.0} {:>11.2}x",
            name,
            t.requests as f64 / t.secs,
            t.cpu.as_secs_f64() * 1e6 / t.requests as f64,
            per_cpu(t),
            per_cpu(t) / hyper
        );
    }
}
