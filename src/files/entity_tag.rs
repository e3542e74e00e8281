//! [`EntityTag`]: an `ETag` value and the two comparisons of RFC 9110 §8.8.3.2.

use std::fmt;

use crate::Error;

/// An entity tag (RFC 9110 §8.8.3): an opaque validator, strong or weak (`W/"..."`).
///
/// Files served by [`serve_file`](super::serve_file) and [`file_server`](super::file_server)
/// get a strong tag made from the file's modification time and length; content served by
/// [`serve_content`](super::serve_content) from bytes gets one made from a hash of the
/// bytes, or the tag given with [`Content::etag`](super::Content::etag).
///
/// ```
/// use httpstack::files::EntityTag;
///
/// let tag = EntityTag::strong("v1-abc")?;
/// assert_eq!(tag.to_string(), "\"v1-abc\"");
/// let weak: EntityTag = "W/\"v1-abc\"".parse()?;
/// assert!(weak.is_weak());
/// assert!(tag.weak_eq(&weak) && !tag.strong_eq(&weak));
/// # Ok::<(), httpstack::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntityTag {
    weak: bool,
    tag: String,
}

impl EntityTag {
    /// A strong tag with opaque value `tag` (without the quotes). Fails when `tag` holds a
    /// character RFC 9110 §8.8.3 does not allow in an entity tag (a `"`, a control
    /// character, a space).
    pub fn strong(tag: impl Into<String>) -> Result<Self, Error> {
        Self::new(false, tag.into())
    }

    /// A weak tag (`W/"tag"`): it only says two representations are equivalent, so it never
    /// satisfies `If-Match` or `If-Range`.
    pub fn weak(tag: impl Into<String>) -> Result<Self, Error> {
        Self::new(true, tag.into())
    }

    fn new(weak: bool, tag: String) -> Result<Self, Error> {
        // etagc = %x21 / %x23-7E / obs-text
        if tag
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7E).contains(&b) || b >= 0x80)
        {
            Ok(EntityTag { weak, tag })
        } else {
            Err(Error::invalid_input(format!(
                "entity tag {tag:?}: only visible characters other than '\"' are allowed"
            )))
        }
    }

    /// A strong tag of hex digits and `-`, which needs no check.
    pub(crate) fn from_hex_digits(tag: String) -> Self {
        debug_assert!(tag
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'.'));
        EntityTag { weak: false, tag }
    }

    /// Whether the tag is weak.
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The opaque value, without quotes or `W/`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The strong comparison (RFC 9110 §8.8.3.2): both strong and the same value. Used by
    /// `If-Match` and `If-Range`.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.tag == other.tag
    }

    /// The weak comparison (RFC 9110 §8.8.3.2): the same value, weak or not. Used by
    /// `If-None-Match`.
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.tag == other.tag
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.weak {
            f.write_str("W/")?;
        }
        write!(f, "\"{}\"", self.tag)
    }
}

impl std::str::FromStr for EntityTag {
    type Err = Error;

    /// Parses `"tag"` or `W/"tag"`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match parse_one(s.as_bytes()) {
            Some((tag, rest)) if rest.iter().all(u8::is_ascii_whitespace) => Ok(tag),
            _ => Err(Error::invalid_input(format!("not an entity tag: {s:?}"))),
        }
    }
}

/// Parses one entity tag at the start of `input` (after optional whitespace); returns it
/// and the rest.
fn parse_one(input: &[u8]) -> Option<(EntityTag, &[u8])> {
    let input = trim_start(input);
    let (weak, input) = match input.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let input = input.strip_prefix(b"\"")?;
    let end = input.iter().position(|&b| b == b'"')?;
    let tag = std::str::from_utf8(&input[..end]).ok()?;
    let tag = EntityTag::new(weak, tag.to_owned()).ok()?;
    Some((tag, &input[end + 1..]))
}

fn trim_start(mut input: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = input {
        input = rest;
    }
    input
}

/// What an `If-Match` / `If-None-Match` field list says (RFC 9110 §13.1.1–2).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TagList {
    /// `*`: any current representation.
    Any,
    /// The listed tags. A malformed member ends the list (what came before is kept): such
    /// a member can match nothing.
    Tags(Vec<EntityTag>),
}

impl TagList {
    /// Parses every field line of the header (a list may be split over several lines).
    pub(crate) fn parse<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> TagList {
        let mut tags = Vec::new();
        for line in lines {
            if line.trim_ascii() == b"*" {
                return TagList::Any;
            }
            let mut rest = line;
            loop {
                rest = trim_start(rest);
                while let [b',', tail @ ..] = rest {
                    rest = trim_start(tail);
                }
                if rest.is_empty() {
                    break;
                }
                match parse_one(rest) {
                    Some((tag, tail)) => {
                        tags.push(tag);
                        rest = tail;
                    }
                    None => break,
                }
            }
        }
        TagList::Tags(tags)
    }

    /// Whether `current` (the representation's tag, if it has one) is in the list, by
    /// `compare`. `*` matches any existing representation, tagged or not.
    pub(crate) fn matches(
        &self,
        current: Option<&EntityTag>,
        compare: fn(&EntityTag, &EntityTag) -> bool,
    ) -> bool {
        match self {
            TagList::Any => true,
            TagList::Tags(tags) => {
                current.is_some_and(|current| tags.iter().any(|tag| compare(tag, current)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &[&str]) -> Vec<EntityTag> {
        s.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn parses_lists() {
        let cases: &[(&[&str], TagList)] = &[
            (&["*"], TagList::Any),
            (&[" * "], TagList::Any),
            (&["\"a\""], TagList::Tags(tags(&["\"a\""]))),
            (
                &["\"a\", W/\"b\"", "\"c,d\""],
                TagList::Tags(tags(&["\"a\"", "W/\"b\"", "\"c,d\""])),
            ),
            (&[", ,\"a\",,"], TagList::Tags(tags(&["\"a\""]))),
            (&["\"a\", junk, \"b\""], TagList::Tags(tags(&["\"a\""]))),
            (&["unquoted"], TagList::Tags(vec![])),
            (&["\"open"], TagList::Tags(vec![])),
        ];
        for (lines, expected) in cases {
            let got = TagList::parse(lines.iter().map(|l| l.as_bytes()));
            assert_eq!(&got, expected, "case {lines:?}");
        }
    }

    #[test]
    fn comparisons_follow_rfc_9110_table() {
        // RFC 9110 §8.8.3.2's example table.
        let cases = [
            ("W/\"1\"", "W/\"1\"", false, true),
            ("W/\"1\"", "W/\"2\"", false, false),
            ("W/\"1\"", "\"1\"", false, true),
            ("\"1\"", "\"1\"", true, true),
        ];
        for (a, b, strong, weak) in cases {
            let (a, b): (EntityTag, EntityTag) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(a.strong_eq(&b), strong, "strong {a} {b}");
            assert_eq!(a.weak_eq(&b), weak, "weak {a} {b}");
        }
    }

    #[test]
    fn rejects_bad_tags() {
        for bad in ["a\"b", "a b", "tab\t", "nul\0"] {
            assert!(EntityTag::strong(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "abc", "\"abc", "W/abc", "\"a\" x"] {
            assert!(bad.parse::<EntityTag>().is_err(), "{bad:?}");
        }
    }
}
