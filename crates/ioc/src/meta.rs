//! What Haechi knows about an indicator besides its value: where it came from, how sure
//! the source is, and what it says about it.
//!
//! Most feeds say the same thing about thousands of indicators (one source, one
//! confidence, a handful of descriptions), so the set keeps each distinct
//! [`IndicatorMeta`] once and every indicator stores a 4-byte index into that table.
//! A feed with a different description per line (a STIX bundle, a MISP event with
//! comments) costs one entry per line; that is the price of keeping what it says.

use std::sync::Arc;

/// Everything about an indicator except its value. Shared by every indicator that has the
/// same facts; a [`crate::Hit`] carries an `Arc` to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct IndicatorMeta {
    /// The feed's name.
    pub source: Arc<str>,
    /// How sure the source is, 0–100 (STIX `confidence`, a CSV column, MISP
    /// `osint:certainty`, or the feed's configured default).
    pub confidence: Option<u8>,
    /// What the source says: a CSV column, a maltrail comment, a STIX name and
    /// description, a MISP event title and attribute comment.
    pub description: Option<Box<str>>,
    /// The id of the object in its source: a STIX indicator id, a MISP attribute uuid.
    pub object_id: Option<Box<str>>,
    /// The id of what contains it: a STIX bundle id, a MISP event uuid.
    pub collection_id: Option<Box<str>>,
    /// When the source first saw it, as the source wrote it (CSV first-seen column, STIX
    /// `valid_from`, MISP `first_seen`).
    pub first_seen: Option<Box<str>>,
    /// Sharing markings: STIX `object_marking_refs` ids, MISP `tlp:` tags.
    pub markings: Box<[Box<str>]>,
    /// MISP's `to_ids` flag ("use for detection"), when the source has one.
    pub to_ids: Option<bool>,
}

/// The STIX 2.1 ids of the TLP 1.0 marking definitions, with their names.
const STIX_TLP: [(&str, &str); 4] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "TLP:WHITE",
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "TLP:GREEN",
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "TLP:AMBER",
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "TLP:RED",
    ),
];

impl IndicatorMeta {
    /// Facts that only name the source.
    pub fn from_source(source: Arc<str>) -> Self {
        IndicatorMeta {
            source,
            ..IndicatorMeta::default()
        }
    }

    /// The TLP level among the markings (`TLP:AMBER`, …): a well-known STIX marking id or a
    /// MISP `tlp:` tag. With several, the most restrictive.
    pub fn tlp(&self) -> Option<String> {
        const ORDER: [&str; 6] = [
            "TLP:CLEAR",
            "TLP:WHITE",
            "TLP:GREEN",
            "TLP:AMBER",
            "TLP:AMBER+STRICT",
            "TLP:RED",
        ];
        self.markings
            .iter()
            .filter_map(|m| {
                STIX_TLP
                    .iter()
                    .find(|(id, _)| id == &m.as_ref())
                    .map(|(_, name)| (*name).to_owned())
                    .or_else(|| {
                        let lower = m.to_ascii_lowercase();
                        lower
                            .strip_prefix("tlp:")
                            .map(|level| format!("TLP:{}", level.to_ascii_uppercase()))
                    })
            })
            .max_by_key(|name| ORDER.iter().position(|o| o == name))
    }

    /// An estimate of the heap bytes this entry owns (not counting the shared source).
    pub(crate) fn heap_bytes(&self) -> usize {
        let text = |s: &Option<Box<str>>| s.as_ref().map_or(0, |s| s.len());
        text(&self.description)
            + text(&self.object_id)
            + text(&self.collection_id)
            + text(&self.first_seen)
            + self
                .markings
                .iter()
                .map(|m| m.len() + std::mem::size_of::<Box<str>>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_from_stix_ids_and_misp_tags() {
        let mut meta = IndicatorMeta::from_source("x".into());
        assert_eq!(meta.tlp(), None);
        meta.markings = vec![
            "tlp:green".into(),
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82".into(),
        ]
        .into_boxed_slice();
        assert_eq!(meta.tlp().as_deref(), Some("TLP:AMBER"));
    }
}
