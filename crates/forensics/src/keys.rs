//! The center's signing key for evidence packages: an Ed25519 key pair kept as PKCS#8 in
//! `DATA_DIR/keys/evidence-ed25519.pk8` (owner-only), created on first use, with its public
//! key beside it as hex (`evidence-ed25519.pub`) — what investigators are given to verify
//! packages with.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::path::{Path, PathBuf};

pub const PRIVATE_FILE: &str = "evidence-ed25519.pk8";
pub const PUBLIC_FILE: &str = "evidence-ed25519.pub";

/// The folder of a data directory's keys.
pub fn dir_in(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

pub struct Signer {
    pair: Ed25519KeyPair,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex only, as written: `A` for `a` is a changed file, not the same one.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2)
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Signer {
    /// The key pair kept in `dir`, created (owner-only) when there is none.
    pub fn load_or_create(dir: &Path) -> Result<Signer, String> {
        let private = dir.join(PRIVATE_FILE);
        let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
        let pkcs8 = match std::fs::read(&private) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
                let rng = ring::rand::SystemRandom::new();
                let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| "generating the evidence signing key failed".to_owned())?;
                write_private(&private, doc.as_ref()).map_err(|e| err(&private, e))?;
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(err(&private, e)),
        };
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| format!("{}: not an Ed25519 PKCS#8 key", private.display()))?;
        let signer = Signer { pair };
        let public = dir.join(PUBLIC_FILE);
        if !public.is_file() {
            std::fs::write(&public, format!("{}\n", signer.public_hex()))
                .map_err(|e| err(&public, e))?;
        }
        Ok(signer)
    }

    pub fn public_hex(&self) -> String {
        hex(self.pair.public_key().as_ref())
    }

    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex(self.pair.sign(message).as_ref())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Whether `signature` (hex) is `public` key's (hex) signature of `message`.
pub fn verify_hex(public: &str, message: &[u8], signature: &str) -> bool {
    match (unhex(public), unhex(signature)) {
        (Some(p), Some(s)) => UnparsedPublicKey::new(&ED25519, p)
            .verify(message, &s)
            .is_ok(),
        _ => false,
    }
}

/// A public key given by a person: hex, or a file holding it.
pub fn read_public(text_or_file: &str) -> Result<String, String> {
    let text = match std::fs::read_to_string(text_or_file) {
        Ok(t) => t,
        Err(_) => text_or_file.to_owned(),
    };
    let key = text.trim().to_ascii_lowercase();
    match unhex(&key) {
        Some(b) if b.len() == 32 => Ok(key),
        _ => Err(format!(
            "'{}' is not an Ed25519 public key (64 hex digits, or a file holding them)",
            text_or_file
        )),
    }
}
