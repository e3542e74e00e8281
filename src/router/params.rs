//! What a matched request carries: the route pattern and its variables (HTTP.jl
//! `getroute`, `getparams`, `getparam`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use http::{Request, Response, StatusCode};

use crate::Body;

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

/// One variable of the route that matched `req`, parsed as `T` (HTTP.jl `getparam`,
/// typed): `param::<u64>(&req, "id")`, or `param::<String>` for the text. The error
/// answers `400 Bad Request` for a value that does not parse, `500` for a name the route
/// does not have (a bug in the handler); for the text without a copy, see
/// [`Params::get`].
///
/// ```
/// use http::{Method, Request, Response, StatusCode};
/// use httpstack::router::{param, Router};
/// use httpstack::Body;
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.register(Method::GET, "/users/{id}", |req: Request<Body>| async move {
///     match param::<u64>(&req, "id") {
///         Ok(id) => Response::new(Body::from(format!("user {id}"))),
///         Err(err) => err.into_response(),
///     }
/// })?;
/// let ok = router.clone().oneshot(Request::get("/users/7").body(Body::empty())?).await?;
/// assert_eq!(ok.into_body().collect_bytes().await?, "user 7");
/// let bad = router.oneshot(Request::get("/users/seven").body(Body::empty())?).await?;
/// assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ParamError::Missing`] when the request was not routed or its route has no variable
/// `name`; [`ParamError::Invalid`] when the value does not parse as `T`.
pub fn param<T>(req: &Request<impl Sized>, name: &str) -> Result<T, ParamError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let value = params(req)
        .and_then(|p| p.get(name))
        .ok_or_else(|| ParamError::Missing {
            name: name.to_owned(),
        })?;
    value.parse().map_err(|err: T::Err| ParamError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        expected: std::any::type_name::<T>(),
        reason: err.to_string(),
    })
}

/// Why [`param`] gave no value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamError {
    /// The request was not routed, or its route has no variable of this name.
    Missing {
        /// The variable asked for.
        name: String,
    },
    /// The value does not parse as the type asked for.
    Invalid {
        /// The variable.
        name: String,
        /// Its value, percent-decoded.
        value: String,
        /// The type asked for.
        expected: &'static str,
        /// The parser's message.
        reason: String,
    },
}

impl ParamError {
    /// `400 Bad Request` for a value that does not parse (the client's), `500` for a
    /// missing variable (the handler's).
    pub fn status(&self) -> StatusCode {
        match self {
            ParamError::Missing { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ParamError::Invalid { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The response to answer with: [`status`](Self::status) and the message as text
    /// (a missing variable's message stays out of the body, as it is the server's).
    pub fn into_response(self) -> Response<Body> {
        let body = match &self {
            ParamError::Missing { .. } => Body::empty(),
            ParamError::Invalid { .. } => Body::from(self.to_string()),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status();
        if matches!(self, ParamError::Invalid { .. }) {
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        response
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Missing { name } => write!(f, "no route variable `{name}`"),
            ParamError::Invalid {
                name,
                value,
                expected,
                reason,
            } => write!(
                f,
                "route variable `{name}`: `{value}` is not a valid {expected}: {reason}"
            ),
        }
    }
}

impl std::error::Error for ParamError {}

impl From<ParamError> for Response<Body> {
    fn from(err: ParamError) -> Self {
        err.into_response()
    }
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
        assert_eq!(param::<u64>(&req, "id"), Ok(7));
        assert_eq!(param::<String>(&req, "id").as_deref(), Ok("7"));
        let invalid = param::<u8>(&req, "id").map(|_| ());
        assert!(matches!(invalid, Ok(())));
        let bad = param::<bool>(&req, "id").unwrap_err();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(bad.to_string().contains("`7` is not a valid bool"), "{bad}");
        let missing = param::<u64>(&req, "other").unwrap_err();
        assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(param::<u64>(&Request::new(()), "id").is_err());
        assert_eq!(
            params(&req).unwrap().iter().collect::<Vec<_>>(),
            [("id", "7")]
        );
    }
}
