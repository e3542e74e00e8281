//! The client against Python httpbin (gunicorn), a real server nobody here wrote.
//! `.ci/run` installs it; under CI=true a missing peer fails, elsewhere the tests skip.

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use httpstack::{Form, Multipart};
use serde_json::Value;

async fn bounded<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f.into_future())
        .await
        .expect("test step timed out")
}

macro_rules! peer {
    () => {
        match support::httpbin() {
            Some(peer) => peer,
            None => return,
        }
    };
}

#[tokio::test]
async fn get_with_query_and_headers() {
    let bin = peer!();
    let resp = bounded(
        httpstack::get(bin.url("/get?x=1"))
            .query(&[("q", "a b"), ("q", "c")])
            .header("X-Demo", "yes"),
    )
    .await
    .unwrap();
    let v: Value = resp.json().unwrap();
    assert_eq!(v["args"]["x"], "1");
    assert_eq!(v["args"]["q"], serde_json::json!(["a b", "c"]));
    assert_eq!(v["headers"]["X-Demo"], "yes");
    assert_eq!(
        v["headers"]["User-Agent"],
        httpstack::client::DEFAULT_USER_AGENT
    );
}

#[tokio::test]
async fn post_form_json_multipart_and_chunked() {
    let bin = peer!();
    let url = bin.url("/post");
    let v: Value = bounded(httpstack::post(&url).form(&[("a", "1"), ("b", "x&y")]))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["form"], serde_json::json!({"a": "1", "b": "x&y"}));

    let v: Value = bounded(httpstack::post(&url).json(&serde_json::json!({"k": [1, 2]})))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["json"], serde_json::json!({"k": [1, 2]}));

    let form = Form::new()
        .text("field", "value")
        .part(
            "upload",
            Multipart::new("notes.txt", "file contents\n").content_type("text/plain"),
        )
        .part(
            "sniffed",
            Multipart::new("blob", &b"\x89PNG\r\n\x1a\nrest"[..]),
        );
    let v: Value = bounded(httpstack::post(&url).multipart(form))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["form"]["field"], "value");
    assert_eq!(v["files"]["upload"], "file contents\n");
    assert!(
        v["files"]["sniffed"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{}",
        v["files"]
    );

    // A streamed multipart file part (from a reader).
    let (mut w, r) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        w.write_all(b"streamed part").await.unwrap();
    });
    let form = Form::new().part(
        "doc",
        Multipart::from_reader("doc.txt", r).content_type("text/plain"),
    );
    let v: Value = bounded(httpstack::post(&url).multipart(form))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["files"]["doc"], "streamed part");

    // Chunked: gunicorn hands httpbin the de-chunked body.
    let v: Value = bounded(
        httpstack::post(&url)
            .body_chunks(vec!["one ", "two ", "three"])
            .header("content-type", "text/plain"),
    )
    .await
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(v["data"], "one two three");
}

#[tokio::test]
async fn compressed_responses() {
    let bin = peer!();
    let mut cases = vec![("/gzip", "gzipped"), ("/deflate", "deflated")];
    if cfg!(feature = "br") {
        cases.push(("/brotli", "brotli"));
    } else {
        // httpbin sends Brotli unasked; without the `br` feature it is left as it came.
        let resp = bounded(httpstack::get(bin.url("/brotli"))).await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], "br");
    }
    for (path, flag) in cases {
        let resp = bounded(httpstack::get(bin.url(path))).await.unwrap();
        let v: Value = resp.json().unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(v[flag], true, "{path}");
        assert!(resp.headers().get("content-encoding").is_none(), "{path}");
    }
    let raw = bounded(httpstack::get(bin.url("/gzip")).decompress(false))
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-encoding"], "gzip");
    assert_eq!(&raw.body()[..2], b"\x1f\x8b");
    let err = bounded(httpstack::get(bin.url("/gzip")).max_decompressed_size(10))
        .await
        .unwrap_err();
    assert!(err.is_decompression_limit(), "{err:?}");
}

#[tokio::test]
async fn basic_auth_against_httpbin() {
    let bin = peer!();
    let ok = bin.url("/basic-auth/u/p").replace("http://", "http://u:p@");
    let v: Value = bounded(httpstack::get(&ok)).await.unwrap().json().unwrap();
    assert_eq!(v, serde_json::json!({"authenticated": true, "user": "u"}));
    let v: Value = bounded(httpstack::get(bin.url("/basic-auth/u/p")).basic_auth_with("u", "p"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["authenticated"], true);
    let err = bounded(httpstack::get(
        bin.url("/basic-auth/u/p")
            .replace("http://", "http://u:wrong@"),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert!(!err.to_string().contains("wrong"), "{err}");
    let err = bounded(httpstack::get(&ok).basic_auth(false))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn statuses() {
    let bin = peer!();
    for (code, is_error) in [
        (200, false),
        (201, false),
        (204, false),
        (400, true),
        (418, true),
        (500, true),
        (503, true),
    ] {
        let result =
            bounded(httpstack::get(bin.url(&format!("/status/{code}"))).retry(false)).await;
        assert_eq!(result.is_err(), is_error, "status {code}");
        if let Err(err) = result {
            assert_eq!(err.status().map(|s| s.as_u16()), Some(code));
        }
    }
}

#[tokio::test]
async fn streams_bytes_and_drip() {
    let bin = peer!();
    let resp = bounded(httpstack::get(bin.url("/stream/5"))).await.unwrap();
    let lines: Vec<Value> = resp
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[4]["id"], 4);

    let resp = bounded(httpstack::get(bin.url("/bytes/65536")))
        .await
        .unwrap();
    assert_eq!(resp.body().len(), 65536);

    let mut sink = Vec::new();
    bounded(httpstack::get(bin.url("/bytes/100000")).response_stream(&mut sink))
        .await
        .unwrap();
    assert_eq!(sink.len(), 100000);

    // /drip sends 5 bytes over 1 s: gaps of ~0.2 s pass a 2 s read timeout...
    let resp = bounded(
        httpstack::get(bin.url("/drip?duration=1&numbytes=5&delay=0"))
            .read_timeout(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    assert_eq!(resp.body().as_ref(), b"*****");
    // ...but not a 0.3 s total timeout.
    let err = bounded(
        httpstack::get(bin.url("/drip?duration=2&numbytes=4&delay=0"))
            .timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn download_from_httpbin() {
    let bin = peer!();
    let dir = tempfile::tempdir().unwrap();
    let path = bounded(httpstack::download(
        bin.url("/response-headers?Content-Disposition=attachment%3B%20filename%3D%22hb.json%22"),
        dir.path(),
    ))
    .await
    .unwrap();
    assert_eq!(path.file_name().unwrap(), "hb.json");
    let path = bounded(httpstack::download(bin.url("/image/png"), dir.path()))
        .await
        .unwrap();
    assert_eq!(path.file_name().unwrap(), "png");
    assert_eq!(&std::fs::read(&path).unwrap()[..4], b"\x89PNG");
}
