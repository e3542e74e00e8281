//! The client side: [`open`], [`open_with`] and the [`Connect`] builder (HTTP.jl
//! `WebSockets.open`).
//!
//! The handshake (RFC 6455 §4.1) is an HTTP/1.1 upgrade sent with
//! [`Client::openraw`](crate::Client::openraw): the client's transport, TLS settings,
//! proxies (CONNECT tunnels for ws:// and wss://, SOCKS5), cookies and default headers
//! all apply. Here it gets its WebSocket headers, and the `101` is checked
//! (`Sec-WebSocket-Accept`, `Upgrade`, the subprotocol) before tokio-tungstenite takes
//! the connection over, with any bytes already read past the head. A non-101 answer is
//! a status error carrying the response.
//!
//! `.http2(true)` (RFC 8441) still dials directly ([`connect_socket`]): an HTTP/2
//! extended CONNECT is not an upgrade `openraw` can make.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, Response, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::close;
use super::config::Limits;
use super::connection::{Connection, Role};
use super::deflate::{Agreed, Deflate, DeflateConfig};
use super::socket::Socket;
use super::websocket::{close_gracefully, Handshake, Inner, WebSocket};
use crate::client::{default_client, Certificate};
use crate::tls::ClientTls as TlsOptions;
use crate::{Client, CloseFrame, Error, ErrorKind, TimeoutKind};

/// HTTP.jl's `connect_timeout` default, as for [`Client`](crate::Client): 30 s (the
/// HTTP/2 path's; the HTTP/1.1 path takes the client's).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a WebSocket to a `ws://` or `wss://` URL (HTTP.jl `WebSockets.open` without a
/// handler). For headers, subprotocols, timeouts or TLS settings use [`connect`].
pub async fn open(url: impl AsRef<str>) -> Result<WebSocket, Error> {
    connect(url).open().await
}

/// HTTP.jl `WebSockets.open(f, url)`: opens a WebSocket, runs `f` with it, and closes it
/// when `f` is done — with 1000, or 1008 when `f` failed with anything but a close —
/// unless `f` closed it already. Returns what `f` returned.
///
/// ```
/// use futures_util::StreamExt;
/// use httpstack::ws;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// # let server = ws::listen("127.0.0.1:0", |mut ws: ws::WebSocket| async move {
/// #     for price in ["101.5", "101.7", "101.2"] { ws.send(price).await?; }
/// #     Ok(())
/// # }).await?;
/// # let url = format!("ws://{}/prices", server.server_addr());
/// let prices = ws::open_with(url, |mut ws| async move {
///     // As a `Stream`, a WebSocket ends when the server closes normally.
///     let mut prices = Vec::new();
///     while let Some(message) = ws.next().await {
///         prices.push(message?.as_text().unwrap_or_default().parse::<f64>().unwrap());
///     }
///     Ok(prices)
/// })
/// .await?;
/// assert_eq!(prices, [101.5, 101.7, 101.2]);
/// # server.close().await; Ok(()) }
/// ```
pub async fn open_with<F, Fut, T>(url: impl AsRef<str>, f: F) -> Result<T, Error>
where
    F: FnOnce(WebSocket) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    connect(url).open_with(f).await
}

/// Starts a [`Connect`]: a WebSocket client handshake to `url` with options.
///
/// ```
/// use std::time::Duration;
/// use httpstack::ws;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// # let server = ws::upgrade(|mut ws: ws::WebSocket| async move {
/// #     let token = ws.request().headers()["authorization"].to_str().unwrap_or("").to_owned();
/// #     ws.send(format!("welcome, {token}")).await
/// # })
/// # .protocols(["chat.v2"])
/// # .listen("127.0.0.1:0")
/// # .await?;
/// # let url = format!("ws://{}/chat", server.server_addr());
/// let mut ws = ws::connect(url)
///     .header("authorization", "Bearer s3cr3t")
///     .protocols(["chat.v2", "chat.v1"])
///     .connect_timeout(Duration::from_secs(5))
///     .read_idle_timeout(Duration::from_secs(60))
///     .await?;
/// assert_eq!(ws.subprotocol(), Some("chat.v2"));
/// assert_eq!(ws.receive().await?.as_text(), Some("welcome, Bearer s3cr3t"));
/// # server.close().await; Ok(()) }
/// ```
pub fn connect(url: impl AsRef<str>) -> Connect {
    Connect {
        url: url.as_ref().to_owned(),
        headers: HeaderMap::new(),
        protocols: Vec::new(),
        client: None,
        proxy: None,
        retry: false,
        connect_timeout: None,
        request_timeout: None,
        response_header_timeout: None,
        limits: Limits::default(),
        tls: TlsSettings::default(),
        http2: false,
        deflate: Some(DeflateConfig::default()),
        redirect_limit: DEFAULT_REDIRECT_LIMIT,
        error: None,
    }
}

/// HTTP.jl's `redirect_limit` default.
const DEFAULT_REDIRECT_LIMIT: usize = 3;

/// A WebSocket client handshake being set up (HTTP.jl `WebSockets.open`'s keyword
/// arguments). `.await` it, or call [`open`](Self::open) / [`open_with`](Self::open_with).
///
/// ```no_run
/// # async fn run() -> Result<(), httpstack::Error> {
/// use std::time::Duration;
/// let mut ws = httpstack::ws::connect("wss://example.com/chat")
///     .header("Authorization", "Bearer token")
///     .protocols(["chat.v2", "chat.v1"])
///     .proxy("http://user:password@proxy.internal:3128")
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
    /// `None`: the default client ([`default_client`]).
    client: Option<Client>,
    proxy: Option<ProxyChoice>,
    retry: bool,
    /// `None`: the client's (30 s unless it was built with another).
    connect_timeout: Option<Option<Duration>>,
    request_timeout: Option<Duration>,
    response_header_timeout: Option<Duration>,
    limits: Limits,
    tls: TlsSettings,
    http2: bool,
    /// `None`: permessage-deflate is not offered.
    deflate: Option<DeflateConfig>,
    /// 0: redirects are not followed.
    redirect_limit: usize,
    error: Option<Error>,
}

/// A per-connection proxy choice, over the client's and the environment's.
#[derive(Debug)]
enum ProxyChoice {
    Via(String),
    Direct,
}

/// The TLS settings given to [`Connect`]; each one set overrides the client's.
#[derive(Debug, Default)]
struct TlsSettings {
    extra_roots: Vec<Certificate>,
    platform_roots: Option<bool>,
    verify: Option<bool>,
}

impl TlsSettings {
    fn is_empty(&self) -> bool {
        self.extra_roots.is_empty() && self.platform_roots.is_none() && self.verify.is_none()
    }

    /// As [`TlsOptions`] for the HTTP/2 path, which dials itself: unset ones take the
    /// defaults.
    fn options(&self) -> Option<TlsOptions> {
        if self.is_empty() {
            return None;
        }
        let defaults = TlsOptions::default();
        Some(TlsOptions {
            platform_roots: self.platform_roots.unwrap_or(defaults.platform_roots),
            extra_roots: self.extra_roots.clone(),
            verify: self.verify.unwrap_or(defaults.verify),
            ..defaults
        })
    }
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

    /// The [`Client`] whose transport, TLS settings, proxies, cookies and default
    /// headers the handshake goes through (default: [`default_client`], the one behind
    /// `httpstack::get`). Options set on this `Connect` (TLS, `connect_timeout`) override
    /// the client's for this connection only.
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// HTTP.jl `proxy=` for this connection: goes through the proxy at `url` (see
    /// [`Proxy::new`](crate::client::Proxy::new): `http://`, `https://` or `socks5://`,
    /// credentials as userinfo), whatever the client or the environment say. Through an
    /// HTTP proxy both ws:// and wss:// take a `CONNECT` tunnel (RFC 6455 §4.1).
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(ProxyChoice::Via(url.to_owned()));
        self
    }

    /// Connects directly, whatever the client or the environment say about proxies.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = Some(ProxyChoice::Direct);
        self
    }

    /// Whether a failed handshake attempt (connection refused, reset before the answer)
    /// is retried under the client's retry policy (HTTP.jl `retry`; its `retries` and
    /// `retry_delays`). Default: false — one attempt, as browsers make.
    pub fn retry(mut self, on: bool) -> Self {
        self.retry = on;
        self
    }

    /// TCP connect plus TLS handshake, and a proxy's tunnel (default: the client's,
    /// 30 s for the default client; `None` waits forever). Past it: a timeout error of
    /// kind `Connect`.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = Some(timeout.into());
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

    /// The largest message accepted (default 16 MiB; `None`: no limit), counted after
    /// decompression as it inflates. A larger one closes the connection with 1009 and
    /// `receive` fails with that close frame.
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

    /// Trusts `cert` as a root for wss://, besides the platform's roots (and the
    /// client's own).
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.tls.extra_roots.push(cert);
        self
    }

    /// Whether to trust the platform's root certificates for wss:// (default: the
    /// client's, true).
    pub fn platform_roots(mut self, on: bool) -> Self {
        self.tls.platform_roots = Some(on);
        self
    }

    /// HTTP.jl `require_ssl_verification` (default: the client's, true); `false` accepts
    /// any server certificate: for tests only.
    pub fn require_ssl_verification(mut self, on: bool) -> Self {
        self.tls.verify = Some(on);
        self
    }

    /// WebSockets over HTTP/2 (RFC 8441 extended CONNECT): on wss:// h2 is offered by
    /// ALPN besides HTTP/1.1, and used when the server picks it; on ws:// the connection
    /// is h2c by prior knowledge, so the server must speak HTTP/2. Default: off (an
    /// HTTP/1.1 upgrade, as browsers do).
    ///
    /// This path dials the server itself: it goes through no proxy ([`proxy`](Self::proxy)
    /// with it is an input error) and takes only this `Connect`'s TLS settings and
    /// `connect_timeout` (30 s by default), not the client's.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Whether permessage-deflate (RFC 7692) is offered (default: on). The offer is
    /// `permessage-deflate; client_max_window_bits`, as browsers send it — the server
    /// picks the context takeover and window sizes, and may cap ours — followed by the
    /// same with `client_no_context_takeover`, which a server that serves only clients
    /// keeping no context can take. Off, messages go uncompressed and a server that
    /// selects the extension anyway fails the handshake.
    pub fn permessage_deflate(mut self, on: bool) -> Self {
        self.deflate = on.then(DeflateConfig::default);
        self
    }

    /// Offers permessage-deflate with these settings; see [`DeflateConfig`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), httpstack::Error> {
    /// use httpstack::ws::{self, DeflateConfig};
    /// let ws = ws::connect("wss://example.com/feed")
    ///     .deflate(DeflateConfig::default().client_no_context_takeover(true).level(6))
    ///     .await?;
    /// println!("agreed: {:?}", ws.extensions());
    /// # Ok(()) }
    /// ```
    pub fn deflate(mut self, config: DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }

    /// Whether a redirect answer to the handshake (301, 302, 303, 307, 308 with a
    /// `Location`) is followed, as HTTP.jl 2.x does (default: true, up to
    /// [`redirect_limit`](Self::redirect_limit)). `http://` and `https://` locations map
    /// to `ws://` and `wss://`. A redirect to another host drops the `Authorization` and
    /// `Cookie` headers set here (the client's cookie jar picks the new host's).
    /// Off, a redirect is a status error carrying the response.
    pub fn redirect(mut self, on: bool) -> Self {
        self.redirect_limit = if on { DEFAULT_REDIRECT_LIMIT } else { 0 };
        self
    }

    /// HTTP.jl `redirect_limit` (default 3): one more redirect is a too-many-redirects
    /// error.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), httpstack::Error> {
    /// let ws = httpstack::ws::connect("ws://example.com/old-path")
    ///     .redirect_limit(1)
    ///     .await?;
    /// println!("now at {}", ws.request().uri());
    /// # Ok(()) }
    /// ```
    pub fn redirect_limit(mut self, limit: usize) -> Self {
        self.redirect_limit = limit;
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
        let error = self.error.take();
        let this = &self;
        let opening = async {
            if let Some(err) = error {
                return Err(err);
            }
            if this.http2 {
                let (stream, response) = this.open_direct(&url).await?;
                Ok((stream, response, url.clone(), this.headers.clone()))
            } else {
                this.open_following(&url).await
            }
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
        let (stream, response, url, headers) =
            opened.map_err(|e| e.with_url(&Method::GET, &url))?;
        let request = sent_request(&url, &headers, &self.protocols);
        let handshake = Handshake { request, response };
        Ok(WebSocket::new(stream, &self.limits, handshake, hand_back))
    }

    /// The client this connection goes through: the given or default one, with this
    /// `Connect`'s TLS settings and connect timeout when it has any (a new client then,
    /// sharing the cookie jar but not the pool — upgraded connections are never pooled).
    fn effective_client(&self) -> Result<Client, Error> {
        let base = self.client.clone().unwrap_or_else(default_client);
        if self.tls.is_empty() && self.connect_timeout.is_none() {
            return Ok(base);
        }
        let mut builder = base.to_builder();
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        for cert in &self.tls.extra_roots {
            builder = builder.add_root_certificate(cert.clone());
        }
        if let Some(on) = self.tls.platform_roots {
            builder = builder.platform_roots(on);
        }
        if let Some(on) = self.tls.verify {
            builder = builder.require_ssl_verification(on);
        }
        builder.build()
    }

    /// The HTTP/1.1 upgrade, following redirects up to the limit: the stream, the
    /// response, and the URL and headers of the request that was answered.
    async fn open_following(
        &self,
        url: &str,
    ) -> Result<(Inner, Response<()>, String, HeaderMap), Error> {
        let mut url = url.to_owned();
        let mut headers = self.headers.clone();
        let mut redirects = 0;
        loop {
            let err = match self.open_upgrade(&url, &headers).await {
                Ok((stream, response)) => return Ok((stream, response, url, headers)),
                Err(err) => err,
            };
            let Some(next) = redirect_target(&err, &url) else {
                return Err(err);
            };
            if self.redirect_limit == 0 {
                return Err(err);
            }
            if redirects == self.redirect_limit {
                return Err(Error::new(ErrorKind::TooManyRedirects(self.redirect_limit))
                    .with_url(&Method::GET, &url));
            }
            redirects += 1;
            if authority_of(&next) != authority_of(&url) {
                // Credentials set for one host are not sent to another (HTTP.jl 2.x).
                headers.remove(http::header::AUTHORIZATION);
                headers.remove(http::header::COOKIE);
            }
            tracing::debug!(from = %url, to = %next, "WebSocket handshake redirected");
            url = next;
        }
    }

    /// The HTTP/1.1 upgrade through the client ([`Client::openraw`]).
    async fn open_upgrade(
        &self,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<(Inner, Response<()>), Error> {
        let uri = parse_ws_url(url)?;
        let secure = uri.scheme_str() == Some("wss");
        let mut parts = uri.into_parts();
        parts.scheme = Some(if secure {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        });
        let http_uri = Uri::from_parts(parts)
            .map_err(|e| Error::invalid_url("no host in the URL").with_source(e))?;
        let client = self.effective_client()?;
        let key = generate_key();
        let mut headers = headers.clone();
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::try_from(key.as_str())
                .map_err(|e| Error::invalid_input("WebSocket key").with_source(e))?,
        );
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        if !self.protocols.is_empty() {
            let offered = HeaderValue::try_from(self.protocols.join(", "))
                .map_err(|e| Error::invalid_input("invalid subprotocol").with_source(e))?;
            headers.insert(SEC_WEBSOCKET_PROTOCOL, offered);
        }
        offer_deflate(&mut headers, self.deflate.as_ref())?;
        // The refusal is openraw's status error with the body; a redirect is followed by
        // `open_following`, a hop at a time, each a fresh upgrade request.
        let mut request = client
            .get(http_uri.to_string())
            .headers(headers)
            .status_exception(false)
            .redirect(false)
            .retry(self.retry);
        request = match &self.proxy {
            Some(ProxyChoice::Via(proxy)) => request.proxy(proxy),
            Some(ProxyChoice::Direct) => request.no_proxy(),
            None => request,
        };
        let opening = request.openraw();
        let (response, io, excess) = match self.response_header_timeout {
            None => opening.await,
            Some(limit) => tokio::time::timeout(limit, opening).await.map_err(|_| {
                Error::timeout(TimeoutKind::Read).with_message(format!(
                    "no handshake response within response_header_timeout {limit:?}"
                ))
            })?,
        }
        .map_err(|e| for_ws_url(e, url))?;
        let agreed = check_accept(&response, &key, &self.protocols, self.deflate.as_ref())?;
        let stream = Connection::new(
            Socket::Raw(io),
            Role::Client,
            &self.limits,
            agreed.map(Deflate::new),
            &excess,
        );
        Ok((stream, response))
    }

    /// RFC 8441 (and its HTTP/1.1 fallback on wss:// when the server's ALPN picks it):
    /// dials the server itself.
    async fn open_direct(&self, url: &str) -> Result<(Inner, Response<()>), Error> {
        if matches!(self.proxy, Some(ProxyChoice::Via(_))) {
            return Err(Error::invalid_input(
                "a proxy cannot be used with http2(true): RFC 8441 WebSockets dial directly",
            ));
        }
        let uri = parse_ws_url(url)?;
        let tls = self.tls.options();
        let connect_timeout = self
            .connect_timeout
            .unwrap_or(Some(DEFAULT_CONNECT_TIMEOUT));
        let socket = connect_socket(&uri, tls.as_ref(), connect_timeout).await?;
        let h2 = match &socket {
            Socket::Tls(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
            _ => true,
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
                self.deflate.as_ref(),
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
        let handshake = self.h1_upgrade(&uri, socket);
        match self.response_header_timeout {
            None => handshake.await,
            Some(limit) => tokio::time::timeout(limit, handshake).await.map_err(|_| {
                Error::timeout(TimeoutKind::Read).with_message(format!(
                    "no handshake response within response_header_timeout {limit:?}"
                ))
            })?,
        }
    }

    /// The HTTP/1.1 upgrade on a connection of our own (the wss:// fallback of the
    /// HTTP/2 path, when the server's ALPN picks HTTP/1.1), through hyper's client.
    async fn h1_upgrade(&self, uri: &Uri, socket: Socket) -> Result<(Inner, Response<()>), Error> {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(socket))
                .await
                .map_err(|e| Error::connect(e).with_message("HTTP/1.1 handshake failed"))?;
        tokio::spawn(async move {
            if let Err(err) = connection.with_upgrades().await {
                tracing::debug!(error = %err, "WebSocket HTTP/1.1 connection ended");
            }
        });
        let key = generate_key();
        let mut request = http::Request::builder()
            .method(Method::GET)
            .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
            .body(Empty::<Bytes>::new())
            .map_err(|e| Error::invalid_url("cannot make the handshake request").with_source(e))?;
        let out = request.headers_mut();
        for (name, value) in &self.headers {
            out.append(name, value.clone());
        }
        if let Some(authority) = uri.authority() {
            let host = HeaderValue::try_from(authority.as_str())
                .map_err(|e| Error::invalid_url("invalid host").with_source(e))?;
            out.insert(http::header::HOST, host);
        }
        out.insert(UPGRADE, HeaderValue::from_static("websocket"));
        out.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        out.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::try_from(key.as_str())
                .map_err(|e| Error::invalid_input("WebSocket key").with_source(e))?,
        );
        out.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        if !self.protocols.is_empty() {
            let offered = HeaderValue::try_from(self.protocols.join(", "))
                .map_err(|e| Error::invalid_input("invalid subprotocol").with_source(e))?;
            out.insert(SEC_WEBSOCKET_PROTOCOL, offered);
        }
        offer_deflate(out, self.deflate.as_ref())?;
        let mut response = sender
            .send_request(request)
            .await
            .map_err(|e| Error::request(e).with_message("WebSocket handshake failed"))?;
        if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, 64 * 1024)
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            return Err(Error::status_error(Response::from_parts(parts, body))
                .with_message("WebSocket handshake refused"));
        }
        let on_upgrade = hyper::upgrade::on(&mut response);
        let (parts, _body) = response.into_parts();
        let head = Response::from_parts(parts, ());
        let agreed = check_accept(&head, &key, &self.protocols, self.deflate.as_ref())?;
        let upgraded = on_upgrade
            .await
            .map_err(|e| Error::request(e).with_message("WebSocket handshake failed"))?;
        let stream = Connection::new(
            Socket::Upgraded(TokioIo::new(upgraded)),
            Role::Client,
            &self.limits,
            agreed.map(Deflate::new),
            &[],
        );
        Ok((stream, head))
    }
}

/// Where a redirect answer to the handshake at `url` points, as a ws:// or wss:// URL:
/// for 301, 302, 303, 307 and 308 with a `Location` that resolves against `url` to an
/// http(s):// or ws(s):// URL.
fn redirect_target(err: &Error, url: &str) -> Option<String> {
    let response = err.response()?;
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response
        .headers()
        .get(http::header::LOCATION)?
        .to_str()
        .ok()?;
    let base = url::Url::parse(url).ok()?;
    let mut next = base.join(location).ok()?;
    let scheme = match next.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return None,
    };
    next.set_scheme(scheme).ok()?;
    next.set_fragment(None);
    Some(next.to_string())
}

/// The `host:port` a URL names, for telling a cross-host redirect.
fn authority_of(url: &str) -> Option<(String, Option<u16>)> {
    let url = url::Url::parse(url).ok()?;
    Some((
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default(),
    ))
}

/// openraw's errors name the http(s):// URL it requested; the caller asked for the
/// ws(s):// one. The error is rebuilt with the same kind, message and retries (a status
/// error with its response), and the original's causes as its source chain.
fn for_ws_url(err: Error, url: &str) -> Error {
    let retries = err.retries().unwrap_or(0);
    let kind = err.kind().clone();
    let rebuilt = match kind {
        ErrorKind::Status(_) if err.response().is_some() => match err.into_response() {
            Some(response) => {
                Error::status_error(response).with_message("WebSocket handshake refused")
            }
            None => Error::new(kind),
        },
        kind => {
            let mut rebuilt = Error::new(kind);
            if let Some(message) = err.message() {
                rebuilt = rebuilt.with_message(message);
            }
            if std::error::Error::source(&err).is_some() {
                rebuilt = rebuilt.with_source(Causes(err));
            }
            rebuilt
        }
    };
    rebuilt.with_url(&Method::GET, url).with_retries(retries)
}

/// The source of a rebuilt error ([`for_ws_url`]): the original's causes, without the
/// original itself (whose text names the http:// URL the rebuilt error replaces).
#[derive(Debug)]
struct Causes(Error);

impl Causes {
    fn first(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

impl std::fmt::Display for Causes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.first() {
            Some(cause) => std::fmt::Display::fmt(cause, f),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Causes {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.first().and_then(std::error::Error::source)
    }
}

/// Adds our permessage-deflate offer to the handshake headers.
pub(crate) fn offer_deflate(
    headers: &mut HeaderMap,
    deflate: Option<&DeflateConfig>,
) -> Result<(), Error> {
    if let Some(deflate) = deflate {
        let offer = HeaderValue::try_from(deflate.client_offer())
            .map_err(|e| Error::invalid_input("invalid extension offer").with_source(e))?;
        headers.insert(SEC_WEBSOCKET_EXTENSIONS, offer);
    }
    Ok(())
}

/// RFC 6455 §4.1: what the client checks in the server's `101`; the permessage-deflate
/// terms, if agreed.
fn check_accept(
    response: &Response<()>,
    key: &str,
    offered: &[String],
    deflate: Option<&DeflateConfig>,
) -> Result<Option<Agreed>, Error> {
    let fail = |why: String| Error::request(why).with_message("WebSocket handshake failed");
    let headers = response.headers();
    let upgrade_ok = headers
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !upgrade_ok {
        return Err(fail(format!(
            "the 101 has Upgrade {:?}, not websocket",
            headers.get(UPGRADE)
        )));
    }
    let connection_ok = headers.get_all(CONNECTION).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
        })
    });
    if !connection_ok {
        return Err(fail("the 101 has no Connection: Upgrade".into()));
    }
    let expected = derive_accept_key(key.as_bytes());
    if headers.get(SEC_WEBSOCKET_ACCEPT).map(HeaderValue::as_bytes) != Some(expected.as_bytes()) {
        return Err(fail(format!(
            "Sec-WebSocket-Accept {:?} does not match the key (expected {expected:?})",
            headers.get(SEC_WEBSOCKET_ACCEPT)
        )));
    }
    check_picks(headers, offered, deflate).map_err(fail)
}

/// RFC 6455 §4.1 (kept by RFC 8441 §5): the server's subprotocol must be one offered,
/// and it may select no extension that was not offered (RFC 7692 §5: only our
/// permessage-deflate, with parameters we allowed). The deflate terms, if agreed.
pub(crate) fn check_picks(
    headers: &HeaderMap,
    offered: &[String],
    deflate: Option<&DeflateConfig>,
) -> Result<Option<Agreed>, String> {
    let agreed = match deflate {
        Some(deflate) => deflate
            .check_answer(headers)
            .map_err(|why| format!("the server's Sec-WebSocket-Extensions: {why}"))?,
        None => {
            if let Some(extensions) = headers.get(SEC_WEBSOCKET_EXTENSIONS) {
                return Err(format!(
                    "the server selected extensions {extensions:?}, which were not offered"
                ));
            }
            None
        }
    };
    check_protocol(headers, offered)?;
    Ok(agreed)
}

fn check_protocol(headers: &HeaderMap, offered: &[String]) -> Result<(), String> {
    if headers.get_all(SEC_WEBSOCKET_PROTOCOL).iter().count() > 1 {
        return Err("the server picked more than one subprotocol".into());
    }
    match headers.get(SEC_WEBSOCKET_PROTOCOL).map(|v| v.to_str()) {
        None if offered.is_empty() => Ok(()),
        None => Err(format!(
            "the server picked none of the subprotocols {offered:?}"
        )),
        Some(Ok(picked)) if offered.iter().any(|p| p == picked) => Ok(()),
        Some(picked) => Err(format!(
            "the server picked subprotocol {picked:?}, not one of {offered:?}"
        )),
    }
}

/// Parses a ws:// or wss:// URL; anything else is an invalid-URL error.
fn parse_ws_url(url: &str) -> Result<Uri, Error> {
    let uri: Uri = url
        .parse()
        .map_err(|e| Error::invalid_url(format!("cannot parse {url:?}")).with_source(e))?;
    match uri.scheme_str() {
        Some("ws" | "wss") if uri.host().is_some() => Ok(uri),
        Some("ws" | "wss") => Err(Error::invalid_url("no host in the URL")),
        _ => Err(Error::invalid_url(format!(
            "a WebSocket URL starts with ws:// or wss://, not {:?}",
            crate::middleware::error::redact(url)
        ))),
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

/// The default rustls client config (platform roots, ALPN h2 then HTTP/1.1), built once
/// per process.
fn default_tls() -> Result<Arc<rustls::ClientConfig>, Error> {
    static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = DEFAULT.get() {
        return Ok(config.clone());
    }
    let config = Arc::new(with_h2(TlsOptions::default().build()?));
    Ok(DEFAULT.get_or_init(|| config).clone())
}

/// ALPN: h2 first, then HTTP/1.1.
fn with_h2(mut config: rustls::ClientConfig) -> rustls::ClientConfig {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// The HTTP/2 path's connect step ([`Connect::http2`]): TCP to the URL's host and port
/// (nodelay), then TLS for wss:// offering h2 and HTTP/1.1 by ALPN, within
/// `connect_timeout`. The HTTP/1.1 upgrade goes through the client instead.
pub(crate) async fn connect_socket(
    uri: &Uri,
    tls: Option<&TlsOptions>,
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
        Some(match tls {
            None => default_tls()?,
            Some(options) => Arc::new(with_h2(options.build()?)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A 101 with these headers; `accept: true` answers `KEY` correctly.
    fn switching(
        upgrade: Option<&str>,
        connection: Option<&str>,
        accept: bool,
        protocol: Option<&str>,
    ) -> Response<()> {
        let mut response = Response::builder().status(101);
        if let Some(v) = upgrade {
            response = response.header(UPGRADE, v);
        }
        if let Some(v) = connection {
            response = response.header(CONNECTION, v);
        }
        let answer = if accept {
            derive_accept_key(KEY.as_bytes())
        } else {
            derive_accept_key(b"another key")
        };
        response = response.header(SEC_WEBSOCKET_ACCEPT, answer);
        if let Some(v) = protocol {
            response = response.header(SEC_WEBSOCKET_PROTOCOL, v);
        }
        response.body(()).unwrap()
    }

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    #[test]
    fn the_101_is_checked_as_rfc_6455_says() {
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            bool,
            Option<&'a str>,
            &'a [&'a str],
            bool,
        );
        // (Upgrade, Connection, right accept, Sec-WebSocket-Protocol, offered, accepted)
        let cases: &[Case] = &[
            (Some("websocket"), Some("Upgrade"), true, None, &[], true),
            (
                Some("WebSocket"),
                Some("keep-alive, upgrade"),
                true,
                None,
                &[],
                true,
            ),
            (Some("h2c"), Some("Upgrade"), true, None, &[], false),
            (None, Some("Upgrade"), true, None, &[], false),
            (Some("websocket"), None, true, None, &[], false),
            (Some("websocket"), Some("close"), true, None, &[], false),
            (Some("websocket"), Some("Upgrade"), false, None, &[], false),
            (
                Some("websocket"),
                Some("Upgrade"),
                true,
                Some("v1"),
                &["v2", "v1"],
                true,
            ),
            (
                Some("websocket"),
                Some("Upgrade"),
                true,
                Some("v3"),
                &["v1"],
                false,
            ),
            (
                Some("websocket"),
                Some("Upgrade"),
                true,
                Some("v1"),
                &[],
                false,
            ),
            (
                Some("websocket"),
                Some("Upgrade"),
                true,
                None,
                &["v1"],
                false,
            ),
        ];
        for &(upgrade, connection, accept, protocol, offered, accepted) in cases {
            let response = switching(upgrade, connection, accept, protocol);
            let offered: Vec<String> = offered.iter().map(|p| p.to_string()).collect();
            let checked = check_accept(&response, KEY, &offered, None);
            let case = (upgrade, connection, accept, protocol, &offered);
            assert_eq!(checked.is_ok(), accepted, "case {case:?}: {checked:?}");
            if let Err(err) = checked {
                assert!(err.is_request(), "case {case:?}: {err:?}");
            }
        }
    }

    #[test]
    fn errors_name_the_ws_url_and_keep_their_kind() {
        let url = "ws://example.test/chat";
        let http = "http://example.test/chat".parse::<Uri>().unwrap();
        let response = Response::builder()
            .status(404)
            .body(Bytes::from_static(b"gone"))
            .unwrap();
        // (error from openraw, case, what its message must still say)
        let cases = [
            (
                Error::connect("refused").with_request(&Method::GET, &http),
                "connect",
                &["refused"][..],
            ),
            (
                Error::request(std::io::Error::other("reset"))
                    .with_message("the connection could not be taken over")
                    .with_request(&Method::GET, &http),
                "request with a message",
                &["taken over", "reset"][..],
            ),
            (
                Error::timeout(TimeoutKind::Connect).with_request(&Method::GET, &http),
                "timeout",
                &[][..],
            ),
            (
                Error::status_error(response).with_request(&Method::GET, &http),
                "status",
                &["refused"][..],
            ),
        ];
        for (err, case, parts) in cases {
            let kind = err.kind().clone();
            let err = for_ws_url(err.with_retries(2), url);
            assert_eq!(err.url(), Some(url), "case {case}");
            assert_eq!(err.kind(), &kind, "case {case}");
            assert_eq!(err.retries(), Some(2), "case {case}");
            // What an error reporter prints: the error, then its causes.
            let shown = err.report();
            assert!(!shown.contains("http://"), "case {case}: {shown}");
            // Nothing said twice, nothing lost.
            let kind_shown = Error::new(kind).to_string();
            assert_eq!(
                shown.matches(&kind_shown).count(),
                1,
                "case {case}: {shown}"
            );
            for part in parts {
                assert!(shown.contains(part), "case {case}: {part:?} in {shown}");
            }
        }
    }
}
