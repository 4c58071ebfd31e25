//! `modsecurity`: the JSON audit log of the ModSecurity web application firewall (with the
//! OWASP Core Rule Set, the usual WAF of public web sites), one transaction per line, as
//! `SecAuditLogFormat JSON` writes it:
//!
//! * libmodsecurity 3 (nginx, Apache connectors): `{"transaction": {"client_ip", …,
//!   "request": {…}, "response": {…}, "producer": {…}, "messages": [{"message",
//!   "details": {"ruleId", "severity", "tags", "data", …}}]}}`;
//! * ModSecurity 2.9 (Apache): `{"transaction": {"remote_address", …}, "request":
//!   {"request_line", "headers"}, "response": {"status"}, "audit_data": {"messages":
//!   ["… [id \"942100\"] [msg \"…\"] [severity \"CRITICAL\"] [tag \"attack-sqli\"]"],
//!   "action": {"intercepted"}}}`.
//!
//! One transaction is one event. Every rule that matched is kept (`modsecurity.rules`:
//! `id`, `msg`, `severity`, `tags`, `data`); the **primary** one — the most severe rule
//! that names an attack, not the Core Rule Set's anomaly-score verdicts (949xxx, 959xxx,
//! 980xxx), which only say that the others added up — gives `rule.id`, `rule.name`,
//! `rule.category` (its `attack-*` tag) and `event.severity` (the CRS number, 0 emergency …
//! 5 notice, or the word ModSecurity 2 writes). A transaction with rule matches is
//! `event.kind: alert` (an equipment detection: see `haechi-detect::device`), blocked ones
//! `event.type: denied` and `event.action: blocked`; one without is an ordinary web event.
//! ECS: `source.ip/port` (the client), `destination.ip/port`, `http.request.method`,
//! `url.original`/`url.path`, `http.response.status_code`, `user_agent.original`,
//! `url.domain` (the `Host` header); `observer.product: ModSecurity`, `observer.type: waf`.
//! The time is `time_stamp` (libmodsecurity, local time in `parse.timezone`) or `time`
//! (ModSecurity 2, with its offset). Refused with the reason: a line that is not a JSON
//! object, or without a `transaction` object or a time.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs};
use serde_json::{Map, Value as Json};

/// The most rule matches kept per transaction (a scanner can trip hundreds).
pub const MAX_RULES: usize = 64;

pub struct ModSecurityParser;

/// One rule that matched.
#[derive(Debug, Default, Clone, PartialEq)]
struct RuleMatch {
    id: String,
    msg: String,
    severity: Option<String>,
    tags: Vec<String>,
    data: Option<String>,
}

/// Whether a JSON record (`inner`: the text after its opening brace) is a ModSecurity
/// audit record.
pub fn looks_like_modsecurity(text: &str) -> bool {
    let has = |n: &str| memchr::memmem::find(text.as_bytes(), n.as_bytes()).is_some();
    has("\"transaction\"")
        && (has("\"messages\"") || has("\"audit_data\""))
        && (has("\"client_ip\"") || has("\"remote_address\""))
}

impl RecordParser for ModSecurityParser {
    fn format(&self) -> Format {
        Format::ModSecurity
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let map = normalize::json_object(record, "a ModSecurity audit record")?;
        let Some(Json::Object(tx)) = map.get("transaction") else {
            return Err(ParseError::new(
                "ModSecurity audit record without a \"transaction\" object",
            ));
        };
        transaction_event(&map, tx, ctx).map(Some)
    }
}

fn text<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

fn object<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a Map<String, Json>> {
    map.get(key).and_then(Json::as_object)
}

fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A header, whatever its case.
fn header<'a>(headers: Option<&'a Map<String, Json>>, name: &str) -> Option<&'a str> {
    headers?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

fn transaction_event(
    map: &Map<String, Json>,
    tx: &Map<String, Json>,
    ctx: &ParseContext,
) -> Result<Event, ParseError> {
    let v3 = tx.contains_key("client_ip") || tx.contains_key("messages");
    let timestamp = if v3 {
        let stamp = text(tx, "time_stamp")
            .ok_or_else(|| ParseError::new("ModSecurity transaction without \"time_stamp\""))?;
        // `Wed Nov 30 10:09:27 2022`, local time.
        chrono::NaiveDateTime::parse_from_str(stamp.trim(), "%a %b %e %H:%M:%S %Y")
            .ok()
            .and_then(|naive| normalize::zoned_to_utc(ctx, None, &naive))
            .ok_or_else(|| {
                ParseError::new(format!(
                    "ModSecurity \"time_stamp\" \"{}\" is not a time like `Wed Nov 30 10:09:27 2022`",
                    normalize::excerpt(stamp, 40)
                ))
            })?
    } else {
        let stamp = text(tx, "time")
            .ok_or_else(|| ParseError::new("ModSecurity transaction without \"time\""))?;
        // `30/Nov/2022:10:09:27.123456 +0000`
        chrono::DateTime::parse_from_str(stamp.trim(), "%d/%b/%Y:%H:%M:%S%.f %z")
            .ok()
            .map(|t| haechi_event::Timestamp::from_datetime(&t))
            .ok_or_else(|| {
                ParseError::new(format!(
                    "ModSecurity \"time\" \"{}\" is not a time like `30/Nov/2022:10:09:27.123456 +0000`",
                    normalize::excerpt(stamp, 40)
                ))
            })?
    };
    let mut event = Event::new(timestamp, ctx.tenant.clone(), 40);
    event.push(ecs::EVENT_MODULE, "modsecurity");
    event.push(ecs::EVENT_DATASET, "modsecurity.audit");

    // Where: the client, the server.
    let (client, client_port, server, server_port, id) = if v3 {
        (
            text(tx, "client_ip"),
            tx.get("client_port"),
            text(tx, "host_ip"),
            tx.get("host_port"),
            text(tx, "unique_id"),
        )
    } else {
        (
            text(tx, "remote_address"),
            tx.get("remote_port"),
            text(tx, "local_address"),
            tx.get("local_port"),
            text(tx, "transaction_id"),
        )
    };
    if let Some(ip) = client {
        normalize::push_ip(&mut event, ecs::SOURCE_IP, ip);
    }
    if let Some(p) = client_port.and_then(scalar_text) {
        normalize::push_port(&mut event, ecs::SOURCE_PORT, &p);
    }
    if let Some(ip) = server {
        normalize::push_ip(&mut event, ecs::DESTINATION_IP, ip);
    }
    if let Some(p) = server_port.and_then(scalar_text) {
        normalize::push_port(&mut event, ecs::DESTINATION_PORT, &p);
    }
    if let Some(id) = id {
        event.push("transaction.id", id);
    }

    // What: the request and the answer.
    let (request, response) = if v3 {
        (object(tx, "request"), object(tx, "response"))
    } else {
        (object(map, "request"), object(map, "response"))
    };
    let headers = request.and_then(|r| object(r, "headers"));
    let (method, uri) = match request {
        Some(r) if v3 => (text(r, "method"), text(r, "uri")),
        Some(r) => {
            let mut parts = text(r, "request_line").unwrap_or("").split(' ');
            (parts.next().filter(|m| !m.is_empty()), parts.next())
        }
        None => (None, None),
    };
    if let Some(m) = method {
        event.push(ecs::HTTP_REQUEST_METHOD, m);
    }
    if let Some(u) = uri {
        event.push(ecs::URL_ORIGINAL, u);
        event.push(ecs::URL_PATH, u.split(['?', '#']).next().unwrap_or(u));
    }
    if let Some(host) = header(headers, "host") {
        event.push(ecs::URL_DOMAIN, host);
    }
    if let Some(ua) = header(headers, "user-agent") {
        event.push(ecs::USER_AGENT_ORIGINAL, ua);
    }
    let status = response
        .and_then(|r| r.get(if v3 { "http_code" } else { "status" }))
        .and_then(Json::as_i64);
    if let Some(code) = status {
        event.push(ecs::HTTP_RESPONSE_STATUS_CODE, code);
    }

    // Which rules matched.
    let rules = if v3 {
        v3_rules(tx)
    } else {
        object(map, "audit_data")
            .and_then(|a| a.get("messages"))
            .and_then(Json::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(Json::as_str)
                    .filter_map(v2_rule)
                    .take(MAX_RULES)
                    .collect()
            })
            .unwrap_or_default()
    };
    let intercepted = if v3 {
        // libmodsecurity does not log the decision: a 403 (or other 4xx/5xx) from a
        // transaction with matches is the engine's doing.
        status.is_some_and(|s| s >= 400) && !rules.is_empty()
    } else {
        object(map, "audit_data")
            .and_then(|a| object(a, "action"))
            .and_then(|a| a.get("intercepted"))
            .and_then(Json::as_bool)
            .unwrap_or(false)
    };
    if let Some(primary) = primary(&rules) {
        event.push(ecs::RULE_ID, primary.id.as_str());
        if primary.msg.is_empty() {
            event.push(ecs::RULE_NAME, format!("ModSecurity rule {}", primary.id));
        } else {
            event.push(ecs::RULE_NAME, primary.msg.as_str());
        }
        if let Some(attack) = primary.tags.iter().find(|t| t.starts_with("attack-")) {
            event.push(ecs::RULE_CATEGORY, attack.as_str());
        }
        if let Some(sev) = &primary.severity {
            event.push(ecs::EVENT_SEVERITY, sev.as_str());
        }
        if let Some(ruleset) = producer_ruleset(map, tx) {
            event.push("rule.ruleset", ruleset);
        }
        normalize::categorize(
            &mut event,
            "alert",
            &["intrusion_detection", "web"],
            if intercepted {
                &["denied"]
            } else {
                &["allowed"]
            },
        );
        event.push(
            ecs::EVENT_ACTION,
            if intercepted { "blocked" } else { "detected" },
        );
    } else {
        normalize::categorize(&mut event, "event", &["web"], &["access"]);
    }
    push_rules(&mut event, &rules);
    normalize::observer(&mut event, "OWASP", "ModSecurity", "waf");
    Ok(event)
}

fn producer_ruleset(map: &Map<String, Json>, tx: &Map<String, Json>) -> Option<String> {
    let components: Vec<&Json> = match object(tx, "producer") {
        Some(p) => p
            .get("components")
            .and_then(Json::as_array)
            .map(|c| c.iter().collect())
            .unwrap_or_default(),
        None => object(map, "audit_data")
            .and_then(|a| a.get("producer"))
            .and_then(Json::as_array)
            .map(|c| c.iter().collect())
            .unwrap_or_default(),
    };
    components
        .into_iter()
        .filter_map(Json::as_str)
        .find(|c| c.contains("CRS"))
        .map(|c| c.trim_matches('"').to_owned())
}

fn v3_rules(tx: &Map<String, Json>) -> Vec<RuleMatch> {
    let Some(messages) = tx.get("messages").and_then(Json::as_array) else {
        return Vec::new();
    };
    messages
        .iter()
        .filter_map(Json::as_object)
        .filter_map(|m| {
            let details = object(m, "details");
            let id = details
                .and_then(|d| d.get("ruleId"))
                .and_then(scalar_text)?;
            Some(RuleMatch {
                msg: text(m, "message").unwrap_or("").to_owned(),
                severity: details
                    .and_then(|d| d.get("severity"))
                    .and_then(scalar_text),
                tags: details
                    .and_then(|d| d.get("tags"))
                    .and_then(Json::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                data: details.and_then(|d| text(d, "data")).map(str::to_owned),
                id,
            })
        })
        .take(MAX_RULES)
        .collect()
}

/// The `[key "value"]` pairs of a ModSecurity 2 message (values may hold escaped quotes).
fn bracket_pairs(message: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find('[') {
        rest = &rest[start + 1..];
        let Some((key, after)) = rest.split_once(" \"") else {
            break;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(n);
                    }
                }
                '"' if after[i + 1..].starts_with(']') => {
                    end = Some(i + 2);
                    break;
                }
                c => value.push(c),
            }
        }
        let Some(end) = end else { break };
        out.push((key, value));
        rest = &after[end..];
    }
    out
}

fn v2_rule(message: &str) -> Option<RuleMatch> {
    let mut rule = RuleMatch::default();
    for (key, value) in bracket_pairs(message) {
        match key {
            "id" => rule.id = value,
            "msg" => rule.msg = value,
            "severity" => rule.severity = Some(value),
            "tag" => rule.tags.push(value),
            "data" if !value.is_empty() => rule.data = Some(value),
            _ => {}
        }
    }
    (!rule.id.is_empty()).then_some(rule)
}

/// The Core Rule Set's verdict rules (anomaly-score thresholds, correlation), which only
/// sum up the others.
fn is_verdict(id: &str) -> bool {
    ["949", "959", "980"].iter().any(|p| id.starts_with(p)) && id.len() == 6
}

/// A severity's rank, most severe first (numbers 0–7 as CRS writes them, or the words).
fn severity_rank(severity: Option<&str>) -> u8 {
    match severity.map(|s| s.trim().to_ascii_uppercase()) {
        Some(s) => match s.as_str() {
            "0" | "EMERGENCY" => 0,
            "1" | "ALERT" => 1,
            "2" | "CRITICAL" => 2,
            "3" | "ERROR" => 3,
            "4" | "WARNING" => 4,
            "5" | "NOTICE" => 5,
            "6" | "INFO" => 6,
            _ => 7,
        },
        None => 8,
    }
}

/// The rule that says best what happened: the most severe that is not a verdict.
fn primary(rules: &[RuleMatch]) -> Option<&RuleMatch> {
    rules
        .iter()
        .filter(|r| !is_verdict(&r.id))
        .min_by_key(|r| severity_rank(r.severity.as_deref()))
        .or_else(|| rules.first())
}

fn push_rules(event: &mut Event, rules: &[RuleMatch]) {
    if rules.is_empty() {
        return;
    }
    let list = |f: &dyn Fn(&RuleMatch) -> Value| Value::List(rules.iter().map(f).collect());
    event.push(
        "modsecurity.rules.id",
        list(&|r| Value::from(r.id.as_str())),
    );
    event.push(
        "modsecurity.rules.msg",
        list(&|r| Value::from(r.msg.as_str())),
    );
    event.push(
        "modsecurity.rules.severity",
        list(&|r| Value::from(r.severity.as_deref().unwrap_or(""))),
    );
    let mut tags: Vec<Value> = Vec::new();
    for r in rules {
        for t in &r.tags {
            if !tags.iter().any(|v| v.as_text() == t.as_str()) {
                tags.push(Value::from(t.as_str()));
            }
        }
    }
    if !tags.is_empty() {
        event.push("modsecurity.rules.tags", Value::List(tags));
    }
    let data: Vec<Value> = rules
        .iter()
        .filter_map(|r| r.data.as_deref())
        .map(|d| Value::from(normalize::excerpt(d, 512)))
        .collect();
    if !data.is_empty() {
        event.push("modsecurity.rules.data", Value::List(data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3: &str = r#"{"transaction":{"client_ip":"203.0.113.7","time_stamp":"Wed Nov 30 10:09:27 2022","server_id":"6b0a","client_port":51234,"host_ip":"10.0.0.5","host_port":443,"unique_id":"166980296768.012345","request":{"method":"GET","http_version":1.1,"uri":"/board/view.php?id=1%27%20OR%201=1--","headers":{"Host":"www.seoul.go.kr","User-Agent":"sqlmap/1.7"}},"response":{"http_code":403,"headers":{}},"producer":{"modsecurity":"ModSecurity v3.0.8 (Linux)","connector":"ModSecurity-nginx v1.0.3","secrules_engine":"Enabled","components":["OWASP_CRS/3.3.4\""]},"messages":[{"message":"SQL Injection Attack Detected via libinjection","details":{"match":"detected SQLi using libinjection.","reference":"v28,21","ruleId":"942100","file":"/etc/crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf","lineNumber":"46","data":"Matched Data: s&1c found within ARGS:id: 1' OR 1=1--","severity":"2","ver":"OWASP_CRS/3.3.4","rev":"","tags":["application-multi","language-multi","platform-multi","attack-sqli","paranoia-level/1","OWASP_CRS","capec/1000/152/248/66"],"maturity":"0","accuracy":"0"}},{"message":"Inbound Anomaly Score Exceeded (Total Score: 5)","details":{"match":"Matched \"Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `5' )","reference":"","ruleId":"949110","file":"/etc/crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf","lineNumber":"80","data":"","severity":"2","ver":"OWASP_CRS/3.3.4","rev":"","tags":["application-multi","language-multi","platform-multi","attack-generic"],"maturity":"0","accuracy":"0"}}]}}"#;

    const V2: &str = r#"{"transaction":{"time":"30/Nov/2022:10:09:27.123456 +0900","transaction_id":"Y4arBwAAAAEAAAcXm","remote_address":"198.51.100.23","remote_port":40112,"local_address":"10.0.0.6","local_port":80},"request":{"request_line":"GET /search?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1","headers":{"host":"minwon.example.kr","user-agent":"Mozilla/5.0"}},"response":{"protocol":"HTTP/1.1","status":200,"headers":{}},"audit_data":{"messages":["Warning. detected XSS using libinjection. [file \"/usr/share/modsecurity-crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf\"] [line \"55\"] [id \"941100\"] [msg \"XSS Attack Detected via libinjection\"] [data \"Matched Data: XSS data found within ARGS:q: <script>alert(1)</script>\"] [severity \"CRITICAL\"] [ver \"OWASP_CRS/3.3.2\"] [tag \"application-multi\"] [tag \"attack-xss\"] [tag \"OWASP_CRS\"]"],"action":{"intercepted":false},"producer":["ModSecurity for Apache/2.9.3 (http://www.modsecurity.org/)","OWASP_CRS/3.3.2"],"engine_mode":"DETECTION_ONLY"}}"#;

    #[test]
    fn libmodsecurity_3_transaction_is_a_blocked_web_attack() {
        assert!(looks_like_modsecurity(V3));
        let e = ModSecurityParser
            .parse(V3, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        assert_eq!(e.get_str(ecs::RULE_ID), Some("942100"));
        assert_eq!(
            e.get_str(ecs::RULE_NAME),
            Some("SQL Injection Attack Detected via libinjection")
        );
        assert_eq!(e.get_str(ecs::RULE_CATEGORY), Some("attack-sqli"));
        assert_eq!(e.get_str(ecs::EVENT_SEVERITY), Some("2"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("blocked"));
        assert_eq!(e.get_str("rule.ruleset"), Some("OWASP_CRS/3.3.4"));
        assert_eq!(
            e.get(ecs::SOURCE_IP)
                .map(|v| v.as_text().into_owned())
                .as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(e.get_str(ecs::URL_PATH), Some("/board/view.php"));
        assert_eq!(e.get_str(ecs::URL_DOMAIN), Some("www.seoul.go.kr"));
        assert_eq!(e.get_str(ecs::USER_AGENT_ORIGINAL), Some("sqlmap/1.7"));
        assert_eq!(
            e.get(ecs::HTTP_RESPONSE_STATUS_CODE)
                .and_then(Value::as_f64),
            Some(403.0)
        );
        let ids = e.get("modsecurity.rules.id").unwrap();
        assert_eq!(ids.scalars().count(), 2, "every matched rule is kept");
        assert_eq!(e.get_str(ecs::OBSERVER_TYPE), Some("waf"));
    }

    #[test]
    fn modsecurity_2_transaction_in_detection_only_mode_is_detected_not_blocked() {
        assert!(looks_like_modsecurity(V2));
        let e = ModSecurityParser
            .parse(V2, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(e.get_str(ecs::RULE_ID), Some("941100"));
        assert_eq!(e.get_str(ecs::RULE_CATEGORY), Some("attack-xss"));
        assert_eq!(e.get_str(ecs::EVENT_SEVERITY), Some("CRITICAL"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("detected"));
        assert_eq!(e.get_str(ecs::HTTP_REQUEST_METHOD), Some("GET"));
        assert_eq!(e.timestamp.0, 1_669_770_567_123_456_000);
        assert_eq!(
            e.get("modsecurity.rules.data").unwrap().as_text(),
            "Matched Data: XSS data found within ARGS:q: <script>alert(1)</script>"
        );
    }

    #[test]
    fn clean_transactions_are_web_events_and_broken_ones_say_why() {
        let clean = V3.replace(
            &V3[V3.find(",\"messages\"").unwrap()..V3.len() - 2],
            ",\"messages\":[]",
        );
        let e = ModSecurityParser
            .parse(&clean, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
        assert!(e.get(ecs::RULE_ID).is_none());
        let err = ModSecurityParser
            .parse(r#"{"request":{}}"#, &ParseContext::new("t"))
            .unwrap_err();
        assert!(err.0.contains("transaction"), "{}", err.0);
        let err = ModSecurityParser
            .parse(
                &V3.replace("Wed Nov 30 10:09:27 2022", "yesterday"),
                &ParseContext::new("t"),
            )
            .unwrap_err();
        assert!(err.0.contains("time_stamp"), "{}", err.0);
    }
}
