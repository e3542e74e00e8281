//! [`ConnectionService`]: the hyper service of one connection, around the user's service
//! (already made failure-proof by [`CatchFailure`]).
//!
//! Per request it
//! - puts the client's address in the extensions as [`PeerAddr`], when asked to;
//! - refuses with `400 Bad Request`, and closes, an HTTP/1 request head that breaks a
//!   rule of RFC 9112 hyper leaves to the server (see [`request_head`](super::request_head));
//! - answers `413 Content Too Large` (RFC 9110 §15.5.14) without calling the handler
//!   when `Content-Length` is over `max_body_bytes`;
//! - hands the handler hyper's body inside httpstack's [`Body`](crate::Body), bounded by
//!   `max_body_bytes` and `read_timeout` (see [`request_body`](super::request_body)), and
//!   replaces the handler's response with a 413 or 408 when the body broke a bound
//!   before the response was made; HTTP/1 then closes the connection;
//! - marks the request in flight on the connection's [`Activity`] until its response
//!   body is finished, which the idle and write timeouts go by, and notes upgrades;
//! - on HTTP/2, arms `write_timeout` for the request's stream (see
//!   [`stream_deadline`](super::stream_deadline)). (HTTP/1 bounds the whole connection
//!   instead, in its timers.)
//! - sends no body for a HEAD request, keeping its `Content-Length` (hyper does so for
//!   HTTP/1 only);
//! - sends a response with both `Transfer-Encoding` and `Content-Length` without the
//!   length (RFC 9112 §6.3), and never sends a trailer field RFC 9110 §6.5.1 forbids.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
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
use super::pipelining::PipelineCounters;
use super::request_body::{self, BodyBounds, Breach, Broken};
use super::request_head;
use super::stream_deadline;
use crate::server::peer_addr::PeerAddr;
use crate::BoxError;

/// What a connection's requests are bounded by.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RequestLimits {
    /// `max_body_bytes` and `read_timeout`, on each request body.
    pub(crate) body: BodyBounds,
    /// HTTP/1: `write_timeout`, started per request here, enforced by the timers.
    pub(crate) connection_write_timeout: Option<Duration>,
    /// HTTP/2: `write_timeout`, armed per stream here.
    pub(crate) stream_write_timeout: Option<Duration>,
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
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone,
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
        let http1 = req.version() < Version::HTTP_2;
        let mut answer = ResponseFuture {
            inner: None,
            early: None,
            breach: None,
            in_flight,
            request,
            upgrade: None,
            http1,
            head: req.method() == Method::HEAD,
        };
        if http1 {
            if let Err(refusal) = request_head::check_http1(&req) {
                tracing::debug!(
                    method = %req.method(),
                    uri = %req.uri(),
                    refusal,
                    "refusing an HTTP/1 request head with 400"
                );
                answer.early = Some(StatusCode::BAD_REQUEST);
                answer.close_unread(&self.activity);
                return answer;
            }
        }
        // Read only when a limit needs it: this runs on every request.
        let max = self.limits.body.max_body_bytes;
        let length = max.and_then(|_| content_length(&req));
        if let (Some(len), Some(max)) = (length, max) {
            if len > max {
                // The handler never sees it; the body stays unread, so HTTP/1 closes
                // after answering (RFC 9110 §15.5.14) and lingers to avoid a reset.
                answer.early = Some(StatusCode::PAYLOAD_TOO_LARGE);
                answer.close_unread(&self.activity);
                return answer;
            }
        }
        answer.upgrade = self.activity.is_some().then_some(()).and_then(|()| {
            let connect = req.method() == Method::CONNECT;
            (connect || req.headers().contains_key(header::UPGRADE)).then_some(connect)
        });
        let (parts, body) = req.into_parts();
        let (body, breach) = request_body::bound(body, self.limits.body, length);
        answer.breach = breach;
        answer.inner = Some(self.inner.call(Request::from_parts(parts, body)));
        answer
    }
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
        S: Service<Request<crate::Body>>,
    {
        // `None`: answered from the request head (`early`).
        #[pin]
        inner: Option<catch_failure::ResponseFuture<S, Request<crate::Body>>>,
        early: Option<StatusCode>,
        // Set when the request body is bounded: which bound it broke, if any.
        breach: Option<Arc<Breach>>,
        in_flight: Option<InFlight>,
        request: u64,
        // `Some(is_connect)` for a request asking to switch protocols.
        upgrade: Option<bool>,
        // HTTP/1: an answer that leaves the request body unread closes the connection.
        http1: bool,
        // A HEAD request: the response goes without its body.
        head: bool,
    }
}

impl<S> ResponseFuture<S>
where
    S: Service<Request<crate::Body>>,
{
    /// HTTP/1: the answer leaves request bytes unread, so the connection closes after it,
    /// lingering so the client reads the answer rather than a reset.
    fn close_unread(&mut self, activity: &Option<Arc<Activity>>) {
        if let (true, Some(activity)) = (self.http1, activity) {
            activity.set_linger();
        }
    }
}

impl<S, B> Future for ResponseFuture<S>
where
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body,
{
    type Output = Result<Response<ConnectionBody<B>>, Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            let status = this.early.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Poll::Ready(Ok(empty(status, this.in_flight.take(), *this.http1)));
        };
        // `None`: the handler failed (logged), it gets a 500.
        let mut response = ready!(inner.poll(cx));
        let broken = this.breach.as_ref().and_then(|breach| breach.get());
        if let Some(broken) = broken {
            // The handler answered after its body broke a bound: the client gets the
            // bound's status (the handler's own response when it says the same), and
            // HTTP/1 closes, as the rest of the body is unread.
            let status = match broken {
                Broken::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                Broken::TimedOut => StatusCode::REQUEST_TIMEOUT,
            };
            if let (true, Some(in_flight)) = (*this.http1, this.in_flight.as_ref()) {
                in_flight.activity().set_linger();
            }
            match &mut response {
                Some(own) if own.status() == status => {
                    if *this.http1 {
                        own.headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    }
                }
                _ => return Poll::Ready(Ok(empty(status, this.in_flight.take(), *this.http1))),
            }
        }
        if let (Some(connect), Some(in_flight)) = (*this.upgrade, this.in_flight.as_ref()) {
            let status = response
                .as_ref()
                .map_or(StatusCode::INTERNAL_SERVER_ERROR, Response::status);
            if status == StatusCode::SWITCHING_PROTOCOLS || (connect && status.is_success()) {
                in_flight.activity().mark_upgraded();
            }
        }
        let Some(mut response) = response else {
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            return Poll::Ready(Ok(empty(status, this.in_flight.take(), false)));
        };
        let headers = response.headers_mut();
        // A scan rather than a hashed look-up: a response has few fields, and this runs
        // on every one.
        if headers.keys().any(|name| name == header::TRANSFER_ENCODING) {
            // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; a sender must
            // not send both. hyper would refuse the response and drop the connection.
            headers.remove(header::CONTENT_LENGTH);
        }
        if *this.head && !*this.http1 {
            // RFC 9110 §9.3.2: the head a GET would get, without the content. hyper drops
            // a HEAD response's body on HTTP/1 only; on HTTP/2 it would send it.
            if let Some(len) = response.body().size_hint().exact() {
                if !response.headers().contains_key(header::CONTENT_LENGTH) {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
                }
            }
            let (parts, _) = response.into_parts();
            let body = ConnectionBody {
                inner: Either::Right(Empty::new()),
                in_flight: this.in_flight.take(),
            };
            return Poll::Ready(Ok(Response::from_parts(parts, body)));
        }
        Poll::Ready(Ok(response.map(|body| ConnectionBody {
            inner: Either::Left(body),
            in_flight: this.in_flight.take(),
        })))
    }
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

/// The body of a served response: the service's own, or the empty body of an answer the
/// connection made.
type ServedBody<B> = Either<B, Empty<<B as Body>::Data>>;

pin_project! {
    /// A served response body: ends the request's in-flight mark when finished or
    /// dropped, and keeps forbidden fields out of its trailers.
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
        match ready!(this.inner.poll_frame(cx)) {
            None => {
                this.in_flight.take();
                Poll::Ready(None)
            }
            Some(Ok(frame)) if frame.is_trailers() => {
                let (frame, removed) = crate::middleware::trailers::strip_forbidden_trailers(frame);
                if removed > 0 {
                    tracing::warn!(
                        removed,
                        "a response's trailers held fields RFC 9110 §6.5.1 forbids there; \
                         not sent"
                    );
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(frame) => Poll::Ready(Some(frame)),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
