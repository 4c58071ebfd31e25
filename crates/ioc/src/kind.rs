//! Indicator kinds and values: what a feed entry can be, how its kind is recognised, and
//! its canonical text (what hits and reports show).
//!
//! Canonical forms: IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) become IPv4 addresses,
//! a CIDR range keeps only its network bits (`10.1.2.3/8` is `10.0.0.0/8`) and a `/32` or
//! `/128` is an address; hashes are lowercase hex; domains, URLs and e-mail addresses are
//! in the normal forms of [`crate::normalize`].

use crate::normalize;
use crate::report::SkipReason;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The kinds of indicator Haechi matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// One IPv4 or IPv6 address.
    Ip,
    /// An IPv4 or IPv6 network: matches every address inside it.
    Cidr,
    /// An IP address and port (a maltrail `1.2.3.4:443` trail, a MISP `ip-dst|port`):
    /// matches an event whose endpoint has both.
    IpPort,
    /// A domain name: matches itself and every name below it.
    Domain,
    /// A URL: matches the same URL in normal form (any scheme, if listed without one).
    Url,
    Md5,
    Sha1,
    Sha256,
    /// An e-mail address.
    Email,
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 9] = [
        IndicatorKind::Ip,
        IndicatorKind::Cidr,
        IndicatorKind::IpPort,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::Md5,
        IndicatorKind::Sha1,
        IndicatorKind::Sha256,
        IndicatorKind::Email,
    ];

    /// The name used in configuration, reports and alert ids.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::IpPort => "ip-port",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Email => "email",
        }
    }

    /// Reads the type names feeds put in a type column: Haechi's own names and the common
    /// ones of MISP, ThreatFox, OpenCTI and STIX (`ip-dst`, `ipv4-addr`, `hostname`,
    /// `md5_hash`, `sha256_hash`, `email-src`, `ip:port`, …), case-insensitively.
    pub fn from_type_name(name: &str) -> Option<IndicatorKind> {
        let name = name.trim().to_ascii_lowercase();
        Some(match name.as_str() {
            "ip" | "ipv4" | "ipv6" | "ip-src" | "ip-dst" | "ipv4-addr" | "ipv6-addr"
            | "ip_address" | "ipaddress" | "address" => IndicatorKind::Ip,
            "cidr" | "net" | "network" | "netblock" | "ip-range" => IndicatorKind::Cidr,
            "ip-port" | "ip:port" | "ip_port" | "ip-dst|port" | "ip-src|port" | "endpoint" => {
                IndicatorKind::IpPort
            }
            "domain" | "hostname" | "host" | "fqdn" | "domain-name" | "domain_name" => {
                IndicatorKind::Domain
            }
            "url" | "uri" => IndicatorKind::Url,
            "md5" | "md5_hash" | "md5hash" | "hash-md5" | "filehash-md5" => IndicatorKind::Md5,
            "sha1" | "sha-1" | "sha1_hash" | "hash-sha1" | "filehash-sha1" => IndicatorKind::Sha1,
            "sha256" | "sha-256" | "sha256_hash" | "hash-sha256" | "filehash-sha256" => {
                IndicatorKind::Sha256
            }
            "email" | "e-mail" | "email-addr" | "email-src" | "email-dst" | "email_address" => {
                IndicatorKind::Email
            }
            _ => return None,
        })
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One indicator value in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndicatorValue {
    Ip(IpAddr),
    /// Network address (host bits zero) and prefix length.
    Cidr(IpAddr, u8),
    IpPort(SocketAddr),
    Domain(String),
    /// The normal form: `scheme://host[:port]/path?query`, or without `scheme://`.
    Url(String),
    Md5([u8; 16]),
    Sha1([u8; 20]),
    Sha256([u8; 32]),
    Email(String),
}

impl IndicatorValue {
    pub fn kind(&self) -> IndicatorKind {
        match self {
            IndicatorValue::Ip(_) => IndicatorKind::Ip,
            IndicatorValue::Cidr(..) => IndicatorKind::Cidr,
            IndicatorValue::IpPort(_) => IndicatorKind::IpPort,
            IndicatorValue::Domain(_) => IndicatorKind::Domain,
            IndicatorValue::Url(_) => IndicatorKind::Url,
            IndicatorValue::Md5(_) => IndicatorKind::Md5,
            IndicatorValue::Sha1(_) => IndicatorKind::Sha1,
            IndicatorValue::Sha256(_) => IndicatorKind::Sha256,
            IndicatorValue::Email(_) => IndicatorKind::Email,
        }
    }

    /// Recognises the kind of an untyped feed entry (a plain-list line, a CSV cell):
    /// IP address, CIDR range, IP:port, MD5/SHA-1/SHA-256 hex, URL (with a scheme, or
    /// `host/path`), e-mail address, domain name — in that order. Defanged values
    /// (`evil[.]com`, `hxxp://`) are accepted.
    pub fn detect(text: &str) -> Result<IndicatorValue, SkipReason> {
        let text = normalize::refang(text.trim());
        let text = text.as_ref();
        if text.is_empty() {
            return Err(SkipReason::Empty);
        }
        if let Some(value) = parse_ip_or_cidr(text)? {
            return Ok(value);
        }
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(ip_port(addr));
        }
        if let Some(hash) = parse_hash(text) {
            return Ok(hash);
        }
        if text.contains("://") {
            return normalize::url(text).map(IndicatorValue::Url);
        }
        if text.contains('@') && !text.contains('/') {
            return normalize::email(text).map(IndicatorValue::Email);
        }
        if text.contains('/') {
            return normalize::url(text).map(IndicatorValue::Url);
        }
        if let Some((host, port)) = host_port(text) {
            return Err(match host.parse::<IpAddr>() {
                Ok(_) if port.parse::<u16>().is_err() => SkipReason::Invalid {
                    kind: IndicatorKind::IpPort,
                    detail: "the port is not 0-65535",
                },
                _ => SkipReason::HostWithPort,
            });
        }
        normalize::domain(text).map(IndicatorValue::Domain)
    }

    /// Reads a value whose kind the feed states (a type column, a MISP attribute type, a
    /// STIX object path). `Ip` and `Cidr` accept either form (MISP's `ip-dst` may hold a
    /// network); `IpPort` accepts `ip:port` and MISP's `ip|port`.
    pub fn parse(kind: IndicatorKind, text: &str) -> Result<IndicatorValue, SkipReason> {
        let text = normalize::refang(text.trim());
        let text = text.as_ref();
        if text.is_empty() {
            return Err(SkipReason::Empty);
        }
        let invalid = |detail| SkipReason::Invalid { kind, detail };
        match kind {
            IndicatorKind::Ip | IndicatorKind::Cidr => {
                parse_ip_or_cidr(text)?.ok_or(invalid("not an IP address or CIDR range"))
            }
            IndicatorKind::IpPort => {
                let addr = match text.split_once('|') {
                    Some((ip, port)) => ip
                        .trim()
                        .parse::<IpAddr>()
                        .ok()
                        .zip(port.trim().parse::<u16>().ok())
                        .map(|(ip, port)| SocketAddr::new(ip, port)),
                    None => text.parse::<SocketAddr>().ok(),
                };
                let addr = addr.ok_or(invalid("not IP:port"))?;
                Ok(ip_port(addr))
            }
            IndicatorKind::Domain => {
                if text.parse::<IpAddr>().is_ok() {
                    return Err(SkipReason::WrongKind {
                        expected: IndicatorKind::Domain,
                        found: IndicatorKind::Ip,
                    });
                }
                normalize::domain(text).map(IndicatorValue::Domain)
            }
            IndicatorKind::Url => normalize::url(text).map(IndicatorValue::Url),
            IndicatorKind::Email => normalize::email(text).map(IndicatorValue::Email),
            IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => {
                match parse_hash(text) {
                    Some(hash) if hash.kind() == kind => Ok(hash),
                    Some(hash) => Err(SkipReason::WrongKind {
                        expected: kind,
                        found: hash.kind(),
                    }),
                    None => Err(invalid("not a hex digest of the right length")),
                }
            }
        }
    }
}

/// An IP address, or a CIDR range, in canonical form; `Ok(None)` if `text` is neither,
/// `Err` if it is a CIDR range with an impossible prefix length.
fn parse_ip_or_cidr(text: &str) -> Result<Option<IndicatorValue>, SkipReason> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Some(IndicatorValue::Ip(ip.to_canonical())));
    }
    let Some((net, len)) = text.split_once('/') else {
        return Ok(None);
    };
    let (Ok(net), Ok(len)) = (net.parse::<IpAddr>(), len.parse::<u8>()) else {
        return Ok(None);
    };
    cidr(net, len).map(Some)
}

/// A network in canonical form: mapped IPv6 networks inside `::ffff:0:0/96` become IPv4
/// ones, host bits are cleared, and a full-length prefix is an address.
pub(crate) fn cidr(net: IpAddr, len: u8) -> Result<IndicatorValue, SkipReason> {
    let (net, len) = match net {
        IpAddr::V6(v6) if len >= 96 && v6.to_ipv4_mapped().is_some() => (
            IpAddr::V4(
                v6.to_ipv4_mapped()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
            ),
            len - 96,
        ),
        other => (other, len),
    };
    let invalid = SkipReason::Invalid {
        kind: IndicatorKind::Cidr,
        detail: "prefix length longer than the address",
    };
    Ok(match net {
        IpAddr::V4(v4) => {
            if len > 32 {
                return Err(invalid);
            }
            let bits = u32::from(v4) & mask32(len);
            if len == 32 {
                IndicatorValue::Ip(IpAddr::V4(bits.into()))
            } else {
                IndicatorValue::Cidr(IpAddr::V4(bits.into()), len)
            }
        }
        IpAddr::V6(v6) => {
            if len > 128 {
                return Err(invalid);
            }
            let bits = u128::from(v6) & mask128(len);
            if len == 128 {
                IndicatorValue::Ip(IpAddr::V6(bits.into()))
            } else {
                IndicatorValue::Cidr(IpAddr::V6(bits.into()), len)
            }
        }
    })
}

pub(crate) fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

pub(crate) fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// An endpoint with its address in canonical form.
fn ip_port(addr: SocketAddr) -> IndicatorValue {
    IndicatorValue::IpPort(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
}

/// `host:digits` (not IPv6): a `name:port` Haechi cannot match, or an IP with a bad port.
fn host_port(text: &str) -> Option<(&str, &str)> {
    text.rsplit_once(':').filter(|(host, port)| {
        !host.is_empty()
            && !host.contains(':')
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// A hex digest by its length: 32 → MD5, 40 → SHA-1, 64 → SHA-256.
pub(crate) fn parse_hash(text: &str) -> Option<IndicatorValue> {
    match text.len() {
        32 => parse_hex(text).map(IndicatorValue::Md5),
        40 => parse_hex(text).map(IndicatorValue::Sha1),
        64 => parse_hex(text).map(IndicatorValue::Sha256),
        _ => None,
    }
}

/// Hex text of exactly `2 * N` digits, either case.
pub(crate) fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        // Invalid digits are 0xFF: collect their high bit, check once at the end.
        bad |= hi | lo;
        out[i] = (hi << 4) | (lo & 0x0F);
    }
    (bad & 0x80 == 0).then_some(out)
}

/// The value of each hex digit, 0xFF for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Lowercase hex of a digest.
pub(crate) struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for IndicatorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndicatorValue::Ip(ip) => write!(f, "{ip}"),
            IndicatorValue::Cidr(net, len) => write!(f, "{net}/{len}"),
            IndicatorValue::IpPort(addr) => write!(f, "{addr}"),
            IndicatorValue::Domain(s) | IndicatorValue::Url(s) | IndicatorValue::Email(s) => {
                f.write_str(s)
            }
            IndicatorValue::Md5(h) => Hex(h).fmt(f),
            IndicatorValue::Sha1(h) => Hex(h).fmt(f),
            IndicatorValue::Sha256(h) => Hex(h).fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(s: &str) -> String {
        match IndicatorValue::detect(s) {
            Ok(v) => format!("{}:{v}", v.kind()),
            Err(e) => format!("skip:{}", e.code()),
        }
    }

    #[test]
    fn detects_every_kind_of_a_mixed_list() {
        assert_eq!(detect("1.2.3.4"), "ip:1.2.3.4");
        assert_eq!(detect("::ffff:1.2.3.4"), "ip:1.2.3.4");
        assert_eq!(detect("2001:DB8::1"), "ip:2001:db8::1");
        assert_eq!(detect("10.1.2.3/8"), "cidr:10.0.0.0/8");
        assert_eq!(detect("10.1.2.3/32"), "ip:10.1.2.3");
        assert_eq!(detect("::ffff:10.0.0.0/104"), "cidr:10.0.0.0/8");
        assert_eq!(detect("2001:db8::/32"), "cidr:2001:db8::/32");
        assert_eq!(detect("1.2.3.4/33"), "skip:invalid");
        assert_eq!(detect("1.2.3.4:443"), "ip-port:1.2.3.4:443");
        assert_eq!(detect("[2001:db8::1]:443"), "ip-port:[2001:db8::1]:443");
        assert_eq!(
            detect("D41D8CD98F00B204E9800998ECF8427E"),
            "md5:d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(detect(&"a".repeat(40)), format!("sha1:{}", "a".repeat(40)));
        assert_eq!(
            detect(&"b".repeat(64)),
            format!("sha256:{}", "b".repeat(64))
        );
        assert_eq!(detect("http://Evil.com"), "url:http://evil.com/");
        assert_eq!(detect("evil.com/gate.php"), "url:evil.com/gate.php");
        assert_eq!(detect("/gate.php?id="), "skip:path-without-host");
        assert_eq!(detect("Bad@Evil.com"), "email:bad@evil.com");
        assert_eq!(detect("Evil.COM"), "domain:evil.com");
        assert_eq!(detect("evil[.]com"), "domain:evil.com");
        assert_eq!(detect("evil.com:8080"), "skip:host-with-port");
        assert_eq!(detect("1.2.3.4:66086"), "skip:invalid");
        assert_eq!(detect("localhost"), "skip:single-label");
        assert_eq!(detect("not an indicator"), "skip:unrecognised");
    }

    #[test]
    fn typed_values_are_checked_against_their_kind() {
        use IndicatorKind::*;
        fn p(k: IndicatorKind, s: &str) -> Result<String, SkipReason> {
            IndicatorValue::parse(k, s).map(|v| v.to_string())
        }
        assert_eq!(p(Ip, "10.0.0.0/8").unwrap(), "10.0.0.0/8");
        assert_eq!(p(IpPort, "1.2.3.4|80").unwrap(), "1.2.3.4:80");
        assert_eq!(p(Domain, "1.2.3.4").unwrap_err().code(), "wrong-kind");
        assert_eq!(p(Md5, &"a".repeat(64)).unwrap_err().code(), "wrong-kind");
        assert_eq!(p(Sha256, "xyz").unwrap_err().code(), "invalid");
        assert_eq!(
            p(Md5, &format!("{}g", "0".repeat(31))).unwrap_err().code(),
            "invalid"
        );
        assert_eq!(p(Md5, &"Ff".repeat(16)).unwrap(), "ff".repeat(16));
    }

    #[test]
    fn type_names_of_common_feeds() {
        assert_eq!(
            IndicatorKind::from_type_name("IP-DST"),
            Some(IndicatorKind::Ip)
        );
        assert_eq!(
            IndicatorKind::from_type_name("sha256_hash"),
            Some(IndicatorKind::Sha256)
        );
        assert_eq!(
            IndicatorKind::from_type_name("ip:port"),
            Some(IndicatorKind::IpPort)
        );
        assert_eq!(IndicatorKind::from_type_name("regkey"), None);
    }
}

/// Whether an address, endpoint or range lies in (or, for a range, overlaps) reserved
/// IPv4/IPv6 space: private, shared, loopback, link-local, multicast, documentation,
/// benchmarking, unspecified and "this network" blocks (RFC 6890 and successors).
pub fn touches_reserved(value: &IndicatorValue) -> bool {
    const V4: [(u32, u8); 14] = [
        (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
        (0x0A00_0000, 8),  // 10/8
        (0x6440_0000, 10), // 100.64/10 shared address space
        (0x7F00_0000, 8),  // 127/8
        (0xA9FE_0000, 16), // 169.254/16
        (0xAC10_0000, 12), // 172.16/12
        (0xC000_0000, 24), // 192.0.0/24
        (0xC000_0200, 24), // 192.0.2/24 TEST-NET-1
        (0xC0A8_0000, 16), // 192.168/16
        (0xC612_0000, 15), // 198.18/15 benchmarking
        (0xC633_6400, 24), // 198.51.100/24 TEST-NET-2
        (0xCB00_7100, 24), // 203.0.113/24 TEST-NET-3
        (0xE000_0000, 4),  // 224/4 multicast
        (0xF000_0000, 4),  // 240/4 reserved, broadcast
    ];
    let overlaps_v4 = |net: u32, len: u8| {
        V4.iter().any(|(r, rlen)| {
            let common = len.min(*rlen);
            let mask = if common == 0 {
                0
            } else {
                u32::MAX << (32 - common)
            };
            net & mask == r & mask
        })
    };
    let v6_reserved = |ip: std::net::Ipv6Addr| {
        let seg = ip.segments();
        ip.is_unspecified()
            || ip.is_loopback()
            || (seg[0] & 0xfe00) == 0xfc00 // unique local
            || (seg[0] & 0xffc0) == 0xfe80 // link-local
            || (seg[0] & 0xff00) == 0xff00 // multicast
            || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
    };
    match value {
        IndicatorValue::Ip(ip) => match ip.to_canonical() {
            IpAddr::V4(v4) => overlaps_v4(u32::from(v4), 32),
            IpAddr::V6(v6) => v6_reserved(v6),
        },
        IndicatorValue::IpPort(addr) => match addr.ip().to_canonical() {
            IpAddr::V4(v4) => overlaps_v4(u32::from(v4), 32),
            IpAddr::V6(v6) => v6_reserved(v6),
        },
        IndicatorValue::Cidr(net, len) => match net.to_canonical() {
            IpAddr::V4(v4) => overlaps_v4(u32::from(v4), (*len).min(32)),
            IpAddr::V6(v6) => *len < 8 || v6_reserved(v6),
        },
        _ => false,
    }
}

#[cfg(test)]
mod reserved_tests {
    use super::*;

    fn reserved(text: &str) -> bool {
        touches_reserved(&IndicatorValue::detect(text).unwrap())
    }

    #[test]
    fn reserved_space_is_recognised() {
        for r in [
            "10.1.2.3",
            "192.168.0.0/16",
            "224.0.0.0/3",
            "127.0.0.1",
            "0.0.0.0/0",
            "fe80::1",
            "fd00::/8",
            "169.254.1.1",
            "172.20.0.0/16",
        ] {
            assert!(reserved(r), "{r}");
        }
        for p in [
            "8.8.8.8",
            "5.188.10.0/23",
            "103.99.0.0/22",
            "2a00:1450::1",
            "172.32.0.1",
            "11.0.0.0/8",
        ] {
            assert!(!reserved(p), "{p}");
        }
    }
}
