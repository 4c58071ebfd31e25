//! # haechi-intel — STIX 2.1 objects, TLP, and STIX patterns over events
//!
//! **What it is.** The first layer of Haechi's sharing hub (issue 6): the part that reads,
//! checks and writes STIX 2.1, independent of storage and transport. Institutions and
//! partner companies exchange harmful IPs, domains, attack methods and responses as STIX
//! objects; before anything is stored, shared or matched, each object must be known to be
//! well-formed, its sharing level (TLP) must be known, and its pattern must be something
//! Haechi can evaluate — or be reported as not.
//!
//! **Store** ([`store`]). [`store::IntelStore`] keeps collections of objects with every
//! version (`modified`), duplicates counted not stored, revocations as versions, and a
//! strictly increasing `date_added` for TAXII's `added_after` paging.
//!
//! **Objects** ([`objects`], [`validate`]). [`parse_bundle`] reads a bundle (or a bare
//! object) within [`Limits`] and gives a [`BundleReport`]: the [`StixObject`]s accepted —
//! each keeping its full JSON beside the common properties already parsed (type, id,
//! created/modified, revoked, creator, markings, confidence, labels, an indicator's validity
//! window) — and, for every rejected object, its id and every MUST rule of the
//! specification it breaks (`indicator--…: valid_from is required; pattern is not a valid
//! STIX pattern: …`). A bad object never costs its siblings; only a bundle that is not JSON,
//! not a bundle, or over the limits is refused whole ([`BundleError`]). [`validate`] lists
//! the rules: identifiers `<type>--<RFC 4122 UUID>`, UTC `Z` timestamps with
//! `modified ≥ created`, `spec_version` 2.1, the required properties of indicators, the
//! observables (ipv4/ipv6 addresses, domain names, URLs, files with well-formed hashes,
//! e-mail addresses), sightings, malware, threat actors, intrusion sets, attack patterns,
//! courses of action, reports, relationships, identities and marking definitions.
//!
//! **TLP** ([`tlp`]). [`Tlp`] is ordered from CLEAR to RED and read from
//! `object_marking_refs` — the TLP 2.0 marking definitions (ids as published by OASIS, as
//! constants) and the TLP 1.0 ones of the STIX 2.1 specification, WHITE read as CLEAR. An
//! object's level is its most restrictive TLP marking, AMBER when it has none.
//! [`may_share`]`(object, partner_max)` is the rule the TAXII server will apply: the
//! object's level must not exceed the partner's entitlement, and RED never leaves its
//! owner.
//!
//! **Patterns** ([`pattern`]). Haechi does not have a second STIX pattern parser: the full
//! grammar parser lives in haechi-ioc (it reads feed indicators into the line-rate matcher)
//! and exposes its syntax tree. [`CompiledPattern`] compiles that tree for evaluation
//! against an [`Observation`] (object type → property path → values): `=`, `!=`, `IN`,
//! `LIKE`, `MATCHES` (the `regex` crate; a regex it cannot compile is an error with the
//! reason), `ISSUBSET`/`ISSUPERSET` on CIDR ranges, `<`/`<=`/`>`/`>=`, `EXISTS`, `NOT`,
//! `AND`/`OR` inside and between observation expressions. `WITHIN`, `REPEATS`,
//! `START…STOP` and `FOLLOWEDBY` need several observations over time and are refused as
//! [`PatternError::Unsupported`] naming the feature — never silently dropped.
//! [`observation_from_event`] turns a Haechi event into an observation through one table,
//! [`EVENT_FIELDS`] (`source.ip` → `ipv4-addr:value`, `dns.question.name` →
//! `domain-name:value`, `file.hash.sha256` → `file:hashes.'SHA-256'`, …).
//!
//! **Building** ([`build`]). [`indicator_from_value`] makes an indicator with a STIX
//! pattern from one value (an IP, range, domain, URL, hash or e-mail address, read as
//! haechi-ioc reads feeds), marked with a TLP and optionally a creator; [`bundle`] wraps
//! objects. What Haechi builds passes its own validation and the OASIS `stix2-validator`
//! (a test runs it; `scripts/setup-test-tools` installs it).
//!
//! ```
//! use haechi_intel::{Limits, Observation, Tlp, evaluate, parse_bundle};
//!
//! let report = parse_bundle(br#"{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
//!   "objects": [{"type": "indicator", "spec_version": "2.1",
//!     "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
//!     "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
//!     "pattern": "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "pattern_type": "stix",
//!     "valid_from": "2016-01-01T00:00:00Z",
//!     "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
//!    {"type": "indicator", "id": "indicator--1"}]}"#, Limits::default()).unwrap();
//! assert_eq!((report.accepted.len(), report.rejected.len()), (1, 1));
//! let indicator = &report.accepted[0];
//! assert_eq!(indicator.tlp(), Some(Tlp::Green));
//!
//! let mut seen = Observation::new();
//! seen.add("ipv4-addr", "value", "198.51.100.7");
//! assert!(evaluate(indicator.pattern().unwrap().0, &seen).unwrap());
//! ```

pub mod build;
pub mod objects;
pub mod pattern;
pub mod remote;
pub mod store;
pub mod tlp;
pub mod validate;

pub use build::{
    BuildError, IncidentFacts, bundle, center_identity, identity, incident_objects,
    indicator_from_value, sighting, tlp_marking, uuid_from_digest,
};
pub use objects::{
    BundleError, BundleReport, Category, Limits, StixObject, parse_bundle, parse_envelope,
};
pub use pattern::{
    CompiledPattern, EVENT_FIELDS, Observation, PatternError, evaluate, observation_from_event,
};
pub use tlp::{Tlp, may_share};
pub use validate::validate;
