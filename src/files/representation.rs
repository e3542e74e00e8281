//! [`Representation`]: what a served file or content is (length, type, validators), and
//! the response head a GET or HEAD of it gets.

use http::header::{
    HeaderValue, ACCEPT_RANGES, ALLOW, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, X_CONTENT_TYPE_OPTIONS,
};
use http::{Method, Response, StatusCode};

use super::preconditions::{Decision, RequestConditions, Validators};
use crate::Body;

/// One representation about to be served.
#[derive(Debug)]
pub(crate) struct Representation {
    pub(crate) len: u64,
    pub(crate) content_type: HeaderValue,
    pub(crate) validators: Validators,
}

/// The response to send, and which bytes of the representation go in its body.
#[derive(Debug)]
pub(crate) struct Planned {
    /// The response, its body still empty.
    pub(crate) response: Response<Body>,
    /// `(offset, length)` of the body, or `None` when it has none (HEAD, 304, 412, 416).
    pub(crate) body: Option<(u64, u64)>,
}

impl Representation {
    /// Decides (RFC 9110 §13.2.2) and builds the response head.
    pub(crate) fn plan(&self, conditions: &RequestConditions) -> Planned {
        let decision = conditions.decide(&self.validators, self.len);
        let mut response = Response::new(Body::empty());
        let headers = response.headers_mut();
        let (status, body) = match decision {
            Decision::Full => (StatusCode::OK, Some((0, self.len))),
            Decision::Partial { start, end } => {
                let range = format!("bytes {start}-{end}/{}", self.len);
                headers.insert(CONTENT_RANGE, header_value(range));
                (StatusCode::PARTIAL_CONTENT, Some((start, end - start + 1)))
            }
            Decision::NotModified => (StatusCode::NOT_MODIFIED, None),
            Decision::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, None),
            Decision::RangeNotSatisfiable => {
                // RFC 9110 §15.5.17: the current length, so the client can ask again.
                let range = format!("bytes */{}", self.len);
                headers.insert(CONTENT_RANGE, header_value(range));
                (StatusCode::RANGE_NOT_SATISFIABLE, None)
            }
        };
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if matches!(
            status,
            StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
        ) {
            // RFC 9110 §15.4.5: a 304 carries the validators a 200 would have.
            if let Some(etag) = &self.validators.etag {
                headers.insert(ETAG, header_value(etag.to_string()));
            }
            if let Some(modified) = self.validators.last_modified {
                headers.insert(
                    LAST_MODIFIED,
                    header_value(httpdate::fmt_http_date(modified)),
                );
            }
        }
        // Browsers must take the type as sent (an unknown file is octet-stream, not
        // whatever its bytes look like).
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if let Some((_, len)) = body {
            headers.insert(CONTENT_TYPE, self.content_type.clone());
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        }
        let body = body.filter(|_| !conditions.is_head());
        Planned { response, body }
    }
}

/// A header value from text this module formatted itself (digits, an HTTP-date, a
/// validated entity tag), which is always valid.
fn header_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// An empty response with `status`.
pub(crate) fn status_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// `405 Method Not Allowed` unless the method is GET or HEAD (HTTP.jl: only GET and HEAD
/// are served), with the `Allow` header RFC 9110 §15.5.6 requires.
pub(crate) fn method_not_allowed(method: &Method) -> Option<Response<Body>> {
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    let mut response = status_response(StatusCode::METHOD_NOT_ALLOWED);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    Some(response)
}
