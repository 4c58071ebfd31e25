//! Building the STIX objects Haechi emits. Everything built here passes [`crate::validate`]
//! and the OASIS `stix2-validator` (a test runs it).

use crate::objects::StixObject;
use crate::tlp::Tlp;
use crate::validate::check_identifier;
use chrono::{DateTime, Utc};
use haechi_ioc::{IndicatorKind, IndicatorValue};
use serde_json::{Value, json};
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an object could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("{kind} value {value:?} is not valid: {reason}")]
    BadValue {
        kind: IndicatorKind,
        value: String,
        reason: String,
    },
    #[error("created_by_ref: {0}")]
    BadCreator(String),
    /// The built object failed Haechi's own validation (a bug here).
    #[error("built an invalid object: {0}")]
    Invalid(String),
}

/// A STIX timestamp with millisecond precision: `2026-11-23T09:39:29.123Z`.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A random (version 4) UUID. The 122 random bits come from two SipHash-1-3 outputs keyed
/// by the standard library's per-process random keys (`RandomState`, seeded from the
/// operating system) over a process-wide counter and the clock: unique and unpredictable
/// enough for object ids, not meant as key material.
pub fn new_uuid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let state = std::collections::hash_map::RandomState::new();
    let half = |salt: u8| {
        let mut h = state.build_hasher();
        h.write_u8(salt);
        h.write_u64(n);
        h.write_u128(nanos);
        h.finish()
    };
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&half(1).to_be_bytes());
    b[8..].copy_from_slice(&half(2).to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A string constant for a STIX pattern: `'…'` with `\` and `'` escaped.
pub fn pattern_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn ip_type(ip: std::net::IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    }
}

/// The STIX pattern that matches one indicator value.
pub fn pattern_for(value: &IndicatorValue) -> String {
    let s = |t: &str| pattern_string(t);
    match value {
        IndicatorValue::Ip(ip) => format!("[{}:value = {}]", ip_type(*ip), s(&ip.to_string())),
        IndicatorValue::Cidr(net, len) => {
            format!(
                "[{}:value ISSUBSET {}]",
                ip_type(*net),
                s(&format!("{net}/{len}"))
            )
        }
        IndicatorValue::IpPort(addr) => ip_port_pattern(addr),
        IndicatorValue::Domain(d) => format!("[domain-name:value = {}]", s(d)),
        IndicatorValue::Url(u) => format!("[url:value = {}]", s(u)),
        IndicatorValue::Email(e) => format!("[email-addr:value = {}]", s(e)),
        IndicatorValue::Md5(_) => format!("[file:hashes.MD5 = {}]", s(&value.to_string())),
        IndicatorValue::Sha1(_) => format!("[file:hashes.'SHA-1' = {}]", s(&value.to_string())),
        IndicatorValue::Sha256(_) => {
            format!("[file:hashes.'SHA-256' = {}]", s(&value.to_string()))
        }
    }
}

fn ip_port_pattern(addr: &SocketAddr) -> String {
    format!(
        "[network-traffic:dst_ref.type = '{}' AND network-traffic:dst_ref.value = {} AND network-traffic:dst_port = {}]",
        ip_type(addr.ip()),
        pattern_string(&addr.ip().to_string()),
        addr.port()
    )
}

/// An indicator for one value: `kind` as in haechi-ioc (the value is read and put in
/// canonical form the way feeds are), a STIX pattern for it, `indicator_types`
/// `malicious-activity`, valid from `now`, marked with `tlp`, created by `created_by_ref`
/// (an `identity--…` id) when given.
pub fn indicator_from_value(
    kind: IndicatorKind,
    value: &str,
    tlp: Tlp,
    created_by_ref: Option<&str>,
    now: DateTime<Utc>,
) -> Result<StixObject, BuildError> {
    let parsed = IndicatorValue::parse(kind, value).map_err(|e| BuildError::BadValue {
        kind,
        value: value.to_owned(),
        reason: e.to_string(),
    })?;
    let ts = timestamp(now);
    let mut json = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{}", new_uuid()),
        "created": ts,
        "modified": ts,
        "name": format!("{}: {parsed}", kind.as_str()),
        "description": format!("Malicious {} reported through Haechi: {parsed}", kind.as_str()),
        "indicator_types": ["malicious-activity"],
        "pattern": pattern_for(&parsed),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": ts,
        "object_marking_refs": [tlp.marking_id()],
    });
    if let Some(creator) = created_by_ref {
        check_identifier(creator, Some("identity")).map_err(BuildError::BadCreator)?;
        json["created_by_ref"] = Value::String(creator.to_owned());
    }
    StixObject::from_json(json).map_err(BuildError::Invalid)
}

/// An identity (the organisation objects are created by). `identity_class` is one of the
/// STIX vocabulary's `individual`, `group`, `system`, `organization`, `class`, `unknown`.
pub fn identity(
    name: &str,
    identity_class: &str,
    now: DateTime<Utc>,
) -> Result<StixObject, BuildError> {
    let ts = timestamp(now);
    StixObject::from_json(json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": format!("identity--{}", new_uuid()),
        "created": ts,
        "modified": ts,
        "name": name,
        "identity_class": identity_class,
    }))
    .map_err(BuildError::Invalid)
}

/// The sharing organisation's identity, marked `tlp` like the objects it creates.
fn marked_identity(creator: &str, tlp: Tlp, now: DateTime<Utc>) -> Result<StixObject, BuildError> {
    let mut me = identity(creator, "organization", now)?.json;
    me["object_marking_refs"] = json!([tlp.marking_id()]);
    StixObject::from_json(me).map_err(BuildError::Invalid)
}

/// Completes an object created by `creator_id` at `ts` and marked `tlp`. Cyber-observable
/// objects (`software`) carry neither creation times nor a creator in STIX 2.1.
fn mark(mut json: Value, ts: &str, creator_id: &str, tlp: Tlp) -> Result<StixObject, BuildError> {
    json["spec_version"] = json!("2.1");
    if json["type"] != "software" {
        json["created"] = json!(ts);
        json["modified"] = json!(ts);
        json["created_by_ref"] = json!(creator_id);
    }
    json["object_marking_refs"] = json!([tlp.marking_id()]);
    StixObject::from_json(json).map_err(BuildError::Invalid)
}

/// What a confirmed incident contributes to the hub (gathered by the caller from the
/// state store, so that this crate needs no storage).
#[derive(Debug, Clone, Default)]
pub struct IncidentFacts {
    pub title: String,
    /// What happened, in a few lines (status, institutions, counts).
    pub summary: String,
    /// The attackers and indicators seen: addresses, domains, URLs, hashes, e-mail
    /// addresses, read the way feeds are (anything else is skipped and reported).
    pub indicators: Vec<String>,
    /// ATT&CK techniques seen: (`T1059.001`, a name, which may be the id itself).
    pub techniques: Vec<(String, String)>,
    /// The response taken, one line per action (block-list entries, tasks done).
    pub response: Vec<String>,
}

/// The STIX objects an incident is shared as, all marked `tlp` and created by the
/// identity `creator`: the identity and the TLP marking definition, one indicator per
/// indicator value, one `attack-pattern` per technique (with its MITRE ATT&CK reference),
/// a `course-of-action` for the response, `indicates` and `mitigates` relationships, and
/// a `report` that refers to everything. Values that are not indicators come back as
/// the second list, with the reason.
pub fn incident_objects(
    facts: &IncidentFacts,
    tlp: Tlp,
    creator: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<StixObject>, Vec<String>), BuildError> {
    let ts = timestamp(now);
    let me = marked_identity(creator, tlp, now)?;
    let me_id = me.id.clone();
    let marked = |json: Value| mark(json, &ts, &me_id, tlp);
    let mut indicators = Vec::new();
    let mut skipped = Vec::new();
    for value in &facts.indicators {
        let kind = match IndicatorValue::detect(value) {
            Ok(v) => v.kind(),
            Err(e) => {
                skipped.push(format!("{value}: {e}"));
                continue;
            }
        };
        match indicator_from_value(kind, value, tlp, Some(&me_id), now) {
            Ok(i) => indicators.push(i),
            Err(e) => skipped.push(format!("{value}: {e}")),
        }
    }
    let mut patterns = Vec::new();
    for (id, name) in &facts.techniques {
        // No URL: the specification wants a hash with every external URL.
        patterns.push(marked(json!({
            "type": "attack-pattern",
            "id": format!("attack-pattern--{}", new_uuid()),
            "name": name,
            "external_references": [{
                "source_name": "mitre-attack",
                "external_id": id,
            }],
        }))?);
    }
    let mut objects = vec![me];
    let mut related = Vec::new();
    let relationship = |kind: &str, from: &str, to: &str| {
        marked(json!({
            "type": "relationship",
            "id": format!("relationship--{}", new_uuid()),
            "relationship_type": kind,
            "source_ref": from,
            "target_ref": to,
        }))
    };
    for i in &indicators {
        for p in &patterns {
            related.push(relationship("indicates", &i.id, &p.id)?);
        }
    }
    if !facts.response.is_empty() {
        let action = marked(json!({
            "type": "course-of-action",
            "id": format!("course-of-action--{}", new_uuid()),
            "name": format!("Response to: {}", facts.title),
            "description": facts.response.join("\n"),
        }))?;
        for p in &patterns {
            related.push(relationship("mitigates", &action.id, &p.id)?);
        }
        objects.push(action);
    }
    objects.extend(indicators);
    objects.extend(patterns);
    objects.extend(related);
    let refs: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
    let report = marked(json!({
        "type": "report",
        "id": format!("report--{}", new_uuid()),
        "name": facts.title,
        "description": facts.summary,
        "report_types": ["threat-report"],
        "published": ts,
        "object_refs": refs,
    }))?;
    objects.push(report);
    objects.insert(0, tlp_marking(tlp));
    Ok((objects, skipped))
}

/// A sighting of `indicator_id` by the identity `sighted_by`: one object per indicator
/// and observer, re-versioned as sightings accumulate (`id` given by the caller, stable
/// for the pair), `count` times between `first_seen` and `last_seen`, marked `tlp`.
#[allow(clippy::too_many_arguments)]
pub fn sighting(
    id: &str,
    indicator_id: &str,
    sighted_by: &str,
    count: u64,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    tlp: Tlp,
    created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<StixObject, BuildError> {
    StixObject::from_json(json!({
        "type": "sighting",
        "spec_version": "2.1",
        "id": id,
        "created": timestamp(created),
        "modified": timestamp(now.max(created)),
        "created_by_ref": sighted_by,
        "sighting_of_ref": indicator_id,
        "where_sighted_refs": [sighted_by],
        "count": count.min(999_999_999),
        "first_seen": timestamp(first_seen),
        "last_seen": timestamp(last_seen.max(first_seen)),
        "object_marking_refs": [tlp.marking_id()],
    }))
    .map_err(BuildError::Invalid)
}

/// The identity Haechi's own objects are created by, with a fixed id (so that every
/// sighting and report of one hub refers to the same one), marked TLP:CLEAR.
pub fn center_identity(id: &str, name: &str) -> Result<StixObject, BuildError> {
    StixObject::from_json(json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "identity_class": "organization",
        "object_marking_refs": [Tlp::Clear.marking_id()],
    }))
    .map_err(BuildError::Invalid)
}

/// A UUID derived from a SHA-256 digest the caller made of a name: the same name always
/// gives the same id. The version-4 layout, as STIX wants for domain objects (the digest's
/// bits are as unpredictable as random ones to anyone without the name).
pub fn uuid_from_digest(digest: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The official TLP 2.0 marking definition of `tlp`, as an object to put in bundles.
pub fn tlp_marking(tlp: Tlp) -> StixObject {
    StixObject::from_json(tlp.marking_definition()).expect("the official TLP markings are valid")
}

/// A STIX 2.1 bundle of `objects` with a new id, as JSON text.
pub fn bundle(objects: &[StixObject]) -> String {
    let objects: Vec<&Value> = objects.iter().map(|o| &o.json).collect();
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", new_uuid()),
        "objects": objects,
    })
    .to_string()
}

/// What one advisory's findings contribute to the hub (gathered by the caller from the
/// vulnerability center, so that this crate needs none of it).
#[derive(Debug, Clone, Default)]
pub struct VulnerabilityFacts {
    /// The advisory id (`GHSA-…`, `RUSTSEC-…`, `CVE-…`).
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    /// The affected software: (package, version, package URL).
    pub affected: Vec<(String, String, String)>,
    /// Versions that fix it.
    pub fixed: Vec<String>,
    /// The whole OSV advisory, when there is one: carried as the custom property
    /// `x_haechi_osv` so that a partner's Haechi can match it against its own
    /// inventories (other consumers ignore it, as STIX says of custom properties).
    pub osv: Option<Value>,
}

/// The STIX objects vulnerabilities are shared as, all marked `tlp` and created by the
/// identity `creator`: per advisory a `vulnerability` (named by its CVE when it has one,
/// with the advisory and its aliases as external references), the affected `software`
/// with `related-to` relationships to it (the package URL in the relationship's
/// description, as STIX's software object has no field for one), and a
/// `course-of-action` that `mitigates` it when fixed versions are known.
pub fn vulnerability_objects(
    facts: &[VulnerabilityFacts],
    tlp: Tlp,
    creator: &str,
    now: DateTime<Utc>,
) -> Result<Vec<StixObject>, BuildError> {
    let ts = timestamp(now);
    let me = marked_identity(creator, tlp, now)?;
    let me_id = me.id.clone();
    let marked = |json: Value| mark(json, &ts, &me_id, tlp);
    let mut objects = vec![tlp_marking(tlp), me];
    for f in facts {
        let cve = std::iter::once(f.id.as_str())
            .chain(f.aliases.iter().map(String::as_str))
            .find(|a| a.starts_with("CVE-"));
        let mut refs: Vec<Value> = Vec::new();
        if let Some(c) = cve {
            refs.push(json!({"source_name": "cve", "external_id": c}));
        }
        for a in std::iter::once(&f.id).chain(&f.aliases) {
            if Some(a.as_str()) != cve {
                refs.push(json!({"source_name": a.split('-').next().unwrap_or("osv").to_ascii_lowercase(), "external_id": a}));
            }
        }
        let mut object = json!({
            "type": "vulnerability",
            "id": format!("vulnerability--{}", new_uuid()),
            "name": cve.unwrap_or(&f.id),
            "description": if f.summary.is_empty() { f.id.clone() } else { f.summary.clone() },
            "external_references": refs,
        });
        if let Some(osv) = &f.osv {
            object["x_haechi_osv"] = osv.clone();
        }
        let vulnerability = marked(object)?;
        for (package, version, purl) in &f.affected {
            let software = marked(json!({
                "type": "software",
                "id": format!("software--{}", new_uuid()),
                "name": package,
                "version": version,
            }))?;
            objects.push(marked(json!({
                "type": "relationship",
                "id": format!("relationship--{}", new_uuid()),
                "relationship_type": "related-to",
                "source_ref": software.id,
                "target_ref": vulnerability.id,
                "description": format!("{purl} is affected"),
            }))?);
            objects.push(software);
        }
        if !f.fixed.is_empty() {
            let action = marked(json!({
                "type": "course-of-action",
                "id": format!("course-of-action--{}", new_uuid()),
                "name": format!("Upgrade to {}", f.fixed.join(" or ")),
                "description": format!("Versions that fix {}: {}.", f.id, f.fixed.join(", ")),
            }))?;
            objects.push(marked(json!({
                "type": "relationship",
                "id": format!("relationship--{}", new_uuid()),
                "relationship_type": "mitigates",
                "source_ref": action.id,
                "target_ref": vulnerability.id,
            }))?);
            objects.push(action);
        }
        objects.push(vulnerability);
    }
    Ok(objects)
}
