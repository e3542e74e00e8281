//! `MultipartLimits`: how large, how many and how deep a multipart body may be.

#[cfg(doc)]
use super::{parse_multipart_form, read_multipart_mixed, BodyPart, MultipartError};

/// Limits on a multipart body; going over one is a [`MultipartError`] whose
/// [`status`](MultipartError::status) is `413 Payload Too Large`.
///
/// Every limit is inclusive: a body exactly at a limit is accepted, one byte, part, header
/// or level more is refused. Also usable as a request extension (set by a layer):
/// [`parse_multipart_form`] and [`read_multipart_mixed`] read it from there.
///
/// | limit | default | error |
/// |---|---|---|
/// | [`max_body_bytes`](Self::max_body_bytes) | 64 MiB | [`BodyTooLarge`](MultipartError::BodyTooLarge) |
/// | [`max_parts`](Self::max_parts) | 128 | [`TooManyParts`](MultipartError::TooManyParts) |
/// | [`max_part_bytes`](Self::max_part_bytes) | 16 MiB | [`PartTooLarge`](MultipartError::PartTooLarge) |
/// | [`max_header_bytes`](Self::max_header_bytes) | 16 KiB | [`HeadersTooLarge`](MultipartError::HeadersTooLarge) |
/// | [`max_headers`](Self::max_headers) | 32 | [`TooManyHeaders`](MultipartError::TooManyHeaders) |
/// | [`max_name_bytes`](Self::max_name_bytes) | 1 KiB | [`NameTooLong`](MultipartError::NameTooLong) |
/// | [`max_depth`](Self::max_depth) | 8 | [`TooDeep`](MultipartError::TooDeep) |
///
/// ```
/// use httpstack::multipart::MultipartLimits;
///
/// let limits = MultipartLimits::new().max_parts(10).max_body_bytes(1 << 20);
/// assert_eq!(limits.parts_limit(), 10);
/// assert_eq!(limits.depth_limit(), 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultipartLimits {
    max_parts: usize,
    max_part_bytes: u64,
    max_body_bytes: u64,
    max_header_bytes: usize,
    max_headers: usize,
    max_name_bytes: usize,
    max_depth: usize,
}

impl MultipartLimits {
    /// The limits a request carries as an extension (a server or a layer put them
    /// there), else the defaults.
    pub(crate) fn of<B>(req: &http::Request<B>) -> MultipartLimits {
        req.extensions()
            .get::<MultipartLimits>()
            .copied()
            .unwrap_or_default()
    }

    /// The defaults: 128 parts, 16 MiB per part, 64 MiB in all, 16 KiB and 32 header
    /// lines of headers per part, 1 KiB form-data names, 8 levels of nesting.
    pub const fn new() -> Self {
        MultipartLimits {
            max_parts: 128,
            max_part_bytes: 16 << 20,
            max_body_bytes: 64 << 20,
            max_header_bytes: 16 << 10,
            max_headers: 32,
            max_name_bytes: 1 << 10,
            max_depth: 8,
        }
    }

    /// The most parts a body may have (counted per level for nested parts).
    pub const fn max_parts(mut self, parts: usize) -> Self {
        self.max_parts = parts;
        self
    }

    /// The most data bytes one `multipart/form-data` part may have (its headers not
    /// counted). A form is streamed, so this bounds what one part may make a handler
    /// hold; a `multipart/mixed` body is read whole and bounded by
    /// [`max_body_bytes`](Self::max_body_bytes) alone.
    pub const fn max_part_bytes(mut self, bytes: u64) -> Self {
        self.max_part_bytes = bytes;
        self
    }

    /// The most bytes the whole body may have, boundaries and part headers included.
    pub const fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The most bytes of one part's header block: its header lines with their CRLFs,
    /// not the blank line that ends them. A `multipart/mixed` part is measured as sent;
    /// a form-data part (parsed by `multer`) as its headers re-written `Name: value\r\n`.
    pub const fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// The most header fields one part may have (a folded field counts once).
    /// Form-data parts are also held to `multer`'s own 32, refused as malformed.
    pub const fn max_headers(mut self, headers: usize) -> Self {
        self.max_headers = headers;
        self
    }

    /// The longest `name` a form-data part's `Content-Disposition` may give, in bytes.
    pub const fn max_name_bytes(mut self, bytes: usize) -> Self {
        self.max_name_bytes = bytes;
        self
    }

    /// How many multipart levels may be parsed: the body itself is level 1, the parts of
    /// a `multipart/*` part of it ([`BodyPart::parts`]) level 2, and so on.
    pub const fn max_depth(mut self, levels: usize) -> Self {
        self.max_depth = levels;
        self
    }

    /// The part-count limit.
    pub const fn parts_limit(&self) -> usize {
        self.max_parts
    }

    /// The per-part limit in bytes.
    pub const fn part_bytes_limit(&self) -> u64 {
        self.max_part_bytes
    }

    /// The whole-body limit in bytes.
    pub const fn body_bytes_limit(&self) -> u64 {
        self.max_body_bytes
    }

    /// The per-part header block limit in bytes.
    pub const fn header_bytes_limit(&self) -> usize {
        self.max_header_bytes
    }

    /// The per-part header count limit.
    pub const fn headers_limit(&self) -> usize {
        self.max_headers
    }

    /// The form-data name limit in bytes.
    pub const fn name_bytes_limit(&self) -> usize {
        self.max_name_bytes
    }

    /// The nesting limit in levels.
    pub const fn depth_limit(&self) -> usize {
        self.max_depth
    }
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits::new()
    }
}
