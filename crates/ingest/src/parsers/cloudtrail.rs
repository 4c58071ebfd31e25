//! `cloudtrail`: AWS CloudTrail records, one per line (as EventBridge, CloudWatch Logs or
//! a log shipper forwards them) or many in one record (`{"Records": […]}`, the object
//! CloudTrail delivers to S3, which [`CloudTrailParser::parse_many`] unpacks; whole
//! delivery files and JSON arrays of records are unpacked by the file reader).
//!
//! * **Every field is kept** under its flattened CloudTrail name (`eventName`,
//!   `userIdentity.arn`, `requestParameters.ipPermissions.items.ipRanges.items.cidrIp`):
//!   the Sigma rules for AWS match on these names. `requestParameters` and
//!   `responseElements` larger than [`MAX_PARAMETER_FIELDS`] fields are kept as a
//!   truncated JSON text under their name instead, and the event says so
//!   (`haechi.truncated`), so a huge request cannot blow up an event.
//! * ECS: `eventTime` → `@timestamp`; `eventName` → `event.action`; `eventSource` →
//!   `event.provider`; `errorCode` → `event.outcome: failure` (else success) and
//!   `error.code`/`error.message`; `cloud.provider: aws`, `cloud.region` (`awsRegion`),
//!   `cloud.account.id` (`recipientAccountId`, else the identity's account); `user.name`
//!   (`userIdentity.userName`, else the session issuer's name, else the ARN's last
//!   part), `user.id` (`principalId`); `sourceIPAddress` → `source.ip` when it is an
//!   address, else `source.domain` (an AWS service calling on the user's behalf);
//!   `userAgent` → `user_agent.original`; `event.module: aws`, `event.dataset:
//!   aws.cloudtrail`, `event.kind: event`, `event.category` by service (`iam` →
//!   `iam`, sign-in → `authentication`, …), `event.type` `access` for reads (`readOnly`),
//!   `change` for writes.
//! * A record without `eventSource`, `eventName` or a time (`eventTime`, or `@timestamp`
//!   where a shipper moved it) is refused with the name of what is missing.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs, flatten_json_into, parse_rfc3339};
use serde_json::{Map, Value as Json};

/// `requestParameters` / `responseElements` with more fields than this are kept as text.
pub const MAX_PARAMETER_FIELDS: usize = 512;
/// The longest text kept for such a truncated object.
const MAX_PARAMETER_TEXT: usize = 16 * 1024;

pub struct CloudTrailParser;

impl CloudTrailParser {
    pub fn new() -> Self {
        CloudTrailParser
    }
}

impl Default for CloudTrailParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordParser for CloudTrailParser {
    fn format(&self) -> Format {
        Format::Cloudtrail
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let map = normalize::json_object(record, "a CloudTrail record")?;
        if map.contains_key("Records") {
            return Err(ParseError::new(
                "a CloudTrail delivery object (`Records`) holds many events: read it as a file or with `parse_many`",
            ));
        }
        record_to_event(&map, ctx).map(Some)
    }

    fn parse_many(
        &mut self,
        record: &str,
        ctx: &ParseContext,
        out: &mut dyn FnMut(Result<Event, ParseError>),
    ) {
        match normalize::json_object(record, "a CloudTrail record") {
            Ok(map) => unpack(&map, ctx, out),
            Err(e) => out(Err(e)),
        }
    }
}

/// The events of a record: each of `Records` for a delivery object, else the record.
pub fn unpack(
    map: &Map<String, Json>,
    ctx: &ParseContext,
    out: &mut dyn FnMut(Result<Event, ParseError>),
) {
    match map.get("Records") {
        Some(Json::Array(records)) => {
            for (i, r) in records.iter().enumerate() {
                out(match r {
                    Json::Object(m) => record_to_event(m, ctx)
                        .map_err(|e| ParseError::new(format!("Records[{i}]: {e}"))),
                    _ => Err(ParseError::new(format!(
                        "Records[{i}] is not a JSON object"
                    ))),
                });
            }
        }
        Some(_) => out(Err(ParseError::new("`Records` is not a JSON array"))),
        None => out(record_to_event(map, ctx)),
    }
}

/// Whether a JSON object is a CloudTrail record (or a delivery object of them).
pub fn looks_like_cloudtrail(map: &Map<String, Json>) -> bool {
    if let Some(Json::Array(records)) = map.get("Records") {
        return records
            .first()
            .and_then(Json::as_object)
            .is_some_and(looks_like_cloudtrail);
    }
    map.contains_key("eventSource")
        && map.contains_key("eventName")
        && (map.contains_key("awsRegion") || map.contains_key("eventVersion"))
}

fn text<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// One CloudTrail record as an event.
pub fn record_to_event(map: &Map<String, Json>, ctx: &ParseContext) -> Result<Event, ParseError> {
    // Shippers such as Logstash move `eventTime` to `@timestamp`.
    let time_key = ["eventTime", "@timestamp"]
        .into_iter()
        .find(|k| text(map, k).is_some());
    let missing = ["eventSource", "eventName"]
        .into_iter()
        .filter(|k| text(map, k).is_none())
        .chain(time_key.is_none().then_some("eventTime"))
        .collect::<Vec<_>>();
    if !missing.is_empty() {
        return Err(ParseError::new(format!(
            "a CloudTrail record needs eventTime (or @timestamp), eventSource and eventName (missing: {})",
            missing.join(", ")
        )));
    }
    let time_key = time_key.unwrap_or("eventTime");
    let time_text = text(map, time_key).unwrap_or_default();
    let timestamp = parse_rfc3339(time_text).ok_or_else(|| {
        ParseError::new(format!(
            "{time_key} '{}' is not an RFC 3339 time",
            normalize::excerpt(time_text, 40)
        ))
    })?;
    let mut event = Event::new(timestamp, ctx.tenant.clone(), 48);
    let mut truncated = Vec::new();
    for (key, value) in map {
        if key == "@timestamp" {
            continue;
        }
        match (key.as_str(), value) {
            ("requestParameters" | "responseElements", Json::Object(inner))
                if normalize::json_scalar_count(value, MAX_PARAMETER_FIELDS + 1)
                    > MAX_PARAMETER_FIELDS =>
            {
                let mut text = Json::Object(inner.clone()).to_string();
                let cut = floor_char_boundary(&text, MAX_PARAMETER_TEXT);
                text.truncate(cut);
                event.push(key.clone(), Value::Str(text));
                truncated.push(key.as_str());
            }
            _ => flatten_json_into(&mut event, key, value),
        }
    }
    if !truncated.is_empty() {
        event.push(
            "haechi.truncated",
            Value::List(truncated.iter().map(|k| Value::from(*k)).collect()),
        );
    }
    add_ecs(&mut event, map);
    Ok(event)
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

fn add_ecs(event: &mut Event, map: &Map<String, Json>) {
    let source = text(map, "eventSource").unwrap_or_default().to_owned();
    let name = text(map, "eventName").unwrap_or_default().to_owned();
    event.push(ecs::EVENT_MODULE, "aws");
    event.push(ecs::EVENT_DATASET, "aws.cloudtrail");
    event.push(ecs::EVENT_PROVIDER, source.clone());
    event.push(ecs::EVENT_ACTION, name.clone());
    if let Some(id) = text(map, "eventID") {
        event.push(ecs::EVENT_ID, id.to_owned());
    }
    let failed = text(map, "errorCode").is_some();
    event.push(
        ecs::EVENT_OUTCOME,
        if failed { "failure" } else { "success" },
    );
    if let Some(code) = text(map, "errorCode") {
        event.push("error.code", code.to_owned());
    }
    if let Some(message) = text(map, "errorMessage") {
        event.push("error.message", message.to_owned());
    }
    event.push("cloud.provider", "aws");
    if let Some(region) = text(map, "awsRegion") {
        event.push("cloud.region", region.to_owned());
    }
    let identity = map.get("userIdentity").and_then(Json::as_object);
    let account =
        text(map, "recipientAccountId").or_else(|| identity.and_then(|i| text(i, "accountId")));
    if let Some(a) = account {
        event.push("cloud.account.id", a.to_owned());
    }
    if let Some(i) = identity {
        if let Some(user) = user_name(i) {
            event.push(ecs::USER_NAME, user);
        }
        if let Some(id) = text(i, "principalId") {
            event.push("user.id", id.to_owned());
        }
    }
    if let Some(ip) = text(map, "sourceIPAddress") {
        match normalize::parse_ip(ip) {
            Some(addr) => event.push(ecs::SOURCE_IP, addr),
            None => event.push(ecs::SOURCE_DOMAIN, ip.to_owned()),
        }
    }
    if let Some(agent) = text(map, "userAgent") {
        event.push("user_agent.original", agent.to_owned());
    }
    let read_only = map.get("readOnly").and_then(Json::as_bool).unwrap_or(false)
        || ["Get", "List", "Describe", "Head", "Lookup"]
            .iter()
            .any(|p| name.starts_with(p));
    let kind_type: &'static [&'static str] = if read_only { &["access"] } else { &["change"] };
    normalize::categorize(event, "event", category_of(&source, &name), kind_type);
    event.push(ecs::MESSAGE, format!("{source} {name}"));
}

/// The user an identity names: its user name, the role behind an assumed-role session,
/// else the last part of its ARN.
fn user_name(identity: &Map<String, Json>) -> Option<String> {
    if let Some(u) = text(identity, "userName") {
        return Some(u.to_owned());
    }
    let issuer = identity
        .get("sessionContext")
        .and_then(|s| s.get("sessionIssuer"))
        .and_then(Json::as_object);
    if let Some(u) = issuer.and_then(|i| text(i, "userName")) {
        return Some(u.to_owned());
    }
    text(identity, "arn").and_then(|arn| arn.rsplit(['/', ':']).next().map(str::to_owned))
}

/// ECS `event.category` by the service (and, for sign-in, the call).
fn category_of(source: &str, name: &str) -> &'static [&'static str] {
    let service = source.split('.').next().unwrap_or("");
    match service {
        "signin" => &["authentication"],
        "sts" if name.starts_with("AssumeRole") || name.starts_with("Get") => &["authentication"],
        "iam" | "sso" | "identitystore" | "organizations" | "rolesanywhere" => &["iam"],
        "ec2" | "lambda" | "ssm" | "ecs" | "eks" | "rds" => &["configuration"],
        "s3" => &["file"],
        "cloudtrail" | "logs" | "config" | "guardduty" | "route53resolver" => &["configuration"],
        _ => &["configuration"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::Value;

    fn stratus(name: &str) -> Vec<Json> {
        let path = format!(
            "{}/../../../shared/data/cloud/stratus_red_team/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_stop_logging_record_maps_to_ecs_and_keeps_its_names() {
        let records = stratus("aws.defense-evasion.cloudtrail-stop");
        let ctx = ParseContext::new("seoul");
        let stop = records
            .iter()
            .find(|r| r["eventName"] == "StopLogging")
            .expect("the StopLogging call");
        let mut p = CloudTrailParser::new();
        let e = p.parse(&stop.to_string(), &ctx).unwrap().unwrap();
        assert_eq!(e.get_str("eventName"), Some("StopLogging"));
        assert_eq!(e.get_str("eventSource"), Some("cloudtrail.amazonaws.com"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("StopLogging"));
        assert_eq!(
            e.get_str(ecs::EVENT_PROVIDER),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("aws.cloudtrail"));
        assert_eq!(e.get_str("cloud.provider"), Some("aws"));
        assert_eq!(e.get_str("cloud.region"), Some("apiso-centralnorth-2r"));
        assert_eq!(e.get_str("cloud.account.id"), Some("143434273843"));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert!(e.get_str("requestParameters.name").is_some());
        assert_eq!(
            e.get(ecs::EVENT_TYPE),
            Some(&Value::List(vec![Value::from("change")]))
        );
        assert_eq!(e.timestamp, parse_rfc3339("2024-07-31T13:06:24Z").unwrap());
        assert!(e.get_str(ecs::USER_NAME).is_some(), "{e:?}");
    }

    #[test]
    fn a_delivery_object_unpacks_into_its_records_and_names_a_bad_one() {
        let records = stratus("aws.persistence.iam-backdoor-user");
        let n = records.len();
        let mut list = records.clone();
        list.push(serde_json::json!({"eventSource": "iam.amazonaws.com"}));
        list.push(serde_json::json!(7));
        let delivery = serde_json::json!({ "Records": list }).to_string();
        let mut events = 0;
        let mut errors = Vec::new();
        CloudTrailParser::new().parse_many(&delivery, &ParseContext::new("t"), &mut |r| match r {
            Ok(_) => events += 1,
            Err(e) => errors.push(e.0),
        });
        assert_eq!(events, n);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains(&format!("Records[{n}]")) && errors[0].contains("eventTime"),
            "{errors:?}"
        );
        assert!(errors[1].contains("not a JSON object"), "{errors:?}");
    }

    #[test]
    fn huge_request_parameters_are_kept_as_bounded_text() {
        let items: Vec<Json> = (0..5_000).map(|i| serde_json::json!({ "k": i })).collect();
        let record = serde_json::json!({
            "eventTime": "2024-01-01T00:00:00Z", "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "awsRegion": "us-east-1",
            "requestParameters": { "items": items },
            "sourceIPAddress": "ec2.amazonaws.com",
        });
        let e = CloudTrailParser::new()
            .parse(&record.to_string(), &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        let kept = e.get_str("requestParameters").expect("kept as text");
        assert!(kept.len() <= MAX_PARAMETER_TEXT);
        assert!(
            e.fields.len() < 64,
            "not flattened: {} fields",
            e.fields.len()
        );
        assert_eq!(
            e.get("haechi.truncated"),
            Some(&Value::List(vec![Value::from("requestParameters")]))
        );
        assert_eq!(e.get_str(ecs::SOURCE_DOMAIN), Some("ec2.amazonaws.com"));
    }
}
