//! `cef`: ArcSight Common Event Format,
//! `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`,
//! alone or after a syslog header (RFC 3164 or 5424, with or without `<PRI>`; the header is
//! read by [`super::syslog`], so its host, priority and time are kept).
//!
//! * Header: `\|` and `\\` are unescaped; `CEF: 0` (a blank after the colon, as FortiOS
//!   writes it) is accepted. Fewer than seven header fields is an error naming the missing
//!   one. A record that ends right after Severity (no seventh `|`) has an empty extension.
//! * Extension: `key=value` pairs separated by spaces; a value runs until the blank before
//!   the next `key=` (so it may hold spaces), trailing blanks are trimmed; an `=` that is not
//!   preceded by a blank-delimited key word belongs to the value (`request=http://h/?a=b`).
//!   `\=`, `\\`, `\n`, `\r` are unescaped, and `\|` too (tolerated though not required).
//!
//! Field naming:
//! * **Every extension key is kept under its own bare name** (`src`, `cs1`, `cs1Label`,
//!   `FTNTFGTlogid`, …) with its text value (empty values are dropped), because detection
//!   rules written for CEF sources match on those names.
//! * **Custom labels**: the values of the custom keys `csN`, `cnN`, `cfpN`, `c6aN`,
//!   `flexStringN`, `flexNumberN`, `flexDateN`, `deviceCustomDateN`, `deviceCustomNumberN`
//!   and `deviceCustomStringN` whose `…Label` key is present are also stored as
//!   `cef.label.<Label>`, the label with every character other than ASCII letters, digits,
//!   `_` and `-` replaced by `_` (`cs5Label=Policy Id cs5=10` → `cef.label.Policy_Id: "10"`).
//! * Header: `cef.version` (integer), `cef.name`, `cef.severity` (as written),
//!   `observer.vendor/product/version`, `event.code` (Signature ID), `event.severity`
//!   (0-10; `Low` → 3, `Medium` → 6, `High` → 8, `Very-High` → 10, `Unknown` → none),
//!   `message` (the `msg` extension, else Name). `event.kind` is `alert` when the severity is
//!   7 or more (ArcSight's High and Very-High), with `rule.name` = Name; else `event`.
//! * ECS from the standard keys (short or full names): `src`/`dst` → `source.ip`/
//!   `destination.ip`, `spt`/`dpt` → ports, `smac`/`dmac` → MACs, `shost`/`dhost` →
//!   `source.domain`/`destination.domain`, `suser`/`duser` → `user.name`/
//!   `destination.user.name`, `suid`/`duid`, `sntdom`, `proto` → `network.transport`
//!   (lowercase, IANA numbers named), `app` → `network.protocol` (lowercase), `in`/`out` →
//!   `source.bytes`/`destination.bytes`, `act` → `event.action`, `outcome` →
//!   `event.outcome` (`success`/`failure`), `reason` → `event.reason`, `request` →
//!   `url.original`, `requestMethod`, `requestClientApplication` → `user_agent.original`,
//!   `requestContext` → `http.request.referrer`, `cat` → `rule.category`, `fname`/`filePath`/
//!   `fsize`/`fileHash` (by length: MD5, SHA-1, SHA-256) → `file.*`, `dvc`/`dvchost` →
//!   `observer.ip`/`observer.hostname`, `deviceExternalId` → `observer.serial_number`,
//!   `deviceInboundInterface`/`deviceOutboundInterface` → observer interfaces,
//!   `deviceDirection` (0/1) → `network.direction`, `externalId` → `event.id`, `sproc`/`spid`
//!   → `process.name`/`process.pid`, `sourceTranslatedAddress`/`Port` and
//!   `destinationTranslatedAddress`/`Port` → NAT fields.
//! * Time: `rt`, else `end`, else `start` (epoch milliseconds, `MMM dd yyyy HH:mm:ss[.SSS]
//!   [zone]`, `MMM dd HH:mm:ss`, ISO 8601; see [`normalize::parse_device_time`]) becomes the
//!   event time; an unreadable one is kept as text and the event keeps the syslog header's
//!   (or the receive) time.

use super::syslog;
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, ecs};
use std::borrow::Cow;

const HEADER_NAMES: [&str; 7] = [
    "Version",
    "Device Vendor",
    "Device Product",
    "Device Version",
    "Signature ID",
    "Name",
    "Severity",
];

const DESTINATION_USER_NAME: &str = "destination.user.name";
const DESTINATION_USER_ID: &str = "destination.user.id";
const DESTINATION_USER_DOMAIN: &str = "destination.user.domain";
const OBSERVER_SERIAL_NUMBER: &str = "observer.serial_number";
const OBSERVER_INGRESS_INTERFACE: &str = "observer.ingress.interface.name";
const OBSERVER_EGRESS_INTERFACE: &str = "observer.egress.interface.name";
const EVENT_REASON: &str = "event.reason";
const FILE_PATH: &str = "file.path";

/// Parses CEF records, with or without a syslog header. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct CefParser;

impl CefParser {
    pub fn new() -> Self {
        CefParser
    }
}

impl RecordParser for CefParser {
    fn format(&self) -> Format {
        Format::Cef
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = syslog::trim_record(record);
        if text.is_empty() {
            return Ok(None);
        }
        if text.starts_with("CEF:") {
            let mut event = Event::new(ctx.received, ctx.tenant.clone(), 32);
            parse_cef_into(text, &mut event, ctx)?;
            return Ok(Some(event));
        }
        syslog::parse_syslog(text, ctx, syslog::Payload::Cef).map(Some).map_err(|e| {
            if text.contains("CEF:") || e.0.starts_with("expected a CEF payload") {
                e
            } else {
                ParseError::new(format!(
                    "expected a record starting with `CEF:` (optionally after a syslog header), found '{}'",
                    normalize::excerpt(text, 40)
                ))
            }
        })
    }
}

/// Parses a CEF payload (`CEF:…`, no syslog header) into `event`: header, extension (bare
/// keys), custom labels and the ECS mapping described in the module documentation. The
/// event time becomes the payload's `rt` / `end` / `start` when one is readable.
pub fn parse_cef_into(
    payload: &str,
    event: &mut Event,
    ctx: &ParseContext,
) -> Result<(), ParseError> {
    let body = payload.strip_prefix("CEF:").ok_or_else(|| {
        ParseError::new(format!(
            "expected `CEF:` at the start of the payload, found '{}'",
            normalize::excerpt(payload, 16)
        ))
    })?;
    let (header, extension) = split_header(body)?;
    let version = header[0].trim();
    let version: i64 = version.parse().map_err(|_| {
        ParseError::new(format!(
            "CEF version '{}' at byte 4 is not a number (expected `CEF:0` or `CEF:1`)",
            normalize::excerpt(version, 16)
        ))
    })?;
    event.push("cef.version", version);
    event.push_str_nonempty(ecs::OBSERVER_VENDOR, &header[1]);
    event.push_str_nonempty(ecs::OBSERVER_PRODUCT, &header[2]);
    event.push_str_nonempty(ecs::OBSERVER_VERSION, &header[3]);
    event.push_str_nonempty(ecs::EVENT_CODE, &header[4]);
    let name = header[5].as_ref();
    event.push_str_nonempty("cef.name", name);
    let severity_text = header[6].trim();
    event.push_str_nonempty("cef.severity", severity_text);
    let severity = severity_number(severity_text);
    if let Some(s) = severity {
        event.push(ecs::EVENT_SEVERITY, s);
    }

    let pairs = extension_pairs(extension, b' ');
    let mut state = State::default();
    for (key, value) in &pairs {
        if !value.is_empty() {
            event.push(normalize::device_field_name(key), value.as_ref());
        }
    }
    for (key, value) in &pairs {
        match *key {
            "msg" | "message" => state.message = Some(value),
            "rt" | "deviceReceiptTime" => state.rt = Some(value),
            "start" | "startTime" => state.start = Some(value),
            "end" | "endTime" => state.end = Some(value),
            _ => map_standard_key(event, key, value),
        }
    }
    push_labels(event, &pairs);

    let time = [state.rt, state.end, state.start]
        .into_iter()
        .flatten()
        .find_map(|t| normalize::parse_device_time(t, ctx));
    if let Some(ts) = time {
        event.timestamp = ts;
    }
    match state.message {
        Some(msg) if !msg.is_empty() => event.push(ecs::MESSAGE, msg),
        _ => event.push_str_nonempty(ecs::MESSAGE, name),
    }
    if severity.is_some_and(|s| s >= 7) {
        event.push_str_nonempty(ecs::RULE_NAME, name);
        normalize::categorize(event, "alert", &[], &[]);
    } else {
        normalize::categorize(event, "event", &[], &[]);
    }
    Ok(())
}

/// Splits the seven header fields (unescaped) from the extension.
fn split_header(body: &str) -> Result<([Cow<'_, str>; 7], &str), ParseError> {
    let b = body.as_bytes();
    let mut fields: [Cow<'_, str>; 7] = Default::default();
    let mut count = 0;
    let mut start = 0;
    let mut escaped = false;
    let mut i = 0;
    while i < b.len() && count < 7 {
        match b[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'|' => {
                fields[count] = unescape_header(&body[start..i], escaped);
                count += 1;
                escaped = false;
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if count == 7 {
        return Ok((fields, &body[start.min(body.len())..]));
    }
    if count == 6 && start < body.len() {
        // `…|Name|Severity` without the closing `|`: an event without extension.
        fields[6] = unescape_header(&body[start..], escaped);
        return Ok((fields, ""));
    }
    let present = count + usize::from(start < body.len());
    Err(ParseError::new(format!(
        "CEF header has {present} of the 7 '|'-separated fields (Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity): '{}' is missing",
        HEADER_NAMES[present.min(6)]
    )))
}

/// Header escapes: `\|` → `|`, `\\` → `\`; any other backslash is kept.
fn unescape_header(raw: &str, escaped: bool) -> Cow<'_, str> {
    if !escaped {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('|' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The numeric severity of a CEF header: 0-10, or ArcSight's names.
fn severity_number(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse::<i64>() {
        return (0..=10).contains(&n).then_some(n);
    }
    match text.to_ascii_lowercase().as_str() {
        "low" => Some(3),
        "medium" => Some(6),
        "high" => Some(8),
        "very-high" | "very high" | "veryhigh" | "very_high" => Some(10),
        _ => None,
    }
}

#[inline]
fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'[' | b']')
}

/// Whether the byte at `pos` is escaped (preceded by an odd number of backslashes).
#[inline]
fn is_escaped(b: &[u8], pos: usize) -> bool {
    let mut n = 0;
    while n < pos && b[pos - 1 - n] == b'\\' {
        n += 1;
    }
    n % 2 == 1
}

/// Splits a CEF-style extension into `(key, value)` pairs: a key is a word of
/// `[A-Za-z0-9_.\-\[\]]` right before an unescaped `=` and right after `separator` (or at the
/// start); its value runs to the separator before the next key, unescaped (`\=`, `\\`,
/// `\n`, `\r`, `\|`), trailing blanks trimmed. Text before the first key is ignored.
pub(crate) fn extension_pairs(ext: &str, separator: u8) -> Vec<(&str, Cow<'_, str>)> {
    let b = ext.as_bytes();
    let mut keys: Vec<(usize, usize)> = Vec::with_capacity(24);
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'=', &b[from..]) {
        let eq = from + off;
        from = eq + 1;
        if is_escaped(b, eq) {
            continue;
        }
        let mut k = eq;
        while k > 0 && is_key_byte(b[k - 1]) {
            k -= 1;
        }
        let at_boundary = k == 0 || b[k - 1] == separator;
        if k < eq && at_boundary {
            keys.push((k, eq));
        }
    }
    let mut pairs = Vec::with_capacity(keys.len());
    for (n, &(k, eq)) in keys.iter().enumerate() {
        let end = keys
            .get(n + 1)
            .map_or(b.len(), |next| next.0.saturating_sub(1).max(eq + 1));
        let raw = ext[eq + 1..end].trim_end_matches([' ', '\t', '\r', '\n']);
        let raw = if separator != b' ' {
            raw.trim_end_matches(separator as char)
        } else {
            raw
        };
        pairs.push((&ext[k..eq], unescape_value(raw)));
    }
    pairs
}

/// Extension escapes: `\=` → `=`, `\\` → `\`, `\n` → newline, `\r` → carriage return,
/// `\|` → `|`; any other backslash is kept.
fn unescape_value(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\\', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('=') => out.push('='),
            Some('\\') => out.push('\\'),
            Some('|') => out.push('|'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// What the extension says that is applied after all keys are read.
#[derive(Default)]
struct State<'a> {
    rt: Option<&'a str>,
    start: Option<&'a str>,
    end: Option<&'a str>,
    message: Option<&'a str>,
}

/// Pushes the ECS field(s) for one standard CEF key (all but the time and message keys,
/// which the caller handles). Unknown keys push nothing.
pub(crate) fn map_standard_key(event: &mut Event, key: &str, value: &str) {
    match key {
        "src" | "sourceAddress" => normalize::push_ip(event, ecs::SOURCE_IP, value),
        "dst" | "destinationAddress" => normalize::push_ip(event, ecs::DESTINATION_IP, value),
        "spt" | "sourcePort" => normalize::push_port(event, ecs::SOURCE_PORT, value),
        "dpt" | "destinationPort" => normalize::push_port(event, ecs::DESTINATION_PORT, value),
        "sourceTranslatedAddress" => normalize::push_ip(event, ecs::SOURCE_NAT_IP, value),
        "sourceTranslatedPort" => normalize::push_port(event, ecs::SOURCE_NAT_PORT, value),
        "destinationTranslatedAddress" => normalize::push_ip(event, ecs::DESTINATION_NAT_IP, value),
        "destinationTranslatedPort" => {
            normalize::push_port(event, ecs::DESTINATION_NAT_PORT, value)
        }
        "smac" | "sourceMacAddress" => event.push_str_nonempty(ecs::SOURCE_MAC, value),
        "dmac" | "destinationMacAddress" => event.push_str_nonempty(ecs::DESTINATION_MAC, value),
        "shost" | "sourceHostName" => event.push_str_nonempty(ecs::SOURCE_DOMAIN, value),
        "dhost" | "destinationHostName" => event.push_str_nonempty(ecs::DESTINATION_DOMAIN, value),
        "suser" | "sourceUserName" => event.push_str_nonempty(ecs::USER_NAME, value),
        "duser" | "destinationUserName" => event.push_str_nonempty(DESTINATION_USER_NAME, value),
        "suid" | "sourceUserId" => event.push_str_nonempty(ecs::USER_ID, value),
        "duid" | "destinationUserId" => event.push_str_nonempty(DESTINATION_USER_ID, value),
        "sntdom" | "sourceNtDomain" => event.push_str_nonempty(ecs::USER_DOMAIN, value),
        "dntdom" | "destinationNtDomain" => event.push_str_nonempty(DESTINATION_USER_DOMAIN, value),
        "proto" | "transportProtocol" => normalize::push_transport(event, value),
        "app" | "applicationProtocol" if !value.is_empty() => {
            event.push(ecs::NETWORK_PROTOCOL, value.to_ascii_lowercase())
        }
        "in" | "bytesIn" => normalize::push_count(event, ecs::SOURCE_BYTES, value),
        "out" | "bytesOut" => normalize::push_count(event, ecs::DESTINATION_BYTES, value),
        "act" | "deviceAction" => event.push_str_nonempty(ecs::EVENT_ACTION, value),
        "outcome" | "eventOutcome" => {
            if let Some(outcome) = outcome_name(value) {
                event.push(ecs::EVENT_OUTCOME, outcome);
            }
        }
        "reason" => event.push_str_nonempty(EVENT_REASON, value),
        "request" | "requestURL" | "requestUrl" => {
            event.push_str_nonempty(ecs::URL_ORIGINAL, value)
        }
        "requestMethod" => event.push_str_nonempty(ecs::HTTP_REQUEST_METHOD, value),
        "requestClientApplication" => event.push_str_nonempty(ecs::USER_AGENT_ORIGINAL, value),
        "requestContext" => event.push_str_nonempty(ecs::HTTP_REQUEST_REFERRER, value),
        "cat" | "deviceEventCategory" => event.push_str_nonempty(ecs::RULE_CATEGORY, value),
        "fname" | "fileName" => event.push_str_nonempty(ecs::FILE_NAME, value),
        "filePath" => event.push_str_nonempty(FILE_PATH, value),
        "fsize" | "fileSize" => normalize::push_count(event, ecs::FILE_SIZE, value),
        "fileHash" => {
            let hash_field = match value.len() {
                32 => Some(ecs::FILE_HASH_MD5),
                40 => Some(ecs::FILE_HASH_SHA1),
                64 => Some(ecs::FILE_HASH_SHA256),
                _ => None,
            };
            if let Some(field) = hash_field.filter(|_| value.bytes().all(|c| c.is_ascii_hexdigit()))
            {
                event.push(field, value.to_ascii_lowercase());
            }
        }
        "dvc" | "deviceAddress" => normalize::push_ip(event, ecs::OBSERVER_IP, value),
        "dvchost" | "deviceHostName" => event.push_str_nonempty(ecs::OBSERVER_HOSTNAME, value),
        "deviceExternalId" => event.push_str_nonempty(OBSERVER_SERIAL_NUMBER, value),
        "deviceInboundInterface" => event.push_str_nonempty(OBSERVER_INGRESS_INTERFACE, value),
        "deviceOutboundInterface" => event.push_str_nonempty(OBSERVER_EGRESS_INTERFACE, value),
        "deviceDirection" => match value {
            "0" => event.push(ecs::NETWORK_DIRECTION, "inbound"),
            "1" => event.push(ecs::NETWORK_DIRECTION, "outbound"),
            _ => {}
        },
        "externalId" => event.push_str_nonempty(ecs::EVENT_ID, value),
        "sproc" | "sourceProcessName" => event.push_str_nonempty(ecs::PROCESS_NAME, value),
        "spid" | "sourceProcessId" => normalize::push_count(event, ecs::PROCESS_PID, value),
        _ => {}
    }
}

/// `event.outcome` from a CEF `outcome` (`success`, `failure`, `failed`, `Success`, …).
fn outcome_name(value: &str) -> Option<&'static str> {
    let lower = value.trim().to_ascii_lowercase();
    match lower.as_str() {
        "success" | "succeeded" | "successful" | "allowed" | "ok" => Some("success"),
        "failure" | "failed" | "fail" | "denied" | "error" => Some("failure"),
        "unknown" => Some("unknown"),
        _ => None,
    }
}

/// The custom keys that take a `…Label` key.
fn is_custom_key(key: &str) -> bool {
    const PREFIXES: [&str; 10] = [
        "cs",
        "cn",
        "cfp",
        "c6a",
        "flexString",
        "flexNumber",
        "flexDate",
        "deviceCustomDate",
        "deviceCustomNumber",
        "deviceCustomString",
    ];
    PREFIXES.iter().any(|p| {
        key.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
    })
}

/// `cs1Label=Foo cs1=bar` → `cef.label.Foo: "bar"` (in either order).
fn push_labels(event: &mut Event, pairs: &[(&str, Cow<'_, str>)]) {
    for (key, label) in pairs {
        let Some(base) = key.strip_suffix("Label") else {
            continue;
        };
        if label.trim().is_empty() || !is_custom_key(base) {
            continue;
        }
        let Some((_, value)) = pairs.iter().find(|(k, _)| *k == base) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let mut name = String::with_capacity(10 + label.len());
        name.push_str("cef.label.");
        name.extend(label.trim().chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        }));
        event.push(name, value.as_ref());
    }
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
        CefParser::new()
            .parse(line, &ctx())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap()
    }

    fn err(line: &str) -> String {
        CefParser::new().parse(line, &ctx()).expect_err(line).0
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    // No public CEF sample file exists (see the data's SOURCE.md); these records are the
    // examples of the ArcSight CEF specification ("Implementing ArcSight Common Event
    // Format", the character-encoding section) and of Fortinet's FortiOS Log Message
    // Reference ("Traffic log support for CEF", "Event log support for CEF").

    #[test]
    fn spec_example_with_syslog_header() {
        let e = parse(
            "Sep 19 08:26:10 host CEF:0|security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
        );
        assert_eq!(e.get("cef.version"), Some(&Value::Int(0)));
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("security"));
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("threatmanager"));
        assert_eq!(e.get_str(ecs::OBSERVER_VERSION), Some("1.0"));
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("100"));
        assert_eq!(e.get(ecs::EVENT_SEVERITY), Some(&Value::Int(10)));
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        assert_eq!(e.get_str(ecs::RULE_NAME), Some("worm successfully stopped"));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("worm successfully stopped"));
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.0.0.1")));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("2.1.2.2")));
        assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(1232)));
        assert_eq!(e.get_str("src"), Some("10.0.0.1"));
        assert_eq!(e.get_str("spt"), Some("1232"));
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("host"));
        assert_eq!(e.timestamp.to_rfc3339(), "2023-09-19T08:26:10Z");
    }

    #[test]
    fn spec_escaping_examples() {
        // A pipe in the header is escaped; in the extension it needs no escape.
        let e = parse(
            "CEF:0|security|threatmanager|1.0|100|detected a \\| in message|10|src=10.0.0.1 act=blocked a | dst=1.1.1.1",
        );
        assert_eq!(e.get_str("cef.name"), Some("detected a | in message"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("blocked a |"));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("1.1.1.1")));
        // An escaped pipe in the extension is tolerated.
        let e = parse(
            "CEF:0|security|threatmanager|1.0|100|detected a \\| in message|10|src=10.0.0.1 act=blocked a \\| dst=1.1.1.1",
        );
        assert_eq!(e.get_str("act"), Some("blocked a |"));
        assert_eq!(e.get_str("dst"), Some("1.1.1.1"));
        // Backslashes.
        let e = parse(
            "CEF:0|security|threatmanager|1.0|100|detected a \\\\ in packet|10|src=10.0.0.1 act=blocked a \\\\ dst=1.1.1.1",
        );
        assert_eq!(e.get_str("cef.name"), Some("detected a \\ in packet"));
        assert_eq!(e.get_str("act"), Some("blocked a \\"));
        // Equal signs: unescaped in the header, escaped in the extension.
        let e = parse(
            "CEF:0|security|threatmanager|1.0|100|detected a = in message|10|src=10.0.0.1 act=blocked a \\= dst=1.1.1.1",
        );
        assert_eq!(e.get_str("cef.name"), Some("detected a = in message"));
        assert_eq!(e.get_str("act"), Some("blocked a ="));
        assert_eq!(e.get_str("dst"), Some("1.1.1.1"));
        let e =
            parse("CEF:0|security|threatmanager|1.0|100|detected a \\= in message|10|src=10.0.0.1");
        assert_eq!(
            e.get_str("cef.name"),
            Some("detected a \\= in message"),
            "only \\| and \\\\ are header escapes"
        );
        // Multi-line values.
        let e = parse(
            "CEF:0|security|threatmanager|1.0|100|Detected a threat. No action needed.|10|src=10.0.0.1 msg=Detected a threat.\\n No action needed.",
        );
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("Detected a threat.\n No action needed.")
        );
    }

    #[test]
    fn values_with_spaces_urls_and_trailing_blanks() {
        let e = parse(
            "CEF:0|V|P|1|2|n|3|request=http://h/p?a=b&c=d requestMethod=GET msg=two words  suser=bob   \r\n",
        );
        assert_eq!(e.get_str(ecs::URL_ORIGINAL), Some("http://h/p?a=b&c=d"));
        assert_eq!(e.get_str(ecs::HTTP_REQUEST_METHOD), Some("GET"));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("two words"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("bob"));
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
        assert_eq!(e.get(ecs::RULE_NAME), None);
    }

    #[test]
    fn fortinet_traffic_log_in_cef() {
        // FortiOS 6.0.3 / 7.2.4 Log Message Reference, "Traffic log support for CEF" (the
        // record as printed there, up to `act=close`).
        let e = parse(
            "Dec 27 11:07:55 FGT-A-LOG CEF: 0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|deviceExternalId=FGT5HD3915800610 FTNTFGTlogid=0000000013 cat=traffic:forward FTNTFGTsubtype=forward FTNTFGTlevel=notice FTNTFGTvd=vdom1 FTNTFGTeventtime=1545937675 src=10.1.100.11 spt=54190 deviceInboundInterface=port12 FTNTFGTsrcintfrole=undefined dst=52.53.140.235 dpt=443 deviceOutboundInterface=port11 FTNTFGTdstintfrole=undefined FTNTFGTpoluuid=c2d460aa-fe6f-51e8-9505-41b5117dfdd4 externalId=402 proto=6 act=close",
        );
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("FGT-A-LOG"));
        assert_eq!(e.get("cef.version"), Some(&Value::Int(0)));
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("Fortinet"));
        assert_eq!(e.get_str(ecs::OBSERVER_VERSION), Some("v6.0.3"));
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("00013"));
        assert_eq!(e.get_str(OBSERVER_SERIAL_NUMBER), Some("FGT5HD3915800610"));
        assert_eq!(e.get_str(OBSERVER_INGRESS_INTERFACE), Some("port12"));
        assert_eq!(e.get_str(OBSERVER_EGRESS_INTERFACE), Some("port11"));
        assert_eq!(e.get_str(ecs::RULE_CATEGORY), Some("traffic:forward"));
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.1.100.11")));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(443)));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("close"));
        assert_eq!(e.get_str(ecs::EVENT_ID), Some("402"));
        assert_eq!(
            e.get_str("FTNTFGTpoluuid"),
            Some("c2d460aa-fe6f-51e8-9505-41b5117dfdd4")
        );
        assert_eq!(e.get(ecs::EVENT_SEVERITY), Some(&Value::Int(3)));
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
    }

    #[test]
    fn fortinet_event_log_labels_and_outcome() {
        // FortiOS 5.6 "Traffic log support for CEF" (custom string with a label) and 7.2.4
        // "Event log support for CEF" (a failed administrator log-in).
        let e = parse(
            "Feb 12 11:11:30 syslog-800c CEF:0|Fortinet|Fortigate|v5.6.0|00013|traffic:forward close|3|FTNTFGTlogid=0000000013 cat=traffic:forward src=192.168.1.183 shost=192.168.1.183 spt=45719 dst=192.168.70.184 dhost=192.168.70.184 dpt=80 externalId=56633 proto=6 act=close cs5=10 cs5Label=Policy Id FTNTFGTdstcountry=Reserved sourceTranslatedAddress=192.168.70.214 sourceTranslatedPort=45719 app=HTTP",
        );
        assert_eq!(e.get_str("cef.label.Policy_Id"), Some("10"));
        assert_eq!(e.get_str("cs5Label"), Some("Policy Id"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("http"));
        assert_eq!(e.get(ecs::SOURCE_NAT_IP), Some(&ip("192.168.70.214")));
        assert_eq!(e.get(ecs::SOURCE_NAT_PORT), Some(&Value::Int(45719)));
        assert_eq!(e.get_str(ecs::DESTINATION_DOMAIN), Some("192.168.70.184"));

        let e = parse(
            "Dec 27 11:15:40 FGT-A-LOG CEF: 0|Fortinet|Fortigate|v6.0.3|32002|event:system login failed|7|deviceExternalId=FGT5HD3915800610 FTNTFGTlogid=0100032002 cat=event:system FTNTFGTsubtype=system FTNTFGTlevel=alert FTNTFGTvd=vdom1 FTNTFGTeventtime=1545938140 FTNTFGTlogdesc=Admin login failed FTNTFGTsn=0 duser=admin1 sproc=https(172.16.200.254) FTNTFGTmethod=https src=172.16.200.254 dst=172.16.200.1 act=login outcome=failed reason=name_invalid msg=Administrator admin1 login failed from https(172.16.200.254) because of invalid user name",
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get_str(DESTINATION_USER_NAME), Some("admin1"));
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("https(172.16.200.254)"));
        assert_eq!(e.get_str("FTNTFGTlogdesc"), Some("Admin login failed"));
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some(
                "Administrator admin1 login failed from https(172.16.200.254) because of invalid user name"
            )
        );
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        assert_eq!(e.get_str(ecs::RULE_NAME), Some("event:system login failed"));
    }

    #[test]
    fn device_times() {
        let e = parse("CEF:0|V|P|1|2|n|3|rt=1545937675000 src=1.2.3.4");
        assert_eq!(e.timestamp.to_rfc3339(), "2018-12-27T19:07:55Z");
        let e = parse("CEF:0|V|P|1|2|n|3|rt=Sep 07 2018 14:50:39 cat=Access Log");
        assert_eq!(e.timestamp.to_rfc3339(), "2018-09-07T14:50:39Z");
        assert_eq!(e.get_str(ecs::RULE_CATEGORY), Some("Access Log"));
        // Trend Micro Apex Central's documented `rt` form.
        let e = parse(
            "CEF:0|Trend Micro|Apex Central|2019|NCIE:Pass|Suspicious Connection|3|rt=Oct 11 2017 06:34:06 GMT+00:00 src=10.201.86.152",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2017-10-11T06:34:06Z");
        let e = parse("CEF:0|V|P|1|2|n|3|end=Mar 01 2024 10:00:00.500 CET");
        assert_eq!(e.timestamp.to_rfc3339(), "2024-03-01T09:00:00.500Z");
        // Unreadable: kept as text, the receive time stays.
        let e = parse("CEF:0|V|P|1|2|n|3|rt=yesterday");
        assert_eq!(e.timestamp, ctx().received);
        assert_eq!(e.get_str("rt"), Some("yesterday"));
    }

    #[test]
    fn textual_severities_and_file_hashes() {
        for (sev, want, kind) in [
            ("Low", 3, "event"),
            ("Medium", 6, "event"),
            ("High", 8, "alert"),
            ("Very-High", 10, "alert"),
        ] {
            let e = parse(&format!(
                "CEF:0|V|P|1|2|n|{sev}|fname=a b.exe fsize=1024 fileHash=44D88612FEA8A8F36DE82E1278ABB02F"
            ));
            assert_eq!(e.get(ecs::EVENT_SEVERITY), Some(&Value::Int(want)), "{sev}");
            assert_eq!(e.get_str(ecs::EVENT_KIND), Some(kind), "{sev}");
            assert_eq!(e.get_str(ecs::FILE_NAME), Some("a b.exe"));
            assert_eq!(e.get(ecs::FILE_SIZE), Some(&Value::Int(1024)));
            assert_eq!(
                e.get_str(ecs::FILE_HASH_MD5),
                Some("44d88612fea8a8f36de82e1278abb02f")
            );
        }
        let e = parse("CEF:0|V|P|1|2|n|Unknown|");
        assert_eq!(e.get(ecs::EVENT_SEVERITY), None);
        assert_eq!(e.get_str("cef.severity"), Some("Unknown"));
    }

    #[test]
    fn header_only_and_no_trailing_pipe() {
        let e = parse("CEF:0|Red Hat|RHEL|8.0.0|100|SSH login|5");
        assert_eq!(e.get(ecs::EVENT_SEVERITY), Some(&Value::Int(5)));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("SSH login"));
        let e = parse("CEF:1|security|threat\\|->manager|1.0|100|trojan successfully stopped|10|");
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("threat|->manager"));
        assert_eq!(e.get("cef.version"), Some(&Value::Int(1)));
    }

    #[test]
    fn malformed_cef_is_refused_with_a_reason() {
        assert_eq!(
            err("CEF:0|Vendor|Product|1.0"),
            "CEF header has 4 of the 7 '|'-separated fields (Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity): 'Signature ID' is missing"
        );
        assert!(
            err("CEF:0|SentinelOne|Mgmt|activityID=1111 activityType=3505")
                .contains("has 4 of the 7")
        );
        assert!(err("CEF:x|V|P|1|2|n|3|a=b").contains("CEF version 'x' at byte 4 is not a number"));
        assert!(err("just some text").starts_with("expected a record starting with `CEF:`"));
        assert!(
            err("Sep 19 08:26:10 host sshd[1]: not cef")
                .contains("expected a CEF payload starting with `CEF:` after the syslog header")
        );
        assert!(err("<999>CEF:0|a|b|c|d|e|1|").contains("PRI value 999"));
    }

    #[test]
    fn extension_splitting() {
        let pairs = extension_pairs("a=1 b=two words c=x\\=y d= e=last ", b' ');
        let got: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        assert_eq!(
            got,
            vec![
                ("a", "1"),
                ("b", "two words"),
                ("c", "x=y"),
                ("d", ""),
                ("e", "last")
            ]
        );
        // `=` inside a value that is not after a blank-delimited word stays in the value.
        let pairs = extension_pairs("msg=Hello World error=Failed because id==old_id", b' ');
        let got: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        assert_eq!(
            got,
            vec![
                ("msg", "Hello World"),
                ("error", "Failed because"),
                ("id", "=old_id")
            ]
        );
    }
}
