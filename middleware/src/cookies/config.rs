//! [`CookieConfig`]: HTTP.jl's `cookies` keyword, as a layer default or a request extension.

use std::collections::{BTreeMap, HashMap};

/// Whether and which cookies a request sends (HTTP.jl `cookies = true | false | Dict`).
///
/// The [`CookieLayer`](super::CookieLayer) holds a default; a request carrying a
/// `CookieConfig` in its extensions overrides it.
///
/// ```
/// use httpstack_middleware::cookies::CookieConfig;
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(CookieConfig::explicit([("theme", "dark")]));
/// assert_eq!(CookieConfig::from(false), CookieConfig::Enabled(false));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookieConfig {
    /// `true`: send the jar's cookies for the URL and store the response's `Set-Cookie`
    /// headers in the jar. `false`: leave the request's `Cookie` header and the jar alone.
    Enabled(bool),
    /// As `Enabled(true)`, and also send these name → value pairs, which take the place of
    /// jar cookies of the same name. Not sent on a redirect to another origin (see
    /// [`CrossOriginRedirect`](crate::cross_origin::CrossOriginRedirect)). An empty map
    /// means `Enabled(false)`, as in HTTP.jl.
    Explicit(BTreeMap<String, String>),
}

impl CookieConfig {
    /// `Explicit` from any name → value pairs.
    pub fn explicit<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: Into<String>,
        V: Into<String>,
    {
        CookieConfig::Explicit(
            pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }

    /// Whether the jar takes part (`Enabled(true)` or a non-empty `Explicit`).
    pub fn is_enabled(&self) -> bool {
        match self {
            CookieConfig::Enabled(on) => *on,
            CookieConfig::Explicit(pairs) => !pairs.is_empty(),
        }
    }

    /// The explicit pairs, if any.
    pub fn explicit_pairs(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            CookieConfig::Explicit(pairs) => Some(pairs),
            CookieConfig::Enabled(_) => None,
        }
    }
}

impl Default for CookieConfig {
    /// HTTP.jl's default, `cookies = true`.
    fn default() -> Self {
        CookieConfig::Enabled(true)
    }
}

impl From<bool> for CookieConfig {
    fn from(on: bool) -> Self {
        CookieConfig::Enabled(on)
    }
}

impl From<BTreeMap<String, String>> for CookieConfig {
    fn from(pairs: BTreeMap<String, String>) -> Self {
        CookieConfig::Explicit(pairs)
    }
}

impl From<HashMap<String, String>> for CookieConfig {
    fn from(pairs: HashMap<String, String>) -> Self {
        CookieConfig::Explicit(pairs.into_iter().collect())
    }
}

impl<N: Into<String>, V: Into<String>, const K: usize> From<[(N, V); K]> for CookieConfig {
    fn from(pairs: [(N, V); K]) -> Self {
        CookieConfig::explicit(pairs)
    }
}
