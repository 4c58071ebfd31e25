//! # Scale-out transport
//!
//! The arrows between Haechi's stages crossed as function calls in one process; with
//! `[cluster]` configured they cross NATS JetStream instead, so that collectors, detection
//! workers and store writers can run as separate processes on separate machines, any
//! number of each (`docs/design/scale-out.md`).
//!
//! * A collector parses and normalizes, then [`Bus::publish`]es each batch as one message
//!   on `haechi.<site>.events.<node>` with a `Nats-Msg-Id`, so a retried publish is
//!   dropped by the server as a duplicate. When the stream is full the publish waits:
//!   back-pressure reaches the senders instead of losing events.
//! * The `EVENTS` stream keeps a batch until both durable pull consumers, `detect` and
//!   `store`, have acknowledged it (interest retention). Workers of one kind share one
//!   consumer and acknowledge a batch only once their work is durable ([`Bus::work`]);
//!   a batch not acknowledged within `ack_wait_secs` is delivered again (at least once).
//! * Every event leaves the collector with an `event.id`, so the alerts a detector
//!   raises reference exactly the events the store writer keeps.
//! * A detector publishes the alerts of a batch as one message on
//!   `haechi.<site>.alerts.<node>` ([`Bus::publish_alerts`]) before it acknowledges the
//!   batch; the site's single alert writer (the `api` role) records them in the state
//!   store the console reads ([`Bus::work_alerts`]), once per batch.
//!
//! [`codec`] is the message format; [`Bus`] the connection, streams and consumers.

pub mod bus;
pub mod codec;

pub use bus::{
    Bus, ConsumerStatus, Delivered, DeliveredAlerts, SourceStatus, Status, StreamStatus,
    TowerStatus,
};

/// `[cluster]`: where the NATS server is and how this site's streams are sized.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// The NATS server, `nats://host:port`.
    pub nats: String,
    /// This site's name (letters, digits, `-`, `_`): its subjects are `haechi.<site>.…`.
    pub site: String,
    /// Bytes the events stream may hold; when it is full, publishing waits.
    pub events_max_bytes: i64,
    /// Bytes the alerts stream may hold (alerts waiting for the alert writer).
    pub alerts_max_bytes: i64,
    /// Seconds a worker has to acknowledge a batch before it is delivered again.
    pub ack_wait_secs: u64,
    /// Batches a consumer hands out without acknowledgement, across its workers.
    pub max_ack_pending: i64,
    /// The roles this process runs; empty: all of them.
    pub roles: Vec<Role>,
    /// Detection workers in this process (with the `detector` role), each taking one
    /// batch at a time from the shared consumer: more use more cores.
    pub detect_workers: usize,
    /// This site is a control tower: its streams keep every batch and alert until the
    /// center has sourced it (a durable `center` consumer per stream), so a cut link
    /// loses nothing. Set it before the site's first start.
    pub tower: bool,
    /// At the center: the towers whose streams the center's streams source.
    pub towers: Vec<TowerConfig>,
}

/// `[[cluster.towers]]`: one control tower, as the center sees it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TowerConfig {
    /// The tower's `cluster.site`.
    pub site: String,
    /// The JetStream domain of the tower's NATS server; default: the site's name.
    #[serde(default)]
    pub domain: Option<String>,
    /// The institutions the tower watches (shown in the console; those whose alerts
    /// arrive from the tower are added as they come).
    #[serde(default)]
    pub tenants: Vec<String>,
}

impl TowerConfig {
    pub fn domain(&self) -> &str {
        self.domain.as_deref().unwrap_or(&self.site)
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nats: "nats://127.0.0.1:4222".into(),
            site: "center".into(),
            events_max_bytes: 10 << 30,
            alerts_max_bytes: 1 << 30,
            ack_wait_secs: 30,
            max_ack_pending: 256,
            roles: Vec::new(),
            detect_workers: 1,
            tower: false,
            towers: Vec::new(),
        }
    }
}

impl ClusterConfig {
    /// Refuses names NATS subjects and stream names cannot hold.
    pub fn validate(&self) -> Result<(), ClusterError> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !name_ok(&self.site) {
            return Err(ClusterError::Config(format!(
                "cluster.site {:?}: use 1-64 letters, digits, '-' or '_'",
                self.site
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.towers {
            if !name_ok(&t.site) || !name_ok(t.domain()) {
                return Err(ClusterError::Config(format!(
                    "cluster.towers: site {:?} / domain {:?}: use 1-64 letters, digits, '-' or '_'",
                    t.site,
                    t.domain()
                )));
            }
            if t.site == self.site || !seen.insert(t.site.as_str()) {
                return Err(ClusterError::Config(format!(
                    "cluster.towers: site {:?} is named twice (or is this site)",
                    t.site
                )));
            }
        }
        if !(1..=64).contains(&self.detect_workers) {
            return Err(ClusterError::Config(format!(
                "cluster.detect_workers {}: use 1 to 64",
                self.detect_workers
            )));
        }
        if self.ack_wait_secs == 0
            || self.max_ack_pending <= 0
            || self.events_max_bytes <= 0
            || self.alerts_max_bytes <= 0
        {
            return Err(ClusterError::Config(
                "cluster.ack_wait_secs, max_ack_pending, events_max_bytes and alerts_max_bytes must be positive"
                    .into(),
            ));
        }
        Ok(())
    }

    /// True when this process runs `role` (every role when none is named).
    pub fn runs(&self, role: Role) -> bool {
        self.roles.is_empty() || self.roles.contains(&role)
    }
}

/// What a process does in a scale-out site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Listeners and `POST /api/ingest`: parse, normalize, publish.
    Collector,
    /// Detection on the shared `detect` consumer; alerts onto the `ALERTS` stream.
    Detector,
    /// The store writer on the shared `store` consumer.
    Store,
    /// The API and console, and the site's single alert writer (`ALERTS` into the
    /// state store the API reads).
    Api,
}

impl std::str::FromStr for Role {
    type Err = ClusterError;
    fn from_str(s: &str) -> Result<Role, ClusterError> {
        match s {
            "collector" => Ok(Role::Collector),
            "detector" => Ok(Role::Detector),
            "store" => Ok(Role::Store),
            "api" => Ok(Role::Api),
            other => Err(ClusterError::Config(format!(
                "unknown role {other:?}: collector, detector, store or api"
            ))),
        }
    }
}

/// Errors of the transport, each naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cluster configuration: {0}")]
    Config(String),
    #[error("cannot reach NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("JetStream {what}: {message}")]
    JetStream { what: String, message: String },
    #[error("a batch message is unreadable: {0}")]
    Codec(String),
}
