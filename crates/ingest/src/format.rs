//! Format names, as the command line and the configuration spell them.

use std::fmt;
use std::str::FromStr;

/// A record format Haechi reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Guess per file / per record (see [`crate::detect`]).
    Auto,
    /// Syslog, RFC 3164 (BSD) or RFC 5424, with or without `<PRI>`; CEF, LEEF and
    /// key=value payloads inside are parsed as such.
    Syslog,
    /// ArcSight Common Event Format.
    Cef,
    /// IBM QRadar Log Event Extended Format, 1.0 and 2.0.
    Leef,
    /// JSON lines, mapped to ECS by a configurable [`crate::JsonMapping`].
    Json,
    /// Suricata EVE JSON.
    Suricata,
    /// Zeek logs, TSV with `#fields` headers or JSON.
    Zeek,
    /// Windows XML event log files.
    Evtx,
    /// Apache / nginx access logs, common and combined.
    Clf,
    /// key=value logs (FortiGate style, quoted values).
    Kv,
    /// AWS CloudTrail records (one per line, or a `{"Records": […]}` delivery object).
    Cloudtrail,
    /// Kubernetes API server audit events (`audit.k8s.io`).
    K8sAudit,
    /// Windows events as agents ship them (NXLog / OTRF JSON, Winlogbeat).
    Winlog,
    /// Azure Monitor diagnostic exports: activity, Entra ID sign-in, audit, risk logs.
    Azure,
    /// Google Cloud Audit Logs entries.
    GcpAudit,
    /// Microsoft 365 unified audit log records.
    M365,
    /// Okta System Log events.
    Okta,
    /// OpenStack service logs (`oslo.log`: nova, keystone, neutron, …).
    OpenStack,
    /// Wireshark's `tshark -T ek` packet JSON (ICS captures).
    Tshark,
    /// ModSecurity WAF JSON audit log (libmodsecurity 3 and ModSecurity 2.9).
    ModSecurity,
    /// A line kept as it is, as `message` (what `auto` falls back to).
    Raw,
}

impl Format {
    /// Every concrete format, for listings and help texts.
    pub const ALL: &'static [Format] = &[
        Format::Syslog,
        Format::Cef,
        Format::Leef,
        Format::Json,
        Format::Suricata,
        Format::Zeek,
        Format::Evtx,
        Format::Clf,
        Format::Kv,
        Format::Cloudtrail,
        Format::K8sAudit,
        Format::Winlog,
        Format::Azure,
        Format::GcpAudit,
        Format::M365,
        Format::Okta,
        Format::OpenStack,
        Format::Tshark,
        Format::ModSecurity,
        Format::Raw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Syslog => "syslog",
            Format::Cef => "cef",
            Format::Leef => "leef",
            Format::Json => "json",
            Format::Suricata => "suricata",
            Format::Zeek => "zeek",
            Format::Evtx => "evtx",
            Format::Clf => "clf",
            Format::Kv => "kv",
            Format::Cloudtrail => "cloudtrail",
            Format::K8sAudit => "k8s_audit",
            Format::Winlog => "winlog",
            Format::Azure => "azure",
            Format::GcpAudit => "gcp_audit",
            Format::M365 => "m365",
            Format::Okta => "okta",
            Format::OpenStack => "openstack",
            Format::Tshark => "tshark",
            Format::ModSecurity => "modsecurity",
            Format::Raw => "raw",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that Haechi does not know.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unknown format '{0}': expected one of auto, syslog, cef, leef, json, suricata, zeek, evtx, clf, kv, cloudtrail, k8s_audit, winlog, azure, gcp_audit, m365, okta, openstack, tshark, modsecurity, raw"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        if lower == "auto" {
            return Ok(Format::Auto);
        }
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name() == lower)
            .or(match lower.as_str() {
                "eve" => Some(Format::Suricata),
                "apache" | "nginx" | "access" | "combined" | "common" => Some(Format::Clf),
                "ndjson" | "jsonl" => Some(Format::Json),
                "fortigate" | "keyvalue" => Some(Format::Kv),
                "aws" | "aws_cloudtrail" => Some(Format::Cloudtrail),
                "kubernetes" | "k8s" | "kubernetes_audit" => Some(Format::K8sAudit),
                "winlogbeat" | "nxlog" | "windows" => Some(Format::Winlog),
                "gcp" | "gcp_audit_log" => Some(Format::GcpAudit),
                "o365" | "microsoft365" => Some(Format::M365),
                "entra" | "azure_ad" => Some(Format::Azure),
                "ek" | "tshark_ek" | "wireshark" => Some(Format::Tshark),
                "modsec" | "waf" => Some(Format::ModSecurity),
                _ => None,
            })
            .ok_or(UnknownFormat(s.to_owned()))
    }
}
