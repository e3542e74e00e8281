//! The connection boundary: hyper-util's pooled client over TCP and rustls.
//!
//! [`Connector`] adds what hyper-util's `HttpConnector` lacks: a connect timeout that
//! covers the TLS handshake too, and a real cap on open connections per host (a further
//! connection waits for a permit; the permit lives as long as the connection does).
//! [`Transport`] is the innermost service of the client stack; it turns hyper-util's
//! errors into [`Error`] kinds (connect, timeout, request).
//!
//! Proxies (see [`super::proxy`]): a [`Connector`] made [`Connector::via`] a proxy dials
//! the proxy instead of the target, then forwards (HTTP proxy, `http://` target: the
//! connection is marked proxied, so hyper-util writes absolute-form request targets),
//! tunnels with `CONNECT` (HTTP proxy, `https://` target) or with SOCKS5, and runs TLS to
//! the origin inside the tunnel. The connect timeout covers the whole of it. hyper-util's
//! pool is keyed by the target's scheme and authority only, so [`Transport`] keeps one
//! hyper-util client (one pool) per proxy, made on first use, next to the direct one.
//! Requests that ask for an upgrade (`openraw`) get their own clients the same way:
//! HTTP/1.1 only (an HTTP/2 connection cannot be taken over), and tunnelled through HTTP
//! proxies even for `http://` (RFC 6455 §4.1).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use super::proxy::{
    http_connect, socks5_connect, Proxy, ProxyConfig, ProxyError, ProxyKind, ProxyRules,
};
pub(crate) use crate::tls::{Certificate, ClientTls as TlsOptions};
use crate::{Body, BoxError, Delivery, Error, TimeoutKind};

/// Which HTTP versions the client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Protocol {
    /// HTTP/1.1 for http://; ALPN offering h2 then http/1.1 for https:// (`prefer_http2`).
    #[default]
    Auto,
    /// HTTP/1.1 only (`prefer_http2(false)` or `http1_only()`).
    Http1,
    /// HTTP/2 only: h2c by prior knowledge for http://, ALPN h2 for https://.
    Http2PriorKnowledge,
}

/// Connection settings of a client.
#[derive(Clone, Debug)]
pub(crate) struct ConnectOptions {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) local_addr: Option<IpAddr>,
    pub(crate) max_connections_per_host: Option<usize>,
    pub(crate) protocol: Protocol,
}

/// Makes connections: TCP, then TLS for https://, under the connect timeout and the
/// per-host cap.
///
/// One `Arc`: hyper-util builds a lazy connect future, holding a clone of the connector,
/// on every request (even when a pooled connection wins), so the clone must be cheap and
/// small (measured: the unshared connector cost ~4% of the client's CPU per request).
#[derive(Clone)]
pub(crate) struct Connector {
    inner: Arc<ConnectorInner>,
}

#[derive(Clone)]
struct ConnectorInner {
    /// `None` without TLS (no crypto provider): `http://` only.
    https: Option<HttpsConnector<HttpConnector>>,
    connect_timeout: Option<Duration>,
    limits: Option<Arc<HostLimits>>,
    /// For proxied connections: the TCP connector (to the proxy) and the TLS settings
    /// (to the origin, inside the tunnel) that `https` holds but does not lend out.
    http: HttpConnector,
    tls: Option<Arc<ClientConfig>>,
    proxy: Option<Proxy>,
    /// The client's TLS settings before any ALPN offer, to derive [`Connector::upgrades`].
    base_tls: Option<Arc<ClientConfig>>,
    /// Why there is no TLS (what an `https://` request fails with).
    no_tls: Option<Arc<str>>,
    /// Tunnel `http://` targets through an HTTP proxy too, instead of forwarding.
    tunnel_http: bool,
}

impl Connector {
    /// `tls`: the client's TLS config, or why there is none (no crypto provider compiled
    /// in or installed): then `http://` works and `https://` fails with that reason.
    pub(crate) fn new(options: &ConnectOptions, tls: Result<ClientConfig, Error>) -> Connector {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_local_address(options.local_addr);
        // The whole connect (TCP + TLS) is timed here, not by HttpConnector.
        http.set_connect_timeout(None);
        let (tls, no_tls) = match tls {
            Ok(tls) => (Some(tls), None),
            Err(err) => (None, Some(Arc::<str>::from(err.to_string()))),
        };
        let base_tls = tls.clone().map(Arc::new);
        // The same ALPN offer hyper-rustls makes, for TLS inside proxy tunnels.
        let tunnel_tls = tls.clone().map(|mut tunnel_tls| {
            tunnel_tls.alpn_protocols = match options.protocol {
                Protocol::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
                Protocol::Http1 => Vec::new(),
                Protocol::Http2PriorKnowledge => vec![b"h2".to_vec()],
            };
            Arc::new(tunnel_tls)
        });
        let https = tls.map(|tls| {
            let builder = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http();
            match options.protocol {
                Protocol::Auto => builder.enable_all_versions().wrap_connector(http.clone()),
                Protocol::Http1 => builder.enable_http1().wrap_connector(http.clone()),
                Protocol::Http2PriorKnowledge => {
                    builder.enable_http2().wrap_connector(http.clone())
                }
            }
        });
        Connector {
            inner: Arc::new(ConnectorInner {
                https,
                no_tls,
                connect_timeout: options.connect_timeout,
                limits: options
                    .max_connections_per_host
                    .map(|max| Arc::new(HostLimits::new(max))),
                http,
                tls: tunnel_tls,
                proxy: None,
                base_tls,
                tunnel_http: false,
            }),
        }
    }

    /// The same connector, making its connections through `proxy` (same timeout, TLS
    /// settings and per-host cap, which counts target hosts whatever the route).
    pub(crate) fn via(&self, proxy: Option<Proxy>) -> Connector {
        let mut inner = (*self.inner).clone();
        inner.proxy = proxy;
        Connector {
            inner: Arc::new(inner),
        }
    }

    /// The same connector for upgrades: only HTTP/1.1 offered by ALPN (an HTTP/2
    /// connection cannot be taken over), and through an HTTP proxy a `CONNECT` tunnel for
    /// `http://` targets too (RFC 6455 §4.1: a forwarding proxy drops the hop-by-hop
    /// `Upgrade` and `Connection` headers).
    pub(crate) fn upgrades(&self) -> Connector {
        let mut inner = (*self.inner).clone();
        inner.tunnel_http = true;
        if let Some(base_tls) = &inner.base_tls {
            inner.https = Some(
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config((**base_tls).clone())
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(inner.http.clone()),
            );
            let mut tunnel_tls = (**base_tls).clone();
            tunnel_tls.alpn_protocols = Vec::new();
            inner.tls = Some(Arc::new(tunnel_tls));
        }
        Connector {
            inner: Arc::new(inner),
        }
    }
}

/// Connects to `uri` through `proxy`: returns the stream and whether requests on it are
/// forwarded in absolute form (HTTP proxy, `http://` target).
async fn connect_via(
    inner: &ConnectorInner,
    proxy: &Proxy,
    uri: &Uri,
) -> Result<(Stream, bool), BoxError> {
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let host = uri
        .host()
        .ok_or_else(|| Error::invalid_url("the URL has no host"))?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = inner
        .http
        .clone()
        .call(proxy.dial_uri()?)
        .await
        .map_err(|e| ProxyError::new(proxy, format!("cannot connect: {}", chain_text(&e))))?;
    if proxy.kind() == ProxyKind::Http && !https && !inner.tunnel_http {
        return Ok((MaybeHttpsStream::Http(tcp), true));
    }
    let mut tcp = tcp.into_inner();
    match proxy.kind() {
        ProxyKind::Http => http_connect(&mut tcp, proxy, host, port).await?,
        ProxyKind::Socks5 { .. } => socks5_connect(&mut tcp, proxy, host, port).await?,
    }
    if !https {
        return Ok((MaybeHttpsStream::Http(TokioIo::new(tcp)), false));
    }
    let tls = inner.tls.clone().ok_or_else(|| no_tls(inner))?;
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
        .map_err(|e| {
            Error::invalid_url(format!("invalid TLS server name `{host}`")).with_source(e)
        })?
        .to_owned();
    let tls = tokio_rustls::TlsConnector::from(tls)
        .connect(name, TokioIo::new(TokioIo::new(tcp)))
        .await?;
    Ok((MaybeHttpsStream::from(tls), false))
}

/// The error of an `https://` connection without TLS.
fn no_tls(inner: &ConnectorInner) -> Error {
    Error::invalid_input(format!(
        "cannot connect over TLS: {}",
        inner.no_tls.as_deref().unwrap_or("TLS is not set up")
    ))
}

/// An error and its causes on one line (the proxy's message keeps the cause's text).
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    source_chain(err)
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    // Boxed: once per new connection, not per request.
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // HttpsConnector (over HttpConnector) is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let limits = self.inner.limits.clone();
        let timeout = self.inner.connect_timeout;
        let route = match (&self.inner.proxy, &self.inner.https) {
            (None, Some(https)) => Some(Either::Left(https.clone().call(uri.clone()))),
            (Some(proxy), _) => Some(Either::Right(proxy.clone())),
            (None, None) => None,
        };
        let inner = self.inner.clone();
        Box::pin(async move {
            // Waiting for a free slot is not connecting: the connect timeout starts after.
            let permit = match limits {
                Some(limits) => limits.acquire(&uri).await,
                None => None,
            };
            let connecting = async {
                match route {
                    Some(Either::Left(direct)) => Ok((direct.await?, false)),
                    Some(Either::Right(proxy)) => connect_via(&inner, &proxy, &uri).await,
                    None if uri.scheme() == Some(&http::uri::Scheme::HTTPS) => {
                        Err(no_tls(&inner).into())
                    }
                    None => Ok((
                        MaybeHttpsStream::Http(inner.http.clone().call(uri.clone()).await?),
                        false,
                    )),
                }
            };
            let (stream, forward) = match timeout {
                Some(t) => tokio::time::timeout(t, connecting)
                    .await
                    .map_err(|_| ConnectTimedOut(t))??,
                None => connecting.await?,
            };
            Ok(Conn {
                inner: stream,
                forward,
                _permit: permit,
            })
        })
    }
}

/// The connect timeout fired (found in the source chain to report a `TimeoutError`).
#[derive(Debug)]
struct ConnectTimedOut(Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no connection within {:?}", self.0)
    }
}

impl std::error::Error for ConnectTimedOut {}

/// One semaphore per scheme://host:port.
struct HostLimits {
    max: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    fn new(max: usize) -> HostLimits {
        HostLimits {
            max: max.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot for `uri`'s host. `None` only if the semaphore was closed,
    /// which this type never does.
    async fn acquire(&self, uri: &Uri) -> Option<OwnedSemaphorePermit> {
        let key = format!(
            "{}://{}:{}",
            uri.scheme_str().unwrap_or("http"),
            uri.host().unwrap_or(""),
            uri.port_u16().unwrap_or(0)
        );
        let semaphore = {
            let mut hosts = self
                .hosts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(self.max)))
                .clone()
        };
        semaphore.acquire_owned().await.ok()
    }
}

type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

/// A connection, holding its host's permit until it closes.
pub(crate) struct Conn {
    inner: Stream,
    /// To an HTTP proxy that forwards: hyper-util then writes absolute-form targets.
    forward: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let connected = self.inner.connected();
        if self.forward {
            connected.proxy(true)
        } else {
            connected
        }
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}

type LegacyClient = hyper_util::client::legacy::Client<Connector, Body>;

/// The innermost client service: sends a request on a pooled connection.
///
/// The client's stack is cloned per request (tower's `call` takes `&mut self`); behind one
/// `Arc` that clone is a single reference count instead of hyper-util's several, and
/// hyper-util's `request(&self)` makes its own copy anyway.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<TransportInner>,
}

/// How many other routes (proxies, HTTP/1.1-only) get a pool of their own; past that the
/// map is emptied (each dropped client's idle connections close; requests in flight
/// finish), so a stream of distinct per-request proxies cannot grow it without bound.
const MAX_ROUTES: usize = 16;

struct TransportInner {
    /// The direct route's client; replaced whole by `close_idle_connections`.
    direct: std::sync::RwLock<LegacyClient>,
    rules: ProxyRules,
    /// What other clients are built from: the direct one's settings and connector.
    builder: hyper_util::client::legacy::Builder,
    connector: Connector,
    /// Whether `direct` speaks only HTTP/1.1 already.
    http1_only: bool,
    /// The other routes: through a proxy, and/or HTTP/1.1 only (for upgrades).
    routes: Mutex<HashMap<(Option<Proxy>, bool), LegacyClient>>,
}

impl TransportInner {
    /// The client (and pool) for connections through `proxy`, with HTTP/1.1 only when
    /// `http1`, made on first use.
    fn client_for(&self, proxy: Option<&Proxy>, http1: bool) -> LegacyClient {
        let key = (proxy.cloned(), http1);
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = routes.get(&key) {
            return client.clone();
        }
        if routes.len() >= MAX_ROUTES {
            routes.clear();
        }
        let mut builder = self.builder.clone();
        // A forwarding proxy speaks HTTP/1.1 (no h2c by prior knowledge to it); https://
        // targets still negotiate h2 with the origin by ALPN in the tunnel.
        if http1 || proxy.is_some_and(Proxy::forwards_http) {
            builder.http2_only(false);
        }
        let connector = if http1 {
            self.connector.upgrades()
        } else {
            self.connector.clone()
        };
        let client = builder.build(connector.via(key.0.clone()));
        routes.insert(key, client.clone());
        client
    }
}

/// Request extension: this request asks for an upgrade (`openraw` inserts it), so it must
/// go out on an HTTP/1.1 connection, tunnelled through an HTTP proxy whatever the scheme
/// (see [`Connector::upgrades`]). It gets a pool of its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Http1Upgrade;

/// Pool settings of a client.
#[derive(Clone, Debug)]
pub(crate) struct PoolOptions {
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_idle_per_host: usize,
    pub(crate) title_case_headers: bool,
    /// HTTP/2 PING every this long; `None`: no keep-alive pings.
    pub(crate) h2_keep_alive: Option<Duration>,
    /// How long a PING may go unanswered before the connection is closed as dead.
    pub(crate) h2_keep_alive_timeout: Duration,
}

impl Transport {
    pub(crate) fn new(
        connector: Connector,
        protocol: Protocol,
        pool: &PoolOptions,
        rules: ProxyRules,
    ) -> Transport {
        let mut builder =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new());
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .pool_idle_timeout(pool.idle_timeout)
            .pool_max_idle_per_host(pool.max_idle_per_host)
            .http1_title_case_headers(pool.title_case_headers)
            .http2_only(protocol == Protocol::Http2PriorKnowledge)
            .http2_keep_alive_interval(pool.h2_keep_alive)
            .http2_keep_alive_timeout(pool.h2_keep_alive_timeout)
            .http2_keep_alive_while_idle(true);
        Transport {
            inner: Arc::new(TransportInner {
                direct: std::sync::RwLock::new(builder.build(connector.clone())),
                rules,
                builder,
                connector,
                http1_only: protocol == Protocol::Http1,
                routes: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl Transport {
    /// Closes every idle pooled connection: the pools are replaced by empty ones, so the
    /// old pools (and their idle connections) go when their last request in flight ends;
    /// those requests finish normally.
    pub(crate) fn close_idle_connections(&self) {
        let inner = &*self.inner;
        let fresh = inner.builder.build(inner.connector.clone());
        *inner
            .direct
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        inner
            .routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }
}

type DirectFuture = futures_util::future::MapErr<
    hyper_util::client::legacy::ResponseFuture,
    fn(hyper_util::client::legacy::Error) -> Error,
>;

/// The response future of [`Transport`]: direct requests stay unboxed; one on another
/// route is boxed (through a proxy it may be sent twice, see [`Transport::call`]).
pub(crate) enum TransportFuture {
    Direct(DirectFuture),
    Routed(Pin<Box<dyn Future<Output = Result<Response<Incoming>, Error>> + Send>>),
}

impl Future for TransportFuture {
    type Output = Result<Response<Incoming>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both variants are Unpin (hyper-util's future is a box itself).
        match self.get_mut() {
            TransportFuture::Direct(f) => Pin::new(f).poll(cx),
            TransportFuture::Routed(f) => f.as_mut().poll(cx),
        }
    }
}

/// A copy of `req` to send again, when its method is idempotent (RFC 9110 §9.2.2) and
/// its body can be replayed.
fn replayable(req: &Request<Body>) -> Option<Request<Body>> {
    if !req.method().is_idempotent() {
        return None;
    }
    let body = req.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}

/// The connection closed before the response began: the peer (a proxy) closed an idle
/// pooled connection while the request was being written.
fn closed_before_response(err: &hyper_util::client::legacy::Error) -> bool {
    source_chain(err).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
    })
}

impl Service<Request<Body>> for Transport {
    type Response = Response<Incoming>;
    type Error = Error;
    type Future = TransportFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        use futures_util::TryFutureExt;
        let inner = &*self.inner;
        let proxy = match req.extensions().get::<ProxyConfig>() {
            Some(config) => config.proxy(),
            None if inner.rules.is_none() => None,
            None => inner.rules.for_uri(req.uri()),
        };
        let http1 = !inner.http1_only && req.extensions().get::<Http1Upgrade>().is_some();
        let Some(proxy) = proxy.cloned() else {
            if !http1 {
                let direct = inner
                    .direct
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                return TransportFuture::Direct(
                    direct.request(req).map_err(transport_error as fn(_) -> _),
                );
            }
            return TransportFuture::Routed(Box::pin(
                inner
                    .client_for(None, true)
                    .request(req)
                    .map_err(transport_error),
            ));
        };
        // A forwarded request carries the proxy's credentials itself; a tunnelled one
        // (https://) never does: they went in the CONNECT, not to the origin.
        let forwarded = proxy.forwards_http()
            && req.uri().scheme() != Some(&http::uri::Scheme::HTTPS)
            && !http1;
        if forwarded {
            if let Some(auth) = proxy.authorization() {
                req.headers_mut()
                    .entry(http::header::PROXY_AUTHORIZATION)
                    .or_insert(auth);
            }
        }
        let client = inner.client_for(Some(&proxy), http1);
        // Some forwarding proxies (tinyproxy) close the client connection after every
        // response without saying `Connection: close`, so a pooled connection can die
        // under the next request. Like curl, which finds such a connection dead before
        // reusing it, an idempotent request with a replayable body is sent once more on a
        // new connection; anything else fails as a request error (RetryLayer's domain).
        let again = forwarded.then(|| replayable(&req)).flatten();
        TransportFuture::Routed(Box::pin(async move {
            match (client.request(req).await, again) {
                (Err(err), Some(again)) if closed_before_response(&err) => {
                    tracing::debug!(target: "httpstack::client", "the proxy closed the connection: sending again");
                    client.request(again).await.map_err(transport_error)
                }
                (result, _) => result.map_err(transport_error),
            }
        }))
    }
}

/// httpstack's [`Error`] from a hyper-util legacy client's error, classified as the
/// client's own transport does: HTTP.jl's exception kinds (connect, connect timeout,
/// request) and how far the exchange got ([`Delivery`]: an HTTP/2 stream refused or
/// drained by a graceful `GOAWAY` was never sent; a reset or closed connection was
/// aborted). The middleware layers read only these, so a bare hyper-util client under a
/// [`RetryLayer`](crate::middleware::retry::RetryLayer) follows every retry rule once its
/// errors go through this function:
///
/// ```
/// use httpstack::middleware::retry::RetryLayer;
/// use httpstack::Body;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower::ServiceBuilder;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bare = Client::builder(TokioExecutor::new()).build_http::<Body>();
/// let client = ServiceBuilder::new()
///     .layer(RetryLayer::new())
///     .map_err(httpstack::client::transport_error)
///     .service(bare);
/// # let _ = client;
/// # }
/// ```
pub fn transport_error(err: hyper_util::client::legacy::Error) -> Error {
    if err.is_connect() {
        let timed_out = source_chain(&err).any(|e| {
            e.is::<ConnectTimedOut>()
                || e.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        });
        if timed_out {
            return Error::timeout(TimeoutKind::Connect).with_source(err);
        }
        // A connection that could not even be tried (https:// without TLS, a bad TLS
        // server name) is the caller's to fix, not a connect failure to retry.
        let invalid = source_chain(&err)
            .filter_map(|e| e.downcast_ref::<Error>())
            .any(Error::is_invalid_input);
        if invalid {
            return Error::invalid_input("the connection could not be set up").with_source(err);
        }
        return Error::connect(err);
    }
    let delivery = delivery(&err);
    // An error of our own making (e.g. a request body's) passes through as it is.
    let own_kind = source_chain(&err)
        .find_map(|e| e.downcast_ref::<Error>())
        .map(|ours| ours.kind().clone())
        .filter(|kind| *kind != crate::ErrorKind::Request);
    let error = match own_kind {
        Some(kind) => Error::new(kind).with_source(err),
        None => Error::request(err),
    };
    match delivery {
        Some(delivery) => error.with_delivery(delivery),
        None => error,
    }
}

/// httpstack's [`Error`] from a failure reading a response body: an HTTP/2 stream the
/// peer reset (or a connection that broke) mid-body is marked aborted, as the transport
/// marks such failures on the response head.
pub(crate) fn body_error(err: BoxError) -> Error {
    let delivery = delivery(&*err);
    let error = Error::from_boxed(err);
    match delivery {
        Some(delivery) if error.delivery().is_none() => error.with_delivery(delivery),
        _ => error,
    }
}

/// How far an exchange that failed with HTTP/2 `err` got.
fn delivery(err: &(dyn std::error::Error + 'static)) -> Option<Delivery> {
    let h2 = source_chain(err).find_map(|e| e.downcast_ref::<h2::Error>())?;
    if h2.is_io() {
        return Some(Delivery::Aborted);
    }
    // RFC 9113 §8.7: a refused stream was not processed; a remote GOAWAY fails only the
    // streams above its last stream id, which the server did not process either, and
    // with NO_ERROR it is a graceful shutdown.
    let refused = h2.reason() == Some(h2::Reason::REFUSED_STREAM) && h2.is_remote();
    let drained = h2.is_go_away() && h2.is_remote() && h2.reason() == Some(h2::Reason::NO_ERROR);
    if refused || drained {
        Some(Delivery::NotSent)
    } else if h2.is_reset() && h2.is_remote() {
        Some(Delivery::Aborted)
    } else {
        None
    }
}

fn source_chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}
