//! The advisories converted into OSV (RubySec, FriendsOfPHP, Node.js security WG) affect
//! exactly the versions their own ecosystem's tool says they affect. For every staged
//! advisory, the versions at and around each bound are asked of `scripts/range-oracle.py`
//! (Ruby's Gem::Requirement, Composer's Semver::satisfies, node-semver's satisfies with
//! pre-releases included) and compared with Haechi's converted ranges. The only
//! differences allowed are the documented approximations (an exclusive lower bound read
//! as inclusive), and only at that bound.

mod common;
use common::vulns;

use haechi_vuln::advisory::{Advisory, CompiledAffected};
use haechi_vuln::{Ecosystem, convert, version};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![vulns(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The version tokens of constraint strings (`>= 1.2.3`, `~> 2.0`, `<1.4 || 2.x`).
fn tokens(constraints: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for c in constraints {
        for t in c.split(|ch: char| ch == ',' || ch == '|' || ch.is_whitespace()) {
            let t = t.trim_start_matches(['<', '>', '=', '!', '~', '^']).trim();
            if t.starts_with(|ch: char| ch.is_ascii_digit()) {
                out.push(t.to_owned());
            }
        }
    }
    out
}

/// A bound and its neighbours: the last number one up and one down, one more segment,
/// and a pre-release of it in the ecosystem's spelling.
fn around(v: &str, pre: &str) -> Vec<String> {
    let mut out = vec![v.to_owned(), format!("{v}.1"), format!("{v}{pre}")];
    let core_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let core = v[..core_end].trim_end_matches('.');
    if let Some((head, last)) = core.rsplit_once('.')
        && let Ok(n) = last.parse::<u64>()
    {
        out.push(format!("{head}.{}", n + 1));
        if n > 0 {
            out.push(format!("{head}.{}", n - 1));
        }
    }
    out
}

fn oracle(ecosystem: &str, cases: &[Value]) -> Vec<Option<bool>> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/range-oracle.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["--ecosystem", ecosystem])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut input = String::new();
    for c in cases {
        input.push_str(&c.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "the {ecosystem} range oracle failed (run scripts/setup-test-tools): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Option<bool>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| match l {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        })
        .collect();
    assert_eq!(answers.len(), cases.len());
    answers
}

/// A RubyGems pre-release's release, as `Gem::Version#bump` writes it: the numbers
/// before the first letter, trailing zeros dropped (`3.1.0.beta1` → `3.1`).
fn release(v: &str) -> String {
    let numbers: Vec<&str> = v
        .split(['.', '-'])
        .take_while(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let mut n = numbers.len();
    while n > 1 && numbers[n - 1].trim_start_matches('0').is_empty() {
        n -= 1;
    }
    numbers[..n].join(".")
}

fn haechi_affects(c: &CompiledAffected, eco: Ecosystem, v: &str) -> Result<bool, String> {
    let parsed = version::parse(eco, v).map_err(|e| e.to_string())?;
    Ok(c.affects(&parsed, v).is_some())
}

/// Compares; returns (cases asked, cases the native tool rejected).
fn compare(
    eco: Ecosystem,
    native: &str,
    advisories: &[(Advisory, Vec<String>)],
    cases: &[(usize, String, Value)],
) -> (usize, usize) {
    let answers = oracle(
        native,
        &cases.iter().map(|c| c.2.clone()).collect::<Vec<_>>(),
    );
    let compiled: Vec<CompiledAffected> = advisories
        .iter()
        .map(|(a, _)| {
            let c = CompiledAffected::compile(eco, &a.affected[0]);
            assert!(c.unparsable.is_empty(), "{}: {:?}", a.id, c.unparsable);
            c
        })
        .collect();
    let mut wrong = Vec::new();
    let mut rejected = 0;
    for ((i, v, _), native_answer) in cases.iter().zip(&answers) {
        let Some(expected) = native_answer else {
            rejected += 1;
            continue;
        };
        let (a, notes) = &advisories[*i];
        match haechi_affects(&compiled[*i], eco, v) {
            Ok(got) if got == *expected => {}
            // An approximated exclusive lower bound differs at that bound only, and a
            // `~>` bump at its own pre-releases only.
            Ok(_) if notes.iter().any(|n| n.starts_with(&format!("> {v} "))) => {}
            Ok(_)
                if notes
                    .iter()
                    .any(|n| n.starts_with(&format!("pre-releases of {} ", release(v)))) => {}
            Ok(got) => wrong.push(format!("{} on {v}: native {expected}, Haechi {got}", a.id)),
            Err(e) => wrong.push(format!(
                "{} on {v}: native {expected}, Haechi refused: {e}",
                a.id
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{native}: {} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    (cases.len(), rejected)
}

fn yaml(p: &PathBuf) -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn rubysec_conversions_agree_with_gem_requirement() {
    let mut advisories = Vec::new();
    let mut cases = Vec::new();
    for p in files("rubysec_advisory_db/gems", "yml") {
        let doc = yaml(&p);
        let strings = |k: &str| -> Vec<String> {
            doc[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (patched, unaffected) = (strings("patched_versions"), strings("unaffected_versions"));
        let converted = convert::rubysec(&doc).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let all: Vec<&str> = patched
            .iter()
            .chain(&unaffected)
            .map(String::as_str)
            .collect();
        for t in tokens(&all) {
            for v in around(&t, ".beta1") {
                cases.push((
                    advisories.len(),
                    v.clone(),
                    json!({"patched": patched, "unaffected": unaffected, "version": v}),
                ));
            }
        }
        advisories.push(converted);
    }
    let (asked, rejected) = compare(Ecosystem::RubyGems, "RubyGems", &advisories, &cases);
    assert!(
        advisories.len() >= 1234 && asked > 10_000,
        "{} advisories, {asked} cases",
        advisories.len()
    );
    assert!(
        rejected * 20 < asked,
        "{rejected} of {asked} cases rejected by Ruby"
    );
}

#[test]
fn friendsofphp_conversions_agree_with_composer() {
    let mut advisories = Vec::new();
    let mut cases = Vec::new();
    for p in files("friendsofphp_security_advisories", "yaml") {
        let doc = yaml(&p);
        let Some(branches) = doc["branches"].as_object() else {
            continue;
        };
        let lists: Vec<Vec<String>> = branches
            .values()
            .map(|b| {
                b["versions"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let converted =
            convert::friendsofphp(&doc, &stem).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let all: Vec<&str> = lists.iter().flatten().map(String::as_str).collect();
        for t in tokens(&all) {
            for v in around(&t, "-beta1") {
                cases.push((
                    advisories.len(),
                    v.clone(),
                    json!({"branches": lists, "version": v}),
                ));
            }
        }
        advisories.push(converted);
    }
    let (asked, rejected) = compare(Ecosystem::Packagist, "Packagist", &advisories, &cases);
    assert!(
        advisories.len() >= 1592 && asked > 10_000,
        "{} advisories, {asked} cases",
        advisories.len()
    );
    assert!(
        rejected * 20 < asked,
        "{rejected} of {asked} cases rejected by Composer"
    );
}

#[test]
fn nodejs_wg_conversions_agree_with_node_semver() {
    let mut advisories = Vec::new();
    let mut cases = Vec::new();
    for p in files("nodejs_security_wg/vuln/npm", "json") {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let Some(range) = doc["vulnerable_versions"].as_str().map(str::to_owned) else {
            continue;
        };
        let converted = convert::nodejs_wg(&doc).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for t in tokens(&[range.as_str()]) {
            // node-semver wants full versions: pad partial ones.
            let full = match t.split('.').count() {
                1 => format!("{t}.0.0"),
                2 => format!("{t}.0"),
                _ => t.clone(),
            };
            // SemVer has exactly three numbers: no `x.y.z.1` neighbour.
            for v in around(&full, "-beta.1").into_iter().filter(|v| {
                !v.ends_with(".1") || v.ends_with("beta.1") || v.split('.').count() == 3
            }) {
                cases.push((
                    advisories.len(),
                    v.clone(),
                    json!({"range": range, "version": v}),
                ));
            }
        }
        advisories.push(converted);
    }
    let (asked, rejected) = compare(Ecosystem::Npm, "npm", &advisories, &cases);
    assert!(
        advisories.len() >= 467 && asked > 2_000,
        "{} advisories, {asked} cases",
        advisories.len()
    );
    assert!(
        rejected * 5 < asked,
        "{rejected} of {asked} cases rejected by node-semver"
    );
}
