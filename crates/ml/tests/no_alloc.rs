//! `DomainModel::score` must not allocate (it runs once per DNS event).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use haechi_ml::{DomainModel, FeatureConfig, Sample, TrainConfig};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted: only the scoring loop's, not those
    /// the test harness makes on its own threads meanwhile (which made the count flaky).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTED.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn score_does_not_allocate() {
    let samples: Vec<Sample> = (0..200)
        .map(|i| Sample {
            domain: if i % 2 == 0 {
                format!("shop{i}.com")
            } else {
                format!("q{i}xzkvw{i}.net")
            },
            is_dga: i % 2 == 1,
        })
        .collect();
    let cfg = TrainConfig {
        features: FeatureConfig {
            hash_bits: 12,
            ..FeatureConfig::default()
        },
        ..TrainConfig::default()
    };
    let model = DomainModel::train(&samples, &cfg);
    let long = "z".repeat(600);
    let names = ["www.Example.COM.", "xjwqkzrvbtyphq.co.uk", "", &long];
    let before = ALLOCS.load(Ordering::SeqCst);
    COUNTED.with(|c| c.set(true));
    let mut sum = 0.0;
    for _ in 0..100 {
        for n in &names {
            sum += model.score(n);
        }
    }
    COUNTED.with(|c| c.set(false));
    let after = ALLOCS.load(Ordering::SeqCst);
    assert!(sum.is_finite());
    assert_eq!(after - before, 0, "score allocated");
}
