//! The one error type of httpstack, whose kinds mirror HTTP.jl's exceptions.
//!
//! HTTP.jl throws `ConnectError`, `RequestError` (I/O while exchanging), `StatusError`,
//! `TimeoutError` and friends; here they are kinds of one [`Error`] with predicates
//! (`is_connect()`, `is_status()`, `is_timeout()`...). Every message names what failed and
//! where (method and URL, with credentials removed) and the source chain is kept.
//!
//! ```
//! use httpstack_middleware::{Error, TimeoutKind};
//!
//! let err = Error::timeout(TimeoutKind::Read)
//!     .with_request(&http::Method::GET, &"http://user:secret@example.com/x".parse().unwrap());
//! assert!(err.is_timeout());
//! assert_eq!(err.to_string(), "read timeout (GET http://example.com/x)");
//! ```
//!
//! `Display` says what failed and where; the cause is left to
//! [`source()`](std::error::Error::source), so reporters that walk the chain (`anyhow`'s
//! `{:#}`, a `while let Some(e) = e.source()` loop) print each part once:
//!
//! ```
//! use httpstack_middleware::Error;
//!
//! let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
//! let err = Error::connect(refused).with_url(&http::Method::GET, "http://127.0.0.1:1/");
//! let mut report = err.to_string();
//! let mut cause = std::error::Error::source(&err);
//! while let Some(e) = cause {
//!     report.push_str(&format!(": {e}"));
//!     cause = e.source();
//! }
//! assert_eq!(report, "connect error (GET http://127.0.0.1:1/): refused");
//! ```

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode, Uri};

/// A boxed error, as tower and hyper pass them around.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which timeout fired (HTTP.jl `TimeoutError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// `connect_timeout`: TCP connect plus TLS handshake took too long.
    Connect,
    /// `read_timeout`: no data from the peer for this long (response head or body).
    Read,
    /// `timeout`: the whole exchange, body included, took too long.
    Total,
    /// `write_idle_timeout` (WebSockets): a write made no progress for this long.
    Write,
}

impl TimeoutKind {
    fn describe(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect timeout",
            TimeoutKind::Read => "read timeout",
            TimeoutKind::Total => "total timeout",
            TimeoutKind::Write => "write timeout",
        }
    }
}

/// The close frame of a WebSocket connection (RFC 6455 §5.5.1, §7.4): a status code and
/// a reason (HTTP.jl `WebSockets.CloseFrameBody`).
///
/// A close frame without a body reads as code 1005 and a connection that ended without
/// any close frame as 1006 (RFC 6455 §7.1.5, §7.4.1), as in HTTP.jl.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CloseFrame {
    /// The status code (1000 normal closure, 1001 going away, 1009 message too big...).
    pub code: u16,
    /// The reason the peer gave, possibly empty (at most 123 bytes on the wire).
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }

    /// HTTP.jl `WebSockets.isok`: whether the code means a normal end — 1000 (normal),
    /// 1001 (going away) or 1005 (no status given) — rather than a failure.
    pub fn is_ok(&self) -> bool {
        matches!(self.code, 1000 | 1001 | 1005)
    }
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.reason.is_empty() {
            write!(f, " {:?}", self.reason)?;
        }
        Ok(())
    }
}

/// What kind of failure an [`Error`] is; see the predicates on [`Error`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// HTTP.jl `ConnectError`: the connection (TCP, TLS, proxy) could not be made.
    Connect,
    /// HTTP.jl `RequestError`: I/O failed while sending the request or reading the response.
    Request,
    /// HTTP.jl `StatusError`: the response status counts as an error (`status_exception`).
    Status(StatusCode),
    /// HTTP.jl `TimeoutError`.
    Timeout(TimeoutKind),
    /// More redirects than `redirect_limit`.
    TooManyRedirects(usize),
    /// The URL could not be parsed or cannot be requested (unsupported scheme, no host).
    InvalidUrl,
    /// A header, method or other input is not valid HTTP.
    InvalidInput,
    /// The decompressed response body grew past the configured cap.
    DecompressionLimit(u64),
    /// A body (request or response) failed or broke a limit.
    Body,
    /// A request body grew past the server's `max_body_bytes` (this many bytes); the
    /// client gets `413 Content Too Large` when the response has not started.
    BodyTooLarge(u64),
    /// A server-side failure (bind, accept, TLS set-up).
    Server,
    /// HTTP.jl `WebSocketError`: the WebSocket connection closed, with this close frame
    /// (received from the peer, or sent by us when the peer broke the protocol).
    WebSocket(CloseFrame),
    /// An I/O operation outside an HTTP exchange failed: a file a handler reads, a
    /// directory `main` lists (`?` on a `std::io::Error`).
    Io,
}

/// How far a failed exchange got, when the transport that saw it fail knows: the retry
/// layer and [`Error::is_aborted`] read it (see [`Error::with_delivery`]).
///
/// httpstack's client transport sets it from hyper's and h2's errors; a transport of
/// your own sets it the same way, so the layers never need to know its error types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Delivery {
    /// The request never reached the server, so it is safe to send again whatever its
    /// method: the connection was refused before anything was written, or HTTP/2 refused
    /// the stream (`REFUSED_STREAM`) or shut the connection down gracefully below it
    /// (`GOAWAY` with `NO_ERROR`; RFC 9113 §8.7: neither was processed).
    NotSent,
    /// The peer cut the exchange short once it had begun (closed or reset the connection,
    /// reset the HTTP/2 stream): it may have acted on the request (HTTP.jl `isaborted`).
    Aborted,
}

/// The error of every httpstack operation.
///
/// Cheap to move (one box). `Display` gives one line: what failed, the method and URL in
/// parentheses; the cause is not repeated there but kept by
/// [`std::error::Error::source`], for reporters that walk the chain.
///
/// ```
/// use std::error::Error as _;
/// use httpstack_middleware::{Error, TimeoutKind};
///
/// // What a caller does with a failed request: branch on the kind, report the chain.
/// fn explain(err: &Error) -> String {
///     if let Some(status) = err.status() {
///         format!("the server answered {}", status.as_u16())
///     } else if err.is_timeout() {
///         format!("gave up waiting: {err}")
///     } else {
///         let mut report = err.to_string();
///         let mut cause = err.source();
///         while let Some(e) = cause {
///             report.push_str(&format!(": {e}"));
///             cause = e.source();
///         }
///         report
///     }
/// }
///
/// let not_found = http::Response::builder().status(404).body(bytes::Bytes::new()).unwrap();
/// let err = Error::status_error(not_found);
/// assert!(err.is_status());
/// assert_eq!(explain(&err), "the server answered 404");
/// assert_eq!(explain(&Error::timeout(TimeoutKind::Read)), "gave up waiting: read timeout");
///
/// let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let err = Error::connect(refused).with_url(&http::Method::GET, "http://127.0.0.1:1/");
/// assert!(err.is_connect());
/// // `Display` names what failed and where, not the cause: `source()` gives that.
/// assert_eq!(err.to_string(), "connect error (GET http://127.0.0.1:1/)");
/// assert_eq!(explain(&err), "connect error (GET http://127.0.0.1:1/): refused");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    method: Option<Method>,
    url: Option<String>,
    message: Option<String>,
    retries: Option<usize>,
    delivery: Option<Delivery>,
    response: Option<http::Response<Bytes>>,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` with no source.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                method: None,
                url: None,
                message: None,
                retries: None,
                delivery: None,
                response: None,
                source: None,
            }),
        }
    }

    /// A connect error caused by `source`.
    pub fn connect(source: impl Into<BoxError>) -> Self {
        Error::new(ErrorKind::Connect).with_source(source)
    }

    /// An I/O error during the exchange (HTTP.jl `RequestError`).
    pub fn request(source: impl Into<BoxError>) -> Self {
        Error::new(ErrorKind::Request).with_source(source)
    }

    /// A timeout of the given kind.
    pub fn timeout(kind: TimeoutKind) -> Self {
        Error::new(ErrorKind::Timeout(kind))
    }

    /// A status error carrying the (buffered) response.
    pub fn status_error(response: http::Response<Bytes>) -> Self {
        let mut err = Error::new(ErrorKind::Status(response.status()));
        err.inner.response = Some(response);
        err
    }

    /// An invalid URL, with a message saying what is wrong with it.
    pub fn invalid_url(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidUrl).with_message(message)
    }

    /// Invalid input (header, method, option), with a message saying what and where.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput).with_message(message)
    }

    /// The decompressed body passed `limit` bytes.
    pub fn decompression_limit(limit: u64) -> Self {
        Error::new(ErrorKind::DecompressionLimit(limit))
    }

    /// A body failure, caused by `source`.
    pub fn body(source: impl Into<BoxError>) -> Self {
        Error::new(ErrorKind::Body).with_source(source)
    }

    /// A request body grew past `limit` bytes (the server's `max_body_bytes`).
    pub fn body_too_large(limit: u64) -> Self {
        Error::new(ErrorKind::BodyTooLarge(limit))
    }

    /// A server-side failure caused by `source`.
    pub fn server(source: impl Into<BoxError>) -> Self {
        Error::new(ErrorKind::Server).with_source(source)
    }

    /// A WebSocket close (HTTP.jl `WebSocketError`) with `frame`.
    pub fn websocket(frame: CloseFrame) -> Self {
        Error::new(ErrorKind::WebSocket(frame))
    }

    /// Turns any boxed error into an [`Error`]: an `Error` inside the box is unboxed as it
    /// is; anything else becomes a [`ErrorKind::Request`] error with it as the source.
    pub fn from_boxed(err: BoxError) -> Self {
        match err.downcast::<Error>() {
            Ok(err) => *err,
            Err(other) => Error::request(other),
        }
    }

    /// Records the request this error belongs to (kept only if none was recorded yet).
    /// Userinfo is stripped from the URL so credentials are never printed.
    pub fn with_request(mut self, method: &Method, uri: &Uri) -> Self {
        if self.inner.url.is_none() {
            self.inner.method = Some(method.clone());
            self.inner.url = Some(redact(&uri.to_string()));
        }
        self
    }

    /// Like [`Error::with_request`] with a URL string (userinfo is stripped).
    pub fn with_url(mut self, method: &Method, url: &str) -> Self {
        if self.inner.url.is_none() {
            self.inner.method = Some(method.clone());
            self.inner.url = Some(redact(url));
        }
        self
    }

    /// Adds a human message, shown before the method and URL.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Records how many retries were made before this error (shown in the message).
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.inner.retries = Some(retries);
        self
    }

    /// Records how far the failed exchange got (set by a transport that knows; the retry
    /// layer and [`Error::is_aborted`] read it).
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.inner.delivery = Some(delivery);
        self
    }

    /// How far the failed exchange got, when the transport recorded it.
    pub fn delivery(&self) -> Option<Delivery> {
        self.inner.delivery
    }

    /// The kind of failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The human message given with [`with_message`](Self::with_message), if any (what
    /// `Display` shows after the kind).
    ///
    /// ```
    /// let err = httpstack_middleware::Error::invalid_input("header `x-id` is not ASCII");
    /// assert_eq!(err.message(), Some("header `x-id` is not ASCII"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The request method, when known.
    pub fn method(&self) -> Option<&Method> {
        self.inner.method.as_ref()
    }

    /// The request URL without credentials, when known.
    pub fn url(&self) -> Option<&str> {
        self.inner.url.as_deref()
    }

    /// How many retries were made, when a retry layer recorded it.
    pub fn retries(&self) -> Option<usize> {
        self.inner.retries
    }

    /// The response of a status error (HTTP.jl `StatusError.response`), body buffered.
    pub fn response(&self) -> Option<&http::Response<Bytes>> {
        self.inner.response.as_ref()
    }

    /// Takes the response out of a status error.
    pub fn into_response(self) -> Option<http::Response<Bytes>> {
        self.inner.response
    }

    /// The status of a status error.
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            ErrorKind::Status(s) => Some(s),
            _ => None,
        }
    }

    /// Which timeout fired, for a timeout error.
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        match self.inner.kind {
            ErrorKind::Timeout(k) => Some(k),
            _ => None,
        }
    }

    /// The close frame of a WebSocket close error.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        match &self.inner.kind {
            ErrorKind::WebSocket(frame) => Some(frame),
            _ => None,
        }
    }

    /// HTTP.jl `WebSocketError`: the WebSocket connection closed (see [`Error::close_frame`]).
    pub fn is_websocket(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::WebSocket(_))
    }

    /// HTTP.jl `WebSockets.isok(err)`: a WebSocket close with a normal code (1000, 1001,
    /// 1005), which a handler may treat as the end rather than a failure. `false` for
    /// every other error.
    pub fn is_ok(&self) -> bool {
        self.close_frame().is_some_and(CloseFrame::is_ok)
    }

    /// HTTP.jl `ConnectError`.
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// HTTP.jl `RequestError`: I/O failed during the exchange.
    pub fn is_request(&self) -> bool {
        self.inner.kind == ErrorKind::Request
    }

    /// HTTP.jl `isaborted`: the peer cut the exchange short once it had begun — it
    /// closed or reset the connection, reset the HTTP/2 stream, or stopped reading the
    /// request body (an early error answer with `Connection: close`) — as opposed to a
    /// connection that never opened, a timeout, or an error status. Such a request may
    /// have been partly processed.
    pub fn is_aborted(&self) -> bool {
        if !matches!(self.inner.kind, ErrorKind::Request | ErrorKind::Body) {
            return false;
        }
        let chain = std::iter::successors(Some(self as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        });
        for err in chain {
            if let Some(e) = err.downcast_ref::<Error>() {
                match e.delivery() {
                    Some(Delivery::Aborted) => return true,
                    Some(Delivery::NotSent) => return false,
                    _ => {}
                }
            }
            if let Some(e) = err.downcast_ref::<hyper::Error>() {
                if e.is_incomplete_message()
                    || e.is_closed()
                    || e.is_canceled()
                    || e.is_body_write_aborted()
                {
                    return true;
                }
            }
            if let Some(e) = err.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as Io;
                if matches!(
                    e.kind(),
                    Io::ConnectionReset
                        | Io::ConnectionAborted
                        | Io::BrokenPipe
                        | Io::UnexpectedEof
                ) {
                    return true;
                }
            }
        }
        false
    }

    /// HTTP.jl `StatusError`.
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Status(_))
    }

    /// HTTP.jl `TimeoutError`.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Timeout(_))
    }

    /// Too many redirects.
    pub fn is_too_many_redirects(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::TooManyRedirects(_))
    }

    /// The URL was invalid or unsupported.
    pub fn is_invalid_url(&self) -> bool {
        self.inner.kind == ErrorKind::InvalidUrl
    }

    /// Input (header, method, option) was invalid.
    pub fn is_invalid_input(&self) -> bool {
        self.inner.kind == ErrorKind::InvalidInput
    }

    /// The decompressed body passed its cap.
    pub fn is_decompression_limit(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::DecompressionLimit(_))
    }

    /// A body failed or broke a limit.
    pub fn is_body(&self) -> bool {
        self.inner.kind == ErrorKind::Body
    }

    /// A request body grew past the server's `max_body_bytes` (HTTP.jl answers 413).
    pub fn is_body_too_large(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::BodyTooLarge(_))
    }

    /// An I/O operation outside an HTTP exchange failed (a `std::io::Error` turned into
    /// an `Error` by `?`).
    pub fn is_io(&self) -> bool {
        self.inner.kind == ErrorKind::Io
    }

    /// The error and each of its causes on one line, `: `-separated (what `anyhow`'s
    /// `{:#}` prints): `Display` says what failed and where, `source()` gives the causes,
    /// this joins them for a log line or a test's message.
    ///
    /// ```
    /// let err = httpstack_middleware::Error::request(std::io::Error::other("reset by peer"));
    /// assert_eq!(err.report(), "request error: reset by peer");
    /// ```
    pub fn report(&self) -> String {
        std::iter::successors(Some(self as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        })
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
    }
}

/// Removes `user:password@` from a URL so it can be printed or logged.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        match &inner.kind {
            ErrorKind::Connect => f.write_str("connect error")?,
            ErrorKind::Request => f.write_str("request error")?,
            ErrorKind::Status(s) => write!(
                f,
                "status {} {}",
                s.as_u16(),
                s.canonical_reason().unwrap_or("Unknown")
            )?,
            ErrorKind::Timeout(k) => f.write_str(k.describe())?,
            ErrorKind::TooManyRedirects(n) => write!(f, "too many redirects (limit {n})")?,
            ErrorKind::InvalidUrl => f.write_str("invalid URL")?,
            ErrorKind::InvalidInput => f.write_str("invalid input")?,
            ErrorKind::DecompressionLimit(n) => {
                write!(f, "decompressed body exceeds the limit of {n} bytes")?
            }
            ErrorKind::Body => f.write_str("body error")?,
            ErrorKind::BodyTooLarge(n) => {
                write!(f, "request body larger than max_body_bytes ({n} bytes)")?
            }
            ErrorKind::Server => f.write_str("server error")?,
            ErrorKind::WebSocket(frame) => write!(f, "WebSocket closed with {frame}")?,
            ErrorKind::Io => f.write_str("I/O error")?,
        }
        if let Some(message) = &inner.message {
            write!(f, ": {message}")?;
        }
        if let (Some(method), Some(url)) = (&inner.method, &inner.url) {
            write!(f, " ({method} {url})")?;
        }
        if let Some(n) = inner.retries {
            if n > 0 {
                write!(f, " after {n} retries")?;
            }
        }
        // The cause is `source()`'s to give: reporters walking the chain print it once.
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(m) = &self.inner.method {
            d.field("method", m);
        }
        if let Some(u) = &self.inner.url {
            d.field("url", u);
        }
        if let Some(m) = &self.inner.message {
            d.field("message", m);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|e| e as _)
    }
}

impl From<BoxError> for Error {
    fn from(err: BoxError) -> Self {
        Error::from_boxed(err)
    }
}

/// `?` on file and socket operations in handlers and `main`: an [`ErrorKind::Io`] error,
/// or a read timeout for `io::ErrorKind::TimedOut` (a socket read or write that waited
/// too long); the `io::Error` is the source.
impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout(TimeoutKind::Read),
            _ => ErrorKind::Io,
        };
        Error::new(kind).with_source(err)
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_only_in_authority() {
        for (input, expected) in [
            ("http://u:p@h/x", "http://h/x"),
            ("https://h/a@b", "https://h/a@b"),
            ("http://u@h:8080", "http://h:8080"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact(input), expected, "case {input}");
        }
    }

    /// Each link's `Display`, outermost first.
    fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
        std::iter::successors(Some(err), |e| e.source())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_message_leaves_the_cause_to_the_source_chain() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl fmt::Display for Wrapper {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let cases: Vec<(&str, Error, Vec<&str>)> = vec![
            (
                "connect",
                Error::connect(Wrapper(refused()))
                    .with_url(&Method::POST, "http://a:b@127.0.0.1:1/p")
                    .with_retries(2),
                vec![
                    "connect error (POST http://127.0.0.1:1/p) after 2 retries",
                    "client error (Connect)",
                    "refused",
                ],
            ),
            (
                "nested",
                Error::request(Error::body(refused()).with_message("upload"))
                    .with_url(&Method::GET, "http://h/"),
                vec![
                    "request error (GET http://h/)",
                    "body error: upload",
                    "refused",
                ],
            ),
            (
                "no source",
                Error::timeout(TimeoutKind::Total),
                vec!["total timeout"],
            ),
        ];
        for (name, err, expected) in cases {
            let links = chain(&err);
            assert_eq!(links, expected, "case {name}");
            // No link's text shows up in another link's: a chain reporter prints each once.
            for (i, link) in links.iter().enumerate() {
                for (j, other) in links.iter().enumerate() {
                    assert!(
                        i == j || !other.contains(link.as_str()),
                        "case {name}: {link:?} repeated in {other:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn io_errors_convert_with_question_mark() {
        fn open() -> Result<std::fs::File> {
            Ok(std::fs::File::open("/nonexistent/httpstack/file")?)
        }
        let err = open().unwrap_err();
        assert!(err.is_io(), "{err:?}");
        assert_eq!(err.to_string(), "I/O error");
        let source =
            std::error::Error::source(&err).and_then(|e| e.downcast_ref::<std::io::Error>());
        assert_eq!(source.map(|e| e.kind()), Some(std::io::ErrorKind::NotFound));
        let timed_out = Error::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(timed_out.timeout_kind(), Some(TimeoutKind::Read));
    }

    #[test]
    fn a_recorded_delivery_decides_is_aborted() {
        let reset = Error::request("stream reset").with_delivery(Delivery::Aborted);
        assert!(reset.is_aborted());
        let refused = Error::request("refused stream").with_delivery(Delivery::NotSent);
        assert!(!refused.is_aborted());
        let closed = Error::request(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(closed.is_aborted());
        assert!(!Error::request("unknown").is_aborted());
    }

    #[test]
    fn websocket_close_is_ok_for_normal_codes() {
        for (code, ok) in [
            (1000, true),
            (1001, true),
            (1005, true),
            (1006, false),
            (1009, false),
        ] {
            let err = Error::websocket(CloseFrame::new(code, "bye"));
            assert_eq!(err.is_ok(), ok, "code {code}");
            assert!(err.is_websocket(), "code {code}");
            assert_eq!(err.close_frame().map(|f| f.code), Some(code), "code {code}");
        }
        assert!(!Error::timeout(TimeoutKind::Read).is_ok());
        assert_eq!(
            Error::websocket(CloseFrame::new(1009, "too big")).to_string(),
            "WebSocket closed with 1009 \"too big\""
        );
    }

    #[test]
    fn boxed_error_round_trips() {
        let boxed: BoxError = Box::new(Error::timeout(TimeoutKind::Total));
        assert!(Error::from(boxed).is_timeout());
    }
}
