//! The pattern evaluator on a table of patterns × observations, and the event adapter.

use haechi_event::{Event, Timestamp, Value};
use haechi_intel::{CompiledPattern, Observation, PatternError, evaluate, observation_from_event};

fn observation() -> Observation {
    let mut o = Observation::new();
    o.add("ipv4-addr", "value", "10.1.2.3")
        .add("ipv4-addr", "value", "8.8.8.8")
        .add("ipv6-addr", "value", "2001:db8::7")
        .add("domain-name", "value", "www.Evil.com")
        .add("url", "value", "http://evil.com/gate.php?id=42")
        .add("file", "name", "invoice.exe")
        .add("file", "size", "5120")
        .add(
            "file",
            "hashes.sha256",
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        )
        .add("email-addr", "value", "ceo@example.org");
    o
}

#[test]
fn pattern_table() {
    let obs = observation();
    let table: &[(&str, bool)] = &[
        // =
        ("[ipv4-addr:value = '8.8.8.8']", true),
        ("[ipv4-addr:value = '8.8.4.4']", false),
        ("[domain-name:value = 'www.evil.com']", true), // domain names ignore case
        (
            "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
            true,
        ),
        (
            "[file:hashes.SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
            true,
        ),
        (
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            false,
        ), // no MD5 observed
        ("[file:name = 'INVOICE.EXE']", false), // file names keep their case
        // !=
        ("[file:name != 'report.pdf']", true),
        ("[file:name != 'invoice.exe']", false),
        ("[process:name != 'x']", false), // absent: nothing matches, != neither
        // IN
        ("[ipv4-addr:value IN ('1.1.1.1', '8.8.8.8')]", true),
        ("[ipv4-addr:value IN ('1.1.1.1', '9.9.9.9')]", false),
        ("[email-addr:value IN ('CEO@example.org')]", true),
        // LIKE
        ("[url:value LIKE 'http://evil.com/%']", true),
        ("[url:value LIKE 'http://evil.com/gate.php?id=4_']", true),
        ("[url:value LIKE 'https://%']", false),
        ("[domain-name:value LIKE '%.evil.com']", true),
        // MATCHES
        (
            "[url:value MATCHES '^http://[a-z]+\\\\.com/gate\\\\.php']",
            true,
        ),
        ("[email-addr:value MATCHES '@example\\\\.org$']", true),
        ("[email-addr:value MATCHES '^admin@']", false),
        // ISSUBSET / ISSUPERSET
        ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", true),
        ("[ipv4-addr:value ISSUBSET '192.168.0.0/16']", false),
        ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", true),
        ("[ipv4-addr:value ISSUPERSET '10.1.2.3']", true),
        ("[ipv4-addr:value ISSUPERSET '10.1.2.0/24']", false),
        // ordering
        ("[file:size > 4096]", true),
        ("[file:size <= 5120]", true),
        ("[file:size < 5120]", false),
        ("[file:size >= 9000]", false),
        ("[file:name > 'a']", true),
        // NOT
        ("[ipv4-addr:value NOT = '8.8.8.8']", true), // 10.1.2.3 is not 8.8.8.8
        ("[file:name NOT = 'invoice.exe']", false),
        ("[ipv4-addr:value NOT ISSUBSET '0.0.0.0/0']", false),
        ("[url:value NOT LIKE 'http://%']", false),
        ("[email-addr:value NOT IN ('a@b.c')]", true),
        // AND / OR inside an observation expression
        (
            "[ipv4-addr:value = '8.8.8.8' AND domain-name:value = 'www.evil.com']",
            true,
        ),
        (
            "[ipv4-addr:value = '8.8.8.8' AND domain-name:value = 'good.com']",
            false,
        ),
        (
            "[ipv4-addr:value = '1.1.1.1' OR domain-name:value = 'www.evil.com']",
            true,
        ),
        (
            "[(file:name = 'x' OR file:name = 'invoice.exe') AND file:size = 5120]",
            true,
        ),
        // AND / OR between observation expressions
        (
            "[ipv4-addr:value = '8.8.8.8'] AND [url:value LIKE '%gate%']",
            true,
        ),
        (
            "[ipv4-addr:value = '8.8.8.8'] AND [url:value LIKE '%login%']",
            false,
        ),
        (
            "[ipv4-addr:value = '1.1.1.1'] OR [file:name = 'invoice.exe']",
            true,
        ),
        (
            "[ipv4-addr:value = '1.1.1.1'] OR [file:name = 'other.exe']",
            false,
        ),
        // EXISTS
        ("[EXISTS file:name]", true),
        ("[EXISTS file:hashes.MD5]", false),
    ];
    for (pattern, expected) in table {
        let got = evaluate(pattern, &obs).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(got, *expected, "{pattern}");
    }
    assert!(!evaluate("[ipv4-addr:value = '8.8.8.8']", &Observation::new()).unwrap());
}

#[test]
fn unsupported_and_bad_patterns_are_errors() {
    let unsupported = |p: &str| match CompiledPattern::compile(p) {
        Err(PatternError::Unsupported { feature, .. }) => feature,
        other => panic!("{p}: {other:?}"),
    };
    assert_eq!(
        unsupported("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS"),
        "WITHIN"
    );
    assert_eq!(
        unsupported("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES"),
        "REPEATS"
    );
    assert_eq!(
        unsupported(
            "[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"
        ),
        "START/STOP"
    );
    assert_eq!(
        unsupported("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [url:value = 'x']"),
        "FOLLOWEDBY"
    );
    // Also when buried under an OR: never ignored.
    assert_eq!(
        unsupported("[url:value = 'x'] OR ([ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES)"),
        "REPEATS"
    );
    assert_eq!(
        unsupported("[file:hashes.MD5 = h'ff']"),
        "binary/hex constants"
    );
    assert_eq!(
        unsupported("[url:value ISSUBSET '10.0.0.0/8']"),
        "ISSUBSET on url"
    );
    let err =
        CompiledPattern::compile("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS").unwrap_err();
    assert!(
        err.to_string().contains("unsupported") && err.to_string().contains("WITHIN"),
        "{err}"
    );

    // A regex the regex crate refuses (look-ahead), with its reason.
    match CompiledPattern::compile("[url:value MATCHES '^(?!https)']") {
        Err(PatternError::BadRegex { pattern, reason }) => {
            assert_eq!(pattern, "^(?!https)");
            assert!(reason.contains("look-around"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        CompiledPattern::compile("[url:value = 'x'"),
        Err(PatternError::Syntax(_))
    ));
    assert!(matches!(
        CompiledPattern::compile("[ipv4-addr:value ISSUBSET '10.0.0.0/40']"),
        Err(PatternError::BadConstant { .. })
    ));
}

#[test]
fn events_become_observations() {
    let mut event = Event::new(Timestamp::now(), "seoul".into(), 12);
    event.push("source.ip", Value::Ip("10.1.2.3".parse().unwrap()));
    event.push("destination.ip", "2001:db8::5");
    event.push("client.ip", Value::Ip("::ffff:192.0.2.9".parse().unwrap()));
    event.push("dns.question.name", "Bad.Example.COM.");
    event.push("url.original", "http://bad.example.com/x.php");
    event.push(
        "file.hash.sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    event.push("file.hash.md5", "d41d8cd98f00b204e9800998ecf8427e");
    event.push("file.name", "x.dll");
    event.push(
        "email.to.address",
        Value::List(vec!["a@x.org".into(), "b@x.org".into()]),
    );
    event.push("message", "8.8.8.8 is not an observable field");
    let obs = observation_from_event(&event);
    assert_eq!(obs.values("ipv4-addr", "value"), ["10.1.2.3", "192.0.2.9"]);
    assert_eq!(obs.values("ipv6-addr", "value"), ["2001:db8::5"]);
    assert_eq!(obs.values("domain-name", "value"), ["Bad.Example.COM"]);
    assert_eq!(obs.values("url", "value"), ["http://bad.example.com/x.php"]);
    assert_eq!(obs.values("file", "hashes.MD5").len(), 1);
    assert_eq!(obs.values("email-addr", "value"), ["a@x.org", "b@x.org"]);
    assert_eq!(obs.iter().count(), 8);

    for (pattern, expected) in [
        ("[domain-name:value = 'bad.example.com']", true),
        (
            "[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' AND file:name = 'x.dll']",
            true,
        ),
        ("[ipv4-addr:value ISSUBSET '192.0.2.0/24']", true),
        ("[ipv4-addr:value = '8.8.8.8']", false),
        (
            "[email-addr:value = 'b@x.org'] AND [ipv6-addr:value ISSUBSET '2001:db8::/32']",
            true,
        ),
    ] {
        assert_eq!(evaluate(pattern, &obs).unwrap(), expected, "{pattern}");
    }
}
