//! The match table: matchit for the structural match, HTTP.jl's priority rules around it.
//!
//! Every route pattern becomes a matchit *shape*: exact segments stay literal, every
//! one-segment variable (`{id}`, `{id:regex}`, `*`) becomes a positional parameter
//! `{pN}`, and a trailing `**` a catch-all. Routes that differ only in the kind of
//! variable share a shape, so a shape holds several candidate routes.
//!
//! matchit returns the best-matching shape (static before parameter before catch-all,
//! segment by segment, with backtracking). What it cannot decide is built here:
//!
//! - **Candidates and their order.** For each shape the table keeps, in HTTP.jl's priority
//!   order (exact, regex, variable, `*`, `**`, segment by segment), its own routes and every
//!   route of a *lower-ranked* shape that can match the same paths. A shape ranked higher
//!   than the one matchit returned cannot match the path, or matchit would have returned it.
//!   The first candidate whose regexes accept the segments and that has a handler for the
//!   method wins: a failed regex or a missing method falls back to the next, less specific
//!   candidate (`/files/{n:\w+}` failing on `a.b` reaches `/files/**`).
//! - **`**` next to a variable.** matchit 0.8 refuses a parameter and a catch-all at the
//!   same place (`/a/{p1}` with `/a/{*p1}` is an insert conflict). So `/a/**` is inserted
//!   as `/a/{p1}`, `/a/{p1}/{p2}`, … up to the deepest route in the table, plus one
//!   catch-all past that depth, where no parameter can sit.
//! - **404 or 405.** When some candidate matched the path but none had the method, the
//!   answer is 405 with the methods those candidates allow.
//!
//! Candidates of the shape matchit returned fit the path by construction; the others (the
//! fallback path only) are checked against the path's segments.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use http::Method;
use smallvec::SmallVec;

use super::pattern::{priority, split_path, Capture, Pattern, Segment};
use crate::Error;

/// Segment byte ranges into the (normalized) request path.
pub(crate) type Ranges<const N: usize> = SmallVec<[(u32, u32); N]>;

/// One registered handler of a route: for one method, or for any.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The pattern as registered (HTTP.jl `getroute`).
    pub(crate) route: Arc<str>,
    /// The variables, named as this registration spelled them.
    pub(crate) captures: Box<[Capture]>,
    /// Index of the handler in the router's handler list.
    pub(crate) handler: usize,
}

/// A route: one pattern (up to variable names) and its handlers by method.
#[derive(Clone, Debug)]
struct Slot {
    pattern: Pattern,
    /// Per segment, the creation order of its regex trie node (0 for other segments).
    regex_order: Vec<u32>,
    /// The positions of regex segments, checked on every match.
    regex_positions: Box<[u16]>,
    by_method: Vec<(Method, Entry)>,
    any: Option<Entry>,
}

impl Slot {
    /// The entry for `method`: that method, then GET for HEAD (as axum does; the server
    /// sends no body), then the any-method entry.
    fn find(&self, method: &Method) -> Option<&Entry> {
        if let Some((_, entry)) = self.by_method.iter().find(|(m, _)| m == method) {
            return Some(entry);
        }
        if method == Method::HEAD {
            if let Some((_, entry)) = self.by_method.iter().find(|(m, _)| m == Method::GET) {
                return Some(entry);
            }
        }
        self.any.as_ref()
    }

    fn entry_mut(&mut self, method: Option<&Method>) -> Option<&mut Entry> {
        match method {
            None => self.any.as_mut(),
            Some(method) => self
                .by_method
                .iter_mut()
                .find(|(m, _)| m == method)
                .map(|(_, e)| e),
        }
    }

    fn add_allowed(&self, allowed: &mut Vec<Method>) {
        for (method, _) in &self.by_method {
            if !allowed.contains(method) {
                allowed.push(method.clone());
            }
            if method == Method::GET && !allowed.contains(&Method::HEAD) {
                allowed.push(Method::HEAD);
            }
        }
    }

    /// Whether the regex variables accept their segments (percent-decoded).
    fn constraints_hold(&self, path: &str, ranges: &[(u32, u32)]) -> bool {
        self.regex_positions.iter().all(|&pos| {
            let (start, end) = ranges[usize::from(pos)];
            match &self.pattern.segments[usize::from(pos)] {
                Segment::Regex { regex, .. } => {
                    regex.is_match(&decode(&path[start as usize..end as usize]))
                }
                _ => true,
            }
        })
    }

    /// Whether the pattern fits the split path, regexes aside.
    fn fits(&self, path: &str, segments: &[(u32, u32)]) -> bool {
        let pattern = &self.pattern.segments;
        let length_ok = match self.pattern.rest_position() {
            Some(k) => segments.len() > k,
            None => segments.len() == pattern.len(),
        };
        length_ok
            && pattern
                .iter()
                .zip(segments)
                .all(|(segment, &(start, end))| match segment {
                    Segment::Exact(text) => path[start as usize..end as usize] == **text,
                    _ => true,
                })
    }
}

/// Percent-decodes a segment for a regex or a parameter value; invalid UTF-8 stays raw.
pub(crate) fn decode(raw: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .unwrap_or(std::borrow::Cow::Borrowed(raw))
}

/// The kinds of piece a matchit shape has.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece<'a> {
    Static(&'a str),
    Param,
    CatchAll,
}

impl Piece<'_> {
    fn rank(&self) -> u8 {
        match self {
            Piece::Static(_) => 0,
            Piece::Param => 1,
            Piece::CatchAll => 2,
        }
    }
}

/// A matchit route of the compiled table.
#[derive(Debug)]
struct Shape {
    /// Candidate routes in priority order.
    candidates: Box<[Candidate]>,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    slot: u32,
    /// The route is one of this shape's own, so it fits any path matchit matched to it.
    own: bool,
}

/// The result of a lookup in the table.
#[derive(Debug)]
pub(crate) enum Outcome<'t> {
    /// A route with a handler for the method, and the path's segments if the lookup
    /// split it.
    Found {
        entry: &'t Entry,
        segments: Option<Ranges<16>>,
    },
    /// Routes matched the path, none for the method; these methods are allowed.
    MethodNotAllowed(Vec<Method>),
    /// No route matched the path.
    NotFound,
}

/// The routes and their compiled matcher.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    by_key: HashMap<String, usize>,
    compiled: Arc<Compiled>,
}

#[derive(Debug, Default)]
struct Compiled {
    matcher: matchit::Router<u32>,
    shapes: Vec<Shape>,
}

impl Table {
    /// Adds a route, or replaces the handler registered for the same pattern and method
    /// (HTTP.jl's re-registering), returning the replaced handler's index.
    pub(crate) fn insert(
        &mut self,
        method: Option<Method>,
        pattern: Pattern,
        route: Arc<str>,
        handler: usize,
    ) -> Result<Option<usize>, Error> {
        let captures = pattern.captures().into_boxed_slice();
        let key = pattern.key();
        if let Some(&index) = self.by_key.get(&key) {
            let slot = &mut self.slots[index];
            if let Some(entry) = slot.entry_mut(method.as_ref()) {
                entry.route = route;
                entry.captures = captures;
                return Ok(Some(entry.handler));
            }
            let entry = Entry {
                route,
                captures,
                handler,
            };
            match method {
                Some(method) => slot.by_method.push((method, entry)),
                None => slot.any = Some(entry),
            }
            return Ok(None);
        }
        let entry = Entry {
            route,
            captures,
            handler,
        };
        let (by_method, any) = match method {
            Some(method) => (vec![(method, entry)], None),
            None => (Vec::new(), Some(entry)),
        };
        self.slots.push(Slot {
            pattern,
            regex_order: Vec::new(),
            regex_positions: Box::default(),
            by_method,
            any,
        });
        match compile(&mut self.slots) {
            Ok(compiled) => {
                self.compiled = Arc::new(compiled);
                self.by_key.insert(key, self.slots.len() - 1);
                Ok(None)
            }
            Err(e) => {
                self.slots.pop();
                Err(e)
            }
        }
    }

    /// Finds the route for `method` and `path` (already normalized: no empty segments).
    pub(crate) fn lookup<'t>(&'t self, method: &Method, path: &str) -> Outcome<'t> {
        let compiled = &*self.compiled;
        let Ok(matched) = compiled.matcher.at(path) else {
            return Outcome::NotFound;
        };
        let shape = &compiled.shapes[*matched.value as usize];

        // The path's segments by position, split only when a regex, a fallback candidate
        // or (later) a capture needs them. matchit's params would give the same for the
        // shape's own routes, but reading them costs a UTF-8 check per value.
        let mut segments: Option<Ranges<16>> = None;
        let split = |path: &str| {
            let mut out = SmallVec::new();
            split_path(path, &mut out);
            out
        };

        let mut allowed = Vec::new();
        let mut path_matched = false;
        for candidate in shape.candidates.iter() {
            let slot = &self.slots[candidate.slot as usize];
            // matchit matched the shape: its own routes fit, others must be checked.
            if !candidate.own && !slot.fits(path, segments.get_or_insert_with(|| split(path))) {
                continue;
            }
            if !slot.regex_positions.is_empty()
                && !slot.constraints_hold(path, segments.get_or_insert_with(|| split(path)))
            {
                continue;
            }
            match slot.find(method) {
                Some(entry) => return Outcome::Found { entry, segments },
                None => {
                    path_matched = true;
                    slot.add_allowed(&mut allowed);
                }
            }
        }
        if path_matched {
            Outcome::MethodNotAllowed(allowed)
        } else {
            Outcome::NotFound
        }
    }
}

/// Builds the matcher and the candidate lists from the routes.
fn compile(slots: &mut [Slot]) -> Result<Compiled, Error> {
    // HTTP.jl keeps regex nodes in the order they were created under their parent node.
    let mut regex_nodes: HashMap<String, u32> = HashMap::new();
    for slot in slots.iter_mut() {
        let mut order = vec![0; slot.pattern.segments.len()];
        let mut positions = Vec::new();
        for (i, segment) in slot.pattern.segments.iter().enumerate() {
            if matches!(segment, Segment::Regex { .. }) {
                let next = regex_nodes.len() as u32;
                order[i] = *regex_nodes
                    .entry(slot.pattern.prefix_key(i + 1))
                    .or_insert(next);
                positions.push(i as u16);
            }
        }
        slot.regex_order = order;
        slot.regex_positions = positions.into_boxed_slice();
    }

    let depth = slots.iter().map(|s| s.pattern.depth()).max().unwrap_or(0);
    let mut shape_pieces: Vec<Vec<Piece<'_>>> = Vec::new();
    let mut shape_owners: Vec<Vec<u32>> = Vec::new();
    let mut by_path: HashMap<String, usize> = HashMap::new();
    for (index, slot) in slots.iter().enumerate() {
        for pieces in expansions(&slot.pattern, depth) {
            let path = matchit_path(&pieces);
            let shape = *by_path.entry(path).or_insert_with(|| {
                shape_pieces.push(pieces);
                shape_owners.push(Vec::new());
                shape_pieces.len() - 1
            });
            shape_owners[shape].push(index as u32);
        }
    }

    let mut matcher = matchit::Router::new();
    let mut shapes = Vec::with_capacity(shape_pieces.len());
    for (s, pieces) in shape_pieces.iter().enumerate() {
        let mut candidates: Vec<Candidate> = shape_owners[s]
            .iter()
            .map(|&slot| Candidate { slot, own: true })
            .collect();
        for (t, other) in shape_pieces.iter().enumerate() {
            if t != s && overlap(pieces, other) && shape_order(pieces, other) == Ordering::Less {
                candidates.extend(
                    shape_owners[t]
                        .iter()
                        .map(|&slot| Candidate { slot, own: false }),
                );
            }
        }
        candidates.sort_by(|a, b| {
            let (a, b) = (&slots[a.slot as usize], &slots[b.slot as usize]);
            priority(&a.pattern, &a.regex_order, &b.pattern, &b.regex_order)
        });
        shapes.push(Shape {
            candidates: candidates.into_boxed_slice(),
        });
        let path = matchit_path(pieces);
        let variables = pieces
            .iter()
            .filter(|piece| matches!(piece, Piece::Param))
            .count();
        if variables > MAX_SHAPE_VARIABLES {
            // matchit panics past this many parameters in one route.
            return Err(Error::invalid_input(format!(
                "route shape `{path}` has {variables} variable segments, more than the \
                 {MAX_SHAPE_VARIABLES} a route may have (a `**` counts one per segment of the \
                 deepest route)"
            )));
        }
        matcher.insert(path.as_str(), s as u32).map_err(|e| {
            Error::invalid_input(format!("route shape `{path}` cannot be added: {e}"))
        })?;
    }
    Ok(Compiled { matcher, shapes })
}

/// The most variable segments (`*`, `{name}`, and the segments a `**` stands for) one
/// matchit shape may have: matchit 0.8 renames its parameters `a`, `b`, ... and panics
/// when the 26th would need a name past `z` (found by the `router` fuzz target).
const MAX_SHAPE_VARIABLES: usize = 25;

/// The matchit shapes of a pattern: one, or for a trailing `**` at position k, one per
/// length from k+1 to `depth` plus a catch-all at position `depth` (see the module docs).
fn expansions(pattern: &Pattern, depth: usize) -> Vec<Vec<Piece<'_>>> {
    fn fixed(segments: &[Segment]) -> Vec<Piece<'_>> {
        segments
            .iter()
            .map(|s| match s {
                Segment::Exact(text) => Piece::Static(text),
                _ => Piece::Param,
            })
            .collect()
    }
    match pattern.rest_position() {
        None => vec![fixed(&pattern.segments)],
        Some(k) => {
            let base = fixed(&pattern.segments[..k]);
            let mut out = Vec::with_capacity(depth - k + 1);
            for n in 1..=depth - k {
                let mut pieces = base.clone();
                pieces.extend(std::iter::repeat_n(Piece::Param, n));
                out.push(pieces);
            }
            let mut pieces = base;
            pieces.extend(std::iter::repeat_n(Piece::Param, depth - k));
            pieces.push(Piece::CatchAll);
            out.push(pieces);
            out
        }
    }
}

/// matchit's spelling of a shape: `{pN}` parameters, `{*pN}` catch-all, `{{`/`}}` escapes.
fn matchit_path(pieces: &[Piece<'_>]) -> String {
    if pieces.is_empty() {
        return "/".to_owned();
    }
    let mut path = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        path.push('/');
        match piece {
            Piece::Static(text) => {
                for c in text.chars() {
                    match c {
                        '{' => path.push_str("{{"),
                        '}' => path.push_str("}}"),
                        c => path.push(c),
                    }
                }
            }
            Piece::Param => path.push_str(&format!("{{p{i}}}")),
            Piece::CatchAll => path.push_str(&format!("{{*p{i}}}")),
        }
    }
    path
}

/// Whether some path matches both shapes.
fn overlap(a: &[Piece<'_>], b: &[Piece<'_>]) -> bool {
    let mut i = 0;
    loop {
        match (a.get(i), b.get(i)) {
            (None, None) => return true,
            (Some(Piece::CatchAll), Some(_)) | (Some(_), Some(Piece::CatchAll)) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(Piece::Static(x)), Some(Piece::Static(y))) if x != y => return false,
            _ => i += 1,
        }
    }
}

/// matchit's priority between two shapes: static, then parameter, then catch-all, at the
/// first position where they differ.
fn shape_order(a: &[Piece<'_>], b: &[Piece<'_>]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = x.rank().cmp(&y.rank()).then_with(|| match (x, y) {
            (Piece::Static(p), Piece::Static(q)) => p.cmp(q),
            _ => Ordering::Equal,
        });
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::pattern::normalize_path;

    /// HTTP.jl's matcher, written as plainly as possible: try every route in priority
    /// order, take the first that fits, passes its regexes and has the method.
    fn reference(
        routes: &[(&str, &str)],
        patterns: &[Pattern],
        method: &str,
        path: &str,
    ) -> String {
        let mut parsed: Vec<(usize, Pattern)> = patterns.iter().cloned().enumerate().collect();
        // Regex node order: first registration of the node (prefix through the regex).
        let mut nodes: HashMap<String, u32> = HashMap::new();
        let orders: Vec<Vec<u32>> = parsed
            .iter()
            .map(|(_, p)| {
                (0..p.segments.len())
                    .map(|i| {
                        let n = nodes.len() as u32;
                        *nodes.entry(p.prefix_key(i + 1)).or_insert(n)
                    })
                    .collect()
            })
            .collect();
        parsed.sort_by(|(a, pa), (b, pb)| priority(pa, &orders[*a], pb, &orders[*b]));
        let norm = normalize_path(path);
        let mut split = SmallVec::new();
        split_path(&norm, &mut split);
        let mut any_path = false;
        for (i, pattern) in &parsed {
            let slot = Slot {
                pattern: pattern.clone(),
                regex_order: Vec::new(),
                regex_positions: (0..pattern.segments.len() as u16).collect(),
                by_method: Vec::new(),
                any: None,
            };
            if slot.fits(&norm, &split) && slot.constraints_hold(&norm, &split) {
                // Later registrations of the same key and method replace earlier ones.
                let same: Vec<usize> = routes
                    .iter()
                    .enumerate()
                    .filter(|(j, (m, _))| {
                        patterns[*j].key() == pattern.key() && (*m == method || *m == "*")
                    })
                    .map(|(j, _)| j)
                    .collect();
                if same.is_empty() {
                    any_path = true;
                    continue;
                }
                let _ = i;
                let exact = same.iter().rev().find(|&&j| routes[j].0 == method);
                let any = same.iter().rev().find(|&&j| routes[j].0 == "*");
                return routes[*exact.or(any).unwrap()].1.to_owned();
            }
        }
        if any_path { "405" } else { "404" }.to_owned()
    }

    fn table(routes: &[(&str, &str)]) -> Table {
        let mut table = Table::default();
        for (i, (method, pattern)) in routes.iter().enumerate() {
            let method = (*method != "*").then(|| method.parse().unwrap());
            table
                .insert(
                    method,
                    Pattern::parse(pattern).unwrap(),
                    (*pattern).into(),
                    i,
                )
                .unwrap();
        }
        table
    }

    fn answer(table: &Table, method: &str, path: &str) -> String {
        match table.lookup(&method.parse().unwrap(), &normalize_path(path)) {
            Outcome::Found { entry, .. } => entry.route.to_string(),
            Outcome::MethodNotAllowed(_) => "405".to_owned(),
            Outcome::NotFound => "404".to_owned(),
        }
    }

    /// Random route sets and paths over a small alphabet, so that routes overlap a lot;
    /// the table must agree with the plain reference matcher on every one.
    #[test]
    fn agrees_with_the_reference_matcher() {
        const PIECES: &[&str] = &[
            "a",
            "b",
            "c",
            "{x}",
            "{y:[ab]}",
            "{z:[bc]}",
            "*",
            "**",
            "{*rest}",
            "{n:[0-9]+}",
        ];
        const PATH_PIECES: &[&str] = &["a", "b", "c", "1", "a.b", "x"];
        const METHODS: &[&str] = &["GET", "POST", "*"];
        let mut rng = fastrand::Rng::with_seed(7);
        for round in 0..300 {
            let mut routes: Vec<(&str, String)> = Vec::new();
            for _ in 0..rng.usize(1..12) {
                let len = rng.usize(0..5);
                let mut pieces: Vec<&str> = (0..len)
                    .map(|_| PIECES[rng.usize(..PIECES.len())])
                    .filter(|p| !p.contains('*') || *p == "*")
                    .collect();
                if rng.bool() && rng.bool() {
                    pieces.push(if rng.bool() { "**" } else { "{*rest}" });
                }
                // Variables must have distinct names within a pattern.
                let mut seen = Vec::new();
                pieces.retain(|p| {
                    let name = p.trim_start_matches('{').split([':', '}']).next().unwrap();
                    !p.starts_with('{') || {
                        let fresh = !seen.contains(&name.to_owned());
                        seen.push(name.to_owned());
                        fresh
                    }
                });
                routes.push((
                    METHODS[rng.usize(..METHODS.len())],
                    format!("/{}", pieces.join("/")),
                ));
            }
            let routes: Vec<(&str, &str)> = routes.iter().map(|(m, p)| (*m, p.as_str())).collect();
            let table = table(&routes);
            let patterns: Vec<Pattern> = routes
                .iter()
                .map(|(_, p)| Pattern::parse(p).unwrap())
                .collect();
            for _ in 0..40 {
                let len = rng.usize(0..6);
                let path: Vec<&str> = (0..len)
                    .map(|_| PATH_PIECES[rng.usize(..PATH_PIECES.len())])
                    .collect();
                let path = format!("/{}", path.join("/"));
                let method = ["GET", "POST", "PUT"][rng.usize(..3)];
                assert_eq!(
                    answer(&table, method, &path),
                    reference(&routes, &patterns, method, &path),
                    "round {round}: {method} {path} with routes {routes:?}"
                );
            }
        }
    }

    #[test]
    fn star_star_beside_a_variable_compiles() {
        let t = table(&[("GET", "/a/{x}"), ("GET", "/a/**"), ("GET", "/a/b/c/d")]);
        assert_eq!(answer(&t, "GET", "/a/q"), "/a/{x}");
        assert_eq!(answer(&t, "GET", "/a/q/r/s/t/u"), "/a/**");
        assert_eq!(answer(&t, "GET", "/a/b/c/d"), "/a/b/c/d");
        assert_eq!(answer(&t, "GET", "/a/b/c/e"), "/a/**");
    }

    #[test]
    fn braces_in_exact_segments_are_escaped_for_matchit() {
        let t = table(&[("GET", "/lit/a{b}"), ("GET", "/lit/{x}"), ("GET", "/lit/}")]);
        assert_eq!(answer(&t, "GET", "/lit/a{b}"), "/lit/a{b}");
        assert_eq!(answer(&t, "GET", "/lit/}"), "/lit/}");
        assert_eq!(answer(&t, "GET", "/lit/ab"), "/lit/{x}");
    }
}
