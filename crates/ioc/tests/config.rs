//! The feed configuration reads from TOML the way the lead's configuration file would
//! hold it, and a configured feed loads.

mod common;

use common::*;
use haechi_ioc::{
    Column, FeedConfig, FeedFormat, IndicatorKind, IndicatorSetBuilder, IpPortPolicy, Limits,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Intel {
    #[serde(default)]
    limits: Limits,
    feeds: Vec<FeedConfig>,
}

#[test]
fn feeds_and_limits_from_toml() {
    let text = r#"
        [limits]
        max_indicators = 5000000

        [[feeds]]
        name = "feodotracker"
        path = "abuse_ch/feodotracker_ipblocklist_2024-04-04.csv"
        format = "csv"
        header = true
        value_column = "dst_ip"
        description_column = "malware"
        first_seen_column = "first_seen_utc"
        confidence = 90

        [[feeds]]
        name = "c2intel"
        path = "c2intelfeeds/IPC2s-30day_2023-11-23.csv"
        format = "csv"
        value_column = 0
        description_column = 1

        [[feeds]]
        name = "maltrail-emotet"
        path = "maltrail/malware__emotet.txt"
        format = "plain"
        ip_port = "ip"

        [[feeds]]
        name = "circl"
        path = "misp/HTML_event.json"
        format = "misp"
        only_to_ids = false

        [[feeds]]
        name = "oasis"
        path = "stix2/schemas-threat-reports_apt1.json"
        format = "stix"
        kind = "ip"
    "#;
    let intel: Intel = toml::from_str(text).unwrap();
    assert_eq!(intel.limits.max_indicators, 5_000_000);
    assert_eq!(
        intel.limits.max_line_bytes,
        Limits::default().max_line_bytes
    );
    let feeds = intel.feeds;
    assert_eq!(feeds[0].value_column, Some(Column::Name("dst_ip".into())));
    assert_eq!(feeds[1].value_column, Some(Column::Index(0)));
    assert_eq!(
        (feeds[2].format, feeds[2].ip_port),
        (FeedFormat::Plain, IpPortPolicy::Ip)
    );
    assert!(!feeds[3].only_to_ids && feeds[0].only_to_ids);
    assert_eq!(feeds[4].kind, Some(IndicatorKind::Ip));

    let mut builder = IndicatorSetBuilder::new(intel.limits);
    for mut feed in feeds {
        feed.path = path(feed.path.to_str().unwrap());
        builder.load_feed(&feed).unwrap();
    }
    let set = builder.build();
    // ip_port = "ip": the emotet endpoints 66.210.228.178:443 and :80 become one address,
    // which matches on any port.
    assert_eq!(
        hits(
            &set,
            &[
                ("destination.ip", "66.210.228.178"),
                ("destination.port", "8080")
            ]
        ),
        ["destination.ip=66.210.228.178 -> ip:66.210.228.178 (maltrail-emotet)"]
    );
}

#[test]
fn unknown_keys_and_formats_are_rejected() {
    let err = toml::from_str::<FeedConfig>("name = \"x\"\nformat = \"plain\"\nvalue_colum = 1\n")
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown field `value_colum`"),
        "{err}"
    );
    let err = toml::from_str::<FeedConfig>("name = \"x\"\nformat = \"yaml\"\n").unwrap_err();
    assert!(err.to_string().contains("unknown variant `yaml`"), "{err}");
}
