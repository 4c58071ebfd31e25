//! Every SQL statement the ClickHouse backend sends, as functions of their inputs.
//!
//! They live apart from the store so that the same text can be checked on another
//! engine: the store's tests run them on Debian's 18.16 through the store, and
//! `clickhouse_modern.rs` runs exactly these strings on ClickHouse 26.9 (embedded in the
//! PyPI package `chdb-core`), where no server can be installed here.
//!
//! What differs by server version is in [`Dialect`]; everything else is written in the
//! subset both read.

use super::compile::{self, Condition, lit};
use crate::SearchRequest;
use haechi_event::Timestamp;

/// What the server at hand supports beyond 18.16, decided from `SELECT version()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dialect {
    /// Table TTL (19.6 and later): the server itself removes expired days during merges.
    pub ttl: bool,
}

impl Dialect {
    /// The dialect of a server reporting `version` (`18.16.1`, `26.9.2.1`); an
    /// unreadable version gets the 18.16 subset.
    pub fn for_version(version: &str) -> Dialect {
        let mut numbers = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let major = numbers.next().unwrap_or(0);
        let minor = numbers.next().unwrap_or(0);
        Dialect {
            ttl: (major, minor) >= (19, 6),
        }
    }
}

/// The database and tables, in the dialect every server since 18.16 reads.
///
/// The long tail of fields is in parallel arrays on every version, modern ones
/// included: a `Map(String, String)` would lose the type tags, numbers, IPs and list
/// structure that the arrays keep, and one layout keeps one compiler.
pub fn schema(database: &str) -> [String; 3] {
    [
        format!("CREATE DATABASE IF NOT EXISTS {database}"),
        format!(
            "CREATE TABLE IF NOT EXISTS {database}.events (\
             ts Int64, org String, day Date, \
             source_ip FixedString(16), destination_ip FixedString(16), \
             fk Array(String), fv Array(String), ft Array(UInt8), fnum Array(Float64), \
             fip Array(FixedString(16)), mw Array(String), ow Array(String)\
             ) ENGINE = MergeTree PARTITION BY day ORDER BY (org, ts)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {database}.dead_letters (\
             received Int64, org String, day Date, source String, format String, \
             reason String, record String\
             ) ENGINE = MergeTree PARTITION BY day ORDER BY (org, received)"
        ),
    ]
}

/// Where the dialect has TTL: the statements that make both tables expire days older
/// than `days`. (Partition drops by [`partitions`] and `ALTER … DROP PARTITION` work on
/// every version and stay the store's hourly retention; the TTL also covers the time in
/// between.)
pub fn retention_ttl(dialect: Dialect, database: &str, days: u32) -> Vec<String> {
    if !dialect.ttl {
        return Vec::new();
    }
    ["events", "dead_letters"]
        .iter()
        .map(|table| {
            format!("ALTER TABLE {database}.{table} MODIFY TTL day + toIntervalDay({days})")
        })
        .collect()
}

/// The active day partitions of one table.
pub fn partitions(database: &str, table: &str) -> String {
    format!(
        "SELECT DISTINCT partition FROM system.parts WHERE database = {} AND table = {} AND active",
        lit(database),
        lit(table)
    )
}

/// Drops one day partition (as `partitions` names it) of one table.
pub fn drop_partition(database: &str, table: &str, partition: &str) -> String {
    format!(
        "ALTER TABLE {database}.{table} DROP PARTITION {}",
        lit(partition)
    )
}

/// The `WHERE` clause of a request (institutions, time window, query) and whether the
/// query part is exact (else the rows are a superset to post-filter).
pub fn where_clause(request: &SearchRequest) -> (String, bool) {
    let Condition { sql, exact } = compile::compile(&request.query);
    let mut parts = vec![sql];
    if let Some(tenants) = &request.tenants {
        parts.push(if tenants.is_empty() {
            "0".into()
        } else {
            format!(
                "org IN ({})",
                tenants
                    .iter()
                    .map(|t| lit(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
    }
    if let Some(from) = request.from {
        parts.push(format!("ts >= {}", from.0));
    }
    if let Some(to) = request.to {
        parts.push(format!("ts < {}", to.0));
    }
    (parts.join(" AND "), exact)
}

/// The newest `limit` rows matching `clause`, with the columns that rebuild an event.
pub fn select_events(clause: &str, limit: usize) -> String {
    format!(
        "SELECT {} FROM events WHERE {clause} ORDER BY ts DESC LIMIT {limit}",
        super::row::READ_COLUMNS
    )
}

/// How many rows match `clause`.
pub fn count(clause: &str) -> String {
    format!("SELECT count() AS count FROM events WHERE {clause}")
}

/// The `top` most frequent values of `field` among the rows matching `clause`; each row
/// counts once per distinct value, as in the embedded store.
pub fn count_by(clause: &str, field: &str, top: usize) -> String {
    if field == haechi_event::ecs::ORGANIZATION_ID {
        return format!(
            "SELECT org AS value, count() AS count FROM events WHERE {clause} \
             GROUP BY value ORDER BY count DESC, value LIMIT {top}"
        );
    }
    format!(
        "SELECT value, count() AS count FROM (\
         SELECT arrayDistinct(arrayFilter((v, k) -> k = {key}, fv, fk)) AS vs \
         FROM events WHERE {clause} AND has(fk, {key})) \
         ARRAY JOIN vs AS value GROUP BY value ORDER BY count DESC, value LIMIT {top}",
        key = lit(field)
    )
}

/// Rows matching `clause` per bucket of `width` nanoseconds.
pub fn histogram(clause: &str, width: i64) -> String {
    format!(
        "SELECT intDiv(ts, {width}) * {width} AS start, count() AS count \
         FROM events WHERE {clause} GROUP BY start"
    )
}

/// Which of `ids` (`event.id`) are stored between `from` and `to`: one query over the
/// sort key's time column with every id as a literal.
pub fn stored_event_ids(ids: &[&str], from: Timestamp, to: Timestamp) -> String {
    let list = ids.iter().map(|id| lit(id)).collect::<Vec<_>>();
    format!(
        "SELECT DISTINCT arrayElement(fv, indexOf(fk, 'event.id')) AS value FROM events \
         WHERE ts >= {} AND ts <= {} AND value IN ({})",
        from.0,
        to.0,
        list.join(", ")
    )
}

/// Rows, and distinct `event.id`s among them (duplicates are the difference).
pub const ID_COUNTS: &str = "SELECT count() AS events, \
     uniqExact(arrayElement(fv, indexOf(fk, 'event.id'))) AS ids FROM events";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_starts_with_19_6() {
        assert!(!Dialect::for_version("18.16.1").ttl);
        assert!(!Dialect::for_version("19.5.3.8").ttl);
        assert!(Dialect::for_version("19.6.2.11").ttl);
        assert!(Dialect::for_version("26.9.2.1").ttl);
        assert!(!Dialect::for_version("garbage").ttl);
        assert!(retention_ttl(Dialect::for_version("18.16.1"), "h", 30).is_empty());
    }
}
