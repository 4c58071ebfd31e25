//! Fair shares of the pipeline's queue: one flooding sender slows only itself.
//!
//! The queue between the listeners and the parsers is first come, first served; without
//! a share, an institution that floods fills it, and every other institution's records
//! wait behind the flood. [`FairShare`] gives each *source* (the institution when the
//! listener or the request fixes it, else the sender's address) at most `per_source`
//! records waiting in the queue or being parsed at once (a larger delivery takes the
//! whole share, alone). Records, not deliveries: what another institution waits behind
//! is the records ahead of it. A delivery holds its [`Slot`] until the pipeline has
//! stored it; a source at its share waits (HTTP and TCP: back-pressure on that sender
//! alone) or, for UDP, the datagram is dropped and counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A place in the queue, held by a delivery until it is processed.
pub type Slot = OwnedSemaphorePermit;

/// Sources remembered before idle ones are forgotten (UDP senders can be many).
const MAX_SOURCES: usize = 4096;

/// The per-source shares of the queue.
pub struct FairShare {
    per_source: usize,
    sources: Mutex<HashMap<Arc<str>, Arc<Semaphore>>>,
}

/// Who a delivery counts against: its institution, or else its sender's address.
pub fn source_key(tenant: Option<&str>, peer: Option<IpAddr>) -> Option<String> {
    tenant
        .map(str::to_owned)
        .or_else(|| peer.map(|p| format!("addr:{p}")))
}

impl FairShare {
    /// `per_source` records at most per source; 0 turns sharing off.
    pub fn new(per_source: usize) -> Arc<FairShare> {
        Arc::new(FairShare {
            per_source,
            sources: Mutex::default(),
        })
    }

    /// Waits until `source` has room for `records` in the queue. `None` when sharing is
    /// off.
    pub async fn acquire(&self, source: &str, records: usize) -> Option<Slot> {
        let semaphore = self.semaphore(source)?;
        semaphore
            .acquire_many_owned(self.permits(records))
            .await
            .ok()
    }

    /// Room for `records` of `source` now, or `Err` when it is at its share (`Ok(None)`:
    /// sharing off).
    pub fn try_acquire(&self, source: &str, records: usize) -> Result<Option<Slot>, AtShare> {
        match self.semaphore(source) {
            None => Ok(None),
            Some(s) => s
                .try_acquire_many_owned(self.permits(records))
                .map(Some)
                .map_err(|_| AtShare),
        }
    }

    /// A delivery larger than the share takes all of it.
    fn permits(&self, records: usize) -> u32 {
        records
            .clamp(1, self.per_source)
            .try_into()
            .unwrap_or(u32::MAX)
    }

    fn semaphore(&self, source: &str) -> Option<Arc<Semaphore>> {
        if self.per_source == 0 {
            return None;
        }
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sources.get(source) {
            return Some(s.clone());
        }
        if sources.len() >= MAX_SOURCES {
            // Forget the sources with nothing queued; their next delivery starts afresh.
            let full = self.per_source;
            sources.retain(|_, s| s.available_permits() < full);
        }
        let s = Arc::new(Semaphore::new(self.per_source.min(Semaphore::MAX_PERMITS)));
        sources.insert(Arc::from(source), s.clone());
        Some(s)
    }
}

/// A source already has its share of the queue.
#[derive(Debug)]
pub struct AtShare;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_source_at_its_share_waits_while_others_go_on() {
        let share = FairShare::new(1000);
        let a1 = share.acquire("flood", 600).await.expect("a slot");
        let a2 = share.acquire("flood", 400).await.expect("a slot");
        assert!(
            share.try_acquire("flood", 1).is_err(),
            "the flood is at its share"
        );
        let other = share
            .try_acquire("seoul", 900)
            .expect("room")
            .expect("a slot");
        drop(other);
        // A delivery larger than the share takes it whole, once the source's own are done.
        let waiting = tokio::spawn({
            let share = share.clone();
            async move { share.acquire("flood", 50_000).await.is_some() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(a1);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "600 of the 1,000 are free, not all");
        drop(a2);
        assert!(waiting.await.unwrap());
    }

    #[test]
    fn sharing_off_gives_no_slot_and_never_refuses() {
        let share = FairShare::new(0);
        for _ in 0..100 {
            assert!(share.try_acquire("flood", 10_000).unwrap().is_none());
        }
    }

    #[test]
    fn idle_sources_are_forgotten_when_too_many() {
        let share = FairShare::new(1);
        let busy = share.try_acquire("busy", 1).unwrap().unwrap();
        for i in 0..MAX_SOURCES + 10 {
            drop(share.try_acquire(&format!("addr:{i}"), 1).unwrap());
        }
        let known = share.sources.lock().unwrap().len();
        assert!(known <= MAX_SOURCES, "{known}");
        assert!(
            share.try_acquire("busy", 1).is_err(),
            "a source with deliveries queued is kept, with its share"
        );
        drop(busy);
    }

    #[test]
    fn the_source_is_the_tenant_or_else_the_address() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(
            source_key(Some("seoul"), Some(ip)).as_deref(),
            Some("seoul")
        );
        assert_eq!(
            source_key(None, Some(ip)).as_deref(),
            Some("addr:192.0.2.7")
        );
        assert_eq!(source_key(None, None), None);
    }
}
