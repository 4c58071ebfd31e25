//! Compiles a [`haechi_query::Query`] to a tantivy query over the partition schema.
//!
//! Each compiled query comes with `exact`: true when the index answers it exactly as
//! [`haechi_query::Query::matches`] would. Where the index can only narrow the candidates
//! (a CIDR on a field that is not an ECS IP field, a time range on a field other than
//! `@timestamp`), the compiled query is a superset and the store post-filters each
//! candidate with the reference evaluator, so answers never depend on the index.

use super::schema::{Fields, KW_SEP, exists_token, kw_token, to_v6};
use haechi_query::{Predicate, Query, Scalar, TEXT_FIELDS, TextPredicate, tokenize};
use std::net::IpAddr;
use std::ops::Bound;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DateTime, Term};

/// A compiled query and whether the index answers it exactly.
pub struct Compiled {
    pub query: Box<dyn TQuery>,
    pub exact: bool,
}

impl Compiled {
    fn exact(query: Box<dyn TQuery>) -> Self {
        Compiled { query, exact: true }
    }
    /// Every document: the index cannot narrow this predicate at all.
    fn scan() -> Self {
        Compiled {
            query: Box::new(AllQuery),
            exact: false,
        }
    }
}

/// Compiles `query`; tantivy errors (e.g. an unusable regex) become `Err` with the reason.
pub fn compile(fields: &Fields, query: &Query) -> Result<Compiled, String> {
    Ok(match query {
        Query::All => Compiled::exact(Box::new(AllQuery)),
        Query::And(parts) => combine(fields, parts, Occur::Must)?,
        Query::Or(parts) => combine(fields, parts, Occur::Should)?,
        Query::Not(inner) => {
            let inner = compile(fields, inner)?;
            if !inner.exact {
                // NOT of a superset would be a subset: let the post-filter decide.
                return Ok(Compiled::scan());
            }
            Compiled::exact(Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, inner.query),
            ])))
        }
        Query::Text(text) => {
            let parts = [fields.msg, fields.orig]
                .iter()
                .map(|f| text_query(*f, text))
                .collect::<Result<Vec<_>, _>>()?;
            Compiled::exact(Box::new(BooleanQuery::new(
                parts.into_iter().map(|q| (Occur::Should, q)).collect(),
            )))
        }
        Query::Field { field, predicate } => field_query(fields, field, predicate)?,
    })
}

fn combine(fields: &Fields, parts: &[Query], occur: Occur) -> Result<Compiled, String> {
    let mut exact = true;
    let mut clauses = Vec::with_capacity(parts.len());
    for p in parts {
        let c = compile(fields, p)?;
        exact &= c.exact;
        clauses.push((occur, c.query));
    }
    Ok(Compiled {
        query: Box::new(BooleanQuery::new(clauses)),
        exact,
    })
}

fn text_query(field: Field, text: &TextPredicate) -> Result<Box<dyn TQuery>, String> {
    match text {
        TextPredicate::Word(w) | TextPredicate::Phrase(w) => Ok(words_query(field, w)),
        TextPredicate::Wildcard(g) => Ok(Box::new(
            RegexQuery::from_pattern(&g.to_regex(), field).map_err(|e| e.to_string())?,
        )),
    }
}

/// A word or phrase over a text field, tokenized like the index.
fn words_query(field: Field, text: &str) -> Box<dyn TQuery> {
    let terms: Vec<Term> = tokenize(text)
        .map(|w| Term::from_field_text(field, &w))
        .collect();
    match terms.len() {
        0 => Box::new(AllQuery),
        1 => Box::new(TermQuery::new(
            terms
                .into_iter()
                .next()
                .unwrap_or_else(|| Term::from_field_text(field, "")),
            IndexRecordOption::Basic,
        )),
        _ => Box::new(PhraseQuery::new(terms)),
    }
}

fn field_query(fields: &Fields, field: &str, predicate: &Predicate) -> Result<Compiled, String> {
    if field == haechi_event::ecs::TIMESTAMP {
        return Ok(timestamp_query(fields, predicate));
    }
    if let Some(pos) = TEXT_FIELDS.iter().position(|f| *f == field) {
        let text_field = if pos == 0 { fields.msg } else { fields.orig };
        let text = match predicate {
            Predicate::Term(t) => TextPredicate::Word(t.clone()),
            Predicate::Phrase(p) => TextPredicate::Phrase(p.clone()),
            Predicate::Wildcard(g) => TextPredicate::Wildcard(g.clone()),
            Predicate::Exists => return Ok(Compiled::exact(kw_term(fields, &exists_token(field)))),
            _ => return Ok(candidates_with_field(fields, field)),
        };
        return Ok(Compiled::exact(text_query(text_field, &text)?));
    }
    if let Some(ip_field) = fields.ip_field(field)
        && let Some(q) = ip_query(ip_field, predicate)
    {
        return Ok(Compiled::exact(q));
    }
    Ok(match predicate {
        Predicate::Exists => Compiled::exact(has_field(fields, field)),
        Predicate::Term(t) | Predicate::Phrase(t) => {
            Compiled::exact(keyword_equals(fields, field, t))
        }
        Predicate::Wildcard(g) => {
            let pattern = format!(
                "{}{}",
                regex_literal(&format!("{}{KW_SEP}", field.to_lowercase())),
                g.to_regex()
            );
            Compiled::exact(Box::new(
                RegexQuery::from_pattern(&pattern, fields.kw).map_err(|e| e.to_string())?,
            ))
        }
        Predicate::Range { lower, upper } => range_query(fields, field, lower, upper),
        Predicate::Cidr { .. } => candidates_with_field(fields, field),
    })
}

/// Equality on a keyword field: the value as text, or as a number, or as an IP.
fn keyword_equals(fields: &Fields, field: &str, value: &str) -> Box<dyn TQuery> {
    let mut alternatives: Vec<(Occur, Box<dyn TQuery>)> =
        vec![(Occur::Should, kw_term(fields, &kw_token(field, value)))];
    if let Ok(ip) = value.parse::<IpAddr>()
        && ip.to_string() != value
    {
        alternatives.push((
            Occur::Should,
            kw_term(fields, &kw_token(field, &ip.to_string())),
        ));
    }
    if let Ok(n) = value.parse::<f64>()
        && n.is_finite()
    {
        let term = num_term(fields.num, field, n);
        alternatives.push((
            Occur::Should,
            Box::new(RangeQuery::new(
                Bound::Included(term.clone()),
                Bound::Included(term),
            )),
        ));
    }
    Box::new(BooleanQuery::new(alternatives))
}

/// Documents with any value of a keyword field: every `kw` term from `field\0` up to (not
/// including) `field\x01`. (Only text fields carry a separate presence token.)
fn has_field(fields: &Fields, field: &str) -> Box<dyn TQuery> {
    let lower = field.to_lowercase();
    let lo = Term::from_field_text(fields.kw, &format!("{lower}{KW_SEP}"));
    let hi = Term::from_field_text(fields.kw, &format!("{lower}\u{1}"));
    Box::new(tantivy::query::InvertedIndexRangeQuery::new(
        Bound::Included(lo),
        Bound::Excluded(hi),
    ))
}

fn kw_term(fields: &Fields, token: &str) -> Box<dyn TQuery> {
    // The `kw` analyzer lower-cases; so must the query side.
    Box::new(TermQuery::new(
        Term::from_field_text(fields.kw, &token.to_lowercase()),
        IndexRecordOption::Basic,
    ))
}

fn num_term(num: Field, path: &str, value: f64) -> Term {
    let mut term = Term::from_field_json_path(num, path, true);
    term.append_type_and_fast_value(value);
    term
}

fn ip_query(ip_field: Field, predicate: &Predicate) -> Option<Box<dyn TQuery>> {
    match predicate {
        Predicate::Term(t) | Predicate::Phrase(t) => {
            let ip: IpAddr = t.parse().ok()?;
            Some(Box::new(TermQuery::new(
                Term::from_field_ip_addr(ip_field, to_v6(ip)),
                IndexRecordOption::Basic,
            )))
        }
        Predicate::Cidr { network, prefix } => {
            let (lo, hi) = cidr_bounds(*network, *prefix);
            Some(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_ip_addr(ip_field, lo)),
                Bound::Included(Term::from_field_ip_addr(ip_field, hi)),
            )))
        }
        Predicate::Range { lower, upper } => {
            let ip_bound = |b: &Bound<Scalar>| -> Option<Bound<Term>> {
                Some(match b {
                    Bound::Included(Scalar::Ip(ip)) => {
                        Bound::Included(Term::from_field_ip_addr(ip_field, to_v6(*ip)))
                    }
                    Bound::Excluded(Scalar::Ip(ip)) => {
                        Bound::Excluded(Term::from_field_ip_addr(ip_field, to_v6(*ip)))
                    }
                    Bound::Unbounded => Bound::Unbounded,
                    _ => return None,
                })
            };
            let (lo, hi) = (ip_bound(lower)?, ip_bound(upper)?);
            if matches!((&lo, &hi), (Bound::Unbounded, Bound::Unbounded)) {
                return None;
            }
            Some(Box::new(RangeQuery::new(lo, hi)))
        }
        _ => None,
    }
}

/// The first and last address of a network, as tantivy's IPv6 form.
fn cidr_bounds(network: IpAddr, prefix: u8) -> (std::net::Ipv6Addr, std::net::Ipv6Addr) {
    match network {
        IpAddr::V4(v4) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix.min(32))
            };
            let lo = u32::from(v4) & mask;
            let hi = lo | !mask;
            (
                std::net::Ipv4Addr::from(lo).to_ipv6_mapped(),
                std::net::Ipv4Addr::from(hi).to_ipv6_mapped(),
            )
        }
        IpAddr::V6(v6) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix.min(128))
            };
            let lo = u128::from(v6) & mask;
            (lo.into(), (lo | !mask).into())
        }
    }
}

fn range_query(
    fields: &Fields,
    field: &str,
    lower: &Bound<Scalar>,
    upper: &Bound<Scalar>,
) -> Compiled {
    let all_numbers = [lower, upper].iter().all(|b| {
        matches!(
            b,
            Bound::Unbounded
                | Bound::Included(Scalar::Number(_))
                | Bound::Excluded(Scalar::Number(_))
        )
    });
    let all_text = [lower, upper].iter().all(|b| {
        matches!(
            b,
            Bound::Unbounded | Bound::Included(Scalar::Text(_)) | Bound::Excluded(Scalar::Text(_))
        )
    });
    let both_unbounded = matches!((lower, upper), (Bound::Unbounded, Bound::Unbounded));
    if both_unbounded {
        return Compiled::exact(has_field(fields, field));
    }
    if all_numbers {
        let to_term = |b: &Bound<Scalar>| match b {
            Bound::Included(Scalar::Number(n)) => Bound::Included(num_term(fields.num, field, *n)),
            Bound::Excluded(Scalar::Number(n)) => Bound::Excluded(num_term(fields.num, field, *n)),
            _ => Bound::Unbounded,
        };
        let (lo, hi) = (to_term(lower), to_term(upper));
        // tantivy needs one bound to know the field; an open side becomes ±infinity.
        let lo = if matches!(lo, Bound::Unbounded) {
            Bound::Included(num_term(fields.num, field, f64::NEG_INFINITY))
        } else {
            lo
        };
        let hi = if matches!(hi, Bound::Unbounded) {
            Bound::Included(num_term(fields.num, field, f64::INFINITY))
        } else {
            hi
        };
        return Compiled::exact(Box::new(RangeQuery::new(lo, hi)));
    }
    if all_text {
        let prefix = format!("{}{KW_SEP}", field.to_lowercase());
        let to_term = |b: &Bound<Scalar>| match b {
            Bound::Included(Scalar::Text(t)) => Bound::Included(Term::from_field_text(
                fields.kw,
                &format!("{prefix}{}", t.to_lowercase()),
            )),
            Bound::Excluded(Scalar::Text(t)) => Bound::Excluded(Term::from_field_text(
                fields.kw,
                &format!("{prefix}{}", t.to_lowercase()),
            )),
            _ => Bound::Unbounded,
        };
        let lo = match to_term(lower) {
            Bound::Unbounded => Bound::Included(Term::from_field_text(fields.kw, &prefix)),
            b => b,
        };
        let hi = match to_term(upper) {
            Bound::Unbounded => Bound::Excluded(Term::from_field_text(
                fields.kw,
                &format!("{}{}", field.to_lowercase(), '\u{1}'),
            )),
            b => b,
        };
        return Compiled::exact(Box::new(tantivy::query::InvertedIndexRangeQuery::new(
            lo, hi,
        )));
    }
    candidates_with_field(fields, field)
}

/// Documents that have the field; the post-filter decides the rest.
fn candidates_with_field(fields: &Fields, field: &str) -> Compiled {
    Compiled {
        query: if TEXT_FIELDS.contains(&field) {
            kw_term(fields, &exists_token(field))
        } else {
            has_field(fields, field)
        },
        exact: false,
    }
}

fn timestamp_query(fields: &Fields, predicate: &Predicate) -> Compiled {
    match predicate {
        Predicate::Exists => Compiled::exact(Box::new(AllQuery)),
        Predicate::Range { lower, upper } => {
            let to_term = |b: &Bound<Scalar>| -> Option<Bound<Term>> {
                let t = |s: &Scalar| match s {
                    Scalar::Time(t) => Some(*t),
                    Scalar::Number(n) => Some(haechi_event::Timestamp((*n * 1e9) as i64)),
                    Scalar::Text(t) => haechi_query::parse_time(t),
                    Scalar::Ip(_) => None,
                };
                Some(match b {
                    Bound::Included(s) => Bound::Included(date_term(fields.ts, t(s)?)),
                    Bound::Excluded(s) => Bound::Excluded(date_term(fields.ts, t(s)?)),
                    Bound::Unbounded => Bound::Unbounded,
                })
            };
            match (to_term(lower), to_term(upper)) {
                (Some(Bound::Unbounded), Some(Bound::Unbounded)) => {
                    Compiled::exact(Box::new(AllQuery))
                }
                (Some(lo), Some(hi)) => Compiled::exact(time_range(fields, lo, hi)),
                _ => Compiled::exact(Box::new(EmptyQuery)),
            }
        }
        Predicate::Term(t) | Predicate::Phrase(t) => match haechi_query::parse_time(t) {
            Some(ts) => Compiled::exact(Box::new(TermQuery::new(
                date_term(fields.ts, ts),
                IndexRecordOption::Basic,
            ))),
            None => Compiled::exact(Box::new(EmptyQuery)),
        },
        Predicate::Wildcard(_) | Predicate::Cidr { .. } => Compiled::scan(),
    }
}

/// A range on `ts`, with open sides closed at the ends of time (tantivy needs a field).
pub fn time_range(fields: &Fields, lo: Bound<Term>, hi: Bound<Term>) -> Box<dyn TQuery> {
    let lo = if matches!(lo, Bound::Unbounded) {
        Bound::Included(date_term(fields.ts, haechi_event::Timestamp(i64::MIN)))
    } else {
        lo
    };
    let hi = if matches!(hi, Bound::Unbounded) {
        Bound::Included(date_term(fields.ts, haechi_event::Timestamp(i64::MAX)))
    } else {
        hi
    };
    Box::new(RangeQuery::new(lo, hi))
}

pub fn date_term(ts_field: Field, t: haechi_event::Timestamp) -> Term {
    Term::from_field_date(ts_field, DateTime::from_timestamp_nanos(t.nanos()))
}

/// Escapes text for a regex, by code point, so that any byte of a field name is literal.
fn regex_literal(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c.to_string()
            } else {
                format!("\\x{{{:x}}}", c as u32)
            }
        })
        .collect()
}
