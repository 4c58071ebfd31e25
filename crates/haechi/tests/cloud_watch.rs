//! Cloud exports delivered into a folder (`[[watch]]`): a running `haechi serve` reads each
//! CloudTrail delivery file once it has settled — gzip, `{"Records": […]}`, nested by
//! account, region and day as CloudTrail writes them — stores every record for the
//! folder's institution, remembers what it read across a restart, and names the file it
//! could not read instead of stopping. The records are the real Stratus Red Team
//! detonations of `../shared/data/cloud`.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TOKEN: &str = "cloud-watch-admin-token";

/// A CloudTrail delivery file (`{"Records": […]}`, gzip) of one Stratus technique's
/// records, written the way a sync tool would: under a hidden name, then renamed.
fn deliver(inbox: &Path, technique: &str, day: &str) -> (PathBuf, usize) {
    let text = std::fs::read_to_string(sample(&format!("cloud/stratus_red_team/{technique}.json")))
        .unwrap();
    let records: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let body = serde_json::json!({ "Records": records }).to_string();
    let dir = inbox.join(format!("AWSLogs/143434273843/CloudTrail/us-east-1/{day}"));
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("143434273843_CloudTrail_us-east-1_{technique}.json.gz");
    let hidden = dir.join(format!(".{name}.part"));
    std::fs::write(&hidden, gzip(body.as_bytes())).unwrap();
    let path = dir.join(name);
    std::fs::rename(&hidden, &path).unwrap();
    (path, records.len())
}

fn config(dir: &Path, inbox: &Path) -> PathBuf {
    write_file(
        dir,
        "haechi.toml",
        &format!(
            r#"data_dir = {data}
listeners = []
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{TOKEN}" }}]
[pipeline]
commit_interval_ms = 100
[[watch]]
name = "cloudtrail"
path = {inbox}
tenant = "city-hall"
suffix = ".json.gz"
poll_secs = 1
settle_secs = 1
"#,
            data = toml_path(&dir.join("data")),
            inbox = toml_path(inbox),
        ),
    )
}

fn stored(data: &Path) -> u64 {
    search_total(
        data,
        &["--from", "2000-01-01", "--tenant", "city-hall"],
        "event.dataset:aws.cloudtrail",
    )
}

fn wait_stored(data: &Path, want: u64) {
    wait_for(
        &format!("{want} CloudTrail records stored"),
        PATIENCE,
        || match stored(data) {
            n if n == want => Ok(()),
            n => Err(format!("{n} stored")),
        },
    );
}

#[test]
fn delivered_cloudtrail_files_are_read_once_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let data = dir.path().join("data");
    let cfg = config(dir.path(), &inbox);

    let server = Server::start(&cfg, &dir.path().join("serve1.stderr"));
    let (_, stop) = deliver(&inbox, "aws.defense-evasion.cloudtrail-stop", "2024/07/31");
    // A file that is not what its name says: named, not fatal.
    let broken = inbox.join("AWSLogs/143434273843/CloudTrail/us-east-1/2024/07/31/broken.json.gz");
    let mut f = std::fs::File::create(&broken).unwrap();
    f.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])
        .unwrap();
    drop(f);
    // Another export in the same folder tree that the suffix leaves out.
    std::fs::write(inbox.join("digest.txt"), "not a log").unwrap();
    wait_stored(&data, stop as u64);

    let state_path = data.join("state/watch-cloudtrail.json");
    let state: serde_json::Value = wait_for("the broken file marked", PATIENCE, || {
        let s: serde_json::Value = std::fs::read(&state_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("no state file yet")?;
        if s["files"].as_object().map(|f| f.len()) == Some(2) {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    });
    let files = state["files"].as_object().unwrap();
    let good = files
        .iter()
        .find(|(k, _)| k.ends_with("cloudtrail-stop.json.gz"))
        .unwrap()
        .1;
    assert_eq!(good["records"], stop as u64);
    assert!(good.get("error").is_none(), "{good}");
    let bad = files
        .iter()
        .find(|(k, _)| k.ends_with("broken.json.gz"))
        .unwrap()
        .1;
    assert!(
        bad["error"].as_str().unwrap().contains("cannot read"),
        "{bad}"
    );
    assert!(!files.keys().any(|k| k.ends_with("digest.txt")));
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("broken.json.gz"),
        "the unreadable file is named: {stderr}"
    );

    // After a restart: what was read is not read again; a new delivery is.
    let server = Server::start(&cfg, &dir.path().join("serve2.stderr"));
    let (_, delete) = deliver(
        &inbox,
        "aws.defense-evasion.cloudtrail-delete",
        "2024/08/01",
    );
    wait_stored(&data, (stop + delete) as u64);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(stored(&data), (stop + delete) as u64);
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    let events = search_events(
        &data,
        &["--from", "2000-01-01", "--tenant", "city-hall"],
        "event.action:StopLogging",
    );
    assert_eq!(
        field(&events[0], "event.provider"),
        Some("cloudtrail.amazonaws.com")
    );
    assert_eq!(field(&events[0], "organization.id"), Some("city-hall"));
}
