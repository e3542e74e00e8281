//! What a matched request carries: the route pattern and its variables (HTTP.jl
//! `getroute`, `getparams`, `getparam`).

use std::sync::Arc;

use http::Request;

/// The variables a route captured, in pattern order, percent-decoded (HTTP.jl
/// `getparams`). A `{*rest}` variable holds the rest of the path, slashes included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(Arc<str>, String)>,
}

impl Params {
    pub(crate) fn push(&mut self, name: Arc<str>, value: String) {
        self.entries.push((name, value));
    }

    /// The value of variable `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(name, value)` pairs in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (&**n, v.as_str()))
    }

    /// How many variables the route captured.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the route captured no variables.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The request extension a [`Router`](super::Router) sets on a matched request, before
/// its route middleware and handler run.
#[derive(Clone, Debug)]
pub struct MatchedRoute {
    pub(crate) route: Arc<str>,
    pub(crate) params: Params,
}

impl MatchedRoute {
    /// The route pattern as it was registered, e.g. `/users/{id}` (HTTP.jl `getroute`).
    pub fn route(&self) -> &str {
        &self.route
    }

    /// The captured variables (HTTP.jl `getparams`).
    pub fn params(&self) -> &Params {
        &self.params
    }
}

/// The pattern of the route that matched `req` (HTTP.jl `getroute`); `None` when the
/// request did not go through a router's route.
pub fn route<B>(req: &Request<B>) -> Option<&str> {
    req.extensions()
        .get::<MatchedRoute>()
        .map(MatchedRoute::route)
}

/// The variables of the route that matched `req` (HTTP.jl `getparams`); empty for a
/// route without variables, `None` when the request was not routed.
pub fn params<B>(req: &Request<B>) -> Option<&Params> {
    req.extensions()
        .get::<MatchedRoute>()
        .map(MatchedRoute::params)
}

/// One variable of the route that matched `req` (HTTP.jl `getparam`).
pub fn param<'r, B>(req: &'r Request<B>, name: &str) -> Option<&'r str> {
    params(req)?.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_the_extension() {
        let mut req = Request::new(());
        assert_eq!(route(&req), None);
        assert!(params(&req).is_none());
        let mut p = Params::default();
        p.push("id".into(), "7".into());
        req.extensions_mut().insert(MatchedRoute {
            route: "/users/{id}".into(),
            params: p,
        });
        assert_eq!(route(&req), Some("/users/{id}"));
        assert_eq!(param(&req, "id"), Some("7"));
        assert_eq!(param(&req, "other"), None);
        assert_eq!(
            params(&req).unwrap().iter().collect::<Vec<_>>(),
            [("id", "7")]
        );
    }
}
