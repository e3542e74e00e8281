//! How many retries a response took (HTTP.jl keeps it in `req.context[:retryattempt]`).

/// The number of retries made before this response, in the response's extensions.
///
/// The retry layer inserts it only when it retried at least once, so a response without
/// it was answered on the first attempt; [`RetryCount::of`] reads either case. A final
/// httpstack `Error` records the same number (`Error::retries()`, and "after n retries"
/// in its message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RetryCount(pub usize);

impl RetryCount {
    /// The retries made before `response` (0 when the layer recorded none).
    pub fn of<B>(response: &http::Response<B>) -> usize {
        response
            .extensions()
            .get::<RetryCount>()
            .map_or(0, |count| count.0)
    }
}
