//! The HTTP client (HTTP.jl `HTTP.request` and friends).
//!
//! `httpstack::get(url).await?` sends a request with the default client; [`Client`] holds
//! client-wide settings and a connection pool. A request is a [`RequestBuilder`]: set
//! headers, query, body and per-request options (HTTP.jl's keyword arguments), then
//! `.await` it for a [`Response`] whose body is read whole — or stream the body with
//! [`RequestBuilder::response_stream`] or [`RequestBuilder::open`].
//!
//! ```
//! # use httpstack::server::{handler_fn, serve};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
//! # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
//! #     http::Response::new(httpstack::Body::from(req.uri().to_string()))
//! # })).await?;
//! # let base = format!("http://127.0.0.1:{}", server.port());
//! let resp = httpstack::get(format!("{base}/search")).query(&[("q", "a b")]).await?;
//! assert_eq!(resp.status(), 200);
//! assert_eq!(resp.text(), "/search?q=a%20b");
//!
//! let resp = httpstack::post(format!("{base}/form")).form(&[("a", "1")]).await?;
//! assert_eq!(resp.status(), 200);
//! # server.close().await; Ok(()) }
//! ```
//!
//! Under the hood each client is a tower stack (docs/design.md's client stack) over
//! hyper-util's pooled client and rustls; per-request options travel as request
//! extensions that the layers read.

pub mod api_client;
mod builder;
mod download;
mod layers;
mod open;
mod openraw;
mod proxy;
mod request;
mod response;
mod target;
pub(crate) mod transport;

use std::path::PathBuf;
use std::sync::OnceLock;

use http::Method;

#[cfg(feature = "multipart")]
pub use crate::multipart::{Form, Multipart};
pub use crate::tls::{Certificate, Identity};
#[doc(hidden)]
pub use api_client::{ApiBuilder, ApiClient};
pub use builder::{Client, ClientBuilder, DEFAULT_USER_AGENT};
pub use download::{suggested_filename, Download, Progress};
pub use layers::{ClientLayer, ClientService};
pub use open::OpenStream;
pub use openraw::RawIo;
pub use proxy::{Proxy, ProxyConfig};
pub use request::{KeyValue, RequestBuilder};
pub use response::Response;
pub use transport::transport_error;

use crate::Error;
#[cfg(feature = "cookies")]
use httpstack_middleware::cookies::CookieJar;

static CONFIGURED_CLIENT: OnceLock<Client> = OnceLock::new();

thread_local! {
    static THREAD_CLIENT: std::cell::OnceCell<Client> = const { std::cell::OnceCell::new() };
}

/// The client behind the free functions ([`get`], [`post`]...).
///
/// Unless [`set_default_client`] was called, each thread builds its own on first use. A
/// pooled connection is driven by a task of the tokio runtime that opened it and dies with
/// that runtime; a runtime's threads belong to it alone, so a per-thread pool never hands
/// a request a connection whose runtime is gone (as one process-wide pool would across
/// `#[tokio::test]`s). For one pool per application, build a [`Client`] and share it.
pub fn default_client() -> Client {
    if let Some(client) = CONFIGURED_CLIENT.get() {
        return client.clone();
    }
    THREAD_CLIENT.with(|cell| {
        cell.get_or_init(|| match default_client_builder().build() {
            Ok(client) => client,
            Err(err) => panic!("httpstack: cannot build the default client: {err}"),
        })
        .clone()
    })
}

/// The default client's settings: the global cookie jar (with `cookies`).
fn default_client_builder() -> ClientBuilder {
    #[cfg(feature = "cookies")]
    return ClientBuilder::new().cookie_jar(global_cookie_jar());
    #[cfg(not(feature = "cookies"))]
    ClientBuilder::new()
}

#[cfg(feature = "cookies")]
static GLOBAL_JAR: OnceLock<CookieJar> = OnceLock::new();

/// HTTP.jl's global cookie jar: the one the default client (behind [`get`], [`post`]...)
/// uses on every thread. Other clients have their own unless given this one with
/// [`ClientBuilder::cookie_jar`].
#[cfg(feature = "cookies")]
pub fn global_cookie_jar() -> CookieJar {
    GLOBAL_JAR.get_or_init(CookieJar::new).clone()
}

/// Sets one client behind the free functions for every thread (share it only within one
/// runtime). Works once; a second call hands the client back as `Err`.
pub fn set_default_client(client: Client) -> Result<(), Client> {
    CONFIGURED_CLIENT.set(client)
}

/// A request with any method, on the default client (HTTP.jl `HTTP.request`).
pub fn request(method: Method, url: impl AsRef<str>) -> RequestBuilder {
    default_client().request(method, url)
}

/// A GET request on the default client.
pub fn get(url: impl AsRef<str>) -> RequestBuilder {
    default_client().get(url)
}

/// A POST request on the default client.
pub fn post(url: impl AsRef<str>) -> RequestBuilder {
    default_client().post(url)
}

/// A PUT request on the default client.
pub fn put(url: impl AsRef<str>) -> RequestBuilder {
    default_client().put(url)
}

/// A PATCH request on the default client.
pub fn patch(url: impl AsRef<str>) -> RequestBuilder {
    default_client().patch(url)
}

/// A DELETE request on the default client.
pub fn delete(url: impl AsRef<str>) -> RequestBuilder {
    default_client().delete(url)
}

/// A HEAD request on the default client.
pub fn head(url: impl AsRef<str>) -> RequestBuilder {
    default_client().head(url)
}

/// An OPTIONS request on the default client.
pub fn options(url: impl AsRef<str>) -> RequestBuilder {
    default_client().options(url)
}

/// HTTP.jl `HTTP.open` on the default client; see [`OpenStream`].
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     let body = req.into_body().collect_bytes().await.unwrap_or_default();
/// #     http::Response::new(format!("{} bytes stored", body.len()))
/// # })).await?;
/// # let url = format!("http://127.0.0.1:{}/logs/today", server.port());
/// // Upload lines as they are produced, then read the answer.
/// let mut stream = httpstack::open(http::Method::PUT, &url)?;
/// for line in ["GET / 200\n", "GET /about 200\n", "GET /missing 404\n"] {
///     stream.write(line).await?;
/// }
/// let head = stream.start_read().await?; // ends the upload, waits for the head
/// assert_eq!(head.status(), 200);
/// let answer = stream.read_chunk().await?.unwrap_or_default();
/// assert_eq!(answer, "42 bytes stored");
/// stream.close_read().await?;
/// # server.close().await; Ok(()) }
/// ```
pub fn open(method: Method, url: impl AsRef<str>) -> Result<OpenStream, Error> {
    default_client().open(method, url)
}

/// HTTP.jl `download(url, local_path)` on the default client: streams a GET to a file and
/// returns its path. `path` may be a file, or a directory (the name then comes from
/// Content-Disposition or the URL); [`download_temp`] picks a temporary directory.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = serve("127.0.0.1:0", handler_fn(|_req: http::Request<httpstack::Body>| async {
/// #     http::Response::new(String::from("id,name\n1,ada\n"))
/// # })).await?;
/// # let base = format!("http://127.0.0.1:{}", server.port());
/// let dir = tempfile::tempdir()?;
/// // Into a directory: the file is named from the response (here the URL).
/// let path = httpstack::download(format!("{base}/exports/users.csv"), dir.path())
///     .update_period(None) // no progress reports
///     .await?;
/// assert_eq!(path, dir.path().join("users.csv"));
/// assert_eq!(std::fs::read_to_string(&path)?, "id,name\n1,ada\n");
/// # server.close().await; Ok(()) }
/// ```
pub fn download(url: impl AsRef<str>, path: impl Into<PathBuf>) -> Download {
    Download::new(default_client(), url.as_ref(), Some(path.into()))
}

/// HTTP.jl `download(url)` without a path: into a new temporary directory.
pub fn download_temp(url: impl AsRef<str>) -> Download {
    Download::new(default_client(), url.as_ref(), None)
}

impl Client {
    /// HTTP.jl `download` with this client; see [`download`].
    pub fn download(&self, url: impl AsRef<str>, path: impl Into<PathBuf>) -> Download {
        Download::new(self.clone(), url.as_ref(), Some(path.into()))
    }
}
