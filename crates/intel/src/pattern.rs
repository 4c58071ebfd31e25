//! Evaluating STIX 2.1 patterns over an observation.
//!
//! The grammar parser is haechi-ioc's ([`haechi_ioc::load::stix_pattern::parse`]); this
//! module compiles its tree once ([`CompiledPattern::compile`]: regexes built, CIDR ranges
//! and numbers read, unsupported parts refused) and evaluates it against an
//! [`Observation`]: a bag of cyber-observable values, object type → property path →
//! values, e.g. `ipv4-addr` → `value` → `["10.1.2.3", "8.8.8.8"]`,
//! `file` → `hashes.SHA-256` → `[…]`.
//!
//! **Semantics.** One observation stands for one observed-data (for Haechi: one event).
//! A comparison `type:path OP constant` is true when *some* value of that type and path in
//! the observation satisfies it; when the observation has no such value it is false — also
//! under `NOT` and `!=` (a missing property matches nothing). `NOT` negates the operator
//! per value, like `!=`: `[ipv4-addr:value NOT = '8.8.8.8']` is true when some observed
//! address is not 8.8.8.8 — for an event from 10.1.2.3 to 8.8.8.8 too — and false for a
//! file-less observation under `[file:name NOT = 'a.exe']`. Comparisons
//! join with `AND`/`OR` inside `[…]`, and observation expressions join with `AND`/`OR` over
//! the same observation (so `[A] AND [B]` means both are seen in it).
//!
//! Operators: `=` and `!=`; `IN (…)`; `<`, `<=`, `>`, `>=` (numerically when the constant
//! is a number and the value reads as one, else by string order); `LIKE` (SQL: `%` any
//! run, `_` one character, the whole value); `MATCHES` (the `regex` crate's syntax, which
//! covers the PCRE features STIX feeds use except look-around and back-references — a
//! pattern it cannot compile is refused with its reason); `ISSUBSET` (the value — address or
//! range — lies inside the constant CIDR range) and `ISSUPERSET` (the value range contains
//! the constant), on `ipv4-addr`/`ipv6-addr` values; `EXISTS`. Hash algorithm names are
//! canonical (`SHA256`, `sha256`, `'SHA-256'` are all `SHA-256`), and hashes,
//! `domain-name:value` and `email-addr:value` compare without regard to case for `=`, `!=`,
//! `IN` and `LIKE` (`MATCHES` is exactly as written: add `(?i)` for that).
//!
//! **Refused** with [`PatternError::Unsupported`], never ignored: the qualifiers `WITHIN`,
//! `REPEATS`, `START … STOP`, and `FOLLOWEDBY` (they need a sequence of observations over
//! time, which a single-event evaluator cannot honour); binary and hex constants
//! (`b'…'`, `h'…'`).
//!
//! [`observation_from_event`] builds the observation of a Haechi event from its ECS fields
//! ([`EVENT_FIELDS`]).

use haechi_event::{Event, Value};
use haechi_ioc::load::stix_pattern::{self, Comparison, Literal, ObjectPath, Pattern};
use regex::Regex;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Why a pattern cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("pattern syntax: {0}")]
    Syntax(String),
    /// A feature the evaluator does not implement, named (`WITHIN`, `FOLLOWEDBY`, …).
    #[error("unsupported in STIX pattern evaluation: {feature} (in {context})")]
    Unsupported { feature: String, context: String },
    #[error("MATCHES {pattern:?} is not a regular expression the regex crate accepts: {reason}")]
    BadRegex { pattern: String, reason: String },
    #[error("bad constant in {context}: {reason}")]
    BadConstant { context: String, reason: String },
}

/// A bag of observed cyber-observable values: object type → property path → values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    objects: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Observation {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value. `path` is dotted (`value`, `name`, `hashes.SHA-256`); hash algorithm
    /// names are made canonical.
    pub fn add(&mut self, object_type: &str, path: &str, value: impl Into<String>) -> &mut Self {
        let path = canonical_path(path);
        let values = self
            .objects
            .entry(object_type.to_owned())
            .or_default()
            .entry(path)
            .or_default();
        let value = value.into();
        if !values.contains(&value) {
            values.push(value);
        }
        self
    }

    /// The values at `type` and dotted `path`.
    pub fn values(&self, object_type: &str, path: &str) -> &[String] {
        self.objects
            .get(object_type)
            .and_then(|p| p.get(path))
            .map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Every (type, path, values), for display.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &[String])> {
        self.objects.iter().flat_map(|(t, props)| {
            props
                .iter()
                .map(move |(p, v)| (t.as_str(), p.as_str(), v.as_slice()))
        })
    }
}

/// `SHA256`, `sha-256`, `SHA_256` → `SHA-256`; `md5` → `MD5`; other names unchanged.
pub fn canonical_hash(name: &str) -> String {
    let squashed: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match squashed.as_str() {
        "MD5" => "MD5".into(),
        "SHA1" => "SHA-1".into(),
        "SHA224" => "SHA-224".into(),
        "SHA256" => "SHA-256".into(),
        "SHA384" => "SHA-384".into(),
        "SHA512" => "SHA-512".into(),
        "SHA3256" => "SHA3-256".into(),
        "SHA3512" => "SHA3-512".into(),
        _ => name.to_owned(),
    }
}

fn canonical_path(path: &str) -> String {
    match path.split_once('.') {
        Some(("hashes", algorithm)) => format!("hashes.{}", canonical_hash(algorithm)),
        _ => path.to_owned(),
    }
}

fn path_key(path: &ObjectPath) -> String {
    let mut out = String::new();
    for (i, p) in path.properties.iter().enumerate() {
        if i > 0 && !p.starts_with('[') {
            out.push('.');
        }
        out.push_str(p);
    }
    canonical_path(&out)
}

/// Reads `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or range: the network address and
/// prefix length (host bits kept as written).
pub fn parse_net(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.trim().parse::<u8>().ok().filter(|&l| l <= max)?,
        None => max,
    };
    Some((ip, len))
}

fn to_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// Whether range `inner` lies inside range `outer` (same family).
pub fn net_within(inner: (IpAddr, u8), outer: (IpAddr, u8)) -> bool {
    let (a, fa) = to_bits(inner.0);
    let (b, fb) = to_bits(outer.0);
    if fa != fb || inner.1 < outer.1 {
        return false;
    }
    let shift = fa - outer.1;
    if shift >= 128 {
        return true;
    }
    (a >> shift) == (b >> shift)
}

/// The right-hand side of one comparison, prepared.
#[derive(Debug)]
enum Rhs {
    Exists,
    Text(String),
    Number(f64, String),
    Set(Vec<String>),
    Regex(Regex),
    Net((IpAddr, u8)),
}

#[derive(Debug)]
enum Expr {
    Test {
        object: String,
        path: String,
        negated: bool,
        op: String,
        fold_case: bool,
        rhs: Rhs,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A pattern ready to evaluate.
#[derive(Debug)]
pub struct CompiledPattern {
    text: String,
    root: Expr,
}

impl CompiledPattern {
    /// Parses and prepares `pattern`, or says what in it cannot be evaluated.
    pub fn compile(pattern: &str) -> Result<CompiledPattern, PatternError> {
        let ast = stix_pattern::parse(pattern).map_err(PatternError::Syntax)?;
        Ok(CompiledPattern {
            text: pattern.to_owned(),
            root: compile_pattern(&ast)?,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the observation satisfies the pattern.
    pub fn matches(&self, observation: &Observation) -> bool {
        eval(&self.root, observation)
    }
}

/// Compiles and evaluates in one go.
pub fn evaluate(pattern: &str, observation: &Observation) -> Result<bool, PatternError> {
    Ok(CompiledPattern::compile(pattern)?.matches(observation))
}

fn compile_pattern(p: &Pattern) -> Result<Expr, PatternError> {
    Ok(match p {
        Pattern::Observation(c) => compile_comparison(c)?,
        Pattern::And(a, b) => {
            Expr::And(Box::new(compile_pattern(a)?), Box::new(compile_pattern(b)?))
        }
        Pattern::Or(a, b) => Expr::Or(Box::new(compile_pattern(a)?), Box::new(compile_pattern(b)?)),
        Pattern::FollowedBy(..) => {
            return Err(PatternError::Unsupported {
                feature: "FOLLOWEDBY".into(),
                context: p.to_string(),
            });
        }
        Pattern::Qualified(_, q) => {
            return Err(PatternError::Unsupported {
                feature: (*q).to_owned(),
                context: p.to_string(),
            });
        }
    })
}

fn is_number(text: &str) -> Option<f64> {
    let t = text.strip_prefix('-').unwrap_or(text);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    text.parse().ok()
}

/// Turns a SQL LIKE pattern into an anchored regex.
fn like_to_regex(like: &str, fold_case: bool) -> Result<Regex, regex::Error> {
    let mut re = String::from(if fold_case { "(?si)^" } else { "(?s)^" });
    for c in like.chars() {
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re)
}

fn compile_comparison(c: &Comparison) -> Result<Expr, PatternError> {
    let (path, negated, op, value) = match c {
        Comparison::And(a, b) => {
            return Ok(Expr::And(
                Box::new(compile_comparison(a)?),
                Box::new(compile_comparison(b)?),
            ));
        }
        Comparison::Or(a, b) => {
            return Ok(Expr::Or(
                Box::new(compile_comparison(a)?),
                Box::new(compile_comparison(b)?),
            ));
        }
        Comparison::Test {
            path,
            negated,
            op,
            value,
        } => (path, *negated, op.as_str(), value),
    };
    let key = path_key(path);
    let fold_case = key.starts_with("hashes.")
        || (key == "value" && matches!(path.object.as_str(), "domain-name" | "email-addr"));
    let context = c.to_string();
    let bad = |reason: String| PatternError::BadConstant {
        context: context.clone(),
        reason,
    };
    let scalar = |v: &Literal| -> Result<Rhs, PatternError> {
        match v {
            Literal::Str(s) => Ok(Rhs::Text(s.clone())),
            Literal::Other(o) if o.starts_with("b'") || o.starts_with("h'") => {
                Err(PatternError::Unsupported {
                    feature: "binary/hex constants".into(),
                    context: context.clone(),
                })
            }
            Literal::Other(o) => {
                if let Some(t) = o.strip_prefix("t'").and_then(|t| t.strip_suffix('\'')) {
                    return Ok(Rhs::Text(t.to_owned()));
                }
                match is_number(o) {
                    Some(n) => Ok(Rhs::Number(n, o.clone())),
                    None => Ok(Rhs::Text(o.to_ascii_lowercase())), // true / false
                }
            }
            Literal::Set(_) => Err(bad(format!("a set is only allowed with IN, not {op}"))),
        }
    };
    let text_of = |v: &Option<Literal>| -> Result<String, PatternError> {
        match v {
            Some(Literal::Str(s)) => Ok(s.clone()),
            _ => Err(bad(format!("{op} needs a string constant"))),
        }
    };
    let rhs = match op {
        "EXISTS" => Rhs::Exists,
        "=" | "!=" | "<" | "<=" | ">" | ">=" => {
            scalar(value.as_ref().ok_or_else(|| bad("no constant".into()))?)?
        }
        "IN" => match value {
            Some(Literal::Set(items)) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(match scalar(item)? {
                        Rhs::Text(s) => s,
                        Rhs::Number(_, s) => s,
                        _ => return Err(bad("IN takes strings and numbers".into())),
                    });
                }
                Rhs::Set(out)
            }
            _ => return Err(bad("IN needs a set (…)".into())),
        },
        "LIKE" => {
            let like = text_of(value)?;
            Rhs::Regex(like_to_regex(&like, fold_case).map_err(|e| bad(e.to_string()))?)
        }
        "MATCHES" => {
            let pattern = text_of(value)?;
            Rhs::Regex(Regex::new(&pattern).map_err(|e| PatternError::BadRegex {
                pattern: pattern.clone(),
                reason: e.to_string(),
            })?)
        }
        "ISSUBSET" | "ISSUPERSET" => {
            if !matches!(path.object.as_str(), "ipv4-addr" | "ipv6-addr") {
                return Err(PatternError::Unsupported {
                    feature: format!("{op} on {}", path.object),
                    context,
                });
            }
            let text = text_of(value)?;
            Rhs::Net(parse_net(&text).ok_or_else(|| bad(format!("{text:?} is not a CIDR range")))?)
        }
        other => {
            return Err(PatternError::Unsupported {
                feature: format!("operator {other}"),
                context,
            });
        }
    };
    Ok(Expr::Test {
        object: path.object.clone(),
        path: key,
        negated,
        op: op.to_owned(),
        fold_case,
        rhs,
    })
}

fn eval(e: &Expr, obs: &Observation) -> bool {
    match e {
        Expr::And(a, b) => eval(a, obs) && eval(b, obs),
        Expr::Or(a, b) => eval(a, obs) || eval(b, obs),
        Expr::Test {
            object,
            path,
            negated,
            op,
            fold_case,
            rhs,
        } => {
            let values = obs.values(object, path);
            if values.is_empty() {
                return false;
            }
            values
                .iter()
                .any(|v| test_value(v, op, *fold_case, rhs) != *negated)
        }
    }
}

fn eq(a: &str, b: &str, fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn test_value(v: &str, op: &str, fold: bool, rhs: &Rhs) -> bool {
    match (op, rhs) {
        (_, Rhs::Exists) => true,
        ("=", Rhs::Text(t)) => eq(v, t, fold),
        ("!=", Rhs::Text(t)) => !eq(v, t, fold),
        ("=", Rhs::Number(n, _)) => v.trim().parse::<f64>().is_ok_and(|x| x == *n),
        ("!=", Rhs::Number(n, _)) => v.trim().parse::<f64>().is_ok_and(|x| x != *n),
        ("IN", Rhs::Set(items)) => items.iter().any(|t| eq(v, t, fold)),
        ("LIKE" | "MATCHES", Rhs::Regex(re)) => re.is_match(v),
        ("ISSUBSET", Rhs::Net(outer)) => {
            parse_net(v).is_some_and(|inner| net_within(inner, *outer))
        }
        ("ISSUPERSET", Rhs::Net(inner)) => {
            parse_net(v).is_some_and(|outer| net_within(*inner, outer))
        }
        (op, Rhs::Number(n, _)) => match v.trim().parse::<f64>() {
            Ok(x) => order(x.partial_cmp(n), op),
            Err(_) => false,
        },
        (op, Rhs::Text(t)) => order(Some(v.cmp(t.as_str())), op),
        _ => false,
    }
}

fn order(o: Option<std::cmp::Ordering>, op: &str) -> bool {
    use std::cmp::Ordering::*;
    matches!(
        (o, op),
        (Some(Less), "<" | "<=") | (Some(Equal), "<=" | ">=") | (Some(Greater), ">" | ">=")
    )
}

/// Where a Haechi event's ECS fields go in its observation: (ECS field, STIX object type,
/// property path). `ip` as the type means `ipv4-addr` or `ipv6-addr` by the address's
/// family; values that are not addresses are left out there.
pub const EVENT_FIELDS: &[(&str, &str, &str)] = &[
    ("source.ip", "ip", "value"),
    ("destination.ip", "ip", "value"),
    ("client.ip", "ip", "value"),
    ("server.ip", "ip", "value"),
    ("dns.question.name", "domain-name", "value"),
    ("url.domain", "domain-name", "value"),
    ("destination.domain", "domain-name", "value"),
    ("url.original", "url", "value"),
    ("url.full", "url", "value"),
    ("file.hash.md5", "file", "hashes.MD5"),
    ("file.hash.sha1", "file", "hashes.SHA-1"),
    ("file.hash.sha256", "file", "hashes.SHA-256"),
    ("file.hash.sha512", "file", "hashes.SHA-512"),
    ("file.name", "file", "name"),
    ("file.size", "file", "size"),
    ("email.from.address", "email-addr", "value"),
    ("email.sender.address", "email-addr", "value"),
    ("email.to.address", "email-addr", "value"),
    ("email.cc.address", "email-addr", "value"),
    ("email.bcc.address", "email-addr", "value"),
    ("email.reply_to.address", "email-addr", "value"),
];

/// The observation of one event: every field of [`EVENT_FIELDS`] present in it (each
/// element of a list field), domain names without a trailing dot.
pub fn observation_from_event(event: &Event) -> Observation {
    let mut obs = Observation::new();
    for (name, value) in &event.fields {
        let Some(&(_, object, path)) = EVENT_FIELDS.iter().find(|(f, _, _)| *f == name) else {
            continue;
        };
        for scalar in value.scalars() {
            if object == "ip" {
                match scalar.as_ip() {
                    Some(IpAddr::V4(ip)) => obs.add("ipv4-addr", path, ip.to_string()),
                    Some(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                        Some(v4) => obs.add("ipv4-addr", path, v4.to_string()),
                        None => obs.add("ipv6-addr", path, ip.to_string()),
                    },
                    None => continue,
                };
                continue;
            }
            let text = match scalar {
                Value::Str(s) => s.trim().to_owned(),
                other => other.to_string(),
            };
            if text.is_empty() {
                continue;
            }
            let text = if object == "domain-name" {
                text.trim_end_matches('.').to_owned()
            } else {
                text
            };
            obs.add(object, path, text);
        }
    }
    obs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment() {
        let n = |s| parse_net(s).unwrap();
        assert!(net_within(n("10.1.2.3"), n("10.0.0.0/8")));
        assert!(net_within(n("10.1.0.0/16"), n("10.0.0.0/8")));
        assert!(!net_within(n("10.0.0.0/8"), n("10.1.0.0/16")));
        assert!(!net_within(n("11.0.0.1"), n("10.0.0.0/8")));
        assert!(net_within(n("1.2.3.4"), n("0.0.0.0/0")));
        assert!(net_within(n("2001:db8::1"), n("2001:db8::/32")));
        assert!(!net_within(n("2001:db8::1"), n("10.0.0.0/8")));
        assert!(parse_net("10.0.0.0/33").is_none());
    }

    #[test]
    fn like_is_anchored_sql() {
        let re = like_to_regex("http://%.example.com/_x", false).unwrap();
        assert!(re.is_match("http://a.b.example.com/1x"));
        assert!(!re.is_match("http://a.example.com/12x"));
        assert!(!re.is_match("xhttp://a.example.com/1x"));
    }
}
