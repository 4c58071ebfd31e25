//! `evtx`: Windows event logs, from `.evtx` files ([`parse_evtx_file`], with the `evtx`
//! crate) or as records already rendered to JSON lines ([`EvtxJsonParser`], e.g.
//! `evtx_dump -o jsonl`).
//!
//! **Native names.** Every element and attribute of the record is kept, flattened with dots
//! in the form the `evtx` crate renders with separate attributes, which is what Sigma rules
//! (and Hayabusa) match on: `Event.System.EventID`, `Event.System.Channel`,
//! `Event.System.Computer`, `Event.System.Provider_attributes.Name`,
//! `Event.System.TimeCreated_attributes.SystemTime`, `Event.EventData.CommandLine`, … An
//! element's attributes go to `<element>_attributes.<name>` and its text to `<element>`, also
//! when the JSON line came in the other rendering (`{"#attributes": {…}, "#text": …}`), so both
//! give the same names. `EventData` without names keeps its values as the list
//! `Event.EventData.Data`. Only the XML namespace (`Event_attributes.xmlns`, the same on every
//! record) is left out.
//!
//! **ECS.** `@timestamp` from `TimeCreated.SystemTime`; `event.code` (the EventID as text,
//! also when it is an object with qualifiers), `event.provider`, `winlog.channel`,
//! `winlog.provider_name`, `winlog.record_id`, `winlog.computer_name` and `host.name`;
//! from the event data: `user.name`/`user.domain` (TargetUserName, SubjectUserName, User),
//! `process.command_line`, `process.executable`/`name` (Image, NewProcessName, ProcessName),
//! `process.pid` (NewProcessId, ProcessId; hex or decimal), `process.parent.*` (ParentImage,
//! ParentProcessName, ParentCommandLine, ParentProcessId), `source.ip`/`port` (IpAddress,
//! SourceIp, SourceAddress; IpPort, SourcePort) and `destination.ip`/`port` (DestinationIp,
//! DestAddress; DestinationPort, DestPort) when they are IPs and ports; `event.category` for
//! the common logon, process, account, Sysmon network/file/registry events; `event.kind`
//! `event`, `observer.vendor` `Microsoft`, `observer.product` `Windows`, `observer.type` `host`.

use super::json::{Flavor, flatten_json_bytes, flatten_owned};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, FieldName, Timestamp, Value, ecs, parse_rfc3339};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::path::Path;

/// An `.evtx` file starts with these 8 bytes.
pub const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";

/// An EVTX chunk: 64 KiB after the 4 KiB file header.
const CHUNK_SIZE: u64 = 65_536;
const FILE_HEADER_SIZE: u64 = 4_096;

/// Reads every record of an `.evtx` file, in record order, into `sink`: an event, or an
/// error naming the record (or, for a damaged chunk, the chunk) and why. Returns `Err` when
/// the file cannot be opened or is not an EVTX file.
///
/// Chunks are parsed and rendered in parallel on the rayon pool (at most one worker per
/// chunk, so a small file is read inline), and each record is turned into an event on the
/// worker that rendered it.
pub fn parse_evtx_file(
    path: &Path,
    ctx: &ParseContext,
    sink: &mut dyn FnMut(Result<Event, ParseError>),
) -> Result<(), ParseError> {
    let shown = path.display();
    let len = std::fs::metadata(path)
        .map_err(|e| ParseError::new(format!("cannot open EVTX file {shown}: {e}")))?
        .len();
    let chunks = len
        .saturating_sub(FILE_HEADER_SIZE)
        .div_ceil(CHUNK_SIZE)
        .max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let threads = cores.min(chunks) as usize;
    let settings = evtx::ParserSettings::new()
        .num_threads(threads)
        .separate_json_attributes(true)
        .indent(false);
    let mut parser = evtx::EvtxParser::from_path(path)
        .map_err(|e| {
            ParseError::new(format!(
                "{shown} is not a readable EVTX file: {}",
                normalize::error_chain(&e)
            ))
        })?
        .with_configuration(settings);

    let worker_ctx = ctx.clone();
    let records = parser.serialized_records(move |record| {
        let record = record?;
        let id = record.event_record_id;
        let header = RecordHeader {
            time: i64::try_from(record.timestamp.as_nanosecond())
                .ok()
                .map(Timestamp),
            id: Some(id),
        };
        let rendered = record.into_json_bytes()?;
        let mut fields = Vec::with_capacity(48);
        let result = flatten_json_bytes(&rendered.data, Flavor::Evtx, &mut fields)
            .and_then(|()| fields_to_event(fields, &worker_ctx, header));
        Ok(result.map_err(|e| ParseError::new(format!("EVTX record {id}: {e}"))))
    });
    let mut last_id: Option<u64> = None;
    for item in records {
        match item {
            Ok(Ok(event)) => {
                if let Some(Value::Int(id)) = event.get(ecs::WINLOG_RECORD_ID) {
                    last_id = u64::try_from(*id).ok();
                }
                sink(Ok(event));
            }
            Ok(Err(e)) => sink(Err(e)),
            Err(e) => {
                let chain = normalize::error_chain(&e);
                let reason = if chain.contains("record") || chain.contains("chunk") {
                    format!("{shown}: {chain}")
                } else {
                    let after = last_id.map_or_else(
                        || "the first record".to_owned(),
                        |id| format!("record {id}"),
                    );
                    format!("{shown}: EVTX record after {after}: {chain}")
                };
                sink(Err(ParseError::new(reason)));
            }
        }
    }
    Ok(())
}

/// Converts one EVTX record rendered as JSON (`{"Event": {"System": …, "EventData": …}}`,
/// either attribute style) to an event (see the module documentation).
pub fn evtx_record_to_event(json: &Json, ctx: &ParseContext) -> Result<Event, ParseError> {
    if !json.is_object() {
        return Err(ParseError::new(
            "not an EVTX record: expected a JSON object with an \"Event\" element",
        ));
    }
    let mut fields = Vec::with_capacity(48);
    flatten_owned(
        &mut fields,
        &mut String::with_capacity(64),
        json.clone(),
        Flavor::Evtx,
    );
    fields_to_event(fields, ctx, RecordHeader::default())
}

/// What the EVTX record header says, for records whose XML lacks it.
#[derive(Debug, Default, Clone, Copy)]
struct RecordHeader {
    time: Option<Timestamp>,
    id: Option<u64>,
}

/// Parses EVTX records rendered as JSON lines (`evtx_dump -o jsonl`, either attribute style).
#[derive(Debug, Default)]
pub struct EvtxJsonParser;

impl EvtxJsonParser {
    pub fn new() -> Self {
        EvtxJsonParser
    }
}

impl RecordParser for EvtxJsonParser {
    fn format(&self) -> Format {
        Format::Evtx
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = record.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let mut fields = Vec::with_capacity(48);
        flatten_json_bytes(text.as_bytes(), Flavor::Evtx, &mut fields)?;
        fields_to_event(fields, ctx, RecordHeader::default()).map(Some)
    }
}

/// Declares the fields the ECS mapping reads: `system` ones by their full name, `data` ones
/// by their name inside `EventData` (or inside the element of `UserData`). One pass over the
/// fields fills in each slot with the index of the first field of that name.
macro_rules! slots {
    (system { $($s:ident = $sname:literal,)* } data { $($d:ident = $dname:literal,)* }) => {
        #[derive(Default)]
        struct Slots {
            has_event: bool,
            has_system: bool,
            $($s: Option<usize>,)*
            $($d: Option<usize>,)*
        }

        impl Slots {
            fn find(fields: &[(FieldName, Value)]) -> Slots {
                let mut slots = Slots::default();
                for (i, (name, _)) in fields.iter().enumerate() {
                    let name: &str = name;
                    let Some(rest) = name.strip_prefix("Event.") else { continue };
                    slots.has_event = true;
                    if rest.starts_with("System.") {
                        slots.has_system = true;
                        match name {
                            $($sname => { slots.$s.get_or_insert(i); })*
                            _ => {}
                        }
                        continue;
                    }
                    let key = if let Some(key) = rest.strip_prefix("EventData.") {
                        key
                    } else if let Some(inner) = rest.strip_prefix("UserData.") {
                        match inner.split_once('.') {
                            Some((_, key)) => key,
                            None => continue,
                        }
                    } else {
                        continue;
                    };
                    match key {
                        $($dname => { slots.$d.get_or_insert(i); })*
                        _ => {}
                    }
                }
                slots
            }
        }
    };
}

slots! {
    system {
        event_id = "Event.System.EventID",
        provider = "Event.System.Provider_attributes.Name",
        time = "Event.System.TimeCreated_attributes.SystemTime",
        channel = "Event.System.Channel",
        computer = "Event.System.Computer",
        record_id = "Event.System.EventRecordID",
    }
    data {
        target_user = "TargetUserName",
        target_domain = "TargetDomainName",
        subject_user = "SubjectUserName",
        subject_domain = "SubjectDomainName",
        user = "User",
        user_name = "UserName",
        account_name = "AccountName",
        command_line = "CommandLine",
        image = "Image",
        new_process_name = "NewProcessName",
        process_name = "ProcessName",
        new_process_id = "NewProcessId",
        process_id = "ProcessId",
        parent_process_id = "ParentProcessId",
        parent_image = "ParentImage",
        parent_process_name = "ParentProcessName",
        parent_command_line = "ParentCommandLine",
        ip_address = "IpAddress",
        source_ip = "SourceIp",
        source_address = "SourceAddress",
        ip_port = "IpPort",
        source_port = "SourcePort",
        destination_ip = "DestinationIp",
        dest_address = "DestAddress",
        destination_port = "DestinationPort",
        dest_port = "DestPort",
    }
}

/// A process id as Windows writes it: decimal, or hex with `0x`; `0x0` is no process.
fn parse_pid(text: &str) -> Option<i64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
    .filter(|pid| *pid > 0)
}

/// The file name at the end of a Windows or POSIX path.
fn base_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Reads the flattened record by slot and collects the ECS fields.
struct Mapper<'a> {
    fields: &'a [(FieldName, Value)],
    out: Vec<(FieldName, Value)>,
}

impl<'a> Mapper<'a> {
    /// The text of a field: a string, or a number written out.
    fn text(&self, slot: Option<usize>) -> Option<Cow<'a, str>> {
        match &self.fields[slot?].1 {
            Value::Str(s) => Some(Cow::Borrowed(s.as_str())),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(x) => Some(Cow::Owned(x.to_string())),
            _ => None,
        }
    }

    /// The first of `slots` with a meaningful value (`-` and blank mean none).
    fn data(&self, slots: &[Option<usize>]) -> Option<Cow<'a, str>> {
        slots.iter().find_map(|slot| {
            self.text(*slot)
                .filter(|t| !t.trim().is_empty() && t.trim() != "-")
        })
    }

    fn push(&mut self, name: &'static str, value: impl Into<Value>) {
        self.out.push((FieldName::Borrowed(name), value.into()));
    }
}

fn fields_to_event(
    mut fields: Vec<(FieldName, Value)>,
    ctx: &ParseContext,
    header: RecordHeader,
) -> Result<Event, ParseError> {
    let s = Slots::find(&fields);
    if !s.has_event {
        return Err(ParseError::new("not an EVTX record: no \"Event\" element"));
    }
    if !s.has_system {
        return Err(ParseError::new(
            "EVTX record without an Event.System element",
        ));
    }
    let mut m = Mapper {
        fields: &fields,
        out: Vec::with_capacity(24),
    };
    let timestamp = match (m.text(s.time), header.time) {
        (Some(text), _) => parse_rfc3339(&text).ok_or_else(|| {
            ParseError::new(format!(
                "Event.System.TimeCreated SystemTime {text:?} is not an ISO 8601 time"
            ))
        })?,
        (None, Some(t)) => t,
        (None, None) => ctx.received,
    };

    // System
    let code = m.text(s.event_id);
    let channel = m.text(s.channel);
    if let Some(code) = &code {
        m.push(ecs::EVENT_CODE, code.as_ref());
    }
    if let Some(provider) = m.text(s.provider) {
        m.push(ecs::EVENT_PROVIDER, provider.as_ref());
        m.push(ecs::WINLOG_PROVIDER_NAME, provider.as_ref());
    }
    if let Some(channel) = &channel {
        m.push(ecs::WINLOG_CHANNEL, channel.as_ref());
    }
    match m.text(s.record_id) {
        Some(text) => match text.parse::<i64>() {
            Ok(id) => m.push(ecs::WINLOG_RECORD_ID, id),
            Err(_) => m.push(ecs::WINLOG_RECORD_ID, text.as_ref()),
        },
        None => {
            if let Some(id) = header.id.and_then(|id| i64::try_from(id).ok()) {
                m.push(ecs::WINLOG_RECORD_ID, id);
            }
        }
    }
    if let Some(computer) = m.text(s.computer) {
        m.push(ecs::WINLOG_COMPUTER_NAME, computer.as_ref());
        m.push(ecs::HOST_NAME, computer.as_ref());
    }
    map_event_data(&mut m, &s);

    // Categorization from the event id and channel.
    let code_num = code.as_deref().and_then(|c| c.parse::<u32>().ok());
    let sysmon = channel.as_deref() == Some("Microsoft-Windows-Sysmon/Operational");
    let security = channel.as_deref() == Some("Security");
    let category: &'static [&'static str] = match (code_num, sysmon, security) {
        (
            Some(4624 | 4625 | 4634 | 4647 | 4648 | 4672 | 4768 | 4769 | 4771 | 4776 | 4778 | 4779),
            _,
            true,
        ) => &["authentication"],
        (Some(4688 | 4689), _, true) | (Some(1 | 5), true, _) => &["process"],
        (Some(4720..=4767 | 4781 | 4798 | 4799), _, true) => &["iam"],
        (Some(3 | 22), true, _) => &["network"],
        (Some(11 | 15 | 23 | 26), true, _) => &["file"],
        (Some(12..=14), true, _) => &["registry"],
        _ => &[],
    };
    match (code_num, security) {
        (Some(4624), true) => m.push(ecs::EVENT_OUTCOME, "success"),
        (Some(4625 | 4771), true) => m.push(ecs::EVENT_OUTCOME, "failure"),
        _ => {}
    }

    let mut out = m.out;
    fields.append(&mut out);
    let mut event = Event {
        timestamp,
        tenant: ctx.tenant.clone(),
        fields,
    };
    normalize::categorize(&mut event, "event", category, &[]);
    normalize::observer(&mut event, "Microsoft", "Windows", "host");
    Ok(event)
}

/// The ECS fields from the event data (see the module documentation).
fn map_event_data(m: &mut Mapper, s: &Slots) {
    // user: the target of a logon, else the subject, else Sysmon's DOMAIN\user
    if let Some(name) = m.data(&[s.target_user]) {
        m.push(ecs::USER_NAME, name.as_ref());
        if let Some(domain) = m.data(&[s.target_domain]) {
            m.push(ecs::USER_DOMAIN, domain.as_ref());
        }
    } else if let Some(name) = m.data(&[s.subject_user]) {
        m.push(ecs::USER_NAME, name.as_ref());
        if let Some(domain) = m.data(&[s.subject_domain]) {
            m.push(ecs::USER_DOMAIN, domain.as_ref());
        }
    } else if let Some(user) = m.data(&[s.user, s.user_name, s.account_name]) {
        match user.split_once('\\') {
            Some((domain, name)) if !name.is_empty() => {
                m.push(ecs::USER_NAME, name);
                m.push(ecs::USER_DOMAIN, domain);
            }
            _ => m.push(ecs::USER_NAME, user.as_ref()),
        }
    }

    if let Some(cmd) = m.data(&[s.command_line]) {
        m.push(ecs::PROCESS_COMMAND_LINE, cmd.as_ref());
    }
    if let Some(exe) = m.data(&[s.image, s.new_process_name, s.process_name]) {
        m.push(ecs::PROCESS_NAME, base_name(&exe));
        m.push(ecs::PROCESS_EXECUTABLE, exe.as_ref());
    }
    let new_pid = m.data(&[s.new_process_id]).and_then(|t| parse_pid(&t));
    let pid = m.data(&[s.process_id]).and_then(|t| parse_pid(&t));
    match (new_pid, pid) {
        (Some(new), creator) => {
            m.push(ecs::PROCESS_PID, new);
            if let Some(parent) = creator {
                m.push(ecs::PROCESS_PARENT_PID, parent);
            }
        }
        (None, Some(pid)) => m.push(ecs::PROCESS_PID, pid),
        (None, None) => {}
    }
    if new_pid.is_none()
        && let Some(ppid) = m.data(&[s.parent_process_id]).and_then(|t| parse_pid(&t))
    {
        m.push(ecs::PROCESS_PARENT_PID, ppid);
    }
    if let Some(parent) = m.data(&[s.parent_image, s.parent_process_name]) {
        m.push(ecs::PROCESS_PARENT_NAME, base_name(&parent));
        m.push(ecs::PROCESS_PARENT_EXECUTABLE, parent.as_ref());
    }
    if let Some(cmd) = m.data(&[s.parent_command_line]) {
        m.push(ecs::PROCESS_PARENT_COMMAND_LINE, cmd.as_ref());
    }

    let endpoints = [
        (
            [s.ip_address, s.source_ip, s.source_address],
            [s.ip_port, s.source_port],
            ecs::SOURCE_IP,
            ecs::SOURCE_PORT,
        ),
        (
            [s.destination_ip, s.dest_address, None],
            [s.destination_port, s.dest_port],
            ecs::DESTINATION_IP,
            ecs::DESTINATION_PORT,
        ),
    ];
    for (ips, ports, ip_name, port_name) in endpoints {
        if let Some(ip) = m.data(&ips).and_then(|t| normalize::parse_ip(&t)) {
            m.push(ip_name, ip);
            if let Some(port) = m
                .data(&ports)
                .and_then(|t| t.trim().parse::<u16>().ok())
                .filter(|p| *p != 0)
            {
                m.push(port_name, port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const EVTX_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/evtx");

    fn all_evtx_files() -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let entries = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("sample folder {} is missing: {e}", dir.display()));
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|x| x == "evtx") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(Path::new(EVTX_DIR), &mut files);
        files.sort();
        files
    }

    fn parse_file(path: &Path) -> (Vec<Event>, Vec<String>) {
        let ctx = ParseContext::new("t");
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        parse_evtx_file(path, &ctx, &mut |r| match r {
            Ok(e) => events.push(e),
            Err(e) => errors.push(e.0),
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (events, errors)
    }

    /// The number of records the chunk headers of an EVTX file declare (read from the raw
    /// bytes, independently of the `evtx` crate): the sum over chunks with the `ElfChnk` magic
    /// of last − first event record id + 1.
    fn declared_records(path: &Path) -> u64 {
        let bytes = std::fs::read(path).unwrap();
        let mut total = 0;
        let mut offset = FILE_HEADER_SIZE as usize;
        while offset + CHUNK_SIZE as usize <= bytes.len() {
            let chunk = &bytes[offset..];
            if chunk.starts_with(b"ElfChnk\0") {
                let first = u64::from_le_bytes(chunk[24..32].try_into().unwrap());
                let last = u64::from_le_bytes(chunk[32..40].try_into().unwrap());
                if last >= first {
                    total += last - first + 1;
                }
            }
            offset += CHUNK_SIZE as usize;
        }
        total
    }

    fn field<'a>(e: &'a Event, name: &str) -> &'a Value {
        e.get(name).unwrap_or_else(|| panic!("no {name} in {e:?}"))
    }

    fn s(text: &str) -> Value {
        Value::Str(text.to_owned())
    }

    fn find(path: &str, record_id: i64) -> Event {
        let (events, errors) = parse_file(&Path::new(EVTX_DIR).join(path));
        assert!(errors.is_empty(), "{errors:?}");
        events
            .into_iter()
            .find(|e| e.get(ecs::WINLOG_RECORD_ID) == Some(&Value::Int(record_id)))
            .expect("the record")
    }

    #[test]
    fn every_sample_file_yields_one_event_per_record() {
        let files = all_evtx_files();
        assert_eq!(files.len(), 311, "the sample set has 311 .evtx files");
        let mut total = 0;
        let mut problems = Vec::new();
        for file in &files {
            let (events, errors) = parse_file(file);
            let declared = declared_records(file);
            if events.len() as u64 != declared || !errors.is_empty() {
                problems.push(format!(
                    "{}: {} events, {declared} records declared, errors {errors:?}",
                    file.display(),
                    events.len()
                ));
            }
            for e in &events {
                // the native names Sigma rules use, and the ECS names searches use
                let Value::Str(time) = field(e, "Event.System.TimeCreated_attributes.SystemTime")
                else {
                    panic!()
                };
                assert_eq!(Some(e.timestamp), parse_rfc3339(time));
                // (a few files store System values as text: EventID "1116")
                assert!(
                    field(e, "Event.System.EventID").as_f64().is_some(),
                    "{}: {e:?}",
                    file.display()
                );
                assert_eq!(
                    field(e, ecs::EVENT_CODE).to_string(),
                    field(e, "Event.System.EventID").to_string()
                );
                // ECS copies of the System values, where the record has them (a forwarded
                // EventForwarder 111 record has neither Channel nor EventRecordID)
                for (ecs_name, native) in [
                    (ecs::WINLOG_CHANNEL, "Event.System.Channel"),
                    (ecs::HOST_NAME, "Event.System.Computer"),
                    (
                        ecs::WINLOG_PROVIDER_NAME,
                        "Event.System.Provider_attributes.Name",
                    ),
                ] {
                    let want = e.get(native).map(|v| v.to_string());
                    assert_eq!(
                        e.get(ecs_name).map(|v| v.to_string()),
                        want,
                        "{ecs_name} in {}",
                        file.display()
                    );
                }
                // the record id, from the record header where the XML has none
                let id = field(e, ecs::WINLOG_RECORD_ID);
                assert!(matches!(id, Value::Int(_)));
                if let Some(native) = e.get("Event.System.EventRecordID") {
                    assert_eq!(id.to_string(), native.to_string());
                }
                assert_eq!(e.get_str(ecs::EVENT_KIND), Some("event"));
                assert_eq!(e.get_str(ecs::OBSERVER_PRODUCT), Some("Windows"));
            }
            total += events.len();
        }
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(total, 13_129);
    }

    #[test]
    fn process_creation_4688_maps_to_ecs() {
        let e = find(
            "DeepBlueCLI/metasploit-psexec-native-target-security.evtx",
            13678,
        );
        assert_eq!(e.timestamp.to_rfc3339(), "2016-09-21T03:41:02.560546800Z");
        assert_eq!(field(&e, ecs::EVENT_CODE), &s("4688"));
        assert_eq!(
            field(&e, ecs::PROCESS_EXECUTABLE),
            &s("C:\\Windows\\duKhLYUX.exe")
        );
        assert_eq!(field(&e, ecs::PROCESS_NAME), &s("duKhLYUX.exe"));
        assert_eq!(
            field(&e, ecs::PROCESS_COMMAND_LINE),
            &s("C:\\Windows\\duKhLYUX.exe")
        );
        assert_eq!(field(&e, ecs::PROCESS_PID), &Value::Int(0xea0));
        assert_eq!(field(&e, ecs::PROCESS_PARENT_PID), &Value::Int(0x1e8));
        assert_eq!(field(&e, ecs::USER_NAME), &s("IE10WIN7$"));
        assert_eq!(field(&e, ecs::USER_DOMAIN), &s("WORKGROUP"));
        assert_eq!(
            field(&e, ecs::EVENT_CATEGORY),
            &Value::List(vec![s("process")])
        );
        assert_eq!(
            field(&e, "Event.EventData.NewProcessName"),
            &s("C:\\Windows\\duKhLYUX.exe")
        );
        assert_eq!(
            field(&e, "Event.EventData.CommandLine"),
            &s("C:\\Windows\\duKhLYUX.exe")
        );
        assert_eq!(e.get("Event_attributes.xmlns"), None);
    }

    #[test]
    fn failed_logon_4625_maps_to_ecs() {
        let e = find("DeepBlueCLI/smb-password-guessing-security.evtx", 2455);
        assert_eq!(field(&e, ecs::USER_NAME), &s("JcDfcZTc"));
        assert_eq!(
            field(&e, ecs::SOURCE_IP),
            &Value::Ip("192.168.198.149".parse().unwrap())
        );
        assert_eq!(field(&e, ecs::SOURCE_PORT), &Value::Int(50249));
        assert_eq!(field(&e, ecs::EVENT_OUTCOME), &s("failure"));
        assert_eq!(
            field(&e, ecs::EVENT_CATEGORY),
            &Value::List(vec![s("authentication")])
        );
        assert_eq!(e.get(ecs::PROCESS_PID), None, "ProcessId 0x0 is no process");
        assert_eq!(field(&e, "Event.EventData.LogonType"), &Value::Int(3));
    }

    #[test]
    fn sysmon_process_creation_maps_to_ecs() {
        let e = find(
            "EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps/ID11,13,17,18-PSexec as system execution.evtx",
            48593,
        );
        assert_eq!(
            field(&e, ecs::WINLOG_CHANNEL),
            &s("Microsoft-Windows-Sysmon/Operational")
        );
        assert_eq!(
            field(&e, ecs::PROCESS_EXECUTABLE),
            &s("C:\\TOOLS\\PsExec64.exe")
        );
        assert_eq!(
            field(&e, ecs::PROCESS_COMMAND_LINE),
            &s("PsExec64.exe  -i -s cmd")
        );
        assert_eq!(field(&e, ecs::PROCESS_PID), &Value::Int(2124));
        assert_eq!(field(&e, ecs::PROCESS_PARENT_PID), &Value::Int(532));
        assert_eq!(
            field(&e, ecs::PROCESS_PARENT_EXECUTABLE),
            &s("C:\\Windows\\System32\\cmd.exe")
        );
        assert_eq!(
            field(&e, ecs::PROCESS_PARENT_COMMAND_LINE),
            &s("\"C:\\Windows\\system32\\cmd.exe\" ")
        );
        assert_eq!(field(&e, ecs::USER_NAME), &s("admmig"));
        assert_eq!(field(&e, ecs::USER_DOMAIN), &s("OFFSEC"));
        assert_eq!(field(&e, ecs::HOST_NAME), &s("fs03vuln.offsec.lan"));
    }

    #[test]
    fn event_id_with_qualifiers_and_user_data() {
        let e = find("DeepBlueCLI/disablestop-eventlog.evtx", 9253);
        assert_eq!(field(&e, ecs::EVENT_CODE), &s("7040"));
        assert_eq!(field(&e, "Event.System.EventID"), &Value::Int(7040));
        assert_eq!(
            field(&e, "Event.System.EventID_attributes.Qualifiers"),
            &Value::Int(16384)
        );
        assert_eq!(field(&e, "Event.EventData.param3"), &s("disabled"));
        let cleared = find("DeepBlueCLI/eventlog-dac.evtx", 39395);
        assert_eq!(field(&cleared, ecs::EVENT_CODE), &s("1102"));
        assert_eq!(
            field(&cleared, "Event.UserData.LogFileCleared.SubjectUserName"),
            &s("Sec504")
        );
        assert_eq!(field(&cleared, ecs::USER_NAME), &s("Sec504"));
    }

    /// The JSON-lines parser gives the same event as the file reader, for records rendered
    /// with `#attributes`/`#text` objects (evtx_dump's default) as well as with separate
    /// `_attributes` (Hayabusa's).
    #[test]
    fn json_lines_in_either_rendering_match_the_file_reader() {
        let ctx = ParseContext::new("t");
        for rel in [
            "DeepBlueCLI/disablestop-eventlog.evtx",
            "DeepBlueCLI/eventlog-dac.evtx",
            "DeepBlueCLI/new-user-security.evtx",
        ] {
            let path = Path::new(EVTX_DIR).join(rel);
            let (from_file, _) = parse_file(&path);
            for separate in [false, true] {
                let settings = evtx::ParserSettings::new()
                    .num_threads(1)
                    .separate_json_attributes(separate)
                    .indent(false);
                let mut parser = evtx::EvtxParser::from_path(&path)
                    .unwrap()
                    .with_configuration(settings);
                let lines: Vec<String> = parser.records_json().map(|r| r.unwrap().data).collect();
                assert_eq!(lines.len(), from_file.len());
                for (line, want) in lines.iter().zip(&from_file) {
                    let got = EvtxJsonParser::new().parse(line, &ctx).unwrap().unwrap();
                    let sorted = |e: &Event| {
                        let mut f: Vec<String> =
                            e.fields.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
                        f.sort();
                        f
                    };
                    assert_eq!(got.timestamp, want.timestamp);
                    assert_eq!(sorted(&got), sorted(want), "{rel} separate={separate}");
                }
            }
        }
    }

    #[test]
    fn unnamed_event_data_and_errors() {
        let ctx = ParseContext::new("t");
        let line = r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Application Error"}},"EventID":{"#attributes":{"Qualifiers":0},"#text":1000},"TimeCreated":{"#attributes":{"SystemTime":"2024-01-02T03:04:05.123456Z"}},"EventRecordID":77,"Channel":"Application","Computer":"ws1"},"EventData":{"Data":["app.exe","1.0.0.0",{"#text":"x"}],"Binary":"00FF"}}}"##;
        let e = EvtxJsonParser::new().parse(line, &ctx).unwrap().unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2024-01-02T03:04:05.123456Z");
        assert_eq!(field(&e, ecs::EVENT_CODE), &s("1000"));
        assert_eq!(field(&e, "Event.System.EventID"), &Value::Int(1000));
        assert_eq!(
            field(&e, "Event.System.EventID_attributes.Qualifiers"),
            &Value::Int(0)
        );
        assert_eq!(
            field(&e, "Event.System.Provider_attributes.Name"),
            &s("Application Error")
        );
        assert_eq!(
            field(&e, ecs::WINLOG_PROVIDER_NAME),
            &s("Application Error")
        );
        assert_eq!(
            field(&e, "Event.EventData.Data"),
            &Value::List(vec![s("app.exe"), s("1.0.0.0"), s("x")])
        );
        assert_eq!(field(&e, "Event.EventData.Binary"), &s("00FF"));

        let mut p = EvtxJsonParser::new();
        assert_eq!(
            p.parse(r#"{"Record":{}}"#, &ctx).unwrap_err().0,
            "not an EVTX record: no \"Event\" element"
        );
        assert_eq!(
            p.parse(r#"{"Event":{"EventData":{"a":1}}}"#, &ctx)
                .unwrap_err()
                .0,
            "EVTX record without an Event.System element"
        );
        assert!(
            p.parse(r#"{"Event":"#, &ctx)
                .unwrap_err()
                .0
                .starts_with("invalid JSON: EOF while parsing")
        );
        let bad_time =
            r#"{"Event":{"System":{"TimeCreated_attributes":{"SystemTime":"soon"},"EventID":1}}}"#;
        assert_eq!(
            p.parse(bad_time, &ctx).unwrap_err().0,
            "Event.System.TimeCreated SystemTime \"soon\" is not an ISO 8601 time"
        );
    }

    #[test]
    fn files_that_are_not_evtx_are_refused_whole() {
        let ctx = ParseContext::new("t");
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.evtx");
        std::fs::write(
            &text,
            b"this is not an event log, just text long enough to be read",
        )
        .unwrap();
        let err = parse_evtx_file(&text, &ctx, &mut |_| panic!("no records")).unwrap_err();
        assert!(err.0.contains("is not a readable EVTX file"), "{err}");
        let missing = dir.path().join("missing.evtx");
        let err = parse_evtx_file(&missing, &ctx, &mut |_| panic!("no records")).unwrap_err();
        assert!(err.0.starts_with("cannot open EVTX file"), "{err}");
    }
}
