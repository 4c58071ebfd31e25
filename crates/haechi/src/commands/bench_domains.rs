//! `haechi bench --stages domains`: Domain Watch's sweep and its quality figures, on the
//! real name lists of `../shared/data/domains`.
//!
//! * Sweep: a synthetic universe built from the real names — the registrable labels and
//!   public suffixes of the Tranco, newly-registered, phishing and DGA lists recombined,
//!   one in twenty mutated by one edit; the protected labels' own names left out — read end to end on one core (parse, UTS #46, the
//!   Public Suffix List, UTS #39 checks, look-alike lookups against 10,000 protected
//!   labels: the 58 Korean institutions' names and the Tranco top 10,000, and the DGA and
//!   phishing model), in names per second.
//! * Look-alikes: the share of the Tranco top 100,000 that alerts for the 58 Korean names.
//! * DGA by family: the default model was trained on eight families; the 33 families of
//!   `dga_families_baderj.csv` are all others, so their detection rates are
//!   family-disjoint by construction; against the share of newly registered names flagged.
//! * Stream: `haechi serve` with the 58 Korean names protected takes real newly
//!   registered names over `POST /api/domains/names` at 20,000 names/s (batches of 1,000
//!   every 50 ms), one look-alike in every batch; name-to-alert is from sending a batch to
//!   the server's answer, which comes once its alerts are stored (p50, p99).
//! * Model: recall on the phishing hostnames held out of the default model's training
//!   (the hash split it was trained with) against the share of popular names flagged, at
//!   several thresholds — on the Tranco names that are not in its training data.

use super::bench::BenchArgs;
use haechi_domains::{Index, Protected, lookalike, unsafe_names};
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

/// Names in the synthetic sweep universe.
const SWEEP_NAMES: usize = 2_000_000;
/// Protected labels for the sweep.
const PROTECTED_LABELS: usize = 10_000;

fn lines(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e} (the domains stage needs ../shared/data/domains)",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// A deterministic generator (xorshift), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = args.data.join("domains");
    let report = |what: &str, value: f64, unit: &str, note: String| {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"bench": "domains", "what": what, "value": value, "unit": unit, "note": note})
            );
        } else {
            println!("domains {what:<52} {value:>12.4} {unit:<12} {note}");
        }
    };
    let tranco = lines(&dir.join("tranco_top100k.txt"))?;
    let phishing = lines(&dir.join("phishing_hostnames_openphish.txt"))?;
    let mut nrd = lines(&dir.join("nrd7_whoisds_2025-06-21.txt"))?;
    nrd.extend(lines(&dir.join("nrd7_whoisds_2025-04-12.txt"))?);
    let dga: Vec<String> = lines(&dir.join("dga_dev_balanced.csv"))?
        .into_iter()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let (domain, label) = (f.next()?, f.next()?);
            (label == "1").then(|| domain.to_owned())
        })
        .collect();
    let kr = super::domains::read_protected(&dir.join("protected_kr_institutions.csv"))?;
    let model = haechi_ml::DomainModel::from_bytes(
        crate::default_models::default_model("domains")
            .expect("the default domains model ships")
            .bytes,
    )?;

    // Look-alikes on popular names.
    let index = Index::new(kr.clone());
    let alerts = tranco
        .iter()
        .filter_map(|n| haechi_domains::parse(n).ok())
        .filter(|n| {
            index
                .check(n)
                .iter()
                .any(|f| f.score >= lookalike::ALERT_SCORE)
        })
        .count();
    report(
        "look-alike alerts on the Tranco top 100,000",
        100.0 * alerts as f64 / tranco.len() as f64,
        "%",
        format!("{alerts} names alert for the 58 protected Korean names (goal: at most 0.01 %)"),
    );

    // The model's curve: held-out phishing recall against popular names flagged.
    let training_legit: HashSet<String> = lines(&dir.join("dga_dev_balanced.csv"))?
        .into_iter()
        .skip(1)
        .filter_map(|l| l.split(',').next().map(str::to_owned))
        .collect();
    let popular: Vec<f32> = tranco
        .iter()
        .filter(|n| !training_legit.contains(n.as_str()))
        .map(|n| model.score(n))
        .collect();
    let held_out: Vec<f32> = phishing
        .iter()
        .filter(|n| haechi_ml::is_validation(n, 20))
        .map(|n| model.score(n))
        .collect();
    for threshold in [0.5f32, 0.9, 0.99, 0.995, 0.999] {
        let flagged =
            popular.iter().filter(|s| **s >= threshold).count() as f64 / popular.len() as f64;
        let recall =
            held_out.iter().filter(|s| **s >= threshold).count() as f64 / held_out.len() as f64;
        report(
            &format!("held-out phishing recall at threshold {threshold}"),
            100.0 * recall,
            "%",
            format!(
                "{:.2} % of {} popular names flagged; {} held-out phishing hosts (Phishing Catcher: 16.8 % at 0.62 %)",
                100.0 * flagged,
                popular.len(),
                held_out.len()
            ),
        );
    }

    let dga_by_family = dga_families(&dir, &model, &nrd, &report)?;

    // The sweep.
    let mut protected = kr;
    for n in tranco.iter().take(PROTECTED_LABELS - protected.len()) {
        if let Ok(name) = haechi_domains::parse(n) {
            protected.push(Protected {
                tenant: "bench".into(),
                name,
            });
        }
    }
    let index = Index::new(protected);
    let mut labels: Vec<String> = Vec::new();
    let mut suffixes: Vec<String> = Vec::new();
    // The universe's labels come from the names that are not protected (Tranco beyond the
    // top 10,000, the new registrations, phishing and DGA names): look-alikes are rare in
    // it, as in the registered universe.
    for n in tranco
        .iter()
        .skip(PROTECTED_LABELS)
        .chain(&nrd)
        .chain(&phishing)
        .chain(&dga)
    {
        if let Ok(name) = haechi_domains::parse(n) {
            labels.push(name.label);
            suffixes.push(name.suffix);
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    let universe: Vec<String> = (0..SWEEP_NAMES)
        .map(|_| {
            let mut label = labels[rng.below(labels.len())].clone().into_bytes();
            if rng.below(20) == 0 && label.len() > 2 && label.is_ascii() {
                let i = rng.below(label.len() - 2) + 1;
                label[i] = alphabet[rng.below(alphabet.len())];
            }
            let suffix = &suffixes[rng.below(suffixes.len())];
            format!("{}.{suffix}", String::from_utf8_lossy(&label))
        })
        .collect();
    let started = Instant::now();
    let (mut findings, mut unread) = (0usize, 0usize);
    for n in &universe {
        match haechi_domains::parse(n) {
            Ok(name) => {
                findings += index.check(&name).len() + unsafe_names::check(&name).len();
                if model.score(&name.ascii) >= super::domains::MODEL_THRESHOLD {
                    findings += 1;
                }
            }
            Err(_) => unread += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let per_second = universe.len() as f64 / secs;
    report(
        "sweep: names per second on one core",
        per_second,
        "names/s",
        format!(
            "{} synthetic names from the real lists, {PROTECTED_LABELS} protected labels, the model included: {findings} findings, {unread} not read, {secs:.2} s; 350 M names would take {:.1} min on one core",
            universe.len(),
            350e6 / per_second / 60.0
        ),
    );

    // The universe: registrable names from the same recombination, as an FST file.
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let names: Vec<String> = (0..args.domains_universe)
        .map(|_| {
            let mut label = labels[rng.below(labels.len())].clone().into_bytes();
            if label.len() > 2 && label.is_ascii() {
                // Every name its own: one or two characters changed, or a digit added.
                let i = rng.below(label.len() - 1) + 1;
                label[i] = alphabet[rng.below(alphabet.len() - 1)];
                if rng.below(2) == 0 {
                    label.push(alphabet[26 + rng.below(10)]);
                }
            }
            format!(
                "{}.{}",
                String::from_utf8_lossy(&label),
                suffixes[rng.below(suffixes.len())]
            )
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("universe.fst");
    let started = Instant::now();
    let stored = haechi_domains::universe::build(&path, names).map_err(|e| anyhow::anyhow!(e))?;
    let build_secs = started.elapsed().as_secs_f64();
    // The mapped file's pages, measured on their own: resident before opening, after the
    // retro-hunts and a million newness lookups (what a service touches), and after
    // touching every page.
    let rss_before = super::bench::current_rss_kib();
    let universe =
        haechi_domains::universe::Universe::open(&path).map_err(|e| anyhow::anyhow!(e))?;
    let bytes_per_name = universe.bytes() as f64 / stored as f64;
    let mut hunt_secs = Vec::new();
    for target in [
        "kbstar.com",
        "citibank.co.kr",
        "hometax.go.kr",
        "seoul.go.kr",
        "kakaobank.com",
    ] {
        let protected = Protected {
            tenant: "bench".into(),
            name: haechi_domains::parse(target).expect("a valid name"),
        };
        let started = Instant::now();
        let found = universe
            .retro_hunt(&protected, false)
            .map_err(|e| anyhow::anyhow!(e))?;
        let secs = started.elapsed().as_secs_f64();
        hunt_secs.push(secs);
        report(
            &format!("retro-hunt of {target} over the universe"),
            secs,
            "s",
            format!("{} look-alikes among {stored} names", found.len()),
        );
    }
    let known = nrd
        .iter()
        .cycle()
        .take(1_000_000)
        .filter(|n| universe.contains(n))
        .count();
    let in_service = (super::bench::current_rss_kib().saturating_sub(rss_before)) * 1024;
    // Every page touched once, the most a long-running service could hold.
    let mut touched = 0u64;
    for b in universe.bytes_slice().iter().step_by(4096) {
        touched += u64::from(*b);
    }
    let resident = (super::bench::current_rss_kib().saturating_sub(rss_before)) * 1024;
    report(
        "universe: bytes per registrable name (FST)",
        bytes_per_name,
        "bytes",
        format!(
            "{stored} distinct synthetic names in {:.1} MB, built in {build_secs:.1} s; resident after 5 retro-hunts and 1 M lookups ({known} known) {:.1} MB, after touching every page {:.1} MB (checksum {touched}); 50 M names about {:.0} MB, 350 M about {:.1} GB",
            universe.bytes() as f64 / 1e6,
            in_service as f64 / 1e6,
            resident as f64 / 1e6,
            bytes_per_name * 50e6 / 1e6,
            bytes_per_name * 350e6 / 1e9
        ),
    );
    hunt_secs.sort_by(f64::total_cmp);
    let retro_hunt_seconds = hunt_secs[hunt_secs.len() / 2];
    drop(universe);
    let streamed = stream(args, &nrd, &report)?;
    // Measured when the universe was built from 50 M names (`--domains-universe
    // 50000000`), else projected from the bytes per name.
    let measured_50m = args.domains_universe >= 50_000_000;
    let at_50m = if measured_50m {
        resident
    } else {
        (bytes_per_name * 50e6) as u64
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "domains", "names_per_second_per_core": per_second,
                               "lookalike_alert_rate_tranco": alerts as f64 / tranco.len() as f64,
                               "universe_names": stored, "bytes_per_name": bytes_per_name,
                               "resident_bytes_at_universe": resident,
                               "resident_bytes_in_service_at_universe": in_service,
                               "resident_bytes_at_50m": at_50m,
                               "resident_bytes_at_50m_is_projected": !measured_50m,
                               "retro_hunt_seconds": retro_hunt_seconds,
                               "dga_family_disjoint": dga_by_family,
                               "stream_names_per_second": streamed.names_per_second,
                               "stream_p50_name_to_alert_seconds": streamed.p50,
                               "stream_p99_name_to_alert_seconds": streamed.p99})
        );
    }
    Ok(())
}

/// What the stream measured.
struct Streamed {
    names_per_second: f64,
    p50: f64,
    p99: f64,
}

/// Names per second the stream offers, and per batch.
const STREAM_RATE: usize = 20_000;
const STREAM_BATCH: usize = 1_000;

fn stream(
    args: &BenchArgs,
    nrd: &[String],
    report: &dyn Fn(&str, f64, &str, String),
) -> anyhow::Result<Streamed> {
    use anyhow::Context;
    let dir = tempfile::tempdir()?;
    let mut config = super::bench_stream::stream_config(args, dir.path());
    config.listeners.clear();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules)?;
    std::fs::copy(
        args.data
            .join("sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml"),
        rules.join("rule.yml"),
    )?;
    config.detect.rules = vec![rules];
    haechi_domains::watch::write_protected(
        &haechi_domains::watch::protected_path(dir.path()),
        &super::domains::read_protected(&args.data.join("domains/protected_kr_institutions.csv"))?,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let token = config.http.tokens[0].token.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || super::serve::run_with(config, Some(tx)));
    let ready = rx
        .recv_timeout(std::time::Duration::from_secs(300))
        .context("the benchmark server did not start")?;
    let seconds = args.stream_seconds.max(1) as usize;
    let batches = seconds * STREAM_RATE / STREAM_BATCH;
    let interval = std::time::Duration::from_secs_f64(STREAM_BATCH as f64 / STREAM_RATE as f64);
    let mut latencies = Vec::with_capacity(batches);
    let (mut sent, mut alerts) = (0usize, 0u64);
    let began = Instant::now();
    for b in 0..batches {
        let mut body = String::with_capacity(STREAM_BATCH * 24);
        for i in 0..STREAM_BATCH - 1 {
            body.push_str(&nrd[(b * STREAM_BATCH + i) % nrd.len()]);
            body.push('\n');
        }
        // One look-alike per batch, each a new registration.
        body.push_str(&format!("seoul-go-kr-login{b}.com\n"));
        let started = Instant::now();
        let answer = post_names(ready.http, &token, &body)?;
        latencies.push(started.elapsed().as_secs_f64());
        sent += STREAM_BATCH;
        alerts += answer["raised"]["alerts"].as_u64().unwrap_or(0);
        let due = began + interval * (b as u32 + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let secs = began.elapsed().as_secs_f64();
    ready.shutdown.cancel();
    let _ = server.join();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let streamed = Streamed {
        names_per_second: sent as f64 / secs,
        p50: at(0.5),
        p99: at(0.99),
    };
    anyhow::ensure!(
        alerts >= batches as u64,
        "every streamed look-alike should alert: {alerts} alerts for {batches} batches"
    );
    report(
        "stream: names per second through serve",
        streamed.names_per_second,
        "names/s",
        format!(
            "{sent} real newly registered names and {batches} look-alikes over POST /api/domains/names in {secs:.1} s (offered {STREAM_RATE}/s); {alerts} domain alerts"
        ),
    );
    report(
        "stream: p99 name-to-alert",
        streamed.p99,
        "s",
        format!(
            "p50 {:.4} s; from sending a batch of {STREAM_BATCH} to the answer, given once its alerts are stored (goal: p99 under 1 s)",
            streamed.p50
        ),
    );
    Ok(streamed)
}

/// One batch of names to the API; its JSON answer.
fn post_names(
    http: std::net::SocketAddr,
    token: &str,
    body: &str,
) -> anyhow::Result<serde_json::Value> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(http)?;
    write!(
        conn,
        "POST /api/domains/names HTTP/1.1\r\nHost: {http}\r\nAuthorization: Bearer {token}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    anyhow::ensure!(
        answer.starts_with("HTTP/1.1 200"),
        "names refused: {}",
        answer.lines().next().unwrap_or("")
    );
    let json = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok(serde_json::from_str(json)?)
}

/// Detection per DGA family of families the model never saw, at the alert threshold and
/// at 0.5, and the newly registered names flagged at the same thresholds.
fn dga_families(
    dir: &Path,
    model: &haechi_ml::DomainModel,
    nrd: &[String],
    report: &dyn Fn(&str, f64, &str, String),
) -> anyhow::Result<serde_json::Value> {
    let mut by_family: std::collections::BTreeMap<String, Vec<f32>> = Default::default();
    for line in lines(&dir.join("dga_families_baderj.csv"))?.iter().skip(1) {
        if let Some((family, domain)) = line.split_once(',') {
            by_family
                .entry(family.to_owned())
                .or_default()
                .push(model.score(domain));
        }
    }
    let thresholds = [0.5f32, super::domains::MODEL_THRESHOLD];
    let share = |scores: &[f32], t: f32| {
        scores.iter().filter(|s| **s >= t).count() as f64 / scores.len().max(1) as f64
    };
    let nrd_scores: Vec<f32> = nrd.iter().map(|n| model.score(n)).collect();
    let mut out = serde_json::Map::new();
    let mut macro_avg = [0.0f64; 2];
    for (family, scores) in &by_family {
        let rates: Vec<f64> = thresholds.iter().map(|t| share(scores, *t)).collect();
        macro_avg[0] += rates[0];
        macro_avg[1] += rates[1];
        out.insert(
            family.clone(),
            serde_json::json!({"names": scores.len(), "detected_at_0_5": rates[0], "detected_at_threshold": rates[1]}),
        );
        report(
            &format!("DGA family {family} detected (unseen family)"),
            100.0 * rates[1],
            "%",
            format!("{} names; at 0.5: {:.1} %", scores.len(), 100.0 * rates[0]),
        );
    }
    let families = by_family.len().max(1) as f64;
    let nrd_flagged: Vec<f64> = thresholds.iter().map(|t| share(&nrd_scores, *t)).collect();
    report(
        "DGA: mean detection over unseen families",
        100.0 * macro_avg[1] / families,
        "%",
        format!(
            "{} families the model never saw, at threshold {}; at 0.5: {:.1} %; newly registered names flagged: {:.2} % at the threshold, {:.1} % at 0.5 ({} names)",
            by_family.len(),
            thresholds[1],
            100.0 * macro_avg[0] / families,
            100.0 * nrd_flagged[1],
            100.0 * nrd_flagged[0],
            nrd.len()
        ),
    );
    Ok(serde_json::json!({
        "families": out,
        "mean_detected_at_0_5": macro_avg[0] / families,
        "mean_detected_at_threshold": macro_avg[1] / families,
        "newly_registered_flagged_at_0_5": nrd_flagged[0],
        "newly_registered_flagged_at_threshold": nrd_flagged[1],
        "threshold": thresholds[1],
    }))
}
