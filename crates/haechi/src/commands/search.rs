//! `haechi search`: the query language over the store, from a shell.

use super::{load_config, open_store_read_only};
use crate::DataDirArg;
use anyhow::Context;
use haechi_event::{Event, Timestamp, ecs, event_to_json};
use haechi_query::{parse, parse_time};
use haechi_store::{EventStore, SearchRequest};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// A configuration file (for `data_dir`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Only events at or after this time (RFC 3339, a date, `now-1h`, epoch seconds).
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    pub to: Option<String>,
    /// At most this many events (newest first), or values with --count-by.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Only these institutions (repeatable).
    #[arg(long)]
    pub tenant: Vec<String>,
    /// Print one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Print the most frequent values of this field among the matches, with counts.
    #[arg(long, value_name = "FIELD")]
    pub count_by: Option<String>,
    /// Print a histogram of the matches over time.
    #[arg(long)]
    pub histogram: bool,
    /// The histogram bucket width: `30s`, `5m`, `1h`, `1d` (default: about 40 buckets).
    #[arg(long)]
    pub interval: Option<String>,
    /// The query (see docs/query-and-formats.md); empty or `*` matches everything.
    #[arg(default_value = "")]
    pub query: Vec<String>,
}

pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    let text = args.query.join(" ");
    let query = parse(&text)
        .map_err(|e| anyhow::anyhow!("{e}\n  {text}\n  {}^", " ".repeat(e.position)))?;
    let time = |s: &Option<String>, name: &str| -> anyhow::Result<Option<Timestamp>> {
        s.as_deref().map(|t| parse_time(t).with_context(|| format!("--{name} '{t}' is not a time (use RFC 3339, a date, now-1h or epoch seconds)"))).transpose()
    };
    let store = open_store_read_only(&config)?;
    let mut request = SearchRequest::new(query);
    request.from = time(&args.from, "from")?;
    request.to = time(&args.to, "to")?;
    request.limit = args.limit;
    if !args.tenant.is_empty() {
        request.tenants = Some(args.tenant.clone());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Some(field) = &args.count_by {
        let counts = store.count_by(&request, field, args.limit)?;
        if args.json {
            for (value, count) in counts {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "value": value, "count": count })
                )?;
            }
        } else {
            for (value, count) in counts {
                writeln!(out, "{count:>10}  {value}")?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.histogram {
        let interval = match &args.interval {
            Some(i) => parse_interval(i)?,
            None => auto_interval(store.as_ref(), &request)?,
        };
        let buckets = store.histogram(&request, interval)?;
        let max = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
        for b in buckets {
            if args.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "start": b.start, "count": b.count })
                )?;
            } else {
                let bar = "#".repeat(((b.count * 50).div_ceil(max)) as usize);
                writeln!(out, "{}  {:>9}  {bar}", b.start, b.count)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result = store.search(&request)?;
    for e in &result.events {
        if args.json {
            writeln!(out, "{}", event_to_json(e))?;
        } else {
            writeln!(out, "{}", one_line(e))?;
        }
    }
    if !args.json {
        writeln!(
            out,
            "-- {} of {} matching events",
            result.events.len(),
            result.total
        )?;
    }
    Ok(if result.total == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A compact human line: time, tenant, what, who, and the message.
fn one_line(e: &Event) -> String {
    let pick = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| e.get(n).map(|v| v.as_text().into_owned()))
            .unwrap_or_default()
    };
    let what = pick(&[
        ecs::EVENT_DATASET,
        ecs::OBSERVER_PRODUCT,
        ecs::LOG_SYSLOG_APPNAME,
        ecs::PROCESS_NAME,
        ecs::WINLOG_CHANNEL,
    ]);
    let code = pick(&[ecs::EVENT_CODE, ecs::EVENT_ACTION]);
    let src = pick(&[ecs::SOURCE_IP, ecs::CLIENT_IP]);
    let dst = pick(&[ecs::DESTINATION_IP, ecs::SERVER_IP]);
    let flow = if src.is_empty() && dst.is_empty() {
        String::new()
    } else {
        format!(" {src} -> {dst}")
    };
    let msg = e
        .message()
        .or_else(|| e.get_str(ecs::RULE_NAME))
        .unwrap_or("");
    let msg: String = msg.chars().take(200).collect();
    format!(
        "{} {} [{what}{}{code}]{flow} {msg}",
        e.timestamp,
        e.tenant,
        if code.is_empty() { "" } else { " " }
    )
}

/// `30s`, `5m`, `1h`, `1d`, `1w` in seconds.
fn parse_interval(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("--interval '{text}': expected a number and a unit, like 5m"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => anyhow::bail!("--interval '{text}': unknown unit '{other}' (use s, m, h, d, w)"),
    };
    if n == 0 {
        anyhow::bail!("--interval must be at least 1s");
    }
    Ok(n * mult)
}

/// A round interval giving about 40 buckets over the matches' time span.
fn auto_interval(store: &dyn EventStore, request: &SearchRequest) -> anyhow::Result<u64> {
    let mut newest = request.clone();
    newest.limit = 1;
    let first = store.search(&newest)?;
    let Some(last) = first.events.first().map(|e| e.timestamp) else {
        return Ok(3600);
    };
    let start = request
        .from
        .unwrap_or_else(|| Timestamp(last.0 - 86_400_000_000_000));
    let span = ((last.0 - start.0).max(1) / 1_000_000_000) as u64;
    let steps = [
        1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800, 2_592_000,
    ];
    Ok(steps
        .iter()
        .copied()
        .find(|s| span / s <= 40)
        .unwrap_or(31_536_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_people_write_them() {
        assert_eq!(parse_interval("5m").unwrap(), 300);
        assert_eq!(parse_interval("1d").unwrap(), 86_400);
        assert!(parse_interval("5 parsecs").is_err());
        assert!(parse_interval("0s").is_err());
    }
}
