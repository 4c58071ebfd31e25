//! Control towers with `haechi serve`: a tower is a full Haechi with its own NATS server
//! (its own JetStream domain) linked to the center's by a leaf node. The tower alerts
//! on its own while the link is cut; after healing, and across a `kill -9` of the
//! center, the center holds all of the tower's events and alerts, each once, and
//! `/api/cluster` shows the tower's link and institutions.

mod common;
#[path = "../../cluster/tests/common/link.rs"]
mod link;
#[path = "../../cluster/tests/common/nats.rs"]
mod nats;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
const TENANT: &str = "gangnam-hospital";
/// After a cut, nats-server re-establishes sourcing with a growing back-off (seen at up
/// to tens of seconds in a CI run, usually about 1 s).
const CATCH_UP: Duration = Duration::from_secs(180);

fn site_config(
    dir: &Path,
    name: &str,
    rules: &Path,
    nats: &str,
    cluster: &str,
) -> std::path::PathBuf {
    write_file(
        dir,
        &format!("{name}.toml"),
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n\
             [cluster]\nnats = \"{nats}\"\nack_wait_secs = 5\n{cluster}",
            toml_path(&dir.join(name)),
            toml_path(rules),
        ),
    )
}

/// 2,000 lines at the tower, 10 of them attacks; `round` keeps their times apart.
fn send_round(tower: &Server, token: &str, round: u32) {
    for chunk in 0..10u32 {
        let lines: Vec<String> = (0..200u32)
            .map(|i| access_line("203.0.113.9", round * 2000 + chunk * 200 + i, i == 100))
            .collect();
        let r = tower.request(
            "POST",
            &format!("/api/ingest?tenant={TENANT}&format=clf"),
            &[("Authorization", &format!("Bearer {token}"))],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

fn events(server: &Server, token: &str) -> u64 {
    server.get_json(token, "/api/events?q=&limit=1")["total"]
        .as_u64()
        .unwrap()
}

fn alerts_counted(server: &Server, token: &str) -> u64 {
    let v = server.get_json(token, "/api/alerts");
    v["alerts"]
        .as_array()
        .map(|l| l.iter().map(|a| a["count"].as_u64().unwrap_or(0)).sum())
        .unwrap_or(0)
}

fn tower_link(center: &Server, token: &str) -> Value {
    let v = center.get_json(token, "/api/cluster");
    v["towers"][0].clone()
}

#[test]
fn a_tower_alerts_alone_while_cut_off_and_the_center_gets_everything_once() {
    let leaf_port = nats::free_port();
    let center_nats = nats::NatsServer::start_with(&format!(
        "server_name: center\njetstream {{ domain: center }}\n\
         leafnodes {{ listen: \"127.0.0.1:{leaf_port}\", no_advertise: true }}\n"
    ));
    let link = link::Link::start(format!("127.0.0.1:{leaf_port}").parse().unwrap());
    let tower_nats = nats::NatsServer::start_with(&format!(
        "server_name: gangnam\njetstream {{ domain: gangnam }}\n\
         leafnodes {{ remotes: [ {{ url: \"nats-leaf://{}\" }} ] }}\n",
        link.addr
    ));
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let center_cfg = site_config(
        dir.path(),
        "center",
        &rules,
        &center_nats.url,
        &format!(
            "site = \"center\"\n[[cluster.towers]]\nsite = \"gangnam\"\ntenants = [\"{TENANT}\"]\n"
        ),
    );
    let tower_cfg = site_config(
        dir.path(),
        "gangnam",
        &rules,
        &tower_nats.url,
        "site = \"gangnam\"\ntower = true\n",
    );
    let center_token = create_token(&dir.path().join("center"), "ops", "admin", None);
    let tower_token = create_token(&dir.path().join("gangnam"), "ops", "admin", None);
    let mut center = Server::start(&center_cfg, &dir.path().join("center-1.stderr"));
    let tower = Server::start(&tower_cfg, &dir.path().join("gangnam.stderr"));

    // Linked: the tower's events and alerts reach the center.
    send_round(&tower, &tower_token, 0);
    wait_for("the center has round 0", PATIENCE, || {
        let (e, a) = (
            events(&center, &center_token),
            alerts_counted(&center, &center_token),
        );
        if e == 2000 && a == 10 {
            Ok(())
        } else {
            Err(format!("{e} events, {a} alerts"))
        }
    });
    let t = tower_link(&center, &center_token);
    assert_eq!(t["site"], "gangnam", "{t}");
    assert_eq!(t["link"], "up", "{t}");
    assert_eq!(t["tenants"][0], TENANT, "{t}");

    // Cut: the tower keeps alerting; the center sees the link down and nothing new.
    link.cut();
    send_round(&tower, &tower_token, 1);
    wait_for("the tower alerts on round 1 alone", PATIENCE, || {
        let (e, a) = (
            events(&tower, &tower_token),
            alerts_counted(&tower, &tower_token),
        );
        if e == 4000 && a == 20 {
            Ok(())
        } else {
            Err(format!("{e} events, {a} alerts"))
        }
    });
    wait_for("the center sees the link down", PATIENCE, || {
        let t = tower_link(&center, &center_token);
        if t["link"] == "down" {
            Ok(())
        } else {
            Err(t.to_string())
        }
    });
    assert_eq!(
        events(&center, &center_token),
        2000,
        "nothing crossed the cut"
    );
    let status = haechi(&[
        "cluster",
        "status",
        "--config",
        tower_cfg.to_str().unwrap(),
        "--json",
    ]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let waiting: u64 = status["streams"][0]["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "center")
        .map(|c| c["pending"].as_u64().unwrap() + c["ack_pending"].as_u64().unwrap())
        .sum();
    assert!(
        waiting > 0,
        "the tower keeps round 1 for the center: {status}"
    );

    // Healed: the center catches up on round 1.
    link.heal();
    let healed = Instant::now();
    wait_for("the center catches up on round 1", CATCH_UP, || {
        let e = events(&center, &center_token);
        if e == 4000 {
            Ok(())
        } else {
            Err(format!("{e} events"))
        }
    });
    eprintln!("catch-up after the cut: {:?}", healed.elapsed());
    // Round 2 while the center's Haechi is killed, then restarted on its data.
    center.kill_hard();
    send_round(&tower, &tower_token, 2);
    center = Server::start(&center_cfg, &dir.path().join("center-2.stderr"));
    wait_for("the center has everything", PATIENCE, || {
        let (e, a) = (
            events(&center, &center_token),
            alerts_counted(&center, &center_token),
        );
        if e == 6000 && a == 30 {
            Ok(())
        } else {
            Err(format!(
                "{e} events, {a} alerts {}",
                center.get_json(&center_token, "/api/cluster")
            ))
        }
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(events(&center, &center_token), 6000, "no event twice");
    assert_eq!(alerts_counted(&center, &center_token), 30, "no alert twice");
    let at_center = center.get_json(&center_token, "/api/alerts");
    assert!(
        at_center["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tenant"] == TENANT),
        "{at_center}"
    );
    wait_for("the link up again", PATIENCE, || {
        let t = tower_link(&center, &center_token);
        if t["link"] == "up" {
            Ok(())
        } else {
            Err(t.to_string())
        }
    });
    for s in [center, tower] {
        let (status, stderr) = s.terminate();
        assert!(status.success(), "{stderr}");
    }
}
