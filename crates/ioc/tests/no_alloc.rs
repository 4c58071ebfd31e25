//! Matching an event allocates nothing when nothing matches (the hot path of every
//! worker), and only for the hits when something does. Counted with a global allocator
//! that tallies allocations per thread.

mod common;

use common::*;
use haechi_ioc::FeedFormat;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn matching_allocates_only_for_hits() {
    let (set, _) = set_from(
        FeedFormat::Plain,
        "evil.com\n10.0.0.0/8\n192.0.2.1\n192.0.2.2:443\nhttp://evil.org/x\nbad@evil.com\n\
         d41d8cd98f00b204e9800998ecf8427e\n2001:db8::/32\n",
    );
    let quiet = event(&[
        ("source.ip", "198.51.100.1"),
        ("source.port", "51234"),
        ("destination.ip", "203.0.113.9"),
        ("destination.port", "443"),
        ("related.ip", "2001:db9::1"),
        ("dns.question.name", "www.example.com"),
        ("url.original", "https://www.example.com/index.html?q=1"),
        ("email.from.address", "someone@example.com"),
        ("file.hash.md5", "0cc175b9c0f1b6a831c399e269772661"),
        (
            "Event.EventData.Hashes",
            "MD5=0CC175B9C0F1B6A831C399E269772661,IMPHASH=00",
        ),
        ("message", "nothing to see"),
    ]);
    let loud = event(&[
        ("destination.ip", "10.1.1.1"),
        ("dns.question.name", "a.evil.com"),
    ]);
    let mut hits = Vec::with_capacity(16);
    set.match_event(&quiet, &mut hits); // warm-up: lazy statics
    set.match_event(&loud, &mut hits);

    let before = allocations();
    for _ in 0..100 {
        set.match_event(&quiet, &mut hits);
    }
    assert_eq!(
        allocations() - before,
        0,
        "no allocation for events without hits"
    );
    assert!(hits.is_empty());

    let before = allocations();
    set.match_event(&loud, &mut hits);
    let per_hit_event = allocations() - before;
    assert_eq!(hits.len(), 2);
    assert_eq!(
        per_hit_event, 4,
        "two strings per hit (indicator, matched value)"
    );
}
