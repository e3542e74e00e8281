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
