//! `haechi domains scan` on the real name lists of `shared/data/domains` with the
//! protected names of 54 Korean institutions: on the Tranco top 100,000 (popular, benign
//! names) at most 0.01 % alert; the OpenPhish hostnames' look-alikes of the protected
//! names (`hometax.wuaze.com`, `www.citibank-online.vercel.app`) are found with their
//! kind, target and institution; Certificate Transparency lines and a zone file give
//! their look-alikes (typos, keyboard slips, homoglyphs, Korean suffix swaps, the Korean
//! layout); broken records are counted with the reason, never a crash.

mod common;

use common::*;
use serde_json::Value;

fn scan(args: &[&str]) -> (Vec<Value>, String) {
    let mut all = vec!["domains", "scan", "--json"];
    all.extend_from_slice(args);
    let out = haechi(&all);
    assert!(out.status.success(), "{}", describe(&out));
    let findings = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (findings, String::from_utf8(out.stderr).unwrap())
}

fn protected() -> String {
    sample("domains/protected_kr_institutions.csv")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn popular_names_rarely_alert_and_phishing_look_alikes_are_found() {
    let tranco = sample("domains/tranco_top100k.txt");
    // Look-alikes only: the model's rate on popular names is the bench's curve.
    let (findings, summary) = scan(&[
        "--protected",
        &protected(),
        "--model",
        "none",
        tranco.to_str().unwrap(),
    ]);
    assert!(summary.starts_with("100000 names"), "{summary}");
    assert!(
        findings.len() <= 10,
        "at most 0.01 % of 100,000 popular names alert: {findings:?}"
    );
    let phish = sample("domains/phishing_hostnames_openphish.txt");
    let (findings, _) = scan(&["--protected", &protected(), phish.to_str().unwrap()]);
    let found = |domain: &str| {
        findings
            .iter()
            .find(|f| f["domain"] == domain)
            .unwrap_or_else(|| panic!("{domain} in {findings:?}"))
            .clone()
    };
    let hometax = found("hometax.wuaze.com");
    assert_eq!(
        (
            hometax["kind"].as_str(),
            hometax["target"].as_str(),
            hometax["tenant"].as_str()
        ),
        (Some("combosquat"), Some("hometax.go.kr"), Some("nts"))
    );
    assert_eq!(
        found("www.citibank-online.vercel.app")["tenant"],
        "citibank_korea"
    );
    // The model names what drove it: brand and credential words, free hosting.
    let model = findings
        .iter()
        .find(|f| f["domain"] == "app---ledger-live.pages.dev" && f["kind"] == "phishing")
        .unwrap_or_else(|| panic!("the model flags app---ledger-live.pages.dev as phishing"));
    assert!(model["score"].as_f64().unwrap() >= 0.995, "{model}");
    // Below the alert threshold, still found when asked.
    let (all, _) = scan(&[
        "--protected",
        &protected(),
        "--min-score",
        "0.5",
        phish.to_str().unwrap(),
    ]);
    assert!(
        all.iter().any(|f| f["domain"] == "citibankonlline.com"),
        "{all:?}"
    );
}

#[test]
fn certificate_transparency_and_zone_files_give_their_look_alikes() {
    let dir = tempfile::tempdir().unwrap();
    let ct = [
        r#"{"message_type":"certificate_update","data":{"leaf_cert":{"all_domains":["kbstra.com","www.kbstra.com","*.hometaz.go.kr"]}}}"#,
        r#"{"message_type":"heartbeat","timestamp":1}"#,
        r#"{"message_type":"certificate_update","data":{"leaf_cert":{"all_domains":["kbѕtar.com","seoul.or.kr"]}}}"#,
        r#"{"data":{"leaf_cert":{"all_domains":["xn--80ak6aa92e.com","gangnam.go.kr","bad name.com"]}}}"#,
        "not json at all",
    ]
    .join("\n");
    let ct_file = write_file(dir.path(), "ct.jsonl", &ct);
    let (findings, summary) = scan(&["--protected", &protected(), ct_file.to_str().unwrap()]);
    let kind_of = |domain: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["domain"] == domain)
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kind_of("kbstra.com"), ["typosquat"]);
    assert_eq!(kind_of("www.kbstra.com"), ["typosquat"]);
    // `z` for `x` on a Korean name: a neighbouring key, scored as Korean.
    assert_eq!(kind_of("hometaz.go.kr"), ["keyboard"]);
    // Cyrillic `ѕ` in a Latin name: a homoglyph of kbstar.com, and mixed scripts.
    assert_eq!(kind_of("xn--kbtar-i2e.com"), ["homoglyph", "mixed-script"]);
    assert_eq!(kind_of("seoul.or.kr"), ["tld-swap"]);
    // The whole-script Cyrillic `аррӏе` needs no protected name.
    assert_eq!(kind_of("xn--80ak6aa92e.com"), ["homoglyph"]);
    assert!(
        kind_of("gangnam.go.kr").is_empty(),
        "an institution's own name"
    );
    assert!(summary.contains("not read 1: not JSON"), "{summary}");
    assert!(
        summary.contains("a control character or a space"),
        "{summary}"
    );

    let zone = "$ORIGIN com.\n$TTL 86400\n@ IN SOA a.gtld-servers.net. nstld.verisign-grs.com. (1 2 3 4 5)\n\
                shinhan-bank-login IN NS ns1.example.net.\nshinhan-bank-login IN NS ns2.example.net.\n\
                wooribnak IN NS ns1.example.net.\nexample IN NS ns1.example.net.\n\
                broken-record-without-anything\n";
    let zone_file = write_file(dir.path(), "com.zone", zone);
    let gz = dir.path().join("com.zone.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut enc, zone.as_bytes()).unwrap();
    enc.finish().unwrap();
    for file in [zone_file, gz] {
        let (findings, summary) = scan(&["--protected", &protected(), file.to_str().unwrap()]);
        let domains: Vec<&str> = findings
            .iter()
            .map(|f| f["domain"].as_str().unwrap())
            .collect();
        assert_eq!(
            domains,
            ["shinhan-bank-login.com", "wooribnak.com"],
            "{summary}"
        );
        assert_eq!(findings[1]["kind"], "typosquat");
        assert_eq!(findings[1]["target"], "wooribank.com");
    }
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    let out = haechi(&["domains", "scan", "--min-score", "2", "x.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(describe(&out).contains("not a score from 0 to 1"));
    let dir = tempfile::tempdir().unwrap();
    let bad = write_file(
        dir.path(),
        "p.csv",
        "tenant,domain\nseoul,seoul.go.kr\nBad Tenant,x.com\n",
    );
    let names = write_file(dir.path(), "n.txt", "example.com\n");
    let out = haechi(&[
        "domains",
        "scan",
        "--protected",
        bad.to_str().unwrap(),
        names.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(describe(&out).contains("p.csv:3"), "{}", describe(&out));
}

#[test]
fn a_newly_protected_name_is_retro_hunted_over_the_universe() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let tranco = sample("domains/tranco_top100k.txt");
    let phish = sample("domains/phishing_hostnames_openphish.txt");
    let added = haechi(&[
        "domains",
        "universe",
        "add",
        "--data-dir",
        d,
        tranco.to_str().unwrap(),
        phish.to_str().unwrap(),
    ]);
    assert!(added.status.success(), "{}", describe(&added));
    assert!(String::from_utf8_lossy(&added.stdout).contains("names in the universe"));
    let status = haechi(&["domains", "universe", "status", "--data-dir", d]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("bytes per name"),
        "{}",
        describe(&status)
    );
    let out = haechi(&[
        "domains",
        "protect",
        "add",
        "--data-dir",
        d,
        "--tenant",
        "citibank_korea",
        "--json",
        "citibank.co.kr",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let found: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let domains: Vec<&str> = found
        .iter()
        .map(|f| f["domain"].as_str().unwrap())
        .collect();
    for d in ["citicbank.com", "citibank.com", "citibankonlline.com"] {
        assert!(domains.contains(&d), "{d} in {domains:?}");
    }
    // Kept for the next scans: `domains scan` without --protected uses it.
    let names = write_file(dir.path(), "n.txt", "citibank-verify.com\nexample.com\n");
    let (findings, _) = scan(&["--data-dir", d, "--model", "none", names.to_str().unwrap()]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["tenant"], "citibank_korea");
    let list = haechi(&["domains", "protect", "list", "--data-dir", d]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "citibank_korea,citibank.co.kr\n"
    );
    let removed = haechi(&[
        "domains",
        "protect",
        "remove",
        "--data-dir",
        d,
        "--tenant",
        "citibank_korea",
        "citibank.co.kr",
    ]);
    assert!(removed.status.success(), "{}", describe(&removed));
    let again = haechi(&[
        "domains",
        "protect",
        "remove",
        "--data-dir",
        d,
        "--tenant",
        "citibank_korea",
        "citibank.co.kr",
    ]);
    assert!(!again.status.success() && describe(&again).contains("does not protect"));
}

/// A sweep stopped after its checkpoint resumes there: the OpenPhish hosts are read again
/// from the 20,000th entry on, so the look-alike near the start is not printed twice and
/// the checkpoint is gone at the end; a checkpoint of other files is refused by name.
#[test]
fn a_stopped_sweep_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = sample("domains/phishing_hostnames_openphish.txt");
    let tranco = sample("domains/tranco_top100k.txt");
    let whole = scan(&[
        "--protected",
        &protected(),
        "--model",
        "none",
        hosts.to_str().unwrap(),
    ]);
    // As a sweep of Tranco then OpenPhish leaves it when stopped in the second file.
    let checkpoint = write_file(
        dir.path(),
        "sweep.json",
        &serde_json::json!({"files_done": [tranco], "entries_done": 20_000}).to_string(),
    );
    let resumed = scan(&[
        "--protected",
        &protected(),
        "--model",
        "none",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        tranco.to_str().unwrap(),
        hosts.to_str().unwrap(),
    ]);
    assert!(
        resumed
            .1
            .contains("resuming after 1 files and 20000 entries"),
        "{}",
        resumed.1
    );
    let names = |found: &[Value]| -> Vec<String> {
        found
            .iter()
            .map(|f| f["domain"].as_str().unwrap().to_owned())
            .collect()
    };
    let (all, rest) = (names(&whole.0), names(&resumed.0));
    assert!(
        !rest.is_empty() && rest.len() < all.len(),
        "{all:?} / {rest:?}"
    );
    assert!(
        all.ends_with(&rest),
        "the tail of the whole sweep: {all:?} / {rest:?}"
    );
    assert!(
        !checkpoint.exists(),
        "a finished sweep leaves no checkpoint"
    );
    // A checkpoint recorded for other files is refused, not silently applied.
    let other = write_file(
        dir.path(),
        "other.json",
        r#"{"files_done": ["elsewhere.txt"], "entries_done": 5}"#,
    );
    let out = haechi(&[
        "domains",
        "scan",
        "--model",
        "none",
        "--checkpoint",
        other.to_str().unwrap(),
        hosts.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("recorded for other files"),
        "{}",
        describe(&out)
    );
}
