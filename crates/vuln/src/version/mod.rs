//! Version ordering per ecosystem, as each ecosystem's own tool orders them: SemVer
//! precedence for crates.io, npm, Hex and Pub (build metadata ignored), Go's module
//! versions (`v` prefix, `+incompatible`, pseudo-versions), PEP 440 for PyPI, Maven's
//! ComparableVersion, RubyGems' Gem::Version, Composer's normalisation and
//! `version_compare` for Packagist, NuGet.Versioning and dpkg's ordering for Debian.
//!
//! A version is parsed once ([`parse`]) and then compared many times; a version its
//! ecosystem does not accept is an error that names the rule it broke.

mod composer;
mod debian;
mod maven;
mod nuget;
mod rubygems;

use crate::Ecosystem;
use std::cmp::Ordering;
use std::str::FromStr;

/// A version of one ecosystem, ready to compare with others of the same ecosystem.
#[derive(Clone, Debug)]
pub enum Version {
    Semver(semver::Version),
    Pep440(pep440_rs::Version),
    Maven(maven::MavenVersion),
    Gem(rubygems::GemVersion),
    Composer(composer::ComposerVersion),
    NuGet(nuget::NuGetVersion),
    Debian(debian::DebianVersion),
}

/// A version its ecosystem does not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{version}' is not a {ecosystem} version: {reason}")]
pub struct VersionError {
    pub ecosystem: Ecosystem,
    pub version: String,
    pub reason: String,
}

/// The longest version string accepted (a client controls it).
pub const MAX_VERSION_LEN: usize = 256;

/// Parses `text` by the rules of `ecosystem`.
pub fn parse(ecosystem: Ecosystem, text: &str) -> Result<Version, VersionError> {
    let fail = |reason: String| VersionError {
        ecosystem,
        version: text.chars().take(80).collect(),
        reason,
    };
    if text.len() > MAX_VERSION_LEN {
        return Err(fail(format!("longer than {MAX_VERSION_LEN} bytes")));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(fail("empty".into()));
    }
    match ecosystem {
        Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Hex | Ecosystem::Pub => {
            semver_lenient(text).map(Version::Semver).map_err(fail)
        }
        Ecosystem::Go => go(text).map(Version::Semver).map_err(fail),
        Ecosystem::PyPI => pep440_rs::Version::from_str(text)
            .map(Version::Pep440)
            .map_err(|e| fail(e.to_string())),
        Ecosystem::Maven => Ok(Version::Maven(maven::MavenVersion::parse(text))),
        Ecosystem::RubyGems => rubygems::GemVersion::parse(text)
            .map(Version::Gem)
            .map_err(fail),
        Ecosystem::Packagist => composer::ComposerVersion::parse(text)
            .map(Version::Composer)
            .map_err(fail),
        Ecosystem::NuGet => nuget::NuGetVersion::parse(text)
            .map(Version::NuGet)
            .map_err(fail),
        Ecosystem::Debian => debian::DebianVersion::parse(text)
            .map(Version::Debian)
            .map_err(fail),
    }
}

/// Orders two versions of one ecosystem.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(parse(ecosystem, a)?.cmp_same(&parse(ecosystem, b)?))
}

impl Version {
    /// Orders two versions parsed for the same ecosystem (versions of different
    /// ecosystems are never compared; they order by kind so that sorting stays total).
    pub fn cmp_same(&self, other: &Version) -> Ordering {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => a.cmp_precedence(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::Gem(a), Version::Gem(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            (Version::NuGet(a), Version::NuGet(b)) => a.cmp(b),
            (Version::Debian(a), Version::Debian(b)) => a.cmp(b),
            _ => self.kind().cmp(&other.kind()),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Version::Semver(_) => 0,
            Version::Pep440(_) => 1,
            Version::Maven(_) => 2,
            Version::Gem(_) => 3,
            Version::Composer(_) => 4,
            Version::NuGet(_) => 5,
            Version::Debian(_) => 6,
        }
    }
}

/// SemVer 2.0.0, accepting what npm's and Cargo's lockfiles and advisories write around
/// it: a leading `v` or `=`.
fn semver_lenient(text: &str) -> Result<semver::Version, String> {
    let t = text.strip_prefix('=').unwrap_or(text);
    let t = t.strip_prefix('v').unwrap_or(t);
    semver::Version::parse(t).map_err(|e| e.to_string())
}

/// Go module versions: `vMAJOR[.MINOR[.PATCH]]` with SemVer pre-release and build parts
/// (`+incompatible` is build metadata and does not order). Pseudo-versions are SemVer
/// pre-releases and order as such, which is Go's own rule. OSV writes Go versions
/// without the `v`; both spellings are read.
fn go(text: &str) -> Result<semver::Version, String> {
    let t = text.strip_prefix('v').unwrap_or(text);
    let core_end = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(core_end);
    let parts = core.split('.').count();
    let padded = match parts {
        1 => format!("{core}.0.0{rest}"),
        2 => format!("{core}.0{rest}"),
        _ => t.to_owned(),
    };
    semver::Version::parse(&padded).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn cmp(e: Ecosystem, a: &str, b: &str) -> Ordering {
        compare(e, a, b).unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn semver_ecosystems_ignore_build_metadata() {
        assert_eq!(cmp(Ecosystem::Npm, "1.0.0+build.1", "1.0.0"), Equal);
        assert_eq!(
            cmp(Ecosystem::Npm, "1.0.0-alpha.10", "1.0.0-alpha.9"),
            Greater
        );
        assert_eq!(cmp(Ecosystem::CratesIo, "0.0.0-0", "0.1.0"), Less);
        assert!(compare(Ecosystem::CratesIo, "1.0", "1.0.0").is_err());
    }

    #[test]
    fn go_versions_and_pseudo_versions() {
        let g = Ecosystem::Go;
        assert_eq!(cmp(g, "v2.0.0+incompatible", "2.0.0"), Equal);
        assert_eq!(cmp(g, "v0.0.0-20191109021931-daa7c04131f5", "0.0.1"), Less);
        assert_eq!(
            cmp(g, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3"),
            Greater
        );
        assert_eq!(
            cmp(g, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"),
            Less
        );
        assert_eq!(cmp(g, "v1.2", "v1.2.0"), Equal);
    }

    #[test]
    fn pep440_orders_pre_post_and_dev_releases() {
        let p = Ecosystem::PyPI;
        assert_eq!(cmp(p, "1.0rc1", "1.0"), Less);
        assert_eq!(cmp(p, "1.0.post1", "1.0"), Greater);
        assert_eq!(cmp(p, "1.0.dev1", "1.0a1"), Less);
        assert_eq!(cmp(p, "1!0.1", "2.0"), Greater);
        assert_eq!(cmp(p, "1.0", "1.0.0"), Equal);
    }

    #[test]
    fn overlong_and_empty_versions_are_refused_with_the_reason() {
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        let err = parse(Ecosystem::Maven, &long).unwrap_err();
        assert!(err.reason.contains("longer than"), "{err}");
        assert_eq!(parse(Ecosystem::PyPI, " ").unwrap_err().reason, "empty");
    }
}
