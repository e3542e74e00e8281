//! [`ContentBody`]: a byte range of a reader, streamed in bounded chunks with an exact size.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncReadExt, Take};
use tokio_util::io::ReaderStream;

use crate::BoxError;

/// The most a chunk holds: what is in memory at once for one response (tower-http's
/// ServeDir reads in pieces of the same size).
pub(crate) const CHUNK_SIZE: usize = 64 * 1024;

pin_project! {
    /// The next `remaining` bytes of a reader, as data frames of up to [`CHUNK_SIZE`]
    /// bytes. The size hint is exact, so HTTP/2 and the `Content-Length` agree; a reader
    /// that ends early ends the body with an error rather than a short body.
    pub(crate) struct ContentBody<R> {
        #[pin]
        stream: ReaderStream<Take<R>>,
        remaining: u64,
    }
}

impl<R: AsyncRead> ContentBody<R> {
    /// `len` bytes from `reader`'s current position.
    pub(crate) fn new(reader: R, len: u64) -> Self {
        let capacity = usize::try_from(len).map_or(CHUNK_SIZE, |len| len.clamp(1, CHUNK_SIZE));
        ContentBody {
            stream: ReaderStream::with_capacity(reader.take(len), capacity),
            remaining: len,
        }
    }
}

impl<R: AsyncRead> http_body::Body for ContentBody<R> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if *this.remaining == 0 {
            return Poll::Ready(None);
        }
        match ready!(this.stream.poll_next(cx)) {
            Some(Ok(chunk)) => {
                *this.remaining = this.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Some(Err(err)) => Poll::Ready(Some(Err(err.into()))),
            None => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "content ended {} bytes short (the file shrank while being served)",
                    this.remaining
                ),
            )
            .into()))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use http_body::Body as _;
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn streams_bounded_chunks_of_the_range() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut reader = &data[..];
        // Skip 10 bytes, as a seek would.
        reader = &reader[10..];
        let mut body = ContentBody::new(reader, 150_000);
        assert_eq!(body.size_hint().exact(), Some(150_000));
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            let chunk = frame.unwrap().into_data().unwrap();
            assert!(chunk.len() <= CHUNK_SIZE, "chunk of {}", chunk.len());
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, &data[10..150_010]);
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn short_reader_is_an_error() {
        let mut body = ContentBody::new(&b"abc"[..], 5);
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "abc"
        );
        let err = body.frame().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("2 bytes short"), "{err}");
    }
}
