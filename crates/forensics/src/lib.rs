//! # Forensic evidence packages
//!
//! An evidence package is a folder an investigator can take away and check without
//! Haechi's databases: the items (the incident, its alerts, every event in its stored
//! form, the timeline, notes and tasks), `custody.json` (the audit log's records about
//! the incident — who collected, pinned, changed and exported what and when — each with
//! its place in the hash-chained log), `manifest.json` (every item's path, size and
//! SHA-256, who exported it and when, and the center's public key) and `manifest.sig`
//! (the Ed25519 signature of the manifest's bytes by the center's key, [`keys`]).
//!
//! [`verify`] checks the signature (against a key the verifier trusts), every item's size
//! and hash, that nothing was added or removed, and every custody record's own hash, and
//! names each item that does not hold.

pub mod dfiq;
pub mod keys;
pub mod timeline;

use haechi_access::AuditRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The package format written in the manifest.
pub const FORMAT: &str = "haechi-evidence-1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
pub const CUSTODY: &str = "custody.json";
/// The largest manifest read back (a package of many events has a long one).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// One file of the package.
#[derive(Debug, Clone)]
pub struct Item {
    /// Relative, `/`-separated (`events/0001.json`).
    pub path: String,
    pub bytes: Vec<u8>,
}

/// What the manifest says of one item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The signed manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    /// What the package is of and who made it: incident id, institution, exporter, time.
    pub about: serde_json::Value,
    /// The center's Ed25519 public key, hex.
    pub public_key: String,
    pub items: Vec<Entry>,
}

/// The custody log of a package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Custody {
    /// The audit log's head hash when the package was made.
    pub audit_head: String,
    pub records: Vec<AuditRecord>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A relative path without `..`, roots or empty parts.
fn safe(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Writes `items` and the custody log as a package in `dir` (which must not exist or be
/// empty), with the manifest signed by `signer`.
pub fn write(
    dir: &Path,
    about: serde_json::Value,
    items: &[Item],
    custody: &Custody,
    signer: &keys::Signer,
) -> Result<Manifest, String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| err(dir, e))?
            .next()
            .is_some()
    {
        return Err(format!(
            "{}: not empty; an evidence package goes into a new folder",
            dir.display()
        ));
    }
    let custody_item = Item {
        path: CUSTODY.into(),
        bytes: serde_json::to_vec_pretty(custody).map_err(|e| e.to_string())?,
    };
    let mut entries = Vec::with_capacity(items.len() + 1);
    let mut seen = BTreeSet::new();
    for item in items.iter().chain(std::iter::once(&custody_item)) {
        if !safe(&item.path)
            || item.path == MANIFEST
            || item.path == SIGNATURE
            || !seen.insert(item.path.clone())
        {
            return Err(format!("item path '{}' is not allowed", item.path));
        }
        let path = dir.join(&item.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
        }
        std::fs::write(&path, &item.bytes).map_err(|e| err(&path, e))?;
        entries.push(Entry {
            path: item.path.clone(),
            bytes: item.bytes.len() as u64,
            sha256: sha256_hex(&item.bytes),
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        about,
        public_key: signer.public_hex(),
        items: entries,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, &bytes).map_err(|e| err(&path, e))?;
    let path = dir.join(SIGNATURE);
    std::fs::write(&path, format!("{}\n", signer.sign_hex(&bytes))).map_err(|e| err(&path, e))?;
    Ok(manifest)
}

/// What a verification found.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Verification {
    pub items: usize,
    pub custody_records: usize,
    /// The key that signed the manifest (hex).
    pub signed_by: String,
    /// Every problem, naming the item; empty when the package holds.
    pub problems: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Every file under `dir`, relative and `/`-separated.
fn files(dir: &Path, under: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            files(&path, under, out)?;
        } else {
            let rel: PathBuf = path.strip_prefix(under).unwrap_or(&path).to_owned();
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// Checks the package in `dir`; `trusted` is the center's public key (hex) the
/// signature must be made with. An unreadable manifest or signature is an error; every
/// other problem is listed.
pub fn verify(dir: &Path, trusted: &str) -> Result<Verification, String> {
    let manifest_path = dir.join(MANIFEST);
    let size = std::fs::metadata(&manifest_path)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?
        .len();
    if size > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{}: too large for a manifest",
            manifest_path.display()
        ));
    }
    let bytes =
        std::fs::read(&manifest_path).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let sig_path = dir.join(SIGNATURE);
    let signature =
        std::fs::read_to_string(&sig_path).map_err(|e| format!("{}: {e}", sig_path.display()))?;
    let mut v = Verification::default();
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            v.problems.push(format!("{MANIFEST}: not a manifest ({e})"));
            return Ok(v);
        }
    };
    v.signed_by = manifest.public_key.clone();
    if manifest.format != FORMAT {
        v.problems.push(format!(
            "{MANIFEST}: format '{}', not {FORMAT}",
            manifest.format
        ));
    }
    if !manifest.public_key.eq_ignore_ascii_case(trusted.trim()) {
        v.problems.push(format!(
            "{MANIFEST}: signed with key {}, not the trusted key {}",
            manifest.public_key,
            trusted.trim()
        ));
    }
    // Exactly as written: one line of hex.
    let signature = signature.strip_suffix('\n').unwrap_or("not one line");
    if !keys::verify_hex(trusted.trim(), &bytes, signature) {
        v.problems.push(format!(
            "{SIGNATURE}: the signature does not match {MANIFEST} under the trusted key"
        ));
    }
    let listed: BTreeSet<&str> = manifest.items.iter().map(|e| e.path.as_str()).collect();
    let mut present = Vec::new();
    files(dir, dir, &mut present).map_err(|e| format!("{}: {e}", dir.display()))?;
    for extra in present
        .iter()
        .filter(|p| *p != MANIFEST && *p != SIGNATURE && !listed.contains(p.as_str()))
    {
        v.problems
            .push(format!("{extra}: not in the manifest (added)"));
    }
    for entry in &manifest.items {
        v.items += 1;
        if !safe(&entry.path) {
            v.problems
                .push(format!("{}: not a path inside the package", entry.path));
            continue;
        }
        let data = match std::fs::read(dir.join(&entry.path)) {
            Ok(d) => d,
            Err(_) => {
                v.problems.push(format!("{}: missing", entry.path));
                continue;
            }
        };
        if data.len() as u64 != entry.bytes || sha256_hex(&data) != entry.sha256 {
            v.problems.push(format!(
                "{}: changed (SHA-256 {} and {} bytes, the manifest says {} and {})",
                entry.path,
                sha256_hex(&data),
                data.len(),
                entry.sha256,
                entry.bytes
            ));
            continue;
        }
        if entry.path == CUSTODY {
            check_custody(&data, &mut v);
        }
    }
    if !listed.contains(CUSTODY) {
        v.problems.push(format!("{CUSTODY}: not in the manifest"));
    }
    Ok(v)
}

/// Every custody record carries its own audit hash, in order.
fn check_custody(data: &[u8], v: &mut Verification) {
    let custody: Custody = match serde_json::from_slice(data) {
        Ok(c) => c,
        Err(e) => {
            v.problems
                .push(format!("{CUSTODY}: not a custody log ({e})"));
            return;
        }
    };
    v.custody_records = custody.records.len();
    let mut last = 0;
    for r in &custody.records {
        if haechi_access::audit::record_hash(r) != r.hash {
            v.problems.push(format!(
                "{CUSTODY}: audit record {} does not match its hash",
                r.seq
            ));
        }
        if r.seq <= last {
            v.problems
                .push(format!("{CUSTODY}: audit record {} is out of order", r.seq));
        }
        last = r.seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(dir: &Path, signer: &keys::Signer) {
        let items: Vec<Item> = (0..12)
            .map(|i| Item {
                path: if i == 0 {
                    "incident.json".into()
                } else {
                    format!("events/{i:04}.json")
                },
                bytes: format!("{{\"event\": {i}, \"message\": \"evil {i}\"}}").into_bytes(),
            })
            .collect();
        let record = |seq: i64, prev: &str| {
            let mut r = AuditRecord {
                seq,
                time_ms: 1_700_000_000_000 + seq,
                actor: "user:kim".into(),
                action: "incident.evidence.pin".into(),
                target: "incident:7".into(),
                before: None,
                after: Some(serde_json::json!({"ref": "abc", "note": "the dropper"})),
                prev: prev.into(),
                hash: String::new(),
            };
            r.hash = haechi_access::audit::record_hash(&r);
            r
        };
        let first = record(3, haechi_access::audit::GENESIS);
        let second = record(9, "f".repeat(64).as_str());
        let custody = Custody {
            audit_head: second.hash.clone(),
            records: vec![first, second],
        };
        write(
            dir,
            serde_json::json!({"incident": 7}),
            &items,
            &custody,
            signer,
        )
        .unwrap();
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn a_package_verifies_and_every_random_mutation_is_caught_by_name() {
        let keys_dir = tempfile::tempdir().unwrap();
        let signer = keys::Signer::load_or_create(keys_dir.path()).unwrap();
        let other = keys::Signer::load_or_create(&keys_dir.path().join("other")).unwrap();
        let clean = tempfile::tempdir().unwrap();
        package(clean.path(), &signer);
        let v = verify(clean.path(), &signer.public_hex()).unwrap();
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!((v.items, v.custody_records), (13, 2));
        // Someone else's key is not the center's.
        let v = verify(clean.path(), &other.public_hex()).unwrap();
        assert!(v.problems.iter().any(|p| p.contains("not the trusted key")));

        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut files = Vec::new();
        super::files(clean.path(), clean.path(), &mut files).unwrap();
        files.sort();
        for round in 0..200 {
            let dir = tempfile::tempdir().unwrap();
            package(dir.path(), &signer);
            let target = files[rng.below(files.len())].clone();
            let path = dir.path().join(&target);
            let mut data = std::fs::read(&path).unwrap();
            let what = rng.below(4);
            match what {
                0 => {
                    let i = rng.below(data.len());
                    data[i] ^= 1 << rng.below(8);
                    std::fs::write(&path, &data).unwrap();
                }
                1 => {
                    data.truncate(rng.below(data.len()));
                    std::fs::write(&path, &data).unwrap();
                }
                2 => std::fs::remove_file(&path).unwrap(),
                _ => std::fs::write(dir.path().join("events/9999.json"), b"{}").unwrap(),
            }
            let named = if what == 3 {
                "events/9999.json"
            } else {
                &target
            };
            match verify(dir.path(), &signer.public_hex()) {
                Ok(v) => assert!(
                    v.problems.iter().any(|p| p.starts_with(named)
                        || (named.starts_with("manifest.") && p.contains(named))),
                    "round {round}: mutation {what} of {target} not named: {:?}",
                    v.problems
                ),
                // A manifest or signature that cannot be read is refused outright.
                Err(e) => assert!(
                    target == MANIFEST || target == SIGNATURE,
                    "round {round}: {e}"
                ),
            }
        }
    }

    #[test]
    fn item_paths_cannot_leave_the_package() {
        let keys_dir = tempfile::tempdir().unwrap();
        let signer = keys::Signer::load_or_create(keys_dir.path()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "/etc/passwd", "manifest.json", "a/../../b"] {
            let items = [Item {
                path: bad.into(),
                bytes: b"x".to_vec(),
            }];
            let custody = Custody {
                audit_head: String::new(),
                records: Vec::new(),
            };
            let out = dir.path().join("p");
            assert!(
                write(&out, serde_json::json!({}), &items, &custody, &signer).is_err(),
                "{bad}"
            );
            let _ = std::fs::remove_dir_all(&out);
        }
    }
}
