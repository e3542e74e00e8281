//! [`Retry`]: the service of [`RetryLayer`](super::RetryLayer).

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use super::attempt_error::AttemptError;
use super::budget::HostBudgets;
use super::config::RetryConfig;
use super::future::ResponseFuture;
use super::layer::RetryLayer;
use super::policy::RetryPolicy;
use crate::body::TryCloneBody;

/// Retries failed attempts by HTTP.jl's rule; built on `tower::retry::Retry` with a
/// [`RetryPolicy`]. The inner service's error passes through unchanged.
#[derive(Clone, Debug)]
pub struct Retry<S> {
    config: Arc<RetryConfig>,
    inner: tower::retry::Retry<RetryPolicy, S>,
}

impl<S> Retry<S> {
    /// Wraps `inner` with `config` as the default and the default per-host budget.
    pub fn new(inner: S, config: RetryConfig) -> Self {
        tower::Layer::layer(&RetryLayer::from_config(config), inner)
    }

    /// A [`RetryLayer`] with HTTP.jl's defaults.
    pub fn layer() -> RetryLayer {
        RetryLayer::new()
    }

    pub(crate) fn from_parts(
        inner: S,
        config: Arc<RetryConfig>,
        budgets: Option<HostBudgets>,
    ) -> Self {
        let policy = RetryPolicy::from_parts(config.clone(), budgets);
        Retry {
            config,
            inner: tower::retry::Retry::new(policy, inner),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref()
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        self.inner.get_mut()
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner.into_inner()
    }
}

impl<S, B, ResB> Service<Request<B>> for Retry<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    S::Error: AttemptError,
    B: TryCloneBody,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future =
        ResponseFuture<S::Future, tower::retry::future::ResponseFuture<RetryPolicy, S, Request<B>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let active = req
            .extensions()
            .get::<RetryConfig>()
            .unwrap_or(&self.config)
            .is_active();
        if active {
            ResponseFuture::retrying(self.inner.call(req))
        } else {
            // Nothing to retry: no request copy, no service clone, no budget bookkeeping.
            ResponseFuture::direct(self.inner.get_mut().call(req))
        }
    }
}
