//! `winlog`: Windows events as agents ship them, mapped to the same native and ECS fields
//! as the EVTX parser, so that the Windows Sigma rules evaluate on them.
//!
//! Each layout is rebuilt into the record an EVTX file would hold (`Event.System.*`,
//! `Event.EventData.*`) and handed to [`super::evtx::evtx_record_to_event`]:
//!
//! | layout | recognised by | system fields | event data |
//! |---|---|---|---|
//! | NXLog `im_msvistalog` JSON, and the OTRF Security-Datasets recordings shipped with it | top-level `Channel` and `EventID` | `EventID`, `Channel`, `Hostname`, `SourceName`, `RecordNumber`; time from `@timestamp` (UTC, added by Logstash), else `EventTime` in `parse.timezone` (NXLog writes local time without a zone) | every other top-level field, except the agent's own ([`NXLOG_AGENT_FIELDS`]) |
//! | Winlogbeat (ECS with `winlog.*`) | a `winlog` object with `event_id` | `winlog.event_id`, `channel`, `computer_name`, `provider_name`, `record_id`; time from `@timestamp` | `winlog.event_data` (and `winlog.user_data`) |
//!
//! The agent's own fields are kept beside the rebuilt ones under their names
//! (`EventReceivedTime`, `SourceModuleName`, `Message`, …), so nothing the agent sent is
//! lost. A record with no event id, no channel, or an event id that is not a number is
//! refused with the reason.

use super::evtx::evtx_record_to_event;
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs};
use serde_json::{Map, Value as Json, json};

/// NXLog's own fields (and Logstash's), which are not event data.
pub const NXLOG_AGENT_FIELDS: &[&str] = &[
    "EventTime",
    "EventReceivedTime",
    "Hostname",
    "host",
    "Keywords",
    "EventType",
    "SeverityValue",
    "Severity",
    "SourceName",
    "ProviderGuid",
    "EventID",
    "Version",
    "Task",
    "OpcodeValue",
    "Opcode",
    "RecordNumber",
    "ActivityID",
    "RelatedActivityID",
    "ExecutionProcessID",
    "ThreadID",
    "ExecutionThreadID",
    "Channel",
    "Category",
    "Domain",
    "AccountName",
    "UserID",
    "AccountType",
    "Message",
    "SourceModuleName",
    "SourceModuleType",
    "ERROR_EVT_UNRESOLVED",
    "port",
    "@version",
    "@timestamp",
    "tags",
    "type",
];

pub struct WinlogParser;

impl WinlogParser {
    pub fn new() -> Self {
        WinlogParser
    }
}

impl Default for WinlogParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordParser for WinlogParser {
    fn format(&self) -> Format {
        Format::Winlog
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let map = normalize::json_object(record, "a Windows event")?;
        let event = match map.get("winlog") {
            Some(Json::Object(winlog)) => winlogbeat(&map, winlog, ctx)?,
            _ => nxlog(&map, ctx)?,
        };
        Ok(Some(event))
    }
}

/// Whether a JSON object is a Windows event in one of the agent layouts.
pub fn looks_like_winlog(map: &Map<String, Json>) -> bool {
    (map.contains_key("Channel") && map.contains_key("EventID"))
        || map
            .get("winlog")
            .and_then(Json::as_object)
            .is_some_and(|w| w.contains_key("event_id"))
}

fn event_id(value: Option<&Json>, name: &str) -> Result<Json, ParseError> {
    match value {
        Some(Json::Number(n)) if n.is_u64() => Ok(Json::Number(n.clone())),
        Some(Json::String(s)) if s.trim().parse::<u32>().is_ok() => {
            Ok(json!(s.trim().parse::<u32>().unwrap_or_default()))
        }
        Some(other) => Err(ParseError::new(format!(
            "{name} '{}' is not an event id",
            normalize::excerpt(&other.to_string(), 40)
        ))),
        None => Err(ParseError::new(format!("a Windows event needs {name}"))),
    }
}

fn text<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// The UTC time of `@timestamp`, else of a local `YYYY-MM-DD hh:mm:ss` stamp in the
/// context's zone, as RFC 3339.
fn utc_time(map: &Map<String, Json>, local_key: &str, ctx: &ParseContext) -> Option<String> {
    if let Some(t) = text(map, "@timestamp").and_then(haechi_event::parse_rfc3339) {
        return Some(t.to_datetime().to_rfc3339());
    }
    let local = text(map, local_key)?;
    let naive = chrono::NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    let ts = normalize::zoned_to_utc(ctx, None, &naive)?;
    Some(ts.to_datetime().to_rfc3339())
}

fn system(
    id: Json,
    channel: &str,
    computer: Option<&str>,
    provider: Option<&str>,
    record: Option<&Json>,
    time: Option<String>,
) -> Map<String, Json> {
    let mut s = Map::new();
    s.insert("EventID".into(), id);
    s.insert("Channel".into(), channel.into());
    if let Some(c) = computer {
        s.insert("Computer".into(), c.into());
    }
    if let Some(p) = provider {
        s.insert("Provider_attributes".into(), json!({ "Name": p }));
    }
    if let Some(r) = record {
        s.insert("EventRecordID".into(), r.clone());
    }
    if let Some(t) = time {
        s.insert("TimeCreated_attributes".into(), json!({ "SystemTime": t }));
    }
    s
}

fn nxlog(map: &Map<String, Json>, ctx: &ParseContext) -> Result<Event, ParseError> {
    let id = event_id(map.get("EventID"), "EventID")?;
    let channel =
        text(map, "Channel").ok_or_else(|| ParseError::new("a Windows event needs Channel"))?;
    let computer = text(map, "Hostname").or_else(|| text(map, "host"));
    let time = utc_time(map, "EventTime", ctx).or_else(|| utc_time(map, "EventReceivedTime", ctx));
    let system = system(
        id,
        channel,
        computer,
        text(map, "SourceName"),
        map.get("RecordNumber"),
        time,
    );
    let data: Map<String, Json> = map
        .iter()
        .filter(|(k, _)| !NXLOG_AGENT_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let record = json!({ "Event": { "System": system, "EventData": data } });
    let mut event = evtx_record_to_event(&record, ctx)?;
    keep_agent_fields(&mut event, map, NXLOG_AGENT_FIELDS);
    event.set(ecs::EVENT_MODULE, "windows");
    Ok(event)
}

fn winlogbeat(
    map: &Map<String, Json>,
    winlog: &Map<String, Json>,
    ctx: &ParseContext,
) -> Result<Event, ParseError> {
    let id = event_id(winlog.get("event_id"), "winlog.event_id")?;
    let channel = text(winlog, "channel")
        .ok_or_else(|| ParseError::new("a Windows event needs winlog.channel"))?;
    let time = utc_time(map, "@timestamp", ctx);
    let system = system(
        id,
        channel,
        text(winlog, "computer_name"),
        text(winlog, "provider_name"),
        winlog.get("record_id"),
        time,
    );
    let mut inner = Map::new();
    inner.insert("System".into(), Json::Object(system));
    if let Some(d) = winlog.get("event_data") {
        inner.insert("EventData".into(), d.clone());
    }
    if let Some(u) = winlog.get("user_data") {
        inner.insert("UserData".into(), json!({ "Data": u }));
    }
    let mut event = evtx_record_to_event(&json!({ "Event": inner }), ctx)?;
    if let Some(m) = text(map, "message") {
        event.push(ecs::MESSAGE, m.to_owned());
    }
    event.set(ecs::EVENT_MODULE, "windows");
    Ok(event)
}

/// The agent's scalar fields, under their own names.
fn keep_agent_fields(event: &mut Event, map: &Map<String, Json>, names: &[&'static str]) {
    for name in names {
        if *name == "@timestamp" {
            continue;
        }
        match map.get(*name) {
            Some(Json::String(s)) if !s.is_empty() => event.push(*name, Value::Str(s.clone())),
            Some(Json::Number(n)) => {
                if let Some(i) = n.as_i64() {
                    event.push(*name, Value::Int(i));
                }
            }
            Some(Json::Bool(b)) => event.push(*name, Value::Bool(*b)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_nxlog_sysmon_process_creation_maps_like_evtx() {
        let line = r#"{"EventTime":"2020-09-21 19:35:26","Hostname":"WORKSTATION5.theshire.local","EventID":1,"SourceName":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","RecordNumber":42,"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c whoami","ParentImage":"C:\\Windows\\explorer.exe","ProcessId":"4242","User":"THESHIRE\\pgustavo","@timestamp":"2020-09-21T23:35:27.841Z","SourceModuleType":"im_msvistalog"}"#;
        let e = WinlogParser::new()
            .parse(line, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(
            e.get_str("winlog.channel"),
            Some("Microsoft-Windows-Sysmon/Operational")
        );
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("1"));
        assert_eq!(
            e.get_str(ecs::HOST_NAME),
            Some("WORKSTATION5.theshire.local")
        );
        assert_eq!(
            e.get_str("Event.EventData.CommandLine"),
            Some("cmd.exe /c whoami")
        );
        assert_eq!(
            e.get_str(ecs::PROCESS_COMMAND_LINE),
            Some("cmd.exe /c whoami")
        );
        assert_eq!(e.get_str(ecs::USER_NAME), Some("pgustavo"));
        assert_eq!(e.get_str("SourceModuleType"), Some("im_msvistalog"));
        assert_eq!(
            e.timestamp,
            haechi_event::parse_rfc3339("2020-09-21T23:35:27.841Z").unwrap()
        );
    }

    #[test]
    fn a_winlogbeat_security_logon_maps_like_evtx() {
        let line = r#"{"@timestamp":"2024-05-01T10:00:00.000Z","message":"An account was successfully logged on.","winlog":{"channel":"Security","event_id":"4624","computer_name":"dc01.corp.example","provider_name":"Microsoft-Windows-Security-Auditing","record_id":9001,"event_data":{"TargetUserName":"alice","TargetDomainName":"CORP","LogonType":"10","IpAddress":"203.0.113.7","IpPort":"51234"}},"host":{"name":"dc01"}}"#;
        let e = WinlogParser::new()
            .parse(line, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(e.get_str("winlog.channel"), Some("Security"));
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("4624"));
        assert_eq!(e.get_str(ecs::USER_NAME), Some("alice"));
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(
            e.get(ecs::SOURCE_IP).map(|v| v.as_text().into_owned()),
            Some("203.0.113.7".into())
        );
        assert_eq!(e.get_str("Event.EventData.LogonType"), Some("10"));
    }

    #[test]
    fn a_record_without_an_event_id_is_refused() {
        let err = WinlogParser::new()
            .parse(
                r#"{"Channel":"Security","EventID":"x"}"#,
                &ParseContext::new("t"),
            )
            .unwrap_err();
        assert!(err.0.contains("not an event id"), "{err}");
    }
}
