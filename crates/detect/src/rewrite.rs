//! Where Haechi departs from rsigma: rule rewrites that make rsigma 0.23 evaluate what
//! the Sigma specification says, applied once when a rule loads. Each one is a gap found
//! by the modifier tests (`tests/modifiers.rs`) or the comparison with Hayabusa
//! (`docs/detection/hayabusa-comparison.md`).
//!
//! * Values with `*` or `?`: rsigma takes them literally under `startswith`/`endswith`,
//!   and its wildcard patterns stop at a line break (a multi-line PowerShell script
//!   block is one value). Rewritten to `contains`/`startswith`/`endswith` where the
//!   wildcards are only at the ends, else to a regular expression that spans lines.
//! * `windash`: rsigma only varies `-`; the specification varies `-`, `/`, `–`, `—`, `―`.
//!   Rewritten to the explicit list of variants.
//! * `base64offset`: rsigma keeps the last encoded character, which depends on the byte
//!   after the value, so a value followed by more data is missed; rewritten to pySigma's
//!   three trimmed offsets, matched case-sensitively (base64 is case-significant).
//! * `|expand` placeholders without configured values: the rule is rejected
//!   ([`unresolved_placeholder`]), as the specification requires.

use rsigma_parser::{
    Detection, DetectionItem, Modifier, SigmaRule, SigmaString, SigmaValue, SpecialChar, StringPart,
};

/// The dash characters `windash` treats as one (Sigma modifiers appendix).
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Values with more dashes than this keep rsigma's own (narrower) expansion, so that a
/// rule cannot explode into millions of variants.
const MAX_WINDASH_POSITIONS: usize = 4;

/// Applies every rewrite to a loaded rule.
pub fn conform(rule: &mut SigmaRule) {
    for_each_item(rule, &mut |item| {
        windash_all_dashes(item);
        wildcards_as_sigma_means_them(item);
        base64offset_trimmed(item);
    });
}

fn for_each_item(rule: &mut SigmaRule, f: &mut dyn FnMut(&mut DetectionItem)) {
    fn walk(d: &mut Detection, f: &mut dyn FnMut(&mut DetectionItem)) {
        match d {
            Detection::AllOf(items) => items.iter_mut().for_each(f),
            Detection::AnyOf(ds) | Detection::And(ds) => ds.iter_mut().for_each(|d| walk(d, f)),
            Detection::ArrayMatch { body, .. } => walk(body, f),
            Detection::Conditional { named, .. } => named.values_mut().for_each(|d| walk(d, f)),
            Detection::Keywords(_) => {}
        }
    }
    rule.detection.named.values_mut().for_each(|d| walk(d, f));
}

/// The first `|expand` value naming a `%placeholder%`, if the rule has one. Haechi has no
/// placeholder values yet, and the specification says a tool that cannot resolve them
/// must reject the rule (evaluated literally, `%Admins_Workstations%` fires wrongly).
pub fn unresolved_placeholder(rule: &SigmaRule) -> Option<String> {
    fn in_detection(d: &Detection) -> Option<String> {
        match d {
            Detection::AllOf(items) => items.iter().find_map(|i| {
                if !i.field.modifiers.contains(&Modifier::Expand) {
                    return None;
                }
                i.values.iter().find_map(|v| match v {
                    SigmaValue::String(s) if has_placeholder(&s.original) => {
                        Some(s.original.clone())
                    }
                    _ => None,
                })
            }),
            Detection::AnyOf(ds) | Detection::And(ds) => ds.iter().find_map(in_detection),
            Detection::ArrayMatch { body, .. } => in_detection(body),
            Detection::Conditional { named, .. } => named.values().find_map(in_detection),
            Detection::Keywords(_) => None,
        }
    }
    rule.detection.named.values().find_map(in_detection)
}

/// `%name%` somewhere in the text.
fn has_placeholder(text: &str) -> bool {
    let mut parts = text.split('%');
    parts.next();
    let mut rest: Vec<&str> = parts.collect();
    // An odd count of `%` leaves a trailing piece that closes nothing.
    if rest.len() % 2 == 1 {
        rest.pop();
    }
    rest.chunks(2).any(|c| !c[0].is_empty())
}

fn only_modifiers(item: &DetectionItem, allowed: &[Modifier]) -> bool {
    item.field.modifiers.iter().all(|m| allowed.contains(m))
}

/// A value's wildcard shape: `*` at the start, `*` at the end, and what lies between.
struct Shape {
    lead: bool,
    trail: bool,
    inner: Vec<StringPart>,
}

impl Shape {
    fn of(s: &SigmaString, contains: bool, starts: bool, ends: bool) -> Shape {
        let mut inner = s.parts.clone();
        let is_multi = |p: Option<&StringPart>| {
            matches!(p, Some(StringPart::Special(SpecialChar::WildcardMulti)))
        };
        let mut lead = contains || ends;
        while is_multi(inner.first()) {
            inner.remove(0);
            lead = true;
        }
        let mut trail = contains || starts;
        while is_multi(inner.last()) {
            inner.pop();
            trail = true;
        }
        Shape { lead, trail, inner }
    }

    /// The text between the end wildcards when there is no wildcard inside.
    fn plain(&self) -> Option<String> {
        self.inner
            .iter()
            .map(|p| match p {
                StringPart::Plain(t) => Some(t.as_str()),
                StringPart::Special(_) => None,
            })
            .collect()
    }

    /// A regular expression with Sigma's wildcard meaning: `*` any run of characters,
    /// line breaks included, `?` any one character.
    fn regex(&self) -> String {
        let mut out = String::new();
        if !self.lead {
            out.push('^');
        }
        for p in &self.inner {
            match p {
                StringPart::Plain(t) => out.push_str(&regex_escape(t)),
                StringPart::Special(SpecialChar::WildcardMulti) => out.push_str(".*"),
                StringPart::Special(SpecialChar::WildcardSingle) => out.push('.'),
            }
        }
        if !self.trail {
            out.push('$');
        }
        out
    }
}

/// `x|endswith: '1?'` → `x|re: '(?is)1.$'`; `x: '*\\cmd.exe'` → `x|endswith: '\\cmd.exe'`.
fn wildcards_as_sigma_means_them(item: &mut DetectionItem) {
    let allowed = [
        Modifier::Contains,
        Modifier::StartsWith,
        Modifier::EndsWith,
        Modifier::All,
        Modifier::Cased,
    ];
    let has_wildcard = item
        .values
        .iter()
        .any(|v| matches!(v, SigmaValue::String(s) if s.contains_wildcards()));
    if item.field.name.is_none()
        || !has_wildcard
        || !only_modifiers(item, &allowed)
        || item
            .values
            .iter()
            .any(|v| !matches!(v, SigmaValue::String(_)))
    {
        return;
    }
    let mods = &item.field.modifiers;
    let (contains, starts, ends) = (
        mods.contains(&Modifier::Contains),
        mods.contains(&Modifier::StartsWith),
        mods.contains(&Modifier::EndsWith),
    );
    let (cased, all) = (
        mods.contains(&Modifier::Cased),
        mods.contains(&Modifier::All),
    );
    let shapes: Vec<Shape> = item
        .values
        .iter()
        .filter_map(|v| match v {
            SigmaValue::String(s) => Some(Shape::of(s, contains, starts, ends)),
            _ => None,
        })
        .collect();
    let first = (shapes[0].lead, shapes[0].trail);
    let plains: Option<Vec<String>> = shapes
        .iter()
        .map(|s| s.plain().filter(|_| (s.lead, s.trail) == first))
        .collect();
    let mut modifiers = Vec::new();
    match plains {
        Some(texts) => {
            // Only end wildcards, the same for every value: plain string operations.
            modifiers.extend(match first {
                (true, true) => Some(Modifier::Contains),
                (true, false) => Some(Modifier::EndsWith),
                (false, true) => Some(Modifier::StartsWith),
                (false, false) => None,
            });
            if cased {
                modifiers.push(Modifier::Cased);
            }
            item.values = texts
                .into_iter()
                .map(|t| SigmaValue::String(plain_string(t)))
                .collect();
        }
        None => {
            modifiers.extend([Modifier::Re, Modifier::DotAll]);
            if !cased {
                modifiers.push(Modifier::IgnoreCase);
            }
            item.values = shapes
                .iter()
                .map(|s| SigmaValue::String(plain_string(s.regex())))
                .collect();
        }
    }
    if all {
        modifiers.push(Modifier::All);
    }
    item.field.modifiers = modifiers;
}

/// A value taken literally (no wildcard parsing).
fn plain_string(text: String) -> SigmaString {
    SigmaString {
        parts: vec![StringPart::Plain(text.clone())],
        original: text,
    }
}

/// `text` with the characters that mean something in a regular expression escaped.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `x|windash|contains: ' -f '` → `x|contains: [' -f ', ' /f ', ' –f ', ' —f ', ' ―f ']`.
fn windash_all_dashes(item: &mut DetectionItem) {
    if !item.field.modifiers.contains(&Modifier::WindAsh)
        || item.field.modifiers.contains(&Modifier::All)
    {
        return;
    }
    let mut expanded = Vec::new();
    for v in &item.values {
        let SigmaValue::String(s) = v else {
            return;
        };
        let positions: usize = plain_parts(s)
            .map(|t| t.chars().filter(|c| DASHES.contains(c)).count())
            .sum();
        if positions > MAX_WINDASH_POSITIONS {
            return;
        }
        expanded.extend(dash_variants(s).into_iter().map(SigmaValue::String));
    }
    item.values = expanded;
    item.field.modifiers.retain(|m| *m != Modifier::WindAsh);
}

fn plain_parts(s: &SigmaString) -> impl Iterator<Item = &str> {
    s.parts.iter().filter_map(|p| match p {
        StringPart::Plain(t) => Some(t.as_str()),
        StringPart::Special(_) => None,
    })
}

/// Every way of writing each dash of `s` as any of the five dashes.
fn dash_variants(s: &SigmaString) -> Vec<SigmaString> {
    let mut out = vec![SigmaString {
        parts: Vec::new(),
        original: s.original.clone(),
    }];
    for part in &s.parts {
        match part {
            StringPart::Special(c) => {
                for o in &mut out {
                    o.parts.push(StringPart::Special(c.clone()));
                }
            }
            StringPart::Plain(text) => {
                let mut texts = vec![String::new()];
                for ch in text.chars() {
                    if DASHES.contains(&ch) {
                        texts = texts
                            .iter()
                            .flat_map(|t| DASHES.iter().map(move |d| format!("{t}{d}")))
                            .collect();
                    } else {
                        texts.iter_mut().for_each(|t| t.push(ch));
                    }
                }
                out = out
                    .iter()
                    .flat_map(|o| {
                        texts.iter().map(move |t| {
                            let mut o = o.clone();
                            o.parts.push(StringPart::Plain(t.clone()));
                            o
                        })
                    })
                    .collect();
            }
        }
    }
    out
}

/// `x|base64offset|contains: 'v'` (optionally after `wide`/`utf16be`/`utf16`) →
/// `x|contains|cased: [three trimmed encodings]`, as pySigma computes them.
fn base64offset_trimmed(item: &mut DetectionItem) {
    let mods = &item.field.modifiers;
    if !mods.contains(&Modifier::Base64Offset)
        || !mods.contains(&Modifier::Contains)
        || !only_modifiers(
            item,
            &[
                Modifier::Base64Offset,
                Modifier::Contains,
                Modifier::Wide,
                Modifier::Utf16be,
                Modifier::Utf16,
            ],
        )
    {
        return;
    }
    let encode: fn(&str) -> Vec<u8> = if mods.contains(&Modifier::Wide) {
        |s| s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else if mods.contains(&Modifier::Utf16be) {
        |s| s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    } else if mods.contains(&Modifier::Utf16) {
        |s| {
            let mut b = vec![0xFF, 0xFE];
            b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            b
        }
    } else {
        |s| s.as_bytes().to_vec()
    };
    let mut patterns = Vec::new();
    for v in &item.values {
        let SigmaValue::String(s) = v else {
            return;
        };
        let Some(plain) = s.as_plain() else {
            return;
        };
        for p in base64_offsets(&encode(&plain)) {
            patterns.push(SigmaValue::String(SigmaString {
                parts: vec![StringPart::Plain(p.clone())],
                original: p,
            }));
        }
    }
    item.values = patterns;
    item.field.modifiers = vec![Modifier::Contains, Modifier::Cased];
}

/// The three base64 encodings of `value` at byte offsets 0, 1 and 2 of a longer blob,
/// without the characters that depend on the bytes around it (pySigma's
/// `SigmaBase64OffsetModifier`).
pub fn base64_offsets(value: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut bytes = vec![b' '; i];
            bytes.extend_from_slice(value);
            let encoded = base64_encode(&bytes);
            let end = encoded.len() - END[(value.len() + i) % 3];
            encoded.get(START[i]..end).unwrap_or("").to_owned()
        })
        .collect()
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(TABLE[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_offsets_match_pysigma() {
        // pySigma: base64offset of "http" gives aHR0c, h0dH, odHRw.
        assert_eq!(base64_offsets(b"http"), ["aHR0c", "h0dH", "odHRw"]);
        assert_eq!(
            base64_encode(b"http://evil.example/"),
            "aHR0cDovL2V2aWwuZXhhbXBsZS8="
        );
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(has_placeholder("%Admins_Workstations%"));
        assert!(has_placeholder("C:\\%x%\\y"));
        assert!(!has_placeholder("plain"));
        assert!(!has_placeholder("100%"));
        assert!(!has_placeholder("%%"));
    }

    #[test]
    fn wildcard_shapes_become_string_operations_or_line_spanning_regexes() {
        let shape = |v: &str| Shape::of(&SigmaString::new(v), false, false, false);
        let s = shape("*\\\\cmd.exe");
        assert_eq!(
            (s.lead, s.trail, s.plain().as_deref()),
            (true, false, Some("\\cmd.exe"))
        );
        assert_eq!(shape("Invoke*Mimikatz").regex(), "^Invoke.*Mimikatz$");
        assert_eq!(shape("*a.b?c*").regex(), "a\\.b.c");
        assert_eq!(regex_escape("1+1=(2)"), "1\\+1=\\(2\\)");
    }

    #[test]
    fn windash_varies_every_dash_independently() {
        let v = dash_variants(&SigmaString::new(" -a -b"));
        assert_eq!(v.len(), 25);
        assert!(
            v.iter()
                .any(|s| s.as_plain().as_deref() == Some(" /a \u{2014}b"))
        );
    }
}
