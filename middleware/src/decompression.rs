//! Response decompression with HTTP.jl's `decompress` rules and a cap on the output size.
//!
//! - `decompress = None` (default): decode by `Content-Encoding` — gzip (HTTP.jl), plus
//!   deflate, br and zstd — and advertise them in `Accept-Encoding` when the request sets none.
//! - `decompress = Some(true)`: decode even without `Content-Encoding` (as gzip, HTTP.jl's
//!   "regardless of Content-Encoding").
//! - `decompress = Some(false)`: never decode, and advertise nothing.
//!
//! A decoded body that grows past `max_size` (64 MiB by default) fails with a
//! `DecompressionLimit` error instead of exhausting memory (a "zip bomb"). A decoded
//! response loses `Content-Encoding` and `Content-Length`, which described the encoded form.
//!
//! Hand-written rather than tower-http's `Decompression`: that one has no per-request
//! switch, no "always" mode and no output cap, all three of which HTTP.jl's rules need. The
//! decoders themselves are async-compression's.
//!
//! ```
//! use httpstack_middleware::decompression::DecompressionLayer;
//! use http_body_util::BodyExt;
//! use std::io::Write;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! gz.write_all(b"hello, gzip").unwrap();
//! let encoded = bytes::Bytes::from(gz.finish().unwrap());
//! let server = service_fn(move |_req: http::Request<()>| {
//!     let body = http_body_util::Full::new(encoded.clone());
//!     async move {
//!         Ok::<_, std::convert::Infallible>(http::Response::builder().header("content-encoding", "gzip").body(body).unwrap())
//!     }
//! });
//! let resp = DecompressionLayer::new().layer(server).oneshot(http::Request::new(())).await.unwrap();
//! assert!(resp.headers().get("content-encoding").is_none());
//! assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "hello, gzip");
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use bytes::{Buf, Bytes};
use futures_util::{Stream, TryStreamExt};
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyDataStream;
use pin_project_lite::pin_project;
use tokio::io::AsyncRead;
use tokio_util::io::{ReaderStream, StreamReader};
use tower::{Layer, Service};

use crate::error::{BoxError, Error};

/// The default cap on a decoded body: 64 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 64 * 1024 * 1024;

const ACCEPTED: &str = "gzip, deflate, br, zstd";

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

/// Decodes response bodies; see the [module docs](self).
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
    pub fn decompress(mut self, decompress: Option<bool>) -> Self {
        self.config.decompress = decompress;
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
        Decompression {
            inner,
            config: self.config,
        }
    }
}

/// The service of [`DecompressionLayer`].
#[derive(Clone, Debug)]
pub struct Decompression<S> {
    inner: S,
    config: DecompressionConfig,
}

impl<S> Decompression<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, config: DecompressionConfig) -> Self {
        Decompression { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Decompression<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
{
    type Response = Response<DecompressionBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let config = req
            .extensions()
            .get::<DecompressionConfig>()
            .copied()
            .unwrap_or(self.config);
        if config.decompress != Some(false) {
            req.headers_mut()
                .entry(ACCEPT_ENCODING)
                .or_insert(HeaderValue::from_static(ACCEPTED));
        }
        let head = *req.method() == Method::HEAD;
        ResponseFuture {
            inner: self.inner.call(req),
            config,
            head,
        }
    }
}

pin_project! {
    /// The future of [`Decompression`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: DecompressionConfig,
        head: bool,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<DecompressionBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut resp = ready!(this.inner.poll(cx))?;
        let encoding = choose_encoding(&resp, *this.config, *this.head);
        if encoding.is_some() {
            resp.headers_mut().remove(CONTENT_ENCODING);
            resp.headers_mut().remove(CONTENT_LENGTH);
        }
        let max_size = this.config.max_size;
        Poll::Ready(Ok(resp.map(|body| match encoding {
            None => DecompressionBody {
                kind: Kind::Identity { inner: body },
            },
            Some(encoding) => DecompressionBody {
                kind: Kind::Decoded {
                    stream: decode(body, encoding),
                    encoding,
                    produced: 0,
                    max_size,
                },
            },
        })))
    }
}

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
    /// The coding named by a `Content-Encoding` token, if this layer decodes it.
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
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }
}

fn choose_encoding<B: Body>(
    resp: &Response<B>,
    config: DecompressionConfig,
    head: bool,
) -> Option<Encoding> {
    let no_body = head
        || resp.status() == StatusCode::NO_CONTENT
        || resp.status() == StatusCode::NOT_MODIFIED
        || resp.body().size_hint().exact() == Some(0);
    if config.decompress == Some(false) || no_body {
        return None;
    }
    match resp.headers().get(CONTENT_ENCODING) {
        // Only a single coding is decoded; a stacked one ("gzip, br") is passed on as is.
        Some(value) => value.to_str().ok().and_then(Encoding::from_token),
        None if config.decompress == Some(true) => Some(Encoding::Gzip),
        None => None,
    }
}

type DecodedStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// An error of the encoded body itself, carried through the decoder's `io::Error` so it
/// comes out unchanged rather than as a decoding error.
#[derive(Debug)]
struct SourceError(BoxError);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {}

fn decode<B>(body: B, encoding: Encoding) -> DecodedStream
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let encoded =
        BodyDataStream::new(body).map_err(|e| std::io::Error::other(SourceError(e.into())));
    let reader = StreamReader::new(encoded);
    let decoder: Pin<Box<dyn AsyncRead + Send>> = match encoding {
        Encoding::Gzip => {
            let mut d = GzipDecoder::new(reader);
            d.multiple_members(true);
            Box::pin(d)
        }
        Encoding::Deflate => Box::pin(ZlibDecoder::new(reader)),
        Encoding::Brotli => Box::pin(BrotliDecoder::new(reader)),
        Encoding::Zstd => Box::pin(ZstdDecoder::new(reader)),
    };
    Box::pin(ReaderStream::with_capacity(decoder, 64 * 1024))
}

pin_project! {
    /// A response body, decoded when its response was encoded.
    pub struct DecompressionBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        // Not encoded (or decoding off): the body as it came.
        Identity { #[pin] inner: B },
        // Decoded on the fly.
        Decoded { stream: DecodedStream, encoding: Encoding, produced: u64, max_size: u64 },
    }
}

impl<B> fmt::Debug for DecompressionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Identity { .. } => f.write_str("DecompressionBody::Identity"),
            Kind::Decoded { encoding, .. } => write!(f, "DecompressionBody::Decoded({encoding:?})"),
        }
    }
}

impl<B> Body for DecompressionBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Identity { inner } => inner.poll_frame(cx).map_err(Into::into),
            KindProj::Decoded {
                stream,
                encoding,
                produced,
                max_size,
            } => match ready!(stream.as_mut().poll_next(cx)) {
                None => Poll::Ready(None),
                Some(Ok(chunk)) => {
                    *produced += chunk.remaining() as u64;
                    if *produced > *max_size {
                        return Poll::Ready(Some(Err(Box::new(Error::decompression_limit(
                            *max_size,
                        )))));
                    }
                    Poll::Ready(Some(Ok(Frame::data(chunk))))
                }
                Some(Err(err)) => Poll::Ready(Some(Err(decoding_error(err, *encoding)))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Identity { inner } => inner.is_end_stream(),
            Kind::Decoded { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Identity { inner } => inner.size_hint(),
            Kind::Decoded { .. } => SizeHint::default(),
        }
    }
}

fn decoding_error(err: std::io::Error, encoding: Encoding) -> BoxError {
    if err.get_ref().is_some_and(|e| e.is::<SourceError>()) {
        if let Some(inner) = err.into_inner() {
            if let Ok(source) = inner.downcast::<SourceError>() {
                return source.0;
            }
        }
        return Box::new(Error::body("response body failed"));
    }
    Box::new(Error::body(err).with_message(format!(
        "invalid {} data in the response body",
        encoding.name()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};
    use std::convert::Infallible;
    use std::io::Write;
    use tower::{service_fn, ServiceExt};

    fn gzip(data: &[u8]) -> Bytes {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(data).unwrap();
        Bytes::from(gz.finish().unwrap())
    }

    async fn fetch(
        body: Bytes,
        encoding: Option<&'static str>,
        config: Option<DecompressionConfig>,
    ) -> (Response<()>, Result<Bytes, BoxError>, Option<HeaderValue>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let server = service_fn(move |req: Request<()>| {
            let _ = tx.send(req.headers().get(ACCEPT_ENCODING).cloned());
            let mut resp = Response::new(Full::new(body.clone()));
            if let Some(e) = encoding {
                resp.headers_mut()
                    .insert(CONTENT_ENCODING, HeaderValue::from_static(e));
            }
            async move { Ok::<_, Infallible>(resp) }
        });
        let mut req = Request::new(());
        if let Some(c) = config {
            req.extensions_mut().insert(c);
        }
        let resp = DecompressionLayer::new()
            .layer(server)
            .oneshot(req)
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.map(|c| c.to_bytes());
        (Response::from_parts(parts, ()), bytes, rx.recv().unwrap())
    }

    #[tokio::test]
    async fn decompress_rules() {
        let plain = Bytes::from_static(b"plain text");
        let cfg = |d| {
            Some(DecompressionConfig {
                decompress: d,
                max_size: DEFAULT_MAX_SIZE,
            })
        };
        // unset: by Content-Encoding
        let (_, body, accept) = fetch(gzip(b"zipped"), Some("gzip"), None).await;
        assert_eq!(body.unwrap(), "zipped");
        assert_eq!(accept.unwrap(), ACCEPTED);
        let (_, body, _) = fetch(plain.clone(), None, None).await;
        assert_eq!(body.unwrap(), plain);
        // true: always, as gzip
        let (_, body, _) = fetch(gzip(b"forced"), None, cfg(Some(true))).await;
        assert_eq!(body.unwrap(), "forced");
        // false: never, and nothing advertised
        let (resp, body, accept) = fetch(gzip(b"kept"), Some("gzip"), cfg(Some(false))).await;
        assert_eq!(body.unwrap(), gzip(b"kept"));
        assert_eq!(resp.headers()[CONTENT_ENCODING], "gzip");
        assert!(accept.is_none());
    }

    #[tokio::test]
    async fn cap_is_enforced_at_its_edge() {
        let data = vec![b'a'; 100_000];
        let at = Some(DecompressionConfig {
            decompress: None,
            max_size: 100_000,
        });
        let (_, body, _) = fetch(gzip(&data), Some("gzip"), at).await;
        assert_eq!(body.unwrap().len(), 100_000);
        let below = Some(DecompressionConfig {
            decompress: None,
            max_size: 99_999,
        });
        let (_, body, _) = fetch(gzip(&data), Some("gzip"), below).await;
        let err = Error::from_boxed(body.unwrap_err());
        assert!(err.is_decompression_limit(), "{err}");
    }

    #[tokio::test]
    async fn corrupt_data_is_a_typed_error() {
        let (_, body, _) = fetch(Bytes::from_static(b"not gzip at all"), Some("gzip"), None).await;
        let err = Error::from_boxed(body.unwrap_err());
        assert!(err.is_body(), "{err}");
        assert!(err.to_string().contains("invalid gzip data"), "{err}");
    }

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
            assert_eq!(Encoding::from_token(token), expected, "token {token:?}");
        }
    }
}
