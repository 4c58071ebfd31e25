//! The responder: meets every new alert with the loaded playbooks, runs the automatic
//! ones at once, keeps the others pending for a person's approval, and records every
//! run and every change in the state store and the audit log (actor `playbook:ID` for
//! the changes a playbook makes, the person for approvals and rejections).

use crate::playbook::{Mode, Playbook, load_dir};
use crate::{Effects, Outbound, Outcome, Planned, execute, plan};
use haechi_access::{AccessStore, AuditEntry};
use haechi_event::{Alert, Timestamp};
use haechi_store::state::{AlertStore, IncidentChange, Run};
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The responder of a running server.
pub struct Responder {
    dir: Option<PathBuf>,
    playbooks: RwLock<Arc<Vec<Playbook>>>,
    /// The files that did not load at the last (re)load, with the reason.
    errors: RwLock<Vec<String>>,
    store: Arc<AlertStore>,
    access: Arc<AccessStore>,
    out: Outbound,
    /// Told each action's outcome (the binary counts them in its metrics).
    observer: Option<OutcomeObserver>,
}

/// Called with every action's outcome.
pub type OutcomeObserver = Arc<dyn Fn(&crate::Outcome) + Send + Sync>;

/// What a (re)load found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub playbooks: usize,
    pub errors: Vec<String>,
}

/// The state store and audit log as a playbook's hands.
struct StoreEffects<'a> {
    store: &'a AlertStore,
    access: &'a AccessStore,
    hub: Option<&'a haechi_intel::store::IntelStore>,
    actor: String,
}

impl StoreEffects<'_> {
    /// A change under an audit intent (`AccessStore::intend`): its record replaces the
    /// intent, a failed change drops it, and a crash leaves it for the next start to
    /// record as interrupted.
    fn audited<T>(
        &self,
        action: &str,
        target: &str,
        change: impl FnOnce() -> Result<(T, AuditEntry), String>,
    ) -> Result<T, String> {
        audited(self.access, &self.actor, action, target, change)
    }
}

/// [`StoreEffects::audited`] for any actor (approvals are a person's).
fn audited<T>(
    access: &AccessStore,
    actor: &str,
    action: &str,
    target: &str,
    change: impl FnOnce() -> Result<(T, AuditEntry), String>,
) -> Result<T, String> {
    let intent = access
        .intend(actor, action, target)
        .map_err(|e| e.to_string())?;
    match change() {
        Ok((value, entry)) => {
            access
                .audit_intended(intent, &[entry])
                .map_err(|e| e.to_string())?;
            Ok(value)
        }
        Err(e) => {
            let _ = access.drop_intent(intent);
            Err(e)
        }
    }
}

impl Effects for StoreEffects<'_> {
    fn block(
        &self,
        list: &str,
        value: &str,
        tenant: Option<&str>,
        reason: &str,
        expires_secs: Option<u64>,
    ) -> Result<String, String> {
        let expires =
            expires_secs.map(|s| Timestamp(Timestamp::now().0 + s as i64 * 1_000_000_000));
        let target = format!("blocklist:{list}:{value}");
        self.audited("blocklist.add", &target, || {
            let (before, after) = self
                .store
                .block(list, value, tenant, reason, &self.actor, expires)
                .map_err(|e| e.to_string())?;
            let entry = AuditEntry::new(
                &self.actor,
                "blocklist.add",
                format!("blocklist:{list}:{}", after.value),
            )
            .before(json!(before))
            .after(json!(after));
            Ok((format!("{} in block list {list}", after.value), entry))
        })
    }

    fn update_incident(
        &self,
        alert: i64,
        status: Option<&str>,
        note: Option<&str>,
    ) -> Result<String, String> {
        let incident = self
            .store
            .incident_of_alert(alert)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("alert {alert} belongs to no incident"))?;
        let change = IncidentChange {
            status: status.map(str::to_owned),
            ..Default::default()
        };
        let target = format!("incident:{incident}");
        self.audited("incident.update", &target, || {
            let (before, after) = self
                .store
                .update_incident(incident, None, &change)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("incident {incident} is gone"))?;
            if let Some(n) = note {
                self.store
                    .add_note(incident, None, &self.actor, n)
                    .map_err(|e| e.to_string())?;
            }
            let entry = AuditEntry::new(&self.actor, "incident.update", target.clone())
                .before(json!({"tenant": before.tenant, "status": before.status}))
                .after(json!({"tenant": after.tenant, "status": after.status, "note": note}));
            Ok((format!("incident {incident}: {}", after.status), entry))
        })
    }

    fn tag(&self, alert: i64, tags: &[String]) -> Result<String, String> {
        let target = format!("alert:{alert}");
        self.audited("alert.tag", &target, || {
            let (before, after) = self
                .store
                .add_tags(alert, tags)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("alert {alert} is gone"))?;
            let entry = AuditEntry::new(&self.actor, "alert.tag", target.clone())
                .before(json!({"tags": before}))
                .after(json!({"tags": after}));
            Ok((format!("alert {alert} tagged {}", tags.join(", ")), entry))
        })
    }

    fn publish(&self, alert: i64, collection: &str, tlp: &str) -> Result<String, String> {
        let hub = self
            .hub
            .ok_or("this server has no sharing hub: the incident was not published")?;
        let tlp = haechi_intel::Tlp::parse(tlp).ok_or_else(|| format!("tlp '{tlp}'"))?;
        let incident = self
            .store
            .incident_of_alert(alert)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("alert {alert} belongs to no incident"))?;
        let target = format!("incident:{incident}");
        let published = self.audited("incident.publish", &target, || {
            let published = crate::publish::publish_incident(
                self.store,
                hub,
                incident,
                collection,
                tlp,
                &self.actor,
            )?;
            let entry = AuditEntry::new(&self.actor, "incident.publish", target.clone())
                .after(json!(published));
            Ok((published, entry))
        })?;
        Ok(format!(
            "incident {incident}: {} objects in collection {} as TLP:{}",
            published.objects,
            published.collection,
            published.tlp.to_ascii_uppercase()
        ))
    }
}

impl Responder {
    /// A responder with the playbooks of `dir` (none without a directory).
    pub fn new(
        dir: Option<PathBuf>,
        store: Arc<AlertStore>,
        access: Arc<AccessStore>,
        out: Outbound,
    ) -> Result<(Responder, LoadReport), crate::RespondError> {
        let r = Responder {
            dir,
            playbooks: RwLock::new(Arc::new(Vec::new())),
            errors: RwLock::new(Vec::new()),
            store,
            access,
            out,
            observer: None,
        };
        let report = r.reload()?;
        Ok((r, report))
    }

    /// Tells `observer` every action's outcome.
    pub fn with_observer(mut self, observer: OutcomeObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Reads the playbook directory again; the valid playbooks replace the running set.
    pub fn reload(&self) -> Result<LoadReport, crate::RespondError> {
        let (good, bad) = match &self.dir {
            Some(d) => load_dir(d)?,
            None => (Vec::new(), Vec::new()),
        };
        let errors: Vec<String> = bad.iter().map(ToString::to_string).collect();
        let report = LoadReport {
            playbooks: good.len(),
            errors: errors.clone(),
        };
        *self.playbooks.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(good);
        *self.errors.write().unwrap_or_else(|e| e.into_inner()) = errors;
        Ok(report)
    }

    pub fn playbooks(&self) -> Arc<Vec<Playbook>> {
        self.playbooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn load_errors(&self) -> Vec<String> {
        self.errors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn effects(&self, playbook: &str) -> StoreEffects<'_> {
        StoreEffects {
            store: &self.store,
            access: &self.access,
            hub: self.out.hub.as_deref(),
            actor: format!("playbook:{playbook}"),
        }
    }

    /// Meets stored alerts (with their ids) with every enabled playbook.
    pub async fn on_alerts(&self, alerts: &[Alert]) {
        let playbooks = self.playbooks();
        for alert in alerts {
            for p in playbooks
                .iter()
                .filter(|p| p.enabled && p.trigger.matches(alert))
                .filter(|p| self.incident_matches(p, alert))
            {
                if let Err(e) = self.start(p, alert).await {
                    tracing::warn!(playbook = %p.id, alert = alert.id, "playbook run not recorded: {e}");
                }
            }
        }
    }

    /// Whether the alert's incident meets the playbook's incident conditions (true when
    /// it has none). The incident exists already: alerts are grouped as they are stored.
    fn incident_matches(&self, p: &Playbook, alert: &Alert) -> bool {
        let Some(condition) = &p.trigger.incident else {
            return true;
        };
        let incident = self
            .store
            .incident_of_alert(alert.id)
            .and_then(|id| match id {
                Some(id) => self.store.incident(id, None),
                None => Ok(None),
            });
        match incident {
            Ok(Some(detail)) => condition.matches(&detail.incident),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(playbook = %p.id, alert = alert.id, "incident not read: {e}");
                false
            }
        }
    }

    async fn start(&self, p: &Playbook, alert: &Alert) -> Result<(), String> {
        let planned = plan(p, alert);
        let (status, plan_json) = match &planned {
            Ok(actions) if p.mode == Mode::Approval => ("pending", json!(actions)),
            Ok(actions) => ("running", json!(actions)),
            Err(why) => ("failed", json!({ "error": why })),
        };
        let Some(id) = self
            .store
            .create_run(&p.id, alert.id, &alert.tenant, status, &plan_json)
            .map_err(|e| e.to_string())?
        else {
            return Ok(()); // this playbook already ran for this alert
        };
        self.audit_run(
            &format!("playbook:{}", p.id),
            "playbook.start",
            id,
            json!({"status": status, "alert": alert.id}),
        )?;
        if let (Ok(actions), "running") = (planned, status) {
            self.carry_out(id, &p.id, &actions).await?;
        }
        Ok(())
    }

    async fn carry_out(
        &self,
        run: i64,
        playbook: &str,
        actions: &[Planned],
    ) -> Result<Vec<Outcome>, String> {
        let outcomes = execute(actions, &self.effects(playbook), &self.out).await;
        if let Some(observe) = &self.observer {
            outcomes.iter().for_each(|o| observe(o));
        }
        let status = if outcomes.iter().all(|o| o.ok) {
            "done"
        } else {
            "failed"
        };
        self.store
            .finish_run(run, status, &json!(outcomes))
            .map_err(|e| e.to_string())?;
        self.audit_run(
            &format!("playbook:{playbook}"),
            "playbook.finish",
            run,
            json!({"status": status, "outcomes": outcomes}),
        )?;
        Ok(outcomes)
    }

    fn audit_run(
        &self,
        actor: &str,
        action: &str,
        run: i64,
        after: serde_json::Value,
    ) -> Result<(), String> {
        self.access
            .audit(&AuditEntry::new(actor, action, format!("playbook-run:{run}")).after(after))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// A person approves a pending run: it runs now, and its outcome is returned.
    /// `Err` when it is not pending (already decided, or unknown).
    pub async fn approve(&self, run: i64, person: &str) -> Result<Run, String> {
        let pending = self
            .store
            .run(run, None)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no playbook run {run}"))?;
        let target = format!("playbook-run:{run}");
        audited(&self.access, person, "playbook.approve", &target, || {
            if !self
                .store
                .transition_run(run, "pending", "running", Some(person))
                .map_err(|e| e.to_string())?
            {
                return Err(format!("run {run} is {}, not pending", pending.status));
            }
            let after = json!({"playbook": pending.playbook, "alert": pending.alert});
            Ok((
                (),
                AuditEntry::new(person, "playbook.approve", target.clone()).after(after),
            ))
        })?;
        let actions: Vec<Planned> = serde_json::from_value(pending.plan.clone())
            .map_err(|e| format!("the stored plan of run {run} is unreadable: {e}"))?;
        self.carry_out(run, &pending.playbook, &actions).await?;
        self.store
            .run(run, None)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("run {run} is gone"))
    }

    /// A person rejects a pending run: nothing is done.
    pub fn reject(&self, run: i64, person: &str) -> Result<Run, String> {
        let target = format!("playbook-run:{run}");
        audited(&self.access, person, "playbook.reject", &target, || {
            if !self
                .store
                .transition_run(run, "pending", "rejected", Some(person))
                .map_err(|e| e.to_string())?
            {
                return Err(format!("run {run} is not pending"));
            }
            self.store
                .finish_run(run, "rejected", &json!([]))
                .map_err(|e| e.to_string())?;
            let entry = AuditEntry::new(person, "playbook.reject", target.clone()).after(json!({}));
            Ok(((), entry))
        })?;
        self.store
            .run(run, None)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("run {run} is gone"))
    }
}
