//! [`Stream`]: what a stream handler gets (HTTP.jl `HTTP.Stream` on the server side): the
//! request head, the request body to read incrementally, and the response to write
//! incrementally.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, TRAILER};
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot};

use super::peer_addr::PeerAddr;
use crate::middleware::trailers::is_forbidden_trailer;
use crate::{Body, Error};

/// The response head a [`Stream`] hands to the server.
#[derive(Debug)]
pub(crate) struct Head {
    /// `None`: the handler never set a status nor wrote (HTTP.jl answers 500).
    pub(crate) parts: Option<http::response::Parts>,
}

/// The server's ends of a [`Stream`]'s channels.
pub(crate) struct StreamChannels {
    pub(crate) head: oneshot::Receiver<Head>,
    pub(crate) frames: mpsc::Receiver<Bytes>,
    pub(crate) trailers: oneshot::Receiver<HeaderMap>,
}

/// One request and its response, for a stream handler (see [`listen`](super::listen)):
/// HTTP.jl's server-side `HTTP.Stream`.
///
/// Read the head with [`request`](Self::request) (HTTP.jl `startread`), the body with
/// [`read_chunk`](Self::read_chunk) (`readavailable`) or [`read_to_end`](Self::read_to_end)
/// (`read`). Answer with [`set_status`](Self::set_status) (`setstatus`, 200 unless set),
/// [`set_header`](Self::set_header) (`setheader`), [`start_write`](Self::start_write)
/// (`startwrite`: sends the head), [`write`](Self::write) (sends one chunk, starting the
/// response if needed), [`add_trailer`](Self::add_trailer) (`addtrailer`) and
/// [`close_write`](Self::close_write) (`closewrite`). Each chunk goes to the connection as
/// it is written; `write` waits while the client is slower than the handler, so a
/// response is never buffered whole.
///
/// When the handler returns (or drops the `Stream`), the response is closed. A handler
/// that returns without having set a status or written anything gets its client a
/// `500 Internal Server Error`, as in HTTP.jl; so does one that fails (returns `Err` or
/// panics) before the head has gone out — after that, the response is cut off.
///
/// ```
/// use httpstack::server::{listen, Stream};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let server = listen("127.0.0.1:0", |mut http: Stream| async move {
///     if http.method() != http::Method::POST {
///         http.set_status(405)?;
///         http.set_header("allow", "POST")?;
///         return http.close_write();
///     }
///     // Count the upload as it arrives, without holding it.
///     let mut total = 0;
///     while let Some(chunk) = http.read_chunk().await? {
///         total += chunk.len();
///     }
///     http.set_status(201)?;
///     http.write(format!("stored {total} bytes")).await?;
///     http.close_write()
/// })
/// .await?;
///
/// let url = format!("http://{}/upload", server.local_addr());
/// let resp = httpstack::post(&url).body_chunks(vec!["abc", "defg"]).await?;
/// assert_eq!((resp.status().as_u16(), resp.text().as_str()), (201, "stored 7 bytes"));
/// let err = httpstack::get(&url).await.unwrap_err();
/// assert_eq!(err.status(), Some(http::StatusCode::METHOD_NOT_ALLOWED));
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub struct Stream {
    request: Parts,
    body: Option<Body>,
    trailers_in: Option<HeaderMap>,
    peer: SocketAddr,
    status: Option<StatusCode>,
    headers: HeaderMap,
    trailers: HeaderMap,
    head_tx: Option<oneshot::Sender<Head>>,
    frames_tx: Option<mpsc::Sender<Bytes>>,
    trailers_tx: Option<oneshot::Sender<HeaderMap>>,
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("method", &self.request.method)
            .field("uri", &self.request.uri)
            .field("peer", &self.peer)
            .field("status", &self.status)
            .field("started", &self.head_tx.is_none())
            .field("closed", &self.frames_tx.is_none())
            .finish_non_exhaustive()
    }
}

impl Stream {
    pub(crate) fn new(req: Request<Body>) -> (Stream, StreamChannels) {
        let (request, body) = req.into_parts();
        let peer = request
            .extensions
            .get::<PeerAddr>()
            .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |peer| peer.0);
        let (head_tx, head) = oneshot::channel();
        // One chunk in flight: `write` returns once the connection has taken the last one.
        let (frames_tx, frames) = mpsc::channel(1);
        let (trailers_tx, trailers) = oneshot::channel();
        let stream = Stream {
            request,
            body: Some(body),
            trailers_in: None,
            peer,
            status: None,
            headers: HeaderMap::new(),
            trailers: HeaderMap::new(),
            head_tx: Some(head_tx),
            frames_tx: Some(frames_tx),
            trailers_tx: Some(trailers_tx),
        };
        let channels = StreamChannels {
            head,
            frames,
            trailers,
        };
        (stream, channels)
    }

    /// The request head: method, URI, version, headers and extensions (HTTP.jl
    /// `startread(stream)`, `stream.message`).
    pub fn request(&self) -> &Parts {
        &self.request
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.request.method
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.request.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.request.headers
    }

    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The next piece of the request body as it arrives, `None` at its end (HTTP.jl
    /// `readavailable`, `eof`).
    ///
    /// # Errors
    ///
    /// An error for which [`Error::is_body_too_large`] holds when the body grows past the
    /// server's `max_body_bytes` (the client then gets 413 if the response has not
    /// started); a read-timeout error when its next piece takes longer than the server's
    /// `read_timeout` (408); a request error when the client breaks off.
    pub async fn read_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            let Some(body) = &mut self.body else {
                return Ok(None);
            };
            let frame = match body.frame().await {
                None => {
                    self.body = None;
                    return Ok(None);
                }
                Some(Err(err)) => {
                    self.body = None;
                    return Err(body_error(err));
                }
                Some(Ok(frame)) => frame,
            };
            match frame.into_data() {
                Ok(data) => {
                    if !data.is_empty() {
                        return Ok(Some(data));
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        self.trailers_in = Some(trailers);
                    }
                }
            }
        }
    }

    /// The rest of the request body, whole (HTTP.jl `read(stream)`); bounded by the
    /// server's `max_body_bytes` when set.
    ///
    /// # Errors
    ///
    /// As [`read_chunk`](Self::read_chunk).
    pub async fn read_to_end(&mut self) -> Result<Bytes, Error> {
        let mut all = bytes::BytesMut::new();
        while let Some(chunk) = self.read_chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// The request's trailers, once the body has been read to its end, if it had any.
    pub fn request_trailers(&self) -> Option<&HeaderMap> {
        self.trailers_in.as_ref()
    }

    /// Sets the response status (HTTP.jl `setstatus`); 200 if never set.
    ///
    /// # Errors
    ///
    /// An invalid-input error for a status that is not one (`set_status(1000)`) or once
    /// the response head has been sent.
    pub fn set_status<S>(&mut self, status: S) -> Result<(), Error>
    where
        S: TryInto<StatusCode>,
        S::Error: Into<http::Error>,
    {
        self.not_started("set_status")?;
        let status = status.try_into().map_err(|err| {
            Error::invalid_input("invalid response status").with_source(err.into())
        })?;
        self.status = Some(status);
        Ok(())
    }

    /// Sets a response header, replacing any of that name (HTTP.jl `setheader`).
    ///
    /// # Errors
    ///
    /// An invalid-input error for an invalid name or value, or once the response head has
    /// been sent.
    pub fn set_header<K, V>(&mut self, name: K, value: V) -> Result<(), Error>
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        self.not_started("set_header")?;
        let (name, value) = header(name, value)?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Adds a response trailer, sent after the body when the response is closed (HTTP.jl
    /// `addtrailer`). Added before the head goes out, its name is also declared in the
    /// `Trailer` header, which HTTP/1.1 needs: there hyper sends a trailer only on a
    /// chunked response whose `Trailer` header names it, to a client that asked for
    /// trailers with `TE: trailers` (RFC 9110 §6.5.1, §10.1.4). HTTP/2 sends every
    /// trailer.
    ///
    /// # Errors
    ///
    /// An invalid-input error for an invalid name or value, or once the response is
    /// closed.
    pub fn add_trailer<K, V>(&mut self, name: K, value: V) -> Result<(), Error>
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        if self.trailers_tx.is_none() {
            return Err(Error::invalid_input(
                "add_trailer: the response is already closed",
            ));
        }
        let (name, value) = header(name, value)?;
        if is_forbidden_trailer(&name) {
            return Err(Error::invalid_input(format!(
                "add_trailer: {name} may not be sent as a trailer (RFC 9110 §6.5.1)"
            )));
        }
        if self.head_tx.is_some() && !self.trailers.contains_key(&name) {
            let declared = HeaderValue::from_str(name.as_str())
                .map_err(|err| Error::invalid_input("invalid trailer name").with_source(err))?;
            self.headers.append(TRAILER, declared);
        }
        self.trailers.append(name, value);
        Ok(())
    }

    /// Sends the response head: the status (200 unless set) and headers (HTTP.jl
    /// `startwrite`). [`write`](Self::write) calls it when needed. Calling it again does
    /// nothing.
    ///
    /// # Errors
    ///
    /// A request error when the connection is gone.
    pub fn start_write(&mut self) -> Result<(), Error> {
        let Some(head_tx) = self.head_tx.take() else {
            return Ok(());
        };
        let head = Head {
            parts: Some(self.response_parts(self.status.unwrap_or(StatusCode::OK))),
        };
        head_tx.send(head).map_err(|_| connection_gone())
    }

    /// Sends one chunk of the response body, starting the response if needed; returns
    /// once the connection has taken it. An empty chunk sends nothing.
    ///
    /// # Errors
    ///
    /// An invalid-input error after [`close_write`](Self::close_write); a request error
    /// when the client has gone away.
    pub async fn write(&mut self, chunk: impl Into<Bytes>) -> Result<(), Error> {
        self.start_write()?;
        let Some(frames) = &self.frames_tx else {
            return Err(Error::invalid_input(
                "write: the response is already closed",
            ));
        };
        let chunk = chunk.into();
        if chunk.is_empty() {
            return Ok(());
        }
        frames.send(chunk).await.map_err(|_| connection_gone())
    }

    /// Ends the response body, sending the trailers (HTTP.jl `closewrite`); starts the
    /// response first if it has not started. Later writes fail; closing again does
    /// nothing. Returning from the handler closes too.
    ///
    /// # Errors
    ///
    /// A request error when the connection is gone.
    pub fn close_write(&mut self) -> Result<(), Error> {
        self.start_write()?;
        self.frames_tx = None;
        if let Some(trailers_tx) = self.trailers_tx.take() {
            // A closed receiver: the client is gone, as `start_write` would have said.
            let _ = trailers_tx.send(std::mem::take(&mut self.trailers));
        }
        Ok(())
    }

    /// Takes the request, body unread, for [`stream_handler`](super::stream_handler).
    pub(crate) fn take_request(&mut self) -> Result<Request<Body>, Error> {
        let body = self.body.take().ok_or_else(|| {
            Error::invalid_input("the request body was already read from the stream")
        })?;
        let mut parts = Request::new(()).into_parts().0;
        parts.method = self.request.method.clone();
        parts.uri = self.request.uri.clone();
        parts.version = self.request.version;
        parts.headers = std::mem::take(&mut self.request.headers);
        parts.extensions = std::mem::take(&mut self.request.extensions);
        Ok(Request::from_parts(parts, body))
    }

    /// Appends a response header (for responses copied from a service).
    pub(crate) fn append_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.append(name, value);
    }

    /// Appends a trailer as it came (for responses copied from a service).
    pub(crate) fn append_trailer(&mut self, name: HeaderName, value: HeaderValue) {
        self.trailers.append(name, value);
    }

    fn not_started(&self, what: &str) -> Result<(), Error> {
        if self.head_tx.is_none() {
            return Err(Error::invalid_input(format!(
                "{what}: the response head has already been sent"
            )));
        }
        Ok(())
    }

    fn response_parts(&mut self, status: StatusCode) -> http::response::Parts {
        let mut parts = Response::new(()).into_parts().0;
        parts.status = status;
        parts.headers = std::mem::take(&mut self.headers);
        parts
    }
}

impl Drop for Stream {
    /// Sends what the handler left unsent: the head (500 if it never set a status), then
    /// the end of the body.
    fn drop(&mut self) {
        if let Some(head_tx) = self.head_tx.take() {
            let parts = self.status.map(|status| self.response_parts(status));
            let _ = head_tx.send(Head { parts });
        }
        self.frames_tx = None;
        if let Some(trailers_tx) = self.trailers_tx.take() {
            let _ = trailers_tx.send(std::mem::take(&mut self.trailers));
        }
    }
}

fn header<K, V>(name: K, value: V) -> Result<(HeaderName, HeaderValue), Error>
where
    K: TryInto<HeaderName>,
    K::Error: Into<http::Error>,
    V: TryInto<HeaderValue>,
    V::Error: Into<http::Error>,
{
    let name = name
        .try_into()
        .map_err(|err| Error::invalid_input("invalid header name").with_source(err.into()))?;
    let value = value.try_into().map_err(|err| {
        Error::invalid_input(format!("invalid value for header {name}")).with_source(err.into())
    })?;
    Ok((name, value))
}

/// A failed body read: the bound it broke is already an [`Error`]; anything else is the
/// client breaking off.
fn body_error(err: crate::BoxError) -> Error {
    match err.downcast::<Error>() {
        Ok(err) => *err,
        Err(err) => Error::request(err).with_message("reading the request body failed"),
    }
}

fn connection_gone() -> Error {
    Error::request(ConnectionGone).with_message("cannot write the response")
}

/// The response can no longer be written: the connection is gone.
#[derive(Debug)]
struct ConnectionGone;

impl fmt::Display for ConnectionGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the client connection is gone")
    }
}

impl std::error::Error for ConnectionGone {}
