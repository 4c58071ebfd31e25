//! `zeek`: Zeek logs, TSV (the ASCII writer's default) or JSON (one object per line).
//!
//! **TSV.** The parser is stateful across the lines of one stream: the header lines
//! (`#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#fields`,
//! `#types`, and `#open`/`#close`) yield no event and set the state for the data lines
//! that follow; a new header (a rotated or concatenated log) replaces it. A data line before
//! any `#fields` header is an error saying so. Values are typed by `#types`: `time` → epoch
//! seconds as a float (`ts` itself, exactly, becomes `@timestamp`), `count`/`int`/`port` →
//! integers, `interval`/`double` → floats, `addr` → IPs, `bool` → booleans, `set[..]` and
//! `vector[..]` → lists of their element type, everything else → strings. The unset mark
//! (`-`) leaves a field out; the empty mark (`(empty)`) is an empty string for strings and
//! leaves an empty set or vector out (as JSON's `[]` does). Zeek's escapes (`\x09`, `\\`) are
//! decoded. A line whose field count differs from `#fields`, or whose value does not read as
//! its declared type, is an error naming the field: it is a damaged line (two records run
//! together, a cut line), and typing it by position would file values under wrong names.
//!
//! **JSON.** One object per line with `_path`, or without it but with conn-style keys (`ts`,
//! `uid`, `id.orig_h`), in which case the log path is inferred from the keys. `ts` may be epoch
//! seconds or ISO 8601. Known address fields (`id.orig_h`, `src`, …) are typed as IPs, so that
//! JSON and TSV rows of one log give the same fields.
//!
//! **Names.** Zeek's own field names are kept *bare*, exactly as Zeek writes them (`id.orig_h`,
//! `query`, `note`, `_path` for JSON): that is what Sigma's Zeek rules match on. Beside them
//! the common fields are mapped to ECS per log path (`conn`, `dns`, `http`, `ssl`, `notice`,
//! `ssh`, `smtp`, `rdp`, `x509`, `files`, `weird`, `quic`, `ntp`, `dhcp`; other paths keep
//! their fields and get the connection tuple; `conn_state`, `history`, `uid` and the like
//! stay Zeek fields only): see the `PathSpec` tables below. Every event gets
//! `observer.vendor`/`product` `Zeek`, `observer.type` `ids`, `event.module` `zeek` and
//! `event.dataset` `zeek.<path>`; notices are `event.kind` `alert`.

use super::json::{flatten_json_line, position, shown};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, FieldName, Value, ecs};
use std::borrow::Cow;

/// Reads Zeek TSV (with its header) or Zeek JSON lines.
#[derive(Debug)]
pub struct ZeekParser {
    /// `#separator` (decoded); a tab unless the header says otherwise.
    separator: String,
    set_separator: String,
    empty_field: String,
    unset_field: String,
    /// `#path`, or inferred from `#fields` when the header has none.
    path: String,
    path_given: bool,
    columns: Vec<Column>,
    /// Whether the columns' rules and the path spec must be worked out again.
    dirty: bool,
    spec: &'static PathSpec,
    dataset: String,
}

/// One `#fields` column.
#[derive(Debug)]
struct Column {
    name: FieldName,
    ty: ColumnType,
    /// The ECS rules of this column for the current path.
    rules: Vec<&'static Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ColumnType {
    base: Base,
    /// `set[..]` or `vector[..]`.
    container: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Time,
    Int,
    Double,
    Addr,
    Bool,
    Str,
}

impl ColumnType {
    const STRING: ColumnType = ColumnType {
        base: Base::Str,
        container: false,
    };

    fn parse(text: &str) -> ColumnType {
        let (container, inner) = match text.strip_suffix(']').and_then(|t| t.split_once('[')) {
            Some(("set" | "vector", inner)) => (true, inner),
            _ => (false, text),
        };
        let base = match inner {
            "time" => Base::Time,
            "count" | "int" | "port" => Base::Int,
            "interval" | "double" => Base::Double,
            "addr" => Base::Addr,
            "bool" => Base::Bool,
            _ => Base::Str,
        };
        ColumnType { base, container }
    }

    fn name(self) -> &'static str {
        match (self.base, self.container) {
            (Base::Time, false) => "time",
            (Base::Int, false) => "count",
            (Base::Double, false) => "double",
            (Base::Addr, false) => "addr",
            (Base::Bool, false) => "bool",
            (Base::Str, false) => "string",
            (Base::Time, true) => "set of times",
            (Base::Int, true) => "set of counts",
            (Base::Double, true) => "set of doubles",
            (Base::Addr, true) => "set of addrs",
            (Base::Bool, true) => "set of bools",
            (Base::Str, true) => "set of strings",
        }
    }
}

impl Default for ZeekParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ZeekParser {
    pub fn new() -> Self {
        ZeekParser {
            separator: "\t".to_owned(),
            set_separator: ",".to_owned(),
            empty_field: "(empty)".to_owned(),
            unset_field: "-".to_owned(),
            path: String::new(),
            path_given: false,
            columns: Vec::new(),
            dirty: true,
            spec: &OTHER,
            dataset: "zeek".to_owned(),
        }
    }

    /// A `#…` line: sets the header state.
    fn header(&mut self, line: &str) -> Result<(), ParseError> {
        if let Some(rest) = line.strip_prefix("#separator") {
            let value = rest.strip_prefix([' ', '\t']).unwrap_or(rest);
            let decoded = unescape(value).into_owned();
            if decoded.is_empty() {
                return Err(ParseError::new(format!(
                    "Zeek #separator header gives no separator: {line:?}"
                )));
            }
            // A new header block starts: forget the previous one.
            *self = ZeekParser {
                separator: decoded,
                ..ZeekParser::new()
            };
            return Ok(());
        }
        let (key, value) = line
            .split_once(self.separator.as_str())
            .unwrap_or((line, ""));
        match key {
            "#set_separator" => self.set_separator = unescape(value).into_owned(),
            "#empty_field" => self.empty_field = unescape(value).into_owned(),
            "#unset_field" => self.unset_field = unescape(value).into_owned(),
            "#path" => {
                self.path = unescape(value).into_owned();
                self.path_given = true;
                self.dirty = true;
            }
            "#fields" => {
                self.columns = value
                    .split(self.separator.as_str())
                    .map(|name| Column {
                        name: normalize::static_name(&unescape(name)),
                        ty: ColumnType::STRING,
                        rules: Vec::new(),
                    })
                    .collect();
                self.dirty = true;
            }
            "#types" => {
                let types: Vec<ColumnType> = value
                    .split(self.separator.as_str())
                    .map(ColumnType::parse)
                    .collect();
                if types.len() != self.columns.len() {
                    return Err(ParseError::new(format!(
                        "Zeek #types header lists {} types but #fields names {} fields",
                        types.len(),
                        self.columns.len()
                    )));
                }
                for (column, ty) in self.columns.iter_mut().zip(types) {
                    column.ty = ty;
                }
            }
            _ => {} // #open, #close, comments
        }
        Ok(())
    }

    /// Works out the path spec and each column's ECS rules after a header change.
    fn prepare(&mut self) {
        if !self.path_given {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_ref()).collect();
            self.path = infer_path(|n| names.contains(&n)).to_owned();
        }
        self.spec = spec_for(&self.path);
        self.dataset = dataset_name(&self.path);
        let spec = self.spec;
        for column in &mut self.columns {
            column.rules = rules_for(spec, &column.name).collect();
        }
        self.dirty = false;
    }

    fn parse_tsv(&mut self, line: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
        if self.columns.is_empty() {
            return Err(ParseError::new(
                "Zeek TSV data line before any #fields header: the stream must start with the Zeek log header \
                 (#separator, #fields, #types)",
            ));
        }
        if self.dirty {
            self.prepare();
        }
        let count = if self.separator.len() == 1 {
            memchr::memchr_iter(self.separator.as_bytes()[0], line.as_bytes()).count() + 1
        } else {
            line.matches(self.separator.as_str()).count() + 1
        };
        if count != self.columns.len() {
            return Err(ParseError::new(format!(
                "Zeek {} line has {count} field{}, but its #fields header declares {}",
                self.path_label(),
                if count == 1 { "" } else { "s" },
                self.columns.len()
            )));
        }

        let mut event = Event::new(ctx.received, ctx.tenant.clone(), self.columns.len() + 16);
        for (column, raw) in self.columns.iter().zip(line.split(self.separator.as_str())) {
            if raw == self.unset_field {
                continue;
            }
            if column.ty.base == Base::Time && !column.ty.container && column.name == "ts" {
                event.timestamp = normalize::epoch_seconds_text(raw).ok_or_else(|| {
                    ParseError::new(format!(
                        "Zeek {} field ts: {raw:?} is not a time (epoch seconds up to the year 2262)",
                        self.path_label()
                    ))
                })?;
                continue;
            }
            let value = if raw == self.empty_field {
                if column.ty.container {
                    continue;
                }
                Value::Str(String::new())
            } else if column.ty.container {
                let items: Result<Vec<Value>, ()> = raw
                    .split(self.set_separator.as_str())
                    .map(|item| convert(column.ty.base, &unescape(item)).ok_or(()))
                    .collect();
                Value::List(items.map_err(|()| self.type_error(column, raw))?)
            } else {
                convert(column.ty.base, &unescape(raw))
                    .ok_or_else(|| self.type_error(column, raw))?
            };
            for rule in &column.rules {
                apply_rule(&mut event.fields, rule, &value);
            }
            event.fields.push((column.name.clone(), value));
        }
        finish(&mut event, self.spec, &self.dataset);
        Ok(event)
    }

    fn path_label(&self) -> &str {
        if self.path.is_empty() {
            "log"
        } else {
            &self.path
        }
    }

    fn type_error(&self, column: &Column, raw: &str) -> ParseError {
        let mut shown = raw.to_owned();
        if shown.len() > 80 {
            let cut = (0..=80)
                .rev()
                .find(|&i| shown.is_char_boundary(i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        ParseError::new(format!(
            "Zeek {} field {} ({}): {shown:?} does not read as one",
            self.path_label(),
            column.name,
            column.ty.name()
        ))
    }
}

impl RecordParser for ZeekParser {
    fn format(&self) -> Format {
        Format::Zeek
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let line = record.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(None);
        }
        if line.starts_with('#') {
            self.header(line)?;
            return Ok(None);
        }
        if line.trim_start().starts_with('{') {
            return zeek_json_to_event(line.trim(), ctx).map(Some);
        }
        self.parse_tsv(line, ctx).map(Some)
    }
}

/// Decodes Zeek's escapes: `\xHH` (a byte) and `\\`. Borrows when there is none.
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'x')
                && let Some(hex) = text.get(i + 2..i + 4)
                && let Ok(byte) = u8::from_str_radix(hex, 16)
            {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// A TSV value (already unescaped) as its declared type.
fn convert(base: Base, text: &str) -> Option<Value> {
    Some(match base {
        Base::Str => Value::Str(text.to_owned()),
        Base::Int => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(text.parse::<u64>().ok()? as f64),
        },
        Base::Time | Base::Double => Value::Float(text.parse::<f64>().ok()?),
        Base::Addr => Value::Ip(normalize::parse_ip(text)?),
        Base::Bool => match text {
            "T" => Value::Bool(true),
            "F" => Value::Bool(false),
            _ => return None,
        },
    })
}

/// Zeek's address fields, typed as IPs in JSON logs as `addr` columns are in TSV.
const ADDR_FIELDS: &[&str] = &[
    "id.orig_h",
    "id.resp_h",
    "src",
    "dst",
    "client_addr",
    "server_addr",
    "requested_addr",
    "assigned_addr",
    "x_originating_ip",
    "path",
    "tx_hosts",
    "rx_hosts",
    "san.ip",
    "remote_ip",
];

/// Converts one Zeek JSON log line (see the module documentation).
pub fn zeek_json_to_event(text: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
    let mut fields = Vec::with_capacity(32);
    flatten_json_line(text, &mut fields)?;
    let has = |name: &str| position(&fields, name).is_some();
    let path: String = match position(&fields, "_path").map(|i| &fields[i].1) {
        Some(Value::Str(p)) => p.clone(),
        _ => infer_path(has).to_owned(),
    };
    let timestamp = match position(&fields, "ts") {
        None => ctx.received,
        Some(i) => {
            let t = normalize::value_time(&fields[i].1, ctx).ok_or_else(|| {
                ParseError::new(format!(
                    "Zeek {path} field ts: {} is not a time (ISO 8601 or epoch seconds)",
                    shown(&fields[i].1)
                ))
            })?;
            fields.remove(i);
            t
        }
    };
    let spec = spec_for(&path);
    let mut mapped = Vec::with_capacity(16);
    for (name, value) in fields.iter_mut() {
        if ADDR_FIELDS.contains(&name.as_ref()) {
            type_ips(value);
        }
        for rule in rules_for(spec, name) {
            apply_rule(&mut mapped, rule, value);
        }
    }
    fields.append(&mut mapped);
    let mut event = Event {
        timestamp,
        tenant: ctx.tenant.clone(),
        fields,
    };
    finish(&mut event, spec, &dataset_name(&path));
    Ok(event)
}

fn type_ips(value: &mut Value) {
    match value {
        Value::Str(s) => {
            if let Some(ip) = normalize::parse_ip(s) {
                *value = Value::Ip(ip);
            }
        }
        Value::List(items) => items.iter_mut().for_each(type_ips),
        _ => {}
    }
}

fn dataset_name(path: &str) -> String {
    if path.is_empty() {
        "zeek".to_owned()
    } else {
        format!("zeek.{path}")
    }
}

/// The log path from the field names, for TSV without `#path` and JSON without `_path`.
fn infer_path(has: impl Fn(&str) -> bool) -> &'static str {
    if has("conn_state") || has("orig_bytes") {
        "conn"
    } else if has("qtype_name") || (has("query") && has("rcode")) {
        "dns"
    } else if has("note") {
        "notice"
    } else if has("status_code") || (has("method") && has("uri")) {
        "http"
    } else if has("server_name") && (has("cipher") || has("established")) {
        "ssl"
    } else if has("auth_success") || has("host_key") {
        "ssh"
    } else if has("mailfrom") || has("helo") {
        "smtp"
    } else if has("cookie") && has("security_protocol") {
        "rdp"
    } else if has("certificate.subject") {
        "x509"
    } else if has("fuid") && (has("analyzers") || has("mime_type")) {
        "files"
    } else if has("name") && has("addl") {
        "weird"
    } else if has("client_initial_dcid") {
        "quic"
    } else if has("stratum") {
        "ntp"
    } else if has("msg_types") || has("assigned_addr") {
        "dhcp"
    } else {
        ""
    }
}

/// How a Zeek value becomes an ECS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    /// As it is.
    Copy,
    /// Typed as an IP when it reads as one.
    Ip,
    /// A string in lower case.
    Lower,
    /// Interval seconds → nanoseconds (ECS `event.duration`).
    DurationNs,
    /// Only the elements that are IP addresses, as a list of IPs (`dns.resolved_ip`).
    IpsOnly,
    /// As a list even when a single value.
    List,
    /// `T`/`F` → `event.outcome` `success`/`failure`.
    Outcome,
    /// An HTTP status code, and `event.outcome` from it.
    HttpStatus,
    /// Epoch seconds or ISO 8601 → an RFC 3339 string.
    Time,
    /// `TLSv12` → `tls.version` `1.2` and `tls.version_protocol` `tls`.
    TlsVersion,
    /// A URI → `url.original`, `url.path`, `url.query`.
    Url,
    /// A count as a string (ECS keyword fields such as `x509.version_number`).
    Text,
}

/// One Zeek field → ECS field mapping.
#[derive(Debug)]
struct Rule {
    zeek: &'static str,
    ecs: &'static str,
    conv: Conv,
    /// Only when the ECS field is not set yet (a fallback source).
    fallback: bool,
}

const fn r(zeek: &'static str, ecs: &'static str, conv: Conv) -> Rule {
    Rule {
        zeek,
        ecs,
        conv,
        fallback: false,
    }
}

const fn fallback(zeek: &'static str, ecs: &'static str, conv: Conv) -> Rule {
    Rule {
        zeek,
        ecs,
        conv,
        fallback: true,
    }
}

/// The ECS categorization and mappings of one log path.
#[derive(Debug)]
struct PathSpec {
    kind: &'static str,
    category: &'static [&'static str],
    kind_type: &'static [&'static str],
    /// `network.protocol` when the log has no `service` column.
    protocol: Option<&'static str>,
    rules: &'static [Rule],
}

/// Mappings every path shares (the connection tuple).
const COMMON: &[Rule] = &[
    r("id.orig_h", ecs::SOURCE_IP, Conv::Ip),
    r("id.orig_p", ecs::SOURCE_PORT, Conv::Copy),
    r("id.resp_h", ecs::DESTINATION_IP, Conv::Ip),
    r("id.resp_p", ecs::DESTINATION_PORT, Conv::Copy),
    r("proto", ecs::NETWORK_TRANSPORT, Conv::Lower),
    r("community_id", ecs::NETWORK_COMMUNITY_ID, Conv::Copy),
];

const NET: &[&str] = &["network"];

static CONN: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["connection"],
    protocol: None,
    rules: &[
        r("service", ecs::NETWORK_PROTOCOL, Conv::Lower),
        r("duration", ecs::EVENT_DURATION, Conv::DurationNs),
        r("orig_bytes", ecs::SOURCE_BYTES, Conv::Copy),
        r("resp_bytes", ecs::DESTINATION_BYTES, Conv::Copy),
        r("orig_pkts", ecs::SOURCE_PACKETS, Conv::Copy),
        r("resp_pkts", ecs::DESTINATION_PACKETS, Conv::Copy),
    ],
};

static DNS: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("dns"),
    rules: &[
        r("query", ecs::DNS_QUESTION_NAME, Conv::Copy),
        r("qtype_name", ecs::DNS_QUESTION_TYPE, Conv::Copy),
        r("rcode_name", ecs::DNS_RESPONSE_CODE, Conv::Copy),
        r("trans_id", ecs::DNS_ID, Conv::Copy),
        r("answers", ecs::DNS_ANSWERS_DATA, Conv::List),
        r("answers", ecs::DNS_RESOLVED_IP, Conv::IpsOnly),
    ],
};

static HTTP: PathSpec = PathSpec {
    kind: "event",
    category: &["network", "web"],
    kind_type: &["protocol"],
    protocol: Some("http"),
    rules: &[
        r("host", ecs::URL_DOMAIN, Conv::Copy),
        r("uri", ecs::URL_ORIGINAL, Conv::Url),
        r("method", ecs::HTTP_REQUEST_METHOD, Conv::Copy),
        r(
            "status_code",
            ecs::HTTP_RESPONSE_STATUS_CODE,
            Conv::HttpStatus,
        ),
        r("user_agent", ecs::USER_AGENT_ORIGINAL, Conv::Copy),
        r("referrer", ecs::HTTP_REQUEST_REFERRER, Conv::Copy),
        r("version", ecs::HTTP_VERSION, Conv::Copy),
        r("request_body_len", ecs::HTTP_REQUEST_BODY_BYTES, Conv::Copy),
        r(
            "response_body_len",
            ecs::HTTP_RESPONSE_BODY_BYTES,
            Conv::Copy,
        ),
        r("username", ecs::USER_NAME, Conv::Copy),
    ],
};

static SSL: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("tls"),
    rules: &[
        r("server_name", ecs::TLS_CLIENT_SERVER_NAME, Conv::Copy),
        r("version", ecs::TLS_VERSION, Conv::TlsVersion),
        r("cipher", ecs::TLS_CIPHER, Conv::Copy),
        r("curve", ecs::TLS_CURVE, Conv::Copy),
        r("established", ecs::TLS_ESTABLISHED, Conv::Copy),
        r("resumed", ecs::TLS_RESUMED, Conv::Copy),
        r("next_protocol", ecs::TLS_NEXT_PROTOCOL, Conv::Copy),
        r("subject", ecs::TLS_SERVER_SUBJECT, Conv::Copy),
        r("issuer", ecs::TLS_SERVER_ISSUER, Conv::Copy),
        r("ja3", ecs::TLS_CLIENT_JA3, Conv::Copy),
        r("ja3s", ecs::TLS_SERVER_JA3S, Conv::Copy),
    ],
};

static NOTICE: PathSpec = PathSpec {
    kind: "alert",
    category: &["intrusion_detection", "network"],
    kind_type: &["info"],
    protocol: None,
    rules: &[
        r("note", ecs::RULE_NAME, Conv::Copy),
        r("msg", ecs::MESSAGE, Conv::Copy),
        fallback("src", ecs::SOURCE_IP, Conv::Ip),
        fallback("dst", ecs::DESTINATION_IP, Conv::Ip),
        fallback("p", ecs::DESTINATION_PORT, Conv::Copy),
    ],
};

static SSH: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("ssh"),
    rules: &[r("auth_success", ecs::EVENT_OUTCOME, Conv::Outcome)],
};

static SMTP: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("smtp"),
    rules: &[
        r("from", ecs::EMAIL_FROM_ADDRESS, Conv::Copy),
        r("to", ecs::EMAIL_TO_ADDRESS, Conv::List),
        r("subject", ecs::EMAIL_SUBJECT, Conv::Copy),
        r("msg_id", ecs::EMAIL_MESSAGE_ID, Conv::Copy),
        r("user_agent", ecs::USER_AGENT_ORIGINAL, Conv::Copy),
    ],
};

static RDP: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("rdp"),
    rules: &[],
};

static X509: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["info"],
    protocol: None,
    rules: &[
        r("certificate.version", ecs::X509_VERSION_NUMBER, Conv::Text),
        r("certificate.serial", ecs::X509_SERIAL_NUMBER, Conv::Copy),
        r(
            "certificate.subject",
            ecs::X509_SUBJECT_DISTINGUISHED_NAME,
            Conv::Copy,
        ),
        r(
            "certificate.issuer",
            ecs::X509_ISSUER_DISTINGUISHED_NAME,
            Conv::Copy,
        ),
        r(
            "certificate.not_valid_before",
            ecs::X509_NOT_BEFORE,
            Conv::Time,
        ),
        r(
            "certificate.not_valid_after",
            ecs::X509_NOT_AFTER,
            Conv::Time,
        ),
        r(
            "certificate.key_alg",
            ecs::X509_PUBLIC_KEY_ALGORITHM,
            Conv::Copy,
        ),
        r(
            "certificate.sig_alg",
            ecs::X509_SIGNATURE_ALGORITHM,
            Conv::Copy,
        ),
        r(
            "certificate.key_length",
            ecs::X509_PUBLIC_KEY_SIZE,
            Conv::Copy,
        ),
        r("san.dns", ecs::X509_ALTERNATIVE_NAMES, Conv::List),
    ],
};

static FILES: PathSpec = PathSpec {
    kind: "event",
    category: &["file"],
    kind_type: &["info"],
    protocol: None,
    rules: &[
        r("filename", ecs::FILE_NAME, Conv::Copy),
        r("mime_type", ecs::FILE_MIME_TYPE, Conv::Copy),
        r("total_bytes", ecs::FILE_SIZE, Conv::Copy),
        fallback("seen_bytes", ecs::FILE_SIZE, Conv::Copy),
        r("md5", ecs::FILE_HASH_MD5, Conv::Copy),
        r("sha1", ecs::FILE_HASH_SHA1, Conv::Copy),
        r("sha256", ecs::FILE_HASH_SHA256, Conv::Copy),
        fallback("tx_hosts", ecs::SOURCE_IP, Conv::Ip),
        fallback("rx_hosts", ecs::DESTINATION_IP, Conv::Ip),
    ],
};

static WEIRD: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["info"],
    protocol: None,
    rules: &[r("name", ecs::RULE_NAME, Conv::Copy)],
};

static QUIC: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("quic"),
    rules: &[r("server_name", ecs::TLS_CLIENT_SERVER_NAME, Conv::Copy)],
};

static NTP: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("ntp"),
    rules: &[],
};

static DHCP: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &["protocol"],
    protocol: Some("dhcp"),
    rules: &[
        r("client_addr", ecs::CLIENT_IP, Conv::Ip),
        r("server_addr", ecs::SERVER_IP, Conv::Ip),
        r("mac", ecs::CLIENT_MAC, Conv::Copy),
        r("duration", ecs::EVENT_DURATION, Conv::DurationNs),
    ],
};

static OTHER: PathSpec = PathSpec {
    kind: "event",
    category: NET,
    kind_type: &[],
    protocol: None,
    rules: &[],
};

/// The ECS spec of a log path; paths without one get the connection tuple only.
fn spec_for(path: &str) -> &'static PathSpec {
    match path {
        "conn" => &CONN,
        "dns" => &DNS,
        "http" => &HTTP,
        "ssl" => &SSL,
        "notice" => &NOTICE,
        "ssh" => &SSH,
        "smtp" => &SMTP,
        "rdp" => &RDP,
        "x509" => &X509,
        "files" => &FILES,
        "weird" => &WEIRD,
        "quic" => &QUIC,
        "ntp" => &NTP,
        "dhcp" => &DHCP,
        _ => &OTHER,
    }
}

fn rules_for<'a>(
    spec: &'static PathSpec,
    name: &'a str,
) -> impl Iterator<Item = &'static Rule> + 'a {
    COMMON
        .iter()
        .chain(spec.rules)
        .filter(move |rule| rule.zeek == name)
}

/// Applies one rule to a value, appending the ECS fields to `out`.
fn apply_rule(out: &mut Vec<(FieldName, Value)>, rule: &Rule, value: &Value) {
    if rule.fallback && out.iter().any(|(n, _)| n == rule.ecs) {
        return;
    }
    let name = FieldName::Borrowed(rule.ecs);
    match rule.conv {
        Conv::Copy => out.push((name, value.clone())),
        Conv::Text => out.push((name, Value::Str(value.as_text().into_owned()))),
        Conv::Ip => {
            let v = match value {
                Value::Str(s) => normalize::parse_ip(s).map_or_else(|| value.clone(), Value::Ip),
                Value::List(items) => items.first().cloned().unwrap_or_else(|| value.clone()),
                other => other.clone(),
            };
            out.push((name, v));
        }
        Conv::Lower => match value {
            Value::Str(s) => out.push((name, Value::Str(s.to_ascii_lowercase()))),
            other => out.push((name, other.clone())),
        },
        Conv::DurationNs => {
            if let Some(secs) = value.as_f64() {
                out.push((name, Value::Int((secs * 1e9).round() as i64)));
            }
        }
        Conv::IpsOnly => {
            let ips: Vec<Value> = value
                .scalars()
                .filter_map(Value::as_ip)
                .map(Value::Ip)
                .collect();
            if !ips.is_empty() {
                out.push((name, Value::List(ips)));
            }
        }
        Conv::List => match value {
            Value::List(_) => out.push((name, value.clone())),
            other => out.push((name, Value::List(vec![other.clone()]))),
        },
        Conv::Outcome => {
            if let Value::Bool(ok) = value {
                out.push((name, Value::from(if *ok { "success" } else { "failure" })));
            }
        }
        Conv::HttpStatus => {
            out.push((name, value.clone()));
            if let Some(code) = value.as_f64().filter(|c| (0.0..=999.0).contains(c)) {
                out.push((
                    FieldName::Borrowed(ecs::EVENT_OUTCOME),
                    Value::from(normalize::http_outcome(code as u16)),
                ));
            }
        }
        Conv::Time => {
            let t = match value {
                Value::Float(secs) => normalize::epoch_number(*secs),
                Value::Int(secs) => normalize::epoch_number(*secs as f64),
                Value::Str(s) => haechi_event::parse_rfc3339(s),
                _ => None,
            };
            if let Some(t) = t {
                out.push((name, Value::Str(t.to_rfc3339())));
            }
        }
        Conv::TlsVersion => {
            let Value::Str(text) = value else { return };
            let (protocol, rest) = if let Some(rest) = text.strip_prefix("TLSv") {
                ("tls", rest)
            } else if let Some(rest) = text.strip_prefix("SSLv") {
                ("ssl", rest)
            } else if let Some(rest) = text.strip_prefix("DTLSv") {
                ("dtls", rest)
            } else {
                out.push((name, value.clone()));
                return;
            };
            // Zeek writes TLSv10, TLSv12, TLSv13, SSLv3, SSLv2.
            let version = match rest.len() {
                1 => format!("{rest}.0"),
                2 => format!("{}.{}", &rest[..1], &rest[1..]),
                _ => rest.to_owned(),
            };
            out.push((name, Value::Str(version)));
            out.push((
                FieldName::Borrowed(ecs::TLS_VERSION_PROTOCOL),
                Value::from(protocol),
            ));
        }
        Conv::Url => {
            let Value::Str(uri) = value else { return };
            out.push((name, value.clone()));
            let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
            if !path.is_empty() {
                out.push((FieldName::Borrowed(ecs::URL_PATH), Value::from(path)));
            }
            if !query.is_empty() {
                out.push((FieldName::Borrowed(ecs::URL_QUERY), Value::from(query)));
            }
        }
    }
}

/// The fields every Zeek event gets after its own: categorization, observer, dataset,
/// protocol, byte and packet sums, related IPs.
fn finish(event: &mut Event, spec: &'static PathSpec, dataset: &str) {
    normalize::categorize(event, spec.kind, spec.category, spec.kind_type);
    if let Some(path) = dataset.strip_prefix("zeek.") {
        crate::ics::normalize_zeek(event, path);
    }
    event.push(ecs::EVENT_MODULE, "zeek");
    event.push(ecs::EVENT_DATASET, dataset);
    normalize::observer(event, "Zeek", "Zeek", "ids");
    let mut has_protocol = false;
    let (mut src, mut dst) = (None, None);
    let (mut bytes, mut packets) = ((0i64, false), (0i64, false));
    for (name, value) in &event.fields {
        match (name.as_ref(), value) {
            (ecs::NETWORK_PROTOCOL, _) => has_protocol = true,
            (ecs::SOURCE_IP, Value::Ip(ip)) => src = Some(*ip),
            (ecs::DESTINATION_IP, Value::Ip(ip)) => dst = Some(*ip),
            (ecs::SOURCE_BYTES | ecs::DESTINATION_BYTES, Value::Int(n)) => {
                bytes = (bytes.0.saturating_add(*n), true)
            }
            (ecs::SOURCE_PACKETS | ecs::DESTINATION_PACKETS, Value::Int(n)) => {
                packets = (packets.0.saturating_add(*n), true)
            }
            _ => {}
        }
    }
    if !has_protocol && let Some(protocol) = spec.protocol {
        event.push(ecs::NETWORK_PROTOCOL, protocol);
    }
    if bytes.1 {
        event.push(ecs::NETWORK_BYTES, bytes.0);
    }
    if packets.1 {
        event.push(ecs::NETWORK_PACKETS, packets.0);
    }
    let related: Vec<Value> = src
        .into_iter()
        .chain(dst.filter(|d| Some(*d) != src))
        .map(Value::Ip)
        .collect();
    if !related.is_empty() {
        event.push(ecs::RELATED_IP, Value::List(related));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const ZEEK: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/logs/zeek/"
    );

    fn read(rel: &str) -> String {
        let path = format!("{ZEEK}{rel}");
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("sample file {path} is missing: {e}"));
        if rel.ends_with(".gz") {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .expect("gunzip");
            text
        } else {
            String::from_utf8(bytes).expect("UTF-8")
        }
    }

    struct Outcome {
        rows: usize,
        events: Vec<Event>,
        /// (line number, reason)
        errors: Vec<(usize, String)>,
    }

    fn parse_file(rel: &str) -> Outcome {
        let ctx = ParseContext::new("t");
        let mut parser = ZeekParser::new();
        let mut out = Outcome {
            rows: 0,
            events: Vec::new(),
            errors: Vec::new(),
        };
        for (i, line) in read(rel).lines().enumerate() {
            if !line.starts_with('#') && !line.is_empty() {
                out.rows += 1;
            }
            match parser.parse(line, &ctx) {
                Ok(Some(e)) => out.events.push(e),
                Ok(None) => {}
                Err(e) => out.errors.push((i + 1, e.0)),
            }
        }
        assert_eq!(
            out.events.len() + out.errors.len(),
            out.rows,
            "{rel}: every row is an event or an error"
        );
        out
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::Str((*s).to_owned())).collect())
    }

    #[test]
    fn brimdata_tsv_logs_parse_without_errors() {
        for (file, rows) in [
            ("brimdata-wrccdc2018/notice.log", 207),
            ("brimdata-wrccdc2018/ssh.log", 22),
            ("brimdata-wrccdc2018/x509.log", 348),
            ("brimdata-wrccdc2018/smtp.log", 1_188),
            ("brimdata-wrccdc2018/rdp.log", 4_122),
            ("brimdata-wrccdc2018/dns.log.gz", 53_615),
        ] {
            let out = parse_file(file);
            assert_eq!(out.errors, vec![], "{file}");
            assert_eq!(out.rows, rows, "{file}");
            assert_eq!(out.events.len(), rows, "{file}");
            let path = file.split('/').nth(1).unwrap().split('.').next().unwrap();
            for e in &out.events {
                assert_eq!(
                    e.get_str(ecs::EVENT_DATASET),
                    Some(format!("zeek.{path}").as_str())
                );
                assert_eq!(e.get_str(ecs::OBSERVER_VENDOR), Some("Zeek"));
                assert!(
                    e.timestamp.to_rfc3339().starts_with("2018-03-2"),
                    "{file}: {}",
                    e.timestamp
                );
            }
        }
    }

    #[test]
    fn json_logs_parse_without_errors_and_match_their_tsv_twins() {
        for (json, tsv, rows) in [
            (
                "brimdata-wrccdc2018/notice.json",
                "brimdata-wrccdc2018/notice.log",
                207,
            ),
            (
                "brimdata-wrccdc2018/ssh.json",
                "brimdata-wrccdc2018/ssh.log",
                22,
            ),
        ] {
            let from_json = parse_file(json);
            assert_eq!(from_json.errors, vec![], "{json}");
            assert_eq!(from_json.events.len(), rows, "{json}");
            let from_tsv = parse_file(tsv);
            assert_eq!(from_tsv.events.len(), rows, "{tsv}");
            for (j, t) in from_json.events.iter().zip(&from_tsv.events) {
                assert_eq!(j.timestamp, t.timestamp, "{json}");
                // every field the same, but the JSON writer's own `_path` and `_write_ts`
                let mut jf: Vec<_> = j
                    .fields
                    .iter()
                    .filter(|(n, _)| !n.starts_with('_'))
                    .map(|(n, v)| (n.to_string(), format!("{v:?}")))
                    .collect();
                let mut tf: Vec<_> = t
                    .fields
                    .iter()
                    .map(|(n, v)| (n.to_string(), format!("{v:?}")))
                    .collect();
                jf.sort();
                tf.sort();
                assert_eq!(jf, tf, "{json} vs {tsv}");
            }
        }
    }

    #[test]
    fn notice_maps_to_ecs() {
        let out = parse_file("brimdata-wrccdc2018/notice.log");
        let e = &out.events[0];
        assert_eq!(e.timestamp.to_rfc3339(), "2018-03-24T17:15:20.629574Z");
        assert_eq!(e.get_str(ecs::EVENT_KIND), Some("alert"));
        assert_eq!(e.get_str(ecs::RULE_NAME), Some("SSL::Invalid_Server_Cert"));
        assert_eq!(
            e.get_str(ecs::MESSAGE),
            Some("SSL certificate validation failed with (unable to get local issuer certificate)")
        );
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("10.164.94.120")));
        assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(39611)));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("10.47.3.200")));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(443)));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("zeek.notice"));
        // bare original names, typed; escapes decoded (`\\,` is a literal `\,`)
        assert_eq!(e.get("id.orig_h"), Some(&ip("10.164.94.120")));
        assert_eq!(e.get("p"), Some(&Value::Int(443)));
        assert_eq!(e.get("suppress_for"), Some(&Value::Float(3600.0)));
        assert_eq!(e.get("actions"), Some(&strs(&["Notice::ACTION_LOG"])));
        assert!(
            e.get_str("sub")
                .unwrap()
                .starts_with("unstructuredName=1315656901\\,564d")
        );
        assert_eq!(e.get("ts"), None, "ts is @timestamp");
    }

    #[test]
    fn ssh_maps_to_ecs() {
        let out = parse_file("brimdata-wrccdc2018/ssh.json");
        let e = &out.events[0];
        assert_eq!(e.timestamp.to_rfc3339(), "2018-03-24T17:16:39.739898Z");
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("success"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("ssh"));
        assert_eq!(e.get(ecs::DESTINATION_PORT), Some(&Value::Int(22)));
        assert_eq!(e.get("auth_success"), Some(&Value::Bool(true)));
        assert_eq!(
            e.get_str("server"),
            Some("SSH-2.0-OpenSSH_7.4p1 Raspbian-10+deb9u3")
        );
        assert_eq!(e.get_str("_path"), Some("ssh"));
    }

    #[test]
    fn conn_maps_to_ecs() {
        let out = parse_file("soc-zeek-lab/conn.log");
        let e = &out.events[0];
        assert_eq!(e.timestamp.to_rfc3339(), "2025-08-04T11:29:06.392580Z");
        assert_eq!(e.get(ecs::SOURCE_IP), Some(&ip("192.168.64.6")));
        assert_eq!(e.get(ecs::SOURCE_PORT), Some(&Value::Int(5353)));
        assert_eq!(e.get(ecs::DESTINATION_IP), Some(&ip("224.0.0.251")));
        assert_eq!(e.get_str(ecs::NETWORK_TRANSPORT), Some("udp"));
        assert_eq!(e.get_str(ecs::NETWORK_PROTOCOL), Some("dns"));
        assert_eq!(e.get(ecs::EVENT_DURATION), Some(&Value::Int(793_722_000)));
        assert_eq!(e.get(ecs::SOURCE_BYTES), Some(&Value::Int(973)));
        assert_eq!(e.get(ecs::DESTINATION_BYTES), Some(&Value::Int(0)));
        assert_eq!(e.get(ecs::SOURCE_PACKETS), Some(&Value::Int(6)));
        assert_eq!(e.get(ecs::DESTINATION_PACKETS), Some(&Value::Int(0)));
        assert_eq!(e.get(ecs::NETWORK_BYTES), Some(&Value::Int(973)));
        assert_eq!(e.get(ecs::EVENT_CATEGORY), Some(&strs(&["network"])));
        assert_eq!(e.get_str("conn_state"), Some("S0"));
        assert_eq!(e.get("local_orig"), Some(&Value::Bool(true)));
        assert_eq!(e.get("tunnel_parents"), None, "unset");
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("zeek.conn"));
    }

    #[test]
    fn dns_maps_to_ecs() {
        let out = parse_file("soc-zeek-lab/dns.log");
        let e = out
            .events
            .iter()
            .find(|e| e.get(ecs::DNS_RESOLVED_IP).is_some() && e.get_str("qtype_name") == Some("A"))
            .expect("an A answer");
        assert!(
            matches!(e.get(ecs::DNS_RESOLVED_IP), Some(Value::List(ips)) if ips.iter().all(|v| matches!(v, Value::Ip(_))))
        );
        assert_eq!(e.get_str(ecs::DNS_QUESTION_TYPE), Some("A"));
        assert_eq!(e.get(ecs::DNS_QUESTION_NAME), e.get("query"));
        let gz = parse_file("brimdata-wrccdc2018/dns.log.gz");
        let first = &gz.events[0];
        assert_eq!(first.get_str(ecs::NETWORK_PROTOCOL), Some("dns"));
        assert!(first.get(ecs::DNS_QUESTION_NAME).is_some());
    }

    #[test]
    fn escaped_and_empty_values() {
        let ctx = ParseContext::new("t");
        let mut p = ZeekParser::new();
        for h in [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\thttp",
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tstatus_code\tuser_agent\treferrer\ttags\tresp_mime_types",
            "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tcount\tstring\tstring\tset[enum]\tvector[string]",
        ] {
            assert!(p.parse(h, &ctx).unwrap().is_none());
        }
        let e = p
            .parse("1700000000.5\tCx\t10.0.0.1\t5000\t10.0.0.2\t80\tGET\tex.org\t/a\\x09b?q=1\t404\t(empty)\t-\t(empty)\ttext/html,a\\x2cb", &ctx)
            .unwrap()
            .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2023-11-14T22:13:20.500Z");
        assert_eq!(e.get_str("uri"), Some("/a\tb?q=1"));
        assert_eq!(e.get_str(ecs::URL_PATH), Some("/a\tb"));
        assert_eq!(e.get_str(ecs::URL_QUERY), Some("q=1"));
        assert_eq!(
            e.get(ecs::HTTP_RESPONSE_STATUS_CODE),
            Some(&Value::Int(404))
        );
        assert_eq!(e.get_str(ecs::EVENT_OUTCOME), Some("failure"));
        assert_eq!(e.get_str("user_agent"), Some(""), "(empty) string");
        assert_eq!(e.get("referrer"), None, "unset");
        assert_eq!(e.get("tags"), None, "empty set");
        assert_eq!(e.get("resp_mime_types"), Some(&strs(&["text/html", "a,b"])));
        assert_eq!(e.get(ecs::EVENT_CATEGORY), Some(&strs(&["network", "web"])));
    }

    #[test]
    fn data_before_header_and_bad_values_are_errors() {
        let ctx = ParseContext::new("t");
        let mut p = ZeekParser::new();
        let err = p.parse("1700000000.5\tCx\t10.0.0.1", &ctx).unwrap_err();
        assert!(
            err.0
                .starts_with("Zeek TSV data line before any #fields header"),
            "{err}"
        );
        p.parse("#separator \\x09", &ctx).unwrap();
        p.parse("#path\tconn", &ctx).unwrap();
        p.parse("#fields\tts\tid.orig_h\tid.orig_p", &ctx).unwrap();
        p.parse("#types\ttime\taddr\tport", &ctx).unwrap();
        assert_eq!(
            p.parse("1700000000.5\t10.0.0.1", &ctx).unwrap_err().0,
            "Zeek conn line has 2 fields, but its #fields header declares 3"
        );
        assert_eq!(
            p.parse("1700000000.5\t10.0.0.x\t80", &ctx).unwrap_err().0,
            "Zeek conn field id.orig_h (addr): \"10.0.0.x\" does not read as one"
        );
        assert_eq!(
            p.parse("17000000000000.5\t10.0.0.1\t80", &ctx)
                .unwrap_err()
                .0,
            "Zeek conn field ts: \"17000000000000.5\" is not a time (epoch seconds up to the year 2262)"
        );
        assert!(
            p.parse("1700000000.5\t10.0.0.1\t80", &ctx)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            p.parse("#types\ttime\taddr", &ctx).unwrap_err().0,
            "Zeek #types header lists 2 types but #fields names 3 fields"
        );
    }

    #[test]
    fn json_without_path_infers_it() {
        let ctx = ParseContext::new("t");
        let line = r#"{"ts":1521911720.629574,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1234,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","query":"example.com","qtype_name":"A","rcode":0,"rcode_name":"NOERROR","answers":["93.184.216.34","cname.example."]}"#;
        let e = ZeekParser::new().parse(line, &ctx).unwrap().unwrap();
        assert_eq!(e.get_str(ecs::EVENT_DATASET), Some("zeek.dns"));
        assert_eq!(e.timestamp.to_rfc3339(), "2018-03-24T17:15:20.629574Z");
        assert_eq!(e.get("id.orig_h"), Some(&ip("10.0.0.1")));
        assert_eq!(
            e.get(ecs::DNS_RESOLVED_IP),
            Some(&Value::List(vec![ip("93.184.216.34")]))
        );
        assert_eq!(
            e.get(ecs::DNS_ANSWERS_DATA),
            Some(&strs(&["93.184.216.34", "cname.example."]))
        );
        assert_eq!(e.get_str(ecs::DNS_QUESTION_NAME), Some("example.com"));
    }

    /// The soc-zeek-lab logs are damaged copies: many lines hold two or more records run
    /// together (the newline between them lost, often with stray digits of a time stamp in
    /// front of the next record, e.g. `…\tTCP11754309270.721227\t…` or `17541754309292.8…`),
    /// and a few are cut short. Those lines are refused, each for the reason given here: a
    /// field count other than the 2n-1, 3n-2, … of run-together records, or a `ts` that is no
    /// time (the stray digits make it > year 2262). Every other line parses.
    /// (file, data rows, events, [(line number, what the reason says)])
    type Expected = (&'static str, usize, usize, &'static [(usize, &'static str)]);

    #[test]
    fn soc_zeek_lab_tsv_logs_parse_except_the_damaged_lines() {
        let expected: &[Expected] = &[
            ("soc-zeek-lab/conn.log", 809, 808, &[(784, "has 1 field,")]),
            (
                "soc-zeek-lab/dns.log",
                1386,
                1381,
                &[
                    (1118, "has 45 fields"),
                    (1147, "has 45 fields"),
                    (1219, "has 45 fields"),
                    (1222, "has 45 fields"),
                    (1357, "has 14 fields"),
                ],
            ),
            (
                "soc-zeek-lab/ssl.log",
                104,
                60,
                &[
                    (12, "has 52 fields"),
                    (18, "has 101 fields"),
                    (19, "has 35 fields"),
                    (20, "ts: \"171754309265.846570\""),
                    (22, "has 34 fields"),
                    (23, "has 34 fields"),
                    (24, "has 34 fields"),
                    (26, "has 33 fields"),
                    (28, "has 52 fields"),
                    (30, "has 35 fields"),
                    (31, "ts: \"171754309285.369165\""),
                    (33, "has 34 fields"),
                    (34, "has 66 fields"),
                    (35, "ts: \"17541754309292.839862\""),
                    (37, "has 80 fields"),
                    (38, "ts: \"175431754309285.420141\""),
                    (46, "has 34 fields"),
                    (48, "ts: \"17541754309384.183014\""),
                    (49, "has 34 fields"),
                    (50, "has 61 fields"),
                    (51, "has 46 fields"),
                    (52, "has 47 fields"),
                    (55, "has 63 fields"),
                    (56, "has 34 fields"),
                    (57, "has 34 fields"),
                    (59, "has 47 fields"),
                    (60, "has 34 fields"),
                    (61, "has 48 fields"),
                    (68, "has 34 fields"),
                    (73, "has 114 fields"),
                    (74, "has 35 fields"),
                    (80, "ts: \"171754311103.247000\""),
                    (81, "has 66 fields"),
                    (83, "has 34 fields"),
                    (85, "has 34 fields"),
                    (89, "has 35 fields"),
                    (104, "has 35 fields"),
                    (105, "has 52 fields"),
                    (106, "has 35 fields"),
                    (107, "has 164 fields"),
                    (108, "has 33 fields"),
                    (110, "ts: \"17543131754313409.279506\""),
                    (111, "has 32 fields"),
                    (112, "ts: \"175434291754342905.775310\""),
                ],
            ),
            (
                "soc-zeek-lab/quic.log",
                79,
                44,
                &[
                    (11, "has 49 fields"),
                    (12, "has 25 fields"),
                    (13, "ts: \"11754309265.846516\""),
                    (15, "has 25 fields"),
                    (16, "has 25 fields"),
                    (17, "has 25 fields"),
                    (19, "has 37 fields"),
                    (21, "has 25 fields"),
                    (22, "ts: \"17541754309285.369134\""),
                    (24, "has 25 fields"),
                    (25, "has 49 fields"),
                    (26, "ts: \"1754301754309292.839807\""),
                    (28, "has 61 fields"),
                    (31, "ts: \"17543091754309384.182945\""),
                    (32, "has 25 fields"),
                    (33, "has 37 fields"),
                    (34, "has 25 fields"),
                    (35, "has 37 fields"),
                    (37, "has 49 fields"),
                    (38, "has 25 fields"),
                    (39, "has 25 fields"),
                    (41, "has 37 fields"),
                    (43, "has 37 fields"),
                    (50, "has 25 fields"),
                    (54, "has 85 fields"),
                    (55, "has 25 fields"),
                    (61, "has 49 fields"),
                    (63, "has 25 fields"),
                    (65, "has 25 fields"),
                    (68, "has 25 fields"),
                    (77, "has 85 fields"),
                    (78, "has 25 fields"),
                    (80, "has 37 fields"),
                    (86, "has 37 fields"),
                    (87, "has 25 fields"),
                ],
            ),
            (
                "soc-zeek-lab/ntp.log",
                12,
                7,
                &[
                    (15, "ts: \"171754313429.058713\""),
                    (16, "has 37 fields"),
                    (17, "has 36 fields"),
                    (18, "has 37 fields"),
                    (20, "has 1 field,"),
                ],
            ),
            (
                "soc-zeek-lab/dhcp.log",
                4,
                3,
                &[(12, "ts: \"11754342946.213631\"")],
            ),
            ("soc-zeek-lab/http.log", 1, 0, &[(9, "has 59 fields")]),
            ("soc-zeek-lab/files.log", 1, 0, &[(9, "has 53 fields")]),
            ("soc-zeek-lab/weird.log", 1, 0, &[(9, "has 21 fields")]),
        ];
        for (file, rows, events, errors) in expected {
            let out = parse_file(file);
            assert_eq!(out.rows, *rows, "{file}: data rows");
            assert_eq!(out.events.len(), *events, "{file}: events");
            let lines: Vec<usize> = out.errors.iter().map(|(l, _)| *l).collect();
            let want: Vec<usize> = errors.iter().map(|(l, _)| *l).collect();
            assert_eq!(lines, want, "{file}: refused lines");
            for ((line, reason), (_, says)) in out.errors.iter().zip(errors.iter()) {
                assert!(
                    reason.contains(says),
                    "{file}:{line}: {reason:?} should say {says:?}"
                );
                assert!(
                    reason.contains("fields, but its #fields header declares")
                        || reason.contains("field, but its #fields header declares")
                        || reason.contains("is not a time (epoch seconds up to the year 2262)"),
                    "{file}:{line}: {reason}"
                );
            }
        }
        // SOURCE.md counts 80 quic rows: its last line is empty, which is no record.
        let quic = read("soc-zeek-lab/quic.log");
        assert_eq!(quic.lines().filter(|l| !l.starts_with('#')).count(), 80);
        assert_eq!(quic.lines().last(), Some(""));
    }
}
