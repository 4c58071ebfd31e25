//! Changes by people, audited so that none goes unrecorded although the change and the
//! audit log live in different databases: [`Intent::begin`] records the intent durably
//! before the change; [`Intent::record`] writes the change's record and drops the intent
//! in one transaction. An intent dropped without a record (the change was refused or
//! failed) is removed; one left by a crash becomes, at the next start, the record of an
//! interrupted change (`AccessStore::recover_intents`).

use crate::{AppState, blocking};
use axum::response::Response;
use haechi_access::{AccessStore, AuditEntry};
use std::sync::Arc;

/// A person's change under way.
pub(crate) struct Intent {
    access: Arc<AccessStore>,
    id: Option<i64>,
}

impl Intent {
    /// Records that `actor` begins `action` on `target`.
    pub(crate) async fn begin(
        state: &AppState,
        actor: &str,
        action: &str,
        target: &str,
    ) -> Result<Intent, Response> {
        let access = state.access.clone();
        let (a, act, t) = (actor.to_owned(), action.to_owned(), target.to_owned());
        let id = blocking(move || access.intend(&a, &act, &t)).await?;
        Ok(Intent {
            access: state.access.clone(),
            id: Some(id),
        })
    }

    /// Writes the change's audit record in place of the intent.
    pub(crate) async fn record(self, entry: AuditEntry) -> Result<(), Response> {
        self.record_all(vec![entry]).await
    }

    /// Writes the change's audit records (one per object changed) in place of the intent.
    pub(crate) async fn record_all(mut self, entries: Vec<AuditEntry>) -> Result<(), Response> {
        let Some(id) = self.id.take() else {
            return Ok(());
        };
        haechi_event::failpoint::hit("abort-before-audit");
        let access = self.access.clone();
        blocking(move || access.audit_intended(id, &entries))
            .await
            .map(drop)
    }
}

impl Drop for Intent {
    /// The change did not happen: nothing to record.
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let access = self.access.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn_blocking(move || {
                    let _ = access.drop_intent(id);
                });
            } else {
                let _ = access.drop_intent(id);
            }
        }
    }
}
