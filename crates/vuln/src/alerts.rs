//! Which findings become alerts, and how they read in the queue: a new finding of a
//! KEV-listed vulnerability (whatever the system), or a new finding on an
//! internet-facing system, raises one alert of origin `vuln` for its institution, at a
//! level from its SSVC decision (Act critical, Attend high, Track* medium, Track low).
//! A KEV finding is never filtered out.

use crate::assets::StoredFinding;
use crate::ssvc::Exposure;
use haechi_event::{Alert, AlertSource, Level, Timestamp};
use serde_json::json;

/// The alert level of an SSVC decision.
pub fn level(ssvc: &str) -> Level {
    match ssvc {
        "Act" => Level::Critical,
        "Attend" => Level::High,
        "Track*" => Level::Medium,
        _ => Level::Low,
    }
}

/// Whether a new finding raises an alert.
pub fn alerts_on(f: &StoredFinding) -> bool {
    f.finding.kev || f.exposure == Exposure::InternetFacing
}

/// The alerts for new findings (those that raise one), stamped `now`.
pub fn for_new_findings(new: &[StoredFinding], now: Timestamp) -> Vec<Alert> {
    new.iter()
        .filter(|f| alerts_on(f))
        .map(|f| alert(f, now))
        .collect()
}

fn alert(f: &StoredFinding, now: Timestamp) -> Alert {
    let x = &f.finding;
    let mut details = serde_json::Map::new();
    details.insert("finding".into(), json!(x));
    details.insert("system".into(), json!(f.system));
    details.insert("sbom".into(), json!(f.sbom));
    let title = if x.summary.is_empty() {
        format!("{} in {} {} ({})", x.id, x.package, x.version, f.system)
    } else {
        format!(
            "{}: {} — {} {} ({})",
            x.id, x.summary, x.package, x.version, f.system
        )
    };
    Alert {
        id: 0,
        tenant: f.tenant.clone(),
        source: AlertSource::Vuln,
        rule_id: x.id.clone(),
        rule_title: title.chars().take(300).collect(),
        level: level(&x.ssvc),
        author: None,
        status: None,
        references: Vec::new(),
        tags: if x.kev {
            vec!["kev".into()]
        } else {
            Vec::new()
        },
        entity: format!("system={}", f.system),
        first_seen: now,
        last_seen: now,
        count: 1,
        events: Vec::new(),
        details,
        stored: Timestamp(0),
        triage: Default::default(),
    }
}

/// The level of a web check that started failing.
fn site_check_level(check: &crate::web::Check) -> Level {
    match check.check {
        "certificate-trust" | "certificate-name" | "tls-insecure-suites" => Level::High,
        "certificate-expiry" if check.detail.starts_with("expired") => Level::High,
        "tls-forward-secrecy" => Level::Low,
        _ => Level::Medium,
    }
}

/// The alerts for a site's checks that started failing (those that raise one, see
/// [`crate::sites::alerts_on`]), stamped `now`.
pub fn for_site_checks(
    site: &crate::sites::Site,
    newly_failing: &[crate::web::Check],
    now: Timestamp,
) -> Vec<Alert> {
    newly_failing
        .iter()
        .filter(|c| crate::sites::alerts_on(c.check))
        .map(|c| {
            let mut details = serde_json::Map::new();
            details.insert("url".into(), json!(site.url));
            details.insert("check".into(), json!(c));
            details.insert("site".into(), json!(site.id));
            Alert {
                id: 0,
                tenant: site.tenant.clone(),
                source: AlertSource::Vuln,
                rule_id: format!("web-{}", c.check),
                rule_title: format!("{} fails on {}: {}", c.check, site.url, c.detail)
                    .chars()
                    .take(300)
                    .collect(),
                level: site_check_level(c),
                author: None,
                status: None,
                references: Vec::new(),
                tags: vec!["web-inspection".into()],
                entity: format!("url={}", site.url),
                first_seen: now,
                last_seen: now,
                count: 1,
                events: Vec::new(),
                details,
                stored: Timestamp(0),
                triage: Default::default(),
            }
        })
        .collect()
}
