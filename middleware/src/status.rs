//! `status_exception`: a response whose status counts as an error becomes a `StatusError`.
//!
//! HTTP.jl raises `StatusError` "when an HTTP.Response has a 4xx, 5xx or unrecognised
//! status code" (`status_exception = true` by default). Redirects (3xx) are left to the
//! redirect layer and informational / success statuses pass. The error carries the
//! status, and the response with its body read (up to [`ERROR_BODY_LIMIT`] bytes, so a
//! huge error page cannot exhaust memory) — like HTTP.jl's `StatusError.response`.
//! A request overrides the layer's setting with a [`StatusConfig`] extension.
//!
//! ```
//! use httpstack_middleware::status::StatusLayer;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let not_found = service_fn(|_req: http::Request<()>| async {
//!     let resp = http::Response::builder().status(404).body(String::from("no such page")).unwrap();
//!     Ok::<_, std::convert::Infallible>(resp)
//! });
//! let err = StatusLayer::new().layer(not_found).oneshot(http::Request::new(())).await.unwrap_err();
//! assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
//! assert_eq!(err.response().unwrap().body(), "no such page");
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::{Request, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::error::{BoxError, Error};

/// How much of an error response's body the `StatusError` keeps.
pub const ERROR_BODY_LIMIT: usize = 1024 * 1024;

/// Per-request `status_exception` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusConfig {
    /// Turn error statuses into `StatusError` (default true).
    pub status_exception: bool,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            status_exception: true,
        }
    }
}

/// HTTP.jl's rule: 4xx, 5xx and statuses outside 100–599 are errors.
pub fn is_error_status(status: StatusCode) -> bool {
    let code = status.as_u16();
    !(100..400).contains(&code)
}

/// Turns error statuses into `StatusError`s; see the [module docs](self).
///
/// ```
/// use httpstack_middleware::status::StatusLayer;
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let client = ServiceBuilder::new()
///     .layer(StatusLayer::new())
///     // Any inner error converts (`Into<BoxError>`), a bare hyper-util client's included.
///     .service(service_fn(|_req: http::Request<()>| async {
///         let resp = http::Response::builder().status(404).body(String::from("no such page"));
///         Ok::<_, std::io::Error>(resp.unwrap())
///     }));
/// let err = client.oneshot(http::Request::new(())).await.unwrap_err();
/// assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
/// assert_eq!(err.response().unwrap().body(), "no such page");
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct StatusLayer {
    config: StatusConfig,
}

impl StatusLayer {
    /// A layer with `status_exception = true`.
    pub fn new() -> Self {
        StatusLayer::default()
    }

    /// Sets the default `status_exception`.
    pub fn status_exception(mut self, on: bool) -> Self {
        self.config.status_exception = on;
        self
    }
}

impl<S> Layer<S> for StatusLayer {
    type Service = Status<S>;

    fn layer(&self, inner: S) -> Status<S> {
        Status {
            inner,
            config: self.config,
        }
    }
}

/// The service of [`StatusLayer`].
#[derive(Clone, Debug)]
pub struct Status<S> {
    inner: S,
    config: StatusConfig,
}

impl<S> Status<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, config: StatusConfig) -> Self {
        Status { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Status<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    ResB: Body,
    ResB::Error: Into<BoxError>,
{
    type Response = Response<ResB>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| Error::from_boxed(e.into()))
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let config = req
            .extensions()
            .get::<StatusConfig>()
            .copied()
            .unwrap_or(self.config);
        ResponseFuture {
            state: State::Waiting {
                fut: self.inner.call(req),
            },
            check: config.status_exception,
        }
    }
}

pin_project! {
    /// The future of [`Status`]: waits for the response, then reads an error's body.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        check: bool,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Waiting { #[pin] fut: F },
        Reading { parts: Option<http::response::Parts>, #[pin] body: B, buf: BytesMut },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<B>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Waiting { fut } => {
                    let resp = ready!(fut.poll(cx)).map_err(|e| Error::from_boxed(e.into()))?;
                    if !*this.check || !is_error_status(resp.status()) {
                        return Poll::Ready(Ok(resp));
                    }
                    let (parts, body) = resp.into_parts();
                    this.state.set(State::Reading {
                        parts: Some(parts),
                        body,
                        buf: BytesMut::new(),
                    });
                }
                StateProj::Reading {
                    parts,
                    mut body,
                    buf,
                } => {
                    // A failing or endless error body still yields the StatusError, with
                    // what was read: the status is the error worth reporting.
                    let done = match ready!(body.as_mut().poll_frame(cx)) {
                        Some(Ok(frame)) => {
                            if let Ok(mut data) = frame.into_data() {
                                let room = ERROR_BODY_LIMIT.saturating_sub(buf.len());
                                let take = room.min(data.remaining());
                                buf.extend_from_slice(&data.copy_to_bytes(take));
                            }
                            buf.len() >= ERROR_BODY_LIMIT
                        }
                        Some(Err(_)) | None => true,
                    };
                    if done {
                        let parts = parts
                            .take()
                            .unwrap_or_else(|| Response::new(()).into_parts().0);
                        let resp = Response::from_parts(parts, Bytes::from(std::mem::take(buf)));
                        return Poll::Ready(Err(Error::status_error(resp)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_error_body_is_kept_up_to_its_limit() {
        use tower::{service_fn, ServiceExt};
        for (len, kept) in [
            (ERROR_BODY_LIMIT, ERROR_BODY_LIMIT),
            (ERROR_BODY_LIMIT + 1, ERROR_BODY_LIMIT),
            (10, 10),
        ] {
            let svc = service_fn(move |_req: Request<()>| async move {
                // Two frames, so the limit falls inside the second one when it is passed.
                let half = Bytes::from(vec![b'e'; len / 2]);
                let rest = Bytes::from(vec![b'e'; len - len / 2]);
                let frames = futures_util::stream::iter(
                    [half, rest]
                        .map(|b| Ok::<_, std::convert::Infallible>(http_body::Frame::data(b))),
                );
                let body = http_body_util::StreamBody::new(frames);
                Ok::<_, std::convert::Infallible>(
                    Response::builder().status(500).body(body).unwrap(),
                )
            });
            let err = StatusLayer::new()
                .layer(svc)
                .oneshot(Request::new(()))
                .await
                .unwrap_err();
            assert_eq!(
                err.response().unwrap().body().len(),
                kept,
                "body of {len} bytes"
            );
        }
    }

    #[test]
    fn error_statuses_follow_http_jl() {
        for (code, expected) in [
            (200, false),
            (204, false),
            (301, false),
            (304, false),
            (399, false),
            (400, true),
            (404, true),
            (500, true),
            (599, true),
            (600, true),
            (999, true),
        ] {
            assert_eq!(
                is_error_status(StatusCode::from_u16(code).unwrap()),
                expected,
                "status {code}"
            );
        }
    }
}
