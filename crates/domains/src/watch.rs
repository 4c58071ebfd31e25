//! The live Domain Watch of `haechi serve`: the institutions' protected names (kept in
//! `domains/protected.csv`, the file `haechi domains protect` writes, re-read when it
//! changes), the universe of names already known (`domains/universe.fst`) and the names
//! first seen since it was built (`domains/seen.log`, one `name<TAB>unix seconds` per
//! line, appended before a batch is answered so that newness survives a crash).
//!
//! [`Watch::check_names`] reads a batch of names and returns every finding with its
//! newness; [`Watch::protect`] adds a protected name and retro-hunts the universe and the
//! names seen since; [`Watch::merge_seen`] folds the new names into the universe.

use crate::lookalike::{Finding, Index, Protected};
use crate::universe::{self, Universe};
use crate::{Name, unsafe_names};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// Scores one name with a model (DGA, phishing); a finding when it is suspicious.
pub type Scorer = dyn Fn(&Name) -> Option<Finding> + Send + Sync;

/// The most names one call of [`Watch::check_names`] reads (a client's batch).
pub const MAX_BATCH_NAMES: usize = 100_000;

/// The files of a data directory's Domain Watch.
pub fn universe_path(data_dir: &Path) -> PathBuf {
    data_dir.join("domains").join("universe.fst")
}

pub fn protected_path(data_dir: &Path) -> PathBuf {
    data_dir.join("domains").join("protected.csv")
}

pub fn seen_path(data_dir: &Path) -> PathBuf {
    data_dir.join("domains").join("seen.log")
}

/// One finding of a watched name, with when the name was first seen.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub finding: Finding,
    /// Its registrable domain was in neither the universe nor the names seen before.
    pub new: bool,
    /// When Haechi first saw the registrable domain (unix seconds; 0 when it was in the
    /// universe already, whose names carry no date).
    pub first_seen: i64,
}

/// What a batch of names gave.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub names: usize,
    /// Registrable domains seen for the first time.
    pub new_names: usize,
    /// Entries that are not names, by reason (nothing is dropped silently).
    pub not_read: BTreeMap<String, usize>,
    pub findings: Vec<Checked>,
}

/// What protecting a name gave.
#[derive(Debug, serde::Serialize)]
pub struct Protection {
    pub tenant: String,
    pub domain: String,
    /// False when the institution protected it already.
    pub added: bool,
    /// The look-alikes already known: in the universe or seen since it was built.
    pub found: Vec<Finding>,
    pub searched_names: usize,
    pub seconds: f64,
}

struct Seen {
    first: HashMap<String, i64>,
    log: Option<std::fs::File>,
}

struct Protections {
    index: Arc<Index>,
    modified: Option<SystemTime>,
}

/// The watch over a data directory's names.
pub struct Watch {
    data_dir: PathBuf,
    protections: RwLock<Protections>,
    universe: RwLock<Option<Arc<Universe>>>,
    seen: Mutex<Seen>,
    scorer: Option<Arc<Scorer>>,
    min_score: f32,
    /// Serialises changes of the protected list (read, change, write back).
    changing: Mutex<()>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Watch {
    /// Opens (creating the folder) the watch of `data_dir`; `scorer` scores every name,
    /// findings under `min_score` are dropped.
    pub fn open(
        data_dir: &Path,
        scorer: Option<Arc<Scorer>>,
        min_score: f32,
    ) -> Result<Watch, String> {
        let dir = data_dir.join("domains");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let protected_file = protected_path(data_dir);
        let list = if protected_file.is_file() {
            read_protected(&protected_file)?
        } else {
            Vec::new()
        };
        let universe = match universe_path(data_dir) {
            p if p.is_file() => Some(Arc::new(Universe::open(&p)?)),
            _ => None,
        };
        let seen = read_seen(&seen_path(data_dir))?;
        Ok(Watch {
            data_dir: data_dir.to_owned(),
            protections: RwLock::new(Protections {
                index: Arc::new(Index::new(list)),
                modified: modified(&protected_file),
            }),
            universe: RwLock::new(universe),
            seen: Mutex::new(Seen {
                first: seen,
                log: None,
            }),
            scorer,
            min_score,
            changing: Mutex::new(()),
        })
    }

    /// The index, re-read first when `haechi domains protect` changed the file.
    fn index(&self) -> Result<Arc<Index>, String> {
        let path = protected_path(&self.data_dir);
        let now = modified(&path);
        {
            let p = self.protections.read().unwrap_or_else(|e| e.into_inner());
            if p.modified == now {
                return Ok(p.index.clone());
            }
        }
        let list = if path.is_file() {
            read_protected(&path)?
        } else {
            Vec::new()
        };
        let mut p = self.protections.write().unwrap_or_else(|e| e.into_inner());
        p.index = Arc::new(Index::new(list));
        p.modified = now;
        Ok(p.index.clone())
    }

    /// The protected names (of one institution, or all).
    pub fn protected(&self, tenant: Option<&str>) -> Result<Vec<Protected>, String> {
        Ok(self
            .index()?
            .protected()
            .iter()
            .filter(|p| tenant.is_none_or(|t| p.tenant == t))
            .cloned()
            .collect())
    }

    /// How many names the universe holds, and how many were seen since it was built.
    pub fn sizes(&self) -> (usize, usize) {
        let u = self.universe.read().unwrap_or_else(|e| e.into_inner());
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        (u.as_ref().map_or(0, |u| u.len()), seen.first.len())
    }

    /// Protects `domain` for `tenant` and finds its look-alikes among the names already
    /// known (`deep`: inside longer labels too, a walk over most of the universe). The
    /// institution's other protected names are never look-alikes.
    pub fn protect(&self, tenant: &str, domain: &str, deep: bool) -> Result<Protection, String> {
        if !haechi_event::valid_tenant(tenant) {
            return Err(format!("tenant '{tenant}' is not a valid id"));
        }
        let name = crate::parse(domain).map_err(|e| format!("{domain}: {e}"))?;
        let protected = Protected {
            tenant: tenant.to_owned(),
            name,
        };
        let started = std::time::Instant::now();
        let added = {
            let _one = self.changing.lock().unwrap_or_else(|e| e.into_inner());
            let mut list = self.protected(None)?;
            let known = list
                .iter()
                .any(|p| p.tenant == tenant && p.name.registrable == protected.name.registrable);
            if !known {
                list.push(protected.clone());
                self.replace(list)?;
            }
            !known
        };
        let index = self.index()?;
        let owned = |f: &Finding| {
            index.protected().iter().any(|p| {
                p.tenant == tenant
                    && crate::parse(&f.domain).is_ok_and(|n| n.registrable == p.name.registrable)
            })
        };
        let mut found = Vec::new();
        let mut searched = 0;
        if let Some(u) = self
            .universe
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            searched += u.len();
            found.extend(u.retro_hunt(&protected, deep)?);
        }
        // The names seen since the universe was built: few, checked one by one.
        let single = Index::new(vec![protected.clone()]);
        let seen: Vec<String> = {
            let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.first.keys().cloned().collect()
        };
        searched += seen.len();
        for s in seen {
            if let Ok(n) = crate::parse(&s) {
                found.extend(single.check(&n));
            }
        }
        found.retain(|f| !owned(f));
        found.sort_by(|a, b| a.domain.cmp(&b.domain).then(a.kind.cmp(b.kind)));
        found.dedup_by(|a, b| a.domain == b.domain && a.kind == b.kind);
        Ok(Protection {
            tenant: tenant.to_owned(),
            domain: protected.name.registrable,
            added,
            found,
            searched_names: searched,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Stops protecting `domain` for `tenant`; false when it was not protected.
    pub fn unprotect(&self, tenant: &str, domain: &str) -> Result<bool, String> {
        let name = crate::parse(domain).map_err(|e| format!("{domain}: {e}"))?;
        let _one = self.changing.lock().unwrap_or_else(|e| e.into_inner());
        let mut list = self.protected(None)?;
        let before = list.len();
        list.retain(|p| !(p.tenant == tenant && p.name.registrable == name.registrable));
        if list.len() == before {
            return Ok(false);
        }
        self.replace(list)?;
        Ok(true)
    }

    /// Writes the protected list and indexes it at once (a file time may not change
    /// within its resolution).
    fn replace(&self, list: Vec<Protected>) -> Result<(), String> {
        let path = protected_path(&self.data_dir);
        write_protected(&path, &list)?;
        let mut p = self.protections.write().unwrap_or_else(|e| e.into_inner());
        p.index = Arc::new(Index::new(list));
        p.modified = modified(&path);
        Ok(())
    }

    /// Reads a batch of entries (names, or the reason an entry is not one) and returns
    /// the findings at or above the minimum score, with their newness at `now` (unix
    /// seconds). New registrable domains are logged before this returns.
    pub fn check_names<I>(&self, entries: I, now: i64) -> Result<Report, String>
    where
        I: IntoIterator<Item = Result<String, String>>,
    {
        let index = self.index()?;
        let universe = self
            .universe
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut report = Report::default();
        let mut fresh: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for entry in entries.into_iter().take(MAX_BATCH_NAMES) {
            let raw = match entry {
                Ok(r) => r,
                Err(reason) => {
                    *report.not_read.entry(reason).or_default() += 1;
                    continue;
                }
            };
            report.names += 1;
            let name = match crate::parse(&raw) {
                Ok(n) => n,
                Err(e) => {
                    *report.not_read.entry(e.to_string()).or_default() += 1;
                    continue;
                }
            };
            let in_universe = universe
                .as_ref()
                .is_some_and(|u| u.contains(&name.registrable));
            let (new, first_seen) = if in_universe {
                (false, 0)
            } else {
                match seen.first.get(&name.registrable) {
                    // Another name of the same registration, new in this batch.
                    Some(&t) => (fresh.contains(&name.registrable), t),
                    None => {
                        seen.first.insert(name.registrable.clone(), now);
                        fresh.insert(name.registrable.clone());
                        (true, now)
                    }
                }
            };
            let mut found = index.check(&name);
            found.extend(unsafe_names::check(&name));
            if let Some(score) = &self.scorer
                && let Some(f) = score(&name)
            {
                found.push(f);
            }
            report
                .findings
                .extend(
                    found
                        .into_iter()
                        .filter(|f| f.score >= self.min_score)
                        .map(|finding| Checked {
                            finding,
                            new,
                            first_seen,
                        }),
                );
        }
        report.new_names = fresh.len();
        if !fresh.is_empty() {
            let mut fresh: Vec<String> = fresh.into_iter().collect();
            fresh.sort_unstable();
            self.log_seen(&mut seen, &fresh, now)?;
        }
        Ok(report)
    }

    fn log_seen(&self, seen: &mut Seen, fresh: &[String], now: i64) -> Result<(), String> {
        let path = seen_path(&self.data_dir);
        if seen.log.is_none() {
            seen.log = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
            );
        }
        let mut text = String::with_capacity(fresh.len() * 24);
        for n in fresh {
            text.push_str(n);
            text.push('\t');
            text.push_str(&now.to_string());
            text.push('\n');
        }
        let log = seen.log.as_mut().expect("opened above");
        log.write_all(text.as_bytes())
            .and_then(|_| log.sync_data())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Folds the names seen since the universe was built into it (written beside and
    /// renamed, so a reader never sees half a universe); returns the universe's size.
    pub fn merge_seen(&self) -> Result<usize, String> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.first.is_empty() {
            return Ok(self.sizes_locked());
        }
        let path = universe_path(&self.data_dir);
        let mut names: Vec<String> = match self
            .universe
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            Some(u) => u.names(),
            None => Vec::new(),
        };
        names.extend(seen.first.keys().cloned());
        let fresh = path.with_extension("fst.new");
        universe::build(&fresh, names)?;
        std::fs::rename(&fresh, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        let merged = Arc::new(Universe::open(&path)?);
        let len = merged.len();
        *self.universe.write().unwrap_or_else(|e| e.into_inner()) = Some(merged);
        // The log is emptied only once the universe holding its names is in place.
        seen.first.clear();
        seen.log = None;
        let log = seen_path(&self.data_dir);
        std::fs::write(&log, b"").map_err(|e| format!("{}: {e}", log.display()))?;
        Ok(len)
    }

    fn sizes_locked(&self) -> usize {
        self.universe
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |u| u.len())
    }
}

/// The names of a seen log; a torn last line (a crash while appending) is skipped.
fn read_seen(path: &Path) -> Result<HashMap<String, i64>, String> {
    let mut out = HashMap::new();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    for line in text.lines() {
        if let Some((name, t)) = line.split_once('\t')
            && let Ok(t) = t.parse::<i64>()
        {
            out.entry(name.to_owned()).or_insert(t);
        }
    }
    Ok(out)
}

/// The protected names of a `tenant,domain` CSV (a header line `tenant,domain` and `#`
/// comments allowed); a line that does not read is an error naming it (a protected list
/// must be right).
pub fn read_protected(path: &Path) -> Result<Vec<Protected>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (i == 0 && line == "tenant,domain") {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let (tenant, domain) = line
            .split_once(',')
            .ok_or_else(|| format!("{}: expected `tenant,domain`", at()))?;
        let (tenant, domain) = (tenant.trim(), domain.trim());
        if !haechi_event::valid_tenant(tenant) {
            return Err(format!("{}: '{tenant}' is not a valid tenant id", at()));
        }
        let name = crate::parse(domain).map_err(|e| format!("{}: {domain}: {e}", at()))?;
        out.push(Protected {
            tenant: tenant.to_owned(),
            name,
        });
    }
    Ok(out)
}

/// Writes a protected list (beside, then renamed: never half a list).
pub fn write_protected(path: &Path, list: &[Protected]) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut text = String::from("tenant,domain\n");
    for p in list {
        text.push_str(&format!("{},{}\n", p.tenant, p.name.registrable));
    }
    let fresh = path.with_extension("csv.new");
    std::fs::write(&fresh, text).map_err(err)?;
    std::fs::rename(&fresh, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<Result<String, String>> {
        list.iter().map(|s| Ok(s.to_string())).collect()
    }

    #[test]
    fn a_watched_batch_finds_look_alikes_and_remembers_new_names_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let watch = Watch::open(dir.path(), None, 0.7).unwrap();
        let p = watch.protect("seoul", "seoul.go.kr", false).unwrap();
        assert!(p.added && p.found.is_empty());
        let report = watch
            .check_names(names(&["seou1.go.kr", "example.com", "not a name"]), 1_000)
            .unwrap();
        assert_eq!((report.names, report.new_names), (3, 2));
        assert_eq!(report.not_read.values().sum::<usize>(), 1);
        let f = &report.findings[0];
        assert_eq!(
            (f.finding.domain.as_str(), f.finding.tenant.as_str(), f.new),
            ("seou1.go.kr", "seoul", true)
        );
        drop(watch);
        // After a restart the name is not new, and keeps the time it was first seen.
        let watch = Watch::open(dir.path(), None, 0.7).unwrap();
        let again = watch.check_names(names(&["seou1.go.kr"]), 2_000).unwrap();
        assert_eq!(again.new_names, 0);
        assert_eq!(
            (again.findings[0].new, again.findings[0].first_seen),
            (false, 1_000)
        );
        // Protecting another institution's name finds the names seen so far.
        let kb = watch.protect("kb", "kbstar.com", false).unwrap();
        assert!(kb.found.is_empty());
        watch.check_names(names(&["kbstra.com"]), 3_000).unwrap();
        let hana = watch.protect("hana", "hanabank.com", false).unwrap();
        assert!(hana.found.is_empty());
        // Merged into the universe, the seen names are still found by a retro-hunt.
        assert_eq!(watch.merge_seen().unwrap(), 3);
        assert_eq!(watch.sizes(), (3, 0));
        watch.unprotect("kb", "kbstar.com").unwrap();
        let kb = watch.protect("kb", "kbstar.com", false).unwrap();
        assert_eq!(kb.found.len(), 1, "{:?}", kb.found);
        assert_eq!(kb.found[0].domain, "kbstra.com");
    }

    #[test]
    fn an_institutions_own_names_are_never_its_look_alikes() {
        let dir = tempfile::tempdir().unwrap();
        let watch = Watch::open(dir.path(), None, 0.7).unwrap();
        watch
            .check_names(names(&["kbstar.net", "kbstar.org"]), 1)
            .unwrap();
        watch.protect("kb", "kbstar.net", false).unwrap();
        let p = watch.protect("kb", "kbstar.com", false).unwrap();
        let found: Vec<&str> = p.found.iter().map(|f| f.domain.as_str()).collect();
        assert_eq!(found, ["kbstar.org"]);
        // The CLI's file, changed behind the watch's back, is read again.
        write_protected(&protected_path(dir.path()), &[]).unwrap();
        assert!(watch.protected(None).unwrap().is_empty());
    }
}
