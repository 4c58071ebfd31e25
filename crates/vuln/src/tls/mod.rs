//! TLS inspection of a server, passive in the sense that matters (it only says hello):
//! which protocol versions from SSL 3.0 to TLS 1.3 the server accepts, every cipher suite
//! it accepts in each, whether it imposes its own order, and its certificate chain —
//! judged as an inspector would (deprecated versions, insecure and weak suites, forward
//! secrecy, expiry, name, trust, key and signature).
//!
//! Suites are found the way testssl.sh and sslyze find them: offer every suite Haechi
//! knows ([`suites::SUITES`], 190 of them, legacy ones included), note the one the server
//! picks, offer the rest again, until the server refuses. rustls cannot speak the legacy
//! versions, so the hellos are built by hand ([`hello`]); the chain is read from the
//! plaintext handshake (TLS ≤ 1.2) or, for TLS 1.3-only servers, through rustls.

pub mod cert;
pub mod hello;
pub mod probe;
pub mod suites;

use crate::web::Check;
use serde::Serialize;

/// A protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "TLSv1.0")]
    Tls10,
    #[serde(rename = "TLSv1.1")]
    Tls11,
    #[serde(rename = "TLSv1.2")]
    Tls12,
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

impl Protocol {
    pub const ALL: [Protocol; 5] = [
        Protocol::Ssl3,
        Protocol::Tls10,
        Protocol::Tls11,
        Protocol::Tls12,
        Protocol::Tls13,
    ];

    /// The version number on the wire.
    pub fn wire(self) -> u16 {
        match self {
            Protocol::Ssl3 => 0x0300,
            Protocol::Tls10 => 0x0301,
            Protocol::Tls11 => 0x0302,
            Protocol::Tls12 => 0x0303,
            Protocol::Tls13 => 0x0304,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ssl3 => "SSLv3",
            Protocol::Tls10 => "TLSv1.0",
            Protocol::Tls11 => "TLSv1.1",
            Protocol::Tls12 => "TLSv1.2",
            Protocol::Tls13 => "TLSv1.3",
        }
    }

    /// Deprecated by RFC 8996 (TLS 1.0, 1.1) and RFC 7568 (SSL 3.0).
    pub fn deprecated(self) -> bool {
        self < Protocol::Tls12
    }

    /// The suites that can be negotiated at this version.
    pub fn suites(self) -> impl Iterator<Item = &'static Suite> {
        suites::SUITES.iter().filter(move |s| match self {
            Protocol::Tls13 => s.tls13,
            Protocol::Tls12 => !s.tls13,
            _ => !s.tls13 && !s.tls12_only,
        })
    }
}

/// A cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    /// The IANA name (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
    pub iana: &'static str,
    /// OpenSSL's name (`ECDHE-RSA-AES128-GCM-SHA256`).
    pub openssl: &'static str,
    /// Key exchange as OpenSSL names it: `RSA`, `DH` (DHE), `ECDH` (ECDHE), `PSK`, …, `any` (TLS 1.3).
    pub kx: &'static str,
    /// Authentication: `RSA`, `ECDSA`, `DSS`, `PSK`, `None` (anonymous), `any`.
    pub au: &'static str,
    pub enc: &'static str,
    pub bits: u32,
    pub mac: &'static str,
    pub tls13: bool,
    pub tls12_only: bool,
}

/// How a suite is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Broken or unauthenticated: no encryption, anonymous, export grade, RC4, DES, RC2.
    Insecure,
    /// 64-bit block ciphers (3DES, IDEA: Sweet32).
    Weak,
    /// Sound, but without forward secrecy (static RSA or PSK key exchange).
    NoForwardSecrecy,
    Good,
}

impl Suite {
    pub fn by_code(code: u16) -> Option<&'static Suite> {
        suites::SUITES.iter().find(|s| s.code == code)
    }

    pub fn forward_secret(&self) -> bool {
        matches!(self.kx, "DH" | "ECDH" | "DHEPSK" | "ECDHEPSK" | "any")
    }

    pub fn strength(&self) -> Strength {
        let enc = self.enc.to_ascii_uppercase();
        if enc == "NONE"
            || self.au == "None"
            || self.bits < 112
            || enc.starts_with("RC4")
            || enc.starts_with("RC2")
            || enc == "DES"
        {
            Strength::Insecure
        } else if enc.starts_with("3DES") || enc == "IDEA" {
            Strength::Weak
        } else if !self.forward_secret() {
            Strength::NoForwardSecrecy
        } else {
            Strength::Good
        }
    }
}

/// A suite as reported.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    /// `0xC02F`.
    pub code: String,
    pub iana: &'static str,
    pub openssl: &'static str,
    pub strength: Strength,
}

impl From<&Suite> for SuiteReport {
    fn from(s: &Suite) -> Self {
        SuiteReport {
            code: format!("0x{:04X}", s.code),
            iana: s.iana,
            openssl: s.openssl,
            strength: s.strength(),
        }
    }
}

/// One protocol version's result.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolReport {
    pub protocol: Protocol,
    pub offered: bool,
    /// The suites accepted, in the order the server picked them.
    pub suites: Vec<SuiteReport>,
    /// Whether the server picks by its own preference rather than the client's order
    /// (known when it accepts two suites or more).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_order: Option<bool>,
    /// Not offered: how the server refused (`alert protocol_version`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// The whole TLS result of one host and port.
#[derive(Clone, Debug, Serialize)]
pub struct TlsReport {
    pub host: String,
    pub port: u16,
    pub protocols: Vec<ProtocolReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<cert::ChainReport>,
    /// Why the chain could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_error: Option<String>,
    pub checks: Vec<Check>,
    /// Connections the probe opened.
    pub connections: usize,
}

fn check(name: &'static str, result: &'static str, detail: String) -> Check {
    Check {
        check: name,
        result,
        detail,
    }
}

fn names(list: &[&SuiteReport]) -> String {
    list.iter()
        .map(|s| s.openssl)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Days before expiry from which an inspector warns.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The inspector's verdicts on a probe's findings.
pub fn judge(
    protocols: &[ProtocolReport],
    chain: Option<&cert::ChainReport>,
    preferred: Option<&Suite>,
) -> Vec<Check> {
    let mut out = Vec::new();
    let offered: Vec<Protocol> = protocols
        .iter()
        .filter(|p| p.offered)
        .map(|p| p.protocol)
        .collect();
    let old: Vec<&str> = offered
        .iter()
        .filter(|p| p.deprecated())
        .map(|p| p.name())
        .collect();
    out.push(if offered.is_empty() {
        check(
            "tls-protocols",
            "fail",
            "no protocol version was accepted".into(),
        )
    } else if !old.is_empty() {
        check(
            "tls-protocols",
            "fail",
            format!("deprecated versions accepted: {}", old.join(", ")),
        )
    } else {
        check(
            "tls-protocols",
            "pass",
            offered
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", "),
        )
    });
    out.push(if offered.contains(&Protocol::Tls13) {
        check("tls-1.3", "pass", "TLS 1.3 is accepted".into())
    } else {
        check("tls-1.3", "info", "TLS 1.3 is not accepted".into())
    });
    let all: Vec<&SuiteReport> = protocols.iter().flat_map(|p| &p.suites).collect();
    let mut unique: Vec<&SuiteReport> = Vec::new();
    for s in all {
        if !unique.iter().any(|u| u.code == s.code) {
            unique.push(s);
        }
    }
    for (name, strength, what) in [
        (
            "tls-insecure-suites",
            Strength::Insecure,
            "insecure suites (no encryption, anonymous, export, RC4, DES)",
        ),
        (
            "tls-weak-suites",
            Strength::Weak,
            "64-bit block ciphers (3DES, IDEA: Sweet32)",
        ),
    ] {
        let bad: Vec<&SuiteReport> = unique
            .iter()
            .copied()
            .filter(|s| s.strength == strength)
            .collect();
        out.push(if bad.is_empty() {
            check(name, "pass", format!("no {what}"))
        } else {
            check(
                name,
                "fail",
                format!("{} {what}: {}", bad.len(), names(&bad)),
            )
        });
    }
    let without_fs: Vec<&SuiteReport> = unique
        .iter()
        .copied()
        .filter(|s| s.strength == Strength::NoForwardSecrecy)
        .collect();
    out.push(match preferred {
        Some(p) if !p.forward_secret() => check(
            "tls-forward-secrecy",
            "fail",
            format!("the server prefers {} (no forward secrecy)", p.openssl),
        ),
        _ if !without_fs.is_empty() => check(
            "tls-forward-secrecy",
            "info",
            format!(
                "{} suites without forward secrecy are accepted (not the server's first choice)",
                without_fs.len()
            ),
        ),
        _ => check(
            "tls-forward-secrecy",
            "pass",
            "every accepted suite has forward secrecy".into(),
        ),
    });
    let Some(chain) = chain else {
        return out;
    };
    let leaf = &chain.certificates[0];
    out.push(if leaf.days_left < 0 {
        check(
            "certificate-expiry",
            "fail",
            format!(
                "expired on {} ({} days ago)",
                leaf.not_after, -leaf.days_left
            ),
        )
    } else if leaf.days_left < EXPIRY_WARNING_DAYS {
        check(
            "certificate-expiry",
            "fail",
            format!("expires on {} (in {} days)", leaf.not_after, leaf.days_left),
        )
    } else {
        check(
            "certificate-expiry",
            "pass",
            format!("valid until {} ({} days)", leaf.not_after, leaf.days_left),
        )
    });
    out.push(check(
        "certificate-name",
        if chain.name_matches { "pass" } else { "fail" },
        format!(
            "names: {}",
            if leaf.names.is_empty() {
                "none".to_owned()
            } else {
                leaf.names.join(", ")
            }
        ),
    ));
    out.push(match &chain.untrusted {
        None => check(
            "certificate-trust",
            "pass",
            format!("issued by {}", leaf.issuer),
        ),
        Some(why) => check("certificate-trust", "fail", why.clone()),
    });
    let weak_key = match leaf.key_type.as_str() {
        "RSA" | "DSA" => leaf.key_bits < 2048,
        "EC" => leaf.key_bits < 256,
        _ => false,
    };
    out.push(check(
        "certificate-key",
        if weak_key { "fail" } else { "pass" },
        format!("{} {} bits", leaf.key_type, leaf.key_bits),
    ));
    // The root's own signature does not matter (it is trusted by itself).
    let weak_sig: Vec<String> = chain
        .certificates
        .iter()
        .filter(|c| !c.self_signed || chain.certificates.len() == 1)
        .map(|c| c.signature.clone())
        .filter(|s| {
            let s = s.to_ascii_lowercase();
            s.contains("sha1") || s.contains("md5") || s.contains("md2")
        })
        .collect();
    out.push(if weak_sig.is_empty() {
        check("certificate-signature", "pass", leaf.signature.clone())
    } else {
        check(
            "certificate-signature",
            "fail",
            format!("weak signatures: {}", weak_sig.join(", ")),
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_classifies_suites_as_inspectors_do() {
        let by = |name: &str| {
            suites::SUITES
                .iter()
                .find(|s| s.openssl == name)
                .unwrap()
                .strength()
        };
        assert_eq!(by("NULL-SHA"), Strength::Insecure);
        assert_eq!(by("ADH-AES256-SHA"), Strength::Insecure);
        assert_eq!(by("EXP-RC4-MD5"), Strength::Insecure);
        assert_eq!(by("RC4-SHA"), Strength::Insecure);
        assert_eq!(by("DES-CBC-SHA"), Strength::Insecure);
        assert_eq!(by("DES-CBC3-SHA"), Strength::Weak);
        assert_eq!(by("AES128-GCM-SHA256"), Strength::NoForwardSecrecy);
        assert_eq!(by("ECDHE-RSA-AES128-GCM-SHA256"), Strength::Good);
        assert_eq!(by("TLS_AES_128_GCM_SHA256"), Strength::Good);
        assert_eq!(by("DHE-RSA-SEED-SHA"), Strength::Good);
        let codes: Vec<u16> = suites::SUITES.iter().map(|s| s.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "one entry per code, in order");
        assert_eq!(Protocol::Tls13.suites().count(), 5);
        assert!(Protocol::Tls10.suites().all(|s| !s.tls12_only && !s.tls13));
    }
}
