//! [`EventSource`]: a reconnecting SSE client, the browser's `EventSource` (WHATWG HTML
//! §9.2.2–§9.2.3) on top of httpstack's [`Client`].

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use http::header::{ACCEPT, CACHE_CONTROL};
use http::{HeaderValue, StatusCode};

use crate::sse::client::check_event_stream;
use crate::sse::{SseEvent, SseParseError, SseParser, SseStream};
use crate::{Body, Client, Error, ErrorKind};

/// WHATWG's suggested initial reconnection time ("a few seconds"), as browsers use.
pub const DEFAULT_RETRY: Duration = Duration::from_millis(3000);

/// A reconnecting Server-Sent Events client.
///
/// It opens `GET url` with `Accept: text/event-stream` and yields the events. When the
/// stream ends or the connection fails it waits the reconnection time (3 s, or what the
/// server last sent with `retry:`) and reconnects, sending `Last-Event-ID` with the last
/// event ID it saw, so the server can resume. Per WHATWG it stops for good when the server
/// answers `204 No Content` (then [`next`](EventSource::next) returns `None`) or anything
/// but a `200 text/event-stream` (then it returns that error once, then `None`). A line or
/// event past the parser's limits also stops it. [`max_retries`](EventSource::max_retries)
/// bounds the reconnections made without receiving an event.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # use httpstack::sse::{sse_stream, EventSource, SseEvent};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     if req.headers().contains_key("last-event-id") {
/// #         return http::Response::builder().status(204).body(httpstack::Body::empty()).unwrap();
/// #     }
/// #     sse_stream(http::StatusCode::OK, |tx| async move {
/// #         tx.send(SseEvent::new("hi").id("1").retry(std::time::Duration::from_millis(10))).await
/// #     })
/// # })).await?;
/// # let url = format!("http://127.0.0.1:{}/events", server.port());
/// let mut events = EventSource::new(&url);
/// while let Some(event) = events.next().await {
///     let event = event?;
///     assert_eq!((event.data.as_str(), event.id.as_deref()), ("hi", Some("1")));
/// }
/// assert_eq!(events.last_event_id(), "1");
/// # server.close().await; Ok(()) }
/// ```
pub struct EventSource {
    client: Client,
    url: String,
    last_event_id: String,
    retry: Duration,
    max_retries: Option<usize>,
    max_line: usize,
    max_event: usize,
    /// Reconnections since the last event arrived.
    failures: usize,
    /// Whether a connection was attempted already (later ones wait `retry` first).
    attempted: bool,
    stream: Option<SseStream<Body>>,
    last_error: Option<Error>,
    closed: bool,
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("url", &httpstack_middleware::error::redact(&self.url))
            .field("last_event_id", &self.last_event_id)
            .field("retry", &self.retry)
            .field("open", &self.stream.is_some())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

enum Connect {
    /// Boxed: the stream is large, and this happens once per connection.
    Open(Box<SseStream<Body>>),
    /// 204: the server asks the client to stop.
    NoContent,
    /// Worth another try (connect or I/O failure).
    Transient(Error),
    /// Fails the connection for good.
    Fatal(Error),
}

impl EventSource {
    /// An event source on the default client. Nothing is sent until the first
    /// [`next`](EventSource::next).
    pub fn new(url: impl AsRef<str>) -> EventSource {
        EventSource::with_client(crate::default_client(), url)
    }

    /// An event source on `client` (its layers, cookies and TLS settings apply).
    pub fn with_client(client: Client, url: impl AsRef<str>) -> EventSource {
        EventSource {
            client,
            url: url.as_ref().to_owned(),
            last_event_id: String::new(),
            retry: DEFAULT_RETRY,
            max_retries: None,
            max_line: super::parser::DEFAULT_MAX_LINE,
            max_event: super::parser::DEFAULT_MAX_EVENT,
            failures: 0,
            attempted: false,
            stream: None,
            last_error: None,
            closed: false,
        }
    }

    /// The reconnection time until the server sends `retry:` (default 3 s).
    pub fn retry(mut self, wait: Duration) -> EventSource {
        self.retry = wait;
        self
    }

    /// Gives up after `n` reconnections in a row without an event (default: never).
    pub fn max_retries(mut self, n: usize) -> EventSource {
        self.max_retries = Some(n);
        self
    }

    /// Starts as if an event with this ID had been seen: the first request already sends
    /// `Last-Event-ID`.
    pub fn last_event_id_start(mut self, id: impl Into<String>) -> EventSource {
        self.last_event_id = id.into();
        self
    }

    /// The parser's limits on one line and one event, in bytes (default 1 MiB, 16 MiB).
    pub fn limits(mut self, max_line: usize, max_event: usize) -> EventSource {
        self.max_line = max_line;
        self.max_event = max_event;
        self
    }

    /// The last event ID seen: what the next reconnection sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The current reconnection time.
    pub fn reconnection_time(&self) -> Duration {
        self.retry
    }

    /// Whether the source stopped for good (closed, 204, a fatal answer, retries spent).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Stops: drops the connection; [`next`](EventSource::next) returns `None` from now.
    pub fn close(&mut self) {
        self.closed = true;
        self.stream = None;
    }

    /// The next event, reconnecting as needed; `None` once the source stopped.
    pub async fn next(&mut self) -> Option<Result<SseEvent, Error>> {
        loop {
            if self.closed {
                return None;
            }
            let Some(stream) = self.stream.as_mut() else {
                if let Some(err) = self.reconnect().await {
                    return err;
                }
                continue;
            };
            let item = stream.next().await;
            self.take_state();
            match item {
                Some(Ok(event)) => {
                    self.failures = 0;
                    return Some(Ok(event));
                }
                Some(Err(err)) if is_limit(&err) => {
                    self.close();
                    return Some(Err(err));
                }
                Some(Err(err)) => {
                    tracing::debug!(target: "httpstack::sse", "event stream failed, reconnecting: {err}");
                    self.last_error = Some(err);
                    self.stream = None;
                }
                None => {
                    tracing::debug!(target: "httpstack::sse", "event stream ended, reconnecting");
                    self.stream = None;
                }
            }
        }
    }

    /// The events as a `Stream` (the same as calling [`next`](EventSource::next) in a loop).
    pub fn into_stream(self) -> impl Stream<Item = Result<SseEvent, Error>> + Send {
        futures_util::stream::unfold(self, |mut source| async move {
            source.next().await.map(|item| (item, source))
        })
    }

    /// Copies the stream's last event ID and retry before the stream goes away.
    fn take_state(&mut self) {
        if let Some(stream) = &self.stream {
            if stream.last_event_id() != self.last_event_id {
                self.last_event_id = stream.last_event_id().to_owned();
            }
            if let Some(wait) = stream.retry() {
                self.retry = wait;
            }
        }
    }

    /// Opens a connection (after the reconnection wait, unless it is the first). Returns
    /// what `next` should return when the source stops, `None` to go on.
    async fn reconnect(&mut self) -> Option<Option<Result<SseEvent, Error>>> {
        if self.attempted {
            if let Some(max) = self.max_retries {
                if self.failures >= max {
                    self.closed = true;
                    let err = self.last_error.take().unwrap_or_else(|| {
                        Error::new(ErrorKind::Request)
                            .with_message("the event stream kept ending without events")
                    });
                    return Some(Some(Err(err.with_retries(self.failures))));
                }
            }
            self.failures += 1;
            tokio::time::sleep(self.retry).await;
        }
        self.attempted = true;
        match self.connect().await {
            Connect::Open(stream) => {
                self.stream = Some(*stream);
                None
            }
            Connect::NoContent => {
                self.closed = true;
                Some(None)
            }
            Connect::Transient(err) => {
                tracing::debug!(target: "httpstack::sse", "connecting failed, will retry: {err}");
                self.last_error = Some(err);
                None
            }
            Connect::Fatal(err) => {
                self.closed = true;
                Some(Some(Err(err)))
            }
        }
    }

    // `&mut self`, not `&self`: the stream's body is `Send` but not `Sync`, and the
    // future must stay `Send`.
    async fn connect(&mut self) -> Connect {
        let mut builder = self
            .client
            .get(&self.url)
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache")
            .status_exception(false)
            // The EventSource reconnects by its own rules (WHATWG §9.2.3: wait `retry`,
            // fail for good on a non-200); the client's retry layer would add its own
            // attempts and back-off on top.
            .retry(false);
        if !self.last_event_id.is_empty() {
            // §9.2.3: the header carries the ID UTF-8 encoded; one that is not a valid
            // header value (a control character) is not sent rather than failing.
            if let Ok(value) = HeaderValue::from_bytes(self.last_event_id.as_bytes()) {
                builder = builder.header("last-event-id", value);
            }
        }
        let (client, request, _verbose) = match builder.prepare() {
            Ok(prepared) => prepared,
            Err(err) => return Connect::Fatal(err),
        };
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let response = match client.execute(request).await {
            Ok(response) => response,
            Err(err) if err.is_invalid_url() || err.is_invalid_input() || err.is_status() => {
                return Connect::Fatal(err)
            }
            Err(err) => return Connect::Transient(err),
        };
        if response.status() == StatusCode::NO_CONTENT {
            return Connect::NoContent;
        }
        if let Err(err) = check_event_stream(&response) {
            return Connect::Fatal(err.with_request(&method, &uri));
        }
        let parser = SseParser::with_limits(self.max_line, self.max_event)
            .with_last_event_id(self.last_event_id.clone());
        Connect::Open(Box::new(
            SseStream::with_parser(response.into_body(), parser).for_request(method, uri),
        ))
    }
}

fn is_limit(err: &Error) -> bool {
    std::error::Error::source(err).is_some_and(|s| s.is::<SseParseError>())
}
