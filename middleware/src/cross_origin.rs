//! The marker a redirect puts on a request it sends to another origin.
//!
//! HTTP.jl 2.x strips credentials when a redirect leaves the original origin (scheme, host
//! or port). The redirect layer removes the credential headers itself; layers below it that
//! add credentials of their own per request (the cookie layer's explicit per-request
//! cookies) look for this marker and leave them off.
//!
//! ```
//! use httpstack_middleware::cross_origin::CrossOriginRedirect;
//! let mut req = http::Request::new(());
//! req.extensions_mut().insert(CrossOriginRedirect);
//! assert!(CrossOriginRedirect::is_marked(&req));
//! ```

/// Present in a request's extensions when a redirect chain has left the first request's
/// origin: per-request credentials must not be sent on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossOriginRedirect;

impl CrossOriginRedirect {
    /// Whether `req` carries the marker.
    pub fn is_marked<B>(req: &http::Request<B>) -> bool {
        req.extensions().get::<CrossOriginRedirect>().is_some()
    }
}
