//! `haechi doctor` on a real deployment layout: healthy after ingesting real events with
//! the starter rules; then each problem an operator meets is found and said — credentials
//! readable by others (a failure), a certificate about to expire and events stamped ahead
//! of the clock (warnings), a feed file that is gone (a failure) — with exit 1 only when
//! something failed.

mod common;

use common::*;
use serde_json::Value;

fn doctor(config: &std::path::Path) -> (Option<i32>, Value) {
    let out = haechi(&["doctor", "--config", config.to_str().unwrap(), "--json"]);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
    (out.status.code(), v)
}

fn status<'a>(v: &'a Value, check: &str) -> Vec<&'a str> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == check)
        .map(|c| c["status"].as_str().unwrap())
        .collect()
}

#[test]
fn the_doctor_finds_what_an_operator_must_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/starter");
    let base = format!(
        "data_dir = {}\n[detect]\nrules = [{}]\n",
        toml_path(&data),
        toml_path(&rules)
    );
    let config = write_file(dir.path(), "haechi.toml", &base);
    let lines: Vec<String> = (0..30)
        .map(|s| access_line("198.51.100.7", s, s % 5 == 0))
        .collect();
    let log = write_file(dir.path(), "access.log", &(lines.join("\n") + "\n"));
    cli(
        &data,
        &[
            "ingest",
            "--tenant",
            "seoul",
            "--format",
            "clf",
            log.to_str().unwrap(),
        ],
        "",
    );
    add_user(&data, "kim", "center", None, "a long enough password 1");
    let (code, v) = doctor(&config);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["healthy"], true);
    for c in [
        "data-dir",
        "disk",
        "clock",
        "dead-letters",
        "rules",
        "certificate",
    ] {
        assert_eq!(status(&v, c), ["ok"], "{c}: {v}");
    }

    // The credentials database readable by others: a failure, named.
    let access = data.join("state/access.db");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&access, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, v) = doctor(&config);
    assert_eq!(code, Some(1), "{v}");
    assert!(status(&v, "permissions").contains(&"fail"), "{v}");
    std::fs::set_permissions(&access, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A certificate with ten days left and an event a day ahead: warnings, still healthy.
    let (cert, key) = openssl_self_signed(dir.path(), "console", "rsa:2048", 10, &[]);
    let ahead = format!(
        "198.51.100.8 - - [{}] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl/8\"\n",
        clf_time(86_400 + 600)
    );
    let future = write_file(dir.path(), "future.log", &ahead);
    cli(
        &data,
        &[
            "ingest",
            "--tenant",
            "seoul",
            "--format",
            "clf",
            future.to_str().unwrap(),
        ],
        "",
    );
    let with_tls = format!(
        "{base}[http]\ntls_cert = {}\ntls_key = {}\n",
        toml_path(&cert),
        toml_path(&key)
    );
    let config = write_file(dir.path(), "haechi.toml", &with_tls);
    let (code, v) = doctor(&config);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(status(&v, "certificate"), ["warn"], "{v}");
    assert_eq!(status(&v, "clock"), ["warn"], "{v}");

    // A feed whose file is gone: a failure.
    let feed = format!(
        "{with_tls}[[intel.feeds]]\nname = \"gone\"\npath = {}\nformat = \"plain\"\n",
        toml_path(&dir.path().join("gone.txt"))
    );
    let config = write_file(dir.path(), "haechi.toml", &feed);
    let (code, v) = doctor(&config);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(status(&v, "feed"), ["fail"], "{v}");
}
