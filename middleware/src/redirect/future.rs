use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use http::header::{self, HeaderMap};
use http::{request, Request, Response};
use pin_project_lite::pin_project;
use tower::Service;

use super::chain::{RedirectChain, RedirectHop};
use super::policy::{self, CREDENTIAL_HEADERS};
use super::RedirectConfig;
use crate::body::TryCloneBody;
use crate::cross_origin::CrossOriginRedirect;
use crate::error::{redact, BoxError, Error, ErrorKind};

/// How much of a redirect's body is read (when it has already arrived) so its connection
/// can go back to the pool; a longer or slower body is dropped with its connection.
const DRAIN_LIMIT: usize = 64 * 1024;

pin_project! {
    /// The future of [`Redirect`](super::Redirect): one exchange, then one more per
    /// redirect followed.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S::Future, B>,
        // `None` when no redirect is followed: the inner future's result passes through.
        follow: Option<Follow<S, B>>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        // Waiting for the inner service's response.
        Calling { #[pin] fut: F },
        // Waiting for the inner service to be ready for the next hop.
        Ready { req: Option<Request<B>> },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(super) fn passthrough(fut: S::Future) -> Self {
        ResponseFuture {
            state: State::Calling { fut },
            follow: None,
        }
    }

    pub(super) fn following(fut: S::Future, follow: Follow<S, B>) -> Self {
        ResponseFuture {
            state: State::Calling { fut },
            follow: Some(follow),
        }
    }
}

/// What a redirect chain keeps between hops.
pub(super) struct Follow<S, B> {
    /// A clone of the inner service, for the next hops.
    service: S,
    /// The head of the request in flight; the next hop starts from it.
    parts: request::Parts,
    /// A copy of the body for the next hop; `None` when it cannot be replayed.
    replay: Option<B>,
    config: RedirectConfig,
    hops: Vec<RedirectHop>,
    /// The chain has left the first request's origin: credentials stay off from then on.
    cross_origin: bool,
    /// The first request carried its own `Referer`, which every hop keeps.
    user_referer: bool,
}

/// What to do with a response.
// Moved once per response, straight into the state; boxing the request would allocate.
#[allow(clippy::large_enum_variant)]
enum Step<R, B> {
    Done(R),
    Send(Request<B>),
}

impl<S, B> Follow<S, B> {
    pub(super) fn new(
        service: S,
        parts: request::Parts,
        replay: Option<B>,
        config: RedirectConfig,
    ) -> Self {
        Follow {
            service,
            user_referer: parts.headers.contains_key(header::REFERER),
            parts,
            replay,
            config,
            hops: Vec::new(),
            cross_origin: false,
        }
    }

    fn error(&self, err: impl Into<BoxError>) -> Error {
        Error::from_boxed(err.into()).with_request(&self.parts.method, &self.parts.uri)
    }

    /// The final response: it carries the chain when a redirect was followed.
    fn finish<R>(&mut self, mut resp: Response<R>) -> Step<Response<R>, B> {
        if !self.hops.is_empty() {
            resp.extensions_mut().insert(RedirectChain {
                hops: std::mem::take(&mut self.hops),
                method: self.parts.method.clone(),
                url: self.parts.uri.clone(),
            });
        }
        Step::Done(resp)
    }
}

impl<S, B> Follow<S, B>
where
    B: TryCloneBody + Default,
{
    /// Decides on `resp`: return it, fail, or build the next hop's request.
    fn next<R>(
        &mut self,
        resp: Response<R>,
        cx: &mut Context<'_>,
    ) -> Result<Step<Response<R>, B>, Error>
    where
        R: http_body::Body,
    {
        let status = resp.status();
        if !policy::is_redirect(status) {
            return Ok(self.finish(resp));
        }
        let Some(target) = resp.headers().get(header::LOCATION).and_then(|location| {
            policy::resolve(&self.parts.uri, location, self.config.location_credentials)
        }) else {
            return Ok(self.finish(resp));
        };
        let method = policy::next_method(&self.parts.method, status, &self.config.redirect_method);
        let keeps_body = policy::keeps_body(status, &method);
        let body = if keeps_body {
            // A body that cannot be sent again ends the chain here: the caller gets the 3xx.
            match self.replay.as_ref().and_then(B::try_clone_body) {
                Some(body) => body,
                None => return Ok(self.finish(resp)),
            }
        } else {
            // From here on the body is empty, which a later 307/308 can resend.
            self.replay = Some(B::default());
            B::default()
        };
        if self.hops.len() >= self.config.redirect_limit {
            let (first_method, first_url) = self
                .hops
                .first()
                .map_or((&self.parts.method, &self.parts.uri), |hop| {
                    (&hop.method, &hop.url)
                });
            return Err(
                Error::new(ErrorKind::TooManyRedirects(self.config.redirect_limit))
                    .with_message(format!(
                        "{} redirects followed, the next to {}",
                        self.hops.len(),
                        redact(target.to.as_str())
                    ))
                    .with_request(first_method, first_url),
            );
        }

        let mut headers = if self.config.forward_headers {
            std::mem::take(&mut self.parts.headers)
        } else {
            HeaderMap::new()
        };
        // The layers below set Host for the new authority.
        headers.remove(header::HOST);
        if !keeps_body {
            policy::remove_body_headers(&mut headers);
        }
        if !policy::same_origin(&target.from, &target.to) {
            self.cross_origin = true;
        }
        if self.cross_origin {
            for name in &CREDENTIAL_HEADERS {
                headers.remove(name);
            }
        }
        // A Referer the user set is theirs to keep; otherwise each hop names the last.
        // Neither goes from https to http (RFC 9110 §10.1.3).
        match policy::referer(&target.from, &target.to) {
            Some(_) if self.user_referer => None,
            Some(referer) => headers.insert(header::REFERER, referer),
            None => headers.remove(header::REFERER),
        };

        let (head, body_in) = resp.into_parts();
        drain(body_in, cx);
        self.hops.push(RedirectHop {
            method: std::mem::replace(&mut self.parts.method, method),
            url: std::mem::replace(&mut self.parts.uri, target.uri),
            status,
            version: head.version,
            headers: head.headers,
        });
        self.parts.headers = headers;
        let mut parts = self.parts.clone();
        if self.cross_origin {
            parts.extensions.insert(CrossOriginRedirect);
        }
        Ok(Step::Send(Request::from_parts(parts, body)))
    }
}

/// Reads what has already arrived of a redirect's body, so that a fully read body lets
/// its connection be reused, then drops it. Never waits: a body still in flight is
/// dropped with its connection rather than stalling the chain.
fn drain<R: http_body::Body>(body: R, cx: &mut Context<'_>) {
    let mut body = std::pin::pin!(body);
    let mut read = 0usize;
    while read <= DRAIN_LIMIT {
        match body.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                read += frame.data_ref().map_or(0, Buf::remaining);
            }
            Poll::Ready(Some(Err(_))) | Poll::Ready(None) | Poll::Pending => break,
        }
    }
}

impl<S, B, ResB> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    B: TryCloneBody + Default,
    ResB: http_body::Body,
{
    type Output = Result<Response<ResB>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Calling { fut } => {
                    let result = ready!(fut.poll(cx));
                    let Some(follow) = this.follow.as_mut() else {
                        return Poll::Ready(result.map_err(|e| Error::from_boxed(e.into())));
                    };
                    let resp = match result {
                        Ok(resp) => resp,
                        Err(e) => return Poll::Ready(Err(follow.error(e))),
                    };
                    match follow.next(resp, cx)? {
                        Step::Done(resp) => return Poll::Ready(Ok(resp)),
                        Step::Send(req) => this.state.set(State::Ready { req: Some(req) }),
                    }
                }
                StateProj::Ready { req } => {
                    // Only `Step::Send` sets this state, and only with `follow` present;
                    // `req` is gone only once the call is made.
                    let Some(follow) = this.follow.as_mut() else {
                        return Poll::Ready(Err(polled_after_completion()));
                    };
                    if let Err(e) = ready!(follow.service.poll_ready(cx)) {
                        return Poll::Ready(Err(follow.error(e)));
                    }
                    let Some(next) = req.take() else {
                        return Poll::Ready(Err(polled_after_completion()));
                    };
                    let fut = follow.service.call(next);
                    this.state.set(State::Calling { fut });
                }
            }
        }
    }
}

fn polled_after_completion() -> Error {
    Error::invalid_input("redirect future polled after it completed")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http::{HeaderValue, Method, StatusCode};
    use tower::{service_fn, Layer, ServiceExt};

    use super::*;
    use crate::redirect::{RedirectConfig, RedirectLayer};
    use crate::TimeoutKind;

    type Seen = Arc<Mutex<Vec<Request<String>>>>;

    /// A service answering `/go?<location>` with a 302 to `<location>` (percent-decoded
    /// `%3A` only, enough for these URLs), anything else with 200; it records each request.
    fn site(
        seen: Seen,
    ) -> impl Service<
        Request<String>,
        Response = Response<String>,
        Error = BoxError,
        Future = impl Future<Output = Result<Response<String>, BoxError>>,
    > + Clone {
        service_fn(move |req: Request<String>| {
            let seen = seen.clone();
            async move {
                let location = match req.uri().path() {
                    "/go" => req.uri().query().map(|q| q.replace("%3A", ":")),
                    "/fail" => return Err(BoxError::from("inner failure")),
                    "/timeout" => return Err(Error::timeout(TimeoutKind::Read).into()),
                    _ => None,
                };
                seen.lock().unwrap().push(req);
                let mut resp = Response::new(String::from("body"));
                if let Some(location) = location {
                    *resp.status_mut() = StatusCode::FOUND;
                    resp.headers_mut()
                        .insert(header::LOCATION, HeaderValue::from_str(&location)?);
                }
                Ok(resp)
            }
        })
    }

    fn get(url: &str) -> Request<String> {
        let mut req = Request::new(String::new());
        *req.uri_mut() = url.parse().unwrap();
        req.headers_mut()
            .insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        req
    }

    #[tokio::test]
    async fn a_referer_the_user_set_is_kept_but_never_sent_from_https_to_http() {
        for (first, referer) in [
            (
                "https://a.test/go?https%3A//b.test/next",
                Some("https://user.test/"),
            ),
            ("http://a.test/go?/next", Some("https://user.test/")),
            ("https://a.test/go?http%3A//a.test/next", None),
        ] {
            let seen = Seen::default();
            let svc = RedirectLayer::new().layer(site(seen.clone()));
            let mut req = get(first);
            req.headers_mut().insert(
                header::REFERER,
                HeaderValue::from_static("https://user.test/"),
            );
            svc.oneshot(req).await.unwrap();
            let seen = std::mem::take(&mut *seen.lock().unwrap());
            let got = seen[1]
                .headers()
                .get(header::REFERER)
                .map(|v| v.to_str().unwrap());
            assert_eq!(got, referer, "{first}");
        }
    }

    #[tokio::test]
    async fn no_referer_from_https_to_http() {
        // (first URL, Location) → Referer on the hop, credentials kept, marker set
        for (first, location, referer, same_origin) in [
            (
                "https://a.test/go?https%3A//a.test/next",
                "https://a.test/next",
                Some("https://a.test/go?https%3A//a.test/next"),
                true,
            ),
            (
                "https://a.test/go?http%3A//a.test/next",
                "http://a.test/next",
                None,
                false,
            ),
            (
                "https://a.test/go?http%3A//b.test/next",
                "http://b.test/next",
                None,
                false,
            ),
            (
                "http://a.test/go?https%3A//a.test/next",
                "https://a.test/next",
                Some("http://a.test/go?https%3A//a.test/next"),
                false,
            ),
        ] {
            let seen = Seen::default();
            let svc = RedirectLayer::new().layer(site(seen.clone()));
            let resp = svc.oneshot(get(first)).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{first}");
            let seen = std::mem::take(&mut *seen.lock().unwrap());
            let hop = &seen[1];
            assert_eq!(hop.uri(), location, "{first}");
            let got = hop
                .headers()
                .get(header::REFERER)
                .map(|v| v.to_str().unwrap());
            assert_eq!(got, referer, "{first}");
            assert_eq!(
                hop.headers().contains_key(header::AUTHORIZATION),
                same_origin,
                "{first}"
            );
            assert_eq!(CrossOriginRedirect::is_marked(hop), !same_origin, "{first}");
        }
    }

    #[tokio::test]
    async fn inner_errors_become_errors_naming_the_hop() {
        let svc = RedirectLayer::new().layer(site(Seen::default()));
        let err = svc
            .clone()
            .oneshot(get("http://a.test/go?/fail"))
            .await
            .unwrap_err();
        assert!(err.is_request(), "{err:?}");
        assert_eq!(err.url(), Some("http://a.test/fail"));
        assert_eq!(err.to_string(), "request error (GET http://a.test/fail)");
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("inner failure"));

        // An httpstack error from below keeps its kind.
        let err = svc.oneshot(get("http://a.test/timeout")).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn without_redirects_nothing_is_added() {
        let off = RedirectConfig {
            redirect: false,
            ..RedirectConfig::default()
        };
        for (config, url, status) in [
            (
                RedirectConfig::default(),
                "http://a.test/plain",
                StatusCode::OK,
            ),
            (off.clone(), "http://a.test/go?/plain", StatusCode::FOUND),
        ] {
            let seen = Seen::default();
            let svc = RedirectLayer::new()
                .config(config)
                .layer(site(seen.clone()));
            let resp = svc.oneshot(get(url)).await.unwrap();
            assert_eq!(resp.status(), status, "{url}");
            assert!(resp.extensions().get::<RedirectChain>().is_none(), "{url}");
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), 1, "{url}");
            assert_eq!(seen[0].method(), Method::GET, "{url}");
        }
        let svc = RedirectLayer::new()
            .config(off)
            .layer(site(Seen::default()));
        assert!(svc
            .oneshot(get("http://a.test/timeout"))
            .await
            .unwrap_err()
            .is_timeout());
    }
}
