//! The client side: [`open`], [`open_with`] and the [`Connect`] builder (HTTP.jl
//! `WebSockets.open`).
//!
//! The connection is made by [`connect_socket`] (TCP, then rustls for wss:// with the
//! same TLS settings as [`Client`](crate::Client)), then tungstenite runs the RFC 6455
//! §4.1 handshake on it. A non-101 answer is a status error carrying the response.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::close;
use super::config::Limits;
use super::socket::Socket;
use super::websocket::{close_gracefully, Handshake, Inner, WebSocket};
use crate::client::transport::{tls_config, TlsOptions};
use crate::client::Certificate;
use crate::{CloseFrame, Error, TimeoutKind};

/// HTTP.jl's `connect_timeout` default, as for [`Client`](crate::Client): 30 s.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a WebSocket to a `ws://` or `wss://` URL (HTTP.jl `WebSockets.open` without a
/// handler). For headers, subprotocols, timeouts or TLS settings use [`connect`].
pub async fn open(url: impl AsRef<str>) -> Result<WebSocket, Error> {
    connect(url).open().await
}

/// HTTP.jl `WebSockets.open(f, url)`: opens a WebSocket, runs `f` with it, and closes it
/// when `f` is done — with 1000, or 1008 when `f` failed with anything but a close —
/// unless `f` closed it already. Returns what `f` returned.
pub async fn open_with<F, Fut, T>(url: impl AsRef<str>, f: F) -> Result<T, Error>
where
    F: FnOnce(WebSocket) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    connect(url).open_with(f).await
}

/// Starts a [`Connect`]: a WebSocket client handshake to `url` with options.
pub fn connect(url: impl AsRef<str>) -> Connect {
    Connect {
        url: url.as_ref().to_owned(),
        headers: HeaderMap::new(),
        protocols: Vec::new(),
        connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
        request_timeout: None,
        response_header_timeout: None,
        limits: Limits::default(),
        tls: None,
        http2: false,
        error: None,
    }
}

/// A WebSocket client handshake being set up (HTTP.jl `WebSockets.open`'s keyword
/// arguments). `.await` it, or call [`open`](Self::open) / [`open_with`](Self::open_with).
///
/// ```no_run
/// # async fn run() -> Result<(), httpstack::Error> {
/// use std::time::Duration;
/// let mut ws = httpstack::ws::connect("wss://example.com/chat")
///     .header("Authorization", "Bearer token")
///     .protocols(["chat.v2", "chat.v1"])
///     .connect_timeout(Some(Duration::from_secs(5)))
///     .response_header_timeout(Duration::from_secs(5))
///     .read_idle_timeout(Duration::from_secs(60))
///     .await?;
/// assert!(ws.subprotocol().is_some());
/// ws.send("hello").await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a Connect does nothing until it is awaited"]
pub struct Connect {
    url: String,
    headers: HeaderMap,
    protocols: Vec<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    response_header_timeout: Option<Duration>,
    limits: Limits,
    tls: Option<TlsOptions>,
    http2: bool,
    error: Option<Error>,
}

impl Connect {
    /// Adds a header to the handshake request.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let name = HeaderName::try_from(name).map_err(Into::into);
        let value = HeaderValue::try_from(value).map_err(Into::into);
        match (name, value) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            (Err(e), _) | (_, Err(e)) => {
                self.error
                    .get_or_insert(Error::invalid_input("invalid header").with_source(e));
            }
        }
        self
    }

    /// Subprotocols to offer (`Sec-WebSocket-Protocol`), most preferred first; the
    /// server's pick is [`WebSocket::subprotocol`]. A server that picks one not offered,
    /// or none when some were offered (tungstenite's rule, stricter than RFC 6455 §4.1),
    /// fails the handshake.
    pub fn protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.protocols.extend(protocols.into_iter().map(Into::into));
        self
    }

    /// TCP connect plus TLS handshake (default 30 s; `None` waits forever). Past it:
    /// a timeout error of kind `Connect`.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The whole opening — connect, TLS, handshake request and response. Past it: a
    /// timeout error of kind `Total`. Default: none.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// From sending the handshake request to the end of the response head. Past it: a
    /// timeout error of kind `Read`. Default: none.
    pub fn response_header_timeout(mut self, timeout: Duration) -> Self {
        self.response_header_timeout = Some(timeout);
        self
    }

    /// After the handshake: the longest wait for a frame in [`WebSocket::receive`].
    /// Past it, `receive` fails with a timeout of kind `Read` (the connection stays
    /// open). Default: none.
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.read_idle_timeout = Some(timeout);
        self
    }

    /// After the handshake: the longest a send may wait for the socket. Past it, the
    /// send fails with a timeout of kind `Write`. Default: none.
    pub fn write_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.write_idle_timeout = Some(timeout);
        self
    }

    /// The largest message accepted (default 16 MiB; `None`: no limit). A larger one
    /// closes the connection with 1009 and `receive` fails with that close frame.
    pub fn max_message_size(mut self, bytes: Option<usize>) -> Self {
        self.limits.max_message_size = bytes;
        self
    }

    /// The largest frame accepted (default 16 MiB; `None`: no limit); as
    /// [`max_message_size`](Self::max_message_size).
    pub fn max_frame_size(mut self, bytes: Option<usize>) -> Self {
        self.limits.max_frame_size = bytes;
        self
    }

    fn tls_mut(&mut self) -> &mut TlsOptions {
        self.tls.get_or_insert_with(TlsOptions::default)
    }

    /// Trusts `cert` as a root for wss://, besides the platform's roots.
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.tls_mut().extra_roots.push(cert);
        self
    }

    /// Whether to trust the platform's root certificates for wss:// (default true).
    pub fn platform_roots(mut self, on: bool) -> Self {
        self.tls_mut().platform_roots = on;
        self
    }

    /// HTTP.jl `require_ssl_verification` (default true); `false` accepts any server
    /// certificate: for tests only.
    pub fn require_ssl_verification(mut self, on: bool) -> Self {
        self.tls_mut().verify = on;
        self
    }

    /// WebSockets over HTTP/2 (RFC 8441 extended CONNECT): on wss:// h2 is offered by
    /// ALPN besides HTTP/1.1, and used when the server picks it; on ws:// the connection
    /// is h2c by prior knowledge, so the server must speak HTTP/2. Default: off (an
    /// HTTP/1.1 upgrade, as browsers do).
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Opens the WebSocket.
    pub async fn open(self) -> Result<WebSocket, Error> {
        self.open_inner(None).await
    }

    /// Opens the WebSocket, runs `f` with it and closes it afterwards; see
    /// [`open_with`](super::open_with).
    pub async fn open_with<F, Fut, T>(self, f: F) -> Result<T, Error>
    where
        F: FnOnce(WebSocket) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let (runner, handed_back) = oneshot::channel();
        let ws = self.open_inner(Some(runner)).await?;
        let outcome = f(ws).await;
        // The WebSocket comes back only if `f` dropped it while still open.
        if let Ok(stream) = handed_back.await {
            let frame = match &outcome {
                Err(err) if !err.is_websocket() => {
                    CloseFrame::new(POLICY_VIOLATION, "Unexpected client websocket error")
                }
                _ => CloseFrame::new(close::NORMAL, ""),
            };
            close_gracefully(stream, frame).await;
        }
        outcome
    }

    async fn open_inner(
        mut self,
        hand_back: Option<oneshot::Sender<Inner>>,
    ) -> Result<WebSocket, Error> {
        let url = std::mem::take(&mut self.url);
        let opening = async {
            if let Some(err) = self.error.take() {
                return Err(err);
            }
            let (uri, request) = handshake_request(&url, &self.headers, &self.protocols)?;
            let socket =
                connect_socket(&uri, self.tls.as_ref(), self.http2, self.connect_timeout).await?;
            let h2 = match &socket {
                Socket::Tls(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
                _ => self.http2,
            };
            if h2 {
                let settings_wait = self
                    .response_header_timeout
                    .unwrap_or(super::h2::DEFAULT_SETTINGS_WAIT);
                let opening = super::h2::handshake(
                    &uri,
                    socket,
                    &self.headers,
                    &self.protocols,
                    &self.limits,
                    settings_wait,
                );
                return match self.response_header_timeout {
                    None => opening.await,
                    Some(limit) => tokio::time::timeout(limit, opening).await.map_err(|_| {
                        Error::timeout(TimeoutKind::Read).with_message(format!(
                            "no handshake response within response_header_timeout {limit:?}"
                        ))
                    })?,
                };
            }
            let handshake = tokio_tungstenite::client_async_with_config(
                request,
                socket,
                Some(self.limits.tungstenite()),
            );
            let (stream, response) = match self.response_header_timeout {
                None => handshake.await,
                Some(limit) => tokio::time::timeout(limit, handshake).await.map_err(|_| {
                    Error::timeout(TimeoutKind::Read).with_message(format!(
                        "no handshake response within response_header_timeout {limit:?}"
                    ))
                })?,
            }
            .map_err(handshake_error)?;
            Ok((stream, response.map(|_| ())))
        };
        let opened = match self.request_timeout {
            None => opening.await,
            Some(limit) => match tokio::time::timeout(limit, opening).await {
                Ok(opened) => opened,
                Err(_) => Err(Error::timeout(TimeoutKind::Total).with_message(format!(
                    "WebSocket not open within request_timeout {limit:?}"
                ))),
            },
        };
        let (stream, response) = opened.map_err(|e| e.with_url(&Method::GET, &url))?;
        let request = sent_request(&url, &self.headers, &self.protocols);
        let handshake = Handshake { request, response };
        Ok(WebSocket::new(stream, &self.limits, handshake, hand_back))
    }
}

/// 1008: what HTTP.jl's client closes with when its handler fails.
const POLICY_VIOLATION: u16 = 1008;

impl IntoFuture for Connect {
    type Output = Result<WebSocket, Error>;
    // Boxed: once per connection.
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.open())
    }
}

/// The handshake request tungstenite sends: its own Host, Upgrade, Connection, key and
/// version headers, plus ours.
fn handshake_request(
    url: &str,
    headers: &HeaderMap,
    protocols: &[String],
) -> Result<(Uri, tungstenite::handshake::client::Request), Error> {
    let uri: Uri = url
        .parse()
        .map_err(|e| Error::invalid_url(format!("cannot parse {url:?}")).with_source(e))?;
    match uri.scheme_str() {
        Some("ws" | "wss") => {}
        _ => {
            return Err(Error::invalid_url(format!(
                "a WebSocket URL starts with ws:// or wss://, not {:?}",
                crate::middleware::error::redact(url)
            )))
        }
    }
    let mut request = uri
        .clone()
        .into_client_request()
        .map_err(|e| Error::invalid_url("no host in the URL").with_source(e))?;
    for (name, value) in headers {
        request.headers_mut().append(name, value.clone());
    }
    if !protocols.is_empty() {
        let offered = HeaderValue::try_from(protocols.join(", "))
            .map_err(|e| Error::invalid_input("invalid subprotocol").with_source(e))?;
        request
            .headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, offered);
    }
    Ok((uri, request))
}

/// What [`WebSocket::request`] shows: the URL and the headers we added (tungstenite's
/// own handshake headers are not kept).
fn sent_request(url: &str, headers: &HeaderMap, protocols: &[String]) -> http::Request<()> {
    let mut request = http::Request::new(());
    if let Ok(uri) = url.parse() {
        *request.uri_mut() = uri;
    }
    *request.headers_mut() = headers.clone();
    if let Ok(offered) = HeaderValue::try_from(protocols.join(", ")) {
        if !protocols.is_empty() {
            request
                .headers_mut()
                .insert(http::header::SEC_WEBSOCKET_PROTOCOL, offered);
        }
    }
    request
}

fn handshake_error(err: tungstenite::Error) -> Error {
    match err {
        tungstenite::Error::Http(response) => {
            let response = (*response).map(|body| Bytes::from(body.unwrap_or_default()));
            Error::status_error(response).with_message("WebSocket handshake refused")
        }
        tungstenite::Error::Io(io) => Error::request(io).with_message("WebSocket handshake failed"),
        other => Error::request(other).with_message("WebSocket handshake failed"),
    }
}

/// The default rustls client config (platform roots), built once per process.
fn default_tls() -> Result<Arc<rustls::ClientConfig>, Error> {
    static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = DEFAULT.get() {
        return Ok(config.clone());
    }
    let config = Arc::new(with_alpn(tls_config(&TlsOptions::default())?, false));
    Ok(DEFAULT.get_or_init(|| config).clone())
}

/// ALPN: HTTP/1.1, or h2 first when HTTP/2 is wanted.
fn with_alpn(mut config: rustls::ClientConfig, http2: bool) -> rustls::ClientConfig {
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    config
}

/// The connect step: TCP to the URL's host and port (nodelay), then TLS for wss://
/// (ALPN h2 too when `http2`), within `connect_timeout`.
///
/// proxy: pending `Client::openraw`; this is the one function to replace with it.
pub(crate) async fn connect_socket(
    uri: &Uri,
    tls: Option<&TlsOptions>,
    http2: bool,
    connect_timeout: Option<Duration>,
) -> Result<Socket, Error> {
    let secure = uri.scheme_str() == Some("wss");
    let host = uri
        .host()
        .ok_or_else(|| Error::invalid_url("no host in the URL"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let config = if secure {
        Some(match (tls, http2) {
            (None, false) => default_tls()?,
            (None, true) => Arc::new(with_alpn(tls_config(&TlsOptions::default())?, true)),
            (Some(options), _) => Arc::new(with_alpn(tls_config(options)?, http2)),
        })
    } else {
        None
    };
    let connecting = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(Error::connect)?;
        let _ = tcp.set_nodelay(true);
        let Some(config) = config else {
            return Ok(Socket::Tcp(tcp));
        };
        let name = ServerName::try_from(host.clone())
            .map_err(|e| Error::invalid_url("invalid TLS server name").with_source(e))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(Error::connect)?;
        Ok(Socket::Tls(Box::new(tls)))
    };
    match connect_timeout {
        None => connecting.await,
        Some(limit) => tokio::time::timeout(limit, connecting).await.map_err(|_| {
            Error::timeout(TimeoutKind::Connect)
                .with_message(format!("no connection within {limit:?}"))
        })?,
    }
}
