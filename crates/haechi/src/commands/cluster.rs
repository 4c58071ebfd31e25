//! `haechi cluster status`: the scale-out transport as NATS JetStream sees it.

use super::load_config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(clap::Subcommand)]
pub enum ClusterCommand {
    /// The site's streams (EVENTS, ALERTS) and their consumers: messages held, pending, unacknowledged and redelivered; at a center, each tower's link.
    Status {
        /// The configuration with the `[cluster]` section.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    let ClusterCommand::Status { config, json } = args.command;
    let config = load_config(config.as_deref(), None)?;
    let Some(cluster) = config.cluster else {
        anyhow::bail!("the configuration has no [cluster] section (see docs/scale-out.md)");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime.block_on(async {
        let bus = haechi_cluster::Bus::connect(&cluster, "status").await?;
        bus.status().await
    });
    let status = status.map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        println!("{}", serde_json::to_string(&status)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "site {}{} at {}",
        status.site,
        if status.tower { " (tower)" } else { "" },
        cluster.nats
    );
    for s in &status.streams {
        println!(
            "  stream {:<6} holds {:>8} messages ({} bytes)",
            s.name, s.messages, s.bytes
        );
        for c in &s.consumers {
            println!(
                "    consumer {:<7} pending {:>8}  unacknowledged {:>5}  redelivered {:>5}  workers waiting {:>3}",
                c.name, c.pending, c.ack_pending, c.redelivered, c.waiting
            );
        }
    }
    for t in &status.towers {
        println!(
            "  tower {} (domain {}): link {}, institutions {}",
            t.site,
            t.domain,
            t.link,
            if t.tenants.is_empty() {
                "-".to_owned()
            } else {
                t.tenants.join(", ")
            }
        );
        for s in &t.sources {
            println!(
                "    {:<6} behind {:>8} messages, last heard {}{}",
                s.stream,
                s.lag,
                s.last_seen_secs
                    .map(|v| format!("{v:.1} s ago"))
                    .unwrap_or_else(|| "never".into()),
                s.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
