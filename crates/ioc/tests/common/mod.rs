//! Helpers shared by the integration tests: where the real feeds are, how each is
//! configured, and a quick way to make events.

#![allow(dead_code)]

use haechi_event::{Event, Timestamp, Value};
use haechi_ioc::{
    Column, FeedConfig, FeedFormat, Hit, IndicatorKind, IndicatorSet, IndicatorSetBuilder,
    LoadReport,
};
use std::path::PathBuf;

/// `shared/data/threat_intel`, beside the workspace.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/threat_intel")
}

pub fn path(relative: &str) -> PathBuf {
    data_dir().join(relative)
}

/// A plain-list feed named after its file.
pub fn plain(relative: &str) -> FeedConfig {
    FeedConfig::new(relative, path(relative), FeedFormat::Plain)
}

pub fn stix(relative: &str) -> FeedConfig {
    FeedConfig::new(relative, path(relative), FeedFormat::Stix)
}

pub fn misp(relative: &str) -> FeedConfig {
    FeedConfig::new(relative, path(relative), FeedFormat::Misp)
}

pub fn csv(relative: &str, header: bool, value: Column) -> FeedConfig {
    FeedConfig {
        header,
        value_column: Some(value),
        ..FeedConfig::new(relative, path(relative), FeedFormat::Csv)
    }
}

pub fn name(s: &str) -> Column {
    Column::Name(s.to_owned())
}

/// The configuration the tests (and the README of the lead) use for each CSV feed.
pub fn feodo() -> FeedConfig {
    FeedConfig {
        name: "feodotracker".into(),
        description_column: Some(name("malware")),
        first_seen_column: Some(name("first_seen_utc")),
        confidence: Some(90),
        ..csv(
            "abuse_ch/feodotracker_ipblocklist_2024-04-04.csv",
            true,
            name("dst_ip"),
        )
    }
}

pub fn urlhaus() -> FeedConfig {
    FeedConfig {
        name: "urlhaus".into(),
        kind: Some(IndicatorKind::Url),
        description_column: Some(name("tags")),
        first_seen_column: Some(name("dateadded")),
        reference_column: Some(name("urlhaus_link")),
        ..csv("abuse_ch/urlhaus_recent_2025-04-21.csv", true, name("url"))
    }
}

pub fn threatfox() -> FeedConfig {
    FeedConfig {
        name: "threatfox".into(),
        ..csv(
            "abuse_ch/threatfox_hostnames_derived_2023-11-23.csv",
            true,
            name("Address"),
        )
    }
}

pub fn c2intel() -> FeedConfig {
    FeedConfig {
        name: "c2intel".into(),
        description_column: Some(Column::Index(1)),
        ..csv(
            "c2intelfeeds/IPC2s-30day_2023-11-23.csv",
            false,
            Column::Index(0),
        )
    }
}

/// Loads feeds into one set, panicking on a load error.
pub fn set_of(feeds: &[FeedConfig]) -> IndicatorSet {
    let mut builder = IndicatorSetBuilder::default();
    for feed in feeds {
        builder
            .load_feed(feed)
            .unwrap_or_else(|e| panic!("{}: {e}", feed.name));
    }
    builder.build()
}

/// Loads text as a feed of `format` into one set.
pub fn set_from(format: FeedFormat, text: &str) -> (IndicatorSet, LoadReport) {
    let mut builder = IndicatorSetBuilder::default();
    let report = builder
        .load_feed_bytes(&FeedConfig::new("test", "", format), text.as_bytes())
        .unwrap();
    (builder.build(), report)
}

/// An event with string fields, except values that parse as IPs in `*.ip` fields and
/// integers in `*.port` fields, as the parsers type them.
pub fn event(fields: &[(&'static str, &str)]) -> Event {
    let mut e = Event::new(Timestamp::now(), "test".into(), fields.len());
    for &(name, value) in fields {
        let typed = if name.ends_with(".ip") || name.ends_with("resolved_ip") {
            value
                .parse()
                .map(Value::Ip)
                .unwrap_or_else(|_| value.into())
        } else if name.ends_with(".port") {
            value
                .parse::<i64>()
                .map(Value::Int)
                .unwrap_or_else(|_| value.into())
        } else {
            value.into()
        };
        e.push(name, typed);
    }
    e
}

/// The hits of one event, as `field=matched -> kind:indicator (source)`, sorted.
pub fn hits(set: &IndicatorSet, fields: &[(&'static str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    set.match_event(&event(fields), &mut out);
    let mut shown: Vec<String> = out.iter().map(show).collect();
    shown.sort();
    shown
}

pub fn show(hit: &Hit) -> String {
    format!(
        "{}={} -> {}:{} ({})",
        hit.field,
        hit.matched,
        hit.kind,
        hit.indicator,
        hit.source()
    )
}
