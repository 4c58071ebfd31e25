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
    /// The site's event stream and its consumers: batches held, pending, unacknowledged and redelivered.
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
        anyhow::bail!("the configuration has no [cluster] section (see README, \"Scale-out\")");
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
        "site {} at {}: stream {} holds {} batches ({} bytes)",
        status.site, cluster.nats, status.stream, status.messages, status.bytes
    );
    for c in &status.consumers {
        println!(
            "  consumer {:<7} pending {:>8}  unacknowledged {:>5}  redelivered {:>5}  workers waiting {:>3}",
            c.name, c.pending, c.ack_pending, c.redelivered, c.waiting
        );
    }
    Ok(ExitCode::SUCCESS)
}
