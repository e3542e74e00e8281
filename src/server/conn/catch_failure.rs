//! [`CatchFailure`]: the served service, its handler's panic or error caught and logged,
//! for the connection's service to answer `500 Internal Server Error`.
//!
//! HTTP.jl catches an exception thrown by a handler, logs it and answers 500 with an empty
//! body, and the server keeps serving. Here a panic (in `poll_ready`, `call` or the
//! response future) or an `Err` from the service gets the same treatment, logged with
//! `tracing`. The 500 body is empty because a generic `B::Data` cannot be built from text.
//!
//! This is hyper-util's `TowerToHyperService` (clone the tower service, drive it with
//! `Oneshot`) plus the catching: one clone per request, as there; a service ready at once
//! is called at once, without the `Oneshot`.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::task::noop_waker_ref;
use http::{Method, Request, Response, Uri};
use pin_project_lite::pin_project;
use tower::util::{Oneshot, ServiceExt};
use tower::Service;
use tracing::Level;

use crate::BoxError;

/// Wraps the served tower service: its response future ends in `Some(response)`, or in
/// `None` when the service failed (logged here; the connection's service answers 500).
#[derive(Clone, Debug)]
pub(crate) struct CatchFailure<S> {
    inner: S,
}

impl<S> CatchFailure<S> {
    pub(crate) fn new(inner: S) -> Self {
        CatchFailure { inner }
    }

    /// Calls the service, catching what it throws.
    #[inline]
    pub(crate) fn call<ReqBody, B>(
        &self,
        req: Request<ReqBody>,
    ) -> ResponseFuture<S, Request<ReqBody>>
    where
        S: Service<Request<ReqBody>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
    {
        // Kept to say which request failed, when an error would be logged at all: the
        // clones are cheap, but not free on every request of a busy server.
        let request = tracing::enabled!(Level::ERROR)
            .then(|| Box::new((req.method().clone(), req.uri().clone())));
        // A service that is ready at once (most are) is called here, so the request is
        // not carried, moved and moved again, inside a `Oneshot`. Its readiness is asked
        // with a no-op waker: a `Pending` is asked again, with the task's waker, by the
        // `Oneshot` it then waits in (boxed: rare, and large). Panics here are caught as
        // in the future.
        let mut inner = self.inner.clone();
        let started = panic::catch_unwind(AssertUnwindSafe(move || {
            let mut cx = Context::from_waker(noop_waker_ref());
            match inner.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => State::Called {
                    future: inner.call(req),
                },
                Poll::Ready(Err(err)) => State::Failed {
                    failure: Some(Failure::Error(err.into())),
                },
                Poll::Pending => State::Waiting {
                    future: Box::pin(inner.oneshot(req)),
                },
            }
        }));
        let state = started.unwrap_or_else(|panic| State::Failed {
            failure: Some(Failure::Panic(panic)),
        });
        ResponseFuture { state, request }
    }
}

/// Why a request got a 500.
enum Failure {
    Error(BoxError),
    Panic(Box<dyn Any + Send>),
}

pin_project! {
    /// Where a request is: called, waiting for the service to be ready, or failed
    /// before its response future existed.
    #[project = StateProj]
    enum State<S, R>
    where
        S: Service<R>,
    {
        Called { #[pin] future: S::Future },
        Waiting { future: Pin<Box<Oneshot<S, R>>> },
        Failed { failure: Option<Failure> },
    }
}

pin_project! {
    /// The response future of [`CatchFailure`].
    pub(crate) struct ResponseFuture<S, R>
    where
        S: Service<R>,
    {
        #[pin]
        state: State<S, R>,
        // The failed request's method and URI, for the log; `None` when errors are not
        // logged.
        // Boxed: it is rare, and the future is moved about on every request.
        request: Option<Box<(Method, Uri)>>,
    }
}

impl<S, R, B> Future for ResponseFuture<S, R>
where
    S: Service<R, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    type Output = Option<Response<B>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled: Result<Poll<Result<Response<B>, BoxError>>, _> = match this.state.project() {
            StateProj::Called { future } => {
                panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                    .map(|poll| poll.map_err(Into::into))
            }
            StateProj::Waiting { future } => {
                panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)))
                    .map(|poll| poll.map_err(Into::into))
            }
            StateProj::Failed { failure } => match failure.take() {
                Some(Failure::Error(err)) => Ok(Poll::Ready(Err(err))),
                Some(Failure::Panic(panic)) => Err(panic),
                None => panic!("catch_failure::ResponseFuture polled after completion"),
            },
        };
        let response = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => Some(response),
            Ok(Poll::Ready(Err(err))) => {
                let (method, path) = request_line(this.request.as_deref());
                tracing::error!(
                    method,
                    path,
                    error = %err,
                    "handler returned an error; answering 500"
                );
                None
            }
            Err(panic) => {
                let (method, path) = request_line(this.request.as_deref());
                tracing::error!(
                    method,
                    path,
                    panic = panic_message(&*panic),
                    "handler panicked; answering 500"
                );
                None
            }
        };
        Poll::Ready(response)
    }
}

/// The method and path to log, if they were kept.
fn request_line(request: Option<&(Method, Uri)>) -> (&str, &str) {
    request.map_or(("?", "?"), |(method, uri)| (method.as_str(), uri.path()))
}

/// The message of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "non-string panic payload"
    }
}

#[cfg(test)]
mod tests {
    use std::task::Poll;

    use http::StatusCode;

    use super::*;

    /// A service whose failure point is chosen per case.
    #[derive(Clone, Copy)]
    enum Faulty {
        Fine,
        ErrorInReady,
        PanicInReady,
        PanicInCall,
        ErrorInFuture,
        PanicInFuture,
    }

    impl Service<Request<()>> for Faulty {
        type Response = Response<String>;
        type Error = &'static str;
        type Future =
            std::pin::Pin<Box<dyn Future<Output = Result<Response<String>, &'static str>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            match self {
                Faulty::ErrorInReady => Poll::Ready(Err("not ready")),
                Faulty::PanicInReady => panic!("poll_ready bug"),
                _ => Poll::Ready(Ok(())),
            }
        }

        fn call(&mut self, _req: Request<()>) -> Self::Future {
            let this = *self;
            if let Faulty::PanicInCall = this {
                panic!("call bug");
            }
            Box::pin(async move {
                match this {
                    Faulty::ErrorInFuture => Err("boom"),
                    Faulty::PanicInFuture => panic!("handler bug"),
                    _ => Ok(Response::new("fine".to_owned())),
                }
            })
        }
    }

    #[tokio::test]
    async fn panics_and_errors_become_500() {
        use Faulty::*;
        for (case, expected) in [
            (Fine, StatusCode::OK),
            (ErrorInReady, StatusCode::INTERNAL_SERVER_ERROR),
            (PanicInReady, StatusCode::INTERNAL_SERVER_ERROR),
            (PanicInCall, StatusCode::INTERNAL_SERVER_ERROR),
            (ErrorInFuture, StatusCode::INTERNAL_SERVER_ERROR),
            (PanicInFuture, StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            let service = CatchFailure::new(case);
            let status = service
                .call(Request::new(()))
                .await
                .map_or(StatusCode::INTERNAL_SERVER_ERROR, |response| {
                    response.status()
                });
            assert_eq!(status, expected, "case {}", case as u8);
        }
    }

    #[test]
    fn panic_message_reads_str_and_string() {
        let s: Box<dyn Any + Send> = Box::new("static");
        let owned: Box<dyn Any + Send> = Box::new(String::from("owned"));
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(&*s), "static");
        assert_eq!(panic_message(&*owned), "owned");
        assert_eq!(panic_message(&*other), "non-string panic payload");
    }
}
