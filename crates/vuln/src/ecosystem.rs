//! Package ecosystems as OSV names them, the purl types that map to them, and how each
//! ecosystem spells a package name, so that an SBOM's component and an advisory meet.

use serde::{Deserialize, Serialize};

/// An ecosystem whose versions Haechi can order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "npm")]
    Npm,
    PyPI,
    Go,
    Maven,
    RubyGems,
    Packagist,
    NuGet,
    Debian,
    Hex,
    Pub,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 11] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::Maven,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::NuGet,
        Ecosystem::Debian,
        Ecosystem::Hex,
        Ecosystem::Pub,
    ];

    /// The name OSV uses (`affected[].package.ecosystem`).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Debian => "Debian",
            Ecosystem::Hex => "Hex",
            Ecosystem::Pub => "Pub",
        }
    }

    /// Reads an OSV ecosystem name; a release suffix (`Debian:12`) is ignored.
    pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
        let base = name.split(':').next().unwrap_or(name);
        Ecosystem::ALL.into_iter().find(|e| e.osv_name() == base)
    }

    /// The ecosystem OSV maps a package URL type to.
    pub fn from_purl_type(ty: &str) -> Option<Ecosystem> {
        Some(match ty.to_ascii_lowercase().as_str() {
            "cargo" => Ecosystem::CratesIo,
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::PyPI,
            "golang" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "gem" => Ecosystem::RubyGems,
            "composer" => Ecosystem::Packagist,
            "nuget" => Ecosystem::NuGet,
            "deb" => Ecosystem::Debian,
            "hex" => Ecosystem::Hex,
            "pub" => Ecosystem::Pub,
            _ => return None,
        })
    }

    /// The package URL type of this ecosystem.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Debian => "deb",
            Ecosystem::Hex => "hex",
            Ecosystem::Pub => "pub",
        }
    }

    /// The key a package name is matched by: PyPI names are compared after PEP 503
    /// normalisation, Packagist, NuGet and Hex names case-insensitively, the others as
    /// written (crates.io, npm, Go module paths and Maven coordinates are exact).
    pub fn name_key(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => pep503(name),
            Ecosystem::Packagist | Ecosystem::NuGet | Ecosystem::Hex | Ecosystem::Pub => {
                name.to_ascii_lowercase()
            }
            _ => name.to_owned(),
        }
    }

    /// A package URL for a component of this ecosystem (`name` as the ecosystem writes
    /// it: `group:artifact` for Maven, `vendor/package` for Packagist, a module path for
    /// Go, `@scope/name` for npm).
    pub fn purl(self, name: &str, version: &str) -> String {
        let (namespace, base) = match self {
            Ecosystem::Maven => match name.split_once(':') {
                Some((g, a)) => (Some(g.to_owned()), a.to_owned()),
                None => (None, name.to_owned()),
            },
            Ecosystem::Go | Ecosystem::Packagist | Ecosystem::Npm => match name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns.to_owned()), n.to_owned()),
                None => (None, name.to_owned()),
            },
            Ecosystem::PyPI => (None, pep503(name)),
            _ => (None, name.to_owned()),
        };
        let mut purl = String::from("pkg:");
        purl.push_str(self.purl_type());
        purl.push('/');
        if let Some(ns) = namespace {
            for (i, segment) in ns.split('/').enumerate() {
                if i > 0 {
                    purl.push('/');
                }
                purl.push_str(&percent_encode(segment));
            }
            purl.push('/');
        }
        purl.push_str(&percent_encode(&base));
        if !version.is_empty() {
            purl.push('@');
            purl.push_str(&percent_encode(version));
        }
        purl
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// PEP 503: lower case, every run of `-`, `_` and `.` becomes one `-`.
fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        }
    }
    out
}

/// Percent-encodes what a purl segment may not hold literally (RFC 3986 unreserved
/// characters, and `+` which versions use, stay as they are).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A package named by a purl: its ecosystem, the name as that ecosystem writes it and
/// the version, if the purl has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurlPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
}

/// Why a purl cannot be matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PurlError {
    Invalid(String),
    UnsupportedType(String),
}

impl std::fmt::Display for PurlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PurlError::Invalid(m) => write!(f, "invalid purl: {m}"),
            PurlError::UnsupportedType(t) => write!(f, "purl type '{t}' has no OSV ecosystem"),
        }
    }
}

/// Reads a package URL into the ecosystem and name an advisory would use.
pub fn parse_purl(purl: &str) -> Result<PurlPackage, PurlError> {
    let parsed: packageurl::PackageUrl<'_> = purl
        .parse()
        .map_err(|e: packageurl::Error| PurlError::Invalid(e.to_string()))?;
    let ty = parsed.ty();
    let ecosystem =
        Ecosystem::from_purl_type(ty).ok_or_else(|| PurlError::UnsupportedType(ty.to_owned()))?;
    let base = parsed.name();
    let name = match (ecosystem, parsed.namespace()) {
        (Ecosystem::Maven, Some(ns)) => format!("{ns}:{base}"),
        (_, Some(ns)) if !ns.is_empty() => format!("{ns}/{base}"),
        _ => base.to_owned(),
    };
    Ok(PurlPackage {
        ecosystem,
        name,
        version: parsed.version().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_map_to_osv_ecosystems_and_names() {
        let p = parse_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
        assert_eq!(p.ecosystem, Ecosystem::Maven);
        assert_eq!(p.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(p.version.as_deref(), Some("2.14.1"));
        let p = parse_purl("pkg:npm/%40angular/core@11.0.0").unwrap();
        assert_eq!(
            (p.ecosystem, p.name.as_str()),
            (Ecosystem::Npm, "@angular/core")
        );
        let p = parse_purl("pkg:golang/golang.org/x/crypto@v0.1.0").unwrap();
        assert_eq!(
            (p.ecosystem, p.name.as_str()),
            (Ecosystem::Go, "golang.org/x/crypto")
        );
        assert_eq!(
            parse_purl("pkg:swift/github.com/a/b@1.0"),
            Err(PurlError::UnsupportedType("swift".into()))
        );
        assert!(matches!(
            parse_purl("not a purl"),
            Err(PurlError::Invalid(_))
        ));
    }

    #[test]
    fn written_purls_read_back() {
        for (eco, name, version) in [
            (Ecosystem::Npm, "@babel/core", "7.0.0"),
            (
                Ecosystem::Maven,
                "com.fasterxml.jackson.core:jackson-databind",
                "2.9.8",
            ),
            (Ecosystem::Go, "github.com/gorilla/websocket", "v1.4.0"),
            (Ecosystem::CratesIo, "regex", "1.5.4"),
        ] {
            let p = parse_purl(&eco.purl(name, version)).unwrap();
            assert_eq!((p.ecosystem, p.name.as_str()), (eco, name));
            assert_eq!(p.version.as_deref(), Some(version));
        }
    }

    #[test]
    fn pypi_names_are_compared_after_pep503() {
        assert_eq!(
            Ecosystem::PyPI.name_key("Zope.Interface__x"),
            "zope-interface-x"
        );
        assert_eq!(
            Ecosystem::from_osv_name("Debian:12"),
            Some(Ecosystem::Debian)
        );
    }
}
