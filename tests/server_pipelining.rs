//! Pipelined HTTP/1 requests, whose responses the server writes together: none is held
//! behind a slow handler, and large ones go through in order. Raw `TcpStream`s on
//! 127.0.0.1; every wait is bounded by [`support::WAIT`].

mod support;

use std::sync::Arc;

use http::{Request, Response};
use httpstack::server::{handler_fn, serve};
use httpstack::Body;
use hyper::body::Incoming;
use support::raw_http::{connect, read_response, write};
use support::within;
use tokio::sync::Notify;

#[tokio::test]
async fn a_response_is_not_held_behind_a_slow_next_request() {
    let release = Arc::new(Notify::new());
    let handler_release = release.clone();
    let server = serve(
        "127.0.0.1:0",
        handler_fn(move |req: Request<Incoming>| {
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
        handler_fn(|req: Request<Incoming>| async move {
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
        handler_fn(move |req: Request<Incoming>| {
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
