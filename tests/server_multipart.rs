//! Multipart uploads parsed on the server (`httpstack::server::multipart`), over real
//! sockets on 127.0.0.1: bodies from httpstack's client (`Form` / `Multipart`, in-memory
//! and streamed from a file) and from curl (`curl -F`), part by part as they arrive, and
//! the limits at their edge — exactly at a limit passes, one over gets 413.
//!
//! The handler answers with a JSON summary of the parts it read: name, filename,
//! content type, length, how many chunks the data came in, and an FNV-1a hash of it.

mod support;

use std::net::SocketAddr;

use http::{Request, Response};
use httpstack::server::multipart::{parse_multipart_form_with, MultipartLimits};
use httpstack::server::{handler_fn, serve, Server};
use httpstack::{Body, Form, Multipart};
use serde::Deserialize;
use support::peers::peer;

#[derive(Debug, Deserialize, PartialEq)]
struct PartSummary {
    name: Option<String>,
    filename: Option<String>,
    content_type: Option<String>,
    len: u64,
    chunks: u64,
    max_chunk: u64,
    hash: u64,
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Limits from the query: `?parts=N&part=BYTES&body=BYTES`, defaults otherwise.
fn limits(req: &Request<httpstack::Body>) -> MultipartLimits {
    let mut limits = MultipartLimits::new();
    for pair in req.uri().query().unwrap_or("").split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value: u64 = value.parse().expect("numeric limit");
        limits = match key {
            "parts" => limits.max_parts(value as usize),
            "part" => limits.max_part_bytes(value),
            "body" => limits.max_body_bytes(value),
            _ => limits,
        };
    }
    limits
}

async fn summarize(req: Request<httpstack::Body>) -> Response<Body> {
    let limits = limits(&req);
    let mut form = match parse_multipart_form_with(req, limits) {
        Ok(form) => form,
        Err(err) => return err.into_response(),
    };
    let mut parts = Vec::new();
    loop {
        let mut part = match form.next_part().await {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(err) => return err.into_response(),
        };
        let (mut len, mut chunks, mut max_chunk) = (0u64, 0u64, 0u64);
        let mut hash = 0xcbf29ce484222325u64;
        loop {
            match part.chunk().await {
                Ok(Some(chunk)) => {
                    len += chunk.len() as u64;
                    chunks += 1;
                    max_chunk = max_chunk.max(chunk.len() as u64);
                    hash = chunk
                        .iter()
                        .fold(hash, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3));
                }
                Ok(None) => break,
                Err(err) => return err.into_response(),
            }
        }
        parts.push(serde_json::json!({
            "name": part.name(),
            "filename": part.filename(),
            "content_type": part.content_type(),
            "len": len,
            "chunks": chunks,
            "max_chunk": max_chunk,
            "hash": hash,
        }));
    }
    Response::new(Body::from(serde_json::to_string(&parts).expect("json")))
}

async fn start() -> Server {
    serve("127.0.0.1:0", handler_fn(summarize))
        .await
        .expect("serve")
}

fn url(addr: SocketAddr, query: &str) -> String {
    format!("http://{addr}/upload{query}")
}

async fn post_form(addr: SocketAddr, query: &str, form: Form) -> (u16, String) {
    let res = support::within(
        "upload",
        httpstack::post(url(addr, query))
            .multipart(form)
            .status_exception(false),
    )
    .await
    .expect("upload");
    (res.status().as_u16(), res.text())
}

fn summary(json: &str) -> Vec<PartSummary> {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("summary {json:?}: {e}"))
}

#[tokio::test]
async fn parts_from_httpstack_client_stream_through() {
    let server = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let big: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let big_path = dir.path().join("big.bin");
    std::fs::write(&big_path, &big).expect("write big.bin");
    let png = b"\x89PNG\r\n\x1a\n fake image".to_vec();

    let form = Form::new()
        .text("title", "holiday")
        .part(
            "photo",
            Multipart::new("cat.png", png.clone()).content_type("image/png"),
        )
        .bytes("raw", &b"\r\n--not-a-boundary\r\n"[..])
        .file("archive", &big_path)
        .await
        .expect("file part");
    let (status, body) = post_form(server.local_addr(), "", form).await;
    assert_eq!(status, 200, "{body}");
    let parts = summary(&body);
    let expected = [
        ("title", None, None, b"holiday".to_vec()),
        ("photo", Some("cat.png"), Some("image/png"), png),
        ("raw", None, None, b"\r\n--not-a-boundary\r\n".to_vec()),
        (
            "archive",
            Some("big.bin"),
            Some("application/octet-stream"),
            big,
        ),
    ];
    assert_eq!(parts.len(), expected.len(), "{body}");
    for (part, (name, filename, content_type, data)) in parts.iter().zip(expected) {
        assert_eq!(part.name.as_deref(), Some(name), "{part:?}");
        assert_eq!(part.filename.as_deref(), filename, "{part:?}");
        assert_eq!(part.content_type.as_deref(), content_type, "{part:?}");
        assert_eq!(part.len, data.len() as u64, "{part:?}");
        assert_eq!(part.hash, fnv1a(&data), "{part:?}");
    }
    // The 4 MiB part reached the handler piece by piece, never as one buffer. How big a
    // piece is depends on how much the connection had buffered when the handler polled
    // (one read of hyper's buffer plus multer's 64 KiB poll budget, more when the machine
    // is loaded and reads pile up), so the bound is "well under the whole part".
    assert!(
        parts[3].chunks >= 2 && parts[3].max_chunk <= 2 << 20,
        "{:?}",
        parts[3]
    );
    server.close().await;
}

#[tokio::test]
async fn parts_from_curl() {
    let Some(curl) = peer("curl", "curl") else {
        return;
    };
    let server = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let doc: Vec<u8> = (0..300_000u32).map(|i| (i % 7) as u8).collect();
    let doc_path = dir.path().join("report.pdf");
    std::fs::write(&doc_path, &doc).expect("write report.pdf");
    let out = support::within(
        "curl -F",
        tokio::process::Command::new(&curl)
            .args(["-sS", "--max-time", "10"])
            .args(["-F", "title=holiday plans"])
            .arg("-F")
            .arg(format!("doc=@{};type=application/pdf", doc_path.display()))
            .arg("-F")
            .arg(format!(
                "again=@{};filename=renamed.bin",
                doc_path.display()
            ))
            .arg(url(server.local_addr(), ""))
            .output(),
    )
    .await
    .expect("run curl");
    assert!(out.status.success(), "{out:?}");
    let parts = summary(&String::from_utf8_lossy(&out.stdout));
    let expected = [
        ("title", None, None, b"holiday plans".to_vec()),
        (
            "doc",
            Some("report.pdf"),
            Some("application/pdf"),
            doc.clone(),
        ),
        // curl takes the type from the file's own extension, not from `filename=`.
        ("again", Some("renamed.bin"), Some("application/pdf"), doc),
    ];
    assert_eq!(parts.len(), expected.len(), "{parts:?}");
    for (part, (name, filename, content_type, data)) in parts.iter().zip(expected) {
        assert_eq!(part.name.as_deref(), Some(name), "{part:?}");
        assert_eq!(part.filename.as_deref(), filename, "{part:?}");
        assert_eq!(part.content_type.as_deref(), content_type, "{part:?}");
        assert_eq!(
            (part.len, part.hash),
            (data.len() as u64, fnv1a(&data)),
            "{part:?}"
        );
    }
    server.close().await;
}

fn form_of(parts: usize, part_len: usize) -> Form {
    (0..parts).fold(
        Form::with_boundary("edge-boundary").expect("boundary"),
        |form, i| form.bytes(format!("p{i}"), vec![b'x'; part_len]),
    )
}

#[tokio::test]
async fn limits_at_their_edge() {
    let server = start().await;
    let addr = server.local_addr();
    let body_len = form_of(2, 100)
        .content_length()
        .expect("in-memory form has a length");

    // (what, query, form, status)
    let cases: Vec<(&str, String, Form, u16)> = vec![
        ("3 parts, limit 3", "?parts=3".into(), form_of(3, 10), 200),
        ("4 parts, limit 3", "?parts=3".into(), form_of(4, 10), 413),
        (
            "part of 1000, limit 1000",
            "?part=1000".into(),
            form_of(2, 1000),
            200,
        ),
        (
            "part of 1001, limit 1000",
            "?part=1000".into(),
            form_of(2, 1001),
            413,
        ),
        (
            "body at its limit",
            format!("?body={body_len}"),
            form_of(2, 100),
            200,
        ),
        (
            "body one over",
            format!("?body={}", body_len - 1),
            form_of(2, 100),
            413,
        ),
    ];
    for (what, query, form, status) in cases {
        let (got, body) = post_form(addr, &query, form).await;
        assert_eq!(got, status, "{what}: {body}");
        if status == 413 {
            assert!(
                body.contains("larger than") || body.contains("more than"),
                "{what}: {body}"
            );
        }
    }

    // A chunked body (no Content-Length): the limit is counted as the body streams in.
    for (limit, status) in [(body_len, 200), (body_len - 1, 413)] {
        let form = form_of(2, 100);
        let content_type = form.content_type();
        let bytes = form.into_body().collect_bytes().await.expect("form bytes");
        let chunks: Vec<bytes::Bytes> = bytes
            .chunks(37)
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        let res = support::within(
            "chunked upload",
            httpstack::post(url(addr, &format!("?body={limit}")))
                .header("content-type", content_type)
                .body_chunks(chunks)
                .status_exception(false),
        )
        .await
        .expect("chunked upload");
        assert_eq!(
            res.status().as_u16(),
            status,
            "chunked, limit {limit}: {}",
            res.text()
        );
    }

    // curl at the per-part edge.
    if let Some(curl) = peer("curl", "curl") {
        let dir = tempfile::tempdir().expect("tempdir");
        for (len, status) in [(1000usize, "200"), (1001, "413")] {
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, vec![b'y'; len]).expect("write");
            let out = support::within(
                "curl at the edge",
                tokio::process::Command::new(&curl)
                    .args([
                        "-sS",
                        "--max-time",
                        "10",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                    ])
                    .arg("-F")
                    .arg(format!("f=@{}", path.display()))
                    .arg(url(addr, "?part=1000"))
                    .output(),
            )
            .await
            .expect("run curl");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                status,
                "curl part of {len}: {out:?}"
            );
        }
    }
    server.close().await;
}

#[tokio::test]
async fn not_multipart_and_malformed() {
    let server = start().await;
    let addr = server.local_addr();
    let cases: [(&str, &str, u16); 4] = [
        ("text/plain", "hello", 415),
        ("multipart/form-data", "--x\r\n\r\n", 400),
        (
            "multipart/form-data; boundary=x",
            "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
            400,
        ),
        (
            "multipart/form-data; boundary=x",
            "--x\r\nno-colon-header\r\n\r\nv\r\n--x--\r\n",
            400,
        ),
    ];
    for (content_type, body, status) in cases {
        let res = support::within(
            "post",
            httpstack::post(url(addr, ""))
                .header("content-type", content_type)
                .body(body)
                .status_exception(false),
        )
        .await
        .expect("post");
        assert_eq!(
            res.status().as_u16(),
            status,
            "{content_type} {body:?}: {}",
            res.text()
        );
    }
    server.close().await;
}
