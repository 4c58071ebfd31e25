//! Federation on real nats-servers: a tower with its own JetStream domain opens a
//! leaf-node link to the center, and the center's streams source the tower's through
//! the tower's durable `center` consumers. While the link is cut the tower's workers
//! keep going and its streams keep what the center has not taken; after healing the
//! center holds every batch and every alert message once.

#[path = "common/link.rs"]
mod link;
#[path = "common/nats.rs"]
mod nats;

use haechi_cluster::{Bus, ClusterConfig, Delivered, TowerConfig};
use haechi_event::{Event, Timestamp, ecs};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn events(batch: usize, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let mut e = Event::new(
                Timestamp(1_714_557_600_000_000_000 + i as i64),
                "gangnam-hospital".into(),
                3,
            );
            e.push("message", format!("batch {batch} event {i}"));
            e
        })
        .collect()
}

/// Event id -> how often a worker got it.
type Seen = Arc<Mutex<BTreeMap<String, usize>>>;

fn counter(seen: Seen) -> impl Fn(Delivered) -> Result<(), String> + Send + Sync + 'static {
    move |d: Delivered| {
        let mut seen = seen.lock().unwrap();
        for e in &d.events {
            *seen
                .entry(e.get_str(ecs::EVENT_ID).unwrap().to_owned())
                .or_default() += 1;
        }
        Ok(())
    }
}

async fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Sites {
    center: nats::NatsServer,
    tower: nats::NatsServer,
    link: link::Link,
}

fn sites() -> Sites {
    let leaf_port = nats::free_port();
    let center = nats::NatsServer::start_with(&format!(
        "server_name: center\njetstream {{ domain: center }}\n\
         leafnodes {{ listen: \"127.0.0.1:{leaf_port}\", no_advertise: true }}\n"
    ));
    let link = link::Link::start(format!("127.0.0.1:{leaf_port}").parse().unwrap());
    let tower = nats::NatsServer::start_with(&format!(
        "server_name: gangnam\njetstream {{ domain: gangnam }}\n\
         leafnodes {{ remotes: [ {{ url: \"nats-leaf://{}\" }} ] }}\n",
        link.addr
    ));
    Sites {
        center,
        tower,
        link,
    }
}

fn tower_config(s: &Sites) -> ClusterConfig {
    ClusterConfig {
        nats: s.tower.url.clone(),
        site: "gangnam".into(),
        tower: true,
        ack_wait_secs: 2,
        ..Default::default()
    }
}

fn center_config(s: &Sites) -> ClusterConfig {
    ClusterConfig {
        nats: s.center.url.clone(),
        site: "center".into(),
        ack_wait_secs: 2,
        towers: vec![TowerConfig {
            site: "gangnam".into(),
            domain: None,
            tenants: vec!["gangnam-hospital".into()],
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_link_delays_the_center_and_loses_nothing() {
    let s = sites();
    let tower = Bus::connect(&tower_config(&s), "tower-collector")
        .await
        .unwrap();
    let center = Bus::connect(&center_config(&s), "center-api")
        .await
        .unwrap();
    // The tower's own workers, and the center's store writer and detector.
    let (tower_stored, center_stored, center_detected): (Seen, Seen, Seen) = Default::default();
    let spawn = |bus: Bus, consumer: &'static str, seen: Seen| {
        tokio::spawn(async move { bus.work(consumer, counter(seen)).await })
    };
    spawn(
        Bus::connect(&tower_config(&s), "tower-store")
            .await
            .unwrap(),
        "store",
        tower_stored.clone(),
    );
    spawn(
        Bus::connect(&tower_config(&s), "tower-detect")
            .await
            .unwrap(),
        "detect",
        Default::default(),
    );
    spawn(
        Bus::connect(&center_config(&s), "center-store")
            .await
            .unwrap(),
        "store",
        center_stored.clone(),
    );
    spawn(
        Bus::connect(&center_config(&s), "center-detect")
            .await
            .unwrap(),
        "detect",
        center_detected.clone(),
    );
    let alerts_at_center: Arc<Mutex<Vec<String>>> = Default::default();
    let a = alerts_at_center.clone();
    let writer = Bus::connect(&center_config(&s), "center-writer")
        .await
        .unwrap();
    tokio::spawn(async move {
        writer
            .work_alerts(move |d| {
                a.lock().unwrap().push(d.id);
                Ok(())
            })
            .await
    });

    let mut sent = 0;
    let publish_round = |round: usize| {
        let tower = &tower;
        async move {
            let mut n = 0;
            for b in 0..10 {
                let mut batch = events(round * 100 + b, 300);
                tower.publish(&mut batch, Timestamp::now()).await.unwrap();
                n += batch.len();
            }
            tower
                .publish_alerts(&format!("gangnam.round{round}"), &[], Timestamp::now())
                .await
                .unwrap();
            n
        }
    };
    sent += publish_round(0).await;
    let count = |seen: &Seen| seen.lock().unwrap().len();
    wait_until(
        "the center has the first round",
        Duration::from_secs(30),
        || count(&center_stored) == sent,
    )
    .await;
    // Both streams' sourcing reports in (the alerts message, or a heartbeat within 1 s).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = center.status().await.unwrap();
        assert_eq!(status.towers.len(), 1);
        if status.towers[0].link == "up" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the link never showed up: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Cut: the tower keeps working; the center hears nothing and says so.
    s.link.cut();
    sent += publish_round(1).await;
    wait_until(
        "the tower stores its second round",
        Duration::from_secs(30),
        || count(&tower_stored) == sent,
    )
    .await;
    let tower_status = tower.status().await.unwrap();
    let waiting: u64 = tower_status.streams[0]
        .consumers
        .iter()
        .filter(|c| c.name == "center")
        .map(|c| c.pending + c.ack_pending as u64)
        .sum();
    assert!(
        waiting > 0,
        "the tower keeps the batches for the center: {tower_status:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = center.status().await.unwrap();
        if status.towers[0].link == "down" {
            break;
        }
        assert!(Instant::now() < deadline, "still {status:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(count(&center_stored), 3000, "nothing crossed the cut link");

    // Healed: everything arrives, once.
    s.link.heal();
    let healed = Instant::now();
    wait_until("the center catches up", Duration::from_secs(60), || {
        count(&center_stored) == sent
    })
    .await;
    eprintln!("catch-up after healing: {:?}", healed.elapsed());
    wait_until("both alert messages", Duration::from_secs(30), || {
        alerts_at_center.lock().unwrap().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        center_stored.lock().unwrap().values().all(|n| *n == 1),
        "no batch stored twice"
    );
    let mut alert_ids = alerts_at_center.lock().unwrap().clone();
    alert_ids.sort();
    assert_eq!(
        alert_ids,
        ["alerts.gangnam.round0.0", "alerts.gangnam.round1.0"],
        "each tower alert message once"
    );
    assert!(
        center_detected.lock().unwrap().is_empty(),
        "the center does not detect the tower's events again"
    );
    let status = center.status().await.unwrap();
    assert_eq!(status.towers[0].link, "up", "{status:?}");
    // Everything acknowledged leaves the center's streams (nothing piles up there), and
    // the tower's, which the center's sourcing acknowledged.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tower_status = tower.status().await.unwrap();
        // (The tower's ALERTS keeps its messages for the tower's own alert writer, which
        // this test does not run.)
        if tower_status.streams[0].messages > 0 {
            assert!(Instant::now() < deadline, "{tower_status:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let status = center.status().await.unwrap();
        if status.streams.iter().all(|s| s.messages == 0) {
            break;
        }
        assert!(Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
