//! One module per format. Each exposes a parser type implementing [`RecordParser`];
//! [`new_parser`] is the registry that maps a [`Format`] to a fresh instance.

pub mod cef;
pub mod clf;
pub mod cloud_audit;
pub mod cloudtrail;
pub mod evtx;
pub mod json;
pub mod k8s_audit;
pub mod kv;
pub mod leef;
pub mod modsecurity;
pub mod openstack;
pub mod raw;
pub mod suricata;
pub mod syslog;
pub mod tshark;
pub mod winlog;
pub mod zeek;

pub use json::JsonMapping;

use crate::{Format, RecordParser};

/// A new parser for one stream of records in `format`. `Format::Auto` gives a parser that
/// picks the format per record (see [`crate::detect::AutoParser`]). `Format::Evtx` is a
/// file format, not a record format: read it with [`evtx::parse_evtx_file`]; here it
/// yields a parser of EVTX records already rendered as JSON.
pub fn new_parser(format: Format) -> Box<dyn RecordParser> {
    match format {
        Format::Auto => Box::new(crate::detect::AutoParser::new()),
        Format::Syslog => Box::new(syslog::SyslogParser::new()),
        Format::Cef => Box::new(cef::CefParser::new()),
        Format::Leef => Box::new(leef::LeefParser::new()),
        Format::Json => Box::new(json::JsonParser::new()),
        Format::Suricata => Box::new(suricata::SuricataParser::new()),
        Format::Zeek => Box::new(zeek::ZeekParser::new()),
        Format::Evtx => Box::new(evtx::EvtxJsonParser::new()),
        Format::Clf => Box::new(clf::ClfParser::new()),
        Format::Kv => Box::new(kv::KvParser::new()),
        Format::Cloudtrail => Box::new(cloudtrail::CloudTrailParser::new()),
        Format::K8sAudit => Box::new(k8s_audit::K8sAuditParser::new()),
        Format::Winlog => Box::new(winlog::WinlogParser::new()),
        Format::Azure => Box::new(cloud_audit::CloudAuditParser::new(
            cloud_audit::Cloud::Azure,
        )),
        Format::GcpAudit => Box::new(cloud_audit::CloudAuditParser::new(cloud_audit::Cloud::Gcp)),
        Format::M365 => Box::new(cloud_audit::CloudAuditParser::new(cloud_audit::Cloud::M365)),
        Format::Okta => Box::new(cloud_audit::CloudAuditParser::new(cloud_audit::Cloud::Okta)),
        Format::OpenStack => Box::new(openstack::OpenStackParser::new()),
        Format::Tshark => Box::new(tshark::TsharkParser),
        Format::ModSecurity => Box::new(modsecurity::ModSecurityParser),
        Format::Raw => Box::new(raw::RawParser),
    }
}
