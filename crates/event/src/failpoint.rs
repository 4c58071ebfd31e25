//! Fault injection for the crash tests: `HAECHI_FAILPOINT=NAME:N` makes the process abort
//! (no clean-up, as a crash would) the N-th time it reaches the point `NAME`. Unset, or
//! naming another point: nothing happens. The points:
//!
//! * `abort-after-append` — `haechi serve` stored a batch and has neither recorded its
//!   alerts nor answered its sender;
//! * `abort-before-audit` — a person's change is applied and its audit record not yet
//!   written.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static CONFIGURED: OnceLock<Option<(String, u64)>> = OnceLock::new();
static REACHED: AtomicU64 = AtomicU64::new(0);

/// Aborts the process if `HAECHI_FAILPOINT` names `point` and this is its N-th time.
pub fn hit(point: &str) {
    let configured = CONFIGURED.get_or_init(|| {
        let value = std::env::var("HAECHI_FAILPOINT").ok()?;
        let (name, n) = value.rsplit_once(':')?;
        Some((name.to_owned(), n.parse().ok()?))
    });
    if let Some((name, n)) = configured
        && name == point
        && REACHED.fetch_add(1, Ordering::SeqCst) + 1 == *n
    {
        eprintln!("HAECHI_FAILPOINT: aborting at {point} ({n})");
        std::process::abort();
    }
}
