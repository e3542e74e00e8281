//! HTTP.jl's `logerrors`: log each failed attempt as it happens, even one that is then
//! retried.
//!
//! [`LogErrorsLayer`] sits below the retry layer, so it sees every attempt. With
//! `log_errors` on (per client, or per request through a [`LogErrorsConfig`] extension),
//! a `StatusError`, `TimeoutError`, `RequestError` or `ConnectError` (and any error of
//! another type from the inner service) is logged through `tracing` at error level, target
//! `httpstack::client`, tagged with `log_tag` when one is set. The error itself is passed
//! on unchanged. Off, the layer costs one extension lookup.
//!
//! ```
//! use httpstack_middleware::log_errors::{LogErrorsConfig, LogErrorsLayer};
//! use httpstack_middleware::Error;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let svc = ServiceBuilder::new()
//!     .layer(LogErrorsLayer::new().log_errors(true).log_tag("billing-api"))
//!     .service(service_fn(|_req: http::Request<()>| async {
//!         Err::<http::Response<()>, _>(Error::connect("connection refused"))
//!     }));
//! // Logged as `error: ... tag=billing-api`, then returned.
//! assert!(svc.oneshot(http::Request::new(())).await.unwrap_err().is_connect());
//! # let _ = LogErrorsConfig::default();
//! # }
//! ```

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Method, Request, Uri};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::error::{redact, Error, ErrorKind};

/// Whether to log failed attempts, and the tag to log them with. As a request extension
/// it overrides the layer's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogErrorsConfig {
    /// HTTP.jl `logerrors` (default false).
    pub log_errors: bool,
    /// HTTP.jl `logtag`: added to every log line.
    pub log_tag: Option<Arc<str>>,
}

/// Adds [`LogErrors`] around a service.
///
/// ```
/// use httpstack_middleware::log_errors::LogErrorsLayer;
/// use tower::{service_fn, ServiceBuilder};
///
/// let client = ServiceBuilder::new()
///     .layer(LogErrorsLayer::new().log_errors(true))
///     .service(service_fn(|_req: http::Request<()>| async {
///         Ok::<_, httpstack_middleware::Error>(http::Response::new(()))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Debug, Default)]
pub struct LogErrorsLayer {
    config: LogErrorsConfig,
}

impl LogErrorsLayer {
    /// Logging off, no tag.
    pub fn new() -> LogErrorsLayer {
        LogErrorsLayer::default()
    }

    /// Sets the whole default config.
    pub fn config(mut self, config: LogErrorsConfig) -> LogErrorsLayer {
        self.config = config;
        self
    }

    /// Whether failed attempts are logged by default.
    pub fn log_errors(mut self, on: bool) -> LogErrorsLayer {
        self.config.log_errors = on;
        self
    }

    /// The tag added to each log line.
    pub fn log_tag(mut self, tag: impl Into<Arc<str>>) -> LogErrorsLayer {
        self.config.log_tag = Some(tag.into());
        self
    }
}

impl<S> Layer<S> for LogErrorsLayer {
    type Service = LogErrors<S>;

    fn layer(&self, inner: S) -> LogErrors<S> {
        LogErrors {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Logs the inner service's errors (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct LogErrors<S> {
    inner: S,
    config: LogErrorsConfig,
}

impl<S> LogErrors<S> {
    /// Wraps `inner` with logging off.
    pub fn new(inner: S) -> LogErrors<S> {
        LogErrorsLayer::new().layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, R> Service<Request<B>> for LogErrors<S>
where
    S: Service<Request<B>, Response = R>,
    S::Error: std::fmt::Display + 'static,
{
    type Response = R;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let config = req
            .extensions()
            .get::<LogErrorsConfig>()
            .unwrap_or(&self.config);
        let log = config.log_errors.then(|| {
            Box::new(Attempt {
                method: req.method().clone(),
                uri: req.uri().clone(),
                tag: config.log_tag.clone(),
            })
        });
        ResponseFuture {
            inner: self.inner.call(req),
            log,
        }
    }
}

/// What a log line names: the request, and the tag.
#[derive(Debug)]
struct Attempt {
    method: Method,
    uri: Uri,
    tag: Option<Arc<str>>,
}

pin_project! {
    /// The response future of [`LogErrors`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        log: Option<Box<Attempt>>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<R, E>>,
    E: std::fmt::Display + 'static,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let (Err(err), Some(attempt)) = (&result, this.log.take()) {
            log(err, &attempt);
        }
        Poll::Ready(result)
    }
}

fn log<E: std::fmt::Display + 'static>(err: &E, attempt: &Attempt) {
    let kind = match (err as &dyn Any).downcast_ref::<Error>().map(Error::kind) {
        Some(ErrorKind::Status(_)) => "StatusError",
        Some(ErrorKind::Timeout(_)) => "TimeoutError",
        Some(ErrorKind::Connect) => "ConnectError",
        Some(ErrorKind::Request) => "RequestError",
        // Other kinds (invalid input, too many redirects...) are not attempt failures.
        Some(_) => return,
        None => "RequestError",
    };
    let url = redact(&attempt.uri.to_string());
    let tag = attempt.tag.as_deref().unwrap_or("");
    tracing::error!(
        target: "httpstack::client",
        tag,
        "{kind} on {} {url}: {err}",
        attempt.method
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{service_fn, ServiceExt};

    #[tokio::test]
    async fn errors_pass_through_unchanged_whether_logged_or_not() {
        for on in [false, true] {
            let svc =
                LogErrorsLayer::new()
                    .log_errors(on)
                    .layer(service_fn(|_req: Request<()>| async {
                        Err::<http::Response<()>, _>(Error::timeout(crate::TimeoutKind::Read))
                    }));
            let err = svc.oneshot(Request::new(())).await.unwrap_err();
            assert!(err.is_timeout(), "on={on}");
        }
    }

    /// Collects what `tracing` writes, for the tests below.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn logged(layer: LogErrorsLayer, request: Request<()>, err: Error) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let svc = layer.layer(service_fn(move |_req: Request<()>| {
            let err = Error::new(err.kind().clone());
            async move { Err::<http::Response<()>, _>(err) }
        }));
        let _ = svc.oneshot(request).await;
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn request() -> Request<()> {
        Request::builder()
            .uri("http://user:secret@example.test/x")
            .body(())
            .unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn logs_attempt_failures_with_tag_and_redacted_url() {
        let layer = LogErrorsLayer::new().log_errors(true).log_tag("billing");
        let out = logged(layer, request(), Error::connect("refused")).await;
        assert!(out.contains("ERROR"), "{out}");
        assert!(out.contains("ConnectError on GET"), "{out}");
        assert!(out.contains("tag=\"billing\""), "{out}");
        assert!(!out.contains("secret"), "{out}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_request_config_overrides_the_layer() {
        let mut req = request();
        req.extensions_mut().insert(LogErrorsConfig {
            log_errors: true,
            log_tag: None,
        });
        let out = logged(
            LogErrorsLayer::new(),
            req,
            Error::timeout(crate::TimeoutKind::Read),
        )
        .await;
        assert!(out.contains("TimeoutError"), "{out}");

        let mut req = request();
        req.extensions_mut().insert(LogErrorsConfig::default());
        let layer = LogErrorsLayer::new().log_errors(true);
        let out = logged(layer, req, Error::connect("refused")).await;
        assert!(out.is_empty(), "{out}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn errors_that_are_not_attempt_failures_are_not_logged() {
        let layer = LogErrorsLayer::new().log_errors(true);
        let out = logged(layer, request(), Error::invalid_input("bad header")).await;
        assert!(out.is_empty(), "{out}");
    }
}
