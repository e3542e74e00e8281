//! The HTTP2.jl README's client, on `httpstack::h2::Session`: one GET, then the response
//! headers and the body.
//!
//! ```text
//! cargo run --example h2_session_client -- [--insecure] [--cacert CA.pem] URL
//! ```
//!
//! `http://` speaks h2c by prior knowledge; `https://` negotiates h2 by ALPN
//! (`--insecure` accepts any certificate; `--cacert` adds a trust root).

use std::process::ExitCode;
use std::sync::Arc;

use httpstack::h2::{Action, Event, Headers, Role, Session};
use httpstack::tls::{Certificate, ClientTls};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;

const USAGE: &str = "usage: h2_session_client [--insecure] [--cacert CA.pem] URL";

#[tokio::main]
async fn main() -> ExitCode {
    let mut insecure = false;
    let mut cacert = None;
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--insecure" | "-k" => insecure = true,
            "--cacert" => cacert = args.next(),
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match fetch(&url, insecure, cacert.as_deref()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn fetch(
    url: &str,
    insecure: bool,
    cacert: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    let url = url::Url::parse(url)?;
    let host = url.host_str().ok_or("URL without a host")?.to_string();
    let port = url.port_or_known_default().ok_or("URL without a port")?;
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path = format!("{path}?{query}");
    }
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let connection = match url.scheme() {
        "http" => Session::new(tcp, Role::Client),
        "https" => {
            let config = tls_config(insecure, cacert)?;
            let name = ServerName::try_from(host.clone())?;
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await?;
            if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                return Err("the server did not choose h2 by ALPN".into());
            }
            Session::new(tls, Role::Client)
        }
        other => return Err(format!("unsupported scheme {other}").into()),
    };
    let headers = Headers::from_iter([
        (":method", "GET"),
        (":path", path.as_str()),
        (":scheme", url.scheme()),
        (":authority", authority.as_str()),
        ("accept", "*/*"),
        ("accept-encoding", "gzip, deflate"),
        ("user-agent", "httpstack-h2"),
    ]);
    let stream = connection.next_free_stream_identifier();
    connection.put_act(Action::SendHeaders {
        stream,
        headers,
        end_stream: true,
    })?;
    let mut body = Vec::new();
    while let Some(event) = connection.take_evt().await {
        match event {
            Event::RecvHeaders {
                stream: s,
                headers,
                end_stream,
            } if s == stream => {
                for field in &headers {
                    println!(
                        "{}: {}",
                        String::from_utf8_lossy(&field.name),
                        String::from_utf8_lossy(&field.value)
                    );
                }
                if end_stream {
                    break;
                }
            }
            Event::RecvData {
                stream: s,
                data,
                end_stream,
            } if s == stream => {
                body.extend_from_slice(&data);
                if end_stream {
                    break;
                }
            }
            Event::Reset {
                stream: s, code, ..
            } if s == stream => return Err(format!("stream reset: {code}").into()),
            Event::Error(err) => return Err(err.into()),
            _ => {}
        }
    }
    println!();
    println!("{}", String::from_utf8_lossy(&body));
    connection.close().await;
    Ok(())
}

fn tls_config(
    insecure: bool,
    cacert: Option<&str>,
) -> Result<ClientConfig, Box<dyn std::error::Error>> {
    let mut tls = ClientTls::new().verify(!insecure).alpn(["h2"]);
    if let Some(path) = cacert {
        for cert in Certificate::from_pem_bundle(&std::fs::read(path)?)? {
            tls = tls.add_root_certificate(cert);
        }
    }
    Ok(tls.build()?)
}
