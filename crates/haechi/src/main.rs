//! # haechi — the binary
//!
//! Command line, configuration and wiring. The logic lives in the crates: `haechi-ingest`
//! (sources, parsers), `haechi-store` (the event store), `haechi-query` (the query
//! language), `haechi-server` (HTTP). Each command is one module under `commands/`.

mod commands;
mod config;
mod default_models;
mod detection;
mod hub;
mod pipeline;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// mimalloc instead of the system allocator: events are built on the pipeline threads
/// and freed on tantivy's indexing threads, a cross-thread pattern where glibc's malloc
/// spent about a quarter of the ingest CPU (measured with perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Haechi: a security control center in one binary.
#[derive(Parser)]
#[command(name = "haechi", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The control center on the embedded default, fed with real public data from three institutions; prints alerts live.
    Demo(commands::demo::DemoArgs),
    /// Run the control center: syslog listeners (UDP/TCP/TLS), HTTP ingest, the store.
    Serve(commands::serve::ServeArgs),
    /// The scale-out transport (`[cluster]`): `status` shows the stream and its consumers.
    Cluster(commands::cluster::ClusterArgs),
    /// Parse, normalize and store log files (syslog, CEF, LEEF, JSON, Suricata, Zeek, EVTX, access logs, key=value, CloudTrail, Kubernetes audit, Windows agent JSON).
    Ingest(commands::ingest::IngestArgs),
    /// Search stored events with the query language; count by field; histogram over time.
    Search(commands::search::SearchArgs),
    /// Hunt with Sigma rules through log files (EVTX, JSON lines, any collected format) and print a timeline of detections.
    Hunt(commands::hunt::HuntArgs),
    /// List the alerts detection raised (newest first), by tenant, level, origin or rule.
    Alerts(commands::alerts::AlertsArgs),
    /// Threat-intel feeds: `check` what the configured feeds load, `lookup` values in them.
    Intel(commands::intel::IntelArgs),
    /// Work with Sigma rules: `haechi rules check DIR` reports what loads and what does not.
    Rules(commands::rules::RulesArgs),
    /// Show the records that could not be parsed, with the reason.
    Deadletter(commands::deadletter::DeadletterArgs),
    /// The OT behaviour model: `learn --tenant ID --out FILE PATH...` an allow-list from baseline ICS logs, `check --tenant ID --allowlist FILE PATH...` other logs against it.
    Ot(commands::ot::OtArgs),
    /// Train one of Haechi's models (`domains`, `web`, `flows`) and write the model file.
    Train(commands::ml::TrainArgs),
    /// Evaluate a model on labeled data: accuracy, per-class precision/recall/F1, macro-F1, ROC AUC, confusion.
    Eval(commands::ml::EvalArgs),
    /// Score records with a model: class, probability and the features that drove it.
    Predict(commands::ml::PredictArgs),
    /// List the models shipped in the binary (usable by name wherever a model file is expected).
    Models,
    /// Measure parse and store throughput on the real sample data.
    Bench(commands::bench::BenchArgs),
    /// Users of the console and the API: `add NAME --role admin|center|institution|viewer [--tenant ID] --password-stdin`, `list`, `disable`, `enable`, `passwd`.
    User(commands::access::UserArgs),
    /// API tokens for machines: `create --name NAME --role ROLE [--tenant ID] [--expires-days N]` (prints the token once), `list`, `revoke`.
    Token(commands::access::TokenArgs),
    /// Block lists for firewalls: `add NAME VALUE [--expires-hours H] [--tenant ID]`, `remove`, `list`, `export NAME --format plain|json|nftables|rpz|sha256`.
    Blocklist(commands::blocklist::BlocklistArgs),
    /// Playbooks: `check DIR` reports what loads; `dry-run DIR --alert ID` shows what they would do.
    Playbook(commands::playbook::PlaybookArgs),
    /// The audit log of every change: `verify` its hash chain, `list` its records.
    Audit(commands::access::AuditArgs),
    /// Risk index, trend, forecast and incident probability per institution (`risk eval`:
    /// evaluate the incident model on replayed attack samples).
    Risk(commands::risk::RiskArgs),
    /// Vulnerability management: `db import PATH…` advisories (OSV, KEV, SSVC, EPSS),
    /// `db status`, `scan [--json] FILE…` SBOMs and lockfiles against them, `fix` (patch
    /// plans), `export` (CSAF, CycloneDX VEX, OpenVEX), `findings`.
    Vuln(commands::vuln::VulnArgs),
    /// The institutions' inventories: `add --tenant ID --system NAME [--exposure E]
    /// [--owner O] FILE…` SBOMs or lockfiles, `list`, `remove ID`; `generate` a CycloneDX
    /// SBOM from lockfiles.
    Sbom(commands::vuln::SbomArgs),
    /// ISMS operation support: `catalog` (the ISMS-P criteria with Haechi's evidence),
    /// `report --tenant ID [--month YYYY-MM]` (an institution's evidence for a month).
    Isms(commands::isms::IsmsArgs),
    /// Passive inspection of web pages: `inspect URL…` (security headers, cookies,
    /// disclosed versions, vulnerable JavaScript libraries).
    Web(commands::web::WebArgs),
    /// Domain Watch: look-alikes of institutions' protected names, and unsafe names.
    Domains(commands::domains::DomainsArgs),
    /// Rank MITRE ATT&CK intrusion sets by similarity to an incident's techniques and
    /// software, with the evidence (a similarity, not a verdict).
    Attribute(commands::attribute::AttributeArgs),
    /// Incidents from the command line: `export ID --out DIR` (a signed evidence package),
    /// `timeline ID` (Timesketch, Plaso), `questions ID` (DFIQ), `attribute ID` (ATT&CK).
    Incident(commands::incident::IncidentArgs),
    /// Evidence packages: `verify DIR [--key KEY]`, `key` (the center's public key).
    Evidence(commands::incident::EvidenceArgs),
    /// Drills: `run --tenant ID DATASET...` replays labelled attack recordings, `report ID`
    /// scores them per technique.
    Drill(commands::drill::DrillArgs),
    /// Check a deployment (data directory, permissions, disk, clock, certificate, rules,
    /// feeds, dead letters) and say what to do; exit 0 when nothing failed.
    Doctor(commands::doctor::DoctorArgs),
    /// Copy the data directory while Haechi runs (events, state, intel, keys, Domain
    /// Watch, drills) with the configuration and models, into `--out DIR` with a SHA-256
    /// manifest.
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into an empty data directory, every file checked against the
    /// manifest first and the databases and event store after (`--check`: only check).
    Restore(commands::backup::RestoreArgs),
}

/// The data directory option every command shares.
#[derive(clap::Args, Clone)]
pub struct DataDirArg {
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAECHI_LOG").unwrap_or_else(|_| {
                // The platform verifier logs every certificate it refuses; web inspection
                // reports those itself (an untrusted site is a finding, not an error).
                "warn,haechi=info,haechi_ingest=info,haechi_store=info,haechi_server=info,rustls_platform_verifier=off".into()
            }),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or a journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => commands::serve::run(a),
        Command::Cluster(a) => commands::cluster::run(a),
        Command::Demo(a) => commands::demo::run(a),
        Command::Ingest(a) => commands::ingest::run(a),
        Command::Search(a) => commands::search::run(a),
        Command::Deadletter(a) => commands::deadletter::run(a),
        Command::Ot(a) => commands::ot::run(a),
        Command::Rules(a) => commands::rules::run(a),
        Command::Alerts(a) => commands::alerts::run(a),
        Command::Intel(a) => commands::intel::run(a),
        Command::Hunt(a) => commands::hunt::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Train(a) => commands::ml::train(a),
        Command::Eval(a) => commands::ml::eval(a),
        Command::Predict(a) => commands::ml::predict(a),
        Command::Risk(a) => commands::risk::run(a),
        Command::Vuln(a) => commands::vuln::run(a),
        Command::Sbom(a) => commands::vuln::run_sbom(a),
        Command::Isms(a) => commands::isms::run(a),
        Command::Web(a) => commands::web::run(a),
        Command::Domains(a) => commands::domains::run(a),
        Command::Attribute(a) => commands::attribute::run(a),
        Command::Incident(a) => commands::incident::run(a),
        Command::Evidence(a) => commands::incident::run_evidence(a),
        Command::Drill(a) => commands::drill::run(a),
        Command::Doctor(a) => commands::doctor::run(a),
        Command::Backup(a) => commands::backup::backup(a),
        Command::Restore(a) => commands::backup::restore(a),
        Command::Models => commands::ml::models(),
        Command::User(a) => commands::access::user(a),
        Command::Token(a) => commands::access::token(a),
        Command::Audit(a) => commands::access::audit(a),
        Command::Blocklist(a) => commands::blocklist::run(a),
        Command::Playbook(a) => commands::playbook::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
