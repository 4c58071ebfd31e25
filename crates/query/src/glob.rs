//! Wildcard patterns: `*` matches any run of characters, `?` one character, `\` escapes.
//! Matching is case-insensitive, like the rest of the language.

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    /// The pattern as written (escapes kept), for display.
    pub source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Literal text, lower-cased.
    Lit(String),
    Any,
    One,
}

impl Glob {
    /// Compiles a pattern as written in a query (with `\` escapes).
    pub fn new(pattern: &str) -> Glob {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        lit.extend(n.to_lowercase());
                    }
                }
                '*' | '?' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    if c == '*' {
                        if parts.last() != Some(&Part::Any) {
                            parts.push(Part::Any);
                        }
                    } else {
                        parts.push(Part::One);
                    }
                }
                other => lit.extend(other.to_lowercase()),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Glob {
            source: pattern.to_owned(),
            parts,
        }
    }

    /// True when the whole of `text` matches (case-insensitively).
    pub fn matches(&self, text: &str) -> bool {
        let lower;
        let text = if text.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
            lower = text.to_lowercase();
            lower.as_str()
        } else {
            text
        };
        match_parts(&self.parts, text)
    }

    /// The literal text every match starts with (lower-cased), for index prefix scans.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Lit(s)) => s,
            _ => "",
        }
    }

    /// The pattern as a regular expression over lower-cased text (no anchors; regex
    /// engines that match whole terms, like tantivy's, anchor implicitly).
    pub fn to_regex(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => {
                    for c in s.chars() {
                        if c.is_alphanumeric() || c == ' ' || c == '_' {
                            out.push(c);
                        } else {
                            // Escape by code point: safe for every regex dialect we target.
                            out.push_str(&format!("\\x{{{:x}}}", c as u32));
                        }
                    }
                }
                Part::Any => out.push_str("(?s:.*)"),
                Part::One => out.push_str("(?s:.)"),
            }
        }
        out
    }
}

/// Classic iterative wildcard matching with backtracking to the last `*`.
fn match_parts(parts: &[Part], text: &str) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < parts.len() {
            match &parts[pi] {
                Part::Any => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Part::One => {
                    if let Some(c) = text[ti..].chars().next() {
                        ti += c.len_utf8();
                        pi += 1;
                        continue;
                    }
                }
                Part::Lit(lit) => {
                    if text[ti..].starts_with(lit.as_str()) {
                        ti += lit.len();
                        pi += 1;
                        continue;
                    }
                }
            }
        } else if ti == text.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character.
        match star {
            Some((sp, st)) => match text[st..].chars().next() {
                Some(c) => {
                    star = Some((sp, st + c.len_utf8()));
                    pi = sp + 1;
                    ti = st + c.len_utf8();
                }
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        let g = Glob::new("adm*n?");
        assert!(!g.matches("Administrator1"));
        assert!(g.matches("admin1"));
        assert!(g.matches("ADMXXXn2"));
        assert!(!g.matches("admin"));
    }

    #[test]
    fn escapes_make_stars_literal() {
        let g = Glob::new(r"a\*b");
        assert!(g.matches("a*b"));
        assert!(!g.matches("axb"));
    }

    #[test]
    fn backtracking_finds_late_match() {
        assert!(Glob::new("*.exe").matches(r"C:\Windows\System32\cmd.exe"));
        assert!(Glob::new("*a*b*c").matches("xaxbxbxc"));
        assert!(!Glob::new("*a*b*c").matches("xaxbxbx"));
    }

    #[test]
    fn regex_escapes_punctuation() {
        assert_eq!(Glob::new("a.b*").to_regex(), "a\\x{2e}b(?s:.*)");
        assert_eq!(Glob::new("cmd").literal_prefix(), "cmd");
    }
}
