//! `haechi serve`: the control center's long-running process.

/// Set by `haechi bench --json`: the servers it starts print nothing on standard output,
/// which stays JSON lines.
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A status line on standard output (what operators and the tests read), unless quiet.
macro_rules! say {
    ($($t:tt)*) => {
        if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            println!($($t)*);
        }
    };
}

use super::{load_config, open_store};
use crate::DataDirArg;
use crate::detection::Detection;
use crate::pipeline::{Pipeline, TenantResolver, start_workers};
use anyhow::Context;
use haechi_cluster::Role;
use haechi_ingest::dedup::SharedDeduplicator;
use haechi_ingest::listen::{ListenContext, start};
use haechi_ingest::metrics::Metrics;
use haechi_ingest::reader::Limits;
use haechi_server::{ApiToken, AppState};
use haechi_store::EventStore;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A configuration file (TOML; see docs/configuration.md).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// The HTTP listener address (overrides `http.listen`).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Sigma rule files or directories every event meets (repeatable; added to
    /// `detect.rules`). Reload with SIGHUP or `POST /api/rules/reload`.
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// With `[cluster]`: the roles this process runs, comma-separated (`collector`,
    /// `detector`, `store`, `api`); overrides `cluster.roles`. Default: all.
    #[arg(long, value_delimiter = ',')]
    pub role: Vec<haechi_cluster::Role>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    if let Some(l) = args.listen {
        config.http.listen = l;
    }
    config.cli_rules = args.rules.clone();
    config.detect.rules.extend(args.rules);
    if !args.role.is_empty() {
        match config.cluster.as_mut() {
            Some(c) => c.roles = args.role,
            None => anyhow::bail!("--role needs a [cluster] section in the configuration"),
        }
    }
    run_with(config, None)
}

/// `haechi intel serve`: the server without syslog listeners — the sharing hub (TAXII),
/// the REST API and the console; events still arrive through `POST /api/ingest`.
pub fn run_hub(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    if let Some(l) = args.listen {
        config.http.listen = l;
    }
    config.listeners.clear();
    config.cli_rules = args.rules.clone();
    config.detect.rules.extend(args.rules);
    run_with(config, None)
}

/// What a running server tells an embedding command (`demo`, `bench`) once it listens.
pub struct Ready {
    pub http: SocketAddr,
    /// Listener name → bound address.
    pub listeners: Vec<(String, SocketAddr)>,
    /// A center-wide API token.
    pub token: String,
    pub alerts: Option<Arc<haechi_store::state::AlertStore>>,
    /// Cancel to stop the server as SIGTERM would.
    pub shutdown: CancellationToken,
}

/// Runs the server with a ready-made configuration; `ready` receives the bound
/// addresses once everything listens.
pub fn run_with(
    mut config: crate::config::Config,
    ready: Option<std::sync::mpsc::Sender<Ready>>,
) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    if config.http.tokens.is_empty() {
        config.http.tokens.push(ApiToken {
            token: load_or_create_token(&config.data_dir)?,
            tenant: None,
            name: Some("api-token".into()),
            role: None,
        });
    }
    check_roles(&config)?;
    let access = open_access(&config)?;
    let store: Arc<dyn EventStore> = open_store(&config)?;
    let hub = open_hub(&config)?;
    let hub_in_use = !hub
        .store
        .collections()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_empty();
    // A collector or store writer alone detects nothing: no rules to load.
    let detects = runs(&config, Role::Detector) || runs(&config, Role::Api);
    let started = if detects {
        Detection::start(&config, hub_in_use)?
    } else {
        None
    };
    let detection = match started {
        Some((d, report)) => {
            say!(
                "detection {} rules loaded ({} not loaded), {} indicators from {} feeds ({} MiB) in {:.1}s",
                report.rules,
                report.failed,
                report.indicators,
                report.feeds.len(),
                report.indicator_bytes >> 20,
                report.seconds
            );
            for f in &report.feeds {
                say!("intel {f}");
            }
            Some(Arc::new(d))
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bus = connect_bus(&config, &runtime)?;
    let metrics = Arc::new(Metrics::new());
    let limits = Limits {
        max_record_bytes: config.pipeline.max_record_bytes,
        max_document_bytes: config.pipeline.max_document_bytes,
        batch_size: 4096,
    };
    let pipeline = Arc::new(Pipeline {
        store: store.clone(),
        metrics: metrics.clone(),
        tenants: TenantResolver::new(&config)?,
        dedup: SharedDeduplicator::load(&dedup_path(&config), config.pipeline.dedup_window)
            .context("reading the de-duplication window")?,
        limits,
        timezone: config.timezone()?,
        year: config.parse.year,
        keep_original: config.parse.keep_original,
        json_mapping: Arc::new(config.parse.json.clone()),
        detection,
        bus: bus.clone(),
        recent_batches: Default::default(),
        commit_gate: Default::default(),
        unrecorded: Default::default(),
    });
    // Before anything new arrives: the alerts of batches a crash left unrecorded.
    let redone = pipeline
        .redo_inherited_log()
        .context("redoing the batches left in the write-ahead log")?;
    if redone > 0 {
        tracing::info!(
            batches = redone,
            "detected the batches left in the write-ahead log again"
        );
    }
    let (sender, receiver) = tokio::sync::mpsc::channel(config.pipeline.queue_depth.max(1));
    let workers = start_workers(pipeline.clone(), receiver, config.pipeline.workers);
    let shutdown = CancellationToken::new();
    if let (Some(sink), Some(cluster)) = (&bus, &config.cluster) {
        spawn_cluster_workers(&runtime, sink, cluster, &pipeline)?;
    }
    // Retro-hunts record alerts: only where the alert writer is.
    let watcher = pipeline
        .detection
        .clone()
        .filter(|_| runs(&config, Role::Api))
        .map(|d| {
            crate::hub::spawn_watcher(
                hub.store.clone(),
                d,
                store.clone(),
                config.intel.limits,
                crate::hub::RetroLimits {
                    days: config.intel.retro_hunt_days,
                    max_events: config.intel.retro_hunt_max_events,
                },
                metrics.clone(),
                shutdown.clone(),
            )
        });
    let served = runtime.block_on(serve(
        &config,
        hub,
        access,
        sender,
        metrics,
        pipeline.clone(),
        shutdown.clone(),
        ready,
    ));
    // Every sender is gone once the listeners and the HTTP server stopped: the workers
    // drain what was accepted, then the final commit makes it searchable.
    drop(runtime);
    shutdown.cancel();
    if let Some(w) = watcher {
        let _ = w.join();
    }
    for w in workers {
        let _ = w.join();
    }
    pipeline.commit().context("final commit")?;
    save_dedup(&pipeline, &dedup_path(&config));
    let stats = store.stats();
    eprintln!(
        "haechi stopped: {} events stored, {} dead letters",
        stats.events, stats.dead_letters
    );
    served.map(|_| ExitCode::SUCCESS)
}

/// True when this process runs `role`: always without `[cluster]`.
fn runs(config: &crate::config::Config, role: Role) -> bool {
    config.cluster.as_ref().is_none_or(|c| c.runs(role))
}

/// Refuses role splits that cannot work: the embedded store is one process's directory,
/// so its writer and the API that searches it must be the same process.
fn check_roles(config: &crate::config::Config) -> anyhow::Result<()> {
    if config.store.backend == haechi_store::Backend::Embedded
        && runs(config, Role::Store) != runs(config, Role::Api)
    {
        anyhow::bail!(
            "roles store and api are in different processes: that needs [store] backend = \"clickhouse\" (the embedded store belongs to one process)"
        );
    }
    Ok(())
}

/// With `[cluster]`: connects to NATS (creating the site's stream and consumers).
fn connect_bus(
    config: &crate::config::Config,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Option<Arc<crate::pipeline::ClusterSink>>> {
    let Some(cluster) = &config.cluster else {
        return Ok(None);
    };
    let node = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into()),
        std::process::id()
    );
    let bus = runtime
        .block_on(haechi_cluster::Bus::connect(cluster, &node))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say!(
        "cluster site {} at {} (roles: {})",
        cluster.site,
        cluster.nats,
        if cluster.roles.is_empty() {
            "all".to_owned()
        } else {
            format!("{:?}", cluster.roles).to_lowercase()
        }
    );
    Ok(Some(Arc::new(crate::pipeline::ClusterSink {
        bus,
        runtime: runtime.handle().clone(),
    })))
}

/// The `detector` and `store` roles: workers on the site's shared consumers; the `api`
/// role: the alert writer.
fn spawn_cluster_workers(
    runtime: &tokio::runtime::Runtime,
    sink: &Arc<crate::pipeline::ClusterSink>,
    cluster: &haechi_cluster::ClusterConfig,
    pipeline: &Arc<Pipeline>,
) -> anyhow::Result<()> {
    if cluster.runs(Role::Api) {
        if pipeline.detection.is_none() {
            anyhow::bail!(
                "the api role writes the site's alerts: it needs detection configured as on the detectors"
            );
        }
        let (sink, p) = (sink.clone(), pipeline.clone());
        runtime.spawn(async move {
            sink.bus
                .work_alerts(move |d| p.record_delivered_alerts(d))
                .await
        });
    }
    if cluster.runs(Role::Store) {
        let (sink, p) = (sink.clone(), pipeline.clone());
        // Batches gathered up to 100,000 events or 1 s per append (or until the consumer
        // has handed out all it will): one ClickHouse INSERT per pipeline batch made
        // small parts the server kept merging.
        runtime.spawn(async move {
            sink.bus
                .work_gathered("store", 100_000, Duration::from_millis(1000), move |d| {
                    p.store_gathered(d)
                })
                .await
        });
    }
    if cluster.runs(Role::Detector) {
        if pipeline.detection.is_none() {
            anyhow::bail!(
                "the detector role needs detection (rules, feeds, models or device alerts)"
            );
        }
        for _ in 0..cluster.detect_workers {
            let (sink, p) = (sink.clone(), pipeline.clone());
            runtime.spawn(async move {
                sink.bus
                    .work("detect", move |d| p.detect_delivered(d))
                    .await
            });
        }
    }
    Ok(())
}

/// The TAXII sharing hub over the intel store of the data directory.
fn open_hub(config: &crate::config::Config) -> anyhow::Result<haechi_server::taxii::Taxii> {
    let path = haechi_intel::store::IntelStore::path_in(&config.data_dir);
    let store = haechi_intel::store::IntelStore::open(&path)
        .with_context(|| format!("opening the intel store {}", path.display()))?;
    Ok(haechi_server::taxii::Taxii::new(
        Arc::new(store),
        config.intel.taxii.clone(),
    ))
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    config: &crate::config::Config,
    hub: haechi_server::taxii::Taxii,
    access: Arc<haechi_access::AccessStore>,
    sender: tokio::sync::mpsc::Sender<haechi_ingest::listen::Delivery>,
    metrics: Arc<Metrics>,
    pipeline: Arc<Pipeline>,
    shutdown: CancellationToken,
    ready: Option<std::sync::mpsc::Sender<Ready>>,
) -> anyhow::Result<()> {
    let (store, limits) = (pipeline.store.clone(), pipeline.limits);
    // Before anything is announced: a SIGTERM right after the `listening` lines must stop
    // the server gracefully, not kill it with the signal's default action.
    let signals = install_signal_handlers();
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let fair = haechi_ingest::fair::FairShare::new(config.pipeline.max_queued_per_source);
    let ctx = ListenContext {
        sender: sender.clone(),
        metrics: metrics.clone(),
        limits,
        connections: Arc::new(tokio::sync::Semaphore::new(config.pipeline.max_connections)),
        fair: fair.clone(),
        shutdown: shutdown.clone(),
    };
    let mut bound = Vec::new();
    let collector = runs(config, Role::Collector);
    let api = runs(config, Role::Api);
    for l in config.listeners.iter().filter(|_| collector) {
        let addr = start(l.clone(), ctx.clone()).await?;
        say!("listening {} {:?} {addr}", l.name, l.protocol);
        bound.push((l.name.clone(), addr));
    }
    for w in config.watch.iter().filter(|_| collector) {
        tokio::spawn(haechi_ingest::watch::run(
            w.clone(),
            ctx.clone(),
            config.data_dir.join("state"),
        ));
        say!("watching {} {}", w.name, w.path.display());
    }
    drop(ctx);
    let vuln_db = Arc::new(
        haechi_vuln::AdvisoryDb::open(&haechi_vuln::AdvisoryDb::path_in(&config.data_dir))
            .context("opening the vulnerability database")?,
    );
    let domains = match (config.domains.enabled && api).then(|| super::domains::open_watch(config))
    {
        Some(watch) => Some(haechi_server::domains::DomainsApi {
            watch: watch.context("opening Domain Watch")?,
            raise: pipeline
                .detection
                .clone()
                .map(|d| super::domains::raiser(config, d, Some(hub.store.clone()))),
        }),
        None => None,
    };
    let state = AppState {
        submit: sender,
        fair,
        metrics: metrics.clone(),
        store: store.clone(),
        tokens: Arc::new(config.http.tokens.clone()),
        access,
        session_ttl: Duration::from_secs(u64::from(config.auth.session_hours) * 3600),
        secure_cookies: config.http.tls_cert.is_some(),
        tenants: Arc::new(config.known_tenants()),
        max_body_bytes: config.http.max_body_bytes,
        body_timeout: Duration::from_secs(config.http.body_timeout_secs.max(1)),
        max_lines: config.http.max_lines,
        // The alerts are the alert writer's: other roles' state stores hold none.
        alerts: pipeline
            .detection
            .as_ref()
            .filter(|_| api)
            .map(|d| d.alerts.clone()),
        reload: pipeline.detection.clone().map(|d| {
            let f: Arc<haechi_server::alerts::ReloadFn> = Arc::new(move || {
                d.reload()
                    .map(|r| serde_json::json!(r))
                    .map_err(|e| format!("{e:#}"))
            });
            f
        }),
        responder: None,
        live: pipeline
            .detection
            .as_ref()
            .filter(|_| api)
            .map(|d| d.live()),
        taxii: Some(hub),
        cluster: pipeline.bus.clone().map(|sink| {
            let f: Arc<haechi_server::cluster::StatusFn> = Arc::new(move || {
                let sink = sink.clone();
                Box::pin(async move {
                    let status = sink.bus.status().await.map_err(|e| e.to_string())?;
                    serde_json::to_value(status).map_err(|e| e.to_string())
                })
            });
            f
        }),
        vuln: Some(haechi_server::vuln::VulnApi {
            db: vuln_db.clone(),
            record: pipeline.detection.clone().filter(|_| api).map(|d| {
                let f: Arc<haechi_server::vuln::RecordFn> = Arc::new(move |alerts| {
                    d.record(alerts)
                        .map(|_| alerts.len())
                        .map_err(|e| format!("{e:#}"))
                });
                f
            }),
        }),
        domains: domains.clone(),
        sme: (config.sme.enabled && api)
            .then(|| haechi_server::sme::SmePortal::new(config.sme.clone(), vuln_db.clone())),
        data_dir: Some(config.data_dir.clone()),
    };
    if let Some(hangup) = hangup {
        tokio::spawn(reload_on_sighup(
            hangup,
            pipeline.detection.clone(),
            shutdown.clone(),
        ));
    }
    for r in config.intel.remotes.iter().filter(|_| api) {
        let remote =
            haechi_intel::remote::Remote::new(r.clone()).map_err(|e| anyhow::anyhow!(e))?;
        let store = state
            .taxii
            .as_ref()
            .map(|t| t.store.clone())
            .expect("the hub is always open in serve");
        tokio::spawn(super::intel_sync::sync_loop(
            remote,
            store,
            state.metrics.clone(),
            shutdown.clone(),
        ));
    }
    let mut state = state;
    if let Some(detection) = pipeline.detection.clone().filter(|_| api) {
        state.responder = Some(start_responder(
            config,
            state.metrics.clone(),
            &detection,
            state.access.clone(),
            state.taxii.as_ref().map(|t| t.store.clone()),
            shutdown.clone(),
        )?);
    }
    let tls = match (&config.http.tls_cert, &config.http.tls_key) {
        (Some(cert), Some(key)) => Some(
            haechi_ingest::listen::tls_acceptor_from_pem(cert, key)
                .map_err(|e| anyhow::anyhow!("http: {e}"))?,
        ),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("cannot bind the HTTP listener {}", config.http.listen))?;
    let http = listener.local_addr()?;
    say!(
        "listening {} {http}",
        if tls.is_some() { "https" } else { "http" }
    );
    say!("data directory {}", config.data_dir.display());
    if let Some(ready) = ready {
        let _ = ready.send(Ready {
            http,
            listeners: bound,
            token: config
                .http
                .tokens
                .iter()
                .find(|t| t.tenant.is_none())
                .map(|t| t.token.clone())
                .unwrap_or_default(),
            alerts: state.alerts.clone(),
            shutdown: shutdown.clone(),
        });
    }
    let commit_loop = tokio::spawn(commit_periodically(
        pipeline,
        dedup_path(config),
        Duration::from_millis(config.pipeline.commit_interval_ms.max(10)),
        shutdown.clone(),
    ));
    if let (Some(dir), Some(vuln)) = (config.vuln.advisories.clone(), state.vuln.clone()) {
        say!("watching advisories {}", dir.display());
        tokio::spawn(super::vuln::watch_advisories(
            dir,
            Duration::from_secs(config.vuln.poll_secs),
            vuln,
            shutdown.clone(),
        ));
    }
    // Advisories partners share through the hub reach every stored inventory.
    if let (Some(vuln), Some(taxii)) = (
        state.vuln.clone().filter(|v| v.record.is_some()),
        state.taxii.as_ref(),
    ) {
        tokio::spawn(super::vuln::watch_hub_advisories(
            taxii.store.clone(),
            vuln,
            crate::hub::WATCH_INTERVAL,
            shutdown.clone(),
        ));
    }
    if let Some(domains) = &domains {
        if let Some(dir) = config.domains.watch.clone() {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("domains.watch {}", dir.display()))?;
            say!("watching domain names {}", dir.display());
            tokio::spawn(super::domains::watch_folder(
                dir,
                Duration::from_secs(config.domains.poll_secs),
                domains.clone(),
                shutdown.clone(),
            ));
        }
        if config.domains.merge_secs > 0 {
            tokio::spawn(super::domains::merge_periodically(
                domains.watch.clone(),
                Duration::from_secs(config.domains.merge_secs),
                shutdown.clone(),
            ));
        }
    }
    // Institutions' web sites on their schedules (`haechi web site add`).
    if let Some(record) = state.vuln.as_ref().and_then(|v| v.record.clone())
        && config.web.check_secs > 0
    {
        tokio::spawn(super::web::inspect_due_sites(
            vuln_db.clone(),
            config.web.ca.clone(),
            Duration::from_secs(config.web.check_secs),
            record,
            shutdown.clone(),
        ));
    }
    if let Some(alerts) = state.alerts.clone() {
        tokio::spawn(compute_risk_periodically(
            config.clone(),
            alerts,
            shutdown.clone(),
        ));
    }
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal(signals).await;
        tracing::info!("shutting down: no new connections; storing what was accepted");
        stop.cancel();
    });
    let app = haechi_server::router(state);
    haechi_server::listen::serve(
        listener,
        tls,
        app,
        config.pipeline.max_connections,
        Duration::from_secs(config.http.head_timeout_secs.max(1)),
        shutdown.clone().cancelled_owned(),
    )
    .await;
    let _ = commit_loop.await;
    Ok(())
}

/// Loads the playbooks and starts the task that meets every stored alert with them.
fn start_responder(
    config: &crate::config::Config,
    metrics: Arc<haechi_ingest::metrics::Metrics>,
    detection: &Arc<Detection>,
    access: Arc<haechi_access::AccessStore>,
    hub: Option<Arc<haechi_intel::store::IntelStore>>,
    shutdown: CancellationToken,
) -> anyhow::Result<Arc<haechi_respond::Responder>> {
    let http = haechi_respond::webhook::Client::new(
        Duration::from_secs(config.respond.webhook_timeout_secs.max(1)),
        Duration::from_millis(500),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let mail = config
        .respond
        .smtp
        .as_ref()
        .map(haechi_respond::mail::Mailer::new)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let (responder, report) = haechi_respond::Responder::new(
        config.respond.playbooks.clone(),
        detection.alerts.clone(),
        access,
        haechi_respond::Outbound { http, mail, hub },
    )
    .context("respond.playbooks")?;
    if config.respond.playbooks.is_some() {
        say!(
            "playbooks {} loaded, {} not loaded",
            report.playbooks,
            report.errors.len()
        );
        for e in &report.errors {
            say!("playbook not loaded: {e}");
        }
    }
    let counted = metrics.clone();
    let responder = Arc::new(responder.with_observer(Arc::new(move |o| {
        counted
            .playbook_actions
            .get_or_create(&haechi_ingest::metrics::ActionLabel {
                action: o.action.name().to_owned(),
                outcome: if o.ok { "ok" } else { "failed" }.to_owned(),
            })
            .inc();
    })));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<haechi_event::Alert>>(1024);
    detection.respond_with(tx);
    let r = responder.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                batch = rx.recv() => match batch {
                    Some(alerts) => r.on_alerts(&alerts).await,
                    None => break,
                },
            }
        }
    });
    Ok(responder)
}

/// Opens the access database; at first start creates the administrator `admin` with the
/// password of `HAECHI_ADMIN_PASSWORD`, or a generated one printed once.
fn open_access(config: &crate::config::Config) -> anyhow::Result<Arc<haechi_access::AccessStore>> {
    let path = haechi_access::AccessStore::path_in(&config.data_dir);
    let access = haechi_access::AccessStore::open(&path)
        .with_context(|| format!("cannot open the access database {}", path.display()))?;
    let given = std::env::var("HAECHI_ADMIN_PASSWORD").ok();
    match access.ensure_admin(given.as_deref()) {
        Ok(Some(password)) if given.is_none() => {
            say!(
                "administrator created: user admin, password {password} (shown once; change it with `haechi user passwd admin`)"
            );
        }
        Ok(Some(_)) => {
            say!("administrator created: user admin, password from HAECHI_ADMIN_PASSWORD")
        }
        Ok(None) => {}
        Err(e) => anyhow::bail!("cannot create the first administrator: {e}"),
    }
    // Changes a crash interrupted before their audit record: recorded as interrupted.
    match access.recover_intents() {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            changes = n,
            "audited changes interrupted by the last stop (recorded as interrupted)"
        ),
        Err(e) => anyhow::bail!("cannot record the interrupted changes in the audit log: {e}"),
    }
    Ok(Arc::new(access))
}

/// SIGTERM and SIGINT, registered now (a handler is only in place once registered).
fn install_signal_handlers() -> Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{SignalKind, signal};
    Some((
        signal(SignalKind::terminate()).ok()?,
        signal(SignalKind::interrupt()).ok()?,
    ))
}

async fn wait_for_signal(
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
) {
    let Some((mut term, mut interrupt)) = signals else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = interrupt.recv() => {}
    }
}

/// Reloads the rules on every SIGHUP (the convention of Unix daemons).
/// Recomputes every institution's risk index, forecast and incident probability from the
/// alerts and stores them (for `GET /api/risk` and the console), every
/// `risk.interval_secs`; the first run is right after start-up.
async fn compute_risk_periodically(
    config: crate::config::Config,
    alerts: Arc<haechi_store::state::AlertStore>,
    shutdown: CancellationToken,
) {
    if config.risk.interval_secs == 0 {
        return;
    }
    let model = match super::risk::configured_model(&config) {
        Ok(m) => m.map(Arc::new),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the risk index runs without incident probabilities");
            None
        }
    };
    let config = Arc::new(config);
    let mut tick = tokio::time::interval(Duration::from_secs(config.risk.interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (c, a, m) = (config.clone(), alerts.clone(), model.clone());
        let result = tokio::task::spawn_blocking(move || {
            super::risk::compute_and_store(
                &c,
                &a,
                m.as_deref(),
                haechi_event::Timestamp::now(),
                true,
            )
        })
        .await;
        match result {
            Ok(Ok(statuses)) => {
                tracing::debug!(institutions = statuses.len(), "risk index updated")
            }
            Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "risk index not updated"),
            Err(e) => tracing::error!(error = %e, "risk index task failed"),
        }
    }
}

async fn reload_on_sighup(
    mut hup: tokio::signal::unix::Signal,
    detection: Option<Arc<Detection>>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hup.recv() => {}
        }
        let Some(d) = detection.clone() else {
            tracing::info!("SIGHUP: detection is off, nothing to reload");
            continue;
        };
        match tokio::task::spawn_blocking(move || d.reload()).await {
            Ok(Ok(r)) => tracing::info!(
                rules = r.rules,
                failed = r.failed,
                seconds = r.seconds,
                "rules reloaded"
            ),
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "rules not reloaded; the running rules stay")
            }
            Err(e) => tracing::error!(error = %e, "rule reload failed"),
        }
    }
}

/// How often the de-duplication window is saved while serving.
const DEDUP_SAVE_EVERY: Duration = Duration::from_secs(60);

async fn commit_periodically(
    pipeline: Arc<Pipeline>,
    dedup_file: PathBuf,
    every: Duration,
    shutdown: CancellationToken,
) {
    // The first commit comes one interval after start, not at once.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut last_save = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let p = pipeline.clone();
        match tokio::task::spawn_blocking(move || p.commit()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "commit failed"),
            Err(e) => tracing::error!(error = %e, "commit task failed"),
        }
        if last_save.elapsed() >= DEDUP_SAVE_EVERY {
            last_save = std::time::Instant::now();
            let (p, f) = (pipeline.clone(), dedup_file.clone());
            let _ = tokio::task::spawn_blocking(move || save_dedup(&p, &f)).await;
        }
    }
}

/// Where the de-duplication window is kept between runs.
pub fn dedup_path(config: &crate::config::Config) -> PathBuf {
    config.data_dir.join("dedup.bin")
}

fn save_dedup(pipeline: &Pipeline, path: &Path) {
    if let Err(e) = pipeline.dedup.save(path) {
        tracing::warn!(error = %e, path = %path.display(), "could not save the de-duplication window");
    }
}

/// The generated ingest token, created at first start (owner-readable only).
fn load_or_create_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("api-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_owned());
    }
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .context("cannot read /dev/urandom for a token")?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut f, token.as_bytes())?;
    eprintln!(
        "generated an API token for POST /api/ingest and /metrics; it is in {}",
        path.display()
    );
    Ok(token)
}
