//! [`SharedIndicators`]: the current indicator set, replaceable while events are matched.
//!
//! Sets are immutable, so updating the indicators means building a new set (on any thread,
//! taking as long as it takes, while matching goes on with the old one) and swapping it in
//! with [`SharedIndicators::replace`]. A matcher calls [`SharedIndicators::load`] once per
//! batch and matches the whole batch against the `Arc` it got: the lock is held only for
//! the few nanoseconds it takes to clone an `Arc`, never while matching, and the old set
//! is freed when the last batch using it is done.
//!
//! ```
//! use haechi_ioc::{IndicatorSet, IndicatorSetBuilder, SharedIndicators};
//! use std::sync::Arc;
//!
//! let shared = SharedIndicators::new(Arc::new(IndicatorSet::empty()));
//! // A worker, per batch:
//! let set = shared.load();
//! assert!(set.is_empty());
//! // A reloader, in the background:
//! let builder = IndicatorSetBuilder::default(); // ... load_feed(...) for each feed
//! let old = shared.replace(Arc::new(builder.build()));
//! assert!(Arc::ptr_eq(&old, &set));
//! ```

use crate::set::IndicatorSet;
use std::sync::{Arc, PoisonError, RwLock};

/// The current [`IndicatorSet`], shared by every matching thread.
#[derive(Debug)]
pub struct SharedIndicators {
    current: RwLock<Arc<IndicatorSet>>,
}

impl Default for SharedIndicators {
    fn default() -> Self {
        SharedIndicators::new(Arc::new(IndicatorSet::empty()))
    }
}

impl SharedIndicators {
    pub fn new(set: Arc<IndicatorSet>) -> Self {
        SharedIndicators {
            current: RwLock::new(set),
        }
    }

    /// The current set. Hold it for a batch, not for ever: a replaced set stays in memory
    /// while someone holds it.
    pub fn load(&self) -> Arc<IndicatorSet> {
        // A panic elsewhere cannot leave an `Arc` half-written: ignore poisoning.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Makes `set` the current set and returns the previous one.
    pub fn replace(&self, set: Arc<IndicatorSet>) -> Arc<IndicatorSet> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *current, set)
    }
}
