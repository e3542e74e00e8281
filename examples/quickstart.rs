//! The README's main job: start an httpstack server on 127.0.0.1 and talk to it with the
//! httpstack client — GET with a query, a form POST, a multipart upload, a streamed upload
//! and download, and a JSON echo — printing what it saw.
//!
//! Run: `cargo run --example quickstart`

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use httpstack::server::{handler_fn, serve};
use httpstack::{Body, Form, Multipart};

/// The demo server: each path answers one of the client's requests.
async fn app(req: Request<httpstack::Body>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    match path.as_str() {
        "/get" => Response::new(Body::from(format!("you asked for {query}"))),
        "/download" => {
            // 64 chunks of 16 KiB, produced as the client reads them.
            let chunks = (0..64u8).map(|i| Bytes::from(vec![b'a' + i % 26; 16 * 1024]));
            Response::new(Body::from_chunks(chunks.collect::<Vec<_>>()))
        }
        "/upload" | "/stream" => {
            // Count the body as it arrives, piece by piece, without buffering it.
            let mut body = req.into_body();
            let (mut pieces, mut bytes) = (0usize, 0usize);
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    pieces += 1;
                    bytes += data.len();
                }
            }
            let kind = content_type
                .split(';')
                .next()
                .filter(|k| !k.is_empty())
                .unwrap_or("no content type");
            Response::new(Body::from(format!(
                "received {bytes} bytes in {pieces} pieces ({kind})"
            )))
        }
        "/echo" | "/json" => {
            // Echo: the body back, with its content type.
            let body = req
                .into_body()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            Response::builder()
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap_or_default()
        }
        _ => Response::builder()
            .status(404)
            .body(Body::from("no such page"))
            .unwrap_or_default(),
    }
}

#[tokio::main]
async fn main() -> Result<(), httpstack::Error> {
    let server = serve("127.0.0.1:0", handler_fn(app)).await?;
    let base = format!("http://127.0.0.1:{}", server.port());
    println!("server listening on {base}");

    let resp = httpstack::get(format!("{base}/get"))
        .query(&[("name", "Ada Lovelace"), ("lang", "rust")])
        .await?;
    println!("GET  /get        -> {} {:?}", resp.status(), resp.text());

    let resp = httpstack::post(format!("{base}/echo"))
        .form(&[("user", "ada"), ("pass", "x&y")])
        .await?;
    println!("POST /echo form  -> {} {:?}", resp.status(), resp.text());

    let form = Form::new().text("title", "holiday photo").part(
        "photo",
        Multipart::new("beach.png", &b"\x89PNG\r\n\x1a\nnot really a png"[..]),
    );
    let resp = httpstack::post(format!("{base}/upload"))
        .multipart(form)
        .await?;
    println!("POST /upload     -> {} {}", resp.status(), resp.text());

    let (tx, body) = Body::channel(4);
    tokio::spawn(async move {
        for i in 0..5 {
            if tx.send(format!("line {i}\n")).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let resp = httpstack::post(format!("{base}/stream")).body(body).await?;
    println!(
        "POST /stream     -> {} {} (streamed upload)",
        resp.status(),
        resp.text()
    );

    let mut sink = tokio::io::sink();
    let resp = httpstack::get(format!("{base}/download"))
        .response_stream(&mut sink)
        .await?;
    let mut stream = httpstack::open(http::Method::GET, format!("{base}/download"))?;
    stream.start_read().await?;
    let (mut pieces, mut bytes) = (0, 0);
    while let Some(chunk) = stream.read_chunk().await? {
        pieces += 1;
        bytes += chunk.len();
    }
    println!(
        "GET  /download   -> {} {bytes} bytes in {pieces} pieces (streamed download)",
        resp.status()
    );

    let resp = httpstack::post(format!("{base}/json"))
        .json(&serde_json::json!({"hello": "world", "n": [1, 2, 3]}))
        .await?;
    let echoed: serde_json::Value = resp.json()?;
    println!(
        "POST /json       -> {} {} ({})",
        resp.status(),
        echoed,
        resp.headers()["content-type"].to_str().unwrap_or("")
    );

    // status_exception (on by default): a 404 is an error carrying the response.
    match httpstack::get(format!("{base}/missing")).await {
        Ok(resp) => println!("GET  /missing    -> {} (unexpected)", resp.status()),
        Err(err) => println!("GET  /missing    -> {err} (is_status: {})", err.is_status()),
    }

    server.close().await;
    println!("server closed; done");
    Ok(())
}
