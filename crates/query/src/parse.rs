//! The query parser: hand-written recursive descent over the query text.
//!
//! ```text
//! query    := or
//! or       := and (("OR" | "||") and)*
//! and      := unary (("AND" | "&&")? unary)*
//! unary    := ("NOT" | "!" | "-") unary | "+"? atom
//! atom     := "(" or ")" | FIELD ":" value | "_exists_:" FIELD | text
//! value    := "(" or-of-values ")" | PHRASE | RANGE | ("<"|"<="|">"|">=") BARE | BARE
//! RANGE    := ("[" | "{") BOUND "TO" BOUND ("]" | "}")
//! ```

use crate::{Glob, Predicate, Query, Scalar, TextPredicate};
use haechi_event::{Timestamp, parse_rfc3339};
use std::net::IpAddr;
use std::ops::Bound;

/// Why a query could not be read, with the character position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("query error at character {position}: {message}")]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

/// The longest query text accepted (a client-controlled size).
pub const MAX_QUERY_LEN: usize = 64 * 1024;
/// How deeply parentheses may nest.
const MAX_DEPTH: usize = 64;

/// Parses a query. The empty query and `*` match every event.
pub fn parse(text: &str) -> Result<Query, ParseError> {
    if text.len() > MAX_QUERY_LEN {
        return Err(ParseError {
            position: MAX_QUERY_LEN,
            message: format!("query longer than {MAX_QUERY_LEN} bytes"),
        });
    }
    let mut p = Parser {
        chars: text.char_indices().collect(),
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.at_end() {
        return Ok(Query::All);
    }
    let q = p.parse_or(None)?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error(format!("unexpected '{}'", p.peek().unwrap_or(' '))));
    }
    Ok(q)
}

/// Parses a time as the command line and range bounds accept it: RFC 3339
/// (`2024-01-02T03:04:05Z`), a date (`2024-01-02`), `now`, or `now-15m` / `now-2h` /
/// `now-7d` / `now-1w` (also with `+`), or epoch seconds.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("now") {
        let now = Timestamp::now();
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, amount) = match rest.as_bytes()[0] {
            b'-' => (-1i64, &rest[1..]),
            b'+' => (1i64, &rest[1..]),
            _ => return None,
        };
        let unit = amount.chars().last()?;
        let n: i64 = amount[..amount.len() - unit.len_utf8()].parse().ok()?;
        let secs = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let offset = n.checked_mul(sign * secs * 1_000_000_000)?;
        return now.0.checked_add(offset).map(Timestamp);
    }
    if let Some(ts) = parse_rfc3339(t) {
        return Some(ts);
    }
    if t.len() >= 9 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .ok()
            .map(|s| Timestamp(s.saturating_mul(1_000_000_000)));
    }
    None
}

struct Parser {
    chars: Vec<(usize, char)>,
    pos: usize,
    depth: usize,
}

/// Characters that may appear in a field name.
fn is_field_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '.' | '-' | '#')
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).map(|(_, c)| *c)
    }
    fn byte_pos(&self) -> usize {
        self.chars
            .get(self.pos)
            .map(|(i, _)| *i)
            .unwrap_or_else(|| {
                self.chars
                    .last()
                    .map(|(i, c)| i + c.len_utf8())
                    .unwrap_or(0)
            })
    }
    fn error(&self, message: String) -> ParseError {
        ParseError {
            position: self.byte_pos(),
            message,
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    /// True (and consumed) when the next word is `kw` followed by a separator.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let n = kw.chars().count();
        let matches = kw
            .chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c));
        let boundary = self
            .peek_at(n)
            .is_none_or(|c| c.is_whitespace() || c == '(' || c == '"');
        if matches && boundary {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn parse_or(&mut self, field: Option<&str>) -> Result<Query, ParseError> {
        let mut parts = vec![self.parse_and(field)?];
        loop {
            self.skip_ws();
            if self.eat_keyword("OR") || self.eat_keyword("||") {
                parts.push(self.parse_and(field)?);
            } else {
                break;
            }
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Query::All)
        } else {
            Query::Or(parts)
        })
    }

    fn parse_and(&mut self, field: Option<&str>) -> Result<Query, ParseError> {
        let mut parts = vec![self.parse_unary(field)?];
        loop {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') {
                break;
            }
            if self.eat_keyword("AND") || self.eat_keyword("&&") {
                parts.push(self.parse_unary(field)?);
                continue;
            }
            let save = self.pos;
            if self.eat_keyword("OR") || self.eat_keyword("||") {
                self.pos = save;
                break;
            }
            parts.push(self.parse_unary(field)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Query::All)
        } else {
            Query::And(parts)
        })
    }

    fn parse_unary(&mut self, field: Option<&str>) -> Result<Query, ParseError> {
        self.skip_ws();
        if self.eat_keyword("NOT") {
            return Ok(Query::Not(Box::new(self.parse_unary(field)?)));
        }
        match self.peek() {
            Some('!') | Some('-') if self.peek_at(1).is_some_and(|c| !c.is_whitespace()) => {
                self.pos += 1;
                Ok(Query::Not(Box::new(self.parse_unary(field)?)))
            }
            Some('+') => {
                self.pos += 1;
                self.parse_atom(field)
            }
            _ => self.parse_atom(field),
        }
    }

    fn parse_atom(&mut self, field: Option<&str>) -> Result<Query, ParseError> {
        self.skip_ws();
        match self.peek() {
            None => {
                Err(self.error("expected a term, a field:value or '(' but the query ended".into()))
            }
            Some('(') => self.parse_group(field),
            Some(')') => Err(self.error("unexpected ')'".into())),
            Some('"') => {
                let phrase = self.read_quoted()?;
                Ok(match field {
                    Some(f) => field_query(f, Predicate::Phrase(phrase)),
                    None => Query::Text(TextPredicate::Phrase(phrase)),
                })
            }
            Some(_) => {
                let save = self.pos;
                if self.eat_keyword("AND")
                    || self.eat_keyword("OR")
                    || self.eat_keyword("&&")
                    || self.eat_keyword("||")
                {
                    self.pos = save;
                    return Err(self.error(
                        "expected a term before this operator (to search for the word itself, quote it: \"OR\")".into(),
                    ));
                }
                if field.is_none()
                    && let Some(name) = self.try_field_name()
                {
                    return self.parse_field_value(&name);
                }
                match field {
                    Some(f) => self.parse_value_for(f),
                    None => {
                        let (word, wild) = self.read_bare()?;
                        Ok(text_query(&word, wild))
                    }
                }
            }
        }
    }

    fn parse_group(&mut self, field: Option<&str>) -> Result<Query, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("parentheses nest deeper than {MAX_DEPTH}")));
        }
        self.pos += 1;
        let q = self.parse_or(field)?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.error("expected ')' to close the group".into()));
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(q)
    }

    /// Reads `name:` if the input continues with a field name and a colon.
    fn try_field_name(&mut self) -> Option<String> {
        let start = self.pos;
        let mut end = start;
        while self.chars.get(end).is_some_and(|(_, c)| is_field_char(*c)) {
            end += 1;
        }
        if end > start && self.chars.get(end).map(|(_, c)| *c) == Some(':') {
            let name: String = self.chars[start..end].iter().map(|(_, c)| c).collect();
            self.pos = end + 1;
            Some(name)
        } else {
            None
        }
    }

    fn parse_field_value(&mut self, name: &str) -> Result<Query, ParseError> {
        if name == "_exists_" {
            let (target, _) = self.read_bare()?;
            return Ok(field_query(&target, Predicate::Exists));
        }
        match self.peek() {
            None => Err(self.error(format!("expected a value after '{name}:'"))),
            Some(c) if c.is_whitespace() => {
                Err(self.error(format!("expected a value right after '{name}:' (no space)")))
            }
            Some('(') => self.parse_group(Some(name)),
            _ => self.parse_value_for(name),
        }
    }

    fn parse_value_for(&mut self, field: &str) -> Result<Query, ParseError> {
        match self.peek() {
            Some('"') => Ok(field_query(field, Predicate::Phrase(self.read_quoted()?))),
            Some('[') | Some('{') => self.parse_range(field),
            Some('>') | Some('<') => self.parse_comparison(field),
            _ => {
                let start = self.byte_pos();
                let (word, wild) = self.read_bare()?;
                let predicate = bare_predicate(&word, wild).map_err(|message| ParseError {
                    position: start,
                    message,
                })?;
                Ok(field_query(field, predicate))
            }
        }
    }

    fn parse_comparison(&mut self, field: &str) -> Result<Query, ParseError> {
        let op = self.peek().unwrap_or('>');
        self.pos += 1;
        let inclusive = self.peek() == Some('=');
        if inclusive {
            self.pos += 1;
        }
        let (word, _) = if self.peek() == Some('"') {
            (self.read_quoted()?, false)
        } else {
            self.read_bare()?
        };
        let value = scalar(&word);
        let bound = if inclusive {
            Bound::Included(value)
        } else {
            Bound::Excluded(value)
        };
        let (lower, upper) = if op == '>' {
            (bound, Bound::Unbounded)
        } else {
            (Bound::Unbounded, bound)
        };
        Ok(field_query(field, Predicate::Range { lower, upper }))
    }

    fn parse_range(&mut self, field: &str) -> Result<Query, ParseError> {
        let open = self.peek().unwrap_or('[');
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == ']' || c == '}' {
                break;
            }
            self.pos += 1;
        }
        let Some(close) = self.peek() else {
            return Err(self.error(format!(
                "range for '{field}' is not closed with ']' or '}}'"
            )));
        };
        let inner: String = self.chars[start..self.pos].iter().map(|(_, c)| c).collect();
        self.pos += 1;
        let Some((lo, hi)) = inner.split_once(" TO ") else {
            return Err(self.error(format!(
                "range for '{field}' must read [LOW TO HIGH], got [{inner}]"
            )));
        };
        let bound = |text: &str, inclusive: bool| {
            let t = text.trim().trim_matches('"');
            if t == "*" {
                Bound::Unbounded
            } else if inclusive {
                Bound::Included(scalar(t))
            } else {
                Bound::Excluded(scalar(t))
            }
        };
        Ok(field_query(
            field,
            Predicate::Range {
                lower: bound(lo, open == '['),
                upper: bound(hi, close == ']'),
            },
        ))
    }

    fn read_quoted(&mut self) -> Result<String, ParseError> {
        let open_at = self.byte_pos();
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.pos += 1;
                    }
                }
                '"' => return Ok(out),
                other => out.push(other),
            }
        }
        Err(ParseError {
            position: open_at,
            message: "the quote opened here is never closed".into(),
        })
    }

    /// Reads an unquoted word up to whitespace or a parenthesis. Returns the word with
    /// escapes kept when it holds an unescaped wildcard (for [`Glob`]) and resolved otherwise.
    fn read_bare(&mut self) -> Result<(String, bool), ParseError> {
        let mut raw = String::new();
        let mut plain = String::new();
        let mut wild = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '(' || c == ')' {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                if let Some(n) = self.peek() {
                    self.pos += 1;
                    raw.push('\\');
                    raw.push(n);
                    plain.push(n);
                }
                continue;
            }
            if c == '*' || c == '?' {
                wild = true;
            }
            raw.push(c);
            plain.push(c);
        }
        if raw.is_empty() {
            return Err(self.error("expected a value".into()));
        }
        Ok(if wild { (raw, true) } else { (plain, false) })
    }
}

fn field_query(field: &str, predicate: Predicate) -> Query {
    Query::Field {
        field: field.to_owned(),
        predicate,
    }
}

fn text_query(word: &str, wild: bool) -> Query {
    if wild {
        if word == "*" {
            Query::All
        } else {
            Query::Text(TextPredicate::Wildcard(Glob::new(word)))
        }
    } else {
        Query::Text(TextPredicate::Word(word.to_owned()))
    }
}

/// A bare field value: `*` means exists, wildcards make a glob, `ip/len` a CIDR range.
fn bare_predicate(word: &str, wild: bool) -> Result<Predicate, String> {
    if wild {
        return Ok(if word == "*" {
            Predicate::Exists
        } else {
            Predicate::Wildcard(Glob::new(word))
        });
    }
    if let Some((net, len)) = word.split_once('/')
        && let (Ok(network), Ok(prefix)) = (net.parse::<IpAddr>(), len.parse::<u8>())
    {
        let max = if network.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!(
                "'{word}': a CIDR prefix for this address is at most /{max}"
            ));
        }
        return Ok(Predicate::Cidr { network, prefix });
    }
    Ok(Predicate::Term(word.to_owned()))
}

/// Types a range bound by how it reads.
fn scalar(text: &str) -> Scalar {
    if let Ok(n) = text.parse::<f64>()
        && n.is_finite()
    {
        return Scalar::Number(n);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Scalar::Ip(ip);
    }
    if let Some(t) = parse_time(text) {
        return Scalar::Time(t);
    }
    Scalar::Text(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(f: &str, p: Predicate) -> Query {
        Query::Field {
            field: f.into(),
            predicate: p,
        }
    }

    #[test]
    fn field_term_and_implicit_and() {
        let q = parse("event.code:4625 user.name:admin").unwrap();
        assert_eq!(
            q,
            Query::And(vec![
                field("event.code", Predicate::Term("4625".into())),
                field("user.name", Predicate::Term("admin".into()))
            ])
        );
    }

    #[test]
    fn cidr_and_ipv6_values() {
        assert_eq!(
            parse("source.ip:10.0.0.0/8").unwrap(),
            field(
                "source.ip",
                Predicate::Cidr {
                    network: "10.0.0.0".parse().unwrap(),
                    prefix: 8
                }
            )
        );
        assert_eq!(
            parse("source.ip:fe80::1").unwrap(),
            field("source.ip", Predicate::Term("fe80::1".into()))
        );
    }

    #[test]
    fn precedence_not_and_or() {
        let q = parse("a:1 OR b:2 AND NOT c:3").unwrap();
        let Query::Or(parts) = q else {
            panic!("expected OR at top")
        };
        assert_eq!(parts.len(), 2);
        assert!(matches!(&parts[1], Query::And(v) if matches!(v[1], Query::Not(_))));
    }

    #[test]
    fn ranges_and_comparisons() {
        let q = parse("destination.port:[1 TO 1024}").unwrap();
        assert_eq!(
            q,
            field(
                "destination.port",
                Predicate::Range {
                    lower: Bound::Included(Scalar::Number(1.0)),
                    upper: Bound::Excluded(Scalar::Number(1024.0))
                }
            )
        );
        let q = parse("@timestamp:>=2024-01-01T00:00:00Z").unwrap();
        assert!(matches!(
            q,
            Query::Field {
                predicate: Predicate::Range {
                    lower: Bound::Included(Scalar::Time(_)),
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn field_groups_apply_the_field() {
        let q = parse("user.name:(root OR admin)").unwrap();
        assert_eq!(
            q,
            Query::Or(vec![
                field("user.name", Predicate::Term("root".into())),
                field("user.name", Predicate::Term("admin".into()))
            ])
        );
    }

    #[test]
    fn free_text_phrase_wildcard_and_exists() {
        assert_eq!(
            parse("\"invalid user\"").unwrap(),
            Query::Text(TextPredicate::Phrase("invalid user".into()))
        );
        assert!(matches!(
            parse("pass*").unwrap(),
            Query::Text(TextPredicate::Wildcard(_))
        ));
        assert_eq!(
            parse("_exists_:user.name").unwrap(),
            field("user.name", Predicate::Exists)
        );
        assert_eq!(
            parse("user.name:*").unwrap(),
            field("user.name", Predicate::Exists)
        );
        assert_eq!(parse("   ").unwrap(), Query::All);
    }

    #[test]
    fn bad_cidrs_and_dangling_operators_are_refused() {
        let e = parse("source.ip:10.0.0.0/99").unwrap_err();
        assert!(e.message.contains("at most /32"), "{e}");
        assert_eq!(e.position, 10);
        let e = parse("a OR OR b").unwrap_err();
        assert!(e.message.contains("before this operator"), "{e}");
        assert!(parse("AND").is_err());
        assert!(parse("x:1 AND").is_err());
        assert!(parse("\"OR\"").is_ok(), "a quoted operator is a phrase");
    }

    #[test]
    fn minus_negates() {
        assert_eq!(
            parse("-a:1").unwrap(),
            Query::Not(Box::new(field("a", Predicate::Term("1".into()))))
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("(a:1 OR b:2").unwrap_err();
        assert!(e.message.contains("')'"), "{e}");
        let e = parse("x:[1 TO").unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
        let e = parse("\"open").unwrap_err();
        assert_eq!(e.position, 0);
        let e = parse("x: 1").unwrap_err();
        assert!(e.message.contains("no space"), "{e}");
    }

    #[test]
    fn relative_times() {
        let now = Timestamp::now().0;
        let t = parse_time("now-1h").unwrap().0;
        assert!((now - t - 3_600_000_000_000).abs() < 5_000_000_000);
        assert!(parse_time("soon").is_none());
    }

    #[test]
    fn relative_times_out_of_range_are_not_times() {
        // Reproduced with the `parse_query` fuzz target: the offset was multiplied out unchecked.
        assert!(parse_time("now-99999999999d").is_none());
        assert!(parse_time("now+9223372036854775807s").is_none());
        let now = Timestamp::now().0;
        let t = parse_time("now-106751d").unwrap().0;
        assert!(t < now);
        let q = parse("@timestamp:>=now-99999999999d").unwrap();
        assert!(q.time_bounds().0.is_none());
        assert!(parse("x:[now-99999999999d TO now]").is_ok());
    }
}
