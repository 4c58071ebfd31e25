//! Which Sigma logsources an event belongs to.
//!
//! A rule applies to an event only when the rule's `product`, `category` and `service`
//! all agree with the event's (rsigma's `evaluate_with_logsource`). For Windows the
//! service follows from the channel and the category from the channel and event id, as
//! in the Sigma taxonomy (`process_creation` is Sysmon 1 and Security 4688, …).

use haechi_event::{Event, ecs};
use rsigma_parser::LogSource;

/// The logsources of an event (several when a category has a generic parent, such as
/// `registry_set` and `registry_event`). Empty when Haechi cannot tell.
///
/// | events | logsources |
/// |---|---|
/// | Windows (`winlog.channel`) | `product: windows`, `service` by channel, `category` by channel + event id |
/// | Zeek (`event.module: zeek`) | `product: zeek`, `service` = the log (`dns`, `http`, `conn`, `smb_files`, …); `dns` also `category: dns` |
/// | Suricata DNS (`event.module: suricata`, `event_type: dns`) | `category: dns` |
/// | Suricata and tshark ICS messages (an `ics.protocol`) | `category: ics`, `service` = the protocol (`modbus`, `dnp3`, `s7comm`, `cip`, `enip`, `bacnet`, `opcua`); tshark also `product: tshark` |
/// | AWS CloudTrail (`event.dataset: aws.cloudtrail`) | `product: aws`, `service: cloudtrail` |
/// | Kubernetes audit (`event.dataset: kubernetes.audit`) | `product: kubernetes`, `service: audit`, `category: application` |
/// | Azure (`azure.<service>`), GCP (`gcp.audit`), Microsoft 365 (`m365.<service>`), Okta (`okta.system`) | `product: azure\|gcp\|m365\|okta` with the service |
/// | web access logs (`event.category: web`, `event.type: access`) | `category: webserver` |
/// | firewalls (`observer.type: firewall`) | `category: firewall` |
/// | Unix syslog (a `process.name` and no device vendor) | `product: linux`, and `service` by program (`sshd`, `sudo`, `cron`, `vsftpd`, `clamav`, `guacamole`, `syslog`) |
/// | anything else | the empty logsource: only rules without logsource constraints |
pub fn event_logsources(event: &Event) -> Vec<LogSource> {
    if let Some(channel) = event.get_str("winlog.channel") {
        return windows_logsources(event, channel);
    }
    let mut out = Vec::new();
    let make = |product: Option<&str>, service: Option<&str>, category: Option<&str>| LogSource {
        product: product.map(str::to_owned),
        service: service.map(str::to_owned),
        category: category.map(str::to_owned),
        ..Default::default()
    };
    match event.get_str(ecs::EVENT_MODULE) {
        Some("zeek") => {
            let log = event
                .get_str(ecs::EVENT_DATASET)
                .and_then(|d| d.strip_prefix("zeek."));
            out.push(make(Some("zeek"), None, None));
            if let Some(log) = log {
                out.push(make(Some("zeek"), Some(log), None));
                if log == "dns" {
                    out.push(make(None, None, Some("dns")));
                }
            }
            return out;
        }
        Some("suricata") => {
            if event.get_str("event_type") == Some("dns") {
                out.push(make(None, None, Some("dns")));
            }
            if let Some(protocol) = event.get_str("ics.protocol") {
                out.push(make(None, Some(protocol), Some("ics")));
            }
            return out;
        }
        Some("tshark") => {
            out.push(make(Some("tshark"), None, None));
            if let Some(protocol) = event.get_str("ics.protocol") {
                out.push(make(None, Some(protocol), Some("ics")));
            }
            return out;
        }
        _ => {}
    }
    match event.get_str(ecs::EVENT_DATASET) {
        Some("aws.cloudtrail") => return vec![make(Some("aws"), Some("cloudtrail"), None)],
        Some("kubernetes.audit") => {
            return vec![make(Some("kubernetes"), Some("audit"), Some("application"))];
        }
        Some("gcp.audit") => return vec![make(Some("gcp"), Some("gcp.audit"), None)],
        Some("okta.system") => return vec![make(Some("okta"), Some("okta"), None)],
        Some(d) if d.starts_with("azure.") => {
            return vec![make(Some("azure"), Some(&d["azure.".len()..]), None)];
        }
        Some(d) if d.starts_with("m365.") => {
            return vec![make(Some("m365"), Some(&d["m365.".len()..]), None)];
        }
        _ => {}
    }
    if has_value(event, ecs::EVENT_CATEGORY, "web") && has_value(event, ecs::EVENT_TYPE, "access") {
        out.push(make(None, None, Some("webserver")));
        return out;
    }
    if event.get_str(ecs::OBSERVER_TYPE) == Some("firewall") {
        out.push(make(None, None, Some("firewall")));
        return out;
    }
    if let Some(program) = event.get_str(ecs::PROCESS_NAME)
        && event.get(ecs::OBSERVER_VENDOR).is_none()
    {
        out.push(make(Some("linux"), None, None));
        out.push(make(Some("linux"), Some("syslog"), None));
        if let Some(service) = linux_service(program) {
            out.push(make(Some("linux"), Some(service), None));
        }
    }
    if out.is_empty() {
        // Unknown kind of event: still evaluated by rules that constrain no logsource.
        out.push(LogSource::default());
    }
    out
}

/// Whether a field (a string or a list of strings) holds `value`.
fn has_value(event: &Event, field: &str, value: &str) -> bool {
    event
        .get(field)
        .is_some_and(|v| v.scalars().any(|s| s.as_text() == value))
}

/// The Sigma `service` of a Unix program that logs to syslog.
pub fn linux_service(program: &str) -> Option<&'static str> {
    Some(match program {
        "sshd" => "sshd",
        "sudo" => "sudo",
        "cron" | "CRON" | "crond" | "anacron" => "cron",
        "vsftpd" => "vsftpd",
        "clamd" | "freshclam" | "clamav" | "clamscan" => "clamav",
        "guacd" | "guacamole" => "guacamole",
        "auditd" | "audispd" => "auditd",
        _ => return None,
    })
}

fn windows_logsources(event: &Event, channel: &str) -> Vec<LogSource> {
    let code: u32 = event
        .get("event.code")
        .and_then(|v| v.as_text().parse().ok())
        .unwrap_or(0);
    let service = windows_service(channel);
    let categories = windows_categories(channel, code);
    let make = |category: Option<&str>| LogSource {
        product: Some("windows".into()),
        service: service.map(str::to_owned),
        category: category.map(str::to_owned),
        ..Default::default()
    };
    let mut out = vec![make(None)];
    out.extend(categories.iter().map(|c| make(Some(c))));
    out
}

/// The Sigma `service` of a Windows channel.
pub fn windows_service(channel: &str) -> Option<&'static str> {
    Some(match channel {
        "Security" => "security",
        "System" => "system",
        "Application" => "application",
        "Microsoft-Windows-Sysmon/Operational" => "sysmon",
        "Windows PowerShell" => "powershell-classic",
        "Microsoft-Windows-PowerShell/Operational" | "PowerShellCore/Operational" => "powershell",
        "Microsoft-Windows-TaskScheduler/Operational" => "taskscheduler",
        "Microsoft-Windows-Windows Defender/Operational" => "windefend",
        "DNS Server" => "dns-server",
        "Microsoft-Windows-CAPI2/Operational" => "capi2",
        "Microsoft-Windows-WMI-Activity/Operational" => "wmi",
        "Microsoft-Windows-Bits-Client/Operational" => "bits-client",
        "Microsoft-Windows-DNS-Client/Operational" => "dns-client",
        "Microsoft-Windows-CodeIntegrity/Operational" => "codeintegrity-operational",
        "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall" => "firewall-as",
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational" => {
            "terminalservices-localsessionmanager"
        }
        "Microsoft-Windows-NTLM/Operational" => "ntlm",
        "Microsoft-Windows-PrintService/Admin" => "printservice-admin",
        "Microsoft-Windows-PrintService/Operational" => "printservice-operational",
        "Microsoft-Windows-SMBClient/Security" => "smbclient-security",
        "Microsoft-Windows-DriverFrameworks-UserMode/Operational" => "driver-framework",
        "Microsoft-Windows-Shell-Core/Operational" => "shell-core",
        "OpenSSH/Operational" => "openssh",
        "Microsoft-Windows-AppXDeploymentServer/Operational" => "appxdeployment-server",
        "Microsoft-Windows-LSA/Operational" => "lsa-server",
        "Microsoft-Windows-Kernel-ShimEngine/Operational" => "shell-core",
        "MSExchange Management" => "msexchange-management",
        "Microsoft-Windows-AppLocker/EXE and DLL"
        | "Microsoft-Windows-AppLocker/MSI and Script"
        | "Microsoft-Windows-AppLocker/Packaged app-Deployment"
        | "Microsoft-Windows-AppLocker/Packaged app-Execution" => "applocker",
        "Microsoft-Windows-DHCP-Server/Operational" => "dhcp",
        "Directory Service" => "directory-service",
        _ => return None,
    })
}

/// The Sigma categories of a Windows event.
pub fn windows_categories(channel: &str, code: u32) -> &'static [&'static str] {
    match (channel, code) {
        ("Microsoft-Windows-Sysmon/Operational", c) => match c {
            1 => &["process_creation"],
            2 => &["file_change"],
            3 => &["network_connection"],
            4 | 16 => &["sysmon_status"],
            5 => &["process_termination"],
            6 => &["driver_load"],
            7 => &["image_load"],
            8 => &["create_remote_thread"],
            9 => &["raw_access_thread"],
            10 => &["process_access"],
            11 => &["file_event"],
            12 => &["registry_add", "registry_delete", "registry_event"],
            13 => &["registry_set", "registry_event"],
            14 => &["registry_rename", "registry_event"],
            15 => &["create_stream_hash"],
            17 | 18 => &["pipe_created"],
            19..=21 => &["wmi_event"],
            22 => &["dns_query"],
            23 | 26 => &["file_delete"],
            24 => &["clipboard_capture"],
            25 => &["process_tampering"],
            27..=29 => &["file_block", "file_executable_detected"],
            255 => &["sysmon_error"],
            _ => &[],
        },
        ("Security", 4688) => &["process_creation"],
        ("Microsoft-Windows-PowerShell/Operational" | "PowerShellCore/Operational", 4104) => {
            &["ps_script"]
        }
        ("Microsoft-Windows-PowerShell/Operational" | "PowerShellCore/Operational", 4103) => {
            &["ps_module"]
        }
        ("Windows PowerShell", 400) => &["ps_classic_start"],
        ("Windows PowerShell", 600) => &["ps_classic_provider_start"],
        ("Windows PowerShell", 800) => &["ps_classic_script"],
        // Defender's malware detections and the actions taken on them.
        ("Microsoft-Windows-Windows Defender/Operational", 1006 | 1015 | 1116 | 1117) => {
            &["antivirus"]
        }
        _ => &[],
    }
}
