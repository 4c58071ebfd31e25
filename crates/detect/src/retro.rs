//! Retro-hunting: when indicators arrive, the events already stored are searched for them,
//! and every hit becomes an alert marked as retrospective.
//!
//! Two steps keep it fast and exact. [`candidate_queries`] turns the new indicators into
//! store queries over the very fields the live matcher reads ([`haechi_ioc::FIELDS`]):
//! a term per address, a CIDR range per network, the name and its subdomains per domain,
//! the host inside URL fields, the digest inside Sysmon's `Hashes` lists. The index
//! answers them without reading every event. Then [`retro_alerts`] runs the live matcher
//! itself over the candidates, so a retrospective alert means exactly what a live one
//! would have meant; candidates the matcher does not confirm are dropped.
//!
//! Alerts are those of [`crate::alert::indicator_alert`], with the tag `retrospective`,
//! `details.retrospective = true`, and a title that says so. An event stored without an
//! `event.id` is referred to by its time alone.

use crate::alert::indicator_alert;
use haechi_event::{Alert, Event, ecs};
use haechi_ioc::{FieldRole, IndicatorSet, IndicatorValue};
use haechi_query::{Glob, Predicate, Query};

/// The tag of a retrospective alert.
pub const RETRO_TAG: &str = "retrospective";

/// Field predicates per query: an OR of this many stays cheap for the index.
const TERMS_PER_QUERY: usize = 512;

/// The queries that find every stored event an indicator of `set` could match (and
/// some it does not: [`retro_alerts`] confirms).
pub fn candidate_queries(set: &IndicatorSet) -> Vec<Query> {
    let mut predicates = Vec::new();
    for (_, value, _) in set.iter() {
        add_predicates(&value, &mut predicates);
    }
    predicates
        .chunks(TERMS_PER_QUERY)
        .map(|chunk| Query::Or(chunk.to_vec()))
        .collect()
}

fn fields(role: FieldRole) -> impl Iterator<Item = &'static str> {
    haechi_ioc::FIELDS
        .iter()
        .filter(move |f| f.role == role)
        .map(|f| f.name)
}

fn on(field: &str, predicate: Predicate) -> Query {
    Query::Field {
        field: field.to_owned(),
        predicate,
    }
}

fn glob(pattern: &str) -> Option<Predicate> {
    Some(Predicate::Wildcard(Glob::new(pattern)))
}

fn add_predicates(value: &IndicatorValue, out: &mut Vec<Query>) {
    match value {
        IndicatorValue::Ip(ip) => {
            out.extend(fields(FieldRole::Ip).map(|f| on(f, Predicate::Term(ip.to_string()))));
            // A URL may carry the address as its host.
            out.extend(
                fields(FieldRole::Url).filter_map(|f| Some(on(f, glob(&format!("*{ip}*"))?))),
            );
        }
        IndicatorValue::IpPort(addr) => {
            out.extend(
                fields(FieldRole::Ip).map(|f| on(f, Predicate::Term(addr.ip().to_string()))),
            );
        }
        IndicatorValue::Cidr(network, prefix) => {
            out.extend(fields(FieldRole::Ip).map(|f| {
                on(
                    f,
                    Predicate::Cidr {
                        network: *network,
                        prefix: *prefix,
                    },
                )
            }));
        }
        IndicatorValue::Domain(name) => {
            for f in fields(FieldRole::Domain) {
                out.push(on(f, Predicate::Term(name.to_string())));
                if let Some(p) = glob(&format!("*.{name}")) {
                    out.push(on(f, p));
                }
            }
            out.extend(
                fields(FieldRole::Url).filter_map(|f| Some(on(f, glob(&format!("*{name}*"))?))),
            );
        }
        IndicatorValue::Url(url) => {
            out.extend(fields(FieldRole::Url).map(|f| on(f, Predicate::Term(url.to_string()))));
            if let Some(host) = url_host(url) {
                out.extend(
                    fields(FieldRole::Domain).map(|f| on(f, Predicate::Term(host.to_owned()))),
                );
                out.extend(
                    fields(FieldRole::Url).filter_map(|f| Some(on(f, glob(&format!("*{host}*"))?))),
                );
            }
        }
        IndicatorValue::Email(address) => {
            out.extend(
                fields(FieldRole::Email).map(|f| on(f, Predicate::Term(address.to_string()))),
            );
        }
        IndicatorValue::Md5(_) | IndicatorValue::Sha1(_) | IndicatorValue::Sha256(_) => {
            let hex = value.to_string();
            for f in fields(FieldRole::Hash) {
                out.push(on(f, Predicate::Term(hex.clone())));
                out.push(on(f, Predicate::Term(hex.to_ascii_uppercase())));
            }
            for f in fields(FieldRole::SysmonHashes) {
                for case in [hex.to_ascii_uppercase(), hex.clone()] {
                    if let Some(p) = glob(&format!("*{case}*")) {
                        out.push(on(f, p));
                    }
                }
            }
        }
    }
}

/// The host of a URL (`http://evil.example:8080/x` → `evil.example`).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// The retrospective alerts of `set` on stored events: the live matcher's hits, one per
/// indicator and event.
pub fn retro_alerts(set: &IndicatorSet, events: &[Event]) -> Vec<Alert> {
    let mut hits = Vec::new();
    let mut alerts = Vec::new();
    for event in events {
        set.match_event(event, &mut hits);
        hits.sort_by_key(|h| h.id);
        hits.dedup_by_key(|h| h.id);
        let id = event.get_str(ecs::EVENT_ID).unwrap_or_default();
        for hit in &hits {
            let mut alert = indicator_alert(hit, event, id);
            alert.rule_title = format!("Retro-hunt: {}", alert.rule_title);
            alert.tags.push(RETRO_TAG.to_owned());
            alert
                .details
                .insert("retrospective".into(), serde_json::Value::Bool(true));
            alerts.push(alert);
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::{Timestamp, Value};
    use haechi_ioc::{IndicatorMeta, IndicatorSetBuilder, Limits};

    fn set(values: &[&str]) -> IndicatorSet {
        let mut b = IndicatorSetBuilder::new(Limits::default());
        let meta = b.intern(IndicatorMeta::from_source("hub:shared".into()));
        for v in values {
            b.add(&IndicatorValue::detect(v).unwrap(), meta).unwrap();
        }
        b.build()
    }

    fn event(fields: &[(&str, &str)]) -> Event {
        let mut e = Event::new(Timestamp(1_700_000_000_000_000_000), "seoul".into(), 4);
        for (k, v) in fields {
            e.push((*k).to_owned(), Value::Str((*v).to_owned()));
        }
        e
    }

    #[test]
    fn candidates_cover_the_fields_the_matcher_reads() {
        let queries = candidate_queries(&set(&["203.0.113.66", "evil.example", "10.9.0.0/16"]));
        assert_eq!(queries.len(), 1);
        let Query::Or(parts) = &queries[0] else {
            panic!("an OR")
        };
        let has = |field: &str, p: &dyn Fn(&Predicate) -> bool| {
            parts.iter().any(
                |q| matches!(q, Query::Field { field: f, predicate } if f == field && p(predicate)),
            )
        };
        assert!(has("source.ip", &|p| *p
            == Predicate::Term("203.0.113.66".into())));
        assert!(has("dns.question.name", &|p| *p
            == Predicate::Term("evil.example".into())));
        assert!(has("dns.question.name", &|p| matches!(
            p,
            Predicate::Wildcard(_)
        )));
        assert!(has("destination.ip", &|p| matches!(
            p,
            Predicate::Cidr { prefix: 16, .. }
        )));
    }

    #[test]
    fn only_confirmed_hits_become_retrospective_alerts() {
        let set = set(&["evil.example", "203.0.113.66"]);
        let events = [
            event(&[
                ("dns.question.name", "cdn.evil.example"),
                ("event.id", "e1"),
            ]),
            // A candidate a wildcard would find, which the matcher does not confirm.
            event(&[("dns.question.name", "notevil.example")]),
            event(&[
                ("source.ip", "203.0.113.66"),
                ("destination.ip", "203.0.113.66"),
            ]),
        ];
        let alerts = retro_alerts(&set, &events);
        assert_eq!(alerts.len(), 2, "{alerts:?}");
        assert!(alerts.iter().all(|a| a.tags.iter().any(|t| t == RETRO_TAG)));
        assert!(alerts[0].rule_title.starts_with("Retro-hunt: "));
        assert_eq!(alerts[0].events[0].id, "e1");
        assert_eq!(alerts[0].details["retrospective"], true);
        assert_eq!(
            url_host("http://u:p@evil.example:8080/x"),
            Some("evil.example")
        );
    }
}
