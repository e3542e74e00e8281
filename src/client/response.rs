//! `Response`: the status, headers and (by default) the whole body of a reply.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method, StatusCode, Uri, Version};
use url::Url;

use httpstack_middleware::redirect::{RedirectChain, RedirectHop};
use httpstack_middleware::retry::RetryCount;

#[cfg(feature = "multipart")]
use crate::multipart::{BodyPart, MultipartError, MultipartForm, MultipartLimits};
use crate::Error;

/// A response with its body read (HTTP.jl returns the body bytes).
///
/// Its `Debug` output shows the status, URL (without userinfo), headers (`Set-Cookie`
/// values as `Sensitive`) and the body's length, not the body, so printing a response
/// prints no credentials.
///
/// For large bodies use [`RequestBuilder::response_stream`](super::RequestBuilder::response_stream)
/// or [`Client::open`](super::Client::open) instead of buffering.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     let res = http::Response::builder();
/// #     match req.uri().path() {
/// #         "/old" => res.status(301).header("location", "/user").body(String::new()),
/// #         _ => res.header("content-type", "application/json").body(r#"{"name":"ada"}"#.to_owned()),
/// #     }.unwrap()
/// # })).await?;
/// # let base = format!("http://127.0.0.1:{}", server.port());
/// let resp = httpstack::get(format!("{base}/old")).await?;
/// assert_eq!(resp.status(), http::StatusCode::OK);
/// assert_eq!(resp.headers()["content-type"], "application/json");
/// // The redirect was followed: the URL is the final one.
/// assert_eq!(resp.url().path(), "/user");
/// assert_eq!(resp.text(), r#"{"name":"ada"}"#);
///
/// let user: serde_json::Value = resp.json()?;
/// assert_eq!(user["name"], "ada");
/// # server.close().await; Ok(()) }
/// ```
pub struct Response {
    parts: http::response::Parts,
    method: Method,
    uri: Uri,
    // Built on first use: most callers never ask, and parsing costs (see target.rs).
    url: OnceLock<Url>,
    body: Bytes,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.parts.status)
            .field("version", &self.parts.version)
            .field("method", &self.method)
            .field("url", &self.uri)
            .field("headers", &self.parts.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    pub(crate) fn new(
        parts: http::response::Parts,
        method: Method,
        uri: Uri,
        body: Bytes,
    ) -> Response {
        // After redirects, the final request's method and URL.
        let (method, uri) = match parts.extensions.get::<RedirectChain>() {
            Some(chain) => (chain.method().clone(), chain.url().clone()),
            None => (method, uri),
        };
        let mut parts = parts;
        super::target::mark_sensitive(&mut parts.headers, http::header::SET_COOKIE);
        Response {
            parts,
            method,
            uri: super::target::without_userinfo(uri),
            url: OnceLock::new(),
            body,
        }
    }

    /// How many times the request was retried before this answer (HTTP.jl's
    /// `retry_count`); 0 when it was answered at the first attempt.
    pub fn retries(&self) -> usize {
        self.parts.extensions.get::<RetryCount>().map_or(0, |c| c.0)
    }

    /// HTTP.jl `parent`: the redirect answered before this one, if any.
    pub fn parent(&self) -> Option<&RedirectHop> {
        self.redirect_chain().and_then(RedirectChain::parent)
    }

    /// Every redirect answered before this response, oldest first (`None` when the
    /// request was not redirected).
    pub fn redirect_chain(&self) -> Option<&RedirectChain> {
        self.parts.extensions.get()
    }

    /// The method of the request this answers (after redirects, the last one's).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.parts.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The HTTP version the response came over.
    pub fn version(&self) -> Version {
        self.parts.version
    }

    /// The final URL (after redirects), as a `url::Url`, without the userinfo
    /// (`user:password@`) the request's URL may have had.
    pub fn url(&self) -> &Url {
        self.url.get_or_init(|| super::target::url_of(&self.uri))
    }

    /// The final URL (after redirects), as the `http::Uri` that was sent, without userinfo.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Extensions set by layers (retry counts, layer timings, the redirect chain...).
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
    }

    /// Per-layer times and call counts, when the client was built with
    /// [`observe_layers(true)`](crate::ClientBuilder::observe_layers).
    pub fn layer_timings(&self) -> Option<&httpstack_middleware::observe::LayerTimings> {
        self.parts.extensions.get()
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body (a cheap reference-counted clone).
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// The body as text; invalid UTF-8 is replaced by U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as a `multipart/form-data` form (HTTP.jl
    /// `parse_multipart_form(response)`), with the default
    /// [`MultipartLimits`](crate::multipart::MultipartLimits).
    #[cfg(feature = "multipart")]
    pub fn multipart_form(&self) -> Result<MultipartForm, MultipartError> {
        MultipartForm::from_bytes(self.headers(), self.bytes(), MultipartLimits::new())
    }

    /// The parts of a `multipart/mixed` (or other `multipart/*`) body, as a batch API
    /// answers (HTTP.jl `parse_multipart_mixed(response)`), with the default
    /// [`MultipartLimits`](crate::multipart::MultipartLimits); see
    /// [`parse_multipart_mixed`](crate::multipart::parse_multipart_mixed).
    #[cfg(feature = "multipart")]
    pub fn multipart_mixed(&self) -> Result<Vec<BodyPart>, MultipartError> {
        crate::multipart::parse_message(self.headers(), self.bytes(), MultipartLimits::new())
    }

    /// The body parsed as JSON.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::body(e)
                .with_message("the response body is not the expected JSON")
                .with_request(&self.method, &self.uri)
        })
    }

    /// Into an `http::Response` with the body as `Bytes`.
    pub fn into_http(self) -> http::Response<Bytes> {
        http::Response::from_parts(self.parts, self.body)
    }

    /// Errs with a `StatusError` when the status is 4xx/5xx (for requests sent with
    /// `status_exception(false)` that want to check later).
    pub fn error_for_status(self) -> Result<Response, Error> {
        if httpstack_middleware::status::is_error_status(self.status()) {
            let (method, uri) = (self.method.clone(), self.uri.clone());
            return Err(Error::status_error(self.into_http()).with_request(&method, &uri));
        }
        Ok(self)
    }
}

impl crate::messages::HeaderExt for Response {
    fn header_map(&self) -> &HeaderMap {
        &self.parts.headers
    }
}
