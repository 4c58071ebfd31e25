//! How fast people acted on a drill, per officer, from the audit log: the time from an
//! alert's recording to the first triage of it (acknowledge, assign or close: whoever did
//! it first), and for each incident holding the drill's alerts, the time from its first
//! drill alert's recording to the first move out of `new` (taken up) and to the first
//! move into `containment` or later (responded). Computed when the report is asked for,
//! so officers' actions after the run count.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One audited change, as the audit log keeps it.
#[derive(Debug, Clone)]
pub struct Acted {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// For `incident.update`: the status after the change.
    pub status: Option<String>,
}

/// An incident that holds alerts of the drill.
#[derive(Debug, Clone)]
pub struct DrillIncident {
    pub id: i64,
    pub alert_ids: Vec<i64>,
}

/// One officer's (or playbook's) reaction times on the drill.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OfficerTimes {
    pub actor: String,
    /// Alerts this actor was the first to triage.
    pub acknowledged: usize,
    pub median_time_to_acknowledge_s: Option<f64>,
    /// Incidents this actor took up (moved out of `new`) first.
    pub incidents_taken: usize,
    pub median_time_to_take_s: Option<f64>,
    /// Incidents this actor moved into response (`containment` or later) first.
    pub responded: usize,
    pub median_time_to_respond_s: Option<f64>,
}

/// Statuses that mean the response has begun.
const RESPONDING: [&str; 4] = ["containment", "eradication", "recovery", "closed"];

/// The times per actor, by actor name. `alerts`: the drill's alerts as (id, recorded at
/// in milliseconds); `acted`: the audit records (any order).
pub fn officer_times(
    alerts: &[(i64, i64)],
    incidents: &[DrillIncident],
    acted: &[Acted],
) -> Vec<OfficerTimes> {
    let mut acted: Vec<&Acted> = acted.iter().collect();
    acted.sort_by_key(|a| a.time_ms);
    let recorded: HashMap<i64, i64> = alerts.iter().copied().collect();
    let mut first_by_target: HashMap<&str, &Acted> = HashMap::new();
    for a in &acted {
        if a.action.starts_with("alert.") {
            first_by_target.entry(a.target.as_str()).or_insert(a);
        }
    }
    let mut times: BTreeMap<&str, [Vec<f64>; 3]> = BTreeMap::new();
    let seconds = |from_ms: i64, to_ms: i64| (to_ms - from_ms).max(0) as f64 / 1000.0;
    for (id, at) in alerts {
        if let Some(a) = first_by_target.get(format!("alert:{id}").as_str()) {
            times.entry(&a.actor).or_default()[0].push(seconds(*at, a.time_ms));
        }
    }
    for incident in incidents {
        let Some(start) = incident
            .alert_ids
            .iter()
            .filter_map(|id| recorded.get(id))
            .min()
        else {
            continue;
        };
        let target = format!("incident:{}", incident.id);
        let updates: Vec<&&Acted> = acted
            .iter()
            .filter(|a| a.action == "incident.update" && a.target == target && a.time_ms >= *start)
            .collect();
        let taken = updates
            .iter()
            .find(|a| a.status.as_deref().is_some_and(|s| s != "new"));
        let responded = updates
            .iter()
            .find(|a| a.status.as_deref().is_some_and(|s| RESPONDING.contains(&s)));
        for (slot, found) in [(1, taken), (2, responded)] {
            if let Some(a) = found {
                times.entry(&a.actor).or_default()[slot].push(seconds(*start, a.time_ms));
            }
        }
    }
    times
        .into_iter()
        .map(|(actor, [ack, take, respond])| OfficerTimes {
            actor: actor.to_owned(),
            acknowledged: ack.len(),
            median_time_to_acknowledge_s: median(ack),
            incidents_taken: take.len(),
            median_time_to_take_s: median(take),
            responded: respond.len(),
            median_time_to_respond_s: median(respond),
        })
        .collect()
}

/// The median, `None` for no values.
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acted(time_ms: i64, actor: &str, action: &str, target: &str, status: Option<&str>) -> Acted {
        Acted {
            time_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            status: status.map(str::to_owned),
        }
    }

    #[test]
    fn the_first_to_act_is_credited_with_the_time_from_the_recording() {
        let alerts = [(1, 10_000), (2, 12_000), (3, 20_000)];
        let incidents = [DrillIncident {
            id: 7,
            alert_ids: vec![1, 2],
        }];
        let log = [
            acted(13_000, "kim", "alert.acknowledge", "alert:1", None),
            // Later triage of the same alert by someone else does not count.
            acted(14_000, "lee", "alert.close", "alert:1", None),
            acted(16_000, "lee", "alert.assign", "alert:2", None),
            acted(
                30_000,
                "kim",
                "incident.update",
                "incident:7",
                Some("triage"),
            ),
            acted(
                70_000,
                "lee",
                "incident.update",
                "incident:7",
                Some("containment"),
            ),
            // Another incident's change is not this drill's.
            acted(
                71_000,
                "kim",
                "incident.update",
                "incident:8",
                Some("closed"),
            ),
        ];
        let t = officer_times(&alerts, &incidents, &log);
        assert_eq!(t.len(), 2);
        let kim = &t[0];
        assert_eq!(
            (
                kim.actor.as_str(),
                kim.acknowledged,
                kim.median_time_to_acknowledge_s
            ),
            ("kim", 1, Some(3.0))
        );
        assert_eq!(
            (kim.incidents_taken, kim.median_time_to_take_s),
            (1, Some(20.0))
        );
        assert_eq!((kim.responded, kim.median_time_to_respond_s), (0, None));
        let lee = &t[1];
        assert_eq!(
            (lee.acknowledged, lee.median_time_to_acknowledge_s),
            (1, Some(4.0))
        );
        assert_eq!(
            (lee.responded, lee.median_time_to_respond_s),
            (1, Some(60.0))
        );
    }

    #[test]
    fn nobody_acted_means_no_officer() {
        assert!(officer_times(&[(1, 0)], &[], &[]).is_empty());
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), Some(2.5));
    }
}
