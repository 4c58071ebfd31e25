//! The e-mail and tag actions of playbooks, and the CISO digest of vulnerability
//! findings, against a real SMTP server: `aiosmtpd`
//! (PyPI, installed by `scripts/setup-test-tools`) on 127.0.0.1, storing what it
//! receives in a Maildir. An automatic playbook mails the officers on a high alert and
//! tags the alert; the message and the tags are read back from the receiving ends.

mod common;

use common::*;
use serde_json::Value;
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "mail-test-admin-token-0123456789";

const PLAYBOOK: &str = "id: mail-the-officers
name: Mail the officers on a high alert
trigger:
  min_level: high
actions:
  - email: {to: [soc@cert.example, duty@cert.example], subject: \"{{level}}: {{rule}} at {{tenant}}\"}
  - tag: {tags: [mailed, \"campaign-{{attacker}}\"]}
";

/// Runs only when the alert's incident is part of a cross-institution campaign.
const CAMPAIGN_PLAYBOOK: &str = "id: mark-campaigns
name: Mark alerts of cross-institution campaigns
trigger:
  min_level: high
  incident: {campaign: true}
actions:
  - tag: {tags: [campaign]}
";

/// The SMTP server, stopped when dropped.
struct Smtp {
    child: Child,
    port: u16,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp(maildir: &std::path::Path) -> Smtp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let smtp = Smtp { child, port };
    wait_for(
        "aiosmtpd listening (scripts/setup-test-tools installs it)",
        PATIENCE,
        || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
    smtp
}

/// Sends one access-log line for `tenant` over the API.
fn ingest(server: &Server, tenant: &str, line: &str) {
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(
        "POST",
        &format!("/api/ingest?tenant={tenant}&format=clf"),
        &[("Authorization", &auth)],
        line.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// `GET path` as JSON (`null` when the answer is not JSON).
fn get(server: &Server, path: &str) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let r = server.request("GET", path, &[("Authorization", &auth)], b"");
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

#[test]
fn playbooks_send_email_over_smtp_and_tag_the_alert() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = start_smtp(&maildir);
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    std::fs::write(playbooks.join("mail.yml"), PLAYBOOK).unwrap();
    std::fs::write(playbooks.join("campaign.yml"), CAMPAIGN_PLAYBOOK).unwrap();
    let rules = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules/starter/web_path_traversal.yml");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{TOKEN}\", name = \"ops\" }}]\n[pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n[respond]\nplaybooks = {}\n[respond.smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"Haechi <haechi@cert.example>\"\ntls = \"none\"\n",
            toml_path(&dir.path().join("data")),
            toml_path(&rules),
            toml_path(&playbooks),
            smtp.port
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let line = format!(
        "203.0.113.88 - - [{}] \"GET /dl?file=../../../etc/passwd HTTP/1.1\" 404 1 \"-\" \"curl/8\"",
        clf_time(0)
    );
    ingest(&server, "seoul", &line);

    // The message, as the SMTP server stored it.
    let message = wait_for("the e-mail in the Maildir", PATIENCE, || {
        let files: Vec<_> = std::fs::read_dir(maildir.join("new"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        match files.as_slice() {
            [one] => std::fs::read_to_string(one).map_err(|e| e.to_string()),
            other => Err(format!("{} messages", other.len())),
        }
    });
    let unfolded = message.replace("\r\n ", " ").replace("\n ", " ");
    for expected in [
        "From: Haechi <haechi@cert.example>",
        "Subject: high: Path traversal attempt in a web request at seoul",
        "soc@cert.example",
        "duty@cert.example",
        "Institution: seoul",
        "Entity: source.ip=203.0.113.88",
        "Playbook: Mail the officers on a high alert (mail-the-officers)",
    ] {
        assert!(
            unfolded.contains(expected),
            "{expected} missing in:\n{message}"
        );
    }

    // The alert carries the tags, and the tag filter finds it.
    let alerts = wait_for("the tagged alert", PATIENCE, || {
        let v = get(&server, "/api/alerts?tag=mailed");
        match v["alerts"].as_array() {
            Some(a) if a.len() == 1 => Ok(a.clone()),
            _ => Err(v.to_string()),
        }
    });
    let tags = alerts[0]["tags"].as_array().unwrap();
    assert!(
        tags.contains(&Value::from("campaign-203.0.113.88")),
        "{tags:?}"
    );
    // The run is recorded with both actions done.
    let v = get(&server, "/api/playbook-runs");
    let run = &v["runs"][0];
    assert_eq!(run["status"], "done", "{v}");
    let outcomes = run["outcomes"].as_array().unwrap();
    assert!(outcomes.iter().all(|o| o["ok"] == true), "{v}");

    // With the SMTP server gone, the run is marked failed with the reason, and the tag
    // action after the e-mail still happens.
    drop(smtp);
    let line = line.replace("203.0.113.88", "203.0.113.89");
    ingest(&server, "seoul", &line);
    let failed = wait_for("the failed run", PATIENCE, || {
        let v = get(&server, "/api/playbook-runs?status=failed");
        v["runs"]
            .as_array()
            .and_then(|a| a.first().cloned())
            .ok_or_else(|| v.to_string())
    });
    let outcomes = failed["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[0]["ok"], false, "{failed}");
    assert!(
        outcomes[0]["detail"].as_str().unwrap().contains("SMTP"),
        "{failed}"
    );
    assert_eq!(outcomes[1]["ok"], true, "{failed}");

    // The first attacker now hits Busan too: that alert's incident joins a campaign,
    // so the campaign playbook tags it, and only it.
    let line = line.replace("203.0.113.89", "203.0.113.88");
    ingest(&server, "busan", &line);
    let tagged = wait_for("the campaign-tagged alert", PATIENCE, || {
        let v = get(&server, "/api/alerts?tag=campaign");
        match v["alerts"].as_array() {
            Some(a) if !a.is_empty() => Ok(a.clone()),
            _ => Err(v.to_string()),
        }
    });
    let tenants: Vec<&str> = tagged
        .iter()
        .map(|a| a["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(
        tenants,
        ["busan"],
        "the Seoul alerts came before the campaign"
    );
}

#[test]
fn e_mail_actions_are_checked_when_playbooks_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yml"),
        "id: bad\nname: Bad\ntrigger: {min_level: high}\nactions:\n  - email: {to: [not-an-address], subject: x}\n",
    )
    .unwrap();
    let out = haechi(&["playbook", "check", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        describe(&out).contains("'not-an-address' is not an e-mail address"),
        "{}",
        describe(&out)
    );
}

/// The CISO's digest: the findings since the last digest, mailed through the same SMTP
/// settings as the playbooks' e-mail action; the next digest starts where it ended.
#[test]
fn the_vulnerability_digest_mails_only_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = start_smtp(&maildir);
    let data = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\n[respond.smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"Haechi <haechi@cert.example>\"\ntls = \"none\"\n",
            toml_path(&data),
            smtp.port
        ),
    );
    let c = config.to_str().unwrap();
    let vulns = sample("vulns");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--config", c]);
        let out = haechi(&all);
        assert!(out.status.success(), "haechi {args:?}: {}", describe(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&[
        "vuln",
        "db",
        "import",
        vulns
            .join("friendsofphp_security_advisories")
            .to_str()
            .unwrap(),
        vulns.join("cisa_kev").to_str().unwrap(),
    ]);
    run(&[
        "sbom",
        "add",
        "--tenant",
        "seoul",
        "--system",
        "wiki",
        vulns
            .join("lockfiles/bookstack_v0.30.0/composer.lock")
            .to_str()
            .unwrap(),
    ]);
    let sent = run(&[
        "vuln",
        "digest",
        "--tenant",
        "seoul",
        "--to",
        "ciso@seoul.example",
    ]);
    assert!(sent.contains("sent to ciso@seoul.example"), "{sent}");
    let messages = || -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(maildir.join(sub)) {
                for e in entries.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap());
                }
            }
        }
        out
    };
    let mail = wait_for("the digest in the mailbox", PATIENCE, || {
        messages()
            .into_iter()
            .next()
            .ok_or_else(|| "no message yet".to_owned())
    });
    assert!(mail.contains("ciso@seoul.example"));
    assert!(
        mail.contains("Known exploited (CISA KEV)") && mail.contains("facade/ignition"),
        "{mail}"
    );
    assert!(mail.contains("upgrade to"), "{mail}");
    // Nothing new: no second message.
    let again = run(&[
        "vuln",
        "digest",
        "--tenant",
        "seoul",
        "--to",
        "ciso@seoul.example",
    ]);
    assert!(again.contains("nothing new"), "{again}");
    // A new inventory: only its findings go out next time.
    run(&[
        "sbom",
        "add",
        "--tenant",
        "seoul",
        "--system",
        "portal",
        vulns
            .join("lockfiles/bookstack_v0.30.0/composer.lock")
            .to_str()
            .unwrap(),
    ]);
    let printed = run(&["vuln", "digest", "--tenant", "seoul"]);
    assert!(
        printed.contains("on portal") && !printed.contains("on wiki"),
        "{printed}"
    );
    assert_eq!(messages().len(), 1);
}
