//! The vulnerability center over the API, per institution: an institution uploads its
//! lockfile, the KEV finding in it is an alert in its queue at once (through the same
//! path as detection's alerts), another institution sees none of it and cannot remove
//! it, bad uploads are refused with the reason, and changes are audited.

mod common;

use common::*;
use serde_json::Value;

const ADMIN: &str = "admin-token-for-the-vuln-api-test";
const SEOUL: &str = "seoul-token-for-the-vuln-api-test";
const BUSAN: &str = "busan-token-for-the-vuln-api-test";
const RULE: &str = "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

fn call(server: &Server, token: &str, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let r = server.request(method, path, &[("Authorization", &auth)], body);
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

#[test]
fn institutions_upload_inventories_and_see_only_their_own_findings() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(RULE), rules.join("pt.yml")).unwrap();
    let data = dir.path().join("data");
    let vulns = sample("vulns");
    let import = haechi(&[
        "vuln",
        "db",
        "import",
        "--data-dir",
        data.to_str().unwrap(),
        vulns
            .join("friendsofphp_security_advisories")
            .to_str()
            .unwrap(),
        vulns.join("cisa_kev").to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{}", describe(&import));
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 1048576\ntokens = [{{ token = \"{ADMIN}\" }}, {{ token = \"{SEOUL}\", tenant = \"seoul\", name = \"kim\" }}, {{ token = \"{BUSAN}\", tenant = \"busan\", name = \"park\" }}]\n[detect]\nrules = [{}]\n",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let lock = std::fs::read(vulns.join("lockfiles/bookstack_v0.30.0/composer.lock")).unwrap();

    let (status, body) = call(
        &server,
        SEOUL,
        "POST",
        "/api/vuln/sboms?system=wiki&exposure=internal&file=composer.lock",
        &lock,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["tenant"], "seoul",
        "the institution's own tenant by default"
    );
    assert_eq!(body["components"], 137);
    assert!(body["new_findings"].as_u64().unwrap() > 10, "{body}");
    assert_eq!(
        body["alerts"], 1,
        "one KEV hit on an internal system: {body}"
    );
    let id = body["id"].as_i64().unwrap();

    // The alert went where detection's alerts go: the institution's queue.
    let alerts = server.get_json(SEOUL, "/api/alerts?source=vuln");
    let list = alerts["alerts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{alerts}");
    assert_eq!(
        list[0]["rule_id"],
        "FRIENDSOFPHP-facade/ignition-CVE-2021-3129"
    );
    assert_eq!(list[0]["level"], "critical");
    assert_eq!(
        server.get_json(BUSAN, "/api/alerts?source=vuln")["alerts"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Isolation: busan sees nothing of seoul's, may not ask for it, may not remove it.
    let findings = server.get_json(SEOUL, "/api/vuln/findings");
    assert!(findings["findings"].as_array().unwrap().len() > 10);
    assert_eq!(
        server.get_json(BUSAN, "/api/vuln/findings")["findings"],
        serde_json::json!([])
    );
    assert_eq!(
        server.get_json(BUSAN, "/api/vuln/sboms")["sboms"],
        serde_json::json!([])
    );
    let (status, _) = call(
        &server,
        BUSAN,
        "GET",
        "/api/vuln/findings?tenant=seoul",
        b"",
    );
    assert_eq!(status, 403);
    let (status, _) = call(
        &server,
        BUSAN,
        "POST",
        "/api/vuln/sboms?tenant=seoul&system=x&file=composer.lock",
        &lock,
    );
    assert_eq!(status, 403, "busan may not store an inventory for seoul");
    let (status, _) = call(
        &server,
        BUSAN,
        "POST",
        &format!("/api/vuln/sboms/{id}/remove"),
        b"",
    );
    assert_eq!(status, 404);
    let all = server.get_json(ADMIN, "/api/vuln/sboms");
    assert_eq!(all["sboms"].as_array().unwrap().len(), 1);

    // Bad uploads: named reasons, nothing stored.
    let (status, body) = call(
        &server,
        SEOUL,
        "POST",
        "/api/vuln/sboms?system=wiki&file=notes.txt",
        b"just some text",
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("neither a known lockfile nor an SBOM")
    );
    let (status, _) = call(
        &server,
        SEOUL,
        "POST",
        "/api/vuln/sboms?system=wiki&exposure=dmz&file=composer.lock",
        &lock,
    );
    assert_eq!(status, 400);
    let big = vec![b' '; 2 * 1024 * 1024];
    let (status, _) = call(
        &server,
        SEOUL,
        "POST",
        "/api/vuln/sboms?system=wiki&file=bom.json",
        &big,
    );
    assert_eq!(status, 413, "the body limit applies");
    let (status, _) = call(
        &server,
        ADMIN,
        "POST",
        "/api/vuln/sboms?system=wiki&file=composer.lock",
        &lock,
    );
    assert_eq!(status, 400, "a center-wide caller names the institution");
    assert_eq!(
        server.get_json(ADMIN, "/api/vuln/sboms")["sboms"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (status, body) = call(
        &server,
        SEOUL,
        "POST",
        &format!("/api/vuln/sboms/{id}/remove"),
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        server.get_json(SEOUL, "/api/vuln/findings")["findings"],
        serde_json::json!([])
    );
    let audit = server.get_json(ADMIN, "/api/audit");
    let text = audit.to_string();
    assert!(
        text.contains("sbom.add") && text.contains("sbom.remove"),
        "{audit}"
    );
    server.terminate();
}

/// An advisory dropped into the watched folder reaches the stored inventories without
/// anyone running a command: the KEV-listed one becomes an alert in the queue.
#[test]
fn an_advisory_dropped_into_the_watched_folder_alerts_on_stored_inventories() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(RULE), rules.join("pt.yml")).unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir_all(&feed).unwrap();
    let data = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{SEOUL}\", tenant = \"seoul\", name = \"kim\" }}]\n[detect]\nrules = [{}]\n[vuln]\nadvisories = {}\npoll_secs = 1\n",
            toml_path(&data),
            toml_path(&rules),
            toml_path(&feed)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let vulns = sample("vulns");
    let lock = std::fs::read(vulns.join("lockfiles/bookstack_v0.30.0/composer.lock")).unwrap();
    let (status, body) = call(
        &server,
        SEOUL,
        "POST",
        "/api/vuln/sboms?system=wiki&file=composer.lock",
        &lock,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["new_findings"], 0, "no advisory is known yet: {body}");
    // A sync job drops the feed's files in.
    let src = vulns.join("friendsofphp_security_advisories/facade/ignition/CVE-2021-3129.yaml");
    std::fs::create_dir_all(feed.join("facade/ignition")).unwrap();
    std::fs::copy(&src, feed.join("facade/ignition/CVE-2021-3129.yaml")).unwrap();
    std::fs::copy(
        vulns.join("cisa_kev/known_exploited_vulnerabilities.json"),
        feed.join("kev.json"),
    )
    .unwrap();
    let alert = wait_for("the KEV alert from the watched folder", PATIENCE, || {
        let alerts = server.get_json(SEOUL, "/api/alerts?source=vuln");
        alerts["alerts"]
            .as_array()
            .and_then(|a| a.first().cloned())
            .ok_or_else(|| format!("no vuln alert yet: {alerts}"))
    });
    assert_eq!(
        alert["rule_id"],
        "FRIENDSOFPHP-facade/ignition-CVE-2021-3129"
    );
    assert_eq!(alert["level"], "critical");
    let findings = server.get_json(SEOUL, "/api/vuln/findings");
    assert_eq!(findings["findings"].as_array().unwrap().len(), 1);
    server.terminate();
}
