//! `httpstack::h2::Session` against real HTTP/2 peers on 127.0.0.1: a server written only
//! with `Session` answers curl, nghttp and h2load (h2c and TLS with ALPN h2); a client
//! written only with `Session` fetches from nghttpd (h2c and TLS) including a pushed
//! resource; and httpstack's own `Client` and `Server` meet `Session` from the other side.
//! Peers come from `.ci/run` (nghttp2-client, nghttp2-server, curl); a missing one fails
//! under `CI=true` and skips elsewhere.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use httpstack::h2::{Role, Session};
use tokio::net::TcpStream;
use tokio::process::Command;

mod support;
use support::h2_peers::{get, session_server, text, BODY};
use support::peers::peer;
use support::tls::tls_connect;
use support::{test_cert, within, within_for, TestCert};

/// Runs a peer command to its end (bounded), returning its exit success and stdout.
async fn run(program: &std::path::Path, args: &[String]) -> (bool, String, String) {
    let output = within_for(
        Duration::from_secs(60),
        "peer command",
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write_pem(dir: &tempfile::TempDir, cert: &TestCert) -> (String, String, String) {
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("cert.pem"), &cert.cert_pem).expect("write cert");
    std::fs::write(path("key.pem"), &cert.key_pem).expect("write key");
    std::fs::write(path("ca.pem"), &cert.ca_pem).expect("write ca");
    (path("cert.pem"), path("key.pem"), path("ca.pem"))
}

#[tokio::test]
async fn curl_gets_from_a_session_server_h2c_and_tls() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let server = session_server(None).await;
    let url = format!("http://127.0.0.1:{}/index.html", server.addr.port());
    let args: Vec<String> = [
        "-sS",
        "--http2-prior-knowledge",
        "-w",
        "\n%{http_code} %{http_version}",
        &url,
    ]
    .map(String::from)
    .to_vec();
    let (ok, out, err) = run(&curl, &args).await;
    assert!(ok, "curl failed: {err}");
    assert_eq!(out, format!("{BODY}\n200 2"), "curl h2c output");

    let cert = test_cert();
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, _, ca) = write_pem(&dir, &cert);
    let server = session_server(Some(&cert)).await;
    let port = server.addr.port();
    let url = format!("https://localhost:{port}/");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let args: Vec<String> = [
        "-sS",
        "--http2",
        "--cacert",
        &ca,
        "--resolve",
        &resolve,
        "-w",
        "\n%{http_code} %{http_version}",
        &url,
    ]
    .map(String::from)
    .to_vec();
    let (ok, out, err) = run(&curl, &args).await;
    assert!(ok, "curl over TLS failed: {err}");
    assert_eq!(out, format!("{BODY}\n200 2"), "curl h2 output");
}

#[tokio::test]
async fn nghttp_gets_from_a_session_server_h2c_and_tls() {
    let Some(nghttp) = peer("nghttp", "nghttp2-client") else {
        return;
    };
    let cert = test_cert();
    for tls in [false, true] {
        let server = session_server(tls.then_some(&cert)).await;
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{}/", server.addr.port());
        let (ok, out, err) = run(&nghttp, &["-v".into(), url.clone()]).await;
        assert!(ok, "nghttp {url} failed: {err}\n{out}");
        assert!(out.contains(":status: 200"), "no 200 from {url}:\n{out}");
        assert!(out.contains(BODY.trim()), "no body from {url}:\n{out}");
        assert!(
            !out.contains("GOAWAY") || out.contains("error_code=NO_ERROR"),
            "{out}"
        );
    }
}

/// h2load at 16 connections × 100 streams: every request 2xx, none failed or errored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2load_16_connections_100_streams_h2c_and_tls() {
    let Some(h2load) = peer("h2load", "nghttp2-client") else {
        return;
    };
    let cert = test_cert();
    for tls in [false, true] {
        let server = session_server(tls.then_some(&cert)).await;
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{}/", server.addr.port());
        let args: Vec<String> = ["-c", "16", "-m", "100", "-n", "6400", "-t", "1", &url]
            .map(String::from)
            .to_vec();
        let (ok, out, err) = run(&h2load, &args).await;
        assert!(ok, "h2load {url} failed: {err}\n{out}");
        assert!(
            out.contains("requests: 6400 total, 6400 started, 6400 done, 6400 succeeded, 0 failed, 0 errored"),
            "h2load {url}:\n{out}"
        );
        assert!(
            out.contains("status codes: 6400 2xx"),
            "h2load {url}:\n{out}"
        );
        let finished = out.lines().find(|l| l.starts_with("finished in"));
        eprintln!("h2load {url}: {}", finished.unwrap_or("?"));
    }
}

/// nghttpd on a free port, serving `dir`; killed when dropped.
struct Nghttpd {
    _child: tokio::process::Child,
    addr: SocketAddr,
}

async fn nghttpd(dir: &std::path::Path, tls: Option<(&str, &str)>) -> Option<Nghttpd> {
    let program = peer("nghttpd", "nghttp2-server")?;
    // A free port: bind, read it, release (nghttpd cannot report an ephemeral one).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut cmd = Command::new(program);
    cmd.arg("-d")
        .arg(dir)
        .arg("--push=/index.html=/style.css")
        .arg("--address=127.0.0.1");
    match tls {
        None => {
            cmd.arg("--no-tls").arg(port.to_string());
        }
        Some((key, cert)) => {
            cmd.arg(port.to_string()).arg(key).arg(cert);
        }
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn nghttpd");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    within("nghttpd to listen", async {
        for _ in 0..500 {
            if TcpStream::connect(addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("nghttpd did not listen on {addr}");
    })
    .await;
    Some(Nghttpd {
        _child: child,
        addr,
    })
}

#[tokio::test]
async fn session_client_fetches_from_nghttpd_with_push_h2c_and_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("index.html"), "<html>index</html>\n").unwrap();
    std::fs::write(dir.path().join("style.css"), "body { color: red }\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    let cert = test_cert();
    let (cert_path, key_path, _) = write_pem(&dir, &cert);

    for tls in [false, true] {
        let server = nghttpd(
            dir.path(),
            tls.then_some((key_path.as_str(), cert_path.as_str())),
        )
        .await;
        let Some(server) = server else { return };
        let session = if tls {
            let stream = tls_connect(server.addr, &cert.ca_der, b"h2").await;
            Session::new(stream, Role::Client)
        } else {
            let tcp = within("connect", TcpStream::connect(server.addr))
                .await
                .expect("connect");
            Session::new(tcp, Role::Client)
        };
        let scheme = if tls { "https" } else { "http" };
        let authority = format!("localhost:{}", server.addr.port());
        let (index, pushes) = get(&session, &authority, scheme, "/index.html").await;
        assert_eq!(index.headers.get(":status"), Some("200"), "{tls}");
        assert_eq!(text(&index.body), "<html>index</html>\n");
        assert_eq!(pushes.len(), 1, "one pushed resource ({scheme})");
        let (request, pushed) = pushes.values().next().unwrap();
        assert_eq!(request.get(":path"), Some("/style.css"));
        assert_eq!(pushed.headers.get(":status"), Some("200"));
        assert_eq!(text(&pushed.body), "body { color: red }\n");

        // A body over the 65,535-byte window: WINDOW_UPDATEs go out as we take it.
        let (large, _) = get(&session, &authority, scheme, "/big.bin").await;
        assert_eq!(large.headers.get(":status"), Some("200"));
        assert!(large.body == big, "big.bin byte for byte ({scheme})");
        session.close().await;
    }
}

#[tokio::test]
async fn httpstack_client_gets_from_a_session_server() {
    let server = session_server(None).await;
    let client = httpstack::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    for _ in 0..3 {
        let resp = within(
            "httpstack get",
            client.get(format!("http://127.0.0.1:{}/x", server.addr.port())),
        )
        .await
        .expect("response");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), http::Version::HTTP_2);
        assert_eq!(resp.text(), BODY);
    }
}

#[tokio::test]
async fn session_client_gets_from_httpstack_server() {
    // The handler ignores its request, so it fits whichever request body type the
    // server serves.
    let server = httpstack::serve(
        "127.0.0.1:0",
        httpstack::handler_fn(|_req| async {
            http::Response::builder()
                .header("content-type", "text/plain")
                .body(httpstack::Body::from("served by httpstack"))
                .unwrap()
        }),
    )
    .await
    .expect("serve");
    let tcp = within("connect", TcpStream::connect(("127.0.0.1", server.port())))
        .await
        .expect("connect");
    let session = Session::new(tcp, Role::Client);
    for _ in 0..3 {
        let (resp, _) = get(&session, "localhost", "http", "/").await;
        assert_eq!(resp.headers.get(":status"), Some("200"));
        assert_eq!(resp.headers.get("content-type"), Some("text/plain"));
        assert_eq!(text(&resp.body), "served by httpstack");
    }
    session.close().await;
    server.close().await;
}
