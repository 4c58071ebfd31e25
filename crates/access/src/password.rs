//! Passwords: Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane — OWASP's
//! recommendation), stored as PHC strings that carry their own salt and parameters.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// The longest (Argon2 takes any length; this bounds the work a login can cause).
pub const MAX_LENGTH: usize = 1024;

/// Why a password is refused, or `None`.
pub fn weakness(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Some(format!(
            "the password has {chars} characters; use at least {MIN_LENGTH}"
        ));
    }
    if password.len() > MAX_LENGTH {
        return Some(format!("the password is longer than {MAX_LENGTH} bytes"));
    }
    if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        return Some("the password repeats one character".into());
    }
    None
}

/// A PHC string for `password` with a fresh random salt.
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("Argon2 with default parameters cannot fail on a bounded password")
        .to_string()
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LENGTH {
        return false;
    }
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the user does not exist so that
/// a login takes as long for an unknown name as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&crate::secret::random_password()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let h = hash("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert_ne!(h, hash("correct horse battery"));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn weak_passwords_are_named() {
        assert!(weakness("short").unwrap().contains("at least 12"));
        assert!(weakness("aaaaaaaaaaaaaaaa").unwrap().contains("repeats"));
        assert_eq!(weakness("a sound pass phrase"), None);
    }
}
