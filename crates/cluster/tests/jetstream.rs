//! The transport on a real nats-server: every published event reaches both consumers
//! with the same `event.id`; a batch a worker fails on comes back; workers of one kind
//! share the batches; a full stream makes the publisher wait instead of losing events;
//! the alerts of a batch reach the alert writer once.

#[path = "common/nats.rs"]
mod nats;

use haechi_cluster::{Bus, ClusterConfig, Delivered};
use haechi_event::{Event, Timestamp, ecs};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn events(batch: usize, n: usize, filler: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let mut e = Event::new(
                Timestamp(1_714_557_600_000_000_000 + i as i64),
                "seoul".into(),
                3,
            );
            e.push(
                "message",
                format!(
                    "batch {batch} event {i} {}",
                    noise(batch * 100_000 + i, filler)
                ),
            );
            e.push("labels.seq", format!("{batch}-{i}"));
            e
        })
        .collect()
}

/// Text that does not compress (to fill a stream with few batches).
fn noise(seed: usize, len: usize) -> String {
    let mut x = seed as u64 ^ 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

type Seen = Arc<Mutex<BTreeMap<String, (String, bool)>>>;

/// A worker recording each event's `labels.seq` with its `event.id` and whether the
/// batch was a redelivery.
fn recorder(seen: Seen) -> impl Fn(Delivered) -> Result<(), String> + Send + Sync + 'static {
    move |d: Delivered| {
        let mut seen = seen.lock().unwrap();
        for e in &d.events {
            seen.insert(
                e.get_str("labels.seq").unwrap().to_owned(),
                (e.get_str(ecs::EVENT_ID).unwrap().to_owned(), d.redelivered),
            );
        }
        Ok(())
    }
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config(server: &nats::NatsServer) -> ClusterConfig {
    ClusterConfig {
        nats: server.url.clone(),
        site: "test".into(),
        ack_wait_secs: 2,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_consumers_get_every_event_with_the_same_ids() {
    let server = nats::NatsServer::start();
    let collector = Bus::connect(&config(&server), "collector-1").await.unwrap();
    let (stored, detected): (Seen, Seen) = Default::default();
    // Two store writers share the `store` consumer; one detector has `detect`.
    for (node, consumer, seen) in [
        ("store-1", "store", stored.clone()),
        ("store-2", "store", stored.clone()),
        ("detect-1", "detect", detected.clone()),
    ] {
        let bus = Bus::connect(&config(&server), node).await.unwrap();
        let handler = recorder(seen);
        tokio::spawn(async move { bus.work(consumer, handler).await });
    }
    let mut sent = 0;
    for b in 0..20 {
        let mut batch = events(b, 500, 0);
        collector
            .publish(&mut batch, Timestamp::now())
            .await
            .unwrap();
        sent += batch.len();
    }
    // One batch bigger than a message: split, nothing lost.
    let mut big = events(99, 3000, 1000);
    let messages = collector.publish(&mut big, Timestamp::now()).await.unwrap();
    assert!(
        messages > 1,
        "a batch of about 1.8 MB compressed is split ({messages} messages)"
    );
    sent += big.len();
    wait_until(
        "every event at both consumers",
        Duration::from_secs(30),
        || stored.lock().unwrap().len() == sent && detected.lock().unwrap().len() == sent,
    );
    assert_eq!(
        *stored.lock().unwrap(),
        *detected.lock().unwrap(),
        "same events, same ids"
    );
    let ids: BTreeSet<String> = stored
        .lock()
        .unwrap()
        .values()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(ids.len(), sent, "every event has its own id");
    let status = collector.status().await.unwrap();
    let events = &status.streams[0];
    assert_eq!(events.name, "EVENTS");
    assert_eq!(events.consumers.len(), 2);
    assert!(
        events.consumers.iter().all(|c| c.redelivered == 0),
        "{status:?}"
    );
    assert_eq!(status.streams[1].name, "ALERTS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_a_worker_fails_on_is_delivered_again() {
    let server = nats::NatsServer::start();
    let bus = Bus::connect(&config(&server), "node").await.unwrap();
    let seen: Seen = Default::default();
    let failed_once = Arc::new(Mutex::new(false));
    let record = recorder(seen.clone());
    let flag = failed_once.clone();
    let worker = Bus::connect(&config(&server), "store-1").await.unwrap();
    tokio::spawn(async move {
        worker
            .work("store", move |d| {
                let mut failed = flag.lock().unwrap();
                if !*failed {
                    *failed = true;
                    return Err("the store is away".into());
                }
                record(d)
            })
            .await
    });
    let mut batch = events(1, 10, 0);
    bus.publish(&mut batch, Timestamp::now()).await.unwrap();
    wait_until("the batch again", Duration::from_secs(20), || {
        seen.lock().unwrap().len() == 10
    });
    assert!(
        seen.lock()
            .unwrap()
            .values()
            .all(|(_, redelivered)| *redelivered),
        "the second delivery says it is one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_stream_makes_the_publisher_wait_and_loses_nothing() {
    let server = nats::NatsServer::start();
    let small = ClusterConfig {
        events_max_bytes: 256 * 1024,
        ..config(&server)
    };
    let collector = Arc::new(Bus::connect(&small, "collector").await.unwrap());
    // 30 batches of about 60 KB that do not compress: far more than the stream holds.
    let publisher = {
        let collector = collector.clone();
        tokio::spawn(async move {
            let mut done = 0;
            for b in 0..30 {
                let mut batch = events(b, 20, 3000);
                collector
                    .publish(&mut batch, Timestamp::now())
                    .await
                    .unwrap();
                done += 1;
            }
            done
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !publisher.is_finished(),
        "the publisher waits while the stream is full"
    );
    let (stored, detected): (Seen, Seen) = Default::default();
    for (consumer, seen) in [("store", stored.clone()), ("detect", detected.clone())] {
        let bus = Bus::connect(&small, consumer).await.unwrap();
        let handler = recorder(seen);
        tokio::spawn(async move { bus.work(consumer, handler).await });
    }
    assert_eq!(publisher.await.unwrap(), 30);
    wait_until(
        "all 600 events at both consumers",
        Duration::from_secs(30),
        || stored.lock().unwrap().len() == 600 && detected.lock().unwrap().len() == 600,
    );
}

fn alert(i: usize, filler: usize) -> haechi_event::Alert {
    haechi_event::Alert {
        id: 0,
        tenant: "seoul".into(),
        source: haechi_event::AlertSource::Sigma,
        rule_id: "rule-1".into(),
        rule_title: format!("Path traversal {}", noise(i, filler)),
        level: haechi_event::Level::High,
        author: None,
        status: None,
        references: Vec::new(),
        tags: vec!["attack.t1190".into()],
        entity: format!("source.ip=198.51.100.{}", i % 250),
        first_seen: Timestamp(1_714_557_600_000_000_000),
        last_seen: Timestamp(1_714_557_600_000_000_000),
        count: 1,
        events: Vec::new(),
        details: Default::default(),
        stored: Timestamp(0),
        triage: Default::default(),
    }
}

/// A detector that dies after publishing a batch's alerts detects the batch again and
/// publishes them again: the alert writer gets them once. Alerts over 1 MiB are split
/// into several messages, each with its own id, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_of_a_batch_reach_the_alert_writer_once() {
    let server = nats::NatsServer::start();
    let detector = Bus::connect(&config(&server), "detect-1").await.unwrap();
    let small: Vec<_> = (0..3).map(|i| alert(i, 0)).collect();
    detector
        .publish_alerts("test.collector.a.0", &small, Timestamp::now())
        .await
        .unwrap();
    // The same batch detected again, by another worker.
    let again = Bus::connect(&config(&server), "detect-2").await.unwrap();
    again
        .publish_alerts("test.collector.a.0", &small, Timestamp::now())
        .await
        .unwrap();
    // 600 alerts of 4 KB of random letters: over 1 MiB compressed, several messages.
    let large: Vec<_> = (0..600).map(|i| alert(i, 4000)).collect();
    let parts = detector
        .publish_alerts("test.collector.a.1", &large, Timestamp::now())
        .await
        .unwrap();
    assert!(parts >= 2, "{parts} messages");
    let got: Arc<Mutex<Vec<(String, usize)>>> = Default::default();
    let writer = Bus::connect(&config(&server), "api-1").await.unwrap();
    let g = got.clone();
    tokio::spawn(async move {
        writer
            .work_alerts(move |d| {
                g.lock().unwrap().push((d.id, d.alerts.len()));
                Ok(())
            })
            .await
    });
    let total = || got.lock().unwrap().iter().map(|(_, n)| n).sum::<usize>();
    wait_until("every alert", Duration::from_secs(20), || total() >= 603);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(total_of(&got), 603, "{got:?}");
    let ids: BTreeSet<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), got.len(), "each message once: {got:?}");
    assert!(ids.contains("alerts.test.collector.a.0.0"), "{ids:?}");
    // Acknowledged alerts leave the stream (interest retention).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = detector.status().await.unwrap();
        let alerts = &status.streams[1];
        assert_eq!(alerts.name, "ALERTS");
        if alerts.messages == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn total_of(got: &[(String, usize)]) -> usize {
    got.iter().map(|(_, n)| n).sum()
}

/// A store writer killed while its pull request is still open on the server: the
/// batches published before that request expires must reach the writer that replaces
/// it (delivered again after the ack wait), not vanish with the dead connection.
#[test]
fn batches_published_while_a_dead_worker_s_pull_is_open_are_not_lost() {
    let server = nats::NatsServer::start();
    let cfg = config(&server);
    let main = tokio::runtime::Runtime::new().unwrap();
    let bus = main.block_on(Bus::connect(&cfg, "node")).unwrap();
    // The first writer: its own runtime and connection, dropped as a kill would.
    let doomed = tokio::runtime::Runtime::new().unwrap();
    let first: Seen = Default::default();
    let worker = doomed.block_on(Bus::connect(&cfg, "store-1")).unwrap();
    let record = recorder(first.clone());
    doomed.spawn(async move {
        worker
            .work_gathered("store", 50_000, Duration::from_millis(200), move |g| {
                g.into_iter().try_for_each(&record)
            })
            .await
    });
    let mut batch = events(0, 10, 0);
    main.block_on(bus.publish(&mut batch, Timestamp::now()))
        .unwrap();
    wait_until("the first writer works", Duration::from_secs(20), || {
        first.lock().unwrap().len() == 10
    });
    std::thread::sleep(Duration::from_millis(300));
    doomed.shutdown_background();
    for b in 1..=10 {
        let mut batch = events(b, 10, 0);
        main.block_on(bus.publish(&mut batch, Timestamp::now()))
            .unwrap();
    }
    let second: Seen = Default::default();
    let worker = main.block_on(Bus::connect(&cfg, "store-2")).unwrap();
    let record = recorder(second.clone());
    main.spawn(async move {
        worker
            .work_gathered("store", 50_000, Duration::from_millis(200), move |g| {
                g.into_iter().try_for_each(&record)
            })
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while second.lock().unwrap().len() < 100 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = main.block_on(bus.status()).unwrap();
    assert_eq!(
        second.lock().unwrap().len(),
        100,
        "every batch published after the kill reaches the new writer; {status:?}"
    );
}

/// Consumers named without the site by an earlier Haechi are retired when they hold
/// nothing, and refused (with what to do) while they hold batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_of_an_earlier_haechi_are_retired_only_when_drained() {
    let server = nats::NatsServer::start();
    let cfg = config(&server);
    let bus = Bus::connect(&cfg, "node").await.unwrap();
    let client = async_nats::connect(&server.url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let legacy = |name: &str| async_nats::jetstream::consumer::pull::Config {
        durable_name: Some(name.into()),
        ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
        ..Default::default()
    };
    js.create_consumer_on_stream(legacy("detect"), "EVENTS")
        .await
        .unwrap();
    Bus::connect(&cfg, "node").await.unwrap();
    let status = bus.status().await.unwrap();
    assert_eq!(
        status.streams[0]
            .consumers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["detect-test", "store-test"]
    );
    let stream = js.get_stream("EVENTS").await.unwrap();
    assert!(
        stream.consumer_info("detect").await.is_err(),
        "the empty legacy consumer is gone"
    );
    js.create_consumer_on_stream(legacy("store"), "EVENTS")
        .await
        .unwrap();
    let mut batch = events(1, 10, 0);
    bus.publish(&mut batch, Timestamp::now()).await.unwrap();
    let refused = Bus::connect(&cfg, "node").await.err().unwrap().to_string();
    assert!(
        refused.contains("\"store\"") && refused.contains("still holds 1 batches"),
        "{refused}"
    );
}
