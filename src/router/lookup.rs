//! [`Lookup`]: the answer of [`Router::lookup`](super::Router::lookup), without calling
//! a handler.

use std::borrow::Cow;
use std::fmt;

use http::Method;

use super::params::{MatchedRoute, Params};
use super::pattern::split_path;
use super::table::{decode, Entry, Ranges};

/// What a router would do with a request, from [`Router::lookup`](super::Router::lookup).
#[derive(Debug)]
pub enum Lookup<'r, 'p> {
    /// A route matched the path and has a handler for the method.
    Found(RouteMatch<'r, 'p>),
    /// Routes matched the path but none has a handler for the method; these methods
    /// would be listed in the 405's `Allow` header.
    MethodNotAllowed(Vec<Method>),
    /// No route matched the path: the 404 handler would answer.
    NotFound,
}

impl<'r, 'p> Lookup<'r, 'p> {
    pub(crate) fn found(
        path: Cow<'p, str>,
        entry: &'r Entry,
        segments: Option<Ranges<16>>,
    ) -> Self {
        Lookup::Found(RouteMatch {
            path,
            entry,
            segments,
        })
    }
}

/// A matched route: its pattern and the path its variables are read from (split into
/// segments when first needed).
pub struct RouteMatch<'r, 'p> {
    path: Cow<'p, str>,
    entry: &'r Entry,
    segments: Option<Ranges<16>>,
}

impl<'r> RouteMatch<'r, '_> {
    /// The route pattern as registered (HTTP.jl `getroute`).
    pub fn route(&self) -> &'r str {
        &self.entry.route
    }

    /// The variables as `(name, raw value)` pairs in pattern order, the values still
    /// percent-encoded as in the path.
    pub fn raw_params(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let segments = self.segments.clone().unwrap_or_else(|| {
            let mut out = Ranges::new();
            split_path(&self.path, &mut out);
            out
        });
        let path: &str = &self.path;
        self.entry.captures.iter().map(move |c| {
            let (start, end) = segments[usize::from(c.position)];
            let end = if c.rest { path.len() as u32 } else { end };
            (&*c.name, &path[start as usize..end as usize])
        })
    }

    /// The raw (still percent-encoded) value of variable `name`.
    pub fn raw_param(&self, name: &str) -> Option<&str> {
        self.raw_params().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The variables, percent-decoded, as the handler sees them (HTTP.jl `getparams`).
    pub fn params(&self) -> Params {
        let mut params = Params::default();
        if self.entry.captures.is_empty() {
            // Most routes have no variables: no need to split the path.
            return params;
        }
        for ((_, raw), capture) in self.raw_params().zip(self.entry.captures.iter()) {
            params.push(capture.name.clone(), decode(raw).into_owned());
        }
        params
    }

    /// The index of the matched handler in the router.
    pub(crate) fn handler(&self) -> usize {
        self.entry.handler
    }

    /// The request extension the router would set.
    pub fn to_matched_route(&self) -> MatchedRoute {
        MatchedRoute {
            route: self.entry.route.clone(),
            params: self.params(),
        }
    }
}

impl fmt::Debug for RouteMatch<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteMatch")
            .field("route", &self.route())
            .field("params", &self.params())
            .finish()
    }
}
