//! `clf`: Apache / nginx access logs, Common Log Format
//! (`%h %l %u %t "%r" %>s %b`) and Combined (`… "%{Referer}i" "%{User-agent}i"`); anything
//! after the user agent (a vhost, a response time, …) is tolerated and ignored.
//!
//! * The request line `METHOD URI PROTOCOL` gives `http.request.method`, `url.original`,
//!   `url.path`, `url.query` (and `url.domain` for absolute-form URIs) and `http.version`
//!   (`1.1`). A request that is not of that shape (scanners send raw bytes, `-` or
//!   nothing) is still an access: `url.original` is the raw request text. A URI holding
//!   blanks (`GET /a b HTTP/1.1`) is read between the first and the last blank.
//! * `\"` and `\\` (Apache's escapes) are unescaped in the request, referrer and user agent.
//!   A referrer or user agent whose closing quote is missing at the end of the line (a
//!   truncated line) runs to the end of the line.
//! * ECS: `source.ip` (or `source.domain` when `%h` is a host name), `user.name` (`-` is
//!   none), `@timestamp` from `[10/Oct/2000:13:55:36 -0700]`, `http.response.status_code`
//!   and `http.response.body.bytes` as integers (`-` is none), `http.request.referrer`,
//!   `user_agent.original`, `event.kind: event`, `event.category: [web]`,
//!   `event.type: [access]`, `event.outcome` (`failure` for 4xx/5xx). No `message`: every
//!   part of the line is in a field.
//! * Malformed (an error naming the field and byte): a line whose structure does not match,
//!   i.e. missing the `[time]`, the quoted request, a three-digit status or the size.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Timestamp, ecs};
use std::borrow::Cow;

/// Parses access log lines. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClfParser;

impl ClfParser {
    pub fn new() -> Self {
        ClfParser
    }
}

impl RecordParser for ClfParser {
    fn format(&self) -> Format {
        Format::Clf
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = record.trim_end_matches(['\r', '\n']).trim_start();
        if text.trim_end().is_empty() {
            return Ok(None);
        }
        parse_clf(text, ctx).map(Some)
    }
}

fn err(what: impl Into<String>) -> ParseError {
    ParseError::new(what)
}

/// The index of the next `b' '` at or after `from`.
#[inline]
fn space_from(b: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b' ', b.get(from..)?).map(|i| from + i)
}

/// Parses one access log line (see the module documentation).
pub fn parse_clf(text: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
    let b = text.as_bytes();
    let host_end = space_from(b, 0).ok_or_else(|| {
        err("expected the client address (%h) followed by a blank at byte 0, found no blank")
    })?;
    let host = &text[..host_end];
    let ident_end = space_from(b, host_end + 1).ok_or_else(|| {
        err(format!(
            "expected the identity (%l) followed by a blank at byte {}",
            host_end + 1
        ))
    })?;
    let user_start = ident_end + 1;
    let open = memchr::memmem::find(&b[user_start.saturating_sub(1)..], b" [")
        .map(|i| i + user_start.saturating_sub(1))
        .ok_or_else(|| {
            err(format!(
                "expected ' [' opening the time (%t) after the user (%u) at byte {user_start}"
            ))
        })?;
    let user = if open >= user_start {
        &text[user_start..open]
    } else {
        ""
    };
    let stamp_start = open + 2;
    let close = memchr::memchr(b']', &b[stamp_start..])
        .map(|i| i + stamp_start)
        .ok_or_else(|| {
            err(format!(
                "unterminated time (%t) '[' at byte {} (missing ']')",
                open + 1
            ))
        })?;
    let stamp_text = &text[stamp_start..close];
    let timestamp = parse_clf_time(stamp_text, ctx).ok_or_else(|| {
        err(format!(
            "time (%t) '{}' at byte {stamp_start} is not `dd/Mon/yyyy:HH:MM:SS ±hhmm`",
            normalize::excerpt(stamp_text, 40)
        ))
    })?;
    let request_open = close + 1;
    if b.get(request_open..request_open + 2) != Some(b" \"") {
        return Err(err(format!(
            "expected ' \"' opening the request (%r) at byte {request_open}, found '{}'",
            normalize::excerpt(&text[request_open..], 16)
        )));
    }
    let request_start = request_open + 2;
    let request_end = find_request_end(b, request_start)
        .ok_or_else(|| err(format!("unterminated request (%r) starting at byte {request_start}: no closing '\"' followed by a status")))?;
    let request = &text[request_start..request_end];
    let status_start = request_end + 2;
    let status_end = space_from(b, status_start).unwrap_or(b.len());
    let status_text = &text[status_start.min(b.len())..status_end];
    let status: Option<u16> = if status_text == "-" {
        None
    } else if status_text.len() == 3 && status_text.bytes().all(|c| c.is_ascii_digit()) {
        status_text.parse().ok()
    } else {
        return Err(err(format!(
            "expected the status (%>s, three digits) at byte {status_start}, found '{}'",
            normalize::excerpt(status_text, 16)
        )));
    };
    if status_end >= b.len() {
        return Err(err(format!(
            "expected the response size (%b) after the status at byte {status_end}, found the end of the line"
        )));
    }
    let size_start = status_end + 1;
    let size_end = space_from(b, size_start).unwrap_or(b.len());
    let size_text = &text[size_start..size_end];
    let size: Option<i64> = if size_text == "-" {
        None
    } else {
        Some(size_text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            err(format!(
                "expected the response size (%b, digits or '-') at byte {size_start}, found '{}'",
                normalize::excerpt(size_text, 16)
            ))
        })?)
    };

    let mut event = Event::new(timestamp, ctx.tenant.clone(), 16);
    match normalize::parse_ip(host) {
        Some(ip) => event.push(ecs::SOURCE_IP, ip),
        None => event.push_str_nonempty(ecs::SOURCE_DOMAIN, host),
    }
    event.push_str_nonempty(ecs::USER_NAME, user);
    push_request(&mut event, request);
    if let Some(status) = status {
        event.push(ecs::HTTP_RESPONSE_STATUS_CODE, status as i64);
    }
    if let Some(size) = size {
        event.push(ecs::HTTP_RESPONSE_BODY_BYTES, size);
    }

    // Combined: ` "referrer" "user agent"`, then anything.
    let mut pos = size_end;
    if let Some((referrer, next)) = quoted_field(text, pos) {
        event.push_str_nonempty(ecs::HTTP_REQUEST_REFERRER, &referrer);
        pos = next;
        if let Some((agent, _)) = quoted_field(text, pos) {
            event.push_str_nonempty(ecs::USER_AGENT_ORIGINAL, &agent);
        }
    }

    normalize::categorize(&mut event, "event", &["web"], &["access"]);
    if let Some(status) = status {
        event.push(ecs::EVENT_OUTCOME, normalize::http_outcome(status));
    }
    Ok(event)
}

/// The closing quote of the request: the first unescaped `"` followed by ` ` and a status
/// (three digits or `-`); a bare `"` inside the request (scanners) is skipped over.
fn find_request_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => {
                let after = &b[i + 1..];
                let status_ok = after.first() == Some(&b' ')
                    && (after
                        .get(1..4)
                        .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
                        && matches!(after.get(4), None | Some(b' '))
                        || (after.get(1) == Some(&b'-')
                            && matches!(after.get(2), None | Some(b' '))));
                if status_ok {
                    return Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// A ` "…"` field at `pos`: its unescaped text and the position after it. A missing
/// closing quote takes the rest of the line (truncated lines).
fn quoted_field(text: &str, pos: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    if b.get(pos..pos + 2) != Some(b" \"") {
        return None;
    }
    let start = pos + 2;
    let mut i = start;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'"' => break,
            _ => i += 1,
        }
    }
    let end = i.min(b.len());
    let raw = &text[start..end];
    Some((
        if escaped {
            unescape(raw)
        } else {
            Cow::Borrowed(raw)
        },
        (end + 1).min(b.len()),
    ))
}

/// Apache's escapes `\"` and `\\`; other sequences (`\x0b`) are kept as written.
fn unescape(raw: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `METHOD URI HTTP/x.y` → method, URL parts, version; anything else → `url.original` only.
fn push_request(event: &mut Event, raw: &str) {
    let request = if raw.contains('\\') {
        unescape(raw)
    } else {
        Cow::Borrowed(raw)
    };
    let request = request.as_ref();
    if request.is_empty() || request == "-" {
        return;
    }
    let parsed = request.split_once(' ').and_then(|(method, rest)| {
        let method_ok = !method.is_empty()
            && method.len() <= 24
            && method
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c == b'-' || c == b'_');
        if !method_ok {
            return None;
        }
        let (uri, version) = match rest.rsplit_once(' ') {
            Some((uri, proto)) if proto.starts_with("HTTP/") => (uri, Some(&proto[5..])),
            _ if !rest.contains(' ') => (rest, None),
            _ => return None,
        };
        (!uri.is_empty()).then_some((method, uri, version))
    });
    let Some((method, uri, version)) = parsed else {
        event.push(ecs::URL_ORIGINAL, request);
        return;
    };
    event.push(ecs::HTTP_REQUEST_METHOD, method);
    event.push(ecs::URL_ORIGINAL, uri);
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        event.push(ecs::HTTP_VERSION, v);
    }
    // Absolute form (proxies): `http://host:port/path?query`.
    let mut path_and_query = uri;
    if let Some(after_scheme) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    {
        let authority_end = after_scheme
            .find(['/', '?', '#'])
            .unwrap_or(after_scheme.len());
        let authority = &after_scheme[..authority_end];
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if host.starts_with('[') {
            host.split_once(']').map_or(host, |(h, _)| &h[1..])
        } else {
            host.split(':').next().unwrap_or(host)
        };
        event.push_str_nonempty(ecs::URL_DOMAIN, host);
        path_and_query = &after_scheme[authority_end..];
    }
    let without_fragment = path_and_query.split('#').next().unwrap_or(path_and_query);
    let (path, query) = match without_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (without_fragment, None),
    };
    if !path.is_empty() {
        event.push(ecs::URL_PATH, path);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        event.push(ecs::URL_QUERY, q);
    }
}

/// `10/Oct/2000:13:55:36 -0700` (the zone may be missing: then `ParseContext.timezone`).
pub fn parse_clf_time(text: &str, ctx: &ParseContext) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
    {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        let s = b.get(from..from + len)?;
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0u32, |v, c| v * 10 + (c - b'0') as u32))
    };
    let day = num(0, 2)?;
    let month = normalize::month_number(&text[3..6])?;
    let year = num(7, 4)? as i32;
    let (h, m, s) = (num(12, 2)?, num(15, 2)?, num(18, 2)?);
    let mut i = 20;
    let mut nanos = 0;
    if b.get(20) == Some(&b'.') {
        let (n, len) = normalize::fraction_nanos(b, 21);
        nanos = n;
        i = 21 + len;
    }
    let naive = chrono::NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(
        h,
        m,
        s.min(59),
        nanos,
    )?;
    let rest = text[i..].trim();
    let zone = if rest.is_empty() {
        None
    } else {
        Some(normalize::parse_zone(rest)?)
    };
    normalize::zoned_to_utc(ctx, zone, &naive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::{Value, parse_rfc3339};
    use std::collections::BTreeMap;

    fn ctx() -> ParseContext {
        let mut ctx = ParseContext::new("t");
        ctx.received = parse_rfc3339("2024-06-01T00:00:00Z").unwrap();
        ctx
    }

    fn parse(line: &str) -> Event {
        ClfParser::new()
            .parse(line, &ctx())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap()
    }

    fn err(line: &str) -> String {
        ClfParser::new().parse(line, &ctx()).expect_err(line).0
    }

    fn int(e: &Event, name: &str) -> Option<i64> {
        match e.get(name) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    #[test]
    fn apache_documentation_examples() {
        // The Common Log Format example of the Apache httpd documentation.
        let e = parse(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
        );
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&Value::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(e.get_str(ecs::USER_NAME), Some("frank"));
        assert_eq!(e.timestamp.to_rfc3339(), "2000-10-10T20:55:36Z");
        assert_eq!(e.get_str(ecs::HTTP_REQUEST_METHOD), Some("GET"));
        assert_eq!(e.get_str(ecs::URL_ORIGINAL), Some("/apache_pb.gif"));
        assert_eq!(e.get_str(ecs::URL_PATH), Some("/apache_pb.gif"));
        assert_eq!(e.get(ecs::URL_QUERY), None);
        assert_eq!(e.get_str(ecs::HTTP_VERSION), Some("1.0"));
        assert_eq!(int(&e, ecs::HTTP_RESPONSE_STATUS_CODE), Some(200));
        assert_eq!(int(&e, ecs::HTTP_RESPONSE_BODY_BYTES), Some(2326));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(e.get(ecs::EVENT_CATEGORY), Some(&Value::from(&["web"][..])));
        assert_eq!(e.get(ecs::EVENT_TYPE), Some(&Value::from(&["access"][..])));
        // And the Combined example.
        let e = parse(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#,
        );
        assert_eq!(
            e.get_str(ecs::HTTP_REQUEST_REFERRER),
            Some("http://www.example.com/start.html")
        );
        assert_eq!(
            e.get_str(ecs::USER_AGENT_ORIGINAL),
            Some("Mozilla/4.08 [en] (Win98; I ;Nav)")
        );
    }

    #[test]
    fn nginx_and_odd_requests() {
        // nginx writes "-" for a bad request without a request line, and a 400.
        let e = parse(r#"192.0.2.7 - - [01/Jun/2024:00:00:01 +0000] "-" 400 0 "-" "-""#);
        assert_eq!(e.get(ecs::URL_ORIGINAL), None);
        assert_eq!(int(&e, ecs::HTTP_RESPONSE_STATUS_CODE), Some(400));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get(ecs::HTTP_REQUEST_REFERRER), None);
        // Scanner garbage (a TLS hello as text, with a quote in it) is still an access.
        let e = parse(
            r#"198.51.100.3 - - [01/Jun/2024:00:00:02 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"zz" 400 226 "-" "-""#,
        );
        assert_eq!(
            e.get_str(ecs::URL_ORIGINAL),
            Some(r#"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"zz"#)
        );
        assert_eq!(e.get(ecs::HTTP_REQUEST_METHOD), None);
        // Query, absolute form, blanks in the URI, a trailing vhost and response time.
        let e = parse(
            r#"::1 - alice [01/Jun/2024:00:00:03 +0200] "GET http://example.com:8080/a/b?x=1&y=2#frag HTTP/1.1" 304 - "-" "curl/8.0" example.com 0.004"#,
        );
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&Value::Ip("::1".parse().unwrap()))
        );
        assert_eq!(e.get_str(ecs::URL_DOMAIN), Some("example.com"));
        assert_eq!(e.get_str(ecs::URL_PATH), Some("/a/b"));
        assert_eq!(e.get_str(ecs::URL_QUERY), Some("x=1&y=2"));
        assert_eq!(e.get(ecs::HTTP_RESPONSE_BODY_BYTES), None);
        assert_eq!(e.get_str(ecs::USER_AGENT_ORIGINAL), Some("curl/8.0"));
        assert_eq!(e.timestamp.to_rfc3339(), "2024-05-31T22:00:03Z");
        let e = parse(
            r#"host.example - - [01/Jun/2024:00:00:04 +0000] "GET /a b.html HTTP/1.1" 404 10"#,
        );
        assert_eq!(e.get_str(ecs::URL_ORIGINAL), Some("/a b.html"));
        assert_eq!(e.get_str(ecs::SOURCE_DOMAIN), Some("host.example"));
        assert_eq!(e.get(ecs::SOURCE_IP), None);
    }

    #[test]
    fn malformed_lines_are_refused_with_a_reason() {
        assert_eq!(
            err("garbage"),
            "expected the client address (%h) followed by a blank at byte 0, found no blank"
        );
        assert!(
            err("1.2.3.4 - - 10/Oct/2000:13:55:36 \"GET / HTTP/1.0\" 200 1")
                .contains("expected ' [' opening the time (%t)")
        );
        assert!(
            err("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700 \"GET / HTTP/1.0\" 200 1")
                .contains("missing ']'")
        );
        assert!(
            err("1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1")
                .contains("time (%t) '10/Foo/2000:13:55:36 -0700' at byte 13")
        );
        assert!(
            err("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] GET / 200 1")
                .contains("expected ' \"' opening the request (%r) at byte 40")
        );
        assert!(
            err("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" OK 1")
                .contains("unterminated request (%r) starting at byte 42")
        );
        assert!(
            err("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200")
                .contains("expected the response size (%b)")
        );
        assert!(
            err("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 big")
                .contains("found 'big'")
        );
    }

    #[test]
    fn elastic_examples_apache_log_parses_completely() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/logs/access_logs/elastic_examples_apache_access_2015.log"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("sample data {path} is missing: {e}"));
        let c = ctx();
        let mut parser = ClfParser::new();
        let mut events = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let e = parser
                .parse(line, &c)
                .unwrap_or_else(|e| panic!("line {}: {e}: {line}", n + 1))
                .unwrap();
            events.push(e);
        }
        assert_eq!(events.len(), 10_000);

        // Status histogram: matches the file and sums to the line count.
        let mut histogram = BTreeMap::new();
        for e in &events {
            *histogram
                .entry(int(e, ecs::HTTP_RESPONSE_STATUS_CODE).unwrap())
                .or_insert(0) += 1;
        }
        let expected: BTreeMap<i64, i32> = [
            (200, 9126),
            (206, 45),
            (301, 164),
            (304, 445),
            (403, 2),
            (404, 213),
            (416, 2),
            (500, 3),
        ]
        .into();
        assert_eq!(histogram, expected);
        assert_eq!(histogram.values().sum::<i32>(), 10_000);
        assert_eq!(
            events
                .iter()
                .filter(|e| e.get_str(ecs::EVENT_OUTCOME) == Some("failure"))
                .count(),
            2 + 213 + 2 + 3
        );

        // Line 1.
        let e = &events[0];
        assert_eq!(
            e.get(ecs::SOURCE_IP),
            Some(&Value::Ip("83.149.9.216".parse().unwrap()))
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2015-05-17T10:05:03Z");
        assert_eq!(
            e.get_str(ecs::URL_ORIGINAL),
            Some("/presentations/logstash-monitorama-2013/images/kibana-search.png")
        );
        assert_eq!(e.get_str(ecs::HTTP_VERSION), Some("1.1"));
        assert_eq!(int(e, ecs::HTTP_RESPONSE_BODY_BYTES), Some(203023));
        assert_eq!(
            e.get_str(ecs::HTTP_REQUEST_REFERRER),
            Some("http://semicomplete.com/presentations/logstash-monitorama-2013/")
        );
        assert_eq!(
            e.get_str(ecs::USER_AGENT_ORIGINAL),
            Some(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"
            )
        );
        // `-` sizes (669 lines) give no body size; every other line has one.
        assert_eq!(
            events
                .iter()
                .filter(|e| e.get(ecs::HTTP_RESPONSE_BODY_BYTES).is_none())
                .count(),
            669
        );
        // Line 8899 is cut inside the user agent (no closing quote): kept to the end of line.
        assert_eq!(
            events[8898].get_str(ecs::USER_AGENT_ORIGINAL),
            Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html")
        );
        // Every request in this file is `METHOD URI HTTP/1.x`.
        assert!(
            events.iter().all(
                |e| e.get(ecs::HTTP_REQUEST_METHOD).is_some() && e.get(ecs::URL_PATH).is_some()
            )
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| e
                    .get_str(ecs::URL_PATH)
                    .is_some_and(|p| p.contains("wp-login")))
                .count(),
            text.matches("wp-login").count()
        );
    }
}
