//! The transport on a real nats-server: every published event reaches both consumers
//! with the same `event.id`; a batch a worker fails on comes back; workers of one kind
//! share the batches; a full stream makes the publisher wait instead of losing events.

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
    assert_eq!(status.consumers.len(), 2);
    assert!(
        status.consumers.iter().all(|c| c.redelivered == 0),
        "{status:?}"
    );
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
