//! `haechi demo`: the control center on the embedded default, with four institutions
//! sending live traffic and attacks, the console to watch them in, and alerts printed as
//! detection raises them.
//!
//! It runs the real server (`serve`, in this process: listeners, HTTP API and console,
//! store, detection with the starter rule pack embedded in the binary, the demo's
//! indicator list, the built-in domain and web models, and an approval playbook) and the
//! scenario generator of `haechi-scenario`, which sends each institution's traffic over
//! the real protocols: the water works' firewall and sshd over TCP syslog, everything
//! else through `POST /api/ingest` in its own format. The demo needs nothing but the
//! binary. `--data DIR` replays the real public samples of `../shared/data` instead of
//! the scenario (with the SigmaHQ rules under it, unless `--rules` says otherwise).
//! The administrator `admin` gets the password of `HAECHI_ADMIN_PASSWORD`, or a new one
//! printed on the terminal at every start.

use crate::DataDirArg;
use crate::commands::serve::{Ready, run_with};
use crate::config::Config;
use anyhow::Context;
use haechi_event::{Timestamp, write_event_json};
use haechi_ingest::listen::{ListenerConfig, Protocol};
use haechi_ingest::reader::{Limits, read_file};
use haechi_ingest::{Format, ParseContext};
use haechi_ioc::{Column, FeedConfig, FeedFormat, IpPortPolicy};
use haechi_scenario::{CYCLE_SECS, Scenario, Transport};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Replay the real public samples under this directory (`../shared/data`) instead of
    /// the built-in scenario.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// More Sigma rule files or directories (the SigmaHQ set, say), besides the
    /// starter pack. With `--data`, they replace the SigmaHQ rules under it.
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// The HTTP listener (API and console).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The TCP syslog listener.
    #[arg(long, default_value = "127.0.0.1:5514")]
    pub syslog: SocketAddr,
    /// Scenario: background events per second (all institutions together).
    #[arg(long, default_value_t = 40)]
    pub noise: usize,
    /// Scenario: seconds of scenario time played per real second (a cycle is 60 s).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Scenario: the seed of the generator (the same seed sends the same traffic).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// `--data` replay: events per second sent.
    #[arg(long, default_value_t = 2_000)]
    pub rate: usize,
    /// Play one scenario cycle (or the samples once), wait for its alerts, and stop,
    /// instead of playing on until Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

/// One institution's feed of the sample replay: what is sent, and how.
struct Feed {
    tenant: &'static str,
    /// `None`: TCP syslog; `Some(format)`: `POST /api/ingest?format=…`.
    http_format: Option<&'static str>,
    /// Lines every request starts with (a Zeek TSV log's `#` header).
    header: Vec<String>,
    lines: Vec<String>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut config = demo_config(&args)?;
    let password = demo_admin(&config)?;
    // The models shipped in the binary: DGA names in DNS logs, attacks in query strings.
    config.ml.domains_model = Some("domains".into());
    config.ml.web_model = Some("web".into());
    let feeds = match &args.data {
        Some(data) => Some(load_feeds(data)?),
        None => None,
    };
    let config_for_inventory = config.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || run_with(config, Some(tx)));
    let ready = match rx.recv_timeout(Duration::from_secs(600)) {
        Ok(r) => r,
        Err(_) => {
            return server
                .join()
                .map_err(|_| anyhow::anyhow!("the demo server panicked"))?
                .context("the demo server did not start");
        }
    };
    // The server's own start-up tasks write the same databases: a busy database is tried
    // again a few times before the demo says it could not seed.
    match retry(|| seed_inventory(&config_for_inventory)) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("the demo inventory could not be set up: {e:#}"),
    }
    match retry(|| seed_domains(&ready)) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("the demo's Domain Watch could not be set up: {e:#}"),
    }
    println!();
    println!("  console   http://{}/", ready.http);
    println!("  user      admin");
    println!("  password  {password}");
    println!();
    let follower = std::thread::spawn({
        let alerts = ready.alerts.clone();
        let stop = ready.shutdown.clone();
        move || follow_alerts(alerts, stop)
    });
    match &feeds {
        Some(feeds) => {
            let total: usize = feeds.iter().map(|f| f.lines.len()).sum();
            println!(
                "replaying {total} real events from 3 institutions at {} events/s …",
                args.rate
            );
            replay(&ready, feeds, args.rate.max(1))?;
            println!("replay done");
            if let Some(data) = &args.data {
                match short_drill(&ready, data) {
                    Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
                    Err(e) => eprintln!("the demo drill did not run: {e:#}"),
                }
            }
        }
        None => {
            println!(
                "playing the scenario: 4 institutions, {} background events/s, attacks every {CYCLE_SECS} s of scenario time …",
                args.noise
            );
            play(&ready, &args)?;
        }
    }
    if args.once {
        // Let the last batches reach the alert store and the follower print them.
        std::thread::sleep(Duration::from_secs(2));
        ready.shutdown.cancel();
    }
    let served = server
        .join()
        .map_err(|_| anyhow::anyhow!("the demo server panicked"))?;
    let _ = follower.join();
    served
}

/// `f`, tried up to five times a second apart while it fails.
fn retry<T>(mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut attempt = 1;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 5 => {
                eprintln!("demo set-up, attempt {attempt}: {e:#}; trying again");
                attempt += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The water works' public portal as a stored inventory, matched against the embedded
/// advisories: its KEV-listed finding (CVE-2021-3129 in facade/ignition) and the others
/// become alerts of origin `vuln` in the queue. Returns the line to print.
fn seed_inventory(config: &Config) -> anyhow::Result<String> {
    use haechi_vuln::matcher::Matcher;
    let dir = config.data_dir.join("demo").join("vuln");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    for (name, text) in haechi_scenario::DEMO_VULN_FILES {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
        std::fs::write(path, text)?;
    }
    let db = haechi_vuln::AdvisoryDb::open(&haechi_vuln::AdvisoryDb::path_in(&config.data_dir))?;
    haechi_vuln::import::import_paths(&db, &[dir.join("advisories")])?;
    let system = "public-portal";
    let tenant = "water-works";
    let inv = haechi_vuln::inventory::read_file(&dir.join("composer.lock"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Stored by an earlier run (or an earlier attempt of this one): its findings are
    // alerted again (they merge into the alerts they raised), so that a retry after a
    // busy database loses nothing.
    let findings = if db.sboms(Some(tenant))?.iter().any(|b| b.system == system) {
        db.findings(Some(tenant), 10_000)?
            .into_iter()
            .filter(|f| f.system == system)
            .collect()
    } else {
        let matcher = Matcher::new(db.snapshot()?);
        haechi_vuln::assets::store_and_match(
            &db,
            &matcher,
            tenant,
            system,
            haechi_vuln::ssvc::Exposure::InternetFacing,
            "web team",
            &inv,
        )?
        .new
    };
    let kev: Vec<String> = findings
        .iter()
        .filter(|f| f.finding.kev)
        .map(|f| {
            let x = &f.finding;
            format!(
                "{} in {} {}",
                x.aliases.first().unwrap_or(&x.id),
                x.package,
                x.version
            )
        })
        .collect();
    let alerts = super::vuln::raise_alerts(config, &findings)?;
    Ok(format!(
        "inventory: {tenant}/{system} (internet-facing), {} components, {} findings, KEV: {}; {alerts} vuln alerts",
        inv.components.len(),
        findings.len(),
        kev.join(", ")
    ))
}

/// The administrator's password for this run: `HAECHI_ADMIN_PASSWORD`, or a new one
/// (set on the existing account, audited, when the data directory is reused).
fn demo_admin(config: &Config) -> anyhow::Result<String> {
    let path = haechi_access::AccessStore::path_in(&config.data_dir);
    let access = haechi_access::AccessStore::open(&path)
        .with_context(|| format!("cannot open the access database {}", path.display()))?;
    let password = std::env::var("HAECHI_ADMIN_PASSWORD")
        .unwrap_or_else(|_| haechi_access::secret::random_password());
    if access
        .ensure_admin(Some(&password))
        .context("creating the administrator")?
        .is_none()
    {
        access
            .set_password("admin", &password, "demo")
            .context("setting the administrator's demo password")?;
    }
    Ok(password)
}

fn demo_config(args: &DemoArgs) -> anyhow::Result<Config> {
    let mut config = Config {
        data_dir: args
            .data_dir
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("haechi-demo")),
        ..Config::default()
    };
    config.http.listen = args.listen;
    config.listeners = vec![ListenerConfig {
        name: "syslog-tcp".into(),
        protocol: Protocol::Tcp,
        address: args.syslog,
        tenant: None,
        format: "syslog".into(),
        tls_cert: None,
        tls_key: None,
    }];
    config.tenants.by_address = Vec::new();
    config.tenants.default = "water-works".into();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let starter = write_starter_pack(&config.data_dir)?;
    match &args.data {
        Some(data) => {
            config.detect.rules = if args.rules.is_empty() {
                vec![data.join("sigma")]
            } else {
                args.rules.clone()
            };
            config.intel.feeds = demo_feeds(&data.join("threat_intel"));
        }
        None => {
            config.detect.rules = std::iter::once(starter.rules)
                .chain(args.rules.iter().cloned())
                .collect();
            let mut feed =
                FeedConfig::new("demo-indicators", starter.indicators, FeedFormat::Plain);
            feed.description = Some("the demo campaign's infrastructure".into());
            feed.confidence = Some(90);
            config.intel.feeds = vec![feed];
            config.respond.playbooks = Some(starter.playbooks);
            // A newcomer sees the risk index move within a minute, not five.
            config.risk.interval_secs = 30;
        }
    }
    Ok(config)
}

/// Where the demo's embedded files were written.
struct StarterPack {
    rules: PathBuf,
    indicators: PathBuf,
    playbooks: PathBuf,
}

/// A playbook that waits for a person: block what a threat-intel hit names (the
/// campaign's address and domain) at every institution's edge.
const DEMO_PLAYBOOK: &str = "id: block-indicator-hits
name: Block threat-intel hits at the edge of every institution (needs approval)
mode: approval
trigger:
  min_level: high
  indicator: true
actions:
  - block: {list: edge, value: \"{{attacker}}\", expires: 24h, scope: all}
  - incident: {status: containment, note: \"{{attacker}} blocked at the edge of every institution\"}
";

/// Writes the starter rules, the indicator list and the playbook embedded in the binary
/// into the data directory (again at every start, so that they match the binary).
fn write_starter_pack(data_dir: &Path) -> anyhow::Result<StarterPack> {
    let root = data_dir.join("demo");
    let pack = StarterPack {
        rules: root.join("rules"),
        indicators: root.join("indicators.txt"),
        playbooks: root.join("playbooks"),
    };
    // These directories belong to the demo: what an older binary wrote goes.
    for dir in [&pack.rules, &pack.playbooks] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
    }
    for (name, text) in haechi_scenario::STARTER_RULES {
        std::fs::write(pack.rules.join(name), text)?;
    }
    std::fs::write(&pack.indicators, haechi_scenario::DEMO_INDICATORS)?;
    std::fs::write(
        pack.playbooks.join("block-indicator-hits.yml"),
        DEMO_PLAYBOOK,
    )?;
    Ok(pack)
}

/// Plays the scenario second by second at `--speed`, until Ctrl-C (or one cycle with
/// `--once`). Events are stamped with the time they are sent: faster than real time,
/// the scenario's minutes shrink rather than run into the future.
fn play(ready: &Ready, args: &DemoArgs) -> anyhow::Result<()> {
    let speed = args.speed.clamp(0.1, 1000.0);
    let mut scenario = Scenario::new(args.seed, Timestamp::now(), speed, args.noise);
    let syslog = listener(ready, "syslog-tcp")?;
    let mut tcp = std::net::TcpStream::connect(syslog)?;
    let began = Instant::now();
    for second in 0u64.. {
        if ready.shutdown.is_cancelled() || (args.once && second >= CYCLE_SECS) {
            break;
        }
        for batch in scenario.second(second) {
            match batch.transport {
                Transport::Syslog => {
                    let mut buf = batch.lines.join("\n");
                    buf.push('\n');
                    tcp.write_all(buf.as_bytes())?;
                }
                Transport::Http(format) => post(ready, batch.tenant, format, &batch.lines)?,
            }
        }
        let due = began + Duration::from_secs_f64((second + 1) as f64 / speed);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    tcp.flush()?;
    Ok(())
}

fn listener(ready: &Ready, name: &str) -> anyhow::Result<SocketAddr> {
    ready
        .listeners
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, a)| *a)
        .with_context(|| format!("no {name} listener"))
}

/// The public threat-intel feeds under `dir`, each with its own layout.
pub fn demo_feeds(dir: &Path) -> Vec<FeedConfig> {
    let feed = |name: &str, path: PathBuf, format: FeedFormat| FeedConfig::new(name, path, format);
    let mut feeds = Vec::new();
    let mut ipsum = feed("ipsum", dir.join("ipsum/ipsum.txt"), FeedFormat::Plain);
    ipsum.description = Some("on {} blocklists".into());
    ipsum.confidence = Some(60);
    feeds.push(ipsum);
    let mut firehol = feed(
        "firehol-level1",
        dir.join("firehol/firehol_level1_2021-06-28.netset"),
        FeedFormat::Plain,
    );
    firehol.confidence = Some(80);
    firehol.skip_reserved = true;
    feeds.push(firehol);
    let mut feodo = feed(
        "feodotracker",
        dir.join("abuse_ch/feodotracker_ipblocklist_2024-04-04.csv"),
        FeedFormat::Csv,
    );
    feodo.header = true;
    feodo.value_column = Some(Column::Name("dst_ip".into()));
    feodo.description_column = Some(Column::Name("malware".into()));
    feodo.confidence = Some(90);
    feeds.push(feodo);
    let mut urlhaus = feed(
        "urlhaus",
        dir.join("abuse_ch/urlhaus_recent_2025-04-21.csv"),
        FeedFormat::Csv,
    );
    urlhaus.header = true;
    urlhaus.value_column = Some(Column::Name("url".into()));
    urlhaus.description_column = Some(Column::Name("threat".into()));
    urlhaus.confidence = Some(90);
    feeds.push(urlhaus);
    let mut c2 = feed(
        "c2intelfeeds",
        dir.join("c2intelfeeds/IPC2s-30day_2023-11-23.csv"),
        FeedFormat::Csv,
    );
    c2.value_column = Some(Column::Index(0));
    c2.description_column = Some(Column::Index(1));
    c2.confidence = Some(70);
    feeds.push(c2);
    for sub in ["maltrail", "stix2", "misp"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for path in files {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let format = match sub {
                "maltrail" => FeedFormat::Plain,
                "stix2" => FeedFormat::Stix,
                _ => FeedFormat::Misp,
            };
            let mut f = feed(&format!("{sub}/{stem}"), path, format);
            if sub == "maltrail" {
                f.ip_port = IpPortPolicy::Ip;
            }
            f.skip_reserved = true;
            feeds.push(f);
        }
    }
    feeds
}

/// The real samples, as each institution sends them.
fn load_feeds(data: &Path) -> anyhow::Result<Vec<Feed>> {
    let lines = |p: &str| -> anyhow::Result<Vec<String>> {
        let path = data.join(p);
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the sample {}", path.display()))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect())
    };
    let ssh: Vec<String> = lines("logs/loghub/OpenSSH_2k.log")?
        .into_iter()
        .map(|l| format!("<38>{l}"))
        .collect();
    let mut web = lines("logs/access_logs/elastic_examples_apache_access_2015.log")?;
    web.truncate(3_000);
    let (dns_header, dns): (Vec<String>, Vec<String>) = lines("logs/zeek/soc-zeek-lab/dns.log")
        .unwrap_or_default()
        .into_iter()
        .partition(|l| l.starts_with('#'));
    Ok(vec![
        Feed {
            tenant: "city-hall",
            http_format: Some("json"),
            header: Vec::new(),
            lines: evtx_as_json(&data.join("evtx"))?,
        },
        Feed {
            tenant: "water-works",
            http_format: None,
            header: Vec::new(),
            lines: ssh,
        },
        Feed {
            tenant: "university",
            http_format: Some("clf"),
            header: Vec::new(),
            lines: web,
        },
        Feed {
            tenant: "university",
            http_format: Some("zeek"),
            header: dns_header,
            lines: dns,
        },
    ])
}

/// Every EVTX record under `dir`, as the flat JSON a log shipper would forward.
fn evtx_as_json(dir: &Path) -> anyhow::Result<Vec<String>> {
    let files = super::ingest::collect_files(&[dir.to_owned()])?;
    let ctx = ParseContext::new("city-hall");
    let mut out = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "evtx"))
    {
        let _ = read_file(
            f,
            Format::Evtx,
            &ctx,
            None,
            Limits::default(),
            false,
            &mut |batch| {
                for e in &batch.events {
                    let mut line = Vec::with_capacity(1024);
                    write_event_json(e, &mut line);
                    out.push(String::from_utf8_lossy(&line).into_owned());
                }
                Ok(())
            },
        );
    }
    Ok(out)
}

/// Sends every feed, interleaved, `rate` events per second in tenths of a second.
fn replay(ready: &Ready, feeds: &[Feed], rate: usize) -> anyhow::Result<()> {
    let syslog = listener(ready, "syslog-tcp")?;
    let mut tcp = std::net::TcpStream::connect(syslog)?;
    let per_tick = (rate / 10).max(feeds.len());
    let share = per_tick / feeds.len();
    let mut offsets = vec![0usize; feeds.len()];
    let started = Instant::now();
    let mut tick = 0u32;
    while offsets.iter().zip(feeds).any(|(o, f)| *o < f.lines.len()) {
        for (i, feed) in feeds.iter().enumerate() {
            let end = (offsets[i] + share).min(feed.lines.len());
            let chunk = &feed.lines[offsets[i]..end];
            offsets[i] = end;
            if chunk.is_empty() {
                continue;
            }
            match feed.http_format {
                None => {
                    let mut buf = chunk.join("\n");
                    buf.push('\n');
                    tcp.write_all(buf.as_bytes())?;
                }
                Some(format) => {
                    let request: Vec<String> = feed.header.iter().chain(chunk).cloned().collect();
                    post(ready, feed.tenant, format, &request)?
                }
            }
        }
        tick += 1;
        let due = started + Duration::from_millis(100) * tick;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    tcp.flush()?;
    Ok(())
}

/// `POST /api/ingest` over a plain HTTP/1.1 connection (the server's own API).
fn post(ready: &Ready, tenant: &str, format: &str, lines: &[String]) -> anyhow::Result<()> {
    api_post(
        ready,
        &format!("/api/ingest?tenant={tenant}&format={format}"),
        &lines.join("\n"),
    )
    .with_context(|| format!("ingest for {tenant}"))?;
    Ok(())
}

/// POSTs `body` to the demo server's API as its administrator; the answer's body.
fn api_post(ready: &Ready, path: &str, body: &str) -> anyhow::Result<String> {
    use std::io::Read;
    let mut conn = std::net::TcpStream::connect(ready.http)?;
    let kind = if body.starts_with('{') {
        "application/json"
    } else {
        "text/plain"
    };
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        ready.http,
        ready.token,
        body.len()
    )?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    if !(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 201")) {
        anyhow::bail!("refused: {}", answer.lines().next().unwrap_or(""));
    }
    Ok(answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

/// The recording the demo's drill replays: a remote scheduled task (T1053.005).
const DEMO_DRILL: &str = "drills/otrf_windows_atomic/SDWIN-201219070027";

/// A short drill after the replay: the city hall is drilled with a real recording at 100×
/// through the server's API, exactly as `haechi drill run --server` does; returns the
/// report's lines (also on the console's Drills page).
fn short_drill(ready: &Ready, data: &Path) -> anyhow::Result<Vec<String>> {
    let set =
        haechi_drill::Dataset::load(&data.join(DEMO_DRILL)).map_err(|e| anyhow::anyhow!(e))?;
    let (id, r) = super::drill_server::run(
        &format!("http://{}", ready.http),
        ready.token.clone(),
        "city-hall",
        100.0,
        Some("Demo drill: a remote scheduled task".into()),
        std::slice::from_ref(&set),
    )?;
    let mut lines = vec![format!(
        "drill {id} at city-hall: {} of {} techniques detected (haechi drill report {id})",
        r["detected"],
        r["techniques"].as_array().map_or(0, Vec::len)
    )];
    for t in r["techniques"].as_array().into_iter().flatten() {
        lines.push(match t["time_to_detect_s"].as_f64() {
            Some(s) => format!(
                "  {} {} detected in {s:.2} s by {}",
                t["technique"].as_str().unwrap_or_default(),
                t["title"].as_str().unwrap_or_default(),
                t["rules"][0].as_str().unwrap_or_default()
            ),
            None => format!(
                "  {} {} MISSED",
                t["technique"].as_str().unwrap_or_default(),
                t["title"].as_str().unwrap_or_default()
            ),
        });
    }
    Ok(lines)
}

/// Domain Watch in the demo: the city hall protects seoul.go.kr, then a certificate is
/// logged for a look-alike registered today (as a Certificate Transparency feed would
/// deliver it), and the alert reaches the city hall's queue. Returns the line to print.
fn seed_domains(ready: &Ready) -> anyhow::Result<String> {
    api_post(
        ready,
        "/api/domains/protected",
        r#"{"tenant":"city-hall","domain":"seoul.go.kr"}"#,
    )?;
    let ct = r#"{"message_type":"certificate_update","data":{"leaf_cert":{"all_domains":["seoul-go-kr-login.com","www.seoul-go-kr-login.com"]}}}"#;
    let answer: serde_json::Value =
        serde_json::from_str(&api_post(ready, "/api/domains/names", ct)?)?;
    Ok(format!(
        "domains: city-hall protects seoul.go.kr; a certificate for seoul-go-kr-login.com (new today) gave {} findings, {} domain alerts, {} names blocked",
        answer["findings"].as_array().map_or(0, Vec::len),
        answer["raised"]["alerts"],
        answer["raised"]["blocked"]
    ))
}

/// Prints every new alert until the server stops, then a summary by level.
fn follow_alerts(
    alerts: Option<std::sync::Arc<haechi_store::state::AlertStore>>,
    stop: tokio_util::sync::CancellationToken,
) {
    let Some(alerts) = alerts else { return };
    let mut last = 0i64;
    let mut by_level: BTreeMap<haechi_event::Level, u64> = BTreeMap::new();
    loop {
        let stopping = stop.is_cancelled();
        for a in alerts.after(last, 1_000).unwrap_or_default() {
            last = a.id;
            *by_level.entry(a.level).or_default() += 1;
            println!(
                "ALERT #{:<5} {:<13} {:<12} {:<34} {} [{}]",
                a.id,
                a.level.as_str(),
                a.tenant,
                truncate(&a.entity, 34),
                a.rule_title,
                a.source.as_str()
            );
        }
        if stopping {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let summary: Vec<String> = by_level
        .iter()
        .rev()
        .map(|(l, n)| format!("{n} {}", l.as_str()))
        .collect();
    println!("alerts: {}", summary.join(", "));
    println!("incidents: {}", alerts.incident_count().unwrap_or(0));
    for c in alerts.campaigns(Timestamp(0), 20).unwrap_or_default() {
        println!(
            "campaign #{}: {} at {} institutions ({})",
            c.id,
            c.key.trim_start_matches("attacker:"),
            c.tenants.len(),
            c.tenants.join(", ")
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
