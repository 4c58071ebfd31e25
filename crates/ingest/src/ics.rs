//! Industrial protocols: the `ics.*` namespace every ICS record gets beside its native
//! fields, whichever sensor wrote it, so that rules, the console and the OT behaviour model
//! can ask one question — "what did this message do to the process?" — of Modbus, DNP3,
//! S7comm, BACnet, CIP and OPC UA alike.
//!
//! | field | meaning |
//! |---|---|
//! | `ics.protocol` | `modbus`, `dnp3`, `s7comm`, `bacnet`, `cip`, `enip`, `opcua` |
//! | `ics.function.name` | the function, service or command as the sensor names it (`WRITE_MULTIPLE_COILS`, `DIRECT_OPERATE`, `PLC Stop`, `reinitialize_device`, `Set Attribute Single`) |
//! | `ics.function.code` | its number, where the log gives one |
//! | `ics.operation` | what it does, by [`Operation`]: `read`, `write`, `control`, `program_download`, `program_upload`, `firmware`, `mode_change`, `restart`, `configuration`, `diagnostic`, `identity`, `other` |
//! | `ics.state_changing` | true for write, control, program download, firmware, mode change, restart and configuration |
//! | `ics.unit_id`, `ics.address`, `ics.quantity`, `ics.exception` | Modbus unit, first register or coil, count, exception |
//!
//! Zeek's own logs and the CISA ICSNPP logs are mapped here (the log path names the
//! protocol); [`classify`] is the one place that says what a function name means.

use haechi_event::{Event, Value};

/// What an ICS message does to the process it controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
    Control,
    ProgramDownload,
    ProgramUpload,
    Firmware,
    ModeChange,
    Restart,
    Configuration,
    Diagnostic,
    Identity,
    Other,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Control => "control",
            Operation::ProgramDownload => "program_download",
            Operation::ProgramUpload => "program_upload",
            Operation::Firmware => "firmware",
            Operation::ModeChange => "mode_change",
            Operation::Restart => "restart",
            Operation::Configuration => "configuration",
            Operation::Diagnostic => "diagnostic",
            Operation::Identity => "identity",
            Operation::Other => "other",
        }
    }

    /// Whether the operation changes the state of the process or the device.
    pub fn is_state_changing(self) -> bool {
        matches!(
            self,
            Operation::Write
                | Operation::Control
                | Operation::ProgramDownload
                | Operation::Firmware
                | Operation::ModeChange
                | Operation::Restart
                | Operation::Configuration
        )
    }
}

/// [`classify`], remembered per thread for the few hundred names a network uses, so that
/// the hot path does not build a lower-case copy of every record's function name.
pub fn classify_cached(name: &str) -> Operation {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static SEEN: RefCell<HashMap<Box<str>, Operation>> = RefCell::new(HashMap::new());
    }
    SEEN.with(|seen| {
        if let Some(op) = seen.borrow().get(name) {
            return *op;
        }
        let op = classify(name);
        let mut seen = seen.borrow_mut();
        if seen.len() >= 4_096 {
            seen.clear();
        }
        seen.insert(name.into(), op);
        op
    })
}

/// What a function, service or command name means, on any of the protocols. The name is
/// compared without case, with `_`, `-` and spaces alike; the most specific meaning wins
/// (`READ_WRITE_MULTIPLE_REGISTERS` writes, `Start Upload` uploads).
pub fn classify(name: &str) -> Operation {
    // `SetAttributeSingle` (Suricata's CIP names) reads as `set attribute single`.
    let mut n = String::with_capacity(name.len() + 8);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            n.push(' ');
        }
        previous_lower = c.is_ascii_lowercase();
        n.push(match c {
            '_' | '-' => ' ',
            c => c.to_ascii_lowercase(),
        });
    }
    let has = |w: &str| n.contains(w);
    if has("monitoring mode") || has("publishing mode") {
        // OPC UA subscription settings, not the device's operating mode.
        Operation::Read
    } else if has("firmware") || has("update module") {
        Operation::Firmware
    } else if has("download")
        || has("request download")
        || has("delete block")
        || has("insert block")
        || (has("program ") && !has("upload"))
    {
        Operation::ProgramDownload
    } else if has("upload") {
        Operation::ProgramUpload
    } else if has("restart")
        || has("reinitialize")
        || has("reboot")
        || has("reset")
        || has("communication control")
        || has("device communication")
        || has("restart communications")
    {
        Operation::Restart
    } else if has("plc stop")
        || has("plc start")
        || has("plc hot start")
        || has("plc cold start")
        || has("stop appl")
        || has("start appl")
        || has("stop")
        || has("run mode")
        || has("mode")
    {
        Operation::ModeChange
    } else if has("operate") || has("select") || has("pi service") || has("call") || has("freeze") {
        Operation::Control
    } else if has("write")
        || has("history update")
        || has("set attribute")
        || has("set member")
        || has("force")
        || has("mask")
    {
        Operation::Write
    } else if has("record current time")
        || has("delay measure")
        || has("assign class")
        || has("enable unsolicited")
        || has("disable unsolicited")
        || has("initialize")
        || has("time set")
        || has("set clock")
        || has("time synchronization")
        || has("save config")
        || has("activate config")
        || has("add nodes")
        || has("delete nodes")
        || has("add references")
        || has("delete references")
        || has("create object")
        || has("delete object")
        || has("add list element")
        || has("remove list element")
    {
        Operation::Configuration
    } else if has("diagnos") {
        Operation::Diagnostic
    } else if has("identif")
        || has("identity")
        || has("read szl")
        || has("who is")
        || has("i am")
        || has("who has")
        || has("i have")
        || has("encap interface transport")
        || has("list identity")
        || has("report server id")
        || has("report slave id")
    {
        Operation::Identity
    } else if has("read")
        || has("get")
        || has("browse")
        || has("response")
        || has("ack")
        || has("poll")
        || has("publish")
        || has("notification")
    {
        Operation::Read
    } else {
        Operation::Other
    }
}

/// Modbus function codes, with Zeek's names (so every sensor's records read alike).
pub fn modbus_function_name(code: u32) -> Option<&'static str> {
    Some(match code {
        1 => "READ_COILS",
        2 => "READ_DISCRETE_INPUTS",
        3 => "READ_HOLDING_REGISTERS",
        4 => "READ_INPUT_REGISTERS",
        5 => "WRITE_SINGLE_COIL",
        6 => "WRITE_SINGLE_REGISTER",
        7 => "READ_EXCEPTION_STATUS",
        8 => "DIAGNOSTICS",
        9 => "PROGRAM_484",
        10 => "POLL_484",
        11 => "GET_COMM_EVENT_COUNTER",
        12 => "GET_COMM_EVENT_LOG",
        13 => "PROGRAM_584_984",
        14 => "POLL_584_984",
        15 => "WRITE_MULTIPLE_COILS",
        16 => "WRITE_MULTIPLE_REGISTERS",
        17 => "REPORT_SLAVE_ID",
        18 => "PROGRAM_884_U84",
        19 => "RESET_COMM_LINK_884_U84",
        20 => "READ_FILE_RECORD",
        21 => "WRITE_FILE_RECORD",
        22 => "MASK_WRITE_REGISTER",
        23 => "READ_WRITE_MULTIPLE_REGISTERS",
        24 => "READ_FIFO_QUEUE",
        40 => "PROGRAM_CONCEPT",
        43 => "ENCAP_INTERFACE_TRANSPORT",
        125 => "FIRMWARE_REPLACEMENT",
        126 => "PROGRAM_584_984_2",
        127 => "REPORT_LOCAL_ADDRESS",
        _ => return None,
    })
}

/// DNP3 application-layer function codes, with Zeek's names.
pub fn dnp3_function_name(code: u32) -> Option<&'static str> {
    const NAMES: [&str; 34] = [
        "CONFIRM",
        "READ",
        "WRITE",
        "SELECT",
        "OPERATE",
        "DIRECT_OPERATE",
        "DIRECT_OPERATE_NR",
        "IMMED_FREEZE",
        "IMMED_FREEZE_NR",
        "FREEZE_CLEAR",
        "FREEZE_CLEAR_NR",
        "FREEZE_AT_TIME",
        "FREEZE_AT_TIME_NR",
        "COLD_RESTART",
        "WARM_RESTART",
        "INITIALIZE_DATA",
        "INITIALIZE_APPL",
        "START_APPL",
        "STOP_APPL",
        "SAVE_CONFIG",
        "ENABLE_UNSOLICITED",
        "DISABLE_UNSOLICITED",
        "ASSIGN_CLASS",
        "DELAY_MEASURE",
        "RECORD_CURRENT_TIME",
        "OPEN_FILE",
        "CLOSE_FILE",
        "DELETE_FILE",
        "GET_FILE_INFO",
        "AUTHENTICATE_FILE",
        "ABORT_FILE",
        "ACTIVATE_CONFIG",
        "AUTHENTICATE_REQ",
        "AUTHENTICATE_ERR",
    ];
    match code {
        129 => Some("RESPONSE"),
        130 => Some("UNSOLICITED_RESPONSE"),
        131 => Some("AUTHENTICATE_RESP"),
        c => NAMES.get(c as usize).copied(),
    }
}

/// S7comm job functions (the `param.func` byte), with Wireshark's and ICSNPP's names.
pub fn s7comm_function_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0x00 => "CPU services",
        0x04 => "Read Var",
        0x05 => "Write Var",
        0x1a => "Request download",
        0x1b => "Download block",
        0x1c => "Download ended",
        0x1d => "Start upload",
        0x1e => "Upload",
        0x1f => "End upload",
        0x28 => "PI-Service",
        0x29 => "PLC Stop",
        0xf0 => "Setup communication",
        _ => return None,
    })
}

/// S7comm user-data functions by function group and subfunction.
pub fn s7comm_userdata_name(group: u32, subfunction: u32) -> &'static str {
    match (group, subfunction) {
        (1, _) => "Mode transition",
        (2, _) => "Programmer commands",
        (3, _) => "Cyclic data read",
        (4, 1) => "Read SZL",
        (4, 3) => "Transition to STOP",
        (4, _) => "CPU functions",
        (5, _) => "PLC password",
        (6, _) => "Programmable block communication",
        (7, 1 | 3) => "Read clock",
        (7, 2 | 4) => "Set clock",
        (7, _) => "Time functions",
        _ => "Userdata",
    }
}

/// CIP services (request codes; a response sets bit 7), by the names of the CIP
/// specification; 0x4c–0x53 as Logix controllers and the Connection Manager use them.
pub fn cip_service_name(code: u32) -> Option<&'static str> {
    Some(match code & 0x7f {
        0x01 => "Get Attributes All",
        0x02 => "Set Attributes All",
        0x03 => "Get Attribute List",
        0x04 => "Set Attribute List",
        0x05 => "Reset",
        0x06 => "Start",
        0x07 => "Stop",
        0x08 => "Create",
        0x09 => "Delete",
        0x0a => "Multiple Service Packet",
        0x0d => "Apply Attributes",
        0x0e => "Get Attribute Single",
        0x10 => "Set Attribute Single",
        0x11 => "Find Next Object Instance",
        0x15 => "Restore",
        0x16 => "Save",
        0x17 => "No Operation",
        0x18 => "Get Member",
        0x19 => "Set Member",
        0x1a => "Insert Member",
        0x1b => "Remove Member",
        0x4b => "Execute PCCC",
        0x4c => "Read Tag",
        0x4d => "Write Tag",
        0x4e => "Forward Close",
        0x52 => "Unconnected Send",
        0x53 => "Write Tag Fragmented",
        0x54 => "Forward Open",
        0x5b => "Large Forward Open",
        _ => return None,
    })
}

/// BACnet confirmed services, with ICSNPP's names.
pub fn bacnet_confirmed_service_name(code: u32) -> Option<&'static str> {
    const NAMES: [&str; 30] = [
        "acknowledge_alarm",
        "confirmed_cov_notification",
        "confirmed_event_notification",
        "get_alarm_summary",
        "get_enrollment_summary",
        "subscribe_cov",
        "atomic_read_file",
        "atomic_write_file",
        "add_list_element",
        "remove_list_element",
        "create_object",
        "delete_object",
        "read_property",
        "read_property_conditional",
        "read_property_multiple",
        "write_property",
        "write_property_multiple",
        "device_communication_control",
        "confirmed_private_transfer",
        "confirmed_text_message",
        "reinitialize_device",
        "vt_open",
        "vt_close",
        "vt_data",
        "authenticate",
        "request_key",
        "read_range",
        "life_safety_operation",
        "subscribe_cov_property",
        "get_event_information",
    ];
    NAMES.get(code as usize).copied()
}

/// BACnet unconfirmed services, with ICSNPP's names.
pub fn bacnet_unconfirmed_service_name(code: u32) -> Option<&'static str> {
    const NAMES: [&str; 12] = [
        "i_am",
        "i_have",
        "unconfirmed_cov_notification",
        "unconfirmed_event_notification",
        "unconfirmed_private_transfer",
        "unconfirmed_text_message",
        "time_synchronization",
        "who_has",
        "who_is",
        "utc_time_synchronization",
        "write_group",
        "unconfirmed_cov_notification_multiple",
    ];
    NAMES.get(code as usize).copied()
}

/// OPC UA services by the numeric node id of their binary encoding (namespace 0).
pub fn opcua_service_name(id: u32) -> Option<&'static str> {
    Some(match id {
        397 => "ServiceFault",
        422 => "FindServersRequest",
        425 => "FindServersResponse",
        428 => "GetEndpointsRequest",
        431 => "GetEndpointsResponse",
        446 => "OpenSecureChannelRequest",
        449 => "OpenSecureChannelResponse",
        452 => "CloseSecureChannelRequest",
        455 => "CloseSecureChannelResponse",
        461 => "CreateSessionRequest",
        464 => "CreateSessionResponse",
        467 => "ActivateSessionRequest",
        470 => "ActivateSessionResponse",
        473 => "CloseSessionRequest",
        476 => "CloseSessionResponse",
        479 => "CancelRequest",
        482 => "CancelResponse",
        488 => "AddNodesRequest",
        491 => "AddNodesResponse",
        494 => "AddReferencesRequest",
        497 => "AddReferencesResponse",
        500 => "DeleteNodesRequest",
        503 => "DeleteNodesResponse",
        506 => "DeleteReferencesRequest",
        509 => "DeleteReferencesResponse",
        527 => "BrowseRequest",
        530 => "BrowseResponse",
        533 => "BrowseNextRequest",
        536 => "BrowseNextResponse",
        554 => "TranslateBrowsePathsToNodeIdsRequest",
        557 => "TranslateBrowsePathsToNodeIdsResponse",
        560 => "RegisterNodesRequest",
        563 => "RegisterNodesResponse",
        566 => "UnregisterNodesRequest",
        569 => "UnregisterNodesResponse",
        631 => "ReadRequest",
        634 => "ReadResponse",
        664 => "HistoryReadRequest",
        667 => "HistoryReadResponse",
        673 => "WriteRequest",
        676 => "WriteResponse",
        700 => "HistoryUpdateRequest",
        703 => "HistoryUpdateResponse",
        712 => "CallRequest",
        715 => "CallResponse",
        751 => "CreateMonitoredItemsRequest",
        754 => "CreateMonitoredItemsResponse",
        763 => "ModifyMonitoredItemsRequest",
        766 => "ModifyMonitoredItemsResponse",
        769 => "SetMonitoringModeRequest",
        772 => "SetMonitoringModeResponse",
        781 => "DeleteMonitoredItemsRequest",
        784 => "DeleteMonitoredItemsResponse",
        787 => "CreateSubscriptionRequest",
        790 => "CreateSubscriptionResponse",
        793 => "ModifySubscriptionRequest",
        796 => "ModifySubscriptionResponse",
        799 => "SetPublishingModeRequest",
        802 => "SetPublishingModeResponse",
        826 => "PublishRequest",
        829 => "PublishResponse",
        832 => "RepublishRequest",
        835 => "RepublishResponse",
        841 => "TransferSubscriptionsRequest",
        844 => "TransferSubscriptionsResponse",
        847 => "DeleteSubscriptionsRequest",
        850 => "DeleteSubscriptionsResponse",
        _ => return None,
    })
}

/// Which way an ICS message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client (master, engineering station, HMI) to the device.
    Request,
    /// From the device back.
    Response,
}

/// One ICS message as a packet or transaction sensor saw it, for [`push_message`].
#[derive(Debug, Default)]
pub struct Message<'a> {
    pub protocol: &'static str,
    pub function_name: Option<std::borrow::Cow<'a, str>>,
    pub function_code: Option<u32>,
    pub direction: Option<Direction>,
    pub unit_id: Option<i64>,
    pub address: Option<i64>,
    pub quantity: Option<i64>,
    pub exception: Option<std::borrow::Cow<'a, str>>,
}

/// Adds the `ics.*` fields of `message` to `event` (tshark and Suricata records; Zeek's
/// logs go through [`normalize_zeek`]). `ics.direction` is `request` or `response`.
pub fn push_message(event: &mut Event, message: Message<'_>) {
    event.push("ics.protocol", message.protocol);
    let operation = message
        .function_name
        .as_deref()
        .map(classify_cached)
        .unwrap_or(Operation::Other);
    if let Some(name) = message.function_name {
        event.push("ics.function.name", name.into_owned());
    }
    if let Some(code) = message.function_code {
        event.push("ics.function.code", code as i64);
    }
    event.push("ics.operation", operation.as_str());
    event.push("ics.state_changing", operation.is_state_changing());
    if let Some(direction) = message.direction {
        event.push(
            "ics.direction",
            match direction {
                Direction::Request => "request",
                Direction::Response => "response",
            },
        );
    }
    for (name, value) in [
        ("ics.unit_id", message.unit_id),
        ("ics.address", message.address),
        ("ics.quantity", message.quantity),
    ] {
        if let Some(v) = value {
            event.push(name, v);
        }
    }
    if let Some(e) = message.exception {
        event.push("ics.exception", e.into_owned());
    }
}

/// Adds the `ics.*` fields to a Suricata `modbus`, `dnp3` or `enip` EVE record. Suricata
/// logs one transaction per record (a Modbus or ENIP request with its response; a DNP3
/// request or response), from the client: `ics.direction` says which part named the
/// function.
pub fn normalize_suricata(event: &mut Event, protocol: &'static str) {
    let int = |event: &Event, name: &str| event.get(name).and_then(Value::as_f64).map(|v| v as i64);
    let text = |event: &Event, name: &str| event.get_str(name).map(str::to_owned);
    let message = match protocol {
        "modbus" => {
            let (part, direction) = if event.get("modbus.request.function_raw").is_some() {
                ("request", Direction::Request)
            } else {
                ("response", Direction::Response)
            };
            let code = int(event, &format!("modbus.{part}.function_raw")).map(|c| c as u32 & 0x7f);
            let first = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| int(event, &format!("modbus.{part}.{n}")))
            };
            Message {
                protocol,
                function_name: code
                    .and_then(modbus_function_name)
                    .map(std::borrow::Cow::Borrowed)
                    .or_else(|| {
                        text(event, &format!("modbus.{part}.function_code")).map(Into::into)
                    }),
                function_code: code,
                direction: Some(direction),
                unit_id: first(&["unit_id"]),
                address: first(&["write.address", "read.address"]),
                quantity: first(&["write.quantity", "read.quantity"]),
                exception: text(event, "modbus.response.exception.code").map(Into::into),
            }
        }
        "dnp3" => {
            let code = int(event, "dnp3.application.function_code").map(|c| c as u32);
            let direction = match event.get_str("dnp3.type") {
                Some("request") => Some(Direction::Request),
                Some(_) => Some(Direction::Response),
                None => None,
            };
            Message {
                protocol,
                function_name: code.and_then(dnp3_function_name).map(Into::into),
                function_code: code,
                direction,
                ..Message::default()
            }
        }
        _ => {
            let service = text(event, "enip.request.cip.service")
                .or_else(|| text(event, "enip.response.cip.service"));
            let command = text(event, "enip.request.command")
                .or_else(|| text(event, "enip.response.command"));
            Message {
                protocol,
                function_name: service.or(command).map(Into::into),
                direction: Some(if event.get("enip.request.command").is_some() {
                    Direction::Request
                } else {
                    Direction::Response
                }),
                ..Message::default()
            }
        }
    };
    push_message(event, message);
}

/// The protocol a Zeek log path belongs to.
fn protocol_of_path(path: &str) -> Option<&'static str> {
    let p = path.to_ascii_lowercase();
    [
        ("modbus", "modbus"),
        ("dnp3", "dnp3"),
        ("s7comm", "s7comm"),
        ("bacnet", "bacnet"),
        ("cip", "cip"),
        ("enip", "enip"),
        ("opcua", "opcua"),
    ]
    .into_iter()
    .find(|(prefix, _)| p.starts_with(prefix))
    .map(|(_, proto)| proto)
}

/// The fields that name the function, most specific first.
const FUNCTION_FIELDS: &[&str] = &[
    "func",
    "fc_request",
    "fc_reply",
    "function_name",
    "pdu_service",
    "cip_service",
    "enip_command",
    "opcode_name",
    "req_hdr_service_type",
    "service",
    "function_code",
];

fn text(event: &Event, field: &str) -> Option<String> {
    event
        .get(field)
        .map(|v| v.as_text().trim().to_owned())
        .filter(|s| !s.is_empty() && s != "-")
}

/// Adds the `ics.*` fields to an event of a Zeek ICS log (`path` is its log path); other
/// logs are left alone.
pub fn normalize_zeek(event: &mut Event, path: &str) {
    let Some(protocol) = protocol_of_path(path) else {
        return;
    };
    event.push("ics.protocol", protocol);
    // Logs named for one function (`modbus_mask_write_register`) carry no function field.
    let implied = match path {
        "modbus_mask_write_register" => Some("MASK_WRITE_REGISTER".to_owned()),
        "modbus_read_write_multiple_registers" => Some("READ_WRITE_MULTIPLE_REGISTERS".to_owned()),
        "bacnet_device_control" => None,
        _ => None,
    };
    let name = implied.or_else(|| {
        FUNCTION_FIELDS
            .iter()
            .filter_map(|f| text(event, f))
            .find(|v| !v.starts_with("0x") && v.parse::<f64>().is_err())
    });
    let code = ["function_code", "fc", "cip_service_code"]
        .iter()
        .filter_map(|f| text(event, f))
        .find(|v| v.starts_with("0x") || v.parse::<u32>().is_ok());
    let operation = match (&name, path) {
        (Some(n), _) => classify_cached(n),
        (None, p) if p.contains("upload_download") => Operation::ProgramDownload,
        (None, p)
            if p.contains("read_szl") || p.contains("identity") || p.contains("known_devices") =>
        {
            Operation::Identity
        }
        _ => Operation::Other,
    };
    if let Some(n) = name {
        event.push("ics.function.name", n);
    }
    if let Some(c) = code {
        event.push("ics.function.code", c);
    }
    event.push("ics.operation", operation.as_str());
    event.push("ics.state_changing", operation.is_state_changing());
    for (from, to) in [
        ("unit", "ics.unit_id"),
        ("unit_id", "ics.unit_id"),
        ("address", "ics.address"),
        ("quantity", "ics.quantity"),
        ("exception", "ics.exception"),
        ("exception_code", "ics.exception"),
    ] {
        if event.get(to).is_none()
            && let Some(v) = event.get(from).cloned()
            && !matches!(&v, Value::Str(s) if s.is_empty() || s == "-")
        {
            event.push(to, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_of_every_protocol_classify() {
        for (name, want) in [
            ("READ_COILS", Operation::Read),
            ("READ_INPUT_REGISTERS", Operation::Read),
            ("WRITE_MULTIPLE_COILS", Operation::Write),
            ("READ_WRITE_MULTIPLE_REGISTERS", Operation::Write),
            ("MASK_WRITE_REGISTER", Operation::Write),
            ("DIAGNOSTICS", Operation::Diagnostic),
            ("ENCAP_INTERFACE_TRANSPORT", Operation::Identity),
            ("DIRECT_OPERATE", Operation::Control),
            ("SELECT", Operation::Control),
            ("COLD_RESTART", Operation::Restart),
            ("STOP_APPL", Operation::ModeChange),
            ("DISABLE_UNSOLICITED", Operation::Configuration),
            ("RECORD_CURRENT_TIME", Operation::Configuration),
            ("UNSOLICITED_RESPONSE", Operation::Read),
            ("PLC Stop", Operation::ModeChange),
            ("Start Upload", Operation::ProgramUpload),
            ("Request Download", Operation::ProgramDownload),
            ("Download block", Operation::ProgramDownload),
            ("PI-Service", Operation::Control),
            ("Write Var", Operation::Write),
            ("Read Var", Operation::Read),
            ("Setup Communication", Operation::Other),
            ("reinitialize_device", Operation::Restart),
            ("device_communication_control", Operation::Restart),
            ("write_property", Operation::Write),
            ("read_property", Operation::Read),
            ("who_is", Operation::Identity),
            ("Set Attribute Single", Operation::Write),
            ("Get Attribute List", Operation::Read),
            ("Reset", Operation::Restart),
        ] {
            assert_eq!(classify(name), want, "{name}");
        }
        assert!(Operation::Write.is_state_changing());
        assert!(!Operation::Read.is_state_changing());
        assert!(!Operation::Identity.is_state_changing());
    }
}
