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
    let n: String = name
        .chars()
        .map(|c| match c {
            '_' | '-' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let has = |w: &str| n.contains(w);
    if has("firmware") || has("update module") {
        Operation::Firmware
    } else if has("download")
        || has("request download")
        || has("delete block")
        || has("insert block")
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
    {
        Operation::Identity
    } else if has("read")
        || has("get")
        || has("browse")
        || has("response")
        || has("ack")
        || has("poll")
        || has("notification")
    {
        Operation::Read
    } else {
        Operation::Other
    }
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
