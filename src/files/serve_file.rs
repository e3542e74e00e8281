//! [`serve_file`] (HTTP.jl `servefile`): one file, or a directory's index file, from disk.

use std::future::Future;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use http::header::{HeaderValue, CACHE_CONTROL, LOCATION};
use http::{Request, Response, StatusCode};

use super::content_body::ContentBody;
use super::entity_tag::EntityTag;
use super::preconditions::{RequestConditions, Validators};
use super::representation::{method_not_allowed, status_response, Representation};
use crate::Body;

/// The index file a directory request is answered with, unless configured otherwise.
pub(crate) const DEFAULT_INDEX_FILE: &str = "index.html";

/// Serves the file at `path` as the response to `req` (HTTP.jl `servefile`), with
/// [`serve_content`](super::serve_content)'s semantics: `Content-Type` from the extension
/// (`application/octet-stream` for an unknown one, never sniffed; text types with
/// `charset=utf-8`), `X-Content-Type-Options: nosniff`, `Content-Length`, `Last-Modified`, a strong `ETag`, `Accept-Ranges`,
/// single byte ranges, and the conditional headers in RFC 9110 §13.2.2 order.
///
/// When `path` is a directory, a request path without a trailing slash is redirected
/// (`301`, relative `Location: name/`, so it works under any mount prefix) and one with it
/// gets the directory's `index.html`; a file asked for with a trailing slash is
/// redirected to its name without it (`/file.txt/` → `/file.txt`), the query kept. Missing files get `404`, unreadable ones `403`,
/// methods other than GET and HEAD `405`. The file is streamed in chunks of at most
/// 64 KiB, never read whole.
///
/// `path` is used as given: to serve request paths below a root safely, use
/// [`file_server`](super::file_server).
///
/// ```
/// use httpstack::files::serve_file;
/// use httpstack::server::{handler_fn, serve};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let report = dir.path().join("latest.pdf");
/// std::fs::write(&report, "%PDF-1.7 ...")?;
///
/// let server = serve("127.0.0.1:0", handler_fn(move |req| {
///     let report = report.clone();
///     async move { serve_file(&req, report).await }
/// }))
/// .await?;
/// let url = format!("http://{}/reports/latest", server.local_addr());
/// let pdf = httpstack::get(&url).await?;
/// assert_eq!(pdf.headers()["content-type"], "application/pdf");
/// assert_eq!(pdf.text(), "%PDF-1.7 ...");
/// // Ranges come for free: a reader can resume a download.
/// let tail = httpstack::get(&url).header("range", "bytes=9-").await?;
/// assert_eq!((tail.status().as_u16(), tail.text().as_str()), (206, "..."));
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub fn serve_file<B>(
    req: &Request<B>,
    path: impl AsRef<Path>,
) -> impl Future<Output = Response<Body>> + Send + 'static {
    serve_file_with(req, path, &FileOptions::default())
}

/// [`serve_file`] with HTTP.jl's options: a `Cache-Control` value, and the `ETag` (on,
/// off, or computed by the application).
///
/// ```
/// use httpstack::files::{serve_file_with, FileOptions};
/// use httpstack::server::{handler_fn, serve};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let report = dir.path().join("latest.pdf");
/// std::fs::write(&report, "%PDF-1.7 ...")?;
/// let options = FileOptions::new().cache_control("public, max-age=3600").etag(false);
/// let server = serve(
///     "127.0.0.1:0",
///     handler_fn(move |req| {
///         let (options, report) = (options.clone(), report.clone());
///         async move { serve_file_with(&req, report, &options).await }
///     }),
/// )
/// .await?;
/// let pdf = httpstack::get(format!("http://{}/latest.pdf", server.local_addr())).await?;
/// assert_eq!(pdf.headers()["cache-control"], "public, max-age=3600");
/// assert!(pdf.headers().get("etag").is_none());
/// server.close().await;
/// # Ok(())
/// # }
/// ```
pub fn serve_file_with<B>(
    req: &Request<B>,
    path: impl AsRef<Path>,
    options: &FileOptions,
) -> impl Future<Output = Response<Body>> + Send + 'static {
    let file_request = FileRequest::new(req, req.uri().path().ends_with('/'), last_raw(req))
        .with_options(options.clone());
    let path = path.as_ref().to_owned();
    async move {
        if let Some(response) = method_not_allowed(&file_request.conditions.method) {
            return response;
        }
        match file_request
            .serve(path, Some(DEFAULT_INDEX_FILE), None)
            .await
        {
            Served::Response(response) => response,
            Served::NotFound => status_response(StatusCode::NOT_FOUND),
        }
    }
}

/// Computes a file's `ETag` from its metadata (`None`: the file gets none).
pub type EtagFn = std::sync::Arc<dyn Fn(&std::fs::Metadata) -> Option<EntityTag> + Send + Sync>;

/// HTTP.jl's `servefile` options, for [`serve_file_with`] and
/// [`FileServer::options`](super::FileServer::options): `Cache-Control`, and how the
/// `ETag` is made.
///
/// ```
/// use httpstack::files::{EntityTag, FileOptions};
///
/// let _versioned = FileOptions::new()
///     .cache_control("public, max-age=31536000, immutable")
///     .etag_with(|meta| EntityTag::strong(format!("{:x}", meta.len())).ok());
/// ```
#[derive(Clone, Default)]
pub struct FileOptions {
    cache_control: Option<HeaderValue>,
    etag: Etag,
}

#[derive(Clone, Default)]
enum Etag {
    #[default]
    Default,
    Off,
    With(EtagFn),
}

impl FileOptions {
    /// The defaults: no `Cache-Control`, the default strong `ETag`.
    pub fn new() -> Self {
        FileOptions::default()
    }

    /// The `Cache-Control` value every file response carries (200, 206 and 304). A value
    /// that is not a valid header value is ignored, with a warning in the log.
    pub fn cache_control(mut self, value: &str) -> Self {
        self.cache_control = HeaderValue::try_from(value)
            .inspect_err(|_| tracing::warn!(value, "FileOptions::cache_control: invalid value"))
            .ok();
        self
    }

    /// Whether responses carry an `ETag` (default `true`: strong, from the modification
    /// time and length, in nginx's format). Without one, `If-None-Match` and `If-Match`
    /// have nothing to match and `Last-Modified` alone validates.
    pub fn etag(mut self, on: bool) -> Self {
        self.etag = if on { Etag::Default } else { Etag::Off };
        self
    }

    /// Computes each file's `ETag` from its metadata (a content hash kept elsewhere, a
    /// build id); `None` sends none for that file.
    pub fn etag_with(
        mut self,
        etag: impl Fn(&std::fs::Metadata) -> Option<EntityTag> + Send + Sync + 'static,
    ) -> Self {
        self.etag = Etag::With(std::sync::Arc::new(etag));
        self
    }

    fn etag_of(&self, meta: &std::fs::Metadata) -> Option<EntityTag> {
        match &self.etag {
            Etag::Default => default_etag(meta),
            Etag::Off => None,
            Etag::With(etag) => etag(meta),
        }
    }
}

impl std::fmt::Debug for FileOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let etag = match self.etag {
            Etag::Default => "default",
            Etag::Off => "off",
            Etag::With(_) => "custom",
        };
        f.debug_struct("FileOptions")
            .field("cache_control", &self.cache_control)
            .field("etag", &etag)
            .finish()
    }
}

/// The default strong `ETag`: a new write changes the modification time or the length.
/// nginx's format (`"mtime-length"` in hex), plus the nanoseconds.
fn default_etag(meta: &std::fs::Metadata) -> Option<EntityTag> {
    let since = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(EntityTag::from_hex_digits(format!(
        "{:x}.{:x}-{:x}",
        since.as_secs(),
        since.subsec_nanos(),
        meta.len()
    )))
}

fn last_raw<B>(req: &Request<B>) -> String {
    req.uri()
        .path()
        .split('/')
        .rfind(|s| !s.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// What serving a path needs from the request, owned.
#[derive(Debug)]
pub(crate) struct FileRequest {
    pub(crate) conditions: RequestConditions,
    /// Whether the URL path ends in `/`.
    trailing_slash: bool,
    /// The relative redirect target for a directory asked for without `/`.
    redirect: String,
    /// The relative redirect target for a file asked for with a `/` after it.
    file_redirect: String,
    options: FileOptions,
}

/// The outcome of serving a path: a response, or "nothing there" (for the SPA fallback).
#[derive(Debug)]
pub(crate) enum Served {
    Response(Response<Body>),
    NotFound,
}

impl FileRequest {
    /// Copies what it needs out of `req`; `last_raw_segment` is the URL path's last
    /// non-empty segment, still percent-encoded.
    pub(crate) fn new<B>(req: &Request<B>, trailing_slash: bool, last_raw_segment: String) -> Self {
        let query = req
            .uri()
            .query()
            .map(|query| format!("?{query}"))
            .unwrap_or_default();
        let mut redirect = format!("{last_raw_segment}/{query}");
        if redirect.starts_with('/') {
            redirect.insert(0, '.');
        }
        // HTTP.jl and Go: `/file.txt/` goes to `/file.txt`, so relative links work.
        let file_redirect = format!("../{last_raw_segment}{query}");
        FileRequest {
            conditions: RequestConditions::new(req.method(), req.headers()),
            trailing_slash,
            redirect,
            file_redirect,
            options: FileOptions::default(),
        }
    }

    /// Serves with `options` rather than the defaults.
    pub(crate) fn with_options(mut self, options: FileOptions) -> Self {
        self.options = options;
        self
    }

    /// Serves `path`; a directory redirects or gets `index_file` (none: 404). With
    /// `confine` (a resolved root), a file that resolves outside it is not found.
    pub(crate) async fn serve(
        &self,
        path: PathBuf,
        index_file: Option<&str>,
        confine: Option<PathBuf>,
    ) -> Served {
        self.open_and_respond(path, index_file, confine, self.trailing_slash)
            .await
    }

    /// Serves the file `path` in place of what was asked for (an SPA's entry file): the
    /// request path's trailing slash does not apply to it.
    pub(crate) async fn serve_instead(&self, path: PathBuf, confine: Option<PathBuf>) -> Served {
        self.open_and_respond(path, None, confine, false).await
    }

    async fn open_and_respond(
        &self,
        path: PathBuf,
        index_file: Option<&str>,
        confine: Option<PathBuf>,
        trailing_slash: bool,
    ) -> Served {
        let index_file = index_file.map(str::to_owned);
        // One trip to the blocking pool for open + stat (+ index).
        let opened = tokio::task::spawn_blocking(move || {
            open_blocking(
                path,
                trailing_slash,
                index_file.as_deref(),
                confine.as_deref(),
            )
        })
        .await
        .unwrap_or_else(|join| Err(io::Error::other(join)));
        match opened {
            Ok(Opened::File(file)) => Served::Response(self.respond(*file)),
            Ok(Opened::Redirect) => Served::Response(moved_to(&self.redirect)),
            Ok(Opened::RedirectToFile) => Served::Response(moved_to(&self.file_redirect)),
            Ok(Opened::NotFound) => Served::NotFound,
            Err(err) if is_not_found(&err) => Served::NotFound,
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
                Served::Response(status_response(StatusCode::FORBIDDEN))
            }
            Err(err) => {
                tracing::warn!(error = %err, "serve_file: opening the file failed");
                Served::Response(status_response(StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }

    fn respond(&self, file: OpenFile) -> Response<Body> {
        let OpenFile {
            mut file,
            meta,
            content_type,
        } = file;
        let representation = Representation {
            len: meta.len(),
            content_type,
            validators: Validators {
                etag: self.options.etag_of(&meta),
                last_modified: meta.modified().ok(),
            },
        };
        let mut planned = representation.plan(&self.conditions);
        let status = planned.response.status();
        if let Some(cache_control) = &self.options.cache_control {
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                let headers = planned.response.headers_mut();
                headers.insert(CACHE_CONTROL, cache_control.clone());
            }
        }
        if let Some((start, len)) = planned.body {
            // lseek only moves the file offset: no I/O to wait for.
            if start > 0 {
                if let Err(err) = file.seek(SeekFrom::Start(start)) {
                    tracing::warn!(error = %err, "serve_file: seeking failed");
                    return status_response(StatusCode::INTERNAL_SERVER_ERROR);
                }
            }
            let file = tokio::fs::File::from_std(file);
            *planned.response.body_mut() = Body::wrap(ContentBody::new(file, len));
        }
        planned.response
    }
}

/// `301 Moved Permanently` to the relative `location` (relative, so it works under any
/// mount prefix).
pub(crate) fn moved_to(location: &str) -> Response<Body> {
    let mut response = status_response(StatusCode::MOVED_PERMANENTLY);
    if let Ok(location) = HeaderValue::try_from(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

fn is_not_found(err: &io::Error) -> bool {
    // ENOTDIR (20 on Linux, macOS and the BSDs): a path through a file, `/a.txt/b`. A name
    // or path too long for the file system (ENAMETOOLONG) names nothing there either: a
    // 404, not a 500 and a log line any client could repeat.
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::InvalidFilename
    ) || (cfg!(unix) && err.raw_os_error() == Some(20))
}

enum Opened {
    File(Box<OpenFile>),
    /// A directory asked for without its `/`.
    Redirect,
    /// A file asked for with a `/` after it.
    RedirectToFile,
    NotFound,
}

struct OpenFile {
    file: std::fs::File,
    meta: std::fs::Metadata,
    content_type: HeaderValue,
}

/// A file's `Content-Type`, from its extension alone. An unknown extension is
/// `application/octet-stream`, never sniffed: a file uploaded as `evil.custom` holding
/// HTML must not be served as `text/html` (stored XSS), and `X-Content-Type-Options:
/// nosniff` keeps browsers from sniffing it themselves. Text types say UTF-8, as HTTP.jl's
/// do.
fn file_content_type(path: &Path) -> HeaderValue {
    match mime_guess::from_path(path).first_raw() {
        Some(mime) if mime.starts_with("text/") => {
            HeaderValue::try_from(format!("{mime}; charset=utf-8"))
                .unwrap_or_else(|_| HeaderValue::from_static(mime))
        }
        Some(mime) => HeaderValue::from_static(mime),
        None => HeaderValue::from_static("application/octet-stream"),
    }
}

/// Whether the file `file` (opened from `path`) lies below `root` once every link on the
/// way is resolved. On Linux the kernel says where the open file is
/// (`/proc/self/fd/N`), so a link swapped after the open changes nothing; elsewhere the
/// path is resolved again.
fn is_below(root: &Path, file: &std::fs::File, path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    let resolved = {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .or_else(|_| std::fs::canonicalize(path))
    };
    #[cfg(not(target_os = "linux"))]
    let resolved = {
        let _ = file;
        std::fs::canonicalize(path)
    };
    resolved.is_ok_and(|resolved| resolved.starts_with(root))
}

/// Opens `path` (or its directory's index file) and reads what the response head needs.
/// With `confine` (a root, already resolved), a file that resolves outside it is
/// [`Opened::NotFound`].
fn open_blocking(
    path: PathBuf,
    trailing_slash: bool,
    index_file: Option<&str>,
    confine: Option<&Path>,
) -> io::Result<Opened> {
    let mut path = path;
    let mut file = std::fs::File::open(&path)?;
    if confine.is_some_and(|root| !is_below(root, &file, &path)) {
        return Ok(Opened::NotFound);
    }
    let mut meta = file.metadata()?;
    if meta.is_dir() {
        if !trailing_slash {
            return Ok(Opened::Redirect);
        }
        let Some(index_file) = index_file else {
            return Ok(Opened::NotFound);
        };
        path.push(index_file);
        file = std::fs::File::open(&path)?;
        if confine.is_some_and(|root| !is_below(root, &file, &path)) {
            return Ok(Opened::NotFound);
        }
        meta = file.metadata()?;
        if meta.is_dir() {
            return Ok(Opened::NotFound);
        }
    } else if !meta.is_file() {
        // A FIFO or device has no length to serve ranges of.
        return Ok(Opened::NotFound);
    } else if trailing_slash {
        return Ok(Opened::RedirectToFile);
    }
    let content_type = file_content_type(&path);
    Ok(Opened::File(Box::new(OpenFile {
        meta,
        file,
        content_type,
    })))
}
