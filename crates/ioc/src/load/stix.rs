//! STIX 2.1 bundles: the `indicator` objects, read through their patterns (see
//! [`super::stix_pattern`] for which patterns give indicators and why).
//!
//! Skipped, each with its reason: revoked indicators, indicators whose `valid_until` has
//! passed (compared with the builder's clock), patterns that are not `stix`, and every
//! part of a pattern that cannot be read as single values. Kept with every indicator: the
//! feed name, `confidence` (else the feed's default), `name` and `description`, the object
//! and bundle ids, `valid_from` as first seen, and `object_marking_refs` (TLP).

use super::FeedLoad;
use super::stix_pattern;
use crate::kind::IndicatorValue;
use crate::report::{LoadError, Location, SkipReason};
use haechi_event::parse_rfc3339;
use serde::Deserialize;
use serde_json::Value as Json;

/// The fields of an indicator object Haechi reads.
#[derive(Debug, Deserialize)]
struct StixIndicator {
    id: Option<String>,
    pattern: Option<String>,
    pattern_type: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    #[serde(default)]
    revoked: bool,
    confidence: Option<Json>,
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    object_marking_refs: Vec<String>,
}

pub(crate) fn load(load: &mut FeedLoad<'_>, bytes: &[u8]) -> Result<(), LoadError> {
    let doc: Json = serde_json::from_slice(bytes)?;
    let not_stix = |detail: &str| LoadError::Format {
        format: "STIX 2.1 bundle or object",
        detail: detail.to_owned(),
    };
    let kind = doc
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| not_stix("no \"type\" at the top level"))?;
    let (bundle_id, objects): (Option<&str>, Vec<&Json>) = if kind == "bundle" {
        let objects = match doc.get("objects") {
            Some(Json::Array(objects)) => objects.iter().collect(),
            None => Vec::new(),
            Some(_) => return Err(not_stix("\"objects\" is not a list")),
        };
        (doc.get("id").and_then(Json::as_str), objects)
    } else if doc
        .get("id")
        .and_then(Json::as_str)
        .is_some_and(|id| id.contains("--"))
    {
        (None, vec![&doc])
    } else {
        return Err(not_stix("neither a bundle nor a STIX object with an id"));
    };
    for (i, object) in objects.into_iter().enumerate() {
        if object.get("type").and_then(Json::as_str) != Some("indicator") {
            continue;
        }
        load.report.entries += 1;
        let fallback_id = format!("objects[{i}]");
        match StixIndicator::deserialize(object) {
            Ok(indicator) => read_indicator(load, &indicator, bundle_id, &fallback_id)?,
            Err(e) => {
                let id = object
                    .get("id")
                    .and_then(Json::as_str)
                    .unwrap_or(&fallback_id);
                load.skip(
                    Location::Object(id.to_owned()),
                    "",
                    SkipReason::Malformed(format!("indicator object: {e}")),
                );
            }
        }
    }
    Ok(())
}

fn read_indicator(
    load: &mut FeedLoad<'_>,
    indicator: &StixIndicator,
    bundle_id: Option<&str>,
    fallback_id: &str,
) -> Result<(), LoadError> {
    let id = indicator.id.as_deref().unwrap_or(fallback_id);
    let location = || Location::Object(id.to_owned());
    let pattern = indicator.pattern.as_deref().unwrap_or("");
    if let Err(reason) = check_usable(load, indicator) {
        load.skip(location(), pattern, reason);
        return Ok(());
    }
    let reading = match stix_pattern::read(pattern) {
        Ok(reading) => reading,
        Err(reason) => {
            load.skip(location(), pattern, reason);
            return Ok(());
        }
    };
    for (text, reason) in reading.skipped {
        load.skip(location(), &text, reason);
    }
    if reading.taken.is_empty() {
        return Ok(());
    }
    let mut meta = load.meta(description(indicator).as_deref());
    if let Some(confidence) = confidence(indicator) {
        meta.confidence = Some(confidence);
    }
    meta.object_id = indicator.id.as_deref().map(Into::into);
    meta.collection_id = bundle_id.map(Into::into);
    meta.first_seen = indicator.valid_from.as_deref().map(Into::into);
    meta.markings = indicator
        .object_marking_refs
        .iter()
        .map(|m| m.as_str().into())
        .collect();
    let meta = load.meta_id(meta);
    for (kind, value, comparison) in reading.taken {
        match IndicatorValue::parse(kind, &value).and_then(|v| load.ip_port(v)) {
            Ok(value) => load.accept(&value, meta)?,
            Err(reason) => load.skip(location(), &comparison, reason),
        }
    }
    Ok(())
}

/// Revoked, expired, not a STIX pattern, or a confidence out of range.
fn check_usable(load: &FeedLoad<'_>, indicator: &StixIndicator) -> Result<(), SkipReason> {
    if indicator.revoked {
        return Err(SkipReason::Revoked);
    }
    if let Some(until) = &indicator.valid_until {
        let time = parse_rfc3339(until).ok_or_else(|| SkipReason::BadTime(until.clone()))?;
        if time <= load.builder.now() {
            return Err(SkipReason::Expired(until.clone()));
        }
    }
    // STIX 2.0 indicators have no pattern_type: their patterns are STIX patterns.
    if let Some(t) = indicator.pattern_type.as_deref().filter(|t| *t != "stix") {
        return Err(SkipReason::PatternType(t.to_owned()));
    }
    if indicator.pattern.is_none() {
        return Err(SkipReason::NoPattern);
    }
    if let Some(c) = &indicator.confidence
        && confidence(indicator).is_none()
    {
        return Err(SkipReason::BadConfidence(c.to_string()));
    }
    Ok(())
}

fn confidence(indicator: &StixIndicator) -> Option<u8> {
    let c = indicator.confidence.as_ref()?.as_u64()?;
    u8::try_from(c).ok().filter(|&c| c <= 100)
}

/// `name: description`, or whichever of the two there is.
fn description(indicator: &StixIndicator) -> Option<String> {
    let name = indicator
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let text = indicator
        .description
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (name, text) {
        (Some(n), Some(d)) => Some(format!("{n}: {d}")),
        (Some(s), None) | (None, Some(s)) => Some(s.to_owned()),
        (None, None) => None,
    }
}
