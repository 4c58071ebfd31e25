//! The query language compiled to a ClickHouse `WHERE` condition.
//!
//! The contract is the embedded compiler's: a condition is either *exact* (it selects
//! precisely the events [`Query::matches`] accepts) or a superset that the store then
//! post-filters with `Query::matches`. Only functions ClickHouse 18.16 already had are
//! used (`arrayExists` with lambdas over parallel arrays, `has`, `hasAll`, `match`,
//! `lowerUTF8`, comparisons on `FixedString(16)`), so the same SQL runs on 18.16 and on
//! current servers.

use super::row::{FLAG_HAS_IP, TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_MASK, TAG_STR, ip_bytes};
use haechi_event::{Timestamp, ecs};
use haechi_query::{Glob, Predicate, Query, Scalar, TEXT_FIELDS, TextPredicate, tokenize};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Bound;

/// A compiled condition and whether it is exact.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub sql: String,
    pub exact: bool,
}

impl Condition {
    fn exact(sql: String) -> Self {
        Condition { sql, exact: true }
    }
    fn superset(sql: String) -> Self {
        Condition { sql, exact: false }
    }
    fn all() -> Self {
        Condition::exact("1".into())
    }
}

/// Compiles `query`.
pub fn compile(query: &Query) -> Condition {
    match query {
        Query::All => Condition::all(),
        Query::And(parts) => combine(parts, " AND "),
        Query::Or(parts) => combine(parts, " OR "),
        Query::Not(inner) => {
            let inner = compile(inner);
            if inner.exact {
                Condition::exact(format!("NOT ({})", inner.sql))
            } else {
                // NOT of a superset would be a subset: let the post-filter decide.
                Condition::superset("1".into())
            }
        }
        Query::Text(text) => {
            let parts: Vec<Condition> = ["mw", "ow"].iter().map(|c| words(c, text)).collect();
            Condition {
                exact: parts.iter().all(|p| p.exact),
                sql: format!("({} OR {})", parts[0].sql, parts[1].sql),
            }
        }
        Query::Field { field, predicate } => field_condition(field, predicate),
    }
}

fn combine(parts: &[Query], op: &str) -> Condition {
    let compiled: Vec<Condition> = parts.iter().map(compile).collect();
    Condition {
        exact: compiled.iter().all(|c| c.exact),
        sql: format!(
            "({})",
            compiled
                .iter()
                .map(|c| c.sql.as_str())
                .collect::<Vec<_>>()
                .join(op)
        ),
    }
}

/// A word, phrase or wildcard over one words column (`mw` or `ow`).
fn words(column: &str, text: &TextPredicate) -> Condition {
    match text {
        TextPredicate::Word(w) | TextPredicate::Phrase(w) => {
            let words: Vec<String> = tokenize(w).collect();
            match words.len() {
                0 => Condition::all(),
                1 => Condition::exact(format!("has({column}, {})", lit(&words[0]))),
                // The words are there; whether next to each other is for the post-filter.
                _ => Condition::superset(format!("hasAll({column}, {})", array_lit(&words))),
            }
        }
        TextPredicate::Wildcard(g) => Condition::exact(format!(
            "arrayExists(w -> match(w, {}), {column})",
            lit(&anchored(g))
        )),
    }
}

fn field_condition(field: &str, predicate: &Predicate) -> Condition {
    if field == ecs::TIMESTAMP {
        return timestamp_condition(predicate);
    }
    if field == ecs::ORGANIZATION_ID {
        return org_condition(predicate);
    }
    if let Some(pos) = TEXT_FIELDS.iter().position(|f| *f == field) {
        let column = if pos == 0 { "mw" } else { "ow" };
        let text = match predicate {
            Predicate::Term(t) => TextPredicate::Word(t.clone()),
            Predicate::Phrase(p) => TextPredicate::Phrase(p.clone()),
            Predicate::Wildcard(g) => TextPredicate::Wildcard(g.clone()),
            Predicate::Exists => return Condition::exact(format!("has(fk, {})", lit(field))),
            _ => return Condition::superset(format!("has(fk, {})", lit(field))),
        };
        return words(column, &text);
    }
    let key = lit(field);
    match predicate {
        Predicate::Exists => Condition::exact(format!("has(fk, {key})")),
        Predicate::Term(t) | Predicate::Phrase(t) => equals(field, &key, t),
        Predicate::Wildcard(g) => Condition::exact(format!(
            "arrayExists((k, v) -> k = {key} AND match(lowerUTF8(v), {}), fk, fv)",
            lit(&anchored(g))
        )),
        Predicate::Cidr { network, prefix } => {
            let (lo, hi) = cidr_bounds(*network, *prefix);
            Condition::exact(ip_between(field, &key, &lo, &hi))
        }
        Predicate::Range { lower, upper } => range(&key, lower, upper),
    }
}

/// Equality as `Query::matches` means it: IPs as IPs, numbers as numbers, other text
/// case-insensitively.
fn equals(field: &str, key: &str, term: &str) -> Condition {
    if let Ok(ip) = term.parse::<IpAddr>() {
        let b = ip_bytes(ip);
        let hot = hot_prefilter(field, |c| format!("{c} = {}", fixed16(&b)));
        return Condition::exact(format!(
            "({hot}arrayExists((k, t, i) -> k = {key} AND bitAnd(t, {FLAG_HAS_IP}) != 0 AND i = {}, fk, ft, fip))",
            fixed16(&b)
        ));
    }
    let lower = term.to_lowercase();
    let mut alternatives = vec![format!(
        "(bitAnd(t, {TAG_MASK}) IN ({TAG_STR}, {TAG_BOOL}) AND lowerUTF8(v) = {})",
        lit(&lower)
    )];
    let number = term
        .parse::<i64>()
        .map(|i| i as f64)
        .ok()
        .or_else(|| term.parse::<f64>().ok().filter(|x| x.is_finite()));
    if let Some(x) = number {
        alternatives.push(format!(
            "(bitAnd(t, {TAG_MASK}) IN ({TAG_INT}, {TAG_FLOAT}) AND n = {})",
            float_lit(x)
        ));
    }
    Condition {
        sql: format!(
            "arrayExists((k, v, t, n) -> k = {key} AND ({}), fk, fv, ft, fnum)",
            alternatives.join(" OR ")
        ),
        // `lowerUTF8` and Rust's `to_lowercase` agree on ASCII; elsewhere post-filter.
        exact: term.is_ascii(),
    }
}

/// The narrow column that holds an ECS IP field's single value, if it has one.
fn hot_ip_column(field: &str) -> Option<&'static str> {
    match field {
        ecs::SOURCE_IP => Some("source_ip"),
        ecs::DESTINATION_IP => Some("destination_ip"),
        _ => None,
    }
}

fn ip_between(field: &str, key: &str, lo: &[u8; 16], hi: &[u8; 16]) -> String {
    let hot = hot_prefilter(field, |c| {
        format!("{c} >= {} AND {c} <= {}", fixed16(lo), fixed16(hi))
    });
    format!(
        "({hot}arrayExists((k, t, i) -> k = {key} AND bitAnd(t, {FLAG_HAS_IP}) != 0 AND i >= {} AND i <= {}, fk, ft, fip))",
        fixed16(lo),
        fixed16(hi)
    )
}

/// `(<test on the hot column> OR <column empty>) AND ` for a field with a hot IP column:
/// the column holds the field's value whenever the field has exactly one, so an event it
/// rejects cannot match, and ClickHouse reads the narrow column first. Empty otherwise.
fn hot_prefilter(field: &str, test: impl Fn(&str) -> String) -> String {
    match hot_ip_column(field) {
        Some(c) => format!("({} OR {c} = {}) AND ", test(c), fixed16(&[0; 16])),
        None => String::new(),
    }
}

/// The first and last address of a network, as stored (IPv4 mapped into IPv6).
fn cidr_bounds(network: IpAddr, prefix: u8) -> ([u8; 16], [u8; 16]) {
    let (bits, base) = match network {
        IpAddr::V4(v4) => (
            u32::from(prefix.min(32)) + 96,
            u128::from_be_bytes(ip_bytes(IpAddr::V4(v4))),
        ),
        IpAddr::V6(v6) => (u32::from(prefix.min(128)), u128::from(v6)),
    };
    let host_mask = if bits >= 128 { 0 } else { u128::MAX >> bits };
    let lo = base & !host_mask;
    let hi = lo | host_mask;
    (lo.to_be_bytes(), hi.to_be_bytes())
}

fn range(key: &str, lower: &Bound<Scalar>, upper: &Bound<Scalar>) -> Condition {
    let scalar = match (lower, upper) {
        (Bound::Included(s) | Bound::Excluded(s), _)
        | (_, Bound::Included(s) | Bound::Excluded(s)) => s,
        _ => return Condition::exact(format!("has(fk, {key})")),
    };
    let mut tests: Vec<String> = Vec::new();
    match scalar {
        Scalar::Number(_) => {
            for (bound, is_lower) in [(lower, true), (upper, false)] {
                if let Some(t) = bound_sql("n", bound, is_lower, |s| match s {
                    Scalar::Number(x) => Some(float_lit(*x)),
                    _ => None,
                }) {
                    tests.push(t);
                }
            }
            Condition::exact(format!(
                "arrayExists((k, n) -> k = {key}{}, fk, fnum)",
                and_all(&tests)
            ))
        }
        Scalar::Ip(ip) => {
            // Same family only, as `Query::matches` compares.
            let (family_lo, family_hi) = if ip.is_ipv4() {
                cidr_bounds(IpAddr::V4(0.into()), 0)
            } else {
                ([0; 16], [0xff; 16])
            };
            tests.push(format!("i >= {}", fixed16(&family_lo)));
            tests.push(format!("i <= {}", fixed16(&family_hi)));
            if ip.is_ipv6() {
                // IPv4-mapped addresses are IPv4 values.
                tests.push(format!(
                    "NOT (i >= {} AND i <= {})",
                    fixed16(&cidr_bounds(IpAddr::V4(0.into()), 0).0),
                    fixed16(&cidr_bounds(IpAddr::V4(0.into()), 0).1)
                ));
            }
            for (bound, is_lower) in [(lower, true), (upper, false)] {
                if let Some(t) = bound_sql("i", bound, is_lower, |s| match s {
                    Scalar::Ip(ip) => Some(fixed16(&ip_bytes(*ip))),
                    _ => None,
                }) {
                    tests.push(t);
                }
            }
            Condition::exact(format!(
                "arrayExists((k, t, i) -> k = {key} AND bitAnd(t, {FLAG_HAS_IP}) != 0{}, fk, ft, fip)",
                and_all(&tests)
            ))
        }
        Scalar::Text(_) => {
            for (bound, is_lower) in [(lower, true), (upper, false)] {
                if let Some(t) = bound_sql("lowerUTF8(v)", bound, is_lower, |s| match s {
                    Scalar::Text(t) => Some(lit(&t.to_lowercase())),
                    _ => None,
                }) {
                    tests.push(t);
                }
            }
            Condition {
                sql: format!(
                    "arrayExists((k, v) -> k = {key}{}, fk, fv)",
                    and_all(&tests)
                ),
                exact: matches!(
                    lower,
                    Bound::Unbounded
                        | Bound::Included(Scalar::Text(_))
                        | Bound::Excluded(Scalar::Text(_))
                ) && matches!(
                    upper,
                    Bound::Unbounded
                        | Bound::Included(Scalar::Text(_))
                        | Bound::Excluded(Scalar::Text(_))
                ),
            }
        }
        // Times in values are text or epoch seconds: the post-filter reads them.
        Scalar::Time(_) => Condition::superset(format!("has(fk, {key})")),
    }
}

fn and_all(tests: &[String]) -> String {
    tests.iter().map(|t| format!(" AND {t}")).collect()
}

/// `x >= v` / `x > v` / `x <= v` / `x < v` for a bound, if it is of the expected kind.
fn bound_sql(
    x: &str,
    bound: &Bound<Scalar>,
    is_lower: bool,
    value: impl Fn(&Scalar) -> Option<String>,
) -> Option<String> {
    let (s, inclusive) = match bound {
        Bound::Unbounded => return None,
        Bound::Included(s) => (s, true),
        Bound::Excluded(s) => (s, false),
    };
    // A bound of another kind never holds (Query::matches compares nothing with it).
    let Some(v) = value(s) else {
        return Some("0".into());
    };
    let op = match (is_lower, inclusive) {
        (true, true) => ">=",
        (true, false) => ">",
        (false, true) => "<=",
        (false, false) => "<",
    };
    Some(format!("{x} {op} {v}"))
}

fn timestamp_condition(predicate: &Predicate) -> Condition {
    match predicate {
        Predicate::Exists => Condition::all(),
        Predicate::Range { lower, upper } => {
            let mut tests = Vec::new();
            for (bound, is_lower) in [(lower, true), (upper, false)] {
                let (s, inclusive) = match bound {
                    Bound::Unbounded => continue,
                    Bound::Included(s) => (s, true),
                    Bound::Excluded(s) => (s, false),
                };
                let Some(t) = scalar_time(s) else {
                    return Condition::exact("0".into());
                };
                let op = match (is_lower, inclusive) {
                    (true, true) => ">=",
                    (true, false) => ">",
                    (false, true) => "<=",
                    (false, false) => "<",
                };
                tests.push(format!("ts {op} {}", t.0));
            }
            if tests.is_empty() {
                Condition::all()
            } else {
                Condition::exact(format!("({})", tests.join(" AND ")))
            }
        }
        Predicate::Term(t) | Predicate::Phrase(t) => match haechi_query::parse_time(t) {
            Some(ts) => Condition::exact(format!("ts = {}", ts.0)),
            None => Condition::exact("0".into()),
        },
        Predicate::Wildcard(_) => Condition::superset("1".into()),
        Predicate::Cidr { .. } => Condition::exact("0".into()),
    }
}

fn scalar_time(s: &Scalar) -> Option<Timestamp> {
    match s {
        Scalar::Time(t) => Some(*t),
        Scalar::Number(n) => Some(Timestamp((*n * 1e9) as i64)),
        Scalar::Text(t) => haechi_query::parse_time(t),
        Scalar::Ip(_) => None,
    }
}

fn org_condition(predicate: &Predicate) -> Condition {
    match predicate {
        Predicate::Exists => Condition::all(),
        Predicate::Term(t) | Predicate::Phrase(t) => Condition {
            sql: format!("lowerUTF8(org) = {}", lit(&t.to_lowercase())),
            exact: t.is_ascii(),
        },
        Predicate::Wildcard(g) => {
            Condition::exact(format!("match(lowerUTF8(org), {})", lit(&anchored(g))))
        }
        _ => Condition::superset("1".into()),
    }
}

/// The whole-value regular expression of a wildcard (re2 syntax, as `match` reads it).
fn anchored(g: &Glob) -> String {
    format!("^{}$", g.to_regex())
}

/// A string literal: quotes and backslashes escaped, NUL written as `\0`.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn array_lit(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ")
    )
}

/// Sixteen bytes as a `FixedString(16)` value.
pub fn fixed16(b: &[u8; 16]) -> String {
    let mut hex = String::with_capacity(32);
    for x in b {
        let _ = write!(hex, "{x:02x}");
    }
    format!("unhex('{hex}')")
}

/// A float literal ClickHouse reads back as the same `Float64`.
fn float_lit(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}.0", x as i64)
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(q: &str) -> Condition {
        compile(&haechi_query::parse(q).unwrap())
    }

    #[test]
    fn literals_are_escaped() {
        assert_eq!(lit("a'b\\c\0"), "'a\\'b\\\\c\\0'");
    }

    #[test]
    fn cidr_bounds_cover_the_network() {
        let (lo, hi) = cidr_bounds("10.0.1.0".parse().unwrap(), 24);
        assert_eq!(super::super::row::ip_from_bytes(lo).to_string(), "10.0.1.0");
        assert_eq!(
            super::super::row::ip_from_bytes(hi).to_string(),
            "10.0.1.255"
        );
        let (lo, hi) = cidr_bounds("2001:db8::".parse().unwrap(), 32);
        assert_eq!(
            super::super::row::ip_from_bytes(lo).to_string(),
            "2001:db8::"
        );
        assert_eq!(
            super::super::row::ip_from_bytes(hi).to_string(),
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
        );
    }

    #[test]
    fn exactness_follows_what_sql_can_decide() {
        assert!(sql("user.name:admin").exact);
        assert!(sql("failed").exact);
        assert!(!sql("\"invalid user\"").exact, "phrases are post-filtered");
        assert!(!sql("NOT \"invalid user\"").exact);
        assert!(sql("destination.port:[80 TO 443]").exact);
        assert!(sql("source.ip:10.0.0.0/8").exact);
        assert!(sql("source.ip:10.0.0.0/8").sql.contains("source_ip >="));
    }
}
