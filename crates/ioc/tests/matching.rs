//! What a listed indicator matches in an event, and what it does not.

mod common;

use common::*;
use haechi_event::{Event, Timestamp, Value};
use haechi_ioc::{FeedFormat, IndicatorKind, IndicatorSetBuilder, Observable};

fn list(text: &str) -> haechi_ioc::IndicatorSet {
    set_from(FeedFormat::Plain, text).0
}

#[test]
fn a_domain_matches_itself_and_its_subdomains_only() {
    let set = list("evil.com\nbad.co.uk\n");
    for name in [
        "evil.com",
        "EVIL.COM",
        "a.evil.com",
        "a.b.evil.com.",
        "x.bad.co.uk",
    ] {
        assert_eq!(
            hits(&set, &[("dns.question.name", name)]).len(),
            1,
            "{name}"
        );
    }
    for name in [
        "notevil.com",
        "evil.com.au",
        "evilcom",
        "com",
        "co.uk",
        "evil.co",
        "e.vil.com",
        "",
    ] {
        assert!(
            hits(&set, &[("dns.question.name", name)]).is_empty(),
            "{name}"
        );
    }
    assert_eq!(
        hits(&set, &[("tls.client.server_name", "cdn.a.EVIL.com")]),
        ["tls.client.server_name=cdn.a.EVIL.com -> domain:evil.com (test)"]
    );
}

#[test]
fn every_domain_field_and_url_hosts_are_checked() {
    let set = list("evil.com\n");
    for field in [
        "dns.question.name",
        "url.domain",
        "destination.domain",
        "source.domain",
        "server.domain",
        "tls.client.server_name",
    ] {
        assert_eq!(hits(&set, &[(field, "x.evil.com")]).len(), 1, "{field}");
    }
    assert_eq!(
        hits(
            &set,
            &[("url.original", "https://user@www.evil.com:8443/a?b#c")]
        ),
        ["url.original=www.evil.com -> domain:evil.com (test)"]
    );
    assert_eq!(hits(&set, &[("url.full", "http://evil.com")]).len(), 1);
    assert!(
        hits(&set, &[("url.original", "/evil.com/x")]).is_empty(),
        "a path has no host"
    );
    assert!(
        hits(&set, &[("message", "evil.com"), ("host.name", "evil.com")]).is_empty(),
        "fields outside the table"
    );
}

#[test]
fn cidr_ranges_match_every_address_inside_ipv4_and_ipv6() {
    let set =
        list("192.0.2.0/24\n10.0.0.0/8\n10.1.0.0/16 # inner\n2001:db8::/32\n2001:db8:1::/48\n");
    assert!(hits(&set, &[("source.ip", "192.0.1.255")]).is_empty());
    assert_eq!(hits(&set, &[("source.ip", "192.0.2.0")]).len(), 1);
    assert_eq!(hits(&set, &[("source.ip", "192.0.2.255")]).len(), 1);
    assert!(hits(&set, &[("source.ip", "192.0.3.0")]).is_empty());
    assert_eq!(
        hits(&set, &[("source.ip", "10.1.2.3")]),
        [
            "source.ip=10.1.2.3 -> cidr:10.0.0.0/8 (test)",
            "source.ip=10.1.2.3 -> cidr:10.1.0.0/16 (test)",
        ],
        "every enclosing range"
    );
    assert_eq!(
        hits(&set, &[("destination.ip", "2001:db8:1::5")]),
        [
            "destination.ip=2001:db8:1::5 -> cidr:2001:db8:1::/48 (test)",
            "destination.ip=2001:db8:1::5 -> cidr:2001:db8::/32 (test)",
        ]
    );
    assert_eq!(
        hits(
            &set,
            &[("destination.ip", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")]
        )
        .len(),
        1
    );
    assert!(hits(&set, &[("destination.ip", "2001:db9::")]).is_empty());
    assert!(hits(&set, &[("destination.ip", "11.0.0.0")]).is_empty());
}

#[test]
fn ipv4_mapped_ipv6_addresses_are_ipv4() {
    let set = list("198.51.100.7\n203.0.113.0/24\n::ffff:192.0.2.1\n");
    assert_eq!(hits(&set, &[("source.ip", "::ffff:198.51.100.7")]).len(), 1);
    assert_eq!(hits(&set, &[("source.ip", "::ffff:203.0.113.9")]).len(), 1);
    assert_eq!(
        hits(&set, &[("source.ip", "192.0.2.1")]),
        ["source.ip=192.0.2.1 -> ip:192.0.2.1 (test)"],
        "listed as mapped, seen as IPv4"
    );
    assert!(
        hits(&set, &[("source.ip", "::198.51.100.7")]).is_empty(),
        "IPv4-compatible is not mapped"
    );
}

#[test]
fn every_ip_field_lists_and_strings() {
    let set = list("198.51.100.7\n");
    for field in [
        "source.ip",
        "destination.ip",
        "client.ip",
        "server.ip",
        "host.ip",
        "related.ip",
        "source.nat.ip",
        "destination.nat.ip",
        "dns.resolved_ip",
    ] {
        assert_eq!(hits(&set, &[(field, "198.51.100.7")]).len(), 1, "{field}");
    }
    let mut e = Event::new(Timestamp::now(), "t".into(), 2);
    e.push(
        "related.ip",
        Value::List(vec![
            Value::Ip("192.0.2.1".parse().unwrap()),
            Value::Str("198.51.100.7".into()),
        ]),
    );
    let mut found = Vec::new();
    set.match_event(&e, &mut found);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].field, found[0].matched.as_str()),
        ("related.ip", "198.51.100.7")
    );
}

#[test]
fn the_same_indicator_and_value_in_two_fields_is_one_hit() {
    let set = list("198.51.100.7\n");
    assert_eq!(
        hits(
            &set,
            &[
                ("source.ip", "198.51.100.7"),
                ("related.ip", "198.51.100.7")
            ]
        ),
        ["source.ip=198.51.100.7 -> ip:198.51.100.7 (test)"]
    );
    let set = list("evil.com\n");
    assert_eq!(
        hits(
            &set,
            &[
                ("url.original", "http://WWW.evil.com/a"),
                ("url.domain", "www.evil.com"),
                ("dns.question.name", "www.evil.com."),
                ("destination.domain", "other.evil.com"),
            ]
        ),
        [
            "destination.domain=other.evil.com -> domain:evil.com (test)",
            "url.original=WWW.evil.com -> domain:evil.com (test)",
        ],
        "a name looked up once per event, whatever its case or trailing dot"
    );
}

#[test]
fn hashes_match_case_insensitively_in_file_process_and_sysmon_fields() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let set = list(&format!(
        "{}\n{sha1}\n{}\n",
        md5.to_uppercase(),
        sha256.to_uppercase()
    ));
    assert_eq!(set.counts().to_string(), "md5=1 sha1=1 sha256=1");
    assert_eq!(hits(&set, &[("file.hash.md5", md5)]).len(), 1);
    assert_eq!(
        hits(&set, &[("file.hash.sha1", &sha1.to_uppercase())]).len(),
        1
    );
    assert_eq!(hits(&set, &[("process.hash.sha256", sha256)]).len(), 1);
    let sysmon = format!(
        "MD5={},SHA256={},IMPHASH={md5}",
        md5.to_uppercase(),
        sha256.to_uppercase()
    );
    let found = hits(&set, &[("Event.EventData.Hashes", &sysmon)]);
    assert_eq!(
        found,
        [
            format!(
                "Event.EventData.Hashes={} -> md5:{md5} (test)",
                md5.to_uppercase()
            ),
            format!(
                "Event.EventData.Hashes={} -> sha256:{sha256} (test)",
                sha256.to_uppercase()
            ),
        ],
        "IMPHASH is not a file hash, even when it equals a listed MD5"
    );
    assert!(hits(&set, &[("Hashes", &format!("IMPHASH={md5}"))]).is_empty());
    assert!(hits(&set, &[("file.hash.md5", &md5[..31])]).is_empty());
    assert!(hits(&set, &[("file.hash.md5", &format!("{}g", &md5[..31]))]).is_empty());
}

#[test]
fn urls_match_in_normal_form() {
    let set = list(
        "http://Evil.com/Gate.php?id=1\n\
         evil.net/download/x.exe\n\
         https://evil.org:443/\n",
    );
    let url_hits = |url: &str| -> usize {
        let mut found = Vec::new();
        set.match_event(&event(&[("url.original", url)]), &mut found);
        found
            .iter()
            .filter(|h| h.kind == IndicatorKind::Url)
            .count()
    };
    assert_eq!(
        url_hits("HTTP://EVIL.COM/Gate.php?id=1"),
        1,
        "scheme and host case"
    );
    assert_eq!(
        url_hits("http://evil.com:80/Gate.php?id=1#frag"),
        1,
        "default port, fragment"
    );
    assert_eq!(
        url_hits("http://evil.com./Gate.php?id=1"),
        1,
        "trailing dot"
    );
    assert_eq!(
        url_hits("evil.com/Gate.php?id=1"),
        1,
        "no scheme in the event"
    );
    assert_eq!(
        url_hits("http://evil.com/gate.php?id=1"),
        0,
        "the path keeps its case"
    );
    assert_eq!(
        url_hits("https://evil.com/Gate.php?id=1"),
        0,
        "another scheme"
    );
    assert_eq!(
        url_hits("http://evil.com:8080/Gate.php?id=1"),
        0,
        "another port"
    );
    assert_eq!(
        url_hits("http://evil.com/Gate.php?id=2"),
        0,
        "another query"
    );
    assert_eq!(
        url_hits("http://evil.net/download/x.exe"),
        1,
        "listed without scheme: any"
    );
    assert_eq!(url_hits("ftp://evil.net/download/x.exe"), 1);
    assert_eq!(url_hits("https://evil.org"), 1, "empty path is /");
    assert_eq!(url_hits("https://evil.org/?"), 0);
}

#[test]
fn ip_port_indicators_need_both_address_and_port() {
    let set = list("192.0.2.10:8443\n[2001:db8::1]:443\n");
    assert_eq!(
        hits(
            &set,
            &[
                ("destination.ip", "192.0.2.10"),
                ("destination.port", "8443")
            ]
        ),
        ["destination.ip=192.0.2.10:8443 -> ip-port:192.0.2.10:8443 (test)"]
    );
    assert_eq!(
        hits(
            &set,
            &[("source.port", "8443"), ("source.ip", "192.0.2.10")]
        )
        .len(),
        1
    );
    assert!(
        hits(
            &set,
            &[
                ("destination.ip", "192.0.2.10"),
                ("destination.port", "443")
            ]
        )
        .is_empty()
    );
    assert!(hits(&set, &[("destination.ip", "192.0.2.10")]).is_empty());
    assert!(
        hits(
            &set,
            &[("destination.ip", "192.0.2.10"), ("source.port", "8443")]
        )
        .is_empty(),
        "ports of another endpoint"
    );
    assert_eq!(
        hits(
            &set,
            &[("server.ip", "2001:db8::1"), ("server.port", "443")]
        )
        .len(),
        1
    );

    let mut builder = IndicatorSetBuilder::default();
    let feed = haechi_ioc::FeedConfig {
        ip_port: haechi_ioc::IpPortPolicy::Ip,
        ..haechi_ioc::FeedConfig::new("drop-port", "", FeedFormat::Plain)
    };
    builder
        .load_feed_bytes(&feed, b"192.0.2.10:8443\n")
        .unwrap();
    let set = builder.build();
    assert_eq!(
        hits(&set, &[("destination.ip", "192.0.2.10")]).len(),
        1,
        "ip_port = \"ip\" drops the port"
    );
}

#[test]
fn email_addresses_match_case_insensitively_in_every_email_field() {
    let set = list("Phisher@Evil.com\n");
    for field in [
        "email.from.address",
        "email.to.address",
        "email.sender.address",
        "email.reply_to.address",
        "user.email",
        "source.user.email",
    ] {
        assert_eq!(
            hits(&set, &[(field, "phisher@EVIL.COM")]).len(),
            1,
            "{field}"
        );
    }
    assert!(hits(&set, &[("email.from.address", "other@evil.com")]).is_empty());
}

#[test]
fn hits_carry_the_metadata_and_a_rule_id() {
    let mut builder = IndicatorSetBuilder::default();
    let feed = haechi_ioc::FeedConfig {
        confidence: Some(75),
        description: Some("C2 of {}".into()),
        ..haechi_ioc::FeedConfig::new("partner-feed", "", FeedFormat::Plain)
    };
    builder
        .load_feed_bytes(&feed, b"evil.com QakBot\n")
        .unwrap();
    let set = builder.build();
    let mut found = Vec::new();
    set.match_event(&event(&[("dns.question.name", "a.evil.com")]), &mut found);
    let hit = &found[0];
    assert_eq!(
        (
            hit.source(),
            hit.confidence(),
            hit.description(),
            hit.rule_id().as_str()
        ),
        (
            "partner-feed",
            Some(75),
            Some("C2 of QakBot"),
            "indicator:domain:evil.com"
        )
    );
    assert_eq!(set.value(hit.id).to_string(), "evil.com");
}

#[test]
fn the_hit_buffer_is_reused_and_cleared() {
    let set = list("evil.com\n");
    let mut found = Vec::new();
    set.match_event(&event(&[("dns.question.name", "evil.com")]), &mut found);
    assert_eq!(found.len(), 1);
    set.match_event(&event(&[("dns.question.name", "good.com")]), &mut found);
    assert!(found.is_empty());
}

#[test]
fn lookups_without_an_event() {
    let set = list("evil.com\n10.0.0.0/8\nhttp://evil.com/x\nbad@evil.com\n");
    assert!(set.contains(Observable::Domain("WWW.evil.com")));
    assert!(set.contains(Observable::Ip("10.9.9.9".parse().unwrap())));
    assert!(set.contains(Observable::Url("http://EVIL.com/x")));
    assert!(set.contains(Observable::Email("BAD@evil.com")));
    assert!(!set.contains(Observable::Hash("00")));
    let mut found = Vec::new();
    set.lookup(Observable::Domain("a.evil.com"), "custom.field", &mut found);
    assert_eq!(
        show(&found[0]),
        "custom.field=a.evil.com -> domain:evil.com (test)"
    );
}

#[test]
fn an_empty_set_matches_nothing() {
    let set = haechi_ioc::IndicatorSet::empty();
    assert!(
        hits(
            &set,
            &[("source.ip", "10.0.0.1"), ("dns.question.name", "evil.com")]
        )
        .is_empty()
    );
    assert_eq!(set.len(), 0);
}
