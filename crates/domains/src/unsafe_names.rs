//! Names UTS #39 marks unsafe whatever is protected: a label that mixes scripts beyond
//! the "Moderately Restrictive" level (§5.2: one script, or Latin with Han, Hiragana,
//! Katakana or Hangul, or Latin with one other recommended script except Cyrillic and
//! Greek), and a label written wholly in another script whose skeleton is all Latin (a
//! whole-script confusable of a Latin name, §4: `аррӏе` in Cyrillic for `apple`).

use crate::lookalike::{Finding, skeleton};
use crate::name::Name;
use unicode_script::Script;
use unicode_security::{MixedScript, RestrictionLevel, RestrictionLevelDetection};

/// The unsafe findings of one name (no target: nothing protected is needed).
pub fn check(name: &Name) -> Vec<Finding> {
    let label = name.label_unicode.as_str();
    if label.is_ascii() {
        return Vec::new();
    }
    let finding = |kind: &'static str, score: f32, evidence: String| Finding {
        domain: name.ascii.clone(),
        unicode: Some(name.unicode.clone()),
        kind,
        target: String::new(),
        tenant: String::new(),
        score,
        evidence,
    };
    let level = label.detect_restriction_level();
    if level > RestrictionLevel::ModeratelyRestrictive {
        return vec![finding(
            "mixed-script",
            0.8,
            format!(
                "'{label}' mixes scripts beyond UTS #39's Moderately Restrictive level ({level:?})"
            ),
        )];
    }
    // Wholly in one script that is not Latin (Turkish `ı` is Latin: not this case).
    let set = label.resolve_script_set();
    let other_script = !set.is_empty() && !set.is_all() && !set.base.contains_script(Script::Latin);
    let sk = skeleton(label);
    let latin_lookalike = other_script
        && sk
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if latin_lookalike {
        return vec![finding(
            "homoglyph",
            0.85,
            format!(
                "'{label}' is written wholly in another script but reads as the Latin '{sk}' (UTS #39 §4, whole-script confusable)"
            ),
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::parse;

    #[test]
    fn uts39_unsafe_labels_are_findings() {
        let apple = check(&parse("xn--80ak6aa92e.com").unwrap());
        assert_eq!(apple[0].kind, "homoglyph", "{apple:?}");
        assert!(apple[0].evidence.contains("apple"));
        // Latin mixed with Cyrillic: beyond Moderately Restrictive.
        let mixed = check(&parse("pаypal.com").unwrap());
        assert_eq!(mixed[0].kind, "mixed-script", "{mixed:?}");
        // Hangul alone, and Latin with Hangul, are allowed.
        assert!(check(&parse("서울.kr").unwrap()).is_empty());
        assert!(check(&parse("kb국민은행.com").unwrap()).is_empty());
        assert!(check(&parse("kbstar.com").unwrap()).is_empty());
        // Turkish dotless i is Latin: a Latin name, not a whole-script confusable.
        assert!(check(&parse("yıldırım.com").unwrap()).is_empty());
    }
}
