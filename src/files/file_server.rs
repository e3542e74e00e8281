//! [`FileServer`] (HTTP.jl `fileserver`): a tower service serving the files below a root.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower::Service;

use super::representation::{method_not_allowed, status_response};
use super::request_path::RequestPath;
use super::serve_file::{FileRequest, Served, DEFAULT_INDEX_FILE};
use crate::Body;

/// A service serving the files below `root` (HTTP.jl `fileserver(root)`), with the
/// semantics of [`serve_file`](super::serve_file) for each.
///
/// The request's URL path is percent-decoded and split into segments; a `..` segment
/// (also as `%2e%2e`), a backslash, a NUL (`%00`) or a broken `%` escape gets `400 Bad
/// Request`, so no request reaches outside `root`. A directory asked for without a
/// trailing slash is redirected; with one it gets its [index file](FileServer::index_file).
///
/// The service accepts any request body type, so it serves under httpstack's server, a
/// router, or axum (`Router::fallback_service`, `nest_service`).
///
/// ```
/// use httpstack::files::file_server;
/// use httpstack::server::serve;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// # let dir = std::env::temp_dir();
/// let server = serve("127.0.0.1:0", file_server(&dir).spa_fallback("index.html")).await?;
/// # server.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileServer {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    root: PathBuf,
    index_file: Option<String>,
    spa_fallback: Option<PathBuf>,
}

/// A [`FileServer`] for the files below `root` (HTTP.jl `fileserver`).
pub fn file_server(root: impl Into<PathBuf>) -> FileServer {
    FileServer::new(root)
}

impl FileServer {
    /// A server for the files below `root`, with index file `index.html` and no SPA
    /// fallback.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileServer {
            config: Arc::new(Config {
                root: root.into(),
                index_file: Some(DEFAULT_INDEX_FILE.to_owned()),
                spa_fallback: None,
            }),
        }
    }

    /// The file a directory request (`/docs/`) is answered with; `None`: such requests
    /// get 404. Default `index.html`.
    pub fn index_file(mut self, name: Option<&str>) -> Self {
        Arc::make_mut(&mut self.config).index_file = name.map(str::to_owned);
        self
    }

    /// A single-page application's entry file, relative to the root (HTTP.jl
    /// `spa_fallback`): a missing path whose last segment has no extension
    /// (`/settings/profile`) is answered with this file, so client-side routes load the
    /// app; a missing asset (`/app.js`) still gets 404.
    pub fn spa_fallback(mut self, file: impl Into<PathBuf>) -> Self {
        Arc::make_mut(&mut self.config).spa_fallback = Some(file.into());
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.config.root
    }
}

impl fmt::Debug for FileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileServer")
            .field("root", &self.config.root)
            .field("index_file", &self.config.index_file)
            .field("spa_fallback", &self.config.spa_fallback)
            .finish()
    }
}

impl<B> Service<Request<B>> for FileServer {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> ResponseFuture {
        if let Some(response) = method_not_allowed(req.method()) {
            return ResponseFuture::ready(response);
        }
        let path = match RequestPath::parse(req.uri().path()) {
            Ok(path) => path,
            Err(_) => return ResponseFuture::ready(status_response(StatusCode::BAD_REQUEST)),
        };
        let config = Arc::clone(&self.config);
        let file_request = FileRequest::new(&req, path.trailing_slash, path.last_raw_segment);
        let has_extension = path.has_extension;
        let relative = path.relative;
        ResponseFuture {
            kind: Kind::Serving(Box::pin(async move {
                let target = config.root.join(&relative);
                match file_request
                    .serve(target, config.index_file.as_deref())
                    .await
                {
                    Served::Response(response) => response,
                    Served::NotFound => match &config.spa_fallback {
                        Some(fallback) if !has_extension => {
                            let target = config.root.join(fallback);
                            match file_request.serve(target, None).await {
                                Served::Response(response) => response,
                                Served::NotFound => status_response(StatusCode::NOT_FOUND),
                            }
                        }
                        _ => status_response(StatusCode::NOT_FOUND),
                    },
                }
            })),
        }
    }
}

/// The response future of [`FileServer`].
///
/// Early answers (405, 400) are ready at once; serving a file is one boxed future per
/// request, as in tower-http's ServeDir: its steps are async file-system calls whose cost
/// (a trip to the blocking pool for open and stat) dwarfs one allocation.
pub struct ResponseFuture {
    kind: Kind,
}

enum Kind {
    Ready(Option<Response<Body>>),
    Serving(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

impl ResponseFuture {
    fn ready(response: Response<Body>) -> Self {
        ResponseFuture {
            kind: Kind::Ready(Some(response)),
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().kind {
            Kind::Ready(response) => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| status_response(StatusCode::INTERNAL_SERVER_ERROR)))),
            Kind::Serving(future) => future.as_mut().poll(cx).map(Ok),
        }
    }
}
