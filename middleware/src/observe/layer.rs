use std::borrow::Cow;

use tower::Layer;

use super::Observe;

/// Wraps a service in [`Observe`] under a name.
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
