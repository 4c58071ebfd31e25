//! `haechi user`, `haechi token` and `haechi audit`: who may use the control center, and
//! what they changed. They work on `<data_dir>/state/access.db`, also beside a running
//! server; every change is audited as `cli:<login name>`.

use super::load_config;
use anyhow::Context;
use haechi_access::{AccessStore, AuditEntry, Role, TokenSpec, UserSpec};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct Common {
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum UserCommand {
    /// Create a user; without --password-stdin a password is generated and printed once.
    Add {
        name: String,
        /// admin, center (center analyst), institution (institution analyst) or viewer.
        #[arg(long)]
        role: String,
        /// The institution an institution analyst (or a viewer) is restricted to.
        #[arg(long)]
        tenant: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (never their passwords).
    List,
    /// Disable a user: they cannot log in, and their sessions end at once.
    Disable { name: String },
    /// Enable a disabled (or locked-out) user.
    Enable { name: String },
    /// Set a new password (from standard input, or generated and printed); sessions end.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Create an API token; the token is printed alone on the last line, once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        /// The institution the token is bound to (needed for the institution role).
        #[arg(long)]
        tenant: Option<String>,
        /// Days until the token stops working (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name; it stops working at once.
    Revoke { name: String },
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain of the whole audit log; exit 1 if it is broken.
    Verify,
    /// Print audit records (oldest first) as JSON lines.
    List {
        /// Only records after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

fn open(common: &Common) -> anyhow::Result<AccessStore> {
    let config = load_config(common.config.as_deref(), common.data_dir.clone())?;
    let path = AccessStore::path_in(&config.data_dir);
    AccessStore::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

/// How the audit log names a command-line change.
pub(crate) fn cli_actor() -> String {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}

/// Applies a command-line change kept outside the access store (block lists, SBOMs, the
/// intel hub, partners) so that it cannot go unaudited: the intent is recorded before the
/// change, and the change's record replaces it in one transaction. A change that fails
/// leaves nothing; a process killed in between leaves the intent, which the next
/// `haechi serve` records as an interrupted change.
pub(crate) fn audited<T>(
    access: &AccessStore,
    action: &str,
    target: &str,
    change: impl FnOnce() -> anyhow::Result<(T, AuditEntry)>,
) -> anyhow::Result<T> {
    let intent = access.intend(&cli_actor(), action, target)?;
    match change() {
        Ok((value, entry)) => {
            haechi_event::failpoint::hit("abort-before-audit");
            access.audit_intended(intent, &[entry])?;
            Ok(value)
        }
        Err(e) => {
            // Best effort: a stale intent would only add an "interrupted" record.
            let _ = access.drop_intent(intent);
            Err(e)
        }
    }
}

fn role(s: &str) -> anyhow::Result<Role> {
    Role::parse(s)
        .with_context(|| format!("--role '{s}': use admin, center, institution, viewer (or partner, for tokens of partner organisations)"))
}

/// The password from standard input, or a generated one (then `true`: print it).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((haechi_access::secret::random_password(), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!p.is_empty(), "--password-stdin: standard input is empty");
    Ok((p, false))
}

pub fn user(args: UserArgs) -> anyhow::Result<ExitCode> {
    let access = open(&args.common)?;
    match args.command {
        UserCommand::Add {
            name,
            role: r,
            tenant,
            password_stdin,
        } => {
            let role = role(&r)?;
            anyhow::ensure!(
                role != Role::Partner,
                "partners are created with `haechi intel partner add ORG`, which also grants their collections"
            );
            let (password, generated) = password(password_stdin)?;
            let spec = UserSpec {
                name,
                role,
                tenant,
                password: password.clone(),
            };
            let u = access.add_user(&spec, &cli_actor())?;
            println!(
                "user {} created: role {}{}",
                u.name,
                u.role,
                u.tenant
                    .map(|t| format!(", institution {t}"))
                    .unwrap_or_default()
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserCommand::List => {
            println!("{:<24} {:<12} {:<16} state", "name", "role", "institution");
            for u in access.users()? {
                println!(
                    "{:<24} {:<12} {:<16} {}",
                    u.name,
                    u.role.as_str(),
                    u.tenant.as_deref().unwrap_or("(all)"),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
        UserCommand::Disable { name } => {
            access.set_disabled(&name, true, &cli_actor())?;
            println!("user {name} disabled; their sessions ended");
        }
        UserCommand::Enable { name } => {
            access.set_disabled(&name, false, &cli_actor())?;
            println!("user {name} enabled");
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            access.set_password(&name, &password, &cli_actor())?;
            println!("password of {name} changed; their sessions ended");
            if generated {
                println!("password (shown once): {password}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let access = open(&args.common)?;
    match args.command {
        TokenCommand::Create {
            name,
            role: r,
            tenant,
            expires_days,
        } => {
            anyhow::ensure!(
                expires_days.is_none_or(|d| (1..=3650).contains(&d)),
                "--expires-days: 1 to 3650"
            );
            let spec = TokenSpec {
                name,
                role: role(&r)?,
                tenant,
                expires: expires_days.map(|d| haechi_access::now_secs() + i64::from(d) * 86_400),
            };
            let t = access.create_token(&spec, &cli_actor())?;
            println!(
                "token {} created: role {}{}{} (the token is shown once, on the next line)",
                t.info.name,
                t.info.role,
                t.info
                    .tenant
                    .as_deref()
                    .map(|t| format!(", institution {t}"))
                    .unwrap_or_default(),
                t.info
                    .expires
                    .map(|e| format!(", expires {}", rfc3339(e)))
                    .unwrap_or_default()
            );
            println!("{}", t.secret);
        }
        TokenCommand::List => {
            println!(
                "{:<24} {:<12} {:<16} {:<22} state",
                "name", "role", "institution", "expires"
            );
            for t in access.tokens()? {
                let state = match (t.revoked, t.expires) {
                    (Some(_), _) => "revoked",
                    (None, Some(e)) if e <= haechi_access::now_secs() => "expired",
                    _ => "active",
                };
                println!(
                    "{:<24} {:<12} {:<16} {:<22} {state}",
                    t.name,
                    t.role.as_str(),
                    t.tenant.as_deref().unwrap_or("(all)"),
                    t.expires.map(rfc3339).unwrap_or_else(|| "never".into()),
                );
            }
        }
        TokenCommand::Revoke { name } => {
            access.revoke_token(&name, &cli_actor())?;
            println!("token {name} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let access = open(&args.common)?;
    match args.command {
        AuditCommand::Verify => {
            let report = access.verify_audit()?;
            match report.broken {
                None => {
                    println!(
                        "audit log intact: {} records, head {}",
                        report.records, report.head
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    println!(
                        "audit log BROKEN at record {seq}: {why} ({} records verify before it)",
                        report.records
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::List { after, limit } => {
            for r in access.audit_records(after, limit)? {
                println!("{}", serde_json::to_string(&r)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn rfc3339(secs: i64) -> String {
    haechi_event::Timestamp(secs.saturating_mul(1_000_000_000)).to_rfc3339()
}
