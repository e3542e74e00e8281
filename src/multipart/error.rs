//! `MultipartError`: why a multipart body was refused, and the status that says so.

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

#[cfg(doc)]
use super::{BodyPart, MultipartLimits};
use crate::{Body, BoxError, Error};

/// Why a multipart body (or a boundary given to a builder) was refused.
///
/// Each limit of [`MultipartLimits`] has its variant, which says the limit and, where
/// there is one, the part's index (0 for the first part of its level); a syntax error
/// says the byte offset in the body where parsing stopped. Nothing a peer sends makes
/// the parsers panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The `Content-Type` is missing or not the multipart type asked for (415):
    /// `multipart/form-data` for a form, any `multipart/*` for
    /// [`parse_multipart_mixed`](super::parse_multipart_mixed).
    #[error("the body is not multipart (multipart/form-data for a form, multipart/* for parse_multipart_mixed)")]
    NotMultipart,
    /// A multipart `Content-Type` without a `boundary` parameter (400).
    #[error("the multipart Content-Type has no boundary parameter")]
    MissingBoundary,
    /// The boundary breaks RFC 2046 §5.1.1 (400): it must be 1 to 70 characters from
    /// `A-Z a-z 0-9 '()+_,-./:=?` and space, not ending in a space.
    #[error("invalid multipart boundary {boundary:?}: {reason}")]
    InvalidBoundary {
        /// The boundary, cut to its first 80 characters.
        boundary: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// More parts than [`MultipartLimits::max_parts`] (413).
    #[error("the multipart body has more than {limit} parts")]
    TooManyParts {
        /// The limit.
        limit: usize,
    },
    /// A part's data is longer than [`MultipartLimits::max_part_bytes`] (413).
    #[error("multipart part {} is larger than {limit} bytes", name.as_deref().map_or_else(|| "(unnamed)".to_owned(), |name| format!("{name:?}")))]
    PartTooLarge {
        /// The limit.
        limit: u64,
        /// The part's name, if it has one.
        name: Option<String>,
    },
    /// The body is longer than [`MultipartLimits::max_body_bytes`] (413).
    #[error("the multipart body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
    /// A part's header block is longer than [`MultipartLimits::max_header_bytes`] (413).
    #[error("multipart part {part}: its headers are longer than {limit} bytes")]
    HeadersTooLarge {
        /// The limit.
        limit: usize,
        /// The part's index.
        part: usize,
    },
    /// A part has more header fields than [`MultipartLimits::max_headers`] (413).
    #[error("multipart part {part} has more than {limit} headers")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
        /// The part's index.
        part: usize,
    },
    /// A form-data part's name is longer than [`MultipartLimits::max_name_bytes`] (413).
    #[error("multipart part {part}: its name is longer than {limit} bytes")]
    NameTooLong {
        /// The limit.
        limit: usize,
        /// The part's index.
        part: usize,
    },
    /// [`BodyPart::parts`] was asked for a level deeper than [`MultipartLimits::max_depth`]
    /// (413).
    #[error("multipart parts nested deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The body breaks RFC 2046 §5.1.1's syntax (400): no delimiter line, no close
    /// delimiter, a part's header block not ended by CRLF, a malformed header line.
    #[error("malformed multipart body at byte {offset}{}: {reason}", part.map(|part| format!(" (part {part})")).unwrap_or_default())]
    Syntax {
        /// What is wrong.
        reason: &'static str,
        /// The index of the part it is in, if it is in one.
        part: Option<usize>,
        /// Where in the body (for a nested part, in the outermost body).
        offset: usize,
    },
    /// The form-data body does not follow the multipart syntax, as `multer` found (400).
    #[error("malformed multipart body")]
    Malformed(#[source] BoxError),
    /// Reading the body failed (400): the client went away, or a server limit cut the
    /// body off.
    #[error("reading the multipart body failed")]
    Body(#[source] BoxError),
}

impl MultipartError {
    /// The status the client should get: 413 for a limit, 415 for another content type,
    /// 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            MultipartError::NotMultipart => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MultipartError::TooManyParts { .. }
            | MultipartError::PartTooLarge { .. }
            | MultipartError::BodyTooLarge { .. }
            | MultipartError::HeadersTooLarge { .. }
            | MultipartError::TooManyHeaders { .. }
            | MultipartError::NameTooLong { .. }
            | MultipartError::TooDeep { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            MultipartError::MissingBoundary
            | MultipartError::InvalidBoundary { .. }
            | MultipartError::Syntax { .. }
            | MultipartError::Malformed(_)
            | MultipartError::Body(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether a [`MultipartLimits`] limit was exceeded.
    pub fn is_limit(&self) -> bool {
        self.status() == StatusCode::PAYLOAD_TOO_LARGE
    }

    /// A response for the client: [`status`](Self::status) and the message as text.
    pub fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::from(self.to_string()));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }

    pub(super) fn from_multer(err: multer::Error) -> Self {
        match err {
            multer::Error::FieldSizeExceeded { limit, field_name } => {
                MultipartError::PartTooLarge {
                    limit,
                    name: field_name,
                }
            }
            multer::Error::StreamSizeExceeded { limit } => MultipartError::BodyTooLarge { limit },
            multer::Error::StreamReadFailed(source) => MultipartError::Body(source),
            multer::Error::NoMultipart | multer::Error::DecodeContentType(_) => {
                MultipartError::NotMultipart
            }
            multer::Error::NoBoundary => MultipartError::MissingBoundary,
            other => MultipartError::Malformed(other.into()),
        }
    }

    pub(super) fn syntax(reason: &'static str, part: Option<usize>, offset: usize) -> Self {
        MultipartError::Syntax {
            reason,
            part,
            offset,
        }
    }
}

impl From<MultipartError> for Error {
    fn from(err: MultipartError) -> Self {
        Error::invalid_input(err.to_string()).with_source(err)
    }
}
