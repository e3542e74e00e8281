//! The server's timeouts over real sockets on 127.0.0.1: `read_header_timeout` (a client
//! dribbling its head, or silent, is cut off; idle time does not count), `idle_timeout`
//! (HTTP/1 keep-alive and HTTP/2 connections close; a slow handler is not idle),
//! `read_timeout` (a body that stops coming fails in the handler) and `write_timeout`
//! (a slow handler or a client that does not read loses its connection, HTTP/2 its
//! stream).
//!
//! The timeouts are short (a few hundred ms) so the tests are quick; no assertion is
//! about how long anything took. Every wait is bounded by [`support::WAIT`].

mod support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use httpstack::server::{handler_fn, server_config_from_pem_bytes, Server, Stream};
use httpstack::Body;
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::h2c::{h2c, h2c_connect};
use support::raw_http::{connect, expect_closed_without_reply, read_response, write};
use support::tls::tls_connect;
use support::{until, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The timeout under test.
const SHORT: Duration = Duration::from_millis(300);

/// `/slow` sleeps 3×[`SHORT`] before answering, `/hang` never answers, `/endless`
/// streams forever, `/big` is 32 MiB in one piece, `/body` reads the body and answers 408 if that timed out; anything
/// else answers "ok".
fn routes() -> impl tower::Service<
    Request<httpstack::Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
       + Send
       + 'static {
    handler_fn(|req: Request<httpstack::Body>| async move {
        match req.uri().path() {
            "/slow" => {
                tokio::time::sleep(SHORT * 3).await;
                Response::new(Body::from("slow but done"))
            }
            "/hang" => std::future::pending().await,
            "/endless" => {
                Response::new(Body::from_stream(futures_util::stream::repeat_with(|| {
                    Ok::<_, Infallible>(Bytes::from_static(&[b'x'; 64 * 1024]))
                })))
            }
            // One piece, taken by the connection whole: the response is "done" at once.
            "/big" => Response::new(Body::from(vec![b'x'; 32 * 1024 * 1024])),
            "/body" => match req.into_body().collect().await {
                Ok(body) => Response::new(Body::from(format!("{} bytes", body.to_bytes().len()))),
                Err(err) => {
                    let timed_out = httpstack::Error::from_boxed(err).is_timeout();
                    let mut response = Response::new(Body::from(format!("timed out: {timed_out}")));
                    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
                    response
                }
            },
            _ => Response::new(Body::from("ok")),
        }
    })
}

#[tokio::test]
async fn a_client_dribbling_its_head_is_cut_at_read_header_timeout() {
    let server = Server::bind("127.0.0.1:0")
        .read_header_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let conn = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let (mut reader, mut writer) = conn.into_split();
    // A byte every 50 ms: always sending, never finishing the head.
    let dribbler = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if writer.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    expect_closed_without_reply(&mut reader, "the server cuts the dribbler off").await;
    until("connections back to 0", || server.connections() == 0).await;
    dribbler.abort();
    within("close", server.close()).await;
}

#[tokio::test]
async fn a_silent_client_is_cut_at_read_header_timeout_tls_and_http2_included() {
    let cert = support::test_cert();
    let tls = server_config_from_pem_bytes(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes())
        .expect("TLS config");
    for (use_tls, http2_only) in [(false, false), (true, false), (false, true)] {
        let mut builder = Server::bind("127.0.0.1:0").read_header_timeout(SHORT);
        if use_tls {
            builder = builder.tls(tls.clone());
        }
        if http2_only {
            builder = builder.http2_only();
        }
        let server = builder.serve(routes()).await.expect("serve");
        // Connects, then says nothing (not even a TLS ClientHello or the HTTP/2 preface).
        let mut conn = TcpStream::connect(server.local_addr())
            .await
            .expect("connect");
        expect_closed_without_reply(
            &mut conn,
            &format!("the server drops the silent client (tls {use_tls} http2_only {http2_only})"),
        )
        .await;
        until("connections back to 0", || server.connections() == 0).await;
        within("close", server.close()).await;
    }

    // A TLS client that negotiates h2 by ALPN, then never sends the HTTP/2 preface.
    let server = Server::bind("127.0.0.1:0")
        .read_header_timeout(SHORT)
        .tls(tls)
        .serve(routes())
        .await
        .expect("serve");
    let mut tls_conn = tls_connect(server.local_addr(), &cert.ca_der, b"h2").await;
    assert_eq!(tls_conn.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    expect_closed_without_reply(
        &mut tls_conn,
        "the server drops the client without a preface",
    )
    .await;
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn idle_time_between_requests_is_not_head_time() {
    // hyper's own header timeout counts the wait for the next request; this one must not.
    let server = Server::bind("127.0.0.1:0")
        .read_header_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    for i in 0..2 {
        write(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(
            (response.status_line.as_str(), response.text().as_str()),
            ("HTTP/1.1 200 OK", "ok"),
            "request {i}"
        );
        // Idle for three header timeouts before the next request.
        tokio::time::sleep(SHORT * 3).await;
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_idle_timeout() {
    let server = Server::bind("127.0.0.1:0")
        .idle_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    write(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let response = within("response", read_response(&mut conn)).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(server.connections(), 1);
    expect_closed_without_reply(&mut conn, "the idle connection is closed").await;
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn a_slow_handler_is_busy_not_idle() {
    let server = Server::bind("127.0.0.1:0")
        .idle_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    // The handler takes three idle timeouts; the connection must wait for it.
    let mut conn = connect(server.local_addr()).await;
    write(&mut conn, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let response = within("slow response", read_response(&mut conn)).await;
    assert_eq!(
        (response.status_line.as_str(), response.text().as_str()),
        ("HTTP/1.1 200 OK", "slow but done")
    );

    // The same over HTTP/2.
    let response = within("h2 slow response", h2c_get(server.local_addr(), "/slow"))
        .await
        .expect("h2 response");
    assert_eq!(
        response,
        (StatusCode::OK, Bytes::from_static(b"slow but done"))
    );
    within("close", server.close()).await;
}

/// One h2c GET on a fresh connection: (status, body).
async fn h2c_get(
    addr: std::net::SocketAddr,
    path: &str,
) -> Result<(StatusCode, Bytes), hyper::Error> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let request = Request::get(format!("http://x{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = sender.send_request(request).await?;
    let status = response.status();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

#[tokio::test]
async fn an_idle_h2_connection_is_closed_at_idle_timeout() {
    let server = Server::bind("127.0.0.1:0")
        .idle_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let (mut sender, conn) = h2c_connect(server.local_addr()).await;
    let request = Request::get("http://x/")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = within("h2 request", sender.send_request(request))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    drop(response);
    // Idle now: the server sends GOAWAY and closes, which ends the client's connection.
    let ended = within("the idle h2 connection ends", conn)
        .await
        .expect("client task");
    assert!(ended.is_ok(), "a graceful GOAWAY, not an error: {ended:?}");
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn read_timeout_fails_a_request_body_that_stops_coming() {
    let server = Server::bind("127.0.0.1:0")
        .read_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    // Ten bytes promised, three sent.
    write(
        &mut conn,
        b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    )
    .await;
    let response = within("408 from the handler", read_response(&mut conn)).await;
    assert_eq!(response.status_line, "HTTP/1.1 408 Request Timeout");
    assert_eq!(
        response.text(),
        "timed out: true",
        "the handler saw a timeout error"
    );
    expect_closed_without_reply(&mut conn, "then the connection closes").await;

    // A body that arrives in time is fine.
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    )
    .await;
    let response = within("response", read_response(&mut conn)).await;
    assert_eq!(
        (response.status_line.as_str(), response.text().as_str()),
        ("HTTP/1.1 200 OK", "3 bytes")
    );
    within("close", server.close()).await;
}

#[tokio::test]
async fn read_timeout_fails_a_stream_handlers_h2_body() {
    let server = Server::bind("127.0.0.1:0")
        .read_timeout(SHORT)
        .listen(|mut stream: Stream| async move {
            let mut received = 0;
            loop {
                match stream.read_chunk().await {
                    Ok(Some(chunk)) => received += chunk.len(),
                    Ok(None) => break,
                    Err(err) if err.is_timeout() => {
                        stream.set_status(StatusCode::REQUEST_TIMEOUT)?;
                        return stream
                            .write(format!("timed out after {received} bytes"))
                            .await;
                    }
                    Err(err) => return Err(err),
                }
            }
            stream.write(format!("{received} bytes")).await
        })
        .await
        .expect("listen");
    let mut sender = h2c(server.local_addr()).await;
    // One chunk, then nothing: the sender stays open, so the body never ends.
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
    tx.send(Ok(Frame::data(Bytes::from_static(b"first"))))
        .await
        .expect("send");
    let body = StreamBody::new(tokio_stream_from(rx));
    let request = Request::post("http://x/").body(body).expect("request");
    let response = within("h2 request", sender.send_request(request))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body = within("body", response.into_body().collect())
        .await
        .expect("body");
    assert_eq!(body.to_bytes(), "timed out after 5 bytes");
    drop(tx);
    within("close", server.close()).await;
}

/// A `Stream` of what `rx` receives.
fn tokio_stream_from<T: Send + 'static>(
    rx: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + Unpin {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

#[tokio::test]
async fn write_timeout_drops_an_http1_connection_whose_handler_is_slow() {
    let server = Server::bind("127.0.0.1:0")
        .write_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    conn.write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    expect_closed_without_reply(&mut conn, "the connection is dropped").await;
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}

#[tokio::test]
async fn write_timeout_drops_an_http1_client_that_does_not_read() {
    let server = Server::bind("127.0.0.1:0")
        .write_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    // An endless body (the response never ends), and one the connection took whole (it
    // ended, but its bytes are stuck in the socket): the client reads neither.
    for path in ["/endless", "/big"] {
        let mut conn = TcpStream::connect(server.local_addr())
            .await
            .expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        conn.write_all(request.as_bytes()).await.expect("write");
        // The response has started (so the connection is counted), then nobody reads.
        let mut head = [0u8; 12];
        within("response starts", conn.read_exact(&mut head))
            .await
            .expect("read");
        assert_eq!(&head, b"HTTP/1.1 200", "{path}");
        until("the server drops the connection", || {
            server.connections() == 0
        })
        .await;
        drop(conn);
    }
    within("close", server.close()).await;
}

/// An HTTP/2 GET of `path`, with an empty body.
fn h2_get(path: &str) -> Request<Full<Bytes>> {
    Request::get(format!("http://x{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request")
}

#[tokio::test]
async fn write_timeout_resets_a_slow_h2_stream_only() {
    let server = Server::bind("127.0.0.1:0")
        .write_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut sender = h2c(server.local_addr()).await;
    let hung = within("h2 /hang", sender.send_request(h2_get("/hang"))).await;
    assert!(hung.is_err(), "the stream is reset: {hung:?}");
    // The connection lives on.
    let response = within("h2 /", sender.send_request(h2_get("/")))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    within("close", server.close()).await;
}

/// Sends once when dropped.
struct SignalOnDrop(mpsc::Sender<()>);

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

#[tokio::test]
async fn write_timeout_resets_an_h2_stream_the_client_stops_reading() {
    // Bodies the client never reads, past its 2 MiB stream window. `/endless` streams for
    // ever: once the window is full, hyper waits for a WINDOW_UPDATE and no longer polls
    // the body, so only the stream's own deadline can end it. `/whole` is one piece, and
    // `/trailers` one piece and trailers: hyper hands h2 the piece as the stream's last
    // data, and h2 sends what the window allows; the stream is still bounded, as its task
    // waits for that data to go out. Each body is dropped with its stream's task.
    // (`map_frame` drops the size hint: the bodies read back whole are plain, to check
    // their `Content-Length` too.)
    let (dropped_tx, mut dropped) = mpsc::channel(1);
    let server = Server::bind("127.0.0.1:0")
        .write_timeout(SHORT)
        .serve(handler_fn(move |req: Request<httpstack::Body>| {
            let dropped = SignalOnDrop(dropped_tx.clone());
            async move {
                let piece = Bytes::from(vec![b'x'; 4 << 20]);
                let signal = move |frame| {
                    let _ = &dropped;
                    frame
                };
                Response::new(match req.uri().path() {
                    "/small" => Body::from("xx"),
                    "/big" => Body::from(piece),
                    "/trailers" => {
                        let trailers = [("x-checksum", "abc")].into_iter().map(|(k, v)| {
                            (
                                http::HeaderName::from_static(k),
                                http::HeaderValue::from_static(v),
                            )
                        });
                        let frames = [Frame::data(piece), Frame::trailers(trailers.collect())];
                        let frames = futures_util::stream::iter(frames.map(Ok::<_, Infallible>));
                        Body::wrap(StreamBody::new(frames).map_frame(signal))
                    }
                    "/endless" => {
                        let chunks = futures_util::stream::repeat_with(|| {
                            Ok::<_, Infallible>(Frame::data(Bytes::from_static(&[b'x'; 64 * 1024])))
                        });
                        Body::wrap(StreamBody::new(chunks).map_frame(signal))
                    }
                    _ => Body::wrap(Full::new(piece).map_frame(signal)),
                })
            }
        }))
        .await
        .expect("serve");
    for path in ["/endless", "/whole", "/trailers"] {
        let mut stalled = h2c(server.local_addr()).await;
        let response = within(path, stalled.send_request(h2_get(path)))
            .await
            .expect("response head");
        assert_eq!(response.status(), StatusCode::OK);
        // Dropped at the deadline. (Without the bound, `/endless` is never dropped, and
        // the others are dropped at once and read whole.)
        let signal = within("the stalled body is dropped", dropped.recv()).await;
        assert!(signal.is_some());
        let read = within("read the reset stream", response.into_body().collect()).await;
        assert!(read.is_err(), "{path}: the stream was reset, not ended");
    }
    // The server lives on; bodies the client reads arrive whole, at their length.
    let mut sender = h2c(server.local_addr()).await;
    for (path, size) in [("/small", 2), ("/big", 4 << 20)] {
        let response = within(path, sender.send_request(h2_get(path)))
            .await
            .expect("response");
        let length = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .cloned();
        assert_eq!(length, Some(size.into()), "{path}");
        let body = within(path, response.into_body().collect()).await;
        let body = body.expect("body").to_bytes();
        assert!(
            body.len() == size && body.iter().all(|&b| b == b'x'),
            "{path}"
        );
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn responses_within_write_timeout_are_served_and_idle_time_does_not_count() {
    let server = Server::bind("127.0.0.1:0")
        .write_timeout(SHORT * 2)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    for i in 0..2 {
        write(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(
            (response.status_line.as_str(), response.text().as_str()),
            ("HTTP/1.1 200 OK", "ok"),
            "request {i}"
        );
        // Idle past the write timeout: nothing is being written, so nothing times out.
        tokio::time::sleep(SHORT * 4).await;
    }
    assert_eq!(server.connections(), 1);
    within("close", server.close()).await;
}

#[tokio::test]
async fn timeouts_are_logged_not_fatal_to_the_server() {
    // After every kind of cut-off, the server serves the next client.
    let server = Server::bind("127.0.0.1:0")
        .read_header_timeout(SHORT)
        .write_timeout(SHORT)
        .idle_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    for request in [
        &b"GET / HTTP/1.1\r\nHost: x\r\nX-Half"[..],
        b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut conn = TcpStream::connect(server.local_addr())
            .await
            .expect("connect");
        conn.write_all(request).await.expect("write");
        expect_closed_without_reply(&mut conn, "cut off").await;
    }
    let mut conn = connect(server.local_addr()).await;
    write(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let response = within("response", read_response(&mut conn)).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    within("close", server.close()).await;
}

#[tokio::test]
async fn huge_timeouts_do_not_overflow() {
    for stream_handler in [false, true] {
        let builder = Server::bind("127.0.0.1:0")
            .read_timeout(Duration::MAX)
            .read_header_timeout(Duration::MAX)
            .write_timeout(Duration::MAX)
            .idle_timeout(Duration::MAX)
            .max_body_bytes(u64::MAX);
        let server = if stream_handler {
            builder
                .listen(|mut stream: Stream| async move {
                    let body = stream.read_to_end().await?;
                    stream.write(body).await
                })
                .await
        } else {
            builder.serve(routes()).await
        }
        .expect("serve");
        let mut conn = connect(server.local_addr()).await;
        write(
            &mut conn,
            b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok",
        )
        .await;
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(
            response.status_line, "HTTP/1.1 200 OK",
            "stream handler {stream_handler}"
        );
        let h2 = within("h2", h2c_get(server.local_addr(), "/"))
            .await
            .expect("h2");
        assert_eq!(h2.0, StatusCode::OK);
        within("close", server.close()).await;
    }
}

/// A request asking to upgrade, answered 200 rather than 101, with a chunked POST behind
/// it in the same write: the POST's body is still held to `read_timeout` (the old byte
/// tracker lost sync there and let it trickle for ever), and the client gets 408.
#[tokio::test]
async fn a_body_behind_a_refused_upgrade_in_the_same_write_still_gets_408() {
    let server = Server::bind("127.0.0.1:0")
        .read_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"GET /tiny HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n\
          POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    )
    .await;
    let response = within("the GET", read_response(&mut conn)).await;
    assert_eq!(response.status, 200);
    // The body's next piece never comes within read_timeout.
    let response = within("the POST", read_response(&mut conn)).await;
    assert_eq!(response.status, 408, "{}", response.head);
    assert_eq!(response.header("connection"), Some("close"));
    within("close", server.close()).await;
}

/// An HTTP/2 client that opens a header block and never ends it (no END_HEADERS, no
/// CONTINUATION) holds no connection for ever: `idle_timeout` starts closing it, and as
/// the client does not let it close, it is dropped a `read_header_timeout` later. (The
/// same holds with the defaults, 60 s and 30 s; here they are short.)
#[tokio::test]
async fn an_h2_header_block_never_ended_is_dropped() {
    let server = Server::bind("127.0.0.1:0")
        .idle_timeout(SHORT)
        .read_header_timeout(SHORT)
        .serve(routes())
        .await
        .expect("serve");
    let mut conn = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut wire = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS, empty.
    wire.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    // HEADERS on stream 1 with END_STREAM but not END_HEADERS: `:method GET`,
    // `:scheme http`, `:path /` (HPACK static indexes 2, 6, 4).
    wire.extend_from_slice(&[0, 0, 3, 0x1, 0x1, 0, 0, 0, 1, 0x82, 0x86, 0x84]);
    conn.write_all(&wire).await.expect("write");
    // Whatever the server says (SETTINGS, its ACK, GOAWAY), it then closes.
    let _ = within(
        "the server drops the connection",
        support::raw_http::read_until_closed(&mut conn),
    )
    .await;
    until("connections back to 0", || server.connections() == 0).await;
    within("close", server.close()).await;
}
