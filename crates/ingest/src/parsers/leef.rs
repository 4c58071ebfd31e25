//! `leef`: IBM QRadar Log Event Extended Format 1.0 and 2.0, alone or after a syslog header
//! (read by [`super::syslog`]).
//!
//! * `LEEF:1.0|Vendor|Product|Version|EventID|` then attributes separated by TAB.
//! * `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|` then attributes separated
//!   by that character: a single character (`^`) or its code in hex (`x5E`, `0x5E`, `x09`,
//!   1-4 hex digits), or `\t`. A 2.0 header without the delimiter field (a common vendor
//!   mistake) means TAB, as does an empty one.
//! * Tolerated: a LEEF 1.0 record without any TAB whose attributes are separated by blanks
//!   (`src=10.50.1.1  dst=2.10.20.20  spt=1200`, split like a CEF extension so values may
//!   hold blanks) or by `^` (Trellix); a header without the trailing `|`.
//!
//! Field naming: every attribute is kept under its own bare name (`src`, `usrName`,
//! `devTime`, …) with its text value (empty values are dropped); the header gives
//! `leef.version`, `observer.vendor/product/version` and `event.code` (EventID). ECS from
//! the predefined attributes: `src`/`dst`/`srcPort`/`dstPort` → source/destination IP and
//! port, `srcPostNAT`/`dstPostNAT` (+`Port`) → NAT fields, `srcMAC`/`dstMAC`, `usrName` →
//! `user.name`, `proto` → `network.transport` (lowercase, IANA numbers named), `sev` →
//! `event.severity` (1-10; 7 or more makes `event.kind: alert`), `cat` → `rule.category`,
//! `srcBytes`/`dstBytes`/`totalBytes` and the packet counters, `identSrc` → `related.ip`,
//! `identHostName` → `related.hosts`, `url` → `url.original`, `msg` → `message`,
//! `action` → `event.action`, `isLoginEvent`/`isLogoutEvent` → `event.category:
//! authentication` with `event.type` start / end. Keys LEEF does not define but CEF does
//! (`shost`, `spt`, `suser`, `request`, …, as some LEEF senders write them) are mapped as
//! the CEF parser maps them. `devTime` becomes the event time, read with `devTimeFormat`
//! (Java `SimpleDateFormat` letters `yyyy yy MMM MM M dd d HH H hh h mm m ss s SSS a EEE z Z
//! X 'literal'`) or, without it, as epoch milliseconds / `MMM dd yyyy HH:mm:ss` / ISO 8601.

use super::{cef, syslog};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Timestamp, ecs};
use std::borrow::Cow;

/// Parses LEEF records, with or without a syslog header. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct LeefParser;

impl LeefParser {
    pub fn new() -> Self {
        LeefParser
    }
}

impl RecordParser for LeefParser {
    fn format(&self) -> Format {
        Format::Leef
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = syslog::trim_record(record);
        if text.is_empty() {
            return Ok(None);
        }
        if text.starts_with("LEEF:") {
            let mut event = Event::new(ctx.received, ctx.tenant.clone(), 32);
            parse_leef_into(text, &mut event, ctx)?;
            return Ok(Some(event));
        }
        syslog::parse_syslog(text, ctx, syslog::Payload::Leef).map(Some).map_err(|e| {
            if text.contains("LEEF:") || e.0.starts_with("expected a LEEF payload") {
                e
            } else {
                ParseError::new(format!(
                    "expected a record starting with `LEEF:` (optionally after a syslog header), found '{}'",
                    normalize::excerpt(text, 40)
                ))
            }
        })
    }
}

/// Parses a LEEF payload (`LEEF:…`, no syslog header) into `event`: header, attributes
/// (bare keys) and the ECS mapping described in the module documentation. The event time
/// becomes `devTime` when it is readable.
pub fn parse_leef_into(
    payload: &str,
    event: &mut Event,
    ctx: &ParseContext,
) -> Result<(), ParseError> {
    let body = payload.strip_prefix("LEEF:").ok_or_else(|| {
        ParseError::new(format!(
            "expected `LEEF:` at the start of the payload, found '{}'",
            normalize::excerpt(payload, 16)
        ))
    })?;
    let (fields, rest) = split_header(body)?;
    let version_text = fields[0].trim();
    let major = match version_text.split('.').next() {
        Some("1") => 1,
        Some("2") => 2,
        _ => {
            return Err(ParseError::new(format!(
                "LEEF version '{}' at byte 5 is not 1.0 or 2.0",
                normalize::excerpt(version_text, 16)
            )));
        }
    };
    event.push("leef.version", version_text);
    event.push_str_nonempty(ecs::OBSERVER_VENDOR, &fields[1]);
    event.push_str_nonempty(ecs::OBSERVER_PRODUCT, &fields[2]);
    event.push_str_nonempty(ecs::OBSERVER_VERSION, &fields[3]);
    event.push_str_nonempty(ecs::EVENT_CODE, &fields[4]);

    let (delimiter, attributes) = if major == 2 {
        delimiter_v2(rest, body.len() - rest.len() + 5)?
    } else {
        ('\t', rest)
    };
    let pairs = attribute_pairs(attributes, delimiter, major == 1);

    let mut dev_time = None;
    let mut dev_time_format = None;
    let mut message = None;
    let mut severity = None;
    let mut login = None;
    for (key, value) in &pairs {
        if !value.is_empty() {
            event.push(normalize::device_field_name(key), value.as_ref());
        }
    }
    for (key, value) in &pairs {
        let value = value.as_ref();
        match *key {
            "src" => normalize::push_ip(event, ecs::SOURCE_IP, value),
            "dst" => normalize::push_ip(event, ecs::DESTINATION_IP, value),
            "srcPort" => normalize::push_port(event, ecs::SOURCE_PORT, value),
            "dstPort" => normalize::push_port(event, ecs::DESTINATION_PORT, value),
            "srcPostNAT" => normalize::push_ip(event, ecs::SOURCE_NAT_IP, value),
            "dstPostNAT" => normalize::push_ip(event, ecs::DESTINATION_NAT_IP, value),
            "srcPostNATPort" => normalize::push_port(event, ecs::SOURCE_NAT_PORT, value),
            "dstPostNATPort" => normalize::push_port(event, ecs::DESTINATION_NAT_PORT, value),
            "srcMAC" => event.push_str_nonempty(ecs::SOURCE_MAC, value),
            "dstMAC" => event.push_str_nonempty(ecs::DESTINATION_MAC, value),
            "usrName" => event.push_str_nonempty(ecs::USER_NAME, value),
            "proto" => normalize::push_transport(event, value),
            "sev" => {
                if let Ok(s) = value.trim().parse::<i64>() {
                    event.push(ecs::EVENT_SEVERITY, s);
                    severity = Some(s);
                }
            }
            "cat" => event.push_str_nonempty(ecs::RULE_CATEGORY, value),
            "srcBytes" => normalize::push_count(event, ecs::SOURCE_BYTES, value),
            "dstBytes" => normalize::push_count(event, ecs::DESTINATION_BYTES, value),
            "totalBytes" => normalize::push_count(event, ecs::NETWORK_BYTES, value),
            "srcPackets" => normalize::push_count(event, ecs::SOURCE_PACKETS, value),
            "dstPackets" => normalize::push_count(event, ecs::DESTINATION_PACKETS, value),
            "totalPackets" => normalize::push_count(event, ecs::NETWORK_PACKETS, value),
            "identSrc" => normalize::push_ip(event, ecs::RELATED_IP, value),
            "identHostName" => event.push_str_nonempty(ecs::RELATED_HOSTS, value),
            "url" => event.push_str_nonempty(ecs::URL_ORIGINAL, value),
            "action" => event.push_str_nonempty(ecs::EVENT_ACTION, value),
            "msg" | "message" => message = Some(value),
            "devTime" => dev_time = Some(value),
            "devTimeFormat" => dev_time_format = Some(value),
            "isLoginEvent" if value.eq_ignore_ascii_case("true") => login = Some(true),
            "isLogoutEvent" if value.eq_ignore_ascii_case("true") => login = Some(false),
            "rt" | "start" | "end" | "deviceReceiptTime" => {}
            other => cef::map_standard_key(event, other, value),
        }
    }
    if let Some(text) = dev_time {
        let ts = match dev_time_format {
            Some(pattern) => parse_java_time(pattern, text, ctx)
                .or_else(|| normalize::parse_device_time(text, ctx)),
            None => normalize::parse_device_time(text, ctx),
        };
        if let Some(ts) = ts {
            event.timestamp = ts;
        }
    }
    if let Some(msg) = message.filter(|m| !m.is_empty()) {
        event.push(ecs::MESSAGE, msg);
    }
    let kind = if severity.is_some_and(|s| s >= 7) {
        "alert"
    } else {
        "event"
    };
    match login {
        Some(true) => normalize::categorize(event, kind, &["authentication"], &["start"]),
        Some(false) => normalize::categorize(event, kind, &["authentication"], &["end"]),
        None => normalize::categorize(event, kind, &[], &[]),
    }
    Ok(())
}

/// The five header fields (version, vendor, product, version, event id) and what follows
/// the fifth `|`. `\|` in a field is unescaped.
fn split_header(body: &str) -> Result<([Cow<'_, str>; 5], &str), ParseError> {
    const NAMES: [&str; 5] = ["Version", "Vendor", "Product", "Version", "EventID"];
    let b = body.as_bytes();
    let mut fields: [Cow<'_, str>; 5] = Default::default();
    let mut count = 0;
    let mut start = 0;
    let mut escaped = false;
    let mut i = 0;
    while i < b.len() && count < 5 {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'|') => {
                escaped = true;
                i += 2;
            }
            b'|' => {
                let raw = &body[start..i];
                fields[count] = if escaped {
                    Cow::Owned(raw.replace("\\|", "|"))
                } else {
                    Cow::Borrowed(raw)
                };
                count += 1;
                escaped = false;
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if count == 5 {
        return Ok((fields, &body[start..]));
    }
    if count == 4 && start < body.len() && !body[start..].contains('=') {
        // `LEEF:1.0|V|P|1.0|EventID` without the closing `|`: no attributes.
        fields[4] = Cow::Borrowed(&body[start..]);
        return Ok((fields, ""));
    }
    let present = count + usize::from(start < body.len());
    Err(ParseError::new(format!(
        "LEEF header has {present} of the 5 '|'-separated fields (LEEF:Version|Vendor|Product|Version|EventID): '{}' is missing",
        NAMES[present.min(4)]
    )))
}

/// The LEEF 2.0 delimiter field at the start of `rest` and the attributes after it.
/// `at` is the byte offset of `rest` in the record, for errors.
fn delimiter_v2(rest: &str, at: usize) -> Result<(char, &str), ParseError> {
    if let Some(after) = rest.strip_prefix("||") {
        return Ok(('|', after));
    }
    if let Some(after) = rest.strip_prefix('|') {
        return Ok(('\t', after));
    }
    let Some(bar) = rest.find('|') else {
        // No delimiter field at all: TAB.
        return Ok(('\t', rest));
    };
    let spec = &rest[..bar];
    if spec.contains('=') {
        // The field is an attribute: the delimiter field was left out.
        return Ok(('\t', rest));
    }
    let mut chars = spec.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok((c, &rest[bar + 1..]));
    }
    if spec == "\\t" {
        return Ok(('\t', &rest[bar + 1..]));
    }
    let hex = spec
        .strip_prefix("0x")
        .or_else(|| spec.strip_prefix("0X"))
        .or_else(|| spec.strip_prefix('x'))
        .or_else(|| spec.strip_prefix('X'));
    if let Some(hex) =
        hex.filter(|h| (1..=4).contains(&h.len()) && h.bytes().all(|c| c.is_ascii_hexdigit()))
        && let Some(c) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
    {
        return Ok((c, &rest[bar + 1..]));
    }
    Err(ParseError::new(format!(
        "LEEF 2.0 DelimiterCharacter '{}' at byte {at} is neither one character nor its hex code (x5E, 0x09)",
        normalize::excerpt(spec, 16)
    )))
}

/// Splits the attributes into `(key, value)` pairs.
fn attribute_pairs(attributes: &str, delimiter: char, v1: bool) -> Vec<(&str, Cow<'_, str>)> {
    let attributes = attributes.trim_end_matches(['\r', '\n']);
    if v1 && delimiter == '\t' && !attributes.contains('\t') {
        // Senders that ignore the TAB rule: `^` (Trellix) or blanks.
        let caret_keys = attributes
            .match_indices('^')
            .filter(|(i, _)| looks_like_key_at(attributes, i + 1))
            .count();
        if caret_keys > 0 {
            return split_on(attributes, '^');
        }
        return cef::extension_pairs(attributes, b' ');
    }
    split_on(attributes, delimiter)
}

/// Whether `text[at..]` starts with `key=`.
fn looks_like_key_at(text: &str, at: usize) -> bool {
    let rest = &text.as_bytes()[at.min(text.len())..];
    let n = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    n > 0 && rest.get(n) == Some(&b'=')
}

fn split_on(attributes: &str, delimiter: char) -> Vec<(&str, Cow<'_, str>)> {
    attributes
        .split(delimiter)
        .filter_map(|piece| {
            let (key, value) = piece.split_once('=')?;
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            Some((key, Cow::Borrowed(value.trim_end_matches(['\r', '\n']))))
        })
        .collect()
}

/// Reads `text` with a Java `SimpleDateFormat` pattern (the letters LEEF senders use; see
/// the module documentation). `None` when the text does not follow the pattern.
pub fn parse_java_time(pattern: &str, text: &str, ctx: &ParseContext) -> Option<Timestamp> {
    let p: Vec<char> = pattern.trim().chars().collect();
    let t = text.trim().as_bytes();
    let mut stamp = normalize::MonthDayTime {
        year: None,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
    };
    let mut pm = None;
    let mut hour12 = false;
    let mut zone = None;
    let (mut pi, mut ti) = (0, 0);
    while pi < p.len() {
        let c = p[pi];
        if c == '\'' {
            // Quoted literal; `''` is a quote.
            pi += 1;
            if p.get(pi) == Some(&'\'') {
                if t.get(ti) != Some(&b'\'') {
                    return None;
                }
                ti += 1;
                pi += 1;
                continue;
            }
            while pi < p.len() && p[pi] != '\'' {
                let mut buf = [0u8; 4];
                for &byte in p[pi].encode_utf8(&mut buf).as_bytes() {
                    if t.get(ti) != Some(&byte) {
                        return None;
                    }
                    ti += 1;
                }
                pi += 1;
            }
            pi += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == ' ' {
                if t.get(ti) != Some(&b' ') {
                    return None;
                }
                while t.get(ti) == Some(&b' ') {
                    ti += 1;
                }
            } else {
                let mut buf = [0u8; 4];
                for &byte in c.encode_utf8(&mut buf).as_bytes() {
                    if t.get(ti) != Some(&byte) {
                        return None;
                    }
                    ti += 1;
                }
            }
            pi += 1;
            continue;
        }
        let mut count = 1;
        while p.get(pi + count) == Some(&c) {
            count += 1;
        }
        pi += count;
        // A numeric field directly followed by another letter field is read with its exact width
        // (never wider than the field: `yyyyyyyyyyyyM` must not read 12 digits into a `u32`).
        let adjacent = p.get(pi).is_some_and(|n| n.is_ascii_alphabetic());
        let number = |ti: &mut usize, max: usize| -> Option<u32> {
            let limit = if adjacent { count.min(max) } else { max };
            let start = *ti;
            let mut v = 0u32;
            while *ti < t.len() && t[*ti].is_ascii_digit() && *ti - start < limit {
                v = v * 10 + (t[*ti] - b'0') as u32;
                *ti += 1;
            }
            (*ti > start).then_some(v)
        };
        match c {
            'y' | 'u' => {
                let v = number(&mut ti, 4)?;
                stamp.year = Some(if count == 2 {
                    2000 + v as i32
                } else {
                    v as i32
                });
            }
            'M' | 'L' if count >= 3 => {
                let start = ti;
                while ti < t.len() && t[ti].is_ascii_alphabetic() {
                    ti += 1;
                }
                stamp.month = normalize::month_number(std::str::from_utf8(&t[start..ti]).ok()?)?;
            }
            'M' | 'L' => stamp.month = number(&mut ti, 2)?,
            'd' => stamp.day = number(&mut ti, 2)?,
            'H' | 'k' => stamp.hour = number(&mut ti, 2)? % 24,
            'h' | 'K' => {
                stamp.hour = number(&mut ti, 2)? % 12;
                hour12 = true;
            }
            'm' => stamp.minute = number(&mut ti, 2)?,
            's' => stamp.second = number(&mut ti, 2)?,
            'S' => {
                let (nanos, len) = normalize::fraction_nanos(t, ti);
                if len == 0 {
                    return None;
                }
                stamp.nanos = nanos;
                ti += len;
            }
            'a' => {
                let word = t.get(ti..ti + 2)?;
                pm = Some(word.eq_ignore_ascii_case(b"PM"));
                ti += 2;
            }
            'E' => {
                while ti < t.len() && t[ti].is_ascii_alphabetic() {
                    ti += 1;
                }
            }
            'z' | 'Z' | 'X' | 'x' | 'O' | 'V' => {
                let start = ti;
                while ti < t.len() && !t[ti].is_ascii_whitespace() {
                    ti += 1;
                }
                zone = Some(normalize::parse_zone(
                    std::str::from_utf8(&t[start..ti]).ok()?,
                )?);
            }
            _ => return None,
        }
    }
    if ti != t.len() {
        return None;
    }
    if hour12 && pm == Some(true) {
        stamp.hour += 12;
    }
    stamp.to_utc(ctx, zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::{Value, parse_rfc3339};

    fn ctx() -> ParseContext {
        let mut ctx = ParseContext::new("t");
        ctx.received = parse_rfc3339("2024-06-01T00:00:00Z").unwrap();
        ctx
    }

    fn parse(line: &str) -> Event {
        LeefParser::new()
            .parse(line, &ctx())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap()
    }

    fn err(line: &str) -> String {
        LeefParser::new().parse(line, &ctx()).expect_err(line).0
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    // No public LEEF sample file exists (see the data's SOURCE.md); these records are the
    // examples of IBM's LEEF guide ("LEEF event components": the header examples, the
    // attribute example `src=192.0.2.0 dst=172.50.123.1 sev=5 cat=anomaly srcPort=81
    // dstPort=21 usrName=joe.black`, the 2.0 delimiter examples `^`, `x5E`, `0x5E`, `x09`),
    // with the attribute lists Tenzir's and Trend Micro's documentation show for them.

    #[test]
    fn leef_1_0_tab_separated() {
        let e = parse(
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tcat=anomaly\tsrcPort=81\tdstPort=21\tusrName=joe.black",
        );
        assert_eq!(e.get_str("leef.version"), Some("1.0"));
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("Microsoft"));
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("MSExchange"));
        assert_eq!(e.get_str(ecs::OBSERVER_VERSION), Some("4.0 SP1"));
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("15345"));
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("192.0.2.0")));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("172.50.123.1")));
        assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(81)));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(21)));
        assert_eq!(e.get(ecs::EVENT_SEVERITY), Some(&Value::Int(5)));
        assert_eq!(e.get_str(ecs::RULE_CATEGORY), Some("anomaly"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("joe.black"));
        assert_eq!(e.get_str("usrName"), Some("joe.black"));
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
    }

    #[test]
    fn leef_2_0_caret_delimiter() {
        let e = parse(
            "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21",
        );
        assert_eq!(e.get_str("leef.version"), Some("2.0"));
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("Lancope"));
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("41"));
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.0.1.8")));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.0.0.5")));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(21)));
        assert_eq!(e.get_str("sev"), Some("5"));
    }

    #[test]
    fn leef_2_0_hex_delimiters() {
        for spec in ["x5E", "0x5E", "X5e"] {
            let e = parse(&format!(
                "LEEF:2.0|Lancope|StealthWatch|1.0|41|{spec}|src=10.0.1.8^dst=10.0.0.5^srcPort=81"
            ));
            assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.0.0.5")), "{spec}");
            assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(81)), "{spec}");
        }
        let e = parse(
            "LEEF:2.0|Lancope|StealthWatch|1.0|41|x09|src=10.0.1.8\tdst=10.0.0.5\tusrName=a b",
        );
        assert_eq!(e.get_str(ecs::USER_NAME), Some("a b"));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.0.0.5")));
        // The delimiter field left out (a known vendor mistake): TAB.
        let e = parse("LEEF:2.0|Lancope|StealthWatch|1.0|41|src=10.0.1.8\tdst=10.0.0.5");
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.0.0.5")));
        // `|` as the delimiter.
        let e = parse("LEEF:2.0|V|P|1|41|||src=10.0.1.8|dst=10.0.0.5");
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.0.0.5")));
    }

    #[test]
    fn leef_1_0_with_blanks_or_carets_instead_of_tabs() {
        // Tenzir's "real-world" LEEF 1.0 example separates attributes with blanks.
        let e = parse(
            "LEEF:1.0|Microsoft|MSExchange|2016|15345|src=10.50.1.1  dst=2.10.20.20  spt=1200",
        );
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.50.1.1")));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("2.10.20.20")));
        assert_eq!(
            e.get(ecs::SOURCE_PORT),
            Some(&Value::Int(1200)),
            "CEF's spt is mapped too"
        );
        // Trellix documents `^` with LEEF:1.0.
        let e = parse(
            "LEEF:1.0|Trellix|MPS|8.2.0.74484|malware-callback|src=10.0.0.1^dst=10.0.0.2^msg=callback seen",
        );
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.0.0.2")));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("callback seen"));
    }

    #[test]
    fn syslog_headers_before_leef() {
        // IBM's RFC 3164 and RFC 5424 header examples.
        let e = parse(
            "<13>Jan 18 11:07:53 192.168.1.1 LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5",
        );
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("192.168.1.1"));
        assert_eq!(e.timestamp.to_rfc3339(), "2024-01-18T11:07:53Z");
        assert_eq!(e.get(ecs::LOG_SYSLOG_PRIORITY), Some(&Value::Int(13)));
        let e = parse(
            "Jan 18 11:07:53 myhostname LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0",
        );
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("myhostname"));
        let e = parse(
            "<133>1 2019-01-18T11:07:53.520+07:00 myhostname - - - - LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2019-01-18T04:07:53.520Z");
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("MSExchange"));
    }

    #[test]
    fn dev_time_with_and_without_format() {
        // Trend Micro Deep Discovery's documented devTime / devTimeFormat pair.
        let e = parse(
            "LEEF:1.0|Trend Micro|Deep Discovery Director|5.3.0.1212|DISRUPTIVE_APPLICATION_DETECTION|devTime=Mar 09 2015 17:05:21 GMT+08:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsev=8\tdst=10.1.144.199",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2015-03-09T09:05:21Z");
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        let e = parse(
            "LEEF:2.0|V|P|1|E|^|devTime=2021-10-12T13:14:15.678+0200^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2021-10-12T11:14:15.678Z");
        let e = parse(
            "LEEF:2.0|V|P|1|E|^|devTime=12/10/2021 01:14:15 PM^devTimeFormat=dd/MM/yyyy hh:mm:ss a",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2021-10-12T13:14:15Z");
        // Without devTimeFormat: epoch milliseconds or `MMM dd yyyy HH:mm:ss`.
        let e = parse("LEEF:1.0|V|P|1|E|devTime=1634044455000");
        assert_eq!(e.timestamp.to_rfc3339(), "2021-10-12T13:14:15Z");
        let e = parse("LEEF:1.0|V|P|1|E|devTime=Oct 12 2021 13:14:15");
        assert_eq!(e.timestamp.to_rfc3339(), "2021-10-12T13:14:15Z");
        // Unreadable: kept as text, receive time.
        let e = parse("LEEF:1.0|V|P|1|E|devTime=soon\tdevTimeFormat=yyyy");
        assert_eq!(e.timestamp, ctx().received);
        assert_eq!(e.get_str("devTime"), Some("soon"));
    }

    #[test]
    fn login_events_are_categorized() {
        let e = parse("LEEF:2.0|V|P|1|4624|^|usrName=alice^isLoginEvent=true^src=10.0.0.9^proto=6");
        assert_eq!(
            e.get(ecs::EVENT_CATEGORY),
            Some(&Value::from(&["authentication"][..]))
        );
        assert_eq!(e.get(ecs::EVENT_TYPE), Some(&Value::from(&["start"][..])));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("tcp"));
    }

    #[test]
    fn header_without_attributes() {
        let e = parse("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|");
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("15345"));
        let e = parse("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345");
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("15345"));
    }

    #[test]
    fn malformed_leef_is_refused_with_a_reason() {
        assert_eq!(
            err("LEEF:1.0|Microsoft|MSExchange"),
            "LEEF header has 3 of the 5 '|'-separated fields (LEEF:Version|Vendor|Product|Version|EventID): 'Version' is missing"
        );
        assert!(
            err("LEEF:3.0|V|P|1|E|a=b").contains("LEEF version '3.0' at byte 5 is not 1.0 or 2.0")
        );
        assert!(err("LEEF:2.0|V|P|1|E|xZZ|a=b").contains("DelimiterCharacter 'xZZ' at byte 17"));
        assert!(err("plain text").starts_with("expected a record starting with `LEEF:`"));
        assert!(err("Jan 18 11:07:53 host CEF:0|a|b|c|d|e|1|").contains("expected a LEEF payload"));
    }

    #[test]
    fn java_patterns() {
        let c = ctx();
        let t = |p: &str, s: &str| parse_java_time(p, s, &c).map(|t| t.to_rfc3339());
        assert_eq!(
            t("yyyyMMddHHmmss", "20211012131415").as_deref(),
            Some("2021-10-12T13:14:15Z")
        );
        assert_eq!(
            t(
                "EEE MMM d HH:mm:ss zzz yyyy",
                "Tue Oct 12 13:14:15 UTC 2021"
            )
            .as_deref(),
            Some("2021-10-12T13:14:15Z")
        );
        assert_eq!(
            t("MMM dd HH:mm:ss", "Feb 03 04:05:06").as_deref(),
            Some("2024-02-03T04:05:06Z")
        );
        assert_eq!(
            t("yyyy-MM-dd HH:mm:ss XXX", "2021-10-12 13:14:15 +09:00").as_deref(),
            Some("2021-10-12T04:14:15Z")
        );
        assert_eq!(t("yyyy-MM-dd", "2021-10-12 extra"), None);
    }

    #[test]
    fn overlong_numeric_pattern_field_does_not_overflow() {
        // Reproduced with the `parse_leef` fuzz target: an adjacent numeric field was read as
        // wide as its pattern letters, so 14 `y` read 14 digits and overflowed the `u32`.
        let c = ctx();
        assert_eq!(
            parse_java_time("yyyyyyyyyyyyyyMM", "99999999999999912", &c),
            None
        );
        let e = parse("LEEF:1.0|V|P|1|E|devTime=99999999999991\tdevTimeFormat=yyyyyyyyyyyyyyMM");
        assert_eq!(e.timestamp, c.received);
        assert_eq!(e.get_str("devTime"), Some("99999999999991"));
    }
}
