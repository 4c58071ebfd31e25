//! STIX 2.1 patterns: a parser for the whole patterning grammar, and the sound reading of
//! a pattern as a list of indicator values.
//!
//! A pattern is a boolean formula over observations. Haechi matches single values, so it
//! takes a value `v` from a pattern only when **seeing `v` alone satisfies the pattern**:
//!
//! * `[X = 'v']`, `[X IN ('v', 'w')]`, and each side of an `OR` (of comparisons or of
//!   observations): yes, each value on its own.
//! * `[ipv4-addr:value ISSUBSET '10.0.0.0/8']`: yes, as a CIDR range.
//! * `[file:hashes.MD5 = 'a' AND file:hashes.'SHA-256' = 'b']`: yes, each — hashes of one
//!   file name the same file, so seeing either is seeing that file.
//! * Any other `AND` (`[file:hashes.MD5 = 'a' AND file:name = 'x.exe']`): no, a file with
//!   that hash but another name does not satisfy it. Skipped and counted.
//! * `[A] AND [B]`, `FOLLOWEDBY`, `WITHIN`/`REPEATS`/`START…STOP`, `NOT`, `!=`, `<`,
//!   `LIKE`, `MATCHES`, `ISSUPERSET`, `EXISTS`: no. Skipped and counted.
//!
//! [`parse`] gives the syntax tree ([`Pattern`], [`Comparison`], [`ObjectPath`],
//! [`Literal`]) to other crates: haechi-intel evaluates whole patterns over events with it.
//!
//! Only the object paths Haechi matches are taken: `ipv4-addr:value`, `ipv6-addr:value`,
//! `domain-name:value`, `url:value`, `email-addr:value` and `file:hashes.` MD5, SHA-1,
//! SHA-256 (any spelling: `'SHA-256'`, `SHA256`, `sha256`).

use crate::kind::IndicatorKind;
use crate::report::SkipReason;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Dot,
    Star,
    Op(&'static str),
    /// A quoted string, unescaped.
    Str(String),
    /// `h'…'`, `b'…'`, `t'…'`.
    Typed(char, String),
    /// Identifiers, keywords, numbers, object types with their `:` and first property.
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '[' | ']' | '(' | ')' | ',' | '.' | '*' => {
                chars.next();
                tokens.push(match c {
                    '[' => Token::LBracket,
                    ']' => Token::RBracket,
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    ',' => Token::Comma,
                    '.' => Token::Dot,
                    _ => Token::Star,
                });
            }
            '\'' => {
                chars.next();
                tokens.push(Token::Str(string_literal(&mut chars)?));
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let next_eq = chars.peek().is_some_and(|&(_, n)| n == '=');
                let op = match (c, next_eq) {
                    ('=', _) => "=",
                    ('!', true) => "!=",
                    ('<', true) => "<=",
                    ('>', true) => ">=",
                    ('<', false) => "<",
                    ('>', false) => ">",
                    _ => return Err(format!("unexpected '{c}' at {i}")),
                };
                if op.len() == 2 {
                    chars.next();
                }
                tokens.push(Token::Op(op));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':' => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':' {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let typed = matches!(word.as_str(), "h" | "b" | "t")
                    && chars.peek().is_some_and(|&(_, n)| n == '\'');
                if typed {
                    chars.next();
                    let kind = word.chars().next().unwrap_or('t');
                    tokens.push(Token::Typed(kind, string_literal(&mut chars)?));
                } else {
                    tokens.push(Token::Word(word));
                }
            }
            other => return Err(format!("unexpected '{other}' at {i}")),
        }
    }
    Ok(tokens)
}

/// The rest of a `'…'` literal (the opening quote consumed): `\'` and `\\` unescaped.
fn string_literal(chars: &mut impl Iterator<Item = (usize, char)>) -> Result<String, String> {
    let mut out = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' => return Ok(out),
            '\\' => match chars.next() {
                Some((_, e @ ('\'' | '\\'))) => out.push(e),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

/// An object path: `file:hashes.'SHA-256'` is object `file`, properties `hashes`,
/// `SHA-256`; list indexes are kept with their brackets (`[*]`, `[0]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    /// The object type (`file`, `ipv4-addr`, …).
    pub object: String,
    /// The properties after the `:`, in order; list indexes as `[*]`, `[0]`.
    pub properties: Vec<String>,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object)?;
        for (i, p) in self.properties.iter().enumerate() {
            let plain = p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            match (i, plain) {
                (0, _) => write!(f, ":{p}")?,
                (_, false) if p.starts_with('[') => f.write_str(p)?,
                (_, true) => write!(f, ".{p}")?,
                (_, false) => write!(f, ".'{p}'")?,
            }
        }
        Ok(())
    }
}

/// A constant on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A `'…'` string, unescaped.
    Str(String),
    /// A `(…, …)` set (for `IN`).
    Set(Vec<Literal>),
    /// Anything else, as written: numbers, `true`/`false`, `h'…'`, `b'…'`, `t'…'`.
    Other(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Literal::Set(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Literal::Other(s) => f.write_str(s),
        }
    }
}

/// The inside of an observation expression (`[…]`): comparisons joined by AND/OR.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// `path [NOT] op value`; `op` is `=`, `!=`, `<`, `<=`, `>`, `>=`, `LIKE`, `MATCHES`,
    /// `IN`, `ISSUBSET`, `ISSUPERSET` or `EXISTS` (then `value` is `None`).
    Test {
        path: ObjectPath,
        negated: bool,
        op: String,
        value: Option<Literal>,
    },
    And(Box<Comparison>, Box<Comparison>),
    Or(Box<Comparison>, Box<Comparison>),
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparison::Test {
                path,
                negated,
                op,
                value,
            } => {
                if op == "EXISTS" {
                    return write!(f, "EXISTS {path}");
                }
                write!(f, "{path} {}{op}", if *negated { "NOT " } else { "" })?;
                match value {
                    Some(v) => write!(f, " {v}"),
                    None => Ok(()),
                }
            }
            Comparison::And(a, b) => write!(f, "{a} AND {b}"),
            Comparison::Or(a, b) => write!(f, "({a} OR {b})"),
        }
    }
}

/// A parsed pattern: observation expressions joined by AND/OR/FOLLOWEDBY, with qualifiers
/// (`WITHIN`, `REPEATS`, `START/STOP`: their arguments are not kept).
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    Observation(Comparison),
    And(Box<Pattern>, Box<Pattern>),
    Or(Box<Pattern>, Box<Pattern>),
    FollowedBy(Box<Pattern>, Box<Pattern>),
    Qualified(Box<Pattern>, &'static str),
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Observation(c) => write!(f, "[{c}]"),
            Pattern::And(a, b) => write!(f, "{a} AND {b}"),
            Pattern::Or(a, b) => write!(f, "{a} OR {b}"),
            Pattern::FollowedBy(a, b) => write!(f, "{a} FOLLOWEDBY {b}"),
            Pattern::Qualified(p, q) => write!(f, "{p} {q} …"),
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

const COMPARISON_OPS: [&str; 6] = ["LIKE", "MATCHES", "IN", "ISSUBSET", "ISSUPERSET", "EXISTS"];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, token: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if t == token => Ok(()),
            other => Err(format!("expected {token:?}, found {other:?}")),
        }
    }

    /// Observation expressions, lowest precedence first: FOLLOWEDBY, OR, AND, qualifiers.
    fn pattern(&mut self) -> Result<Pattern, String> {
        let mut left = self.pattern_or()?;
        while self.keyword("FOLLOWEDBY") {
            self.pos += 1;
            left = Pattern::FollowedBy(Box::new(left), Box::new(self.pattern_or()?));
        }
        Ok(left)
    }

    fn pattern_or(&mut self) -> Result<Pattern, String> {
        let mut left = self.pattern_and()?;
        while self.keyword("OR") {
            self.pos += 1;
            left = Pattern::Or(Box::new(left), Box::new(self.pattern_and()?));
        }
        Ok(left)
    }

    fn pattern_and(&mut self) -> Result<Pattern, String> {
        let mut left = self.qualified()?;
        while self.keyword("AND") {
            self.pos += 1;
            left = Pattern::And(Box::new(left), Box::new(self.qualified()?));
        }
        Ok(left)
    }

    fn qualified(&mut self) -> Result<Pattern, String> {
        let mut inner = match self.next() {
            Some(Token::LBracket) => {
                let c = self.comparison_or()?;
                self.expect(Token::RBracket)?;
                Pattern::Observation(c)
            }
            Some(Token::LParen) => {
                let p = self.pattern()?;
                self.expect(Token::RParen)?;
                p
            }
            other => return Err(format!("expected '[' or '(', found {other:?}")),
        };
        loop {
            let qualifier = if self.keyword("WITHIN") {
                self.skip_qualifier("SECONDS")?;
                "WITHIN"
            } else if self.keyword("REPEATS") {
                self.skip_qualifier("TIMES")?;
                "REPEATS"
            } else if self.keyword("START") {
                self.skip_qualifier("STOP")?;
                self.next().ok_or("STOP without a time")?;
                "START/STOP"
            } else {
                return Ok(inner);
            };
            inner = Pattern::Qualified(Box::new(inner), qualifier);
        }
    }

    /// Consumes `KEYWORD <value> END`.
    fn skip_qualifier(&mut self, end: &str) -> Result<(), String> {
        self.pos += 1;
        while !self.keyword(end) {
            if self.next().is_none() {
                return Err(format!("qualifier without {end}"));
            }
        }
        self.pos += 1;
        Ok(())
    }

    fn comparison_or(&mut self) -> Result<Comparison, String> {
        let mut left = self.comparison_and()?;
        while self.keyword("OR") {
            self.pos += 1;
            left = Comparison::Or(Box::new(left), Box::new(self.comparison_and()?));
        }
        Ok(left)
    }

    fn comparison_and(&mut self) -> Result<Comparison, String> {
        let mut left = self.comparison_unit()?;
        while self.keyword("AND") {
            self.pos += 1;
            left = Comparison::And(Box::new(left), Box::new(self.comparison_unit()?));
        }
        Ok(left)
    }

    fn comparison_unit(&mut self) -> Result<Comparison, String> {
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            let c = self.comparison_or()?;
            self.expect(Token::RParen)?;
            return Ok(c);
        }
        if self.keyword("EXISTS") {
            self.pos += 1;
            return Ok(Comparison::Test {
                path: self.path()?,
                negated: false,
                op: "EXISTS".into(),
                value: None,
            });
        }
        let path = self.path()?;
        let negated = self.keyword("NOT");
        if negated {
            self.pos += 1;
        }
        let op = match self.next() {
            Some(Token::Op(op)) => op.to_owned(),
            Some(Token::Word(w)) if COMPARISON_OPS.iter().any(|o| o.eq_ignore_ascii_case(&w)) => {
                w.to_ascii_uppercase()
            }
            other => return Err(format!("expected a comparison operator, found {other:?}")),
        };
        Ok(Comparison::Test {
            path,
            negated,
            op,
            value: Some(self.literal()?),
        })
    }

    fn path(&mut self) -> Result<ObjectPath, String> {
        let Some(Token::Word(first)) = self.next() else {
            return Err("expected an object path".into());
        };
        let Some((object, property)) = first.split_once(':') else {
            return Err(format!("object path {first:?} has no ':'"));
        };
        let mut path = ObjectPath {
            object: object.to_owned(),
            properties: vec![property.to_owned()],
        };
        loop {
            match self.peek() {
                Some(Token::Dot) => {
                    self.pos += 1;
                    match self.next() {
                        Some(Token::Word(w) | Token::Str(w)) => path.properties.push(w),
                        other => return Err(format!("expected a property, found {other:?}")),
                    }
                }
                Some(Token::LBracket) => {
                    self.pos += 1;
                    match self.next() {
                        Some(Token::Star) => path.properties.push("[*]".into()),
                        Some(Token::Word(n)) => path.properties.push(format!("[{n}]")),
                        other => return Err(format!("expected a list index, found {other:?}")),
                    }
                    self.expect(Token::RBracket)?;
                }
                _ => return Ok(path),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Literal::Str(s)),
            Some(Token::Typed(kind, s)) => Ok(Literal::Other(format!("{kind}'{s}'"))),
            Some(Token::Word(w)) => {
                // A number may continue with `.digits`.
                if self.peek() == Some(&Token::Dot)
                    && let Some(Token::Word(frac)) = self.tokens.get(self.pos + 1).cloned()
                {
                    self.pos += 2;
                    return Ok(Literal::Other(format!("{w}.{frac}")));
                }
                Ok(Literal::Other(w))
            }
            Some(Token::LParen) => {
                let mut items = vec![self.literal()?];
                while self.peek() == Some(&Token::Comma) {
                    self.pos += 1;
                    items.push(self.literal()?);
                }
                self.expect(Token::RParen)?;
                Ok(Literal::Set(items))
            }
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

/// What a pattern gives: values to take as indicators (kind, text, the comparison they
/// come from), and the parts skipped with their reason.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Reading {
    pub taken: Vec<(IndicatorKind, String, String)>,
    pub skipped: Vec<(String, SkipReason)>,
}

/// Parses a whole STIX 2.1 pattern into its syntax tree, or says why it is not one.
pub fn parse(pattern: &str) -> Result<Pattern, String> {
    let tokens = tokenize(pattern)?;
    let mut parser = Parser { tokens, pos: 0 };
    let ast = parser.pattern()?;
    if let Some(extra) = parser.peek() {
        return Err(format!("unexpected {extra:?} after the pattern"));
    }
    Ok(ast)
}

/// Parses `pattern` and reads it soundly (see the module documentation).
pub(crate) fn read(pattern: &str) -> Result<Reading, SkipReason> {
    let ast = parse(pattern).map_err(SkipReason::PatternSyntax)?;
    let mut reading = Reading::default();
    read_pattern(&ast, &mut reading);
    Ok(reading)
}

fn read_pattern(p: &Pattern, out: &mut Reading) {
    match p {
        Pattern::Observation(c) => read_comparison(c, out),
        Pattern::Or(a, b) => {
            read_pattern(a, out);
            read_pattern(b, out);
        }
        Pattern::And(..) => out
            .skipped
            .push((p.to_string(), SkipReason::MultiObservation("AND"))),
        Pattern::FollowedBy(..) => out
            .skipped
            .push((p.to_string(), SkipReason::MultiObservation("FOLLOWEDBY"))),
        Pattern::Qualified(_, q) => out.skipped.push((p.to_string(), SkipReason::Qualifier(q))),
    }
}

fn read_comparison(c: &Comparison, out: &mut Reading) {
    match c {
        Comparison::Or(a, b) => {
            read_comparison(a, out);
            read_comparison(b, out);
        }
        Comparison::And(..) => {
            let mut terms = Vec::new();
            conjuncts(c, &mut terms);
            let all_file_hashes = terms.iter().all(|t| {
                matches!(t, Comparison::Test { path, negated: false, op, value: Some(Literal::Str(_)) }
                    if op == "=" && path.object == "file" && hash_kind(path).is_some())
            });
            if all_file_hashes {
                for term in terms {
                    read_comparison(term, out);
                }
            } else {
                out.skipped
                    .push((c.to_string(), SkipReason::AndOfProperties));
            }
        }
        Comparison::Test {
            path,
            negated,
            op,
            value,
        } => {
            let text = c.to_string();
            let skip = |out: &mut Reading, reason| out.skipped.push((text.clone(), reason));
            if *negated {
                return skip(out, SkipReason::Negated);
            }
            let Some(kind) = path_kind(path) else {
                return skip(out, SkipReason::UnsupportedPath(path.to_string()));
            };
            let values: Vec<&Literal> = match (op.as_str(), value) {
                ("=", Some(v)) => vec![v],
                ("IN", Some(Literal::Set(items))) => items.iter().collect(),
                ("ISSUBSET", Some(v)) if kind == IndicatorKind::Ip => vec![v],
                _ => return skip(out, SkipReason::UnsupportedOperator(op.clone())),
            };
            for v in values {
                match v {
                    Literal::Str(s) => out.taken.push((kind, s.clone(), text.clone())),
                    _ => skip(
                        out,
                        SkipReason::Invalid {
                            kind,
                            detail: "the value is not a string",
                        },
                    ),
                }
            }
        }
    }
}

/// The comparisons joined by a chain of ANDs.
fn conjuncts<'a>(c: &'a Comparison, out: &mut Vec<&'a Comparison>) {
    match c {
        Comparison::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// The indicator kind an object path holds, if Haechi matches it.
fn path_kind(path: &ObjectPath) -> Option<IndicatorKind> {
    let value = path.properties.len() == 1 && path.properties[0] == "value";
    match path.object.as_str() {
        "ipv4-addr" | "ipv6-addr" if value => Some(IndicatorKind::Ip),
        "domain-name" if value => Some(IndicatorKind::Domain),
        "url" if value => Some(IndicatorKind::Url),
        "email-addr" if value => Some(IndicatorKind::Email),
        "file" => hash_kind(path),
        _ => None,
    }
}

/// `file:hashes.<algorithm>` for MD5, SHA-1 and SHA-256, however spelled.
fn hash_kind(path: &ObjectPath) -> Option<IndicatorKind> {
    let [hashes, algorithm] = path.properties.as_slice() else {
        return None;
    };
    if hashes != "hashes" {
        return None;
    }
    let name: String = algorithm
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match name.as_str() {
        "MD5" => Some(IndicatorKind::Md5),
        "SHA1" => Some(IndicatorKind::Sha1),
        "SHA256" => Some(IndicatorKind::Sha256),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind::*;

    fn taken(pattern: &str) -> Vec<(IndicatorKind, String)> {
        read(pattern)
            .unwrap()
            .taken
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect()
    }

    fn skipped(pattern: &str) -> Vec<&'static str> {
        read(pattern)
            .unwrap()
            .skipped
            .into_iter()
            .map(|(_, r)| r.code())
            .collect()
    }

    #[test]
    fn single_values_and_alternatives_are_taken() {
        assert_eq!(
            taken("[url:value = 'http://x4z9arb.cn/4712/']"),
            [(Url, "http://x4z9arb.cn/4712/".into())]
        );
        assert_eq!(
            taken("[file:hashes.'SHA-256' = 'ef53'] OR [file:hashes.md5 = 'aa']"),
            [(Sha256, "ef53".into()), (Md5, "aa".into())]
        );
        assert_eq!(
            taken("[domain-name:value = 'a.com' OR ipv4-addr:value = '1.2.3.4']"),
            [(Domain, "a.com".into()), (Ip, "1.2.3.4".into())]
        );
        assert_eq!(
            taken("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]"),
            [(Ip, "1.1.1.1".into()), (Ip, "2.2.2.2".into())]
        );
        assert_eq!(
            taken("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
            [(Ip, "10.0.0.0/8".into())]
        );
        assert_eq!(
            taken("[email-addr:value = 'it\\'s@x.com']"),
            [(Email, "it's@x.com".into())]
        );
    }

    #[test]
    fn hashes_of_one_file_are_alternatives_but_other_ands_are_not() {
        assert_eq!(
            taken("[file:hashes.MD5 = 'aa' AND file:hashes.'SHA-1' = 'bb']"),
            [(Md5, "aa".into()), (Sha1, "bb".into())]
        );
        let mixed = "[file:hashes.MD5 = 'aa' AND file:name = 'x.exe']";
        assert!(taken(mixed).is_empty());
        assert_eq!(skipped(mixed), ["and-of-properties"]);
        assert_eq!(
            skipped(
                "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']"
            ),
            ["and-of-properties"]
        );
    }

    #[test]
    fn multi_observation_and_qualified_patterns_are_skipped() {
        assert_eq!(
            skipped("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.com']"),
            ["multi-observation"]
        );
        assert_eq!(
            skipped("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'a.com']"),
            ["multi-observation"]
        );
        assert_eq!(
            skipped("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES WITHIN 1.5 SECONDS"),
            ["qualifier"]
        );
        assert_eq!(
            skipped(
                "[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"
            ),
            ["qualifier"]
        );
        // An OR keeps its sound side.
        let r = read("[ipv4-addr:value = '9.9.9.9'] OR ([a:b = 'x'] AND [c:d = 'y'])").unwrap();
        assert_eq!(r.taken.len(), 1);
        assert_eq!(r.skipped.len(), 1);
    }

    #[test]
    fn operators_that_are_not_fixed_values_are_skipped() {
        assert_eq!(
            skipped("[email-message:from_ref.value MATCHES '.+@x\\\\.com$']"),
            ["unsupported-path"]
        );
        assert_eq!(
            skipped("[url:value LIKE 'http://%']"),
            ["unsupported-operator"]
        );
        assert_eq!(skipped("[domain-name:value NOT = 'a.com']"), ["negated"]);
        assert_eq!(
            skipped("[domain-name:value != 'a.com']"),
            ["unsupported-operator"]
        );
        assert_eq!(skipped("[EXISTS file:name]"), ["unsupported-path"]);
        assert_eq!(skipped("[file:name = 'CBricksDoc']"), ["unsupported-path"]);
        assert_eq!(
            skipped("[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final']"),
            ["unsupported-path"]
        );
    }

    #[test]
    fn syntax_errors_are_reported() {
        for bad in [
            "",
            "[url:value = 'x'",
            "url:value = 'x'",
            "[url:value = 'x]",
            "[url:value ~ 'x']",
            "[url:value = 'x'] junk",
        ] {
            assert_eq!(read(bad).unwrap_err().code(), "pattern-syntax", "{bad}");
        }
    }
}
