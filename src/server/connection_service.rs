//! [`ConnectionService`]: the hyper service of one connection, around the user's service
//! (already made failure-proof by [`CatchFailure`]).
//!
//! Per request it
//! - puts the client's address in the extensions as [`PeerAddr`], when asked to;
//! - answers `413 Content Too Large` (RFC 9110 §15.5.14) without calling the handler
//!   when `Content-Length` is over `max_body_bytes`, and replaces the handler's response
//!   with a 413 when the body turned out too large while being read (HTTP/1 chunked, see
//!   `request_framing`);
//! - marks the request in flight on the connection's [`Activity`] until its response
//!   body is finished, which the idle and write timeouts go by, and notes upgrades;
//! - on HTTP/2, arms `write_timeout` for the request's stream (see
//!   [`stream_deadline`](super::stream_deadline)). (HTTP/1 bounds the whole connection
//!   instead, in its timers.)
//! - on HTTP/2, hands the handler a body bounded by `max_body_bytes` and `read_timeout`
//!   (see [`relayed_body`](super::relayed_body)), and answers 413 when it overflowed.
//!   (HTTP/1 bounds the connection's bytes instead, in `connection_io`.)

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::{header, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tower::Service;

use super::activity::{Activity, InFlight};
use super::catch_failure::{self, CatchFailure};
use super::peer_addr::PeerAddr;
use super::pipelining::PipelineCounters;
use super::relayed_body::{self, RelayBounds};
use super::stream_deadline;
use crate::BoxError;

/// What a connection's requests are bounded by.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RequestLimits {
    pub(crate) max_body_bytes: Option<u64>,
    /// HTTP/1: `write_timeout`, started per request here, enforced by the timers.
    pub(crate) connection_write_timeout: Option<Duration>,
    /// HTTP/2: `write_timeout`, armed per stream here.
    pub(crate) stream_write_timeout: Option<Duration>,
    /// HTTP/2 with `max_body_bytes` or `read_timeout`, for request handlers: the bounds
    /// of a relayed body. (A stream handler's [`Stream`](super::Stream) bounds its own.)
    pub(crate) relay: Option<RelayBounds>,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ConnectionService<S> {
    inner: CatchFailure<S>,
    /// `Some` when requests carry a [`PeerAddr`].
    peer: Option<SocketAddr>,
    activity: Option<Arc<Activity>>,
    limits: RequestLimits,
    /// HTTP/1: the requests started, for the IO's [`Pipelining`](super::pipelining).
    pipeline: Option<Arc<PipelineCounters>>,
}

impl<S> ConnectionService<S> {
    pub(crate) fn new(
        inner: S,
        peer: Option<SocketAddr>,
        activity: Option<Arc<Activity>>,
        limits: RequestLimits,
        pipeline: Option<Arc<PipelineCounters>>,
    ) -> Self {
        ConnectionService {
            inner: CatchFailure::new(inner),
            peer,
            activity,
            limits,
            pipeline,
        }
    }
}

impl<S, B> hyper::service::Service<Request<Incoming>> for ConnectionService<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body,
{
    type Response = Response<ConnectionBody<B>>;
    type Error = Infallible;
    type Future = ResponseFuture<S>;

    #[inline]
    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        if let Some(pipeline) = &self.pipeline {
            // hyper gives a request asking to switch protocols its `OnUpgrade`.
            let upgrade = req.method() == Method::CONNECT
                || req
                    .extensions()
                    .get::<hyper::upgrade::OnUpgrade>()
                    .is_some();
            pipeline.request_started(upgrade);
        }
        if let Some(peer) = self.peer {
            req.extensions_mut().insert(PeerAddr(peer));
        }
        let (in_flight, request) = match &self.activity {
            Some(activity) => {
                let request = activity.request_started(self.limits.connection_write_timeout);
                (Some(InFlight::new(activity.clone())), request)
            }
            None => (None, 0),
        };
        // Set on HTTP/2 connections only, where hyper spawns this request's stream next.
        if let Some(timeout) = self.limits.stream_write_timeout {
            stream_deadline::arm(timeout);
        }
        let close = req.version() < Version::HTTP_2;
        let length = self
            .limits
            .max_body_bytes
            .and_then(|max| content_length(&req).map(|len| (len, max)));
        let too_large = length.is_some_and(|(len, max)| len > max);
        if too_large {
            // The handler never sees it; the body stays unread, so HTTP/1 closes after
            // answering (RFC 9110 §15.5.14) and lingers to avoid a reset.
            if let (true, Some(activity)) = (close, &self.activity) {
                activity.set_linger();
            }
            return ResponseFuture {
                inner: None,
                relaying: None,
                overflowed: None,
                in_flight,
                request,
                upgrade: None,
                close,
            };
        }
        let upgrade = self.activity.is_some().then_some(()).and_then(|()| {
            let connect = req.method() == Method::CONNECT;
            (connect || req.headers().contains_key(header::UPGRADE)).then_some(connect)
        });
        let relay = self.limits.relay.filter(|bounds| {
            req.version() == Version::HTTP_2 && bounds.needs_relay(&req, length.map(|(len, _)| len))
        });
        if let Some(bounds) = relay {
            let overflowed = Arc::new(AtomicBool::new(false));
            let (parts, body) = req.into_parts();
            let relaying = Relaying {
                body: Box::pin(relayed_body::relay(body, bounds, overflowed.clone())),
                parts: Some(parts),
                service: self.inner.clone(),
            };
            return ResponseFuture {
                inner: None,
                relaying: Some(Box::new(relaying)),
                overflowed: Some(overflowed),
                in_flight,
                request,
                upgrade,
                close,
            };
        }
        ResponseFuture {
            inner: Some(self.inner.call(req)),
            relaying: None,
            overflowed: None,
            in_flight,
            request,
            upgrade,
            close,
        }
    }
}

/// An HTTP/2 request waiting for its relayed body before its handler is called.
struct Relaying<S> {
    body: Pin<Box<dyn Future<Output = Result<Incoming, hyper::Error>> + Send>>,
    parts: Option<http::request::Parts>,
    service: CatchFailure<S>,
}

/// The request's `Content-Length`, when it has a valid one.
fn content_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pin_project! {
    /// The response future of [`ConnectionService`].
    pub(crate) struct ResponseFuture<S>
    where
        S: Service<Request<Incoming>>,
    {
        // `None`: answered 413 from the request head, or still relaying.
        #[pin]
        inner: Option<catch_failure::ResponseFuture<S, Request<Incoming>>>,
        relaying: Option<Box<Relaying<S>>>,
        // HTTP/2, relayed: set when the body went past `max_body_bytes`.
        overflowed: Option<Arc<AtomicBool>>,
        in_flight: Option<InFlight>,
        request: u64,
        // `Some(is_connect)` for a request asking to switch protocols.
        upgrade: Option<bool>,
        // HTTP/1: a 413 also closes the connection.
        close: bool,
    }
}

impl<S, B> Future for ResponseFuture<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body,
{
    type Output = Result<Response<ConnectionBody<B>>, Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(relaying) = this.relaying.as_mut() {
            let body = ready!(relaying.body.as_mut().poll(cx));
            let (parts, service) = (relaying.parts.take(), relaying.service.clone());
            *this.relaying = None;
            match (body, parts) {
                (Ok(body), Some(parts)) => {
                    let req = Request::from_parts(parts, body);
                    this.inner.set(Some(service.call(req)));
                }
                (body, _) => {
                    let error = body.err().map(|err| err.to_string());
                    tracing::error!(
                        ?error,
                        "relaying an HTTP/2 request body failed; answering 500"
                    );
                    let status = StatusCode::INTERNAL_SERVER_ERROR;
                    return Poll::Ready(Ok(empty(status, this.in_flight.take(), false)));
                }
            }
        }
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(Ok(too_large(this.in_flight.take(), *this.close)));
        };
        // `None`: the handler failed (logged), it gets a 500.
        let response = ready!(inner.poll(cx));
        let relay_overflowed = this
            .overflowed
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Acquire));
        let overflowed = match this.in_flight.as_ref().map(InFlight::activity) {
            _ if relay_overflowed => true,
            Some(activity) if activity.body_overflowed(*this.request) => true,
            Some(activity) => {
                if let Some(connect) = *this.upgrade {
                    let status = response
                        .as_ref()
                        .map_or(StatusCode::INTERNAL_SERVER_ERROR, Response::status);
                    if status == StatusCode::SWITCHING_PROTOCOLS || (connect && status.is_success())
                    {
                        activity.mark_upgraded();
                    } else {
                        activity.refuse_upgrade();
                    }
                }
                false
            }
            None => false,
        };
        if overflowed {
            // The handler answered after its body failed: the client gets the 413.
            return Poll::Ready(Ok(too_large(this.in_flight.take(), *this.close)));
        }
        let Some(response) = response else {
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            return Poll::Ready(Ok(empty(status, this.in_flight.take(), false)));
        };
        Poll::Ready(Ok(response.map(|body| ConnectionBody {
            inner: Either::Left(body),
            in_flight: this.in_flight.take(),
        })))
    }
}

/// An empty `413 Content Too Large`.
fn too_large<B: Body>(in_flight: Option<InFlight>, close: bool) -> Response<ConnectionBody<B>> {
    empty(StatusCode::PAYLOAD_TOO_LARGE, in_flight, close)
}

/// An empty response with `status`; `close`: with `Connection: close`.
fn empty<B: Body>(
    status: StatusCode,
    in_flight: Option<InFlight>,
    close: bool,
) -> Response<ConnectionBody<B>> {
    let mut response = Response::new(ConnectionBody {
        inner: Either::Right(Empty::new()),
        in_flight,
    });
    *response.status_mut() = status;
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The body of a served response: the service's own, or the empty body of a 500 or 413.
type ServedBody<B> = Either<B, Empty<<B as Body>::Data>>;

pin_project! {
    /// A served response body: ends the request's in-flight mark when finished or
    /// dropped.
    pub(crate) struct ConnectionBody<B: Body> {
        #[pin]
        inner: ServedBody<B>,
        in_flight: Option<InFlight>,
    }
}

impl<B: Body> fmt::Debug for ConnectionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionBody").finish_non_exhaustive()
    }
}

impl<B> Body for ConnectionBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(None) => {
                this.in_flight.take();
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => Poll::Ready(Some(frame)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
