//! `syslog`: RFC 3164 (BSD) and RFC 5424 messages, with or without `<PRI>`.
//!
//! * **RFC 3164**: `[<PRI>]TIMESTAMP HOSTNAME TAG[PID]: MSG`. The time stamp is
//!   `Mmm dd hh:mm:ss` (day padded with a space or not, optional `.frac`), optionally with a
//!   year (`Mmm dd yyyy hh:mm:ss`, or `… hh:mm:ss yyyy`, or a zone and a year as in RFC 3164
//!   §5.4: `Aug 24 05:34:00 CST 1987`), or an ISO 8601 / RFC 3339 stamp (rsyslog's high
//!   precision format). Stamps without a year or a zone are placed with
//!   [`normalize::MonthDayTime::to_utc`] (`ParseContext.year` / `.timezone`). The host is
//!   optional (a first word that already is a tag, `sshd[12]:`, is taken as the tag). The
//!   tag is `name`, `name[pid]`, `name[pid] (context)` (macOS), `name[pid] message` (no
//!   colon); a name of up to four words is accepted when it ends at a `[pid]`
//!   (`Microsoft Word[14463]:`, `-- root[2421]:`), and of two words when the second is a
//!   version (`syslogd 1.4.1:`), the way loghub reads them; text that does not start with
//!   such a tag is all message. A record with `<PRI>` but no readable time stamp keeps
//!   everything after `<PRI>` as the message (RFC 3164 §4.3.3); without `<PRI>` it is
//!   malformed.
//! * **RFC 5424**: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]` with
//!   NILVALUE `-`, several SD-ELEMENTs, escapes `\"`, `\\`, `\]` in PARAM-VALUEs (any other
//!   backslash is kept, as the RFC says) and a UTF-8 BOM before MSG.
//! * **Payloads**: a MSG (or the text right after `<PRI>`, or right after the header) that
//!   starts with `CEF:` or `LEEF:` is parsed by [`super::cef`] / [`super::leef`]; text that
//!   starts with two or more `key=value` pairs at the start of the record (after an optional
//!   `<PRI>`: FortiGate's `<189>date=2019-05-10 time=…`) or right after the 3164 host (no
//!   tag) is parsed by [`super::kv`]. The payload's device time (CEF `rt`, LEEF `devTime`,
//!   FortiGate `eventtime`) wins over the syslog header's.
//!
//! Fields: `@timestamp`, `host.hostname` (and `host.ip` when the host is an address),
//! `log.syslog.priority/facility/severity` and `log.level` (from `<PRI>`),
//! `log.syslog.version/appname/procid/msgid` (RFC 5424 header), `process.name` /
//! `process.pid` (3164 tag or 5424 APP-NAME / numeric PROCID), `log.syslog.context` (the
//! macOS `(context)` after the tag; not ECS), `message` (trailing blanks trimmed),
//! structured data as `log.syslog.structured_data.<SD-ID>.<PARAM-NAME>`. sshd and PAM
//! log-ins (`Accepted …`, `Failed …`, `Invalid user …`, `authentication failure; …`) get
//! `event.category: authentication`, `event.outcome`, `event.action: ssh_login` (sshd),
//! `user.name`, `source.ip` (`source.domain` when PAM's `rhost` is a name) and
//! `source.port`.

use super::{cef, kv, leef, winlog};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, ecs};

const LOG_SYSLOG_CONTEXT: &str = "log.syslog.context";
const STRUCTURED_DATA_PREFIX: &str = "log.syslog.structured_data.";

/// Parses syslog records (RFC 3164 and RFC 5424). Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyslogParser;

impl SyslogParser {
    pub fn new() -> Self {
        SyslogParser
    }
}

impl RecordParser for SyslogParser {
    fn format(&self) -> Format {
        Format::Syslog
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = trim_record(record);
        if text.is_empty() {
            return Ok(None);
        }
        parse_syslog(text, ctx, Payload::Any).map(Some)
    }
}

/// The payload a caller requires inside the syslog message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Whatever the message holds (plain text, CEF, LEEF, key=value).
    Any,
    /// A CEF payload (`CEF:…`) is required; anything else is an error.
    Cef,
    /// A LEEF payload (`LEEF:…`) is required; anything else is an error.
    Leef,
}

/// A record without its line end and surrounding blanks.
pub(crate) fn trim_record(record: &str) -> &str {
    record.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\0')
}

/// Parses one syslog record (already trimmed) into an event. With `expect` other than
/// [`Payload::Any`], the message must carry that payload (how the CEF and LEEF parsers
/// strip a syslog header).
pub fn parse_syslog(text: &str, ctx: &ParseContext, expect: Payload) -> Result<Event, ParseError> {
    let mut event = Event::new(ctx.received, ctx.tenant.clone(), 20);
    let b = text.as_bytes();
    let mut rest = text;
    let mut had_pri = false;
    if b.first() == Some(&b'<') {
        let (pri, len) = parse_pri(text)?;
        normalize::push_syslog_priority(&mut event, pri);
        rest = &text[len..];
        had_pri = true;
    }

    if let Some(kind) = payload_kind(rest, true) {
        return finish_payload(event, rest, kind, ctx, expect);
    }
    if had_pri && is_rfc5424(rest) {
        return parse_5424(event, text, rest, ctx, expect);
    }

    match parse_3164_stamp(rest, ctx) {
        Some((ts, used)) => {
            event.timestamp = ts;
            rest = rest[used..].trim_start_matches(' ');
        }
        None if had_pri => {
            // RFC 3164 §4.3.3: without a valid TIMESTAMP the whole rest is the MSG.
            return finish_message(event, None, rest, ctx, expect);
        }
        None => {
            return Err(ParseError::new(format!(
                "expected `<PRI>`, an RFC 3164 time stamp (`Mmm dd hh:mm:ss`) or an ISO 8601 time stamp at byte 0, found '{}'",
                normalize::excerpt(text, 32)
            )));
        }
    }

    // `host CEF:0|…` / `CEF:0|…` right after the time stamp.
    if let Some(kind) = payload_kind(rest, false) {
        return finish_payload(event, rest, kind, ctx, expect);
    }
    let token_end = rest.find(' ').unwrap_or(rest.len());
    let token = &rest[..token_end];
    if !token.is_empty() && !looks_like_tag(token) {
        event.push(ecs::HOST_HOSTNAME, token);
        if let Some(ip) = normalize::parse_ip(token) {
            event.push(ecs::HOST_IP, ip);
        }
        rest = rest[token_end..].trim_start_matches(' ');
        if let Some(kind) = payload_kind(rest, true) {
            return finish_payload(event, rest, kind, ctx, expect);
        }
    }

    match split_tag(rest) {
        Some((tag, msg)) => {
            event.push(ecs::PROCESS_NAME, tag.name);
            if let Some(pid) = tag.pid {
                match pid.parse::<i64>() {
                    Ok(n) => event.push(ecs::PROCESS_PID, n),
                    Err(_) => event.push_str_nonempty(ecs::LOG_SYSLOG_PROCID, pid),
                }
            }
            if let Some(context) = tag.context {
                event.push_str_nonempty(LOG_SYSLOG_CONTEXT, context);
            }
            finish_message(event, Some(tag.name), msg, ctx, expect)
        }
        None => finish_message(event, None, rest, ctx, expect),
    }
}

/// `<PRI>` at the start of `text`: the value and the bytes it takes.
fn parse_pri(text: &str) -> Result<(u8, usize), ParseError> {
    let b = text.as_bytes();
    let mut i = 1;
    let mut value: u32 = 0;
    while i < b.len() && i <= 4 && b[i].is_ascii_digit() {
        value = value * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    if i == 1 {
        return Err(ParseError::new(format!(
            "expected 1-3 digits of PRI after '<' at byte 1, found '{}'",
            normalize::excerpt(&text[1..], 16)
        )));
    }
    if i > 4 || b.get(i) != Some(&b'>') {
        return Err(ParseError::new(format!(
            "expected '>' closing the PRI (1-3 digits) at byte {i}, found '{}'",
            normalize::excerpt(&text[i.min(text.len())..], 16)
        )));
    }
    if value > 191 {
        return Err(ParseError::new(format!(
            "PRI value {value} at byte 1 is out of range 0..=191"
        )));
    }
    Ok((value as u8, i + 1))
}

/// What kind of payload `text` starts with: CEF, LEEF, or (when `kv` is allowed) key=value.
fn payload_kind(text: &str, kv: bool) -> Option<Found> {
    if text.starts_with("CEF:") {
        Some(Found::Cef)
    } else if text.starts_with("LEEF:") {
        Some(Found::Leef)
    } else if text.starts_with("<Event") && winlog::looks_like_event_xml(text) {
        Some(Found::WindowsXml)
    } else if text.starts_with('{') && crate::detect::detect_record(text) == crate::Format::Winlog {
        Some(Found::WindowsJson)
    } else if kv && starts_with_kv_pair(text) {
        Some(Found::Kv)
    } else {
        None
    }
}

/// A payload found in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Cef,
    Leef,
    Kv,
    /// A Windows event as XML (Sysmon for Linux, NXLog `to_xml()` over syslog).
    WindowsXml,
    /// A Windows event as agent JSON (NXLog `to_json()` over syslog).
    WindowsJson,
}

/// Whether `text` starts with `key=` where key is a word (`date=`, `devname=`), followed by
/// another `key=` later: the FortiGate shape, not free text that happens to hold a `=`.
fn starts_with_kv_pair(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-')) {
        i += 1;
    }
    if i == 0 || b.get(i) != Some(&b'=') || !b[0].is_ascii_alphabetic() {
        return false;
    }
    // At least a second pair.
    memchr::memchr(b'=', &b[i + 1..]).is_some()
}

fn finish_payload(
    mut event: Event,
    payload: &str,
    kind: Found,
    ctx: &ParseContext,
    expect: Payload,
) -> Result<Event, ParseError> {
    match (kind, expect) {
        (Found::Cef, Payload::Any | Payload::Cef) => cef::parse_cef_into(payload, &mut event, ctx)?,
        (Found::Leef, Payload::Any | Payload::Leef) => {
            leef::parse_leef_into(payload, &mut event, ctx)?
        }
        (Found::Kv, Payload::Any) => kv::parse_kv_into(payload, &mut event, ctx)?,
        (Found::WindowsXml | Found::WindowsJson, Payload::Any) => {
            return windows_payload(event, payload, ctx);
        }
        _ => return Err(missing_payload(expect, payload)),
    }
    Ok(event)
}

/// A Windows event carried in a syslog message: the event is what the Windows record says
/// (its time, computer, channel, event data); the syslog header's fields are kept beside it.
fn windows_payload(header: Event, payload: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
    let mut parser = winlog::WinlogParser::new();
    let mut event = parser
        .parse(payload, ctx)?
        .ok_or_else(|| ParseError::new("the Windows event in the syslog message is empty"))?;
    for (name, value) in header.fields {
        if event.get(&name).is_none() {
            event.fields.push((name, value));
        }
    }
    Ok(event)
}

fn missing_payload(expect: Payload, found: &str) -> ParseError {
    let (name, marker) = match expect {
        Payload::Cef => ("CEF", "CEF:"),
        Payload::Leef => ("LEEF", "LEEF:"),
        Payload::Any => ("any", ""),
    };
    ParseError::new(format!(
        "expected a {name} payload starting with `{marker}` after the syslog header, found '{}'",
        normalize::excerpt(found, 40)
    ))
}

/// Pushes the message (or parses its CEF / LEEF payload) and categorizes the event.
fn finish_message(
    mut event: Event,
    process: Option<&str>,
    msg: &str,
    ctx: &ParseContext,
    expect: Payload,
) -> Result<Event, ParseError> {
    let msg = msg.trim_end();
    if let Some(kind) = payload_kind(msg, false) {
        return finish_payload(event, msg, kind, ctx, expect);
    }
    if expect != Payload::Any {
        return Err(missing_payload(expect, msg));
    }
    if !msg.is_empty() {
        event.push(ecs::MESSAGE, msg);
    }
    match process.and_then(|p| classify_auth(p, msg)) {
        Some(auth) => {
            normalize::categorize(&mut event, "event", &["authentication"], &["info"]);
            event.push(ecs::EVENT_OUTCOME, auth.outcome);
            if auth.ssh {
                event.push(ecs::EVENT_ACTION, "ssh_login");
            }
            if let Some(user) = auth.user {
                event.push_str_nonempty(ecs::USER_NAME, user);
            }
            if let Some(host) = auth.source_host {
                // PAM's rhost may be a name.
                match normalize::parse_ip(host) {
                    Some(ip) => event.push(ecs::SOURCE_IP, ip),
                    None => event.push_str_nonempty(ecs::SOURCE_DOMAIN, host),
                }
            }
            if let Some(port) = auth.source_port {
                normalize::push_port(&mut event, ecs::SOURCE_PORT, port);
            }
        }
        None => normalize::categorize(&mut event, "event", &[], &[]),
    }
    Ok(event)
}

// ---------------------------------------------------------------------------------------
// RFC 3164
// ---------------------------------------------------------------------------------------

/// The time stamp at the start of a 3164 record: `Mmm dd [yyyy] hh:mm:ss[.frac]` with an
/// optional trailing year or `ZONE yyyy`, or ISO 8601. Returns the time and bytes consumed.
fn parse_3164_stamp(text: &str, ctx: &ParseContext) -> Option<(haechi_event::Timestamp, usize)> {
    let first = *text.as_bytes().first()?;
    if first.is_ascii_digit() {
        let (ts, used) = normalize::parse_iso8601_prefix(text, ctx)?;
        // The stamp must end at a blank (or the end), not run into other text.
        return match text.as_bytes().get(used) {
            None | Some(b' ') => Some((ts, used)),
            _ => None,
        };
    }
    let (mut stamp, mut used) = normalize::parse_month_day_time(text)?;
    let b = text.as_bytes();
    if used < b.len() && b[used] != b' ' {
        // `Oct 11 22:14:15:` (a colon after the stamp, Cisco style) is tolerated.
        if b[used] == b':' && b.get(used + 1).is_none_or(|c| *c == b' ') {
            used += 1;
        } else {
            return None;
        }
    }
    let mut zone = None;
    if stamp.year.is_none() {
        // `… hh:mm:ss yyyy host` or `… hh:mm:ss CST 1987 host` (RFC 3164 §5.4).
        let after = &text[used..];
        let mut words = after.split(' ').filter(|w| !w.is_empty());
        let (w0, w1, w2) = (words.next(), words.next(), words.next());
        let is_year = |w: &str| {
            w.len() == 4
                && w.bytes().all(|c| c.is_ascii_digit())
                && (1970..=2100).contains(&w.parse::<i32>().unwrap_or(0))
        };
        // Where a word (a sub-slice of `text`) ends, as an offset into `text`.
        let end_of = |w: &str| w.as_ptr() as usize - text.as_ptr() as usize + w.len();
        match (w0, w1, w2) {
            (Some(year), Some(_), _) if is_year(year) => {
                stamp.year = year.parse().ok();
                used = end_of(year);
            }
            (Some(abbr), Some(year), Some(_))
                if (3..=4).contains(&abbr.len())
                    && abbr.bytes().all(|c| c.is_ascii_uppercase())
                    && is_year(year) =>
            {
                if let Some(z) = normalize::parse_zone(abbr) {
                    zone = Some(z);
                    stamp.year = year.parse().ok();
                    used = end_of(year);
                }
            }
            _ => {}
        }
    }
    Some((stamp.to_utc(ctx, zone)?, used))
}

/// Whether the first word after the time stamp already is a tag (`sshd[12]:`, `kernel:`),
/// i.e. the record has no host name.
fn looks_like_tag(token: &str) -> bool {
    token.len() > 1 && token.ends_with(':') && !token.ends_with("::")
}

/// A 3164 tag: `name[pid] (context):`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag<'a> {
    name: &'a str,
    pid: Option<&'a str>,
    context: Option<&'a str>,
}

/// Splits `TAG: MSG`. `None` when the text does not start with a tag (then it is all MSG).
fn split_tag(text: &str) -> Option<(Tag<'_>, &str)> {
    let b = text.as_bytes();
    let len = b.len();
    let word_end = |from: usize| {
        let mut i = from;
        while i < len && !matches!(b[i], b' ' | b'[' | b':') {
            i += 1;
        }
        i
    };
    let mut i = word_end(0);
    if i == 0 {
        return None;
    }
    if i < len && b[i] == b' ' {
        // Multi-word tags, as loghub reads them: a name that ends at a `[pid]`
        // (`Microsoft Word[14463]:`, `-- root[2421]:`, up to four words), or a second word
        // that is a version or follows punctuation (`syslogd 1.4.1:`).
        let first = &text[..i];
        let pid_follows = |k: usize| {
            let digits = b[k + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let close = k + 1 + digits;
            digits > 0
                && b.get(close) == Some(&b']')
                && matches!(b.get(close + 1), Some(b':') | Some(b' '))
        };
        let mut end = i;
        let mut words = 1;
        let mut found = None;
        while end < len && b[end] == b' ' && words < 4 {
            let j = end + 1;
            let k = word_end(j);
            if k == j {
                break;
            }
            words += 1;
            if k < len && b[k] == b'[' && pid_follows(k) {
                found = Some(k);
                break;
            }
            if k < len
                && b[k] == b':'
                && words == 2
                && (b[j].is_ascii_digit() || first.bytes().all(|c| c.is_ascii_punctuation()))
            {
                found = Some(k);
                break;
            }
            if k < len && b[k] != b' ' {
                break;
            }
            end = k;
        }
        i = found?;
    }
    let name = &text[..i];
    let mut pid = None;
    let mut has_pid = false;
    if i < len && b[i] == b'[' {
        let close = i + memchr::memchr(b']', &b[i..])?;
        pid = Some(&text[i + 1..close]);
        has_pid = true;
        i = close + 1;
    }
    let mut context = None;
    if i + 1 < len
        && b[i] == b' '
        && b[i + 1] == b'('
        && let Some(close) = text[i..].find("):")
    {
        context = Some(&text[i + 2..i + close]);
        i += close + 1;
    }
    if i < len && b[i] == b':' {
        let msg = text[i + 1..].trim_start_matches(' ');
        return Some((Tag { name, pid, context }, msg));
    }
    if i == len && has_pid {
        return Some((Tag { name, pid, context }, ""));
    }
    if has_pid && b.get(i) == Some(&b' ') {
        // `name[pid] message` without the colon.
        return Some((
            Tag { name, pid, context },
            text[i + 1..].trim_start_matches(' '),
        ));
    }
    None
}

// ---------------------------------------------------------------------------------------
// RFC 5424
// ---------------------------------------------------------------------------------------

/// Whether the text after `<PRI>` starts with an RFC 5424 VERSION (`1 `).
fn is_rfc5424(rest: &str) -> bool {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() && i < 3 {
        i += 1;
    }
    i > 0
        && i <= 2
        && b[0] != b'0'
        && b.get(i) == Some(&b' ')
        && b.get(i + 1)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'-')
}

fn parse_5424(
    mut event: Event,
    text: &str,
    rest: &str,
    ctx: &ParseContext,
    expect: Payload,
) -> Result<Event, ParseError> {
    let base = text.len() - rest.len();
    let mut cursor = Cursor {
        text: rest,
        pos: 0,
        base,
    };
    let version = cursor.word();
    event.push(ecs::LOG_SYSLOG_VERSION, version);

    const NAMES: [&str; 5] = ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"];
    let mut header = [""; 5];
    for (n, slot) in header.iter_mut().enumerate() {
        cursor.skip_spaces();
        if cursor.at_end() {
            return Err(ParseError::new(format!(
                "RFC 5424 header ends at byte {} after {}: expected {}",
                cursor.abs(),
                if n == 0 { "VERSION" } else { NAMES[n - 1] },
                NAMES[n..].join(", ")
            )));
        }
        *slot = cursor.word();
    }
    let [timestamp, hostname, appname, procid, msgid] = header;
    if timestamp != "-" {
        match normalize::parse_iso8601(timestamp, ctx) {
            Some(ts) => event.timestamp = ts,
            None => {
                return Err(ParseError::new(format!(
                    "RFC 5424 TIMESTAMP '{}' at byte {} is not an RFC 3339 date-time",
                    normalize::excerpt(timestamp, 40),
                    base + version.len() + 1
                )));
            }
        }
    }
    if hostname != "-" {
        event.push(ecs::HOST_HOSTNAME, hostname);
        if let Some(ip) = normalize::parse_ip(hostname) {
            event.push(ecs::HOST_IP, ip);
        }
    }
    if appname != "-" {
        event.push(ecs::LOG_SYSLOG_APPNAME, appname);
        event.push(ecs::PROCESS_NAME, appname);
    }
    if procid != "-" {
        event.push(ecs::LOG_SYSLOG_PROCID, procid);
        if let Ok(pid) = procid.parse::<i64>() {
            event.push(ecs::PROCESS_PID, pid);
        }
    }
    if msgid != "-" {
        event.push(ecs::LOG_SYSLOG_MSGID, msgid);
    }

    cursor.skip_spaces();
    match cursor.peek() {
        None => {}
        Some(b'-') if matches!(cursor.peek_at(1), None | Some(b' ')) => cursor.pos += 1,
        Some(b'[') => parse_structured_data(&mut cursor, &mut event)?,
        Some(_) => {
            return Err(ParseError::new(format!(
                "RFC 5424: expected STRUCTURED-DATA ('-' or '[') at byte {}, found '{}'",
                cursor.abs(),
                normalize::excerpt(cursor.remaining(), 24)
            )));
        }
    }
    let mut msg = cursor.remaining();
    if let Some(m) = msg.strip_prefix(' ') {
        msg = m;
    } else if !msg.is_empty() {
        return Err(ParseError::new(format!(
            "RFC 5424: expected a space between STRUCTURED-DATA and MSG at byte {}, found '{}'",
            cursor.abs(),
            normalize::excerpt(msg, 24)
        )));
    }
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let process = (appname != "-").then_some(appname);
    finish_message(event, process, msg, ctx, expect)
}

/// A read position in the text after `<PRI>`; `base` turns it into a byte offset of the
/// whole record for error messages.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }
    fn abs(&self) -> usize {
        self.base + self.pos
    }
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }
    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + ahead).copied()
    }
    fn remaining(&self) -> &'a str {
        &self.text[self.pos.min(self.text.len())..]
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }
    /// The text up to the next space (or the end).
    fn word(&mut self) -> &'a str {
        let rest = self.remaining();
        let end = memchr::memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }
}

/// One or more SD-ELEMENTs; each PARAM becomes `log.syslog.structured_data.<SD-ID>.<NAME>`.
fn parse_structured_data(cursor: &mut Cursor<'_>, event: &mut Event) -> Result<(), ParseError> {
    while cursor.peek() == Some(b'[') {
        let element_start = cursor.abs();
        cursor.pos += 1;
        let rest = cursor.remaining();
        let id_len = rest
            .bytes()
            .position(|c| matches!(c, b' ' | b']' | b'=' | b'"'))
            .unwrap_or(rest.len());
        if id_len == 0 {
            return Err(ParseError::new(format!(
                "RFC 5424: empty SD-ID in the SD-ELEMENT at byte {element_start}"
            )));
        }
        let id = &rest[..id_len];
        cursor.pos += id_len;
        loop {
            match cursor.peek() {
                Some(b']') => {
                    cursor.pos += 1;
                    break;
                }
                Some(b' ') => {
                    cursor.skip_spaces();
                    if cursor.peek() == Some(b']') {
                        continue;
                    }
                    let param_start = cursor.abs();
                    let rest = cursor.remaining();
                    let Some(eq) = memchr::memchr(b'=', rest.as_bytes()) else {
                        return Err(ParseError::new(format!(
                            "RFC 5424: expected PARAM-NAME=\"value\" in SD-ELEMENT '{id}' at byte {param_start}, found no '='"
                        )));
                    };
                    let name = &rest[..eq];
                    if name.is_empty() || name.bytes().any(|c| matches!(c, b' ' | b']' | b'"')) {
                        return Err(ParseError::new(format!(
                            "RFC 5424: invalid PARAM-NAME '{}' in SD-ELEMENT '{id}' at byte {param_start}",
                            normalize::excerpt(name, 32)
                        )));
                    }
                    cursor.pos += eq + 1;
                    if cursor.peek() != Some(b'"') {
                        return Err(ParseError::new(format!(
                            "RFC 5424: expected '\"' opening the value of '{id}.{name}' at byte {}",
                            cursor.abs()
                        )));
                    }
                    cursor.pos += 1;
                    let value = read_param_value(cursor).ok_or_else(|| {
                        ParseError::new(format!(
                            "RFC 5424: unterminated PARAM-VALUE of '{id}.{name}' starting at byte {} (missing closing '\"')",
                            param_start + eq + 1
                        ))
                    })?;
                    let mut field = String::with_capacity(
                        STRUCTURED_DATA_PREFIX.len() + id.len() + 1 + name.len(),
                    );
                    field.push_str(STRUCTURED_DATA_PREFIX);
                    field.push_str(id);
                    field.push('.');
                    field.push_str(name);
                    event.push(field, value);
                }
                None => {
                    return Err(ParseError::new(format!(
                        "RFC 5424: unterminated SD-ELEMENT '{id}' starting at byte {element_start} (missing ']')"
                    )));
                }
                Some(_) => {
                    return Err(ParseError::new(format!(
                        "RFC 5424: expected ' ' or ']' in SD-ELEMENT '{id}' at byte {}, found '{}'",
                        cursor.abs(),
                        normalize::excerpt(cursor.remaining(), 16)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A PARAM-VALUE up to its closing quote (consumed), with `\"`, `\\` and `\]` unescaped.
fn read_param_value(cursor: &mut Cursor<'_>) -> Option<String> {
    let rest = cursor.remaining();
    let b = rest.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if matches!(b.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                out.push_str(&rest[copied..i]);
                copied = i + 1;
                i += 2;
            }
            b'"' => {
                out.push_str(&rest[copied..i]);
                cursor.pos += i + 1;
                return Some(out);
            }
            _ => i += 1,
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Authentication messages (sshd, PAM)
// ---------------------------------------------------------------------------------------

/// What an authentication message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Auth<'a> {
    outcome: &'static str,
    ssh: bool,
    user: Option<&'a str>,
    source_host: Option<&'a str>,
    source_port: Option<&'a str>,
}

/// The message inside syslogd's `message repeated N times: [ MSG ]` (one line standing
/// for N identical ones), so that it is categorized like MSG.
fn repeated_message(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("message repeated ")?;
    let (count, inner) = rest.split_once(" times: [")?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(inner.trim_end().strip_suffix(']')?.trim())
}

/// Recognizes sshd log-ins (`Accepted password for u from ip port p ssh2`, `Failed …`,
/// `Invalid user u from ip [port p]`) and PAM failures (`authentication failure; … rhost=ip
/// user=u`, from `sshd(pam_unix)`, `su(pam_unix)` or `pam_unix(…)` messages).
fn classify_auth<'a>(process: &str, msg: &'a str) -> Option<Auth<'a>> {
    if let Some(inner) = repeated_message(msg) {
        return classify_auth(process, inner);
    }
    let is_sshd = process.starts_with("sshd");
    if is_sshd {
        if let Some(rest) = msg.strip_prefix("Accepted ") {
            return ssh_login(rest, "success");
        }
        if let Some(rest) = msg.strip_prefix("Failed ") {
            return ssh_login(rest, "failure");
        }
        if let Some(rest) = msg.strip_prefix("Invalid user ") {
            let (user, from) = match rest.find(" from ") {
                Some(at) => (&rest[..at], &rest[at + 6..]),
                None => (rest, ""),
            };
            let (ip, port) = from_ip_port(from);
            return Some(Auth {
                outcome: "failure",
                ssh: true,
                user: Some(user),
                source_host: ip,
                source_port: port,
            });
        }
    }
    let pam_msg = msg
        .strip_prefix("pam_unix(")
        .map(|r| r.split_once("): ").map_or(r, |(_, m)| m));
    let pam_text = match pam_msg {
        Some(m) => m,
        None if process.contains("pam") => msg,
        None => return None,
    };
    let details = pam_text.strip_prefix("authentication failure;")?;
    let ssh = is_sshd || msg.starts_with("pam_unix(sshd");
    let mut auth = Auth {
        outcome: "failure",
        ssh,
        user: None,
        source_host: None,
        source_port: None,
    };
    for pair in details.split(' ') {
        if let Some(host) = pair.strip_prefix("rhost=") {
            auth.source_host = Some(host);
        } else if let Some(user) = pair.strip_prefix("user=") {
            auth.user = Some(user);
        }
    }
    Some(auth)
}

/// `password for [invalid user ]u from ip port p ssh2`.
fn ssh_login<'a>(rest: &'a str, outcome: &'static str) -> Option<Auth<'a>> {
    let after_for = &rest[rest.find(" for ")? + 5..];
    let after_for = after_for.strip_prefix("invalid user ").unwrap_or(after_for);
    let at = after_for.rfind(" from ")?;
    let user = &after_for[..at];
    let (ip, port) = from_ip_port(&after_for[at + 6..]);
    Some(Auth {
        outcome,
        ssh: true,
        user: Some(user),
        source_host: ip,
        source_port: port,
    })
}

/// `ip port p …` → (ip, port).
fn from_ip_port(text: &str) -> (Option<&str>, Option<&str>) {
    let mut words = text.split(' ');
    let ip = words.next().filter(|w| !w.is_empty());
    let port = match (words.next(), words.next()) {
        (Some("port"), Some(p)) => Some(p.trim_end_matches(':')),
        _ => None,
    };
    (ip, port)
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
        SyslogParser::new()
            .parse(line, &ctx())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap()
    }

    fn parse_err(line: &str) -> String {
        SyslogParser::new().parse(line, &ctx()).expect_err(line).0
    }

    fn int(e: &Event, name: &str) -> Option<i64> {
        match e.get(name) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    // --- RFC 3164 ------------------------------------------------------------------

    #[test]
    fn rfc3164_examples_from_the_rfc() {
        // RFC 3164 §5.4, example 1.
        let e =
            parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        // Received 2024-06-01: an October stamp without a year is from the year before.
        assert_eq!(e.timestamp.to_rfc3339(), "2023-10-11T22:14:15Z");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("mymachine"));
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("su"));
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("'su root' failed for lonvick on /dev/pts/8")
        );
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_FACILITY_NAME), Some("auth"));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_SEVERITY_NAME), Some("critical"));
        assert_eq!(int(&e, ecs::LOG_SYSLOG_PRIORITY), Some(34));

        // Example 2: an IP as host, no tag.
        let e = parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("10.0.0.99"));
        assert_eq!(
            e.get(ecs::HOST_IP),
            Some(&Value::Ip("10.0.0.99".parse().unwrap()))
        );
        assert_eq!(e.get(ecs::PROCESS_NAME), None);
        assert_eq!(e.get_str(ecs::MESSAGE), Some("Use the BFG!"));
        assert_eq!(e.timestamp.to_rfc3339(), "2024-02-05T17:32:18Z");

        // Example 3: a zone and a year after the time.
        let e = parse(
            "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jet=OK, Blast=OK",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "1987-08-24T11:34:00Z");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("mymachine"));
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("myproc"));
        assert_eq!(int(&e, ecs::PROCESS_PID), Some(10));
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("%% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jet=OK, Blast=OK")
        );
    }

    #[test]
    fn stamp_without_year_uses_context_year_and_zone() {
        let mut c = ctx();
        c.year = Some(2005);
        c.timezone = "Asia/Seoul".parse().unwrap();
        let e = SyslogParser::new()
            .parse(
                "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
                &c,
            )
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2005-06-14T06:16:01Z");
        // A December stamp read in early January belongs to the previous year.
        let mut c = ctx();
        c.received = parse_rfc3339("2025-01-01T00:10:00Z").unwrap();
        let e = SyslogParser::new()
            .parse("Dec 31 23:59:59 h app: x", &c)
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn variants_with_year_fraction_and_iso_stamps() {
        let e = parse("Mar  7 2023 09:08:07.250 fw01 kernel: DROP IN=eth0");
        assert_eq!(e.timestamp.to_rfc3339(), "2023-03-07T09:08:07.250Z");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("fw01"));
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("kernel"));

        let e = parse("Mar  7 09:08:07 2021 fw01 kernel: x");
        assert_eq!(e.timestamp.to_rfc3339(), "2021-03-07T09:08:07Z");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("fw01"));

        let e = parse("<30>2024-05-06T07:08:09.123456+02:00 web-1 nginx[88]: started");
        assert_eq!(e.timestamp.to_rfc3339(), "2024-05-06T05:08:09.123456Z");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("web-1"));
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("nginx"));
        assert_eq!(int(&e, ecs::PROCESS_PID), Some(88));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_FACILITY_NAME), Some("daemon"));

        // A stamp without an offset is read in the configured zone.
        let mut c = ctx();
        c.timezone = "Europe/Berlin".parse().unwrap();
        let e = SyslogParser::new()
            .parse("2024-01-15 10:00:00 host app: hi", &c)
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2024-01-15T09:00:00Z");
    }

    #[test]
    fn record_without_host_keeps_the_tag() {
        let e = parse("<38>Jan  2 03:04:05 sshd[77]: Connection closed");
        assert_eq!(e.get(ecs::HOST_HOSTNAME), None);
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("sshd"));
        assert_eq!(int(&e, ecs::PROCESS_PID), Some(77));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("Connection closed"));
    }

    #[test]
    fn pri_without_a_time_stamp_keeps_the_rest_as_message() {
        let e = parse("<13>this device sends no header");
        assert_eq!(e.get_str(ecs::MESSAGE), Some("this device sends no header"));
        assert_eq!(e.timestamp, ctx().received);
    }

    #[test]
    fn repeated_messages_are_categorized_like_the_message() {
        let ctx = ParseContext::new("t");
        let line = "Dec 10 09:32:20 LabSZ sshd[24680]: message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]";
        let e = SyslogParser::new().parse(line, &ctx).unwrap().unwrap();
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&haechi_event::Value::Ip("5.36.59.76".parse().unwrap()))
        );
        assert_eq!(e.get_str(ecs::USER_NAME), Some("root"));
    }

    #[test]
    fn sshd_authentication_is_categorized() {
        let e = parse(
            "Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("fztu"));
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&Value::Ip("119.137.62.142".parse().unwrap()))
        );
        assert_eq!(int(&e, ecs::SOURCE_PORT), Some(49116));
        assert_eq!(
            e.get(ecs::EVENT_CATEGORY),
            Some(&Value::from(&["authentication"][..]))
        );
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("ssh_login"));

        let e = parse(
            "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2",
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("webmaster"));
        assert_eq!(int(&e, ecs::SOURCE_PORT), Some(38926));

        let e = parse(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&Value::Ip("218.188.2.4".parse().unwrap()))
        );
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some(
                "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4"
            )
        );

        // Not an authentication message: only event.kind.
        let e = parse(
            "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
        );
        assert_eq!(e.get(ecs::EVENT_OUTCOME), None);
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
    }

    #[test]
    fn malformed_records_are_refused_with_a_reason() {
        assert!(parse_err("hello world").contains("expected `<PRI>`, an RFC 3164 time stamp"));
        assert!(
            parse_err("<abc>Oct 11 22:14:15 h a: b")
                .contains("expected 1-3 digits of PRI after '<' at byte 1")
        );
        assert!(
            parse_err("<300>Oct 11 22:14:15 h a: b")
                .contains("PRI value 300 at byte 1 is out of range")
        );
        assert!(parse_err("<34Oct 11 22:14:15 h a: b").contains("expected '>' closing the PRI"));
        assert!(parse_err("Oct 41 22:14:15 h a: b").contains("at byte 0"));
        assert_eq!(SyslogParser::new().parse("  \r\n", &ctx()), Ok(None));
    }

    // --- RFC 5424 ------------------------------------------------------------------

    // The examples of RFC 5424 §6.5 (BOM written as U+FEFF).
    #[test]
    fn rfc5424_example_1_no_structured_data() {
        let e = parse(
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2003-10-11T22:14:15.003Z");
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("mymachine.example.com"));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_APPNAME), Some("su"));
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("su"));
        assert_eq!(e.get(ecs::LOG_SYSLOG_PROCID), None);
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_MSGID), Some("ID47"));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_VERSION), Some("1"));
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("'su root' failed for lonvick on /dev/pts/8")
        );
        assert_eq!(int(&e, ecs::LOG_SYSLOG_FACILITY_CODE), Some(4));
        assert_eq!(int(&e, ecs::LOG_SYSLOG_SEVERITY_CODE), Some(2));
    }

    #[test]
    fn rfc5424_example_2_offset_and_microseconds() {
        let e = parse(
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2003-08-24T12:14:15.000003Z");
        assert_eq!(
            e.get(ecs::HOST_IP),
            Some(&Value::Ip("192.0.2.1".parse().unwrap()))
        );
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_PROCID), Some("8710"));
        assert_eq!(int(&e, ecs::PROCESS_PID), Some(8710));
        assert_eq!(e.get(ecs::LOG_SYSLOG_MSGID), None);
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("%% It's time to make the do-nuts.")
        );
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_FACILITY_NAME), Some("local4"));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_SEVERITY_NAME), Some("notice"));
    }

    #[test]
    fn rfc5424_example_3_structured_data_and_message() {
        let e = parse(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \u{feff}An application event log entry...",
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.exampleSDID@32473.iut"),
            Some("3")
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.exampleSDID@32473.eventSource"),
            Some("Application")
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.exampleSDID@32473.eventID"),
            Some("1011")
        );
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("An application event log entry...")
        );
    }

    #[test]
    fn rfc5424_example_4_two_elements_no_message() {
        let e = parse(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.exampleSDID@32473.eventID"),
            Some("1011")
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.examplePriority@32473.class"),
            Some("high")
        );
        assert_eq!(e.get(ecs::MESSAGE), None);
    }

    #[test]
    fn rfc5424_escapes_in_param_values() {
        let e = parse(
            r#"<14>1 2024-01-01T00:00:00Z h app 1 - [x@1 q="say \"hi\"" b="C:\\dir" br="a\]b" other="keep \n as is"] m"#,
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.x@1.q"),
            Some(r#"say "hi""#)
        );
        assert_eq!(
            e.get_str("log.syslog.structured_data.x@1.b"),
            Some(r"C:\dir")
        );
        assert_eq!(e.get_str("log.syslog.structured_data.x@1.br"), Some("a]b"));
        assert_eq!(
            e.get_str("log.syslog.structured_data.x@1.other"),
            Some(r"keep \n as is")
        );
        assert_eq!(e.get_str(ecs::MESSAGE), Some("m"));
    }

    #[test]
    fn rfc5424_nil_everything() {
        let e = parse("<14>1 - - - - - -");
        assert_eq!(e.timestamp, ctx().received);
        assert_eq!(e.get(ecs::HOST_HOSTNAME), None);
        assert_eq!(e.get(ecs::MESSAGE), None);
    }

    #[test]
    fn rfc5424_malformed() {
        assert!(
            parse_err("<14>1 2024-13-01T00:00:00Z h a - - - m")
                .contains("TIMESTAMP '2024-13-01T00:00:00Z' at byte 6 is not an RFC 3339")
        );
        assert!(parse_err("<14>1 2024-01-01T00:00:00Z h a").contains("expected PROCID, MSGID"));
        assert!(
            parse_err("<14>1 2024-01-01T00:00:00Z h a - - x m")
                .contains("expected STRUCTURED-DATA ('-' or '[') at byte 35")
        );
        assert!(
            parse_err(r#"<14>1 - h a - - [x@1 k="v] m"#)
                .contains("unterminated PARAM-VALUE of 'x@1.k'")
        );
        assert!(
            parse_err(r#"<14>1 - h a - - [x@1 k="v""#).contains("unterminated SD-ELEMENT 'x@1'")
        );
        assert!(
            parse_err(r#"<14>1 - h a - - [x@1 k=v] m"#)
                .contains("expected '\"' opening the value of 'x@1.k'")
        );
        assert!(parse_err(r#"<14>1 - h a - - [ x@1 k="v"] m"#).contains("empty SD-ID"));
    }

    // --- Payloads ------------------------------------------------------------------

    #[test]
    fn cef_payload_after_a_3164_header() {
        // The CEF specification's syslog example.
        let e = parse(
            "Sep 19 08:26:10 host CEF:0|security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
        );
        assert_eq!(e.get_str(ecs::HOST_HOSTNAME), Some("host"));
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("security"));
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&Value::Ip("10.0.0.1".parse().unwrap()))
        );
        assert_eq!(int(&e, ecs::SOURCE_PORT), Some(1232));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("worm successfully stopped"));
        assert_eq!(e.timestamp.to_rfc3339(), "2023-09-19T08:26:10Z");
    }

    #[test]
    fn cef_and_leef_payloads_after_pri_tag_and_5424_header() {
        let e = parse("<134>CEF:0|Vendor|Product|1|sig|name|3|dst=1.2.3.4");
        assert_eq!(int(&e, ecs::LOG_SYSLOG_PRIORITY), Some(134));
        assert_eq!(
            e.get(ecs::DESTINATION_IP),
            Some(&Value::Ip("1.2.3.4".parse().unwrap()))
        );

        let e = parse(
            "<134>Feb  1 10:00:00 fw1 myagent[5]: CEF:0|Vendor|Product|1|sig|name|3|dst=1.2.3.4",
        );
        assert_eq!(e.get_str(ecs::PROCESS_NAME), Some("myagent"));
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("Product"));

        // IBM's RFC 5424 header example in front of its LEEF 2.0 header example.
        let e = parse(
            "<13>1 2019-01-18T11:07:53.520Z 192.168.1.1 - - - - LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2019-01-18T11:07:53.520Z");
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("Lancope"));
        assert_eq!(
            e.get(ecs::DESTINATION_IP),
            Some(&Value::Ip("10.0.0.5".parse().unwrap()))
        );
    }

    #[test]
    fn fortigate_kv_right_after_pri() {
        let e = parse(
            r#"<189>date=2019-05-10 time=11:37:47 devname="FG" devid="FG100D3G16800000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.1.10 srcport=51123 dstip=8.8.8.8 dstport=53 proto=17 action="accept" policyid=1"#,
        );
        assert_eq!(int(&e, ecs::LOG_SYSLOG_PRIORITY), Some(189));
        assert_eq!(e.timestamp.to_rfc3339(), "2019-05-10T11:37:47Z");
        assert_eq!(e.get_str("observer.name"), Some("FG"));
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("FortiGate"));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("udp"));
        assert_eq!(e.get_str("devname"), Some("FG"));
    }

    #[test]
    fn payload_required_by_the_cef_parser() {
        let err =
            parse_syslog("Sep 19 08:26:10 host sshd[1]: hello", &ctx(), Payload::Cef).unwrap_err();
        assert_eq!(
            err.0,
            "expected a CEF payload starting with `CEF:` after the syslog header, found 'hello'"
        );
    }

    // --- Real data -----------------------------------------------------------------

    macro_rules! data_file {
        ($path:literal) => {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/", $path)
        };
    }

    fn read(path: &str) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("sample data {path} is missing: {e}"))
    }

    /// A minimal RFC 4180 CSV reader (quoted fields, doubled quotes), enough for loghub's
    /// `*_structured.csv`.
    fn csv_rows(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\r') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        if !field.is_empty() || !row.is_empty() {
            row.push(field);
            rows.push(row);
        }
        rows
    }

    /// Parses every line of a loghub file and checks it against loghub's structured CSV:
    /// `host`, `process`, `pid` name the CSV columns to compare with `host.hostname`,
    /// `process.name` and `process.pid`; `Content` is compared with `message`.
    fn check_loghub(
        log: &str,
        csv: &str,
        host_col: &str,
        process_col: Option<&str>,
        pid_col: &str,
    ) -> Vec<Event> {
        let text = read(log);
        let rows = csv_rows(&read(csv));
        let header = &rows[0];
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("no column {name} in {csv}"))
        };
        let (host_i, pid_i, content_i) = (col(host_col), col(pid_col), col("Content"));
        let process_i = process_col.map(col);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            rows.len() - 1,
            "{log}: line count differs from the CSV"
        );
        let mut parser = SyslogParser::new();
        let c = ctx();
        let mut events = Vec::new();
        for (n, (line, row)) in lines.iter().zip(&rows[1..]).enumerate() {
            let e = parser
                .parse(line, &c)
                .unwrap_or_else(|err| panic!("{log} line {}: {err}: {line}", n + 1))
                .unwrap();
            assert_eq!(
                e.get_str(ecs::HOST_HOSTNAME),
                Some(row[host_i].as_str()),
                "{log} line {}",
                n + 1
            );
            if let Some(pi) = process_i {
                assert_eq!(
                    e.get_str(ecs::PROCESS_NAME),
                    Some(row[pi].as_str()),
                    "{log} line {}",
                    n + 1
                );
            }
            let pid = int(&e, ecs::PROCESS_PID)
                .map(|p| p.to_string())
                .unwrap_or_default();
            assert_eq!(pid, row[pid_i], "{log} line {}", n + 1);
            assert_eq!(
                e.get_str(ecs::MESSAGE).unwrap_or(""),
                row[content_i].trim(),
                "{log} line {}",
                n + 1
            );
            events.push(e);
        }
        events
    }

    #[test]
    fn loghub_linux_matches_reference() {
        let events = check_loghub(
            data_file!("logs/loghub/Linux_2k.log"),
            data_file!("logs/loghub/Linux_2k.log_structured.csv"),
            "Level", // loghub names the host column of this file "Level"
            Some("Component"),
            "PID",
        );
        assert_eq!(events.len(), 2000);
        // 2005 is not in the file; with the context year the stamps are exact.
        let mut c = ctx();
        c.year = Some(2005);
        let e = SyslogParser::new()
            .parse(
                read(data_file!("logs/loghub/Linux_2k.log"))
                    .lines()
                    .next()
                    .unwrap(),
                &c,
            )
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2005-06-14T15:16:01Z");
        // pam_unix authentication failures are categorized (with the remote host).
        let failures = events
            .iter()
            .filter(|e| e.get_str(ecs::EVENT_OUTCOME) == Some("failure"))
            .count();
        let expected = read(data_file!("logs/loghub/Linux_2k.log"))
            .lines()
            .filter(|l| l.contains("(pam_unix)[") && l.contains("]: authentication failure;"))
            .count();
        assert_eq!(failures, expected);
        assert!(failures > 300, "{failures}");
        // `rhost=` is an address (typed IP) or a host name (`source.domain`), never both.
        let by_ip = events
            .iter()
            .filter(|e| matches!(e.get(ecs::SOURCE_IP), Some(Value::Ip(_))))
            .count();
        let by_name = events
            .iter()
            .filter(|e| e.get(ecs::SOURCE_DOMAIN).is_some())
            .count();
        assert!(
            events
                .iter()
                .all(|e| !(e.get(ecs::SOURCE_IP).is_some() && e.get(ecs::SOURCE_DOMAIN).is_some()))
        );
        assert!(by_name > 0 && by_ip > 0, "{by_ip} {by_name}");
        let n219 = events
            .iter()
            .filter(|e| e.get_str(ecs::SOURCE_DOMAIN) == Some("n219076184117.netvigator.com"))
            .count();
        assert_eq!(n219, 23);
    }

    #[test]
    fn loghub_openssh_matches_reference() {
        // In this CSV "Component" is the host (LabSZ) and every line is from sshd.
        let events = check_loghub(
            data_file!("logs/loghub/OpenSSH_2k.log"),
            data_file!("logs/loghub/OpenSSH_2k.log_structured.csv"),
            "Component",
            None,
            "Pid",
        );
        assert!(
            events
                .iter()
                .all(|e| e.get_str(ecs::PROCESS_NAME) == Some("sshd"))
        );
        let count = |outcome: &str, needle: &str| {
            events
                .iter()
                .filter(|e| {
                    e.get_str(ecs::EVENT_OUTCOME) == Some(outcome)
                        && e.get_str(ecs::MESSAGE).unwrap().contains(needle)
                })
                .count()
        };
        let text = read(data_file!("logs/loghub/OpenSSH_2k.log"));
        let lines_with = |needle: &str| text.lines().filter(|l| l.contains(needle)).count();
        // `message repeated N times: [ Failed password … ]` lines count too.
        assert_eq!(
            count("failure", "Failed password"),
            lines_with("]: Failed password") + lines_with("times: [ Failed password")
        );
        assert_eq!(
            count("failure", "Invalid user"),
            lines_with("]: Invalid user")
        );
        assert_eq!(count("success", "Accepted"), lines_with("]: Accepted "));
        // Every failed password names the remote address as a typed IP.
        for e in events.iter().filter(|e| {
            e.get_str(ecs::MESSAGE)
                .unwrap()
                .starts_with("Failed password")
        }) {
            assert!(
                matches!(e.get(ecs::SOURCE_IP), Some(Value::Ip(_))),
                "{:?}",
                e.get_str(ecs::MESSAGE)
            );
            assert!(e.get(ecs::USER_NAME).is_some());
        }
    }

    #[test]
    fn loghub_mac_matches_reference() {
        let events = check_loghub(
            data_file!("logs/loghub/Mac_2k.log"),
            data_file!("logs/loghub/Mac_2k.log_structured.csv"),
            "User", // loghub names the host column of this file "User"
            Some("Component"),
            "PID",
        );
        // The macOS `(context)` after the tag is loghub's "Address" column.
        let rows = csv_rows(&read(data_file!("logs/loghub/Mac_2k.log_structured.csv")));
        let addr = rows[0].iter().position(|h| h == "Address").unwrap();
        for (e, row) in events.iter().zip(&rows[1..]) {
            assert_eq!(e.get_str(LOG_SYSLOG_CONTEXT).unwrap_or(""), row[addr]);
        }
        assert_eq!(
            events
                .iter()
                .filter(|e| e.get(LOG_SYSLOG_CONTEXT).is_some())
                .count(),
            54
        );
    }

    #[test]
    fn soc_lab_auth_log_parses_completely() {
        let text = read(data_file!("logs/auth/soc-zeek-lab_auth.log"));
        let c = ctx();
        let mut parser = SyslogParser::new();
        let events: Vec<Event> = text
            .lines()
            .enumerate()
            .map(|(n, l)| {
                parser
                    .parse(l, &c)
                    .unwrap_or_else(|e| panic!("line {}: {e}: {l}", n + 1))
                    .unwrap()
            })
            .collect();
        assert_eq!(events.len(), 76);
        assert!(
            events
                .iter()
                .all(|e| e.get_str(ecs::HOST_HOSTNAME) == Some("ubuntu"))
        );
        assert!(
            events
                .iter()
                .all(|e| e.get(ecs::PROCESS_NAME).is_some() && e.get(ecs::MESSAGE).is_some())
        );
        let invalid: Vec<&Event> = events
            .iter()
            .filter(|e| {
                e.get_str(ecs::MESSAGE)
                    .unwrap()
                    .starts_with("Invalid user ")
            })
            .collect();
        assert_eq!(
            invalid.len(),
            text.lines()
                .filter(|l| l.contains("]: Invalid user "))
                .count()
        );
        let first = invalid[0];
        assert_eq!(first.get_str(ecs::USER_NAME), Some("invaliduser"));
        assert_eq!(
            first.get(ecs::SOURCE_IP),
            Some(&Value::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(int(first, ecs::SOURCE_PORT), Some(57448));
        assert_eq!(first.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(events[1].timestamp.to_rfc3339(), "2023-07-31T03:46:15Z");
    }
}
