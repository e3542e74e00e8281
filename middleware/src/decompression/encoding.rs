use std::pin::Pin;
use std::sync::LazyLock;

use http::HeaderValue;
use tokio::io::{AsyncBufRead, AsyncRead};

/// A content coding this layer decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip` / `x-gzip` (RFC 9110 §8.4.1.3).
    Gzip,
    /// `deflate`: zlib-wrapped (RFC 9110 §8.4.1.2).
    Deflate,
    /// `br` (RFC 7932).
    Brotli,
    /// `zstd` (RFC 8878).
    Zstd,
}

impl Encoding {
    /// The coding named by a `Content-Encoding` token, if this layer decodes it (its
    /// cargo feature is on: `gzip`, `deflate`, `br`, `zstd`).
    pub fn from_token(token: &str) -> Option<Encoding> {
        let token = token.trim();
        [
            ("gzip", Encoding::Gzip),
            ("x-gzip", Encoding::Gzip),
            ("deflate", Encoding::Deflate),
            ("br", Encoding::Brotli),
            ("zstd", Encoding::Zstd),
        ]
        .into_iter()
        .find(|(name, _)| token.eq_ignore_ascii_case(name))
        .map(|(_, e)| e)
        .filter(|e| e.is_compiled_in())
    }

    /// Whether this build decodes the coding (its cargo feature is on).
    pub fn is_compiled_in(self) -> bool {
        match self {
            Encoding::Gzip => cfg!(feature = "gzip"),
            Encoding::Deflate => cfg!(feature = "deflate"),
            Encoding::Brotli => cfg!(feature = "br"),
            Encoding::Zstd => cfg!(feature = "zstd"),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }
}

/// The `Accept-Encoding` value advertising every coding compiled in, or `None` when the
/// build decodes none.
pub(super) fn accepted() -> Option<&'static HeaderValue> {
    static ACCEPTED: LazyLock<Option<HeaderValue>> = LazyLock::new(|| {
        let names: Vec<&str> = ALL
            .into_iter()
            .filter(|e| e.is_compiled_in())
            .map(Encoding::name)
            .collect();
        if names.is_empty() {
            return None;
        }
        HeaderValue::from_str(&names.join(", ")).ok()
    });
    ACCEPTED.as_ref()
}

/// Every coding, in the order `Accept-Encoding` lists them.
const ALL: [Encoding; 4] = [
    Encoding::Gzip,
    Encoding::Deflate,
    Encoding::Brotli,
    Encoding::Zstd,
];

/// A decoder of `encoding` over `reader`, when the build has it.
pub(super) fn decoder<R>(reader: R, encoding: Encoding) -> Option<Pin<Box<dyn AsyncRead + Send>>>
where
    R: AsyncBufRead + Send + 'static,
{
    #[cfg(feature = "gzip")]
    if encoding == Encoding::Gzip {
        let mut d = async_compression::tokio::bufread::GzipDecoder::new(reader);
        d.multiple_members(true);
        return Some(Box::pin(d));
    }
    #[cfg(feature = "deflate")]
    if encoding == Encoding::Deflate {
        return Some(Box::pin(
            async_compression::tokio::bufread::ZlibDecoder::new(reader),
        ));
    }
    #[cfg(feature = "br")]
    if encoding == Encoding::Brotli {
        return Some(Box::pin(
            async_compression::tokio::bufread::BrotliDecoder::new(reader),
        ));
    }
    #[cfg(feature = "zstd")]
    if encoding == Encoding::Zstd {
        return Some(Box::pin(
            async_compression::tokio::bufread::ZstdDecoder::new(reader),
        ));
    }
    let _ = (reader, encoding);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        for (token, expected) in [
            ("gzip", Some(Encoding::Gzip)),
            ("X-GZIP", Some(Encoding::Gzip)),
            (" br ", Some(Encoding::Brotli)),
            ("zstd", Some(Encoding::Zstd)),
            ("deflate", Some(Encoding::Deflate)),
            ("identity", None),
            ("gzip, br", None),
        ] {
            // A coding whose feature is off is not recognised.
            let expected = expected.filter(|e| e.is_compiled_in());
            assert_eq!(Encoding::from_token(token), expected, "token {token:?}");
        }
    }
}
