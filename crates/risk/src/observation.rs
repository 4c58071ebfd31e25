//! Observations: the little the risk index needs from an alert.

pub use haechi_event::alert::{attacker_of, is_local_address};
use haechi_event::{Alert, AlertSource, Level, Timestamp};
use serde::{Deserialize, Serialize};

/// One alert, reduced to what the risk index uses.
///
/// `time` is a [`Timestamp`] (UTC nanoseconds since the epoch, serialized as RFC 3339).
/// A merged alert (`count` > 1 over `[first_seen, last_seen]`) is attributed as a whole
/// to its `last_seen`: the store rewrites a merged alert as it grows, so its last time is
/// the only one that moves forward with it, and attributing to it keeps recomputation of
/// recent buckets correct; the cost is that a long-running merged alert weighs on one
/// bucket (damped by the `log2(1 + count)` effective count, see the crate essay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub tenant: String,
    pub time: Timestamp,
    pub kind: AlertSource,
    pub level: Level,
    /// Detections merged into the alert (≥ 1).
    pub count: u32,
    /// A value that could be seen at other institutions: the source IP, the indicator,
    /// the scored domain name.
    pub attacker: Option<String>,
    /// A model's probability (model alerts only).
    pub score: Option<f32>,
}

impl Observation {
    /// The observation for `alert`, at its `last_seen`, with its count (clamped to
    /// `1..=u32::MAX`), the [`attacker_of`] value and, for model alerts,
    /// `details.probability` as the score.
    pub fn from_alert(alert: &Alert) -> Observation {
        let score = match alert.source {
            AlertSource::Model => alert
                .details
                .get("probability")
                .and_then(|v| v.as_f64())
                .map(|p| p as f32),
            _ => None,
        };
        Observation {
            tenant: alert.tenant.clone(),
            time: alert.time(),
            kind: alert.source,
            level: alert.level,
            count: alert.count.clamp(1, u32::MAX as u64) as u32,
            attacker: attacker_of(alert),
            score,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(source: AlertSource, entity: &str, details: serde_json::Value) -> Alert {
        Alert {
            id: 0,
            tenant: "city".into(),
            source,
            rule_id: "r".into(),
            rule_title: "t".into(),
            level: Level::High,
            author: None,
            status: None,
            references: vec![],
            tags: vec![],
            entity: entity.into(),
            first_seen: Timestamp(1),
            last_seen: Timestamp(5),
            count: 3,
            events: vec![],
            details: details.as_object().unwrap().clone(),
            stored: Timestamp(0),
            triage: Default::default(),
        }
    }

    #[test]
    fn attackers_come_from_what_each_source_carries() {
        let a = alert(
            AlertSource::Indicator,
            "host.name=ws1",
            json!({"indicator": "Evil.COM", "matched": "www.evil.com"}),
        );
        let o = Observation::from_alert(&a);
        assert_eq!(o.attacker.as_deref(), Some("evil.com"));
        assert_eq!((o.time, o.count, o.score), (Timestamp(5), 3, None));

        let a = alert(
            AlertSource::Sigma,
            "host.name=ws1",
            json!({"matched": {"source.ip": "203.0.113.9", "user.name": "bob"}}),
        );
        assert_eq!(attacker_of(&a).as_deref(), Some("203.0.113.9"));

        let a = alert(
            AlertSource::Correlation,
            "source.ip=198.51.100.7",
            json!({"correlation": {"kind": "event_count", "group": [["user.name", "x"], ["source.ip", "198.51.100.8"]], "value": 5.0, "timespan_secs": 60}}),
        );
        assert_eq!(attacker_of(&a).as_deref(), Some("198.51.100.8"));

        let a = alert(AlertSource::Sigma, "source.ip=198.51.100.7", json!({}));
        assert_eq!(attacker_of(&a).as_deref(), Some("198.51.100.7"));

        let a = alert(
            AlertSource::Model,
            "dns.question.name=qxkz.biz",
            json!({"model": "domains", "name": "QXKZ.biz", "probability": 0.97}),
        );
        let o = Observation::from_alert(&a);
        assert_eq!(o.attacker.as_deref(), Some("qxkz.biz"));
        assert_eq!(o.score, Some(0.97));

        let a = alert(AlertSource::Sigma, "host.name=ws1", json!({}));
        assert_eq!(attacker_of(&a), None);
    }

    #[test]
    fn local_addresses() {
        for a in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.1.1",
            "::1",
            "fe80::1",
            "fd00::5",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_local_address(a), "{a}");
        }
        for a in ["8.8.8.8", "2001:4860::8888", "evil.com", "100.128.0.1"] {
            assert!(!is_local_address(a), "{a}");
        }
    }
}
