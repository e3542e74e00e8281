//! Route patterns: HTTP.jl's segment syntax, parsed once at registration.
//!
//! A pattern is split on `/` with empty pieces dropped (HTTP.jl `split(path, '/';
//! keepempty=false)`), so `/a//b/` and `/a/b` are the same route. Each piece is one of:
//!
//! | piece | segment | rank (lower wins) |
//! |---|---|---|
//! | `users` | exact | 0 |
//! | `{id:[0-9]+}` | variable whose regex must match the whole segment | 1 |
//! | `{id}` | variable | 2 |
//! | `*` | anonymous one-segment wildcard | 3 |
//! | `**`, `{*rest}` | one or more trailing segments (last piece only) | 4 |

use std::cmp::Ordering;
use std::sync::Arc;

use crate::Error;

/// One parsed piece of a route pattern.
#[derive(Clone, Debug)]
pub(crate) enum Segment {
    /// Matches this exact (raw, still percent-encoded) text.
    Exact(Box<str>),
    /// A variable whose value must match `regex` (anchored at both ends).
    Regex {
        name: Arc<str>,
        source: Box<str>,
        regex: regex::Regex,
    },
    /// A variable matching any one segment.
    Var(Arc<str>),
    /// `*`: any one segment, not captured.
    Star,
    /// `**` (not captured) or `{*name}` (captured): one or more trailing segments.
    Rest(Option<Arc<str>>),
}

impl Segment {
    /// The segment's rank in HTTP.jl's priority: exact, regex, variable, `*`, `**`.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Segment::Exact(_) => 0,
            Segment::Regex { .. } => 1,
            Segment::Var(_) => 2,
            Segment::Star => 3,
            Segment::Rest(_) => 4,
        }
    }

    /// This segment's part of the slot key: two patterns with equal keys are the same
    /// route (variable names do not count, as in HTTP.jl's trie).
    fn key_part(&self, out: &mut String) {
        match self {
            Segment::Exact(text) => {
                out.push('e');
                out.push_str(text);
            }
            Segment::Regex { source, .. } => {
                out.push('r');
                out.push_str(source);
            }
            Segment::Var(_) => out.push('v'),
            Segment::Star => out.push('s'),
            Segment::Rest(_) => out.push('R'),
        }
    }
}

/// A captured value: the variable's name and where it sits in the pattern.
#[derive(Clone, Debug)]
pub(crate) struct Capture {
    pub(crate) name: Arc<str>,
    pub(crate) position: u16,
    /// `{*name}`: the value runs from this segment to the end of the path.
    pub(crate) rest: bool,
}

/// A parsed route pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    pub(crate) segments: Vec<Segment>,
}

impl Pattern {
    /// Parses `text`; fails on a misplaced `**`, a bad variable or a bad regex.
    pub(crate) fn parse(text: &str) -> Result<Pattern, Error> {
        let pieces: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
        if pieces.len() > usize::from(u16::MAX) {
            return Err(invalid(text, "too many segments"));
        }
        let mut segments = Vec::with_capacity(pieces.len());
        for (i, piece) in pieces.iter().enumerate() {
            let segment = parse_segment(text, piece)?;
            if matches!(segment, Segment::Rest(_)) && i + 1 != pieces.len() {
                return Err(invalid(text, "`**` must be the last segment"));
            }
            segments.push(segment);
        }
        let pattern = Pattern { segments };
        let captures = pattern.captures();
        for (i, c) in captures.iter().enumerate() {
            if captures[..i].iter().any(|d| d.name == c.name) {
                return Err(invalid(
                    text,
                    &format!("variable `{}` appears twice", c.name),
                ));
            }
        }
        Ok(pattern)
    }

    /// The variables this pattern captures, in order.
    pub(crate) fn captures(&self) -> Vec<Capture> {
        let mut out = Vec::new();
        for (position, segment) in self.segments.iter().enumerate() {
            let (name, rest) = match segment {
                Segment::Regex { name, .. } | Segment::Var(name) => (name, false),
                Segment::Rest(Some(name)) => (name, true),
                _ => continue,
            };
            out.push(Capture {
                name: name.clone(),
                position: position as u16,
                rest,
            });
        }
        out
    }

    /// The slot key: equal keys are one route, so registering again replaces.
    pub(crate) fn key(&self) -> String {
        let mut key = String::new();
        for segment in &self.segments {
            key.push('/');
            segment.key_part(&mut key);
        }
        key
    }

    /// The key of the pattern's first `len` segments (a node of HTTP.jl's trie).
    pub(crate) fn prefix_key(&self, len: usize) -> String {
        let mut key = String::new();
        for segment in &self.segments[..len] {
            key.push('/');
            segment.key_part(&mut key);
        }
        key
    }

    /// The number of path segments the pattern reaches: its length, counting a trailing
    /// `**` as one.
    pub(crate) fn depth(&self) -> usize {
        self.segments.len()
    }

    /// The trailing `**`'s position, if any.
    pub(crate) fn rest_position(&self) -> Option<usize> {
        match self.segments.last() {
            Some(Segment::Rest(_)) => Some(self.segments.len() - 1),
            _ => None,
        }
    }
}

fn parse_segment(text: &str, piece: &str) -> Result<Segment, Error> {
    if piece == "*" {
        return Ok(Segment::Star);
    }
    if piece == "**" {
        return Ok(Segment::Rest(None));
    }
    let Some(inner) = piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
        return Ok(Segment::Exact(piece.into()));
    };
    if let Some(name) = inner.strip_prefix('*') {
        check_name(text, name)?;
        return Ok(Segment::Rest(Some(name.into())));
    }
    // HTTP.jl: `{name}` or `{name:regex}`; the name stops at the first `:`.
    let (name, source) = match inner.split_once(':') {
        Some((name, source)) => (name, Some(source)),
        None => (inner, None),
    };
    check_name(text, name)?;
    match source {
        None | Some("") => Ok(Segment::Var(name.into())),
        Some(source) => {
            let regex = regex::Regex::new(&format!("^(?:{source})$"))
                .map_err(|e| invalid(text, &format!("bad regex `{source}`: {e}")))?;
            Ok(Segment::Regex {
                name: name.into(),
                source: source.into(),
                regex,
            })
        }
    }
}

fn check_name(text: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() || name.contains(['{', '}', ':']) {
        return Err(invalid(text, &format!("bad variable name `{name}`")));
    }
    Ok(())
}

fn invalid(text: &str, why: &str) -> Error {
    Error::invalid_input(format!("invalid route pattern `{text}`: {why}"))
}

/// Compares two patterns in HTTP.jl's priority order: segment by segment, the lower rank
/// wins; regex variables at the same place keep the order their trie nodes were made in
/// (`regex_order` gives it per segment). Patterns that can never match the same path
/// (different exact text) are ordered by that text, only to keep the order total.
pub(crate) fn priority(a: &Pattern, a_order: &[u32], b: &Pattern, b_order: &[u32]) -> Ordering {
    for (i, (x, y)) in a.segments.iter().zip(&b.segments).enumerate() {
        let ord = x.rank().cmp(&y.rank()).then_with(|| match (x, y) {
            (Segment::Exact(p), Segment::Exact(q)) => p.cmp(q),
            (Segment::Regex { .. }, Segment::Regex { .. }) => a_order[i].cmp(&b_order[i]),
            _ => Ordering::Equal,
        });
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.segments.len().cmp(&b.segments.len())
}

/// Splits a request path into segment byte ranges, ignoring empty segments.
pub(crate) fn split_path(path: &str, out: &mut smallvec::SmallVec<[(u32, u32); 16]>) {
    let mut start = 0usize;
    for (i, byte) in path.bytes().enumerate() {
        if byte == b'/' {
            if i > start {
                out.push((start as u32, i as u32));
            }
            start = i + 1;
        }
    }
    if path.len() > start {
        out.push((start as u32, path.len() as u32));
    }
}

/// The request path with empty segments removed (`//a///b/` → `/a/b`), borrowed when it
/// is already in that form, as nearly every path is.
pub(crate) fn normalize_path(path: &str) -> std::borrow::Cow<'_, str> {
    let clean = match path.as_bytes() {
        [b'/'] => true,
        [b'/', .., last] => *last != b'/' && !path.contains("//"),
        _ => false,
    };
    if clean {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 1);
    for piece in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(piece);
    }
    if out.is_empty() {
        out.push('/');
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        let p = Pattern::parse("/a/{id}/{n:[0-9]+}/*/{*rest}").unwrap();
        let ranks: Vec<u8> = p.segments.iter().map(Segment::rank).collect();
        assert_eq!(ranks, [0, 2, 1, 3, 4]);
        let names: Vec<String> = p.captures().iter().map(|c| c.name.to_string()).collect();
        assert_eq!(names, ["id", "n", "rest"]);
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in ["/a/**/b", "/{}/x", "/{a:[}", "/{a}/{a}", "/{*r}/x"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_segments_do_not_count() {
        assert_eq!(
            Pattern::parse("//a///b/").unwrap().key(),
            Pattern::parse("/a/b").unwrap().key()
        );
        for (path, expected) in [
            ("/", "/"),
            ("", "/"),
            ("//", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b"),
            ("//a//b", "/a/b"),
            ("a", "/a"),
        ] {
            assert_eq!(normalize_path(path), expected, "{path:?}");
        }
    }
}
