//! Hostile and broken feeds fail with a specific error, within the limits, and leave the
//! builder as it was.

mod common;

use common::*;
use haechi_ioc::{
    Column, FeedConfig, FeedFormat, IndicatorKind, IndicatorSetBuilder, Limits, LoadError,
};

fn small_limits() -> Limits {
    Limits {
        max_file_bytes: 4096,
        max_line_bytes: 100,
        max_indicators: 10,
        max_skipped_details: 3,
    }
}

fn plain_feed() -> FeedConfig {
    FeedConfig::new("hostile", "", FeedFormat::Plain)
}

#[test]
fn an_over_long_line_is_an_error_naming_the_line() {
    let mut builder = IndicatorSetBuilder::new(small_limits());
    let text = format!("evil.com\n# comment\n{}.com\n", "a".repeat(200));
    let err = builder
        .load_feed_bytes(&plain_feed(), text.as_bytes())
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::LineTooLong {
                line: 3,
                len: 204,
                max: 100
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "line 3 is 204 bytes long, over the limit of 100 bytes (limits.max_line_bytes)"
    );
    assert!(builder.is_empty(), "the feed's first line was rolled back");

    let csv = FeedConfig {
        value_column: Some(Column::Index(0)),
        ..FeedConfig::new("hostile-csv", "", FeedFormat::Csv)
    };
    let text = format!("1.2.3.4,ok\n\"{}\",x\n", "b".repeat(150));
    let err = builder.load_feed_bytes(&csv, text.as_bytes()).unwrap_err();
    assert!(
        matches!(err, LoadError::LineTooLong { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn too_many_indicators_is_an_error_and_rolls_the_feed_back() {
    let mut builder = IndicatorSetBuilder::new(small_limits());
    builder
        .load_feed_bytes(&plain_feed(), b"10.0.0.1\n10.0.0.2\nevil.com\n")
        .unwrap();
    assert_eq!(builder.len(), 3);
    let many: String = (0..20).map(|i| format!("192.0.2.{i}\n")).collect();
    let err = builder
        .load_feed_bytes(&plain_feed(), many.as_bytes())
        .unwrap_err();
    assert!(
        matches!(err, LoadError::TooManyIndicators { max: 10 }),
        "{err:?}"
    );
    assert_eq!(builder.len(), 3, "the failed feed left nothing behind");
    let set = builder.build();
    assert_eq!(set.counts().to_string(), "ip=2 domain=1");
    assert!(hits(&set, &[("source.ip", "192.0.2.1")]).is_empty());
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_reading() {
    let mut builder = IndicatorSetBuilder::new(small_limits());
    let err = builder.load_feed(&plain("ipsum/ipsum.txt")).unwrap_err();
    match err {
        LoadError::FileTooLarge { size, max, .. } => {
            assert_eq!((size, max), (1_952_079, 4096));
        }
        other => panic!("{other:?}"),
    }
    let err = builder
        .load_feed_bytes(&plain_feed(), &vec![b'#'; 5000])
        .unwrap_err();
    assert!(matches!(err, LoadError::FileTooLarge { size: 5000, .. }));
}

#[test]
fn skipped_details_are_capped_but_all_are_counted() {
    let mut builder = IndicatorSetBuilder::new(small_limits());
    let junk: String = (0..50)
        .map(|i| format!("junk!{i} trailing text\n"))
        .collect();
    let report = builder
        .load_feed_bytes(&plain_feed(), junk.as_bytes())
        .unwrap();
    assert_eq!((report.skipped.len(), report.skipped_total), (3, 50));
    assert_eq!(report.skipped_by_reason.get("unrecognised"), Some(&50));
}

#[test]
fn binary_and_non_utf8_lines_are_skipped_not_fatal() {
    let mut builder = IndicatorSetBuilder::default();
    let report = builder
        .load_feed_bytes(
            &plain_feed(),
            b"evil.com\n\xff\xfe\x00garbage\n\x00\x01\x02\n",
        )
        .unwrap();
    assert_eq!(report.accepted.get(IndicatorKind::Domain), 1);
    assert_eq!(report.skipped_by_reason.get("not-utf8"), Some(&1));
    assert_eq!(report.skipped_total, 2);
}

#[test]
fn missing_files_and_bad_configurations_say_what_is_wrong() {
    let mut builder = IndicatorSetBuilder::default();
    let err = builder.load_feed(&plain("no/such/feed.txt")).unwrap_err();
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    assert!(err.to_string().contains("no/such/feed.txt"), "{err}");

    let err = builder
        .load_feed_bytes(&FeedConfig::new("c", "", FeedFormat::Csv), b"a,b\n")
        .unwrap_err();
    assert_eq!(err.to_string(), "feed \"c\": format csv needs value_column");

    let feed = FeedConfig {
        confidence: Some(150),
        ..plain_feed()
    };
    let err = builder.load_feed_bytes(&feed, b"evil.com\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "feed \"hostile\": confidence 150 is over 100"
    );

    let feed = FeedConfig {
        header: true,
        value_column: Some(Column::Name("ioc".into())),
        ..FeedConfig::new("c", "", FeedFormat::Csv)
    };
    let err = builder
        .load_feed_bytes(&feed, b"ip,desc\n1.2.3.4,x\n")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CSV column \"ioc\" is not in the header (columns: ip,desc)"
    );
}

#[test]
fn csv_rows_with_bad_cells_are_skipped_with_their_reason() {
    let feed = FeedConfig {
        header: true,
        value_column: Some(Column::Name("value".into())),
        type_column: Some(Column::Name("type".into())),
        confidence_column: Some(Column::Name("confidence".into())),
        ..FeedConfig::new("typed", "", FeedFormat::Csv)
    };
    let text = "\
# exported by a TIP
value,type,confidence
\"evil.com\",domain,80
1.2.3.4,ip,high
5.6.7.8,ip,101
\"a,b\",regkey,50
9.9.9.9,domain,50
10.0.0.1
\"sha, with comma\",md5,1
d41d8cd98f00b204e9800998ecf8427e,md5_hash,
";
    let mut builder = IndicatorSetBuilder::default();
    let report = builder.load_feed_bytes(&feed, text.as_bytes()).unwrap();
    let got: Vec<String> = report
        .skipped
        .iter()
        .map(|s| format!("{} {}", s.location, s.reason.code()))
        .collect();
    assert_eq!(
        got,
        [
            "line 4 bad-confidence",
            "line 5 bad-confidence",
            "line 6 unknown-type",
            "line 7 wrong-kind",
            "line 9 invalid",
        ]
    );
    assert_eq!(report.accepted.to_string(), "ip=1 domain=1 md5=1");
    let set = builder.build();
    let mut found = Vec::new();
    set.match_event(&event(&[("dns.question.name", "evil.com")]), &mut found);
    assert_eq!(found[0].confidence(), Some(80));
    assert_eq!(
        hits(&set, &[("source.ip", "10.0.0.1")]).len(),
        1,
        "no type: detected"
    );
}

/// `skip_reserved`: a perimeter blocklist's bogon ranges are not taken, and say why.
#[test]
fn reserved_ranges_are_skipped_when_the_feed_says_so() {
    let feed = FeedConfig {
        skip_reserved: true,
        ..FeedConfig::new("perimeter", "", FeedFormat::Plain)
    };
    let mut builder = IndicatorSetBuilder::default();
    let report = builder
        .load_feed_bytes(
            &feed,
            b"10.0.0.0/8\n192.168.0.0/16\n224.0.0.0/3\n5.188.10.0/23\n203.0.113.9\n",
        )
        .unwrap();
    assert_eq!(report.accepted.total(), 1, "{report}");
    assert_eq!(report.skipped_by_reason.get("reserved"), Some(&4));
}
