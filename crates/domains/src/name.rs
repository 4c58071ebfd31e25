//! A domain name as Domain Watch reads it: trimmed, without the root dot or a
//! certificate's `*.` wildcard, mapped by UTS #46 (IDNA 2008 with the web's
//! compatibility processing) to its ASCII (punycode) and Unicode forms, split by the
//! Public Suffix List into the registrable domain, its label and the public suffix.

use serde::Serialize;

/// The longest name (RFC 1035 and UTS #46's limit).
pub const MAX_NAME_BYTES: usize = 253;
/// The longest label.
pub const MAX_LABEL_BYTES: usize = 63;

/// Why a name was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty name")]
    Empty,
    #[error("a control character or a space in the name")]
    Control,
    #[error("the name is over {MAX_NAME_BYTES} bytes")]
    TooLong,
    #[error("a label is over {MAX_LABEL_BYTES} bytes")]
    LabelTooLong,
    #[error("not a valid IDNA name: {0}")]
    Idna(String),
    #[error("no registrable domain (a public suffix itself, or an unknown top-level domain)")]
    NoRegistrable,
}

/// A name read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name {
    /// The whole name in ASCII (punycode), lower case.
    pub ascii: String,
    /// The whole name in Unicode.
    pub unicode: String,
    /// The registrable domain in ASCII (`seoul.go.kr`).
    pub registrable: String,
    /// The public suffix (`go.kr`).
    pub suffix: String,
    /// The registrable label in ASCII (`seoul`, `xn--…`).
    pub label: String,
    /// The registrable label in Unicode.
    pub label_unicode: String,
    /// The labels left of the registrable domain (`www.login`), ASCII.
    pub subdomain: String,
}

/// Reads one name.
pub fn parse(input: &str) -> Result<Name, NameError> {
    let trimmed = input.trim().trim_end_matches('.');
    let trimmed = trimmed.strip_prefix("*.").unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(NameError::Control);
    }
    if trimmed.len() > 4 * MAX_NAME_BYTES {
        return Err(NameError::TooLong);
    }
    // Most names are plain ASCII: lower-casing is all UTS #46 would do to them.
    let plain = trimmed
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !trimmed.to_ascii_lowercase().contains("xn--");
    let ascii = if plain {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed).map_err(|e| NameError::Idna(format!("{e:?}")))?
    };
    if ascii.is_empty() {
        return Err(NameError::Empty);
    }
    if ascii.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong);
    }
    if ascii.split('.').any(|l| l.len() > MAX_LABEL_BYTES) {
        return Err(NameError::LabelTooLong);
    }
    if ascii.split('.').any(str::is_empty) {
        return Err(NameError::Idna("an empty label".into()));
    }
    let unicode = if plain {
        ascii.clone()
    } else {
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        result.map_err(|e| NameError::Idna(format!("{e:?}")))?;
        unicode
    };
    let domain = psl::domain(ascii.as_bytes()).ok_or(NameError::NoRegistrable)?;
    let suffix = std::str::from_utf8(domain.suffix().as_bytes())
        .expect("ASCII")
        .to_owned();
    // Only names under a suffix the list knows: an unknown TLD matches psl's `*` rule.
    if !domain.suffix().is_known() {
        return Err(NameError::NoRegistrable);
    }
    let registrable = std::str::from_utf8(domain.as_bytes())
        .expect("ASCII")
        .to_owned();
    let label = registrable[..registrable.len() - suffix.len() - 1].to_owned();
    let subdomain = ascii[..ascii.len() - registrable.len()]
        .trim_end_matches('.')
        .to_owned();
    let label_unicode = if plain {
        label.clone()
    } else {
        idna::domain_to_unicode(&label).0
    };
    Ok(Name {
        ascii,
        unicode,
        registrable,
        suffix,
        label,
        label_unicode,
        subdomain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_by_the_public_suffix_list() {
        let n = parse("WWW.Seoul.go.kr.").unwrap();
        assert_eq!(
            (n.registrable.as_str(), n.suffix.as_str(), n.label.as_str()),
            ("seoul.go.kr", "go.kr", "seoul")
        );
        assert_eq!(n.subdomain, "www");
        let n = parse("*.login.kbstar.com").unwrap();
        assert_eq!(
            (n.registrable.as_str(), n.subdomain.as_str()),
            ("kbstar.com", "login")
        );
    }

    #[test]
    fn unicode_and_punycode_are_both_kept() {
        let n = parse("xn--80ak6aa92e.com").unwrap();
        assert_eq!(n.label_unicode, "аррӏе");
        let k = parse("서울.kr").unwrap();
        assert_eq!(k.label, "xn--2i4bq6h");
        assert_eq!(k.unicode, "서울.kr");
    }

    #[test]
    fn bad_names_say_why() {
        assert_eq!(parse("  "), Err(NameError::Empty));
        assert_eq!(parse("a b.com"), Err(NameError::Control));
        assert_eq!(
            parse(&format!("{}.com", "a".repeat(64))),
            Err(NameError::LabelTooLong)
        );
        assert_eq!(
            parse(&format!("{}.com", "a.".repeat(130))),
            Err(NameError::TooLong)
        );
        assert_eq!(parse("go.kr"), Err(NameError::NoRegistrable));
        assert_eq!(parse("example.notatld"), Err(NameError::NoRegistrable));
        assert!(matches!(parse("xn--zz.com"), Err(NameError::Idna(_))));
    }
}
