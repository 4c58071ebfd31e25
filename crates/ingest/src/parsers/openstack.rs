//! `openstack`: the service logs of an OpenStack private cloud (nova, keystone, neutron,
//! glance, cinder…), as `oslo.log` writes them:
//!
//! ```text
//! [file] 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-ID USER PROJECT - - -] 10.11.10.1 "GET /v2/…/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829
//! ```
//!
//! * The time has no zone: it is read in `parse.timezone`. A leading file name (loghub's
//!   samples prefix each line with it) goes to `log.file.path`.
//! * `process.pid`, `log.level`, `log.logger` (the module), `service.name` (its first
//!   part: `nova`, `keystone`, …); the request context gives `openstack.request_id`,
//!   `user.id` and `openstack.project_id`.
//! * API server lines (`…wsgi…`) give `source.ip`, `http.request.method`, `url.original`,
//!   `url.path`, `http.response.status_code`, `http.response.body.bytes`,
//!   `event.duration`, `event.action` (the method) and `event.outcome` (below 400:
//!   success).
//! * `event.module: openstack`, `event.dataset: openstack.<service>`, `cloud.provider:
//!   openstack`; the text after the context is `message`.
//! * CADF audit records (DMTF DSP0262, written by pyCADF): keystone's notifications with
//!   `notification_format = cadf`, the keystonemiddleware audit filter of nova, neutron,
//!   glance and cinder, as JSON lines, bare or inside a notification (`payload`), or as the
//!   message of an oslo.log line (oslo.messaging's `log` driver). Every CADF field is kept
//!   under `cadf.` (`cadf.initiator.id`, `cadf.target.typeURI`); `event.action` (the CADF
//!   action), `event.outcome`, `user.name`/`user.id` (initiator), `source.ip` and
//!   `user_agent.original` (initiator host), `openstack.project_id`, `url.path`
//!   (`requestPath`), `http.response.status_code` (an HTTP reason code), `service.name`
//!   (by the notification's `event_type`: `identity` → `keystone`, else the observer),
//!   `event.dataset: openstack.audit`.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs};

pub struct OpenStackParser;

impl OpenStackParser {
    pub fn new() -> Self {
        OpenStackParser
    }
}

impl Default for OpenStackParser {
    fn default() -> Self {
        Self::new()
    }
}

const LEVELS: &[&str] = &[
    "DEBUG", "INFO", "AUDIT", "WARNING", "ERROR", "CRITICAL", "TRACE",
];

/// `YYYY-MM-DD HH:MM:SS[.fff] PID LEVEL ` at the start of `text`: the stamp and the rest.
fn oslo_head(text: &str) -> Option<(&str, &str, &str, &str)> {
    let b = text.as_bytes();
    let date_ok = b.len() > 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[..4].iter().all(u8::is_ascii_digit);
    if !date_ok {
        return None;
    }
    let mut parts = text.splitn(5, ' ');
    let date = parts.next()?;
    let time = parts.next()?;
    let pid = parts.next()?;
    let level = parts.next()?;
    let rest = parts.next().unwrap_or("");
    if !pid.bytes().all(|c| c.is_ascii_digit()) || !LEVELS.contains(&level) {
        return None;
    }
    let stamp_len = date.len() + 1 + time.len();
    Some((&text[..stamp_len], pid, level, rest))
}

/// Whether a record is an `oslo.log` line (optionally after a file name).
pub fn looks_like_openstack(text: &str) -> bool {
    oslo_head(text).is_some()
        || text
            .split_once(' ')
            .is_some_and(|(first, rest)| first.contains(".log") && oslo_head(rest).is_some())
}

impl RecordParser for OpenStackParser {
    fn format(&self) -> Format {
        Format::OpenStack
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        if record.trim_start().starts_with('{') {
            let map = normalize::json_object(record, "a CADF audit record")?;
            return cadf_event(&map, ctx).map(Some);
        }
        let (file, line) = match oslo_head(record) {
            Some(_) => (None, record),
            None => match record.split_once(' ') {
                Some((f, rest)) if oslo_head(rest).is_some() => (Some(f), rest),
                _ => {
                    return Err(ParseError::new(format!(
                        "expected an oslo.log line (`YYYY-MM-DD HH:MM:SS.fff PID LEVEL module …`), found '{}'",
                        normalize::excerpt(record, 40)
                    )));
                }
            },
        };
        let (stamp, pid, level, rest) = oslo_head(line).unwrap_or_default();
        let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|e| ParseError::new(format!("time '{stamp}': {e}")))?;
        let timestamp = normalize::zoned_to_utc(ctx, None, &naive)
            .ok_or_else(|| ParseError::new(format!("time '{stamp}' does not exist in the zone")))?;
        let (module, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let service = module.split('.').next().unwrap_or(module).to_owned();
        let mut event = Event::new(timestamp, ctx.tenant.clone(), 24);
        if let Some(f) = file {
            event.push(ecs::LOG_FILE_PATH, f.to_owned());
        }
        if let Ok(p) = pid.parse::<i64>() {
            event.push(ecs::PROCESS_PID, p);
        }
        event.push("log.level", level.to_ascii_lowercase());
        event.push("log.logger", module.to_owned());
        event.push("service.name", service.clone());
        let message = match rest.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((context, message)) => {
                request_context(&mut event, context);
                message
            }
            None => rest,
        };
        let web = module.contains("wsgi") && api_request(&mut event, message);
        event.push(ecs::EVENT_MODULE, "openstack");
        event.push(ecs::EVENT_DATASET, format!("openstack.{service}"));
        event.push("cloud.provider", "openstack");
        if web {
            normalize::categorize(&mut event, "event", &["web"], &["access"]);
        } else {
            normalize::categorize(&mut event, "event", &[], &[]);
        }
        // oslo.messaging's `log` notification driver writes the notification as the message.
        if message.starts_with('{') && looks_like_cadf(message) {
            let map = normalize::json_object(message, "a CADF audit notification")?;
            let mut audit = cadf_event(&map, ctx)?;
            for (name, value) in event.fields {
                if audit.get(&name).is_none() && name != ecs::EVENT_KIND {
                    audit.fields.push((name, value));
                }
            }
            return Ok(Some(audit));
        }
        event.push(ecs::MESSAGE, message.to_owned());
        Ok(Some(event))
    }
}

/// The type URI of a CADF event (DMTF DSP0262), as pyCADF writes it.
const CADF_EVENT_URI: &str = "http://schemas.dmtf.org/cloud/audit/1.0/event";

/// Whether a JSON record is a CADF audit event or an OpenStack notification carrying one
/// (keystone with `notification_format = cadf`, the keystonemiddleware audit filter of
/// nova, neutron, glance, cinder).
pub fn looks_like_cadf(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), CADF_EVENT_URI.as_bytes()).is_some()
}

/// Keystone's services by the first word of a notification's `event_type`.
fn service_of_event_type(event_type: &str) -> &str {
    match event_type.split('.').next().unwrap_or("") {
        "identity" => "keystone",
        "compute" => "nova",
        "network" => "neutron",
        "image" => "glance",
        "volume" => "cinder",
        other => other,
    }
}

/// A CADF event (alone, or the `payload` of a notification), with every field kept
/// flattened under `cadf.` and ECS beside it.
fn cadf_event(
    map: &serde_json::Map<String, serde_json::Value>,
    ctx: &ParseContext,
) -> Result<Event, ParseError> {
    use serde_json::Value as Json;
    let (payload, notification) = match map.get("payload") {
        Some(Json::Object(p)) => (p, Some(map)),
        _ => (map, None),
    };
    if payload.get("typeURI").and_then(Json::as_str) != Some(CADF_EVENT_URI) {
        return Err(ParseError::new(format!(
            "not a CADF event: \"typeURI\" is not \"{CADF_EVENT_URI}\""
        )));
    }
    fn text(v: Option<&serde_json::Value>) -> Option<&str> {
        v.and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    }
    let whole = Json::Object(payload.clone());
    let at = |path: &str| text(whole.pointer(path));
    let stamp =
        at("/eventTime").ok_or_else(|| ParseError::new("CADF event without \"eventTime\""))?;
    let timestamp = normalize::parse_iso8601(stamp, ctx).ok_or_else(|| {
        ParseError::new(format!(
            "CADF \"eventTime\" \"{stamp}\" is not an ISO 8601 time"
        ))
    })?;
    let action = at("/action").ok_or_else(|| ParseError::new("CADF event without \"action\""))?;
    let mut event = Event::new(timestamp, ctx.tenant.clone(), 32);
    haechi_event::flatten_json_into(&mut event, "cadf", &whole);
    let event_type = notification.and_then(|n| text(n.get("event_type")));
    let service = match event_type {
        Some(t) => service_of_event_type(t).to_owned(),
        None => at("/observer/typeURI")
            .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
            .unwrap_or_else(|| "audit".into()),
    };
    if let Some(n) = notification {
        for key in ["event_type", "publisher_id", "priority", "message_id"] {
            if let Some(v) = text(n.get(key)) {
                event.push(format!("openstack.notification.{key}"), v.to_owned());
            }
        }
    }
    event.push(ecs::EVENT_MODULE, "openstack");
    event.push(ecs::EVENT_DATASET, "openstack.audit");
    event.push("service.name", service);
    event.push("cloud.provider", "openstack");
    event.push(ecs::EVENT_ACTION, action.to_owned());
    match at("/outcome") {
        Some("success") => event.push(ecs::EVENT_OUTCOME, "success"),
        Some("failure") => event.push(ecs::EVENT_OUTCOME, "failure"),
        Some(_) => event.push(ecs::EVENT_OUTCOME, "unknown"),
        None => {}
    }
    let authentication = action.starts_with("authenticate");
    if authentication {
        normalize::categorize(&mut event, "event", &["authentication"], &["start"]);
    } else {
        normalize::categorize(&mut event, "event", &["configuration"], &["info"]);
    }
    if let Some(name) = at("/initiator/name").or_else(|| at("/initiator/username")) {
        event.push(ecs::USER_NAME, name.to_owned());
    }
    if let Some(id) = at("/initiator/id") {
        event.push("user.id", id.to_owned());
    }
    if let Some(project) = at("/initiator/project_id") {
        event.push("openstack.project_id", project.to_owned());
    }
    if let Some(ip) = at("/initiator/host/address") {
        normalize::push_ip(&mut event, ecs::SOURCE_IP, ip);
    }
    if let Some(agent) = at("/initiator/host/agent") {
        event.push(ecs::USER_AGENT_ORIGINAL, agent.to_owned());
    }
    if let Some(path) = at("/requestPath") {
        event.push(ecs::URL_PATH, path.to_owned());
    }
    if let Some(code) = at("/reason/reasonCode").and_then(|c| c.parse::<i64>().ok()) {
        event.push("http.response.status_code", code);
    }
    Ok(event)
}

/// `req-ID USER PROJECT DOMAIN USER_DOMAIN PROJECT_DOMAIN` (`-` for none).
fn request_context(event: &mut Event, context: &str) {
    let mut parts = context.split(' ');
    if let Some(id) = parts.next().filter(|p| p.starts_with("req-")) {
        event.push("openstack.request_id", id.to_owned());
        if let Some(user) = parts.next().filter(|u| *u != "-") {
            event.push("user.id", user.to_owned());
        }
        if let Some(project) = parts.next().filter(|p| *p != "-") {
            event.push("openstack.project_id", project.to_owned());
        }
    }
}

/// `CLIENT "METHOD PATH HTTP/x" status: N len: N time: F`; false when it is not one.
fn api_request(event: &mut Event, message: &str) -> bool {
    let Some((client, rest)) = message.split_once(" \"") else {
        return false;
    };
    let Some((request, tail)) = rest.split_once("\" ") else {
        return false;
    };
    let mut req = request.split(' ');
    let (Some(method), Some(path)) = (req.next(), req.next()) else {
        return false;
    };
    normalize::push_ip(event, ecs::SOURCE_IP, client);
    event.push("http.request.method", method.to_owned());
    event.push(ecs::EVENT_ACTION, method.to_owned());
    event.push(ecs::URL_ORIGINAL, path.to_owned());
    event.push(
        ecs::URL_PATH,
        path.split_once('?').map_or(path, |(p, _)| p).to_owned(),
    );
    let mut words = tail.split_whitespace();
    while let Some(w) = words.next() {
        let value = words.next();
        match (w, value) {
            ("status:", Some(v)) => {
                if let Ok(code) = v.parse::<i64>() {
                    event.push("http.response.status_code", code);
                    event.push(
                        ecs::EVENT_OUTCOME,
                        if code < 400 { "success" } else { "failure" },
                    );
                }
            }
            ("len:", Some(v)) => {
                if let Ok(n) = v.parse::<i64>() {
                    event.push("http.response.body.bytes", n);
                }
            }
            ("time:", Some(v)) => {
                if let Ok(secs) = v.parse::<f64>() {
                    event.push(ecs::EVENT_DURATION, Value::Int((secs * 1e9) as i64));
                }
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built from the keystone documentation's CADF notification and the pyCADF event
    /// specification (no public CADF sample file exists; see `shared/data/cloud/SOURCE.md`).
    const KEYSTONE_AUTH_FAILURE: &str = r#"{"event_type":"identity.authenticate","message_id":"1371a590-d5fd-448f-b3bb-a14dead6f4cb","payload":{"typeURI":"http://schemas.dmtf.org/cloud/audit/1.0/event","initiator":{"typeURI":"service/security/account/user","host":{"agent":"python-keystoneclient","address":"203.0.113.50"},"id":"openstack:1c2fc591-facb-4479-a327-520dade1ea15","name":"admin"},"target":{"typeURI":"service/security/account/user","id":"openstack:3d4a50a9-2b59-438b-bf19-c231f9c7625a"},"observer":{"typeURI":"service/security","id":"openstack:3d4a50a9-2b59-438b-bf19-c231f9c7625a"},"eventType":"activity","eventTime":"2026-05-16T00:00:01.932842+0000","action":"authenticate","outcome":"failure","id":"openstack:f5352d7b-bee6-4c22-8213-450e7b646e9f","requestPath":"/v3/auth/tokens"},"priority":"INFO","publisher_id":"identity.keystone-1","timestamp":"2026-05-16 00:00:01.934"}"#;

    #[test]
    fn keystone_cadf_notifications_map_to_ecs() {
        let ctx = ParseContext::new("t");
        assert_eq!(
            crate::detect::detect_record(KEYSTONE_AUTH_FAILURE),
            Format::OpenStack
        );
        let e = OpenStackParser::new()
            .parse(KEYSTONE_AUTH_FAILURE, &ctx)
            .unwrap()
            .unwrap();
        assert_eq!(e.get_str(ecs::EVENT_ACTION), Some("authenticate"));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("admin"));
        assert_eq!(e.get_str("service.name"), Some("keystone"));
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("openstack.audit"));
        assert_eq!(
            e.get(ecs::SOURCE_IP).map(|v| v.as_text().into_owned()),
            Some("203.0.113.50".into())
        );
        assert_eq!(
            e.get_str("cadf.target.typeURI"),
            Some("service/security/account/user")
        );
        assert_eq!(
            e.get_str("openstack.notification.publisher_id"),
            Some("identity.keystone-1")
        );
        assert_eq!(e.timestamp.0, 1_778_889_601_932_842_000);

        // The same notification as oslo.messaging's log driver writes it.
        let line = format!(
            "2026-05-16 00:00:01.934 4242 INFO oslo.messaging.notification.identity.authenticate [-] {KEYSTONE_AUTH_FAILURE}"
        );
        assert!(looks_like_openstack(&line));
        let e = OpenStackParser::new().parse(&line, &ctx).unwrap().unwrap();
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get(ecs::PROCESS_PID), Some(&Value::Int(4242)));

        // A bare CADF event from the audit middleware of nova.
        let nova = r#"{"typeURI":"http://schemas.dmtf.org/cloud/audit/1.0/event","id":"openstack:a1","eventType":"activity","eventTime":"2026-05-16T00:00:02.000000+0000","action":"delete","outcome":"success","initiator":{"typeURI":"service/security/account/user","id":"u1","name":"ops","project_id":"p1","host":{"address":"10.20.0.4","agent":"python-novaclient"}},"target":{"typeURI":"service/compute/servers/server","id":"s1"},"observer":{"typeURI":"service/compute","id":"target"},"reason":{"reasonCode":"204","reasonType":"HTTP"},"requestPath":"/v2.1/servers/s1"}"#;
        let e = OpenStackParser::new().parse(nova, &ctx).unwrap().unwrap();
        assert_eq!(e.get_str("service.name"), Some("compute"));
        assert_eq!(e.get_str("openstack.project_id"), Some("p1"));
        assert_eq!(e.get("http.response.status_code"), Some(&Value::Int(204)));

        let err = OpenStackParser::new()
            .parse(
                &nova.replace("\"eventTime\":\"2026-05-16T00:00:02.000000+0000\",", ""),
                &ctx,
            )
            .unwrap_err();
        assert!(err.0.contains("eventTime"), "{}", err.0);
    }

    #[test]
    fn a_nova_api_line_of_the_loghub_sample_maps_to_ecs() {
        let path = format!(
            "{}/../../../shared/data/cloud/loghub_openstack/OpenStack_2k.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let mut p = OpenStackParser::new();
        let ctx = ParseContext::new("t");
        let events: Vec<Event> = text
            .lines()
            .map(|l| {
                p.parse(l, &ctx)
                    .unwrap_or_else(|e| panic!("{l}: {e}"))
                    .unwrap()
            })
            .collect();
        assert_eq!(events.len(), text.lines().count());
        let e = &events[0];
        assert_eq!(e.get_str("service.name"), Some("nova"));
        assert_eq!(e.get_str("http.request.method"), Some("GET"));
        assert_eq!(e.get("http.response.status_code"), Some(&Value::Int(200)));
        assert_eq!(
            e.get_str("user.id"),
            Some("113d3a99c3da401fbd62cc2caa5b96d2")
        );
        assert_eq!(
            e.get_str("openstack.project_id"),
            Some("54fadb412c4e40cdbaed9335e4c35a9e")
        );
        assert_eq!(
            e.get(ecs::SOURCE_IP).map(|v| v.as_text().into_owned()),
            Some("10.11.10.1".into())
        );
        assert_eq!(
            e.get_str(ecs::LOG_FILE_PATH),
            Some("nova-api.log.1.2017-05-16_13:53:08")
        );
        assert!(looks_like_openstack(text.lines().next().unwrap()));
        assert!(!looks_like_openstack("2017-05-16 00:00:00 not a level"));
        let warnings = events
            .iter()
            .filter(|e| e.get_str("log.level") == Some("warning"))
            .count();
        assert_eq!(
            warnings,
            text.lines().filter(|l| l.contains(" WARNING ")).count()
        );
    }
}
