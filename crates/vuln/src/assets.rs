//! The asset inventory: which SBOM belongs to which system of which institution, how
//! exposed that system is and who owns it, the components each SBOM holds (indexed by
//! ecosystem and package, so that a new advisory finds its components without a
//! sweep), and the findings recorded on them (so that only new ones raise alerts).
//! Stored beside the advisories in `state/vuln.db`.

use crate::inventory::{Component, Inventory};
use crate::matcher::Finding;
use crate::ssvc::Exposure;
use crate::{AdvisoryDb, Ecosystem, Result, VulnError};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS systems (
    tenant TEXT NOT NULL,
    system TEXT NOT NULL,
    exposure TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (tenant, system)
);
CREATE TABLE IF NOT EXISTS sboms (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    system TEXT NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    added TEXT NOT NULL,
    components INTEGER NOT NULL,
    skipped INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS components (
    sbom INTEGER NOT NULL REFERENCES sboms(id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    purl TEXT NOT NULL,
    location TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS components_by_package ON components (ecosystem, name_key);
CREATE INDEX IF NOT EXISTS components_by_sbom ON components (sbom);
CREATE TABLE IF NOT EXISTS digests (
    tenant TEXT PRIMARY KEY,
    last_first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    sbom INTEGER NOT NULL REFERENCES sboms(id) ON DELETE CASCADE,
    advisory TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (sbom, advisory, package, version)
);
";

/// The longest tenant, system, owner or source name stored.
pub const MAX_NAME_LEN: usize = 200;

/// One stored SBOM (or lockfile) of a system.
#[derive(Clone, Debug, Serialize)]
pub struct StoredSbom {
    pub id: i64,
    pub tenant: String,
    pub system: String,
    pub exposure: Exposure,
    pub owner: String,
    pub source: String,
    pub format: String,
    pub added: String,
    pub components: i64,
    pub skipped: i64,
}

/// Where a stored component lives: its SBOM, system and institution.
#[derive(Clone, Debug)]
pub struct Placement {
    pub sbom: i64,
    pub tenant: String,
    pub system: String,
    pub exposure: Exposure,
    pub source: String,
    pub format: String,
}

/// A finding recorded on a stored SBOM.
#[derive(Clone, Debug, Serialize)]
pub struct StoredFinding {
    pub sbom: i64,
    pub tenant: String,
    pub system: String,
    pub exposure: Exposure,
    pub first_seen: String,
    pub finding: Finding,
}

fn exposure_str(e: Exposure) -> &'static str {
    match e {
        Exposure::InternetFacing => "internet-facing",
        Exposure::Internal => "internal",
        Exposure::Unknown => "unknown",
    }
}

/// A [`Placement`] from a row whose first six columns are `b.id, b.tenant, b.system,
/// s.exposure, b.source, b.format` (an SBOM joined with its system).
fn placement_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Placement> {
    Ok(Placement {
        sbom: r.get(0)?,
        tenant: r.get(1)?,
        system: r.get(2)?,
        exposure: Exposure::parse(&r.get::<_, String>(3)?).unwrap_or_default(),
        source: r.get(4)?,
        format: r.get(5)?,
    })
}

pub(crate) fn check_name(what: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > MAX_NAME_LEN || v.chars().any(char::is_control) {
        return Err(VulnError::Invalid(format!(
            "{what} '{}': 1-{MAX_NAME_LEN} characters, no control characters",
            v.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

/// Now, as RFC 3339 with milliseconds (fixed width, so that the strings order as times).
pub(crate) fn now() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() as i64;
    let millis = since.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl AdvisoryDb {
    /// Stores an inventory as an SBOM of `system` in `tenant` (the system is created or
    /// its exposure and owner updated) and returns its id.
    pub fn add_sbom(
        &self,
        tenant: &str,
        system: &str,
        exposure: Exposure,
        owner: &str,
        inv: &Inventory,
    ) -> Result<i64> {
        check_name("tenant", tenant)?;
        check_name("system", system)?;
        if !owner.is_empty() {
            check_name("owner", owner)?;
        }
        let source: String = inv.source.chars().take(MAX_NAME_LEN).collect();
        self.transaction(|tx| {
            let t = tx.raw();
            let err = tx.error();
            t.execute(
                "INSERT INTO systems (tenant, system, exposure, owner) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, system) DO UPDATE SET exposure = ?3, owner = ?4",
                params![tenant, system, exposure_str(exposure), owner],
            )
            .map_err(&err)?;
            t.execute(
                "INSERT INTO sboms (tenant, system, source, format, added, components, skipped)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    tenant,
                    system,
                    source,
                    inv.format,
                    now(),
                    inv.components.len() as i64,
                    inv.skipped.len() as i64
                ],
            )
            .map_err(&err)?;
            let id = t.last_insert_rowid();
            let mut stmt = t
                .prepare(
                    "INSERT INTO components (sbom, ecosystem, name_key, name, version, purl, location)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&err)?;
            for c in &inv.components {
                stmt.execute(params![
                    id,
                    c.ecosystem.osv_name(),
                    c.ecosystem.name_key(&c.name),
                    c.name,
                    c.version,
                    c.purl,
                    c.location
                ])
                .map_err(&err)?;
            }
            Ok(id)
        })
    }

    /// The stored SBOMs, of one institution or all, newest first.
    pub fn sboms(&self, tenant: Option<&str>) -> Result<Vec<StoredSbom>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT b.id, b.tenant, b.system, s.exposure, s.owner, b.source, b.format, b.added,
                        b.components, b.skipped
                 FROM sboms b JOIN systems s ON s.tenant = b.tenant AND s.system = b.system
                 WHERE ?1 IS NULL OR b.tenant = ?1 ORDER BY b.id DESC",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([tenant], |r| {
                Ok(StoredSbom {
                    id: r.get(0)?,
                    tenant: r.get(1)?,
                    system: r.get(2)?,
                    exposure: Exposure::parse(&r.get::<_, String>(3)?).unwrap_or_default(),
                    owner: r.get(4)?,
                    source: r.get(5)?,
                    format: r.get(6)?,
                    added: r.get(7)?,
                    components: r.get(8)?,
                    skipped: r.get(9)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(self.err())
    }

    /// Removes an SBOM with its components and findings; false if there was none.
    pub fn remove_sbom(&self, id: i64) -> Result<bool> {
        self.transaction(|tx| {
            let t = tx.raw();
            let err = tx.error();
            t.execute("DELETE FROM findings WHERE sbom = ?1", [id])
                .map_err(&err)?;
            t.execute("DELETE FROM components WHERE sbom = ?1", [id])
                .map_err(&err)?;
            Ok(t.execute("DELETE FROM sboms WHERE id = ?1", [id])
                .map_err(&err)?
                > 0)
        })
    }

    /// The placement of one SBOM.
    pub fn placement(&self, sbom: i64) -> Result<Option<Placement>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT b.id, b.tenant, b.system, s.exposure, b.source, b.format
             FROM sboms b JOIN systems s ON s.tenant = b.tenant AND s.system = b.system
             WHERE b.id = ?1",
            [sbom],
            placement_row,
        )
        .optional()
        .map_err(self.err())
    }

    /// Every stored component of one package, with where it lives: what a new
    /// advisory for that package is matched against.
    pub fn components_of(
        &self,
        ecosystem: Ecosystem,
        name_key: &str,
    ) -> Result<Vec<(Placement, Component)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT b.id, b.tenant, b.system, s.exposure, b.source, b.format,
                        c.name, c.version, c.purl, c.location
                 FROM components c JOIN sboms b ON b.id = c.sbom
                 JOIN systems s ON s.tenant = b.tenant AND s.system = b.system
                 WHERE c.ecosystem = ?1 AND c.name_key = ?2",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![ecosystem.osv_name(), name_key], |r| {
                Ok((
                    placement_row(r)?,
                    Component {
                        ecosystem,
                        name: r.get(6)?,
                        version: r.get(7)?,
                        purl: r.get(8)?,
                        location: r.get(9)?,
                    },
                ))
            })
            .map_err(self.err())?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(self.err())
    }

    /// Records findings on SBOMs; returns the ones not recorded before (those raise
    /// alerts), each with its placement.
    pub fn record_findings(
        &self,
        findings: Vec<(Placement, Finding)>,
    ) -> Result<Vec<StoredFinding>> {
        let stamp = now();
        self.transaction(|tx| {
            let t = tx.raw();
            let err = tx.error();
            let mut new = Vec::new();
            for (p, f) in findings {
                let doc = serde_json::to_string(&f).map_err(|e| VulnError::Invalid(e.to_string()))?;
                let inserted = t
                    .execute(
                        "INSERT OR IGNORE INTO findings (sbom, advisory, package, version, first_seen, doc)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![p.sbom, f.id, f.package, f.version, stamp, doc],
                    )
                    .map_err(&err)?;
                if inserted > 0 {
                    new.push(StoredFinding {
                        sbom: p.sbom,
                        tenant: p.tenant,
                        system: p.system,
                        exposure: p.exposure,
                        first_seen: stamp.clone(),
                        finding: f,
                    });
                }
            }
            Ok(new)
        })
    }

    /// The recorded findings, of one institution or all, newest first.
    pub fn findings(&self, tenant: Option<&str>, limit: usize) -> Result<Vec<StoredFinding>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT f.sbom, b.tenant, b.system, s.exposure, f.first_seen, f.doc
                 FROM findings f JOIN sboms b ON b.id = f.sbom
                 JOIN systems s ON s.tenant = b.tenant AND s.system = b.system
                 WHERE ?1 IS NULL OR b.tenant = ?1
                 ORDER BY f.first_seen DESC, f.sbom, f.advisory LIMIT ?2",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![tenant, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (sbom, tenant, system, exposure, first_seen, doc) = row.map_err(self.err())?;
            let finding: Finding = serde_json::from_str(&doc).map_err(|e| VulnError::Db {
                path: self.path().display().to_string(),
                message: format!("a finding of SBOM {sbom} is stored damaged: {e}"),
            })?;
            out.push(StoredFinding {
                sbom,
                tenant,
                system,
                exposure: Exposure::parse(&exposure).unwrap_or_default(),
                first_seen,
                finding,
            });
        }
        Ok(out)
    }
}

impl AdvisoryDb {
    /// The `first_seen` of the newest finding the institution's last digest covered.
    pub fn digest_watermark(&self, tenant: &str) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT last_first_seen FROM digests WHERE tenant = ?1",
                [tenant],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Moves the watermark once a digest was delivered.
    pub fn set_digest_watermark(&self, tenant: &str, last: &str) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO digests (tenant, last_first_seen) VALUES (?1, ?2)
                 ON CONFLICT (tenant) DO UPDATE SET last_first_seen = ?2",
                params![tenant, last],
            )
            .map_err(self.err())?;
        Ok(())
    }
}

/// What storing an inventory found.
pub struct Stored {
    pub id: i64,
    pub summary: crate::matcher::ScanSummary,
    /// Every finding of the inventory.
    pub findings: Vec<Finding>,
    /// The findings not recorded before (those raise alerts).
    pub new: Vec<StoredFinding>,
}

/// Stores an inventory as an SBOM of a system, matches it with `matcher` and records
/// its findings: what `haechi sbom add`, the API's upload and the demo do.
pub fn store_and_match(
    db: &AdvisoryDb,
    matcher: &crate::Matcher,
    tenant: &str,
    system: &str,
    exposure: Exposure,
    owner: &str,
    inv: &Inventory,
) -> Result<Stored> {
    let id = db.add_sbom(tenant, system, exposure, owner, inv)?;
    let placement = db
        .placement(id)?
        .ok_or_else(|| VulnError::Invalid(format!("the SBOM {id} just stored is missing")))?;
    let mut findings = Vec::new();
    let mut summary = crate::matcher::ScanSummary::default();
    matcher.scan(inv, exposure, &mut findings, &mut summary);
    let new = db.record_findings(
        findings
            .iter()
            .map(|f| (placement.clone(), f.clone()))
            .collect(),
    )?;
    Ok(Stored {
        id,
        summary,
        findings,
        new,
    })
}
