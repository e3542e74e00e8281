//! [`AccessLogLayer`]: the compiled format and where lines go.

use std::sync::Arc;

use tower::Layer;

use super::format::{LogFormat, COMBINED_LOG_FORMAT, COMMON_LOG_FORMAT};
use super::logger::Logger;
use super::service::AccessLog;
use super::sink::Sink;
use crate::error::Error;

/// Writes one access log line per request, in an nginx / HTTP.jl `logfmt` format; see the
/// [module docs](super).
///
/// The format is parsed once, here; cloning the layer or applying it to many services
/// shares the parsed format and the output.
///
/// By default lines are `tracing` events (target [`TRACING_TARGET`](super::TRACING_TARGET),
/// level `INFO`), which **print nothing unless a subscriber is installed**
/// (`tracing_subscriber::fmt::init()`, say). Without one, write the lines directly with
/// [`to_stderr`](Self::to_stderr) or [`writer`](Self::writer):
///
/// ```
/// use httpstack_middleware::access_log::{AccessLogLayer, PeerAddr};
/// use std::sync::{Arc, Mutex};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
///
/// # #[derive(Clone, Default)] struct Shared(Arc<Mutex<Vec<u8>>>);
/// # impl std::io::Write for Shared {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let lines = Shared::default(); // any `std::io::Write + Send`: a file, `std::io::stderr()`
/// let svc = ServiceBuilder::new()
///     .layer(AccessLogLayer::new("$remote_addr \"$request\" $status").unwrap().writer(lines.clone()))
///     .service(service_fn(|_req: http::Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
///     }));
/// let mut req = http::Request::get("/hello").body(()).unwrap();
/// req.extensions_mut().insert(PeerAddr("192.0.2.1:5000".parse().unwrap()));
/// let resp = svc.oneshot(req).await.unwrap();
/// drop(resp); // the line is written when the response body ends
/// let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
/// assert_eq!(text, "192.0.2.1 \"GET /hello HTTP/1.1\" 200\n");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AccessLogLayer {
    logger: Arc<Logger>,
}

impl AccessLogLayer {
    /// Parses `format` (`$remote_addr - "$request" $status`, ...). An unknown variable, a
    /// `$` without a name or an unclosed `${` is an [`Error::invalid_input`] saying which
    /// and at what byte offset, so a bad format fails at start-up, never per request.
    ///
    /// Lines go to `tracing` (target [`TRACING_TARGET`](super::TRACING_TARGET), level
    /// `INFO`; nothing is printed without a subscriber) until [`writer`](Self::writer) or
    /// [`to_stderr`](Self::to_stderr) is set.
    pub fn new(format: &str) -> Result<AccessLogLayer, Error> {
        let format = LogFormat::parse(format)?;
        Ok(AccessLogLayer {
            logger: Arc::new(Logger::new(format)),
        })
    }

    /// HTTP.jl's `common_logfmt`, the Common Log Format ([`COMMON_LOG_FORMAT`]):
    /// `127.0.0.1 - alice [21/Nov/2026:09:19:14 +0000] "GET / HTTP/1.1" 200 12`.
    ///
    /// [`COMMON_LOG_FORMAT`]: super::COMMON_LOG_FORMAT
    pub fn common() -> AccessLogLayer {
        AccessLogLayer::preset(COMMON_LOG_FORMAT)
    }

    /// HTTP.jl's `combined_logfmt` ([`COMBINED_LOG_FORMAT`]): the common format plus
    /// `"$http_referer" "$http_user_agent"`.
    ///
    /// [`COMBINED_LOG_FORMAT`]: super::COMBINED_LOG_FORMAT
    pub fn combined() -> AccessLogLayer {
        AccessLogLayer::preset(COMBINED_LOG_FORMAT)
    }

    fn preset(format: &'static str) -> AccessLogLayer {
        // A constant of this module, parsed by the tests: not input.
        AccessLogLayer::new(format).expect("a preset access log format parses")
    }

    /// Writes each line, plus `\n`, to `writer` in one `write_all` under a lock, instead of
    /// to `tracing`. The writer is not flushed per line (wrap a file in a `BufWriter` to
    /// batch, it is flushed when the last service is dropped). A failing write is reported
    /// once as a `tracing` warning; logging never panics or fails a request.
    pub fn writer(self, writer: impl std::io::Write + Send + 'static) -> AccessLogLayer {
        self.with(|logger| logger.sink = Arc::new(Sink::writer(writer)))
    }

    /// Writes each line to standard error, without `tracing`: [`writer`](Self::writer)
    /// with `std::io::stderr()`.
    pub fn to_stderr(self) -> AccessLogLayer {
        self.writer(std::io::stderr())
    }

    /// The UTC offset, in minutes east (`60` for +0100), of `$time_local` and
    /// `$time_iso8601`; default `0`, so times are UTC unless set.
    ///
    /// A fixed offset: there is no daylight-saving switch, since reading the machine's
    /// time zone safely in a multi-threaded server needs a time-zone database. Clamped to
    /// ±23:59.
    pub fn utc_offset_minutes(self, minutes: i16) -> AccessLogLayer {
        self.with(|logger| logger.utc_offset_minutes = minutes.clamp(-1439, 1439))
    }

    /// Fixes the time of every line (tests).
    #[cfg(test)]
    pub(crate) fn with_clock(self, clock: super::clock::Clock) -> AccessLogLayer {
        self.with(|logger| logger.clock = clock)
    }

    fn with(self, change: impl FnOnce(&mut Logger)) -> AccessLogLayer {
        let mut logger = Arc::unwrap_or_clone(self.logger);
        change(&mut logger);
        AccessLogLayer {
            logger: Arc::new(logger),
        }
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> AccessLog<S> {
        AccessLog::from_parts(inner, self.logger.clone())
    }
}
