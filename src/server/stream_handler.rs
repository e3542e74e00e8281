//! [`stream_handler`]: a request handler as a stream handler (HTTP.jl `streamhandler`).

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::Body;
use tower::util::ServiceExt;
use tower::Service;

use super::stream::Stream;
use super::stream_service::StreamHandler;
use crate::{BoxError, Error};

/// Turns a request handler — any `tower::Service<http::Request<httpstack::Body>>`, a
/// [`handler_fn`](super::handler_fn), a router — into a stream handler for
/// [`listen`](super::listen) (HTTP.jl `streamhandler`, which is how HTTP.jl's `serve`
/// runs on `listen`). The service gets the request with its body unread; its response
/// is written to the stream chunk by chunk, trailers included. A service error becomes a
/// 500, as with [`serve`](super::serve). The body the service gets is bounded by the
/// server's `max_body_bytes` and `read_timeout`, as for every handler.
///
/// ```
/// use httpstack::server::{handler_fn, listen, stream_handler};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// let hello = handler_fn(|_req| async { http::Response::new(String::from("hello")) });
/// let server = listen("127.0.0.1:0", stream_handler(hello)).await?;
/// let resp = httpstack::get(format!("http://{}/", server.local_addr())).await?;
/// assert_eq!(resp.text(), "hello");
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub fn stream_handler<S, B>(service: S) -> ServiceStreamHandler<S>
where
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    ServiceStreamHandler { service }
}

/// The stream handler made by [`stream_handler`].
#[derive(Clone)]
pub struct ServiceStreamHandler<S> {
    service: S,
}

impl<S> fmt::Debug for ServiceStreamHandler<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceStreamHandler")
            .field("service", &std::any::type_name::<S>())
            .finish()
    }
}

impl<S, B> StreamHandler for ServiceStreamHandler<S>
where
    S: Service<Request<crate::Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    /// Boxed: the service's future and body are awaited in one `async` block.
    type Future = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

    fn call(&self, mut stream: Stream) -> Self::Future {
        let service = self.service.clone();
        Box::pin(async move {
            let request = stream.take_request()?;
            let response = service
                .oneshot(request)
                .await
                .map_err(|err| Error::from_boxed(err.into()))?;
            let (parts, body) = response.into_parts();
            stream.set_status(parts.status)?;
            for (name, value) in &parts.headers {
                stream.append_header(name.clone(), value.clone());
            }
            stream.start_write()?;
            let mut body = std::pin::pin!(body);
            // Each frame is converted inside the poll, so `B::Data` and `B::Error` are
            // never held across an `.await` and need not be `Send`.
            while let Some(piece) = poll_fn(|cx| {
                body.as_mut().poll_frame(cx).map(|frame| {
                    frame.map(|frame| match frame {
                        Ok(frame) => match frame.into_data() {
                            Ok(data) => Ok(Piece::Data(data.into())),
                            Err(frame) => Ok(Piece::Trailers(frame.into_trailers().ok())),
                        },
                        Err(err) => Err(Error::body(err.into())),
                    })
                })
            })
            .await
            {
                match piece? {
                    Piece::Data(data) => stream.write(data).await?,
                    Piece::Trailers(trailers) => {
                        for (name, value) in trailers.iter().flatten() {
                            stream.append_trailer(name.clone(), value.clone());
                        }
                    }
                }
            }
            stream.close_write()
        })
    }
}

/// One frame of the service's response body, converted.
enum Piece {
    Data(Bytes),
    Trailers(Option<HeaderMap>),
}
