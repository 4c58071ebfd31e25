//! Free-text tokenization. It must split exactly like the store's text index (tantivy's
//! `SimpleTokenizer` + `LowerCaser`): words are runs of alphanumeric characters, lower-cased.

/// The fields that hold free text; free-text queries search these.
pub const TEXT_FIELDS: &[&str] = &[
    haechi_event::ecs::MESSAGE,
    haechi_event::ecs::EVENT_ORIGINAL,
];

/// The lower-cased words of `text`.
pub fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

/// True when the words of `phrase` occur in `text` next to each other, in order.
pub fn contains_phrase(text: &str, phrase: &[String]) -> bool {
    if phrase.is_empty() {
        return true;
    }
    let words: Vec<String> = tokenize(text).collect();
    words.windows(phrase.len()).any(|w| w == phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_punctuation_and_lowercases() {
        let words: Vec<String> =
            tokenize("Failed password for invalid user ADMIN from 10.0.0.1").collect();
        assert_eq!(
            words,
            [
                "failed", "password", "for", "invalid", "user", "admin", "from", "10", "0", "0",
                "1"
            ]
        );
    }

    #[test]
    fn phrase_needs_adjacent_words() {
        let p: Vec<String> = tokenize("invalid user").collect();
        assert!(contains_phrase("Failed password for invalid user x", &p));
        assert!(!contains_phrase("invalid password for user", &p));
    }
}
