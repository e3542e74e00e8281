use std::borrow::Cow;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use tower::Service;

use super::{LayerTimings, ObserveLayer, ResponseFuture};

/// Records the time spent in the inner service and the call count (see the
/// [module docs](super)).
#[derive(Clone, Debug)]
pub struct Observe<S> {
    inner: S,
    name: Cow<'static, str>,
}

impl<S> Observe<S> {
    /// Observes `inner` as `name`.
    pub fn new(inner: S, name: impl Into<Cow<'static, str>>) -> Observe<S> {
        Observe {
            inner,
            name: name.into(),
        }
    }

    /// A layer that observes services as `name`.
    pub fn layer(name: impl Into<Cow<'static, str>>) -> ObserveLayer {
        ObserveLayer::new(name)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Observe<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let timings = match req.extensions().get::<LayerTimings>() {
            Some(t) => t.clone(),
            None => {
                let t = LayerTimings::new();
                req.extensions_mut().insert(t.clone());
                t
            }
        };
        timings.enter(&self.name);
        ResponseFuture::new(
            self.inner.call(req),
            timings,
            self.name.clone(),
            Instant::now(),
        )
    }
}
