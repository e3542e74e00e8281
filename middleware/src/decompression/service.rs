use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::ACCEPT_ENCODING;
use http::{Method, Request, Response};
use http_body::Body;
use tower::Service;

use super::encoding::accepted;
use super::{DecompressionBody, DecompressionConfig, ResponseFuture};
use crate::error::BoxError;

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
            if let Some(accepted) = accepted() {
                req.headers_mut()
                    .entry(ACCEPT_ENCODING)
                    .or_insert_with(|| accepted.clone());
            }
        }
        let head = *req.method() == Method::HEAD;
        ResponseFuture::new(self.inner.call(req), config, head)
    }
}

/// The gzip cases (the codings share one code path; `tokens` and `advertised` cover the
/// rest).
#[cfg(all(test, feature = "gzip"))]
mod tests {
    use super::*;
    use crate::decompression::{DecompressionConfig, DecompressionLayer};
    use crate::error::{BoxError, Error};
    use bytes::Bytes;
    use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
    use http::HeaderValue;
    use http_body_util::{BodyExt, Full};
    use std::convert::Infallible;
    use std::io::Write;
    use tower::Layer;
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

    #[cfg(all(
        feature = "gzip",
        feature = "deflate",
        feature = "br",
        feature = "zstd"
    ))]
    #[tokio::test]
    async fn decompress_rules() {
        use crate::decompression::DEFAULT_MAX_SIZE;
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
        assert_eq!(accept.unwrap(), "gzip, deflate, br, zstd");
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
}

#[cfg(test)]
mod advertised {
    use crate::decompression::DecompressionLayer;
    use http::header::ACCEPT_ENCODING;
    use http::{Request, Response};
    use std::convert::Infallible;
    use tower::{service_fn, Layer, ServiceExt};

    /// `Accept-Encoding` lists exactly the codings compiled in, in a fixed order.
    #[tokio::test]
    async fn accept_encoding_lists_only_what_is_compiled_in() {
        let expected: Vec<&str> = [
            ("gzip", cfg!(feature = "gzip")),
            ("deflate", cfg!(feature = "deflate")),
            ("br", cfg!(feature = "br")),
            ("zstd", cfg!(feature = "zstd")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let echo = service_fn(|req: Request<()>| async move {
            let mut resp = Response::new(http_body_util::Empty::<bytes::Bytes>::new());
            if let Some(accept) = req.headers().get(ACCEPT_ENCODING) {
                resp.headers_mut().insert("x-accept", accept.clone());
            }
            Ok::<_, Infallible>(resp)
        });
        let resp = DecompressionLayer::new()
            .layer(echo)
            .oneshot(Request::new(()))
            .await
            .unwrap();
        match resp.headers().get("x-accept") {
            Some(value) => assert_eq!(value, expected.join(", ").as_str()),
            None => assert!(expected.is_empty(), "{expected:?} not advertised"),
        }
    }
}
