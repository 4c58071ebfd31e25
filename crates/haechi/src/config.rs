//! The configuration file (TOML). Every key has a default, so `haechi serve` runs with
//! none; `haechi serve --config FILE` reads one. Unknown keys are errors, so a typo never
//! goes unnoticed.

use anyhow::{Context, bail};
use haechi_ingest::listen::{ListenerConfig, Protocol};
use haechi_server::ApiToken;
use haechi_store::embedded::StoreConfig;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where events, the log, dead letters and state live.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    /// Syslog listeners. Default: UDP and TCP on 127.0.0.1:5514.
    pub listeners: Vec<ListenerConfig>,
    /// Folders whose delivered files are read (`[[watch]]`: cloud exports). Default: none.
    pub watch: Vec<haechi_ingest::watch::WatchConfig>,
    pub tenants: TenantConfig,
    pub parse: ParseConfig,
    pub pipeline: PipelineConfig,
    pub store: StoreConfig,
    pub detect: DetectConfig,
    pub intel: IntelConfig,
    pub ml: MlConfig,
    pub risk: RiskSection,
    pub auth: AuthConfig,
    pub respond: RespondConfig,
    /// `[cluster]`: the scale-out roles over NATS JetStream (none: one process, no NATS).
    pub cluster: Option<haechi_cluster::ClusterConfig>,
    /// `[vuln]`: the vulnerability center's watched advisory folder.
    pub vuln: VulnConfig,
    /// `[web]`: scheduled inspection of institutions' web sites.
    pub web: WebConfig,
    /// `[sme]`: the public self-assessment portal for small companies (off by default).
    pub sme: haechi_server::sme::SmeConfig,
    /// `[domains]`: Domain Watch in `haechi serve` (look-alikes of protected names).
    pub domains: DomainsConfig,
    /// The file this configuration was read from (a reload reads it again).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// Rule paths given on the command line (`--rules`), kept across reloads.
    #[serde(skip)]
    pub cli_rules: Vec<PathBuf>,
}

/// The vulnerability center in `haechi serve` (`[vuln]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VulnConfig {
    /// A folder of advisory files (OSV, RubySec, FriendsOfPHP, Node.js WG, KEV, SSVC,
    /// EPSS) that a sync job keeps current; new and changed files are imported every
    /// `poll_secs` and matched against the stored inventories (none: not watched).
    pub advisories: Option<PathBuf>,
    /// Seconds between two looks at the folder (1 to 86,400).
    pub poll_secs: u64,
}

impl Default for VulnConfig {
    fn default() -> Self {
        VulnConfig {
            advisories: None,
            poll_secs: 300,
        }
    }
}

/// Domain Watch in `haechi serve` (`[domains]`): the protected names are kept by `haechi
/// domains protect` and the API; names arrive by the API (`POST /api/domains/names`) and
/// from a watched folder.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DomainsConfig {
    /// Domain Watch in this process (its API, the folder, the merges).
    pub enabled: bool,
    /// A folder where files of names arrive (newly registered domain lists, zone files,
    /// certstream JSON lines, gzip or not): each is checked once, then moved to `done/`
    /// (or `failed/` with a `.reason` file) inside it (none: not watched).
    pub watch: Option<PathBuf>,
    /// Seconds between two looks at the folder (1 to 86,400).
    pub poll_secs: u64,
    /// The institution (the center's own tenant) that gets the findings with no protected
    /// name behind them: DGA and phishing scores, UTS #39 unsafe names (none: those are
    /// answered and counted, not alerted).
    pub tenant: Option<String>,
    /// The DGA and phishing model scoring every name (a file written by `haechi train
    /// domains`, a default model's name, or `none`).
    pub model: String,
    /// The model's probability from which a name is a `dga` or `phishing` finding.
    pub model_threshold: f32,
    /// Findings under this score are dropped (0 to 1).
    pub min_score: f32,
    /// The block list look-alikes are added to, for the institution they imitate (firewalls
    /// pull `.txt`, resolvers `.rpz`); empty: none.
    pub block_list: String,
    /// Look-alikes from this score are blocked and shared.
    pub block_score: f32,
    /// Days a block list entry lives (renewed while the name keeps being seen).
    pub block_days: u64,
    /// A sharing hub collection that gets a STIX indicator for every blocked look-alike
    /// (none: not shared).
    pub share_collection: Option<String>,
    /// The TLP of those indicators: clear, green, amber, amber+strict or red.
    pub share_tlp: String,
    /// Seconds between two merges of the names seen since the universe was built into it
    /// (0: never; `haechi domains universe add` merges too).
    pub merge_secs: u64,
}

impl Default for DomainsConfig {
    fn default() -> Self {
        DomainsConfig {
            enabled: true,
            watch: None,
            poll_secs: 10,
            tenant: None,
            model: "domains".into(),
            model_threshold: crate::commands::domains::MODEL_THRESHOLD,
            min_score: haechi_domains::lookalike::ALERT_SCORE,
            block_list: "lookalike-domains".into(),
            block_score: 0.8,
            block_days: 90,
            share_collection: None,
            share_tlp: "amber".into(),
            merge_secs: 3600,
        }
    }
}

/// Scheduled web site inspection in `haechi serve` (`[web]`; the sites and their
/// schedules are added with `haechi web site add`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Seconds between two looks for sites that are due (0: no scheduled inspection).
    pub check_secs: u64,
    /// PEM files of certificate authorities to trust besides Mozilla's roots (the
    /// institutions' private CAs).
    pub ca: Vec<PathBuf>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            check_secs: 60,
            ca: Vec::new(),
        }
    }
}

/// Automated response (`[respond]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondConfig {
    /// A directory of playbooks (`*.yml`); reload with `POST /api/playbooks/reload`.
    /// None: no automated response.
    pub playbooks: Option<PathBuf>,
    /// How long one webhook attempt may take (seconds); three attempts are made.
    pub webhook_timeout_secs: u64,
    /// The SMTP server of the e-mail action (`[respond.smtp]`); none: e-mail actions
    /// fail with that reason.
    pub smtp: Option<haechi_respond::mail::SmtpConfig>,
}

impl Default for RespondConfig {
    fn default() -> Self {
        RespondConfig {
            playbooks: None,
            webhook_timeout_secs: 10,
            smtp: None,
        }
    }
}

/// People's logins (`[auth]`). Users and API tokens themselves live in
/// `<data_dir>/state/access.db` (`haechi user`, `haechi token`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// How long a login session lasts (hours).
    pub session_hours: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { session_hours: 12 }
    }
}

/// The risk index and incident probability (`haechi risk`, and every five minutes in
/// `haechi serve`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskSection {
    /// The incident model: a JSON file written by `haechi risk eval --out-model`, or
    /// `"risk"`, the default shipped in the binary; unset: no incident probability.
    pub model: Option<PathBuf>,
    /// Days of alerts the index, baseline and forecast look back over.
    pub history_days: u32,
    /// How often `haechi serve` recomputes the index and stores it (seconds; 0: never).
    pub interval_secs: u64,
    /// Weights, bucket length, windows (`[risk.index]`; see docs/configuration.md and docs/models/risk.md).
    pub index: haechi_risk::RiskConfig,
}

impl Default for RiskSection {
    fn default() -> Self {
        RiskSection {
            model: Some(PathBuf::from("risk")),
            history_days: 28,
            interval_secs: 300,
            index: haechi_risk::RiskConfig::default(),
        }
    }
}

/// Haechi's models in the pipeline.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlConfig {
    /// A domain model file (`haechi train domains`) or `"domains"`, the default model
    /// shipped in the binary: DNS, URL and TLS server names are
    /// scored, and a probability at or above `domains_threshold` raises an alert.
    pub domains_model: Option<PathBuf>,
    /// The probability (0–1) at which the domain model alerts. The model was validated on
    /// a balanced set; real traffic is mostly benign, so keep it high.
    pub domains_threshold: f32,
    /// A web model file (`haechi train web`) or `"web"`, the default model shipped in
    /// the binary: the values of every event's `url.query`
    /// are scored, and the worst at or above `web_threshold` raises an alert.
    pub web_model: Option<PathBuf>,
    /// The probability (0–1) at which the web model alerts.
    pub web_threshold: f32,
    /// A flow model trained with `--features live` (`haechi train flows`) or `"flows"`,
    /// the default shipped in the binary: Zeek `conn` and Suricata `flow` events are
    /// scored, and a probability at or above `flows_threshold` raises an alert.
    pub flows_model: Option<PathBuf>,
    /// The probability (0–1) at which the flow model alerts. It was validated on a
    /// testbed with 45 % attacks; real traffic is mostly benign, so keep it high.
    pub flows_threshold: f32,
}

impl Default for MlConfig {
    fn default() -> Self {
        MlConfig {
            domains_model: None,
            domains_threshold: 0.95,
            web_model: None,
            web_threshold: 0.95,
            flows_model: None,
            flows_threshold: 0.99,
        }
    }
}

/// Threat-intel feeds every accepted event is matched against.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntelConfig {
    /// The feeds: `{ name, path, format = "plain" | "csv" | "stix" | "misp", … }` (see
    /// docs/threat-intelligence.md).
    pub feeds: Vec<haechi_ioc::FeedConfig>,
    /// Size limits for feeds (file and line bytes, indicators).
    pub limits: haechi_ioc::Limits,
    /// The TAXII 2.1 sharing hub (`[intel.taxii]`: title, description, contact,
    /// max_content_length, default_page, max_page).
    pub taxii: haechi_server::taxii::TaxiiConfig,
    /// How many days of stored events are searched for indicators that arrive in the
    /// hub (0: no retro-hunt).
    pub retro_hunt_days: u32,
    /// The most events one retro-hunt query reads (the newest first); a pass that
    /// matched more is marked truncated in the console.
    pub retro_hunt_max_events: usize,
    /// Partner TAXII 2.1 collections polled into and pushed from the hub
    /// (`[[intel.remotes]]`).
    pub remotes: Vec<haechi_intel::remote::RemoteConfig>,
}

impl Default for IntelConfig {
    fn default() -> Self {
        IntelConfig {
            feeds: Vec::new(),
            limits: haechi_ioc::Limits::default(),
            taxii: haechi_server::taxii::TaxiiConfig::default(),
            retro_hunt_days: 30,
            retro_hunt_max_events: crate::hub::RETRO_MAX_EVENTS,
            remotes: Vec::new(),
        }
    }
}

/// Streaming detection: the Sigma rules every accepted event meets, and what becomes of
/// detections.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Sigma rule files or directories (`--rules` adds to these). None: no detection.
    pub rules: Vec<PathBuf>,
    /// Detections below this level raise no alert: informational, low, medium, high,
    /// critical.
    pub min_level: String,
    /// Identical alerts (same tenant, rule and entity) whose events lie within this many
    /// seconds of each other are merged into one with a count (0: never merge).
    pub merge_window_secs: u64,
    /// Alerts sharing an entity or an attacker within this many seconds of an open
    /// incident's activity join it (and one attacker at several institutions within it
    /// makes a campaign).
    pub incident_window_secs: u64,
    /// The lowest alert level that opens an incident (lower alerts only join one).
    pub incident_min_level: String,
    /// Known-good activity: `{ tenant = "…", rule = "…", query = "…", reason = "…" }`
    /// (tenant and rule optional).
    pub exceptions: Vec<haechi_detect::alert::ExceptionConfig>,
    /// The OT behaviour model's allow-list (`haechi ot learn`); none: no OT model.
    pub ot_allowlist: Option<PathBuf>,
    /// `[detect.device]`: the equipment's own detections as alerts (severity table,
    /// ATT&CK technique table, storm ceiling).
    pub device: haechi_detect::device::DeviceConfig,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            rules: Vec::new(),
            min_level: "informational".into(),
            merge_window_secs: 600,
            incident_window_secs: 3600,
            incident_min_level: "medium".into(),
            exceptions: Vec::new(),
            device: Default::default(),
            ot_allowlist: None,
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// The HTTP listener (ingest, health, metrics; later the API and the console).
    pub listen: SocketAddr,
    /// Bearer tokens of the configuration: `{ token, tenant, name, role }` (role defaults
    /// to `admin` without a tenant, `institution` with one). When empty, an
    /// administrator token is generated at first start and kept in
    /// `<data_dir>/api-token` (readable by the owner only). Tokens made with
    /// `haechi token create` live in the access database instead.
    pub tokens: Vec<ApiToken>,
    /// The largest request body, before and after gzip decompression (bytes).
    pub max_body_bytes: usize,
    /// The most lines one request may carry.
    pub max_lines: usize,
    /// HTTPS: the certificate chain and the private key (PEM). With both set, the HTTP
    /// listener speaks TLS only and session cookies carry `Secure`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Seconds a client has to send a request's head once it began (slowloris).
    pub head_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body.
    pub body_timeout_secs: u64,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant of records that no listener, token or mapping assigns.
    pub default: String,
    /// Senders by address: `{ cidr = "10.1.0.0/16", tenant = "seoul" }`.
    pub by_address: Vec<AddressTenant>,
    /// Senders by the hostname in their syslog header: `{ "fw-busan-01" = "busan" }`.
    pub by_hostname: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressTenant {
    pub cidr: String,
    pub tenant: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParseConfig {
    /// The time zone of time stamps that carry no offset (RFC 3164 syslog, …): an IANA
    /// name such as `Asia/Seoul`, or `UTC`.
    pub timezone: String,
    /// The year of RFC 3164 stamps (which have none); default: inferred from the
    /// receive time.
    pub year: Option<i32>,
    /// Keep each line as `event.original` for syslog, CEF, LEEF, key=value and access logs.
    pub keep_original: bool,
    /// How generic JSON lines map to ECS.
    pub json: haechi_ingest::JsonMapping,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Deliveries that may wait between the listeners and the parsers.
    pub queue_depth: usize,
    /// Parser threads.
    pub workers: usize,
    /// How often appended events are made searchable (milliseconds).
    pub commit_interval_ms: u64,
    /// How many recent records are remembered to drop duplicates (0: off).
    pub dedup_window: usize,
    /// The longest record (line, frame, datagram) accepted, in bytes.
    pub max_record_bytes: usize,
    /// The largest JSON document file `haechi ingest` reads whole (a CloudTrail delivery
    /// file, a JSON array of records), after decompression.
    pub max_document_bytes: usize,
    /// The most TCP/TLS syslog connections open at once.
    pub max_connections: usize,
    /// The most records one source (an institution, or a sender's address when the
    /// institution comes from the mapping) may have queued or being parsed at once, so
    /// that one flooding institution slows only itself (0: no limit; a larger request
    /// takes the whole share, alone).
    pub max_queued_per_source: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("haechi-data"),
            http: HttpConfig::default(),
            listeners: vec![
                ListenerConfig {
                    name: "syslog-udp".into(),
                    protocol: Protocol::Udp,
                    address: "127.0.0.1:5514".parse().unwrap_or_else(|_| unreachable!()),
                    tenant: None,
                    format: "syslog".into(),
                    tls_cert: None,
                    tls_key: None,
                },
                ListenerConfig {
                    name: "syslog-tcp".into(),
                    protocol: Protocol::Tcp,
                    address: "127.0.0.1:5514".parse().unwrap_or_else(|_| unreachable!()),
                    tenant: None,
                    format: "syslog".into(),
                    tls_cert: None,
                    tls_key: None,
                },
            ],
            watch: Vec::new(),
            tenants: TenantConfig::default(),
            parse: ParseConfig::default(),
            pipeline: PipelineConfig::default(),
            store: StoreConfig::default(),
            detect: DetectConfig::default(),
            intel: IntelConfig::default(),
            ml: MlConfig::default(),
            risk: RiskSection::default(),
            vuln: VulnConfig::default(),
            sme: haechi_server::sme::SmeConfig::default(),
            web: WebConfig::default(),
            domains: DomainsConfig::default(),
            auth: AuthConfig::default(),
            respond: RespondConfig::default(),
            cluster: None,
            source: None,
            cli_rules: Vec::new(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8080".parse().unwrap_or_else(|_| unreachable!()),
            tokens: Vec::new(),
            max_body_bytes: 64 << 20,
            max_lines: 200_000,
            tls_cert: None,
            tls_key: None,
            head_timeout_secs: 10,
            body_timeout_secs: 120,
        }
    }
}

impl Default for TenantConfig {
    fn default() -> Self {
        TenantConfig {
            default: "default".into(),
            by_address: Vec::new(),
            by_hostname: Default::default(),
        }
    }
}

impl Default for ParseConfig {
    fn default() -> Self {
        ParseConfig {
            timezone: "UTC".into(),
            year: None,
            keep_original: true,
            json: Default::default(),
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            queue_depth: 1024,
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            commit_interval_ms: 1000,
            dedup_window: 1_000_000,
            max_record_bytes: 1 << 20,
            max_document_bytes: 512 << 20,
            max_connections: 1024,
            max_queued_per_source: 10_000,
        }
    }
}

impl Config {
    /// Reads a configuration file, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let config: Config = match path {
            None => Config::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read the configuration {}", p.display()))?;
                let mut c: Config = toml::from_str(&text)
                    .with_context(|| format!("configuration {} is invalid", p.display()))?;
                c.source = Some(p.to_owned());
                c
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// Every institution the configuration names, sorted, without repeats.
    pub fn known_tenants(&self) -> Vec<String> {
        let mut all: Vec<String> = std::iter::once(&self.tenants.default)
            .chain(self.tenants.by_address.iter().map(|a| &a.tenant))
            .chain(self.tenants.by_hostname.values())
            .chain(self.listeners.iter().filter_map(|l| l.tenant.as_ref()))
            .chain(self.watch.iter().map(|w| &w.tenant))
            .chain(self.http.tokens.iter().filter_map(|t| t.tenant.as_ref()))
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.timezone()?;
        for t in self.known_tenants() {
            if !haechi_server::valid_tenant(&t) {
                bail!("tenant id '{t}' is invalid: use 1-64 characters of a-z, 0-9, '-', '_', '.'");
            }
        }
        for t in &self.http.tokens {
            let p = t.principal();
            p.role
                .check_tenant(p.tenant.as_deref())
                .map_err(|e| anyhow::anyhow!("http.tokens ({}): {e}", p.name))?;
        }
        for w in &self.watch {
            haechi_ingest::watch::check(w).map_err(|e| anyhow::anyhow!(e))?;
        }
        if self.http.tls_cert.is_some() != self.http.tls_key.is_some() {
            bail!("http.tls_cert and http.tls_key go together: set both for HTTPS, or neither");
        }
        self.intel
            .taxii
            .check()
            .map_err(|e| anyhow::anyhow!("intel.taxii: {e}"))?;
        for r in &self.intel.remotes {
            r.check().map_err(|e| anyhow::anyhow!(e))?;
        }
        let mut names: Vec<&str> = self.intel.remotes.iter().map(|r| r.name.as_str()).collect();
        names.sort();
        if names.windows(2).any(|w| w[0] == w[1]) {
            bail!("intel.remotes: two remotes have the same name");
        }
        if !(1..=86_400).contains(&self.vuln.poll_secs) {
            bail!("vuln.poll_secs: 1 to 86400");
        }
        self.sme.validate().map_err(|e| anyhow::anyhow!(e))?;
        self.domains.validate()?;
        if self.web.check_secs > 86_400 {
            bail!("web.check_secs: 0 (off) to 86400");
        }
        if !(1..=24 * 30).contains(&self.auth.session_hours) {
            bail!("auth.session_hours: 1 to 720");
        }
        for a in &self.tenants.by_address {
            parse_cidr(&a.cidr)
                .with_context(|| format!("tenants.by_address: '{}' is not a CIDR range", a.cidr))?;
        }
        if haechi_detect::hunt::LEVELS
            .iter()
            .all(|l| *l != self.detect.min_level)
        {
            bail!(
                "detect.min_level '{}': use one of {}",
                self.detect.min_level,
                haechi_detect::hunt::LEVELS.join(", ")
            );
        }
        if haechi_event::Level::parse(&self.detect.incident_min_level).is_none() {
            bail!(
                "detect.incident_min_level '{}': use one of {}",
                self.detect.incident_min_level,
                haechi_detect::hunt::LEVELS.join(", ")
            );
        }
        haechi_detect::alert::Exceptions::new(&self.detect.exceptions)
            .map_err(|e| anyhow::anyhow!("detect.exceptions: {e}"))?;
        if !(0.0..=1.0).contains(&self.ml.domains_threshold)
            || !(0.0..=1.0).contains(&self.ml.web_threshold)
        {
            bail!("ml.domains_threshold and ml.web_threshold must be probabilities from 0 to 1");
        }
        if self.http.tokens.iter().any(|t| t.token.len() < 16) {
            bail!("http.tokens: every token must be at least 16 characters");
        }
        Ok(())
    }

    pub fn timezone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.parse.timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "parse.timezone '{}' is not an IANA time zone name",
                self.parse.timezone
            )
        })
    }

    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    /// The state database (alerts).
    pub fn state_db(&self) -> PathBuf {
        self.data_dir.join("state").join("state.db")
    }
}

/// Parses `10.0.0.0/8` (or a single address) into network and prefix length.
pub fn parse_cidr(text: &str) -> anyhow::Result<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip: IpAddr = addr.trim().parse()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match len {
        Some(l) => l.trim().parse::<u8>()?,
        None => max,
    };
    if prefix > max {
        bail!("prefix /{prefix} is longer than {max}");
    }
    Ok((ip, prefix))
}

impl DomainsConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if !(1..=86_400).contains(&self.poll_secs) {
            bail!("domains.poll_secs: 1 to 86400");
        }
        for (key, v) in [
            ("model_threshold", self.model_threshold),
            ("min_score", self.min_score),
            ("block_score", self.block_score),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bail!("domains.{key}: a score from 0 to 1");
            }
        }
        if let Some(t) = &self.tenant
            && !haechi_server::valid_tenant(t)
        {
            bail!("domains.tenant '{t}' is not a valid tenant id");
        }
        if !self.block_list.is_empty()
            && !haechi_store::state::blocklists::valid_list_name(&self.block_list)
        {
            bail!(
                "domains.block_list '{}': 1-64 characters of a-z, 0-9, '-', '_'",
                self.block_list
            );
        }
        if !(1..=366).contains(&self.block_days) {
            bail!("domains.block_days: 1 to 366");
        }
        if haechi_intel::tlp::Tlp::parse(&self.share_tlp).is_none() {
            bail!(
                "domains.share_tlp '{}': clear, green, amber, amber+strict or red",
                self.share_tlp
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_configuration_parses() {
        let text = r#"
            data_dir = "/var/lib/haechi"
            [http]
            listen = "0.0.0.0:8443"
            tokens = [{ token = "0123456789abcdef0123", tenant = "seoul" }]
            [[listeners]]
            name = "fw"
            protocol = "tls"
            address = "0.0.0.0:6514"
            tls_cert = "cert.pem"
            tls_key = "key.pem"
            [tenants]
            default = "unassigned"
            by_address = [{ cidr = "10.1.0.0/16", tenant = "seoul" }]
            by_hostname = { "fw-busan-01" = "busan" }
            [parse]
            timezone = "Asia/Seoul"
            [store]
            retention_days = 90
        "#;
        let c: Config = toml::from_str(text).unwrap();
        c.validate().unwrap();
        assert_eq!(c.listeners[0].protocol, Protocol::Tls);
        assert_eq!(c.store.retention_days, Some(90));
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        assert!(toml::from_str::<Config>("data_dri = \"x\"").is_err());
        let c: Config = toml::from_str("[parse]\ntimezone = \"Mars/Olympus\"").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("Mars/Olympus")
        );
        let c: Config = toml::from_str("[tenants]\ndefault = \"Seoul City\"").unwrap();
        assert!(c.validate().is_err());
    }
}
