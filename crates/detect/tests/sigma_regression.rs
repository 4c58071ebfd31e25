//! SigmaHQ's own regression tests: for each rule in `../shared/data/sigma_regression`, a
//! real EVTX sample on which the rule must fire. Every rule is evaluated together with the
//! whole public rule set, as `haechi hunt` does.

use haechi_detect::hunt::Detector;
use haechi_detect::rules::load_rules;
use haechi_ingest::ParseContext;
use haechi_ingest::parsers::evtx::parse_evtx_file;
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// (rule id, sample path) from every `info.yml` with an EVTX sample.
fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new(DATA).join("sigma_regression");
    let mut infos = Vec::new();
    walk(&root.join("regression_data"), &mut infos);
    let mut out = Vec::new();
    for info in infos {
        let text = std::fs::read_to_string(&info).unwrap();
        let id = text
            .split("rule_metadata:")
            .nth(1)
            .and_then(|t| t.lines().find_map(|l| l.trim().strip_prefix("- id:")))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| panic!("{}: no rule id", info.display()));
        for line in text.lines() {
            if let Some(p) = line.trim().strip_prefix("path:") {
                let p = p.trim();
                if p.ends_with(".evtx") {
                    out.push((id.clone(), root.join(p)));
                }
            }
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
}

#[test]
fn every_regression_rule_fires_on_its_sample() {
    let set = load_rules(&[Path::new(DATA).join("sigma")]).expect("../shared/data/sigma");
    let (detector, failures) = Detector::new(&set);
    assert!(failures.is_empty(), "{failures:?}");
    let cases = cases();
    assert!(
        cases.len() >= 160,
        "the regression set has EVTX samples for 162 rules: {}",
        cases.len()
    );
    let ctx = ParseContext::new("regression");
    let mut missed = Vec::new();
    for (id, sample) in &cases {
        let mut fired = false;
        parse_evtx_file(sample, &ctx, &mut |r| {
            if let Ok(event) = r
                && !fired
            {
                fired = detector.detect(&event, 0).iter().any(|d| &d.rule.id == id);
            }
        })
        .unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
        if !fired {
            missed.push(format!(
                "{id} {}",
                sample.strip_prefix(DATA).unwrap_or(sample).display()
            ));
        }
    }
    let fired = cases.len() - missed.len();
    eprintln!(
        "{fired} of {} regression rules fire on their samples",
        cases.len()
    );
    // Known exceptions, each with its reason, are listed here; anything else fails.
    assert!(
        missed.is_empty(),
        "{} rules did not fire on their sample:\n{}",
        missed.len(),
        missed.join("\n")
    );
}
