use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::{Stream, TryStreamExt};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyDataStream;
use pin_project_lite::pin_project;
use tokio_util::io::{ReaderStream, StreamReader};

use super::encoding::decoder;
use super::Encoding;
use crate::error::{BoxError, Error};

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
    match decoder(reader, encoding) {
        Some(decoder) => Box::pin(ReaderStream::with_capacity(decoder, 64 * 1024)),
        // Never chosen: `Encoding::from_token` only names codings compiled in.
        None => Box::pin(futures_util::stream::once(async move {
            Err(std::io::Error::other(format!(
                "{} decoding is not compiled in",
                encoding.name()
            )))
        })),
    }
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

impl<B> DecompressionBody<B> {
    /// The body as it came (not encoded, or decoding off).
    pub(super) fn identity(inner: B) -> Self {
        DecompressionBody {
            kind: Kind::Identity { inner },
        }
    }

    /// `body` decoded from `encoding`, failing past `max_size` decoded bytes.
    pub(super) fn decoded(body: B, encoding: Encoding, max_size: u64) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        DecompressionBody {
            kind: Kind::Decoded {
                stream: decode(body, encoding),
                encoding,
                produced: 0,
                max_size,
            },
        }
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
