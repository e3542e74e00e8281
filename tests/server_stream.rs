//! Stream handlers (HTTP.jl `listen!` with `HTTP.Stream`) over real sockets on 127.0.0.1:
//! the body echoed chunk by chunk as it arrives, status / headers / trailers over HTTP/1.1
//! and h2c, HTTP.jl's 500 for a handler that never answers, failures before and after the
//! head, `stream_handler`, clients that leave, graceful and forced close.
//!
//! Clients: raw `TcpStream`s where the bytes on the wire matter, hyper's client
//! connections (HTTP/1.1 and h2c) for trailers. Every wait is bounded by [`support::WAIT`].

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use httpstack::server::{handler_fn, listen, stream_handler, Server, Stream};
use httpstack::Error;
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::raw_http::{connect, read_head, write};
use support::{until, within};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// A response as a client saw it, trailers included.
#[derive(Debug)]
struct Received {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

/// Sends `request` over a fresh HTTP/1.1 or h2c connection and reads the whole response.
async fn send<B>(
    addr: SocketAddr,
    http2: bool,
    mut request: Request<B>,
) -> Result<Received, hyper::Error>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let response = if http2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        sender.send_request(request).await?
    } else {
        // hyper's connection-level client sends no Host; HTTP/1.1 requires one.
        request
            .headers_mut()
            .entry(http::header::HOST)
            .or_insert(http::HeaderValue::from_static("localhost"));
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        sender.send_request(request).await?
    };
    let (parts, body) = response.into_parts();
    let collected = body.collect().await?;
    Ok(Received {
        status: parts.status,
        headers: parts.headers,
        trailers: collected.trailers().cloned(),
        body: collected.to_bytes(),
    })
}

/// A GET that accepts trailers (`TE: trailers`, which HTTP/1.1 servers need to send them).
fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(format!("http://localhost{path}"))
        .header("te", "trailers")
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// Echoes the request body piece by piece, as it arrives.
async fn echo(mut stream: Stream) -> Result<(), Error> {
    stream.set_header("content-type", "text/plain")?;
    while let Some(chunk) = stream.read_chunk().await? {
        stream.write(chunk).await?;
    }
    stream.close_write()
}

#[tokio::test]
async fn echo_answers_each_chunk_before_the_next_is_sent() {
    let server = listen("127.0.0.1:0", echo).await.expect("listen");
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n",
    )
    .await;
    let head = within("response head", read_head(&mut conn)).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );

    // Each echo arrives while the request body is still open: nothing is buffered whole.
    for (piece, wire) in [("one", None), ("three", Some(&b"5\r\nthree\r\n"[..]))] {
        if let Some(wire) = wire {
            write(&mut conn, wire).await;
        }
        let mut size = String::new();
        within("chunk size", conn.read_line(&mut size))
            .await
            .expect("read");
        assert_eq!(
            usize::from_str_radix(size.trim(), 16).expect("hex"),
            piece.len()
        );
        let mut data = vec![0; piece.len() + 2];
        within("chunk", conn.read_exact(&mut data))
            .await
            .expect("read");
        assert_eq!(&data[..piece.len()], piece.as_bytes());
    }
    write(&mut conn, b"0\r\n\r\n").await;
    let mut last = String::new();
    within("last chunk", conn.read_line(&mut last))
        .await
        .expect("read");
    assert_eq!(last, "0\r\n");
    within("close", server.close()).await;
}

/// 201, a header, a body in two writes, and a trailer.
async fn with_trailers(mut stream: Stream) -> Result<(), Error> {
    stream.set_status(201)?;
    stream.set_header("x-kind", "stream")?;
    stream.add_trailer("x-checksum", "42")?;
    stream.start_write()?;
    stream.write("hello ").await?;
    stream.write(Bytes::from_static(b"world")).await?;
    stream.close_write()
}

#[tokio::test]
async fn status_headers_body_and_trailers_over_http1_and_h2() {
    let server = listen("127.0.0.1:0", with_trailers).await.expect("listen");
    for http2 in [false, true] {
        let received = within("response", send(server.local_addr(), http2, get("/")))
            .await
            .expect("response");
        assert_eq!(received.status, StatusCode::CREATED, "http2 {http2}");
        assert_eq!(received.headers["x-kind"], "stream");
        assert_eq!(received.body, "hello world");
        let trailers = received
            .trailers
            .unwrap_or_else(|| panic!("http2 {http2}: no trailers"));
        assert_eq!(trailers["x-checksum"], "42", "http2 {http2}");
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn request_bodies_and_trailers_read_whole() {
    let server = listen("127.0.0.1:0", |mut stream: Stream| async move {
        let body = stream.read_to_end().await?;
        let trailer = stream
            .request_trailers()
            .and_then(|t| t.get("x-sum"))
            .map(|v| v.to_str().unwrap_or("?").to_owned())
            .unwrap_or_default();
        let reply = format!(
            "{} {} [{trailer}]",
            stream.method(),
            String::from_utf8_lossy(&body)
        );
        stream.write(reply).await
    })
    .await
    .expect("listen");
    let mut trailers = HeaderMap::new();
    trailers.insert("x-sum", "7".parse().expect("value"));
    for http2 in [false, true] {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from_static(b"part1 "))),
            Ok(Frame::data(Bytes::from_static(b"part2"))),
            Ok(Frame::trailers(trailers.clone())),
        ];
        // HTTP/1.1 clients send only the trailers their `Trailer` header declares.
        let request = Request::post("http://localhost/")
            .header("trailer", "x-sum")
            .body(StreamBody::new(futures_util::stream::iter(frames)))
            .expect("request");
        let received = within("response", send(server.local_addr(), http2, request))
            .await
            .expect("response");
        assert_eq!(received.body, "POST part1 part2 [7]", "http2 {http2}");
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn no_status_or_a_failure_before_the_head_is_a_500_and_the_server_serves_on() {
    let server = listen("127.0.0.1:0", |mut stream: Stream| async move {
        match stream.uri().path() {
            "/nothing" => Ok(()),
            "/status-only" => stream.set_status(StatusCode::NO_CONTENT),
            "/error" => Err(Error::invalid_input("handler gave up")),
            "/error-after-status" => {
                stream.set_status(StatusCode::OK)?;
                stream.start_write()?;
                Err(Error::invalid_input(
                    "failed after start_write, nothing written",
                ))
            }
            "/panic" => panic!("stream handler bug"),
            _ => stream.write("fine").await,
        }
    })
    .await
    .expect("listen");
    for http2 in [false, true] {
        for (path, expected) in [
            ("/nothing", StatusCode::INTERNAL_SERVER_ERROR),
            ("/status-only", StatusCode::NO_CONTENT),
            ("/error", StatusCode::INTERNAL_SERVER_ERROR),
            ("/error-after-status", StatusCode::INTERNAL_SERVER_ERROR),
            ("/panic", StatusCode::INTERNAL_SERVER_ERROR),
            ("/fine", StatusCode::OK),
        ] {
            let received = within("response", send(server.local_addr(), http2, get(path)))
                .await
                .unwrap_or_else(|err| panic!("http2 {http2} {path}: {err}"));
            assert_eq!(received.status, expected, "http2 {http2} {path}");
            if expected != StatusCode::OK {
                assert!(
                    received.body.is_empty(),
                    "http2 {http2} {path}: {:?}",
                    received.body
                );
            }
        }
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn a_failure_after_data_was_written_cuts_the_response_off() {
    let server = listen("127.0.0.1:0", |mut stream: Stream| async move {
        stream.write("partial").await?;
        // Give the connection time to send the chunk before failing.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(Error::invalid_input("failed mid-response"))
    })
    .await
    .expect("listen");
    for http2 in [false, true] {
        let result = within("response", send(server.local_addr(), http2, get("/"))).await;
        assert!(
            result.is_err(),
            "http2 {http2}: the body must not end cleanly: {result:?}"
        );
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn misuse_is_an_error_for_the_handler() {
    let (report, mut reports) = mpsc::unbounded_channel();
    let server = listen("127.0.0.1:0", move |mut stream: Stream| {
        let report = report.clone();
        async move {
            let bad_status = stream.set_status(1000).map_err(|e| e.is_invalid_input());
            let bad_header = stream
                .set_header("bad header", "x")
                .map_err(|e| e.is_invalid_input());
            // RFC 9110 §6.5.1: not a field a trailer may carry.
            let bad_trailer = stream
                .add_trailer("content-length", "4")
                .map_err(|e| e.is_invalid_input());
            stream.write("body").await?;
            let late_status = stream.set_status(404).map_err(|e| e.is_invalid_input());
            let late_header = stream
                .set_header("x-late", "1")
                .map_err(|e| e.is_invalid_input());
            stream.close_write()?;
            let after_close = stream.write("more").await.map_err(|e| e.is_invalid_input());
            let _ = report.send([
                bad_status,
                bad_header,
                bad_trailer,
                late_status,
                late_header,
                after_close,
            ]);
            Ok(())
        }
    })
    .await
    .expect("listen");
    let received = within("response", send(server.local_addr(), false, get("/")))
        .await
        .expect("response");
    assert_eq!(
        (received.status, received.body),
        (StatusCode::OK, Bytes::from_static(b"body"))
    );
    let results = within("report", reports.recv()).await.expect("report");
    assert_eq!(
        results,
        [Err(true); 6],
        "each misuse is an invalid-input error"
    );
    within("close", server.close()).await;
}

#[tokio::test]
async fn stream_handler_serves_a_request_handler_trailers_included() {
    let service = handler_fn(|req: Request<httpstack::Body>| async move {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.expect("request body").to_bytes();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-length", body.len().to_string().parse().expect("value"));
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from(format!("{} ", parts.method)))),
            Ok(Frame::data(body)),
            Ok(Frame::trailers(trailers)),
        ];
        Response::builder()
            .status(StatusCode::ACCEPTED)
            .header("trailer", "x-length")
            .body(StreamBody::new(futures_util::stream::iter(frames)))
            .expect("response")
    });
    let server = listen("127.0.0.1:0", stream_handler(service))
        .await
        .expect("listen");
    for http2 in [false, true] {
        let request = Request::put("http://localhost/")
            .header("te", "trailers")
            .body(Full::new(Bytes::from_static(b"payload")))
            .expect("request");
        let received = within("response", send(server.local_addr(), http2, request))
            .await
            .expect("response");
        assert_eq!(received.status, StatusCode::ACCEPTED, "http2 {http2}");
        assert_eq!(received.body, "PUT payload");
        let trailers = received
            .trailers
            .unwrap_or_else(|| panic!("http2 {http2}: no trailers"));
        assert_eq!(trailers["x-length"], "7");
    }
    within("close", server.close()).await;
}

/// Sends `()` when dropped: tells the test a handler's future is gone.
struct DropSignal(Option<mpsc::UnboundedSender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[tokio::test]
async fn a_client_that_leaves_ends_the_handler_and_the_connection() {
    let (ended, mut ends) = mpsc::unbounded_channel();
    let server = listen("127.0.0.1:0", move |mut stream: Stream| {
        let signal = DropSignal(Some(ended.clone()));
        async move {
            let _signal = signal;
            if stream.uri().path() == "/wait" {
                // Waits for a body that never comes.
                stream.read_to_end().await?;
                return Ok(());
            }
            // Writes until the client is gone, then fails.
            loop {
                stream.write(Bytes::from_static(&[b'x'; 16 * 1024])).await?;
            }
        }
    })
    .await
    .expect("listen");

    let mut streaming = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    streaming
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut some = [0u8; 4096];
    within("first bytes", streaming.read_exact(&mut some))
        .await
        .expect("read");

    let mut waiting = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    waiting
        .write_all(b"POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .await
        .expect("write");
    until("both connections open", || server.connections() == 2).await;

    drop(streaming);
    drop(waiting);
    for _ in 0..2 {
        within("a handler ends", ends.recv()).await.expect("signal");
    }
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn close_finishes_an_in_flight_stream_and_force_close_ends_one() {
    for force in [false, true] {
        let (started, mut starts) = mpsc::unbounded_channel();
        let server = listen("127.0.0.1:0", move |mut stream: Stream| {
            let started = started.clone();
            async move {
                stream.write("begun ").await?;
                let _ = started.send(());
                tokio::time::sleep(Duration::from_millis(200)).await;
                stream.write("and done").await
            }
        })
        .await
        .expect("listen");
        let addr = server.local_addr();
        let client = tokio::spawn(async move { send(addr, false, get("/")).await });
        within("handler start", starts.recv()).await;
        if force {
            server.force_close();
            within("wait", server.wait()).await;
        } else {
            within("graceful close", server.close()).await;
        }
        let result = within("client", client).await.expect("client task");
        if force {
            assert!(result.is_err(), "force_close cuts the stream: {result:?}");
        } else {
            let received = result.expect("the in-flight stream completes");
            assert_eq!(received.body, "begun and done");
        }
        assert_eq!(server.connections(), 0);
    }
}

#[tokio::test]
async fn a_stream_handed_to_another_task_still_answers() {
    let server = listen("127.0.0.1:0", |mut stream: Stream| async move {
        // HTTP.jl's chat example: the handler returns, a task keeps the stream.
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.write("from a task").await;
        });
        Ok(())
    })
    .await
    .expect("listen");
    for http2 in [false, true] {
        let received = within("response", send(server.local_addr(), http2, get("/")))
            .await
            .expect("response");
        assert_eq!(
            (received.status, received.body),
            (StatusCode::OK, Bytes::from_static(b"from a task"))
        );
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn listen_through_the_builder_with_options() {
    let server = Server::bind("127.0.0.1:0")
        .http1_only()
        .read_header_timeout(Duration::from_secs(5))
        .listen(echo)
        .await
        .expect("listen");
    let request = Request::post("http://localhost/")
        .body(Full::new(Bytes::from_static(b"via the builder")))
        .expect("request");
    let received = within("response", send(server.local_addr(), false, request))
        .await
        .expect("response");
    assert_eq!(received.body, "via the builder");
    assert_eq!(received.headers["content-type"], "text/plain");
    within("close", server.close()).await;
}
