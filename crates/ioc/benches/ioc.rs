//! Ten million synthetic indicators of every kind: memory, lookups that hit and miss, and
//! matching a realistic firewall/proxy event.
//!
//! Run with `cargo bench -p haechi-ioc`. The set is built once (its memory estimate, the
//! process's resident memory and the build time are printed), then each benchmark measures
//! one lookup or one event, cycling through 4096 pre-generated probes so that the caches
//! see a realistic spread of keys rather than one hot key.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use haechi_event::{Event, Timestamp, Value};
use haechi_ioc::{
    IndicatorMeta, IndicatorSet, IndicatorSetBuilder, IndicatorValue, Limits, Observable,
};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many of each kind (10,000,000 in all).
const MIX: [(&str, usize); 11] = [
    ("ipv4", 4_000_000),
    ("ipv6", 500_000),
    ("cidr4", 200_000),
    ("cidr6", 50_000),
    ("ip-port", 250_000),
    ("domain", 2_000_000),
    ("url", 1_000_000),
    ("md5", 500_000),
    ("sha1", 300_000),
    ("sha256", 1_000_000),
    ("email", 200_000),
];

const PROBES: usize = 4096;

/// SplitMix64: a small, fast, deterministic generator (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A lowercase label of `len` letters and digits.
    fn label(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(36) as usize] as char)
            .collect()
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}

const TLDS: [&str; 8] = ["com", "net", "org", "info", "ru", "cn", "xyz", "top"];

fn domain(rng: &mut Rng) -> String {
    let len = 6 + rng.below(10) as usize;
    format!("{}.{}", rng.label(len), TLDS[rng.below(8) as usize])
}

/// One synthetic indicator of `kind`.
fn indicator(kind: &str, rng: &mut Rng) -> IndicatorValue {
    match kind {
        "ipv4" => IndicatorValue::Ip(IpAddr::V4(Ipv4Addr::from(rng.next() as u32))),
        "ipv6" => IndicatorValue::Ip(IpAddr::V6(Ipv6Addr::from(
            (0x2001_0db8u128 << 96) | u128::from(rng.next()),
        ))),
        "cidr4" => {
            let len = 16 + rng.below(15) as u8;
            let net = (rng.next() as u32) & (u32::MAX << (32 - len));
            IndicatorValue::Cidr(IpAddr::V4(net.into()), len)
        }
        "cidr6" => {
            let len = 32 + rng.below(33) as u8;
            let net =
                ((0x2a00u128 << 112) | (u128::from(rng.next()) << 64)) & (u128::MAX << (128 - len));
            IndicatorValue::Cidr(IpAddr::V6(net.into()), len)
        }
        "ip-port" => IndicatorValue::IpPort(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::from(rng.next() as u32)),
            1024 + rng.below(60000) as u16,
        )),
        "domain" => IndicatorValue::Domain(domain(rng)),
        "url" => IndicatorValue::Url(format!(
            "http://{}/{}/{}.php?id={}",
            domain(rng),
            rng.label(6),
            rng.label(8),
            rng.below(100_000)
        )),
        "md5" => IndicatorValue::Md5(rng.bytes()),
        "sha1" => IndicatorValue::Sha1(rng.bytes()),
        "sha256" => IndicatorValue::Sha256(rng.bytes()),
        "email" => IndicatorValue::Email(format!("{}@{}", rng.label(8), domain(rng))),
        other => unreachable!("{other}"),
    }
}

/// Every `every`-th indicator of each kind, kept as lookup probes that hit.
struct Listed {
    ipv4: Vec<IpAddr>,
    ipv6: Vec<IpAddr>,
    cidr4: Vec<IpAddr>,
    domains: Vec<String>,
    urls: Vec<String>,
    sha256: Vec<String>,
    md5: Vec<String>,
    emails: Vec<String>,
}

fn build() -> (IndicatorSet, Listed) {
    let mut rng = Rng(0x5EED);
    let limits = Limits {
        max_indicators: 11_000_000,
        ..Limits::default()
    };
    let mut builder = IndicatorSetBuilder::new(limits);
    // 50 sources × 20 descriptions: a thousand distinct metadata entries.
    let metas: Vec<_> = (0..1000)
        .map(|i| {
            builder.intern(IndicatorMeta {
                source: Arc::from(format!("feed-{}", i % 50)),
                confidence: Some((i % 11 * 10) as u8),
                description: Some(format!("campaign {}", i / 50).into()),
                ..IndicatorMeta::default()
            })
        })
        .collect();
    let mut listed = Listed {
        ipv4: vec![],
        ipv6: vec![],
        cidr4: vec![],
        domains: vec![],
        urls: vec![],
        sha256: vec![],
        md5: vec![],
        emails: vec![],
    };
    for (kind, count) in MIX {
        let every = (count / PROBES).max(1);
        for i in 0..count {
            let value = indicator(kind, &mut rng);
            if i % every == 0 {
                match &value {
                    IndicatorValue::Ip(ip) if kind == "ipv4" => listed.ipv4.push(*ip),
                    IndicatorValue::Ip(ip) => listed.ipv6.push(*ip),
                    IndicatorValue::Cidr(IpAddr::V4(net), _) => listed
                        .cidr4
                        .push(IpAddr::V4(Ipv4Addr::from(u32::from(*net) | 1))),
                    IndicatorValue::Domain(d) => listed.domains.push(format!("cdn.www.{d}")),
                    IndicatorValue::Url(u) => listed.urls.push(u.clone()),
                    IndicatorValue::Sha256(_) => {
                        listed.sha256.push(value.to_string().to_uppercase())
                    }
                    IndicatorValue::Md5(_) => listed.md5.push(value.to_string()),
                    IndicatorValue::Email(e) => listed.emails.push(e.to_uppercase()),
                    _ => {}
                }
            }
            let meta = metas[rng.below(metas.len() as u64) as usize];
            builder.add(&value, meta).expect("within the limits");
        }
    }
    (builder.build(), listed)
}

/// Resident and peak resident memory of this process, from /proc (Linux), in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A firewall/proxy event as the parsers produce one: 28 fields, 14 of them looked at.
fn realistic_event(rng: &mut Rng, destination: IpAddr) -> Event {
    let mut e = Event::new(Timestamp::now(), Arc::from("seoul"), 32);
    let ip = |rng: &mut Rng| Value::Ip(IpAddr::V4(Ipv4Addr::from(rng.next() as u32)));
    e.push("event.kind", "event");
    e.push("event.category", "network");
    e.push("event.action", "allowed");
    e.push("event.dataset", "fortigate.traffic");
    e.push("observer.vendor", "Fortinet");
    e.push("observer.product", "FortiGate");
    e.push("observer.hostname", "fw-seoul-01");
    e.push("source.ip", ip(rng));
    e.push("source.port", Value::Int(51234));
    e.push("source.nat.ip", ip(rng));
    e.push("destination.ip", Value::Ip(destination));
    e.push("destination.port", Value::Int(443));
    e.push("network.transport", "tcp");
    e.push("network.protocol", "https");
    e.push("network.bytes", Value::Int(18_204));
    e.push(
        "url.original",
        format!("https://{}/assets/app.js?v=42", domain(rng)),
    );
    e.push("url.domain", domain(rng));
    e.push("dns.question.name", format!("www.{}", domain(rng)));
    e.push("tls.client.server_name", domain(rng));
    e.push("http.request.method", "GET");
    e.push("http.response.status_code", Value::Int(200));
    e.push(
        "user_agent.original",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    );
    e.push("user.name", "kim.minsu");
    e.push("host.name", "ws-0412");
    e.push(
        "related.ip",
        Value::List(vec![ip(rng), Value::Ip(destination)]),
    );
    e.push(
        "file.hash.sha256",
        IndicatorValue::Sha256(rng.bytes()).to_string(),
    );
    e.push("rule.name", "allow-web");
    e.push("message", "traffic allowed by policy allow-web");
    e
}

fn benches(c: &mut Criterion) {
    let (rss_before, _) = rss_mib();
    let started = Instant::now();
    let (set, listed) = build();
    let took = started.elapsed();
    let (rss_after, peak) = rss_mib();
    println!(
        "\nindicator set: {} indicators ({}), {} metadata entries, built in {:.1} s\n\
         memory_bytes(): {:.0} MiB; process RSS {:.0} MiB (+{:.0} MiB for the set), peak RSS during build {:.0} MiB\n",
        set.len(),
        set.counts(),
        set.meta_count(),
        took.as_secs_f64(),
        set.memory_bytes() as f64 / (1024.0 * 1024.0),
        rss_after,
        rss_after - rss_before,
        peak,
    );

    let mut rng = Rng(0xBEEF);
    let misses_v4: Vec<IpAddr> = (0..PROBES)
        .map(|_| IpAddr::V4(Ipv4Addr::from(rng.next() as u32)))
        .filter(|ip| !set.contains(Observable::Ip(*ip)))
        .collect();
    let misses_v6: Vec<IpAddr> = (0..PROBES)
        .map(|_| {
            IpAddr::V6(Ipv6Addr::from(
                (0x2001_0db8u128 << 96) | u128::from(rng.next()),
            ))
        })
        .collect();
    let missing_domains: Vec<String> = (0..PROBES)
        .map(|_| format!("cdn.www.{}", domain(&mut rng)))
        .collect();
    let missing_urls: Vec<String> = (0..PROBES)
        .map(|_| {
            format!(
                "http://{}/{}/{}.php?id=1",
                domain(&mut rng),
                rng.label(6),
                rng.label(8)
            )
        })
        .collect();
    let missing_sha256: Vec<String> = (0..PROBES)
        .map(|_| IndicatorValue::Sha256(rng.bytes()).to_string())
        .collect();
    let missing_emails: Vec<String> = (0..PROBES)
        .map(|_| format!("{}@{}", rng.label(8), domain(&mut rng)))
        .collect();

    let mut group = c.benchmark_group("lookup");
    let mut run = |name: &str, probes: &[Observable<'_>], expect: bool| {
        assert!(
            probes.iter().all(|p| set.contains(*p) == expect),
            "{name}: every probe should {} the set",
            if expect { "hit" } else { "miss" }
        );
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % probes.len();
                black_box(set.contains(black_box(probes[i])))
            })
        });
    };
    let ips = |v: &[IpAddr]| v.iter().map(|ip| Observable::Ip(*ip)).collect::<Vec<_>>();
    fn texts<'a>(v: &'a [String], f: fn(&'a str) -> Observable<'a>) -> Vec<Observable<'a>> {
        v.iter().map(|s| f(s)).collect()
    }
    run("ipv4 hit", &ips(&listed.ipv4), true);
    run("ipv4 miss", &ips(&misses_v4), false);
    run("ipv6 hit", &ips(&listed.ipv6), true);
    run("ipv6 miss", &ips(&misses_v6), false);
    run("cidr4 hit", &ips(&listed.cidr4), true);
    run(
        "domain hit (2 labels below)",
        &texts(&listed.domains, Observable::Domain),
        true,
    );
    run(
        "domain miss",
        &texts(&missing_domains, Observable::Domain),
        false,
    );
    run("url hit", &texts(&listed.urls, Observable::Url), true);
    run("url miss", &texts(&missing_urls, Observable::Url), false);
    run(
        "sha256 hit (uppercase)",
        &texts(&listed.sha256, Observable::Hash),
        true,
    );
    run(
        "sha256 miss",
        &texts(&missing_sha256, Observable::Hash),
        false,
    );
    run("md5 hit", &texts(&listed.md5, Observable::Hash), true);
    run(
        "email hit (uppercase)",
        &texts(&listed.emails, Observable::Email),
        true,
    );
    run(
        "email miss",
        &texts(&missing_emails, Observable::Email),
        false,
    );
    group.finish();

    let quiet: Vec<Event> = (0..256)
        .map(|i| realistic_event(&mut rng, misses_v4[i]))
        .collect();
    let loud: Vec<Event> = (0..256)
        .map(|i| realistic_event(&mut rng, listed.ipv4[i]))
        .collect();
    let mut hits = Vec::with_capacity(16);
    set.match_event(&quiet[0], &mut hits);
    assert!(hits.is_empty(), "{:?}", hits.first().map(|h| &h.indicator));
    set.match_event(&loud[0], &mut hits);
    assert!(!hits.is_empty());

    let mut group = c.benchmark_group("match_event");
    for (name, events) in [
        ("28 fields, no hit", &quiet),
        ("28 fields, destination.ip listed", &loud),
    ] {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % events.len();
                set.match_event(black_box(&events[i]), &mut hits);
                black_box(hits.len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = ioc;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(ioc);
