//! Institutions' web sites under inspection: each site with its schedule, every
//! inspection's result (headers, JavaScript libraries, TLS), and the join with the
//! inventory — the JavaScript libraries a site serves are stored as that site's
//! inventory (npm components), so they are matched against the advisories and re-matched
//! when new ones arrive, like any SBOM. Only changes raise alerts: a check that fails now
//! and did not fail in the site's previous inspection, and new findings.

use crate::inventory::{Component, Inventory};
use crate::web::{Check, ScriptFinding};
use crate::{AdvisoryDb, Ecosystem, Result, VulnError};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS web_sites (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    url TEXT NOT NULL,
    every_secs INTEGER NOT NULL,
    added TEXT NOT NULL,
    last_run INTEGER,
    sbom INTEGER,
    UNIQUE (tenant, url)
);
CREATE TABLE IF NOT EXISTS web_inspections (
    id INTEGER PRIMARY KEY,
    site INTEGER NOT NULL REFERENCES web_sites(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    failing TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_inspections_by_site ON web_inspections (site, id);
";

/// The shortest and longest schedules.
pub const MIN_EVERY_SECS: i64 = 3600;
pub const MAX_EVERY_SECS: i64 = 30 * 86_400;

/// A site under inspection.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    pub id: i64,
    pub tenant: String,
    pub url: String,
    pub every_secs: i64,
    pub added: String,
    /// Unix seconds of the last inspection.
    pub last_run: Option<i64>,
    /// The stored inventory of the JavaScript libraries it serves.
    pub sbom: Option<i64>,
}

/// A site's latest inspection.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    pub site: Site,
    pub at: String,
    /// The checks that failed, by name.
    pub failing: Vec<String>,
    /// The whole result as `haechi web inspect --json` prints it.
    pub result: serde_json::Value,
}

fn site_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Site> {
    Ok(Site {
        id: r.get(0)?,
        tenant: r.get(1)?,
        url: r.get(2)?,
        every_secs: r.get(3)?,
        added: r.get(4)?,
        last_run: r.get(5)?,
        sbom: r.get(6)?,
    })
}

const SITE_COLUMNS: &str = "id, tenant, url, every_secs, added, last_run, sbom";

/// The system name a site's inventory is stored under.
pub fn system_of(url: &str) -> String {
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(url)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    format!("website {host}")
}

/// The npm package Retire.js's library names stand for, where they differ.
fn npm_name(library: &str) -> String {
    match library {
        "angularjs" => "angular".into(),
        "jquery-mobile" => "jquery-mobile".into(),
        "moment.js" => "moment".into(),
        "YUI" => "yui".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// The JavaScript libraries of a page as an inventory of npm components.
pub fn website_inventory(url: &str, scripts: &[ScriptFinding]) -> Inventory {
    let mut components: Vec<Component> = Vec::new();
    for s in scripts {
        let name = npm_name(&s.library);
        if components
            .iter()
            .any(|c| c.name == name && c.version == s.version)
        {
            continue;
        }
        components.push(Component {
            ecosystem: Ecosystem::Npm,
            purl: format!("pkg:npm/{name}@{}", s.version),
            name,
            version: s.version.clone(),
            location: s.url.clone(),
        });
    }
    Inventory {
        source: url.chars().take(crate::assets::MAX_NAME_LEN).collect(),
        format: "web-inspection".into(),
        components,
        skipped: Vec::new(),
        constraints: Vec::new(),
    }
}

impl AdvisoryDb {
    /// Puts a site under inspection every `every_secs` (1 hour to 30 days); its first
    /// inspection is due at once. Adding it again changes the schedule.
    pub fn add_site(&self, tenant: &str, url: &str, every_secs: i64) -> Result<i64> {
        crate::assets::check_name("tenant", tenant)?;
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.len() > 2000
            || url.chars().any(char::is_control)
        {
            return Err(VulnError::Invalid(format!(
                "'{url}': an http or https URL of at most 2000 characters"
            )));
        }
        if !(MIN_EVERY_SECS..=MAX_EVERY_SECS).contains(&every_secs) {
            return Err(VulnError::Invalid(format!(
                "every: from {} to {} hours",
                MIN_EVERY_SECS / 3600,
                MAX_EVERY_SECS / 3600
            )));
        }
        let conn = self.conn();
        conn.execute(
            "INSERT INTO web_sites (tenant, url, every_secs, added) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, url) DO UPDATE SET every_secs = ?3",
            params![tenant, url, every_secs, crate::assets::now()],
        )
        .map_err(self.err())?;
        conn.query_row(
            "SELECT id FROM web_sites WHERE tenant = ?1 AND url = ?2",
            params![tenant, url],
            |r| r.get(0),
        )
        .map_err(self.err())
    }

    /// The sites of one institution or all.
    pub fn sites(&self, tenant: Option<&str>) -> Result<Vec<Site>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {SITE_COLUMNS} FROM web_sites WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, url"
            ))
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![tenant], site_row)
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    pub fn site(&self, id: i64) -> Result<Option<Site>> {
        self.conn()
            .query_row(
                &format!("SELECT {SITE_COLUMNS} FROM web_sites WHERE id = ?1"),
                params![id],
                site_row,
            )
            .optional()
            .map_err(self.err())
    }

    /// The sites whose inspection is due at `now` (Unix seconds).
    pub fn due_sites(&self, now: i64) -> Result<Vec<Site>> {
        Ok(self
            .sites(None)?
            .into_iter()
            .filter(|s| s.last_run.is_none_or(|t| now - t >= s.every_secs))
            .collect())
    }

    /// Takes a site out of inspection, with its results and its inventory.
    pub fn remove_site(&self, id: i64) -> Result<bool> {
        let Some(site) = self.site(id)? else {
            return Ok(false);
        };
        if let Some(sbom) = site.sbom {
            self.remove_sbom(sbom)?;
        }
        self.conn()
            .execute("DELETE FROM web_sites WHERE id = ?1", params![id])
            .map_err(self.err())?;
        Ok(true)
    }

    /// Records an inspection at `now` (Unix seconds) and returns the checks that fail now
    /// and did not in the previous one.
    pub fn record_inspection(
        &self,
        site: i64,
        now: i64,
        failing: &[Check],
        result: &serde_json::Value,
    ) -> Result<Vec<Check>> {
        let names: Vec<&str> = failing.iter().map(|c| c.check).collect();
        let previous: Option<String> = self
            .conn()
            .query_row(
                "SELECT failing FROM web_inspections WHERE site = ?1 ORDER BY id DESC LIMIT 1",
                params![site],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        let before: Vec<String> = previous
            .map(|p| serde_json::from_str(&p).unwrap_or_default())
            .unwrap_or_default();
        self.transaction(|tx| {
            let t = tx.raw();
            let err = tx.error();
            t.execute(
                "INSERT INTO web_inspections (site, at, failing, doc) VALUES (?1, ?2, ?3, ?4)",
                params![
                    site,
                    crate::assets::now(),
                    serde_json::to_string(&names).expect("names serialise"),
                    result.to_string()
                ],
            )
            .map_err(&err)?;
            // Keep the last 100 inspections of a site.
            t.execute(
                "DELETE FROM web_inspections WHERE site = ?1 AND id NOT IN
                 (SELECT id FROM web_inspections WHERE site = ?1 ORDER BY id DESC LIMIT 100)",
                params![site],
            )
            .map_err(&err)?;
            t.execute(
                "UPDATE web_sites SET last_run = ?2 WHERE id = ?1",
                params![site, now],
            )
            .map_err(&err)?;
            Ok(())
        })?;
        Ok(failing
            .iter()
            .filter(|c| !before.iter().any(|b| b == c.check))
            .cloned()
            .collect())
    }

    /// Sets the site's stored inventory.
    pub fn set_site_sbom(&self, site: i64, sbom: Option<i64>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE web_sites SET sbom = ?2 WHERE id = ?1",
                params![site, sbom],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// The package URLs of a stored inventory, sorted (to tell whether a site's
    /// libraries changed).
    pub fn sbom_purls(&self, sbom: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT purl FROM components WHERE sbom = ?1 ORDER BY purl")
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![sbom], |r| r.get(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// Each site's latest inspection, of one institution or all.
    pub fn latest_inspections(&self, tenant: Option<&str>) -> Result<Vec<Inspection>> {
        let sites = self.sites(tenant)?;
        let conn = self.conn();
        let mut out = Vec::new();
        for site in sites {
            let row: Option<(String, String, String)> = conn
                .query_row(
                    "SELECT at, failing, doc FROM web_inspections WHERE site = ?1 ORDER BY id DESC LIMIT 1",
                    params![site.id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(self.err())?;
            if let Some((at, failing, doc)) = row {
                out.push(Inspection {
                    site,
                    at,
                    failing: serde_json::from_str(&failing).unwrap_or_default(),
                    result: serde_json::from_str(&doc).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }
}

/// Whether a check raises an alert when it starts failing: the TLS and certificate
/// verdicts (an expiring or untrusted certificate, legacy protocols, broken suites), not
/// the header checks, which are reported without alerting.
pub fn alerts_on(check: &str) -> bool {
    check.starts_with("tls-") && check != "tls-1.3" || check.starts_with("certificate-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, AdvisoryDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = AdvisoryDb::open(&dir.path().join("v.db")).unwrap();
        (dir, db)
    }

    fn failing(names: &[&'static str]) -> Vec<Check> {
        names
            .iter()
            .map(|n| Check {
                check: n,
                result: "fail",
                detail: String::new(),
            })
            .collect()
    }

    #[test]
    fn schedules_are_due_once_per_period_and_bounded() {
        let (_d, db) = db();
        let id = db
            .add_site("seoul", "https://www.seoul.example/", 86_400)
            .unwrap();
        assert_eq!(db.due_sites(1_000_000).unwrap().len(), 1, "due at once");
        db.record_inspection(id, 1_000_000, &[], &serde_json::json!({}))
            .unwrap();
        assert!(db.due_sites(1_000_000 + 86_399).unwrap().is_empty());
        assert_eq!(db.due_sites(1_000_000 + 86_400).unwrap().len(), 1);
        assert!(
            db.add_site("seoul", "https://x.example/", 60)
                .unwrap_err()
                .to_string()
                .contains("hours")
        );
        assert!(db.add_site("seoul", "ftp://x.example/", 3600).is_err());
        assert_eq!(
            db.add_site("seoul", "https://www.seoul.example/", 7200)
                .unwrap(),
            id,
            "re-adding reschedules"
        );
        assert_eq!(db.sites(Some("seoul")).unwrap()[0].every_secs, 7200);
        assert!(db.sites(Some("busan")).unwrap().is_empty());
    }

    #[test]
    fn only_checks_that_start_failing_are_new() {
        let (_d, db) = db();
        let id = db
            .add_site("seoul", "https://www.seoul.example/", 3600)
            .unwrap();
        let first = db
            .record_inspection(
                id,
                1,
                &failing(&["certificate-expiry", "x-frame-options"]),
                &serde_json::json!({"n": 1}),
            )
            .unwrap();
        assert_eq!(first.len(), 2);
        let second = db
            .record_inspection(
                id,
                2,
                &failing(&["certificate-expiry", "tls-protocols"]),
                &serde_json::json!({"n": 2}),
            )
            .unwrap();
        assert_eq!(
            second.iter().map(|c| c.check).collect::<Vec<_>>(),
            ["tls-protocols"]
        );
        let latest = db.latest_inspections(None).unwrap();
        assert_eq!(latest[0].result["n"], 2);
        assert!(alerts_on("certificate-expiry") && alerts_on("tls-protocols"));
        assert!(!alerts_on("x-frame-options") && !alerts_on("tls-1.3"));
        assert!(db.remove_site(id).unwrap());
        assert!(db.latest_inspections(None).unwrap().is_empty());
    }

    #[test]
    fn a_site_is_a_system_of_npm_components() {
        let inv = website_inventory(
            "https://www.seoul.example/",
            &[
                ScriptFinding {
                    url: "https://www.seoul.example/js/jquery-1.6.0.min.js".into(),
                    library: "jquery".into(),
                    version: "1.6.0".into(),
                    vulnerabilities: Vec::new(),
                },
                ScriptFinding {
                    url: "https://cdn.example/angular.min.js".into(),
                    library: "angularjs".into(),
                    version: "1.2.0".into(),
                    vulnerabilities: Vec::new(),
                },
            ],
        );
        assert_eq!(inv.components[0].purl, "pkg:npm/jquery@1.6.0");
        assert_eq!(inv.components[1].purl, "pkg:npm/angular@1.2.0");
        assert_eq!(
            system_of("https://www.seoul.example:8443/a?b"),
            "website www.seoul.example:8443"
        );
    }
}
