//! `tshark`: Wireshark's packet JSON as `tshark -T ek` writes it (Elasticsearch bulk
//! lines), so that a facility without Zeek can watch its ICS network with
//! `tshark -i IF -T ek | haechi ingest --format auto -` or a capture file.
//!
//! ```text
//! {"index":{"_index":"packets-2020-07-25","_type":"doc"}}
//! {"timestamp":"1595660608237","layers":{"frame":{…},"ip":{…},"tcp":{…},"mbtcp":{…},"modbus":{…}}}
//! ```
//!
//! * The bulk action line (`{"index":…}`) carries no packet and is skipped. So are packets
//!   with nothing above TCP or UDP (handshakes, bare acknowledgements) and packets that are
//!   not IP (ARP, spanning tree, LLDP): they hold no message a rule or the OT model reads.
//! * `@timestamp` from `frame.time_epoch` (to the nanosecond), else the line's
//!   `timestamp` (milliseconds); `source.*`/`destination.*` from the IP and TCP/UDP layers
//!   (the packet's sender and receiver), `network.transport`, `network.protocol` (the top
//!   decoded layer), `network.bytes` (frame length); `event.module: tshark`,
//!   `event.dataset: tshark.<protocol>`; `observer.product: tshark`.
//! * The application layers' own fields are kept as `<layer>.<field>` (`modbus.func_code`,
//!   `s7comm.param_func`, `cip.service`: tshark's `modbus_modbus_func_code` without the
//!   repeated layer name), at most [`MAX_LAYER_FIELDS`] per packet.
//! * ICS messages (Modbus/TCP, DNP3, S7comm, CIP and EtherNet/IP, BACnet, OPC UA) get the
//!   `ics.*` fields of [`crate::ics`], with `ics.direction` (`request`/`response`) and
//!   `client.*`/`server.*` (the master or station and the device, whichever way the packet
//!   went), so that the OT model and the `category: ics` rules read them like Zeek's.
//! * Refused with the reason: a line that is not a JSON object, a record without a
//!   `layers` object, or one without a packet time.

use crate::ics::{self, Direction, Message};
use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, Value, ecs};
use serde_json::{Map, Value as Json};
use std::borrow::Cow;

/// The most native layer fields kept per packet (BACnet and OPC UA packets can carry
/// thousands of repeated values).
pub const MAX_LAYER_FIELDS: usize = 256;

/// The tshark EK parser (stateless).
pub struct TsharkParser;

/// Whether a JSON record (`inner`: the text after its opening brace) is a tshark EK line:
/// a bulk action line or a packet.
pub fn looks_like_ek(inner: &str) -> bool {
    (inner.starts_with("\"index\"") && inner.contains("\"_index\""))
        || (inner.starts_with("\"timestamp\"") && inner.contains("\"layers\""))
}

impl RecordParser for TsharkParser {
    fn format(&self) -> Format {
        Format::Tshark
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let map = normalize::json_object(record, "a tshark EK record")?;
        if map.contains_key("index") && !map.contains_key("layers") {
            return Ok(None);
        }
        let Some(Json::Object(layers)) = map.get("layers") else {
            return Err(ParseError::new(
                "tshark EK record without a \"layers\" object",
            ));
        };
        packet_event(&map, layers, ctx)
    }
}

fn packet_event(
    map: &Map<String, Json>,
    layers: &Map<String, Json>,
    ctx: &ParseContext,
) -> Result<Option<Event>, ParseError> {
    let frame = layers.get("frame").and_then(first_object);
    let timestamp = field(frame, "frame_frame_time_epoch")
        .and_then(normalize::epoch_seconds_text)
        .or_else(|| {
            map.get("timestamp")
                .and_then(first_str)
                .and_then(|t| t.parse::<i64>().ok())
                .and_then(normalize::epoch_integer)
        })
        .ok_or_else(|| {
            ParseError::new(
                "tshark EK record without a packet time (frame.time_epoch or timestamp)",
            )
        })?;
    let protocols: Vec<&str> = field(frame, "frame_frame_protocols")
        .map(|p| p.split(':').collect())
        .unwrap_or_default();
    let Some(transport_at) = protocols.iter().rposition(|p| *p == "tcp" || *p == "udp") else {
        return Ok(None);
    };
    let app = &protocols[transport_at + 1..];
    if app.is_empty() {
        return Ok(None);
    }
    let transport = protocols[transport_at];
    let top = app
        .iter()
        .rev()
        .find(|p| **p != "data")
        .copied()
        .unwrap_or("data");

    let mut event = Event::new(timestamp, ctx.tenant.clone(), 48);
    event.push(ecs::EVENT_MODULE, "tshark");
    event.push(ecs::EVENT_DATASET, format!("tshark.{top}"));
    normalize::categorize(&mut event, "event", &["network"], &["protocol"]);
    let ip = layers.get("ip").and_then(first_object);
    let ipv6 = layers.get("ipv6").and_then(first_object);
    let src = field(ip, "ip_ip_src").or_else(|| field(ipv6, "ipv6_ipv6_src"));
    let dst = field(ip, "ip_ip_dst").or_else(|| field(ipv6, "ipv6_ipv6_dst"));
    let ports = layers.get(transport).and_then(first_object);
    let src_port = field(ports, &format!("{transport}_{transport}_srcport"));
    let dst_port = field(ports, &format!("{transport}_{transport}_dstport"));
    for (name, value) in [(ecs::SOURCE_IP, src), (ecs::DESTINATION_IP, dst)] {
        if let Some(v) = value {
            normalize::push_ip(&mut event, name, v);
        }
    }
    for (name, value) in [
        (ecs::SOURCE_PORT, src_port),
        (ecs::DESTINATION_PORT, dst_port),
    ] {
        if let Some(v) = value {
            normalize::push_port(&mut event, name, v);
        }
    }
    event.push(ecs::NETWORK_TRANSPORT, transport);
    if top != "data" {
        event.push(ecs::NETWORK_PROTOCOL, top);
    }
    if let Some(len) = field(frame, "frame_frame_len").and_then(|l| l.parse::<i64>().ok()) {
        event.push("network.bytes", len);
    }
    normalize::observer(&mut event, "Wireshark", "tshark", "sensor");

    let mut budget = MAX_LAYER_FIELDS;
    for layer in app {
        match layers.get(*layer) {
            Some(Json::Object(fields)) => push_layer(&mut event, layer, fields, &mut budget),
            // Several PDUs of one protocol in one packet: a list of layers.
            Some(Json::Array(items)) => {
                for fields in items.iter().filter_map(Json::as_object) {
                    push_layer(&mut event, layer, fields, &mut budget);
                }
            }
            _ => {}
        }
    }
    let port_numbers = (
        src_port.and_then(|p| p.parse::<u16>().ok()),
        dst_port.and_then(|p| p.parse::<u16>().ok()),
    );
    if let Some(message) = ics_message(layers, app, port_numbers) {
        let direction = message.direction;
        ics::push_message(&mut event, message);
        let (client, client_port, server, server_port) = match direction {
            Some(Direction::Response) => (dst, dst_port, src, src_port),
            _ => (src, src_port, dst, dst_port),
        };
        for (name, value) in [("client.ip", client), ("server.ip", server)] {
            if let Some(v) = value {
                normalize::push_ip(&mut event, name, v);
            }
        }
        for (name, value) in [("client.port", client_port), ("server.port", server_port)] {
            if let Some(v) = value {
                normalize::push_port(&mut event, name, v);
            }
        }
    }
    Ok(Some(event))
}

/// A layer's fields; the first of several (tunnels, several PDUs in one packet).
fn first_object(value: &Json) -> Option<&Map<String, Json>> {
    match value {
        Json::Object(m) => Some(m),
        Json::Array(items) => items.iter().find_map(Json::as_object),
        _ => None,
    }
}

/// The first text of field `name` of a layer.
fn field<'a>(layer: Option<&'a Map<String, Json>>, name: &str) -> Option<&'a str> {
    layer.and_then(|l| l.get(name)).and_then(first_str)
}

/// The first text of a tshark value (a repeated field is an array).
fn first_str(value: &Json) -> Option<&str> {
    match value {
        Json::String(s) => Some(s),
        Json::Array(items) => items.iter().find_map(Json::as_str),
        _ => None,
    }
}

/// Every text of a tshark value.
fn all_strs(value: &Json) -> Vec<&str> {
    match value {
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A number as tshark writes it: decimal or `0x…` hexadecimal.
fn number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `modbus_modbus_func_code` → `modbus.func_code`; `cipcm_cip_cm_sc` in layer `cipcm` →
/// `cipcm.cip_cm_sc`.
fn field_name(layer: &str, key: &str) -> String {
    if let Some((head, rest)) = key.split_once('_')
        && let Some(tail) = rest.strip_prefix(head).and_then(|r| r.strip_prefix('_'))
    {
        return format!("{head}.{tail}");
    }
    let rest = key
        .strip_prefix(layer)
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or(key);
    format!("{layer}.{rest}")
}

fn push_layer(event: &mut Event, layer: &str, fields: &Map<String, Json>, budget: &mut usize) {
    for (key, value) in fields {
        if *budget == 0 {
            return;
        }
        if key.starts_with('_') || key == "text" {
            continue;
        }
        match value {
            Json::String(s) => event.push(field_name(layer, key), s.as_str()),
            Json::Bool(b) => event.push(field_name(layer, key), *b),
            Json::Array(items) => {
                let texts: Vec<Value> = items
                    .iter()
                    .filter_map(Json::as_str)
                    .take(64)
                    .map(Value::from)
                    .collect();
                if texts.is_empty() {
                    continue;
                }
                event.push(field_name(layer, key), Value::List(texts));
            }
            Json::Object(inner) => {
                push_layer(event, layer, inner, budget);
                continue;
            }
            _ => continue,
        }
        *budget -= 1;
    }
}

/// The ICS message a packet carries, if its layers decode one.
fn ics_message<'a>(
    layers: &'a Map<String, Json>,
    app: &[&str],
    (src_port, dst_port): (Option<u16>, Option<u16>),
) -> Option<Message<'a>> {
    // Whether the packet comes from the protocol's well-known server port (and does not go
    // to it): a reply, when the protocol fields do not say.
    let from_server = |port: u16| src_port == Some(port) && dst_port != Some(port);
    let get = |layer: &str, name: &str| -> Option<&'a str> {
        field(layers.get(layer).and_then(first_object), name)
    };
    let num = |layer: &str, name: &str| get(layer, name).and_then(number);
    let has = |p: &str| app.contains(&p);
    if has("modbus") {
        let code = num("modbus", "modbus_modbus_func_code");
        // Wireshark links a response to its request (and times it); a response whose
        // request was not captured is told by the port it comes from.
        let response = get("modbus", "modbus_modbus_request_frame").is_some()
            || get("modbus", "modbus_modbus_response_time").is_some()
            || from_server(502);
        return Some(Message {
            protocol: "modbus",
            function_name: code
                .and_then(|c| ics::modbus_function_name(c & 0x7f))
                .map(Cow::Borrowed),
            function_code: code.map(|c| c & 0x7f),
            direction: Some(if response {
                Direction::Response
            } else {
                Direction::Request
            }),
            unit_id: num("mbtcp", "mbtcp_mbtcp_unit_id").map(i64::from),
            address: num("modbus", "modbus_modbus_reference_num").map(i64::from),
            quantity: num("modbus", "modbus_modbus_bit_cnt")
                .or_else(|| num("modbus", "modbus_modbus_word_cnt"))
                .map(i64::from),
            exception: get("modbus", "modbus_modbus_exception_code").map(Cow::Borrowed),
        });
    }
    if has("dnp3") {
        let code = num("dnp3", "dnp3_dnp3_al_func");
        return Some(Message {
            protocol: "dnp3",
            function_name: code.and_then(ics::dnp3_function_name).map(Cow::Borrowed),
            function_code: code,
            direction: code.map(|c| {
                if c >= 129 {
                    Direction::Response
                } else {
                    Direction::Request
                }
            }),
            ..Message::default()
        });
    }
    if has("s7comm") {
        let rosctr = num("s7comm", "s7comm_s7comm_header_rosctr");
        if rosctr == Some(7) {
            let group = num("s7comm", "s7comm_s7comm_param_userdata_funcgroup").unwrap_or(0);
            let sub = num("s7comm", "s7comm_s7comm_param_userdata_subfunc").unwrap_or(0);
            let kind = num("s7comm", "s7comm_s7comm_param_userdata_type");
            return Some(Message {
                protocol: "s7comm",
                function_name: Some(Cow::Borrowed(ics::s7comm_userdata_name(group, sub))),
                direction: Some(if kind == Some(4) {
                    Direction::Request
                } else {
                    Direction::Response
                }),
                ..Message::default()
            });
        }
        let code = num("s7comm", "s7comm_s7comm_param_func");
        return Some(Message {
            protocol: "s7comm",
            function_name: code.and_then(ics::s7comm_function_name).map(Cow::Borrowed),
            function_code: code,
            direction: rosctr.map(|r| {
                if r == 1 {
                    Direction::Request
                } else {
                    Direction::Response
                }
            }),
            ..Message::default()
        });
    }
    if has("cip") || has("cipcm") || has("cipcls") {
        let services: Vec<u32> = layers
            .get("cip")
            .and_then(first_object)
            .and_then(|l| l.get("cip_cip_service"))
            .map(all_strs)
            .unwrap_or_default()
            .into_iter()
            .chain(get("cipcm", "cipcm_cip_cm_sc"))
            .filter_map(number)
            .collect();
        let response = services.first().is_some_and(|s| s & 0x80 != 0);
        // A multiple-service packet is as dangerous as the most dangerous service in it.
        let chosen = services
            .iter()
            .copied()
            .filter(|s| s & 0x7f != 0x0a)
            .find(|s| {
                ics::cip_service_name(*s)
                    .is_some_and(|n| ics::classify_cached(n).is_state_changing())
            })
            .or_else(|| services.iter().copied().find(|s| s & 0x7f != 0x0a))
            .or_else(|| services.first().copied());
        if let Some(service) = chosen {
            return Some(Message {
                protocol: "cip",
                function_name: ics::cip_service_name(service).map(Cow::Borrowed),
                function_code: Some(service & 0x7f),
                direction: Some(if response {
                    Direction::Response
                } else {
                    Direction::Request
                }),
                ..Message::default()
            });
        }
    }
    if has("enip") {
        let command = num("enip", "enip_enip_command");
        let name = command.and_then(|c| {
            Some(match c {
                0x0004 => "List Services",
                0x0063 => "List Identity",
                0x0064 => "List Interfaces",
                0x0065 => "Register Session",
                0x0066 => "Unregister Session",
                0x006f => "Send RR Data",
                0x0070 => "Send Unit Data",
                _ => return None,
            })
        });
        return Some(Message {
            protocol: "enip",
            function_name: name.map(Cow::Borrowed),
            function_code: command,
            direction: Some(if from_server(44818) || from_server(2222) {
                Direction::Response
            } else {
                Direction::Request
            }),
            ..Message::default()
        });
    }
    if has("bacapp") || has("bvlc") || has("bacnet") {
        let kind = num("bacapp", "bacapp_bacapp_type");
        let (code, name) = match kind {
            Some(1) => {
                let code = num("bacapp", "bacapp_bacapp_unconfirmed_service");
                (code, code.and_then(ics::bacnet_unconfirmed_service_name))
            }
            Some(_) => {
                let code = num("bacapp", "bacapp_bacapp_confirmed_service");
                (code, code.and_then(ics::bacnet_confirmed_service_name))
            }
            None => (None, None),
        };
        return Some(Message {
            protocol: "bacnet",
            function_name: name.map(Cow::Borrowed),
            function_code: code,
            direction: kind.map(|k| {
                if k <= 1 {
                    Direction::Request
                } else {
                    Direction::Response
                }
            }),
            ..Message::default()
        });
    }
    if has("opcua") {
        let id = num("opcua", "opcua_opcua_servicenodeid_numeric");
        let name = id.and_then(ics::opcua_service_name);
        return Some(Message {
            protocol: "opcua",
            function_name: name.map(Cow::Borrowed),
            function_code: id,
            direction: name.map(|n| {
                if n.ends_with("Request") {
                    Direction::Request
                } else {
                    Direction::Response
                }
            }),
            ..Message::default()
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::detect_record;

    const STOP: &str = r#"{"timestamp":"1397638799797","layers":{"frame":{"frame_frame_time_epoch":"1397638799.797657000","frame_frame_len":"87","frame_frame_protocols":"eth:ethertype:ip:tcp:tpkt:cotp:s7comm"},"ip":{"ip_ip_src":"10.0.0.5","ip_ip_dst":"10.0.0.9"},"tcp":{"tcp_tcp_srcport":"50111","tcp_tcp_dstport":"102"},"s7comm":{"s7comm_s7comm_header_rosctr":"1","s7comm_s7comm_param_func":"0x29","_ws_expert":{"x":"y"}}}}"#;

    #[test]
    fn bulk_lines_and_packets_are_recognised_and_read() {
        let ctx = ParseContext::new("t");
        let index = r#"{"index":{"_index":"packets-2014-04-16","_type":"doc"}}"#;
        assert_eq!(detect_record(index), Format::Tshark);
        assert_eq!(detect_record(STOP), Format::Tshark);
        let mut p = TsharkParser;
        assert!(p.parse(index, &ctx).unwrap().is_none());
        let e = p.parse(STOP, &ctx).unwrap().unwrap();
        assert_eq!(e.timestamp.0, 1_397_638_799_797_657_000);
        assert_eq!(e.get_str("ics.function.name"), Some("PLC Stop"));
        assert_eq!(e.get_str("ics.operation"), Some("mode_change"));
        assert_eq!(e.get_str("s7comm.param_func"), Some("0x29"));
        assert!(
            e.get("s7comm.x").is_none(),
            "expert info is not a protocol field"
        );
        assert_eq!(e.get("server.port").and_then(Value::as_f64), Some(102.0));
    }

    #[test]
    fn bare_transport_packets_are_not_events_and_broken_records_say_why() {
        let ctx = ParseContext::new("t");
        let mut p = TsharkParser;
        let syn = STOP.replace(":tpkt:cotp:s7comm", "");
        assert!(p.parse(&syn, &ctx).unwrap().is_none());
        let err = p
            .parse(r#"{"timestamp":"1","layers":5}"#, &ctx)
            .unwrap_err();
        assert!(err.0.contains("layers"), "{}", err.0);
        let no_time = STOP
            .replace("\"timestamp\":\"1397638799797\",", "")
            .replace("\"frame_frame_time_epoch\":\"1397638799.797657000\",", "");
        let err = p.parse(&no_time, &ctx).unwrap_err();
        assert!(err.0.contains("packet time"), "{}", err.0);
    }

    #[test]
    fn a_packet_keeps_a_bounded_number_of_fields() {
        let ctx = ParseContext::new("t");
        let many: Vec<String> = (0..2_000)
            .map(|i| format!("\"bacapp_bacapp_f{i}\":\"{i}\""))
            .collect();
        let record = STOP
            .replace(
                "\"s7comm\":{",
                &format!("\"bacapp\":{{{}}},\"s7comm\":{{", many.join(",")),
            )
            .replace(":s7comm\"", ":bacapp:s7comm\"");
        let e = TsharkParser.parse(&record, &ctx).unwrap().unwrap();
        let native = e
            .fields
            .iter()
            .filter(|(k, _)| k.starts_with("bacapp.") || k.starts_with("s7comm."))
            .count();
        assert_eq!(native, MAX_LAYER_FIELDS);
    }
}
