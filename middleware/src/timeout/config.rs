use std::time::Duration;
use tokio::time::Instant;

/// Per-request timeouts; carry one in the request's extensions to override the layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// Longest wait for the response head, then longest gap between body pieces.
    pub read_timeout: Option<Duration>,
    /// Longest time for the whole exchange, body included.
    pub timeout: Option<Duration>,
}

/// The instant by which a whole exchange must end, in a request's extensions: every
/// [`Timeout`] below ends its attempt by then at the latest (as a total timeout), and the
/// retry layer does not start a back-off sleep that would end after it. [`DeadlineLayer`]
/// sets it; a request that already carries one keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(pub Instant);
