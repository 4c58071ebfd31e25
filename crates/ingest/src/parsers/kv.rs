//! `kv`: `key=value` logs (FortiGate style), optionally after a `<PRI>`.
//!
//! * Pairs are separated by blanks (spaces or TABs). A value is either quoted (`"…"` or
//!   `'…'`, where `\"`, `\'` and `\\` are unescaped and any other backslash is kept) or runs
//!   to the next blank. Words without `=` between pairs are skipped. An unterminated quote
//!   is an error, as is a record without any `key=value` pair.
//! * **Every key is kept under its own bare name** with its text value (empty values are
//!   dropped), so rules written for the device's names work.
//! * The time: `eventtime` (epoch seconds, milliseconds, microseconds or nanoseconds, told
//!   apart by magnitude), else `date` + `time` (`2019-05-10` `11:37:47`) with `tz`
//!   (`"+0200"`, `"-0700"`, `UTC`) or, without it, `ParseContext.timezone`; else the
//!   receive time (or the syslog header's when the record came inside syslog).
//! * ECS (FortiGate's names): `devname` → `observer.name`, `devid` →
//!   `observer.serial_number`, `srcip`/`dstip`/`srcport`/`dstport`, `srcintf`/`dstintf` →
//!   observer ingress/egress interface, `srcmac`/`dstmac`, `transip`/`transport` and
//!   `tranip`/`tranport` → NAT, `action` → `event.action`, `proto` (number) →
//!   `network.transport` (name), `service` → `network.protocol` (lowercase, when it is a
//!   name, not `tcp/8080`), `app` → `network.application`, `policyid`/`policyname` →
//!   `rule.id`/`rule.name` (for IPS logs `attackid`/`attack` take those, the policy stays
//!   under its bare key), `sentbyte`/`rcvdbyte` → source/destination bytes, `sentpkt`/
//!   `rcvdpkt` → packets, `duration` → `event.duration` (ns), `user` (else `unauthuser`)
//!   → `user.name`, `level` → `log.level`, `logid` → `event.code`, `logdesc` →
//!   `event.reason`, `msg` → `message` (without `msg` the whole payload is the message),
//!   `hostname` → `url.domain`, `url` → `url.original`, `srccountry`/`dstcountry` →
//!   geo country names (not `Reserved`).
//! * A record with `devid`, `devname` or `logid` is FortiGate's: `observer.vendor:
//!   Fortinet`, `observer.product: FortiGate` (unless `devid` names another Forti product),
//!   `observer.type: firewall`. `type`/`subtype` categorize it: `traffic` → network
//!   connection (allowed, denied, start or end by `action`); `utm`/`ips`, `anomaly`, `attack`
//!   → `event.kind: alert` with intrusion detection; `utm`/`virus` → alert, malware;
//!   `utm`/`waf` → alert, web intrusion detection; `utm`/`app-ctrl` → alert when blocked or
//!   of `apprisk` high/critical (else an event); `utm`/`webfilter` → web; `event` with `action=login`/`logout` → authentication with
//!   `event.outcome` from `status`.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, ecs};
use std::borrow::Cow;

const OBSERVER_NAME: &str = "observer.name";
const OBSERVER_SERIAL_NUMBER: &str = "observer.serial_number";
const OBSERVER_INGRESS_INTERFACE: &str = "observer.ingress.interface.name";
const OBSERVER_EGRESS_INTERFACE: &str = "observer.egress.interface.name";
const NETWORK_APPLICATION: &str = "network.application";
const EVENT_REASON: &str = "event.reason";
const SOURCE_GEO_COUNTRY: &str = "source.geo.country_name";
const DESTINATION_GEO_COUNTRY: &str = "destination.geo.country_name";

/// Parses `key=value` records. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct KvParser;

impl KvParser {
    pub fn new() -> Self {
        KvParser
    }
}

impl RecordParser for KvParser {
    fn format(&self) -> Format {
        Format::Kv
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = super::syslog::trim_record(record);
        if text.is_empty() {
            return Ok(None);
        }
        let mut event = Event::new(ctx.received, ctx.tenant.clone(), 48);
        let mut payload = text;
        if text.starts_with('<')
            && let Some(close) = memchr::memchr(b'>', &text.as_bytes()[..text.len().min(5)])
        {
            let digits = &text[1..close];
            match digits.parse::<u8>() {
                Ok(pri) if pri <= 191 => {
                    normalize::push_syslog_priority(&mut event, pri);
                    payload = text[close + 1..].trim_start();
                }
                _ => {
                    return Err(ParseError::new(format!(
                        "expected a syslog PRI (`<0>` to `<191>`) at byte 0, found '{}'",
                        &text[..=close]
                    )));
                }
            }
        }
        parse_kv_into(payload, &mut event, ctx)?;
        Ok(Some(event))
    }
}

/// One `key=value` pair, the value unescaped.
type Pair<'a> = (&'a str, Cow<'a, str>);

/// Splits a key=value payload into pairs (see the module documentation).
pub fn kv_pairs(payload: &str) -> Result<Vec<Pair<'_>>, ParseError> {
    let b = payload.as_bytes();
    let mut pairs = Vec::with_capacity(48);
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'=') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' || i == key_start {
            // A word without `=` (or `=value` without a key): skipped.
            while i < b.len() && !matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            continue;
        }
        let key = &payload[key_start..i];
        i += 1;
        match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let value_start = i + 1;
                let mut j = value_start;
                let mut escaped = false;
                loop {
                    match b.get(j) {
                        None => {
                            return Err(ParseError::new(format!(
                                "unterminated quoted value of key '{key}' starting at byte {i} (missing closing {})",
                                q as char
                            )));
                        }
                        Some(b'\\') => {
                            escaped = true;
                            j += 2;
                        }
                        Some(&c) if c == q => break,
                        Some(_) => j += 1,
                    }
                }
                let raw = &payload[value_start..j];
                pairs.push((
                    key,
                    if escaped {
                        unescape(raw)
                    } else {
                        Cow::Borrowed(raw)
                    },
                ));
                i = j + 1;
            }
            _ => {
                let value_start = i;
                while i < b.len() && !matches!(b[i], b' ' | b'\t') {
                    i += 1;
                }
                pairs.push((key, Cow::Borrowed(&payload[value_start..i])));
            }
        }
    }
    Ok(pairs)
}

/// `\"`, `\'`, `\\` → the character; any other backslash is kept.
fn unescape(raw: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\'' | '\\')) => out.push(n),
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

/// Parses a key=value payload (no `<PRI>`) into `event`: every pair under its bare key, the
/// FortiGate mapping to ECS, the device time and the categorization.
pub fn parse_kv_into(
    payload: &str,
    event: &mut Event,
    ctx: &ParseContext,
) -> Result<(), ParseError> {
    let pairs = kv_pairs(payload)?;
    if pairs.is_empty() {
        return Err(ParseError::new(format!(
            "no key=value pair found (expected `key=value` or `key=\"quoted value\"` separated by blanks), found '{}'",
            normalize::excerpt(payload, 40)
        )));
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    };
    for (key, value) in &pairs {
        if !value.is_empty() {
            event.push(normalize::device_field_name(key), value.as_ref());
        }
    }

    let is_ips = get("attackid").is_some() || get("attack").is_some();
    for (key, value) in &pairs {
        let value = value.as_ref();
        match *key {
            "devname" => event.push_str_nonempty(OBSERVER_NAME, value),
            "devid" => event.push_str_nonempty(OBSERVER_SERIAL_NUMBER, value),
            "srcip" => normalize::push_ip(event, ecs::SOURCE_IP, value),
            "dstip" => normalize::push_ip(event, ecs::DESTINATION_IP, value),
            "srcport" => normalize::push_port(event, ecs::SOURCE_PORT, value),
            "dstport" => normalize::push_port(event, ecs::DESTINATION_PORT, value),
            "srcintf" => event.push_str_nonempty(OBSERVER_INGRESS_INTERFACE, value),
            "dstintf" => event.push_str_nonempty(OBSERVER_EGRESS_INTERFACE, value),
            "srcmac" => event.push_str_nonempty(ecs::SOURCE_MAC, value),
            "dstmac" => event.push_str_nonempty(ecs::DESTINATION_MAC, value),
            "transip" => normalize::push_ip(event, ecs::SOURCE_NAT_IP, value),
            "transport" => normalize::push_port(event, ecs::SOURCE_NAT_PORT, value),
            "tranip" => normalize::push_ip(event, ecs::DESTINATION_NAT_IP, value),
            "tranport" => normalize::push_port(event, ecs::DESTINATION_NAT_PORT, value),
            "srccountry" if value != "Reserved" => {
                event.push_str_nonempty(SOURCE_GEO_COUNTRY, value)
            }
            "dstcountry" if value != "Reserved" => {
                event.push_str_nonempty(DESTINATION_GEO_COUNTRY, value)
            }
            "action" => event.push_str_nonempty(ecs::EVENT_ACTION, value),
            "proto" => normalize::push_transport(event, value),
            "service"
                if !value.is_empty()
                    && value
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')) =>
            {
                event.push(ecs::NETWORK_PROTOCOL, value.to_ascii_lowercase())
            }
            "app" if !value.is_empty() => {
                event.push(NETWORK_APPLICATION, value.to_ascii_lowercase())
            }
            "policyid" if !is_ips => event.push_str_nonempty(ecs::RULE_ID, value),
            "policyname" if !is_ips => event.push_str_nonempty(ecs::RULE_NAME, value),
            "attackid" => event.push_str_nonempty(ecs::RULE_ID, value),
            "attack" => event.push_str_nonempty(ecs::RULE_NAME, value),
            "sentbyte" => normalize::push_count(event, ecs::SOURCE_BYTES, value),
            "rcvdbyte" => normalize::push_count(event, ecs::DESTINATION_BYTES, value),
            "sentpkt" => normalize::push_count(event, ecs::SOURCE_PACKETS, value),
            "rcvdpkt" => normalize::push_count(event, ecs::DESTINATION_PACKETS, value),
            "duration" => {
                if let Ok(secs) = value.parse::<i64>() {
                    event.push(ecs::EVENT_DURATION, secs.saturating_mul(1_000_000_000));
                }
            }
            "user" => event.push_str_nonempty(ecs::USER_NAME, value),
            "unauthuser" if get("user").is_none() => event.push_str_nonempty(ecs::USER_NAME, value),
            "level" => event.push_str_nonempty(ecs::LOG_LEVEL, value),
            "logid" => event.push_str_nonempty(ecs::EVENT_CODE, value),
            "logdesc" => event.push_str_nonempty(EVENT_REASON, value),
            "hostname" => event.push_str_nonempty(ecs::URL_DOMAIN, value),
            "url" => event.push_str_nonempty(ecs::URL_ORIGINAL, value),
            _ => {}
        }
    }
    match get("msg").filter(|m| !m.is_empty()) {
        Some(msg) => event.push(ecs::MESSAGE, msg),
        None => event.push(ecs::MESSAGE, payload),
    }
    if let Some(ts) = device_time(&get, ctx) {
        event.timestamp = ts;
    }

    let fortigate = get("devid").is_some() || get("devname").is_some() || get("logid").is_some();
    if fortigate {
        let product = match get("devid") {
            Some(id) if !id.starts_with("FG") => "",
            _ => "FortiGate",
        };
        normalize::observer(event, "Fortinet", product, "firewall");
    }
    categorize(
        event,
        get("type").unwrap_or(""),
        get("subtype").unwrap_or(""),
        &get,
    );
    Ok(())
}

/// `eventtime`, else `date` + `time` (+ `tz`).
fn device_time<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    ctx: &ParseContext,
) -> Option<haechi_event::Timestamp> {
    if let Some(ts) = get("eventtime")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(normalize::epoch_integer)
    {
        return Some(ts);
    }
    let date = get("date")?;
    let time = get("time")?;
    let d = date.as_bytes();
    if d.len() != 10 || d[4] != b'-' || d[7] != b'-' {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        date[..4].parse().ok()?,
        date[5..7].parse().ok()?,
        date[8..10].parse().ok()?,
    )?;
    let mut parts = time.splitn(3, ':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let s_text = parts.next().unwrap_or("0");
    let (s, nanos) = match s_text.split_once('.') {
        Some((s, frac)) => (
            s.parse().ok()?,
            normalize::fraction_nanos(frac.as_bytes(), 0).0,
        ),
        None => (s_text.parse().ok()?, 0),
    };
    let naive = date.and_hms_nano_opt(h, m, s, nanos)?;
    let zone = get("tz").and_then(normalize::parse_zone);
    normalize::zoned_to_utc(ctx, zone, &naive)
}

/// ECS categorization from FortiGate's `type` / `subtype` / `action`.
fn categorize<'a>(
    event: &mut Event,
    kind: &str,
    subtype: &str,
    get: &impl Fn(&str) -> Option<&'a str>,
) {
    let action = get("action").unwrap_or("").to_ascii_lowercase();
    let denied = matches!(
        action.as_str(),
        "deny" | "denied" | "block" | "blocked" | "drop" | "dropped" | "reset" | "reject"
    );
    match (kind, subtype) {
        ("traffic", _) => {
            let types: &'static [&'static str] = if denied {
                &["connection", "denied"]
            } else if action == "start" {
                &["connection", "start"]
            } else if action.is_empty() {
                &["connection"]
            } else {
                &["connection", "end"]
            };
            normalize::categorize(event, "event", &["network"], types);
        }
        ("utm", "ips") | ("ips", _) | ("attack", _) | ("utm", "anomaly") | ("anomaly", _) => {
            let types: &'static [&'static str] = if denied {
                &["info", "denied"]
            } else {
                &["info"]
            };
            normalize::categorize(event, "alert", &["intrusion_detection", "network"], types);
        }
        ("utm", "virus") | ("virus", _) => {
            normalize::categorize(event, "alert", &["malware"], &["info"])
        }
        ("utm", "waf") | ("waf", _) => {
            let types: &'static [&'static str] = if denied {
                &["access", "denied"]
            } else {
                &["access"]
            };
            normalize::categorize(event, "alert", &["intrusion_detection", "web"], types);
        }
        // Application control logs every application it sees; only what it blocked or
        // rates as a high risk is a detection.
        ("utm", "app-ctrl") | ("app-ctrl", _)
            if denied
                || get("apprisk").is_some_and(|r| {
                    matches!(r.to_ascii_lowercase().as_str(), "critical" | "high")
                }) =>
        {
            let types: &'static [&'static str] = if denied {
                &["info", "denied"]
            } else {
                &["info"]
            };
            normalize::categorize(event, "alert", &["network"], types);
        }
        ("utm", "webfilter") | ("webfilter", _) => {
            let types: &'static [&'static str] = if denied {
                &["access", "denied"]
            } else {
                &["access"]
            };
            normalize::categorize(event, "event", &["web"], types);
        }
        ("event", _) if action == "login" || action == "logout" => {
            let types: &'static [&'static str] = if action == "login" {
                &["start"]
            } else {
                &["end"]
            };
            normalize::categorize(event, "event", &["authentication"], types);
            match get("status").map(|s| s.to_ascii_lowercase()) {
                Some(s) if s == "success" => event.push(ecs::EVENT_OUTCOME, "success"),
                Some(s) if s == "failed" || s == "failure" => {
                    event.push(ecs::EVENT_OUTCOME, "failure")
                }
                _ => {}
            }
        }
        _ => normalize::categorize(event, "event", &[], &[]),
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
        KvParser::new()
            .parse(line, &ctx())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap()
    }

    fn err(line: &str) -> String {
        KvParser::new().parse(line, &ctx()).expect_err(line).0
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    // No public FortiGate log file exists (see the data's SOURCE.md); these records are
    // the examples of Fortinet's FortiOS Log Message Reference ("Traffic log support for
    // CEF" shows the traffic log as written on disk; "Event log support for CEF" the system
    // event log), sent the way FortiGate sends them to syslog (`<PRI>` then the pairs).

    const FORTINET_TRAFFIC: &str = r#"date=2018-12-27 time=11:07:55 logid="0000000013" type="traffic" subtype="forward" level="notice" vd="vdom1" eventtime=1545937675 srcip=10.1.100.11 srcport=54190 srcintf="port12" srcintfrole="undefined" dstip=52.53.140.235 dstport=443 dstintf="port11" dstintfrole="undefined" poluuid="c2d460aa-fe6f-51e8-9505-41b5117dfdd4" sessionid=402 proto=6 action="close" policyid=1 policytype="policy" service="HTTPS" dstcountry="United States" srccountry="Reserved" trandisp="snat" transip=172.16.200.1 transport=54190 appid=40568 app="HTTPS.BROWSER" appcat="Web.Client" apprisk="medium" applist="g-default" duration=2 sentbyte=3652 rcvdbyte=146668 sentpkt=58 rcvdpkt=105 utmaction="allow" countapp=2 utmref=65532-56"#;

    #[test]
    fn fortinet_documented_traffic_log() {
        let e = parse(FORTINET_TRAFFIC);
        assert_eq!(
            e.timestamp.to_rfc3339(),
            "2018-12-27T19:07:55Z",
            "eventtime (UTC epoch) wins over date/time"
        );
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("Fortinet"));
        assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("FortiGate"));
        assert_eq!(e.get_str(ecs::OBSERVER_TYPE), Some("firewall"));
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.1.100.11")));
        assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(54190)));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("52.53.140.235")));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(443)));
        assert_eq!(e.get_str(OBSERVER_INGRESS_INTERFACE), Some("port12"));
        assert_eq!(e.get_str(OBSERVER_EGRESS_INTERFACE), Some("port11"));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("https"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("close"));
        assert_eq!(e.get_str(ecs::RULE_ID), Some("1"));
        assert_eq!(e.get(ecs::SOURCE_BYTES), Some(&Value::Int(3652)));
        assert_eq!(e.get(ecs::DESTINATION_BYTES), Some(&Value::Int(146668)));
        assert_eq!(e.get(ecs::DESTINATION_PACKETS), Some(&Value::Int(105)));
        assert_eq!(e.get(ecs::EVENT_DURATION), Some(&Value::Int(2_000_000_000)));
        assert_eq!(e.get(ecs::SOURCE_NAT_IP), Some(&ip("172.16.200.1")));
        assert_eq!(e.get_str(DESTINATION_GEO_COUNTRY), Some("United States"));
        assert_eq!(e.get(SOURCE_GEO_COUNTRY), None);
        assert_eq!(e.get_str(ecs::LOG_LEVEL), Some("notice"));
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("0000000013"));
        assert_eq!(
            e.get(ecs::EVENT_CATEGORY),
            Some(&Value::from(&["network"][..]))
        );
        assert_eq!(
            e.get(ecs::EVENT_TYPE),
            Some(&Value::from(&["connection", "end"][..]))
        );
        // Original names, unquoted.
        assert_eq!(e.get_str("dstcountry"), Some("United States"));
        assert_eq!(e.get_str("utmref"), Some("65532-56"));
        assert_eq!(e.get_str("type"), Some("traffic"));
        // No msg: the payload is the message.
        assert_eq!(e.get_str(ecs::MESSAGE), Some(FORTINET_TRAFFIC));
    }

    #[test]
    fn fortigate_syslog_with_pri_devname_and_tz() {
        let line = r#"<189>date=2019-05-10 time=11:37:47 devname="FG" devid="FGT60D4614044725" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" tz="+0200" srcip=10.1.1.10 dstip=8.8.8.8 dstport=53 proto=17 action="deny" policyid=0 msg="Denied by forward policy check (policy 0)""#;
        let e = parse(line);
        assert_eq!(e.get(ecs::LOG_SYSLOG_PRIORITY), Some(&Value::Int(189)));
        assert_eq!(e.get_str(ecs::LOG_SYSLOG_FACILITY_NAME), Some("local7"));
        assert_eq!(e.timestamp.to_rfc3339(), "2019-05-10T09:37:47Z");
        assert_eq!(e.get_str(OBSERVER_NAME), Some("FG"));
        assert_eq!(e.get_str(OBSERVER_SERIAL_NUMBER), Some("FGT60D4614044725"));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("udp"));
        assert_eq!(
            e.get(ecs::EVENT_TYPE),
            Some(&Value::from(&["connection", "denied"][..]))
        );
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("Denied by forward policy check (policy 0)")
        );
    }

    #[test]
    fn date_and_time_without_zone_use_the_context_zone() {
        let mut c = ctx();
        c.timezone = "Asia/Seoul".parse().unwrap();
        let e = KvParser::new()
            .parse("date=2019-05-10 time=11:37:47 devname=FG", &c)
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2019-05-10T02:37:47Z");
        // Nanosecond eventtime (FortiOS 6.2+).
        let e = parse(
            "date=2020-03-29 time=16:41:30 eventtime=1585525290513555981 tz=\"-0700\" logid=\"0113022923\"",
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2020-03-29T23:41:30.513555981Z");
    }

    #[test]
    fn fortinet_documented_login_event() {
        let e = parse(
            r#"date=2018-12-27 time=11:15:40 logid="0100032002" type="event" subtype="system" level="alert" vd="vdom1" eventtime=1545938140 logdesc="Admin login failed" sn="0" user="admin1" ui="https(172.16.200.254)" method="https" srcip=172.16.200.254 dstip=172.16.200.1 action="login" status="failed" reason="name_invalid" msg="Administrator admin1 login failed from https(172.16.200.254) because of invalid user name""#,
        );
        assert_eq!(
            e.get(ecs::EVENT_CATEGORY),
            Some(&Value::from(&["authentication"][..]))
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("admin1"));
        assert_eq!(e.get_str(EVENT_REASON), Some("Admin login failed"));
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some(
                "Administrator admin1 login failed from https(172.16.200.254) because of invalid user name"
            )
        );
    }

    #[test]
    fn ips_log_maps_the_attack_to_the_rule() {
        let e = parse(
            r#"date=2019-05-13 time=11:20:54 logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" devid="FGT60E0000000000" srcip=10.1.100.22 dstip=172.16.200.55 proto=6 action="dropped" policyid=1 attack="Adobe.Flash.newfunction.Handling.Code.Execution" attackid=40138 severity="critical""#,
        );
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        assert_eq!(
            e.get_str(ecs::RULE_NAME),
            Some("Adobe.Flash.newfunction.Handling.Code.Execution")
        );
        assert_eq!(e.get_str(ecs::RULE_ID), Some("40138"));
        assert_eq!(e.get_str("policyid"), Some("1"));
        assert_eq!(
            e.get(ecs::EVENT_TYPE),
            Some(&Value::from(&["info", "denied"][..]))
        );
    }

    #[test]
    fn generic_quoting_and_escapes() {
        let e = parse(
            r#"a=1 b="two words" c='single \'q\'' d="esc \"x\" back\\slash \n" stray e= f=last"#,
        );
        assert_eq!(e.get_str("a"), Some("1"));
        assert_eq!(e.get_str("b"), Some("two words"));
        assert_eq!(e.get_str("c"), Some("single 'q'"));
        assert_eq!(e.get_str("d"), Some(r#"esc "x" back\slash \n"#));
        assert_eq!(e.get("e"), None);
        assert_eq!(e.get_str("f"), Some("last"));
        assert_eq!(e.get(ecs::OBSERVER_VENDOR), None, "not a FortiGate record");
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
    }

    #[test]
    fn malformed_kv_is_refused_with_a_reason() {
        assert!(err("just words without pairs").starts_with("no key=value pair found"));
        assert_eq!(
            err(r#"a=1 msg="never closed"#),
            "unterminated quoted value of key 'msg' starting at byte 8 (missing closing \")"
        );
        assert!(err("<999>a=1").contains("expected a syslog PRI"));
        assert_eq!(KvParser::new().parse("", &ctx()), Ok(None));
    }
}
