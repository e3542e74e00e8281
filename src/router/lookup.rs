//! [`Lookup`]: the answer of [`Router::lookup`](super::Router::lookup), without calling
//! a handler.

use std::borrow::Cow;
use std::fmt;

use http::Method;

use super::params::{MatchedRoute, Params};
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
    pub(crate) fn found(path: Cow<'p, str>, entry: &'r Entry, values: Ranges<4>) -> Self {
        Lookup::Found(RouteMatch {
            path,
            entry,
            values,
        })
    }
}

/// A matched route: its pattern and where its variables sit in the path.
pub struct RouteMatch<'r, 'p> {
    path: Cow<'p, str>,
    entry: &'r Entry,
    values: Ranges<4>,
}

impl<'r> RouteMatch<'r, '_> {
    /// The route pattern as registered (HTTP.jl `getroute`).
    pub fn route(&self) -> &'r str {
        &self.entry.route
    }

    /// The raw (still percent-encoded) value of variable `name`.
    pub fn raw_param(&self, name: &str) -> Option<&str> {
        self.entry
            .captures
            .iter()
            .zip(&self.values)
            .find(|(c, _)| &*c.name == name)
            .map(|(_, &(start, end))| &self.path[start as usize..end as usize])
    }

    /// The variables, percent-decoded, as the handler sees them (HTTP.jl `getparams`).
    pub fn params(&self) -> Params {
        let mut params = Params::default();
        for (capture, &(start, end)) in self.entry.captures.iter().zip(&self.values) {
            let raw = &self.path[start as usize..end as usize];
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
