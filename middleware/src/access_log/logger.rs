//! Everything a running access log shares between requests: the compiled format, the
//! sink, the clock and the UTC offset.

use std::sync::Arc;

use super::clock::Clock;
use super::format::LogFormat;
use super::sink::Sink;

/// Shared by a layer's services and their in-flight requests (one `Arc` clone a request).
#[derive(Clone, Debug)]
pub(crate) struct Logger {
    pub(crate) format: Arc<LogFormat>,
    pub(crate) sink: Arc<Sink>,
    pub(crate) clock: Clock,
    /// Minutes east of UTC for `$time_local` and `$time_iso8601`.
    pub(crate) utc_offset_minutes: i16,
}

impl Logger {
    pub(crate) fn new(format: LogFormat) -> Logger {
        Logger {
            format: Arc::new(format),
            sink: Arc::new(Sink::Tracing),
            clock: std::time::SystemTime::now,
            utc_offset_minutes: 0,
        }
    }
}
