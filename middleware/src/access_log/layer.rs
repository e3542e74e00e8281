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
    /// `INFO`) until [`writer`](Self::writer) is set.
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
