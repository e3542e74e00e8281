//! The server side of the load benchmark: HTTP.jl's benchmark workload (its
//! bench/server.jl) served by httpstack.
//!
//! - `GET /tiny`: 200 with an empty body;
//! - `GET /json`: a JSON object of about 200 bytes;
//! - `GET /large`: 100 KiB;
//! - `POST /echo`: the request body back, streamed (never buffered whole).
//!
//! HTTP/1.1 and h2c by prior knowledge on plaintext; with `--tls`, HTTPS with ALPN `h2`
//! and `http/1.1`. Prints `READY <port>` on its own line once listening, and closes
//! gracefully on Ctrl-C or SIGTERM.
//!
//! ```text
//! cargo run --release --example bench_server -- [--addr HOST:PORT] [--tls CERT.pem KEY.pem] [--access-log FORMAT]
//!     [--read-timeout SECS] [--max-body-bytes N]
//! ```
//!
//! The handler is what the benchmark measures, so it does nothing a bare hyper handler
//! would not: static bodies, no boxing, no allocation per request (the echo hands hyper's
//! own request body back as the response body), and no extra headers.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use httpstack::server::{server_config_from_pem, Server};

/// About 200 bytes, like HTTP.jl's `/json` payload.
const JSON: &[u8] = br#"{"id":12345,"name":"httpstack benchmark","active":true,"tags":["http","julia","rust","tower"],"scores":[98.5,87.25,91.0],"owner":{"login":"bench","email":"bench@example.invalid"},"message":"hello, world"}"#;

/// 100 KiB of filler for `/large`.
static LARGE: [u8; 100 * 1024] = [b'x'; 100 * 1024];

/// A static body, or the request body echoed back.
type BenchBody = Either<Full<Bytes>, httpstack::Body>;

/// The benchmark handler, as a plain tower service: its future is `Ready`, nothing boxed.
#[derive(Clone, Copy, Debug)]
struct Bench;

impl tower::Service<Request<httpstack::Body>> for Bench {
    type Response = Response<BenchBody>;
    type Error = Infallible;
    type Future = Ready<Result<Response<BenchBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<httpstack::Body>) -> Self::Future {
        let fixed = |bytes: &'static [u8]| Either::Left(Full::new(Bytes::from_static(bytes)));
        let response = match (req.method(), req.uri().path()) {
            (&Method::GET, "/tiny") => Response::new(fixed(b"")),
            (&Method::GET, "/json") => Response::new(fixed(JSON)),
            (&Method::GET, "/large") => Response::new(fixed(&LARGE)),
            (&Method::POST, "/echo") => Response::new(Either::Right(req.into_body())),
            _ => {
                let mut response = Response::new(fixed(b""));
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        };
        ready(Ok(response))
    }
}

/// The command line.
#[derive(Debug)]
struct Args {
    addr: String,
    tls: Option<(String, String)>,
    access_log: Option<String>,
    /// Request body bounds, to measure what they cost (`/echo` uploads).
    read_timeout: Option<Duration>,
    max_body_bytes: Option<u64>,
}

const USAGE: &str = "usage: bench_server [--addr HOST:PORT] [--tls CERT.pem KEY.pem] \
                     [--access-log FORMAT] [--read-timeout SECS] [--max-body-bytes N]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        addr: "127.0.0.1:0".to_owned(),
        tls: None,
        access_log: None,
        read_timeout: None,
        max_body_bytes: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or_else(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--addr" => parsed.addr = value("HOST:PORT")?,
            "--tls" => parsed.tls = Some((value("CERT.pem KEY.pem")?, value("KEY.pem")?)),
            "--access-log" => parsed.access_log = Some(value("a FORMAT")?),
            "--read-timeout" => {
                let secs = value("SECS")?;
                let secs: u64 = secs
                    .parse()
                    .map_err(|_| format!("bad --read-timeout {secs:?}"))?;
                parsed.read_timeout = Some(Duration::from_secs(secs));
            }
            "--max-body-bytes" => {
                let n = value("N")?;
                parsed.max_body_bytes = Some(
                    n.parse()
                        .map_err(|_| format!("bad --max-body-bytes {n:?}"))?,
                );
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Server::bind(args.addr.clone())
        .grace_period(Duration::from_secs(10))
        .read_timeout(args.read_timeout);
    if let Some(max) = args.max_body_bytes {
        builder = builder.max_body_bytes(max);
    }
    if let Some(format) = &args.access_log {
        // One line per request on stderr, so stdout keeps only the READY line.
        match httpstack::middleware::access_log::AccessLogLayer::new(format) {
            Ok(layer) => builder = builder.access_log_layer(layer.writer(std::io::stderr())),
            Err(err) => {
                eprintln!("bench_server: {err}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some((cert, key)) = &args.tls {
        match server_config_from_pem(cert, key) {
            Ok(config) => builder = builder.tls(config),
            Err(err) => {
                eprintln!("bench_server: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    let server = match builder.serve(Bench).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("bench_server: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("READY {}", server.port());

    shutdown_signal().await;
    eprintln!("bench_server: closing");
    server.close().await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(err) => {
                eprintln!("bench_server: no SIGTERM handler ({err}); Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_about_200_bytes() {
        assert!((180..=240).contains(&JSON.len()), "{} bytes", JSON.len());
        assert!(serde_json::from_slice::<serde_json::Value>(JSON).is_ok());
    }

    #[test]
    fn parses_the_command_line() {
        let args = |list: &[&str]| parse_args(list.iter().map(|s| s.to_string()));
        let parsed = args(&[
            "--addr",
            "0.0.0.0:8080",
            "--tls",
            "c.pem",
            "k.pem",
            "--access-log",
            "$status",
        ])
        .expect("valid");
        assert_eq!(parsed.addr, "0.0.0.0:8080");
        assert_eq!(parsed.tls, Some(("c.pem".to_owned(), "k.pem".to_owned())));
        assert_eq!(parsed.access_log.as_deref(), Some("$status"));
        assert_eq!(args(&[]).expect("defaults").addr, "127.0.0.1:0");
        assert!(args(&["--tls", "only-cert.pem"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
