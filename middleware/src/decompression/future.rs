use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use http::{Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;

use super::{DecompressionBody, DecompressionConfig, Encoding};
use crate::error::BoxError;

pin_project! {
    /// The future of [`Decompression`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: DecompressionConfig,
        head: bool,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, config: DecompressionConfig, head: bool) -> Self {
        ResponseFuture {
            inner,
            config,
            head,
        }
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
            None => DecompressionBody::identity(body),
            Some(encoding) => DecompressionBody::decoded(body, encoding, max_size),
        })))
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
        None if config.decompress == Some(true) => {
            Some(Encoding::Gzip).filter(|e| e.is_compiled_in())
        }
        None => None,
    }
}
