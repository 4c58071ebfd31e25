//! STIX 2.1 objects as Haechi holds them, and reading bundles.
//!
//! A [`StixObject`] keeps the object's whole JSON (so nothing a partner sent is lost, and
//! it is re-emitted as received) beside the common properties Haechi works with, already
//! parsed. [`parse_bundle`] reads a bundle (or one bare object), validates every object
//! ([`crate::validate`]) and sorts them into accepted and rejected — one bad object never
//! costs the others.

use crate::tlp::Tlp;
use crate::validate::{is_sco_type, parse_timestamp, validate};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The four families of STIX objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Domain objects: indicator, malware, threat-actor, report, …
    Sdo,
    /// Cyber observables: ipv4-addr, file, url, …
    Sco,
    /// Relationship objects: relationship, sighting.
    Sro,
    /// Meta objects: marking-definition, language-content, extension-definition.
    Meta,
}

/// One validated STIX 2.1 object.
#[derive(Debug, Clone, PartialEq)]
pub struct StixObject {
    /// The object exactly as received (or built).
    pub json: Value,
    pub object_type: String,
    /// `"2.1"`; `None` only for a cyber observable that omits it.
    pub spec_version: Option<String>,
    pub id: String,
    /// `None` for cyber observables.
    pub created: Option<DateTime<Utc>>,
    /// `None` for cyber observables and marking definitions.
    pub modified: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub created_by_ref: Option<String>,
    pub object_marking_refs: Vec<String>,
    pub confidence: Option<u8>,
    pub labels: Vec<String>,
    /// Indicators only.
    pub valid_from: Option<DateTime<Utc>>,
    /// Indicators only.
    pub valid_until: Option<DateTime<Utc>>,
}

impl StixObject {
    /// Validates `json` and extracts the common properties; the error lists every
    /// violated rule (`"; "`-separated).
    pub fn from_json(json: Value) -> Result<StixObject, String> {
        let errors = validate(&json);
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        let s = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        let t = |key: &str| {
            json.get(key)
                .and_then(Value::as_str)
                .and_then(|v| parse_timestamp(v).ok())
        };
        let strings = |key: &str| -> Vec<String> {
            json.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(StixObject {
            object_type: s("type").unwrap_or_default(),
            spec_version: s("spec_version"),
            id: s("id").unwrap_or_default(),
            created: t("created"),
            modified: t("modified"),
            revoked: json.get("revoked").and_then(Value::as_bool) == Some(true),
            created_by_ref: s("created_by_ref"),
            object_marking_refs: strings("object_marking_refs"),
            confidence: json
                .get("confidence")
                .and_then(Value::as_u64)
                .map(|c| c as u8),
            labels: strings("labels"),
            valid_from: t("valid_from"),
            valid_until: t("valid_until"),
            json,
        })
    }

    pub fn category(&self) -> Category {
        match self.object_type.as_str() {
            "relationship" | "sighting" => Category::Sro,
            "marking-definition" | "language-content" | "extension-definition" => Category::Meta,
            t if is_sco_type(t) => Category::Sco,
            _ => Category::Sdo,
        }
    }

    /// The most restrictive TLP marking on the object, if any (see [`Tlp`]).
    pub fn tlp(&self) -> Option<Tlp> {
        Tlp::from_marking_refs(self.object_marking_refs.iter().map(String::as_str))
    }

    /// The indicator's pattern and pattern type.
    pub fn pattern(&self) -> Option<(&str, &str)> {
        let p = self.json.get("pattern")?.as_str()?;
        let t = self.json.get("pattern_type")?.as_str()?;
        Some((p, t))
    }

    /// A string property.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }
}

/// What [`parse_bundle`] accepts at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole bundle, in bytes.
    pub max_bytes: usize,
    /// Objects in the bundle.
    pub max_objects: usize,
}

impl Default for Limits {
    /// 64 MiB and 100 000 objects.
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_objects: 100_000,
        }
    }
}

/// Why a whole bundle is refused (a bad object inside only rejects that object).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("the bundle is {size} bytes, over the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("the bundle has {count} objects, over the limit of {max}")]
    TooManyObjects { count: usize, max: usize },
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a STIX bundle: {0}")]
    NotABundle(String),
}

/// The objects of a bundle, sorted.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BundleReport {
    /// The bundle's id (`None` for a bare object).
    pub bundle_id: Option<String>,
    pub accepted: Vec<StixObject>,
    /// Object id (when it has a string one) and `"<id>: <rule>; <rule>"`.
    pub rejected: Vec<(Option<String>, String)>,
}

/// Reads a STIX 2.1 bundle — `{"type": "bundle", "id": "bundle--…", "objects": […]}` — or
/// one bare object, validating each object. The bundle itself must be well-formed (JSON,
/// type `bundle`, a `bundle--<uuid>` id, `objects` a list) and within `limits`.
pub fn parse_bundle(bytes: &[u8], limits: Limits) -> Result<BundleReport, BundleError> {
    let mut map = json_object(bytes, limits, "the top level is not an object")?;
    let mut report = BundleReport::default();
    let objects = if map.get("type").and_then(Value::as_str) == Some("bundle") {
        let id = map.get("id").and_then(Value::as_str).unwrap_or_default();
        crate::validate::check_identifier(id, Some("bundle"))
            .map_err(|e| BundleError::NotABundle(format!("id: {e}")))?;
        report.bundle_id = Some(id.to_owned());
        match map.remove("objects") {
            None => Vec::new(),
            Some(Value::Array(objects)) => objects,
            Some(_) => return Err(BundleError::NotABundle("objects is not a list".into())),
        }
    } else {
        vec![Value::Object(map)]
    };
    check_objects(objects, limits, report)
}

/// Reads a TAXII 2.1 envelope — `{"objects": […], "more": …, "next": …}`, what a TAXII
/// client POSTs to a collection — validating each object as [`parse_bundle`] does.
pub fn parse_envelope(bytes: &[u8], limits: Limits) -> Result<BundleReport, BundleError> {
    let mut map = json_object(bytes, limits, "the envelope is not a JSON object")?;
    let objects = match map.remove("objects") {
        None => Vec::new(),
        Some(Value::Array(objects)) => objects,
        Some(_) => {
            return Err(BundleError::NotABundle(
                "the envelope's objects is not a list".into(),
            ));
        }
    };
    check_objects(objects, limits, BundleReport::default())
}

/// The JSON object at the top of `bytes`, within the size limit (`not_object`: what to
/// say when the top level is something else).
fn json_object(
    bytes: &[u8],
    limits: Limits,
    not_object: &str,
) -> Result<serde_json::Map<String, Value>, BundleError> {
    if bytes.len() > limits.max_bytes {
        return Err(BundleError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    match serde_json::from_slice(bytes).map_err(|e| BundleError::Json(e.to_string()))? {
        Value::Object(map) => Ok(map),
        _ => Err(BundleError::NotABundle(not_object.into())),
    }
}

/// Validates a list of objects within `limits` into `report`.
fn check_objects(
    objects: Vec<Value>,
    limits: Limits,
    mut report: BundleReport,
) -> Result<BundleReport, BundleError> {
    if objects.len() > limits.max_objects {
        return Err(BundleError::TooManyObjects {
            count: objects.len(),
            max: limits.max_objects,
        });
    }
    for json in objects {
        let id = json.get("id").and_then(Value::as_str).map(str::to_owned);
        match StixObject::from_json(json) {
            Ok(obj) => report.accepted.push(obj),
            Err(e) => {
                let name = id.as_deref().unwrap_or("(object without an id)");
                report.rejected.push((id.clone(), format!("{name}: {e}")));
            }
        }
    }
    Ok(report)
}
