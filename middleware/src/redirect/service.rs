use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use super::future::{Follow, ResponseFuture};
use super::{RedirectConfig, RedirectLayer};
use crate::body::TryCloneBody;
use crate::error::{BoxError, Error};

/// The service of [`RedirectLayer`]: sends a request, and each redirect it is answered
/// with as a new request through the inner service.
#[derive(Clone, Debug)]
pub struct Redirect<S> {
    inner: S,
    config: RedirectConfig,
}

impl<S> Redirect<S> {
    /// Wraps `inner` with `config` as the default.
    pub fn new(inner: S, config: RedirectConfig) -> Self {
        Redirect { inner, config }
    }

    /// A [`RedirectLayer`] with HTTP.jl's defaults.
    pub fn layer() -> RedirectLayer {
        RedirectLayer::new()
    }

    /// The default config.
    pub fn config(&self) -> &RedirectConfig {
        &self.config
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

impl<S, B, ResB> Service<Request<B>> for Redirect<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: Into<BoxError>,
    B: TryCloneBody + Default,
    ResB: http_body::Body,
{
    type Response = Response<ResB>;
    type Error = Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| Error::from_boxed(e.into()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let config = req
            .extensions()
            .get::<RedirectConfig>()
            .unwrap_or(&self.config);
        if !config.follows() {
            // Nothing is kept for a next hop: no clones on this path.
            return ResponseFuture::passthrough(self.inner.call(req));
        }
        let config = config.clone();
        let (parts, body) = req.into_parts();
        let replay = body.try_clone_body();
        let follow = Follow::new(self.inner.clone(), parts.clone(), replay, config);
        let fut = self.inner.call(Request::from_parts(parts, body));
        ResponseFuture::following(fut, follow)
    }
}
