//! The client core against httpstack's own server and raw TCP peers on 127.0.0.1.

mod support;

use std::convert::Infallible;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use httpstack::server::{handler_fn, serve, Server};
use httpstack::{Body, Client, TimeoutKind};
use hyper::body::Frame;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(20);

/// Every test's waits are bounded: a hang fails the test instead of the CI run.
async fn bounded<F: IntoFuture>(f: F) -> F::Output {
    support::within_for(LIMIT, "test step", f).await
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// The test server: `/echo` answers with a JSON description of the request; the other
/// paths produce the responses the tests need.
async fn app(req: Request<httpstack::Body>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next().unwrap_or(""), parts.next()) {
        ("status", Some(code)) => {
            let code: u16 = code.parse().unwrap_or(500);
            Response::builder()
                .status(code)
                .body(Body::from(format!("status page {code}")))
                .unwrap()
        }
        ("gzip", Some(n)) => {
            let n: usize = n.parse().unwrap_or(0);
            Response::builder()
                .header("content-encoding", "gzip")
                .body(Body::from(gzip(&vec![b'z'; n])))
                .unwrap()
        }
        ("sleep", Some(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
            Response::new(Body::from("slept"))
        }
        ("dribble", Some(ms)) => {
            let gap = Duration::from_millis(ms.parse().unwrap_or(0));
            let stream = futures_util::stream::unfold(0, move |n| async move {
                if n == 4 {
                    return None;
                }
                tokio::time::sleep(gap).await;
                Some((
                    Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"drop "))),
                    n + 1,
                ))
            });
            Response::new(Body::wrap(StreamBody::new(stream)))
        }
        ("bytes", Some(n)) => {
            let n: usize = n.parse().unwrap_or(0);
            let chunks = (0..n)
                .step_by(65536)
                .map(move |at| Bytes::from(vec![b'b'; (n - at).min(65536)]))
                .collect::<Vec<_>>();
            Response::builder()
                .header("content-length", n)
                .body(Body::from_chunks(chunks))
                .unwrap()
        }
        ("attachment", _) => Response::builder()
            .header("content-disposition", "attachment; filename=\"report.csv\"")
            .body(Body::from("a,b\n1,2\n"))
            .unwrap(),
        ("raw-echo", _) => Response::new(Body::wrap(req.into_body())),
        _ => {
            let method = req.method().to_string();
            let version = format!("{:?}", req.version());
            let headers: serde_json::Map<String, Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(v.to_str().unwrap_or("<binary>"))))
                .collect();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let out = json!({
                "method": method, "path": path, "query": query, "version": version,
                "headers": headers, "body": String::from_utf8_lossy(&body),
            });
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(out.to_string()))
                .unwrap()
        }
    }
}

async fn start() -> (Server, String) {
    let server = serve("127.0.0.1:0", handler_fn(app)).await.unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    (server, base)
}

/// A one-shot raw TCP peer: reads one request head, writes `reply` as is, then closes.
async fn raw_peer(reply: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = sock.write_all(reply).await;
            let _ = sock.shutdown().await;
        }
    });
    format!("http://{addr}/")
}

/// A raw TCP peer that records the bytes of the whole request it gets (head and a
/// chunked body, up to the last chunk), then answers 200.
async fn recording_peer() -> (String, tokio::sync::oneshot::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 8192];
        let done = |s: &[u8]| {
            let Some(head_end) = s.windows(4).position(|w| w == b"\r\n\r\n") else {
                return false;
            };
            let head = String::from_utf8_lossy(&s[..head_end]).to_ascii_lowercase();
            !head.contains("transfer-encoding: chunked") || s.ends_with(b"0\r\n\r\n")
        };
        while !done(&seen) {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .await;
        let _ = tx.send(seen);
    });
    (format!("http://{addr}/"), rx)
}

#[tokio::test]
async fn get_with_query_appends_to_existing_query() {
    let (server, base) = start().await;
    let resp =
        bounded(httpstack::get(format!("{base}/echo?x=1")).query(&[("q", "a b&c"), ("é", "1")]))
            .await
            .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().unwrap();
    // HTTP.jl's `escapeuri`: a space is %20 in a query string (a form body keeps `+`).
    assert_eq!(v["query"], "x=1&q=a%20b%26c&%C3%A9=1");
    assert_eq!(v["method"], "GET");
    assert_eq!(
        resp.url().as_str(),
        format!("{base}/echo?x=1&q=a%20b%26c&%C3%A9=1")
    );
    server.close().await;
}

#[tokio::test]
async fn every_method_helper_sends_its_method() {
    let (server, base) = start().await;
    let client = Client::new();
    let url = format!("{base}/echo");
    let cases = [
        (client.get(&url), "GET"),
        (client.post(&url), "POST"),
        (client.put(&url), "PUT"),
        (client.patch(&url), "PATCH"),
        (client.delete(&url), "DELETE"),
        (client.options(&url), "OPTIONS"),
        (
            client.request(Method::from_bytes(b"PURGE").unwrap(), &url),
            "PURGE",
        ),
    ];
    for (builder, method) in cases {
        let v: Value = bounded(builder).await.unwrap().json().unwrap();
        assert_eq!(v["method"], method);
    }
    let head = bounded(client.head(&url)).await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    server.close().await;
}

#[tokio::test]
async fn post_form_json_and_text_bodies() {
    let (server, base) = start().await;
    let url = format!("{base}/echo");
    let v: Value = bounded(httpstack::post(&url).form(&[("a", "1"), ("b", "x y")]))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["body"], "a=1&b=x+y");
    assert_eq!(
        v["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );

    let v: Value = bounded(httpstack::post(&url).json(&json!({"k": [1, 2]})))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["body"], r#"{"k":[1,2]}"#);
    assert_eq!(v["headers"]["content-type"], "application/json");

    for body in [
        Body::from("static"),
        Body::from(String::from("string")),
        Body::from(vec![b'v']),
        Body::from(Bytes::from_static(b"bytes")),
    ] {
        let expected = String::from_utf8(
            body.try_clone()
                .unwrap()
                .collect_bytes()
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        let v: Value = bounded(httpstack::put(&url).body(body))
            .await
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(v["body"], expected.as_str());
        assert_eq!(
            v["headers"]["content-length"],
            expected.len().to_string().as_str()
        );
    }
    // An empty POST still says Content-Length: 0.
    let v: Value = bounded(httpstack::post(&url))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["headers"]["content-length"], "0");
    server.close().await;
}

#[tokio::test]
async fn chunks_are_sent_one_chunk_each() {
    let (url, rx) = recording_peer().await;
    let resp = bounded(httpstack::post(&url).body_chunks(vec!["ab", "cde", "f"]))
        .await
        .unwrap();
    assert_eq!(resp.text(), "ok");
    let wire = String::from_utf8(rx.await.unwrap()).unwrap();
    assert!(
        wire.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{wire}"
    );
    assert!(
        wire.ends_with("\r\n\r\n2\r\nab\r\n3\r\ncde\r\n1\r\nf\r\n0\r\n\r\n"),
        "{wire}"
    );
}

#[tokio::test]
async fn reader_and_stream_bodies_are_streamed() {
    let (server, base) = start().await;
    let url = format!("{base}/echo");
    let (mut writer, reader) = tokio::io::duplex(64);
    tokio::spawn(async move {
        for i in 0..100 {
            writer
                .write_all(format!("line {i}\n").as_bytes())
                .await
                .unwrap();
        }
    });
    let v: Value = bounded(httpstack::post(&url).body_reader(reader))
        .await
        .unwrap()
        .json()
        .unwrap();
    let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
    assert_eq!(v["body"], expected.as_str());
    assert_eq!(v["headers"]["transfer-encoding"], "chunked");

    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>("s1"), Ok("s2")]);
    let v: Value = bounded(httpstack::post(&url).body_stream(stream))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["body"], "s1s2");

    // A stream that fails aborts the request with a typed error, no hang.
    let failing =
        futures_util::stream::iter(vec![Ok("x"), Err(std::io::Error::other("disk on fire"))]);
    let err = bounded(httpstack::post(&url).body_stream(failing))
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_body(), "{err:?}");
    server.close().await;
}

#[tokio::test]
async fn response_stream_writes_into_any_writer() {
    let (server, base) = start().await;
    let mut sink = Vec::new();
    let resp = bounded(httpstack::get(format!("{base}/bytes/300000")).response_stream(&mut sink))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.body().is_empty());
    assert_eq!(sink.len(), 300_000);
    assert!(sink.iter().all(|&b| b == b'b'));
    server.close().await;
}

#[tokio::test]
async fn open_streams_both_ways() {
    let (server, base) = start().await;
    let mut stream = httpstack::open(Method::POST, format!("{base}/raw-echo")).unwrap();
    for i in 0..50 {
        bounded(stream.write(format!("piece {i};"))).await.unwrap();
    }
    let head = bounded(stream.start_read()).await.unwrap();
    assert_eq!(head.status(), 200);
    let mut got = Vec::new();
    while let Some(chunk) = bounded(stream.read_chunk()).await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    bounded(stream.close_read()).await.unwrap();
    let expected: String = (0..50).map(|i| format!("piece {i};")).collect();
    assert_eq!(String::from_utf8(got).unwrap(), expected);

    // Writing after start_read is a typed error.
    assert!(stream.write("late").await.unwrap_err().is_invalid_input());
    server.close().await;
}

#[tokio::test]
async fn download_names_the_file_and_reports_progress() {
    let (server, base) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = bounded(httpstack::download(
        format!("{base}/attachment"),
        dir.path(),
    ))
    .await
    .unwrap();
    assert_eq!(path, dir.path().join("report.csv"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n1,2\n");

    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reports.clone();
    let path = bounded(
        httpstack::download(format!("{base}/bytes/200000"), dir.path())
            .update_period(Some(Duration::ZERO))
            .progress(move |p| seen.lock().unwrap().push(p)),
    )
    .await
    .unwrap();
    assert_eq!(path, dir.path().join("200000"));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 200_000);
    let reports = reports.lock().unwrap().clone();
    let last = reports.last().unwrap();
    assert_eq!((last.downloaded, last.total), (200_000, Some(200_000)));
    assert!(reports
        .windows(2)
        .all(|w| w[0].downloaded <= w[1].downloaded));

    let file = dir.path().join("explicit.bin");
    let path = bounded(httpstack::download(format!("{base}/bytes/10"), &file))
        .await
        .unwrap();
    assert_eq!(path, file);
    let tmp = bounded(httpstack::download_temp(format!("{base}/attachment")))
        .await
        .unwrap();
    assert_eq!(tmp.file_name().unwrap(), "report.csv");
    std::fs::remove_dir_all(tmp.parent().unwrap()).unwrap();
    server.close().await;
}

#[tokio::test]
async fn status_exception_and_its_override() {
    let (server, base) = start().await;
    let url = format!("{base}/status/404");
    let err = bounded(httpstack::get(&url).retry(false))
        .await
        .unwrap_err();
    assert!(err.is_status());
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.response().unwrap().body(), "status page 404");
    assert_eq!(err.to_string(), format!("status 404 Not Found (GET {url})"));

    let resp = bounded(httpstack::get(&url).status_exception(false))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.error_for_status().unwrap_err().is_status());

    for (code, is_error) in [
        (200, false),
        (204, false),
        (302, false),
        (400, true),
        (503, true),
    ] {
        let result = bounded(httpstack::get(format!("{base}/status/{code}")).retry(false)).await;
        assert_eq!(result.is_err(), is_error, "status {code}");
    }
    let client = Client::builder().status_exception(false).build().unwrap();
    assert_eq!(bounded(client.get(&url)).await.unwrap().status(), 404);
    server.close().await;
}

#[tokio::test]
async fn basic_auth_from_userinfo_and_explicit() {
    let (server, base) = start().await;
    let with_creds = base.replace("http://", "http://user:p%40ss@") + "/echo";
    let v: Value = bounded(httpstack::get(&with_creds))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["headers"]["authorization"], "Basic dXNlcjpwQHNz"); // user:p@ss
    let v: Value = bounded(httpstack::get(&with_creds).basic_auth(false))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert!(v["headers"].get("authorization").is_none());
    let v: Value = bounded(httpstack::get(format!("{base}/echo")).basic_auth_with("a", "b:c"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["headers"]["authorization"], "Basic YTpiOmM=");
    // Credentials never appear in an error message.
    let err = bounded(
        httpstack::get(base.replace("http://", "http://user:secret@") + "/status/500").retry(false),
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
    server.close().await;
}

#[tokio::test]
async fn default_headers_user_agent_and_empty_values() {
    let (server, base) = start().await;
    let url = format!("{base}/echo");
    let v: Value = bounded(
        httpstack::get(&url)
            .header("x-empty", "")
            .header("x-one", "1"),
    )
    .await
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(
        v["headers"]["user-agent"],
        httpstack::client::DEFAULT_USER_AGENT
    );
    assert!(v["headers"].get("x-empty").is_none());
    assert_eq!(v["headers"]["x-one"], "1");

    let client = Client::builder()
        .set_user_agent(None)
        .default_header("x-team", "core")
        .build()
        .unwrap();
    let v: Value = bounded(client.get(&url)).await.unwrap().json().unwrap();
    assert!(v["headers"].get("user-agent").is_none());
    assert_eq!(v["headers"]["x-team"], "core");
    let v: Value = bounded(client.get(&url).header("x-team", "mine"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["headers"]["x-team"], "mine");
    server.close().await;
}

#[tokio::test]
async fn detect_content_type_sniffs_byte_bodies() {
    let (server, base) = start().await;
    let url = format!("{base}/echo");
    let cases = [
        (
            &b"<html><body>hi</body></html>"[..],
            "text/html; charset=utf-8",
        ),
        (&br#"{"a": -1.0}"#[..], "application/json; charset=utf-8"),
        (&b"Hello world!!"[..], "text/plain; charset=utf-8"),
        (&b"\x89PNG\r\n\x1a\n0000"[..], "image/png"),
    ];
    for (body, expected) in cases {
        let v: Value = bounded(
            httpstack::post(&url)
                .body(body.to_vec())
                .detect_content_type(true),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
        assert_eq!(v["headers"]["content-type"], expected, "body {body:?}");
    }
    let v: Value = bounded(httpstack::post(&url).body("x"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert!(v["headers"].get("content-type").is_none());
    server.close().await;
}

#[tokio::test]
async fn decompression_rules_and_cap() {
    let (server, base) = start().await;
    let url = format!("{base}/gzip/1000");
    let resp = bounded(httpstack::get(&url)).await.unwrap();
    assert_eq!(resp.body().len(), 1000);
    assert!(resp.headers().get("content-encoding").is_none());
    let raw = bounded(httpstack::get(&url).decompress(false))
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-encoding"], "gzip");
    assert_eq!(raw.body().as_ref(), gzip(&[b'z'; 1000]).as_slice());
    // The cap, at its edge.
    let at = bounded(httpstack::get(&url).max_decompressed_size(1000))
        .await
        .unwrap();
    assert_eq!(at.body().len(), 1000);
    let err = bounded(httpstack::get(&url).max_decompressed_size(999))
        .await
        .unwrap_err();
    assert!(err.is_decompression_limit(), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
    server.close().await;
}

#[tokio::test]
async fn read_and_total_timeouts() {
    let (server, base) = start().await;
    let err = bounded(
        httpstack::get(format!("{base}/sleep/2000"))
            .read_timeout(Duration::from_millis(100))
            .retry(false),
    )
    .await
    .unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{err:?}");
    // Gaps of 50 ms pass a 1 s read timeout, but not a 120 ms total one.
    let ok =
        bounded(httpstack::get(format!("{base}/dribble/50")).read_timeout(Duration::from_secs(1)))
            .await
            .unwrap();
    assert_eq!(ok.text(), "drop drop drop drop ");
    let err = bounded(
        httpstack::get(format!("{base}/dribble/50"))
            .timeout(Duration::from_millis(120))
            .retry(false),
    )
    .await
    .unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total), "{err:?}");
    assert!(err.to_string().contains("/dribble/50"), "{err}");
    server.close().await;
}

#[tokio::test]
async fn connect_timeout_covers_the_tls_handshake() {
    // A peer that accepts TCP but never answers the TLS ClientHello.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let client = Client::builder()
        .connect_timeout(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let err = bounded(client.get(format!("https://{addr}/")).retry(false))
        .await
        .unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Connect), "{err:?}");
}

#[tokio::test]
async fn max_connections_per_host_is_a_real_cap() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (i, p) = (in_flight.clone(), peak.clone());
    let server = serve(
        "127.0.0.1:0",
        handler_fn(move |_req: Request<httpstack::Body>| {
            let (i, p) = (i.clone(), p.clone());
            async move {
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                i.fetch_sub(1, Ordering::SeqCst);
                Response::new(Body::from("ok"))
            }
        }),
    )
    .await
    .unwrap();
    let client = Client::builder()
        .max_connections_per_host(2)
        .http1_only()
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{}/", server.port());
    let requests = (0..8).map(|_| client.get(&url).into_future());
    let results = bounded(futures_util::future::join_all(requests)).await;
    assert!(results
        .iter()
        .all(|r| r.as_ref().is_ok_and(|r| r.text() == "ok")));
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    assert!(server.connections() <= 2);
    server.close().await;
}

#[tokio::test]
async fn h2c_prior_knowledge_and_http1() {
    let (server, base) = start().await;
    let h2 = Client::builder().http2_prior_knowledge().build().unwrap();
    let v: Value = bounded(h2.get(format!("{base}/echo")))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["version"], "HTTP/2.0");
    let resp = bounded(h2.post(format!("{base}/echo")).body_chunks(vec!["a", "b"]))
        .await
        .unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.json::<Value>().unwrap()["body"], "ab");
    let v: Value = bounded(httpstack::get(format!("{base}/echo")))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["version"], "HTTP/1.1");
    server.close().await;
}

#[tokio::test]
async fn canonicalize_headers_title_cases_the_wire() {
    let (url, rx) = recording_peer().await;
    let client = Client::builder()
        .canonicalize_headers(true)
        .build()
        .unwrap();
    bounded(client.get(&url).header("x-custom-thing", "1"))
        .await
        .unwrap();
    let wire = String::from_utf8(rx.await.unwrap()).unwrap();
    assert!(
        wire.contains("X-Custom-Thing: 1\r\n") && wire.contains("User-Agent: "),
        "{wire}"
    );
    let (url, rx) = recording_peer().await;
    bounded(httpstack::get(&url).header("x-custom-thing", "1"))
        .await
        .unwrap();
    let wire = String::from_utf8(rx.await.unwrap()).unwrap();
    assert!(wire.contains("x-custom-thing: 1\r\n"), "{wire}");
}

#[tokio::test]
async fn local_addr_binds_the_source_address() {
    // 127.0.0.2 is loopback on Linux; the connection must come from it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let (mut sock, peer) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = sock.read(&mut buf).await;
        let _ = sock.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
        peer
    });
    let client = Client::builder()
        .local_addr("127.0.0.2".parse().unwrap())
        .build()
        .unwrap();
    bounded(client.get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert_eq!(bounded(accept).await.unwrap().ip().to_string(), "127.0.0.2");
}

#[tokio::test]
async fn bad_input_is_a_typed_error() {
    for url in [
        "not a url",
        "ftp://example.com/file",
        "http://",
        "file:///etc/passwd",
        "http://[::1/",
    ] {
        let err = bounded(httpstack::get(url)).await.unwrap_err();
        assert!(err.is_invalid_url(), "url {url:?}: {err:?}");
    }
    let err = bounded(httpstack::get("http://127.0.0.1:1/").header("x-bad", "a\r\nInjected: 1"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(err.to_string().contains("x-bad"), "{err}");
    let err = bounded(httpstack::get("http://127.0.0.1:1/").header("bad name", "v"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/x");
    let err = bounded(httpstack::get(&url).retry(false))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("connect error (GET {url})")),
        "{err}"
    );
}

#[tokio::test]
async fn broken_responses_are_request_errors() {
    let cases: &[(&str, &'static [u8])] = &[
        (
            "closed mid-body",
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b",
        ),
        (
            "truncated chunked",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nwor",
        ),
        (
            "bad chunk size",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ),
        ("garbage status line", b"HTTP/1.1 abc\r\n\r\n"),
        ("not http at all", b"SSH-2.0-OpenSSH_9.2\r\n"),
        ("closed before any response", b""),
    ];
    for (name, reply) in cases {
        let url = raw_peer(reply).await;
        let err = bounded(Client::new().get(&url).retry(false))
            .await
            .unwrap_err();
        assert!(err.is_request(), "{name}: {err:?}");
        assert!(err.to_string().contains(&url), "{name}: {err}");
    }
}

#[tokio::test]
async fn content_length_shorter_than_the_body_is_authoritative() {
    // RFC 9112 §6.3: the message ends after Content-Length bytes; the rest is not body.
    let url = raw_peer(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloEXTRA BYTES").await;
    let resp = bounded(httpstack::get(&url)).await.unwrap();
    assert_eq!(resp.text(), "hello");
    // The connection with leftover bytes is not reused for a wrong answer.
    let again = bounded(httpstack::get(&url)).await.unwrap();
    assert_eq!(again.text(), "hello");
}

#[test]
fn credentials_are_sensitive_in_debug_output() {
    let request = httpstack::get("http://u:pw@127.0.0.1/")
        .header("authorization", "Bearer top-secret")
        .header("cookie", "session=abc")
        .build()
        .unwrap();
    let shown = format!("{:?}", request.headers());
    assert!(
        !shown.contains("top-secret") && !shown.contains("session=abc"),
        "{shown}"
    );
    assert!(!format!("{:?}", httpstack::get("http://u:pw@127.0.0.1/")).contains("pw"));
}

#[test]
fn free_functions_survive_the_runtime_that_opened_a_connection() {
    // The server lives in its own runtime for the whole test.
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let (server, base) = server_rt.block_on(start());
    for round in 0..3 {
        // A fresh runtime per round, as each #[tokio::test] has; the last one's pooled
        // connection died with it and must not be handed out again.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let resp = rt
            .block_on(bounded(httpstack::get(format!("{base}/echo"))))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(resp.status(), 200);
        drop(rt);
    }
    server_rt.block_on(server.close());
}

/// A `tracing` writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn verbose_logs_lines_then_headers_without_credentials() {
    let (server, base) = start().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // current_thread: the thread-local default subscriber sees the whole exchange.
    let _guard = tracing::subscriber::set_default(subscriber);
    let url = format!("{base}/echo");
    bounded(httpstack::get(&url).verbose(1)).await.unwrap();
    let one = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        one.contains(&format!("GET {url}")) && one.contains("200 OK"),
        "{one}"
    );
    assert!(!one.contains("request headers"), "{one}");

    captured.0.lock().unwrap().clear();
    bounded(
        httpstack::get(url.replace("http://", "http://user:pw@"))
            .header("authorization", "Bearer secret-token")
            .verbose(2),
    )
    .await
    .unwrap();
    let two = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        two.contains("request headers") && two.contains("response headers"),
        "{two}"
    );
    assert!(
        !two.contains("secret-token") && !two.contains("user:pw"),
        "{two}"
    );
    drop(_guard);
    server.close().await;
}

#[tokio::test]
async fn a_built_request_goes_through_execute_and_tower() {
    use tower::ServiceExt;
    let (server, base) = start().await;
    let client = Client::new();
    let request = httpstack::post(format!("{base}/echo"))
        .body("via execute")
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let response = bounded(client.execute(request)).await.unwrap();
    let v: Value =
        serde_json::from_slice(&response.into_body().collect_bytes().await.unwrap()).unwrap();
    assert_eq!(v["body"], "via execute");
    // The Client is itself a tower Service.
    let request = httpstack::get(format!("{base}/status/503"))
        .retry(false)
        .build()
        .unwrap();
    let err = bounded(client.clone().oneshot(request)).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    server.close().await;
}

#[tokio::test]
async fn query_and_form_take_maps() {
    let (server, base) = start().await;
    let map = std::collections::BTreeMap::from([("b", "2 3"), ("a", "1")]);
    let v: Value = bounded(
        httpstack::post(format!("{base}/echo"))
            .query(&map)
            .form(&map),
    )
    .await
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(v["query"], "a=1&b=2%203");
    assert_eq!(v["body"], "a=1&b=2+3");
    let owned: std::collections::HashMap<String, String> =
        [("k".to_owned(), "v".to_owned())].into();
    let v: Value = bounded(httpstack::get(format!("{base}/echo")).query(&owned))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["query"], "k=v");
    server.close().await;
}

/// A writer whose every write fails.
struct BrokenWriter;

impl tokio::io::AsyncWrite for BrokenWriter {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Err(std::io::Error::other("disk full")))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn local_failures_are_typed_errors_naming_the_request() {
    let (server, base) = start().await;
    // response_stream into a writer that fails.
    let url = format!("{base}/bytes/1000");
    let err = bounded(httpstack::get(&url).response_stream(&mut BrokenWriter))
        .await
        .unwrap_err();
    assert!(
        err.is_body()
            && err.to_string().contains("response_stream")
            && err.to_string().contains(&url),
        "{err}"
    );
    // download into a directory that does not exist.
    let missing = std::path::Path::new("/nonexistent-httpstack-dir/sub/file.bin");
    let err = bounded(httpstack::download(&url, missing))
        .await
        .unwrap_err();
    assert!(
        err.is_body() && err.to_string().contains("cannot create"),
        "{err}"
    );
    // json() on a body that is not JSON.
    let resp = bounded(httpstack::get(format!("{base}/bytes/5")))
        .await
        .unwrap();
    let err = resp.json::<Value>().unwrap_err();
    assert!(err.is_body() && err.to_string().contains("JSON"), "{err}");
    // Invalid client-wide settings fail at build().
    assert!(Client::builder()
        .set_user_agent(Some("bad\nagent"))
        .build()
        .unwrap_err()
        .is_invalid_input());
    assert!(Client::builder()
        .default_header("x-bad", "a\r\nb")
        .build()
        .unwrap_err()
        .is_invalid_input());
    server.close().await;
}

#[tokio::test]
async fn open_write_after_the_server_gave_up_is_an_error_not_a_hang() {
    // Answers as soon as the head is in, then closes: the rest of the body has nowhere to go.
    let url =
        raw_peer(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
    let mut stream = httpstack::open(Method::POST, &url).unwrap();
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let mut failed = None;
    // Bounded: 2000 x 64 KiB is far more than any socket buffer holds.
    for _ in 0..2000 {
        if let Err(e) = bounded(stream.write(chunk.clone())).await {
            failed = Some(e);
            break;
        }
    }
    let err = failed.expect("a write fails once the exchange is over");
    assert!(err.to_string().contains(&url), "{err}");
}
