//! `haechi intel partner add|set|list|remove`: the partner organisations of the TAXII
//! sharing hub.
//!
//! A partner is two things kept together: a user of role `partner` in the access
//! database (its HTTP basic credentials; it can never log in to the console or call the
//! REST API) and its entitlements in the intel store (the TLP maximum it may receive and,
//! per collection, read and write). Every change is audited as `cli:<login name>`.
//!
//! * `haechi intel partner add ORG [--read C]... [--write C]... [--tlp-max LEVEL]` creates
//!   both and prints the credentials once; the last line is `USER PASSWORD`.
//! * `haechi intel partner set ORG …` replaces the entitlements of an existing partner.
//! * `haechi intel partner list` shows every partner, its TLP maximum and grants.
//! * `haechi intel partner remove ORG` disables the user and drops the entitlements.

use super::access::{audited, cli_actor};
use super::load_config;
use crate::DataDirArg;
use anyhow::Context;
use haechi_access::{AccessStore, AuditEntry, Role, UserSpec};
use haechi_intel::Tlp;
use haechi_intel::store::{IntelStore, Partner};
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Clone)]
pub struct Entitlements {
    /// A collection (name or id) the partner may read; repeat for more.
    #[arg(long = "read")]
    read: Vec<String>,
    /// A collection (name or id) the partner may add objects to; repeat for more.
    #[arg(long = "write")]
    write: Vec<String>,
    /// The most restrictive TLP level the partner receives: clear, green, amber,
    /// amber+strict (RED never leaves the hub).
    #[arg(long = "tlp-max", default_value = "green")]
    tlp_max: String,
}

#[derive(clap::Subcommand)]
pub enum PartnerCommand {
    /// Create a partner and print its credentials once (last line: USER PASSWORD).
    Add {
        /// The organisation's user name (1-64 characters of a-z A-Z 0-9 . _ - @).
        org: String,
        #[command(flatten)]
        entitlements: Entitlements,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// Replace an existing partner's TLP maximum and grants.
    Set {
        org: String,
        #[command(flatten)]
        entitlements: Entitlements,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// Every partner with its TLP maximum and grants.
    List {
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// Disable a partner's credentials and drop its grants.
    Remove {
        org: String,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
}

fn stores(data_dir: DataDirArg) -> anyhow::Result<(AccessStore, IntelStore)> {
    let dir = load_config(None, data_dir.data_dir)?.data_dir;
    let access_path = AccessStore::path_in(&dir);
    let access = AccessStore::open(&access_path)
        .with_context(|| format!("cannot open {}", access_path.display()))?;
    let intel = IntelStore::open(&IntelStore::path_in(&dir)).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((access, intel))
}

fn tlp_max(text: &str) -> anyhow::Result<Tlp> {
    match Tlp::parse(text) {
        Some(Tlp::Red) => anyhow::bail!(
            "--tlp-max red: TLP:RED never leaves the hub; the most a partner can receive is amber+strict"
        ),
        Some(t) => Ok(t),
        None => anyhow::bail!("--tlp-max '{text}': use clear, green, amber or amber+strict"),
    }
}

/// Stores the entitlements and audits them.
fn entitle(
    access: &AccessStore,
    intel: &IntelStore,
    org: &str,
    e: &Entitlements,
) -> anyhow::Result<Partner> {
    let tlp = tlp_max(&e.tlp_max)?;
    let target = format!("partner:{org}");
    audited(access, "intel.partner.set", &target, || {
        let partner = intel
            .set_partner(org, tlp, &e.read, &e.write)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let entry =
            AuditEntry::new(cli_actor(), "intel.partner.set", &target).after(json!(partner));
        Ok((partner, entry))
    })
}

/// `TLP up to TLP:GREEN; reads a, b; writes c`.
fn describe(p: &Partner) -> String {
    let names = |pick: fn(&haechi_intel::store::Grant) -> bool| {
        let list: Vec<&str> = p
            .grants
            .iter()
            .filter(|g| pick(g))
            .map(|g| g.collection.name.as_str())
            .collect();
        if list.is_empty() {
            "nothing".to_owned()
        } else {
            list.join(", ")
        }
    };
    format!(
        "TLP up to {}; reads {}; writes {}",
        p.tlp_max,
        names(|g| g.read),
        names(|g| g.write)
    )
}

pub fn run(command: PartnerCommand) -> anyhow::Result<ExitCode> {
    match command {
        PartnerCommand::Add {
            org,
            entitlements,
            data_dir,
        } => {
            let (access, intel) = stores(data_dir)?;
            anyhow::ensure!(
                access.user(&org)?.is_none(),
                "a user '{org}' exists already: change a partner with `haechi intel partner set`"
            );
            // Check the entitlements before creating the user: a typo in a collection
            // name leaves nothing behind.
            tlp_max(&entitlements.tlp_max)?;
            for c in entitlements.read.iter().chain(&entitlements.write) {
                intel.collection(c).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            let password = haechi_access::secret::random_password();
            access.add_user(
                &UserSpec {
                    name: org.clone(),
                    role: Role::Partner,
                    tenant: None,
                    password: password.clone(),
                },
                &cli_actor(),
            )?;
            let partner = entitle(&access, &intel, &org, &entitlements)?;
            println!("partner {org} created: {}", describe(&partner));
            println!(
                "TAXII 2.1: discovery at /taxii2/, API root /taxii2/hub/, HTTP basic authentication; the password is shown once"
            );
            println!("{org} {password}");
        }
        PartnerCommand::Set {
            org,
            entitlements,
            data_dir,
        } => {
            let (access, intel) = stores(data_dir)?;
            let user = access
                .user(&org)?
                .filter(|u| u.role == Role::Partner)
                .with_context(|| {
                    format!("no partner '{org}': create it with `haechi intel partner add`")
                })?;
            let partner = entitle(&access, &intel, &user.name, &entitlements)?;
            println!("partner {org}: {}", describe(&partner));
        }
        PartnerCommand::List { data_dir } => {
            let (access, intel) = stores(data_dir)?;
            for p in intel.partners().map_err(|e| anyhow::anyhow!("{e}"))? {
                let state = match access.user(&p.name)? {
                    Some(u) if !u.disabled => "active",
                    Some(_) => "disabled",
                    None => "no credentials",
                };
                println!("{}\t{state}\t{}", p.name, describe(&p));
            }
        }
        PartnerCommand::Remove { org, data_dir } => {
            let (access, intel) = stores(data_dir)?;
            let target = format!("partner:{org}");
            let user = access.user(&org)?.filter(|u| u.role == Role::Partner);
            audited(&access, "intel.partner.remove", &target, || {
                let had = intel
                    .remove_partner(&org)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::ensure!(had || user.is_some(), "no partner '{org}'");
                Ok((
                    (),
                    AuditEntry::new(cli_actor(), "intel.partner.remove", &target),
                ))
            })?;
            // Audited on its own, in the same transaction as the change.
            if user.is_some() {
                access.set_disabled(&org, true, &cli_actor())?;
            }
            println!("partner {org} removed: credentials disabled, grants dropped");
        }
    }
    Ok(ExitCode::SUCCESS)
}
