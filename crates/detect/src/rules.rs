//! Loading Sigma rules: files, directories, and the report of what did not load.

use rsigma_parser::{CorrelationRule, SigmaRule, parse_sigma_yaml};
use std::path::{Path, PathBuf};

/// The largest rule file read (a client-controlled size when rules are uploaded).
pub const MAX_RULE_FILE_BYTES: u64 = 4 << 20;

/// Who wrote a rule and what it is: carried by every alert the rule raises.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleInfo {
    /// The rule's `id` (a UUID in SigmaHQ); the title where a rule has none.
    pub id: String,
    pub title: String,
    pub author: Option<String>,
    pub level: Option<String>,
    pub status: Option<String>,
    pub references: Vec<String>,
    /// ATT&CK and other tags (`attack.t1059.001`, `attack.execution`, …).
    pub tags: Vec<String>,
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    /// The file the rule came from.
    pub path: PathBuf,
}

/// A rule that is loaded and compiles.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub info: RuleInfo,
    pub rule: SigmaRule,
}

/// A Sigma correlation rule (`event_count`, `value_count`, `temporal`,
/// `temporal_ordered`) over the rules it names.
#[derive(Debug, Clone)]
pub struct LoadedCorrelation {
    pub info: RuleInfo,
    pub rule: CorrelationRule,
}

/// A file or rule that did not load, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleFailure {
    pub path: PathBuf,
    pub reason: String,
}

/// What loading a set of paths produced.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<LoadedRule>,
    /// Correlation rules; whether the rules they name exist is checked when a
    /// [`crate::hunt::Detector`] is built.
    pub correlations: Vec<LoadedCorrelation>,
    pub failures: Vec<RuleFailure>,
    /// Rule documents seen (loaded + failed).
    pub total: usize,
}

/// Loads every `*.yml` / `*.yaml` under the given files and directories (recursively,
/// sorted, hidden entries skipped). A file that cannot be read or parsed, and a rule
/// that does not compile, are listed in [`RuleSet::failures`]; the rest load.
pub fn load_rules(paths: &[PathBuf]) -> std::io::Result<RuleSet> {
    let mut files = Vec::new();
    for p in paths {
        collect_rule_files(p, &mut files)?;
    }
    let mut set = RuleSet::default();
    for file in files {
        load_file(&file, &mut set);
    }
    Ok(set)
}

fn collect_rule_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if e.is_dir() {
            collect_rule_files(&e, out)?;
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            out.push(e);
        }
    }
    Ok(())
}

/// The attribution of a detection or correlation rule (the two types share these
/// field names); the logsource is left empty.
macro_rules! attribution {
    ($rule:expr, $path:expr) => {
        RuleInfo {
            id: $rule.id.clone().unwrap_or_else(|| $rule.title.clone()),
            title: $rule.title.clone(),
            author: $rule.author.clone(),
            level: $rule.level.as_ref().map(|l| l.as_str().to_owned()),
            status: $rule
                .status
                .as_ref()
                .map(|s| format!("{s:?}").to_lowercase()),
            references: $rule.references.clone(),
            tags: $rule.tags.clone(),
            product: None,
            category: None,
            service: None,
            path: $path.to_owned(),
        }
    };
}

fn load_file(path: &Path, set: &mut RuleSet) {
    let fail = |set: &mut RuleSet, reason: String| {
        set.total += 1;
        set.failures.push(RuleFailure {
            path: path.to_owned(),
            reason,
        });
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_RULE_FILE_BYTES => {
            return fail(
                set,
                format!(
                    "rule file of {} bytes exceeds the limit of {MAX_RULE_FILE_BYTES} bytes",
                    m.len()
                ),
            );
        }
        Err(e) => return fail(set, format!("cannot read: {e}")),
        Ok(_) => {}
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(set, format!("cannot read: {e}")),
    };
    let collection = match parse_sigma_yaml(&text) {
        Ok(c) => c,
        Err(e) => return fail(set, e.to_string()),
    };
    for error in &collection.errors {
        fail(set, error.clone());
    }
    for corr in collection.correlations {
        set.total += 1;
        if let Err(e) = rsigma_eval::correlation::compile_correlation(&corr) {
            set.failures.push(RuleFailure {
                path: path.to_owned(),
                reason: format!("correlation '{}' does not compile: {e}", corr.title),
            });
            continue;
        }
        let info = attribution!(corr, path);
        set.correlations
            .push(LoadedCorrelation { info, rule: corr });
    }
    for mut rule in collection.rules {
        set.total += 1;
        if let Some(placeholder) = crate::rewrite::unresolved_placeholder(&rule) {
            set.failures.push(RuleFailure {
                path: path.to_owned(),
                reason: format!(
                    "rule '{}' uses the placeholder {placeholder} (|expand) and no value is configured for it; \
                     the Sigma specification says to reject such a rule rather than evaluate it",
                    rule.title
                ),
            });
            continue;
        }
        crate::rewrite::conform(&mut rule);
        // Compiling proves the detection and condition are usable, not just parseable.
        if let Err(e) = rsigma_eval::compile_rule(&rule) {
            set.failures.push(RuleFailure {
                path: path.to_owned(),
                reason: format!("rule '{}' does not compile: {e}", rule.title),
            });
            continue;
        }
        let info = RuleInfo {
            product: rule.logsource.product.clone(),
            category: rule.logsource.category.clone(),
            service: rule.logsource.service.clone(),
            ..attribution!(rule, path)
        };
        set.rules.push(LoadedRule { info, rule });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sigma");

    #[test]
    fn the_public_sigmahq_set_loads_with_attribution() {
        let set = load_rules(&[PathBuf::from(SIGMA)]).expect("../shared/data/sigma must exist");
        assert!(
            set.total >= 3_780,
            "all rule documents are counted: {}",
            set.total
        );
        let loaded = set.rules.len() as f64 / set.total as f64;
        assert!(
            loaded >= 0.99,
            "at least 99% load: {} of {}; failures: {:?}",
            set.rules.len(),
            set.total,
            &set.failures[..set.failures.len().min(5)]
        );
        let whoami = set
            .rules
            .iter()
            .find(|r| r.info.id == "c248c896-e412-4279-8c15-1c558067b6fa")
            .expect("a known SigmaHQ rule");
        assert_eq!(
            whoami.info.title,
            "Enumerate All Information With Whoami.EXE"
        );
        assert!(
            whoami.info.author.as_deref().is_some_and(|a| !a.is_empty()),
            "author kept (DRL 1.1)"
        );
        assert_eq!(whoami.info.level.as_deref(), Some("medium"));
        assert!(
            whoami.info.tags.iter().any(|t| t.starts_with("attack.")),
            "ATT&CK tags kept"
        );
        assert_eq!(whoami.info.category.as_deref(), Some("process_creation"));
    }

    #[test]
    fn broken_files_are_listed_with_path_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad_modifier.yml"), "title: t\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|foo: x\n  condition: sel\n").unwrap();
        std::fs::write(dir.path().join("bad_yaml.yml"), "title: [unclosed\n").unwrap();
        std::fs::write(dir.path().join("good.yml"), "title: ok\nid: 11111111-2222-3333-4444-555555555555\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\nlevel: high\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();
        let set = load_rules(&[dir.path().to_owned()]).unwrap();
        assert_eq!(set.rules.len(), 1);
        assert_eq!(set.total, 3);
        assert_eq!(set.failures.len(), 2);
        let by_file = |name: &str| {
            set.failures
                .iter()
                .find(|f| f.path.ends_with(name))
                .map(|f| f.reason.clone())
                .unwrap_or_default()
        };
        assert!(
            by_file("bad_modifier.yml")
                .to_lowercase()
                .contains("modifier"),
            "{}",
            by_file("bad_modifier.yml")
        );
        assert!(
            by_file("bad_yaml.yml").to_lowercase().contains("yaml"),
            "{}",
            by_file("bad_yaml.yml")
        );
        assert_eq!(set.rules[0].info.level.as_deref(), Some("high"));
    }
}
