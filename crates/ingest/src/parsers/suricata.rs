//! `suricata`: Suricata EVE JSON, one event per line.
//!
//! Every EVE field is kept under its own flattened name (`alert.signature_id`, `flow_id`,
//! `dns.rrname`, `dns.answers.rdata`, `tls.ja3.hash`, …; `timestamp` itself becomes the event
//! time) and the common ones are mapped to ECS:
//!
//! | EVE | ECS |
//! |---|---|
//! | `timestamp` | `@timestamp` |
//! | `src_ip`/`src_port`, `dest_ip`/`dest_port` | `source.ip`/`.port`, `destination.ip`/`.port`, `related.ip` |
//! | `proto`, `app_proto` (else the event type) | `network.transport` (lower case), `network.protocol` |
//! | `community_id`, `in_iface`, `host` | `network.community_id`, `observer.ingress.interface.name`, `observer.hostname` |
//! | `event_type` | `event.kind` (`alert`, `metric` for stats, else `event`), `event.category`, `event.type` |
//! | `alert.signature_id`/`signature`/`category`/`severity`/`action` | `rule.id`, `rule.name` (and `message`), `rule.category`, `event.severity`, `event.action` |
//! | `flow.bytes_toserver`/`pkts_toserver` | `source.bytes`/`.packets` (to server = from the source) |
//! | `flow.bytes_toclient`/`pkts_toclient` | `destination.bytes`/`.packets`; sums in `network.bytes`/`.packets` |
//! | `flow.start`/`end` (flow events) | `event.start`, `event.end`, `event.duration` (ns) |
//! | `dns.rrname`/`rrtype` (v1, v2; v3 `queries`; alerts' `query`) | `dns.question.name`/`.type` |
//! | `dns.rcode`, A/AAAA `answers`/`grouped`/v1 `rdata` | `dns.response_code`, `dns.resolved_ip` |
//! | `http.hostname`/`url`/`http_method`/`status`/`http_user_agent`/`length`/`http_refer`/`protocol`/`http_content_type` | `url.domain`, `url.original` (+ `url.path`, `url.query`), `http.request.method`, `http.response.status_code` (+ `event.outcome`), `user_agent.original`, `http.response.body.bytes`, `http.request.referrer`, `http.version`, `http.response.mime_type` |
//! | `tls.sni`/`version`/`ja3.hash`/`ja3s.hash`/`subject`/`issuerdn`/`notbefore`/`notafter`/`fingerprint` | `tls.client.server_name`, `tls.version` + `tls.version_protocol`, `tls.client.ja3`, `tls.server.ja3s`, `tls.server.subject`/`.issuer`/`.not_before`/`.not_after`/`.hash.sha1` |
//! | `fileinfo.filename`/`size`/`md5`/`sha1`/`sha256` | `file.name`, `file.size`, `file.hash.*` |
//!
//! Two EVE names are also ECS names with the same meaning and stay as they are: `dns.type`
//! (`query`/`answer`) and `dns.id`. One differs: EVE's `tls.version` (`TLS 1.2`) is replaced
//! by ECS's (`1.2`, with `tls.version_protocol` = `tls`), as ECS searches expect.
//!
//! `observer.vendor` is `OISF`, `observer.product` `Suricata`, `observer.type` `ids`;
//! `event.module` is `suricata`, `event.dataset` `suricata.eve`.

use super::json::{flatten_json_line, shown};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, FieldName, Timestamp, Value, ecs};
use std::net::IpAddr;

/// Parses Suricata EVE JSON lines.
#[derive(Debug, Default)]
pub struct SuricataParser;

impl SuricataParser {
    pub fn new() -> Self {
        SuricataParser
    }
}

impl RecordParser for SuricataParser {
    fn format(&self) -> Format {
        Format::Suricata
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = record.trim();
        if text.is_empty() {
            return Ok(None);
        }
        eve_line_to_event(text, ctx).map(Some)
    }
}

/// Declares the EVE fields the ECS mapping reads: one slot (the field's index) per name,
/// filled in one pass over the flattened fields.
macro_rules! slots {
    ($($slot:ident = $name:literal,)*) => {
        #[derive(Default)]
        struct Slots {
            $($slot: Option<usize>,)*
        }

        impl Slots {
            fn find(fields: &[(FieldName, Value)]) -> Slots {
                let mut slots = Slots::default();
                for (i, (name, _)) in fields.iter().enumerate() {
                    match name.as_ref() {
                        $($name => { slots.$slot.get_or_insert(i); })*
                        _ => {}
                    }
                }
                slots
            }
        }
    };
}

slots! {
    event_type = "event_type",
    timestamp = "timestamp",
    src_ip = "src_ip",
    src_port = "src_port",
    dest_ip = "dest_ip",
    dest_port = "dest_port",
    proto = "proto",
    app_proto = "app_proto",
    community_id = "community_id",
    in_iface = "in_iface",
    host = "host",
    alert_signature_id = "alert.signature_id",
    alert_signature = "alert.signature",
    alert_category = "alert.category",
    alert_severity = "alert.severity",
    alert_action = "alert.action",
    bytes_toserver = "flow.bytes_toserver",
    bytes_toclient = "flow.bytes_toclient",
    pkts_toserver = "flow.pkts_toserver",
    pkts_toclient = "flow.pkts_toclient",
    flow_start = "flow.start",
    flow_end = "flow.end",
    dns_type = "dns.type",
    dns_rrname = "dns.rrname",
    dns_rrtype = "dns.rrtype",
    dns_rcode = "dns.rcode",
    dns_rdata = "dns.rdata",
    dns_queries_rrname = "dns.queries.rrname",
    dns_queries_rrtype = "dns.queries.rrtype",
    dns_query_rrname = "dns.query.rrname",
    dns_query_rrtype = "dns.query.rrtype",
    dns_answers_rrtype = "dns.answers.rrtype",
    dns_answers_rdata = "dns.answers.rdata",
    dns_grouped_a = "dns.grouped.A",
    dns_grouped_aaaa = "dns.grouped.AAAA",
    http_hostname = "http.hostname",
    http_url = "http.url",
    http_method = "http.http_method",
    http_status = "http.status",
    http_user_agent = "http.http_user_agent",
    http_length = "http.length",
    http_refer = "http.http_refer",
    http_content_type = "http.http_content_type",
    http_protocol = "http.protocol",
    tls_sni = "tls.sni",
    tls_version = "tls.version",
    tls_ja3 = "tls.ja3.hash",
    tls_ja3s = "tls.ja3s.hash",
    tls_subject = "tls.subject",
    tls_issuer = "tls.issuerdn",
    tls_notbefore = "tls.notbefore",
    tls_notafter = "tls.notafter",
    tls_fingerprint = "tls.fingerprint",
    file_name = "fileinfo.filename",
    file_size = "fileinfo.size",
    file_md5 = "fileinfo.md5",
    file_sha1 = "fileinfo.sha1",
    file_sha256 = "fileinfo.sha256",
}

/// Reads the flattened EVE fields by slot and collects the ECS fields.
struct Mapper<'a> {
    fields: &'a [(FieldName, Value)],
    out: Vec<(FieldName, Value)>,
}

impl<'a> Mapper<'a> {
    fn value(&self, slot: Option<usize>) -> Option<&'a Value> {
        slot.map(|i| &self.fields[i].1)
    }

    fn str(&self, slot: Option<usize>) -> Option<&'a str> {
        match self.value(slot)? {
            Value::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// A string, or the first string of a list (`dns.queries.rrname` of several queries).
    fn first_str(&self, slot: Option<usize>) -> Option<&'a str> {
        match self.value(slot)? {
            Value::List(items) => match items.first()? {
                Value::Str(s) if !s.is_empty() => Some(s),
                _ => None,
            },
            _ => self.str(slot),
        }
    }

    fn int(&self, slot: Option<usize>) -> Option<i64> {
        match self.value(slot)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn push(&mut self, name: &'static str, value: impl Into<Value>) {
        self.out.push((FieldName::Borrowed(name), value.into()));
    }

    fn copy_str(&mut self, name: &'static str, slot: Option<usize>) {
        if let Some(s) = self.str(slot) {
            self.push(name, s);
        }
    }

    fn copy_int(&mut self, name: &'static str, slot: Option<usize>) {
        if let Some(i) = self.int(slot) {
            self.push(name, i);
        }
    }
}

/// Converts one EVE JSON line to an event (see the module documentation).
pub fn eve_line_to_event(text: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
    let mut fields = Vec::with_capacity(48);
    flatten_json_line(text, &mut fields)?;
    let slots = Slots::find(&fields);
    let event_type = match slots.event_type.map(|i| &fields[i].1) {
        Some(Value::Str(s)) => s.as_str(),
        Some(other) => {
            return Err(ParseError::new(format!(
                "EVE \"event_type\" is {}, expected a string",
                shown(other)
            )));
        }
        None => {
            return Err(ParseError::new(
                "not a Suricata EVE record: no \"event_type\" field",
            ));
        }
    };
    let timestamp = match slots.timestamp.map(|i| &fields[i].1) {
        Some(Value::Str(s)) => normalize::parse_iso8601(s, ctx).ok_or_else(|| {
            ParseError::new(format!("EVE \"timestamp\" \"{s}\" is not an ISO 8601 time"))
        })?,
        Some(other) => {
            return Err(ParseError::new(format!(
                "EVE \"timestamp\" is {}, expected a string",
                shown(other)
            )));
        }
        None => {
            return Err(ParseError::new(format!(
                "EVE {event_type} record without \"timestamp\""
            )));
        }
    };

    let mut m = Mapper {
        fields: &fields,
        out: Vec::with_capacity(32),
    };
    let blocked = m.str(slots.alert_action) == Some("blocked");
    let (kind, category, kind_type): (
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    ) = match event_type {
        "alert" => (
            "alert",
            &["intrusion_detection", "network"],
            if blocked { &["denied"] } else { &["allowed"] },
        ),
        "stats" => ("metric", &[], &[]),
        "flow" | "netflow" => ("event", &["network"], &["connection"]),
        "fileinfo" => ("event", &["file"], &["info"]),
        "anomaly" => ("event", &["network"], &["info"]),
        _ => ("event", &["network"], &["protocol"]),
    };
    m.push(ecs::EVENT_MODULE, "suricata");
    m.push(ecs::EVENT_DATASET, "suricata.eve");
    m.copy_str(ecs::OBSERVER_HOSTNAME, slots.host);
    m.copy_str(ecs::OBSERVER_INGRESS_INTERFACE_NAME, slots.in_iface);

    // Network
    let src = m.str(slots.src_ip).and_then(normalize::parse_ip);
    let dst = m.str(slots.dest_ip).and_then(normalize::parse_ip);
    if let Some(ip) = src {
        m.push(ecs::SOURCE_IP, ip);
    }
    m.copy_int(ecs::SOURCE_PORT, slots.src_port);
    if let Some(ip) = dst {
        m.push(ecs::DESTINATION_IP, ip);
    }
    m.copy_int(ecs::DESTINATION_PORT, slots.dest_port);
    if src.is_some() || dst.is_some() {
        let related = src
            .into_iter()
            .chain(dst.filter(|d| Some(*d) != src))
            .map(Value::Ip)
            .collect();
        m.push(ecs::RELATED_IP, Value::List(related));
    }
    if let Some(proto) = m.str(slots.proto) {
        m.push(ecs::NETWORK_TRANSPORT, proto.to_ascii_lowercase());
    }
    match m.str(slots.app_proto) {
        Some("failed" | "unknown") => {}
        Some(app) => m.push(ecs::NETWORK_PROTOCOL, app.to_ascii_lowercase()),
        None if !matches!(
            event_type,
            "alert" | "flow" | "netflow" | "stats" | "fileinfo" | "anomaly" | "drop"
        ) =>
        {
            m.push(ecs::NETWORK_PROTOCOL, event_type)
        }
        None => {}
    }
    m.copy_str(ecs::NETWORK_COMMUNITY_ID, slots.community_id);

    map_alert(&mut m, &slots);
    map_flow(
        &mut m,
        &slots,
        matches!(event_type, "flow" | "netflow"),
        ctx,
    );
    map_dns(&mut m, &slots);
    map_http(&mut m, &slots);
    let tls_version = map_tls(&mut m, &slots);
    m.copy_str(ecs::FILE_NAME, slots.file_name);
    m.copy_int(ecs::FILE_SIZE, slots.file_size);
    m.copy_str(ecs::FILE_HASH_MD5, slots.file_md5);
    m.copy_str(ecs::FILE_HASH_SHA1, slots.file_sha1);
    m.copy_str(ecs::FILE_HASH_SHA256, slots.file_sha256);

    let ics_protocol: Option<&'static str> = match event_type {
        "modbus" => Some("modbus"),
        "dnp3" => Some("dnp3"),
        "enip" => Some("enip"),
        _ => None,
    };
    let mut out = m.out;
    if let (Some(i), Some(version)) = (slots.tls_version, tls_version) {
        fields[i].1 = Value::Str(version);
    }
    if let Some(i) = slots.timestamp {
        fields.remove(i);
    }
    let mut event = Event {
        timestamp,
        tenant: ctx.tenant.clone(),
        fields,
    };
    normalize::categorize(&mut event, kind, category, kind_type);
    event.fields.append(&mut out);
    normalize::observer(&mut event, "OISF", "Suricata", "ids");
    if let Some(protocol) = ics_protocol {
        crate::ics::normalize_suricata(&mut event, protocol);
    }
    Ok(event)
}

fn map_alert(m: &mut Mapper, slots: &Slots) {
    match m.value(slots.alert_signature_id) {
        Some(Value::Int(id)) => m.push(ecs::RULE_ID, id.to_string()),
        Some(Value::Str(id)) => m.push(ecs::RULE_ID, id.as_str()),
        _ => {}
    }
    if let Some(signature) = m.str(slots.alert_signature) {
        m.push(ecs::RULE_NAME, signature);
        m.push(ecs::MESSAGE, signature);
    }
    m.copy_str(ecs::RULE_CATEGORY, slots.alert_category);
    m.copy_int(ecs::EVENT_SEVERITY, slots.alert_severity);
    m.copy_str(ecs::EVENT_ACTION, slots.alert_action);
}

fn map_flow(m: &mut Mapper, slots: &Slots, is_flow_event: bool, ctx: &ParseContext) {
    let bytes_out = m.int(slots.bytes_toserver);
    let bytes_in = m.int(slots.bytes_toclient);
    let pkts_out = m.int(slots.pkts_toserver);
    let pkts_in = m.int(slots.pkts_toclient);
    m.copy_int(ecs::SOURCE_BYTES, slots.bytes_toserver);
    m.copy_int(ecs::DESTINATION_BYTES, slots.bytes_toclient);
    m.copy_int(ecs::SOURCE_PACKETS, slots.pkts_toserver);
    m.copy_int(ecs::DESTINATION_PACKETS, slots.pkts_toclient);
    if bytes_out.is_some() || bytes_in.is_some() {
        m.push(
            ecs::NETWORK_BYTES,
            bytes_out.unwrap_or(0).saturating_add(bytes_in.unwrap_or(0)),
        );
    }
    if pkts_out.is_some() || pkts_in.is_some() {
        m.push(
            ecs::NETWORK_PACKETS,
            pkts_out.unwrap_or(0).saturating_add(pkts_in.unwrap_or(0)),
        );
    }
    if is_flow_event {
        let start = m
            .str(slots.flow_start)
            .and_then(|t| normalize::parse_iso8601(t, ctx));
        let end = m
            .str(slots.flow_end)
            .and_then(|t| normalize::parse_iso8601(t, ctx));
        if let Some(start) = start {
            m.push(ecs::EVENT_START, start.to_rfc3339());
        }
        if let Some(end) = end {
            m.push(ecs::EVENT_END, end.to_rfc3339());
        }
        if let (Some(Timestamp(s)), Some(Timestamp(e))) = (start, end)
            && e >= s
        {
            m.push(ecs::EVENT_DURATION, e - s);
        }
    }
}

fn map_dns(m: &mut Mapper, slots: &Slots) {
    let (name, kind) = if slots.dns_rrname.is_some() {
        (slots.dns_rrname, slots.dns_rrtype)
    } else if slots.dns_queries_rrname.is_some() {
        (slots.dns_queries_rrname, slots.dns_queries_rrtype)
    } else {
        (slots.dns_query_rrname, slots.dns_query_rrtype)
    };
    if let Some(name) = m.first_str(name) {
        m.push(ecs::DNS_QUESTION_NAME, name);
    }
    if let Some(kind) = m.first_str(kind) {
        m.push(ecs::DNS_QUESTION_TYPE, kind);
    }
    m.copy_str(ecs::DNS_RESPONSE_CODE, slots.dns_rcode);

    let mut ips: Vec<IpAddr> = Vec::new();
    let mut add = |value: &Value| {
        if let Value::Str(text) = value
            && let Some(ip) = normalize::parse_ip(text)
            && !ips.contains(&ip)
        {
            ips.push(ip);
        }
    };
    let list = |value: Option<&'_ Value>| -> Vec<Value> {
        match value {
            Some(Value::List(items)) => items.clone(),
            Some(single) => vec![single.clone()],
            None => Vec::new(),
        }
    };
    if let Some(rdata) = m.value(slots.dns_answers_rdata) {
        // v2 "detailed" answers: the rdata of A and AAAA records (paired with their types
        // when every answer has both; else every rdata that is an address)
        let types = list(m.value(slots.dns_answers_rrtype));
        let data = list(Some(rdata));
        if types.len() == data.len() {
            for (t, d) in types.iter().zip(&data) {
                if matches!(t, Value::Str(t) if t == "A" || t == "AAAA") {
                    add(d);
                }
            }
        } else {
            data.iter().for_each(&mut add);
        }
    } else if slots.dns_grouped_a.is_some() || slots.dns_grouped_aaaa.is_some() {
        // v2 "grouped" answers only
        for slot in [slots.dns_grouped_a, slots.dns_grouped_aaaa] {
            list(m.value(slot)).iter().for_each(&mut add);
        }
    } else if m.str(slots.dns_type) == Some("answer")
        && matches!(m.str(slots.dns_rrtype), Some("A" | "AAAA"))
        && let Some(rdata) = m.value(slots.dns_rdata)
    {
        // v1: one answer record per event
        add(rdata);
    }
    if !ips.is_empty() {
        m.push(
            ecs::DNS_RESOLVED_IP,
            Value::List(ips.into_iter().map(Value::Ip).collect()),
        );
    }
}

fn map_http(m: &mut Mapper, slots: &Slots) {
    m.copy_str(ecs::URL_DOMAIN, slots.http_hostname);
    if let Some(url) = m.str(slots.http_url) {
        m.push(ecs::URL_ORIGINAL, url);
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        if !path.is_empty() {
            m.push(ecs::URL_PATH, path);
        }
        if !query.is_empty() {
            m.push(ecs::URL_QUERY, query);
        }
    }
    m.copy_str(ecs::HTTP_REQUEST_METHOD, slots.http_method);
    if let Some(status) = m.int(slots.http_status) {
        m.push(ecs::HTTP_RESPONSE_STATUS_CODE, status);
        if let Ok(code) = u16::try_from(status) {
            m.push(ecs::EVENT_OUTCOME, normalize::http_outcome(code));
        }
    }
    m.copy_str(ecs::USER_AGENT_ORIGINAL, slots.http_user_agent);
    m.copy_int(ecs::HTTP_RESPONSE_BODY_BYTES, slots.http_length);
    m.copy_str(ecs::HTTP_REQUEST_REFERRER, slots.http_refer);
    m.copy_str(ecs::HTTP_RESPONSE_MIME_TYPE, slots.http_content_type);
    if let Some(protocol) = m.str(slots.http_protocol) {
        m.push(
            ecs::HTTP_VERSION,
            protocol.strip_prefix("HTTP/").unwrap_or(protocol),
        );
    }
}

/// ECS `tls.version_protocol` and `tls.version` from Suricata's `TLS 1.2`, `SSLv3`, `TLSv1`.
fn tls_version(text: &str) -> Option<(&'static str, String)> {
    let t = text.trim();
    let (protocol, rest) = if let Some(rest) = t.strip_prefix("TLS") {
        ("tls", rest)
    } else if let Some(rest) = t.strip_prefix("SSL") {
        ("ssl", rest)
    } else {
        return None;
    };
    let number = rest.trim_start_matches(['v', ' ']);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let version = if number.contains('.') {
        number.to_owned()
    } else {
        format!("{number}.0")
    };
    Some((protocol, version))
}

/// Maps the TLS fields; returns the ECS form of `tls.version`, which replaces EVE's.
fn map_tls(m: &mut Mapper, slots: &Slots) -> Option<String> {
    m.copy_str(ecs::TLS_CLIENT_SERVER_NAME, slots.tls_sni);
    let version = m.str(slots.tls_version).and_then(tls_version);
    m.copy_str(ecs::TLS_CLIENT_JA3, slots.tls_ja3);
    m.copy_str(ecs::TLS_SERVER_JA3S, slots.tls_ja3s);
    m.copy_str(ecs::TLS_SERVER_SUBJECT, slots.tls_subject);
    m.copy_str(ecs::TLS_SERVER_ISSUER, slots.tls_issuer);
    for (slot, name) in [
        (slots.tls_notbefore, ecs::TLS_SERVER_NOT_BEFORE),
        (slots.tls_notafter, ecs::TLS_SERVER_NOT_AFTER),
    ] {
        // Suricata writes these without an offset, in UTC
        if let Some(t) = m.str(slot).and_then(haechi_event::parse_rfc3339) {
            m.push(name, t.to_rfc3339());
        }
    }
    if let Some(fingerprint) = m.str(slots.tls_fingerprint) {
        let hex: String = fingerprint
            .chars()
            .filter(|c| *c != ':')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        m.push(ecs::TLS_SERVER_HASH_SHA1, hex);
    }
    let (protocol, version) = version?;
    m.push(ecs::TLS_VERSION_PROTOCOL, protocol);
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const MSSIS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/logs/suricata/mssis_eve.json"
    );
    const ZEUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/logs/suricata/zeus_analysis_eve.json"
    );

    fn read(path: &str) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("sample file {path} is missing: {e}"))
    }

    /// Parses every line; panics on the first error with its line number.
    fn parse_all(path: &str) -> Vec<Event> {
        let ctx = ParseContext::new("t");
        let mut parser = SuricataParser::new();
        read(path)
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                parser
                    .parse(line, &ctx)
                    .unwrap_or_else(|e| panic!("{path}:{}: {e}", i + 1))
            })
            .collect()
    }

    fn counts(events: &[Event]) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for e in events {
            *counts
                .entry(e.get_str("event_type").unwrap().to_owned())
                .or_default() += 1;
        }
        counts
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::Str((*s).to_owned())).collect())
    }

    fn find<'a>(events: &'a [Event], event_type: &str, pred: impl Fn(&Event) -> bool) -> &'a Event {
        events
            .iter()
            .find(|e| e.get_str("event_type") == Some(event_type) && pred(e))
            .unwrap_or_else(|| panic!("no {event_type} event matches"))
    }

    #[test]
    fn mssis_sample_parses_completely_with_the_documented_counts() {
        let events = parse_all(MSSIS);
        assert_eq!(events.len(), 235);
        let want: BTreeMap<String, usize> = [
            ("flow", 84),
            ("dns", 62),
            ("tls", 38),
            ("alert", 35),
            ("http", 11),
            ("fileinfo", 3),
            ("stats", 2),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
        assert_eq!(counts(&events), want);
        for e in &events {
            assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("Suricata"));
            let kind = e.get_str(ecs::EVENT_KIND).unwrap();
            match e.get_str("event_type").unwrap() {
                "alert" => assert_eq!(kind, "alert"),
                "stats" => assert_eq!(kind, "metric"),
                _ => assert_eq!(kind, "event"),
            }
        }
    }

    #[test]
    fn zeus_sample_parses_completely_with_the_documented_counts() {
        let events = parse_all(ZEUS);
        assert_eq!(events.len(), 6_814);
        let want: BTreeMap<String, usize> = [
            ("alert", 3_246),
            ("dns", 2_432),
            ("flow", 1_092),
            ("dhcp", 40),
            ("stats", 4),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
        assert_eq!(counts(&events), want);
        // every network event has its endpoints typed as IPs
        for e in events
            .iter()
            .filter(|e| e.get_str("event_type") != Some("stats"))
        {
            assert!(matches!(e.get(ecs::SOURCE_IP), Some(Value::Ip(_))), "{e:?}");
            assert!(
                matches!(e.get(ecs::DESTINATION_IP), Some(Value::Ip(_))),
                "{e:?}"
            );
        }
        // the decoder alert without a flow (IGMP, no ports) keeps its zero ports and protocol
        let igmp = find(&events, "alert", |e| {
            e.get_str(ecs::NETWORK_TRANSPORT) == Some("igmp")
        });
        assert_eq!(
            igmp.get_str(ecs::RULE_NAME),
            Some("SURICATA IPv4 invalid checksum")
        );
        assert_eq!(igmp.get(ecs::EVENT_SEVERITY), Some(&Value::Int(3)));
        // a DHCP event keeps its EVE fields and gets the protocol from the event type
        let dhcp = find(&events, "dhcp", |e| {
            e.get_str("dhcp.dhcp_type") == Some("ack")
        });
        assert_eq!(dhcp.get_str(ecs::NETWORK_PROTOCOL), Some("dhcp"));
        assert_eq!(dhcp.get_str("dhcp.assigned_ip"), Some("192.168.230.133"));
    }

    #[test]
    fn alert_maps_to_ecs() {
        let events = parse_all(MSSIS);
        let e = &events[0];
        assert_eq!(e.timestamp.to_rfc3339(), "2023-10-31T23:46:34.435874Z");
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        assert_eq!(
            e.get(ecs::EVENT_CATEGORY),
            Some(&strs(&["intrusion_detection", "network"]))
        );
        assert_eq!(e.get(ecs::EVENT_TYPE), Some(&strs(&["allowed"])));
        assert_eq!(e.get_str(ecs::RULE_ID), Some("2049067"));
        assert_eq!(
            e.get_str(ecs::RULE_NAME),
            Some("ET MALWARE DNS Query to IcedID Domain (grafielucho .com)")
        );
        assert_eq!(
            e.get_str(ecs::RULE_CATEGORY),
            Some("A Network Trojan was detected")
        );
        assert_eq!(e.get(ecs::EVENT_SEVERITY), Some(&Value::Int(1)));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("allowed"));
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.10.31.101")));
        assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(56378)));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.10.31.1")));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(53)));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("udp"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("dns"));
        assert_eq!(e.get(ecs::SOURCE_BYTES), Some(&Value::Int(75)));
        assert_eq!(e.get(ecs::DESTINATION_BYTES), Some(&Value::Int(0)));
        assert_eq!(e.get(ecs::SOURCE_PACKETS), Some(&Value::Int(1)));
        assert_eq!(e.get_str(ecs::DNS_QUESTION_NAME), Some("grafielucho.com"));
        assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("OISF"));
        assert_eq!(e.get_str(ecs::OBSERVER_TYPE), Some("ids"));
        // originals, flattened
        assert_eq!(e.get("alert.signature_id"), Some(&Value::Int(2049067)));
        assert_eq!(e.get("flow_id"), Some(&Value::Int(746164993123201)));
        assert_eq!(
            e.get("alert.metadata.malware_family"),
            Some(&strs(&["IcedID"]))
        );
        assert_eq!(
            e.get("dns.query.rrname"),
            Some(&Value::Str("grafielucho.com".into()))
        );
        assert_eq!(e.get("timestamp"), None);
    }

    #[test]
    fn dns_answer_maps_to_ecs() {
        let events = parse_all(MSSIS);
        let e = find(&events, "dns", |e| {
            e.get("pcap_cnt") == Some(&Value::Int(2013))
        });
        assert_eq!(e.get_str("dns.type"), Some("answer"));
        assert_eq!(
            e.get_str(ecs::DNS_QUESTION_NAME),
            Some("msedge.api.cdp.microsoft.com")
        );
        assert_eq!(e.get_str(ecs::DNS_QUESTION_TYPE), Some("A"));
        assert_eq!(e.get_str(ecs::DNS_RESPONSE_CODE), Some("NOERROR"));
        assert_eq!(
            e.get(ecs::DNS_RESOLVED_IP),
            Some(&Value::List(vec![ip("23.102.129.60")]))
        );
        assert_eq!(
            e.get("dns.answers.rrtype"),
            Some(&Value::List(vec![
                Value::Str("CNAME".into()),
                Value::Str("CNAME".into()),
                Value::Str("A".into())
            ]))
        );
        assert_eq!(
            e.get("dns.grouped.CNAME"),
            Some(&strs(&[
                "api.cdp.microsoft.com",
                "glb.api.prod.dcat.dsp.trafficmanager.net"
            ]))
        );
        assert_eq!(e.get(ecs::EVENT_CATEGORY), Some(&strs(&["network"])));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("dns"));
        // and a query (v1 style, no "version")
        let q = find(&events, "dns", |e| {
            e.get("pcap_cnt") == Some(&Value::Int(1))
        });
        assert_eq!(q.get_str("dns.type"), Some("query"));
        assert_eq!(q.get_str(ecs::DNS_QUESTION_NAME), Some("grafielucho.com"));
        assert_eq!(q.get(ecs::DNS_RESOLVED_IP), None);
    }

    #[test]
    fn dns_v1_answer_and_grouped_only_answers_resolve() {
        let ctx = ParseContext::new("t");
        let v1 = r#"{"timestamp":"2017-01-01T00:00:00.000000+0000","event_type":"dns","src_ip":"8.8.8.8","src_port":53,"dest_ip":"10.0.0.5","dest_port":5000,"proto":"UDP","dns":{"type":"answer","id":1,"rrname":"example.com","rrtype":"AAAA","ttl":60,"rdata":"2606:2800:220:1::1"}}"#;
        let e = SuricataParser::new().parse(v1, &ctx).unwrap().unwrap();
        assert_eq!(
            e.get(ecs::DNS_RESOLVED_IP),
            Some(&Value::List(vec![ip("2606:2800:220:1::1")]))
        );
        let grouped = r#"{"timestamp":"2023-01-01T00:00:00+0000","event_type":"dns","dns":{"version":2,"type":"answer","rrname":"a.org","rrtype":"A","rcode":"NOERROR","grouped":{"A":["1.2.3.4","5.6.7.8"],"CNAME":["b.org"]}}}"#;
        let e = SuricataParser::new().parse(grouped, &ctx).unwrap().unwrap();
        assert_eq!(
            e.get(ecs::DNS_RESOLVED_IP),
            Some(&Value::List(vec![ip("1.2.3.4"), ip("5.6.7.8")]))
        );
    }

    #[test]
    fn tls_maps_to_ecs() {
        let events = parse_all(MSSIS);
        let e = find(&events, "tls", |e| {
            e.get("pcap_cnt") == Some(&Value::Int(2022))
        });
        assert_eq!(
            e.get_str(ecs::TLS_CLIENT_SERVER_NAME),
            Some("msedge.api.cdp.microsoft.com")
        );
        assert_eq!(e.get_str(ecs::TLS_VERSION), Some("1.2"));
        assert_eq!(e.get_str(ecs::TLS_VERSION_PROTOCOL), Some("tls"));
        assert_eq!(
            e.get_str(ecs::TLS_CLIENT_JA3),
            Some("3d07866ab1b020ec5e2b25a3ddc998fa")
        );
        assert_eq!(
            e.get_str(ecs::TLS_SERVER_JA3S),
            Some("ae4edc6faf64d08308082ad26be60767")
        );
        assert_eq!(
            e.get_str(ecs::TLS_SERVER_SUBJECT),
            Some("C=US, ST=WA, L=Redmond, O=Microsoft, OU=DSP, CN=api.cdp.microsoft.com")
        );
        assert_eq!(
            e.get_str(ecs::TLS_SERVER_ISSUER),
            Some(
                "C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Update Secure Server CA 2.1"
            )
        );
        assert_eq!(
            e.get_str(ecs::TLS_SERVER_NOT_AFTER),
            Some("2024-04-27T19:46:04Z")
        );
        assert_eq!(
            e.get_str(ecs::TLS_SERVER_HASH_SHA1),
            Some("19E4E39916E4E0649797EC9973F3CB43EC47B2AC")
        );
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("23.102.129.60")));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(443)));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("tls"));
        assert_eq!(
            e.get_str("tls.ja3.string")
                .map(|s| s.starts_with("771,49196")),
            Some(true)
        );
        assert_eq!(
            e.get_str("tls.fingerprint"),
            Some("19:e4:e3:99:16:e4:e0:64:97:97:ec:99:73:f3:cb:43:ec:47:b2:ac")
        );
    }

    #[test]
    fn http_and_fileinfo_map_to_ecs() {
        let events = parse_all(MSSIS);
        let e = find(&events, "http", |e| {
            e.get("pcap_cnt") == Some(&Value::Int(5693))
        });
        assert_eq!(e.get_str(ecs::URL_DOMAIN), Some("ctldl.windowsupdate.com"));
        assert_eq!(
            e.get_str(ecs::URL_ORIGINAL),
            Some("/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab?8d96e15c44bb9cff")
        );
        assert_eq!(
            e.get_str(ecs::URL_PATH),
            Some("/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab")
        );
        assert_eq!(e.get_str(ecs::URL_QUERY), Some("8d96e15c44bb9cff"));
        assert_eq!(e.get_str(ecs::HTTP_REQUEST_METHOD), Some("GET"));
        assert_eq!(
            e.get(ecs::HTTP_RESPONSE_STATUS_CODE),
            Some(&Value::Int(304))
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(
            e.get_str(ecs::USER_AGENT_ORIGINAL),
            Some("Microsoft-CryptoAPI/10.0")
        );
        assert_eq!(e.get(ecs::HTTP_RESPONSE_BODY_BYTES), Some(&Value::Int(0)));
        assert_eq!(e.get_str(ecs::HTTP_VERSION), Some("1.1"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("http"));
        assert_eq!(e.get(ecs::EVENT_CATEGORY), Some(&strs(&["network"])));

        let f = find(&events, "fileinfo", |e| {
            e.get("pcap_cnt") == Some(&Value::Int(141))
        });
        assert_eq!(f.get(ecs::EVENT_CATEGORY), Some(&strs(&["file"])));
        assert_eq!(f.get_str(ecs::FILE_NAME), Some("/"));
        assert_eq!(f.get(ecs::FILE_SIZE), Some(&Value::Int(102400)));
        assert_eq!(f.get_str(ecs::URL_DOMAIN), Some("grafielucho.com"));
        assert_eq!(f.get_str("fileinfo.state"), Some("TRUNCATED"));
    }

    #[test]
    fn flow_maps_directions_and_duration() {
        let events = parse_all(MSSIS);
        let e = find(&events, "flow", |e| {
            e.get("flow_id") == Some(&Value::Int(1898892769537450))
        });
        assert_eq!(e.get(ecs::SOURCE_BYTES), Some(&Value::Int(1080)));
        assert_eq!(e.get(ecs::DESTINATION_BYTES), Some(&Value::Int(0)));
        assert_eq!(e.get(ecs::SOURCE_PACKETS), Some(&Value::Int(5)));
        assert_eq!(e.get(ecs::NETWORK_BYTES), Some(&Value::Int(1080)));
        assert_eq!(
            e.get_str(ecs::EVENT_START),
            Some("2023-10-31T23:47:42.835336Z")
        );
        assert_eq!(e.get(ecs::EVENT_DURATION), Some(&Value::Int(9_196_965_000)));
        assert_eq!(
            e.get(ecs::NETWORK_PROTOCOL),
            None,
            "app_proto \"failed\" is no protocol"
        );
        assert_eq!(e.get_str("flow.reason"), Some("timeout"));
    }

    /// The layouts of Suricata's modbus, dnp3 and enip loggers (`rust/src/modbus/log.rs`,
    /// `output-json-dnp3.c`, `rust/src/enip/logger.rs`).
    #[test]
    fn ics_transactions_get_the_ics_fields() {
        let ctx = ParseContext::new("t");
        let modbus = r#"{"timestamp":"2024-05-01T10:00:00.000000+0000","event_type":"modbus","src_ip":"10.10.0.2","src_port":50000,"dest_ip":"10.20.0.5","dest_port":502,"proto":"TCP","modbus":{"id":1,"request":{"transaction_id":7,"protocol_id":0,"unit_id":1,"function_raw":16,"function_code":"WrMultRegs","access_type":"WRITE | HOLDING","category":"PUBLIC_ASSIGNED","error_flags":"NONE","write":{"address":40,"quantity":2,"data":"AAEAAg=="}},"response":{"transaction_id":7,"protocol_id":0,"unit_id":1,"function_raw":16,"function_code":"WrMultRegs","access_type":"WRITE | HOLDING","category":"PUBLIC_ASSIGNED","error_flags":"NONE","write":{"address":40,"quantity":2}}}}"#;
        let e = eve_line_to_event(modbus, &ctx).unwrap();
        assert_eq!(e.get_str("ics.protocol"), Some("modbus"));
        assert_eq!(
            e.get_str("ics.function.name"),
            Some("WRITE_MULTIPLE_REGISTERS")
        );
        assert_eq!(e.get_str("ics.operation"), Some("write"));
        assert_eq!(e.get("ics.state_changing"), Some(&Value::Bool(true)));
        assert_eq!(e.get_str("ics.direction"), Some("request"));
        assert_eq!(e.get("ics.address").and_then(Value::as_f64), Some(40.0));
        assert_eq!(e.get("ics.quantity").and_then(Value::as_f64), Some(2.0));
        assert_eq!(e.get("ics.unit_id").and_then(Value::as_f64), Some(1.0));

        let exception = r#"{"timestamp":"2024-05-01T10:00:01+0000","event_type":"modbus","modbus":{"id":2,"request":{"transaction_id":8,"protocol_id":0,"unit_id":1,"function_raw":3,"function_code":"RdHoldRegs","access_type":"READ | HOLDING","category":"PUBLIC_ASSIGNED","error_flags":"NONE","read":{"address":0,"quantity":10}},"response":{"transaction_id":8,"protocol_id":0,"unit_id":1,"function_raw":131,"function_code":"RdHoldRegs","access_type":"READ | HOLDING","category":"PUBLIC_ASSIGNED","error_flags":"EXC_CODE","exception":{"raw":2,"code":"IllegalDataAddr"}}}}"#;
        let e = eve_line_to_event(exception, &ctx).unwrap();
        assert_eq!(e.get_str("ics.operation"), Some("read"));
        assert_eq!(e.get_str("ics.exception"), Some("IllegalDataAddr"));

        let dnp3 = r#"{"timestamp":"2024-05-01T10:00:02+0000","event_type":"dnp3","src_ip":"10.10.0.2","dest_ip":"10.20.0.6","dnp3":{"type":"request","control":{"dir":true,"pri":true,"fcb":false,"fcv":false,"function_code":4},"src":1,"dst":10,"application":{"control":{"fir":true,"fin":true,"con":false,"uns":false,"sequence":1},"function_code":13,"objects":[],"complete":true}}}"#;
        let e = eve_line_to_event(dnp3, &ctx).unwrap();
        assert_eq!(e.get_str("ics.function.name"), Some("COLD_RESTART"));
        assert_eq!(e.get_str("ics.operation"), Some("restart"));
        assert_eq!(e.get_str("ics.direction"), Some("request"));
        let reply = dnp3
            .replace("\"type\":\"request\"", "\"type\":\"response\"")
            .replace("\"function_code\":13", "\"function_code\":129");
        let e = eve_line_to_event(&reply, &ctx).unwrap();
        assert_eq!(e.get_str("ics.direction"), Some("response"));
        assert_eq!(e.get_str("ics.operation"), Some("read"));

        let enip = r#"{"timestamp":"2024-05-01T10:00:03+0000","event_type":"enip","src_ip":"10.10.0.2","dest_ip":"10.20.0.7","dest_port":44818,"enip":{"request":{"command":"SendRRData","status":"SUCCESS","cip":{"service":"SetAttributeSingle","path":[{"segment_type":"class","value":1}],"class_name":"Identity"}},"response":{"command":"SendRRData","status":"SUCCESS","cip":{"service":"SetAttributeSingle(Response)","status":"Success"}}}}"#;
        let e = eve_line_to_event(enip, &ctx).unwrap();
        assert_eq!(e.get_str("ics.protocol"), Some("enip"));
        assert_eq!(e.get_str("ics.operation"), Some("write"));
        assert_eq!(e.get_str("ics.direction"), Some("request"));
    }

    #[test]
    fn stats_is_a_metric_and_keeps_its_counters() {
        let events = parse_all(MSSIS);
        let e = find(&events, "stats", |_| true);
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("metric"));
        assert_eq!(e.get(ecs::EVENT_CATEGORY), None);
        assert_eq!(e.get("stats.decoder.pkts"), Some(&Value::Int(6518)));
    }

    #[test]
    fn malformed_records_say_why() {
        let ctx = ParseContext::new("t");
        let mut p = SuricataParser::new();
        let err = |line: &str, p: &mut SuricataParser| p.parse(line, &ctx).unwrap_err().0;
        assert_eq!(
            err(r#"{"timestamp":"2023-01-01T00:00:00+0000"}"#, &mut p),
            "not a Suricata EVE record: no \"event_type\" field"
        );
        assert_eq!(
            err(r#"{"timestamp":"noon","event_type":"flow"}"#, &mut p),
            "EVE \"timestamp\" \"noon\" is not an ISO 8601 time"
        );
        assert_eq!(
            err(r#"{"event_type":"flow"}"#, &mut p),
            "EVE flow record without \"timestamp\""
        );
        assert!(
            err(r#"{"event_type":"flow""#, &mut p)
                .starts_with("invalid JSON: EOF while parsing an object at line 1 column 20")
        );
    }
}
