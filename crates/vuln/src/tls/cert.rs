//! The server's certificate chain: what each certificate says (names, validity, key,
//! signature) and whether the chain is trusted for the host — by Mozilla's roots
//! (`webpki-roots`) plus any roots the inspector adds (an institution's private CA),
//! through rustls's own WebPKI verifier.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use std::sync::Arc;
use x509_parser::prelude::*;

/// One certificate of the chain.
#[derive(Clone, Debug, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and addresses of the subject alternative names.
    pub names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    /// Whole days until it expires (negative: expired that long ago).
    pub days_left: i64,
    /// `RSA`, `EC`, `Ed25519`, …
    pub key_type: String,
    pub key_bits: usize,
    /// The signature algorithm's name (`sha256WithRSAEncryption`, …).
    pub signature: String,
    pub self_signed: bool,
}

/// The chain as a whole.
#[derive(Clone, Debug, Serialize)]
pub struct ChainReport {
    pub certificates: Vec<CertInfo>,
    /// The leaf names the host.
    pub name_matches: bool,
    /// `None` when the chain leads to a trusted root; else why not.
    pub untrusted: Option<String>,
}

/// RFC 3339 for any certificate date (years up to 9999 included).
fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("{t} s after 1970"))
}

pub fn describe(der: &[u8], now: i64) -> Result<CertInfo, String> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("a certificate does not parse: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let mut names = Vec::new();
    if let Ok(Some(san)) = tbs.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_owned()),
                GeneralName::IPAddress(ip) => match ip.len() {
                    4 => {
                        names.push(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string())
                    }
                    16 => {
                        let mut b = [0u8; 16];
                        b.copy_from_slice(ip);
                        names.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let spki = tbs.public_key();
    let (key_type, key_bits) = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(r)) => ("RSA".to_owned(), r.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(e)) => ("EC".to_owned(), e.key_size()),
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => ("DSA".to_owned(), 0),
        _ => {
            let oid = spki.algorithm.algorithm.to_id_string();
            let name = match oid.as_str() {
                "1.3.101.112" => "Ed25519",
                "1.3.101.113" => "Ed448",
                _ => "other",
            };
            (name.to_owned(), 0)
        }
    };
    let registry = x509_parser::objects::oid_registry();
    let sig_oid = &cert.signature_algorithm.algorithm;
    let signature = x509_parser::objects::oid2sn(sig_oid, registry)
        .map(str::to_owned)
        .unwrap_or_else(|_| sig_oid.to_id_string());
    let not_after = tbs.validity.not_after.timestamp();
    Ok(CertInfo {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        names,
        not_before: rfc3339(tbs.validity.not_before.timestamp()),
        not_after: rfc3339(not_after),
        days_left: (not_after - now).div_euclid(86_400),
        key_type,
        key_bits,
        signature,
        self_signed: tbs.subject() == tbs.issuer(),
    })
}

/// Whether a certificate name (`*.example.kr` allowed, one label deep) covers `host`.
pub fn name_covers(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    let h = h.trim_end_matches('.');
    match p.strip_prefix("*.") {
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => p == h,
    }
}

/// rustls's error in words.
fn reason(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            rustls::CertificateError::UnknownIssuer => "issuer not trusted".into(),
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                "expired".into()
            }
            rustls::CertificateError::Other(o) => o.to_string(),
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}

/// Describes `chain` (leaf first, DER) for `host` at `now` (Unix seconds), trusting
/// Mozilla's roots and `extra_roots` (DER).
pub fn analyse(
    chain: &[Vec<u8>],
    host: &str,
    extra_roots: &[Vec<u8>],
    now: i64,
) -> Result<ChainReport, String> {
    let leaf = chain.first().ok_or("the server sent no certificate")?;
    let certificates = chain
        .iter()
        .map(|c| describe(c, now))
        .collect::<Result<Vec<_>, _>>()?;
    let name_matches = certificates[0].names.iter().any(|n| name_covers(n, host));
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for r in extra_roots {
        roots
            .add(CertificateDer::from(r.clone()))
            .map_err(|e| format!("a root given to trust does not parse: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| e.to_string())?;
    let intermediates: Vec<CertificateDer> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let server_name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
    let untrusted = match verifier.verify_server_cert(
        &CertificateDer::from(leaf.clone()),
        &intermediates,
        &server_name,
        &[],
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64)),
    ) {
        Ok(_) => None,
        Err(e) if certificates[0].self_signed && chain.len() == 1 => {
            Some(format!("self-signed ({})", reason(&e)))
        }
        Err(rustls::Error::InvalidCertificate(e)) => match e {
            // The path was built and checked before the name: the chain itself is trusted.
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. } => None,
            rustls::CertificateError::UnknownIssuer if certificates[0].self_signed => {
                Some("self-signed".to_owned())
            }
            rustls::CertificateError::UnknownIssuer => {
                Some("issued by a certificate authority that is not trusted".to_owned())
            }
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                Some("expired".to_owned())
            }
            other => Some(format!("{other:?}")),
        },
        Err(other) => Some(reason(&other)),
    };
    Ok(ChainReport {
        certificates,
        name_matches,
        untrusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(name_covers("*.seoul.go.kr", "www.seoul.go.kr"));
        assert!(!name_covers("*.seoul.go.kr", "seoul.go.kr"));
        assert!(!name_covers("*.seoul.go.kr", "a.b.seoul.go.kr"));
        assert!(name_covers("WWW.Example.kr", "www.example.kr."));
        assert!(!name_covers("www.example.kr", "example.kr"));
    }
}
