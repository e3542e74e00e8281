//! `openraw` (HTTP.jl `HTTP.openraw`): [`Client::openraw`] and [`RawIo`], whose docs
//! hold the rules and an example.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::builder::Client;
use super::request::{exchange, RequestBuilder};
use super::transport::{Conn, Http1Upgrade};
use crate::{Body, Error};

/// How much of a refusal's body is kept in the status error.
const MAX_REFUSAL_BODY: usize = 1024 * 1024;

/// The connection [`Client::openraw`] (HTTP.jl `HTTP.openraw`) hands back: raw bytes both
/// ways (`tokio::io::AsyncRead` + `AsyncWrite`); dropping it closes the connection, which
/// never goes back to the pool.
///
/// `openraw` sends a request and, when the server switches protocols (`101`, RFC 9110
/// §15.2.2) or a proxy opens a tunnel (a 2xx answer to `CONNECT`, RFC 9110 §9.3.6), takes
/// the raw connection over — the base of the WebSocket client, and of anything else
/// spoken after an HTTP/1.1 upgrade. For a tunnel, send `CONNECT` to an `http://` URL
/// naming the target through a client (or request) with that proxy:
/// `client.request(Method::CONNECT, "http://target:port").proxy(url).openraw()`.
///
/// The request goes through the client's whole stack (default headers, cookies, user
/// layers), so the handshake looks like any other request of that client. Any other
/// answer is a status error carrying the response (body read, up to 1 MiB).
///
/// An upgrade request always goes out on an HTTP/1.1 connection, whatever the client
/// prefers: an upgrade cannot happen on HTTP/2 (RFC 9113 §8.6), so these requests use a
/// pool of their own whose TLS connections offer only `http/1.1` by ALPN. Through an HTTP
/// proxy they always take a `CONNECT` tunnel, `http://` (`ws://`) targets too, as RFC 6455
/// §4.1 asks: a forwarding proxy drops the hop-by-hop `Upgrade` header.
///
/// The "excess" bytes (HTTP.jl's third value): what the client had already read past the
/// response head — the first bytes of the new protocol when the server sent them in the
/// same packet. They are returned as `Bytes`, and [`RawIo`] starts after them; read them
/// first. (Should hyper ever hand back a connection of another type, `RawIo` replays them
/// itself and the `Bytes` is empty — either way no byte is lost or repeated.)
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|mut req: http::Request<httpstack::Body>| async move {
/// #     let upgrade = hyper::upgrade::on(&mut req);
/// #     tokio::spawn(async move {
/// #         let mut io = hyper_util::rt::TokioIo::new(upgrade.await.unwrap());
/// #         let mut buf = [0u8; 4];
/// #         io.read_exact(&mut buf).await.unwrap();
/// #         io.write_all(&buf).await.unwrap();
/// #     });
/// #     http::Response::builder().status(101).header("upgrade", "echo")
/// #         .header("connection", "upgrade").body(httpstack::Body::empty()).unwrap()
/// # })).await?;
/// # let url = format!("http://127.0.0.1:{}/", server.port());
/// let (response, mut io, excess) = httpstack::Client::new()
///     .get(&url)
///     .header("connection", "upgrade")
///     .header("upgrade", "echo")
///     .openraw()
///     .await?;
/// assert_eq!(response.status(), 101);
/// assert!(excess.is_empty()); // the server waits for us here
/// io.write_all(b"ping").await.unwrap();
/// let mut echoed = [0u8; 4];
/// io.read_exact(&mut echoed).await.unwrap();
/// assert_eq!(&echoed, b"ping");
/// # server.close().await; Ok(()) }
/// ```
pub struct RawIo {
    inner: RawInner,
}

enum RawInner {
    /// The client's own connection, handed back whole by hyper.
    Conn(Box<TokioIo<Conn>>),
    /// hyper's upgraded stream, which replays any bytes read past the head.
    Upgraded(TokioIo<Upgraded>),
}

impl std::fmt::Debug for RawIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            RawInner::Conn(_) => "RawIo(connection)",
            RawInner::Upgraded(_) => "RawIo(upgraded)",
        })
    }
}

impl AsyncRead for RawIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            RawInner::Conn(io) => Pin::new(io.as_mut()).poll_read(cx, buf),
            RawInner::Upgraded(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for RawIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            RawInner::Conn(io) => Pin::new(io.as_mut()).poll_write(cx, buf),
            RawInner::Upgraded(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            RawInner::Conn(io) => Pin::new(io.as_mut()).poll_flush(cx),
            RawInner::Upgraded(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            RawInner::Conn(io) => Pin::new(io.as_mut()).poll_shutdown(cx),
            RawInner::Upgraded(io) => Pin::new(io).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            RawInner::Conn(io) => Pin::new(io.as_mut()).poll_write_vectored(cx, bufs),
            RawInner::Upgraded(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            RawInner::Conn(io) => io.is_write_vectored(),
            RawInner::Upgraded(io) => io.is_write_vectored(),
        }
    }
}

impl Client {
    /// HTTP.jl `openraw`: sends `request` and, on `101 Switching Protocols` (or a 2xx
    /// answer to `CONNECT`), returns the response head, the raw connection and the bytes
    /// already read past the head. See [`RawIo`] for the rules and an example.
    pub async fn openraw(
        &self,
        request: Request<Body>,
    ) -> Result<(Response<()>, RawIo, Bytes), Error> {
        let verbose = self.defaults().verbose;
        openraw(self.clone(), request, verbose).await
    }
}

impl RequestBuilder {
    /// HTTP.jl `openraw` for this request; see [`Client::openraw`].
    pub async fn openraw(self) -> Result<(Response<()>, RawIo, Bytes), Error> {
        let (client, request, verbose) = self.prepare()?;
        openraw(client, request, verbose).await
    }
}

async fn openraw(
    client: Client,
    mut request: Request<Body>,
    verbose: u8,
) -> Result<(Response<()>, RawIo, Bytes), Error> {
    // A CONNECT is itself the tunnel request: it goes to the proxy as it is.
    if request.method() != Method::CONNECT {
        request.extensions_mut().insert(Http1Upgrade);
    }
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let fail = |e: Error| e.with_request(&method, &uri);
    let mut response =
        exchange(client.inner.stack.clone(), request, verbose, &method, &uri).await?;
    let status = response.status();
    let taken_over = status == StatusCode::SWITCHING_PROTOCOLS
        || (method == Method::CONNECT && status.is_success());
    if !taken_over {
        let expected = if method == Method::CONNECT {
            "expected a 2xx answer to CONNECT"
        } else {
            "expected 101 Switching Protocols"
        };
        let (parts, body) = response.into_parts();
        let body = http_body_util::Limited::new(body, MAX_REFUSAL_BODY)
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        return Err(fail(
            Error::status_error(Response::from_parts(parts, body)).with_message(expected),
        ));
    }
    let on_upgrade = hyper::upgrade::on(&mut response);
    let (parts, body) = response.into_parts();
    // The body of a 101 or a CONNECT 2xx is empty; hyper hands the connection over once
    // the response is done with.
    drop(body);
    let upgraded = on_upgrade.await.map_err(|e| {
        fail(
            Error::request(e)
                .with_message("the connection could not be taken over (an HTTP/2 connection?)"),
        )
    })?;
    let (io, excess) = match upgraded.downcast::<Conn>() {
        Ok(parts) => (
            RawInner::Conn(Box::new(TokioIo::new(parts.io))),
            parts.read_buf,
        ),
        Err(upgraded) => (RawInner::Upgraded(TokioIo::new(upgraded)), Bytes::new()),
    };
    Ok((Response::from_parts(parts, ()), RawIo { inner: io }, excess))
}
