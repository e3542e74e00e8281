//! HTTP.jl's `@client`: a client type for one API, with its base URL, default headers and
//! layers, and `get`/`post`/... associated functions.
//!
//! ```
//! use httpstack::client::ClientService;
//!
//! httpstack::client! {
//!     /// The example API: JSON, with the client's own retry count.
//!     pub struct ExampleApi {
//!         base_url: "http://127.0.0.1:1/api",
//!         headers: [("accept", "application/json")],
//!         layers: [tower::layer::layer_fn(|inner: ClientService| inner)],
//!         configure: |builder| builder.read_timeout(std::time::Duration::from_secs(5)),
//!     }
//! }
//!
//! // `GET http://127.0.0.1:1/api/users/1` with `Accept: application/json`.
//! let request = ExampleApi::get("/users/1");
//! # let _ = request;
//! # let _ = ExampleApi::client();
//! ```

/// Defines a client type for one API (HTTP.jl `@client`): see the
/// [module docs](crate::client::api_client) for an example.
///
/// Fields, in this order, all but `base_url` optional:
/// - `base_url`: an expression whose `to_string()` is prefixed to each path (one `/`
///   between them), evaluated per request so it may read configuration;
/// - `headers`: `[(name, value), ...]`, sent unless a request sets the header itself;
/// - `layers`, `first_layers`, `stream_layers`: `[layer, ...]`, pushed with
///   [`ClientBuilder::push_layer`](crate::ClientBuilder::push_layer),
///   [`push_first_layer`](crate::ClientBuilder::push_first_layer) and
///   [`push_stream_layer`](crate::ClientBuilder::push_stream_layer);
/// - `configure`: `|builder| builder...`, any other [`ClientBuilder`](crate::ClientBuilder)
///   setting.
///
/// The type gets `client()` (its [`Client`](crate::Client), built on first use, one per
/// thread as for the default client) and `request(method, path)`, `get`, `post`, `put`,
/// `patch`, `delete`, `head` and `options`, each returning a
/// [`RequestBuilder`](crate::RequestBuilder). A setting that cannot be built (an invalid
/// header) makes each request fail with that error.
#[macro_export]
macro_rules! client {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            base_url: $base:expr
            $(, headers: [$(($hname:expr, $hvalue:expr)),* $(,)?])?
            $(, layers: [$($layer:expr),* $(,)?])?
            $(, first_layers: [$($first:expr),* $(,)?])?
            $(, stream_layers: [$($stream:expr),* $(,)?])?
            $(, configure: $configure:expr)?
            $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default)]
        $vis struct $name;

        #[allow(dead_code)]
        impl $name {
            /// The base URL each path is joined to (its expression is evaluated on each
            /// call, so it may read configuration).
            pub fn base_url() -> ::std::string::String {
                ::std::string::ToString::to_string(&$base)
            }

            /// The builder this API's client is built from.
            pub fn builder() -> $crate::ClientBuilder {
                let builder = $crate::Client::builder();
                $($(let builder = builder.default_header($hname, $hvalue);)*)?
                $($(let builder = builder.push_layer($layer);)*)?
                $($(let builder = builder.push_first_layer($first);)*)?
                $($(let builder = builder.push_stream_layer($stream);)*)?
                $(let builder = $crate::client::api_client::configure(builder, $configure);)?
                builder
            }

            /// This API's client: built on first use, one per thread.
            pub fn client() -> ::std::result::Result<$crate::Client, $crate::Error> {
                ::std::thread_local! {
                    static CLIENT: ::std::cell::OnceCell<
                        ::std::result::Result<$crate::Client, ::std::string::String>,
                    > = const { ::std::cell::OnceCell::new() };
                }
                CLIENT.with(|cell| {
                    cell.get_or_init(|| Self::builder().build().map_err(|e| e.to_string()))
                        .clone()
                        .map_err($crate::Error::invalid_input)
                })
            }

            /// A request with any method to `path` under the base URL.
            pub fn request(method: $crate::__private::Method, path: &str) -> $crate::RequestBuilder {
                $crate::client::api_request(Self::client(), &Self::base_url(), method, path)
            }

            /// A GET request to `path` under the base URL.
            pub fn get(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::GET, path)
            }

            /// A POST request to `path` under the base URL.
            pub fn post(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::POST, path)
            }

            /// A PUT request to `path` under the base URL.
            pub fn put(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::PUT, path)
            }

            /// A PATCH request to `path` under the base URL.
            pub fn patch(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::PATCH, path)
            }

            /// A DELETE request to `path` under the base URL.
            pub fn delete(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::DELETE, path)
            }

            /// A HEAD request to `path` under the base URL.
            pub fn head(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::HEAD, path)
            }

            /// An OPTIONS request to `path` under the base URL.
            pub fn options(path: &str) -> $crate::RequestBuilder {
                Self::request($crate::__private::Method::OPTIONS, path)
            }
        }
    };
}

use http::Method;

use super::{Client, RequestBuilder};
use crate::Error;

/// `base` and `path` joined with one `/` between them.
pub fn join_url(base: &str, path: &str) -> String {
    if path.starts_with(['?', '#']) {
        return format!("{base}{path}");
    }
    match (base.ends_with('/'), path.starts_with('/')) {
        (true, true) => format!("{base}{}", &path[1..]),
        (false, false) if !path.is_empty() => format!("{base}/{path}"),
        _ => format!("{base}{path}"),
    }
}

/// Applies a `client!` type's `configure` closure (a function, so the closure's argument
/// type is inferred). Not public API.
#[doc(hidden)]
pub fn configure(
    builder: crate::ClientBuilder,
    f: impl FnOnce(crate::ClientBuilder) -> crate::ClientBuilder,
) -> crate::ClientBuilder {
    f(builder)
}

/// The request a `client!` type's associated functions return. Not public API.
#[doc(hidden)]
pub fn api_request(
    client: Result<Client, Error>,
    base: &str,
    method: Method,
    path: &str,
) -> RequestBuilder {
    let url = join_url(base, path);
    match client {
        Ok(client) => client.request(method, url),
        Err(err) => RequestBuilder::failed(method, &url, err),
    }
}

#[cfg(test)]
mod tests {
    use super::join_url;

    #[test]
    fn joins_with_one_slash() {
        for (base, path, expected) in [
            ("http://h/api", "/users", "http://h/api/users"),
            ("http://h/api/", "/users", "http://h/api/users"),
            ("http://h/api/", "users", "http://h/api/users"),
            ("http://h/api", "users", "http://h/api/users"),
            ("http://h/api", "", "http://h/api"),
            ("http://h/api", "?q=1", "http://h/api?q=1"),
        ] {
            assert_eq!(join_url(base, path), expected, "{base} + {path}");
        }
    }
}
