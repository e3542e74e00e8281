use std::borrow::Cow;

use tower::Layer;

use super::Observe;

/// Wraps a service in [`Observe`] under a name.
///
/// ```
/// use httpstack_middleware::observe::{LayerTimings, ObserveLayer};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let svc = ServiceBuilder::new()
///     .layer(ObserveLayer::new("backend"))
///     .service(service_fn(|_req: http::Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(()))
///     }));
/// let resp = svc.oneshot(http::Request::new(())).await.unwrap();
/// let timings = resp.extensions().get::<LayerTimings>().unwrap();
/// assert_eq!(timings.get("backend").unwrap().count, 1);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ObserveLayer {
    name: Cow<'static, str>,
}

impl ObserveLayer {
    /// Observes the wrapped service as `name`.
    pub fn new(name: impl Into<Cow<'static, str>>) -> ObserveLayer {
        ObserveLayer { name: name.into() }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe::new(inner, self.name.clone())
    }
}
