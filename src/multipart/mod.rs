//! Multipart bodies (RFC 2046 §5.1): HTTP.jl's `Form` and `Multipart` request bodies and
//! `parse_multipart_form` on the server, in one place.

mod boundary;
mod error;
mod form;
mod limits;
mod mixed;
mod parse;

pub use error::MultipartError;
pub use form::{Form, Multipart};
pub use limits::MultipartLimits;
pub(crate) use mixed::parse_message;
pub use mixed::{
    parse_multipart_mixed, parse_multipart_mixed_with, read_multipart_mixed,
    read_multipart_mixed_with, Batch, BodyPart,
};
pub use parse::{parse_multipart_form, parse_multipart_form_with, MultipartForm, Part};
