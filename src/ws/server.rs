//! The server side: [`upgrade`] (HTTP.jl `WebSockets.upgrade`) as a tower `Service`,
//! [`is_upgrade`] (`isupgrade`), and [`listen`] (`WebSockets.listen!`).
//!
//! [`Upgrade`] answers a handshake request itself — 101 with `Sec-WebSocket-Accept`
//! (RFC 6455 §4.2.2), or 200 to an HTTP/2 extended CONNECT (RFC 8441 §5) — and runs the
//! handler on the connection hyper hands over (`hyper::upgrade::on`), in a task of its
//! own. It works for any request body type, so the same service mounts in an httpstack
//! router, under `httpstack::serve`, or in an axum `Router` with `route_service`.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Future, Ready};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use tokio::net::ToSocketAddrs;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

use super::close::{self, GOING_AWAY, INTERNAL_ERROR};
use super::config::Limits;
use super::connection::{Connection, Role};
use super::deflate::{Agreed, Deflate, DeflateConfig};
use super::socket::Socket;
use super::websocket::{close_gracefully, Handshake, WebSocket};
use crate::server::Server;
use crate::{Body, CloseFrame, Error};

/// HTTP.jl `WebSockets.isupgrade`: whether `req` asks for a WebSocket — an HTTP/1.1 GET
/// with `Upgrade: websocket` and `Connection: upgrade` (RFC 6455 §4.1), or an HTTP/2
/// CONNECT with `:protocol websocket` (RFC 8441 §4).
pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    is_h1_upgrade(req) || is_h2_connect(req)
}

fn is_h1_upgrade<B>(req: &Request<B>) -> bool {
    req.method() == Method::GET
        && has_token(req.headers(), header::UPGRADE, "websocket")
        && has_token(req.headers(), header::CONNECTION, "upgrade")
}

fn is_h2_connect<B>(req: &Request<B>) -> bool {
    req.method() == Method::CONNECT
        && req
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"))
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(headers: &http::HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// HTTP.jl `WebSockets.upgrade(handler)`: a service that accepts WebSocket handshakes
/// and runs `handler` with each connection.
///
/// The handler gets the [`WebSocket`] and returns `Ok(())` or an error. When it is done,
/// a WebSocket it left open is closed with 1000 — or 1011 if it returned an error other
/// than a close.
///
/// The handshake is checked as RFC 6455 §4.2.1 says: a request that is not a handshake
/// (not a GET, HTTP/1.0, a body, no `Sec-WebSocket-Version`, a `Sec-WebSocket-Key`
/// that is not base64 of 16 bytes) gets 400, another protocol version 426. Browsers'
/// requests are held to the same origin by default (an `Origin` whose host and port
/// differ from `Host` gets 403; see [`Upgrade::allowed_origins`],
/// [`Upgrade::allow_any_origin`] and [`Upgrade::check_origin`]).
///
/// ```
/// use http::{Method, Request, Response};
/// use httpstack::{ws, Body, Router};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let chat = ws::upgrade(|mut ws: ws::WebSocket| async move {
///     while let Ok(message) = ws.receive().await {
///         ws.send(message).await?; // echo until the client closes
///     }
///     Ok(())
/// });
/// let mut router = Router::new();
/// router
///     .register(Method::GET, "/", |_req: Request<Body>| async { Response::new(Body::from("home")) })?
///     .register(Method::GET, "/chat", chat)?;
/// let server = httpstack::serve("127.0.0.1:0", router).await?;
///
/// let mut ws = ws::open(format!("ws://{}/chat", server.local_addr())).await?;
/// ws.send("hi").await?;
/// assert_eq!(ws.receive().await?.as_text(), Some("hi"));
/// ws.close(1000, "bye").await?;
/// assert_eq!(httpstack::get(format!("http://{}/", server.local_addr())).await?.text(), "home");
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub fn upgrade<H, Fut>(handler: H) -> Upgrade<H>
where
    H: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    Upgrade {
        handler,
        shared: Arc::new(Shared {
            origins: OriginPolicy::SameOrigin,
            protocols: Vec::new(),
            deflate: Some(DeflateConfig::default()),
            limits: Limits::default(),
            tasks: TaskTracker::new(),
            going_away: CancellationToken::new(),
            killed: CancellationToken::new(),
        }),
    }
}

/// The handler of [`echo`].
pub type EchoHandler = fn(WebSocket) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// An [`Upgrade`] that sends every message back as it came (text as text, binary as
/// binary) until the peer closes: a route to mount for tests and demos, e.g. a
/// browser page's WebSocket check.
pub fn echo() -> Upgrade<EchoHandler> {
    upgrade(|ws| Box::pin(echo_messages(ws)))
}

async fn echo_messages(mut ws: WebSocket) -> Result<(), Error> {
    loop {
        match ws.receive().await {
            Ok(message) => ws.send(message).await?,
            Err(err) if err.is_ok() => return Ok(()),
            Err(err) => return Err(err),
        }
    }
}

/// The WebSocket service made by [`upgrade`]; options are set on it before it is
/// mounted. Clones share their options and their connections.
pub struct Upgrade<H> {
    handler: H,
    shared: Arc<Shared>,
}

/// Which `Origin`s may open a WebSocket (a request without `Origin`, not from a
/// browser, always may).
#[derive(Clone)]
enum OriginPolicy {
    /// The origin's host and port are the request's `Host` (HTTP.jl 2.x's default).
    SameOrigin,
    /// Any origin.
    Any,
    /// These origins (compared without regard to case).
    List(Vec<HeaderValue>),
    /// The user's check.
    Check(Arc<OriginCheck>),
}

/// A custom origin check: the `Origin` value and the handshake request.
type OriginCheck = dyn Fn(&str, &Request<()>) -> bool + Send + Sync;

impl fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPolicy::SameOrigin => f.write_str("SameOrigin"),
            OriginPolicy::Any => f.write_str("Any"),
            OriginPolicy::List(list) => f.debug_tuple("List").field(list).finish(),
            OriginPolicy::Check(_) => f.write_str("Check(..)"),
        }
    }
}

impl OriginPolicy {
    fn allows(&self, request: &Request<()>) -> bool {
        let Some(origin) = request.headers().get(header::ORIGIN) else {
            return true;
        };
        match self {
            OriginPolicy::Any => true,
            OriginPolicy::List(allowed) => allowed
                .iter()
                .any(|a| a.as_bytes().eq_ignore_ascii_case(origin.as_bytes())),
            OriginPolicy::SameOrigin => origin
                .to_str()
                .is_ok_and(|origin| same_origin(origin, request)),
            OriginPolicy::Check(check) => origin.to_str().is_ok_and(|o| check(o, request)),
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host and port the request was
/// sent to: `Host` over HTTP/1.1, `:authority` over HTTP/2. A port left out is the
/// scheme's default (for `Host`, the origin's scheme: HTTP/1.1 does not say whether the
/// connection is TLS). `Origin: null` (an opaque origin) is never the same.
fn same_origin(origin: &str, request: &Request<()>) -> bool {
    let Ok(origin) = origin.parse::<http::Uri>() else {
        return false;
    };
    let (Some(scheme), Some(origin_host)) = (origin.scheme_str(), origin.host()) else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        _ => return false,
    };
    let host = match request.headers().get(header::HOST) {
        Some(host) => host
            .to_str()
            .ok()
            .and_then(|h| h.parse::<http::uri::Authority>().ok()),
        None => request.uri().authority().cloned(),
    };
    let Some(host) = host else {
        return false;
    };
    host.host().eq_ignore_ascii_case(origin_host)
        && host.port_u16().unwrap_or(default_port) == origin.port_u16().unwrap_or(default_port)
}

/// RFC 6455 §4.2.1: the key is base64 of 16 bytes — 21 characters, a 22nd that carries
/// two bits (its low four are zero), then `==`. Checked by hand: no base64 crate is a
/// dependency, and this is the whole of the rule.
fn is_valid_key(key: &[u8]) -> bool {
    let digit = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    key.len() == 24
        && key[..21].iter().all(digit)
        && matches!(key[21], b'A' | b'Q' | b'g' | b'w')
        && &key[22..] == b"=="
}

struct Shared {
    origins: OriginPolicy,
    protocols: Vec<String>,
    /// `None`: permessage-deflate is declined.
    deflate: Option<DeflateConfig>,
    limits: Limits,
    /// The connections' tasks.
    tasks: TaskTracker,
    /// Close every connection with 1001 (the server is going away).
    going_away: CancellationToken,
    /// Drop every connection now.
    killed: CancellationToken,
}

impl<H: Clone> Clone for Upgrade<H> {
    fn clone(&self) -> Self {
        Upgrade {
            handler: self.handler.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<H> fmt::Debug for Upgrade<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrade")
            .field("origins", &self.shared.origins)
            .field("protocols", &self.shared.protocols)
            .field("deflate", &self.shared.deflate)
            .field("limits", &self.shared.limits)
            .field("connections", &self.shared.tasks.len())
            .finish_non_exhaustive()
    }
}

impl<H> Upgrade<H> {
    fn options(&mut self) -> &mut Shared {
        if Arc::get_mut(&mut self.shared).is_none() {
            // Cloned before being configured: the clone keeps the old options.
            let old = &self.shared;
            self.shared = Arc::new(Shared {
                origins: old.origins.clone(),
                protocols: old.protocols.clone(),
                deflate: old.deflate.clone(),
                limits: old.limits,
                tasks: TaskTracker::new(),
                going_away: CancellationToken::new(),
                killed: CancellationToken::new(),
            });
        }
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared,
            None => unreachable!("a fresh Arc has one owner"),
        }
    }

    /// Accepts handshakes only from these origins (the `Origin` header, e.g.
    /// `https://example.com`, compared without regard to case); any other gets 403
    /// Forbidden. A request without `Origin` (not from a browser) is accepted.
    ///
    /// The default is same-origin, as HTTP.jl 2.x: an `Origin` whose host and port are
    /// not the request's `Host` gets 403 — a page on another site cannot open a
    /// WebSocket that the browser's cookies authenticate (cross-site WebSocket hijacking).
    ///
    /// ```
    /// # use httpstack::ws;
    /// let service = ws::echo().allowed_origins(["https://app.example", "https://admin.example"]);
    /// ```
    pub fn allowed_origins<I, O>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: AsRef<str>,
    {
        let origins = origins
            .into_iter()
            .filter_map(|o| HeaderValue::from_str(o.as_ref()).ok())
            .collect();
        self.options().origins = OriginPolicy::List(origins);
        self
    }

    /// Accepts handshakes from every origin: for a public socket that does not rely on
    /// cookies or other ambient credentials.
    ///
    /// ```
    /// # use httpstack::ws;
    /// let service = ws::echo().allow_any_origin();
    /// ```
    pub fn allow_any_origin(mut self) -> Self {
        self.options().origins = OriginPolicy::Any;
        self
    }

    /// Decides with `check(origin, request)` whether a handshake that carries an
    /// `Origin` header is accepted (`false`: 403). A request without `Origin` is accepted
    /// without asking.
    ///
    /// ```
    /// # use httpstack::ws;
    /// let service = ws::echo().check_origin(|origin, _request| {
    ///     origin.ends_with(".example.com") && origin.starts_with("https://")
    /// });
    /// ```
    pub fn check_origin<F>(mut self, check: F) -> Self
    where
        F: Fn(&str, &Request<()>) -> bool + Send + Sync + 'static,
    {
        self.options().origins = OriginPolicy::Check(Arc::new(check));
        self
    }

    /// Subprotocols this server speaks, most preferred first: the first the client
    /// offers (`Sec-WebSocket-Protocol`) in this order is picked. Default: none.
    pub fn protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.options()
            .protocols
            .extend(protocols.into_iter().map(Into::into));
        self
    }

    /// Whether permessage-deflate (RFC 7692) is accepted when a client offers it
    /// (default: on, with [`DeflateConfig::default`]). Off, every offer is declined and
    /// messages go uncompressed.
    pub fn permessage_deflate(mut self, on: bool) -> Self {
        self.options().deflate = on.then(DeflateConfig::default);
        self
    }

    /// Accepts permessage-deflate with these settings (context takeover, window bits,
    /// level); see [`DeflateConfig`].
    ///
    /// ```
    /// use httpstack::ws::{self, DeflateConfig};
    /// let service = ws::echo().deflate(DeflateConfig::default().server_no_context_takeover(true));
    /// ```
    pub fn deflate(mut self, config: DeflateConfig) -> Self {
        self.options().deflate = Some(config);
        self
    }

    /// The largest message accepted (default 16 MiB; `None`: no limit), counted after
    /// decompression as it inflates. A larger one closes the connection with 1009 and
    /// the handler's `receive` fails with that frame.
    pub fn max_message_size(mut self, bytes: Option<usize>) -> Self {
        self.options().limits.max_message_size = bytes;
        self
    }

    /// The largest frame accepted (default 16 MiB; `None`: no limit).
    pub fn max_frame_size(mut self, bytes: Option<usize>) -> Self {
        self.options().limits.max_frame_size = bytes;
        self
    }

    /// The longest wait for a frame in `receive` (a timeout error past it). Default: none.
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.options().limits.read_idle_timeout = Some(timeout);
        self
    }

    /// The longest a send may wait for the socket (a timeout error past it). Default: none.
    pub fn write_idle_timeout(mut self, timeout: Duration) -> Self {
        self.options().limits.write_idle_timeout = Some(timeout);
        self
    }

    /// How many WebSocket connections of this service are open.
    pub fn connections(&self) -> usize {
        self.shared.tasks.len()
    }

    /// [`listen`] with this service's settings: serves its handshakes on `addr`.
    ///
    /// ```
    /// # use httpstack::ws;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), httpstack::Error> {
    /// let server = ws::echo()
    ///     .permessage_deflate(false)
    ///     .max_message_size(Some(1 << 20))
    ///     .listen("127.0.0.1:0")
    ///     .await?;
    /// let mut ws = ws::open(format!("ws://{}/", server.server_addr())).await?;
    /// assert_eq!(ws.extensions(), None);
    /// # server.force_close(); Ok(()) }
    /// ```
    pub async fn listen<Fut>(self, addr: impl ToSocketAddrs) -> Result<WsServer, Error>
    where
        H: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        let shared = self.shared.clone();
        let server = crate::server::serve(addr, self).await?;
        Ok(WsServer { server, shared })
    }

    /// Closes every open connection with 1001 (going away) and waits for their
    /// handlers to end; later handshakes are still accepted.
    pub async fn close(&self) {
        self.shared.going_away.cancel();
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }

    /// Drops every open connection now, without a close frame (HTTP.jl `forceclose`).
    pub fn force_close(&self) {
        self.shared.killed.cancel();
    }

    /// The handshake answer, or the error response; the connection's task is started
    /// for an accepted handshake.
    fn answer<B, Fut>(&self, req: Request<B>) -> Response<Body>
    where
        H: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
        B: Send + 'static,
    {
        let h2 = is_h2_connect(&req);
        if !h2 && !is_h1_upgrade(&req) {
            return refuse(StatusCode::BAD_REQUEST, "expected a WebSocket handshake");
        }
        // The body is not read: a handshake has none (checked below), and over HTTP/2
        // the stream's data is the WebSocket's, reached through the upgrade.
        let (parts, _body) = req.into_parts();
        let mut request = Request::from_parts(parts, ());
        if let Some(refusal) = check_handshake(&request, h2) {
            return refusal;
        }
        if !self.shared.origins.allows(&request) {
            return refuse(StatusCode::FORBIDDEN, "origin not allowed");
        }
        let headers = request.headers();
        let mut response = Response::new(Body::empty());
        if h2 {
            *response.status_mut() = StatusCode::OK;
        } else {
            let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
                return refuse(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
            };
            let accept = derive_accept_key(key.as_bytes());
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            let out = response.headers_mut();
            out.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            out.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
            if let Ok(accept) = HeaderValue::try_from(accept) {
                out.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
            }
        }
        if let Some(protocol) = pick_protocol(&self.shared.protocols, headers) {
            response
                .headers_mut()
                .insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        let mut agreed = None;
        if let Some((answer, terms)) = self.shared.deflate.as_ref().and_then(|d| d.accept(headers))
        {
            if let Ok(answer) = HeaderValue::try_from(answer) {
                response
                    .headers_mut()
                    .insert(header::SEC_WEBSOCKET_EXTENSIONS, answer);
                agreed = Some(terms);
            }
        }
        let on_upgrade = hyper::upgrade::on(&mut request);
        let mut head = Response::new(());
        *head.status_mut() = response.status();
        *head.version_mut() = if h2 {
            Version::HTTP_2
        } else {
            Version::HTTP_11
        };
        *head.headers_mut() = response.headers().clone();
        let shared = self.shared.clone();
        let handler = self.handler.clone();
        self.shared.tasks.spawn(async move {
            let killed = shared.killed.clone();
            tokio::select! {
                () = run(on_upgrade, Handshake { request, response: head }, agreed, handler, &shared) => {}
                () = killed.cancelled() => {}
            }
        });
        response
    }
}

/// RFC 6455 §4.2.1 and §4.4 (RFC 8441 §5 for HTTP/2): the refusal a handshake request
/// gets, if any.
fn check_handshake(request: &Request<()>, h2: bool) -> Option<Response<Body>> {
    let headers = request.headers();
    if !h2 {
        // §4.1: "The method of the request MUST be GET, and the HTTP version MUST be at
        // least 1.1."
        if request.version() < Version::HTTP_11 {
            return Some(refuse(
                StatusCode::BAD_REQUEST,
                "a WebSocket handshake needs HTTP/1.1",
            ));
        }
        let has_body = headers.contains_key(header::TRANSFER_ENCODING)
            || headers
                .get_all(header::CONTENT_LENGTH)
                .iter()
                .any(|v| v.as_bytes() != b"0");
        if has_body {
            return Some(refuse(
                StatusCode::BAD_REQUEST,
                "a WebSocket handshake has no body",
            ));
        }
        let mut keys = headers.get_all(header::SEC_WEBSOCKET_KEY).iter();
        match (keys.next(), keys.next()) {
            (Some(key), None) if is_valid_key(key.as_bytes()) => {}
            (None, _) => return Some(refuse(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key")),
            _ => {
                return Some(refuse(
                    StatusCode::BAD_REQUEST,
                    "Sec-WebSocket-Key is not base64 of 16 bytes",
                ))
            }
        }
    }
    let mut versions = headers.get_all(header::SEC_WEBSOCKET_VERSION).iter();
    match (versions.next(), versions.next()) {
        (Some(v), None) if v.as_bytes() == b"13" => None,
        (None, _) => Some(refuse(
            StatusCode::BAD_REQUEST,
            "missing Sec-WebSocket-Version",
        )),
        _ => {
            // §4.4: 426 with the version we speak.
            let mut response = refuse(
                StatusCode::UPGRADE_REQUIRED,
                "unsupported Sec-WebSocket-Version",
            );
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            Some(response)
        }
    }
}

/// One connection: wait for hyper to hand it over, run the handler, close what it left.
async fn run<H, Fut>(
    on_upgrade: hyper::upgrade::OnUpgrade,
    handshake: Handshake,
    agreed: Option<Agreed>,
    handler: H,
    shared: &Shared,
) where
    H: Fn(WebSocket) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(err) => {
            tracing::debug!(error = %err, "WebSocket upgrade failed");
            return;
        }
    };
    let limits = shared.limits;
    let stream = Connection::new(
        Socket::from_upgraded(upgraded),
        Role::Server,
        &limits,
        agreed.map(Deflate::new),
        &[],
    );
    let (runner, handed_back) = oneshot::channel();
    let ws = WebSocket::new(stream, &limits, handshake, Some(runner));
    let going_away = shared.going_away.clone();
    let frame = tokio::select! {
        outcome = handler(ws) => match outcome {
            Ok(()) => CloseFrame::new(close::NORMAL, ""),
            Err(err) if err.is_websocket() => CloseFrame::new(close::NORMAL, ""),
            Err(err) => {
                tracing::debug!(error = %err, "WebSocket handler failed");
                CloseFrame::new(INTERNAL_ERROR, "Unexpected server websocket error")
            }
        },
        () = going_away.cancelled() => CloseFrame::new(GOING_AWAY, "server closing"),
    };
    if let Ok(stream) = handed_back.await {
        close_gracefully(stream, frame).await;
    }
}

fn refuse(status: StatusCode, why: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(why));
    *response.status_mut() = status;
    response
}

/// The first of ours (in our order) that the client offered.
fn pick_protocol(ours: &[String], headers: &http::HeaderMap) -> Option<HeaderValue> {
    if ours.is_empty() {
        return None;
    }
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    ours.iter()
        .find(|p| offered.iter().any(|o| o == p))
        .and_then(|p| HeaderValue::from_str(p).ok())
}

impl<H, Fut, B> Service<Request<B>> for Upgrade<H>
where
    H: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.answer(req)))
    }
}

/// HTTP.jl `WebSockets.listen!(handler, host, port)`: serves WebSocket handshakes on
/// `addr` (HTTP/1.1, and HTTP/2 extended CONNECT) and runs `handler` per connection.
/// For WebSocket settings use [`Upgrade::listen`]; for server options (TLS, timeouts,
/// ...) or other routes, mount [`upgrade`] in [`Server::bind`] instead.
///
/// ```
/// use httpstack::ws;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let server = ws::listen("127.0.0.1:0", |mut ws: ws::WebSocket| async move {
///     let name = ws.receive().await?;
///     ws.send(format!("hello {}", name.as_text().unwrap_or("stranger"))).await
/// })
/// .await?;
///
/// let mut ws = ws::open(format!("ws://{}/", server.server_addr())).await?;
/// ws.send("ada").await?;
/// assert_eq!(ws.receive().await?.as_text(), Some("hello ada"));
/// // The handler returned: the server closed the connection normally.
/// assert!(ws.receive().await.unwrap_err().is_ok());
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub async fn listen<H, Fut>(addr: impl ToSocketAddrs, handler: H) -> Result<WsServer, Error>
where
    H: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    upgrade(handler).listen(addr).await
}

/// A running [`listen`] server (HTTP.jl's `Server` from `WebSockets.listen!`).
#[derive(Clone)]
pub struct WsServer {
    server: Server,
    shared: Arc<Shared>,
}

impl fmt::Debug for WsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsServer")
            .field("server", &self.server)
            .field("connections", &self.shared.tasks.len())
            .finish()
    }
}

impl WsServer {
    /// HTTP.jl `WebSockets.server_addr`: `"host:port"`, ready for `ws://{}/path`.
    pub fn server_addr(&self) -> String {
        self.server.local_addr().to_string()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// How many WebSocket connections are open.
    pub fn connections(&self) -> usize {
        self.shared.tasks.len()
    }

    /// Stops accepting, closes every WebSocket with 1001 (going away), and waits until
    /// their handlers and the server have ended.
    pub async fn close(&self) {
        self.server.close().await;
        self.shared.going_away.cancel();
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }

    /// HTTP.jl `WebSockets.forceclose`: stops accepting and drops every connection,
    /// WebSockets included, at once.
    pub fn force_close(&self) {
        self.server.force_close();
        self.shared.killed.cancel();
    }

    /// Waits until the server has stopped (after [`close`](Self::close) or
    /// [`force_close`](Self::force_close)).
    pub async fn wait(&self) {
        self.server.wait().await;
    }

    /// The underlying HTTP server handle.
    pub fn server(&self) -> &Server {
        &self.server
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame sent in the same write as the handshake (hyper reads it with the
    /// request head, and hands it over with the connection) arrives first.
    #[tokio::test]
    async fn a_frame_right_behind_the_handshake_is_not_lost() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let server = listen("127.0.0.1:0", |mut ws: WebSocket| async move {
            let message = ws.receive().await?;
            ws.send(message).await
        })
        .await
        .expect("listen");
        let wait = Duration::from_secs(10);
        let mut tcp =
            tokio::time::timeout(wait, tokio::net::TcpStream::connect(server.local_addr()))
                .await
                .expect("connect in time")
                .expect("connect");
        let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            .to_vec();
        // A masked TEXT frame "hi" (a zero mask leaves the payload as is).
        bytes.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
        tcp.write_all(&bytes).await.expect("write");
        let mut got = Vec::new();
        let echo = [0x81, 0x02, b'h', b'i'];
        tokio::time::timeout(wait, async {
            let mut buf = [0u8; 512];
            while !got.windows(echo.len()).any(|w| w == echo) {
                let n = tcp.read(&mut buf).await.expect("read");
                assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&buf[..n]);
            }
        })
        .await
        .expect("echo in time");
        assert!(got.starts_with(b"HTTP/1.1 101"), "{got:?}");
    }

    #[test]
    fn recognises_handshakes() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case] = &[
            (
                "GET",
                &[("upgrade", "websocket"), ("connection", "Upgrade")],
                true,
            ),
            (
                "GET",
                &[
                    ("upgrade", "WebSocket"),
                    ("connection", "keep-alive, upgrade"),
                ],
                true,
            ),
            (
                "GET",
                &[("upgrade", "h2c"), ("connection", "upgrade")],
                false,
            ),
            ("GET", &[("upgrade", "websocket")], false),
            (
                "POST",
                &[("upgrade", "websocket"), ("connection", "upgrade")],
                false,
            ),
        ];
        for (method, headers, expected) in cases {
            let mut req = Request::builder().method(*method);
            for (name, value) in *headers {
                req = req.header(*name, *value);
            }
            let req = req.body(()).unwrap();
            assert_eq!(is_upgrade(&req), *expected, "case {method} {headers:?}");
        }
    }

    #[test]
    fn picks_our_first_offered_protocol() {
        let ours = vec!["b".to_string(), "a".to_string()];
        let cases: &[(&str, Option<&str>)] = &[("a, b", Some("b")), ("a", Some("a")), ("c", None)];
        for (offered, expected) in cases {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(offered),
            );
            let picked = pick_protocol(&ours, &headers);
            assert_eq!(
                picked.as_ref().and_then(|v| v.to_str().ok()),
                *expected,
                "case {offered}"
            );
        }
    }
}
