//! WebSockets over HTTP/2 (RFC 8441), client side: an extended CONNECT with
//! `:protocol = websocket` on a new HTTP/2 connection (h2 by ALPN on wss://, h2c by prior
//! knowledge on ws://); a 200 answer turns the stream into the WebSocket's byte stream,
//! and RFC 6455 framing — masking included — runs on it unchanged (RFC 8441 §5).
//!
//! The server side needs nothing here: [`Upgrade`](super::Upgrade) answers an extended
//! CONNECT with 200, and httpstack's server announces `SETTINGS_ENABLE_CONNECT_PROTOCOL`.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::oneshot;

use super::config::Limits;
use super::connection::{Connection, Role};
use super::deflate::{Deflate, DeflateConfig};
use super::socket::Socket;
use super::websocket::Inner;
use crate::Error;

/// How often the connection looks at the server's SETTINGS until they allow extended
/// CONNECT.
const SETTINGS_RECHECK: Duration = Duration::from_millis(1);

/// The most of a refusal's body kept in the status error.
const REFUSAL_BODY_LIMIT: usize = 64 * 1024;

/// Opens a WebSocket over a fresh HTTP/2 connection on `socket`. `settings_wait` bounds
/// the wait for the server's SETTINGS to allow extended CONNECT (RFC 8441 §3).
pub(crate) async fn handshake(
    uri: &Uri,
    socket: Socket,
    headers: &HeaderMap,
    protocols: &[String],
    deflate: Option<&DeflateConfig>,
    limits: &Limits,
    settings_wait: Duration,
) -> Result<(Inner, Response<()>), Error> {
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder.timer(TokioTimer::new());
    let (mut sender, mut connection) = builder
        .handshake::<_, Empty<Bytes>>(TokioIo::new(socket))
        .await
        .map_err(|e| Error::connect(e).with_message("HTTP/2 handshake failed"))?;
    // RFC 8441 §3: extended CONNECT only once the server's SETTINGS allow it. hyper's
    // connection handle is driven by one task from the start, and nothing wakes it when
    // SETTINGS arrive (hyper processes them in a task of its own), so until they allow
    // it that task also looks every millisecond and says so.
    let (settled_tx, settled_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut settled_tx = Some(settled_tx);
        let mut recheck = Box::pin(tokio::time::sleep(SETTINGS_RECHECK));
        let ended = poll_fn(|cx| {
            let polled = Pin::new(&mut connection).poll(cx);
            if let Some(settled) = settled_tx.take() {
                if connection.is_extended_connect_protocol_enabled() {
                    let _ = settled.send(());
                } else if !settled.is_closed() {
                    settled_tx = Some(settled);
                    while recheck.as_mut().poll(cx).is_ready() {
                        recheck
                            .as_mut()
                            .reset(tokio::time::Instant::now() + SETTINGS_RECHECK);
                    }
                }
            }
            polled
        })
        .await;
        if let Err(err) = ended {
            tracing::debug!(error = %err, "HTTP/2 WebSocket connection ended");
        }
    });
    match tokio::time::timeout(settings_wait, settled_rx).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => {
            return Err(Error::request(
                "the HTTP/2 connection closed before its SETTINGS allowed extended CONNECT",
            ))
        }
        Err(_) => {
            return Err(Error::invalid_input(
                "the server does not allow WebSockets over HTTP/2 (no \
                 SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441)",
            ))
        }
    }

    let scheme = if uri.scheme_str() == Some("wss") {
        "https"
    } else {
        "http"
    };
    let target = format!(
        "{scheme}://{}{}",
        uri.authority().map(|a| a.as_str()).unwrap_or(""),
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut request = Request::builder()
        .method(Method::CONNECT)
        .uri(target)
        .version(http::Version::HTTP_2)
        .body(Empty::<Bytes>::new())
        .map_err(|e| Error::invalid_url("cannot make the CONNECT request").with_source(e))?;
    request
        .extensions_mut()
        .insert(hyper::ext::Protocol::from_static("websocket"));
    let out = request.headers_mut();
    for (name, value) in headers {
        out.append(name, value.clone());
    }
    out.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    if !protocols.is_empty() {
        let offered = HeaderValue::try_from(protocols.join(", "))
            .map_err(|e| Error::invalid_input("invalid subprotocol").with_source(e))?;
        out.insert(SEC_WEBSOCKET_PROTOCOL, offered);
    }
    super::client::offer_deflate(out, deflate)?;

    let mut response = sender
        .send_request(request)
        .await
        .map_err(|e| Error::request(e).with_message("WebSocket handshake failed"))?;
    if response.status() != StatusCode::OK {
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, REFUSAL_BODY_LIMIT)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        return Err(Error::status_error(Response::from_parts(parts, body))
            .with_message("WebSocket handshake refused"));
    }
    let agreed = super::client::check_picks(response.headers(), protocols, deflate)
        .map_err(|why| Error::request(why).with_message("WebSocket handshake failed"))?;
    let upgraded = hyper::upgrade::on(&mut response)
        .await
        .map_err(|e| Error::request(e).with_message("WebSocket handshake failed"))?;
    let stream = Connection::new(
        Socket::Upgraded(TokioIo::new(upgraded)),
        Role::Client,
        limits,
        agreed.map(Deflate::new),
        &[],
    );
    Ok((stream, response.map(|_| ())))
}

/// How long to wait for the server's SETTINGS when no response_header_timeout is set.
pub(crate) const DEFAULT_SETTINGS_WAIT: Duration = Duration::from_secs(10);
