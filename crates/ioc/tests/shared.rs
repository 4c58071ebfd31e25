//! Indicator sets are replaced while matching goes on: readers keep the set they loaded
//! for their batch and see the new one at their next load.

mod common;

use common::*;
use haechi_ioc::{FeedFormat, IndicatorSet, SharedIndicators};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn a_new_set_is_swapped_in_under_running_matchers() {
    let shared = Arc::new(SharedIndicators::new(Arc::new(IndicatorSet::empty())));
    let stop = Arc::new(AtomicBool::new(false));
    let probe = event(&[("dns.question.name", "c2.evil.com")]);

    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (shared, stop, probe) = (Arc::clone(&shared), Arc::clone(&stop), probe.clone());
            std::thread::spawn(move || {
                let (mut before, mut after) = (0u64, 0u64);
                let mut hits = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let set = shared.load(); // once per "batch"
                    for _ in 0..100 {
                        set.match_event(&probe, &mut hits);
                        if hits.is_empty() {
                            before += 1
                        } else {
                            after += 1
                        }
                    }
                }
                (before, after)
            })
        })
        .collect();

    std::thread::sleep(std::time::Duration::from_millis(20));
    let (new, _) = set_from(FeedFormat::Plain, "evil.com\n");
    let old = shared.replace(Arc::new(new));
    assert!(old.is_empty());
    std::thread::sleep(std::time::Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let (before, after) = worker.join().unwrap();
        assert!(
            before > 0 && after > 0,
            "saw both sets: {before} misses, {after} hits"
        );
    }
    assert_eq!(shared.load().len(), 1);
}
