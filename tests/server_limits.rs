//! The server's limits and listener options over real sockets on 127.0.0.1, each limit at
//! its edge (exactly at it passes, one past fails): `max_header_bytes` (431),
//! `max_body_bytes` (413) for `Content-Length` and chunked bodies, over HTTP/1.1 and h2c,
//! for request and stream handlers; malformed requests (400); `connection_filter`;
//! `reuseaddr` and `backlog`; the `PeerAddr` extension.
//!
//! HTTP/1 clients are raw `TcpStream`s, so the bytes on the wire are the test's; HTTP/2
//! uses hyper's client connection. Every wait is bounded by [`support::WAIT`].

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use httpstack::server::{handler_fn, PeerAddr, Server, Stream};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::h2c::h2c;
use support::raw_http::{connect, exchange, read_response, write};
use support::within;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers 200 with the request body's length, or 400 if the body failed; counts calls
/// and body failures.
#[derive(Clone, Default)]
struct Counting {
    calls: Arc<AtomicUsize>,
    body_errors: Arc<AtomicUsize>,
}

impl Counting {
    fn service(
        &self,
    ) -> impl tower::Service<
        Request<httpstack::Body>,
        Response = Response<String>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
           + Send
           + 'static {
        let this = self.clone();
        handler_fn(move |req: Request<httpstack::Body>| {
            let this = this.clone();
            async move {
                this.calls.fetch_add(1, Ordering::SeqCst);
                match req.into_body().collect().await {
                    Ok(body) => Response::new(body.to_bytes().len().to_string()),
                    Err(_) => {
                        this.body_errors.fetch_add(1, Ordering::SeqCst);
                        let mut response = Response::new(String::from("body failed"));
                        *response.status_mut() = StatusCode::BAD_REQUEST;
                        response
                    }
                }
            }
        })
    }
}

/// Sends `request` once the h2 connection is ready; every wait bounded.
async fn h2_send<B>(sender: &mut SendRequest<B>, request: Request<B>) -> Response<Incoming>
where
    B: http_body::Body + 'static,
{
    within("ready", sender.ready()).await.expect("ready");
    within("h2 request", sender.send_request(request))
        .await
        .expect("response")
}

/// A POST to `/` with `body`.
fn post<B>(body: B) -> Request<B> {
    Request::post("http://x/").body(body).expect("request")
}

/// A GET whose head is exactly `len` bytes (request line, headers, blank line).
fn head_of_len(len: usize) -> Vec<u8> {
    let start = "GET / HTTP/1.1\r\nHost: x\r\nX-Fill: ";
    let end = "\r\n\r\n";
    let fill = len - start.len() - end.len();
    format!("{start}{}{end}", "a".repeat(fill)).into_bytes()
}

#[tokio::test]
async fn request_heads_at_max_header_bytes_pass_and_one_byte_more_gets_431() {
    // A small limit, and the default (HTTP.jl's 1 MiB), which is above hyper's own buffer.
    for (limit, configured) in [(1000, true), (1024 * 1024, false)] {
        let counting = Counting::default();
        let mut builder = Server::bind("127.0.0.1:0");
        if configured {
            builder = builder.max_header_bytes(limit);
        }
        let server = builder.serve(counting.service()).await.expect("serve");
        for (len, expected) in [(limit, 200), (limit + 1, 431)] {
            let response = exchange(server.local_addr(), &head_of_len(len)).await;
            assert_eq!(
                response.status, expected,
                "limit {limit}, head of {len} bytes"
            );
        }
        assert_eq!(counting.calls.load(Ordering::SeqCst), 1, "limit {limit}");
        within("close", server.close()).await;
    }
}

#[tokio::test]
async fn h2_request_heads_over_max_header_bytes_get_431() {
    // HTTP/2 counts decoded fields plus 32 bytes each (RFC 9113 §6.5.2), pseudo-headers
    // included: `:method GET`, `:scheme http`, `:authority x`, `:path /`.
    let limit = 1000;
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_header_bytes(limit)
        .serve(counting.service())
        .await
        .expect("serve");
    let pseudo = [
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "x"),
        (":path", "/"),
    ];
    let pseudo_size: usize = pseudo.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
    let fill_at_limit = limit - pseudo_size - "x-fill".len() - 32;
    let mut sender = h2c::<Full<Bytes>>(server.local_addr()).await;
    for (fill, expected) in [
        (fill_at_limit, StatusCode::OK),
        (
            fill_at_limit + 1,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
    ] {
        let request = Request::get("http://x/")
            .header("x-fill", "a".repeat(fill))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = h2_send(&mut sender, request).await;
        assert_eq!(response.status(), expected, "fill {fill}");
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn content_length_over_max_body_bytes_gets_413_without_reaching_the_handler() {
    let limit = 16;
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(limit)
        .serve(counting.service())
        .await
        .expect("serve");
    for (len, expected) in [(limit, 200), (limit + 1, 413)] {
        let body = "b".repeat(len as usize);
        let request = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n{body}");
        let response = exchange(server.local_addr(), request.as_bytes()).await;
        assert_eq!(response.status, expected, "body of {len} bytes");
        if expected == 413 {
            assert_eq!(response.header("connection"), Some("close"));
        } else {
            assert_eq!(response.body, len.to_string().as_bytes());
        }
    }
    assert_eq!(
        counting.calls.load(Ordering::SeqCst),
        1,
        "the 413 never reached the handler"
    );

    // With `Expect: 100-continue` the client never has to send the body.
    let mut conn = connect(server.local_addr()).await;
    write(
        &mut conn,
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 17\r\n\r\n",
    )
    .await;
    let response = within("413", read_response(&mut conn)).await;
    assert_eq!(
        response.status, 413,
        "no 100 Continue, straight 413: {}",
        response.head
    );
    within("close", server.close()).await;
}

/// A chunked request whose body is `len` bytes, in chunks of at most 5.
fn chunked_request(len: usize) -> Vec<u8> {
    let mut request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let body = vec![b'c'; len];
    for chunk in body.chunks(5) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    request
}

#[tokio::test]
async fn a_chunked_body_over_max_body_bytes_fails_in_the_handler_and_gets_413() {
    let limit = 12;
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(limit)
        .serve(counting.service())
        .await
        .expect("serve");
    for (len, expected) in [(limit, 200), (limit + 1, 413)] {
        let response = exchange(server.local_addr(), &chunked_request(len as usize)).await;
        assert_eq!(response.status, expected, "chunked body of {len} bytes");
        if expected == 200 {
            assert_eq!(response.body, len.to_string().as_bytes());
        }
    }
    // The handler read both bodies; the second failed in its hands, and its 400 was
    // replaced by the 413.
    assert_eq!(counting.calls.load(Ordering::SeqCst), 2);
    assert_eq!(counting.body_errors.load(Ordering::SeqCst), 1);
    within("close", server.close()).await;
}

/// A request asking to upgrade, answered 200 rather than 101, with a chunked POST behind
/// it in the same write: the POST's body is bounded like any other (the old byte tracker
/// lost sync there and let any size through), whether its body comes in the same write,
/// later, or a byte at a time.
#[tokio::test]
async fn a_body_behind_a_refused_upgrade_in_the_same_write_still_gets_413() {
    let limit = 1024;
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(limit)
        .serve(counting.service())
        .await
        .expect("serve");
    let upgrade = b"GET /tiny HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n";
    let body = chunked_request(4 * limit as usize);
    let post_head_end = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head")
        + 4;
    for split in ["with the head", "after the head", "byte by byte"] {
        let mut conn = connect(server.local_addr()).await;
        let mut first = upgrade.to_vec();
        let rest = match split {
            "with the head" => {
                first.extend_from_slice(&body);
                Vec::new()
            }
            _ => {
                first.extend_from_slice(&body[..post_head_end]);
                body[post_head_end..].to_vec()
            }
        };
        write(&mut conn, &first).await;
        let response = within(split, read_response(&mut conn)).await;
        assert_eq!(response.status, 200, "{split}: the GET");
        if split == "byte by byte" {
            // One byte per write, until the server closes.
            for byte in &rest {
                if conn.get_mut().write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
        } else if !rest.is_empty() {
            let _ = conn.get_mut().write_all(&rest).await;
        }
        let response = within(split, read_response(&mut conn)).await;
        assert_eq!(response.status, 413, "{split}: {}", response.head);
        assert_eq!(response.header("connection"), Some("close"), "{split}");
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn a_keep_alive_connection_serves_on_below_the_body_limit() {
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(8)
        .serve(counting.service())
        .await
        .expect("serve");
    let mut conn = connect(server.local_addr()).await;
    for len in [8, 3, 8] {
        write(&mut conn, &chunked_request(len)).await;
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(
            (response.status, response.body),
            (200, len.to_string().into_bytes())
        );
    }
    within("close", server.close()).await;
}

/// A request body of frames, with no length.
type UnsizedBody =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// An h2 request body sent as `pieces` frames, with no length.
fn unsized_body(pieces: Vec<&'static [u8]>) -> UnsizedBody {
    let frames: Vec<_> = pieces
        .into_iter()
        .map(|piece| Ok(Frame::data(Bytes::from_static(piece))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

#[tokio::test]
async fn h2_bodies_over_max_body_bytes_get_413() {
    let limit = 10;
    // A request handler: Content-Length is checked before the handler.
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(limit)
        .serve(counting.service())
        .await
        .expect("serve");
    let mut sender = h2c::<Full<Bytes>>(server.local_addr()).await;
    for (len, expected) in [
        (limit, StatusCode::OK),
        (limit + 1, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let request = Request::post("http://x/")
            .header("content-length", len)
            .body(Full::new(Bytes::from(vec![b'h'; len as usize])))
            .expect("request");
        let response = h2_send(&mut sender, request).await;
        assert_eq!(
            response.status(),
            expected,
            "h2 body of {len} bytes with a length"
        );
    }
    assert_eq!(counting.calls.load(Ordering::SeqCst), 1);
    within("close", server.close()).await;

    // A stream handler counts bodies without a length itself.
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(limit)
        .listen(|mut stream: Stream| async move {
            let body = stream.read_to_end().await?;
            stream.write(body.len().to_string()).await
        })
        .await
        .expect("listen");
    let mut sender = h2c(server.local_addr()).await;
    for (pieces, expected) in [
        (vec![&b"01234"[..], b"56789"], StatusCode::OK),
        (
            vec![&b"01234"[..], b"56789", b"X"],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let request = post(unsized_body(pieces));
        let response = h2_send(&mut sender, request).await;
        assert_eq!(response.status(), expected);
        if expected == StatusCode::OK {
            let body = within("body", response.into_body().collect())
                .await
                .expect("body");
            assert_eq!(body.to_bytes(), "10");
        }
    }
    within("close", server.close()).await;
}

#[tokio::test]
async fn h2_bodies_without_a_length_are_bounded_for_request_handlers_too() {
    let limit = 10;
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(limit)
        .serve(counting.service())
        .await
        .expect("serve");
    let mut sender = h2c(server.local_addr()).await;
    for (pieces, expected, body) in [
        // Exactly the limit, over several frames: served whole.
        (vec![&b"0123"[..], b"456", b"789"], StatusCode::OK, "10"),
        // One byte more: the handler's read fails, the client gets 413.
        (
            vec![&b"01234"[..], b"56789", b"X"],
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        // Over within one frame.
        (
            vec![&b"0123456789AB"[..]],
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        // An empty body.
        (vec![], StatusCode::OK, "0"),
    ] {
        let request = post(unsized_body(pieces.clone()));
        let response = h2_send(&mut sender, request).await;
        assert_eq!(response.status(), expected, "pieces {pieces:?}");
        let got = within("body", response.into_body().collect())
            .await
            .expect("body");
        assert_eq!(got.to_bytes(), body, "pieces {pieces:?}");
    }
    assert_eq!(counting.calls.load(Ordering::SeqCst), 4);
    assert_eq!(counting.body_errors.load(Ordering::SeqCst), 2);
    // The connection is still good after the 413s.
    let request = post(unsized_body(vec![b"ok"]));
    let response = h2_send(&mut sender, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    within("close", server.close()).await;
}

#[tokio::test]
async fn a_bounded_h2_body_the_client_resets_leaves_the_server_serving() {
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .max_body_bytes(1 << 20)
        .serve(counting.service())
        .await
        .expect("serve");
    let mut sender = h2c(server.local_addr()).await;
    // Some data, then the client's body fails: hyper's client resets the stream.
    let broken = futures_util::stream::iter(vec![
        Ok(Frame::data(Bytes::from_static(b"part"))),
        Err(std::io::Error::other("client gave up")),
    ]);
    let request = post(BodyExt::boxed(StreamBody::new(broken)));
    within("ready", sender.ready()).await.expect("ready");
    let sent = within("h2 request", sender.send_request(request)).await;
    assert!(sent.is_err(), "the reset stream gets no response");
    // The handler's read fails (or hyper drops the handler first). The server goes on
    // serving, on that connection and a new one, and closes without waiting on anything.
    let response = h2_send(
        &mut sender,
        post(BodyExt::boxed(
            unsized_body(vec![b"ok"]).map_err(std::io::Error::other),
        )),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut fresh = h2c(server.local_addr()).await;
    let response = h2_send(&mut fresh, post(unsized_body(vec![b"ok"]))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(counting.body_errors.load(Ordering::SeqCst) <= 1);
    drop((sender, fresh));
    within("close", server.close()).await;
}

#[tokio::test]
async fn h2_request_bodies_keep_their_trailers_and_fail_past_read_timeout() {
    // The handler answers with the body's length and its `x-sum` trailer, or 408 when
    // reading the body failed.
    let server = Server::bind("127.0.0.1:0")
        .read_timeout(Duration::from_millis(300))
        .serve(handler_fn(|req: Request<httpstack::Body>| async move {
            match req.into_body().collect().await {
                Ok(body) => {
                    let trailer = body
                        .trailers()
                        .and_then(|t| t.get("x-sum"))
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_owned();
                    let len = body.to_bytes().len();
                    Response::new(format!("{len} {trailer}"))
                }
                Err(_) => {
                    let mut response = Response::new(String::new());
                    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
                    response
                }
            }
        }))
        .await
        .expect("serve");
    let mut sender = h2c(server.local_addr()).await;

    // Data, then trailers: both reach the handler.
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-sum", "42".parse().expect("value"));
    let frames = vec![
        Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"hello"))),
        Ok(Frame::trailers(trailers)),
    ];
    let request = post(BodyExt::boxed(StreamBody::new(futures_util::stream::iter(
        frames,
    ))));
    let response = h2_send(&mut sender, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let got = within("body", response.into_body().collect())
        .await
        .expect("body");
    assert_eq!(got.to_bytes(), "5 42");

    // A body that stops arriving: the handler's read fails at read_timeout.
    let stalled = futures_util::stream::iter(vec![Ok::<_, Infallible>(Frame::data(
        Bytes::from_static(b"part"),
    ))])
    .chain(futures_util::stream::pending());
    let request = post(BodyExt::boxed(StreamBody::new(stalled)));
    let response = h2_send(&mut sender, request).await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    within("close", server.close()).await;
}

#[tokio::test]
async fn malformed_requests_get_400() {
    let server = Server::bind("127.0.0.1:0")
        .serve(Counting::default().service())
        .await
        .expect("serve");
    let cases: [(&str, &[u8]); 6] = [
        ("garbage request line", b"HELLO\r\n\r\n"),
        ("no version", b"GET /\r\nHost: x\r\n\r\n"),
        ("unknown version", b"GET / HTTP/3.7\r\nHost: x\r\n\r\n"),
        (
            "header without a colon",
            b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
        ),
        (
            "space in a header name",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        ),
        (
            "two different lengths",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        ),
    ];
    for (case, request) in cases {
        let response = exchange(server.local_addr(), request).await;
        assert_eq!(response.status, 400, "case {case}: {}", response.head);
    }
    // And the server still serves.
    let response = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(response.status, 200);
    within("close", server.close()).await;
}

#[tokio::test]
async fn connection_filter_closes_refused_peers_before_reading() {
    // What the filter does: 0 refuses, 1 panics (which refuses), 2 admits.
    let mode = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (filter_mode, filter_seen) = (mode.clone(), seen.clone());
    let counting = Counting::default();
    let server = Server::bind("127.0.0.1:0")
        .connection_filter(move |peer| {
            filter_seen.lock().expect("lock").push(peer);
            match filter_mode.load(Ordering::SeqCst) {
                0 => false,
                1 => panic!("a broken filter"),
                _ => true,
            }
        })
        .serve(counting.service())
        .await
        .expect("serve");

    for refusing in [0, 1] {
        mode.store(refusing, Ordering::SeqCst);
        let mut refused = TcpStream::connect(server.local_addr())
            .await
            .expect("connect");
        let local = refused.local_addr().expect("client address");
        let _ = refused
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let mut buf = [0u8; 64];
        let read = within("refused connection closes", refused.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "mode {refusing}: a refused client must get no response: {read:?}"
        );
        assert_eq!(
            seen.lock().expect("lock").last(),
            Some(&local),
            "the filter saw the client's address"
        );
    }
    assert_eq!(counting.calls.load(Ordering::SeqCst), 0);

    mode.store(2, Ordering::SeqCst);
    let response = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(response.status, 200);
    within("close", server.close()).await;
}

#[tokio::test]
async fn reuseaddr_lets_two_servers_share_a_port_and_backlog_binds() {
    let first = Server::bind("127.0.0.1:0")
        .reuseaddr(true)
        .backlog(1)
        .serve(handler_fn(|_req: Request<httpstack::Body>| async {
            Response::new(String::from("first"))
        }))
        .await
        .expect("first server");
    let addr = first.local_addr();
    let second = Server::bind(addr)
        .reuseaddr(true)
        .serve(handler_fn(|_req: Request<httpstack::Body>| async {
            Response::new(String::from("second"))
        }))
        .await
        .expect("a second server on the same port");
    assert_eq!(second.local_addr(), addr);
    let err = Server::bind(addr)
        .serve(handler_fn(|_req: Request<httpstack::Body>| async {
            Response::new(String::new())
        }))
        .await
        .expect_err("without reuseaddr the port is taken");
    assert_eq!(err.kind(), &httpstack::ErrorKind::Server, "{err}");

    // Both serve; once one closes, the other gets every connection.
    within("close first", first.close()).await;
    for _ in 0..3 {
        let response = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert_eq!(response.body, b"second");
    }
    within("close second", second.close()).await;
}

#[tokio::test]
async fn with_peer_addr_every_request_carries_the_peer_address() {
    let peer_of = handler_fn(|req: Request<httpstack::Body>| async move {
        let peer = req
            .extensions()
            .get::<PeerAddr>()
            .map(|PeerAddr(addr)| addr.to_string());
        Response::new(peer.unwrap_or_default())
    });
    // Off when asked.
    let server = Server::bind("127.0.0.1:0")
        .peer_addr(false)
        .serve(peer_of)
        .await
        .expect("serve");
    let response = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(response.text(), "", "no PeerAddr when switched off");
    within("close", server.close()).await;

    // On by default.
    let server = Server::bind("127.0.0.1:0")
        .serve(peer_of)
        .await
        .expect("serve");

    // HTTP/1.1, twice on one connection.
    let mut conn = connect(server.local_addr()).await;
    let local = conn.get_ref().local_addr().expect("client address");
    for _ in 0..2 {
        write(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(String::from_utf8_lossy(&response.body), local.to_string());
    }

    // h2c.
    let tcp = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let local = tcp.local_addr().expect("client address");
    let (mut sender, h2) = within(
        "h2 handshake",
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)),
    )
    .await
    .expect("handshake");
    tokio::spawn(h2);
    let request = Request::get("http://x/")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = within("h2", sender.send_request(request))
        .await
        .expect("response");
    let body = within("body", response.into_body().collect())
        .await
        .expect("body");
    assert_eq!(body.to_bytes(), local.to_string());

    // And a stream handler sees it too.
    let stream_server = Server::bind("127.0.0.1:0")
        .listen(|mut stream: Stream| async move {
            let peer = stream.peer_addr().to_string();
            stream.write(peer).await
        })
        .await
        .expect("listen");
    let mut conn = connect(stream_server.local_addr()).await;
    let local = conn.get_ref().local_addr().expect("client address");
    write(&mut conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let response = within("response", read_response(&mut conn)).await;
    assert_eq!(String::from_utf8_lossy(&response.body), local.to_string());

    within("close", server.close()).await;
    within("close", stream_server.close()).await;
}
