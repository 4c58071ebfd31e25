//! The STIX object store from the command line, on the real STIX 2.1 example bundles of
//! `../shared/data/threat_intel/stix2`: a collection is created, every bundle imported,
//! a second import finds only duplicates, a bundle with a broken object stores the good
//! ones and names the broken one, and the listing gives the objects back as stored.

mod common;

use common::*;

fn run(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    haechi(&all)
}

#[test]
fn stix_bundles_are_imported_versioned_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        &data,
        &[
            "intel",
            "collection",
            "add",
            "partners",
            "--title",
            "Partner feed",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let out = run(&data, &["intel", "collection", "add", "partners"]);
    assert!(
        !out.status.success(),
        "a second collection of that name is refused"
    );
    let mut files: Vec<_> = std::fs::read_dir(sample("threat_intel/stix2"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    let mut args = vec!["intel", "import", "--collection", "partners"];
    let names: Vec<String> = files
        .iter()
        .map(|f| f.to_str().unwrap().to_owned())
        .collect();
    args.extend(names.iter().map(String::as_str));
    let out = run(&data, &args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the OASIS examples are valid: {}",
        describe(&out)
    );
    let stored: usize = text
        .lines()
        .filter_map(|l| {
            l.split(": ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(stored >= 50, "{text}");
    // Everything again: duplicates only.
    let out = run(&data, &args);
    let again = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(again.lines().all(|l| l.contains(": 0 stored")), "{again}");
    // A bundle with one broken object: the good one is stored, the broken one named.
    let broken = write_file(
        dir.path(),
        "broken.json",
        r#"{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[
          {"type":"indicator","spec_version":"2.1","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.66']","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","spec_version":"2.1","id":"indicator--b932fcc6-e032-476c-826f-cb970a5a1ade","created":"2026-11-01T00:00:00.000Z","modified":"2026-10-01T00:00:00.000Z","pattern":"[ipv4-addr:value = ","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z"}]}"#,
    );
    let out = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "partners",
            broken.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(text.contains("1 stored, 0 duplicates, 1 refused"), "{text}");
    assert!(
        text.contains("refused indicator--b932fcc6-e032-476c-826f-cb970a5a1ade: "),
        "{text}"
    );
    // The listing gives back the objects as stored, one JSON object per line.
    let out = run(
        &data,
        &[
            "intel",
            "list",
            "--collection",
            "partners",
            "--type",
            "indicator",
            "--limit",
            "1000",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let listed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(listed.iter().all(|o| o["type"] == "indicator"));
    assert!(
        listed
            .iter()
            .any(|o| o["id"] == "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade")
    );
    assert!(
        !listed
            .iter()
            .any(|o| o["id"] == "indicator--b932fcc6-e032-476c-826f-cb970a5a1ade")
    );
    let out = run(&data, &["intel", "collection", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("partners\t"),
        "{}",
        describe(&out)
    );
    let out = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "nope",
            broken.to_str().unwrap(),
        ],
    );
    assert!(
        describe(&out).contains("haechi intel collection add nope"),
        "{}",
        describe(&out)
    );
}
