//! Advisories arriving over TAXII are matched against every stored inventory at once: a
//! partner's Haechi exports the Ignition advisory (CVE-2021-3129, KEV) as STIX 2.1 with
//! its OSV record in `x_haechi_osv` and pushes it over TAXII into the center's hub; the
//! center, which never imported FriendsOfPHP, matches it against Seoul's stored
//! composer.lock within seconds, and the KEV finding is an alert in Seoul's queue.

mod common;

use base64::Engine;
use common::*;
use serde_json::Value;

const ADMIN: &str = "admin-token-for-the-vuln-hub-test";
const RULE: &str = "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
const IGNITION: &str = "FRIENDSOFPHP-facade/ignition-CVE-2021-3129";

#[test]
fn an_advisory_pushed_over_taxii_reaches_stored_inventories() {
    let dir = tempfile::tempdir().unwrap();
    let vulns = sample("vulns");
    let lock = vulns.join("lockfiles/bookstack_v0.30.0/composer.lock");

    // The partner: its own Haechi with FriendsOfPHP, its own copy of the lockfile.
    let partner = dir.path().join("partner");
    cli(
        &partner,
        &[
            "vuln",
            "db",
            "import",
            vulns
                .join("friendsofphp_security_advisories")
                .to_str()
                .unwrap(),
        ],
        "",
    );
    cli(
        &partner,
        &[
            "sbom",
            "add",
            "--tenant",
            "lab",
            "--system",
            "wiki",
            lock.to_str().unwrap(),
        ],
        "",
    );
    let bundle_path = dir.path().join("ignition.json");
    cli(
        &partner,
        &[
            "vuln",
            "export",
            "--format",
            "stix",
            "--advisory",
            IGNITION,
            "--tlp",
            "green",
            "--out",
            bundle_path.to_str().unwrap(),
        ],
        "",
    );
    let bundle: Value = serde_json::from_slice(&std::fs::read(&bundle_path).unwrap()).unwrap();
    let objects = bundle["objects"].as_array().unwrap().clone();
    let vulnerability = objects
        .iter()
        .find(|o| o["type"] == "vulnerability")
        .expect("a vulnerability object");
    assert_eq!(vulnerability["name"], "CVE-2021-3129");
    assert_eq!(
        vulnerability["x_haechi_osv"]["id"], IGNITION,
        "the OSV record travels along"
    );

    // The center: KEV only, Seoul's inventory stored, a collection the partner may write.
    let data = dir.path().join("data");
    cli(
        &data,
        &[
            "vuln",
            "db",
            "import",
            vulns.join("cisa_kev").to_str().unwrap(),
        ],
        "",
    );
    let stored = cli(
        &data,
        &[
            "sbom",
            "add",
            "--tenant",
            "seoul",
            "--system",
            "portal",
            "--exposure",
            "internal",
            lock.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        stored.contains(" 0 findings, 0 alerts"),
        "no advisory yet: {stored}"
    );
    cli(&data, &["intel", "collection", "add", "advisories"], "");
    let out = cli(
        &data,
        &[
            "intel",
            "partner",
            "add",
            "acme",
            "--write",
            "advisories",
            "--read",
            "advisories",
        ],
        "",
    );
    let (user, password) = out.lines().last().unwrap().split_once(' ').unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(RULE), rules.join("pt.yml")).unwrap();
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}]\n[detect]\nrules = [{}]\n",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let taxii = "application/taxii+json;version=2.1";
    let listing = server.request(
        "GET",
        "/taxii2/hub/collections/",
        &[("Authorization", &basic), ("Accept", taxii)],
        b"",
    );
    assert_eq!(listing.status, 200, "{}", listing.text());
    let collection = listing.json()["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "advisories" || c["alias"] == "advisories")
        .expect("the advisories collection")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pushed = server.request(
        "POST",
        &format!("/taxii2/hub/collections/{collection}/objects/"),
        &[
            ("Authorization", &basic),
            ("Accept", taxii),
            ("Content-Type", taxii),
        ],
        serde_json::json!({ "objects": objects })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(pushed.status, 202, "{}", pushed.text());

    // Matched at once against the stored inventory: the KEV finding alerts Seoul.
    wait_for("the shared advisory's alert", PATIENCE, || {
        let alerts = server.get_json(ADMIN, "/api/alerts?tenant=seoul&source=vuln");
        let list = alerts["alerts"].as_array().cloned().unwrap_or_default();
        if list.iter().any(|a| a["rule_id"] == IGNITION) {
            Ok(())
        } else {
            Err(alerts.to_string())
        }
    });
    let findings = server.get_json(ADMIN, "/api/vuln/findings?tenant=seoul");
    let ignition: Vec<&Value> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["finding"]["id"] == IGNITION)
        .collect();
    assert_eq!(ignition.len(), 1, "{findings}");
    assert_eq!(ignition[0]["finding"]["kev"], true);
    assert!(
        server
            .stderr()
            .contains("advisories imported from the sharing hub")
    );
}
