//! Version ordering, tested differentially against each ecosystem's own tool: Python's
//! `packaging` (PyPI), `dpkg --compare-versions` (Debian), node-semver (npm), Ruby's
//! `Gem::Version` (RubyGems), Composer's semver library (Packagist), Maven's
//! `ComparableVersion` and Go's `x/mod/semver`. `scripts/version-oracle.py` generates
//! random and adversarial pairs and asks the native tool; every pair must agree.
//! The tools are installed by `scripts/setup-test-tools`; a missing one fails the test.

use haechi_vuln::{Ecosystem, version};
use std::cmp::Ordering;
use std::path::PathBuf;
use std::process::Command;

fn oracle(ecosystem: &str, count: usize) -> Vec<(String, String, Ordering)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/version-oracle.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([
            "--ecosystem",
            ecosystem,
            "--count",
            &count.to_string(),
            "--seed",
            "7",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the {ecosystem} oracle failed (run scripts/setup-test-tools): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let pairs: Vec<_> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "oracle line {l:?}");
            let o = match f[2] {
                "-1" => Ordering::Less,
                "0" => Ordering::Equal,
                "1" => Ordering::Greater,
                other => panic!("oracle ordering {other}"),
            };
            (f[0].to_owned(), f[1].to_owned(), o)
        })
        .collect();
    assert!(
        pairs.len() >= count / 2,
        "{ecosystem}: only {} pairs from the oracle",
        pairs.len()
    );
    pairs
}

fn agree(ecosystem: Ecosystem, native: &str) {
    let pairs = oracle(native, 2000);
    let mut wrong = Vec::new();
    for (a, b, expected) in &pairs {
        match version::compare(ecosystem, a, b) {
            Ok(o) if o == *expected => {}
            Ok(o) => wrong.push(format!("{a} vs {b}: native {expected:?}, Haechi {o:?}")),
            Err(e) => wrong.push(format!(
                "{a} vs {b}: native {expected:?}, Haechi refused: {e}"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{ecosystem}: {} of {} pairs disagree with the native tool:\n{}",
        wrong.len(),
        pairs.len(),
        wrong
            .iter()
            .take(100)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn pypi_agrees_with_packaging() {
    agree(Ecosystem::PyPI, "PyPI");
}

#[test]
fn debian_agrees_with_dpkg() {
    agree(Ecosystem::Debian, "Debian");
}

#[test]
fn npm_agrees_with_node_semver() {
    agree(Ecosystem::Npm, "npm");
}

#[test]
fn rubygems_agrees_with_gem_version() {
    agree(Ecosystem::RubyGems, "RubyGems");
}

#[test]
fn packagist_agrees_with_composer() {
    agree(Ecosystem::Packagist, "Packagist");
}

#[test]
fn maven_agrees_with_comparable_version() {
    agree(Ecosystem::Maven, "Maven");
}

#[test]
fn go_agrees_with_x_mod_semver() {
    agree(Ecosystem::Go, "Go");
}
