//! Cloud and SaaS audit logs as their exports write them, one JSON record per line:
//!
//! | format | records | recognised by (`auto`) | `event.dataset` → Sigma logsource |
//! |---|---|---|---|
//! | `azure` | Azure Monitor diagnostic-settings exports (Event Hub, storage): activity, Entra ID sign-in, audit and risk logs | `operationName` with `category` or `resourceId` | `azure.<service>` → `product: azure`, `service: activitylogs`, `signinlogs`, `auditlogs` or `riskdetection` (by `category`) |
//! | `gcp_audit` | Google Cloud Audit Logs `LogEntry` | `protoPayload` of type `…AuditLog` (or a `cloudaudit.googleapis.com` log name) | `gcp.audit` → `product: gcp`, `service: gcp.audit` |
//! | `m365` | Microsoft 365 unified audit log (Management Activity API) | `CreationTime`, `Operation` and `RecordType` | `m365.audit` (`m365.threat_management` for Security & Compliance alerts) → `product: m365` |
//! | `okta` | Okta System Log events | `eventType`, `actor` and `published` | `okta.system` → `product: okta`, `service: okta` |
//!
//! Every field is kept under its flattened native name (what the SigmaHQ rules of each
//! cloud match on), and the common ones are mapped to ECS: `@timestamp`, `event.action`,
//! `event.outcome`, `user.name`, `source.ip`, `cloud.provider`, and `message`. Where the
//! SigmaHQ rules use other names than the export, those are added too: GCP's
//! `gcp.audit.method_name` and `protoPayload.serviceName` → also `gcp.audit.service_name`;
//! Microsoft 365's `Workload`/`Operation`/`ResultStatus` → also `eventSource`/`eventName`/
//! `status`; Azure's `resultType` → also `ResultType` (the Log Analytics name). A record without the time or the action its cloud always writes is refused
//! with the name of what is missing.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, ecs, flatten_json_into, parse_rfc3339};
use serde_json::{Map, Value as Json};

/// One of the clouds this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Azure,
    Gcp,
    M365,
    Okta,
}

impl Cloud {
    fn format(self) -> Format {
        match self {
            Cloud::Azure => Format::Azure,
            Cloud::Gcp => Format::GcpAudit,
            Cloud::M365 => Format::M365,
            Cloud::Okta => Format::Okta,
        }
    }

    /// Which cloud a JSON record comes from, if any of these.
    pub fn of(map: &Map<String, Json>) -> Option<Cloud> {
        let has = |k: &str| map.contains_key(k);
        if let Some(p) = map.get("protoPayload").and_then(Json::as_object) {
            let audit = p
                .get("@type")
                .and_then(Json::as_str)
                .is_some_and(|t| t.ends_with("AuditLog"));
            let log = map
                .get("logName")
                .and_then(Json::as_str)
                .is_some_and(|l| l.contains("cloudaudit.googleapis.com"));
            if audit || log {
                return Some(Cloud::Gcp);
            }
        }
        if has("eventType") && has("actor") && has("published") {
            return Some(Cloud::Okta);
        }
        if has("CreationTime") && has("Operation") && has("RecordType") {
            return Some(Cloud::M365);
        }
        if has("operationName") && (has("category") || has("resourceId")) {
            return Some(Cloud::Azure);
        }
        None
    }
}

/// Reads one cloud's records.
pub struct CloudAuditParser {
    cloud: Cloud,
}

impl CloudAuditParser {
    pub fn new(cloud: Cloud) -> Self {
        CloudAuditParser { cloud }
    }
}

impl RecordParser for CloudAuditParser {
    fn format(&self) -> Format {
        self.cloud.format()
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let map = normalize::json_object(record, "an audit record")?;
        audit_event(self.cloud, &map, ctx).map(Some)
    }
}

fn text<'a>(map: &'a Map<String, Json>, path: &str) -> Option<&'a str> {
    let mut parts = path.split('.');
    let mut value = map.get(parts.next()?)?;
    for p in parts {
        value = value.get(p)?;
    }
    value.as_str().filter(|s| !s.is_empty())
}

fn required<'a>(
    map: &'a Map<String, Json>,
    cloud: &str,
    keys: &[&str],
) -> Result<&'a str, ParseError> {
    keys.iter().find_map(|k| text(map, k)).ok_or_else(|| {
        ParseError::new(format!(
            "a {cloud} audit record needs {}",
            keys.join(" or ")
        ))
    })
}

fn time(
    map: &Map<String, Json>,
    cloud: &str,
    keys: &[&str],
) -> Result<haechi_event::Timestamp, ParseError> {
    let t = required(map, cloud, keys)?;
    // Microsoft 365 writes `CreationTime` without a zone: it is UTC.
    parse_rfc3339(t)
        .or_else(|| parse_rfc3339(&format!("{t}Z")))
        .ok_or_else(|| {
            ParseError::new(format!(
                "{} '{}' is not an RFC 3339 time",
                keys[0],
                normalize::excerpt(t, 40)
            ))
        })
}

/// An address as clouds write it: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`.
fn client_ip(text: &str) -> Option<std::net::IpAddr> {
    normalize::parse_ip(text).or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

fn audit_event(
    cloud: Cloud,
    map: &Map<String, Json>,
    ctx: &ParseContext,
) -> Result<Event, ParseError> {
    let (name, ts) = match cloud {
        Cloud::Azure => ("Azure", time(map, "Azure", &["time", "TimeGenerated"])?),
        Cloud::Gcp => ("GCP", time(map, "GCP", &["timestamp", "receiveTimestamp"])?),
        Cloud::M365 => (
            "Microsoft 365",
            time(map, "Microsoft 365", &["CreationTime"])?,
        ),
        Cloud::Okta => ("Okta", time(map, "Okta", &["published"])?),
    };
    let mut event = Event::new(ts, ctx.tenant.clone(), 48);
    for (k, v) in map {
        flatten_json_into(&mut event, k, v);
    }
    match cloud {
        Cloud::Azure => azure(&mut event, map, name)?,
        Cloud::Gcp => gcp(&mut event, map, name)?,
        Cloud::M365 => m365(&mut event, map, name)?,
        Cloud::Okta => okta(&mut event, map, name)?,
    }
    Ok(event)
}

fn outcome(event: &mut Event, success: Option<bool>) {
    if let Some(ok) = success {
        event.push(ecs::EVENT_OUTCOME, if ok { "success" } else { "failure" });
    }
}

fn azure(event: &mut Event, map: &Map<String, Json>, name: &str) -> Result<(), ParseError> {
    let action = match map.get("operationName") {
        Some(Json::Object(o)) => o.get("value").and_then(Json::as_str).unwrap_or_default(),
        Some(Json::String(s)) => s.as_str(),
        _ => "",
    };
    if action.is_empty() {
        return Err(ParseError::new(format!(
            "an {name} audit record needs operationName"
        )));
    }
    let category = text(map, "category").unwrap_or("").to_ascii_lowercase();
    let service = match category.as_str() {
        "signinlogs"
        | "noninteractiveusersigninlogs"
        | "serviceprincipalsigninlogs"
        | "managedidentitysigninlogs" => "signinlogs",
        "auditlogs" => "auditlogs",
        "riskyusers" | "userriskevents" | "riskdetection" => "riskdetection",
        _ => "activitylogs",
    };
    event.push(ecs::EVENT_MODULE, "azure");
    event.push(ecs::EVENT_DATASET, format!("azure.{service}"));
    event.push(ecs::EVENT_ACTION, action.to_owned());
    event.push("cloud.provider", "azure");
    let user = [
        "properties.userPrincipalName",
        "identity.claims.name",
        "properties.initiatedBy.user.userPrincipalName",
        "caller",
    ]
    .iter()
    .find_map(|k| text(map, k));
    if let Some(u) = user {
        event.push(ecs::USER_NAME, u.to_owned());
    }
    if let Some(ip) = ["callerIpAddress", "properties.ipAddress"]
        .iter()
        .find_map(|k| text(map, k))
        .and_then(client_ip)
    {
        event.push(ecs::SOURCE_IP, ip);
    }
    // The SigmaHQ rules use the Log Analytics name.
    if event.get("ResultType").is_none()
        && let Some(v) = map.get("resultType").and_then(|v| match v {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        })
    {
        event.push("ResultType", v);
    }
    let result = ["resultType", "ResultType", "resultSignature"]
        .iter()
        .find_map(|k| map.get(*k))
        .map(|v| match v {
            Json::String(s) => s.to_ascii_lowercase(),
            other => other.to_string(),
        });
    outcome(
        event,
        result.map(|r| {
            matches!(
                r.as_str(),
                "0" | "success" | "succeeded" | "start" | "accept"
            )
        }),
    );
    normalize::categorize(event, "event", &["configuration"], &[]);
    event.push(ecs::MESSAGE, action.to_owned());
    Ok(())
}

fn gcp(event: &mut Event, map: &Map<String, Json>, name: &str) -> Result<(), ParseError> {
    let method = required(map, name, &["protoPayload.methodName"])?.to_owned();
    event.push(ecs::EVENT_MODULE, "gcp");
    event.push(ecs::EVENT_DATASET, "gcp.audit");
    event.push(ecs::EVENT_ACTION, method.clone());
    event.push("gcp.audit.method_name", method.clone());
    if let Some(s) = text(map, "protoPayload.serviceName") {
        event.push("gcp.audit.service_name", s.to_owned());
    }
    event.push("cloud.provider", "gcp");
    if let Some(p) = text(map, "resource.labels.project_id") {
        event.push("cloud.project.id", p.to_owned());
    }
    if let Some(u) = text(map, "protoPayload.authenticationInfo.principalEmail") {
        event.push(ecs::USER_NAME, u.to_owned());
    }
    if let Some(ip) = text(map, "protoPayload.requestMetadata.callerIp").and_then(client_ip) {
        event.push(ecs::SOURCE_IP, ip);
    }
    let code = map
        .get("protoPayload")
        .and_then(|p| p.get("status"))
        .and_then(|s| s.get("code"))
        .and_then(Json::as_i64);
    outcome(event, Some(code.unwrap_or(0) == 0));
    normalize::categorize(event, "event", &["configuration"], &[]);
    event.push(ecs::MESSAGE, method);
    Ok(())
}

fn m365(event: &mut Event, map: &Map<String, Json>, name: &str) -> Result<(), ParseError> {
    let operation = required(map, name, &["Operation"])?.to_owned();
    let workload = text(map, "Workload").unwrap_or("").to_owned();
    let dataset = if workload == "SecurityComplianceCenter" {
        "m365.threat_management"
    } else {
        "m365.audit"
    };
    event.push(ecs::EVENT_MODULE, "m365");
    event.push(ecs::EVENT_DATASET, dataset);
    event.push(ecs::EVENT_ACTION, operation.clone());
    event.push("cloud.provider", "azure");
    // The names the SigmaHQ Microsoft 365 rules use.
    event.push("eventName", operation.clone());
    if !workload.is_empty() {
        event.push("eventSource", workload);
    }
    if let Some(s) = text(map, "ResultStatus") {
        event.push("status", s.to_ascii_lowercase());
        let ok = matches!(
            s.to_ascii_lowercase().as_str(),
            "success" | "succeeded" | "true"
        );
        outcome(event, Some(ok));
    }
    if let Some(u) = text(map, "UserId") {
        event.push(ecs::USER_NAME, u.to_owned());
    }
    if let Some(ip) = ["ClientIP", "ClientIPAddress", "ActorIpAddress"]
        .iter()
        .find_map(|k| text(map, k))
        .and_then(client_ip)
    {
        event.push(ecs::SOURCE_IP, ip);
    }
    normalize::categorize(event, "event", &["configuration"], &[]);
    event.push(ecs::MESSAGE, operation);
    Ok(())
}

fn okta(event: &mut Event, map: &Map<String, Json>, name: &str) -> Result<(), ParseError> {
    let event_type = required(map, name, &["eventType"])?.to_owned();
    event.push(ecs::EVENT_MODULE, "okta");
    event.push(ecs::EVENT_DATASET, "okta.system");
    event.push(ecs::EVENT_ACTION, event_type.clone());
    if let Some(u) = text(map, "actor.alternateId") {
        event.push(ecs::USER_NAME, u.to_owned());
    }
    if let Some(ip) = text(map, "client.ipAddress").and_then(client_ip) {
        event.push(ecs::SOURCE_IP, ip);
    }
    if let Some(r) = text(map, "outcome.result") {
        outcome(
            event,
            Some(r.eq_ignore_ascii_case("SUCCESS") || r.eq_ignore_ascii_case("ALLOW")),
        );
    }
    let category: &'static [&'static str] = if event_type.starts_with("user.authentication")
        || event_type.starts_with("user.session")
    {
        &["authentication"]
    } else {
        &["iam"]
    };
    normalize::categorize(event, "event", category, &[]);
    let message = text(map, "displayMessage")
        .map(str::to_owned)
        .unwrap_or(event_type);
    event.push(ecs::MESSAGE, message);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Event {
        let map = match serde_json::from_str::<Json>(line).unwrap() {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        let cloud = Cloud::of(&map).expect("a known cloud");
        CloudAuditParser::new(cloud)
            .parse(line, &ParseContext::new("t"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn an_azure_sign_in_maps_to_ecs_and_its_logsource() {
        // The shape of an Entra ID sign-in as diagnostic settings export it.
        let e = parse(
            r#"{"time":"2024-05-01T10:00:00.0000000Z","resourceId":"/tenants/00000000-0000-0000-0000-000000000001/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","resultType":"50126","resultDescription":"Invalid username or password","callerIpAddress":"203.0.113.7","identity":"Alice","properties":{"userPrincipalName":"alice@example.org","appDisplayName":"Azure Portal","ipAddress":"203.0.113.7","status":{"errorCode":50126}}}"#,
        );
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("azure.signinlogs"));
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("Sign-in activity"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("alice@example.org"));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get_str("properties.appDisplayName"), Some("Azure Portal"));
        assert_eq!(
            e.get(ecs::SOURCE_IP).map(|v| v.as_text().into_owned()),
            Some("203.0.113.7".into())
        );
    }

    #[test]
    fn a_gcp_audit_entry_carries_the_names_the_rules_use() {
        let e = parse(
            r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"iam.googleapis.com","methodName":"google.iam.admin.v1.CreateServiceAccountKey","authenticationInfo":{"principalEmail":"mallory@example.org"},"requestMetadata":{"callerIp":"198.51.100.4"},"status":{}},"insertId":"abc","resource":{"type":"service_account","labels":{"project_id":"city-prod"}},"timestamp":"2024-05-01T10:00:00.123Z","severity":"NOTICE","logName":"projects/city-prod/logs/cloudaudit.googleapis.com%2Factivity"}"#,
        );
        assert_eq!(
            e.get_str("gcp.audit.method_name"),
            Some("google.iam.admin.v1.CreateServiceAccountKey")
        );
        assert_eq!(
            e.get_str("protoPayload.serviceName"),
            Some("iam.googleapis.com")
        );
        assert_eq!(e.get_str(ecs::USER_NAME), Some("mallory@example.org"));
        assert_eq!(e.get_str("cloud.project.id"), Some("city-prod"));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("gcp.audit"));
    }

    #[test]
    fn a_m365_record_gets_the_sigma_names_and_its_zone() {
        let e = parse(
            r#"{"CreationTime":"2024-05-01T10:00:00","Id":"1","Operation":"New-InboxRule","OrganizationId":"org","RecordType":1,"ResultStatus":"True","UserKey":"k","UserType":2,"Version":1,"Workload":"Exchange","ClientIP":"203.0.113.9:51234","UserId":"bob@example.org"}"#,
        );
        assert_eq!(e.timestamp, parse_rfc3339("2024-05-01T10:00:00Z").unwrap());
        assert_eq!(e.get_str("eventName"), Some("New-InboxRule"));
        assert_eq!(e.get_str("eventSource"), Some("Exchange"));
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("m365.audit"));
        assert_eq!(
            e.get(ecs::SOURCE_IP).map(|v| v.as_text().into_owned()),
            Some("203.0.113.9".into())
        );
    }

    #[test]
    fn an_okta_event_maps_actor_client_and_outcome() {
        let e = parse(
            r#"{"uuid":"u1","published":"2024-05-01T10:00:00.000Z","eventType":"user.account.privilege.grant","displayMessage":"Grant user privilege","actor":{"id":"00u1","type":"User","alternateId":"admin@example.org"},"client":{"ipAddress":"192.0.2.55"},"outcome":{"result":"SUCCESS"},"severity":"INFO"}"#,
        );
        assert_eq!(e.get_str("eventType"), Some("user.account.privilege.grant"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("admin@example.org"));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(e.get_str(ecs::MESSAGE), Some("Grant user privilege"));
    }

    #[test]
    fn a_record_without_its_action_is_refused() {
        let err = CloudAuditParser::new(Cloud::Okta)
            .parse(
                r#"{"published":"2024-05-01T10:00:00Z","actor":{}}"#,
                &ParseContext::new("t"),
            )
            .unwrap_err();
        assert!(err.0.contains("eventType"), "{err}");
    }
}
