//! The MUST rules of STIX 2.1 that Haechi checks on every object it takes in.
//!
//! [`validate`] returns every violated rule of one object (empty when it is valid). Each
//! message names the property and the rule, e.g. `indicator: valid_from is required`;
//! [`crate::parse_bundle`] prefixes the object id. What is checked:
//!
//! * **Every object**: `type` is 3–250 characters of `a-z`, `0-9`, `-`; `id` is
//!   `<type>--<UUID>` with the object's own type and an RFC 4122 UUID (8-4-4-4-12 hex
//!   digits, variant bits `10`, version 1–8); `spec_version`, when present, is `"2.1"`.
//! * **SDOs, SROs and marking definitions** (everything that is not a cyber observable):
//!   `spec_version` and `created` are required; `created`, `modified` and every other
//!   timestamp checked here are RFC 3339 in UTC with a `Z` (`2016-05-12T08:17:27.000Z`);
//!   SDOs and SROs require `modified`, and `modified ≥ created`. Common properties, when
//!   present: `revoked` is a boolean, `created_by_ref` an `identity--…` id,
//!   `object_marking_refs` a list of `marking-definition--…` ids, `confidence` an integer
//!   0–100, `labels` a list of strings, `external_references` a list of objects each with a
//!   `source_name`.
//! * **indicator**: `pattern`, `pattern_type`, `valid_from` required; `valid_until` after
//!   `valid_from`; with `pattern_type` `stix` the pattern must parse (the grammar parser of
//!   haechi-ioc).
//! * **ipv4-addr / ipv6-addr**: `value` required, an address or CIDR range of that family.
//!   **domain-name, url, email-addr**: `value` required, a non-empty string (e-mail: with
//!   an `@`). **file**: at least one of `hashes` and `name`; `hashes` a non-empty object of
//!   non-empty strings, MD5/SHA-1/SHA-256/SHA-512 (any spelling) hex of the right length.
//! * **sighting**: `sighting_of_ref` an id; `count` 0–999 999 999; `first_seen`/`last_seen`
//!   timestamps with `last_seen ≥ first_seen`; `where_sighted_refs` identity/location ids;
//!   `observed_data_refs` observed-data ids.
//! * **malware**: `is_family` (boolean) required; `name` required when `is_family` is true.
//!   **threat-actor, intrusion-set, attack-pattern, course-of-action, identity, campaign,
//!   infrastructure, tool, vulnerability, location**…: `name` where the spec requires it.
//!   **report**: `name`, `published`, non-empty `object_refs` of ids.
//! * **relationship**: `relationship_type` (lower-case letters, digits, `-`), `source_ref`
//!   and `target_ref` ids (not of bundles, marking definitions, language content or
//!   relationships/sightings).
//! * **marking-definition**: no `modified`; `definition_type` and `definition` together;
//!   `tlp` definitions name one of white/green/amber/red; a marking with one of the
//!   well-known TLP ids ([`crate::tlp`]) must say that level.
//!
//! Other types get the common checks only; custom (`x-…`) types are accepted.

use crate::tlp::Tlp;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Cyber-observable (SCO) types of STIX 2.1: no `created`/`modified`, optional
/// `spec_version`.
pub const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Whether `t` is a cyber-observable type.
pub fn is_sco_type(t: &str) -> bool {
    SCO_TYPES.contains(&t)
}

/// Whether `text` is an RFC 4122 UUID in its canonical lower- or upper-case hex form
/// (variant `10`, version 1–8).
pub fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    let version = b[14];
    let variant = b[19].to_ascii_lowercase();
    (b'1'..=b'8').contains(&version) && matches!(variant, b'8' | b'9' | b'a' | b'b')
}

/// Whether `t` is a valid STIX type name.
pub fn is_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !t.starts_with('-')
        && !t.ends_with('-')
}

/// Checks `<type>--<uuid>`; with `expected_type`, the type too. Returns the id's type.
pub fn check_identifier<'a>(id: &'a str, expected_type: Option<&str>) -> Result<&'a str, String> {
    let Some((t, uuid)) = id.split_once("--") else {
        return Err(format!("{id:?} is not an identifier <type>--<uuid>"));
    };
    if !is_type_name(t) {
        return Err(format!("{id:?} does not start with a valid type name"));
    }
    if !is_uuid(uuid) {
        return Err(format!("{id:?} does not end with an RFC 4122 UUID"));
    }
    if let Some(expected) = expected_type
        && t != expected
    {
        return Err(format!("{id:?} is not of type {expected}"));
    }
    Ok(t)
}

/// Parses a STIX timestamp: RFC 3339, `T` separator, UTC with a literal `Z`.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    if !text.ends_with('Z') {
        return Err(format!("{text:?} is not in UTC with a 'Z' suffix"));
    }
    if text.as_bytes().get(10) != Some(&b'T') {
        return Err(format!("{text:?} has no 'T' between date and time"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 timestamp ({e})"))
}

/// One object's violations, collected.
struct Check<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl<'a> Check<'a> {
    fn fail(&mut self, msg: impl Into<String>) {
        self.errors.push(msg.into());
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key)
    }

    /// A required non-empty string.
    fn string(&mut self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            None => {
                self.fail(format!("{key} is required"));
                None
            }
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
            Some(Value::String(_)) => {
                self.fail(format!("{key} must not be empty"));
                None
            }
            Some(_) => {
                self.fail(format!("{key} must be a string"));
                None
            }
        }
    }

    /// An optional string.
    fn opt_string(&mut self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fail(format!("{key} must be a string"));
                None
            }
        }
    }

    fn timestamp(&mut self, key: &str, required: bool) -> Option<DateTime<Utc>> {
        let text = if required {
            self.string(key)?
        } else {
            self.opt_string(key)?
        };
        match parse_timestamp(text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.fail(format!("{key}: {e}"));
                None
            }
        }
    }

    fn reference(&mut self, key: &str, required: bool, types: &[&str]) {
        let id = if required {
            self.string(key)
        } else {
            self.opt_string(key)
        };
        if let Some(id) = id {
            self.check_ref(key, id, types);
        }
    }

    fn check_ref(&mut self, key: &str, id: &str, types: &[&str]) {
        match check_identifier(id, None) {
            Err(e) => self.fail(format!("{key}: {e}")),
            Ok(t) if !types.is_empty() && !types.contains(&t) => self.fail(format!(
                "{key}: {id:?} must reference {}",
                types.join(" or ")
            )),
            Ok(_) => {}
        }
    }

    fn ref_list(&mut self, key: &str, required: bool, types: &[&str]) {
        match self.get(key) {
            None if required => self.fail(format!("{key} is required")),
            None => {}
            Some(Value::Array(items)) if required && items.is_empty() => {
                self.fail(format!("{key} must not be empty"))
            }
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(id) => self.check_ref(key, id, types),
                        _ => self.fail(format!("{key} must be a list of identifiers")),
                    }
                }
            }
            Some(_) => self.fail(format!("{key} must be a list of identifiers")),
        }
    }

    fn string_list(&mut self, key: &str) {
        match self.get(key) {
            None => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
            Some(_) => self.fail(format!("{key} must be a list of strings")),
        }
    }

    fn boolean(&mut self, key: &str, required: bool) -> Option<bool> {
        match self.get(key) {
            None if required => {
                self.fail(format!("{key} is required"));
                None
            }
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(format!("{key} must be a boolean"));
                None
            }
        }
    }

    fn integer_in(&mut self, key: &str, min: i64, max: i64) {
        match self.get(key) {
            None => {}
            Some(v) => match v.as_i64() {
                Some(n) if (min..=max).contains(&n) => {}
                _ => self.fail(format!("{key} must be an integer {min}–{max}")),
            },
        }
    }
}

/// Every STIX 2.1 MUST rule `object` violates (see the module documentation); empty when
/// it is valid.
pub fn validate(object: &Value) -> Vec<String> {
    let Value::Object(obj) = object else {
        return vec!["an object must be a JSON object".into()];
    };
    let mut c = Check {
        obj,
        errors: Vec::new(),
    };
    let Some(t) = c.string("type") else {
        return c.errors;
    };
    if !is_type_name(t) {
        c.fail(format!(
            "type {t:?} must be 3–250 characters of a-z, 0-9 and '-'"
        ));
        return c.errors;
    }
    if let Some(id) = c.string("id")
        && let Err(e) = check_identifier(id, Some(t))
    {
        c.fail(format!("id: {e}"));
    }
    let sco = is_sco_type(t);
    match c.get("spec_version") {
        None if !sco => c.fail("spec_version is required (\"2.1\")"),
        None => {}
        Some(Value::String(v)) if v == "2.1" => {}
        Some(v) => c.fail(format!("spec_version must be \"2.1\", not {v}")),
    }
    if !sco {
        common(&mut c, t);
    }
    match t {
        "indicator" => indicator(&mut c),
        "ipv4-addr" => ip_value(&mut c, 4),
        "ipv6-addr" => ip_value(&mut c, 6),
        "domain-name" | "url" => {
            c.string("value");
        }
        "email-addr" => {
            if let Some(v) = c.string("value")
                && !v.contains('@')
            {
                c.fail(format!("value {v:?} is not an e-mail address"));
            }
        }
        "file" => file(&mut c),
        "sighting" => sighting(&mut c),
        "malware" => {
            if c.boolean("is_family", true) == Some(true) {
                c.string("name");
            } else {
                c.opt_string("name");
            }
            c.string_list("malware_types");
        }
        "threat-actor" | "intrusion-set" | "attack-pattern" | "course-of-action" | "identity"
        | "campaign" | "infrastructure" | "tool" | "vulnerability" | "grouping" => {
            c.string("name");
        }
        "report" => {
            c.string("name");
            c.timestamp("published", true);
            c.ref_list("object_refs", true, &[]);
        }
        "relationship" => relationship(&mut c),
        "marking-definition" => marking_definition(&mut c),
        _ => {}
    }
    c.errors
}

/// Common properties of SDOs, SROs and marking definitions.
fn common(c: &mut Check, t: &str) {
    let created = c.timestamp("created", true);
    if t == "marking-definition" {
        if c.get("modified").is_some() {
            c.fail("marking definitions have no modified property (they are not versioned)");
        }
    } else if let Some(modified) = c.timestamp("modified", true)
        && let Some(created) = created
        && modified < created
    {
        c.fail("modified must not be earlier than created");
    }
    c.boolean("revoked", false);
    c.reference("created_by_ref", false, &["identity"]);
    c.ref_list("object_marking_refs", false, &["marking-definition"]);
    c.integer_in("confidence", 0, 100);
    c.string_list("labels");
    c.opt_string("lang");
    match c.get("external_references") {
        None => {}
        Some(Value::Array(refs)) => {
            for r in refs {
                if !r.get("source_name").is_some_and(Value::is_string) {
                    c.fail("each external reference needs a source_name string");
                }
            }
        }
        Some(_) => c.fail("external_references must be a list"),
    }
}

fn indicator(c: &mut Check) {
    let pattern = c.string("pattern");
    let pattern_type = c.string("pattern_type");
    let from = c.timestamp("valid_from", true);
    let until = c.timestamp("valid_until", false);
    if let (Some(from), Some(until)) = (from, until)
        && until <= from
    {
        c.fail("valid_until must be later than valid_from");
    }
    c.string_list("indicator_types");
    if let (Some(pattern), Some("stix")) = (pattern, pattern_type)
        && let Err(e) = haechi_ioc::load::stix_pattern::parse(pattern)
    {
        c.fail(format!("pattern is not a valid STIX pattern: {e}"));
    }
}

fn ip_value(c: &mut Check, family: u8) {
    let Some(v) = c.string("value") else { return };
    let right_family =
        crate::pattern::parse_net(v).is_some_and(|(ip, _)| ip.is_ipv4() == (family == 4));
    if !right_family {
        c.fail(format!(
            "value {v:?} is not an IPv{family} address or CIDR range"
        ));
    }
}

/// The expected hex length of a hash algorithm, by its canonical name.
fn hash_len(algorithm: &str) -> Option<usize> {
    match crate::pattern::canonical_hash(algorithm).as_str() {
        "MD5" => Some(32),
        "SHA-1" => Some(40),
        "SHA-256" => Some(64),
        "SHA-512" => Some(128),
        _ => None,
    }
}

fn file(c: &mut Check) {
    let name = c.opt_string("name");
    match c.get("hashes") {
        None if name.is_none() => c.fail("file needs at least one of hashes and name"),
        None => {}
        Some(Value::Object(h)) if h.is_empty() => c.fail("hashes must not be empty"),
        Some(Value::Object(h)) => {
            for (algorithm, value) in h {
                match value.as_str() {
                    Some(v) if !v.is_empty() => {
                        if let Some(n) = hash_len(algorithm)
                            && (v.len() != n || !v.bytes().all(|b| b.is_ascii_hexdigit()))
                        {
                            c.fail(format!("hashes.{algorithm} {v:?} is not {n} hex digits"));
                        }
                    }
                    _ => c.fail(format!("hashes.{algorithm} must be a non-empty string")),
                }
            }
        }
        Some(_) => c.fail("hashes must be an object of algorithm → hash"),
    }
}

fn sighting(c: &mut Check) {
    c.reference("sighting_of_ref", true, &[]);
    c.integer_in("count", 0, 999_999_999);
    let first = c.timestamp("first_seen", false);
    let last = c.timestamp("last_seen", false);
    if let (Some(first), Some(last)) = (first, last)
        && last < first
    {
        c.fail("last_seen must not be earlier than first_seen");
    }
    c.ref_list("where_sighted_refs", false, &["identity", "location"]);
    c.ref_list("observed_data_refs", false, &["observed-data"]);
    c.boolean("summary", false);
}

fn relationship(c: &mut Check) {
    if let Some(rt) = c.string("relationship_type")
        && !rt
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        c.fail(format!(
            "relationship_type {rt:?} must be lower-case letters, digits and '-'"
        ));
    }
    for key in ["source_ref", "target_ref"] {
        c.reference(key, true, &[]);
        if let Some(Value::String(id)) = c.get(key)
            && let Some((t, _)) = id.split_once("--")
            && matches!(
                t,
                "bundle" | "marking-definition" | "language-content" | "relationship" | "sighting"
            )
        {
            c.fail(format!("{key} must not reference a {t}"));
        }
    }
}

fn marking_definition(c: &mut Check) {
    let dtype = c.opt_string("definition_type");
    let definition = c.get("definition");
    match (dtype, definition) {
        (Some(_), None) => c.fail("definition is required with definition_type"),
        (None, Some(_)) => c.fail("definition_type is required with definition"),
        (Some("tlp"), Some(d)) => {
            let level = d.get("tlp").and_then(Value::as_str);
            if !matches!(level, Some("white" | "green" | "amber" | "red")) {
                c.fail("a tlp definition needs tlp: white, green, amber or red");
            }
        }
        (Some("statement"), Some(d)) if !d.get("statement").is_some_and(Value::is_string) => {
            c.fail("a statement definition needs a statement string")
        }
        _ => {}
    }
    // The well-known TLP ids must say the level they stand for.
    if let Some(Value::String(id)) = c.get("id")
        && let Some(expected) = Tlp::from_marking_id(id)
    {
        let said = definition
            .and_then(|d| d.get("tlp"))
            .and_then(Value::as_str)
            .or_else(|| {
                c.get("extensions")
                    .and_then(|e| e.get(crate::tlp::TLP2_EXTENSION_ID))
                    .and_then(|e| e.get("tlp_2_0"))
                    .and_then(Value::as_str)
            })
            .or_else(|| c.get("name").and_then(Value::as_str));
        if let Some(said) = said
            && Tlp::parse(said) != Some(expected)
        {
            c.fail(format!(
                "{id} is the {} marking but says {said:?}",
                expected.name()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_timestamps() {
        assert!(is_uuid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
        assert!(!is_uuid("8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f"), "variant");
        assert!(
            !is_uuid("8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f"),
            "version 0"
        );
        assert!(!is_uuid("8e2e2d2b17d44cbf938f98ee46b3cd3f"));
        assert!(parse_timestamp("2016-05-12T08:17:27.000Z").is_ok());
        assert!(parse_timestamp("2016-05-12T08:17:27Z").is_ok());
        assert!(parse_timestamp("2016-05-12T08:17:27+00:00").is_err());
        assert!(parse_timestamp("2016-05-12 08:17:27Z").is_err());
        assert!(parse_timestamp("2016-13-12T08:17:27Z").is_err());
    }
}
