//! The Traffic Light Protocol (FIRST TLP 2.0) as STIX 2.1 marking definitions.
//!
//! STIX carries TLP as `object_marking_refs` pointing at fixed, well-known
//! `marking-definition` objects. The TLP 2.0 ones are published by OASIS in
//! cti-stix-common-objects (the TLP 2.0 extension, `extension-definition--60a3c5c5-…`,
//! all created `2022-10-01T00:00:00.000Z`); the TLP 1.0 ones are in the STIX 2.1
//! specification itself (section 7.2.1.4). Both sets are recognised when reading:
//!
//! | TLP 1.0 (STIX 2.1 spec) | read as |
//! |---|---|
//! | `TLP:WHITE` `613f2e26-…` | [`Tlp::Clear`] (TLP 2.0 renamed WHITE to CLEAR) |
//! | `TLP:GREEN` `34098fce-…` | [`Tlp::Green`] |
//! | `TLP:AMBER` `f88d31f6-…` | [`Tlp::Amber`] (1.0 AMBER already allowed sharing with clients, like 2.0 AMBER; AMBER+STRICT is new in 2.0) |
//! | `TLP:RED` `5e57c739-…` | [`Tlp::Red`] |
//!
//! Haechi always writes the TLP 2.0 ids.
//!
//! **Order and sharing.** `Clear < Green < Amber < AmberStrict < Red`, from least to most
//! restrictive. An object with several TLP markings takes the most restrictive one. A
//! partner is entitled to a maximum level (`--tlp-max`); [`may_share`] allows an object to
//! go to that partner when its level is at most the partner's maximum — **except RED, which
//! never leaves its owner**, whatever the partner's maximum (TLP:RED is for the named
//! recipients in the room; a sharing hub is never that). An object without a TLP marking
//! is treated as [`Tlp::UNMARKED_DEFAULT`] (AMBER): unlabelled intelligence is not published
//! to everyone by accident.

use serde_json::{Value, json};
use std::fmt;

/// The TLP 2.0 extension definition that the official TLP 2.0 marking definitions use.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// `TLP:CLEAR` (TLP 2.0).
pub const TLP2_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
/// `TLP:GREEN` (TLP 2.0).
pub const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
/// `TLP:AMBER` (TLP 2.0).
pub const TLP2_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
/// `TLP:AMBER+STRICT` (TLP 2.0).
pub const TLP2_AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
/// `TLP:RED` (TLP 2.0).
pub const TLP2_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

/// `TLP:WHITE` (TLP 1.0, STIX 2.1 specification).
pub const TLP1_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
/// `TLP:GREEN` (TLP 1.0).
pub const TLP1_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
/// `TLP:AMBER` (TLP 1.0).
pub const TLP1_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
/// `TLP:RED` (TLP 1.0).
pub const TLP1_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

/// A TLP level, least restrictive first (the derived order is the restriction order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The level assumed for an object without any TLP marking.
    pub const UNMARKED_DEFAULT: Tlp = Tlp::Amber;

    /// The TLP 2.0 marking-definition id.
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => TLP2_CLEAR,
            Tlp::Green => TLP2_GREEN,
            Tlp::Amber => TLP2_AMBER,
            Tlp::AmberStrict => TLP2_AMBER_STRICT,
            Tlp::Red => TLP2_RED,
        }
    }

    /// `TLP:AMBER+STRICT` and so on.
    pub fn name(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The lower-case level as in the TLP 2.0 extension (`amber+strict`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Reads a level as written on a command line or in configuration: `clear`, `white`,
    /// `green`, `amber`, `amber+strict` (or `amber-strict`), `red`, with or without `TLP:`,
    /// any case.
    pub fn parse(text: &str) -> Option<Tlp> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_prefix("tlp:").unwrap_or(&t);
        Some(match t {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber-strict" | "amber_strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }

    /// The level of a marking-definition id, TLP 2.0 or 1.0 (see the module documentation);
    /// `None` for any other marking.
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        Some(match id {
            TLP2_CLEAR | TLP1_WHITE => Tlp::Clear,
            TLP2_GREEN | TLP1_GREEN => Tlp::Green,
            TLP2_AMBER | TLP1_AMBER => Tlp::Amber,
            TLP2_AMBER_STRICT => Tlp::AmberStrict,
            TLP2_RED | TLP1_RED => Tlp::Red,
            _ => return None,
        })
    }

    /// The most restrictive TLP level among `object_marking_refs`, `None` when none is a
    /// TLP marking.
    pub fn from_marking_refs<'a>(refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        refs.into_iter().filter_map(Tlp::from_marking_id).max()
    }

    /// The level that applies to an object with these markings: the most restrictive TLP
    /// marking, or [`Tlp::UNMARKED_DEFAULT`].
    pub fn effective<'a>(refs: impl IntoIterator<Item = &'a str>) -> Tlp {
        Tlp::from_marking_refs(refs).unwrap_or(Tlp::UNMARKED_DEFAULT)
    }

    /// The official TLP 2.0 `marking-definition` object for this level.
    pub fn marking_definition(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_id(),
            "created": "2022-10-01T00:00:00.000Z",
            "name": self.name(),
            "extensions": {
                TLP2_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.as_str(),
                }
            }
        })
    }
}

impl serde::Serialize for Tlp {
    /// As the lower-case level (`amber+strict`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an object at `object_tlp` may go to a partner entitled to at most
/// `partner_max`. RED never does; otherwise the object's level must not exceed the
/// partner's maximum. (A partner maximum of RED therefore means "everything up to
/// AMBER+STRICT".)
pub fn may_share(object_tlp: Tlp, partner_max: Tlp) -> bool {
    object_tlp != Tlp::Red && object_tlp <= partner_max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_names_parse() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::from_marking_id(tlp.marking_id()), Some(tlp));
            assert_eq!(Tlp::parse(tlp.name()), Some(tlp));
            assert_eq!(Tlp::parse(tlp.as_str()), Some(tlp));
        }
        assert_eq!(Tlp::parse("WHITE"), Some(Tlp::Clear));
        assert_eq!(Tlp::parse("purple"), None);
    }
}
