//! Which fields may travel in trailers (RFC 9110 §6.5.1).
//!
//! A sender must not put in trailers a field that frames, routes, authenticates or
//! controls the message, or says how to process its content, because a recipient may have
//! acted on the header section already; a recipient must not merge such a field into the
//! header section. httpstack drops them from trailers it receives (request and response
//! bodies alike) and refuses them in trailers it is asked to send. The list is RFC 9110
//! §6.5.1's categories spelled out, with Go's `badTrailer` set and the cookie fields
//! (RFC 6265 state must not change after the head).
//!
//! ```
//! use http::HeaderMap;
//! use httpstack_middleware::trailers::{is_forbidden_trailer, remove_forbidden_trailers};
//!
//! assert!(is_forbidden_trailer(&http::header::CONTENT_LENGTH));
//! assert!(!is_forbidden_trailer(&http::HeaderName::from_static("grpc-status")));
//!
//! let mut trailers = HeaderMap::new();
//! trailers.insert("set-cookie", "a=1".parse().unwrap());
//! trailers.insert("checksum", "abc".parse().unwrap());
//! assert_eq!(remove_forbidden_trailers(&mut trailers), 1);
//! assert_eq!(trailers.len(), 1);
//! ```

use http::header::{self, HeaderName};
use http::HeaderMap;
use http_body::Frame;

/// The fields RFC 9110 §6.5.1 keeps out of trailers.
const FORBIDDEN: &[HeaderName] = &[
    // Framing and connection management (RFC 9112 §6, §9.6).
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TRAILER,
    header::TE,
    header::CONNECTION,
    header::UPGRADE,
    // Routing.
    header::HOST,
    // Request modifiers: controls and conditionals (RFC 9110 §13).
    header::CACHE_CONTROL,
    header::EXPECT,
    header::MAX_FORWARDS,
    header::PRAGMA,
    header::RANGE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
    // Authentication (RFC 9110 §11).
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::WWW_AUTHENTICATE,
    header::PROXY_AUTHENTICATE,
    // Response control data (RFC 9110 §15, RFC 9111).
    header::AGE,
    header::EXPIRES,
    header::DATE,
    header::LOCATION,
    header::RETRY_AFTER,
    header::VARY,
    header::WARNING,
    // How to process the content (RFC 9110 §8).
    header::CONTENT_ENCODING,
    header::CONTENT_TYPE,
    header::CONTENT_RANGE,
    // State (RFC 6265).
    header::COOKIE,
    header::SET_COOKIE,
];

/// Whether `name` must not be sent or accepted as a trailer field.
pub fn is_forbidden_trailer(name: &HeaderName) -> bool {
    FORBIDDEN.contains(name) || matches!(name.as_str(), "keep-alive" | "proxy-connection" | "realm")
}

/// Removes every forbidden field from `trailers`; returns how many values went.
pub fn remove_forbidden_trailers(trailers: &mut HeaderMap) -> usize {
    let before = trailers.len();
    let forbidden: Vec<HeaderName> = trailers
        .keys()
        .filter(|name| is_forbidden_trailer(name))
        .cloned()
        .collect();
    for name in &forbidden {
        trailers.remove(name);
    }
    before - trailers.len()
}

/// `frame` with its trailers, if it is a trailers frame, stripped of the forbidden
/// fields; and how many values went. A data frame comes back as it was.
pub fn strip_forbidden_trailers<D>(frame: Frame<D>) -> (Frame<D>, usize) {
    if !frame.is_trailers() {
        return (frame, 0);
    }
    match frame.into_trailers() {
        Ok(mut trailers) => {
            let removed = remove_forbidden_trailers(&mut trailers);
            (Frame::trailers(trailers), removed)
        }
        Err(frame) => (frame, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailers_frame_loses_forbidden_fields_and_data_passes() {
        let (data, removed) = strip_forbidden_trailers(Frame::data("x"));
        assert_eq!((data.into_data().ok(), removed), (Some("x"), 0));
        let mut trailers = HeaderMap::new();
        trailers.insert(header::CONTENT_LENGTH, "5".parse().expect("value"));
        trailers.append(header::SET_COOKIE, "a=1".parse().expect("value"));
        trailers.append(header::SET_COOKIE, "b=2".parse().expect("value"));
        trailers.insert("x-checksum", "7".parse().expect("value"));
        let (frame, removed) = strip_forbidden_trailers(Frame::<&str>::trailers(trailers));
        assert_eq!(removed, 3);
        let kept = frame.into_trailers().expect("trailers");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["x-checksum"], "7");
    }
}
