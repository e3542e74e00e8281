//! The client side of one SSE response: [`SseStream`], reached through
//! [`SseResponseExt::sse`] on any streamed `http::Response` or
//! [`RequestBuilder::sse`](crate::RequestBuilder::sse).

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use futures_util::Stream;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, StatusCode, Uri};
use pin_project_lite::pin_project;

use crate::sse::{SseEvent, SseParser};
use crate::{Body, BoxError, Error, RequestBuilder};

pin_project! {
    /// The events of one `text/event-stream` response body, parsed as they arrive
    /// (WHATWG HTML §9.2.6), as a `Stream` of `Result<SseEvent, Error>`.
    ///
    /// It ends when the body ends (an unfinished last event is discarded, as in the
    /// browser). A failing body, or a line or event past the parser's limits, yields one
    /// [`ErrorKind::Body`](crate::ErrorKind::Body) error and then the end; a limit error
    /// has an [`SseParseError`](super::SseParseError) as its source.
    pub struct SseStream<B = Body> {
        #[pin]
        body: B,
        parser: SseParser,
        failed: Option<Error>,
        done: bool,
        request: Option<(Method, Uri)>,
    }
}

impl<B> std::fmt::Debug for SseStream<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseStream")
            .field("last_event_id", &self.parser.last_event_id())
            .field("retry", &self.parser.retry())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<B> SseStream<B> {
    /// Parses `body` with the default limits (1 MiB lines, 16 MiB events).
    pub fn new(body: B) -> SseStream<B> {
        SseStream::with_parser(body, SseParser::new())
    }

    /// Parses `body` with a parser of your own (other limits, a starting last event ID).
    pub fn with_parser(body: B, parser: SseParser) -> SseStream<B> {
        SseStream {
            body,
            parser,
            failed: None,
            done: false,
            request: None,
        }
    }

    /// The last event ID string so far (see [`SseParser::last_event_id`]).
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// The reconnection time the server asked for with `retry:`, in milliseconds.
    pub fn retry(&self) -> Option<std::time::Duration> {
        self.parser.retry()
    }

    /// Names the request in error messages.
    pub(crate) fn for_request(mut self, method: Method, uri: Uri) -> SseStream<B> {
        self.request = Some((method, uri));
        self
    }
}

impl<B> Stream for SseStream<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Item = Result<SseEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(event) = this.parser.next_event() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(err) = this.failed.take() {
                return Poll::Ready(Some(Err(match this.request {
                    Some((method, uri)) => err.with_request(method, uri),
                    None => err,
                })));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue; // trailers
                    };
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        let len = chunk.len();
                        if let Err(err) = this.parser.feed(chunk) {
                            *this.failed = Some(
                                Error::body(err).with_message("the event stream cannot be parsed"),
                            );
                            *this.done = true;
                            break;
                        }
                        data.advance(len);
                    }
                }
                Some(Err(err)) => {
                    // A broken connection stays what the body said (a `Request` error
                    // for I/O, a timeout...).
                    *this.failed = Some(Error::from_boxed(err.into()));
                    *this.done = true;
                }
                None => {
                    this.parser.finish();
                    *this.done = true;
                }
            }
        }
    }
}

/// `.sse()` on a streamed response: its body as an [`SseStream`] of events.
///
/// Works on what [`Client::execute`](crate::Client::execute) returns, or any
/// `http::Response` whose body is an `http_body::Body` (reqwest's and hyper's too). It
/// does not check the status or `Content-Type`; [`RequestBuilder::sse`] does.
pub trait SseResponseExt<B> {
    /// The body's events, parsed as they arrive.
    fn sse(self) -> SseStream<B>;
}

impl<B> SseResponseExt<B> for http::Response<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    fn sse(self) -> SseStream<B> {
        SseStream::new(self.into_body())
    }
}

/// The buffered [`Response`](crate::Response) (what awaiting a request gives) parses its
/// whole body at once: for streams that already ended. Use
/// [`RequestBuilder::sse`] to get events as they arrive.
impl SseResponseExt<Body> for crate::Response {
    fn sse(self) -> SseStream<Body> {
        SseStream::new(Body::from(self.bytes()))
    }
}

/// Whether a `Content-Type` is `text/event-stream` (parameters and case aside).
pub(crate) fn is_event_stream(response: &http::Response<Body>) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

impl RequestBuilder {
    /// Sends the request with `Accept: text/event-stream` and returns the response's
    /// events as they arrive, instead of buffering the body.
    ///
    /// Fails like the request would (a connect error, a status error when
    /// `status_exception` is on), and with [`ErrorKind::Body`](crate::ErrorKind::Body)
    /// when the answer is not `200` with `Content-Type: text/event-stream` (WHATWG: such a
    /// response fails the connection).
    ///
    /// ```
    /// # use httpstack::server::{handler_fn, serve};
    /// # use httpstack::sse::{sse_stream, SseEvent};
    /// # use futures_util::StreamExt;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
    /// # let server = serve("127.0.0.1:0", handler_fn(|_req: http::Request<httpstack::Body>| async {
    /// #     sse_stream(http::StatusCode::OK, |tx| async move { tx.send("hi").await })
    /// # })).await?;
    /// # let url = format!("http://127.0.0.1:{}/events", server.port());
    /// let mut events = httpstack::get(&url).sse().await?;
    /// while let Some(event) = events.next().await {
    ///     assert_eq!(event?.data, "hi");
    /// }
    /// # server.close().await; Ok(()) }
    /// ```
    pub async fn sse(self) -> Result<SseStream<Body>, Error> {
        let builder = self
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache");
        let (client, request, _verbose) = builder.prepare()?;
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let response = client.execute(request).await?;
        check_event_stream(&response).map_err(|e| e.with_request(&method, &uri))?;
        Ok(response.sse().for_request(method, uri))
    }
}

/// WHATWG §9.2.3: anything but a 200 `text/event-stream` fails the connection.
pub(crate) fn check_event_stream(response: &http::Response<Body>) -> Result<(), Error> {
    if response.status() != StatusCode::OK {
        return Err(Error::new(crate::ErrorKind::Body).with_message(format!(
            "expected an event stream (200), got status {}",
            response.status()
        )));
    }
    if !is_event_stream(response) {
        let got = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "none".to_owned());
        return Err(Error::new(crate::ErrorKind::Body).with_message(format!(
            "expected Content-Type text/event-stream, got {got}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn parses_frames_split_anywhere() {
        let chunks = [
            "da",
            "ta: a\r",
            "\ndata: b\r\n\r",
            "\nid: 1\ndata: c\n\ndata: partial",
        ];
        let body = Body::from_chunks(chunks);
        let events: Vec<_> = http::Response::new(body).sse().collect().await;
        let data: Vec<_> = events.into_iter().map(|e| e.unwrap().data).collect();
        assert_eq!(data, ["a\nb", "c"]);
    }

    #[tokio::test]
    async fn buffered_response_parses_its_body() {
        use crate::server::{handler_fn, serve};
        let server = serve(
            "127.0.0.1:0",
            handler_fn(|_req: http::Request<crate::Body>| async {
                http::Response::new(Body::from("data: a\n\ndata: b\n\n"))
            }),
        )
        .await
        .unwrap();
        let response = crate::get(format!("http://127.0.0.1:{}/", server.port()))
            .await
            .unwrap();
        let data: Vec<_> = response.sse().map(|e| e.unwrap().data).collect().await;
        assert_eq!(data, ["a", "b"]);
        server.close().await;
    }

    #[tokio::test]
    async fn limit_error_after_earlier_events() {
        let body = Body::from_chunks(["data: ok\n\ndata: 0123456789abcdef\n\n"]);
        let stream = SseStream::with_parser(body, SseParser::with_limits(10, 100));
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().data, "ok");
        let err = items[1].as_ref().unwrap_err();
        assert!(err.is_body(), "{err}");
        let source = std::error::Error::source(err)
            .and_then(|s| s.downcast_ref::<crate::sse::SseParseError>());
        assert_eq!(
            source,
            Some(&crate::sse::SseParseError::LineTooLong { limit: 10 })
        );
    }
}
