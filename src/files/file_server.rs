//! [`FileServer`] (HTTP.jl `fileserver`): a tower service serving the files below a root.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower::Service;

use super::representation::{method_not_allowed, status_response};
use super::request_path::RequestPath;
use super::serve_file::{moved_to, FileOptions, FileRequest, Served, DEFAULT_INDEX_FILE};
use crate::Body;

/// A service serving the files below `root` (HTTP.jl `fileserver(root)`), with the
/// semantics of [`serve_file`](super::serve_file) for each.
///
/// The request's URL path is percent-decoded and split into segments; a `..` segment
/// (also as `%2e%2e`), a backslash, a NUL (`%00`) or a broken `%` escape gets `400 Bad
/// Request`, so no request reaches outside `root`; and a file reached through a symbolic
/// link that resolves outside `root` is not served (404) unless
/// [`follow_symlinks`](FileServer::follow_symlinks) allows it. HTTP.jl's directory rules
/// apply, each a `301` with a relative `Location` that keeps the query: a directory asked
/// for without a trailing slash (`/docs` → `docs/`), its index file asked for by name
/// (`/docs/index.html` → `./`), a file asked for with a trailing slash (`/file.txt/` →
/// `../file.txt`). A directory with its slash gets its [index file](FileServer::index_file).
///
/// The service accepts any request body type, so it serves under httpstack's server, a
/// router, or axum (`Router::fallback_service`, `nest_service`).
///
/// ```
/// use httpstack::files::{file_server, FileOptions};
/// use httpstack::server::serve;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// # let dir = std::env::temp_dir();
/// let site = file_server(&dir)
///     .spa_fallback("index.html")
///     .follow_symlinks(false) // the default: no link leads outside the root
///     .options(FileOptions::new().cache_control("public, max-age=60"));
/// let server = serve("127.0.0.1:0", site).await?;
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
    follow_symlinks: bool,
    /// `root` with its links resolved, once it exists.
    resolved_root: OnceLock<PathBuf>,
    options: FileOptions,
}

impl Config {
    /// What files must resolve below: `None` when links may lead anywhere, or when the
    /// root cannot be resolved (then nothing below it can be opened either).
    fn confine(&self) -> Option<PathBuf> {
        if self.follow_symlinks {
            return None;
        }
        if let Some(root) = self.resolved_root.get() {
            return Some(root.clone());
        }
        let resolved = std::fs::canonicalize(&self.root).ok()?;
        Some(self.resolved_root.get_or_init(|| resolved).clone())
    }
}

/// A [`FileServer`] for the files below `root` (HTTP.jl `fileserver`).
///
/// ```
/// use httpstack::files::file_server;
/// use httpstack::server::serve;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = tempfile::tempdir()?;
/// std::fs::create_dir(root.path().join("css"))?;
/// std::fs::write(root.path().join("css/site.css"), "body { margin: 0 }")?;
///
/// let server = serve("127.0.0.1:0", file_server(root.path())).await?;
/// let url = format!("http://{}/css/site.css", server.local_addr());
/// let css = httpstack::get(&url).await?;
/// assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
/// assert_eq!(css.text(), "body { margin: 0 }");
///
/// // A client that has the file already gets 304 Not Modified, without the body.
/// let etag = css.headers()["etag"].clone();
/// let again = httpstack::get(&url).header("if-none-match", etag).await?;
/// assert_eq!(again.status(), 304);
/// server.close().await;
/// # Ok(())
/// # }
/// ```
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
                follow_symlinks: false,
                resolved_root: OnceLock::new(),
                options: FileOptions::default(),
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
    ///
    /// The file must be below the root: a path that is absolute or has a `..` segment
    /// (`../index.html`) is refused — logged here, and never served (such requests get
    /// 404) — and the file is held to the root's symbolic-link rule like any other.
    pub fn spa_fallback(mut self, file: impl Into<PathBuf>) -> Self {
        let file = file.into();
        let below_root = file
            .components()
            .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
        if !below_root {
            tracing::warn!(
                fallback = %file.display(),
                "file_server: spa_fallback must be a path below the root; it is not served"
            );
        }
        Arc::make_mut(&mut self.config).spa_fallback = below_root.then_some(file);
        self
    }

    /// Whether a file reached through a symbolic link that resolves outside the root is
    /// served. Default `false`: such a file gets 404, checked on the file actually
    /// opened, whichever component of its path is the link. Turning it on trusts every
    /// link below the root: anyone who can create one (an upload directory, a shared
    /// checkout) can then publish any file the server process can read.
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        Arc::make_mut(&mut self.config).follow_symlinks = follow;
        self
    }

    /// HTTP.jl's `servefile` options for every file served: `Cache-Control` and the
    /// `ETag` (see [`FileOptions`]).
    pub fn options(mut self, options: FileOptions) -> Self {
        Arc::make_mut(&mut self.config).options = options;
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
            .field("follow_symlinks", &self.config.follow_symlinks)
            .field("options", &self.config.options)
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
        let asks_for_index = !path.trailing_slash
            && config
                .index_file
                .as_deref()
                .is_some_and(|index| path.relative.ends_with(index));
        if asks_for_index {
            // HTTP.jl and Go: `/docs/index.html` is `/docs/`, so it has one address.
            let query = req
                .uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            return ResponseFuture::ready(moved_to(&format!("./{query}")));
        }
        let file_request = FileRequest::new(&req, path.trailing_slash, path.last_raw_segment)
            .with_options(config.options.clone());
        let has_extension = path.has_extension;
        let relative = path.relative;
        ResponseFuture {
            kind: Kind::Serving(Box::pin(async move {
                let target = config.root.join(&relative);
                let confine = config.confine();
                match file_request
                    .serve(target, config.index_file.as_deref(), confine.clone())
                    .await
                {
                    Served::Response(response) => response,
                    Served::NotFound => match &config.spa_fallback {
                        Some(fallback) if !has_extension => {
                            let target = config.root.join(fallback);
                            match file_request.serve_instead(target, confine).await {
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
