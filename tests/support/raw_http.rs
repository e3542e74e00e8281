//! Raw HTTP/1 on the wire, for tests where the bytes matter: connect a buffered
//! `TcpStream`, write a request as is, read one response back (`Content-Length`, chunked
//! with trailers, or up to EOF).

use std::net::SocketAddr;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpStream;

use super::within;

/// A response read off a raw HTTP/1 connection.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code, e.g. `200`.
    pub status: u16,
    /// The status line without its CRLF, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The head as received: status line, header lines and the blank line, CRLFs kept.
    pub head: String,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The trailer lines of a chunked body, CRLFs kept; empty otherwise.
    pub trailers: String,
}

impl RawResponse {
    /// The first value of header `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A buffered TCP connection to `addr` (connecting is bounded by [`within`]).
pub async fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(
        within("connect", TcpStream::connect(addr))
            .await
            .expect("connect"),
    )
}

/// Writes `request` on `conn` as is.
pub async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    request: impl AsRef<[u8]>,
) {
    conn.get_mut()
        .write_all(request.as_ref())
        .await
        .expect("write request");
}

/// Sends `request` on a new connection to `addr` and reads one response.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut conn = connect(addr).await;
    write(&mut conn, request).await;
    within("response", read_response(&mut conn)).await
}

/// Reads a response head up to and including its blank line, failing the test if the
/// connection closes first.
pub async fn read_head<R: AsyncBufRead + Unpin>(conn: &mut R) -> String {
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        let n = conn.read_line(&mut head).await.expect("read head");
        assert!(n > 0, "connection closed in the response head: {head:?}");
    }
    head
}

/// Reads one response off `conn`: the head, then (unless it is 1xx, 204 or 304) a body
/// by `Content-Length`, chunked with trailers, or up to EOF.
pub async fn read_response<R: AsyncBufRead + Unpin>(conn: &mut R) -> RawResponse {
    let head = read_head(conn).await;
    let status_line = head.lines().next().unwrap_or_default().to_owned();
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line: {head:?}"));
    let mut response = RawResponse {
        status,
        status_line,
        head,
        body: Vec::new(),
        trailers: String::new(),
    };
    if status < 200 || status == 204 || status == 304 {
        return response;
    }
    if let Some(length) = response.header("content-length") {
        let mut body = vec![0; length.parse().expect("numeric content-length")];
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

/// Reads until the peer closes the connection (or it fails); returns what came before.
pub async fn read_until_closed<R: AsyncRead + Unpin>(conn: &mut R) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Waits (bounded by [`super::WAIT`]) for the server to close `conn`, asserting it wrote
/// nothing first: how a test sees a connection cut off without a response. `what` names
/// the case in a failure.
pub async fn expect_closed_without_reply<R: AsyncRead + Unpin>(conn: &mut R, what: &str) {
    let got = super::within(what, read_until_closed(conn)).await;
    assert!(
        got.is_empty(),
        "{what}: expected no reply, got {:?}",
        String::from_utf8_lossy(&got)
    );
}
