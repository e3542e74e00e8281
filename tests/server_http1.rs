//! HTTP/1 on the wire, with raw `TcpStream`s on 127.0.0.1: pipelining, `Expect:
//! 100-continue`, chunked request bodies with trailers, and HTTP/1.0 requests (with and
//! without keep-alive). Every wait is bounded by [`WAIT`].

use std::future::Future;
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use httpstack::server::{handler_fn, serve, Server};
use httpstack::Body;
use hyper::body::Incoming;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A response read off a raw HTTP/1 connection.
#[derive(Debug)]
struct RawResponse {
    status_line: String,
    head: String,
    body: Vec<u8>,
    trailers: String,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (Content-Length, chunked with trailers, or up to EOF) off `conn`.
async fn read_response<R: AsyncBufReadExt + Unpin>(conn: &mut R) -> RawResponse {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = conn.read_line(&mut line).await.expect("read head");
        assert!(n > 0, "connection closed in the response head: {head:?}");
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let status_line = head.lines().next().unwrap_or_default().to_owned();
    let mut response = RawResponse {
        status_line,
        head,
        body: Vec::new(),
        trailers: String::new(),
    };
    let informational = response.status_line.get(9..10) == Some("1");
    if informational {
        return response;
    }
    if let Some(length) = response.header("content-length") {
        let mut body = vec![0; length.parse().expect("numeric length")];
        conn.read_exact(&mut body).await.expect("body");
        response.body = body;
    } else if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            conn.read_line(&mut size).await.expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            if size == 0 {
                loop {
                    let mut line = String::new();
                    conn.read_line(&mut line).await.expect("trailer");
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    response.trailers.push_str(&line);
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            conn.read_exact(&mut chunk).await.expect("chunk");
            response.body.extend_from_slice(&chunk[..size]);
        }
    } else {
        conn.read_to_end(&mut response.body)
            .await
            .expect("body to EOF");
    }
    response
}

/// Answers `"<method> <path> <body>"` and echoes request trailers as `x-got-<name>`
/// response headers.
async fn echo(req: Request<Incoming>) -> Response<Body> {
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

async fn connect(server: &Server) -> BufReader<TcpStream> {
    BufReader::new(
        within("connect", TcpStream::connect(server.local_addr()))
            .await
            .expect("connect"),
    )
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = serve("127.0.0.1:0", handler_fn(echo)).await.expect("serve");
    let mut conn = connect(&server).await;
    // Three requests in one write, one with a body, before reading anything.
    conn.get_mut()
        .write_all(
            b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
              GET /three HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await
        .expect("write");
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
        let mut conn = connect(&server).await;
        conn.get_mut()
            .write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            .await
            .expect("write head");
        let interim = within("100 Continue", read_response(&mut conn)).await;
        assert_eq!(
            interim.status_line, "HTTP/1.1 100 Continue",
            "limited {limited}"
        );
        conn.get_mut().write_all(b"body").await.expect("write body");
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
        let mut conn = connect(&server).await;
        conn.get_mut()
            .write_all(
                b"POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: checksum\r\n\r\n\
                  5\r\nhello\r\n1;ext=yes\r\n \r\n5\r\nworld\r\n0\r\nChecksum: abc123\r\n\r\n",
            )
            .await
            .expect("write");
        let response = within("response", read_response(&mut conn)).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK", "limited {limited}");
        assert_eq!(response.text(), "POST /chunks hello world");
        assert_eq!(
            response.header("x-got-checksum"),
            Some("abc123"),
            "limited {limited}"
        );

        // The connection is kept alive after a chunked body.
        conn.get_mut()
            .write_all(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
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
        handler_fn(|req: Request<Incoming>| async move {
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
    let mut conn = connect(&server).await;
    conn.get_mut()
        .write_all(b"GET /plain HTTP/1.0\r\n\r\n")
        .await
        .expect("write");
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
    let mut conn = connect(&server).await;
    for path in ["/a", "/b"] {
        let request = format!("GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        conn.get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("write");
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
    let mut conn = connect(&server).await;
    conn.get_mut()
        .write_all(b"GET /stream HTTP/1.0\r\n\r\n")
        .await
        .expect("write");
    let response = within("streamed response", read_response(&mut conn)).await;
    assert_eq!(response.header("transfer-encoding"), None);
    assert_eq!(response.text(), "streamed body");
    within("close", server.close()).await;
}
