//! ISMS operation support: Haechi's own catalog of the 101 ISMS-P certification
//! criteria (KISA, revision of 2023-10-31), by number, each in Haechi's words (the
//! criteria's text is KISA's and is not reproduced), and for the criteria Haechi can
//! evidence, which of its continuously produced records are the evidence. The records
//! themselves are gathered by the binary from the stores for a report per institution
//! and month.

use serde::Serialize;

/// The records Haechi produces that count as evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Stored inventories (SBOMs, lockfiles) per system.
    AssetInventory,
    /// Findings recorded on the inventories during the period.
    VulnerabilityInspection,
    /// How long findings stay open, and KEV findings past their due date.
    PatchLatency,
    /// Events stored for the institution, and the retention kept.
    LogRetention,
    /// Alerts raised and how many were triaged by an officer.
    LogReview,
    /// Alerts by detection source (rules, intel, models, equipment, vulnerabilities).
    Monitoring,
    /// Incidents opened and closed, and how long closing took.
    IncidentHandling,
    /// Accounts and tokens bound to the institution, disabled ones.
    AccessReview,
    /// The audit log's hash chain, verified.
    AuditIntegrity,
}

impl Evidence {
    pub const ALL: [Evidence; 9] = [
        Evidence::AssetInventory,
        Evidence::VulnerabilityInspection,
        Evidence::PatchLatency,
        Evidence::LogRetention,
        Evidence::LogReview,
        Evidence::Monitoring,
        Evidence::IncidentHandling,
        Evidence::AccessReview,
        Evidence::AuditIntegrity,
    ];
}

/// One criterion: its number, Haechi's wording, and the evidence Haechi has for it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Criterion {
    pub id: &'static str,
    pub text: &'static str,
    pub evidence: &'static [Evidence],
}

impl Criterion {
    /// The area (1, 2 or 3) the number says.
    pub fn area(&self) -> u8 {
        self.id.as_bytes()[0] - b'0'
    }
}

use Evidence::*;

const fn c(id: &'static str, text: &'static str, evidence: &'static [Evidence]) -> Criterion {
    Criterion { id, text, evidence }
}

/// The catalog, in the criteria's order.
pub const CATALOG: [Criterion; 101] = [
    c(
        "1.1.1",
        "Leadership takes part in and answers for the security programme",
        &[],
    ),
    c(
        "1.1.2",
        "A responsible security and privacy officer is named",
        &[],
    ),
    c(
        "1.1.3",
        "Roles and committees for security work are set up",
        &[],
    ),
    c(
        "1.1.4",
        "What the management system covers is defined",
        &[AssetInventory],
    ),
    c(
        "1.1.5",
        "Security policies are written, approved and published",
        &[],
    ),
    c("1.1.6", "People and budget are given to security", &[]),
    c(
        "1.2.1",
        "Information assets are listed and classified",
        &[AssetInventory],
    ),
    c(
        "1.2.2",
        "Services, data flows and their current state are understood",
        &[AssetInventory],
    ),
    c(
        "1.2.3",
        "Risks are assessed with a defined method",
        &[VulnerabilityInspection],
    ),
    c("1.2.4", "Controls are chosen for the assessed risks", &[]),
    c("1.3.1", "Chosen controls are put in place", &[]),
    c(
        "1.3.2",
        "Controls are made known to those who run them",
        &[],
    ),
    c(
        "1.3.3",
        "The state of operations is tracked regularly",
        &[Monitoring],
    ),
    c("1.4.1", "Legal obligations are reviewed", &[]),
    c(
        "1.4.2",
        "The management system is inspected independently",
        &[AuditIntegrity],
    ),
    c("1.4.3", "Findings of inspections lead to improvements", &[]),
    c("2.1.1", "Policies are kept current", &[]),
    c("2.1.2", "The security organisation is kept working", &[]),
    c(
        "2.1.3",
        "Assets have owners and are handled by their class",
        &[AssetInventory],
    ),
    c("2.2.1", "People in key roles are named and managed", &[]),
    c(
        "2.2.2",
        "Duties that should not mix are kept apart",
        &[AccessReview],
    ),
    c("2.2.3", "Staff commit to security obligations", &[]),
    c("2.2.4", "Staff are made aware and trained", &[]),
    c(
        "2.2.5",
        "Leaving or changing roles removes access",
        &[AccessReview],
    ),
    c("2.2.6", "Violations have consequences", &[]),
    c("2.3.1", "External parties are known and managed", &[]),
    c(
        "2.3.2",
        "Contracts with external parties carry security terms",
        &[],
    ),
    c("2.3.3", "External parties' compliance is checked", &[]),
    c(
        "2.3.4",
        "Changes and ends of contracts are secured",
        &[AccessReview],
    ),
    c("2.4.1", "Protected areas are designated", &[]),
    c("2.4.2", "Entry to protected areas is controlled", &[]),
    c("2.4.3", "Information systems are physically protected", &[]),
    c("2.4.4", "Protective equipment is operated", &[]),
    c("2.4.5", "Work in protected areas is controlled", &[]),
    c("2.4.6", "Equipment going in and out is controlled", &[]),
    c("2.4.7", "Desks and screens are kept safe", &[]),
    c(
        "2.5.1",
        "User accounts are registered, changed and removed under control",
        &[AccessReview],
    ),
    c(
        "2.5.2",
        "Every user is identified individually",
        &[AccessReview],
    ),
    c("2.5.3", "Users are authenticated safely", &[AccessReview]),
    c("2.5.4", "Passwords follow rules", &[]),
    c(
        "2.5.5",
        "Privileged accounts and rights are kept to a minimum",
        &[AccessReview],
    ),
    c(
        "2.5.6",
        "Access rights are reviewed regularly",
        &[AccessReview, AuditIntegrity],
    ),
    c("2.6.1", "Network access is controlled", &[Monitoring]),
    c(
        "2.6.2",
        "Access to information systems is controlled",
        &[Monitoring],
    ),
    c("2.6.3", "Access to applications is controlled", &[]),
    c("2.6.4", "Access to databases is controlled", &[]),
    c("2.6.5", "Wireless access is controlled", &[]),
    c("2.6.6", "Remote access is controlled", &[Monitoring]),
    c("2.6.7", "Internet access is controlled", &[]),
    c("2.7.1", "Encryption is applied by policy", &[]),
    c("2.7.2", "Keys are managed through their life", &[]),
    c(
        "2.8.1",
        "Security requirements are set for new systems",
        &[],
    ),
    c(
        "2.8.2",
        "Security requirements are reviewed and tested",
        &[VulnerabilityInspection],
    ),
    c("2.8.3", "Test and production are kept apart", &[]),
    c("2.8.4", "Test data is protected", &[]),
    c("2.8.5", "Source code is managed", &[AssetInventory]),
    c("2.8.6", "Moves into production are controlled", &[]),
    c("2.9.1", "Changes to systems are managed", &[]),
    c("2.9.2", "Performance and faults are watched", &[]),
    c("2.9.3", "Backups are made and restores work", &[]),
    c("2.9.4", "Logs and access records are kept", &[LogRetention]),
    c(
        "2.9.5",
        "Logs and access records are reviewed",
        &[LogReview],
    ),
    c("2.9.6", "Clocks are synchronised", &[]),
    c("2.9.7", "Assets are wiped before reuse or disposal", &[]),
    c(
        "2.10.1",
        "Security systems are operated and their rules managed",
        &[Monitoring],
    ),
    c("2.10.2", "Cloud services are secured", &[Monitoring]),
    c(
        "2.10.3",
        "Public-facing servers are secured",
        &[VulnerabilityInspection],
    ),
    c("2.10.4", "Electronic transactions are secured", &[]),
    c("2.10.5", "Information in transit is protected", &[]),
    c("2.10.6", "End-user devices are secured", &[]),
    c("2.10.7", "Removable media are controlled", &[]),
    c("2.10.8", "Patches are applied in time", &[PatchLatency]),
    c("2.10.9", "Malware is kept out", &[Monitoring]),
    c(
        "2.11.1",
        "Incident prevention and response is organised",
        &[IncidentHandling],
    ),
    c(
        "2.11.2",
        "Vulnerabilities are inspected and fixed",
        &[VulnerabilityInspection, PatchLatency],
    ),
    c(
        "2.11.3",
        "Unusual activity is analysed and monitored",
        &[Monitoring, LogReview],
    ),
    c("2.11.4", "Response is trained and improved", &[]),
    c(
        "2.11.5",
        "Incidents are handled and services recovered",
        &[IncidentHandling],
    ),
    c("2.12.1", "Disasters are prepared for", &[]),
    c("2.12.2", "Recovery is tested and improved", &[]),
    c("3.1.1", "Personal data is collected and used lawfully", &[]),
    c("3.1.2", "Only the personal data needed is collected", &[]),
    c(
        "3.1.3",
        "Resident registration numbers are processed only where allowed",
        &[],
    ),
    c(
        "3.1.4",
        "Sensitive and unique identifiers are processed only where allowed",
        &[],
    ),
    c(
        "3.1.5",
        "Personal data collected indirectly is handled lawfully",
        &[],
    ),
    c("3.1.6", "Video surveillance devices are run lawfully", &[]),
    c("3.1.7", "Personal data for marketing needs consent", &[]),
    c("3.2.1", "Holdings of personal data are known", &[]),
    c("3.2.2", "Personal data is kept accurate", &[]),
    c("3.2.3", "Access to users' devices is protected", &[]),
    c("3.2.4", "Use beyond the original purpose is limited", &[]),
    c("3.2.5", "Pseudonymised data is processed safely", &[]),
    c("3.3.1", "Provision to third parties is lawful", &[]),
    c("3.3.2", "Outsourced processing is controlled", &[]),
    c(
        "3.3.3",
        "Transfers with a business transfer are handled",
        &[],
    ),
    c("3.3.4", "Transfers abroad are lawful", &[]),
    c(
        "3.4.1",
        "Personal data is destroyed when no longer needed",
        &[],
    ),
    c(
        "3.4.2",
        "Data kept after its purpose is separated and protected",
        &[],
    ),
    c("3.5.1", "The processing policy is published", &[]),
    c("3.5.2", "Data subjects' rights are honoured", &[]),
    c("3.5.3", "Data subjects are notified", &[]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_the_criteria_s_shape() {
        let per_area = |a| CATALOG.iter().filter(|c| c.area() == a).count();
        assert_eq!((per_area(1), per_area(2), per_area(3)), (16, 64, 21));
        let mut ids: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 101);
        for e in Evidence::ALL {
            assert!(
                CATALOG.iter().any(|c| c.evidence.contains(&e)),
                "{e:?} evidences nothing"
            );
        }
    }
}
