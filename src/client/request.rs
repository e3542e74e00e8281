//! `RequestBuilder`: one request's URL, headers, body and options; `.await` sends it.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::header::{
    HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION,
};
use http::{Extensions, HeaderMap, Method, Request};
use http_body_util::BodyExt;
#[cfg(feature = "cookies")]
use httpstack_middleware::cookies::{CookieConfig, CookieJar};
use httpstack_middleware::decompression::DecompressionConfig;
use httpstack_middleware::headers::{basic_auth_value, HeadersConfig};
use httpstack_middleware::log_errors::LogErrorsConfig;
use httpstack_middleware::redirect::{RedirectConfig, RedirectMethod};
use httpstack_middleware::retry::{ExponentialBackOff, RetryCheck, RetryConfig, RetryState};
use httpstack_middleware::status::StatusConfig;
use httpstack_middleware::timeout::TimeoutConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::builder::{Client, Defaults};
use super::open::OpenStream;
use super::response::Response;
use super::target::Target;
#[cfg(feature = "multipart")]
use crate::multipart::{Batch, Form};
use crate::{Body, BoxError, Error};

/// A key–value pair for [`RequestBuilder::query`] and [`RequestBuilder::form`]: a tuple
/// `(k, v)` or a reference to one, so `&[("a", "1")]`, `vec![..]` and `&HashMap` all work.
pub trait KeyValue {
    /// The key and the value.
    fn key_value(&self) -> (&str, &str);
}

impl<K: AsRef<str>, V: AsRef<str>> KeyValue for (K, V) {
    fn key_value(&self) -> (&str, &str) {
        (self.0.as_ref(), self.1.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> KeyValue for &(K, V) {
    fn key_value(&self) -> (&str, &str) {
        (self.0.as_ref(), self.1.as_ref())
    }
}

/// A request being built. Await it to send it (`client.get(url).await?`); every option
/// here overrides the client's default for this request only.
///
/// Errors in the builder (a bad URL or header) are kept and returned when it is sent.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     let (parts, body) = req.into_parts();
/// #     let body = body.collect_bytes().await.unwrap_or_default();
/// #     let text = format!("{} {} {} {} {}", parts.method, parts.uri, parts.headers["x-request-id"].to_str().unwrap(),
/// #         parts.headers["content-type"].to_str().unwrap(), String::from_utf8_lossy(&body));
/// #     http::Response::builder().status(201).body(text).unwrap()
/// # })).await?;
/// # let base = format!("http://127.0.0.1:{}", server.port());
/// use std::time::Duration;
///
/// let resp = httpstack::post(format!("{base}/items"))
///     .query(&[("dry_run", "true")])
///     .header("x-request-id", "42")
///     .json(&serde_json::json!({ "name": "widget" }))
///     .timeout(Duration::from_secs(10))
///     .await?;
/// assert_eq!(resp.status(), 201);
/// assert_eq!(
///     resp.text(),
///     r#"POST /items?dry_run=true 42 application/json {"name":"widget"}"#
/// );
///
/// // `build` gives the `http::Request` without sending it.
/// let req = httpstack::get(format!("{base}/items")).header("x-request-id", "43").build()?;
/// assert_eq!(req.headers()["x-request-id"], "43");
/// # server.close().await; Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct RequestBuilder {
    client: Client,
    inner: Result<Pending, Error>,
}

struct Pending {
    method: Method,
    target: Target,
    headers: HeaderMap,
    body: Body,
    extensions: Extensions,
    header_config: Option<HeadersConfig>,
    timeouts: Option<TimeoutConfig>,
    decompression: Option<DecompressionConfig>,
    detect_content_type: Option<bool>,
    verbose: Option<u8>,
    /// `basic_auth_with`'s header: sent unless the request sets `Authorization` itself.
    basic_auth: Option<HeaderValue>,
}

impl std::fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Ok(p) => f
                .debug_struct("RequestBuilder")
                .field("method", &p.method)
                .field(
                    "url",
                    &httpstack_middleware::error::redact(&p.target.as_string()),
                )
                .finish_non_exhaustive(),
            Err(e) => f.debug_tuple("RequestBuilder").field(e).finish(),
        }
    }
}

pub(crate) fn header_pair<K, V>(name: K, value: V) -> Result<(HeaderName, HeaderValue), Error>
where
    HeaderName: TryFrom<K>,
    <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    HeaderValue: TryFrom<V>,
    <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
{
    let name = HeaderName::try_from(name)
        .map_err(|e| Error::invalid_input("invalid header name").with_source(e.into()))?;
    let mut value = HeaderValue::try_from(value).map_err(|e| {
        Error::invalid_input(format!("invalid value for header `{name}`")).with_source(e.into())
    })?;
    // Credentials print as "Sensitive" in verbose logs and Debug output.
    if matches!(name, AUTHORIZATION | PROXY_AUTHORIZATION | COOKIE) {
        value.set_sensitive(true);
    }
    Ok((name, value))
}

/// `Authorization` and `Proxy-Authorization`: a request carries one of each at most, so a
/// later value replaces an earlier one rather than adding a second.
fn is_single_credential(name: &HeaderName) -> bool {
    matches!(*name, AUTHORIZATION | PROXY_AUTHORIZATION)
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, url: &str) -> RequestBuilder {
        let inner = Target::parse(url)
            .map(|target| Pending {
                method: method.clone(),
                target,
                headers: HeaderMap::new(),
                body: Body::empty(),
                extensions: Extensions::new(),
                header_config: None,
                timeouts: None,
                decompression: None,
                detect_content_type: None,
                verbose: None,
                basic_auth: None,
            })
            .map_err(|e| e.with_url(&method, url));
        RequestBuilder { client, inner }
    }

    fn with(mut self, f: impl FnOnce(&mut Pending, &Client) -> Result<(), Error>) -> Self {
        if let Ok(pending) = &mut self.inner {
            if let Err(e) = f(pending, &self.client) {
                let e = e.with_url(&pending.method, &pending.target.as_string());
                self.inner = Err(e);
            }
        }
        self
    }

    /// Adds a header (a second call with the same name adds a second value, but for
    /// `Authorization` and `Proxy-Authorization`, which it replaces). A header with an
    /// empty value is not sent (curl's convention). CR, LF or NUL in a value is an error.
    /// An `Authorization` header set here wins over [`basic_auth_with`](Self::basic_auth_with)
    /// and URL userinfo, whatever the order of the calls.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let pair = header_pair(name, value);
        self.with(|p, _| {
            let (name, value) = pair?;
            if is_single_credential(&name) {
                p.headers.insert(name, value);
            } else {
                p.headers.append(name, value);
            }
            Ok(())
        })
    }

    /// Adds every header of `headers`.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.with(|p, _| {
            let mut last = None;
            for (name, value) in headers {
                if name.is_some() {
                    last = name;
                }
                if let Some(name) = &last {
                    if is_single_credential(name) {
                        p.headers.insert(name.clone(), value);
                    } else {
                        p.headers.append(name.clone(), value);
                    }
                }
            }
            Ok(())
        })
    }

    /// Appends query parameters after any already in the URL (HTTP.jl `query`). Takes
    /// pairs or a map. Keys and values are percent-encoded as HTTP.jl's `escapeuri` does:
    /// everything but `A–Z a–z 0–9 - . _ ~`, so a space is `%20` (a [`form`](Self::form)
    /// body writes it `+`).
    pub fn query<I>(self, pairs: I) -> Self
    where
        I: IntoIterator,
        I::Item: KeyValue,
    {
        self.with(|p, _| {
            let url = p.target.url_mut();
            let mut query = url.query().unwrap_or("").to_owned();
            for pair in pairs {
                let (k, v) = pair.key_value();
                if !query.is_empty() {
                    query.push('&');
                }
                query.push_str(&crate::uri::escape(k));
                query.push('=');
                query.push_str(&crate::uri::escape(v));
            }
            url.set_query(Some(&query));
            Ok(())
        })
    }

    /// The body, sent as is: bytes, a `String`, a `&'static str`, `Bytes`, or a [`Body`].
    pub fn body(self, body: impl Into<Body>) -> Self {
        let body = body.into();
        self.with(|p, _| {
            p.body = body;
            Ok(())
        })
    }

    /// An `application/x-www-form-urlencoded` body from pairs or a map (HTTP.jl's Dict body).
    pub fn form<I>(self, pairs: I) -> Self
    where
        I: IntoIterator,
        I::Item: KeyValue,
    {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for pair in pairs {
            let (k, v) = pair.key_value();
            serializer.append_pair(k, v);
        }
        let encoded = serializer.finish();
        self.with(|p, _| {
            p.headers
                .entry(CONTENT_TYPE)
                .or_insert(HeaderValue::from_static(
                    "application/x-www-form-urlencoded",
                ));
            p.body = Body::from(encoded);
            Ok(())
        })
    }

    /// A body streamed from any `AsyncRead` (a file, a pipe), never held whole in memory.
    /// Sent chunked unless a Content-Length header is set. Not replayable.
    pub fn body_reader<R: AsyncRead + Send + 'static>(self, reader: R) -> Self {
        self.body(Body::from_reader(reader))
    }

    /// A chunked body from an iterator: each item is sent as one chunk.
    pub fn body_chunks<I>(self, chunks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
        I::IntoIter: Send + 'static,
    {
        self.body(Body::from_chunks(chunks))
    }

    /// A chunked body from a `Stream`: each item is sent as one chunk; an `Err` item aborts
    /// the request with that error.
    pub fn body_stream<S, T, E>(self, stream: S) -> Self
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        self.body(Body::from_stream(stream))
    }

    /// A `multipart/form-data` body (HTTP.jl `Form`).
    #[cfg(feature = "multipart")]
    pub fn multipart(self, form: Form) -> Self {
        let content_type = form.content_type();
        let length = form.content_length();
        let body = form.into_body();
        self.with(|p, _| {
            let value = HeaderValue::from_str(&content_type)
                .map_err(|e| Error::invalid_input("invalid multipart boundary").with_source(e))?;
            p.headers.insert(CONTENT_TYPE, value);
            if let Some(length) = length {
                p.headers
                    .insert(http::header::CONTENT_LENGTH, HeaderValue::from(length));
            }
            p.body = body;
            Ok(())
        })
    }

    /// A `multipart/mixed` body (HTTP.jl `Batch`), with its Content-Type and
    /// Content-Length.
    #[cfg(feature = "multipart")]
    pub fn multipart_mixed(self, batch: Batch) -> Self {
        let content_type = batch.content_type();
        let length = batch.content_length();
        let body = batch.into_body();
        self.with(|p, _| {
            let value = HeaderValue::from_str(&content_type)
                .map_err(|e| Error::invalid_input("invalid multipart boundary").with_source(e))?;
            p.headers.insert(CONTENT_TYPE, value);
            p.headers
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(length));
            p.body = body;
            Ok(())
        })
    }

    /// A JSON body (`Content-Type: application/json`).
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        let encoded = serde_json::to_vec(value);
        self.with(|p, _| {
            let encoded = encoded.map_err(|e| {
                Error::invalid_input("cannot serialize the JSON body").with_source(e)
            })?;
            p.headers
                .entry(CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
            p.body = Body::from(encoded);
            Ok(())
        })
    }

    /// HTTP.jl `basicauth`: whether credentials in the URL become basic auth (default true).
    pub fn basic_auth(self, on: bool) -> Self {
        self.with(|p, c| {
            p.header_config
                .get_or_insert_with(|| c.defaults().header_config.clone())
                .basic_auth = on;
            Ok(())
        })
    }

    /// Explicit basic auth: `Authorization: Basic base64(user:password)`, unless the request
    /// sets an `Authorization` header itself (which wins, whatever the order of the calls);
    /// it wins over URL userinfo and a client default header.
    pub fn basic_auth_with(self, user: &str, password: &str) -> Self {
        let escape = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let value = basic_auth_value(&format!("{}:{}", escape(user), escape(password)));
        self.with(|p, _| {
            let value =
                value.ok_or_else(|| Error::invalid_input("invalid basic auth credentials"))?;
            p.basic_auth = Some(value);
            Ok(())
        })
    }

    /// Read timeout (HTTP.jl `readtimeout`), per attempt: the longest wait for the response
    /// head, then between body pieces.
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.with(|p, c| {
            p.timeouts.get_or_insert(c.defaults().timeouts).read_timeout = Some(timeout);
            Ok(())
        })
    }

    /// Total timeout: the deadline of the whole exchange, from when it is sent, every
    /// retry, back-off sleep and redirect and the response body included (see
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout)).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|p, c| {
            p.timeouts.get_or_insert(c.defaults().timeouts).timeout = Some(timeout);
            Ok(())
        })
    }

    /// HTTP.jl `status_exception` for this request.
    pub fn status_exception(self, on: bool) -> Self {
        self.with(|p, _| {
            p.extensions.insert(StatusConfig {
                status_exception: on,
            });
            Ok(())
        })
    }

    /// HTTP.jl `decompress` for this request: `true` always, `false` never, `None` by
    /// `Content-Encoding` (the default), as [`ClientBuilder::decompress`](super::ClientBuilder::decompress).
    pub fn decompress(self, decompress: impl Into<Option<bool>>) -> Self {
        let decompress = decompress.into();
        self.with(move |p, c| {
            p.decompression
                .get_or_insert(c.defaults().decompression)
                .decompress = decompress;
            Ok(())
        })
    }

    /// The cap on this response's decompressed size.
    pub fn max_decompressed_size(self, bytes: u64) -> Self {
        self.with(|p, c| {
            p.decompression
                .get_or_insert(c.defaults().decompression)
                .max_size = bytes;
            Ok(())
        })
    }

    /// HTTP.jl `detect_content_type` for this request.
    pub fn detect_content_type(self, on: bool) -> Self {
        self.with(|p, _| {
            p.detect_content_type = Some(on);
            Ok(())
        })
    }

    /// HTTP.jl `verbose` for this request (0, 1 or 2).
    pub fn verbose(self, level: u8) -> Self {
        self.with(|p, _| {
            p.verbose = Some(level);
            Ok(())
        })
    }

    /// HTTP.jl `logerrors` for this request: log each failed attempt as it happens.
    pub fn log_errors(self, on: bool) -> Self {
        self.with_config(
            |d| &d.log_errors,
            |c: &mut LogErrorsConfig| c.log_errors = on,
        )
    }

    /// HTTP.jl `logtag` for this request's `log_errors` lines.
    pub fn log_tag(self, tag: &str) -> Self {
        let tag: std::sync::Arc<str> = tag.into();
        self.with_config(
            |d| &d.log_errors,
            |c: &mut LogErrorsConfig| c.log_tag = Some(tag),
        )
    }

    /// HTTP.jl `retry` for this request.
    pub fn retry(self, on: bool) -> Self {
        self.with_config(|d| &d.retry, |c: &mut RetryConfig| c.retry = on)
    }

    /// HTTP.jl `retries` for this request.
    pub fn retries(self, retries: usize) -> Self {
        self.with_config(|d| &d.retry, |c: &mut RetryConfig| c.retries = retries)
    }

    /// HTTP.jl `retry_non_idempotent` for this request.
    pub fn retry_non_idempotent(self, on: bool) -> Self {
        self.with_config(
            |d| &d.retry,
            |c: &mut RetryConfig| {
                c.retry_non_idempotent = on;
            },
        )
    }

    /// HTTP.jl `retry_delays` for this request.
    pub fn retry_delays(self, delays: ExponentialBackOff) -> Self {
        self.with_config(|d| &d.retry, |c: &mut RetryConfig| c.retry_delays = delays)
    }

    /// HTTP.jl `retry_check` for this request: called for a failed attempt the default
    /// rule would not retry; `true` retries it anyway.
    pub fn retry_check<F>(self, check: F) -> Self
    where
        F: Fn(
                &RetryState,
                Option<&(dyn std::error::Error + 'static)>,
                &http::request::Parts,
                Option<&http::response::Parts>,
                Option<&Bytes>,
            ) -> bool
            + Send
            + Sync
            + 'static,
    {
        let check: RetryCheck = std::sync::Arc::new(check);
        self.with_config(
            |d| &d.retry,
            |c: &mut RetryConfig| c.retry_check = Some(check),
        )
    }

    /// HTTP.jl `redirect` for this request.
    pub fn redirect(self, on: bool) -> Self {
        self.with_config(|d| &d.redirect, |c: &mut RedirectConfig| c.redirect = on)
    }

    /// HTTP.jl `redirect_limit` for this request.
    pub fn redirect_limit(self, limit: usize) -> Self {
        self.with_config(
            |d| &d.redirect,
            |c: &mut RedirectConfig| {
                c.redirect_limit = limit;
            },
        )
    }

    /// HTTP.jl `redirect_method` for this request.
    pub fn redirect_method(self, method: impl Into<RedirectMethod>) -> Self {
        let method = method.into();
        self.with_config(
            |d| &d.redirect,
            |c: &mut RedirectConfig| {
                c.redirect_method = method;
            },
        )
    }

    /// HTTP.jl `forward_headers` for this request.
    pub fn forward_headers(self, on: bool) -> Self {
        self.with_config(
            |d| &d.redirect,
            |c: &mut RedirectConfig| {
                c.forward_headers = on;
            },
        )
    }

    /// For this request: send credentials a redirect's `Location` carries as userinfo
    /// (default false: they are dropped); see
    /// [`ClientBuilder::redirect_location_credentials`](crate::ClientBuilder::redirect_location_credentials).
    pub fn redirect_location_credentials(self, on: bool) -> Self {
        self.with_config(
            |d| &d.redirect,
            |c: &mut RedirectConfig| {
                c.location_credentials = on;
            },
        )
    }

    /// HTTP.jl `cookies` for this request: `false` sends and stores none; a map of name
    /// → value sends those (replacing the jar's cookies of the same names).
    #[cfg(feature = "cookies")]
    pub fn cookies(self, cookies: impl Into<CookieConfig>) -> Self {
        self.extension(cookies.into())
    }

    /// HTTP.jl `cookiejar` for this request: read and store cookies in `jar` instead of
    /// the client's.
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(self, jar: CookieJar) -> Self {
        self.extension(jar)
    }

    /// Changes one field of a layer's config for this request: the request's own copy if
    /// it has one, else the client's default (a request's config replaces the default
    /// whole, so it must start from it).
    fn with_config<T: Clone + Send + Sync + 'static>(
        self,
        default: impl FnOnce(&Defaults) -> &T,
        change: impl FnOnce(&mut T),
    ) -> Self {
        self.with(|p, client| {
            let mut config = match p.extensions.get::<T>() {
                Some(own) => own.clone(),
                None => default(client.defaults()).clone(),
            };
            change(&mut config);
            p.extensions.insert(config);
            Ok(())
        })
    }

    /// HTTP.jl `proxy=` for this request: sends it through the proxy at `url` (see
    /// [`Proxy::new`](super::Proxy::new)), whatever the client or the environment say.
    pub fn proxy(self, url: &str) -> Self {
        let proxy = super::Proxy::new(url);
        self.with(|p, _| {
            p.extensions.insert(super::ProxyConfig::via(proxy?));
            Ok(())
        })
    }

    /// Sends this request directly, whatever the client or the environment say.
    pub fn no_proxy(self) -> Self {
        self.extension(super::ProxyConfig::direct())
    }

    /// Inserts a typed request extension: how a custom layer gets its per-request option.
    pub fn extension<T: Clone + Send + Sync + 'static>(self, value: T) -> Self {
        self.with(|p, _| {
            p.extensions.insert(value);
            Ok(())
        })
    }

    /// Builds the `http::Request` this builder describes, with its options as request
    /// extensions (what the client's layers read) — for sending it some other way, e.g.
    /// through [`Client::execute`] or any tower service.
    pub fn build(self) -> Result<Request<Body>, Error> {
        self.prepare().map(|(_, request, _)| request)
    }

    /// The request, the client to send it with, and the `verbose` level.
    pub(crate) fn prepare(self) -> Result<(Client, Request<Body>, u8), Error> {
        let client = self.client;
        let mut p = self.inner?;
        let defaults = client.defaults();
        // One Authorization header: an explicit header wins over `basic_auth_with`, which
        // wins over a client default header and over URL userinfo (HeadersLayer).
        if let Some(value) = p.basic_auth.take() {
            if !p.headers.contains_key(AUTHORIZATION) {
                p.headers.insert(AUTHORIZATION, value);
            }
        }
        for (name, value) in &defaults.headers {
            if !p.headers.contains_key(name) {
                p.headers.append(name.clone(), value.clone());
            }
        }
        // Credentials print as "Sensitive" in verbose logs and Debug output, however they
        // were added (`headers(map)` takes values as they are).
        for name in [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE] {
            super::target::mark_sensitive(&mut p.headers, name);
        }
        if p.detect_content_type
            .unwrap_or(defaults.detect_content_type)
            && !p.headers.contains_key(CONTENT_TYPE)
        {
            if let Some(bytes) = p.body.as_bytes().filter(|b| !b.is_empty()) {
                p.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(crate::messages::sniff(bytes)),
                );
            }
        }
        if let Some(c) = p.header_config {
            p.extensions.insert(c);
        }
        if let Some(c) = p.timeouts {
            p.extensions.insert(c);
        }
        if let Some(c) = p.decompression {
            p.extensions.insert(c);
        }
        let uri = p.target.into_uri(&p.method)?;
        let mut request = Request::new(p.body);
        *request.method_mut() = p.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = p.headers;
        *request.extensions_mut() = p.extensions;
        let verbose = p.verbose.unwrap_or(defaults.verbose);
        Ok((client, request, verbose))
    }

    /// Sends the request and reads the whole response body (what `.await` does).
    pub fn send(self) -> impl Future<Output = Result<Response, Error>> + Send {
        // Built before the future exists, so the future holds the small `http::Request`,
        // not the builder (measured: moving the bigger future cost ~2% per request).
        let built = self.prepare();
        async move {
            let (client, request, verbose) = built?;
            fetch(client, request, verbose).await
        }
    }

    /// HTTP.jl `response_stream`: writes the response body into `writer` as it arrives,
    /// instead of buffering it; the returned `Response` has an empty body.
    pub async fn response_stream<W>(self, writer: &mut W) -> Result<Response, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let (client, request, verbose) = self.prepare()?;
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let fail = |e: Error| e.with_request(&method, &uri);
        let (parts, body) = match &client.inner.default_stack {
            Some(stack) => exchange(stack.clone(), request, verbose, &method, &uri)
                .await?
                .map(Body::wrap)
                .into_parts(),
            None => {
                let stack = client.inner.stack.clone();
                exchange(stack, request, verbose, &method, &uri)
                    .await?
                    .into_parts()
            }
        };
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| fail(Error::from_boxed(e)))?;
            if let Ok(data) = frame.into_data() {
                writer.write_all(&data).await.map_err(|e| {
                    fail(
                        Error::body(e).with_message(
                            "writing the response body to the response_stream failed",
                        ),
                    )
                })?;
            }
        }
        writer.flush().await.map_err(|e| {
            fail(Error::body(e).with_message("flushing the response_stream failed"))
        })?;
        Ok(Response::new(parts, method, uri, Bytes::new()))
    }

    /// HTTP.jl `HTTP.open`: starts the request now and returns the stream through which
    /// the caller writes the body and then reads the response. Must be called within a
    /// tokio runtime.
    pub fn open(self) -> Result<OpenStream, Error> {
        let (client, request, verbose) = self.prepare()?;
        Ok(OpenStream::start(client, request, verbose))
    }
}

impl IntoFuture for RequestBuilder {
    type Output = Result<Response, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Response, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Sends a built request and reads the whole response body.
async fn fetch(client: Client, request: Request<Body>, verbose: u8) -> Result<Response, Error> {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let (parts, body) = match &client.inner.default_stack {
        Some(stack) => {
            let response = exchange(stack.clone(), request, verbose, &method, &uri).await?;
            let (parts, body) = response.into_parts();
            (parts, read_body(body).await)
        }
        None => {
            let stack = client.inner.stack.clone();
            let response = exchange(stack, request, verbose, &method, &uri).await?;
            let (parts, body) = response.into_parts();
            (parts, read_body(body).await)
        }
    };
    let body = body.map_err(|e| super::transport::body_error(e).with_request(&method, &uri))?;
    Ok(Response::new(parts, method, uri, body))
}

/// Sends a built request through the client's stack, logging per `verbose`.
/// `method` and `uri` are the request's, for error messages: the caller keeps them anyway,
/// so they are not cloned again here.
pub(crate) async fn exchange<S, B>(
    stack: S,
    request: Request<Body>,
    verbose: u8,
    method: &Method,
    uri: &http::Uri,
) -> Result<http::Response<B>, Error>
where
    S: tower::Service<Request<Body>, Response = http::Response<B>, Error = Error>,
{
    let shown = || httpstack_middleware::error::redact(&uri.to_string());
    if verbose >= 1 {
        tracing::info!(target: "httpstack::client", "{method} {}", shown());
        if verbose >= 2 {
            tracing::info!(target: "httpstack::client", "request headers: {:?}", request.headers());
        }
    }
    let result = tower::ServiceExt::oneshot(stack, request).await;
    let response = result.map_err(|e| e.with_request(method, uri))?;
    if verbose >= 1 {
        tracing::info!(target: "httpstack::client", "{:?} {} ({method} {})", response.version(), response.status(), shown());
        if verbose >= 2 {
            tracing::info!(target: "httpstack::client", "response headers: {:?}", response.headers());
        }
    }
    Ok(response)
}

/// Reads a whole body; one data frame (the common case) is kept without copying.
pub(crate) async fn read_body<B>(body: B) -> Result<Bytes, BoxError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(Into::into)?.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let hint = body.size_hint().lower() as usize;
                let mut buf = BytesMut::with_capacity(head.len() + data.len() + hint);
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(one), None) => one,
        (None, None) => Bytes::new(),
    })
}
