//! The redirect options: HTTP.jl's `redirect`, `redirect_limit`, `redirect_method` and
//! `forwardheaders` keyword arguments as one request extension.

use http::Method;

/// HTTP.jl's default `redirect_limit`: at most this many redirects are followed.
pub const DEFAULT_REDIRECT_LIMIT: usize = 3;

/// Which method a followed redirect uses (HTTP.jl `redirect_method`).
///
/// Whatever the setting, a 307 or 308 keeps the method and body (RFC 9110 §15.4.8/§15.4.9)
/// and a 303 switches to GET (HEAD stays HEAD, RFC 9110 §15.4.4); the setting decides the
/// other redirects (301, 302).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RedirectMethod {
    /// HTTP.jl `redirect_method = nothing`: GET, except that HEAD stays HEAD.
    #[default]
    Auto,
    /// HTTP.jl `redirect_method = :same`: the method (and body) of the request.
    Same,
    /// HTTP.jl `redirect_method = "PUT"`: this method; the body goes along unless it is
    /// GET or HEAD.
    Method(Method),
}

impl From<Method> for RedirectMethod {
    fn from(method: Method) -> Self {
        RedirectMethod::Method(method)
    }
}

/// The redirect settings of a request. [`RedirectLayer`](super::RedirectLayer) holds the
/// client-wide default; a request carrying a `RedirectConfig` in its extensions uses that
/// one instead.
///
/// ```
/// use httpstack_middleware::redirect::{RedirectConfig, RedirectMethod};
///
/// let config = RedirectConfig { redirect_method: RedirectMethod::Same, ..RedirectConfig::default() };
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(config);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectConfig {
    /// Follow 3xx responses (HTTP.jl `redirect = true`).
    pub redirect: bool,
    /// The most redirects followed (HTTP.jl `redirect_limit = 3`); one more is an error
    /// ([`ErrorKind::TooManyRedirects`](crate::ErrorKind::TooManyRedirects)). `0` means no
    /// redirect is followed and the 3xx is returned, as in HTTP.jl.
    pub redirect_limit: usize,
    /// The method of a followed 301/302 (HTTP.jl `redirect_method`).
    pub redirect_method: RedirectMethod,
    /// Send the request's headers again on each hop (HTTP.jl `forwardheaders = true`);
    /// when false, a hop carries only what the layers below it add.
    pub forward_headers: bool,
    /// Send credentials that a `Location` carries as userinfo (`http://user:pw@host/`)
    /// as basic auth on the hop (default false: they are dropped, since the server, not
    /// the user, chose them).
    pub location_credentials: bool,
}

impl Default for RedirectConfig {
    fn default() -> Self {
        RedirectConfig {
            redirect: true,
            redirect_limit: DEFAULT_REDIRECT_LIMIT,
            redirect_method: RedirectMethod::Auto,
            forward_headers: true,
            location_credentials: false,
        }
    }
}

impl RedirectConfig {
    /// HTTP.jl's defaults: follow up to 3 redirects, `Auto` method, forward headers.
    pub fn new() -> Self {
        RedirectConfig::default()
    }

    /// Whether any redirect will be followed (`redirect` on and a limit above 0).
    pub fn follows(&self) -> bool {
        self.redirect && self.redirect_limit > 0
    }
}
