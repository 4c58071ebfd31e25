//! `haechi ingest` and `haechi search` from a shell, on the real samples of `shared/data`.
//! Every expected number is computed here from the sample files themselves (line counts,
//! fields read with plain string handling, EVTX records counted by walking the file's
//! chunks), never copied from Haechi's output.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

const APACHE: &str = "logs/access_logs/elastic_examples_apache_access_2015.log";
const EVE: &str = "logs/suricata/mssis_eve.json";
const ZEEK: &str = "logs/zeek/soc-zeek-lab";
const EVTX: &[&str] = &[
    "evtx/DeepBlueCLI/new-user-security.evtx",
    "evtx/DeepBlueCLI/mimikatz-privesc-hashdump.evtx",
    "evtx/DeepBlueCLI/metasploit-psexec-native-target-security.evtx",
    "evtx/DeepBlueCLI/password-spray.evtx",
];

// ---------------------------------------------------------------------------------------
// Independent readings of the samples

/// One line of the Apache combined log, read with plain string handling.
struct AccessLine {
    ip: Ipv4Addr,
    /// Seconds since the epoch (UTC).
    time: i64,
    method: String,
    path: String,
    status: u16,
    /// The whole line.
    text: String,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `17/May/2015:10:05:03 +0000` → epoch seconds.
fn clf_time(text: &str) -> i64 {
    let (stamp, zone) = text.split_once(' ').expect("time and zone");
    let parts: Vec<&str> = stamp.split(['/', ':']).collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[1])
    .expect("month") as i64
        + 1;
    let n = |i: usize| parts[i].parse::<i64>().expect("number");
    let local = days_from_civil(n(2), month, n(0)) * 86_400 + n(3) * 3600 + n(4) * 60 + n(5);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let offset = zone[1..3].parse::<i64>().expect("zone hours") * 3600
        + zone[3..5].parse::<i64>().expect("zone minutes") * 60;
    local - sign * offset
}

fn parse_access(line: &str) -> AccessLine {
    let ip = line
        .split(' ')
        .next()
        .expect("ip")
        .parse()
        .expect("an IPv4 client");
    let time = clf_time(&line[line.find('[').expect("[") + 1..line.find(']').expect("]")]);
    let mut quoted = line.split('"');
    let request = quoted.nth(1).expect("request");
    let status = quoted
        .next()
        .expect("status")
        .split_whitespace()
        .next()
        .expect("status")
        .parse()
        .expect("status");
    let mut words = request.split(' ');
    let method = words.next().expect("method").to_owned();
    let target = words.next().expect("target");
    let path = target.split('?').next().expect("path").to_owned();
    AccessLine {
        ip,
        time,
        method,
        path,
        status,
        text: line.to_owned(),
    }
}

/// Non-empty lines of a file.
fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read the sample")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The Apache sample: its distinct lines (parsed) and how many repeat an earlier one.
fn apache() -> (Vec<AccessLine>, usize) {
    let all = lines_of(&sample(APACHE));
    let mut seen = BTreeSet::new();
    let distinct: Vec<AccessLine> = all
        .iter()
        .filter(|l| seen.insert(l.as_str()))
        .map(|l| parse_access(l))
        .collect();
    let repeats = all.len() - distinct.len();
    (distinct, repeats)
}

/// Zeek TSV files: per `#path`, the rows that fit their `#fields` header and carry a
/// readable epoch time, and the rows that do not (the sample has rows glued together).
fn zeek(dir: &Path) -> (BTreeMap<String, u64>, u64, Vec<PathBuf>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the Zeek folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let (mut good, mut bad) = (BTreeMap::new(), 0u64);
    for f in &files {
        let (mut columns, mut name) = (0usize, String::new());
        for line in std::fs::read_to_string(f).expect("read Zeek log").lines() {
            if line.trim().is_empty() {
                continue;
            }
            if let Some(h) = line.strip_prefix("#fields\t") {
                columns = h.split('\t').count();
            } else if let Some(p) = line.strip_prefix("#path\t") {
                name = p.to_owned();
            } else if !line.starts_with('#') {
                let row: Vec<&str> = line.split('\t').collect();
                let time_ok = row[0]
                    .parse::<f64>()
                    .is_ok_and(|t| (0.0..9.2e9).contains(&t));
                if row.len() == columns && time_ok {
                    *good.entry(format!("zeek.{name}")).or_default() += 1;
                } else {
                    bad += 1;
                }
            }
        }
    }
    (good, bad, files)
}

/// Counts the event records of an EVTX file by walking its 64 KiB chunks (`ElfChnk`) and
/// the records (`**\0\0`, size) of each up to the chunk's free-space offset.
fn evtx_records(path: &Path) -> u64 {
    let data = std::fs::read(path).expect("read EVTX");
    assert_eq!(
        &data[..8],
        b"ElfFile\0",
        "{} is an EVTX file",
        path.display()
    );
    let u32_at = |buf: &[u8], at: usize| {
        u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize
    };
    let mut count = 0;
    let mut chunk_start = 4096;
    while chunk_start + 65_536 <= data.len() {
        let chunk = &data[chunk_start..chunk_start + 65_536];
        chunk_start += 65_536;
        if &chunk[..8] != b"ElfChnk\0" {
            continue;
        }
        let end = u32_at(chunk, 0x30).min(chunk.len());
        let mut at = 512;
        while at + 24 <= end && chunk[at..at + 4] == [0x2a, 0x2a, 0, 0] {
            let size = u32_at(chunk, at + 4);
            if size < 24 {
                break;
            }
            count += 1;
            at += size;
        }
    }
    count
}

/// The words of free text as the query language splits them: runs of alphanumerics,
/// lower-cased.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

// ---------------------------------------------------------------------------------------

fn ingest(data: &Path, tenant: &str, paths: &[PathBuf]) -> (Value, std::process::Output) {
    let mut args = vec![
        "ingest",
        "--json",
        "--tenant",
        tenant,
        "--data-dir",
        data.to_str().expect("UTF-8"),
    ];
    let texts: Vec<String> = paths
        .iter()
        .map(|p| p.to_str().expect("UTF-8 path").to_owned())
        .collect();
    args.extend(texts.iter().map(String::as_str));
    let out = haechi(&args);
    assert!(out.status.success(), "haechi ingest: {}", describe(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ingest --json prints one JSON object ({e}): {}",
            describe(&out)
        )
    });
    (summary, out)
}

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The Apache sample spans 17–20 May 2015; nothing else ingested here does.
const APACHE_WINDOW: [&str; 4] = [
    "--from",
    "2015-05-17T00:00:00Z",
    "--to",
    "2015-05-21T00:00:00Z",
];

#[test]
fn ingest_reports_exact_counts_per_format_and_search_answers_match_the_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (access, access_repeats) = apache();
    let eve = lines_of(&sample(EVE));
    let (zeek_good, zeek_bad, zeek_files) = zeek(&sample(ZEEK));
    let evtx_paths: Vec<PathBuf> = EVTX.iter().map(|p| sample(p)).collect();
    let evtx: u64 = evtx_paths.iter().map(|p| evtx_records(p)).sum();
    assert!(
        evtx > 0 && zeek_bad > 0 && access_repeats > 0,
        "the samples are as this test expects"
    );

    let mut paths = vec![sample(APACHE), sample(EVE), sample(ZEEK)];
    paths.extend(evtx_paths.iter().cloned());
    let (summary, _) = ingest(&data, "t1", &paths);

    let zeek_total: u64 = zeek_good.values().sum();
    let by_format: BTreeMap<String, u64> = [
        ("clf", access.len() as u64),
        ("evtx", evtx),
        ("suricata", eve.len() as u64),
        ("zeek", zeek_total),
    ]
    .into_iter()
    .map(|(f, n)| (f.to_owned(), n))
    .collect();
    let reported: BTreeMap<String, u64> = serde_json::from_value(summary["by_format"].clone())
        .unwrap_or_else(|e| panic!("by_format ({e}): {summary}"));
    assert_eq!(reported, by_format, "events per detected format: {summary}");
    let total: u64 = by_format.values().sum();
    assert_eq!(summary["events"], total, "{summary}");
    assert_eq!(
        summary["dead_letter"], zeek_bad,
        "the Zeek rows that do not fit their header: {summary}"
    );
    assert_eq!(
        summary["duplicates"], access_repeats as u64,
        "repeated access log lines: {summary}"
    );
    assert_eq!(
        summary["files"],
        (2 + zeek_files.len() + EVTX.len()) as u64,
        "{summary}"
    );
    assert_eq!(summary["failed_files"], serde_json::json!([]), "{summary}");

    // The store holds exactly that, for t1 only.
    assert_eq!(search_total(&data, &[], ""), total);
    assert_eq!(search_total(&data, &["--tenant", "t1"], ""), total);
    assert_eq!(
        search_total(&data, &["--tenant", "t2"], ""),
        0,
        "another tenant sees nothing"
    );
    let out = haechi(&[
        "search",
        "--data-dir",
        data.to_str().expect("UTF-8"),
        "--json",
        "--count-by",
        "event.dataset",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let datasets: BTreeMap<String, u64> = json_lines(&out)
        .iter()
        .map(|v| {
            (
                v["value"].as_str().expect("value").to_owned(),
                v["count"].as_u64().expect("count"),
            )
        })
        .collect();
    let mut expected_datasets = zeek_good.clone();
    expected_datasets.insert("suricata.eve".into(), eve.len() as u64);
    assert_eq!(datasets, expected_datasets, "events per dataset");
    assert_eq!(search_total(&data, &[], "_exists_:winlog.record_id"), evtx);

    // The dead letters name file and line and say why.
    let out = haechi(&[
        "deadletter",
        "--data-dir",
        data.to_str().expect("UTF-8"),
        "--json",
        "--limit",
        "1000",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let letters = json_lines(&out);
    assert_eq!(letters.len() as u64, zeek_bad);
    for l in &letters {
        assert_eq!(l["format"], "zeek", "{l}");
        assert!(
            l["source"]
                .as_str()
                .is_some_and(|s| s.contains("soc-zeek-lab") && s.contains(".log:")),
            "{l}"
        );
        assert!(l["reason"].as_str().is_some_and(|r| r.len() > 10), "{l}");
    }

    // From here on: the access log alone, through its time window.
    assert_eq!(
        search_total(&data, &APACHE_WINDOW, ""),
        access.len() as u64,
        "--from/--to"
    );
    let window = |extra: &[&'static str]| -> Vec<&'static str> {
        APACHE_WINDOW.iter().chain(extra).copied().collect()
    };

    // CIDR.
    let google: ipnet_free::Net = ipnet_free::Net::new(Ipv4Addr::new(66, 249, 64, 0), 19);
    let in_range = access.iter().filter(|a| google.contains(a.ip)).count() as u64;
    assert!(in_range > 0);
    assert_eq!(
        search_total(&data, &window(&[]), "source.ip:66.249.64.0/19"),
        in_range,
        "CIDR query"
    );

    // A field term (case-insensitive, as documented).
    let head = access.iter().filter(|a| a.method == "HEAD").count() as u64;
    assert_eq!(
        search_total(&data, &window(&[]), "http.request.method:HEAD"),
        head
    );
    assert_eq!(
        search_total(&data, &window(&[]), "http.request.method:head"),
        head
    );

    // A phrase in the free text.
    let phrase = words("Googlebot/2.1");
    let with_phrase = access
        .iter()
        .filter(|a| {
            words(&a.text)
                .windows(phrase.len())
                .any(|w| w == phrase.as_slice())
        })
        .count() as u64;
    assert!(with_phrase > 0);
    assert_eq!(
        search_total(&data, &window(&[]), "\"Googlebot/2.1\""),
        with_phrase,
        "phrase query"
    );

    // A wildcard over a whole value.
    let presentations = access
        .iter()
        .filter(|a| a.path.to_lowercase().starts_with("/presentations/"))
        .count() as u64;
    assert!(presentations > 0);
    assert_eq!(
        search_total(&data, &window(&[]), "url.path:/presentations/*"),
        presentations,
        "wildcard query"
    );

    // Numeric ranges.
    for (query, lo, hi) in [
        ("http.response.status_code:[500 TO 599]", 500, 599),
        ("http.response.status_code:[400 TO 499]", 400, 499),
        ("http.response.status_code:>=300", 300, 999),
    ] {
        let n = access
            .iter()
            .filter(|a| (lo..=hi).contains(&a.status))
            .count() as u64;
        assert_eq!(search_total(&data, &window(&[]), query), n, "{query}");
    }
    let errors = search_events(
        &data,
        &window(&[]),
        "http.response.status_code:[500 TO 599]",
    );
    let mut got: Vec<String> = errors
        .iter()
        .map(|e| field(e, "event.original").expect("original").to_owned())
        .collect();
    let mut want: Vec<String> = access
        .iter()
        .filter(|a| a.status >= 500)
        .map(|a| a.text.clone())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the 5xx lines themselves");
    assert!(
        errors.iter().all(|e| e["http.response.status_code"]
            .as_u64()
            .is_some_and(|s| s >= 500)),
        "typed as numbers"
    );

    // Top client addresses.
    let mut per_ip: HashMap<String, u64> = HashMap::new();
    for a in &access {
        *per_ip.entry(a.ip.to_string()).or_default() += 1;
    }
    let mut top: Vec<(String, u64)> = per_ip.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    let args = window(&["--count-by", "source.ip", "--limit", "5", "--json"]);
    let mut full = vec!["search", "--data-dir", data.to_str().expect("UTF-8")];
    full.extend(args);
    let out = haechi(&full);
    assert!(out.status.success(), "{}", describe(&out));
    let got: Vec<(String, u64)> = json_lines(&out)
        .iter()
        .map(|v| {
            (
                v["value"].as_str().expect("value").to_owned(),
                v["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(got, top, "--count-by source.ip");

    // A daily histogram, and one day through --from/--to.
    let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
    for a in &access {
        *per_day.entry(a.time.div_euclid(86_400)).or_default() += 1;
    }
    let mut full = vec!["search", "--data-dir", data.to_str().expect("UTF-8")];
    full.extend(window(&["--histogram", "--interval", "1d", "--json"]));
    let out = haechi(&full);
    assert!(out.status.success(), "{}", describe(&out));
    let buckets: Vec<(String, u64)> = json_lines(&out)
        .iter()
        .map(|v| {
            (
                v["start"].as_str().expect("start").to_owned(),
                v["count"].as_u64().expect("count"),
            )
        })
        .collect();
    let expected_buckets: Vec<(String, u64)> = per_day
        .iter()
        .map(|(day, n)| {
            let text = match day - days_from_civil(2015, 5, 0) {
                d @ 1..=31 => format!("2015-05-{d:02}T00:00:00Z"),
                _ => panic!("the access log is from May 2015"),
            };
            (text, *n)
        })
        .collect();
    assert_eq!(buckets, expected_buckets, "--histogram --interval 1d");
    let may18 = per_day[&days_from_civil(2015, 5, 18)];
    assert_eq!(
        search_total(
            &data,
            &[
                "--from",
                "2015-05-18T00:00:00Z",
                "--to",
                "2015-05-19T00:00:00Z"
            ],
            ""
        ),
        may18,
        "--to is exclusive, --from inclusive"
    );
    let first_second = access.iter().map(|a| a.time).min().expect("lines");
    let at_first = access.iter().filter(|a| a.time == first_second).count() as u64;
    let (from, to) = (first_second.to_string(), (first_second + 1).to_string());
    assert_eq!(
        search_total(&data, &["--from", &from, "--to", &to], ""),
        at_first,
        "epoch seconds for --from/--to"
    );
}

/// Tiny IPv4 network arithmetic, so the test needs no crate for it.
mod ipnet_free {
    use std::net::Ipv4Addr;

    pub struct Net {
        base: u32,
        mask: u32,
    }

    impl Net {
        pub fn new(base: Ipv4Addr, prefix: u32) -> Net {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            Net {
                base: u32::from(base) & mask,
                mask,
            }
        }

        pub fn contains(&self, ip: Ipv4Addr) -> bool {
            u32::from(ip) & self.mask == self.base
        }
    }
}

#[test]
fn ingesting_the_same_file_again_stores_nothing_new() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let eve = lines_of(&sample(EVE)).len() as u64;
    let files = vec![sample(EVE), sample(EVTX[0])];
    let evtx = evtx_records(&sample(EVTX[0]));
    let (first, _) = ingest(&data, "t1", &files);
    assert_eq!(first["events"], eve + evtx, "{first}");
    assert_eq!(first["duplicates"], 0, "{first}");
    let (second, _) = ingest(&data, "t1", &files);
    assert_eq!(
        second["events"], 0,
        "the second run stores nothing: {second}"
    );
    assert_eq!(
        second["duplicates"],
        eve + evtx,
        "and reports every record as a duplicate: {second}"
    );
    assert_eq!(
        search_total(&data, &[], ""),
        eve + evtx,
        "the store did not grow"
    );
}

#[test]
fn an_invalid_query_exits_2_and_points_at_the_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    ingest(&data, "t1", &[sample(EVE)]);
    for query in [
        "source.ip:[1 TO",
        "user.name:admin AND (event.code:4625 OR",
        "rule.name:\"ET MALWARE",
        "event.code: AND user.name:admin",
    ] {
        let out = haechi(&["search", "--data-dir", data.to_str().expect("UTF-8"), query]);
        assert_eq!(out.status.code(), Some(2), "`{query}`: {}", describe(&out));
        assert!(out.stdout.is_empty(), "no results printed for `{query}`");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("error: query error at character "))
            .unwrap_or_else(|| panic!("`{query}`: the message says where: {stderr}"));
        let position: usize = lines[at]["error: query error at character ".len()..]
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a position in {:?}", lines[at]));
        assert!(position <= query.len(), "`{query}`: position {position}");
        assert_eq!(
            lines.get(at + 1).copied(),
            Some(format!("  {query}").as_str()),
            "the query is shown: {stderr}"
        );
        let caret = lines.get(at + 2).copied().unwrap_or_default();
        assert_eq!(
            caret,
            format!("  {}^", " ".repeat(position)),
            "the caret marks the position: {stderr}"
        );
    }
}

#[test]
fn a_path_that_does_not_exist_is_a_clear_error_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let missing = dir.path().join("no-such-file.log");
    let out = haechi(&[
        "ingest",
        "--data-dir",
        data.to_str().expect("UTF-8"),
        sample(EVE).to_str().expect("UTF-8"),
        missing.to_str().expect("UTF-8"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(missing.to_str().expect("UTF-8")) && stderr.contains("No such file"),
        "names the path and the cause: {stderr}"
    );
    assert!(
        !data.exists(),
        "nothing was stored, not even an empty store"
    );
}
