//! [`StreamHandler`] and [`StreamService`]: a stream handler served as a tower service.
//!
//! The handler's future runs inside the response: the response future polls it until
//! the [`Stream`] hands over the head, then the response body ([`StreamBody`]) takes it
//! over and polls it while passing on the chunks it writes. No task is spawned per
//! request, and a client that goes away drops the body and with it the handler. The
//! handler future is boxed because it moves from the one to the other after being polled.

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{mpsc, oneshot};
use tower::Service;

use super::conn::catch_failure::panic_message;
use super::stream::{Head, Stream};
use crate::{BoxError, Error};

/// A stream handler (HTTP.jl `f(stream::HTTP.Stream)`), served by
/// [`listen`](super::listen): any `Fn(Stream) -> impl Future<Output = Result<(), Error>>`
/// that is `Clone + Send + 'static`, or a request handler adapted by
/// [`stream_handler`](super::stream_handler).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a stream handler",
    label = "not a stream handler",
    note = "a stream handler is an async fn or closure `Fn(httpstack::server::Stream) -> impl Future<Output = Result<(), httpstack::Error>>` that is Clone + Send + 'static",
    note = "for `Fn(Request) -> Response` handlers use `serve` with `handler_fn` instead of `listen`"
)]
pub trait StreamHandler: Clone + Send + 'static {
    /// The future of one request.
    type Future: Future<Output = Result<(), Error>> + Send + 'static;

    /// Handles one request.
    fn call(&self, stream: Stream) -> Self::Future;
}

impl<F, Fut> StreamHandler for F
where
    F: Fn(Stream) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    type Future = Fut;

    fn call(&self, stream: Stream) -> Fut {
        self(stream)
    }
}

/// A running handler: its result, or its panic.
type HandlerFuture =
    Pin<Box<dyn Future<Output = Result<Result<(), Error>, Box<dyn Any + Send>>> + Send>>;

/// A [`StreamHandler`] as a `tower::Service`, for the server to serve.
#[derive(Clone)]
pub(crate) struct StreamService<H> {
    handler: H,
}

impl<H> StreamService<H> {
    pub(crate) fn new(handler: H) -> Self {
        StreamService { handler }
    }
}

impl<H> fmt::Debug for StreamService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamService")
            .field("handler", &std::any::type_name::<H>())
            .finish()
    }
}

impl<H: StreamHandler> Service<Request<crate::Body>> for StreamService<H> {
    type Response = Response<StreamBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<crate::Body>) -> ResponseFuture {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let (stream, channels) = Stream::new(req);
        let handler = AssertUnwindSafe(self.handler.call(stream)).catch_unwind();
        ResponseFuture {
            handler: Some(Box::pin(handler)),
            failed: false,
            head: channels.head,
            body: Some(StreamBody {
                handler: None,
                frames: Some(channels.frames),
                trailers: Some(channels.trailers),
                finished: false,
                method: method.clone(),
                path: path.clone(),
            }),
            method,
            path,
        }
    }
}

/// The response future of a stream handler: resolves when the head is sent.
pub(crate) struct ResponseFuture {
    handler: Option<HandlerFuture>,
    /// The handler failed before the head went out: answer 500.
    failed: bool,
    head: oneshot::Receiver<Head>,
    body: Option<StreamBody>,
    method: Method,
    path: String,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<StreamBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(handler) = &mut this.handler {
            if let Poll::Ready(outcome) = handler.as_mut().poll(cx) {
                this.handler = None;
                this.failed = log_failure(outcome, &this.method, &this.path).is_err();
            }
        }
        let head = match Pin::new(&mut this.head).poll(cx) {
            Poll::Ready(Ok(head)) => head,
            // Cannot happen: the stream sends a head when dropped.
            Poll::Ready(Err(_)) => {
                return Poll::Ready(Ok(status_only(StatusCode::INTERNAL_SERVER_ERROR)))
            }
            // The head is not sent yet, by the handler or by a task it gave the stream.
            Poll::Pending => return Poll::Pending,
        };
        // (A body that broke a bound usually fails the handler too: the connection then
        // answers 413 or 408 in place of the 500.)
        let status = if this.failed {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            match (head.parts, this.body.take()) {
                (Some(parts), Some(mut body)) => {
                    body.handler = this.handler.take();
                    return Poll::Ready(Ok(Response::from_parts(parts, body)));
                }
                (None, _) => {
                    tracing::error!(
                        method = %this.method,
                        path = %this.path,
                        "stream handler returned without setting a status; answering 500"
                    );
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                (Some(_), None) => StatusCode::INTERNAL_SERVER_ERROR, // polled after completion
            }
        };
        Poll::Ready(Ok(status_only(status)))
    }
}

/// Logs a failed handler (as HTTP.jl does) and says whether it failed.
fn log_failure(
    outcome: Result<Result<(), Error>, Box<dyn Any + Send>>,
    method: &Method,
    path: &str,
) -> Result<(), BoxError> {
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::error!(%method, path, error = %err, "stream handler failed");
            Err(Box::new(err))
        }
        Err(panic) => {
            let message = panic_message(&*panic).to_owned();
            tracing::error!(%method, path, panic = %message, "stream handler panicked");
            Err(message.into())
        }
    }
}

/// An empty response with `status` (HTTP.jl sends 500s with an empty body too).
fn status_only(status: StatusCode) -> Response<StreamBody> {
    let mut response = Response::new(StreamBody {
        handler: None,
        frames: None,
        trailers: None,
        finished: false,
        method: Method::GET,
        path: String::new(),
    });
    *response.status_mut() = status;
    response
}

/// The response body of a stream handler: the chunks it writes, then its trailers. It
/// drives the handler while there is anything to wait for.
pub(crate) struct StreamBody {
    handler: Option<HandlerFuture>,
    frames: Option<mpsc::Receiver<Bytes>>,
    trailers: Option<oneshot::Receiver<HeaderMap>>,
    /// The body ended normally (not cut off by the client leaving).
    finished: bool,
    method: Method,
    path: String,
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("running", &self.handler.is_some())
            .field("open", &self.frames.is_some())
            .finish_non_exhaustive()
    }
}

impl Body for StreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if let Some(frames) = &mut this.frames {
                match frames.poll_recv(cx) {
                    Poll::Ready(Some(chunk)) => return Poll::Ready(Some(Ok(Frame::data(chunk)))),
                    Poll::Ready(None) => this.frames = None,
                    Poll::Pending => {}
                }
            }
            if this.frames.is_some() {
                // Waiting for the next chunk: run the handler until it writes one.
                let Some(handler) = &mut this.handler else {
                    return Poll::Pending; // a task the handler gave the stream writes it
                };
                match handler.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(outcome) => {
                        this.handler = None;
                        if let Err(err) = log_failure(outcome, &this.method, &this.path) {
                            // The head is out: all that is left is cutting the response off.
                            this.frames = None;
                            this.trailers = None;
                            return Poll::Ready(Some(Err(err)));
                        }
                        continue; // the stream is dropped: drain what it wrote
                    }
                }
            }
            if let Some(trailers) = &mut this.trailers {
                match Pin::new(trailers).poll(cx) {
                    Poll::Ready(Ok(trailers)) => {
                        this.trailers = None;
                        if !trailers.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                        }
                    }
                    Poll::Ready(Err(_)) => this.trailers = None,
                    Poll::Pending => return Poll::Pending,
                }
            }
            this.finished = true;
            return Poll::Ready(None);
        }
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if self.is_end_stream() {
            SizeHint::with_exact(0)
        } else {
            SizeHint::default()
        }
    }
}

impl Drop for StreamBody {
    /// A handler still running after closing its response (HTTP.jl lets it run on) is
    /// finished in a task of its own. One whose client went away is dropped.
    fn drop(&mut self) {
        if !self.finished {
            return;
        }
        if let Some(handler) = self.handler.take() {
            let (method, path) = (self.method.clone(), std::mem::take(&mut self.path));
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = log_failure(handler.await, &method, &path);
                });
            }
        }
    }
}
