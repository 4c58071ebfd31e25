//! `haechi drill run` and `drill report` from a shell: two real OTRF recordings (a remote
//! scheduled task and a SAM copy through a shadow copy) replayed into an institution at
//! 1,000× under the SigmaHQ Windows rules. The id is the last line; both techniques are
//! detected with the rules named; the drill's alerts are tagged `drill` and never merge
//! with real ones; the events are stored marked with the drill.

mod common;

use common::*;

#[test]
fn a_drill_replays_recordings_and_scores_each_technique() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drills = sample("drills/otrf_windows_atomic");
    let out = haechi(&[
        "drill",
        "run",
        "--data-dir",
        data.to_str().unwrap(),
        "--tenant",
        "city",
        "--speed",
        "1000",
        "--rules",
        sample("sigma/rules/windows").to_str().unwrap(),
        drills.join("SDWIN-201219070027").to_str().unwrap(),
        drills.join("SDWIN-201019002900").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.lines().last().unwrap().trim().to_owned();
    assert!(id.starts_with("drill-"), "{stdout}");

    let report = haechi(&[
        "drill",
        "report",
        &id,
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(report.status.success(), "{}", describe(&report));
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let techniques = r["techniques"].as_array().unwrap();
    assert_eq!(techniques.len(), 2, "{r}");
    for (t, technique, rule) in [
        (
            &techniques[0],
            "T1053.005",
            "Scheduled Task Creation Via Schtasks.EXE",
        ),
        (
            &techniques[1],
            "T1003.002",
            "Copying Sensitive Files with Credential Data",
        ),
    ] {
        assert_eq!(t["technique"], technique, "{t}");
        assert_eq!(t["detected"], true, "{t}");
        assert!(t["time_to_detect_s"].as_f64().unwrap() >= 0.0);
        assert!(t["rules"].to_string().contains(rule), "{t}");
    }
    assert_eq!(r["share_detected"], 1.0);

    // The drill's alerts are marked; none shares an entity with a real alert.
    let alerts = haechi(&[
        "alerts",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
        "--limit",
        "1000",
    ]);
    assert!(alerts.status.success(), "{}", describe(&alerts));
    let text = String::from_utf8_lossy(&alerts.stdout);
    let listed: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!listed.is_empty(), "{text}");
    for a in &listed {
        assert!(a["tags"].to_string().contains("\"drill\""), "{a}");
        assert!(
            a["entity"]
                .as_str()
                .unwrap()
                .starts_with(&format!("drill:{id}/")),
            "{a}"
        );
    }
    // The replayed events are stored, marked with the drill.
    assert!(search_total(&data, &["--tenant", "city"], &format!("labels.drill:{id}")) > 1000);

    // An unknown drill is refused by name.
    let missing = haechi(&[
        "drill",
        "report",
        "drill-nope",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no drill drill-nope"));
}

/// `haechi drill run --server URL`: the same recordings through a running server's ingest
/// API. The server's rules detect them, its events and alerts are marked with the drill,
/// a playbook that acts on every alert leaves the drill's alone (it does act on the same
/// recording sent for real), and the server keeps the drill for `drill report` and its API.
#[test]
fn a_drill_runs_into_a_running_server() {
    const TOKEN: &str = "drill-server-token-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let books = dir.path().join("playbooks");
    std::fs::create_dir_all(&books).unwrap();
    write_file(
        &books,
        "tag.yml",
        "id: tag-everything\nname: Tag every alert\ntrigger:\n  min_level: low\nactions:\n  - tag: {tags: [played]}\n",
    );
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{TOKEN}\" }}]\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n[respond]\nplaybooks = {}\n",
            toml_path(&data),
            toml_path(&sample("sigma/rules/windows")),
            toml_path(&books)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let drills = sample("drills/otrf_windows_atomic");
    let url = format!("http://{}", server.http);
    let mut cmd = haechi_command(&[
        "drill",
        "run",
        "--server",
        &url,
        "--tenant",
        "city",
        "--speed",
        "1000",
        drills.join("SDWIN-201219070027").to_str().unwrap(),
        drills.join("SDWIN-201019002900").to_str().unwrap(),
    ]);
    let out = cmd.env("HAECHI_TOKEN", TOKEN).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        describe(&out),
        server.stderr()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.lines().last().unwrap().trim().to_owned();
    assert!(id.starts_with("drill-"), "{stdout}");

    // The server kept the drill: the command reads it from the server's data directory.
    let report = haechi(&[
        "drill",
        "report",
        &id,
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(report.status.success(), "{}", describe(&report));
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let detected: Vec<&str> = r["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["detected"] == true)
        .map(|t| t["technique"].as_str().unwrap())
        .collect();
    assert_eq!(detected, ["T1053.005", "T1003.002"], "{r}");
    let listed = server.get_json(TOKEN, "/api/drills?tenant=city");
    assert_eq!(listed["drills"][0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed["drills"][0]["detected"], 2, "{listed}");
    let one = server.get_json(TOKEN, &format!("/api/drills/{id}"));
    assert_eq!(one["share_detected"], 1.0, "{one}");
    // A kept drill is never replaced: ids are not secret.
    let forged = serde_json::json!({"id": id, "name": "forged", "tenant": "other", "speed": 1.0,
        "started": "2026-01-01T00:00:00Z", "runs": [], "alerts": [], "rules_loaded": 0});
    let r = server.request(
        "POST",
        "/api/drills",
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
        ],
        forged.to_string().as_bytes(),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    // A record whose report could not be computed is refused with the reason.
    let mut broken = forged.clone();
    broken["id"] = "drill-20260101-000000-0000".into();
    broken["tenant"] = "city".into();
    broken["started"] = "".into();
    let r = server.request(
        "POST",
        "/api/drills",
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
        ],
        broken.to_string().as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("not an RFC 3339 time"), "{}", r.text());

    // Every alert of the drill is marked, and the playbook left them alone.
    let alerts = server.get_json(TOKEN, "/api/alerts?tenant=city&limit=1000");
    let alerts = alerts["alerts"].as_array().unwrap().clone();
    assert!(!alerts.is_empty());
    for a in &alerts {
        assert_eq!(a["details"]["drill"], id.as_str(), "{a}");
        assert!(
            a["entity"]
                .as_str()
                .unwrap()
                .starts_with(&format!("drill:{id}/")),
            "{a}"
        );
        assert!(
            !a["tags"].to_string().contains("played"),
            "a playbook acted on a drill: {a}"
        );
    }
    // An officer acknowledges the first alert and takes up, then contains, its incident:
    // the report credits them with the times.
    let first = alerts.iter().min_by_key(|a| a["id"].as_i64()).unwrap();
    let alert_id = first["id"].as_i64().unwrap();
    let call = |path: &str, body: serde_json::Value| {
        let r = server.request(
            "POST",
            path,
            &[
                ("Authorization", &format!("Bearer {TOKEN}")),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    };
    call(
        "/api/alerts/triage",
        serde_json::json!({"ids": [alert_id], "action": "acknowledge"}),
    );
    let detail = server.get_json(TOKEN, &format!("/api/alerts/{alert_id}"));
    let incident = detail["incident"]
        .as_i64()
        .expect("the alert is in an incident");
    for status in ["triage", "containment"] {
        call(
            &format!("/api/incidents/{incident}"),
            serde_json::json!({ "status": status }),
        );
    }
    let one = server.get_json(TOKEN, &format!("/api/drills/{id}"));
    // What the officers faced: the drill's alerts, folded into fewer incidents.
    let fold = &one["triage"];
    assert_eq!(fold["alerts"].as_u64(), Some(alerts.len() as u64), "{one}");
    let incidents = fold["incidents"].as_u64().unwrap();
    assert!(
        incidents >= 1 && incidents + fold["ungrouped"].as_u64().unwrap() <= alerts.len() as u64,
        "{fold}"
    );
    assert!(
        fold["alerts_per_incident"].as_f64().unwrap() >= 1.0,
        "{fold}"
    );
    let officers = one["officers"].as_array().unwrap();
    assert_eq!(officers.len(), 1, "{one}");
    let o = &officers[0];
    assert_eq!(
        (&o["acknowledged"], &o["incidents_taken"], &o["responded"]),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1)
        ),
        "{o}"
    );
    for field in [
        "median_time_to_acknowledge_s",
        "median_time_to_take_s",
        "median_time_to_respond_s",
    ] {
        assert!(o[field].as_f64().is_some_and(|s| s >= 0.0), "{field}: {o}");
    }
    let report = haechi(&["drill", "report", &id, "--data-dir", data.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.contains("1 alerts acknowledged") && text.contains("1 responded"),
        "{text}"
    );

    let events = server.get_json(
        TOKEN,
        &format!("/api/events?tenant=city&q=labels.drill:{id}&limit=1"),
    );
    assert!(events["total"].as_u64().unwrap() > 1000, "{events}");

    // The same recording sent for real is acted on: the playbook works, drills are exempt.
    let lines: Vec<String> = std::fs::read_dir(drills.join("SDWIN-201219070027"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let r = server.request(
        "POST",
        "/api/ingest?tenant=real&format=winlog",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        lines.join("\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for(
        "the playbook to tag a real alert",
        std::time::Duration::from_secs(30),
        || {
            let v = server.get_json(TOKEN, "/api/alerts?tenant=real&tag=played&limit=10");
            if v["alerts"].as_array().is_some_and(|a| !a.is_empty()) {
                Ok(())
            } else {
                Err(v.to_string())
            }
        },
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
}
