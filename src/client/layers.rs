//! Composition of a client's stack: HTTP.jl's `pushlayer!`, `pushfirstlayer!`,
//! `poplayer!`, `popfirstlayer!` and stream layers, as [`ClientBuilder`] methods.
//!
//! The stack, outermost first (docs/design.md):
//!
//! ```text
//! Deadline (stamps the total `timeout`'s deadline on the request)
//! [push_layer layers: the last pushed runs first]
//! Redirect, Headers, Cookie, Retry, LogErrors
//! [push_first_layer layers: the last pushed runs last]
//! --- connection boundary ---
//! [push_stream_layer layers: the last pushed runs first]
//! Timeout, Status, Decompression, Transport
//! ```
//!
//! A layer is any `tower::Layer` over the client's boxed service
//! ([`ClientService`]): it sees `http::Request<Body>` with the request's options in its
//! extensions, and returns `http::Response<Body>` or an [`Error`]. A layer reads its own
//! per-request option the same way the built-in layers do — from a typed extension that
//! [`RequestBuilder::extension`](super::RequestBuilder::extension) puts on the request
//! (HTTP.jl's custom keyword arguments):
//!
//! ```
//! use httpstack::client::ClientService;
//! use httpstack::{Body, Client, Error};
//! use tower::ServiceExt;
//!
//! /// The per-request option (HTTP.jl: `authcreds=` keyword).
//! #[derive(Clone)]
//! struct AuthCreds(&'static str);
//!
//! let client = Client::builder()
//!     .push_layer(tower::layer::layer_fn(|inner: ClientService| {
//!         tower::service_fn(move |mut req: http::Request<Body>| {
//!             if let Some(AuthCreds(token)) = req.extensions().get::<AuthCreds>().cloned() {
//!                 let value = format!("Bearer {token}").parse().expect("a valid header value");
//!                 req.headers_mut().insert(http::header::AUTHORIZATION, value);
//!             }
//!             inner.clone().oneshot(req)
//!         })
//!     }))
//!     .build()?;
//! let _request = client.get("http://127.0.0.1:1/").extension(AuthCreds("s3cr3t"));
//! # Ok::<(), Error>(())
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use http::{Request, Response};
use httpstack_middleware::observe::ObserveLayer;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

use crate::{Body, Error};

/// The client's stack as one boxed service: what a layer pushed with
/// [`ClientBuilder::push_layer`] (and friends) wraps.
pub type ClientService = BoxCloneSyncService<Request<Body>, Response<Body>, Error>;

/// What [`ClientBuilder::push_layer`] and friends accept: any `tower::Layer` over
/// [`ClientService`] whose service answers `http::Response<Body>` or an [`Error`], and can
/// be cloned and shared between threads (as the client is).
pub trait ClientLayer: Send + Sync + 'static {
    /// Wraps `inner` in this layer, boxed back into a [`ClientService`].
    fn wrap(&self, inner: ClientService) -> ClientService;
}

impl<L> ClientLayer for L
where
    L: Layer<ClientService> + Send + Sync + 'static,
    L::Service: Service<Request<Body>, Response = Response<Body>, Error = Error>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as Service<Request<Body>>>::Future: Send + 'static,
{
    fn wrap(&self, inner: ClientService) -> ClientService {
        ClientService::new(self.layer(inner))
    }
}

/// A user layer, type-erased so a builder can hold any number of them.
#[derive(Clone)]
pub(crate) struct UserLayer {
    name: Cow<'static, str>,
    apply: Arc<dyn Fn(ClientService) -> ClientService + Send + Sync>,
}

impl std::fmt::Debug for UserLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl UserLayer {
    pub(crate) fn new<L: ClientLayer>(layer: L) -> UserLayer {
        // The short type name, e.g. `AuthLayer`, names the layer in observe_layers output.
        let full = std::any::type_name::<L>();
        let short = full.split('<').next().unwrap_or(full);
        let name = short.rsplit("::").next().unwrap_or(short).to_owned();
        UserLayer {
            name: Cow::Owned(name),
            apply: Arc::new(move |inner| layer.wrap(inner)),
        }
    }

    /// Wraps `inner` in this layer, observed under its name when `observe` is on.
    pub(crate) fn apply(&self, inner: ClientService, observe: bool) -> ClientService {
        let service = (self.apply)(inner);
        if observe {
            ClientService::new(ObserveLayer::new(self.name.clone()).layer(service))
        } else {
            service
        }
    }
}

/// The user's layers, by where they sit in the stack.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserLayers {
    /// `push_layer`: outside the built-in request layers; the last pushed runs first.
    pub(crate) outer: Vec<UserLayer>,
    /// `push_first_layer`: inside them, just above the connection boundary; the last
    /// pushed runs last.
    pub(crate) first: Vec<UserLayer>,
    /// `push_stream_layer`: below the connection boundary, above the timeout layer; the
    /// last pushed runs first.
    pub(crate) stream: Vec<UserLayer>,
}

impl UserLayers {
    pub(crate) fn is_empty(&self) -> bool {
        self.outer.is_empty() && self.first.is_empty() && self.stream.is_empty()
    }

    pub(crate) fn apply_stream(&self, mut s: ClientService, observe: bool) -> ClientService {
        for layer in &self.stream {
            s = layer.apply(s, observe);
        }
        s
    }

    pub(crate) fn apply_first(&self, mut s: ClientService, observe: bool) -> ClientService {
        for layer in self.first.iter().rev() {
            s = layer.apply(s, observe);
        }
        s
    }

    pub(crate) fn apply_outer(&self, mut s: ClientService, observe: bool) -> ClientService {
        for layer in &self.outer {
            s = layer.apply(s, observe);
        }
        s
    }
}

/// Boxes a built-in layer's service (observed as `name` when `observe` is on), mapping its
/// response body to [`Body`].
pub(crate) fn boxed<S, B>(service: S, name: &'static str, observe: bool) -> ClientService
where
    S: Service<Request<Body>, Response = Response<B>, Error = Error>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Into<bytes::Bytes>,
    B::Error: Into<crate::BoxError>,
{
    let service = service.map_response(|resp: Response<B>| resp.map(Body::wrap));
    if observe {
        ClientService::new(ObserveLayer::new(name).layer(service))
    } else {
        ClientService::new(service)
    }
}
