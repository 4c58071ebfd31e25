//! The connection to NATS: the site's `EVENTS` stream and its two durable pull consumers,
//! the `ALERTS` stream and its alert writer's consumer, publishing to both and working
//! through them.

use crate::{ClusterConfig, ClusterError, codec};
use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull, push};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use haechi_event::{Alert, Event, Timestamp, Value, ecs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The stream of normalized event batches.
pub const STREAM: &str = "EVENTS";
/// The durable consumer detection workers share.
pub const DETECT: &str = "detect";
/// The durable consumer store writers share.
pub const STORE: &str = "store";
/// The stream of the alerts detection workers raise, one message per event batch.
pub const ALERTS: &str = "ALERTS";
/// The durable consumer of the site's single alert writer (the `api` role).
pub const RECORD: &str = "record";
/// A tower's durable consumer the center's streams source through.
pub const TOWER_CONSUMER: &str = "center";

/// A continuous pull whose requests expire within seconds, so that a killed worker's
/// open request does not stay on the server for long.
async fn pull(
    consumer: &PullConsumer,
) -> Result<
    async_nats::jetstream::consumer::pull::Stream,
    async_nats::jetstream::consumer::StreamError,
> {
    consumer
        .stream()
        .expires(Duration::from_secs(2))
        .heartbeat(Duration::from_millis(500))
        .messages()
        .await
}

/// True when the stream's settings Haechi chooses differ from those it has.
fn stream_differs(have: &jetstream::stream::Config, want: &jetstream::stream::Config) -> bool {
    let sources = |c: &jetstream::stream::Config| -> Vec<(String, String)> {
        c.sources
            .iter()
            .flatten()
            .map(|s| {
                (
                    s.external
                        .as_ref()
                        .map(|e| e.api_prefix.clone())
                        .unwrap_or_default(),
                    s.consumer
                        .as_ref()
                        .map(|c| c.deliver_subject.clone())
                        .unwrap_or_default(),
                )
            })
            .collect()
    };
    have.subjects != want.subjects
        || have.max_bytes != want.max_bytes
        || have.max_message_size != want.max_message_size
        || have.duplicate_window != want.duplicate_window
        || sources(have) != sources(want)
}

/// Where a tower's `center` consumer delivers: a subject no stream captures, which the
/// leaf-node link carries to the center's server.
fn deliver_subject(tower: &str, kind: &str) -> String {
    format!("haechi.{tower}.to-center.{kind}")
}

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
/// Set on a batch published only after a failed attempt.
const HEADER_RETRIED: &str = "Haechi-Retried";

/// The alerts of one event batch as the alert writer receives them.
#[derive(Debug)]
pub struct DeliveredAlerts {
    pub alerts: Vec<Alert>,
    /// When the collector received the batch the alerts were raised on.
    pub received: Timestamp,
    /// `alerts.<the event batch's id>.<part>`: the same however often the event batch
    /// was detected again, so the writer records it once.
    pub id: String,
    pub redelivered: bool,
}

/// A batch as a worker receives it.
#[derive(Debug)]
pub struct Delivered {
    pub events: Vec<Event>,
    /// When the collector received the batch's records (for the event-to-alert delay).
    pub received: Timestamp,
    /// The batch's `Nats-Msg-Id`: the same on every delivery of it.
    pub id: String,
    /// True when this batch may have been handled before: delivered before (a worker died
    /// or did not acknowledge), or published by a retry.
    pub redelivered: bool,
}

/// What `haechi cluster status` shows of the transport.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub site: String,
    /// This site is a control tower (its streams keep what the center has not taken).
    pub tower: bool,
    pub streams: Vec<StreamStatus>,
    /// At a center: each tower's link.
    pub towers: Vec<TowerStatus>,
}

/// A tower as the center sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TowerStatus {
    pub site: String,
    pub domain: String,
    pub tenants: Vec<String>,
    /// `up` (every stream heard from within [`LINK_DOWN_AFTER`]), `down`, or `never`
    /// (not heard from since the center's server started).
    pub link: String,
    pub sources: Vec<SourceStatus>,
}

/// One of the center's streams sourcing a tower's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceStatus {
    pub stream: String,
    /// Messages the center knows it has not taken yet (while the link is up; the
    /// tower's `center` consumer counts them during a cut).
    pub lag: u64,
    /// Seconds since the tower last answered on this stream.
    pub last_seen_secs: Option<f64>,
    pub error: Option<String>,
}

/// A tower not heard from for this long is shown as cut off (its consumers send a
/// heartbeat every second).
pub const LINK_DOWN_AFTER: Duration = Duration::from_secs(10);

fn link_state(sources: &[SourceStatus]) -> &'static str {
    let seen: Vec<f64> = sources.iter().filter_map(|s| s.last_seen_secs).collect();
    if sources.is_empty() || seen.is_empty() {
        "never"
    } else if seen.len() == sources.len()
        && seen.iter().all(|s| *s < LINK_DOWN_AFTER.as_secs_f64())
        && sources.iter().all(|s| s.error.is_none())
    {
        "up"
    } else {
        "down"
    }
}

/// One stream: what it holds and how far its consumers are.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamStatus {
    pub name: String,
    /// Messages held (event batches, or the alerts of one batch each).
    pub messages: u64,
    pub bytes: u64,
    /// The sequence of the last message stored (every message ever, kept or not).
    pub last_sequence: u64,
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
    /// The stream sequence below which every message is acknowledged.
    pub ack_floor: u64,
    /// The stream sequence of the last message delivered.
    pub delivered: u64,
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
        self.ensure(
            STREAM,
            "events",
            self.config.events_max_bytes,
            &[DETECT, STORE],
        )
        .await?;
        self.ensure(ALERTS, "alerts", self.config.alerts_max_bytes, &[RECORD])
            .await
    }

    /// One stream, its durable pull consumers, and the federation: a tower's durable
    /// `center` consumer, a center's sources. Messages are kept until every consumer has
    /// acknowledged them (interest retention); a full stream refuses new ones, so
    /// publishers wait.
    async fn ensure(
        &self,
        name: &str,
        kind: &str,
        max_bytes: i64,
        consumers: &[&str],
    ) -> Result<(), ClusterError> {
        let what = format!("creating the {name} stream");
        let sources = self
            .config
            .towers
            .iter()
            .map(|t| jetstream::stream::Source {
                name: name.into(),
                // The tower's JetStream API, reached over the leaf-node link.
                external: Some(jetstream::stream::External {
                    api_prefix: format!("$JS.{}.API", t.domain()),
                    delivery_prefix: None,
                }),
                consumer: Some(jetstream::stream::StreamConsumerSource::new(
                    TOWER_CONSUMER,
                    deliver_subject(&t.site, kind),
                )),
                ..Default::default()
            })
            .collect();
        let wanted = jetstream::stream::Config {
            name: name.into(),
            subjects: vec![format!("haechi.{}.{kind}.>", self.config.site)],
            retention: RetentionPolicy::Interest,
            discard: DiscardPolicy::New,
            max_bytes,
            max_message_size: MAX_MESSAGE_BYTES,
            duplicate_window: DUPLICATE_WINDOW,
            storage: StorageType::File,
            sources: Some(sources),
            ..Default::default()
        };
        // A stream in use is updated only when its configuration changed (a tower added):
        // an update of an interest stream makes the server re-check which messages
        // still have interest.
        match self.js.get_stream(name).await {
            Ok(mut stream) => {
                let have = stream
                    .info()
                    .await
                    .map_err(|e| js_err(&what)(&e))?
                    .config
                    .clone();
                if have.retention != RetentionPolicy::Interest {
                    return Err(ClusterError::Config(format!(
                        "stream {name} was made by an earlier Haechi with {:?} retention, which cannot be changed: delete it on the NATS server (it holds only batches in transit)",
                        have.retention
                    )));
                }
                if stream_differs(&have, &wanted) {
                    tracing::info!(stream = name, have = ?have.sources, want = ?wanted.sources, "updating the stream's configuration");
                    self.js
                        .update_stream(wanted)
                        .await
                        .map_err(|e| js_err(&what)(&e))?;
                }
            }
            Err(_) => {
                self.js
                    .create_stream(wanted)
                    .await
                    .map_err(|e| js_err(&what)(&e))?;
            }
        }
        // Consumers exist before anything is published: an interest stream drops a
        // message that no consumer wants. One in use is left as it is unless its
        // configuration changed.
        let mut stream = self
            .js
            .get_stream(name)
            .await
            .map_err(|e| js_err(&what)(&e))?;
        let start_after = self.retire_legacy_consumers(&mut stream, consumers).await?;
        for consumer in consumers {
            let durable = self.durable(consumer);
            let mut config = self.consumer_config(&durable);
            match stream.consumer_info(&durable).await {
                Ok(info)
                    if info.config.ack_wait == config.ack_wait
                        && info.config.max_ack_pending == config.max_ack_pending
                        && info.config.filter_subject.is_empty() =>
                {
                    continue;
                }
                Ok(info) => config.deliver_policy = info.config.deliver_policy,
                Err(_) => {
                    if let Some(last) = start_after {
                        // What the retired consumers acknowledged is done.
                        config.deliver_policy = DeliverPolicy::ByStartSequence {
                            start_sequence: last + 1,
                        };
                    }
                }
            }
            self.js
                .create_consumer_on_stream(config, name)
                .await
                .map_err(|e| js_err("creating a consumer")(&e))?;
        }
        for consumer in consumers {
            if stream.consumer_info(*consumer).await.is_ok() {
                stream
                    .delete_consumer(consumer)
                    .await
                    .map_err(|e| js_err("deleting a retired consumer")(&e))?;
                tracing::info!(
                    stream = name,
                    consumer,
                    "retired a consumer of an earlier Haechi"
                );
            }
        }
        if self.config.tower && stream.consumer_info(TOWER_CONSUMER).await.is_err() {
            // The center sources through this consumer (ADR-58 durable sourcing): it
            // holds the stream's interest while the link is down, and the center's
            // server acknowledges what it stored by flow control.
            self.js
                .create_consumer_on_stream(
                    push::Config {
                        durable_name: Some(TOWER_CONSUMER.into()),
                        deliver_subject: deliver_subject(&self.config.site, kind),
                        ack_policy: AckPolicy::FlowControl,
                        flow_control: true,
                        idle_heartbeat: Duration::from_secs(1),
                        max_deliver: -1,
                        ..Default::default()
                    },
                    name,
                )
                .await
                .map_err(|e| js_err("creating the center's consumer")(&e))?;
        }
        Ok(())
    }

    /// The durable name of one of this site's consumers (`store` → `store-center`).
    ///
    /// Site-qualified because acknowledgements are plain subjects
    /// (`$JS.ACK.<stream>.<consumer>.…`) that cross a leaf-node link like any other:
    /// with the same names at a tower and the center, the tower's workers acknowledged
    /// the center's copies of their batches (same stream sequences), and batches that
    /// reached the center while its workers were down were lost.
    pub fn durable(&self, consumer: &str) -> String {
        format!("{consumer}-{}", self.config.site)
    }

    /// Consumers named without the site by an earlier Haechi: refused while they hold
    /// batches (finish them with that version first), else returned for deletion along
    /// with the stream's last sequence, after which the new consumers start.
    async fn retire_legacy_consumers(
        &self,
        stream: &mut jetstream::stream::Stream,
        consumers: &[&str],
    ) -> Result<Option<u64>, ClusterError> {
        let mut found = false;
        for consumer in consumers {
            let Ok(info) = stream.consumer_info(*consumer).await else {
                continue;
            };
            let held = info.num_pending + info.num_ack_pending as u64;
            if held > 0 {
                return Err(ClusterError::Config(format!(
                    "consumer {consumer:?} of stream {}, made by an earlier Haechi, still holds {held} batches: let that version finish them (haechi cluster status shows 0 pending), then start this one",
                    info.stream_name
                )));
            }
            found = true;
        }
        if !found {
            return Ok(None);
        }
        let last = stream
            .info()
            .await
            .map_err(|e| js_err("reading the stream")(&e))?
            .state
            .last_sequence;
        Ok(Some(last))
    }

    fn consumer_config(&self, name: &str) -> pull::Config {
        pull::Config {
            durable_name: Some(name.into()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: Duration::from_secs(self.config.ack_wait_secs),
            max_ack_pending: self.config.max_ack_pending,
            ..Default::default()
        }
    }

    /// Adds a durable consumer of the whole stream (the scale-out bench drains a backlog
    /// with its own consumers). Create it before publishing what it should see.
    pub async fn add_consumer(&self, name: &str) -> Result<(), ClusterError> {
        self.js
            .get_stream(STREAM)
            .await
            .map_err(|e| js_err("opening the EVENTS stream")(&e))?
            .get_or_create_consumer::<pull::Config>(
                &self.durable(name),
                self.consumer_config(&self.durable(name)),
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
            .get_consumer(&self.durable(consumer))
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
            self.publish_message("events", &id, part.len(), received, payload)
                .await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Publishes the alerts a detection worker raised on one event batch, for the site's
    /// alert writer. Their message id derives from the batch's: when the batch is
    /// detected again (its worker died before acknowledging), JetStream drops the repeat
    /// within its duplicate window and the writer's record of batches after it.
    pub async fn publish_alerts(
        &self,
        batch_id: &str,
        alerts: &[Alert],
        received: Timestamp,
    ) -> Result<usize, ClusterError> {
        let mut sent = 0;
        let mut parts: Vec<&[Alert]> = vec![alerts];
        while let Some(part) = parts.pop() {
            let payload = codec::encode_alerts(part);
            if payload.len() > MESSAGE_TARGET_BYTES && part.len() > 1 {
                let (a, b) = part.split_at(part.len() / 2);
                parts.push(b);
                parts.push(a);
                continue;
            }
            let id = format!("alerts.{batch_id}.{sent}");
            self.publish_message("alerts", &id, part.len(), received, payload)
                .await?;
            sent += 1;
        }
        Ok(sent)
    }

    async fn publish_message(
        &self,
        kind: &str,
        id: &str,
        events: usize,
        received: Timestamp,
        payload: Vec<u8>,
    ) -> Result<(), ClusterError> {
        let subject = format!("haechi.{}.{kind}.{}", self.config.site, self.node);
        let mut headers = HeaderMap::new();
        let encoding = if kind == "alerts" {
            codec::ENCODING_ALERTS
        } else {
            codec::ENCODING
        };
        headers.insert(HEADER_ENCODING, encoding);
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
            // The server may hold the first attempt and no longer know its id (it lost
            // its duplicate window in a crash, or a worker already took the batch): the
            // workers then check a retried batch like one delivered again.
            headers.insert(HEADER_RETRIED, "1");
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
        self.work_on(STREAM, consumer, decode_delivered, handler)
            .await
    }

    /// The alert writer: [`Bus::work`] on the `ALERTS` stream's `record` consumer.
    pub async fn work_alerts<F>(&self, handler: F) -> Result<(), ClusterError>
    where
        F: Fn(DeliveredAlerts) -> Result<(), String> + Send + Sync + 'static,
    {
        self.work_on(ALERTS, RECORD, decode_delivered_alerts, handler)
            .await
    }

    async fn work_on<T, F>(
        &self,
        stream: &str,
        consumer: &str,
        decode: fn(&jetstream::Message) -> Result<T, ClusterError>,
        handler: F,
    ) -> Result<(), ClusterError>
    where
        T: Send + 'static,
        F: Fn(T) -> Result<(), String> + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        // Detection takes this site's own batches only (a tower's alerts arrive on ALERTS).
        // A subject filter on the consumer would do the same, but on an interest stream
        // nats-server 2.15 then keeps the sourced batches after the store writer acked them.
        let skip_foreign = stream == STREAM && consumer == DETECT;
        let own = format!("haechi.{}.events.", self.config.site);
        let consumer: PullConsumer = self
            .js
            .get_stream(stream)
            .await
            .map_err(|e| js_err("opening a stream")(&e))?
            .get_consumer(&self.durable(consumer))
            .await
            .map_err(|e| js_err("opening a consumer")(&e))?;
        loop {
            let mut messages = match pull(&consumer).await {
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
                if skip_foreign && !message.subject.starts_with(own.as_str()) {
                    // A tower's batch at the center: detected at the tower already.
                    if let Err(e) = message.ack().await {
                        tracing::warn!(error = %e, "acknowledging a tower's batch failed");
                    }
                    continue;
                }
                self.handle(&message, decode, handler.clone()).await;
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
            .get_consumer(&self.durable(consumer))
            .await
            .map_err(|e| js_err("opening a consumer")(&e))?;
        // One continuous pull, gathered here.
        let mut stream = loop {
            match pull(&consumer).await {
                Ok(m) => break m,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pull batches; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            let mut messages = Vec::new();
            let mut gathered = Vec::new();
            let mut events = 0;
            let mut deadline: Option<tokio::time::Instant> = None;
            // The server hands out at most `max_ack_pending` unacknowledged batches:
            // once they are here, waiting for more only delays the insert.
            let most = usize::try_from(self.config.max_ack_pending).unwrap_or(usize::MAX);
            while events < max_events && messages.len() < most {
                let next = match deadline {
                    // Waits as long as it takes for the first batch, then `max_wait`.
                    None => stream.next().await,
                    Some(d) => match tokio::time::timeout_at(d, stream.next()).await {
                        Ok(next) => next,
                        Err(_) => break,
                    },
                };
                let message = match next {
                    Some(Ok(m)) => m,
                    // The server went away or the pull broke: pull anew (what was
                    // gathered is handled below; what was in flight comes again).
                    failed => {
                        match failed {
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "pulling batches failed; pulling again")
                            }
                            _ => tracing::warn!("the pull ended; pulling again"),
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        if let Ok(m) = pull(&consumer).await {
                            stream = m;
                        }
                        break;
                    }
                };
                deadline.get_or_insert_with(|| tokio::time::Instant::now() + max_wait);
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

    async fn handle<T, F>(
        &self,
        message: &jetstream::Message,
        decode: fn(&jetstream::Message) -> Result<T, ClusterError>,
        handler: Arc<F>,
    ) where
        T: Send + 'static,
        F: Fn(T) -> Result<(), String> + Send + Sync + 'static,
    {
        let delivered = match decode(message) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "an unreadable message is dropped");
                let _ = message.ack_with(AckKind::Term).await;
                return;
            }
        };
        let id = header(message, "Nats-Msg-Id").unwrap_or_default();
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

    /// The streams' and consumers' counters, and at a center the link to each tower.
    pub async fn status(&self) -> Result<Status, ClusterError> {
        let mut with_center = vec![self.durable(DETECT), self.durable(STORE)];
        let mut alerts_consumers = vec![self.durable(RECORD)];
        if self.config.tower {
            with_center.push(TOWER_CONSUMER.into());
            alerts_consumers.push(TOWER_CONSUMER.into());
        }
        let streams = vec![
            self.stream_status(STREAM, &with_center).await?,
            self.stream_status(ALERTS, &alerts_consumers).await?,
        ];
        let mut towers: Vec<TowerStatus> = self
            .config
            .towers
            .iter()
            .map(|t| TowerStatus {
                site: t.site.clone(),
                domain: t.domain().to_owned(),
                tenants: t.tenants.clone(),
                link: "never".into(),
                sources: Vec::new(),
            })
            .collect();
        for stream in [STREAM, ALERTS] {
            for (api, source) in self.sources(stream).await? {
                if let Some(t) = towers
                    .iter_mut()
                    .find(|t| api == format!("$JS.{}.API", t.domain))
                {
                    t.sources.push(source);
                }
            }
        }
        for t in &mut towers {
            t.link = link_state(&t.sources).into();
        }
        Ok(Status {
            site: self.config.site.clone(),
            tower: self.config.tower,
            streams,
            towers,
        })
    }

    /// The sources of a stream as the server reports them, by the API prefix of their
    /// domain (the client's typed stream info leaves the prefix out, and every tower's
    /// stream has the same name).
    async fn sources(&self, stream: &str) -> Result<Vec<(String, SourceStatus)>, ClusterError> {
        let info: jetstream::response::Response<serde_json::Value> = self
            .js
            .request(format!("STREAM.INFO.{stream}"), &serde_json::json!({}))
            .await
            .map_err(|e| js_err("reading the stream's sources")(&e))?;
        let info = match info {
            jetstream::response::Response::Ok(v) => v,
            jetstream::response::Response::Err { error } => {
                return Err(js_err("reading the stream's sources")(&error));
            }
        };
        let mut out = Vec::new();
        for s in info["sources"].as_array().into_iter().flatten() {
            let api = s["external"]["api"].as_str().unwrap_or_default().to_owned();
            // `active`: nanoseconds since the source last heard from its origin; -1 never.
            let active = s["active"].as_i64().filter(|n| *n >= 0);
            out.push((
                api,
                SourceStatus {
                    stream: stream.into(),
                    lag: s["lag"].as_u64().unwrap_or(0),
                    last_seen_secs: active.map(|n| n as f64 / 1e9),
                    error: s["error"]["description"].as_str().map(str::to_owned),
                },
            ));
        }
        Ok(out)
    }

    async fn stream_status(
        &self,
        name: &str,
        consumer_names: &[String],
    ) -> Result<StreamStatus, ClusterError> {
        let mut stream = self
            .js
            .get_stream(name)
            .await
            .map_err(|e| js_err("opening a stream")(&e))?;
        let state = stream
            .info()
            .await
            .map_err(|e| js_err("reading the stream")(&e))?
            .state
            .clone();
        let mut consumers = Vec::new();
        for name in consumer_names {
            let info = stream
                .consumer_info(name)
                .await
                .map_err(|e| js_err("reading a consumer")(&e))?;
            consumers.push(ConsumerStatus {
                name: name.clone(),
                pending: info.num_pending,
                ack_pending: info.num_ack_pending,
                redelivered: info.num_redelivered,
                waiting: info.num_waiting,
                ack_floor: info.ack_floor.stream_sequence,
                delivered: info.delivered.stream_sequence,
            });
        }
        Ok(StreamStatus {
            name: name.into(),
            messages: state.messages,
            bytes: state.bytes,
            last_sequence: state.last_sequence,
            consumers,
        })
    }
}

fn header(message: &jetstream::Message, name: &str) -> Option<String> {
    message
        .headers
        .as_ref()
        .and_then(|h| h.get(name))
        .map(|v| v.as_str().to_owned())
}

/// When the collector received the records of a message's batch.
fn received(message: &jetstream::Message) -> Timestamp {
    header(message, HEADER_RECEIVED)
        .and_then(|v| v.parse().ok())
        .map(Timestamp)
        .unwrap_or_else(Timestamp::now)
}

/// Delivered before, or published by a retry (either may repeat a batch already handled).
fn redelivered(message: &jetstream::Message) -> bool {
    message.info().map(|i| i.delivered > 1).unwrap_or(false)
        || header(message, HEADER_RETRIED).is_some()
}

/// A message as a worker gets it: its events and what the headers say.
fn decode_delivered(message: &jetstream::Message) -> Result<Delivered, ClusterError> {
    let id = header(message, "Nats-Msg-Id").unwrap_or_default();
    let encoding = header(message, HEADER_ENCODING);
    let events = codec::decode(&message.payload, encoding.as_deref())
        .map_err(|e| ClusterError::Codec(format!("batch {id}: {e}")))?;
    Ok(Delivered {
        events,
        received: received(message),
        redelivered: redelivered(message),
        id,
    })
}

/// An alerts message as the alert writer gets it.
fn decode_delivered_alerts(message: &jetstream::Message) -> Result<DeliveredAlerts, ClusterError> {
    let id = header(message, "Nats-Msg-Id").unwrap_or_default();
    let alerts = codec::decode_alerts(&message.payload)
        .map_err(|e| ClusterError::Codec(format!("{id}: {e}")))?;
    Ok(DeliveredAlerts {
        alerts,
        received: received(message),
        redelivered: redelivered(message),
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
