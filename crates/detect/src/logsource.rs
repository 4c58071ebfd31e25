//! Which Sigma logsources an event belongs to.
//!
//! A rule applies to an event only when the rule's `product`, `category` and `service`
//! all agree with the event's (rsigma's `evaluate_with_logsource`). For Windows the
//! service follows from the channel and the category from the channel and event id, as
//! in the Sigma taxonomy (`process_creation` is Sysmon 1 and Security 4688, …).

use haechi_event::Event;
use rsigma_parser::LogSource;

/// The logsources of an event (several when a category has a generic parent, such as
/// `registry_set` and `registry_event`). Empty when Haechi cannot tell.
pub fn event_logsources(event: &Event) -> Vec<LogSource> {
    let Some(channel) = event.get_str("winlog.channel") else {
        return Vec::new();
    };
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
        _ => &[],
    }
}
