//! The HTTP2.jl README's server, on `httpstack::h2::Session`: every request is answered
//! with `:status 200`, `server`, `date`, `content-type` and a small HTML body.
//!
//! ```text
//! cargo run --example h2_session_server -- [--addr HOST:PORT] [--tls CERT.pem KEY.pem]
//! ```
//!
//! Without `--tls` it serves h2c by prior knowledge (`curl --http2-prior-knowledge`);
//! with it, h2 over TLS chosen by ALPN. It prints `READY <port>` once listening and
//! serves until Ctrl-C or SIGTERM.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;

use httpstack::h2::{Action, Event, Headers, Role, Session};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

const USAGE: &str = "usage: h2_session_server [--addr HOST:PORT] [--tls CERT.pem KEY.pem]";

struct Args {
    addr: String,
    tls: Option<(String, String)>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        addr: "127.0.0.1:0".into(),
        tls: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => out.addr = args.next().ok_or("--addr needs HOST:PORT")?,
            "--tls" => {
                let cert = args.next().ok_or("--tls needs CERT.pem KEY.pem")?;
                let key = args.next().ok_or("--tls needs CERT.pem KEY.pem")?;
                out.tls = Some((cert, key));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let acceptor = match &args.tls {
        None => None,
        Some((cert, key)) => match httpstack::server::server_config_from_pem(cert, key) {
            Ok(config) => {
                // h2 only: a Session speaks nothing else (RFC 9113 §3.2).
                let mut config = (*config).clone();
                config.alpn_protocols = vec![b"h2".to_vec()];
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
            }
            Err(err) => {
                eprintln!("TLS: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    let listener = match TcpListener::bind(&args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("READY {port}");
    eprintln!("Server started.");

    let serve = async {
        loop {
            let (tcp, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(err) => {
                    eprintln!("accept: {err}");
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    None => serve_connection(tcp).await,
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(tls) => serve_connection(tls).await,
                        Err(err) => eprintln!("TLS handshake: {err}"),
                    },
                }
            });
        }
    };
    tokio::select! {
        _ = serve => {}
        _ = shutdown_signal() => eprintln!("Server stopped."),
    }
    ExitCode::SUCCESS
}

/// One connection: answer each request once it has ended (its headers or its last data
/// carried END_STREAM).
async fn serve_connection<T>(io: T)
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let connection = Session::new(io, Role::Server);
    let mut answered = HashSet::new();
    while let Some(event) = connection.take_evt().await {
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
            Event::Error(err) => {
                eprintln!("connection: {err}");
                break;
            }
            _ => continue,
        };
        if !answered.insert(stream) {
            continue;
        }
        let body = "<html><body><h1>Hello from httpstack::h2</h1></body></html>\n";
        let headers = Headers::from_iter([
            (":status", "200".to_string()),
            ("server", "httpstack-h2".to_string()),
            (
                "date",
                httpdate::fmt_http_date(std::time::SystemTime::now()),
            ),
            ("content-type", "text/html; charset=UTF-8".to_string()),
            ("content-length", body.len().to_string()),
        ]);
        let sent = connection
            .put_act(Action::SendHeaders {
                stream,
                headers,
                end_stream: false,
            })
            .and_then(|()| {
                connection.put_act(Action::SendData {
                    stream,
                    data: body.into(),
                    end_stream: true,
                })
            });
        if sent.is_err() {
            break;
        }
        // Streams are done once answered; the set only needs the ones still open.
        if answered.len() > 10_000 {
            answered.clear();
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
