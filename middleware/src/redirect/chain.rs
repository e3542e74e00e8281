//! The earlier responses of a redirect chain (HTTP.jl's `Response.request.parent`).

use http::{HeaderMap, Method, StatusCode, Uri, Version};

/// One redirect that was followed: the request sent and the head of the 3xx it got back.
/// Its body was read (when already there) and dropped.
#[derive(Clone, Debug)]
pub struct RedirectHop {
    pub(crate) method: Method,
    pub(crate) url: Uri,
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
}

impl RedirectHop {
    /// The method of the request that got this redirect.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL of the request that got this redirect.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The redirect's status (301, 302, 303, 307 or 308).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The redirect response's HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The redirect response's headers (`Location`, `Set-Cookie`...).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// In the extensions of a response reached through at least one redirect: the redirects
/// followed, oldest first, and the method and URL of the request that got the response.
///
/// HTTP.jl links each response to the one before through `parent`; here the whole chain
/// sits on the final response. A response that needed no redirect carries no chain: its
/// URL is the request's.
///
/// ```
/// use httpstack_middleware::redirect::RedirectChain;
/// let resp = http::Response::new(());
/// assert!(RedirectChain::of(&resp).is_none());
/// ```
#[derive(Clone, Debug)]
pub struct RedirectChain {
    pub(crate) hops: Vec<RedirectHop>,
    pub(crate) method: Method,
    pub(crate) url: Uri,
}

impl RedirectChain {
    /// The chain on `response`, if it came through a redirect.
    pub fn of<B>(response: &http::Response<B>) -> Option<&RedirectChain> {
        response.extensions().get::<RedirectChain>()
    }

    /// The redirects followed, oldest first.
    pub fn hops(&self) -> &[RedirectHop] {
        &self.hops
    }

    /// The last redirect: the response that led to the final request (HTTP.jl `parent`).
    pub fn parent(&self) -> Option<&RedirectHop> {
        self.hops.last()
    }

    /// How many redirects were followed.
    pub fn redirects(&self) -> usize {
        self.hops.len()
    }

    /// The URL of the final request, the one that got this response.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The method of the final request.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL first requested.
    pub fn first_url(&self) -> &Uri {
        self.hops.first().map_or(&self.url, |hop| &hop.url)
    }
}
