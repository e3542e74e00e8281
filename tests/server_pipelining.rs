//! Pipelined HTTP/1 requests, whose responses the server writes together: none is held
//! behind a slow handler, and large ones go through in order. Raw `TcpStream`s on
//! 127.0.0.1; every wait is bounded by [`support::WAIT`].

mod support;

use std::sync::Arc;

use http::{Request, Response};
use httpstack::server::{handler_fn, serve};
use httpstack::Body;
use support::raw_http::{connect, read_response, write};
use support::within;
use tokio::sync::Notify;

#[tokio::test]
async fn a_response_is_not_held_behind_a_slow_next_request() {
    let release = Arc::new(Notify::new());
    let handler_release = release.clone();
    let server = serve(
        "127.0.0.1:0",
        handler_fn(move |req: Request<httpstack::Body>| {
            let release = handler_release.clone();
            async move {
                if req.uri().path() == "/slow" {
                    release.notified().await;
                }
                Response::new(Body::from(req.uri().path().to_owned()))
            }
        }),
    )
    .await
    .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    // The slow handler only answers once the fast response has arrived.
    let fast = within("the fast response", read_response(&mut conn)).await;
    assert_eq!(fast.text(), "/fast");
    release.notify_one();
    let slow = within("the slow response", read_response(&mut conn)).await;
    assert_eq!(slow.text(), "/slow");
    drop(conn);
    within("close", server.close()).await;
}

#[tokio::test]
async fn many_pipelined_requests_with_large_responses_arrive_in_order() {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<httpstack::Body>| async move {
            let path = req.uri().path().to_owned();
            // Every third response is larger than what the server holds back.
            let size: usize = path.trim_start_matches('/').parse().expect("size");
            Response::new(Body::from(vec![b'a' + (size % 26) as u8; size]))
        }),
    )
    .await
    .expect("serve");
    let sizes: Vec<usize> = (0..48)
        .map(|i| if i % 3 == 2 { 100_000 + i } else { i })
        .collect();
    let mut requests = Vec::new();
    for size in &sizes {
        requests.extend_from_slice(format!("GET /{size} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    let mut conn = connect(server.local_addr()).await;
    // Written while the responses are read, so neither side waits on a full socket.
    let (mut reader, mut writer) = tokio::io::split(conn.get_mut());
    let send = async {
        use tokio::io::AsyncWriteExt;
        writer.write_all(&requests).await.expect("write requests");
    };
    let receive = async {
        let mut reader = tokio::io::BufReader::new(&mut reader);
        for size in &sizes {
            let response = within("a pipelined response", read_response(&mut reader)).await;
            assert_eq!(response.status_line, "HTTP/1.1 200 OK");
            assert_eq!(response.body.len(), *size, "response to /{size}");
            assert!(response.body.iter().all(|&b| b == b'a' + (size % 26) as u8));
        }
    };
    tokio::join!(send, receive);
    drop(conn);
    within("close", server.close()).await;
}

/// hyper's own `pipeline_flush` skips flushing while a pipelined request is buffered, so
/// a streaming response ahead of one would not reach the client until it ended. Here
/// the head and first chunk of a streaming response arrive while it is still open, with
/// the next request already sent behind it.
#[tokio::test]
async fn a_streaming_response_ahead_of_a_pipelined_request_streams() {
    use tokio::io::AsyncBufReadExt;
    let second_chunk = Arc::new(Notify::new());
    let handler_second_chunk = second_chunk.clone();
    let server = serve(
        "127.0.0.1:0",
        handler_fn(move |req: Request<httpstack::Body>| {
            let second_chunk = handler_second_chunk.clone();
            async move {
                if req.uri().path() != "/stream" {
                    return Response::new(Body::from("next\n"));
                }
                let (tx, body) = Body::channel(1);
                tokio::spawn(async move {
                    let _ = tx.send("first-chunk").await;
                    second_chunk.notified().await;
                    let _ = tx.send("second-chunk").await;
                });
                Response::new(body)
            }
        }),
    )
    .await
    .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    // The second chunk is only sent once the first has arrived.
    let mut seen = String::new();
    while !seen.contains("first-chunk") {
        let mut line = String::new();
        let n = within("the first chunk", conn.read_line(&mut line)).await;
        assert!(n.expect("read") > 0, "closed early; read so far: {seen:?}");
        seen.push_str(&line);
    }
    assert!(seen.starts_with("HTTP/1.1 200 OK"), "{seen:?}");
    second_chunk.notify_one();
    let mut rest = String::new();
    while !rest.contains("next") {
        let mut line = String::new();
        let n = within("the rest", conn.read_line(&mut line)).await;
        assert!(n.expect("read") > 0, "closed early; read so far: {rest:?}");
        rest.push_str(&line);
    }
    assert!(rest.contains("second-chunk"), "{rest:?}");
    drop(conn);
    within("close", server.close()).await;
}

/// What both servers answer in the comparison below: method, path, body length, a sum of
/// the body's bytes and the request's trailer names, so a body framed differently shows.
async fn describe<B>(
    req: Request<B>,
) -> Result<Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible>
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let collected = body.collect().await.expect("request body");
    let trailers: Vec<String> = collected
        .trailers()
        .map(|t| t.keys().map(|k| k.to_string()).collect())
        .unwrap_or_default();
    let body = collected.to_bytes();
    let sum: u64 = body.iter().map(|&b| u64::from(b)).sum();
    let text = format!(
        "{} {} {} {sum} [{}]",
        parts.method,
        parts.uri.path(),
        body.len(),
        trailers.join(",")
    );
    Ok(Response::new(http_body_util::Full::new(
        bytes::Bytes::from(text),
    )))
}

/// A bare hyper HTTP/1 server answering with [`describe`]: the reference.
async fn bare_hyper() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(describe::<hyper::body::Incoming>);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (addr, task)
}

/// One random request, well formed: a GET, a HEAD, a POST with a `Content-Length` body or
/// a chunked one (random chunk sizes, sometimes trailers). Bodies are random bytes, often
/// with blank lines and request-like text in them, which a head scanner could mistake.
fn random_request(rng: &mut fastrand::Rng, last: bool) -> Vec<u8> {
    let path = format!("/p{}", rng.u32(..1000));
    let close = if last { "Connection: close\r\n" } else { "" };
    let mut body: Vec<u8> = (0..rng.usize(..300))
        .map(|_| match rng.u8(..10) {
            0 => b'\r',
            1 => b'\n',
            _ => rng.alphanumeric() as u8,
        })
        .collect();
    if rng.bool() {
        body.extend_from_slice(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    }
    match rng.u8(..4) {
        0 => format!("GET {path} HTTP/1.1\r\nHost: x\r\n{close}\r\n").into_bytes(),
        1 => format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n{close}\r\n").into_bytes(),
        2 => {
            let mut request = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{close}\r\n",
                body.len()
            )
            .into_bytes();
            request.extend_from_slice(&body);
            request
        }
        _ => {
            let mut request = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n{close}\r\n"
            )
            .into_bytes();
            let mut rest = &body[..];
            while !rest.is_empty() {
                let n = rng.usize(1..=rest.len().min(64));
                request.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                request.extend_from_slice(&rest[..n]);
                request.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            request.extend_from_slice(b"0\r\n");
            if rng.bool() {
                request.extend_from_slice(b"X-Sum: 1\r\n");
            }
            request.extend_from_slice(b"\r\n");
            request
        }
    }
}

/// Sends `stream` to `addr` in pieces cut at `cuts`, and reads everything until the
/// server closes (the last request asks it to); `date:` lines are dropped, as they differ.
async fn answers(addr: std::net::SocketAddr, stream: &[u8], cuts: &[usize]) -> String {
    use tokio::io::AsyncWriteExt;
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        conn.write_all(&stream[from..cut]).await.expect("write");
        from = cut;
        tokio::task::yield_now().await;
    }
    let got = support::raw_http::read_until_closed(&mut conn).await;
    String::from_utf8_lossy(&got)
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// The pipelining batcher looks at the bytes the server reads (it counts blank lines to
/// know that another request is waiting); it must never change what is answered. Random
/// pipelined streams, cut at random points, get byte for byte what bare hyper answers,
/// and what the same stream written whole gets. Seeded, and bounded in count and time.
#[tokio::test]
async fn random_pipelined_streams_get_what_bare_hyper_answers() {
    const CASES: usize = 1500;
    let ours = serve(
        "127.0.0.1:0",
        handler_fn(|req| async move { describe(req).await.unwrap_or_else(|never| match never {}) }),
    )
    .await
    .expect("serve");
    let (theirs, hyper_task) = bare_hyper().await;
    let mut rng = fastrand::Rng::with_seed(0x5eed_2026);
    within("all cases", async {
        for case in 0..CASES {
            let count = rng.usize(1..=8);
            let stream: Vec<u8> = (0..count)
                .flat_map(|i| random_request(&mut rng, i + 1 == count))
                .collect();
            let mut cuts: Vec<usize> = (0..rng.usize(0..6))
                .map(|_| rng.usize(0..=stream.len()))
                .collect();
            cuts.sort_unstable();
            let expected = answers(theirs, &stream, &cuts).await;
            let got = answers(ours.local_addr(), &stream, &cuts).await;
            assert_eq!(
                got,
                expected,
                "case {case}: {count} requests cut at {cuts:?}:\n{}",
                String::from_utf8_lossy(&stream)
            );
            // And the same as the same stream written whole.
            let whole = answers(ours.local_addr(), &stream, &[]).await;
            assert_eq!(got, whole, "case {case}: cut at {cuts:?} vs whole");
        }
    })
    .await;
    hyper_task.abort();
    within("close", ours.close()).await;
}
