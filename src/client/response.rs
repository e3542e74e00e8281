//! `Response`: the status, headers and (by default) the whole body of a reply.

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method, StatusCode, Version};
use url::Url;

use crate::Error;

/// A response with its body read (HTTP.jl returns the body bytes).
///
/// For large bodies use [`RequestBuilder::response_stream`](super::RequestBuilder::response_stream)
/// or [`Client::open`](super::Client::open) instead of buffering.
#[derive(Debug)]
pub struct Response {
    parts: http::response::Parts,
    method: Method,
    url: Url,
    body: Bytes,
}

impl Response {
    pub(crate) fn new(
        parts: http::response::Parts,
        method: Method,
        url: Url,
        body: Bytes,
    ) -> Response {
        Response {
            parts,
            method,
            url,
            body,
        }
    }

    /// The method of the request this answers.
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

    /// The final URL (after redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Extensions set by layers (retry counts, layer timings, the redirect chain...).
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
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

    /// The body parsed as JSON.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::body(e)
                .with_message("the response body is not the expected JSON")
                .with_url(&self.method, self.url.as_str())
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
            let (method, url) = (self.method.clone(), self.url.to_string());
            return Err(Error::status_error(self.into_http()).with_url(&method, &url));
        }
        Ok(self)
    }
}

impl crate::messages::HeaderExt for Response {
    fn header_map(&self) -> &HeaderMap {
        &self.parts.headers
    }
}

/// A URL for logs: without userinfo.
pub(crate) fn redacted(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string()
}
