//! The record [`Observe`](super::Observe) writes into.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What one layer cost over a whole exchange, retries and redirects included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTiming {
    /// The layer's name, as given to [`ObserveLayer::new`](super::ObserveLayer::new).
    pub name: Cow<'static, str>,
    /// Total time spent in the layer and everything below it.
    pub duration: Duration,
    /// How many times the layer ran.
    pub count: u32,
}

/// Per-layer timings of one exchange, shared by every layer that observes it (clones share
/// the record). Found in the request's extensions while it runs and in the response's
/// extensions afterwards.
#[derive(Clone, Debug, Default)]
pub struct LayerTimings {
    layers: Arc<Mutex<Vec<LayerTiming>>>,
}

impl LayerTimings {
    /// An empty record.
    pub fn new() -> LayerTimings {
        LayerTimings::default()
    }

    /// The figures of the layer called `name`, if it ran.
    pub fn get(&self, name: &str) -> Option<LayerTiming> {
        self.lock().iter().find(|t| t.name == name).cloned()
    }

    /// Every layer that ran, in the order each first ran (outermost first).
    pub fn layers(&self) -> Vec<LayerTiming> {
        self.lock().clone()
    }

    // `&Cow`, not `&str`: a first entry clones the Cow, which for a `&'static str` name
    // (every built-in layer) does not allocate.
    #[allow(clippy::ptr_arg)]
    pub(crate) fn record(&self, name: &Cow<'static, str>, elapsed: Duration) {
        let mut layers = self.lock();
        match layers.iter_mut().find(|t| t.name == *name) {
            Some(t) => {
                t.duration += elapsed;
                t.count += 1;
            }
            None => layers.push(LayerTiming {
                name: name.clone(),
                duration: elapsed,
                count: 1,
            }),
        }
    }

    /// Slot order follows first entry, so reserve a layer's place when it is entered
    /// (outer layers enter first but finish last).
    #[allow(clippy::ptr_arg)]
    pub(crate) fn enter(&self, name: &Cow<'static, str>) {
        let mut layers = self.lock();
        if !layers.iter().any(|t| t.name == *name) {
            layers.push(LayerTiming {
                name: name.clone(),
                duration: Duration::ZERO,
                count: 0,
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LayerTiming>> {
        // A panic while holding the lock leaves plain numbers behind: still usable.
        self.layers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
