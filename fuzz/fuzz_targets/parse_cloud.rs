//! The cloud and agent formats (CloudTrail, Kubernetes audit, Windows agents, Azure, GCP
//! audit, Microsoft 365, Okta, OpenStack): the whole input as one record of each.
#![no_main]

use haechi_ingest::Format;
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 8] = [
    Format::Cloudtrail,
    Format::K8sAudit,
    Format::Winlog,
    Format::Azure,
    Format::GcpAudit,
    Format::M365,
    Format::Okta,
    Format::OpenStack,
];

fuzz_target!(|data: &[u8]| {
    for format in FORMATS {
        haechi_fuzz::parse_record(format, data);
    }
});
