//! [`RequestPath`]: a request's URL path turned into a safe path below a root directory.

use std::path::{Component, Path, PathBuf};

/// A request path, decoded and checked: every segment is a plain file name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RequestPath {
    /// The segments joined as a relative path (empty for `/`).
    pub(crate) relative: PathBuf,
    /// Whether the URL path ends in `/` (a directory was asked for).
    pub(crate) trailing_slash: bool,
    /// The last non-empty raw (still percent-encoded) segment, for a relative redirect.
    pub(crate) last_raw_segment: String,
    /// Whether the last decoded segment has an extension (`app.js`): the SPA fallback
    /// applies only to paths without one.
    pub(crate) has_extension: bool,
}

/// Why a request path is refused (HTTP.jl: unsafe or invalid request paths get 400).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    /// `%` not followed by two hex digits.
    BadPercentEncoding,
    /// The decoded path is not UTF-8.
    NotUtf8,
    /// A NUL byte (`%00`): no file name holds one.
    Nul,
    /// A `..` segment (also as `%2e%2e` or across `%2f`), a backslash, or a segment the
    /// platform reads as more than a name (`C:` on Windows).
    Traversal,
}

impl RequestPath {
    /// Decodes `raw` (the URI's path, percent-encoded) and checks each segment.
    ///
    /// The path is decoded before it is split, so `%2f` separates segments and
    /// `a%2f..%2fb` is refused like `a/../b`. `.` and empty segments are dropped.
    pub(crate) fn parse(raw: &str) -> Result<RequestPath, PathError> {
        let decoded = percent_decode_strict(raw.as_bytes())?;
        let decoded = String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)?;
        if decoded.contains('\0') {
            return Err(PathError::Nul);
        }
        let mut relative = PathBuf::new();
        let mut last = "";
        for segment in decoded.split('/') {
            match segment {
                "" | "." => continue,
                ".." => return Err(PathError::Traversal),
                _ if segment.contains('\\') => return Err(PathError::Traversal),
                _ => {}
            }
            if !Path::new(segment)
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
            {
                return Err(PathError::Traversal);
            }
            relative.push(segment);
            last = segment;
        }
        let last_raw_segment = raw
            .split('/')
            .rfind(|s| !s.is_empty())
            .unwrap_or_default()
            .to_owned();
        let trailing_slash = raw.ends_with('/');
        Ok(RequestPath {
            relative,
            trailing_slash,
            last_raw_segment,
            has_extension: !trailing_slash && Path::new(last).extension().is_some(),
        })
    }
}

/// Percent-decodes, refusing a `%` that does not start a `%XX` escape (percent-encoding's
/// own decoder passes those through as they are).
fn percent_decode_strict(raw: &[u8]) -> Result<Vec<u8>, PathError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let hi = bytes.next().and_then(|&h| (h as char).to_digit(16));
        let lo = bytes.next().and_then(|&l| (l as char).to_digit(16));
        match (hi, lo) {
            (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
            _ => return Err(PathError::BadPercentEncoding),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::PathError::*;
    use super::*;

    #[test]
    fn accepts_plain_paths() {
        let cases = [
            ("/", "", true, "", false),
            ("/a.txt", "a.txt", false, "a.txt", true),
            ("/dir/", "dir", true, "dir", false),
            ("/dir//./b%20c.js", "dir/b c.js", false, "b%20c.js", true),
            ("/app/settings", "app/settings", false, "settings", false),
            ("/a%2Fb", "a/b", false, "a%2Fb", false),
            ("/%C3%A9t%C3%A9", "été", false, "%C3%A9t%C3%A9", false),
            ("/v1.2/", "v1.2", true, "v1.2", false),
        ];
        for (raw, relative, trailing_slash, last_raw_segment, has_extension) in cases {
            let expected = RequestPath {
                relative: PathBuf::from(relative),
                trailing_slash,
                last_raw_segment: last_raw_segment.to_owned(),
                has_extension,
            };
            assert_eq!(RequestPath::parse(raw), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn refuses_unsafe_paths() {
        let cases = [
            ("/../etc/passwd", Traversal),
            ("/a/../../b", Traversal),
            ("/a/..", Traversal),
            ("/%2e%2e/x", Traversal),
            ("/%2E%2E%2Fx", Traversal),
            ("/a%2f..%2fb", Traversal),
            ("/a\\..\\b", Traversal),
            ("/a%5cb", Traversal),
            ("/a%00.txt", Nul),
            ("/%", BadPercentEncoding),
            ("/%2", BadPercentEncoding),
            ("/%zz", BadPercentEncoding),
            ("/a%g1", BadPercentEncoding),
            ("/%ff", NotUtf8),
        ];
        for (raw, expected) in cases {
            assert_eq!(RequestPath::parse(raw), Err(expected), "{raw}");
        }
    }
}
