//! The reference semantics: a query evaluated on one event.

use crate::text::{TEXT_FIELDS, contains_phrase, tokenize};
use crate::{Predicate, Query, Scalar, TextPredicate};
use haechi_event::{Event, Timestamp, Value, ecs, parse_rfc3339};
use std::cmp::Ordering;
use std::net::IpAddr;
use std::ops::Bound;

impl Query {
    /// True when `event` satisfies the query.
    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Query::All => true,
            Query::And(parts) => parts.iter().all(|q| q.matches(event)),
            Query::Or(parts) => parts.iter().any(|q| q.matches(event)),
            Query::Not(inner) => !inner.matches(event),
            Query::Text(text) => TEXT_FIELDS
                .iter()
                .any(|f| field_values(event, f).any(|v| text_matches(&v.as_text(), text))),
            Query::Field { field, predicate } => field_matches(event, field, predicate),
        }
    }
}

/// The values of a field; `@timestamp` and `organization.id` are part of every event.
fn field_values<'a>(event: &'a Event, name: &'a str) -> Box<dyn Iterator<Item = Value> + 'a> {
    match name {
        ecs::TIMESTAMP => Box::new(std::iter::once(Value::Str(event.timestamp.to_rfc3339()))),
        ecs::ORGANIZATION_ID => Box::new(std::iter::once(Value::Str(event.tenant.to_string()))),
        _ => Box::new(
            event
                .fields
                .iter()
                .filter(move |(n, _)| n == name)
                .flat_map(|(_, v)| v.scalars().cloned()),
        ),
    }
}

fn field_matches(event: &Event, field: &str, predicate: &Predicate) -> bool {
    if field == ecs::TIMESTAMP {
        return timestamp_matches(event.timestamp, predicate);
    }
    let is_text = TEXT_FIELDS.contains(&field);
    match predicate {
        Predicate::Exists => field_values(event, field).next().is_some(),
        Predicate::Term(t) if is_text => field_values(event, field)
            .any(|v| text_matches(&v.as_text(), &TextPredicate::Word(t.clone()))),
        Predicate::Phrase(p) if is_text => field_values(event, field)
            .any(|v| text_matches(&v.as_text(), &TextPredicate::Phrase(p.clone()))),
        Predicate::Wildcard(g) if is_text => field_values(event, field)
            .any(|v| text_matches(&v.as_text(), &TextPredicate::Wildcard(g.clone()))),
        Predicate::Term(t) | Predicate::Phrase(t) => {
            field_values(event, field).any(|v| value_equals(&v, t))
        }
        Predicate::Wildcard(g) => field_values(event, field).any(|v| g.matches(&v.as_text())),
        Predicate::Cidr { network, prefix } => field_values(event, field)
            .any(|v| v.as_ip().is_some_and(|ip| in_cidr(ip, *network, *prefix))),
        Predicate::Range { lower, upper } => {
            field_values(event, field).any(|v| in_range(&v, lower, upper))
        }
    }
}

fn timestamp_matches(ts: Timestamp, predicate: &Predicate) -> bool {
    match predicate {
        Predicate::Exists => true,
        Predicate::Range { lower, upper } => {
            let as_time = |b: &Bound<Scalar>| match b {
                Bound::Included(s) => scalar_time(s).map(Bound::Included),
                Bound::Excluded(s) => scalar_time(s).map(Bound::Excluded),
                Bound::Unbounded => Some(Bound::Unbounded),
            };
            match (as_time(lower), as_time(upper)) {
                (Some(lo), Some(hi)) => {
                    bound_ok(ts.cmp(&bound_value(&lo, ts)), &lo, true)
                        && bound_ok(ts.cmp(&bound_value(&hi, ts)), &hi, false)
                }
                _ => false,
            }
        }
        Predicate::Term(t) | Predicate::Phrase(t) => crate::parse_time(t) == Some(ts),
        Predicate::Wildcard(g) => g.matches(&ts.to_rfc3339()),
        Predicate::Cidr { .. } => false,
    }
}

fn bound_value(b: &Bound<Timestamp>, fallback: Timestamp) -> Timestamp {
    match b {
        Bound::Included(t) | Bound::Excluded(t) => *t,
        Bound::Unbounded => fallback,
    }
}

/// Is `ord` (value compared to the bound) acceptable for a lower (`is_lower`) or upper bound?
fn bound_ok<T>(ord: Ordering, bound: &Bound<T>, is_lower: bool) -> bool {
    match bound {
        Bound::Unbounded => true,
        Bound::Included(_) => {
            ord != if is_lower {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        Bound::Excluded(_) => {
            ord == if is_lower {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

fn scalar_time(s: &Scalar) -> Option<Timestamp> {
    match s {
        Scalar::Time(t) => Some(*t),
        Scalar::Number(n) => Some(Timestamp((*n * 1e9) as i64)),
        Scalar::Text(t) => crate::parse_time(t),
        Scalar::Ip(_) => None,
    }
}

fn text_matches(text: &str, predicate: &TextPredicate) -> bool {
    match predicate {
        TextPredicate::Word(w) | TextPredicate::Phrase(w) => {
            let words: Vec<String> = tokenize(w).collect();
            contains_phrase(text, &words)
        }
        TextPredicate::Wildcard(g) => tokenize(text).any(|w| g.matches(&w)),
    }
}

/// Equality as a person means it: IPs as IPs, numbers as numbers, text case-insensitively.
fn value_equals(value: &Value, term: &str) -> bool {
    match value {
        Value::Ip(ip) => term.parse::<IpAddr>().is_ok_and(|t| t == *ip),
        Value::Int(i) => term
            .parse::<i64>()
            .map(|t| t == *i)
            .unwrap_or_else(|_| term.parse::<f64>().is_ok_and(|t| t == *i as f64)),
        Value::Float(x) => term.parse::<f64>().is_ok_and(|t| t == *x),
        Value::Bool(b) => term.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Str(s) => {
            s.eq_ignore_ascii_case(term)
                || (!s.is_ascii() && s.to_lowercase() == term.to_lowercase())
                || (s
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| term.parse::<IpAddr>() == Ok(ip)))
        }
        Value::List(items) => items.iter().any(|v| value_equals(v, term)),
    }
}

/// True when `ip` lies inside `network/prefix` (same address family only).
pub fn in_cidr(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix.min(32))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix.min(128))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn in_range(value: &Value, lower: &Bound<Scalar>, upper: &Bound<Scalar>) -> bool {
    let check = |bound: &Bound<Scalar>, is_lower: bool| -> bool {
        let s = match bound {
            Bound::Unbounded => return true,
            Bound::Included(s) | Bound::Excluded(s) => s,
        };
        let ord = match s {
            Scalar::Number(n) => value.as_f64().and_then(|v| v.partial_cmp(n)),
            Scalar::Ip(ip) => value
                .as_ip()
                .filter(|v| v.is_ipv4() == ip.is_ipv4())
                .map(|v| v.cmp(ip)),
            Scalar::Time(t) => value_time(value).map(|v| v.cmp(t)),
            Scalar::Text(t) => Some(
                value
                    .as_text()
                    .to_lowercase()
                    .as_str()
                    .cmp(t.to_lowercase().as_str()),
            ),
        };
        ord.is_some_and(|o| bound_ok(o, bound, is_lower))
    };
    check(lower, true) && check(upper, false)
}

fn value_time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Str(s) => parse_rfc3339(s),
        Value::Int(i) => Some(Timestamp(i.saturating_mul(1_000_000_000))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;
    use haechi_event::{Event, Timestamp, Value, parse_rfc3339};

    fn event() -> Event {
        let mut e = Event::new(
            parse_rfc3339("2024-05-01T10:00:00Z").unwrap(),
            "seoul".into(),
            8,
        );
        e.push("source.ip", Value::Ip("10.20.30.40".parse().unwrap()));
        e.push("destination.port", 22i64);
        e.push("user.name", "Administrator");
        e.push(
            "message",
            "Failed password for invalid user admin from 10.20.30.40 port 4242 ssh2",
        );
        e.push("tags", Value::List(vec!["ssh".into(), "bruteforce".into()]));
        e
    }

    fn hit(q: &str) -> bool {
        parse(q).unwrap().matches(&event())
    }

    #[test]
    fn terms_ips_and_cidrs() {
        assert!(hit("source.ip:10.20.30.40"));
        assert!(hit("source.ip:10.0.0.0/8"));
        assert!(!hit("source.ip:192.168.0.0/16"));
        assert!(
            hit("user.name:administrator"),
            "keyword match is case-insensitive"
        );
        assert!(hit("tags:bruteforce"), "any element of a list matches");
        assert!(hit("organization.id:seoul"));
    }

    #[test]
    fn ranges_on_numbers_and_time() {
        assert!(hit("destination.port:[1 TO 1024]"));
        assert!(!hit("destination.port:>22"));
        assert!(hit("destination.port:>=22"));
        assert!(hit("@timestamp:[2024-05-01 TO 2024-05-02]"));
        assert!(!hit("@timestamp:<2024-05-01T10:00:00Z"));
    }

    #[test]
    fn text_words_phrases_and_wildcards() {
        assert!(hit("failed"));
        assert!(hit("\"invalid user admin\""));
        assert!(!hit("\"user invalid\""));
        assert!(hit("pass*"));
        assert!(hit("message:ssh2"));
        assert!(
            hit("10.20.30.40"),
            "an IP in free text is a phrase of its parts"
        );
    }

    #[test]
    fn boolean_logic_and_exists() {
        assert!(hit("failed AND NOT user.name:root"));
        assert!(hit(
            "(user.name:root OR user.name:admin*) AND destination.port:22"
        ));
        assert!(!hit("-failed"));
        assert!(hit("_exists_:user.name"));
        assert!(!hit("process.name:*"));
        assert!(hit("user.name:admin*"));
        assert!(!hit("user.name:adm"));
    }

    #[test]
    fn empty_query_matches_everything() {
        let mut e = Event::new(Timestamp(0), "x".into(), 0);
        e.push("a", 1i64);
        assert!(parse("").unwrap().matches(&e));
    }
}
