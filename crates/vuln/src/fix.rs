//! Patch plans: for each vulnerable package of an inventory, the upgrade that removes
//! every known advisory — the smallest such version (`minimal`) or the highest one the
//! advisories name (`latest`) — chosen among the versions the advisories say fix
//! something (the only versions known to exist offline). Each plan says whether it
//! stays within the version range the ecosystem treats as compatible (same major; same
//! minor below 1.0 for SemVer ecosystems) and how to apply it with the ecosystem's own
//! tool. Plans are validated by applying them to the inventory and scanning it again:
//! a plan is validated only if its package is then free of findings, no other finding
//! appeared, and — where the lockfile records what its packages require of each other
//! (npm's package-lock) — every requirement the current version met still holds. A
//! pinned `requirements.txt` is rewritten and read back through its parser.

use crate::inventory::{Component, Inventory};
use crate::matcher::{Finding, Matcher, ScanSummary};
use crate::ssvc::Exposure;
use crate::{Ecosystem, version};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Minimal,
    Latest,
}

impl Strategy {
    pub fn parse(s: &str) -> Option<Strategy> {
        match s {
            "minimal" => Some(Strategy::Minimal),
            "latest" => Some(Strategy::Latest),
            _ => None,
        }
    }
}

/// One package's upgrade.
#[derive(Clone, Debug, Serialize)]
pub struct PatchPlan {
    pub ecosystem: String,
    pub package: String,
    pub current: String,
    /// The version to upgrade to; `None` when no known version is free of advisories.
    pub target: Option<String>,
    /// The advisories the upgrade removes.
    pub fixes: Vec<String>,
    /// Whether the target stays in the range the ecosystem calls compatible.
    pub compatible: bool,
    /// How to apply it with the ecosystem's tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Why there is no target, or what to watch for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set by [`validate`]: the package is free of findings after the upgrade, no other
    /// finding appeared, and every range the lockfile's packages require of this copy of
    /// the package still holds.
    pub validated: bool,
    /// Set by [`validate`]: the requirements the target breaks (`^4.17.0 required by
    /// express@4.17.1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub broken_requirements: Vec<String>,
}

/// Plans upgrades for the vulnerable packages among `findings` of `inv`.
pub fn plan(matcher: &Matcher, findings: &[Finding], strategy: Strategy) -> Vec<PatchPlan> {
    let mut by_package: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for f in findings {
        by_package
            .entry((f.ecosystem.clone(), f.package.clone(), f.version.clone()))
            .or_default()
            .push(f.id.clone());
    }
    by_package
        .into_iter()
        .map(|((eco_name, package, current), mut fixes)| {
            fixes.dedup();
            let eco = Ecosystem::from_osv_name(&eco_name).expect("findings carry OSV names");
            let target = choose(matcher, eco, &package, &current, strategy);
            let compatible = target.as_deref().is_some_and(|t| compatible(eco, &current, t));
            let note = match &target {
                None => Some(
                    "no version named by the advisories is free of all of them: mitigate, replace, or check the registry for a newer release"
                        .to_owned(),
                ),
                Some(_) if !compatible => Some(
                    "outside the compatible range: the manifest's requirement must change and the API may differ".to_owned(),
                ),
                Some(_) => None,
            };
            PatchPlan {
                command: target.as_deref().map(|t| command(eco, &package, &current, t)),
                ecosystem: eco_name,
                package,
                current,
                target,
                fixes,
                compatible,
                note,
                validated: false,
                broken_requirements: Vec::new(),
            }
        })
        .collect()
}

fn choose(
    matcher: &Matcher,
    eco: Ecosystem,
    package: &str,
    current: &str,
    strategy: Strategy,
) -> Option<String> {
    let now = version::parse(eco, current).ok()?;
    let mut clean: Vec<(version::Version, String)> = matcher
        .known_fixed_versions(eco, package)
        .into_iter()
        .filter_map(|t| version::parse(eco, &t).ok().map(|v| (v, t)))
        .filter(|(v, _)| v.cmp_same(&now).is_gt())
        .filter(|(_, t)| matcher.advisories_affecting(eco, package, t).is_empty())
        .collect();
    clean.sort_by(|a, b| a.0.cmp_same(&b.0));
    let pick = match strategy {
        Strategy::Minimal => clean.into_iter().next(),
        Strategy::Latest => clean.into_iter().last(),
    };
    pick.map(|(_, t)| t)
}

/// The leading numbers of a version (`v1.2.3-rc1` → [1, 2, 3]).
fn numbers(v: &str) -> Vec<u64> {
    v.trim_start_matches(['v', 'V'])
        .split(|c: char| !c.is_ascii_digit())
        .take_while(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Same major version; below 1.0, same minor too (SemVer's and Cargo's rule, which
/// npm's caret also follows); for the other ecosystems, the same first number.
fn compatible(eco: Ecosystem, current: &str, target: &str) -> bool {
    let (a, b) = (numbers(current), numbers(target));
    let semverish = matches!(
        eco,
        Ecosystem::CratesIo
            | Ecosystem::Npm
            | Ecosystem::Go
            | Ecosystem::Hex
            | Ecosystem::Pub
            | Ecosystem::Packagist
    );
    match (a.first(), b.first()) {
        (Some(0), Some(0)) if semverish => a.get(1) == b.get(1),
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn command(eco: Ecosystem, package: &str, current: &str, target: &str) -> String {
    match eco {
        Ecosystem::CratesIo => format!("cargo update -p {package}@{current} --precise {target}"),
        Ecosystem::Npm => format!("npm install {package}@{target}"),
        Ecosystem::PyPI => {
            format!("pip install '{package}=={target}' (and pin it in the requirements)")
        }
        Ecosystem::Go => format!("go get {package}@v{}", target.trim_start_matches('v')),
        Ecosystem::Packagist => format!(
            "composer require {package}:^{}",
            target.trim_start_matches('v')
        ),
        Ecosystem::RubyGems => format!("bundle update --conservative {package} (to {target})"),
        Ecosystem::Maven => format!("set the {package} dependency's <version> to {target}"),
        Ecosystem::NuGet => format!("dotnet add package {package} --version {target}"),
        Ecosystem::Debian => format!("apt-get install --only-upgrade {package}={target}"),
        Ecosystem::Hex => format!("mix deps.update {package} (to {target})"),
        Ecosystem::Pub => format!("dart pub upgrade {package} (to {target})"),
    }
}

/// The inventory with the plans' targets in place of the current versions.
pub fn patched(inv: &Inventory, plans: &[PatchPlan]) -> Inventory {
    let mut out = inv.clone();
    for c in &mut out.components {
        if let Some(t) = plans.iter().find_map(|p| {
            (p.ecosystem == c.ecosystem.osv_name() && p.package == c.name && p.current == c.version)
                .then_some(p.target.as_deref())
                .flatten()
        }) {
            let upgraded = Component {
                version: t.to_owned(),
                purl: c.ecosystem.purl(&c.name, t),
                ..c.clone()
            };
            *c = upgraded;
        }
    }
    out
}

/// A pinned `requirements.txt` with the plans' targets written in.
pub fn rewrite_requirements(text: &str, plans: &[PatchPlan]) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut written = line.to_owned();
        if let Some((name, rest)) = line.split_once("==") {
            let bare = name.split('[').next().unwrap_or(name).trim();
            let current = rest.split([';', ' ', ',']).next().unwrap_or("").trim();
            if let Some(t) = plans.iter().find_map(|p| {
                (p.ecosystem == "PyPI"
                    && Ecosystem::PyPI.name_key(&p.package) == Ecosystem::PyPI.name_key(bare)
                    && p.current == current)
                    .then_some(p.target.as_deref())
                    .flatten()
            }) {
                written = format!("{name}=={}", rest.replacen(current, t, 1));
            }
        }
        out.push_str(&written);
        out.push('\n');
    }
    out
}

/// Validates plans on the patched inventory: sets `validated` per plan and returns the
/// findings left after all upgrades.
pub fn validate(
    matcher: &Matcher,
    before: &[Finding],
    after_inv: &Inventory,
    plans: &mut [PatchPlan],
) -> Vec<Finding> {
    let mut after = Vec::new();
    matcher.scan(
        after_inv,
        Exposure::Unknown,
        &mut after,
        &mut ScanSummary::default(),
    );
    // A finding is new if its (package, advisory) was not there before.
    let was: Vec<(&str, &str)> = before
        .iter()
        .map(|f| (f.package.as_str(), f.id.as_str()))
        .collect();
    let new_elsewhere = after
        .iter()
        .any(|f| !was.contains(&(f.package.as_str(), f.id.as_str())));
    for p in plans.iter_mut() {
        let Some(target) = p.target.clone() else {
            continue;
        };
        let left = after
            .iter()
            .any(|f| f.package == p.package && f.ecosystem == p.ecosystem && f.version == target);
        p.broken_requirements = broken_requirements(after_inv, p, &target);
        p.validated = !left && !new_elsewhere && p.broken_requirements.is_empty();
    }
    after
}

/// The requirements on this copy of the package (those its current version meets; npm
/// may keep other copies for other ranges) that the target does not meet.
fn broken_requirements(inv: &Inventory, p: &PatchPlan, target: &str) -> Vec<String> {
    inv.constraints
        .iter()
        .filter(|c| c.ecosystem.osv_name() == p.ecosystem && c.package == p.package)
        .filter(|c| {
            c.ecosystem == Ecosystem::Npm
                && crate::convert::npm_satisfies(&c.range, &p.current) == Ok(true)
                && crate::convert::npm_satisfies(&c.range, target) == Ok(false)
        })
        .map(|c| format!("{} required by {}", c.range, c.required_by))
        .collect()
}
