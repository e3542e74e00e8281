//! `OpenStream`: HTTP.jl's `HTTP.open` — write the request body piece by piece, then read
//! the response piece by piece. Both directions are streamed; nothing is buffered whole.

use bytes::Bytes;
use http::{Request, Response as HttpResponse, Uri};
use http_body_util::BodyExt;
use tokio::task::JoinHandle;

use super::builder::Client;
use super::request::exchange;
use super::response::Response;
use crate::{Body, BodySender, Error};

/// How many written chunks may wait for the connection before `write` waits.
const WRITE_QUEUE: usize = 8;

/// A request in flight whose body the caller writes and whose response it reads.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     http::Response::new(req.into_body())
/// # })).await?;
/// # let url = format!("http://127.0.0.1:{}/echo", server.port());
/// let mut stream = httpstack::Client::new().open(http::Method::POST, &url)?;
/// stream.write("hello, ").await?;
/// stream.write("world").await?;
/// let head = stream.start_read().await?;          // ends the body, waits for the head
/// assert_eq!(head.status(), 200);
/// let mut echoed = Vec::new();
/// while let Some(chunk) = stream.read_chunk().await? {
///     echoed.extend_from_slice(&chunk);
/// }
/// stream.close_read().await?;
/// assert_eq!(echoed, b"hello, world");
/// # server.close().await; Ok(()) }
/// ```
pub struct OpenStream {
    sender: Option<BodySender>,
    pending: Option<JoinHandle<Result<HttpResponse<Body>, Error>>>,
    body: Option<Body>,
    method: http::Method,
    uri: Uri,
}

impl std::fmt::Debug for OpenStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStream")
            .field("method", &self.method)
            .field(
                "url",
                &httpstack_middleware::error::redact(&self.uri.to_string()),
            )
            .field("writing", &self.sender.is_some())
            .finish_non_exhaustive()
    }
}

impl OpenStream {
    pub(crate) fn start(client: Client, mut request: Request<Body>, verbose: u8) -> OpenStream {
        let (sender, body) = Body::channel(WRITE_QUEUE);
        *request.body_mut() = body;
        let method = request.method().clone();
        let uri = request.uri().clone();
        // The exchange must make progress while the caller is writing, so it runs as its
        // own task; dropping the OpenStream aborts it.
        let (task_method, task_uri) = (method.clone(), uri.clone());
        let pending = tokio::spawn(async move {
            exchange(
                client.inner.stack.clone(),
                request,
                verbose,
                &task_method,
                &task_uri,
            )
            .await
        });
        OpenStream {
            sender: Some(sender),
            pending: Some(pending),
            body: None,
            method,
            uri,
        }
    }

    fn fail(&self, e: Error) -> Error {
        e.with_request(&self.method, &self.uri)
    }

    /// Writes one piece of the request body (sent as one chunk). Waits while earlier
    /// pieces are still queued. Fails once the body was ended or the request failed.
    pub async fn write(&mut self, chunk: impl Into<Bytes>) -> Result<(), Error> {
        let Some(sender) = &self.sender else {
            return Err(self.fail(Error::invalid_input(
                "the request body was already ended by start_read",
            )));
        };
        if sender.send(chunk).await.is_ok() {
            return Ok(());
        }
        // The body's receiver is gone: the exchange ended; report why.
        self.sender = None;
        match self.response_head().await {
            Err(e) => Err(e),
            Ok(_) => Err(self.fail(Error::body(
                "the server answered before the request body was complete",
            ))),
        }
    }

    /// Ends the request body and waits for the response head (HTTP.jl `startread`). The
    /// returned `Response` has an empty body: read it with [`OpenStream::read_chunk`].
    pub async fn start_read(&mut self) -> Result<Response, Error> {
        self.sender = None;
        let parts = self.response_head().await?;
        Ok(Response::new(
            parts,
            self.method.clone(),
            self.uri.clone(),
            Bytes::new(),
        ))
    }

    async fn response_head(&mut self) -> Result<http::response::Parts, Error> {
        let Some(pending) = self.pending.take() else {
            return Err(self.fail(Error::invalid_input("the response head was already read")));
        };
        let response = pending
            .await
            .map_err(|e| self.fail(Error::request(e).with_message("the request task failed")))??;
        let (parts, body) = response.into_parts();
        self.body = Some(body);
        Ok(parts)
    }

    /// The next piece of the response body, `None` at its end (HTTP.jl `readavailable` /
    /// `eof`). Calls [`OpenStream::start_read`] first if it was not called yet.
    pub async fn read_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if self.body.is_none() {
            if self.pending.is_none() {
                return Ok(None);
            }
            self.start_read().await?;
        }
        let Some(body) = &mut self.body else {
            return Ok(None);
        };
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| Error::from_boxed(e).with_request(&self.method, &self.uri))?;
            if let Ok(data) = frame.into_data() {
                if !data.is_empty() {
                    return Ok(Some(data));
                }
            }
        }
        self.body = None;
        Ok(None)
    }

    /// Reads and discards what is left of the response, so the connection can go back to
    /// the pool (HTTP.jl `closeread`). A response that ends early is an error.
    pub async fn close_read(&mut self) -> Result<(), Error> {
        while self.read_chunk().await?.is_some() {}
        Ok(())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        if let Some(pending) = &self.pending {
            pending.abort();
        }
    }
}
