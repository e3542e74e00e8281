//! Proxies (HTTP.jl's `proxy=` keyword and its `http_proxy` / `https_proxy` / `no_proxy`
//! environment variables): the [`Proxy`] type (its docs hold the rules), the environment
//! and `no_proxy` rules, and the `CONNECT` and SOCKS5 handshakes.
//!
//! The handshakes are written here (a few dozen lines each) rather than taken from
//! hyper-util's `client-proxy` connectors: those report a refused `CONNECT` without its
//! status (only 407 is told apart), and its `NO_PROXY` matcher ignores ports and reads the
//! uppercase `HTTP_PROXY`, which curl refuses.

use std::fmt;
use std::net::IpAddr;

use http::header::HeaderValue;
use http::Uri;
use httpstack_middleware::headers::basic_auth_value;
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Error;

/// The port of a proxy URL that names none (curl's default).
const DEFAULT_PROXY_PORT: u16 = 1080;

/// Which protocol a proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ProxyKind {
    /// An HTTP proxy: forwarding for http://, CONNECT for https://.
    Http,
    /// SOCKS5; `remote_dns`: the proxy resolves the target's name (`socks5h://`).
    Socks5 { remote_dns: bool },
}

/// A proxy to send requests through (HTTP.jl's `proxy=` keyword and its `http_proxy` /
/// `https_proxy` / `no_proxy` environment variables), parsed from its URL.
///
/// The URL is `http://[user:password@]host[:port]` for an HTTP proxy,
/// `socks5://` (the client resolves the target's name) or `socks5h://` (the proxy does)
/// for SOCKS5. Without a scheme it is an HTTP proxy; without a port, port 1080 (curl's
/// rule). Through an HTTP proxy, an `http://` request is forwarded (absolute-form request
/// target, RFC 9112 §3.2.2) and an `https://` request goes through a `CONNECT` tunnel
/// (RFC 9110 §9.3.6) with TLS to the origin inside it (an upgrade, such as a WebSocket
/// handshake, always takes the tunnel, RFC 6455 §4.1); credentials in the proxy URL are
/// sent as `Proxy-Authorization: Basic` on forwarded requests and on the `CONNECT`.
/// Through SOCKS5 (RFC 1928, username/password auth per RFC 1929) every request is
/// tunnelled. A proxy that refuses (a `407`, any non-2xx `CONNECT` answer, a SOCKS
/// failure) is a connect error naming the proxy (without its credentials) and its answer.
/// A forwarding proxy's own answer to an `http://` request (a `407` too) is that
/// request's response, as in curl and reqwest (a status error under `status_exception`).
/// A forwarding proxy speaks HTTP/1.1: `http2_prior_knowledge` applies to `https://`
/// origins behind it (by ALPN in the tunnel), not to the proxy.
///
/// Which proxy a request uses, first match wins:
/// 1. the request's own [`RequestBuilder::proxy`] / [`RequestBuilder::no_proxy`]
///    (a [`ProxyConfig`] request extension);
/// 2. the client's [`ClientBuilder::proxy`], for every request;
/// 3. the environment, read once when the client is built (on by default, like curl and
///    reqwest; [`ClientBuilder::proxy_from_env`]`(false)` or [`ClientBuilder::no_proxy`]
///    turn it off), with curl's rules:
///    `http_proxy` for `http://` targets — lowercase only: curl ignores `HTTP_PROXY`
///    because a CGI server puts a request's `Proxy:` header into the environment as
///    `HTTP_PROXY` ("httpoxy"), and httpstack follows curl; `https_proxy` or `HTTPS_PROXY` for
///    `https://`; `all_proxy` or `ALL_PROXY` for both when the specific one is unset; and
///    `no_proxy` or `NO_PROXY` for the hosts that go direct. An empty variable counts as
///    unset. WebSocket URLs follow their HTTP twins (`ws` as `http`, `wss` as `https`).
///    Loopback targets (`localhost`, `127.0.0.0/8`, `::1`) go direct unless
///    [`ClientBuilder::proxy_loopback`] says otherwise (Go's rule; curl proxies them).
///
/// `no_proxy` is curl's list: entries separated by commas (spaces around them ignored);
/// `*` alone matches every host; a name matches itself and its subdomains (`example.com`,
/// `.example.com` and `*.example.com` all match `example.com` and `a.example.com`, not
/// `notexample.com`); an IP address matches that address literally (no DNS), a CIDR block
/// (`10.0.0.0/8`, `fd00::/8`) any address in it; names compare case-insensitively.
/// Beyond curl (as Go's `NO_PROXY` does), an entry may carry a port (`example.com:8080`,
/// `[::1]:8080`) and then matches that port only.
///
/// The client keeps one connection pool per proxy (a small map, created on first use):
/// the pool is keyed by the target's scheme and authority only, so connections made
/// through different proxies (or none) must never be handed out for each other.
///
/// ```no_run
/// # async fn run() -> Result<(), httpstack::Error> {
/// use httpstack::Client;
///
/// // Every request of this client through a proxy with basic auth...
/// let client = Client::builder().proxy("http://user:secret@proxy.internal:3128").build()?;
/// let resp = client.get("https://example.com/").await?;
/// // ...but this one directly, and this one through another proxy.
/// let resp = client.get("http://intranet.local/").no_proxy().await?;
/// let resp = client.get("http://example.com/").proxy("socks5h://127.0.0.1:1080").await?;
/// # Ok(()) }
/// ```
///
/// [`RequestBuilder::proxy`]: crate::client::RequestBuilder::proxy
/// [`RequestBuilder::no_proxy`]: crate::client::RequestBuilder::no_proxy
///
/// `Debug`, `Display` and [`Proxy::url`] never show the credentials.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    kind: ProxyKind,
    /// The host as in a URI authority (IPv6 in brackets), lowercase.
    host: String,
    port: u16,
    /// Percent-decoded user name and password from the URL's userinfo.
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// Parses a proxy URL: `http://`, `socks5://` or `socks5h://`, with optional
    /// `user:password@` (percent-encoded) and port (default 1080). A URL without a scheme
    /// is an HTTP proxy. `https://` proxies (TLS to the proxy itself) are not supported;
    /// nor is port 0.
    pub fn new(url: &str) -> Result<Proxy, Error> {
        let trimmed = url.trim();
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let shown = httpstack_middleware::error::redact(&with_scheme);
        let bad = |why: &str| Error::invalid_input(format!("invalid proxy URL `{shown}`: {why}"));
        let parsed = url::Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
        let kind = match parsed.scheme() {
            "http" => ProxyKind::Http,
            "socks5" => ProxyKind::Socks5 { remote_dns: false },
            "socks5h" => ProxyKind::Socks5 { remote_dns: true },
            "https" => {
                return Err(bad(
                    "https:// proxies (TLS to the proxy) are not supported; use http://",
                ))
            }
            other => return Err(bad(&format!("unsupported scheme `{other}`"))),
        };
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            _ => return Err(bad("no host")),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            return Err(bad("a proxy URL has no path or query"));
        }
        // `url` drops a port that is the scheme's default (`http://p:80`); `Uri` keeps it.
        let port = parsed
            .port()
            .or_else(|| with_scheme.parse::<Uri>().ok()?.port_u16())
            .unwrap_or(DEFAULT_PROXY_PORT);
        if port == 0 {
            return Err(bad("port 0 cannot be dialled"));
        }
        let credentials = if parsed.username().is_empty() && parsed.password().is_none() {
            None
        } else {
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            Some((
                decode(parsed.username()),
                decode(parsed.password().unwrap_or("")),
            ))
        };
        Ok(Proxy {
            kind,
            host,
            port,
            credentials,
        })
    }

    /// The proxy's URL without credentials, e.g. `http://127.0.0.1:3128`.
    pub fn url(&self) -> String {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 { remote_dns: false } => "socks5",
            ProxyKind::Socks5 { remote_dns: true } => "socks5h",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Whether the proxy URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    pub(crate) fn kind(&self) -> ProxyKind {
        self.kind
    }

    pub(crate) fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// `Proxy-Authorization: Basic ...` for an HTTP proxy with credentials (sensitive).
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        let (user, password) = self.credentials()?;
        // basic_auth_value percent-decodes; the stored credentials are decoded already.
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        basic_auth_value(&format!("{}:{}", encode(user), encode(password)))
    }

    /// The URI the TCP connector dials: the proxy's host and port.
    pub(crate) fn dial_uri(&self) -> Result<Uri, Error> {
        Uri::try_from(format!("http://{}:{}", self.host, self.port)).map_err(|e| {
            Error::invalid_input(format!("invalid proxy address {}", self.url())).with_source(e)
        })
    }

    /// Whether an `http://` request through this proxy is forwarded in absolute form
    /// (HTTP proxies) rather than tunnelled (SOCKS).
    pub(crate) fn forwards_http(&self) -> bool {
        self.kind == ProxyKind::Http
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.url())
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// Per-request proxy choice, as a request extension: overrides the client's proxies and
/// the environment for that request ([`RequestBuilder::proxy`],
/// [`RequestBuilder::no_proxy`]).
///
/// [`RequestBuilder::proxy`]: crate::client::RequestBuilder::proxy
/// [`RequestBuilder::no_proxy`]: crate::client::RequestBuilder::no_proxy
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyConfig {
    proxy: Option<Proxy>,
}

impl ProxyConfig {
    /// Send the request through `proxy`.
    pub fn via(proxy: Proxy) -> ProxyConfig {
        ProxyConfig { proxy: Some(proxy) }
    }

    /// Send the request directly, whatever the client or the environment say.
    pub fn direct() -> ProxyConfig {
        ProxyConfig { proxy: None }
    }

    /// The proxy, or `None` for a direct connection.
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }
}

/// One `no_proxy` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyEntry {
    /// `*`: every host.
    All,
    /// A name (lowercase, without leading dots): itself and its subdomains.
    Domain(String, Option<u16>),
    /// An address, or a CIDR block (`prefix` bits).
    Ip(IpAddr, u8, Option<u16>),
}

/// A parsed `no_proxy` list (curl's semantics; see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    entries: Vec<NoProxyEntry>,
}

impl NoProxy {
    /// Parses a `no_proxy` value. Entries that are not understood are skipped (curl does
    /// the same: they can never match).
    pub(crate) fn parse(list: &str) -> NoProxy {
        let entries = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .filter_map(parse_no_proxy_entry)
            .collect();
        NoProxy { entries }
    }

    /// Whether a request to `host` (as in a URI, IPv6 in brackets) on `port` goes direct.
    pub(crate) fn matches(&self, host: &str, port: u16) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let ip = bare.parse::<IpAddr>().ok();
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        self.entries.iter().any(|entry| match entry {
            NoProxyEntry::All => true,
            NoProxyEntry::Domain(name, p) => {
                port_ok(p)
                    && ip.is_none()
                    && (host == *name
                        || (host.len() > name.len()
                            && host.ends_with(name.as_str())
                            && host.as_bytes()[host.len() - name.len() - 1] == b'.'))
            }
            NoProxyEntry::Ip(net, prefix, p) => {
                port_ok(p) && ip.is_some_and(|ip| in_block(ip, *net, *prefix))
            }
        })
    }
}

fn parse_no_proxy_entry(entry: &str) -> Option<NoProxyEntry> {
    if entry == "*" {
        return Some(NoProxyEntry::All);
    }
    // A CIDR block: address/prefix.
    if let Some((addr, prefix)) = entry.split_once('/') {
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (prefix <= max).then_some(NoProxyEntry::Ip(ip, prefix, None));
    }
    // A bare IPv6 address (colons, no brackets) has no port.
    if let Ok(ip) = entry.parse::<IpAddr>() {
        let full = if ip.is_ipv4() { 32 } else { 128 };
        return Some(NoProxyEntry::Ip(ip, full, None));
    }
    let (host, port) = split_port(entry)?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        let full = if ip.is_ipv4() { 32 } else { 128 };
        return Some(NoProxyEntry::Ip(ip, full, port));
    }
    // `*.example.com` (Go, curl's docs' users) means what `.example.com` does.
    let name = host
        .strip_prefix('*')
        .unwrap_or(host)
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!name.is_empty()).then_some(NoProxyEntry::Domain(name, port))
}

/// `host[:port]`, `[v6][:port]`; `None` for a port that is not a number.
fn split_port(entry: &str) -> Option<(&str, Option<u16>)> {
    let colon = if entry.starts_with('[') {
        entry
            .find(']')
            .and_then(|end| entry[end + 1..].starts_with(':').then_some(end + 1))
    } else {
        entry.rfind(':')
    };
    match colon {
        Some(at) => Some((&entry[..at], Some(entry[at + 1..].parse().ok()?))),
        None => Some((entry, None)),
    }
}

fn in_block(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        // An IPv4-mapped IPv6 target against an IPv4 block, and the reverse.
        (IpAddr::V6(ip), IpAddr::V4(_)) => ip
            .to_ipv4_mapped()
            .is_some_and(|v4| in_block(IpAddr::V4(v4), net, prefix)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

/// The proxies the environment names, read once at client build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EnvProxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    no_proxy: NoProxy,
    /// Whether loopback targets go through them too (default false).
    loopback: bool,
}

impl EnvProxies {
    /// Reads the variables through `var` (the process environment, or a map in tests).
    /// A variable that does not parse as a proxy URL is ignored with a debug log, as curl
    /// ignores what it cannot use rather than failing every request.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> EnvProxies {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| var(name).filter(|v| !v.trim().is_empty()))
        };
        let proxy = |names: &[&str]| {
            let value = get(names)?;
            match Proxy::new(&value) {
                Ok(proxy) => Some(proxy),
                Err(err) => {
                    tracing::debug!(target: "httpstack::client", "ignoring proxy variable {}: {err}", names[0]);
                    None
                }
            }
        };
        let all = proxy(&["all_proxy", "ALL_PROXY"]);
        // curl: lowercase http_proxy only (see the module docs).
        let http = proxy(&["http_proxy"]).or_else(|| all.clone());
        let https = proxy(&["https_proxy", "HTTPS_PROXY"]).or(all);
        let no_proxy = get(&["no_proxy", "NO_PROXY"])
            .map(|list| NoProxy::parse(&list))
            .unwrap_or_default();
        EnvProxies {
            http,
            https,
            no_proxy,
            loopback: false,
        }
    }

    fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    fn for_uri(&self, uri: &Uri) -> Option<&Proxy> {
        let (proxy, default_port) = match uri.scheme_str() {
            Some("https") | Some("wss") => (self.https.as_ref()?, 443),
            _ => (self.http.as_ref()?, 80),
        };
        let host = uri.host().unwrap_or("");
        if !self.loopback && is_loopback(host) {
            return None;
        }
        let port = uri.port_u16().unwrap_or(default_port);
        (!self.no_proxy.matches(host, port)).then_some(proxy)
    }
}

/// Whether `host` (as in a URI, IPv6 in brackets) names this machine: `localhost` and
/// its subdomains (RFC 6761 §6.3), `127.0.0.0/8`, `::1` and `::ffff:127.0.0.0/104`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .get(host.len().saturating_sub(10)..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(".localhost"))
        }
    }
}

/// A client's proxy settings, as resolved at build: an explicit proxy for everything, or
/// the environment's rules, or nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum ProxyRules {
    /// Every request directly (unless a request names a proxy).
    #[default]
    None,
    /// Every request through this proxy (`ClientBuilder::proxy`).
    All(Proxy),
    /// The environment's proxies and `no_proxy`.
    Env(EnvProxies),
}

impl ProxyRules {
    /// The proxy for a request to `uri` under these rules.
    pub(crate) fn for_uri(&self, uri: &Uri) -> Option<&Proxy> {
        match self {
            ProxyRules::None => None,
            ProxyRules::All(proxy) => Some(proxy),
            ProxyRules::Env(env) => env.for_uri(uri),
        }
    }

    /// Whether no request can go through a proxy unless it names one itself.
    pub(crate) fn is_none(&self) -> bool {
        matches!(self, ProxyRules::None)
    }
}

/// The proxy settings a [`ClientBuilder`] collects.
#[derive(Debug)]
pub(crate) struct ProxyOptions {
    pub(crate) explicit: Option<Result<Proxy, Error>>,
    pub(crate) from_env: bool,
    pub(crate) env_loopback: bool,
}

impl Clone for ProxyOptions {
    fn clone(&self) -> Self {
        ProxyOptions {
            // An invalid proxy URL's error is not clonable; its message is what `build`
            // reports.
            explicit: self.explicit.as_ref().map(|r| match r {
                Ok(proxy) => Ok(proxy.clone()),
                Err(e) => Err(Error::new(e.kind().clone()).with_message(e.to_string())),
            }),
            from_env: self.from_env,
            env_loopback: self.env_loopback,
        }
    }
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            explicit: None,
            from_env: true,
            env_loopback: false,
        }
    }
}

impl ProxyOptions {
    /// The rules to build the client with; reads the environment if asked to.
    pub(crate) fn resolve(self) -> Result<ProxyRules, Error> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    fn resolve_with(self, var: impl Fn(&str) -> Option<String>) -> Result<ProxyRules, Error> {
        match self.explicit {
            Some(proxy) => Ok(ProxyRules::All(proxy?)),
            None if self.from_env => {
                let env = EnvProxies {
                    loopback: self.env_loopback,
                    ..EnvProxies::from_vars(var)
                };
                Ok(if env.is_empty() {
                    ProxyRules::None
                } else {
                    ProxyRules::Env(env)
                })
            }
            None => Ok(ProxyRules::None),
        }
    }
}

/// A proxy refused or broke the handshake: the message names the proxy (without its
/// credentials), what was asked and what it answered.
#[derive(Debug)]
pub(crate) struct ProxyError {
    message: String,
    /// The proxy said no (a 4xx to `CONNECT`): as the source, it tells the retry layer
    /// to leave the attempt alone.
    refused: Option<httpstack_middleware::retry::Refused>,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.refused
            .as_ref()
            .map(|r| r as &(dyn std::error::Error + 'static))
    }
}

impl ProxyError {
    pub(crate) fn new(proxy: &Proxy, what: impl fmt::Display) -> ProxyError {
        ProxyError {
            message: format!("proxy {}: {what}", proxy.url()),
            refused: None,
        }
    }

    /// The proxy refused on purpose: not worth retrying.
    pub(crate) fn refused(proxy: &Proxy, what: impl fmt::Display) -> ProxyError {
        let error = ProxyError::new(proxy, what);
        ProxyError {
            refused: Some(httpstack_middleware::retry::Refused(error.message.clone())),
            ..error
        }
    }
}

/// The longest `CONNECT` response head accepted.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// RFC 9110 §9.3.6: asks an HTTP proxy for a tunnel to `host:port` on `io` (a fresh
/// connection to the proxy) and reads its answer; any 2xx opens the tunnel.
pub(crate) async fn http_connect<S>(
    io: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), ProxyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authority = format!("{host}:{port}");
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = proxy.authorization() {
        if let Ok(value) = auth.to_str() {
            head.push_str(&format!("Proxy-Authorization: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let io_failed =
        |e: std::io::Error| ProxyError::new(proxy, format!("CONNECT {authority} failed: {e}"));
    io.write_all(head.as_bytes()).await.map_err(io_failed)?;
    io.flush().await.map_err(io_failed)?;

    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let n = io.read(&mut chunk).await.map_err(io_failed)?;
        if n == 0 {
            return Err(ProxyError::new(
                proxy,
                format!("closed the connection without answering CONNECT {authority}"),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let code = response.code.unwrap_or(0);
                if (200..300).contains(&code) {
                    // Nothing may come before the client speaks (TLS's ClientHello):
                    // bytes here would be lost or misread.
                    if len != buf.len() {
                        return Err(ProxyError::new(
                            proxy,
                            format!("sent data after its answer to CONNECT {authority}"),
                        ));
                    }
                    return Ok(());
                }
                let reason = response.reason.unwrap_or("");
                let hint = match (code, proxy.has_credentials()) {
                    (407, false) => " (the proxy URL has no credentials)",
                    // tinyproxy answers a CONNECT with wrong credentials 401.
                    (401 | 407, true) => " (the proxy rejected the credentials)",
                    _ => "",
                };
                let what = format!("answered {code} {reason} to CONNECT {authority}{hint}");
                return Err(if (400..500).contains(&code) {
                    ProxyError::refused(proxy, what)
                } else {
                    ProxyError::new(proxy, what)
                });
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_CONNECT_RESPONSE => {}
            Ok(httparse::Status::Partial) => {
                return Err(ProxyError::new(
                    proxy,
                    format!(
                        "answer to CONNECT {authority} is longer than {MAX_CONNECT_RESPONSE} bytes"
                    ),
                ))
            }
            Err(e) => {
                return Err(ProxyError::new(
                    proxy,
                    format!("answered CONNECT {authority} with invalid HTTP: {e}"),
                ))
            }
        }
    }
}

/// RFC 1928 (with RFC 1929 username/password auth): asks a SOCKS5 proxy on `io` to
/// connect to `host:port`. `host` is as in a URI (IPv6 in brackets); with `socks5://`
/// a name is resolved here, with `socks5h://` the proxy resolves it.
pub(crate) async fn socks5_connect<S>(
    io: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), ProxyError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let target = format!("{host}:{port}");
    let fail = |what: String| ProxyError::new(proxy, format!("SOCKS5 connect to {target}: {what}"));
    // The proxy said no on purpose (credentials, its rules): not worth retrying.
    let refuse =
        |what: String| ProxyError::refused(proxy, format!("SOCKS5 connect to {target}: {what}"));
    let io_failed = |e: std::io::Error| fail(e.to_string());
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let remote_dns = matches!(proxy.kind(), ProxyKind::Socks5 { remote_dns: true });

    // The address, resolved first so a DNS failure is not blamed on the proxy.
    let mut request = vec![0x05, 0x01, 0x00];
    let ip = match bare.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) if remote_dns => None,
        Err(_) => {
            let mut addrs = tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| fail(format!("cannot resolve {bare}: {e}")))?;
            Some(
                addrs
                    .next()
                    .ok_or_else(|| fail(format!("{bare} has no address")))?
                    .ip(),
            )
        }
    };
    match ip {
        Some(IpAddr::V4(v4)) => {
            request.push(0x01);
            request.extend_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            request.push(0x04);
            request.extend_from_slice(&v6.octets());
        }
        None => {
            let len = u8::try_from(bare.len())
                .map_err(|_| fail("the host name is longer than 255 bytes".into()))?;
            request.push(0x03);
            request.push(len);
            request.extend_from_slice(bare.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());

    // RFC 1928 §3: offer "no auth", and username/password when we have credentials.
    let greeting: &[u8] = if proxy.has_credentials() {
        &[0x05, 0x02, 0x00, 0x02]
    } else {
        &[0x05, 0x01, 0x00]
    };
    io.write_all(greeting).await.map_err(io_failed)?;
    let mut choice = [0u8; 2];
    io.read_exact(&mut choice).await.map_err(io_failed)?;
    match choice {
        [0x05, 0x00] => {}
        [0x05, 0x02] => {
            let (user, password) = proxy.credentials().ok_or_else(|| {
                refuse("the proxy asks for a password; the proxy URL has none".into())
            })?;
            // RFC 1929 §2: each field is 1 to 255 bytes.
            let field = |s: &str| u8::try_from(s.len()).ok().filter(|n| *n > 0);
            let (Some(ulen), Some(plen)) = (field(user), field(password)) else {
                return Err(fail("user name and password must be 1 to 255 bytes".into()));
            };
            let mut auth = vec![0x01, ulen];
            auth.extend_from_slice(user.as_bytes());
            auth.push(plen);
            auth.extend_from_slice(password.as_bytes());
            io.write_all(&auth).await.map_err(io_failed)?;
            let mut status = [0u8; 2];
            io.read_exact(&mut status).await.map_err(io_failed)?;
            if status[1] != 0x00 {
                return Err(refuse("the proxy rejected the credentials".into()));
            }
        }
        [0x05, 0xff] => {
            return Err(refuse(if proxy.has_credentials() {
                "the proxy accepts none of our authentication methods".into()
            } else {
                "the proxy requires authentication (the proxy URL has no credentials)".into()
            }))
        }
        other => return Err(fail(format!("not a SOCKS5 answer: {other:02x?}"))),
    }

    io.write_all(&request).await.map_err(io_failed)?;
    io.flush().await.map_err(io_failed)?;
    // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT
    let mut reply = [0u8; 4];
    io.read_exact(&mut reply).await.map_err(io_failed)?;
    if reply[0] != 0x05 {
        return Err(fail(format!("not a SOCKS5 reply (version {})", reply[0])));
    }
    if reply[1] != 0x00 {
        let why = match reply[1] {
            0x01 => "general SOCKS server failure",
            0x02 => "connection not allowed by ruleset",
            0x03 => "network unreachable",
            0x04 => "host unreachable",
            0x05 => "connection refused",
            0x06 => "TTL expired",
            0x07 => "command not supported",
            0x08 => "address type not supported",
            _ => "unknown failure",
        };
        let what = format!("the proxy answered {} ({why})", reply[1]);
        // Not allowed by its rules, or a command or address it does not do: it will
        // answer the same again.
        return Err(if matches!(reply[1], 0x02 | 0x07 | 0x08) {
            refuse(what)
        } else {
            fail(what)
        });
    }
    let rest = match reply[3] {
        0x01 => 4 + 2,
        0x04 => 16 + 2,
        0x03 => {
            let mut len = [0u8; 1];
            io.read_exact(&mut len).await.map_err(io_failed)?;
            usize::from(len[0]) + 2
        }
        other => return Err(fail(format!("unknown address type {other} in the reply"))),
    };
    let mut bound = vec![0u8; rest];
    io.read_exact(&mut bound).await.map_err(io_failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn no_proxy_follows_curl() {
        // (no_proxy list, host, port, goes direct)
        const CASES: &[(&str, &str, u16, bool)] = &[
            ("", "example.com", 80, false),
            ("*", "example.com", 80, true),
            ("*", "10.1.2.3", 443, true),
            ("example.com", "example.com", 80, true),
            ("example.com", "www.example.com", 80, true),
            ("example.com", "a.b.example.com", 443, true),
            ("example.com", "notexample.com", 80, false),
            ("example.com", "example.com.evil.net", 80, false),
            (".example.com", "example.com", 80, true),
            (".example.com", "www.example.com", 80, true),
            ("EXAMPLE.com", "Www.Example.COM", 80, true),
            ("example.com.", "example.com", 80, true),
            ("example.com", "example.com.", 80, true),
            ("other.org, example.com", "www.example.com", 80, true),
            ("other.org,example.com", "example.net", 80, false),
            (" a.org ,  b.org ", "b.org", 80, true),
            ("localhost", "localhost", 8080, true),
            ("127.0.0.1", "127.0.0.1", 3000, true),
            ("127.0.0.1", "127.0.0.2", 3000, false),
            ("127.0.0.1", "localhost", 3000, false),
            ("10.0.0.0/8", "10.200.3.4", 80, true),
            ("10.0.0.0/8", "11.0.0.1", 80, false),
            ("192.168.1.0/24", "192.168.1.42", 80, true),
            ("192.168.1.0/24", "192.168.2.1", 80, false),
            ("0.0.0.0/0", "8.8.8.8", 80, true),
            ("::1", "[::1]", 80, true),
            ("[::1]", "[::1]", 80, true),
            ("fd00::/8", "[fd12::1]", 80, true),
            ("fd00::/8", "[fe80::1]", 80, false),
            ("10.0.0.0/8", "[::ffff:10.1.1.1]", 80, true),
            // A number is not a domain suffix of an address.
            ("0.0.1", "10.0.0.1", 80, false),
            // Ports (beyond curl, as Go does).
            ("example.com:8080", "example.com", 8080, true),
            ("example.com:8080", "example.com", 80, false),
            ("example.com:8080", "api.example.com", 8080, true),
            ("127.0.0.1:5000", "127.0.0.1", 5000, true),
            ("127.0.0.1:5000", "127.0.0.1", 5001, false),
            ("[::1]:5000", "[::1]", 5000, true),
            ("[::1]:5000", "[::1]", 80, false),
            // Unusable entries never match.
            ("example.com:http", "example.com", 80, false),
            ("10.0.0.0/33", "10.0.0.1", 80, false),
            // `*.example.com`, as Go and many users write it, is `.example.com`.
            ("*.example.com", "www.example.com", 80, true),
            ("*.example.com", "example.com", 80, true),
            ("*.example.com", "notexample.com", 80, false),
        ];
        for &(list, host, port, direct) in CASES {
            assert_eq!(
                NoProxy::parse(list).matches(host, port),
                direct,
                "no_proxy={list:?} host={host} port={port}"
            );
        }
    }

    #[test]
    fn proxy_urls_parse() {
        // (input, url shown, has credentials)
        const CASES: &[(&str, Option<(&str, bool)>)] = &[
            (
                "http://127.0.0.1:3128",
                Some(("http://127.0.0.1:3128", false)),
            ),
            ("127.0.0.1:3128", Some(("http://127.0.0.1:3128", false))),
            ("proxy.local", Some(("http://proxy.local:1080", false))),
            (
                "http://Proxy.Local:80/",
                Some(("http://proxy.local:80", false)),
            ),
            ("http://u:p@[::1]:8080", Some(("http://[::1]:8080", true))),
            ("http://u@h:1", Some(("http://h:1", true))),
            (
                "socks5://127.0.0.1:1080",
                Some(("socks5://127.0.0.1:1080", false)),
            ),
            (
                "socks5h://u:p@localhost",
                Some(("socks5h://localhost:1080", true)),
            ),
            ("https://proxy:443", None),
            ("ftp://proxy:21", None),
            ("http://", None),
            ("http://proxy:3128/path", None),
            ("http://proxy:notaport", None),
            ("http://proxy:0", None),
            ("socks5://127.0.0.1:0", None),
        ];
        for &(input, expected) in CASES {
            let got = Proxy::new(input).map(|p| (p.url(), p.has_credentials()));
            match expected {
                Some((url, creds)) => {
                    let got = got.unwrap_or_else(|e| panic!("{input}: {e}"));
                    assert_eq!(got, (url.to_owned(), creds), "{input}");
                }
                None => assert!(got.is_err(), "{input} should be rejected: {got:?}"),
            }
        }
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let proxy = Proxy::new("http://us%40er:p%3Ass@127.0.0.1:3128").unwrap();
        assert_eq!(proxy.credentials(), Some(("us@er", "p:ss")));
        let auth = proxy.authorization().unwrap();
        assert!(auth.is_sensitive());
        // base64("us@er:p:ss")
        assert_eq!(auth, "Basic dXNAZXI6cDpzcw==");
        assert!(!format!("{proxy:?} {proxy}").contains("p:ss"));
        let err = Proxy::new("https://user:secret@proxy:443").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    fn env(vars: &[(&str, &str)]) -> EnvProxies {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProxies::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn environment_follows_curl() {
        // (variables, target, proxy chosen)
        #[allow(clippy::type_complexity)]
        let cases: &[(&[(&str, &str)], &str, Option<&str>)] = &[
            (&[], "http://a.com/", None),
            (
                &[("http_proxy", "http://p:1")],
                "http://a.com/",
                Some("http://p:1"),
            ),
            (&[("http_proxy", "http://p:1")], "https://a.com/", None),
            // curl ignores the uppercase HTTP_PROXY (httpoxy).
            (&[("HTTP_PROXY", "http://p:1")], "http://a.com/", None),
            (
                &[("https_proxy", "http://p:2")],
                "https://a.com/",
                Some("http://p:2"),
            ),
            (
                &[("HTTPS_PROXY", "http://p:2")],
                "https://a.com/",
                Some("http://p:2"),
            ),
            (
                &[("HTTPS_PROXY", "http://p:2")],
                "wss://a.com/",
                Some("http://p:2"),
            ),
            (
                &[
                    ("https_proxy", "http://low:2"),
                    ("HTTPS_PROXY", "http://up:2"),
                ],
                "https://a.com/",
                Some("http://low:2"),
            ),
            (
                &[("all_proxy", "socks5://s:3")],
                "http://a.com/",
                Some("socks5://s:3"),
            ),
            (
                &[("ALL_PROXY", "socks5h://s:3")],
                "https://a.com/",
                Some("socks5h://s:3"),
            ),
            (
                &[("all_proxy", "http://all:3"), ("http_proxy", "http://p:1")],
                "http://a.com/",
                Some("http://p:1"),
            ),
            (
                &[("all_proxy", "http://all:3"), ("http_proxy", "http://p:1")],
                "https://a.com/",
                Some("http://all:3"),
            ),
            // Empty counts as unset; an unparsable value is ignored.
            (&[("http_proxy", "")], "http://a.com/", None),
            (
                &[("http_proxy", " "), ("all_proxy", "http://all:3")],
                "http://a.com/",
                Some("http://all:3"),
            ),
            (&[("http_proxy", "ftp://p:1")], "http://a.com/", None),
            (
                &[("http_proxy", "http://p:1"), ("no_proxy", "a.com")],
                "http://www.a.com/",
                None,
            ),
            (
                &[("http_proxy", "http://p:1"), ("NO_PROXY", "a.com")],
                "http://b.com/",
                Some("http://p:1"),
            ),
            (
                &[("https_proxy", "http://p:2"), ("NO_PROXY", "a.com:8443")],
                "https://a.com:8443/",
                None,
            ),
            (
                &[("https_proxy", "http://p:2"), ("NO_PROXY", "a.com:8443")],
                "https://a.com/",
                Some("http://p:2"),
            ),
            (
                &[("http_proxy", "http://p:1"), ("no_proxy", "a.com:80")],
                "http://a.com/",
                None,
            ),
            (
                &[
                    ("http_proxy", "http://p:1"),
                    ("no_proxy", ""),
                    ("NO_PROXY", "*"),
                ],
                "http://a.com/",
                None,
            ),
        ];
        for (vars, target, expected) in cases {
            let env = env(vars);
            let uri: Uri = target.parse().unwrap();
            let got = env.for_uri(&uri).map(Proxy::url);
            assert_eq!(got.as_deref(), *expected, "env={vars:?} target={target}");
        }
    }

    #[test]
    fn loopback_targets_skip_environment_proxies_unless_asked() {
        let vars = [("http_proxy", "http://p:1"), ("https_proxy", "http://p:2")];
        for (target, is_loopback) in [
            ("http://localhost:8080/", true),
            ("http://LOCALHOST./", true),
            ("http://api.localhost/", true),
            ("http://127.0.0.1/", true),
            ("https://127.9.9.9:8443/", true),
            ("http://[::1]:3000/", true),
            ("http://[::ffff:127.0.0.1]/", true),
            ("http://localhost.example.com/", false),
            ("http://notlocalhost/", false),
            ("http://10.0.0.1/", false),
        ] {
            let uri: Uri = target.parse().unwrap();
            let default = env(&vars);
            assert_eq!(default.for_uri(&uri).is_none(), is_loopback, "{target}");
            let asked = EnvProxies {
                loopback: true,
                ..env(&vars)
            };
            assert!(asked.for_uri(&uri).is_some(), "{target}");
        }
    }

    #[test]
    fn builder_options_resolve() {
        let vars = |name: &str| (name == "http_proxy").then(|| "http://envproxy:1".to_owned());
        let on = ProxyOptions::default().resolve_with(vars).unwrap();
        assert!(matches!(on, ProxyRules::Env(_)), "{on:?}");
        let off = ProxyOptions {
            explicit: None,
            from_env: false,
            env_loopback: false,
        };
        assert_eq!(off.resolve_with(vars).unwrap(), ProxyRules::None);
        let explicit = ProxyOptions {
            explicit: Some(Proxy::new("http://mine:2")),
            from_env: true,
            env_loopback: false,
        };
        let rules = explicit.resolve_with(vars).unwrap();
        let uri: Uri = "https://x/".parse().unwrap();
        assert_eq!(
            rules.for_uri(&uri).map(Proxy::url).as_deref(),
            Some("http://mine:2")
        );
        let bad = ProxyOptions {
            explicit: Some(Proxy::new("gopher://x")),
            from_env: true,
            env_loopback: false,
        };
        assert!(bad.resolve_with(vars).unwrap_err().is_invalid_input());
        let none = ProxyOptions::default().resolve_with(|_| None).unwrap();
        assert!(none.is_none());
    }
}
