//! `Client` and `ClientBuilder`: client-wide defaults and the tower stack they build.

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response};
#[cfg(feature = "cookies")]
use httpstack_middleware::cookies::{CookieConfig, CookieJar, CookieLayer, Cookies};
use httpstack_middleware::decompression::{
    Decompression, DecompressionBody, DecompressionConfig, DecompressionLayer,
};
use httpstack_middleware::headers::{Headers, HeadersConfig, HeadersLayer};
use httpstack_middleware::log_errors::{LogErrors, LogErrorsConfig, LogErrorsLayer};
use httpstack_middleware::redirect::{Redirect, RedirectConfig, RedirectLayer, RedirectMethod};
use httpstack_middleware::retry::{
    ExponentialBackOff, Retry, RetryBudget, RetryCheck, RetryConfig, RetryLayer,
};
use httpstack_middleware::status::{Status, StatusConfig, StatusLayer};
use httpstack_middleware::timeout::{
    DeadlineLayer, SetDeadline, Timeout, TimeoutBody, TimeoutConfig, TimeoutLayer,
};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

use super::layers::{boxed, ClientLayer, ClientService, UserLayer, UserLayers};
use super::open::OpenStream;
use super::proxy::Proxy;
use super::request::RequestBuilder;
use super::transport::{
    Certificate, ConnectOptions, Connector, PoolOptions, Protocol, TlsOptions, Transport,
};
use crate::{Body, Error};

/// The User-Agent sent by default: `httpstack/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("httpstack/", env!("CARGO_PKG_VERSION"));

/// The client's whole stack behind one boxed service: boxed once here, at the boundary,
/// so `Client` is one type whatever layers it holds (docs/design.md: the Client's erased stack).
/// `execute`, `open` and `download` use it.
pub(crate) type Stack = ClientService;

/// The same default stack, unboxed: `send` (every `.await` on a request) calls it
/// directly and reads its concrete body, which saves three allocations and the dynamic
/// calls per request (measured ~4% of the client's instructions).
pub(crate) type DefaultStack = SetDeadline<
    Redirect<Headers<CookieStage<Retry<LogErrors<Timeout<Status<Decompression<Transport>>>>>>>>,
>;

/// The cookie layer's place in [`DefaultStack`]: the layer with the `cookies` feature,
/// nothing without.
#[cfg(feature = "cookies")]
type CookieStage<S> = Cookies<S>;
#[cfg(not(feature = "cookies"))]
type CookieStage<S> = S;

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
    pub(crate) log_errors: LogErrorsConfig,
    pub(crate) retry: RetryConfig,
    pub(crate) retry_budget: Option<RetryBudget>,
    pub(crate) redirect: RedirectConfig,
    #[cfg(feature = "cookies")]
    pub(crate) cookies: CookieConfig,
    #[cfg(feature = "cookies")]
    pub(crate) cookie_jar: CookieJar,
}

/// An HTTP client: a connection pool and a tower stack of HTTP.jl's client layers.
///
/// Cheap to clone (one `Arc`); clones share the pool. Requests start with [`Client::get`]
/// and friends and are sent by `.await`ing the [`RequestBuilder`]. A `Client` is also a
/// `tower::Service<http::Request<Body>>`, so it can sit under other layers.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     match req.uri().query() {
/// #         Some(q) => http::Response::new(format!("hello {}", q.trim_start_matches("name="))),
/// #         None => http::Response::builder().status(404).body(String::new()).unwrap(),
/// #     }
/// # })).await?;
/// # let base = format!("http://127.0.0.1:{}", server.port());
/// use httpstack::Client;
///
/// let client = Client::new();
/// let resp = client.get(format!("{base}/greet")).query(&[("name", "ada")]).await?;
/// assert_eq!(resp.status(), 200);
/// assert_eq!(resp.text(), "hello ada");
///
/// // 4xx and 5xx answers are errors by default (HTTP.jl's `status_exception`).
/// let err = client.get(format!("{base}/missing")).await.unwrap_err();
/// assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
///
/// // Clones share one connection pool: hand them to tasks.
/// let other = client.clone();
/// let url = format!("{base}/greet?name=bob");
/// let resp = tokio::spawn(async move { other.get(url).await }).await.unwrap()?;
/// assert_eq!(resp.text(), "hello bob");
/// # server.close().await; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientRef>,
}

pub(crate) struct ClientRef {
    pub(crate) stack: Stack,
    /// The connection pools, for [`Client::close_idle_connections`].
    transport: Transport,
    /// The unboxed stack, when the client has only the built-in layers (no pushed layers,
    /// no `observe_layers`): `send` uses it.
    pub(crate) default_stack: Option<DefaultStack>,
    pub(crate) defaults: Defaults,
    /// What the client was built from, for [`Client::to_builder`].
    pub(crate) settings: ClientBuilder,
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

    /// HTTP.jl `closeall`: closes every idle pooled connection of this client (and its
    /// clones). Requests in flight finish normally; their connections close afterwards
    /// instead of going back to a pool. New requests open new connections.
    pub fn close_idle_connections(&self) {
        self.inner.transport.close_idle_connections();
    }

    /// The jar this client keeps its cookies in.
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(&self) -> &CookieJar {
        &self.inner.defaults.cookie_jar
    }

    /// A builder holding this client's settings and layers, to derive another client
    /// from it (HTTP.jl's `pushlayer!`/`poplayer!` on a copy rather than on a global
    /// stack). The derived client has its own connection pool.
    pub fn to_builder(&self) -> ClientBuilder {
        self.inner.settings.clone()
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
///
/// Start from [`Client::builder`], set what differs from HTTP.jl's defaults, then
/// [`build`](Self::build). Every request of the client starts from these settings; a
/// request's own options ([`RequestBuilder`]) override them for that request.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     let h = |name: &str| req.headers()[name].to_str().unwrap().to_owned();
/// #     let status = if req.uri().path() == "/missing" { 404 } else { 200 };
/// #     let body = format!("{} {}", h("user-agent"), h("accept"));
/// #     http::Response::builder().status(status).body(body).unwrap()
/// # })).await?;
/// # let base = format!("http://127.0.0.1:{}", server.port());
/// use std::time::Duration;
///
/// let client = httpstack::Client::builder()
///     .user_agent("my-app/1.0")
///     .default_header("accept", "application/json")
///     .connect_timeout(Duration::from_secs(5))
///     .timeout(Duration::from_secs(30))
///     .retries(2)
///     .redirect_limit(5)
///     .status_exception(false) // a 404 is a response, not an error
///     .build()?;
///
/// let resp = client.get(format!("{base}/whoami")).await?;
/// assert_eq!(resp.text(), "my-app/1.0 application/json");
/// assert_eq!(client.get(format!("{base}/missing")).await?.status(), 404);
/// # server.close().await; Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    defaults: Defaults,
    connect: ConnectOptions,
    pool: PoolOptions,
    tls: TlsOptions,
    pub(super) layers: UserLayers,
    pub(super) observe: bool,
    /// Proxy settings; their builder methods are in `proxy.rs`.
    pub(super) proxy: super::proxy::ProxyOptions,
    error: Option<Error>,
}

impl Clone for ClientBuilder {
    fn clone(&self) -> Self {
        ClientBuilder {
            defaults: self.defaults.clone(),
            connect: self.connect.clone(),
            pool: self.pool.clone(),
            tls: self.tls.clone(),
            layers: self.layers.clone(),
            observe: self.observe,
            proxy: self.proxy.clone(),
            // The error's source is not clonable; its message is what `build` reports.
            error: self
                .error
                .as_ref()
                .map(|e| Error::new(e.kind().clone()).with_message(e.to_string())),
        }
    }
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
                log_errors: LogErrorsConfig::default(),
                retry: RetryConfig::default(),
                retry_budget: Some(RetryBudget::default()),
                redirect: RedirectConfig::default(),
                #[cfg(feature = "cookies")]
                cookies: CookieConfig::Enabled(true),
                #[cfg(feature = "cookies")]
                cookie_jar: CookieJar::new(),
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
                h2_keep_alive: None,
                h2_keep_alive_timeout: Duration::from_secs(20),
            },
            tls: TlsOptions::default(),
            layers: UserLayers::default(),
            observe: false,
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
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> ClientBuilder {
        self.connect.connect_timeout = timeout.into();
        self
    }

    /// Default read timeout (HTTP.jl `readtimeout`), per attempt: the longest wait for the
    /// response head or between body pieces.
    pub fn read_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.defaults.timeouts.read_timeout = Some(timeout);
        self
    }

    /// Default total timeout: the deadline of the whole exchange, every retry, back-off
    /// sleep and redirect and the response body included. A retry whose back-off would end
    /// past it is not made (the last attempt's error is returned); an attempt still running
    /// at the deadline fails with a total [`Timeout`](crate::ErrorKind::Timeout) error.
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
    /// Takes `true`, `false` or `None`, as [`RequestBuilder::decompress`](super::RequestBuilder::decompress).
    pub fn decompress(mut self, decompress: impl Into<Option<bool>>) -> ClientBuilder {
        self.defaults.decompression.decompress = decompress.into();
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

    /// HTTP.jl `retry` (default true): retry idempotent requests (GET, HEAD, OPTIONS,
    /// TRACE, PUT, DELETE, or any carrying an `Idempotency-Key`) with replayable bodies on
    /// connection errors and on 403, 408, 409, 429 and 5xx.
    pub fn retry(mut self, on: bool) -> ClientBuilder {
        self.defaults.retry.retry = on;
        self
    }

    /// HTTP.jl `retries` (default 4): how many times a request is retried.
    pub fn retries(mut self, retries: usize) -> ClientBuilder {
        self.defaults.retry.retries = retries;
        self
    }

    /// HTTP.jl `retry_non_idempotent` (default false): retry POST and PATCH too.
    pub fn retry_non_idempotent(mut self, on: bool) -> ClientBuilder {
        self.defaults.retry.retry_non_idempotent = on;
        self
    }

    /// HTTP.jl `retry_delays`: the back-off between attempts.
    pub fn retry_delays(mut self, delays: ExponentialBackOff) -> ClientBuilder {
        self.defaults.retry.retry_delays = delays;
        self
    }

    /// HTTP.jl `retry_check`: called for a failed attempt the default rule would not
    /// retry; `true` retries it anyway.
    pub fn retry_check<F>(mut self, check: F) -> ClientBuilder
    where
        F: Fn(
                &httpstack_middleware::retry::RetryState,
                Option<&(dyn std::error::Error + 'static)>,
                &http::request::Parts,
                Option<&http::response::Parts>,
                Option<&bytes::Bytes>,
            ) -> bool
            + Send
            + Sync
            + 'static,
    {
        self.defaults.retry.retry_check = Some(Arc::new(check) as RetryCheck);
        self
    }

    /// The longest `Retry-After` (on 429 and 503) honoured before a retry (default 10 s).
    pub fn retry_after_max(mut self, max: Duration) -> ClientBuilder {
        self.defaults.retry.retry_after_max = max;
        self
    }

    /// The per-host retry budget, so a failing host is not hammered (default: tower's
    /// `TpsBudget` figures); `None` turns it off.
    pub fn retry_budget(mut self, budget: Option<RetryBudget>) -> ClientBuilder {
        self.defaults.retry_budget = budget;
        self
    }

    /// HTTP.jl `redirect` (default true): follow 301, 302, 303, 307 and 308.
    pub fn redirect(mut self, on: bool) -> ClientBuilder {
        self.defaults.redirect.redirect = on;
        self
    }

    /// HTTP.jl `redirect_limit` (default 3): more redirects are a TooManyRedirects error.
    pub fn redirect_limit(mut self, limit: usize) -> ClientBuilder {
        self.defaults.redirect.redirect_limit = limit;
        self
    }

    /// HTTP.jl `redirect_method`: by default 303 (and 301/302 except for HEAD) become GET
    /// and 307/308 keep the method; `RedirectMethod::Same` always keeps it, or name one.
    pub fn redirect_method(mut self, method: impl Into<RedirectMethod>) -> ClientBuilder {
        self.defaults.redirect.redirect_method = method.into();
        self
    }

    /// HTTP.jl `forward_headers` (default true): send the request's headers on each hop
    /// (credentials never cross to another origin).
    pub fn forward_headers(mut self, on: bool) -> ClientBuilder {
        self.defaults.redirect.forward_headers = on;
        self
    }

    /// Whether credentials that a redirect's `Location` carries as userinfo
    /// (`Location: http://user:pw@host/`) are sent as basic auth on that hop (default
    /// false: the server chose them, not the user, so the hop goes without them).
    pub fn redirect_location_credentials(mut self, on: bool) -> ClientBuilder {
        self.defaults.redirect.location_credentials = on;
        self
    }

    /// HTTP.jl `cookies` (default true): send the jar's cookies and store the
    /// `Set-Cookie`s of responses; `false` neither sends nor stores; a map of name →
    /// value sends those cookies on every request (never across origins on a redirect).
    #[cfg(feature = "cookies")]
    pub fn cookies(mut self, cookies: impl Into<CookieConfig>) -> ClientBuilder {
        self.defaults.cookies = cookies.into();
        self
    }

    /// HTTP.jl `cookiejar`: the jar this client keeps cookies in (default: its own; the
    /// default client behind `httpstack::get` uses [`global_cookie_jar`](crate::client::global_cookie_jar)).
    /// Share one jar between clients by passing clones.
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(mut self, jar: CookieJar) -> ClientBuilder {
        self.defaults.cookie_jar = jar;
        self
    }

    /// HTTP.jl `logerrors` (default false): log each failed attempt (StatusError,
    /// TimeoutError, RequestError, ConnectError) through `tracing` at error level as it
    /// happens, even when it is then retried.
    pub fn log_errors(mut self, on: bool) -> ClientBuilder {
        self.defaults.log_errors.log_errors = on;
        self
    }

    /// HTTP.jl `logtag`: a tag on every line `log_errors` writes.
    pub fn log_tag(mut self, tag: &str) -> ClientBuilder {
        self.defaults.log_errors.log_tag = Some(tag.into());
        self
    }

    /// Trusts `cert` as a root, besides the platform's roots.
    pub fn add_root_certificate(mut self, cert: Certificate) -> ClientBuilder {
        self.tls.extra_roots.push(cert);
        self
    }

    /// Mutual TLS: presents `identity` (a client certificate chain and its key) to
    /// servers that ask for one.
    pub fn identity(mut self, identity: super::Identity) -> ClientBuilder {
        self.tls.identity = Some(identity);
        self
    }

    /// Uses `config`, a whole rustls client configuration of your own (roots, verifier,
    /// client certificate, crypto provider), instead of the one built from this builder's
    /// TLS settings ([`add_root_certificate`](Self::add_root_certificate),
    /// [`platform_roots`](Self::platform_roots),
    /// [`require_ssl_verification`](Self::require_ssl_verification),
    /// [`identity`](Self::identity) then do nothing). Its ALPN list is replaced by the
    /// protocols this client speaks ([`prefer_http2`](Self::prefer_http2)).
    pub fn tls_config(mut self, config: impl Into<Arc<rustls::ClientConfig>>) -> ClientBuilder {
        self.tls.custom = Some(config.into());
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
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> ClientBuilder {
        self.pool.idle_timeout = timeout.into();
        self
    }

    /// HTTP/2 keep-alive: sends a PING on each HTTP/2 connection every `interval`, idle or
    /// not, and closes a connection whose PING goes unanswered for `timeout` (default: no
    /// pings). A dead connection (a peer or middlebox that vanished without closing) is
    /// then noticed: requests on it fail as transport errors, which the retry layer
    /// retries on a fresh connection, and the pool drops it. `None` turns pings off.
    pub fn http2_keep_alive(
        mut self,
        interval: Option<Duration>,
        timeout: Duration,
    ) -> ClientBuilder {
        self.pool.h2_keep_alive = interval;
        self.pool.h2_keep_alive_timeout = timeout;
        self
    }

    /// How many idle connections per host the pool keeps (default: no limit).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> ClientBuilder {
        self.pool.max_idle_per_host = max;
        self
    }

    /// A cap on open connections per host (scheme, host, port): a request that needs
    /// another connection past the cap waits until one closes or comes back to the pool.
    ///
    /// Default: no cap, as in reqwest, hyper-util and Go (`MaxConnsPerHost = 0`): HTTP/1.1
    /// opens one connection per request in flight, HTTP/2 shares one. HTTP.jl 1.x caps its
    /// default pool at 16 per host; `max_connections_per_host(16)` does the same here.
    pub fn max_connections_per_host(mut self, max: usize) -> ClientBuilder {
        self.connect.max_connections_per_host = Some(max);
        self
    }

    /// The local address outgoing connections bind to.
    pub fn local_addr(mut self, addr: IpAddr) -> ClientBuilder {
        self.connect.local_addr = Some(addr);
        self
    }

    // Proxies (the rules are in `proxy.rs`).

    /// HTTP.jl `proxy=`: sends every request of this client through the proxy at `url`
    /// (`http://[user:password@]host[:port]`, `socks5://`, `socks5h://`; see
    /// [`Proxy::new`]). The environment's variables are then not consulted, and
    /// `no_proxy` does not apply. A request can still choose otherwise
    /// (`RequestBuilder::proxy`, `RequestBuilder::no_proxy`). An invalid URL fails `build`.
    pub fn proxy(mut self, url: &str) -> ClientBuilder {
        self.proxy.explicit = Some(Proxy::new(url));
        self
    }

    /// Whether to read `http_proxy`, `https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY`
    /// and `no_proxy`/`NO_PROXY` when the client is built (default true, as in curl and
    /// reqwest). The uppercase `HTTP_PROXY` is ignored, as curl does; [`Proxy`] has the
    /// rules.
    pub fn proxy_from_env(mut self, on: bool) -> ClientBuilder {
        self.proxy.from_env = on;
        self
    }

    /// Whether the environment's proxies apply to loopback targets too (`localhost`,
    /// `*.localhost`, `127.0.0.0/8`, `::1`; default false, as in Go, Ruby and browsers: the
    /// proxy's loopback is not this machine's). curl sends them through the proxy unless
    /// `no_proxy` lists them. A proxy set with [`proxy`](Self::proxy) or on the request
    /// applies to loopback whatever this says.
    pub fn proxy_loopback(mut self, on: bool) -> ClientBuilder {
        self.proxy.env_loopback = on;
        self
    }

    /// No proxy at all: neither a configured one nor the environment's (a request can
    /// still name one with `RequestBuilder::proxy`).
    pub fn no_proxy(mut self) -> ClientBuilder {
        self.proxy.explicit = None;
        self.proxy.from_env = false;
        self
    }

    // The stack: HTTP.jl's `pushlayer!` and friends (see the stack order at `build`).

    /// HTTP.jl `pushlayer!`: adds `layer` outside every built-in request layer, so it runs
    /// first (each later `push_layer` runs before it). It sees the request as the user
    /// built it and the final response, after redirects and retries.
    pub fn push_layer<L: ClientLayer>(mut self, layer: L) -> ClientBuilder {
        self.layers.outer.push(UserLayer::new(layer));
        self
    }

    /// HTTP.jl `pushfirstlayer!`: adds `layer` inside every built-in request layer, just
    /// above the connection boundary, so it runs last among request layers and sees each
    /// attempt of a retried or redirected request.
    pub fn push_first_layer<L: ClientLayer>(mut self, layer: L) -> ClientBuilder {
        self.layers.first.push(UserLayer::new(layer));
        self
    }

    /// HTTP.jl `pushlayer!(layer; request=false)`: adds a stream layer below the
    /// connection boundary, above the timeout, status and decompression layers: it sees
    /// the raw response of each attempt.
    pub fn push_stream_layer<L: ClientLayer>(mut self, layer: L) -> ClientBuilder {
        self.layers.stream.push(UserLayer::new(layer));
        self
    }

    /// HTTP.jl `poplayer!`: removes the layer the last [`push_layer`](Self::push_layer)
    /// added (a no-op when there is none).
    pub fn pop_layer(mut self) -> ClientBuilder {
        self.layers.outer.pop();
        self
    }

    /// HTTP.jl `popfirstlayer!`: removes the layer the last
    /// [`push_first_layer`](Self::push_first_layer) added.
    pub fn pop_first_layer(mut self) -> ClientBuilder {
        self.layers.first.pop();
        self
    }

    /// HTTP.jl `poplayer!(; request=false)`: removes the layer the last
    /// [`push_stream_layer`](Self::push_stream_layer) added.
    pub fn pop_stream_layer(mut self) -> ClientBuilder {
        self.layers.stream.pop();
        self
    }

    /// HTTP.jl `observelayers` (default false): times every layer, built-in and pushed,
    /// and counts its calls, cumulative over retries and redirects; the figures are in the
    /// response's [`LayerTimings`](httpstack_middleware::observe::LayerTimings)
    /// (`response.layer_timings()`). Client-wide: it changes how the stack is built.
    pub fn observe_layers(mut self, on: bool) -> ClientBuilder {
        self.observe = on;
        self
    }

    /// Builds the client; fails on an invalid setting (header, User-Agent, certificate).
    pub fn build(self) -> Result<Client, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let settings = self.clone();
        // Without a crypto provider (and no config of the user's) the client still speaks
        // http://; https:// then fails with the provider's error. Any other TLS error
        // fails `build`.
        let tls = match crate::tls::provider() {
            Err(no_provider) if self.tls.custom.is_none() => Err(no_provider),
            _ => Ok(self.tls.build()?),
        };
        let connector = Connector::new(&self.connect, tls);
        let proxies = self.proxy.resolve()?;
        let transport = Transport::new(connector, self.connect.protocol, &self.pool, proxies);
        let pools = transport.clone();
        let d = &self.defaults;
        let deadline = DeadlineLayer::new().config(d.timeouts);
        let timeout = TimeoutLayer::new().config(d.timeouts);
        let status = StatusLayer::new().status_exception(d.status.status_exception);
        let decompression = DecompressionLayer::new()
            .decompress(d.decompression.decompress)
            .max_size(d.decompression.max_size);
        let log_errors = LogErrorsLayer::new().config(d.log_errors.clone());
        let retry = match d.retry_budget {
            Some(budget) => RetryLayer::from_config(d.retry.clone()).budget(budget),
            None => RetryLayer::from_config(d.retry.clone()).no_budget(),
        };
        let headers = HeadersLayer::new().config(d.header_config.clone());
        #[cfg(feature = "cookies")]
        let cookies = CookieLayer::new(d.cookie_jar.clone()).cookies(d.cookies.clone());
        #[cfg(not(feature = "cookies"))]
        let cookies = tower::layer::util::Identity::new();
        let redirect = RedirectLayer::new().config(d.redirect.clone());
        // The client's stack, innermost first: the one place its order is written (the
        // default stack's type, `DefaultStack`, spells the same order). `$wrap` puts a
        // built-in layer around the stack, `$user` the user's layers of one kind.
        macro_rules! client_stack {
            ($transport:expr, $wrap:ident, $user:ident) => {{
                let s = $transport;
                let s = $wrap!(s, decompression, "decompression");
                let s = $wrap!(s, status, "status");
                let s = $wrap!(s, timeout, "timeout");
                // --- the connection boundary: below it each attempt's raw response ---
                let s = $user!(s, apply_stream);
                let s = $user!(s, apply_first);
                let s = $wrap!(s, log_errors, "log_errors");
                let s = $wrap!(s, retry, "retry");
                let s = $wrap!(s, cookies, "cookies");
                let s = $wrap!(s, headers, "headers");
                let s = $wrap!(s, redirect, "redirect");
                let s = $user!(s, apply_outer);
                // The deadline covers the user's outer layers too: `timeout` is the whole call.
                $wrap!(s, deadline, "deadline")
            }};
        }
        macro_rules! unboxed {
            ($s:expr, $layer:ident, $name:literal) => {
                $layer.layer($s)
            };
        }
        let (stack, default_stack) = if self.layers.is_empty() && !self.observe {
            // Unboxed: `send` calls it directly.
            macro_rules! no_user_layers {
                ($s:expr, $apply:ident) => {
                    $s
                };
            }
            let default_stack: DefaultStack = client_stack!(transport, unboxed, no_user_layers);
            let stack = ServiceBuilder::new()
                .map_response(|resp: Response<DefaultBody>| resp.map(Body::wrap))
                .service(default_stack.clone());
            (ClientService::new(stack), Some(default_stack))
        } else if !self.observe {
            // The user's layers in their places: the stack is boxed where they go in (the
            // type they wrap) and once at the top, not once per built-in layer.
            let layers = &self.layers;
            macro_rules! boxed_at_user_layers {
                ($s:expr, $apply:ident) => {
                    layers.$apply(boxed($s, "", false), false)
                };
            }
            let stack = client_stack!(transport, unboxed, boxed_at_user_layers);
            (boxed(stack, "deadline", false), None)
        } else {
            // observe_layers: boxed between layers, each layer timed on its own.
            let (layers, observe) = (&self.layers, self.observe);
            macro_rules! boxed {
                ($s:expr, $layer:ident, $name:literal) => {
                    boxed($layer.layer($s), $name, observe)
                };
            }
            macro_rules! user_layers {
                ($s:expr, $apply:ident) => {
                    layers.$apply($s, observe)
                };
            }
            let transport = boxed(transport, "transport", observe);
            (client_stack!(transport, boxed, user_layers), None)
        };
        Ok(Client {
            inner: Arc::new(ClientRef {
                stack,
                transport: pools,
                default_stack,
                defaults: self.defaults,
                settings,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloned_builder_keeps_its_setting_errors() {
        // The source of an invalid setting's error is not clonable; the clone must still
        // fail to build, with the same kind and message.
        for builder in [
            ClientBuilder::new().default_header("bad name", "x"),
            ClientBuilder::new().proxy("ftp://nowhere:1"),
        ] {
            let cloned = builder.clone().build().unwrap_err();
            let original = builder.build().unwrap_err();
            assert!(cloned.is_invalid_input(), "{cloned}");
            assert_eq!(original.kind(), cloned.kind());
            assert!(
                cloned.to_string().contains(&original.to_string())
                    || original.to_string().contains(&cloned.to_string()),
                "{original} / {cloned}"
            );
        }
    }
}
