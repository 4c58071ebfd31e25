//! Every real feed file in `shared/data/threat_intel` loads with exactly the counts an
//! independent count gives (`tests/expected/verify_feed_counts.py`, Python's own
//! ipaddress/csv/json), and what a user looks for in each one is found.

mod common;

use common::*;
use haechi_ioc::{FeedConfig, IndicatorKind, IndicatorSetBuilder, Observable};

/// (feed, entries, accepted per kind, skipped per reason).
fn expected() -> Vec<(FeedConfig, usize, &'static str, &'static str)> {
    vec![
        (plain("ipsum/ipsum.txt"), 120430, "ip=120430", ""),
        (plain("ipsum/levels_3.txt"), 14217, "ip=14217", ""),
        (
            plain("firehol/firehol_level1_2021-06-28.netset"),
            2892,
            "ip=402 cidr=2490",
            "",
        ),
        (
            plain("maltrail/malicious__evilginx.txt"),
            1730,
            "ip-port=276 domain=1449 url=4",
            "path-without-host=1",
        ),
        (
            plain("maltrail/malicious__gophish.txt"),
            6850,
            "ip-port=5399 domain=1094 url=357",
            "",
        ),
        (
            plain("maltrail/malicious__metasploit.txt"),
            4609,
            "ip-port=4341 domain=129 url=128",
            "path-without-host=11",
        ),
        (
            plain("maltrail/malicious__sliver.txt"),
            7984,
            "ip-port=7726 domain=113 url=116",
            "path-without-host=29",
        ),
        (
            plain("maltrail/malware__agenttesla.txt"),
            1985,
            "ip-port=298 domain=1193 url=212",
            "path-without-host=282",
        ),
        (
            plain("maltrail/malware__asyncrat.txt"),
            25390,
            "ip-port=18774 domain=6261 url=324",
            "invalid=3 path-without-host=28",
        ),
        (
            plain("maltrail/malware__emotet.txt"),
            15034,
            "ip-port=4704 domain=232 url=5361",
            "path-without-host=4737",
        ),
        (
            plain("maltrail/malware__lokibot.txt"),
            4464,
            "ip-port=24 domain=3056 url=1039",
            "path-without-host=345",
        ),
        (
            plain("maltrail/malware__qakbot.txt"),
            8808,
            "ip-port=6100 domain=1101 url=1040",
            "path-without-host=567",
        ),
        (
            plain("maltrail/mass_scanner.txt"),
            19220,
            "ip=19215",
            "invalid=3 path-without-host=2",
        ),
        (
            plain("maltrail/mass_scanner_cidr.txt"),
            1106,
            "ip=13 cidr=1093",
            "",
        ),
        (
            plain("maltrail/suspicious__crypto_mining.txt"),
            1185,
            "ip=18 ip-port=721 domain=445 url=1",
            "",
        ),
        (
            plain("maltrail/suspicious__dynamic_domain.txt"),
            2496,
            "domain=2496",
            "",
        ),
        (
            plain("maltrail/suspicious__onion.txt"),
            56,
            "ip-port=1 domain=54",
            "single-label=1",
        ),
        (
            plain("abuse_ch/malwarebazaar_recent_md5_2023-11-23.txt"),
            507,
            "md5=507",
            "",
        ),
        (feodo(), 28, "ip=28", ""),
        (urlhaus(), 11125, "url=11125", ""),
        (
            threatfox(),
            24961,
            "ip=5 domain=24943 url=1 email=2",
            "invalid=3 single-label=6 unrecognised=1",
        ),
        (c2intel(), 1318, "ip=1318", ""),
        (
            stix("stix2/docs-defining-campaigns-threat-actors-intrusion-sets.json"),
            0,
            "",
            "",
        ),
        (
            stix("stix2/docs-identifying-a-threat-actor-profile.json"),
            0,
            "",
            "",
        ),
        (
            stix("stix2/docs-indicator-for-malicious-url.json"),
            1,
            "url=1",
            "",
        ),
        (
            stix("stix2/docs-malware-indicator-for-file-hash.json"),
            1,
            "sha256=1",
            "",
        ),
        (
            stix("stix2/docs-sighting-of-an-indicator.json"),
            1,
            "url=1",
            "",
        ),
        (stix("stix2/docs-sighting-of-observed-data.json"), 0, "", ""),
        (
            stix("stix2/docs-threat-actor-leveraging-attack-patterns-and-malware.json"),
            0,
            "",
            "",
        ),
        (
            stix("stix2/docs-using-granular-markings.json"),
            1,
            "",
            "unsupported-path=1",
        ),
        (
            stix("stix2/docs-using-marking-definitions.json"),
            1,
            "ip=1",
            "",
        ),
        (
            stix("stix2/schemas-indicator-for-c2-ip-address.json"),
            1,
            "ip=1",
            "",
        ),
        (
            stix("stix2/schemas-indicator-to-campaign-relationship.json"),
            1,
            "ip=1",
            "",
        ),
        (
            stix("stix2/schemas-indicators-for-C2-with-COA.json"),
            2,
            "ip=1 sha256=1",
            "",
        ),
        (stix("stix2/schemas-infrastructure.json"), 0, "", ""),
        (
            stix("stix2/schemas-interop-objectmarking-test.json"),
            0,
            "",
            "",
        ),
        (
            stix("stix2/schemas-malicious-email-indicator-with-attachment.json"),
            2,
            "",
            "unsupported-path=2",
        ),
        (
            stix("stix2/schemas-threat-reports_apt1.json"),
            12,
            "cidr=4 domain=3 md5=3",
            "and-of-properties=2",
        ),
        (
            stix("stix2/schemas-threat-reports_poisonivy.json"),
            25,
            "ip=40 domain=24",
            "unrecognised=1 unsupported-path=2",
        ),
        (
            misp("misp/57c4445b-c548-4654-af0b-4be3950d210f.json"),
            9,
            "md5=1 sha1=1 sha256=1",
            "unsupported-type=6",
        ),
        (
            misp("misp/HTML_event.json"),
            13,
            "domain=1 url=1 md5=1 sha1=1 sha256=1",
            "not-to-ids=4 unsupported-type=4",
        ),
        (
            misp("misp/existing_event.json"),
            122,
            "ip=12 domain=19 sha1=37",
            "unsupported-type=54",
        ),
    ]
}

#[test]
fn every_real_feed_loads_with_the_independently_counted_numbers() {
    let mut builder = IndicatorSetBuilder::default();
    for (feed, entries, accepted, skipped) in expected() {
        let report = builder
            .load_feed(&feed)
            .unwrap_or_else(|e| panic!("{}: {e}", feed.name));
        let reasons: Vec<String> = report
            .skipped_by_reason
            .iter()
            .map(|(code, n)| format!("{code}={n}"))
            .collect();
        assert_eq!(
            (
                report.entries,
                report.accepted.to_string(),
                reasons.join(" ")
            ),
            (entries, accepted.to_owned(), skipped.to_owned()),
            "{}",
            feed.name
        );
        assert_eq!(
            report.skipped.len(),
            report.skipped_total,
            "{}: every skip listed",
            feed.name
        );
        for skip in &report.skipped {
            assert!(!skip.reason.to_string().is_empty());
        }
    }
    let set = builder.build();
    assert!(set.len() > 250_000, "{}", set.counts());
}

#[test]
fn no_feed_file_is_left_untested() {
    let tested: Vec<_> = expected().into_iter().map(|(feed, ..)| feed.path).collect();
    for dir in std::fs::read_dir(data_dir()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            assert!(
                tested.contains(&file),
                "{} has no expected counts",
                file.display()
            );
        }
    }
}

#[test]
fn skipped_maltrail_entries_name_their_line() {
    let mut builder = IndicatorSetBuilder::default();
    let report = builder
        .load_feed(&plain("maltrail/mass_scanner.txt"))
        .unwrap();
    let shown: Vec<String> = report.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(shown.len(), 5);
    assert!(
        shown[0].starts_with(
            "line 16343: \"/w00tw00t.at.ISC.SANS.DFind:)\": a URL path without a host"
        ),
        "{}",
        shown[0]
    );
    assert!(
        shown.iter().any(|s| s
            .starts_with("line 17474: \"C91.196.152.28 # probe.onyphe.net\": not a valid domain")),
        "{shown:?}"
    );
}

#[test]
fn ipsum_counts_become_descriptions_and_duplicates_across_feeds_give_one_hit_each() {
    let ipsum = FeedConfig {
        name: "ipsum".into(),
        description: Some("on {} blocklists".into()),
        ..plain("ipsum/ipsum.txt")
    };
    let level3 = FeedConfig {
        name: "ipsum-level3".into(),
        ..plain("ipsum/levels_3.txt")
    };
    let set = set_of(&[ipsum, level3]);
    // Every line of both files is a distinct address; the two feeds keep their own entries.
    assert_eq!(set.counts().get(IndicatorKind::Ip), 120_430 + 14_217);
    let mut found = Vec::new();
    set.match_event(&event(&[("source.ip", "77.90.185.20")]), &mut found);
    let mut got: Vec<(&str, Option<&str>)> = found
        .iter()
        .map(|h| (h.source(), h.description()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("ipsum", Some("on 10 blocklists")), ("ipsum-level3", None)]
    );
}

#[test]
fn firehol_ranges_cover_bogons_and_list_single_addresses() {
    let set = set_of(&[plain("firehol/firehol_level1_2021-06-28.netset")]);
    let feed = "firehol/firehol_level1_2021-06-28.netset";
    assert_eq!(
        hits(&set, &[("source.ip", "10.20.30.40")]),
        [format!("source.ip=10.20.30.40 -> cidr:10.0.0.0/8 ({feed})")]
    );
    assert_eq!(
        hits(&set, &[("destination.ip", "3.90.198.217")]),
        [format!(
            "destination.ip=3.90.198.217 -> ip:3.90.198.217 ({feed})"
        )]
    );
    assert_eq!(
        hits(&set, &[("destination.ip", "239.1.2.3")]),
        [format!(
            "destination.ip=239.1.2.3 -> cidr:224.0.0.0/3 ({feed})"
        )]
    );
    assert!(hits(&set, &[("destination.ip", "8.8.8.8")]).is_empty());
}

#[test]
fn maltrail_trails_match_as_endpoints_urls_domains_and_ranges() {
    let set = set_of(&[
        plain("maltrail/malware__emotet.txt"),
        plain("maltrail/malware__lokibot.txt"),
        plain("maltrail/mass_scanner.txt"),
        plain("maltrail/mass_scanner_cidr.txt"),
    ]);
    let emotet = "maltrail/malware__emotet.txt";
    // `66.210.228.178:443` is listed: the endpoint matches, the same address on 8080 not.
    assert_eq!(
        hits(
            &set,
            &[
                ("destination.ip", "66.210.228.178"),
                ("destination.port", "443")
            ]
        ),
        [format!(
            "destination.ip=66.210.228.178:443 -> ip-port:66.210.228.178:443 ({emotet})"
        )]
    );
    assert!(
        hits(
            &set,
            &[
                ("destination.ip", "66.210.228.178"),
                ("destination.port", "8080")
            ]
        )
        .is_empty()
    );
    // A scheme-less trail matches any scheme; a trail with a scheme only its own.
    assert_eq!(
        hits(
            &set,
            &[(
                "url.original",
                "https://OCCE.com/image1/image/Panel/five/fre.php"
            )]
        ),
        [
            "url.original=https://OCCE.com/image1/image/Panel/five/fre.php -> url:occe.com/image1/image/Panel/five/fre.php (maltrail/malware__lokibot.txt)"
        ]
    );
    assert_eq!(
        hits(&set, &[("url.full", "http://regionsnews.net/OEqhU8Lg5")]).len(),
        1
    );
    assert!(hits(&set, &[("url.full", "https://regionsnews.net/OEqhU8Lg5")]).is_empty());
    // Inline comments are descriptions; IPv6 scanners are listed too.
    let mut found = Vec::new();
    set.match_event(&event(&[("source.ip", "5.63.151.7")]), &mut found);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].indicator, "5.63.151.0/24");
    assert_eq!(found[0].description(), Some("scanners.labs.rapid7.com"));
    assert!(set.contains(Observable::Ip("2400:6180:0:d0::1008:2001".parse().unwrap())));
}

#[test]
fn csv_feeds_keep_their_columns() {
    let set = set_of(&[feodo(), urlhaus(), threatfox(), c2intel()]);
    let mut found = Vec::new();

    set.match_event(&event(&[("destination.ip", "192.9.135.73")]), &mut found);
    assert_eq!(found.len(), 1);
    let meta = &found[0].meta;
    assert_eq!(
        (
            &*meta.source,
            meta.confidence,
            meta.description.as_deref(),
            meta.first_seen.as_deref()
        ),
        (
            "feodotracker",
            Some(90),
            Some("Pikabot"),
            Some("2023-05-23 17:51:44")
        )
    );

    set.match_event(
        &event(&[("url.full", "HTTP://117.209.87.242:60905/bin.sh")]),
        &mut found,
    );
    let url_hit = found
        .iter()
        .find(|h| h.kind == IndicatorKind::Url)
        .expect("URL hit");
    assert_eq!(url_hit.indicator, "http://117.209.87.242:60905/bin.sh");
    assert_eq!(url_hit.description(), Some("32-bit,elf,mips,Mozi"));
    assert_eq!(
        url_hit.meta.object_id.as_deref(),
        Some("https://urlhaus.abuse.ch/url/3520667/")
    );

    assert_eq!(
        hits(&set, &[("dns.question.name", "cdn.TPOWE2.com.")]),
        ["dns.question.name=cdn.TPOWE2.com. -> domain:tpowe2.com (threatfox)"]
    );
    set.match_event(&event(&[("client.ip", "1.116.160.39")]), &mut found);
    assert_eq!(found[0].description(), Some("Possible Cobaltstrike C2 IP"));
}

#[test]
fn malwarebazaar_hashes_match_in_any_case() {
    let set = set_of(&[plain("abuse_ch/malwarebazaar_recent_md5_2023-11-23.txt")]);
    assert_eq!(
        hits(
            &set,
            &[("file.hash.md5", "98516400E20D10BE5D0F6E2462E33DF3")]
        ),
        [
            "file.hash.md5=98516400E20D10BE5D0F6E2462E33DF3 -> md5:98516400e20d10be5d0f6e2462e33df3 (abuse_ch/malwarebazaar_recent_md5_2023-11-23.txt)"
        ]
    );
    assert!(
        hits(
            &set,
            &[("file.hash.md5", "98516400e20d10be5d0f6e2462e33df4")]
        )
        .is_empty()
    );
}
