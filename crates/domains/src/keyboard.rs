//! Keyboards: which keys neighbour which on a QWERTY keyboard (a slipped finger), and the
//! Korean two-set (Dubeolsik) layout that Korean keyboards share with QWERTY — a label
//! typed with the Korean input mode left on comes out in Hangul (`gksrnr` → `한국`), and a
//! Hangul label typed with it off comes out in Latin letters (`서울` → `tjdnf`). Both
//! directions are modelled: the first composes jamo into syllables as a Korean input
//! method does.

/// QWERTY rows with how far each is shifted right (in key widths), for adjacency.
const ROWS: [(&str, f32); 4] = [
    ("1234567890", 0.0),
    ("qwertyuiop", 0.5),
    ("asdfghjkl", 0.75),
    ("zxcvbnm", 1.25),
];

/// Whether two keys neighbour each other: next to each other on a row, or touching on
/// the row above or below (the rows are staggered).
pub fn adjacent(a: char, b: char) -> bool {
    let pos = |c: char| {
        ROWS.iter()
            .enumerate()
            .find_map(|(r, (row, shift))| row.find(c).map(|i| (r as i32, i as f32 + shift)))
    };
    match (pos(a), pos(b)) {
        (Some((ra, xa)), Some((rb, xb))) if a != b => match (ra - rb).abs() {
            0 => (xa - xb).abs() <= 1.0,
            1 => (xa - xb).abs() < 1.0,
            _ => false,
        },
        _ => false,
    }
}

/// The Dubeolsik jamo of each Latin key (unshifted).
const DUBEOLSIK: [(char, char); 26] = [
    ('q', 'ㅂ'),
    ('w', 'ㅈ'),
    ('e', 'ㄷ'),
    ('r', 'ㄱ'),
    ('t', 'ㅅ'),
    ('y', 'ㅛ'),
    ('u', 'ㅕ'),
    ('i', 'ㅑ'),
    ('o', 'ㅐ'),
    ('p', 'ㅔ'),
    ('a', 'ㅁ'),
    ('s', 'ㄴ'),
    ('d', 'ㅇ'),
    ('f', 'ㄹ'),
    ('g', 'ㅎ'),
    ('h', 'ㅗ'),
    ('j', 'ㅓ'),
    ('k', 'ㅏ'),
    ('l', 'ㅣ'),
    ('z', 'ㅋ'),
    ('x', 'ㅌ'),
    ('c', 'ㅊ'),
    ('v', 'ㅍ'),
    ('b', 'ㅠ'),
    ('n', 'ㅜ'),
    ('m', 'ㅡ'),
];

const CHOSEONG: &str = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";
const JUNGSEONG: &str = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ";
/// Finals, index 0 being "none".
const JONGSEONG: &str = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ";

/// Vowels typed as two keys.
const COMPOUND_VOWELS: [(char, char, char); 7] = [
    ('ㅗ', 'ㅏ', 'ㅘ'),
    ('ㅗ', 'ㅐ', 'ㅙ'),
    ('ㅗ', 'ㅣ', 'ㅚ'),
    ('ㅜ', 'ㅓ', 'ㅝ'),
    ('ㅜ', 'ㅔ', 'ㅞ'),
    ('ㅜ', 'ㅣ', 'ㅟ'),
    ('ㅡ', 'ㅣ', 'ㅢ'),
];

/// Finals typed as two keys.
const COMPOUND_FINALS: [(char, char, char); 11] = [
    ('ㄱ', 'ㅅ', 'ㄳ'),
    ('ㄴ', 'ㅈ', 'ㄵ'),
    ('ㄴ', 'ㅎ', 'ㄶ'),
    ('ㄹ', 'ㄱ', 'ㄺ'),
    ('ㄹ', 'ㅁ', 'ㄻ'),
    ('ㄹ', 'ㅂ', 'ㄼ'),
    ('ㄹ', 'ㅅ', 'ㄽ'),
    ('ㄹ', 'ㅌ', 'ㄾ'),
    ('ㄹ', 'ㅍ', 'ㄿ'),
    ('ㄹ', 'ㅎ', 'ㅀ'),
    ('ㅂ', 'ㅅ', 'ㅄ'),
];

fn index(table: &str, c: char) -> Option<u32> {
    table.chars().position(|t| t == c).map(|i| i as u32)
}

fn is_vowel(c: char) -> bool {
    index(JUNGSEONG, c).is_some()
}

/// A syllable being typed.
#[derive(Default)]
struct Syllable {
    initial: Option<char>,
    vowel: Option<char>,
    last: Option<char>,
}

impl Syllable {
    fn flush(&mut self, out: &mut String) {
        match (self.initial, self.vowel) {
            (Some(i), Some(v)) => {
                let l = self.last.and_then(|f| index(JONGSEONG, f)).unwrap_or(0);
                let code = 0xAC00
                    + (index(CHOSEONG, i).unwrap_or(0) * 21 + index(JUNGSEONG, v).unwrap_or(0))
                        * 28
                    + l;
                out.push(char::from_u32(code).expect("a Hangul syllable"));
            }
            (Some(i), None) => out.push(i),
            (None, Some(v)) => out.push(v),
            (None, None) => {}
        }
        *self = Syllable::default();
    }
}

/// What a Latin label becomes when typed with the Korean input mode on: jamo composed
/// into syllables as an input method composes them (`gksrnr` → `한국`, `tjdnf` → `서울`).
/// `None` if a character has no Korean key (digits, hyphens: those labels are left).
pub fn typed_in_korean(label: &str) -> Option<String> {
    let mut out = String::new();
    let mut s = Syllable::default();
    for key in label.chars() {
        let jamo = DUBEOLSIK.iter().find(|(k, _)| *k == key)?.1;
        if is_vowel(jamo) {
            match (s.initial, s.vowel, s.last) {
                (Some(_), None, _) => s.vowel = Some(jamo),
                (_, Some(v), None) => {
                    if let Some(&(_, _, c)) = COMPOUND_VOWELS
                        .iter()
                        .find(|(a, b, _)| *a == v && *b == jamo)
                    {
                        s.vowel = Some(c);
                    } else {
                        s.flush(&mut out);
                        s.vowel = Some(jamo);
                    }
                }
                (Some(_), Some(_), Some(f)) => {
                    // The final moves to the next syllable (a compound final splits).
                    let (keep, moved) = match COMPOUND_FINALS.iter().find(|(_, _, c)| *c == f) {
                        Some(&(a, b, _)) => (Some(a), b),
                        None => (None, f),
                    };
                    s.last = keep;
                    s.flush(&mut out);
                    s.initial = Some(moved);
                    s.vowel = Some(jamo);
                }
                _ => {
                    s.flush(&mut out);
                    s.vowel = Some(jamo);
                }
            }
        } else {
            match (s.initial, s.vowel, s.last) {
                (None, None, _) => s.initial = Some(jamo),
                (Some(_), Some(_), None) if index(JONGSEONG, jamo).is_some() => s.last = Some(jamo),
                (Some(_), Some(_), Some(f)) => {
                    if let Some(&(_, _, c)) = COMPOUND_FINALS
                        .iter()
                        .find(|(a, b, _)| *a == f && *b == jamo)
                    {
                        s.last = Some(c);
                    } else {
                        s.flush(&mut out);
                        s.initial = Some(jamo);
                    }
                }
                _ => {
                    s.flush(&mut out);
                    s.initial = Some(jamo);
                }
            }
        }
    }
    s.flush(&mut out);
    Some(out)
}

/// What a Hangul label becomes when typed with the Korean mode off (`서울` → `tjdnf`).
/// `None` if a character is not a Hangul syllable.
pub fn typed_in_latin(label: &str) -> Option<String> {
    let key = |j: char| -> Option<String> {
        if let Some(&(k, _)) = DUBEOLSIK.iter().find(|(_, d)| *d == j) {
            return Some(k.to_string());
        }
        let (a, b) = COMPOUND_VOWELS
            .iter()
            .chain(COMPOUND_FINALS.iter())
            .chain(DOUBLED.iter())
            .find(|(_, _, c)| *c == j)
            .map(|&(a, b, _)| (a, b))?;
        let k = |x: char| DUBEOLSIK.iter().find(|(_, d)| *d == x).map(|(k, _)| *k);
        Some(format!("{}{}", k(a)?, k(b)?))
    };
    let mut out = String::new();
    for c in label.chars() {
        let code = (c as u32).checked_sub(0xAC00).filter(|v| *v < 11172)?;
        let (i, v, f) = (code / (21 * 28), (code / 28) % 21, code % 28);
        out.push_str(&key(CHOSEONG.chars().nth(i as usize)?)?);
        out.push_str(&key(JUNGSEONG.chars().nth(v as usize)?)?);
        if f > 0 {
            out.push_str(&key(JONGSEONG.chars().nth(f as usize)?)?);
        }
    }
    Some(out)
}

/// Doubled consonants are typed with Shift; without it they read as the plain key twice.
const DOUBLED: [(char, char, char); 5] = [
    ('ㄱ', 'ㄱ', 'ㄲ'),
    ('ㄷ', 'ㄷ', 'ㄸ'),
    ('ㅂ', 'ㅂ', 'ㅃ'),
    ('ㅅ', 'ㅅ', 'ㅆ'),
    ('ㅈ', 'ㅈ', 'ㅉ'),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_keys_typed_in_korean_compose_syllables() {
        assert_eq!(typed_in_korean("gksrnr").as_deref(), Some("한국"));
        assert_eq!(typed_in_korean("tjdnf").as_deref(), Some("서울"));
        assert_eq!(
            typed_in_korean("dkssudgktpdy").as_deref(),
            Some("안녕하세요")
        );
        // A final that meets a vowel moves on: 닭이 is typed ekfrdl.
        assert_eq!(typed_in_korean("ekfrdl").as_deref(), Some("닭이"));
        assert_eq!(typed_in_korean("naver").as_deref(), Some("ㅜㅁㅍㄷㄱ"));
        assert_eq!(typed_in_korean("kb-star"), None);
    }

    #[test]
    fn hangul_typed_in_latin_is_the_inverse() {
        for word in ["한국", "서울", "국민은행", "닭이", "네이버", "카카오뱅크"] {
            let latin = typed_in_latin(word).unwrap();
            assert_eq!(
                typed_in_korean(&latin).as_deref(),
                Some(word),
                "{word} → {latin}"
            );
        }
        assert_eq!(typed_in_latin("네이버").as_deref(), Some("spdlqj"));
        assert_eq!(typed_in_latin("naver"), None);
    }

    #[test]
    fn neighbouring_keys() {
        assert!(
            adjacent('a', 's') && adjacent('s', 'w') && adjacent('s', 'x') && adjacent('g', 'y')
        );
        assert!(!adjacent('a', 'd') && !adjacent('q', 'p') && !adjacent('a', '-'));
    }
}
