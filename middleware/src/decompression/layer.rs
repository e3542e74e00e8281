use tower::Layer;

use super::{Decompression, DecompressionConfig};

/// Decodes response bodies; see the [module docs](super).
///
/// ```
/// use httpstack_middleware::decompression::DecompressionLayer;
/// use tower::{service_fn, ServiceBuilder};
///
/// let client = ServiceBuilder::new()
///     // Decode by Content-Encoding, at most 8 MiB decoded.
///     .layer(DecompressionLayer::new().max_size(8 << 20))
///     .service(service_fn(|_req: http::Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::new())))
///     }));
/// # let _ = client;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DecompressionLayer {
    config: DecompressionConfig,
}

impl DecompressionLayer {
    /// Decode by Content-Encoding, cap 64 MiB.
    pub fn new() -> Self {
        DecompressionLayer::default()
    }

    /// Sets the default `decompress` rule.
    pub fn decompress(mut self, decompress: impl Into<Option<bool>>) -> Self {
        self.config.decompress = decompress.into();
        self
    }

    /// Sets the default cap on the decoded size.
    pub fn max_size(mut self, max_size: u64) -> Self {
        self.config.max_size = max_size;
        self
    }
}

impl<S> Layer<S> for DecompressionLayer {
    type Service = Decompression<S>;

    fn layer(&self, inner: S) -> Decompression<S> {
        Decompression::new(inner, self.config)
    }
}
