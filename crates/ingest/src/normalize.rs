//! Normalization helpers every parser shares: ECS categorization, typed IPs and ports,
//! observer identity, syslog priority names, time stamps without a year or an offset.

use crate::ParseContext;
use chrono::{Datelike, NaiveDateTime, TimeZone};
use haechi_event::{Event, FieldName, Timestamp, Value, ecs};
use std::net::IpAddr;

/// Sets `event.kind`, `event.category` and `event.type` (ECS categorization).
pub fn categorize(
    event: &mut Event,
    kind: &'static str,
    category: &'static [&'static str],
    kind_type: &'static [&'static str],
) {
    event.push(ecs::EVENT_KIND, kind);
    if !category.is_empty() {
        event.push(ecs::EVENT_CATEGORY, Value::from(category));
    }
    if !kind_type.is_empty() {
        event.push(ecs::EVENT_TYPE, Value::from(kind_type));
    }
}

/// Records which device produced the event (`observer.vendor/product/type`).
pub fn observer(event: &mut Event, vendor: &str, product: &str, kind: &'static str) {
    event.push_str_nonempty(ecs::OBSERVER_VENDOR, vendor);
    event.push_str_nonempty(ecs::OBSERVER_PRODUCT, product);
    event.push(ecs::OBSERVER_TYPE, kind);
}

/// Pushes `name` as an IP address if `text` is one; otherwise as a string, unless empty.
pub fn push_ip(event: &mut Event, name: impl Into<FieldName>, text: &str) {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return;
    }
    match parse_ip(text) {
        Some(ip) => event.push(name, Value::Ip(ip)),
        None => event.push(name, text),
    }
}

/// Parses an IPv4 or IPv6 address, also in brackets (`[::1]`) or with a zone (`fe80::1%eth0`).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_start_matches('[').trim_end_matches(']');
    let t = t.split('%').next().unwrap_or(t);
    t.parse().ok()
}

/// Pushes `name` as an integer port if `text` is one in 0..=65535.
pub fn push_port(event: &mut Event, name: impl Into<FieldName>, text: &str) {
    if let Ok(port) = text.trim().parse::<u16>() {
        event.push(name, port);
    }
}

/// Pushes `name` as an integer if `text` is one, else as a string.
pub fn push_int_or_str(event: &mut Event, name: impl Into<FieldName>, text: &str) {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return;
    }
    match text.parse::<i64>() {
        Ok(i) => event.push(name, i),
        Err(_) => event.push(name, text),
    }
}

/// ECS `event.outcome` from an HTTP status code.
pub fn http_outcome(status: u16) -> &'static str {
    if status >= 400 { "failure" } else { "success" }
}

/// The syslog facility names of RFC 5424, table 1.
pub const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// The syslog severity names of RFC 5424, table 2.
pub const SEVERITY_NAMES: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
];

/// Pushes `log.syslog.priority`, facility and severity (code and name) for a PRI value.
pub fn push_syslog_priority(event: &mut Event, pri: u8) {
    let facility = (pri >> 3) as usize;
    let severity = (pri & 7) as usize;
    event.push(ecs::LOG_SYSLOG_PRIORITY, pri as i64);
    event.push(ecs::LOG_SYSLOG_FACILITY_CODE, facility as i64);
    if let Some(name) = FACILITY_NAMES.get(facility) {
        event.push(ecs::LOG_SYSLOG_FACILITY_NAME, *name);
    }
    event.push(ecs::LOG_SYSLOG_SEVERITY_CODE, severity as i64);
    event.push(ecs::LOG_SYSLOG_SEVERITY_NAME, SEVERITY_NAMES[severity]);
    event.push(ecs::LOG_LEVEL, SEVERITY_NAMES[severity]);
}

/// Converts a local time without a year (RFC 3164 `Oct 11 22:14:15`) to UTC: the year is
/// `ctx.year`, or the year of `ctx.received` unless that would put the stamp more than a
/// day in the future (then the previous year: logs written in December read in January).
pub fn local_without_year(
    ctx: &ParseContext,
    month: u32,
    day: u32,
    h: u32,
    m: u32,
    s: u32,
    nanos: u32,
) -> Option<Timestamp> {
    let received = ctx.received.to_datetime();
    let year = ctx.year.unwrap_or_else(|| received.year());
    let stamp = local_to_utc(ctx, year, month, day, h, m, s, nanos)?;
    if ctx.year.is_none() && stamp.0 > ctx.received.0 + 86_400_000_000_000 {
        return local_to_utc(ctx, year - 1, month, day, h, m, s, nanos);
    }
    Some(stamp)
}

/// Converts a local wall-clock time in `ctx.timezone` to UTC.
#[allow(clippy::too_many_arguments)]
pub fn local_to_utc(
    ctx: &ParseContext,
    year: i32,
    month: u32,
    day: u32,
    h: u32,
    m: u32,
    s: u32,
    nanos: u32,
) -> Option<Timestamp> {
    let naive =
        chrono::NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(h, m, s, nanos)?;
    naive_local_to_utc(ctx, &naive)
}

/// Converts a naive local date-time in `ctx.timezone` to UTC (the earlier instant when a
/// DST change makes it ambiguous).
pub fn naive_local_to_utc(ctx: &ParseContext, naive: &NaiveDateTime) -> Option<Timestamp> {
    let local = ctx.timezone.from_local_datetime(naive).earliest()?;
    Some(Timestamp::from_datetime(&local))
}

/// The month number of a three-letter English month name (`Jan` → 1).
pub fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
}

/// A field name as a `&'static str` when possible: names that recur in every record of a
/// stream (Zeek `#fields` columns, EVTX element paths, JSON keys) are interned once, so that
/// each event's field names cost no allocation. Each thread keeps a cache in front of the
/// shared table, so the hot path takes no lock. The table is bounded: once it is full (a
/// stream of ever new names, e.g. keys that carry ids), new names are returned owned.
pub fn static_name(name: &str) -> FieldName {
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    const MAX_INTERNED: usize = 16_384;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    thread_local! {
        static LOCAL: RefCell<HashSet<&'static str, FnvBuild>> = const { RefCell::new(HashSet::with_hasher(FnvBuild)) };
    }
    if let Some(found) = LOCAL.with(|local| local.borrow().get(name).copied()) {
        return FieldName::Borrowed(found);
    }
    let names = NAMES.get_or_init(|| Mutex::new(HashSet::with_capacity(1024)));
    let interned = {
        let Ok(mut names) = names.lock() else {
            return FieldName::Owned(name.to_owned());
        };
        match names.get(name) {
            Some(found) => *found,
            None if names.len() >= MAX_INTERNED => return FieldName::Owned(name.to_owned()),
            None => {
                let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
                names.insert(leaked);
                leaked
            }
        }
    };
    LOCAL.with(|local| local.borrow_mut().insert(interned));
    FieldName::Borrowed(interned)
}

/// A fast hash (FxHash's step) for the keys of the per-thread name cache: an attacker who
/// makes names collide only slows their own lookups, bounded by the table size.
#[derive(Default, Clone, Copy)]
struct FnvBuild;

struct Fnv(u64);

impl std::hash::BuildHasher for FnvBuild {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // eight bytes at a time (FxHash's step), then the rest byte by byte
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes([
                chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
            ]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

/// The latest instant a [`Timestamp`] holds, in whole seconds since the epoch (year 2262).
const MAX_EPOCH_SECONDS: f64 = 9_223_372_035.0;

/// An epoch number as a time: seconds, milliseconds, microseconds or nanoseconds, told apart
/// by magnitude (below 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds,
/// else nanoseconds). Fractions are kept to the microsecond (what a JSON `f64` carries
/// exactly for current dates). `None` when out of range or not finite.
pub fn epoch_number(x: f64) -> Option<Timestamp> {
    if !x.is_finite() {
        return None;
    }
    let abs = x.abs();
    let micros = if abs < 1e11 {
        x * 1e6
    } else if abs < 1e14 {
        x * 1e3
    } else if abs < 1e17 {
        x
    } else {
        return Some(Timestamp(x as i64));
    };
    if micros.abs() / 1e6 > MAX_EPOCH_SECONDS {
        return None;
    }
    Some(Timestamp::from_micros(micros.round() as i64))
}

/// Decimal epoch seconds as written by Zeek (`1521911720.629574`), exact to the nanosecond
/// (no floating point). `None` when it is not such a number or out of the representable
/// range (after 2262).
pub fn epoch_seconds_text(text: &str) -> Option<Timestamp> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += (b - b'0') as i64 * 10i64.pow(8 - i as u32);
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(Timestamp(if negative { -total } else { total }))
}

/// A field value as a time: an ISO 8601 / RFC 3339 string (without an offset: in
/// `ctx.timezone`), an epoch number or a numeric string (see [`epoch_number`]).
pub fn value_time(value: &Value, ctx: &ParseContext) -> Option<Timestamp> {
    match value {
        Value::Str(s) => {
            let t = s.trim();
            if !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                && let Ok(x) = t.parse::<f64>()
            {
                return epoch_number(x);
            }
            parse_iso8601(t, ctx).or_else(|| haechi_event::parse_rfc3339(t))
        }
        Value::Int(i) if i.unsigned_abs() >= 100_000_000_000_000_000 => Some(Timestamp(*i)),
        Value::Int(i) => epoch_number(*i as f64),
        Value::Float(x) => epoch_number(*x),
        _ => None,
    }
}

/// An error with its chain of causes, `outer: inner: innermost`, for dead-letter reasons.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Types the values of ECS IP fields ([`ecs::IP_FIELDS`]) among `event.fields[from..]` as
/// IP addresses: strings (and lists of strings) that read as IPs become [`Value::Ip`];
/// anything else is left as it is.
pub fn type_ip_fields(event: &mut Event, from: usize) {
    for (name, value) in event.fields[from..].iter_mut() {
        if ecs::IP_FIELDS.contains(&name.as_ref()) {
            type_ip_value(value);
        }
    }
}

fn type_ip_value(value: &mut Value) {
    match value {
        Value::Str(s) => {
            if let Some(ip) = parse_ip(s) {
                *value = Value::Ip(ip);
            }
        }
        Value::List(items) => items.iter_mut().for_each(type_ip_value),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Device time stamps (syslog, CEF, LEEF, key=value, access logs)
// ---------------------------------------------------------------------------------------

/// A time zone as devices write it: a fixed offset or an IANA zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// Seconds east of UTC.
    Offset(i32),
    /// An IANA zone (`Asia/Seoul`), for stamps that name one.
    Named(chrono_tz::Tz),
}

/// Reads a zone: `Z`, `UTC`, `GMT`, `+09:00`, `+0900`, `+09`, `-7`, `GMT+08:00`, `UTC-5`,
/// a common abbreviation (`EST`, `CEST`, `KST`, …) or an IANA name (`Europe/Berlin`).
/// Ambiguous abbreviations (`IST`) are not guessed.
pub fn parse_zone(text: &str) -> Option<Zone> {
    let t = text.trim();
    match t {
        "Z" | "z" | "UTC" | "GMT" | "UT" | "utc" | "gmt" => return Some(Zone::Offset(0)),
        _ => {}
    }
    if let Some(rest) = t.strip_prefix("GMT").or_else(|| t.strip_prefix("UTC")) {
        return parse_numeric_offset(rest).map(Zone::Offset);
    }
    if t.starts_with(['+', '-']) {
        return parse_numeric_offset(t).map(Zone::Offset);
    }
    const ABBREVIATIONS: &[(&str, i32)] = &[
        ("EST", -5 * 3600),
        ("EDT", -4 * 3600),
        ("CST", -6 * 3600),
        ("CDT", -5 * 3600),
        ("MST", -7 * 3600),
        ("MDT", -6 * 3600),
        ("PST", -8 * 3600),
        ("PDT", -7 * 3600),
        ("AKST", -9 * 3600),
        ("AKDT", -8 * 3600),
        ("HST", -10 * 3600),
        ("WET", 0),
        ("WEST", 3600),
        ("BST", 3600),
        ("CET", 3600),
        ("CEST", 2 * 3600),
        ("MET", 3600),
        ("MEST", 2 * 3600),
        ("EET", 2 * 3600),
        ("EEST", 3 * 3600),
        ("MSK", 3 * 3600),
        ("HKT", 8 * 3600),
        ("SGT", 8 * 3600),
        ("AWST", 8 * 3600),
        ("JST", 9 * 3600),
        ("KST", 9 * 3600),
        ("ACST", 9 * 3600 + 1800),
        ("AEST", 10 * 3600),
        ("AEDT", 11 * 3600),
        ("NZST", 12 * 3600),
        ("NZDT", 13 * 3600),
    ];
    if let Some((_, secs)) = ABBREVIATIONS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(t))
    {
        return Some(Zone::Offset(*secs));
    }
    if t.contains('/') {
        return t.parse::<chrono_tz::Tz>().ok().map(Zone::Named);
    }
    None
}

/// `+09:00`, `+0900`, `+09`, `+9`, `-05:30` → seconds east of UTC.
fn parse_numeric_offset(text: &str) -> Option<i32> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: &[u8] = rest.as_bytes();
    let (h, m) = match digits.len() {
        1 | 2 => (rest, "0"),
        4 if digits.iter().all(u8::is_ascii_digit) => (&rest[..2], &rest[2..]),
        4 | 5 if digits.get(digits.len() - 3) == Some(&b':') => rest.split_once(':')?,
        _ => return None,
    };
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// Converts a wall-clock time to UTC: in `zone`, or in `ctx.timezone` when the stamp names
/// none.
pub fn zoned_to_utc(
    ctx: &ParseContext,
    zone: Option<Zone>,
    naive: &NaiveDateTime,
) -> Option<Timestamp> {
    match zone {
        None => naive_local_to_utc(ctx, naive),
        Some(Zone::Offset(secs)) => {
            let utc = naive.and_utc().timestamp_nanos_opt()?;
            Some(Timestamp(utc.checked_sub(secs as i64 * 1_000_000_000)?))
        }
        Some(Zone::Named(tz)) => tz
            .from_local_datetime(naive)
            .earliest()
            .map(|dt| Timestamp::from_datetime(&dt)),
    }
}

/// An integer epoch time, its unit told apart by magnitude like [`epoch_number`] (below
/// 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds, else nanoseconds),
/// exact to the nanosecond (FortiGate `eventtime=1545937675123456789`).
pub fn epoch_integer(n: i64) -> Option<Timestamp> {
    let abs = n.unsigned_abs();
    if abs < 100_000_000_000 {
        n.checked_mul(1_000_000_000).map(Timestamp)
    } else if abs < 100_000_000_000_000 {
        n.checked_mul(1_000_000).map(Timestamp)
    } else if abs < 100_000_000_000_000_000 {
        n.checked_mul(1_000).map(Timestamp)
    } else {
        Some(Timestamp(n))
    }
}

/// Two or four ASCII digits at `b[at..at + n]` as a number.
#[inline]
fn digits_at(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Reads a fraction of a second (the digits after `.` or `,`) at `b[at..]` as nanoseconds;
/// returns them and the number of bytes read (digits past the ninth are read and dropped).
#[inline]
pub fn fraction_nanos(b: &[u8], at: usize) -> (u32, usize) {
    let mut nanos = 0u32;
    let mut i = at;
    while i < b.len() && b[i].is_ascii_digit() {
        if i - at < 9 {
            nanos += (b[i] - b'0') as u32 * 10u32.pow(8 - (i - at) as u32);
        }
        i += 1;
    }
    (nanos, i - at)
}

/// Parses ISO 8601 / RFC 3339 at the start of `text`: `YYYY-MM-DD[T| ]hh:mm[:ss][.frac]` and
/// an optional zone (`Z`, `±hh:mm`, `±hhmm`, `±hh`). Without a zone the time is read in
/// `ctx.timezone` (unlike [`haechi_event::parse_rfc3339`], which reads it as UTC). Returns
/// the time and the bytes consumed; anything after that is the caller's to judge.
pub fn parse_iso8601_prefix(text: &str, ctx: &ParseContext) -> Option<(Timestamp, usize)> {
    let b = text.as_bytes();
    let year = digits_at(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits_at(b, 5, 2)?;
    let day = digits_at(b, 8, 2)?;
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || !b.get(11).is_some_and(u8::is_ascii_digit)
    {
        let naive = date.and_hms_opt(0, 0, 0)?;
        return Some((zoned_to_utc(ctx, None, &naive)?, 10));
    }
    let h = digits_at(b, 11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let m = digits_at(b, 14, 2)?;
    let mut i = 16;
    let mut s = 0;
    if b.get(16) == Some(&b':') {
        s = digits_at(b, 17, 2)?;
        i = 19;
    }
    let mut nanos = 0;
    if matches!(b.get(i), Some(b'.' | b',')) {
        let (n, len) = fraction_nanos(b, i + 1);
        if len == 0 {
            return None;
        }
        nanos = n;
        i += 1 + len;
    }
    // A leap second (`:60`) is read as the last nanosecond-free instant before it.
    let naive = date.and_hms_nano_opt(h, m, s.min(59), nanos)?;
    let zone = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            Some(Zone::Offset(0))
        }
        Some(b'+' | b'-') => {
            let start = i;
            let mut end = i + 1;
            while end < b.len() && (b[end].is_ascii_digit() || b[end] == b':') && end - start <= 6 {
                end += 1;
            }
            let offset = parse_numeric_offset(&text[start..end])?;
            i = end;
            Some(Zone::Offset(offset))
        }
        _ => None,
    };
    Some((zoned_to_utc(ctx, zone, &naive)?, i))
}

/// [`parse_iso8601_prefix`] over the whole text (surrounding blanks allowed).
pub fn parse_iso8601(text: &str, ctx: &ParseContext) -> Option<Timestamp> {
    let t = text.trim();
    match parse_iso8601_prefix(t, ctx)? {
        (ts, used) if used == t.len() => Some(ts),
        _ => None,
    }
}

/// A `Mmm dd [yyyy] hh:mm:ss[.frac]` stamp (BSD syslog, CEF `rt`, LEEF `devTime`): the
/// pieces, with the year when the stamp has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthDayTime {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl MonthDayTime {
    /// The stamp in UTC: in `zone` (or `ctx.timezone`), in its own year, else in `ctx.year`,
    /// else in the year of `ctx.received` unless that puts it more than a day in the future
    /// (then the year before), as [`local_without_year`] does.
    pub fn to_utc(&self, ctx: &ParseContext, zone: Option<Zone>) -> Option<Timestamp> {
        let at = |year: i32| -> Option<Timestamp> {
            let naive = chrono::NaiveDate::from_ymd_opt(year, self.month, self.day)?
                .and_hms_nano_opt(self.hour, self.minute, self.second.min(59), self.nanos)?;
            zoned_to_utc(ctx, zone, &naive)
        };
        if let Some(year) = self.year.or(ctx.year) {
            return at(year);
        }
        let received_year = ctx.received.to_datetime().year();
        // Feb 29 without a year: the nearest leap year back.
        match at(received_year) {
            Some(stamp) if stamp.0 > ctx.received.0 + 86_400_000_000_000 => at(received_year - 1),
            Some(stamp) => Some(stamp),
            None => (1..=4).find_map(|back| at(received_year - back)),
        }
    }
}

/// Parses `Mmm dd hh:mm:ss[.frac]` or `Mmm dd yyyy hh:mm:ss[.frac]` at the start of `text`
/// (the day may be one digit or padded with a space: `Jul  1`). Returns the stamp and the
/// bytes consumed.
pub fn parse_month_day_time(text: &str) -> Option<(MonthDayTime, usize)> {
    let b = text.as_bytes();
    if b.len() < 14 || !b[..3].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let month = month_number(&text[..3])?;
    let mut i = 3;
    // `Sept`, `June`, `July`: tolerate full or four-letter month names.
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let day_start = i;
    while i < b.len() && b[i].is_ascii_digit() && i - day_start < 2 {
        i += 1;
    }
    let day = digits_at(b, day_start, i - day_start)?;
    if i == day_start || b.get(i) != Some(&b' ') || day == 0 || day > 31 {
        return None;
    }
    i += 1;
    let mut year = None;
    if b.get(i + 4) == Some(&b' ') {
        year = Some(digits_at(b, i, 4)? as i32);
        i += 5;
    }
    let hour = digits_at(b, i, 2)?;
    let minute = digits_at(b, i + 3, 2)?;
    let second = digits_at(b, i + 6, 2)?;
    if b[i + 2] != b':' || b.get(i + 5) != Some(&b':') || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    i += 8;
    let mut nanos = 0;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let (n, len) = fraction_nanos(b, i + 1);
        nanos = n;
        i += 1 + len;
    }
    Some((
        MonthDayTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        },
        i,
    ))
}

/// A time as devices write it in text fields (CEF `rt`/`start`/`end`, LEEF `devTime`,
/// key=value `eventtime`): an epoch number (seconds, milliseconds, microseconds or
/// nanoseconds by magnitude; decimal seconds too), ISO 8601 / RFC 3339, or
/// `Mmm dd [yyyy] hh:mm:ss[.frac] [zone]` (zone as in [`parse_zone`]; none, or one that is
/// not recognized, means `ctx.timezone`). `None` for anything else.
pub fn parse_device_time(text: &str, ctx: &ParseContext) -> Option<Timestamp> {
    let t = text.trim();
    let first = *t.as_bytes().first()?;
    if first.is_ascii_digit() || first == b'-' {
        if t.bytes().all(|c| c.is_ascii_digit()) {
            return epoch_integer(t.parse().ok()?);
        }
        if let Some((whole, frac)) = t.split_once('.')
            && whole.len() <= 11
            && whole.bytes().all(|c| c.is_ascii_digit())
            && frac.bytes().all(|c| c.is_ascii_digit())
        {
            return epoch_seconds_text(t);
        }
        return parse_iso8601(t, ctx);
    }
    let (stamp, used) = parse_month_day_time(t)?;
    let rest = t[used..].trim();
    let zone = if rest.is_empty() {
        None
    } else {
        parse_zone(rest)
    };
    stamp.to_utc(ctx, zone)
}

/// ECS `network.transport` for an IANA protocol number (`6` → `tcp`).
pub fn transport_name(number: u8) -> Option<&'static str> {
    Some(match number {
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        88 => "eigrp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// Pushes `network.transport` from a protocol written as a name (`TCP` → `tcp`) or an IANA
/// number (`6` → `tcp`; unknown numbers are kept as digits).
pub fn push_transport(event: &mut Event, text: &str) {
    let t = text.trim();
    if t.is_empty() || t == "-" {
        return;
    }
    if let Ok(n) = t.parse::<u8>() {
        match transport_name(n) {
            Some(name) => event.push(ecs::NETWORK_TRANSPORT, name),
            None => event.push(ecs::NETWORK_TRANSPORT, t),
        }
    } else {
        event.push(ecs::NETWORK_TRANSPORT, t.to_ascii_lowercase());
    }
}

/// Pushes `name` as an integer if `text` is a non-negative one (byte and packet counters).
pub fn push_count(event: &mut Event, name: impl Into<FieldName>, text: &str) {
    if let Ok(n) = text.trim().parse::<i64>()
        && n >= 0
    {
        event.push(name, n);
    }
}

/// A device's own field name (`cs1`, `srcip`, `FTNTFGTlogid`) as a [`FieldName`]: interned
/// with [`static_name`] (after a thread's first sight of a name, neither a lock nor an
/// allocation), except names longer than 64 bytes, which rarely repeat and are owned.
pub fn device_field_name(name: &str) -> FieldName {
    if name.len() > 64 {
        FieldName::Owned(name.to_owned())
    } else {
        static_name(name)
    }
}

/// The start of `text` for an error message: at most `max` bytes, cut at a character
/// boundary.
pub fn excerpt(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod device_time_tests {
    use super::*;
    use haechi_event::parse_rfc3339;

    fn ctx() -> ParseContext {
        let mut ctx = ParseContext::new("t");
        ctx.received = parse_rfc3339("2024-06-01T00:00:00Z").unwrap();
        ctx
    }

    fn rfc(t: Option<Timestamp>) -> Option<String> {
        t.map(Timestamp::to_rfc3339)
    }

    #[test]
    fn zones() {
        assert_eq!(parse_zone("Z"), Some(Zone::Offset(0)));
        assert_eq!(parse_zone("+09:00"), Some(Zone::Offset(9 * 3600)));
        assert_eq!(parse_zone("-0730"), Some(Zone::Offset(-(7 * 3600 + 1800))));
        assert_eq!(parse_zone("+02"), Some(Zone::Offset(2 * 3600)));
        assert_eq!(parse_zone("GMT+08:00"), Some(Zone::Offset(8 * 3600)));
        assert_eq!(parse_zone("UTC-5"), Some(Zone::Offset(-5 * 3600)));
        assert_eq!(parse_zone("cest"), Some(Zone::Offset(2 * 3600)));
        assert_eq!(
            parse_zone("Asia/Seoul"),
            Some(Zone::Named(chrono_tz::Asia::Seoul))
        );
        assert_eq!(
            parse_zone("IST"),
            None,
            "ambiguous abbreviations are not guessed"
        );
        assert_eq!(parse_zone("+25:00"), None);
    }

    #[test]
    fn iso8601_with_and_without_offset() {
        let c = ctx();
        assert_eq!(
            rfc(parse_iso8601("2003-10-11T22:14:15.003Z", &c)).as_deref(),
            Some("2003-10-11T22:14:15.003Z")
        );
        assert_eq!(
            rfc(parse_iso8601("2003-08-24T05:14:15.000003-07:00", &c)).as_deref(),
            Some("2003-08-24T12:14:15.000003Z")
        );
        assert_eq!(
            rfc(parse_iso8601("2021-10-12 13:14:15+0200", &c)).as_deref(),
            Some("2021-10-12T11:14:15Z")
        );
        assert_eq!(
            rfc(parse_iso8601("2021-10-12", &c)).as_deref(),
            Some("2021-10-12T00:00:00Z")
        );
        let mut seoul = ctx();
        seoul.timezone = "Asia/Seoul".parse().unwrap();
        assert_eq!(
            rfc(parse_iso8601("2021-10-12T09:00:00", &seoul)).as_deref(),
            Some("2021-10-12T00:00:00Z")
        );
        assert_eq!(parse_iso8601("2021-13-12T09:00:00Z", &c), None);
        assert_eq!(parse_iso8601("2021-10-12T09:00:00Z trailing", &c), None);
    }

    #[test]
    fn device_times() {
        let c = ctx();
        let t = |s: &str| rfc(parse_device_time(s, &c));
        assert_eq!(t("1545937675").as_deref(), Some("2018-12-27T19:07:55Z"));
        assert_eq!(
            t("1545937675123").as_deref(),
            Some("2018-12-27T19:07:55.123Z")
        );
        assert_eq!(
            t("1545937675123456").as_deref(),
            Some("2018-12-27T19:07:55.123456Z")
        );
        assert_eq!(
            t("1545937675123456789").as_deref(),
            Some("2018-12-27T19:07:55.123456789Z")
        );
        assert_eq!(
            t("1545937675.5").as_deref(),
            Some("2018-12-27T19:07:55.500Z")
        );
        assert_eq!(
            t("Sep 07 2018 14:50:39").as_deref(),
            Some("2018-09-07T14:50:39Z")
        );
        assert_eq!(
            t("Sep 07 2018 14:50:39.123 EST").as_deref(),
            Some("2018-09-07T19:50:39.123Z")
        );
        assert_eq!(
            t("Mar 09 2015 17:05:21 GMT+08:00").as_deref(),
            Some("2015-03-09T09:05:21Z")
        );
        // No year: this year unless that is more than a day ahead of the receive time.
        assert_eq!(
            t("May 31 23:00:00").as_deref(),
            Some("2024-05-31T23:00:00Z")
        );
        assert_eq!(
            t("Jul 31 23:00:00").as_deref(),
            Some("2023-07-31T23:00:00Z")
        );
        assert_eq!(
            t("Feb 29 12:00:00").as_deref(),
            Some("2024-02-29T12:00:00Z")
        );
        assert_eq!(t("yesterday"), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn month_day_time_variants() {
        let (s, used) = parse_month_day_time("Jul  1 09:00:55 host").unwrap();
        assert_eq!(
            (s.month, s.day, s.hour, s.minute, s.second, s.year, used),
            (7, 1, 9, 0, 55, None, 15)
        );
        let (s, used) = parse_month_day_time("Jul 1 09:00:55.250 x").unwrap();
        assert_eq!((s.day, s.nanos, used), (1, 250_000_000, 18));
        let (s, _) = parse_month_day_time("Sept 10 2019 01:02:03").unwrap();
        assert_eq!((s.month, s.year), (9, Some(2019)));
        assert_eq!(parse_month_day_time("Jul 32 09:00:55"), None);
        assert_eq!(parse_month_day_time("Jul 01 24:00:00"), None);
        assert_eq!(parse_month_day_time("Foo 01 09:00:00"), None);
    }

    #[test]
    fn transports_counts_and_excerpts() {
        let mut e = Event::new(Timestamp(0), "t".into(), 4);
        push_transport(&mut e, "6");
        push_transport(&mut e, "UDP");
        push_transport(&mut e, "253");
        push_count(&mut e, ecs::SOURCE_BYTES, "-1");
        push_count(&mut e, ecs::DESTINATION_BYTES, "42");
        let values: Vec<String> = e.fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(
            values,
            [
                "network.transport=tcp",
                "network.transport=udp",
                "network.transport=253",
                "destination.bytes=42"
            ]
        );
        assert_eq!(excerpt("héllo", 2), "h");
        assert_eq!(excerpt("abc", 10), "abc");
    }

    #[test]
    fn device_field_names_are_interned() {
        let a = device_field_name("FTNTFGTlogid");
        let b = device_field_name("FTNTFGTlogid");
        match (a, b) {
            (FieldName::Borrowed(x), FieldName::Borrowed(y)) => assert!(std::ptr::eq(x, y)),
            other => panic!("not interned: {other:?}"),
        }
        assert!(matches!(
            device_field_name(&"k".repeat(65)),
            FieldName::Owned(_)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::parse_rfc3339;

    #[test]
    fn stamp_in_the_future_belongs_to_last_year() {
        let mut ctx = ParseContext::new("t");
        ctx.received = parse_rfc3339("2026-01-02T00:00:00Z").unwrap();
        let t = local_without_year(&ctx, 12, 31, 23, 0, 0, 0).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-12-31T23:00:00Z");
    }

    #[test]
    fn configured_zone_is_applied() {
        let mut ctx = ParseContext::new("t");
        ctx.timezone = "Asia/Seoul".parse().unwrap();
        ctx.year = Some(2024);
        let t = local_without_year(&ctx, 3, 1, 9, 0, 0, 0).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-01T00:00:00Z");
    }

    #[test]
    fn priority_splits_into_facility_and_severity() {
        let mut e = Event::new(Timestamp(0), "t".into(), 8);
        push_syslog_priority(&mut e, 34);
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_FACILITY_NAME), Some("auth"));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_SEVERITY_NAME), Some("critical"));
    }
}

/// The number of scalar values in a JSON value, counting no further than `limit`: how a
/// parser tells a request or response object too large to flatten without walking it all.
pub fn json_scalar_count(value: &serde_json::Value, limit: usize) -> usize {
    fn walk(v: &serde_json::Value, n: &mut usize, limit: usize) {
        if *n >= limit {
            return;
        }
        match v {
            serde_json::Value::Object(m) => m.values().for_each(|v| walk(v, n, limit)),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, n, limit)),
            _ => *n += 1,
        }
    }
    let mut n = 0;
    walk(value, &mut n, limit);
    n
}

/// A record that must be one JSON object (`what` names it in the refusal).
pub fn json_object(
    record: &str,
    what: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, crate::ParseError> {
    match serde_json::from_str::<serde_json::Value>(record) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(crate::ParseError::new(format!(
            "{what} must be a JSON object"
        ))),
        Err(e) => Err(crate::ParseError::new(format!("not valid JSON: {e}"))),
    }
}
