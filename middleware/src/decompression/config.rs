/// The default cap on a decoded body: 64 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 64 * 1024 * 1024;

/// Per-request decompression settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecompressionConfig {
    /// `None`: by Content-Encoding; `Some(true)`: always; `Some(false)`: never.
    pub decompress: Option<bool>,
    /// The largest decoded body accepted, in bytes.
    pub max_size: u64,
}

impl Default for DecompressionConfig {
    fn default() -> Self {
        DecompressionConfig {
            decompress: None,
            max_size: DEFAULT_MAX_SIZE,
        }
    }
}
