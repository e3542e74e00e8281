//! HTTP/1 on the wire, with raw `TcpStream`s on 127.0.0.1: pipelining, `Expect:
//! 100-continue`, chunked request bodies with trailers, HTTP/1.0 requests (with and
//! without keep-alive), RFC 9112's Host, request-target and Transfer-Encoding rules (400
//! and close), and the trailer fields RFC 9110 §6.5.1 forbids. Every wait is bounded by
//! [`support::WAIT`].

mod support;

use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use httpstack::server::{handler_fn, serve, Server};
use httpstack::Body;
use support::raw_http::{connect, exchange, read_response, read_until_closed, write};
use support::within;
use tokio::io::AsyncReadExt;

/// Answers `"<method> <path> <body>"` and echoes request trailers as `x-got-<name>`
/// response headers.
async fn echo(req: Request<httpstack::Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let collected = body.collect().await.expect("request body");
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let body = collected.to_bytes();
    let mut response = Response::new(Body::from(format!(
        "{} {} {}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&body)
    )));
    for (name, value) in &trailers {
        let name = http::HeaderName::try_from(format!("x-got-{name}")).expect("header name");
        response.headers_mut().append(name, value.clone());
    }
    response
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = serve("127.0.0.1:0", handler_fn(echo)).await.expect("serve");
    let mut conn = connect(server.local_addr()).await;
    // Three requests in one write, one with a body, before reading anything.
    write(
        &mut conn,
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
              GET /three HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    for expected in ["GET /one ", "POST /two hello", "GET /three "] {
        let response = within("pipelined response", read_response(&mut conn)).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        assert_eq!(response.text(), expected);
    }
    assert_eq!(server.connections(), 1);
    drop(conn);
    within("close", server.close()).await;
}

#[tokio::test]
async fn expect_100_continue_gets_100_before_the_body_is_sent() {
    // With limits on too: the 100 comes from the handler reading the body.
    for limited in [false, true] {
        let mut builder = Server::bind("127.0.0.1:0");
        if limited {
            builder = builder
                .max_body_bytes(1024)
                .read_timeout(Duration::from_secs(30));
        }
        let server = builder.serve(handler_fn(echo)).await.expect("serve");
        let mut conn = connect(server.local_addr()).await;
        write(
            &mut conn,
            b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        )
        .await;
        let interim = within("100 Continue", read_response(&mut conn)).await;
        assert_eq!(
            interim.status_line, "HTTP/1.1 100 Continue",
            "limited {limited}"
        );
        write(&mut conn, b"body").await;
        let response = within("final response", read_response(&mut conn)).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK", "limited {limited}");
        assert_eq!(response.text(), "POST /up body");
        drop(conn);
        within("close", server.close()).await;
    }
}

#[tokio::test]
async fn chunked_request_bodies_arrive_with_their_trailers() {
    // Also with max_body_bytes, where the server follows the chunk framing itself.
    for limited in [false, true] {
        let mut builder = Server::bind("127.0.0.1:0");
        if limited {
            builder = builder.max_body_bytes(11);
        }
        let server = builder.serve(handler_fn(echo)).await.expect("serve");
        let mut conn = connect(server.local_addr()).await;
        write(&mut conn, b"POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: checksum\r\n\r\n\
                  5\r\nhello\r\n1;ext=yes\r\n \r\n5\r\nworld\r\n0\r\nChecksum: abc123\r\n\r\n",).await;
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK", "limited {limited}");
        assert_eq!(response.text(), "POST /chunks hello world");
        assert_eq!(
            response.header("x-got-checksum"),
            Some("abc123"),
            "limited {limited}"
        );

        // The connection is kept alive after a chunked body.
        write(&mut conn, b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let response = within("next response", read_response(&mut conn)).await;
        assert_eq!(response.text(), "GET /after ");
        drop(conn);
        within("close", server.close()).await;
    }
}

#[tokio::test]
async fn http10_requests_close_unless_kept_alive() {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<httpstack::Body>| async move {
            match req.uri().path() {
                // A body of unknown length: HTTP/1.0 has no chunking, so it ends at close.
                "/stream" => Response::new(Body::from_chunks(vec!["streamed ", "body"])),
                path => Response::new(Body::from(format!("{:?} {path}", req.version()))),
            }
        }),
    )
    .await
    .expect("serve");

    // Plain HTTP/1.0: answered in HTTP/1.0, then closed.
    let mut conn = connect(server.local_addr()).await;
    write(&mut conn, b"GET /plain HTTP/1.0\r\n\r\n").await;
    let response = within("response", read_response(&mut conn)).await;
    assert_eq!(response.status_line, "HTTP/1.0 200 OK");
    assert_eq!(response.text(), "HTTP/1.0 /plain");
    let mut rest = Vec::new();
    let read = within(
        "close after an HTTP/1.0 response",
        conn.read_to_end(&mut rest),
    )
    .await;
    assert!(
        matches!(read, Ok(0)),
        "closed with nothing more: {read:?} {rest:?}"
    );

    // HTTP/1.0 with keep-alive: two requests on one connection.
    let mut conn = connect(server.local_addr()).await;
    for path in ["/a", "/b"] {
        let request = format!("GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        write(&mut conn, request.as_bytes()).await;
        let response = within("keep-alive response", read_response(&mut conn)).await;
        assert_eq!(response.status_line, "HTTP/1.0 200 OK");
        assert!(
            response
                .header("connection")
                .is_some_and(|c| c.eq_ignore_ascii_case("keep-alive")),
            "{}",
            response.head
        );
        assert_eq!(response.text(), format!("HTTP/1.0 {path}"));
    }
    drop(conn);

    // A streamed body to an HTTP/1.0 client is delimited by the close.
    let mut conn = connect(server.local_addr()).await;
    write(&mut conn, b"GET /stream HTTP/1.0\r\n\r\n").await;
    let response = within("streamed response", read_response(&mut conn)).await;
    assert_eq!(response.header("transfer-encoding"), None);
    assert_eq!(response.text(), "streamed body");
    within("close", server.close()).await;
}

/// A request that breaks one of RFC 9112's rules gets 400 and `Connection: close`, and the
/// request pipelined behind it in the same write is never answered.
#[tokio::test]
async fn heads_breaking_rfc_9112_get_400_and_the_connection_closes() {
    let server = serve("127.0.0.1:0", handler_fn(echo)).await.expect("serve");
    let cases: [(&str, &str); 11] = [
        ("no Host", "GET / HTTP/1.1\r\n\r\n"),
        ("two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        ("a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        ("a Host with a path", "GET / HTTP/1.1\r\nHost: example.com/path\r\n\r\n"),
        ("a Host with userinfo", "GET / HTTP/1.1\r\nHost: u@example.com\r\n\r\n"),
        ("a target in no form", "GET foo HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("asterisk-form on GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("authority-form on GET", "GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n"),
        (
            "chunked twice on one line",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "chunked on two lines",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "a coding after chunked",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        ),
    ];
    for (case, head) in cases {
        let mut conn = connect(server.local_addr()).await;
        let next = "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";
        write(&mut conn, format!("{head}{next}")).await;
        let response = within(case, read_response(&mut conn)).await;
        assert_eq!(response.status, 400, "case {case}: {}", response.head);
        assert_eq!(response.header("connection"), Some("close"), "case {case}");
        let rest = within(case, read_until_closed(&mut conn)).await;
        assert!(
            rest.is_empty(),
            "case {case}: the pipelined request was answered: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
    // What the rules allow is served.
    let allowed: [(&str, &str); 6] = [
        ("HTTP/1.0 without Host", "GET /ok HTTP/1.0\r\n\r\n"),
        (
            "a Host with a port",
            "GET /ok HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
        ),
        ("an IPv6 Host", "GET /ok HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
        ("an empty Host", "GET /ok HTTP/1.1\r\nHost:\r\n\r\n"),
        (
            "absolute-form",
            "GET http://example.com/ok HTTP/1.1\r\nHost: example.com\r\n\r\n",
        ),
        (
            "asterisk-form on OPTIONS",
            "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
    ];
    for (case, head) in allowed {
        let response = exchange(server.local_addr(), head.as_bytes()).await;
        assert_eq!(response.status, 200, "case {case}: {}", response.head);
    }
    within("close", server.close()).await;
}

/// Trailer fields RFC 9110 §6.5.1 forbids are dropped from a request's trailers before the
/// handler sees them, and never sent in a response's.
#[tokio::test]
async fn forbidden_trailer_fields_are_dropped_both_ways() {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|req: Request<httpstack::Body>| async move {
            let collected = req.into_body().collect().await.expect("request body");
            let names: Vec<String> = collected
                .trailers()
                .map(|t| t.keys().map(|k| k.to_string()).collect())
                .unwrap_or_default();
            let mut trailers = http::HeaderMap::new();
            trailers.insert("x-checksum", http::HeaderValue::from_static("7"));
            trailers.insert("set-cookie", http::HeaderValue::from_static("a=1"));
            trailers.insert("content-length", http::HeaderValue::from_static("99"));
            let frames = vec![
                Ok::<_, std::convert::Infallible>(http_body::Frame::data(bytes::Bytes::from(
                    names.join(","),
                ))),
                Ok(http_body::Frame::trailers(trailers)),
            ];
            let body = http_body_util::StreamBody::new(futures_util::stream::iter(frames));
            Response::builder()
                .header("trailer", "x-checksum, set-cookie, content-length")
                .body(body)
                .expect("response")
        }),
    )
    .await
    .expect("serve");
    let request = "POST / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\n\r\n\
                   2\r\nhi\r\n0\r\nX-Sum: 3\r\nContent-Length: 5\r\nHost: evil\r\nCookie: a=b\r\n\r\n";
    let response = exchange(server.local_addr(), request.as_bytes()).await;
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(
        response.text(),
        "x-sum",
        "only the lawful request trailer arrives"
    );
    let trailers = response.trailers.to_ascii_lowercase();
    assert!(trailers.contains("x-checksum: 7"), "{trailers:?}");
    assert!(!trailers.contains("set-cookie"), "{trailers:?}");
    assert!(!trailers.contains("content-length"), "{trailers:?}");
    within("close", server.close()).await;
}

/// A handler's response with both `Transfer-Encoding: chunked` and `Content-Length` goes
/// out chunked without the length (RFC 9112 §6.3), rather than not at all.
#[tokio::test]
async fn a_response_with_transfer_encoding_and_content_length_goes_out_chunked() {
    let server = serve(
        "127.0.0.1:0",
        handler_fn(|_req: Request<httpstack::Body>| async {
            Response::builder()
                .header("transfer-encoding", "chunked")
                .header("content-length", "5")
                .body(Body::from_chunks(vec!["hel", "lo"]))
                .expect("response")
        }),
    )
    .await
    .expect("serve");
    let response = exchange(server.local_addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(response.header("content-length"), None, "{}", response.head);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.text(), "hello");
    within("close", server.close()).await;
}
