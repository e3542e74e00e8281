//! Multipart bodies (RFC 2046 §5.1): HTTP.jl's `Form` and `Multipart` request bodies and
//! `parse_multipart_form` on the server, in one place.

mod form;
mod parse;

pub use form::{Form, Multipart};
pub use parse::{
    parse_multipart_form, parse_multipart_form_with, MultipartError, MultipartForm,
    MultipartLimits, Part,
};
