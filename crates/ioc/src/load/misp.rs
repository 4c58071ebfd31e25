//! MISP events: `{"Event": {…}}` as MISP exports one, a bare event object, a
//! `{"response": [{"Event": …}, …]}` search result, or a JSON list of events.
//!
//! Every attribute (top-level and inside objects) is an entry. Types taken:
//!
//! | MISP type | indicator |
//! |---|---|
//! | `ip-src`, `ip-dst` | IP or CIDR |
//! | `ip-src\|port`, `ip-dst\|port` | IP:port (the feed's `ip_port` policy applies) |
//! | `domain`, `hostname` | domain |
//! | `domain\|ip` | domain and IP |
//! | `hostname\|port` | domain, only with `ip_port = "ip"` |
//! | `url` | URL |
//! | `md5`, `sha1`, `sha256` | hash |
//! | `filename\|md5`, `malware-sample`, `filename\|sha1`, `filename\|sha256` | the hash |
//! | `email`, `email-src`, `email-dst`, `email-reply-to` | e-mail address |
//!
//! Others (`link`, `text`, `filename`, `regkey`, `btc`, …) are skipped as unsupported
//! types. With `only_to_ids` (the default) attributes with `to_ids: false` are skipped:
//! MISP marks context that way, not detection material. Deleted attributes and objects
//! are skipped. Kept: the event's `info` and the attribute's `comment` as description,
//! the attribute uuid and event uuid, `first_seen`, `tlp:` tags of event and attribute,
//! `to_ids`, and an `osint:certainty="N"` tag (MISP's OSINT taxonomy) as confidence.

use super::{FeedLoad, IpPortPolicy, parse_confidence};
use crate::kind::{IndicatorKind, IndicatorValue};
use crate::report::{LoadError, Location, SkipReason};
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

/// An event, or a wrapper around events (`Event`, `response`): one struct reads all the
/// shapes MISP writes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MispEvent {
    #[serde(rename = "Event")]
    event: Option<Box<MispEvent>>,
    response: Vec<MispEvent>,
    info: Option<String>,
    uuid: Option<String>,
    #[serde(rename = "Tag")]
    tags: Vec<MispTag>,
    #[serde(rename = "Attribute")]
    attributes: Vec<MispAttribute>,
    #[serde(rename = "Object")]
    objects: Vec<MispObject>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MispObject {
    #[serde(deserialize_with = "lenient_bool")]
    deleted: Option<bool>,
    #[serde(rename = "Attribute")]
    attributes: Vec<MispAttribute>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MispAttribute {
    #[serde(rename = "type")]
    kind: String,
    value: Json,
    comment: Option<String>,
    uuid: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    to_ids: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    deleted: Option<bool>,
    first_seen: Option<String>,
    #[serde(rename = "Tag")]
    tags: Vec<MispTag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MispTag {
    name: String,
}

/// `true`/`false`, `1`/`0`, `"1"`/`"0"`, `"true"`/`"false"` (older exports vary).
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Json::deserialize(d)? {
        Json::Bool(b) => Some(b),
        Json::Number(n) => n.as_u64().map(|n| n != 0),
        Json::String(s) => match s.as_str() {
            "1" | "true" | "True" => Some(true),
            "0" | "false" | "False" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// What an event gives every attribute.
struct EventContext<'e> {
    info: Option<&'e str>,
    uuid: Option<&'e str>,
    markings: Vec<Box<str>>,
    certainty: Option<u8>,
}

pub(crate) fn load(load: &mut FeedLoad<'_>, bytes: &[u8]) -> Result<(), LoadError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let docs: Vec<MispEvent> = if first == Some(&b'[') {
        serde_json::from_slice(bytes)?
    } else {
        vec![serde_json::from_slice(bytes)?]
    };
    let mut events = Vec::new();
    for doc in &docs {
        collect_events(doc, &mut events);
    }
    if events.is_empty() {
        return Err(LoadError::Format {
            format: "MISP event",
            detail: "no \"Event\", \"Attribute\" or \"Object\" found".into(),
        });
    }
    for event in events {
        read_event(load, event)?;
    }
    Ok(())
}

/// The events inside a document, wrappers unwrapped.
fn collect_events<'e>(doc: &'e MispEvent, out: &mut Vec<&'e MispEvent>) {
    if let Some(inner) = &doc.event {
        collect_events(inner, out);
    }
    for inner in &doc.response {
        collect_events(inner, out);
    }
    if !doc.attributes.is_empty() || !doc.objects.is_empty() || doc.info.is_some() {
        out.push(doc);
    }
}

fn read_event(load: &mut FeedLoad<'_>, event: &MispEvent) -> Result<(), LoadError> {
    let context = EventContext {
        info: event.info.as_deref(),
        uuid: event.uuid.as_deref(),
        markings: tlp_tags(&event.tags).collect(),
        certainty: certainty(&event.tags),
    };
    for (i, attr) in event.attributes.iter().enumerate() {
        read_attribute(load, &context, attr, false, || format!("Attribute[{i}]"))?;
    }
    for (i, object) in event.objects.iter().enumerate() {
        for (j, attr) in object.attributes.iter().enumerate() {
            let deleted = object.deleted == Some(true);
            read_attribute(load, &context, attr, deleted, || {
                format!("Object[{i}].Attribute[{j}]")
            })?;
        }
    }
    Ok(())
}

fn read_attribute(
    load: &mut FeedLoad<'_>,
    event: &EventContext<'_>,
    attr: &MispAttribute,
    object_deleted: bool,
    position: impl Fn() -> String,
) -> Result<(), LoadError> {
    load.report.entries += 1;
    let location = || Location::Object(attr.uuid.clone().unwrap_or_else(&position));
    let value = match &attr.value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let shown = format!("{}: {value}", attr.kind);
    if attr.deleted == Some(true) || object_deleted {
        load.skip(location(), &shown, SkipReason::Deleted);
        return Ok(());
    }
    let parts = match misp_type(&attr.kind, load.feed.ip_port) {
        Ok(parts) => parts,
        Err(reason) => {
            load.skip(location(), &shown, reason);
            return Ok(());
        }
    };
    if load.feed.only_to_ids && attr.to_ids == Some(false) {
        load.skip(location(), &shown, SkipReason::NotToIds);
        return Ok(());
    }
    let comment = attr
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let description = match (event.info, comment) {
        (Some(info), Some(c)) => Some(format!("{info}: {c}")),
        (Some(s), None) | (None, Some(s)) => Some(s.to_owned()),
        (None, None) => None,
    };
    let mut meta = load.meta(description.as_deref());
    if let Some(c) = certainty(&attr.tags).or(event.certainty) {
        meta.confidence = Some(c);
    }
    meta.object_id = attr.uuid.as_deref().map(Into::into);
    meta.collection_id = event.uuid.map(Into::into);
    meta.first_seen = attr.first_seen.as_deref().map(Into::into);
    meta.markings = event
        .markings
        .iter()
        .cloned()
        .chain(tlp_tags(&attr.tags))
        .collect();
    meta.to_ids = attr.to_ids;
    let meta = load.meta_id(meta);
    for (kind, part) in parts {
        let text = part.of(&value);
        match IndicatorValue::parse(kind, text).and_then(|v| load.ip_port(v)) {
            Ok(v) => load.accept(&v, meta)?,
            Err(reason) => load.skip(location(), &shown, reason),
        }
    }
    Ok(())
}

/// Which part of a `a|b` composite value an indicator is.
#[derive(Debug, Clone, Copy)]
enum Part {
    Whole,
    Left,
    Right,
}

impl Part {
    fn of(self, value: &str) -> &str {
        match (self, value.split_once('|')) {
            (Part::Whole, _) | (_, None) => value,
            (Part::Left, Some((left, _))) => left,
            (Part::Right, Some((_, right))) => right,
        }
    }
}

/// The indicators a MISP attribute type gives (see the module table).
fn misp_type(kind: &str, ip_port: IpPortPolicy) -> Result<Vec<(IndicatorKind, Part)>, SkipReason> {
    use IndicatorKind::*;
    Ok(match kind {
        "ip-src" | "ip-dst" => vec![(Ip, Part::Whole)],
        "ip-src|port" | "ip-dst|port" => vec![(IpPort, Part::Whole)],
        "domain" | "hostname" => vec![(Domain, Part::Whole)],
        "domain|ip" => vec![(Domain, Part::Left), (Ip, Part::Right)],
        "hostname|port" => match ip_port {
            IpPortPolicy::Ip => vec![(Domain, Part::Left)],
            IpPortPolicy::Endpoint => return Err(SkipReason::HostWithPort),
            IpPortPolicy::Skip => return Err(SkipReason::IpPortSkipped),
        },
        "url" => vec![(Url, Part::Whole)],
        "md5" => vec![(Md5, Part::Whole)],
        "sha1" => vec![(Sha1, Part::Whole)],
        "sha256" => vec![(Sha256, Part::Whole)],
        "filename|md5" | "malware-sample" => vec![(Md5, Part::Right)],
        "filename|sha1" => vec![(Sha1, Part::Right)],
        "filename|sha256" => vec![(Sha256, Part::Right)],
        "email" | "email-src" | "email-dst" | "email-reply-to" => vec![(Email, Part::Whole)],
        other => return Err(SkipReason::UnsupportedType(other.to_owned())),
    })
}

/// `tlp:…` tags, as written.
fn tlp_tags(tags: &[MispTag]) -> impl Iterator<Item = Box<str>> + '_ {
    tags.iter()
        .filter(|t| t.name.to_ascii_lowercase().starts_with("tlp:"))
        .map(|t| t.name.as_str().into())
}

/// An `osint:certainty="N"` tag as a confidence.
fn certainty(tags: &[MispTag]) -> Option<u8> {
    tags.iter().find_map(|t| {
        let value = t.name.strip_prefix("osint:certainty=")?;
        parse_confidence(value.trim_matches('"'))
    })
}
