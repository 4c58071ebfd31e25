//! # The query language
//!
//! One language for every place a person searches events: `haechi search`, the API and the
//! console. It reads like Lucene/Kibana queries:
//!
//! | query | matches events where |
//! |---|---|
//! | `source.ip:10.1.2.3` | a field equals a value (case-insensitive; IPs and numbers compare as such) |
//! | `source.ip:10.0.0.0/8` | an IP field lies in a CIDR range |
//! | `user.name:adm*` / `host.name:web-?1` | a wildcard matches the whole value (`*` any run, `?` one character, `\` escapes) |
//! | `destination.port:[1 TO 1024]`, `{…}`, `>=500`, `<10` | a number, time or string lies in a range |
//! | `@timestamp:>=2024-01-01T00:00:00Z` | times compare as instants |
//! | `message:"failed password"` | the text fields (`message`, `event.original`) contain a phrase |
//! | `failed`, `"invalid user"`, `pass*` | free text: a word, phrase or word pattern in the message |
//! | `_exists_:user.name` or `user.name:*` | the field is present |
//! | `a AND b`, `a OR b`, `NOT a`, `-a`, `( … )` | boolean logic; juxtaposition means AND |
//!
//! [`parse`] turns text into a [`Query`] tree; [`Query::matches`] evaluates it on one
//! [`haechi_event::Event`] — the reference semantics. Store backends compile the same tree
//! to their engine (the embedded store to tantivy queries, ClickHouse to SQL) and may use
//! [`Query::matches`] to post-filter where their index is only approximate, so every
//! backend gives the same answers.

mod eval;
mod glob;
mod parse;
mod text;

pub use eval::in_cidr;
pub use glob::Glob;
pub use parse::{MAX_QUERY_LEN, ParseError, parse, parse_time};
pub use text::{TEXT_FIELDS, tokenize};

use haechi_event::Timestamp;
use std::net::IpAddr;
use std::ops::Bound;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every event (the empty query, `*`).
    All,
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    /// A predicate on one named field.
    Field {
        field: String,
        predicate: Predicate,
    },
    /// Free text over the text fields ([`TEXT_FIELDS`]).
    Text(TextPredicate),
}

/// What a field must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Equality. On text fields: contains this word (or all of these words in sequence).
    Term(String),
    /// On text fields a phrase; on other fields the whole value, spaces included.
    Phrase(String),
    /// The whole value matches the pattern (on text fields: one word does).
    Wildcard(Glob),
    /// The value lies between the bounds.
    Range {
        lower: Bound<Scalar>,
        upper: Bound<Scalar>,
    },
    /// The value is an IP address inside the network.
    Cidr { network: IpAddr, prefix: u8 },
    /// The field is present.
    Exists,
}

/// Free-text predicates over the message.
#[derive(Debug, Clone, PartialEq)]
pub enum TextPredicate {
    /// One word (a term with several words, like `10.0.0.1`, means that phrase).
    Word(String),
    Phrase(String),
    Wildcard(Glob),
}

/// A range bound, typed by how it reads: a number, a time, an IP address, or text.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Number(f64),
    Time(Timestamp),
    Ip(IpAddr),
    Text(String),
}

impl Query {
    /// Combines queries with AND, flattening and dropping `All`.
    pub fn and(parts: Vec<Query>) -> Query {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                Query::All => {}
                Query::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Query::All,
            1 => out.pop().unwrap_or(Query::All),
            _ => Query::And(out),
        }
    }

    /// The time range this query restricts `@timestamp` to at top level, if any, so a
    /// store can skip partitions outside it.
    pub fn time_bounds(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        let mut lo: Option<Timestamp> = None;
        let mut hi: Option<Timestamp> = None;
        let mut visit = |q: &Query| {
            if let Query::Field {
                field,
                predicate: Predicate::Range { lower, upper },
            } = q
                && field == haechi_event::ecs::TIMESTAMP
            {
                if let Bound::Included(Scalar::Time(t)) | Bound::Excluded(Scalar::Time(t)) = lower {
                    lo = Some(lo.map_or(*t, |l| l.max(*t)));
                }
                if let Bound::Included(Scalar::Time(t)) | Bound::Excluded(Scalar::Time(t)) = upper {
                    hi = Some(hi.map_or(*t, |h| h.min(*t)));
                }
            }
        };
        match self {
            Query::And(parts) => parts.iter().for_each(&mut visit),
            other => visit(other),
        }
        (lo, hi)
    }
}
