//! `Client` and `ClientBuilder`: client-wide defaults and the tower stack they build.

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response};
use httpstack_middleware::decompression::{
    Decompression, DecompressionBody, DecompressionConfig, DecompressionLayer,
};
use httpstack_middleware::headers::{Headers, HeadersConfig, HeadersLayer};
use httpstack_middleware::status::{Status, StatusConfig, StatusLayer};
use httpstack_middleware::timeout::{Timeout, TimeoutBody, TimeoutConfig, TimeoutLayer};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt};

use super::open::OpenStream;
use super::request::RequestBuilder;
use super::transport::{
    Certificate, ConnectOptions, Connector, PoolOptions, Protocol, TlsOptions, Transport,
};
use crate::{Body, Error};

/// The User-Agent sent by default: `httpstack/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("httpstack/", env!("CARGO_PKG_VERSION"));

/// The client's whole stack behind one boxed service: boxed once here, at the boundary,
/// so `Client` is one type whatever layers it holds (DESIGN.md: the Client's erased stack).
/// `execute`, `open` and `download` use it.
pub(crate) type Stack = BoxCloneSyncService<Request<Body>, Response<Body>, Error>;

/// The same default stack, unboxed: `send` (every `.await` on a request) calls it
/// directly and reads its concrete body, which saves three allocations and the dynamic
/// calls per request (measured ~4% of the client's instructions).
pub(crate) type DefaultStack = Headers<Timeout<Status<Decompression<Transport>>>>;

/// The response body of [`DefaultStack`].
pub(crate) type DefaultBody = TimeoutBody<DecompressionBody<hyper::body::Incoming>>;

/// What every request of a client starts from; a request's own options override these.
#[derive(Clone, Debug)]
pub(crate) struct Defaults {
    pub(crate) headers: HeaderMap,
    pub(crate) header_config: HeadersConfig,
    pub(crate) timeouts: TimeoutConfig,
    pub(crate) status: StatusConfig,
    pub(crate) decompression: DecompressionConfig,
    pub(crate) detect_content_type: bool,
    pub(crate) verbose: u8,
}

/// An HTTP client: a connection pool and a tower stack of HTTP.jl's client layers.
///
/// Cheap to clone (one `Arc`); clones share the pool. Requests start with [`Client::get`]
/// and friends and are sent by `.await`ing the [`RequestBuilder`]. A `Client` is also a
/// `tower::Service<http::Request<Body>>`, so it can sit under other layers.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientRef>,
}

pub(crate) struct ClientRef {
    pub(crate) stack: Stack,
    pub(crate) default_stack: DefaultStack,
    pub(crate) defaults: Defaults,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("defaults", &self.inner.defaults)
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    /// A client with HTTP.jl's defaults.
    ///
    /// # Panics
    /// Only if the TLS library cannot be initialised at all (no cipher suites), which no
    /// input can cause; [`ClientBuilder::build`] returns that as an error instead.
    pub fn new() -> Client {
        match ClientBuilder::new().build() {
            Ok(client) => client,
            Err(err) => panic!("httpstack: cannot build the default client: {err}"),
        }
    }

    /// A builder for client-wide settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A request with any method (HTTP.jl `HTTP.request`).
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.as_ref())
    }

    /// A GET request.
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST request.
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A PUT request.
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A PATCH request.
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A DELETE request.
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A HEAD request.
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// An OPTIONS request.
    pub fn options(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::OPTIONS, url)
    }

    /// HTTP.jl `HTTP.open`: starts a request whose body the caller writes piece by piece
    /// and whose response it reads piece by piece. For headers or options, use
    /// `client.request(method, url).header(..).open()`.
    pub fn open(&self, method: Method, url: impl AsRef<str>) -> Result<OpenStream, Error> {
        self.request(method, url).open()
    }

    /// Sends a ready-made `http::Request` through the whole stack; the response body is
    /// left unread (a stream).
    pub async fn execute(&self, request: Request<Body>) -> Result<Response<Body>, Error> {
        let (method, uri) = (request.method().clone(), request.uri().clone());
        self.inner
            .stack
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| e.with_request(&method, &uri))
    }

    pub(crate) fn defaults(&self) -> &Defaults {
        &self.inner.defaults
    }
}

impl Service<Request<Body>> for Client {
    type Response = Response<Body>;
    type Error = Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let client = self.clone();
        Box::pin(async move { client.execute(request).await })
    }
}

/// Client-wide settings (HTTP.jl's keyword arguments and `Transport` options).
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    defaults: Defaults,
    connect: ConnectOptions,
    pool: PoolOptions,
    tls: TlsOptions,
    /// Proxy settings; their builder methods are in `proxy.rs`.
    pub(super) proxy: super::proxy::ProxyOptions,
    error: Option<Error>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// HTTP.jl's defaults: connect timeout 30 s, no read or total timeout,
    /// `status_exception`, basic auth from userinfo, decompression by Content-Encoding with a
    /// 64 MiB cap, User-Agent `httpstack/<version>`, HTTP/2 preferred over TLS.
    pub fn new() -> ClientBuilder {
        ClientBuilder {
            defaults: Defaults {
                headers: HeaderMap::new(),
                header_config: HeadersConfig {
                    user_agent: Some(HeaderValue::from_static(DEFAULT_USER_AGENT)),
                    basic_auth: true,
                },
                timeouts: TimeoutConfig::default(),
                status: StatusConfig::default(),
                decompression: DecompressionConfig::default(),
                detect_content_type: false,
                verbose: 0,
            },
            connect: ConnectOptions {
                connect_timeout: Some(Duration::from_secs(30)),
                local_addr: None,
                max_connections_per_host: None,
                protocol: Protocol::Auto,
            },
            pool: PoolOptions {
                idle_timeout: Some(Duration::from_secs(90)),
                max_idle_per_host: usize::MAX,
                title_case_headers: false,
            },
            tls: TlsOptions::default(),
            proxy: Default::default(),
            error: None,
        }
    }

    /// Sets the User-Agent sent when a request has none.
    pub fn user_agent(self, user_agent: &str) -> ClientBuilder {
        self.set_user_agent(Some(user_agent))
    }

    /// Sets the User-Agent, or with `None` sends none (HTTP.jl `setuseragent!`).
    pub fn set_user_agent(mut self, user_agent: Option<&str>) -> ClientBuilder {
        self.defaults.header_config.user_agent =
            match user_agent.map(HeaderValue::from_str).transpose() {
                Ok(value) => value,
                Err(e) => {
                    self.error
                        .get_or_insert(Error::invalid_input("invalid User-Agent").with_source(e));
                    None
                }
            };
        self
    }

    /// Adds a header every request carries unless it sets the same header itself.
    pub fn default_header<K, V>(mut self, name: K, value: V) -> ClientBuilder
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        match super::request::header_pair(name, value) {
            Ok((name, value)) => {
                self.defaults.headers.append(name, value);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Connect timeout (TCP and TLS); HTTP.jl's default is 30 s. `None` waits forever.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> ClientBuilder {
        self.connect.connect_timeout = timeout;
        self
    }

    /// Default read timeout: the longest wait for the response head or between body pieces.
    pub fn read_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.defaults.timeouts.read_timeout = Some(timeout);
        self
    }

    /// Default total timeout for a whole exchange, body included.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.defaults.timeouts.timeout = Some(timeout);
        self
    }

    /// HTTP.jl `status_exception` (default true): 4xx/5xx responses become `StatusError`s.
    pub fn status_exception(mut self, on: bool) -> ClientBuilder {
        self.defaults.status.status_exception = on;
        self
    }

    /// HTTP.jl `basicauth` (default true): credentials in the URL become basic auth.
    pub fn basic_auth(mut self, on: bool) -> ClientBuilder {
        self.defaults.header_config.basic_auth = on;
        self
    }

    /// HTTP.jl `decompress`: `None` by Content-Encoding, `Some(true)` always, `Some(false)` never.
    pub fn decompress(mut self, decompress: Option<bool>) -> ClientBuilder {
        self.defaults.decompression.decompress = decompress;
        self
    }

    /// The largest decompressed body accepted (default 64 MiB).
    pub fn max_decompressed_size(mut self, bytes: u64) -> ClientBuilder {
        self.defaults.decompression.max_size = bytes;
        self
    }

    /// HTTP.jl `detect_content_type`: sniff a Content-Type for byte bodies that have none.
    pub fn detect_content_type(mut self, on: bool) -> ClientBuilder {
        self.defaults.detect_content_type = on;
        self
    }

    /// HTTP.jl `canonicalize_headers`: write header names in Title-Case on the HTTP/1 wire.
    /// This is a connection setting, so it is client-wide only.
    pub fn canonicalize_headers(mut self, on: bool) -> ClientBuilder {
        self.pool.title_case_headers = on;
        self
    }

    /// HTTP.jl `verbose`: 1 logs each request and response line, 2 adds the headers,
    /// through `tracing` (target `httpstack::client`).
    pub fn verbose(mut self, level: u8) -> ClientBuilder {
        self.defaults.verbose = level;
        self
    }

    /// Trusts `cert` as a root, besides the platform's roots.
    pub fn add_root_certificate(mut self, cert: Certificate) -> ClientBuilder {
        self.tls.extra_roots.push(cert);
        self
    }

    /// Whether to trust the platform's root certificates (default true).
    pub fn platform_roots(mut self, on: bool) -> ClientBuilder {
        self.tls.platform_roots = on;
        self
    }

    /// HTTP.jl `require_ssl_verification` (default true). `false` accepts any server
    /// certificate: for tests only.
    pub fn require_ssl_verification(mut self, on: bool) -> ClientBuilder {
        self.tls.verify = on;
        self
    }

    /// HTTP.jl `prefer_http2` (default true): offer h2 by ALPN on TLS connections.
    /// `false` speaks HTTP/1.1 only.
    pub fn prefer_http2(mut self, on: bool) -> ClientBuilder {
        self.connect.protocol = if on { Protocol::Auto } else { Protocol::Http1 };
        self
    }

    /// HTTP/1.1 only, on every connection.
    pub fn http1_only(mut self) -> ClientBuilder {
        self.connect.protocol = Protocol::Http1;
        self
    }

    /// HTTP/2 only: h2c by prior knowledge on http://, h2 by ALPN on https://.
    pub fn http2_prior_knowledge(mut self) -> ClientBuilder {
        self.connect.protocol = Protocol::Http2PriorKnowledge;
        self
    }

    /// How long an idle pooled connection is kept (default 90 s; `None`: forever).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> ClientBuilder {
        self.pool.idle_timeout = timeout;
        self
    }

    /// How many idle connections per host the pool keeps (default: no limit).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> ClientBuilder {
        self.pool.max_idle_per_host = max;
        self
    }

    /// A cap on open connections per host (scheme, host, port): a request that needs
    /// another connection past the cap waits until one closes or comes back to the pool.
    pub fn max_connections_per_host(mut self, max: usize) -> ClientBuilder {
        self.connect.max_connections_per_host = Some(max);
        self
    }

    /// The local address outgoing connections bind to.
    pub fn local_addr(mut self, addr: IpAddr) -> ClientBuilder {
        self.connect.local_addr = Some(addr);
        self
    }

    /// Builds the client; fails on an invalid setting (header, User-Agent, certificate).
    pub fn build(self) -> Result<Client, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let tls = super::transport::tls_config(&self.tls)?;
        let connector = Connector::new(&self.connect, tls);
        let proxies = self.proxy.resolve()?;
        let transport = Transport::new(connector, self.connect.protocol, &self.pool, proxies);
        let d = &self.defaults;
        // DESIGN.md's client stack, outermost first (redirect, cookies and retry come
        // with the client middleware).
        let default_stack: DefaultStack = ServiceBuilder::new()
            .layer(HeadersLayer::new().config(d.header_config.clone()))
            .layer(TimeoutLayer::new().config(d.timeouts))
            .layer(StatusLayer::new().status_exception(d.status.status_exception))
            .layer(
                DecompressionLayer::new()
                    .decompress(d.decompression.decompress)
                    .max_size(d.decompression.max_size),
            )
            .service(transport);
        let stack = ServiceBuilder::new()
            .map_response(|resp: Response<DefaultBody>| resp.map(Body::wrap))
            .service(default_stack.clone());
        Ok(Client {
            inner: Arc::new(ClientRef {
                stack: BoxCloneSyncService::new(stack),
                default_stack,
                defaults: self.defaults,
            }),
        })
    }
}
