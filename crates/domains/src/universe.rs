//! The universe of registered names: every registrable domain seen (zone files, lists of
//! new registrations, CT logs), kept as a finite-state transducer set (the `fst` crate:
//! sorted keys sharing prefixes and suffixes, a few bytes per name) in one file that is
//! memory-mapped, so hundreds of millions of names cost little resident memory.
//!
//! Keys are registrable domains as `label.suffix`, so a label is a key prefix. That makes
//! the retro-hunt of a newly protected name a handful of automaton walks instead of a
//! sweep: every key whose label is within one edit of the protected label (a Levenshtein
//! automaton followed by anything), every key whose label holds the protected label (a
//! subsequence automaton, confirmed), and every IDN (`xn--` keys, for homoglyphs); each
//! candidate is then checked by [`crate::lookalike::Index`] like a scanned name.

use crate::lookalike::{Finding, Index, Protected};
use fst::automaton::{Levenshtein, Str, Subsequence};
use fst::{Automaton, IntoStreamer, Set, SetBuilder, Streamer};
use std::path::Path;

/// A universe: an FST set over memory-mapped bytes (or owned bytes when built in memory).
pub struct Universe {
    set: Set<memmap2::Mmap>,
}

/// Builds a universe file from registrable domains (unsorted, with duplicates: they are
/// sorted and de-duplicated here); returns how many names it holds.
pub fn build(path: &Path, mut names: Vec<String>) -> Result<u64, String> {
    names.sort_unstable();
    names.dedup();
    let file = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    let mut builder = SetBuilder::new(file).map_err(|e| e.to_string())?;
    for n in &names {
        builder.insert(n).map_err(|e| e.to_string())?;
    }
    builder.finish().map_err(|e| e.to_string())?;
    Ok(names.len() as u64)
}

impl Universe {
    /// Opens a universe file, memory-mapped.
    pub fn open(path: &Path) -> Result<Universe, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Safety: the file is Haechi's own and is replaced, never changed in place.
        let map =
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("{}: {e}", path.display()))?;
        let set =
            Set::new(map).map_err(|e| format!("{}: not a universe file: {e}", path.display()))?;
        Ok(Universe { set })
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.set.contains(name)
    }

    /// Every name, in order.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.set.len());
        let mut s = self.set.stream();
        while let Some(k) = s.next() {
            out.push(String::from_utf8_lossy(k).into_owned());
        }
        out
    }

    /// The file's bytes (memory-mapped).
    pub fn bytes_slice(&self) -> &[u8] {
        self.set.as_fst().as_bytes()
    }

    /// The file's size: what the universe costs when wholly paged in.
    pub fn bytes(&self) -> usize {
        self.set.as_fst().as_bytes().len()
    }

    /// Every look-alike of `protected` already in the universe. Without `deep`, combosquats
    /// are found where the protected label starts the name's label; with it, anywhere in
    /// it (a walk over most of the universe).
    pub fn retro_hunt(&self, protected: &Protected, deep: bool) -> Result<Vec<Finding>, String> {
        let index = Index::new(vec![protected.clone()]);
        let label = protected.name.label.as_str();
        let mut candidates: Vec<String> = Vec::new();
        let mut collect = |keys: &mut dyn FnMut() -> Option<String>| {
            while let Some(k) = keys() {
                candidates.push(k);
            }
        };
        // Within one edit of the label, then the suffix.
        let lev = Levenshtein::new(label, 1).map_err(|e| e.to_string())?;
        let mut s = self.set.search(lev.starts_with()).into_stream();
        collect(&mut || s.next().map(|k| String::from_utf8_lossy(k).into_owned()));
        // The label starting a longer one (`kbstar-login`, `kbstarbank`): a key prefix.
        let mut s = self.set.search(Str::new(label).starts_with()).into_stream();
        collect(&mut || s.next().map(|k| String::from_utf8_lossy(k).into_owned()));
        // Inside or at the end of a longer label (`mykbstar`): a subsequence walk visits
        // most of the set, so only when asked for (`deep`).
        if deep && label.len() >= 3 {
            let mut s = self.set.search(Subsequence::new(label)).into_stream();
            collect(&mut || s.next().map(|k| String::from_utf8_lossy(k).into_owned()));
        }
        // IDNs, for homoglyphs.
        let mut s = self
            .set
            .search(Str::new("xn--").starts_with())
            .into_stream();
        collect(&mut || s.next().map(|k| String::from_utf8_lossy(k).into_owned()));
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = Vec::new();
        for c in candidates {
            if let Ok(name) = crate::parse(&c) {
                out.extend(index.check(&name));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_protected_name_finds_its_look_alikes_in_the_universe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("universe.fst");
        let names: Vec<String> = [
            "kbstar.com",
            "kbstra.com",
            "kbstar.net",
            "kbstar-login.com",
            "mykbstar.shop",
            "xn--kbtar-i2e.com",
            "example.com",
            "kbsta.com",
            "seoul.go.kr",
            "example.com",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(build(&path, names).unwrap(), 9);
        let u = Universe::open(&path).unwrap();
        assert!(u.contains("kbstra.com") && !u.contains("kbstar.org"));
        let protected = Protected {
            tenant: "kb".into(),
            name: crate::parse("kbstar.com").unwrap(),
        };
        let mut found: Vec<(String, &str)> = u
            .retro_hunt(&protected, true)
            .unwrap()
            .into_iter()
            .map(|f| (f.domain, f.kind))
            .collect();
        found.sort();
        let quick: Vec<String> = u
            .retro_hunt(&protected, false)
            .unwrap()
            .into_iter()
            .map(|f| f.domain)
            .collect();
        assert!(
            !quick.contains(&"mykbstar.shop".to_owned())
                && quick.contains(&"kbstar-login.com".to_owned())
        );
        assert_eq!(
            found,
            [
                ("kbsta.com".to_owned(), "typosquat"),
                ("kbstar-login.com".to_owned(), "combosquat"),
                ("kbstar.net".to_owned(), "tld-swap"),
                ("kbstra.com".to_owned(), "typosquat"),
                ("mykbstar.shop".to_owned(), "combosquat"),
                ("xn--kbtar-i2e.com".to_owned(), "homoglyph"),
            ]
        );
    }
}
