//! Random secrets (tokens, session ids, CSRF tokens, generated passwords) and the hashes
//! they are stored as.
//!
//! A token is 32 random bytes from the operating system, hex-encoded behind a prefix
//! that says what it is (`hct_` API token, `hcs_` session). Only its SHA-256 is stored:
//! a stolen database does not hold usable credentials, and a lookup by hash leaks
//! nothing about the secret through timing.

use ring::rand::{SecureRandom, SystemRandom};

/// `prefix` followed by 64 hex digits of fresh randomness.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random source failed");
    let mut s = String::with_capacity(prefix.len() + 64);
    s.push_str(prefix);
    s.push_str(&hex(&bytes));
    s
}

/// A password for people to type: 20 characters from an alphabet without look-alikes
/// (about 113 bits).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 64];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random source failed");
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    bytes
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .take(20)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// SHA-256 of `data`, hex-encoded.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_unique_and_hashable() {
        let a = random_token("hct_");
        let b = random_token("hct_");
        assert!(a.starts_with("hct_") && a.len() == 68);
        assert_ne!(a, b);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let p = random_password();
        assert_eq!(p.len(), 20);
        assert_ne!(p, random_password());
        assert!(!p.contains(['0', 'O', 'l', '1', 'I']));
    }
}
