//! `--format auto`: guessing the format of each record with cheap byte checks.
//!
//! [`detect_record`] looks at the start of a record (and, for JSON, at a few key names):
//!
//! | the record | format |
//! |---|---|
//! | a Zeek header line (`#separator`, `#fields`, `#types`, `#path`, …) | `zeek`, and every later record of the stream too |
//! | `{"Event":` | `evtx` (a record rendered as JSON) |
//! | `{` with `"event_type"` and `"timestamp"` | `suricata` |
//! | `{` with `"_path"`, or with `"ts"` and `"uid"` | `zeek` (JSON) |
//! | `{"Records"`, or `{` with `"eventSource"`, `"eventName"` and `"awsRegion"` or `"eventVersion"` | `cloudtrail` |
//! | `{` with `"apiVersion":"audit.k8s.io/…`, or with `"auditID"` and `"verb"` | `k8s_audit` |
//! | `{` with `"Channel"` and `"EventID"` (NXLog, OTRF), or `"winlog"` and `"event_id"` (Winlogbeat) | `winlog` |
//! | `{` with `"protoPayload"` | `gcp_audit` |
//! | `{` with `"eventType"`, `"actor"` and `"published"` | `okta` |
//! | `{` with `"CreationTime"`, `"Operation"` and `"RecordType"` | `m365` |
//! | `{` with `"operationName"` and `"category"` or `"resourceId"` | `azure` |
//! | any other `{` | `json` |
//! | `CEF:` / `LEEF:` | `cef` / `leef` |
//! | `<PRI>` (one to three digits) | `syslog` (which itself reads CEF, LEEF and key=value payloads) |
//! | `YYYY-MM-DD HH:MM:SS.fff PID LEVEL module` (optionally after a file name) | `openstack` |
//! | `host ident user [time] "` | `clf` |
//! | `Mmm dd hh:mm:ss ` (BSD syslog without PRI) | `syslog` |
//! | several `key=value` pairs from the start | `kv` |
//! | anything else | `raw` |
//!
//! [`AutoParser`] applies it per record and keeps one parser per format for the stream, so
//! that stateful parsers (Zeek's header) keep their state. [`is_evtx_file`] tells an EVTX
//! file by its magic.

use crate::parsers::{self, raw::RawParser};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::Event;

/// Whether a file starting with these bytes is an EVTX file (magic `ElfFile\0`).
pub fn is_evtx_file(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(parsers::evtx::EVTX_MAGIC)
}

/// The format one record looks like (see the module documentation). Never `Auto`.
pub fn detect_record(record: &str) -> Format {
    let text = record.trim_start_matches('\u{feff}').trim_start();
    let bytes = text.as_bytes();
    match bytes.first() {
        None => Format::Raw,
        Some(b'#') if is_zeek_header(text) => Format::Zeek,
        Some(b'{') => detect_json(text),
        Some(b'<') if syslog_pri_len(bytes).is_some() => Format::Syslog,
        Some(b'<') if crate::parsers::winlog::looks_like_event_xml(text) => Format::Winlog,
        _ if text.starts_with("CEF:") => Format::Cef,
        _ if text.starts_with("LEEF:") => Format::Leef,
        _ if crate::parsers::openstack::looks_like_openstack(text) => Format::OpenStack,
        _ if looks_like_clf(text) => Format::Clf,
        _ if looks_like_bsd_stamp(bytes) => Format::Syslog,
        _ if looks_like_kv(text) => Format::Kv,
        _ => Format::Raw,
    }
}

const ZEEK_HEADERS: &[&str] = &[
    "#separator",
    "#set_separator",
    "#empty_field",
    "#unset_field",
    "#path",
    "#open",
    "#fields",
    "#types",
    "#close",
];

fn is_zeek_header(text: &str) -> bool {
    ZEEK_HEADERS.iter().any(|h| {
        text.strip_prefix(h)
            .is_some_and(|rest| rest.starts_with([' ', '\t']) || rest.starts_with("\\x"))
    })
}

fn detect_json(text: &str) -> Format {
    let inner = text[1..].trim_start();
    if let Some(rest) = inner.strip_prefix("\"Event\"")
        && rest.trim_start().starts_with(':')
    {
        return Format::Evtx;
    }
    let has = |needle: &str| memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some();
    if crate::parsers::tshark::looks_like_ek(inner) {
        return Format::Tshark;
    }
    if crate::parsers::openstack::looks_like_cadf(text) {
        return Format::OpenStack;
    }
    if inner.starts_with("\"transaction\"")
        && crate::parsers::modsecurity::looks_like_modsecurity(text)
    {
        return Format::ModSecurity;
    }
    if inner.starts_with("\"Records\"")
        || (has("\"eventSource\"")
            && has("\"eventName\"")
            && (has("\"awsRegion\"") || has("\"eventVersion\"")))
    {
        Format::Cloudtrail
    } else if has("\"audit.k8s.io/") || (has("\"auditID\"") && has("\"verb\"")) {
        Format::K8sAudit
    } else if (has("\"Channel\"") && has("\"EventID\""))
        || (has("\"winlog\"") && has("\"event_id\""))
    {
        Format::Winlog
    } else if has("\"protoPayload\"") {
        Format::GcpAudit
    } else if has("\"eventType\"") && has("\"actor\"") && has("\"published\"") {
        Format::Okta
    } else if has("\"CreationTime\"") && has("\"Operation\"") && has("\"RecordType\"") {
        Format::M365
    } else if has("\"operationName\"") && (has("\"category\"") || has("\"resourceId\"")) {
        Format::Azure
    } else if has("\"event_type\"") && has("\"timestamp\"") {
        Format::Suricata
    } else if has("\"_path\"") || (has("\"ts\"") && has("\"uid\"")) {
        Format::Zeek
    } else {
        Format::Json
    }
}

/// The length of a leading `<PRI>` (`<` one to three digits `>`).
fn syslog_pri_len(bytes: &[u8]) -> Option<usize> {
    let digits = bytes
        .get(1..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    ((1..=3).contains(&digits) && bytes.get(1 + digits) == Some(&b'>')).then_some(digits + 2)
}

/// `host ident user [time] "…`: Apache/nginx common and combined logs.
fn looks_like_clf(text: &str) -> bool {
    let mut rest = text;
    for i in 0..3 {
        let Some(space) = rest.find(' ') else {
            return false;
        };
        let token = &rest[..space];
        let ok = !token.is_empty()
            && (i > 0
                || token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".:-_[]".contains(&b)));
        if !ok {
            return false;
        }
        rest = &rest[space + 1..];
    }
    rest.starts_with('[') && rest.find("] \"").is_some_and(|i| i < 64)
}

/// `Mmm dd hh:mm:ss ` (RFC 3164 time stamp, day space-padded or not, optional fraction).
fn looks_like_bsd_stamp(b: &[u8]) -> bool {
    if b.len() < 15 || b[3] != b' ' || !b[..3].iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let Some(month) = std::str::from_utf8(&b[..3]).ok() else {
        return false;
    };
    if normalize::month_number(month).is_none() {
        return false;
    }
    // day: " 9", "09" or "9"
    let mut i = 4;
    if b[i] == b' ' {
        i += 1;
    }
    let day_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&day_digits) {
        return false;
    }
    i += day_digits;
    if b.get(i) != Some(&b' ') {
        return false;
    }
    i += 1;
    let time = match b.get(i..i + 8) {
        Some(t) => t,
        None => return false,
    };
    let shape = time.iter().enumerate().all(|(k, c)| {
        if k == 2 || k == 5 {
            *c == b':'
        } else {
            c.is_ascii_digit()
        }
    });
    shape && matches!(b.get(i + 8), Some(b' ' | b'.'))
}

/// Several `key=value` pairs from the start of the line (values plain or double-quoted):
/// three, or two when they are the whole line.
fn looks_like_kv(text: &str) -> bool {
    let mut rest = text;
    let mut pairs = 0;
    loop {
        let bytes = rest.as_bytes();
        let starts_well = bytes
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        let key_len = bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
            .count();
        if !starts_well || bytes.get(key_len) != Some(&b'=') {
            return false;
        }
        rest = &rest[key_len + 1..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut end = None;
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let Some(end) = end else { return false };
            rest = &quoted[end + 1..];
        } else {
            rest = &rest[rest.find(' ').unwrap_or(rest.len())..];
        }
        pairs += 1;
        if pairs >= 3 {
            return true;
        }
        let trimmed = rest.trim_start_matches(' ');
        if trimmed.is_empty() {
            return pairs >= 2;
        }
        if trimmed.len() == rest.len() {
            return false; // a quoted value not followed by a space
        }
        rest = trimmed;
    }
}

/// Picks the format per record and keeps one parser per format for the stream.
pub struct AutoParser {
    parsers: Vec<(Format, Box<dyn RecordParser>)>,
    /// A Zeek TSV header was seen: the rest of the stream is Zeek.
    zeek_stream: bool,
    last: Format,
}

impl Default for AutoParser {
    fn default() -> Self {
        Self::new()
    }
}

impl AutoParser {
    pub fn new() -> Self {
        AutoParser {
            parsers: Vec::with_capacity(4),
            zeek_stream: false,
            last: Format::Auto,
        }
    }

    fn parser(&mut self, format: Format) -> &mut dyn RecordParser {
        let index = match self.parsers.iter().position(|(f, _)| *f == format) {
            Some(i) => i,
            None => {
                let parser: Box<dyn RecordParser> = if format == Format::Raw {
                    Box::new(RawParser)
                } else {
                    parsers::new_parser(format)
                };
                self.parsers.push((format, parser));
                self.parsers.len() - 1
            }
        };
        self.parsers[index].1.as_mut()
    }
}

impl RecordParser for AutoParser {
    /// The format of the last record (`Auto` before the first).
    fn format(&self) -> Format {
        self.last
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let format = if self.zeek_stream {
            Format::Zeek
        } else {
            let format = detect_record(record);
            if format == Format::Zeek && record.trim_start().starts_with('#') {
                self.zeek_stream = true;
            }
            format
        };
        self.last = format;
        self.parser(format).parse(record, ctx)
    }

    fn parse_many(
        &mut self,
        record: &str,
        ctx: &ParseContext,
        out: &mut dyn FnMut(Result<Event, ParseError>),
    ) {
        let format = if self.zeek_stream {
            Format::Zeek
        } else {
            detect_record(record)
        };
        match format {
            Format::Cloudtrail | Format::K8sAudit => {
                self.last = format;
                self.parser(format).parse_many(record, ctx, out);
            }
            _ => match self.parse(record, ctx) {
                Ok(Some(event)) => out(Ok(event)),
                Ok(None) => {}
                Err(e) => out(Err(e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/logs/");
    const EVTX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/evtx/");

    fn lines(rel: &str) -> Vec<String> {
        let path = format!("{LOGS}{rel}");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("sample file {path} is missing: {e}"));
        text.lines().map(str::to_owned).collect()
    }

    /// The files of a sample folder whose names end with `suffix`; a missing folder fails.
    fn files_in(dir: &str, suffix: &str) -> Vec<String> {
        let path = format!("{LOGS}{dir}");
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("sample folder {path} is missing: {e}"))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(suffix))
            .map(|name| format!("{dir}/{name}"))
            .collect();
        names.sort();
        assert!(!names.is_empty(), "no *{suffix} in {path}");
        names
    }

    #[test]
    fn real_sample_files_are_detected() {
        let mut cases: Vec<(String, Format)> = vec![
            ("loghub/Linux_2k.log".into(), Format::Syslog),
            ("loghub/OpenSSH_2k.log".into(), Format::Syslog),
            ("auth/soc-zeek-lab_auth.log".into(), Format::Syslog),
            ("loghub/Apache_2k.log".into(), Format::Raw),
            ("loghub/HDFS_2k.log".into(), Format::Raw),
        ];
        cases.extend(
            files_in("suricata", ".json")
                .into_iter()
                .map(|f| (f, Format::Suricata)),
        );
        cases.extend(
            files_in("zeek/brimdata-wrccdc2018", ".json")
                .into_iter()
                .map(|f| (f, Format::Zeek)),
        );
        cases.extend(
            files_in("access_logs", ".log")
                .into_iter()
                .map(|f| (f, Format::Clf)),
        );
        assert_eq!(cases.len(), 5 + 2 + 2 + 1);
        for (file, want) in &cases {
            for (i, line) in lines(file).iter().take(50).enumerate() {
                assert_eq!(detect_record(line), *want, "{file}:{}: {line}", i + 1);
            }
        }
        let mut zeek_tsv = files_in("zeek/soc-zeek-lab", ".log");
        zeek_tsv.extend(files_in("zeek/brimdata-wrccdc2018", ".log"));
        assert_eq!(zeek_tsv.len(), 9 + 5);
        for file in &zeek_tsv {
            let lines = lines(file);
            assert_eq!(
                detect_record(&lines[0]),
                Format::Zeek,
                "{file}: {}",
                lines[0]
            );
            // a data line alone is tab-separated text: only the header makes it Zeek
            assert_eq!(
                detect_record(&lines[8]),
                Format::Raw,
                "{file}: {}",
                lines[8]
            );
        }
    }

    #[test]
    fn whole_sample_files_parse_through_auto() {
        let ctx = ParseContext::new("t");
        for (file, want, events) in [
            ("suricata/mssis_eve.json", Format::Suricata, 235),
            ("zeek/brimdata-wrccdc2018/notice.log", Format::Zeek, 207),
            ("zeek/brimdata-wrccdc2018/ssh.json", Format::Zeek, 22),
            (
                "access_logs/elastic_examples_apache_access_2015.log",
                Format::Clf,
                10_000,
            ),
        ] {
            let mut auto = AutoParser::new();
            assert_eq!(auto.format(), Format::Auto);
            let mut count = 0;
            for (i, line) in lines(file).iter().enumerate() {
                match auto.parse(line, &ctx) {
                    Ok(Some(_)) => count += 1,
                    Ok(None) => {}
                    Err(e) => panic!("{file}:{}: {e}", i + 1),
                }
                assert_eq!(auto.format(), want, "{file}:{}", i + 1);
            }
            assert_eq!(count, events, "{file}");
        }
    }

    #[test]
    fn every_sample_evtx_file_has_the_magic() {
        fn walk(dir: &std::path::Path, count: &mut usize) {
            let entries = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("sample folder {} is missing: {e}", dir.display()));
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, count);
                } else if path.extension().is_some_and(|x| x == "evtx") {
                    let mut head = [0u8; 8];
                    std::io::Read::read_exact(&mut std::fs::File::open(&path).unwrap(), &mut head)
                        .unwrap();
                    assert!(is_evtx_file(&head), "{}", path.display());
                    *count += 1;
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    assert!(!is_evtx_file(&bytes), "{}", path.display());
                }
            }
        }
        let mut count = 0;
        walk(std::path::Path::new(EVTX), &mut count);
        assert_eq!(count, 311);
    }

    #[test]
    fn evtx_records_and_files_are_recognized() {
        let path = format!("{EVTX}DeepBlueCLI/eventlog-dac.evtx");
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("sample file {path} is missing: {e}"));
        assert!(is_evtx_file(&bytes[..8]));
        assert!(!is_evtx_file(b"ElfChnk\0"));
        assert!(!is_evtx_file(b"Elf"));
        let mut parser = evtx::EvtxParser::from_buffer(bytes).unwrap();
        let record = parser.records_json().next().unwrap().unwrap().data;
        let line = record.replace('\n', " ");
        assert_eq!(detect_record(&line), Format::Evtx);
        let mut auto = AutoParser::new();
        let e = auto.parse(&line, &ParseContext::new("t")).unwrap().unwrap();
        assert_eq!(auto.format(), Format::Evtx);
        assert_eq!(e.get_str(haechi_event::ecs::EVENT_CODE), Some("1102"));
    }

    #[test]
    fn the_other_shapes() {
        for (line, want) in [
            (
                "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1",
                Format::Cef,
            ),
            (
                "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1",
                Format::Leef,
            ),
            (
                "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
                Format::Syslog,
            ),
            (
                "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - msg",
                Format::Syslog,
            ),
            ("Oct  1 22:14:15 mymachine su: x", Format::Syslog),
            ("Oct 11 22:14:15.123 mymachine su: x", Format::Syslog),
            (
                r#"date=2019-05-10 time=11:37:47 logid="0000000013" type="traffic" subtype="forward""#,
                Format::Kv,
            ),
            (r#"action=deny src="10.0.0.1""#, Format::Kv),
            ("user=alice logged in", Format::Raw),
            (
                "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
                Format::Clf,
            ),
            (r#"{"msg":"hello","level":"info"}"#, Format::Json),
            (r#"{ "Event" : {"System":{}}}"#, Format::Evtx),
            (
                r#"{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1"}"#,
                Format::Zeek,
            ),
            ("#Version: 1.0", Format::Raw),
            ("Octopus 11 22:14:15 x", Format::Raw),
            ("", Format::Raw),
            ("just some text", Format::Raw),
        ] {
            assert_eq!(detect_record(line), want, "{line}");
        }
    }

    #[test]
    fn zeek_header_makes_the_stream_zeek() {
        let ctx = ParseContext::new("t");
        let mut auto = AutoParser::new();
        for line in [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tweird",
            "#fields\tts\tname\taddl",
            "#types\ttime\tstring\tstring",
        ] {
            assert!(auto.parse(line, &ctx).unwrap().is_none());
            assert_eq!(auto.format(), Format::Zeek);
        }
        // looks like key=value, but the stream is Zeek
        let e = auto
            .parse("1700000000.0\ta=1 b=2 c=3\t-", &ctx)
            .unwrap()
            .unwrap();
        assert_eq!(auto.format(), Format::Zeek);
        assert_eq!(e.get_str("name"), Some("a=1 b=2 c=3"));
    }
}
