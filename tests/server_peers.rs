//! The server against real third-party clients on 127.0.0.1: curl (HTTP/1.1, HTTP/2 over
//! TLS with `--cacert`, h2c with `--http2-prior-knowledge`, streamed uploads, the 413 and
//! 431 limits), h2load (h2c, HTTP/2 over TLS, HTTP/1.1) and wrk (HTTP/1.1 keep-alive).
//!
//! `.ci/run` installs the peers. A missing one fails the test under `CI=true` and skips
//! it elsewhere with a printed reason. Every peer run is bounded by [`WAIT`] and killed
//! if it overstays.

mod support;

use std::future::Future;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use httpstack::server::{handler_fn, server_config_from_pem_bytes, Server, Stream};
use httpstack::Body;
use support::peers::peer;

/// The bound on every wait in these tests, peer runs included.
const WAIT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    support::within_for(WAIT, what, future).await
}

/// Runs `program args...` to completion (killed if it overstays [`WAIT`]).
async fn run(program: &Path, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(program);
    command.args(args).kill_on_drop(true);
    let output = within(
        &format!("{} {}", program.display(), args.join(" ")),
        command.output(),
    )
    .await
    .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
    output
}

/// Runs the command and returns its stdout, failing the test when it fails.
async fn run_ok(program: &Path, args: &[&str]) -> String {
    let output = run(program, args).await;
    assert!(
        output.status.success(),
        "{} {} failed ({}):\nstdout: {}\nstderr: {}",
        program.display(),
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// HTTP.jl's benchmark routes plus an echo: `/tiny` (empty), `/json`, `/echo` (the body
/// back), anything else `"<version> <method> <path>"`.
async fn app(req: Request<httpstack::Body>) -> Response<Body> {
    match req.uri().path() {
        "/tiny" => Response::new(Body::empty()),
        "/json" => Response::new(Body::from(r#"{"message":"hello","items":[1,2,3]}"#)),
        "/echo" => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Response::new(Body::from(body))
        }
        path => Response::new(Body::from(format!(
            "{:?} {} {path}",
            req.version(),
            req.method()
        ))),
    }
}

/// Starts `app` with `builder`'s options.
async fn start(builder: httpstack::ServerBuilder<&'static str>) -> Server {
    builder.serve(handler_fn(app)).await.expect("serve")
}

#[tokio::test]
async fn curl_speaks_http1_to_the_server() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let server = start(Server::bind("127.0.0.1:0")).await;
    let base = format!("http://{}", server.local_addr());

    let out = run_ok(&curl, &["-sS", "--http1.1", &format!("{base}/hello")]).await;
    assert_eq!(out, "HTTP/1.1 GET /hello");

    // Two URLs in one run share the keep-alive connection.
    let output = run(
        &curl,
        &[
            "-sS",
            "-v",
            "--http1.1",
            &format!("{base}/a"),
            &format!("{base}/b"),
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "HTTP/1.1 GET /aHTTP/1.1 GET /b"
    );
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("Re-using existing connection"),
        "curl did not reuse the connection:\n{log}"
    );

    // A POST body, sent with a length and sent chunked.
    let out = run_ok(
        &curl,
        &[
            "-sS",
            "--http1.1",
            "--data-binary",
            "posted body",
            &format!("{base}/echo"),
        ],
    )
    .await;
    assert_eq!(out, "posted body");
    let out = run_ok(
        &curl,
        &[
            "-sS",
            "--http1.1",
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            "chunked body",
            &format!("{base}/echo"),
        ],
    )
    .await;
    assert_eq!(out, "chunked body");
    within("close", server.close()).await;
}

/// `HEAD` gets the head `GET` would get, `Content-Length` kept, and no body, over
/// HTTP/1.1, h2c and h2 over TLS (hyper drops the body for HTTP/1.1 only: over HTTP/2
/// curl would fail the stream with PROTOCOL_ERROR).
#[tokio::test]
async fn curl_head_gets_no_body_on_every_protocol() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let json_len = r#"{"message":"hello","items":[1,2,3]}"#.len();
    let cert = support::test_cert();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert.ca_pem).expect("write CA");
    let ca = ca.to_str().expect("UTF-8 path");
    let tls = server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes())
        .expect("TLS config");
    let plain = start(Server::bind("127.0.0.1:0")).await;
    let secure = start(Server::bind("127.0.0.1:0").tls(tls)).await;
    let resolve = format!("localhost:{}:127.0.0.1", secure.port());
    let h1 = format!("http://{}/json", plain.local_addr());
    let h2 = format!("https://localhost:{}/json", secure.port());
    let cases: [(&str, Vec<&str>); 3] = [
        ("HTTP/1.1", vec!["--http1.1", &h1]),
        ("h2c", vec!["--http2-prior-knowledge", &h1]),
        (
            "h2 over TLS",
            vec!["--http2", "--cacert", ca, "--resolve", &resolve, &h2],
        ),
    ];
    for (protocol, args) in cases {
        let mut all = vec!["-sS", "-I", "--max-time", "10"];
        all.extend(args);
        let out = run_ok(&curl, &all).await.to_ascii_lowercase();
        assert!(out.contains(" 200"), "{protocol}: {out}");
        assert!(
            out.contains(&format!("content-length: {json_len}")),
            "{protocol}: the length GET would get: {out}"
        );
        assert!(
            out.ends_with("\r\n\r\n"),
            "{protocol}: no body after the head: {out:?}"
        );
    }
    within("close", plain.close()).await;
    within("close", secure.close()).await;
}

#[tokio::test]
async fn curl_speaks_http2_over_tls_and_h2c() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let cert = support::test_cert();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert.ca_pem).expect("write CA");
    let tls = server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes())
        .expect("TLS config");

    let server = start(Server::bind("127.0.0.1:0").tls(tls)).await;
    let port = server.port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/secure");
    let ca = ca.to_str().expect("UTF-8 path");
    let out = run_ok(
        &curl,
        &[
            "-sS",
            "--http2",
            "--cacert",
            ca,
            "--resolve",
            &resolve,
            "-w",
            " %{http_version}",
            &url,
        ],
    )
    .await;
    assert_eq!(out, "HTTP/2.0 GET /secure 2");
    // The same server speaks HTTP/1.1 to a client that offers only that.
    let out = run_ok(
        &curl,
        &[
            "-sS",
            "--http1.1",
            "--cacert",
            ca,
            "--resolve",
            &resolve,
            &url,
        ],
    )
    .await;
    assert_eq!(out, "HTTP/1.1 GET /secure");
    within("close", server.close()).await;

    let server = start(Server::bind("127.0.0.1:0")).await;
    let url = format!("http://{}/h2c", server.local_addr());
    let out = run_ok(
        &curl,
        &[
            "-sS",
            "--http2-prior-knowledge",
            "-w",
            " %{http_version}",
            &url,
        ],
    )
    .await;
    assert_eq!(out, "HTTP/2.0 GET /h2c 2");
    let out = run_ok(
        &curl,
        &[
            "-sS",
            "--http2-prior-knowledge",
            "--data-binary",
            "over h2c",
            &format!("http://{}/echo", server.local_addr()),
        ],
    )
    .await;
    assert_eq!(out, "over h2c");
    within("close", server.close()).await;
}

#[tokio::test]
async fn curl_gets_413_and_431_at_the_limits() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let server = start(
        Server::bind("127.0.0.1:0")
            .max_body_bytes(64)
            .max_header_bytes(2048),
    )
    .await;
    let url = format!("http://{}/echo", server.local_addr());
    let at_limit = "x".repeat(64);
    let over_limit = "x".repeat(65);
    let big_header = format!("X-Big: {}", "y".repeat(4096));
    // curl 7.88 sometimes fails (error 92) when an HTTP/2 server answers before the
    // upload — any early answer, a handler's 400 too — so the HTTP/2 413 is tested with
    // hyper's client in server_limits.rs instead.
    let cases: [(&str, &[&str], &str); 5] = [
        ("--http1.1", &["--data-binary", &at_limit], "200"),
        ("--http1.1", &["--data-binary", &over_limit], "413"),
        ("--http1.1", &["-H", &big_header], "431"),
        (
            "--http2-prior-knowledge",
            &["--data-binary", &at_limit],
            "200",
        ),
        ("--http2-prior-knowledge", &["-H", &big_header], "431"),
    ];
    for (protocol, extra, expected) in cases {
        let mut args = vec!["-sS", protocol, "-o", "/dev/null", "-w", "%{http_code}"];
        args.extend_from_slice(extra);
        args.push(&url);
        let out = run_ok(&curl, &args).await;
        assert_eq!(out, expected, "{protocol} {:?}", &extra[0]);
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn curl_streams_through_a_stream_handler() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let server = Server::bind("127.0.0.1:0")
        .listen(|mut stream: Stream| async move {
            stream.set_header("x-handler", "stream")?;
            while let Some(chunk) = stream.read_chunk().await? {
                stream.write(chunk.to_ascii_uppercase()).await?;
            }
            stream.close_write()
        })
        .await
        .expect("listen");
    let url = format!("http://{}/up", server.local_addr());
    for args in [
        &["--http1.1", "-H", "Transfer-Encoding: chunked"][..],
        &["--http2-prior-knowledge"][..],
    ] {
        let mut all = vec!["-sS", "-D", "-", "--data-binary", "shout this"];
        all.extend_from_slice(args);
        all.push(&url);
        let out = run_ok(&curl, &all).await;
        assert!(
            out.to_ascii_lowercase().contains("x-handler: stream"),
            "{out}"
        );
        assert!(out.ends_with("\r\n\r\nSHOUT THIS"), "{args:?}: {out}");
    }
    within("close", server.close()).await;
}

/// Checks h2load's summary: every request done and answered 2xx.
fn assert_h2load_clean(out: &str, requests: u32, what: &str) {
    let summary = format!("requests: {requests} total, {requests} started, {requests} done, {requests} succeeded, 0 failed, 0 errored, 0 timeout");
    assert!(
        out.contains(&summary),
        "{what}: h2load summary not clean:\n{out}"
    );
    assert!(
        out.contains(&format!("status codes: {requests} 2xx")),
        "{what}:\n{out}"
    );
}

#[tokio::test]
async fn h2load_runs_clean_over_h2c_tls_and_http1() {
    let Some(h2load) = peer("h2load", "nghttp2-client") else {
        return;
    };
    let server = start(Server::bind("127.0.0.1:0")).await;
    let base = format!("http://{}", server.local_addr());
    for (what, path, extra) in [
        ("h2c /tiny", "/tiny", &[][..]),
        ("h2c /json", "/json", &[][..]),
        ("http/1.1 /tiny", "/tiny", &["--h1"][..]),
    ] {
        let url = format!("{base}{path}");
        let mut args = vec!["-n", "400", "-c", "4", "-m", "8"];
        args.extend_from_slice(extra);
        args.push(&url);
        let out = run_ok(&h2load, &args).await;
        assert_h2load_clean(&out, 400, what);
    }
    within("close", server.close()).await;

    // HTTP/2 over TLS, ALPN h2 (h2load does not verify the certificate).
    let cert = support::test_cert();
    let tls = server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes())
        .expect("TLS config");
    let server = Server::bind("127.0.0.1:0")
        .tls(Arc::clone(&tls))
        .serve(handler_fn(app))
        .await
        .expect("serve");
    let url = format!("https://127.0.0.1:{}/json", server.port());
    let out = run_ok(&h2load, &["-n", "200", "-c", "2", "-m", "4", &url]).await;
    assert!(out.contains("Application protocol: h2"), "{out}");
    assert_h2load_clean(&out, 200, "h2 over TLS");
    within("close", server.close()).await;
}

#[tokio::test]
async fn wrk_runs_clean_over_http1_keep_alive() {
    let Some(wrk) = peer("wrk", "wrk") else {
        return;
    };
    let server = start(Server::bind("127.0.0.1:0").max_connections(64)).await;
    let url = format!("http://{}/json", server.local_addr());
    let out = run_ok(&wrk, &["-t", "1", "-c", "8", "-d", "1s", &url]).await;
    assert!(out.contains("requests in"), "{out}");
    assert!(!out.contains("Non-2xx"), "non-2xx answers:\n{out}");
    assert!(!out.contains("Socket errors"), "socket errors:\n{out}");
    within("close", server.close()).await;
}
