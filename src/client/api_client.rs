//! HTTP.jl's `@client`: a client type for one API, with its base URL, default headers and
//! layers, made by the [`client!`](crate::client!) macro.
//!
//! The type holds one [`Client`] (one connection pool, one cookie jar), so it is cheap to
//! clone and is shared by its clones, tasks and threads. Build it from the macro's defaults
//! with `new()`, or with runtime settings (a token, a base URL from configuration) through
//! `builder()`; its `get`/`post`/... methods return the usual [`RequestBuilder`], and your
//! own methods go in an `impl` block of your own.
//!
//! ```
//! use std::time::Duration;
//!
//! httpstack::client! {
//!     /// The example API: JSON, and a short read timeout.
//!     pub struct ExampleApi {
//!         base_url: "http://127.0.0.1:1/api",
//!         headers: [("accept", "application/json")],
//!         configure: |builder| builder.read_timeout(Duration::from_secs(5)),
//!     }
//! }
//!
//! impl ExampleApi {
//!     /// One endpoint of the API, as a method of your own.
//!     pub fn user(&self, id: u64) -> httpstack::RequestBuilder {
//!         self.get(format!("/users/{id}"))
//!     }
//! }
//!
//! # fn main() -> Result<(), httpstack::Error> {
//! // From the macro's defaults...
//! let api = ExampleApi::new();
//! let request = api.user(1).build()?;
//! assert_eq!(request.uri(), "http://127.0.0.1:1/api/users/1");
//!
//! // ...or with settings known only at run time.
//! let api = ExampleApi::builder()
//!     .base_url("http://127.0.0.1:2/v2")
//!     .bearer_auth("s3cr3t")
//!     .build()?;
//! assert_eq!(api.get("/users").build()?.uri(), "http://127.0.0.1:2/v2/users");
//! # Ok(())
//! # }
//! ```

/// Defines a client type for one API (HTTP.jl `@client`): see the
/// [module docs](crate::client::api_client) for an example.
///
/// Fields, in any order, each optional (an unknown field is a compile error naming it):
/// - `base_url`: an expression whose `to_string()` is prefixed to each path (one `/`
///   between them); evaluated when the type is built;
/// - `headers`: `[(name, value), ...]`, sent unless a request sets the header itself;
/// - `layers`, `first_layers`, `stream_layers`: `[layer, ...]`, pushed with
///   [`ClientBuilder::push_layer`](crate::ClientBuilder::push_layer),
///   [`push_first_layer`](crate::ClientBuilder::push_first_layer) and
///   [`push_stream_layer`](crate::ClientBuilder::push_stream_layer);
/// - `configure`: `|builder| builder...`, any other [`ClientBuilder`](crate::ClientBuilder)
///   setting.
///
/// The type is a struct holding one [`ApiClient`](crate::client::ApiClient) (`Clone +
/// Send + Sync`; clones share the client's pool and cookie jar). It gets:
/// - `new()`: built from the macro's settings (panics if they are invalid, e.g. a header
///   name with a space; `builder().build()` returns that error instead);
/// - `builder()`: an [`ApiBuilder`](crate::client::ApiBuilder) starting from the macro's
///   settings, for run-time ones (`base_url`, `header`, `bearer_auth`, `configure`);
/// - `with_client(client)`: the macro's base URL over a [`Client`](crate::Client) of your
///   own (the macro's headers and layers are not added to it);
/// - methods on `&self`: `request(method, path)`, `get`, `post`, `put`, `patch`,
///   `delete`, `head` and `options`, each returning a [`RequestBuilder`](crate::RequestBuilder);
///   `client()` and `base_url()`.
///
/// ```
/// # use httpstack::server::{handler_fn, serve};
/// httpstack::client! {
///     /// The users API: JSON.
///     pub struct UsersApi {
///         base_url: "http://localhost:8080/api",
///         headers: [("accept", "application/json")],
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), httpstack::Error> {
/// # let server = serve("127.0.0.1:0", handler_fn(|req: http::Request<httpstack::Body>| async move {
/// #     let h = |name: &str| req.headers()[name].to_str().unwrap().to_owned();
/// #     http::Response::new(format!("{} {} {}", req.uri(), h("accept"), h("authorization")))
/// # })).await?;
/// # let addr = server.local_addr();
/// // The base URL and a token known only at run time.
/// let api = UsersApi::builder()
///     .base_url(format!("http://{addr}/api"))
///     .bearer_auth("s3cr3t")
///     .build()?;
/// let resp = api.get("/users/7").await?;
/// assert_eq!(resp.text(), "/api/users/7 application/json Bearer s3cr3t");
/// # server.close().await; Ok(()) }
/// ```
///
/// A misspelt field does not compile (the error names it: "client!: unknown field
/// `base_uri`"):
///
/// ```compile_fail
/// httpstack::client! {
///     struct Api { base_uri: "http://127.0.0.1:1" }
/// }
/// ```
#[macro_export]
macro_rules! client {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($fields:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name {
            api: $crate::client::ApiClient,
        }

        #[allow(dead_code)]
        impl $name {
            /// A builder starting from this API's settings in the `client!` macro.
            pub fn builder() -> $crate::client::ApiBuilder<Self> {
                let api = $crate::client::ApiBuilder::new(|api| $name { api });
                $crate::__client_fields!(api; $($fields)*)
            }

            /// This API's client, built from its settings in the `client!` macro.
            ///
            /// # Panics
            /// If those settings are invalid (a header name with a space, say); use
            /// `builder().build()` to get that as an error.
            pub fn new() -> Self {
                match Self::builder().build() {
                    ::std::result::Result::Ok(api) => api,
                    ::std::result::Result::Err(err) => ::std::panic!(
                        "{}: invalid settings in client!: {}",
                        ::std::stringify!($name),
                        err
                    ),
                }
            }

            /// This API's base URL over `client`, one of your own (the macro's headers and
            /// layers are not added to it).
            pub fn with_client(client: $crate::Client) -> Self {
                let base = Self::builder().get_base_url().to_owned();
                $name { api: $crate::client::ApiClient::new(client, base) }
            }

            /// The client requests are sent with.
            pub fn client(&self) -> &$crate::Client {
                self.api.client()
            }

            /// The base URL each path is joined to.
            pub fn base_url(&self) -> &str {
                self.api.base_url()
            }

            /// A request with any method to `path` under the base URL.
            pub fn request(&self, method: $crate::__private::Method, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request(method, path)
            }

            /// A GET request to `path` under the base URL.
            pub fn get(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::GET, path)
            }

            /// A POST request to `path` under the base URL.
            pub fn post(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::POST, path)
            }

            /// A PUT request to `path` under the base URL.
            pub fn put(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::PUT, path)
            }

            /// A PATCH request to `path` under the base URL.
            pub fn patch(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::PATCH, path)
            }

            /// A DELETE request to `path` under the base URL.
            pub fn delete(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::DELETE, path)
            }

            /// A HEAD request to `path` under the base URL.
            pub fn head(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::HEAD, path)
            }

            /// An OPTIONS request to `path` under the base URL.
            pub fn options(&self, path: impl ::std::convert::AsRef<str>) -> $crate::RequestBuilder {
                self.api.request($crate::__private::Method::OPTIONS, path)
            }
        }
    };
}

/// The fields of [`client!`](crate::client!), in any order, applied to an
/// [`ApiBuilder`] one by one. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __client_fields {
    ($api:expr;) => { $api };
    ($api:expr; base_url: $base:expr $(, $($rest:tt)*)?) => {
        $crate::__client_fields!(
            $crate::client::ApiBuilder::base_url($api, ::std::string::ToString::to_string(&$base));
            $($($rest)*)?
        )
    };
    ($api:expr; headers: [$(($hname:expr, $hvalue:expr)),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__client_fields!(
            { let api = $api; $(let api = api.header($hname, $hvalue);)* api };
            $($($rest)*)?
        )
    };
    ($api:expr; layers: [$($layer:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__client_fields!(
            { let api = $api; $(let api = api.configure(|b| b.push_layer($layer));)* api };
            $($($rest)*)?
        )
    };
    ($api:expr; first_layers: [$($layer:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__client_fields!(
            { let api = $api; $(let api = api.configure(|b| b.push_first_layer($layer));)* api };
            $($($rest)*)?
        )
    };
    ($api:expr; stream_layers: [$($layer:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__client_fields!(
            { let api = $api; $(let api = api.configure(|b| b.push_stream_layer($layer));)* api };
            $($($rest)*)?
        )
    };
    ($api:expr; configure: $configure:expr $(, $($rest:tt)*)?) => {
        $crate::__client_fields!($crate::client::ApiBuilder::configure($api, $configure); $($($rest)*)?)
    };
    ($api:expr; $field:ident $($rest:tt)*) => {
        ::std::compile_error!(::std::concat!(
            "client!: unknown field `",
            ::std::stringify!($field),
            "`; the fields are base_url, headers, layers, first_layers, stream_layers and configure"
        ))
    };
}

use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use http::Method;

use super::{Client, ClientBuilder, RequestBuilder};
use crate::Error;

/// `base` and `path` joined with one `/` between them (`path` alone when `base` is empty).
pub fn join_url(base: &str, path: &str) -> String {
    if base.is_empty() {
        return path.to_owned();
    }
    if path.starts_with(['?', '#']) {
        return format!("{base}{path}");
    }
    match (base.ends_with('/'), path.starts_with('/')) {
        (true, true) => format!("{base}{}", &path[1..]),
        (false, false) if !path.is_empty() => format!("{base}/{path}"),
        _ => format!("{base}{path}"),
    }
}

/// What a [`client!`](crate::client!) type holds: one [`Client`] and the API's base URL.
/// Cheap to clone (two `Arc`s); clones share the client's pool and cookie jar.
///
/// ```
/// use httpstack::client::ApiClient;
///
/// let api = ApiClient::new(httpstack::Client::new(), "http://127.0.0.1:1/v1");
/// let request = api.request(http::Method::GET, "/users").build()?;
/// assert_eq!(request.uri(), "http://127.0.0.1:1/v1/users");
/// # Ok::<(), httpstack::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ApiClient {
    client: Client,
    base_url: Arc<str>,
}

impl ApiClient {
    /// `client` sending to paths under `base_url`.
    pub fn new(client: Client, base_url: impl Into<String>) -> ApiClient {
        ApiClient {
            client,
            base_url: Arc::from(base_url.into()),
        }
    }

    /// The client requests are sent with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The base URL each path is joined to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A request with `method` to `path` joined to the base URL (one `/` between them).
    pub fn request(&self, method: Method, path: impl AsRef<str>) -> RequestBuilder {
        self.client
            .request(method, join_url(&self.base_url, path.as_ref()))
    }
}

/// Builds a [`client!`](crate::client!) type `T`: the macro's settings, then any set at run
/// time. `T::builder()` makes one.
///
/// ```
/// httpstack::client! {
///     struct Api { base_url: "http://127.0.0.1:1" }
/// }
///
/// let api = Api::builder()
///     .base_url("http://127.0.0.1:2/v2") // from configuration
///     .bearer_auth("s3cr3t")
///     .configure(|b| b.retries(1))
///     .build()?;
/// assert_eq!(api.base_url(), "http://127.0.0.1:2/v2");
/// # Ok::<(), httpstack::Error>(())
/// ```
#[must_use]
pub struct ApiBuilder<T> {
    client: ClientBuilder,
    base_url: String,
    make: fn(ApiClient) -> T,
}

impl<T> std::fmt::Debug for ApiBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiBuilder")
            .field("client", &self.client)
            .field(
                "base_url",
                &httpstack_middleware::error::redact(&self.base_url),
            )
            .finish()
    }
}

impl<T> ApiBuilder<T> {
    /// An empty builder (no base URL, the client's defaults) making `T` with `make`.
    pub fn new(make: fn(ApiClient) -> T) -> ApiBuilder<T> {
        ApiBuilder {
            client: Client::builder(),
            base_url: String::new(),
            make,
        }
    }

    /// Sets the base URL each path is joined to.
    pub fn base_url(mut self, base_url: impl Into<String>) -> ApiBuilder<T> {
        self.base_url = base_url.into();
        self
    }

    /// The base URL set so far.
    pub fn get_base_url(&self) -> &str {
        &self.base_url
    }

    /// Adds a header every request carries unless it sets the same header itself
    /// ([`ClientBuilder::default_header`]).
    pub fn header<K, V>(self, name: K, value: V) -> ApiBuilder<T>
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.configure(|b| b.default_header(name, value))
    }

    /// `Authorization: Bearer <token>` on every request (marked sensitive, so it is not
    /// printed); a request that sets `Authorization` itself sends its own instead.
    pub fn bearer_auth(self, token: impl std::fmt::Display) -> ApiBuilder<T> {
        self.header(http::header::AUTHORIZATION, format!("Bearer {token}"))
    }

    /// Any other client setting: `|builder| builder.read_timeout(..)`.
    pub fn configure(mut self, f: impl FnOnce(ClientBuilder) -> ClientBuilder) -> ApiBuilder<T> {
        self.client = f(self.client);
        self
    }

    /// Builds the client and the API type; fails on an invalid setting.
    pub fn build(self) -> Result<T, Error> {
        let client = self.client.build()?;
        Ok((self.make)(ApiClient::new(client, self.base_url)))
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
            ("", "http://h/x", "http://h/x"),
        ] {
            assert_eq!(join_url(base, path), expected, "{base} + {path}");
        }
    }
}
