//! The connection to NATS: the site's `EVENTS` stream, its two durable pull consumers,
//! publishing batches and working through them.

use crate::{ClusterConfig, ClusterError, codec};
use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use haechi_event::{Event, Timestamp, Value, ecs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The stream of normalized event batches.
pub const STREAM: &str = "EVENTS";
/// The durable consumer detection workers share.
pub const DETECT: &str = "detect";
/// The durable consumer store writers share.
pub const STORE: &str = "store";

/// A batch message stays under the server's default `max_payload` (1 MiB); a larger
/// batch is split.
const MESSAGE_TARGET_BYTES: usize = 900 * 1024;
const MAX_MESSAGE_BYTES: i32 = 1 << 20;
/// How long a retried publish is recognised as a duplicate.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long a publish keeps retrying while the stream is full or the server away.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(120);

const HEADER_ENCODING: &str = "Haechi-Encoding";
const HEADER_EVENTS: &str = "Haechi-Events";
const HEADER_RECEIVED: &str = "Haechi-Received";

/// A batch as a worker receives it.
#[derive(Debug)]
pub struct Delivered {
    pub events: Vec<Event>,
    /// When the collector received the batch's records (for the event-to-alert delay).
    pub received: Timestamp,
    /// The batch's `Nats-Msg-Id`: the same on every delivery of it.
    pub id: String,
    /// True when this batch was delivered before (a worker died or did not acknowledge).
    pub redelivered: bool,
}

/// What `haechi cluster status` shows of the transport.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub site: String,
    pub stream: String,
    pub messages: u64,
    pub bytes: u64,
    pub consumers: Vec<ConsumerStatus>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConsumerStatus {
    pub name: String,
    /// Batches not yet delivered to any worker.
    pub pending: u64,
    /// Batches delivered and not yet acknowledged.
    pub ack_pending: usize,
    /// Batches delivered more than once.
    pub redelivered: usize,
    /// Workers waiting for batches.
    pub waiting: usize,
}

/// A connection to the site's JetStream.
pub struct Bus {
    js: jetstream::Context,
    config: ClusterConfig,
    node: String,
    /// Random per process start: message ids of two runs never collide.
    boot: u64,
    seq: AtomicU64,
}

fn js_err(what: &str) -> impl FnOnce(&dyn std::fmt::Display) -> ClusterError + '_ {
    move |e| ClusterError::JetStream {
        what: what.to_owned(),
        message: e.to_string(),
    }
}

impl Bus {
    /// Connects and creates the stream and its consumers when missing. `node` names this
    /// process in subjects and message ids (letters, digits, `-`, `_`).
    pub async fn connect(config: &ClusterConfig, node: &str) -> Result<Bus, ClusterError> {
        config.validate()?;
        let client = async_nats::ConnectOptions::new()
            .name(format!("haechi {node}"))
            .connect(config.nats.as_str())
            .await
            .map_err(|e| ClusterError::Connect {
                url: config.nats.clone(),
                message: e.to_string(),
            })?;
        let bus = Bus {
            js: jetstream::new(client),
            config: config.clone(),
            node: node
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect(),
            boot: random_u64(),
            seq: AtomicU64::new(0),
        };
        bus.ensure_stream().await?;
        Ok(bus)
    }

    async fn ensure_stream(&self) -> Result<(), ClusterError> {
        let stream = self
            .js
            .get_or_create_stream(jetstream::stream::Config {
                name: STREAM.into(),
                subjects: vec![format!("haechi.{}.events.>", self.config.site)],
                // Kept until both consumers have it; a full stream refuses new batches.
                retention: RetentionPolicy::Interest,
                discard: DiscardPolicy::New,
                max_bytes: self.config.events_max_bytes,
                max_message_size: MAX_MESSAGE_BYTES,
                duplicate_window: DUPLICATE_WINDOW,
                storage: StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| js_err("creating the EVENTS stream")(&e))?;
        // Consumers exist before anything is published: an interest stream drops a
        // message that no consumer wants.
        for name in [DETECT, STORE] {
            stream
                .get_or_create_consumer::<pull::Config>(
                    name,
                    pull::Config {
                        durable_name: Some(name.into()),
                        ack_policy: AckPolicy::Explicit,
                        ack_wait: Duration::from_secs(self.config.ack_wait_secs),
                        max_ack_pending: self.config.max_ack_pending,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| js_err("creating a consumer")(&e))?;
        }
        Ok(())
    }

    /// Adds a durable consumer of the whole stream (the scale-out bench drains a backlog
    /// with its own consumers). Create it before publishing what it should see.
    pub async fn add_consumer(&self, name: &str) -> Result<(), ClusterError> {
        self.js
            .get_stream(STREAM)
            .await
            .map_err(|e| js_err("opening the EVENTS stream")(&e))?
            .get_or_create_consumer::<pull::Config>(
                name,
                pull::Config {
                    durable_name: Some(name.into()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(self.config.ack_wait_secs),
                    max_ack_pending: self.config.max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| js_err("creating a consumer")(&e))?;
        Ok(())
    }

    /// Pending and unacknowledged batches of one consumer.
    pub async fn backlog(&self, consumer: &str) -> Result<(u64, usize), ClusterError> {
        let mut c: PullConsumer = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|e| js_err("opening the EVENTS stream")(&e))?
            .get_consumer(consumer)
            .await
            .map_err(|e| js_err("opening a consumer")(&e))?;
        let info = c
            .info()
            .await
            .map_err(|e| js_err("reading a consumer")(&e))?;
        Ok((info.num_pending, info.num_ack_pending))
    }

    /// Publishes a batch (split into messages under 1 MiB), giving every event without an
    /// `event.id` one first. Returns once JetStream has stored every message; waits while
    /// the stream is full (back-pressure), up to two minutes.
    pub async fn publish(
        &self,
        events: &mut [Event],
        received: Timestamp,
    ) -> Result<usize, ClusterError> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("{:08x}{:08x}", self.boot as u32, seq as u32);
        for (pos, e) in events.iter_mut().enumerate() {
            if e.get(ecs::EVENT_ID).is_none() {
                e.push(ecs::EVENT_ID, Value::Str(format!("{prefix}{pos:05x}")));
            }
        }
        let mut sent = 0;
        let mut parts: Vec<&[Event]> = vec![events];
        while let Some(part) = parts.pop() {
            let payload = codec::encode(part);
            if payload.len() > MESSAGE_TARGET_BYTES && part.len() > 1 {
                let (a, b) = part.split_at(part.len() / 2);
                parts.push(b);
                parts.push(a);
                continue;
            }
            let id = format!("{}.{}.{prefix}.{sent}", self.config.site, self.node);
            self.publish_message(&id, part.len(), received, payload)
                .await?;
            sent += 1;
        }
        Ok(sent)
    }

    async fn publish_message(
        &self,
        id: &str,
        events: usize,
        received: Timestamp,
        payload: Vec<u8>,
    ) -> Result<(), ClusterError> {
        let subject = format!("haechi.{}.events.{}", self.config.site, self.node);
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_ENCODING, codec::ENCODING);
        headers.insert(HEADER_EVENTS, events.to_string().as_str());
        headers.insert(HEADER_RECEIVED, received.0.to_string().as_str());
        let payload = bytes::Bytes::from(payload);
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let message = PublishMessage::build()
                .headers(headers.clone())
                .message_id(id)
                .payload(payload.clone());
            let outcome = match self.js.send_publish(subject.clone(), message).await {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            let error = match outcome {
                // A retry of a batch the server already has is acknowledged as a duplicate.
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let retry = matches!(
                error.kind(),
                PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe | PublishErrorKind::Other
            ) && started.elapsed() < PUBLISH_PATIENCE;
            if !retry {
                return Err(js_err("publishing a batch")(&error));
            }
            tracing::debug!(id, error = %error, "publish refused (stream full or server away); retrying");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Works through the batches of a durable consumer (`DETECT` or `STORE`) for ever:
    /// `handler` runs on a blocking thread, and the batch is acknowledged when it returns
    /// `Ok` (its work is durable), delivered again later when it returns `Err`. A message
    /// that cannot be decoded is logged with its id and terminated (it would fail again).
    pub async fn work<F>(&self, consumer: &str, handler: F) -> Result<(), ClusterError>
    where
        F: Fn(Delivered) -> Result<(), String> + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        let consumer: PullConsumer = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|e| js_err("opening the EVENTS stream")(&e))?
            .get_consumer(consumer)
            .await
            .map_err(|e| js_err("opening a consumer")(&e))?;
        loop {
            let mut messages = match consumer.messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pull batches; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(next) = messages.next().await {
                let message = match next {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "pulling batches failed; pulling again");
                        break;
                    }
                };
                self.handle(&message, handler.clone()).await;
            }
        }
    }

    /// [`Bus::work`] for workers that gain from large units, the store writer above all
    /// (an `INSERT` of 1,000 rows costs ClickHouse several times more per row than one of
    /// 50,000): waits up to `max_wait` to gather batches of up to `max_events` events,
    /// hands them over together, and acknowledges all of them when `handler` succeeds.
    pub async fn work_gathered<F>(
        &self,
        consumer: &str,
        max_events: usize,
        max_wait: Duration,
        handler: F,
    ) -> Result<(), ClusterError>
    where
        F: Fn(Vec<Delivered>) -> Result<(), String> + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        let consumer: PullConsumer = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|e| js_err("opening the EVENTS stream")(&e))?
            .get_consumer(consumer)
            .await
            .map_err(|e| js_err("opening a consumer")(&e))?;
        let max_messages = (self.config.max_ack_pending as usize).clamp(1, 256);
        loop {
            let mut batch = match consumer
                .batch()
                .max_messages(max_messages)
                .expires(max_wait)
                .messages()
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pull batches; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let mut messages = Vec::new();
            let mut gathered = Vec::new();
            let mut events = 0;
            while let Some(next) = batch.next().await {
                let message = match next {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "pulling batches failed");
                        break;
                    }
                };
                match decode_delivered(&message) {
                    Ok(d) => {
                        events += d.events.len();
                        gathered.push(d);
                        messages.push(message);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "an unreadable batch message is dropped");
                        let _ = message.ack_with(AckKind::Term).await;
                    }
                }
                if events >= max_events {
                    break;
                }
            }
            if gathered.is_empty() {
                continue;
            }
            let h = handler.clone();
            let outcome = tokio::task::spawn_blocking(move || h(gathered)).await;
            let ok = matches!(outcome, Ok(Ok(())));
            if !ok {
                tracing::warn!(batches = messages.len(), outcome = ?outcome.map(|r| r.err()), "batches not processed; they will be delivered again");
            }
            for m in &messages {
                let acked = if ok {
                    m.ack().await
                } else {
                    m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await
                };
                if let Err(e) = acked {
                    tracing::warn!(error = %e, "acknowledging a batch failed");
                }
            }
        }
    }

    async fn handle<F>(&self, message: &jetstream::Message, handler: Arc<F>)
    where
        F: Fn(Delivered) -> Result<(), String> + Send + Sync + 'static,
    {
        let delivered = match decode_delivered(message) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "an unreadable batch message is dropped");
                let _ = message.ack_with(AckKind::Term).await;
                return;
            }
        };
        let id = delivered.id.clone();
        let outcome = tokio::task::spawn_blocking(move || handler(delivered)).await;
        let acked = match outcome {
            Ok(Ok(())) => message.ack().await,
            Ok(Err(reason)) => {
                tracing::warn!(
                    id,
                    reason,
                    "a batch was not processed; it will be delivered again"
                );
                message
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                    .await
            }
            Err(panic) => {
                tracing::error!(id, error = %panic, "a worker failed on a batch; it will be delivered again");
                message
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                    .await
            }
        };
        if let Err(e) = acked {
            // The batch comes back after ack_wait; the store and alerts tolerate that.
            tracing::warn!(id, error = %e, "acknowledging a batch failed");
        }
    }

    /// The stream's and consumers' counters.
    pub async fn status(&self) -> Result<Status, ClusterError> {
        let mut stream = self
            .js
            .get_stream(STREAM)
            .await
            .map_err(|e| js_err("opening the EVENTS stream")(&e))?;
        let state = stream
            .info()
            .await
            .map_err(|e| js_err("reading the stream")(&e))?
            .state
            .clone();
        let mut consumers = Vec::new();
        for name in [DETECT, STORE] {
            let mut c: PullConsumer = stream
                .get_consumer(name)
                .await
                .map_err(|e| js_err("opening a consumer")(&e))?;
            let info = c
                .info()
                .await
                .map_err(|e| js_err("reading a consumer")(&e))?;
            consumers.push(ConsumerStatus {
                name: name.into(),
                pending: info.num_pending,
                ack_pending: info.num_ack_pending,
                redelivered: info.num_redelivered,
                waiting: info.num_waiting,
            });
        }
        Ok(Status {
            site: self.config.site.clone(),
            stream: STREAM.into(),
            messages: state.messages,
            bytes: state.bytes,
            consumers,
        })
    }
}

/// A message as a worker gets it: its events and what the headers say.
fn decode_delivered(message: &jetstream::Message) -> Result<Delivered, ClusterError> {
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let id = header("Nats-Msg-Id").unwrap_or_default();
    let events = codec::decode(&message.payload)
        .map_err(|e| ClusterError::Codec(format!("batch {id}: {e}")))?;
    Ok(Delivered {
        events,
        received: header(HEADER_RECEIVED)
            .and_then(|v| v.parse().ok())
            .map(Timestamp)
            .unwrap_or_else(Timestamp::now),
        redelivered: message.info().map(|i| i.delivered > 1).unwrap_or(false),
        id,
    })
}

/// A random number from the operating system (message ids of two runs must differ).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Timestamp::now().0 as u128);
    h.write_u32(std::process::id());
    h.finish()
}
