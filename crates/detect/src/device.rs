//! Equipment detections: what a firewall, IPS, WAF, DDoS box, anti-virus or EDR reports
//! as a detection becomes a Haechi alert of origin `device`.
//!
//! A [`DeviceRules`] looks at each normalized event once. [`signature_of`] recognises the
//! detections of each family of equipment and reads their signature (id, name,
//! category), their severity *on the device's own scale*, the attacker and the victim:
//!
//! | equipment | recognised by | scale |
//! |---|---|---|
//! | Suricata EVE `alert` | `event.module: suricata`, `event.kind: alert` | `suricata` (1 highest … 4) |
//! | Suricata EVE `anomaly` | `event_type: anomaly` | `suricata` (`anomaly`) |
//! | Zeek `notice.log` | `event.module: zeek`, `event.kind: alert` | `zeek` (the notice type, `Scan::Port_Scan`) |
//! | FortiGate `utm` ips/virus/waf/app-ctrl, `anomaly` | `observer.vendor: Fortinet`, `event.kind: alert` | `fortigate` (`critical` … `info`) |
//! | CEF | `cef.severity` | `cef` (0–10, or Low/Medium/High/Very-High) |
//! | LEEF | `leef.version` with `sev` | `leef` (1–10) |
//! | Windows Defender 1006/1007/1008/1015/1116/1117 | `Channel` of Defender | `defender` (Severe, High, Moderate, Low) |
//! | ModSecurity (WAF) audit records with rule matches | `event.module: modsecurity`, `event.kind: alert` | `modsecurity` (CRS 0 emergency … 5 notice, or the words) |
//! | anything else a parser marked `event.kind: alert` | | `generic` |
//!
//! The [`SeverityRule`] table turns (scale, native severity) into a Haechi [`Level`]
//! (the built-in rows in [`DEFAULT_SEVERITY`], configured rows first); the
//! [`TechniqueRule`] table names the ATT&CK technique from the signature's category or
//! name when the device does not say it itself (Suricata rules of the ET set carry
//! `metadata: mitre_technique_id`, which wins).
//!
//! CEF and LEEF records carry a severity but no statement that they are a detection: they
//! become alerts when their severity maps to at least `cef_min_level` (default medium),
//! so that the traffic logs of a firewall speaking CEF stay events.
//!
//! Alert storms: the detections of one batch with the same (tenant, signature, entity)
//! are folded into one alert with their count before they reach the store, and a
//! [`RateCeiling`] lets each (tenant, device, signature) raise at most
//! `max_alerts_per_minute` distinct alerts a minute; beyond it the detections fold into
//! one *storm* alert per device and signature (entity `observer=<device>`, `details.storm`)
//! whose count keeps growing. Nothing is dropped: every detection is in some alert's
//! count. Suppressing a signature or a device is an exception like any other
//! (`[[detect.exceptions]]` with `rule = "device:suricata:2210045"` and a query such as
//! `observer.hostname:ids-3`), counted with the other suppressions.

use crate::alert::{alert_on, entity_of};
use haechi_event::{Alert, AlertSource, Event, Level, Timestamp, Value, ecs};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// `[detect.device]`: how equipment detections become alerts.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// Equipment detections raise alerts (default true).
    pub enabled: bool,
    /// CEF and LEEF records become alerts from this level of their mapped severity up.
    pub cef_min_level: String,
    /// The most distinct alerts one device raises for one signature (and tenant) in a
    /// minute; the rest fold into one storm alert per device and signature. 0: no ceiling.
    pub max_alerts_per_minute: u32,
    /// Rows checked before the built-in severity table.
    pub severity: Vec<SeverityRule>,
    /// Rows checked before the built-in technique table.
    pub techniques: Vec<TechniqueRule>,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            enabled: true,
            cef_min_level: "medium".into(),
            max_alerts_per_minute: 100,
            severity: Vec::new(),
            techniques: Vec::new(),
        }
    }
}

/// One row of the severity table: on `scale`, a native `severity` (a word, compared
/// without case, a number, a range of numbers `7-8`, or `*` for any) is Haechi's `level`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    pub scale: String,
    pub severity: String,
    pub level: String,
}

/// One row of the technique table: a detection whose category (or, with `signature`,
/// whose name) contains the text, without case, on `scale` (any scale when absent), is
/// tagged with `technique` (`T1190`, `T1110.001`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TechniqueRule {
    pub scale: Option<String>,
    pub category: Option<String>,
    pub signature: Option<String>,
    pub technique: String,
}

/// The built-in severity table: (scale, native severity, level).
pub const DEFAULT_SEVERITY: &[(&str, &str, &str)] = &[
    // Suricata's severity is the rule's priority: 1 is the most severe.
    ("suricata", "1", "high"),
    ("suricata", "2", "medium"),
    ("suricata", "3", "low"),
    ("suricata", "4-255", "informational"),
    ("suricata", "anomaly", "low"),
    // Zeek notices carry no severity of their own.
    ("zeek", "ssh::password_guessing", "high"),
    (
        "zeek",
        "heartbleed::ssl_heartbeat_attack_success",
        "critical",
    ),
    ("zeek", "heartbleed::ssl_heartbeat_attack", "high"),
    ("zeek", "ssl::invalid_server_cert", "low"),
    ("zeek", "ssl::certificate_expired", "low"),
    ("zeek", "ssl::certificate_expires_soon", "informational"),
    ("zeek", "ssl::weak_key", "low"),
    ("zeek", "ssl::old_version", "low"),
    ("zeek", "ssl::weak_cipher", "low"),
    ("zeek", "captureloss::too_much_loss", "informational"),
    ("zeek", "weird::activity", "informational"),
    ("zeek", "*", "medium"),
    // FortiGate `severity` (IPS, anomaly), then `crlevel`/`level` words.
    ("fortigate", "critical", "critical"),
    ("fortigate", "high", "high"),
    ("fortigate", "medium", "medium"),
    ("fortigate", "low", "low"),
    ("fortigate", "info", "informational"),
    ("fortigate", "information", "informational"),
    ("fortigate", "emergency", "critical"),
    ("fortigate", "alert", "high"),
    ("fortigate", "error", "medium"),
    ("fortigate", "warning", "medium"),
    ("fortigate", "notice", "low"),
    // ArcSight's CEF scale: 0-3 low, 4-6 medium, 7-8 high, 9-10 very high.
    ("cef", "0-3", "low"),
    ("cef", "4-6", "medium"),
    ("cef", "7-8", "high"),
    ("cef", "9-10", "critical"),
    ("cef", "unknown", "informational"),
    ("cef", "low", "low"),
    ("cef", "medium", "medium"),
    ("cef", "high", "high"),
    ("cef", "very-high", "critical"),
    // IBM LEEF `sev`: 1-10.
    ("leef", "0-3", "low"),
    ("leef", "4-6", "medium"),
    ("leef", "7-8", "high"),
    ("leef", "9-10", "critical"),
    // ModSecurity / OWASP Core Rule Set: 0 emergency … 5 notice (CRS attack rules are
    // CRITICAL = 2), or the words ModSecurity 2 writes.
    ("modsecurity", "0-1", "critical"),
    ("modsecurity", "2", "high"),
    ("modsecurity", "3-4", "medium"),
    ("modsecurity", "5-7", "low"),
    ("modsecurity", "emergency", "critical"),
    ("modsecurity", "alert", "critical"),
    ("modsecurity", "critical", "high"),
    ("modsecurity", "error", "medium"),
    ("modsecurity", "warning", "medium"),
    ("modsecurity", "notice", "low"),
    ("modsecurity", "info", "low"),
    // Microsoft Defender `Severity Name`.
    ("defender", "severe", "critical"),
    ("defender", "high", "high"),
    ("defender", "moderate", "medium"),
    ("defender", "low", "low"),
    // Other devices: `event.severity` as syslog-like words or 1-10.
    ("generic", "critical", "critical"),
    ("generic", "high", "high"),
    ("generic", "medium", "medium"),
    ("generic", "low", "low"),
    ("generic", "7-8", "high"),
    ("generic", "9-10", "critical"),
    ("generic", "*", "medium"),
];

/// The level of a detection whose severity no row names.
const UNMAPPED_LEVEL: Level = Level::Medium;

/// The built-in technique table: (scale or `*`, `c:` category / `s:` signature text, technique).
pub const DEFAULT_TECHNIQUES: &[(&str, &str, &str)] = &[
    // Suricata classtypes (as EVE names them).
    ("*", "c:web application attack", "T1190"),
    ("*", "c:attempted administrator privilege gain", "T1068"),
    ("*", "c:successful administrator privilege gain", "T1068"),
    ("*", "c:attempted user privilege gain", "T1068"),
    ("*", "c:successful user privilege gain", "T1068"),
    ("*", "c:a network trojan was detected", "T1071"),
    ("*", "c:malware command and control", "T1071"),
    ("*", "c:domain observed used for c2", "T1071.004"),
    ("*", "c:detection of a network scan", "T1046"),
    ("*", "c:attempted information leak", "T1046"),
    ("*", "c:attempted denial of service", "T1498"),
    ("*", "c:denial of service", "T1498"),
    ("*", "c:exploit kit activity", "T1189"),
    ("*", "c:executable code was detected", "T1203"),
    ("*", "c:crypto currency mining", "T1496"),
    ("*", "c:possible social engineering", "T1566"),
    ("*", "c:credential theft", "T1056"),
    // FortiGate subtypes and categories.
    ("fortigate", "c:virus", "T1204"),
    ("fortigate", "c:waf", "T1190"),
    ("fortigate", "c:anomaly", "T1498"),
    // ModSecurity / OWASP Core Rule Set attack tags.
    ("modsecurity", "c:attack-sqli", "T1190"),
    ("modsecurity", "c:attack-rce", "T1190"),
    ("modsecurity", "c:attack-lfi", "T1190"),
    ("modsecurity", "c:attack-rfi", "T1190"),
    ("modsecurity", "c:attack-injection", "T1190"),
    ("modsecurity", "c:attack-ssrf", "T1190"),
    ("modsecurity", "c:attack-xss", "T1189"),
    ("modsecurity", "c:attack-reputation-scanner", "T1595"),
    ("modsecurity", "c:attack-dos", "T1499"),
    // Zeek notices by name.
    ("zeek", "s:scan::", "T1046"),
    ("zeek", "s:ssh::password_guessing", "T1110.001"),
    ("zeek", "s:ftp::bruteforcing", "T1110.001"),
    ("zeek", "s:heartbleed", "T1190"),
    ("zeek", "s:dns::external_name", "T1071.004"),
    // Anti-virus and EDR detections.
    ("defender", "c:trojan", "T1204"),
    ("defender", "c:ransomware", "T1486"),
    ("defender", "c:backdoor", "T1219"),
    ("defender", "c:exploit", "T1203"),
    ("defender", "s:mimikatz", "T1003.001"),
    ("defender", "s:mikatz", "T1003.001"),
    ("defender", "s:hacktool", "T1588.002"),
    // Signature names that say what they are.
    ("*", "s:sql injection", "T1190"),
    ("*", "s:sqli", "T1190"),
    ("*", "s:xss", "T1189"),
    ("*", "s:cross site scripting", "T1189"),
    ("*", "s:command injection", "T1190"),
    ("*", "s:directory traversal", "T1190"),
    ("*", "s:path traversal", "T1190"),
    ("*", "s:brute force", "T1110"),
    ("*", "s:bruteforce", "T1110"),
    ("*", "s:port scan", "T1046"),
    ("*", "s:portscan", "T1046"),
    ("*", "s:flood", "T1498"),
    ("*", "s:cve-", "T1190"),
];

/// A device's detection, read off one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// The severity scale (a row key of the severity table).
    pub scale: &'static str,
    /// Short product name for the rule id (`suricata`, `fortigate`, the CEF vendor-product).
    pub product: String,
    pub id: String,
    pub name: String,
    pub category: Option<String>,
    /// The device's severity as it wrote it.
    pub severity: Option<String>,
    /// Techniques the device names itself.
    pub techniques: Vec<String>,
    pub attacker: Option<String>,
    pub victim: Option<String>,
}

/// The compiled configuration: levels, techniques and the rate ceiling.
#[derive(Debug)]
pub struct DeviceRules {
    enabled: bool,
    cef_min_level: Level,
    severity: Vec<(String, Severity, Level)>,
    techniques: Vec<(Option<String>, Match, String)>,
    ceiling: RateCeiling,
}

#[derive(Debug, Clone, PartialEq)]
enum Severity {
    Any,
    Word(String),
    Range(i64, i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Match {
    Category(String),
    Signature(String),
}

impl Default for DeviceRules {
    fn default() -> Self {
        DeviceRules::new(&DeviceConfig::default()).expect("the built-in tables are valid")
    }
}

impl DeviceRules {
    /// Checks and compiles a configuration; the first bad row is the error.
    pub fn new(config: &DeviceConfig) -> Result<DeviceRules, String> {
        let level = |what: &str, s: &str| {
            Level::parse(s).ok_or_else(|| {
                format!("detect.device: {what}: unknown level `{s}` (informational, low, medium, high, critical)")
            })
        };
        let mut severity = Vec::new();
        let configured = config
            .severity
            .iter()
            .map(|r| (r.scale.as_str(), r.severity.as_str(), r.level.as_str()));
        for (scale, native, lvl) in configured.chain(DEFAULT_SEVERITY.iter().copied()) {
            let what = format!("severity row {scale}/{native}");
            severity.push((
                scale.to_ascii_lowercase(),
                parse_severity(native).map_err(|e| format!("detect.device: {what}: {e}"))?,
                level(&what, lvl)?,
            ));
        }
        let mut techniques = Vec::new();
        for r in &config.techniques {
            let m = match (&r.category, &r.signature) {
                (Some(c), None) => Match::Category(c.to_lowercase()),
                (None, Some(s)) => Match::Signature(s.to_lowercase()),
                _ => {
                    return Err(format!(
                        "detect.device: technique row {}: give either `category` or `signature`",
                        r.technique
                    ));
                }
            };
            techniques.push((r.scale.clone(), m, checked_technique(&r.technique)?));
        }
        for (scale, text, t) in DEFAULT_TECHNIQUES {
            let m = match text.split_at(2) {
                ("c:", c) => Match::Category(c.to_owned()),
                (_, s) => Match::Signature(s.to_owned()),
            };
            let scale = (*scale != "*").then(|| (*scale).to_owned());
            techniques.push((scale, m, (*t).to_owned()));
        }
        Ok(DeviceRules {
            enabled: config.enabled,
            cef_min_level: level("cef_min_level", &config.cef_min_level)?,
            severity,
            techniques,
            ceiling: RateCeiling::new(config.max_alerts_per_minute),
        })
    }

    /// The alert for the device detection `event` carries, if it carries one.
    pub fn alert(&self, event: &Event, event_id: &str) -> Option<Alert> {
        if !self.enabled {
            return None;
        }
        let sig = signature_of(event)?;
        let level = self.level(&sig);
        if matches!(sig.scale, "cef" | "leef")
            && event.get_str(ecs::EVENT_KIND) != Some("alert")
            && level < self.cef_min_level
        {
            return None;
        }
        Some(self.build(&sig, level, event, event_id))
    }

    /// Whether an event is a device detection at all (cheap; no allocation for most events).
    pub fn may_alert(&self, event: &Event) -> bool {
        self.enabled
            && (event.get_str(ecs::EVENT_KIND) == Some("alert")
                || event.get("cef.severity").is_some()
                || event.get("leef.version").is_some()
                || event.get_str("event_type") == Some("anomaly")
                || defender_event(event).is_some())
    }

    fn level(&self, sig: &Signature) -> Level {
        let Some(native) = sig.severity.as_deref() else {
            return UNMAPPED_LEVEL;
        };
        let native = native.trim();
        let number = native.parse::<i64>().ok();
        self.severity
            .iter()
            .find(|(scale, s, _)| {
                scale == sig.scale
                    && match s {
                        Severity::Any => true,
                        Severity::Word(w) => w.eq_ignore_ascii_case(native),
                        Severity::Range(lo, hi) => number.is_some_and(|n| (*lo..=*hi).contains(&n)),
                    }
            })
            .map_or(UNMAPPED_LEVEL, |(_, _, l)| *l)
    }

    fn techniques(&self, sig: &Signature) -> Vec<String> {
        let mut out = sig.techniques.clone();
        if out.is_empty() {
            let category = sig
                .category
                .as_deref()
                .map(str::to_lowercase)
                .unwrap_or_default();
            let name = sig.name.to_lowercase();
            if let Some((_, _, t)) = self.techniques.iter().find(|(scale, m, _)| {
                scale.as_deref().is_none_or(|s| s == sig.scale)
                    && match m {
                        Match::Category(c) => category.contains(c.as_str()),
                        Match::Signature(s) => name.contains(s.as_str()),
                    }
            }) {
                out.push(t.clone());
            }
        }
        out
    }

    fn build(&self, sig: &Signature, level: Level, event: &Event, event_id: &str) -> Alert {
        let mut details = serde_json::Map::new();
        details.insert("signature_id".into(), sig.id.clone().into());
        details.insert("signature".into(), sig.name.clone().into());
        if let Some(c) = &sig.category {
            details.insert("category".into(), c.clone().into());
        }
        if let Some(s) = &sig.severity {
            details.insert("severity".into(), s.clone().into());
        }
        details.insert("scale".into(), sig.scale.into());
        let mut observer = serde_json::Map::new();
        for (key, field) in [
            ("vendor", ecs::OBSERVER_VENDOR),
            ("product", ecs::OBSERVER_PRODUCT),
            ("hostname", ecs::OBSERVER_HOSTNAME),
            ("name", "observer.name"),
            ("type", ecs::OBSERVER_TYPE),
        ] {
            if let Some(v) = event.get(field) {
                observer.insert(key.into(), v.as_text().into_owned().into());
            }
        }
        details.insert("observer".into(), observer.into());
        if let Some(a) = &sig.attacker {
            details.insert("attacker".into(), a.clone().into());
        }
        if let Some(v) = &sig.victim {
            details.insert("victim".into(), v.clone().into());
        }
        if let Some(a) = event.get_str(ecs::EVENT_ACTION) {
            details.insert("action".into(), a.into());
        }
        // What the device said about this one detection (Zeek's `msg`, a CEF `msg`);
        // bounded, since the title is shared by every detection of the signature.
        if let Some(m) = event.get_str(ecs::MESSAGE).filter(|m| *m != sig.name) {
            let cut = m.char_indices().nth(500).map_or(m.len(), |(i, _)| i);
            details.insert("message".into(), m[..cut].into());
        }
        let tags = self
            .techniques(sig)
            .iter()
            .map(|t| format!("attack.{}", t.to_lowercase()))
            .collect();
        // The attacker's field as the event names it, so the entity reads true.
        let entity = match &sig.attacker {
            Some(a) if ip_text(event, ecs::DESTINATION_IP).as_ref() == Some(a) => {
                format!("destination.ip={}", a.to_lowercase())
            }
            Some(a) => format!("source.ip={}", a.to_lowercase()),
            None => entity_of(event),
        };
        Alert {
            source: AlertSource::Device,
            rule_id: format!("device:{}:{}", sig.product, sig.id),
            rule_title: sig.name.clone(),
            level,
            author: Some(device_name(event).unwrap_or_else(|| sig.product.clone())),
            tags,
            entity,
            details,
            ..alert_on(event, event_id)
        }
    }

    /// Folds a batch's device alerts with the same (tenant, rule, entity) into one and
    /// applies the rate ceiling; other alerts pass unchanged. `now` is the time the
    /// ceiling's minute is counted in.
    pub fn fold(&self, alerts: Vec<Alert>, now: Timestamp) -> Vec<Alert> {
        if !alerts.iter().any(|a| a.source == AlertSource::Device) {
            return alerts;
        }
        let mut out: Vec<Alert> = Vec::with_capacity(alerts.len());
        let mut index: HashMap<(String, String, String), usize> = HashMap::new();
        for alert in alerts {
            if alert.source != AlertSource::Device {
                out.push(alert);
                continue;
            }
            let alert = self.ceiling.admit(alert, now);
            let key = (
                alert.tenant.clone(),
                alert.rule_id.clone(),
                alert.entity.clone(),
            );
            match index.get(&key) {
                Some(&i) => merge(&mut out[i], alert),
                None => {
                    index.insert(key, out.len());
                    out.push(alert);
                }
            }
        }
        out
    }

    /// Detections folded into storm alerts since start.
    pub fn storm_folded(&self) -> u64 {
        self.ceiling.folded()
    }
}

/// Adds `more` into `into`: counts, times, event references (up to the limit).
fn merge(into: &mut Alert, more: Alert) {
    into.count += more.count;
    into.first_seen = into.first_seen.min(more.first_seen);
    into.last_seen = into.last_seen.max(more.last_seen);
    let room = haechi_event::alert::MAX_EVENT_REFS.saturating_sub(into.events.len());
    into.events.extend(more.events.into_iter().take(room));
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    let t = text.trim();
    if let Some((lo, hi)) = t.split_once('-')
        && let (Ok(lo), Ok(hi)) = (lo.trim().parse::<i64>(), hi.trim().parse::<i64>())
    {
        return if lo <= hi {
            Ok(Severity::Range(lo, hi))
        } else {
            Err(format!("the range `{t}` runs backwards"))
        };
    }
    if let Ok(n) = t.parse::<i64>() {
        return Ok(Severity::Range(n, n));
    }
    if t.is_empty() {
        return Err("an empty severity".into());
    }
    if t == "*" {
        return Ok(Severity::Any);
    }
    Ok(Severity::Word(t.to_lowercase()))
}

/// `T1190` or `T1110.001`, upper-cased; anything else is refused.
fn checked_technique(t: &str) -> Result<String, String> {
    // ET rules write sub-techniques as `T1059_001`.
    let t = t.trim().to_ascii_uppercase().replace('_', ".");
    let (main, sub) = t
        .split_once('.')
        .map_or((t.as_str(), None), |(a, b)| (a, Some(b)));
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let ok =
        main.strip_prefix('T').is_some_and(|d| digits(d, 4)) && sub.is_none_or(|s| digits(s, 3));
    if ok {
        Ok(t)
    } else {
        Err(format!(
            "detect.device: `{t}` is not an ATT&CK technique id (T1190 or T1110.001)"
        ))
    }
}

/// The device that reported the event: `observer.hostname`, `observer.name`, its serial
/// number, or (anti-virus, EDR) the host it runs on.
fn device_name(event: &Event) -> Option<String> {
    [
        ecs::OBSERVER_HOSTNAME,
        "observer.name",
        "observer.serial_number",
        ecs::HOST_NAME,
    ]
    .iter()
    .find_map(|f| event.get(f).map(|v| v.as_text().into_owned()))
}

/// Lower-case letters, digits and `-` only: a product name fit for a rule id.
fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "device".into() } else { out }
}

fn text_of(event: &Event, field: &str) -> Option<String> {
    event
        .get(field)
        .map(|v| v.as_text().trim().to_owned())
        .filter(|s| !s.is_empty() && s != "-")
}

fn ip_text(event: &Event, field: &str) -> Option<String> {
    text_of(event, field)
}

/// The detection an event reports, if it reports one (see the module table).
pub fn signature_of(event: &Event) -> Option<Signature> {
    if let Some(s) = defender(event) {
        return Some(s);
    }
    let module = event.get_str(ecs::EVENT_MODULE);
    let kind_alert = event.get_str(ecs::EVENT_KIND) == Some("alert");
    if module == Some("suricata") {
        return suricata(event, kind_alert);
    }
    if module == Some("zeek") {
        return kind_alert.then(|| zeek_notice(event)).flatten();
    }
    if module == Some("modsecurity") {
        return kind_alert.then(|| modsecurity(event)).flatten();
    }
    if event.get_str(ecs::OBSERVER_VENDOR) == Some("Fortinet") && kind_alert {
        return Some(fortigate(event));
    }
    if let Some(sev) = event.get_str("cef.severity") {
        return Some(cef_like(event, "cef", Some(sev.to_owned())));
    }
    if event.get("leef.version").is_some() {
        let sev = event
            .get(ecs::EVENT_SEVERITY)
            .map(|v| v.as_text().into_owned());
        return sev.map(|s| cef_like(event, "leef", Some(s)));
    }
    kind_alert.then(|| generic(event)).flatten()
}

fn attacker_victim(event: &Event) -> (Option<String>, Option<String>) {
    (
        ip_text(event, ecs::SOURCE_IP),
        ip_text(event, ecs::DESTINATION_IP),
    )
}

/// Whether a detection is of malware talking out (a beacon, a C2 channel, a payload
/// fetched): then, from an inside address to an outside one, the outside end is the
/// attacker's infrastructure and the inside host the victim (for other detections the
/// source stays the attacker: a worm spreading outwards is the inside host's doing).
fn is_malware_communication(category: Option<&str>, name: &str) -> bool {
    let c = category.unwrap_or("").to_ascii_lowercase();
    c.contains("trojan")
        || c.contains("command and control")
        || c.contains("malware")
        || [
            "ET MALWARE",
            "ET CNC",
            "ET TROJAN",
            "ETPRO MALWARE",
            "ETPRO TROJAN",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// The sides of an outbound malware detection, swapped as [`is_malware_communication`] says.
fn outbound_swap(src: Option<String>, dst: Option<String>) -> (Option<String>, Option<String>) {
    match (&src, &dst) {
        (Some(s), Some(d))
            if haechi_event::alert::is_local_address(s)
                && !haechi_event::alert::is_local_address(d) =>
        {
            (dst, src)
        }
        _ => (src, dst),
    }
}

fn suricata(event: &Event, kind_alert: bool) -> Option<Signature> {
    let (mut attacker, mut victim) = attacker_victim(event);
    // Rules with `target:` say which side is which (EVE `alert.source`/`alert.target`).
    if let Some(a) = ip_text(event, "alert.source.ip") {
        attacker = Some(a);
        victim = ip_text(event, "alert.target.ip").or(victim);
    }
    if kind_alert {
        let id = text_of(event, ecs::RULE_ID)?;
        let name =
            text_of(event, ecs::RULE_NAME).unwrap_or_else(|| format!("Suricata signature {id}"));
        let category = event.get_str(ecs::RULE_CATEGORY);
        if event.get("alert.source.ip").is_none() && is_malware_communication(category, &name) {
            (attacker, victim) = outbound_swap(attacker, victim);
        }
        let techniques = event
            .get("alert.metadata.mitre_technique_id")
            .map(|v| {
                v.scalars()
                    .filter_map(|t| checked_technique(&t.as_text()).ok())
                    .collect()
            })
            .unwrap_or_default();
        return Some(Signature {
            scale: "suricata",
            product: "suricata".into(),
            name,
            id,
            category: category.map(str::to_owned),
            severity: event
                .get(ecs::EVENT_SEVERITY)
                .map(|v| v.as_text().into_owned()),
            techniques,
            attacker,
            victim,
        });
    }
    if event.get_str("event_type") != Some("anomaly") {
        return None;
    }
    let kind = text_of(event, "anomaly.type").unwrap_or_else(|| "anomaly".into());
    let what = text_of(event, "anomaly.event").unwrap_or_else(|| "unknown".into());
    Some(Signature {
        scale: "suricata",
        product: "suricata".into(),
        id: format!("anomaly:{}", what.to_lowercase()),
        name: format!("Suricata {kind} anomaly {what}"),
        category: text_of(event, "anomaly.layer"),
        severity: Some("anomaly".into()),
        techniques: Vec::new(),
        attacker,
        victim,
    })
}

fn zeek_notice(event: &Event) -> Option<Signature> {
    let note = text_of(event, ecs::RULE_NAME)?;
    let (attacker, victim) = attacker_victim(event);
    Some(Signature {
        scale: "zeek",
        product: "zeek".into(),
        name: note.clone(),
        severity: Some(note.clone()),
        id: note,
        category: None,
        techniques: Vec::new(),
        attacker,
        victim,
    })
}

fn fortigate(event: &Event) -> Signature {
    let (attacker, victim) = attacker_victim(event);
    let subtype = text_of(event, "subtype").or_else(|| text_of(event, "type"));
    let id = ["attackid", "virusid", "eventid", ecs::RULE_ID, "logid"]
        .iter()
        .find_map(|f| text_of(event, f))
        .unwrap_or_else(|| "unknown".into());
    let name = [
        "attack",
        "virus",
        ecs::RULE_NAME,
        "app",
        "logdesc",
        ecs::MESSAGE,
    ]
    .iter()
    .find_map(|f| text_of(event, f))
    .unwrap_or_else(|| format!("FortiGate detection {id}"));
    let severity = ["severity", "crlevel", "apprisk", "level"]
        .iter()
        .find_map(|f| text_of(event, f));
    Signature {
        scale: "fortigate",
        product: "fortigate".into(),
        id,
        name,
        category: subtype,
        severity,
        techniques: Vec::new(),
        attacker,
        victim,
    }
}

fn cef_like(event: &Event, scale: &'static str, severity: Option<String>) -> Signature {
    let (attacker, victim) = attacker_victim(event);
    let vendor = event.get_str(ecs::OBSERVER_VENDOR).unwrap_or("");
    let product = event.get_str(ecs::OBSERVER_PRODUCT).unwrap_or(scale);
    let id = text_of(event, ecs::EVENT_CODE).unwrap_or_else(|| "unknown".into());
    let name = ["cef.name", ecs::RULE_NAME, ecs::MESSAGE]
        .iter()
        .find_map(|f| text_of(event, f))
        .unwrap_or_else(|| format!("{vendor} {product} event {id}"));
    Signature {
        scale,
        product: slug(&format!("{vendor} {product}")),
        id,
        name,
        category: event.get_str(ecs::RULE_CATEGORY).map(str::to_owned),
        severity,
        techniques: Vec::new(),
        attacker,
        victim,
    }
}

fn generic(event: &Event) -> Option<Signature> {
    let name = text_of(event, ecs::RULE_NAME)?;
    let (attacker, victim) = attacker_victim(event);
    let product = event
        .get_str(ecs::OBSERVER_PRODUCT)
        .or_else(|| event.get_str(ecs::EVENT_MODULE))
        .unwrap_or("device");
    Some(Signature {
        scale: "generic",
        product: slug(product),
        id: text_of(event, ecs::RULE_ID).unwrap_or_else(|| name.clone()),
        name,
        category: event.get_str(ecs::RULE_CATEGORY).map(str::to_owned),
        severity: event
            .get(ecs::EVENT_SEVERITY)
            .map(|v| v.as_text().into_owned()),
        techniques: Vec::new(),
        attacker,
        victim,
    })
}

/// A ModSecurity transaction with rule matches: the primary rule (the parser picks the
/// most severe one that names an attack, not the Core Rule Set's anomaly-score verdict),
/// on the Core Rule Set's severity scale.
fn modsecurity(event: &Event) -> Option<Signature> {
    generic(event).map(|s| Signature {
        scale: "modsecurity",
        product: "modsecurity".into(),
        ..s
    })
}

/// The Defender event ids that report a detection (found, action taken or failed).
const DEFENDER_DETECTIONS: [i64; 6] = [1006, 1007, 1008, 1015, 1116, 1117];

/// The first of `fields` the event has, as text: native Windows names come flat from
/// agents (`Channel`, `Threat Name`) and nested from EVTX (`Event.System.Channel`,
/// `Event.EventData.Threat Name`).
fn first_text(event: &Event, fields: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| text_of(event, f))
}

fn defender_event(event: &Event) -> Option<i64> {
    // Every Windows event passes here: borrowed reads only, no allocation.
    let channel = ["Channel", "Event.System.Channel", "winlog.channel"]
        .iter()
        .find_map(|f| event.get_str(f))?;
    if !channel.eq_ignore_ascii_case("Microsoft-Windows-Windows Defender/Operational") {
        return None;
    }
    let id = ["EventID", "Event.System.EventID", ecs::EVENT_CODE]
        .iter()
        .find_map(|f| event.get(f).and_then(Value::as_f64))? as i64;
    DEFENDER_DETECTIONS.contains(&id).then_some(id)
}

/// A field of Defender's EventData, flat or as EVTX nests it.
fn defender_field(event: &Event, name: &str) -> Option<String> {
    text_of(event, name).or_else(|| text_of(event, &format!("Event.EventData.{name}")))
}

fn defender(event: &Event) -> Option<Signature> {
    defender_event(event)?;
    let name = defender_field(event, "Threat Name").unwrap_or_else(|| "Defender detection".into());
    let id = defender_field(event, "Threat ID").unwrap_or_else(|| name.clone());
    Some(Signature {
        scale: "defender",
        product: "defender".into(),
        id,
        name,
        category: defender_field(event, "Category Name"),
        severity: defender_field(event, "Severity Name"),
        techniques: Vec::new(),
        attacker: None,
        victim: first_text(
            event,
            &[ecs::HOST_NAME, "Computer", "Event.System.Computer"],
        ),
    })
}

/// At most this many (tenant, device, signature) keys are tracked; past it the minute's
/// counts start over (a flood of distinct keys cannot grow memory without end).
const CEILING_KEYS: usize = 100_000;

/// How many distinct alerts each (tenant, device, signature) has raised this minute.
#[derive(Debug)]
pub struct RateCeiling {
    per_minute: u32,
    state: Mutex<CeilingState>,
    folded: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct CeilingState {
    minute: i64,
    counts: HashMap<(String, String, String), (u32, std::collections::HashSet<String>)>,
}

impl RateCeiling {
    pub fn new(per_minute: u32) -> RateCeiling {
        RateCeiling {
            per_minute,
            state: Mutex::new(CeilingState::default()),
            folded: Default::default(),
        }
    }

    /// The alert as it may enter the queue: itself while its (tenant, device, signature)
    /// is under the ceiling this minute (or its entity was already admitted), else folded
    /// into that device's storm alert for the signature.
    fn admit(&self, mut alert: Alert, now: Timestamp) -> Alert {
        if self.per_minute == 0 {
            return alert;
        }
        let device = alert.author.clone().unwrap_or_default();
        let minute = now.0.div_euclid(60_000_000_000);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.minute != minute || state.counts.len() >= CEILING_KEYS {
            state.minute = minute;
            state.counts.clear();
        }
        let key = (alert.tenant.clone(), device.clone(), alert.rule_id.clone());
        let (admitted, entities) = state.counts.entry(key).or_default();
        if entities.contains(&alert.entity) {
            return alert;
        }
        if *admitted < self.per_minute {
            *admitted += 1;
            entities.insert(alert.entity.clone());
            return alert;
        }
        drop(state);
        self.folded
            .fetch_add(alert.count, std::sync::atomic::Ordering::Relaxed);
        alert.entity = format!("observer={}", device.to_lowercase());
        alert.details.insert("storm".into(), true.into());
        alert.details.insert(
            "storm_note".into(),
            format!(
                "more than {} distinct alerts a minute from {device} for this signature: the rest are counted here",
                self.per_minute
            )
            .into(),
        );
        alert
    }

    fn folded(&self) -> u64 {
        self.folded.load(std::sync::atomic::Ordering::Relaxed)
    }
}
