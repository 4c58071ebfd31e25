//! Normal forms of names, URLs and e-mail addresses.
//!
//! An indicator and an event value match when their normal forms are equal, so both sides
//! go through the functions here: at load time into a `String` that the set keeps, at match
//! time into a fixed buffer (on the stack for names, one per thread for URLs) so that
//! looking up an event value never allocates. The normal forms:
//!
//! * **domain**: ASCII lowercase, without a trailing dot;
//! * **e-mail address**: ASCII lowercase (the local part is case-sensitive in theory, never
//!   in practice);
//! * **URL**: `scheme://` (lowercase, only if the URL has one) + host (lowercase, without a
//!   trailing dot) + `:port` (unless it is the scheme's default) + path and query exactly as
//!   written (an empty path becomes `/`); the user-info and the `#fragment` are dropped.
//!   Percent-encoding is left alone: `%41` and `A` stay different.
//!
//! The longest values the set accepts are bounded ([`MAX_DOMAIN_LEN`], [`MAX_EMAIL_LEN`],
//! [`MAX_URL_LEN`]); an event value longer than the bound cannot match and is not looked up.

use crate::kind::IndicatorKind;
use crate::report::SkipReason;
use std::borrow::Cow;

/// The longest domain name (RFC 1035, without the trailing dot).
pub const MAX_DOMAIN_LEN: usize = 253;
/// The longest e-mail address (64-byte local part, `@`, 255-byte domain).
pub const MAX_EMAIL_LEN: usize = 320;
/// The longest URL indicator, in its normal form. Longer feed entries are skipped with a
/// reason; it bounds the buffer event URLs are normalised into.
pub const MAX_URL_LEN: usize = 4096;

/// A fixed-size byte buffer that remembers whether something did not fit.
pub(crate) struct StackBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> StackBuf<N> {
    pub(crate) fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    /// The bytes written, or `None` if they did not fit.
    pub(crate) fn get(&self) -> Option<&[u8]> {
        (!self.overflow).then(|| &self.buf[..self.len])
    }
}

/// Where a normal form is written: a `String` at load time, a [`StackBuf`] at match time.
pub(crate) trait Sink {
    fn push(&mut self, bytes: &[u8]);

    /// Appends `bytes` with ASCII letters lowercased.
    fn push_lower(&mut self, bytes: &[u8]);
}

impl<const N: usize> Sink for StackBuf<N> {
    fn push(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end > N {
            self.overflow = true;
            return;
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    fn push_lower(&mut self, bytes: &[u8]) {
        let start = self.len;
        self.push(bytes);
        if !self.overflow {
            self.buf[start..self.len].make_ascii_lowercase();
        }
    }
}

impl Sink for Vec<u8> {
    fn push(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn push_lower(&mut self, bytes: &[u8]) {
        self.extend(bytes.iter().map(u8::to_ascii_lowercase));
    }
}

/// Undoes the usual "defanging" of shared indicators (`evil[.]com`, `hxxp://`), so that a
/// list written for humans still loads.
pub(crate) fn refang(text: &str) -> Cow<'_, str> {
    let has_brackets = text.contains("[.]") || text.contains("(.)") || text.contains("[:]");
    let hxxp = text.len() >= 4 && text[..4].eq_ignore_ascii_case("hxxp");
    if !has_brackets && !hxxp {
        return Cow::Borrowed(text);
    }
    let mut out = text
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[:]", ":");
    if hxxp {
        out.replace_range(..4, "http");
    }
    Cow::Owned(out)
}

/// Checks a domain name and returns its normal form. A leading `*.` or `.` (wildcard
/// notations for "this domain and below") is dropped, since every listed domain matches its
/// subdomains anyway.
pub(crate) fn domain(text: &str) -> Result<String, SkipReason> {
    let name = text.trim();
    let name = name
        .strip_prefix("*.")
        .or_else(|| name.strip_prefix('.'))
        .unwrap_or(name);
    let name = name.strip_suffix('.').unwrap_or(name);
    check_domain(name)?;
    Ok(name.to_ascii_lowercase())
}

/// Why `name` (without trailing dot) is not a domain Haechi can match, if it is not.
fn check_domain(name: &str) -> Result<(), SkipReason> {
    let invalid = |detail| SkipReason::Invalid {
        kind: IndicatorKind::Domain,
        detail,
    };
    if name.is_empty() {
        return Err(SkipReason::Empty);
    }
    if !name.is_ascii() {
        return Err(SkipReason::NonAsciiDomain);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(SkipReason::Unrecognised);
    }
    if name.len() > MAX_DOMAIN_LEN {
        return Err(invalid("longer than 253 characters"));
    }
    let mut labels = 0;
    for label in name.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label"));
        }
        if label.len() > 63 {
            return Err(invalid("label longer than 63 characters"));
        }
        labels += 1;
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("numeric top-level label (a malformed IP address?)"));
    }
    if labels < 2 {
        return Err(SkipReason::SingleLabel);
    }
    Ok(())
}

/// Checks an e-mail address and returns its normal form.
pub(crate) fn email(text: &str) -> Result<String, SkipReason> {
    let invalid = |detail| SkipReason::Invalid {
        kind: IndicatorKind::Email,
        detail,
    };
    let addr = text.trim();
    let addr = addr
        .strip_prefix("mailto:")
        .or_else(|| addr.strip_prefix("MAILTO:"))
        .unwrap_or(addr);
    let Some((local, host)) = addr.rsplit_once('@') else {
        return Err(invalid("no '@'"));
    };
    if local.is_empty() || local.len() > 64 {
        return Err(invalid("local part empty or longer than 64 characters"));
    }
    if local
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"<>@,;\"/".contains(&b))
    {
        return Err(invalid("unexpected character in the local part"));
    }
    check_domain(host).map_err(|_| invalid("the part after '@' is not a domain name"))?;
    Ok(addr.to_ascii_lowercase())
}

/// A URL cut into the parts its normal form is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// As written (compare case-insensitively), without `://`.
    pub scheme: Option<&'a str>,
    /// As written, without user-info, brackets kept for IPv6, trailing dot removed.
    pub host: &'a str,
    /// The port, unless absent or the scheme's default.
    pub port: Option<u16>,
    /// Path and query as written, fragment removed; may be empty or start with `?`.
    pub tail: &'a str,
}

/// Splits off a scheme: letters, digits, `+ - .`, starting with a letter, then `://`.
pub(crate) fn split_scheme(text: &str) -> (Option<&str>, &str) {
    if let Some(i) = text.find("://") {
        let scheme = &text[..i];
        let mut bytes = scheme.bytes();
        let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if valid {
            return (Some(scheme), &text[i + 3..]);
        }
    }
    (None, text)
}

/// Splits a URL (with or without scheme). `None` when it has no host (`/path`, `http:///x`)
/// or a port that is not a number.
pub(crate) fn split_url(text: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = split_scheme(text.trim());
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let tail = tail.find('#').map_or(tail, |i| &tail[..i]);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_host_port(authority)?;
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            let port: u16 = p.parse().ok()?;
            (Some(port) != scheme.and_then(default_port)).then_some(port)
        }
        Some(_) => return None,
    };
    Some(UrlParts {
        scheme,
        host,
        port,
        tail,
    })
}

/// `host[:port]` or `[v6][:port]`.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    Some(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// The port a scheme uses when the URL names none.
fn default_port(scheme: &str) -> Option<u16> {
    const DEFAULTS: [(&str, u16); 5] = [
        ("http", 80),
        ("https", 443),
        ("ftp", 21),
        ("ws", 80),
        ("wss", 443),
    ];
    DEFAULTS
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|&(_, p)| p)
}

impl UrlParts<'_> {
    /// Writes the normal form without the scheme: what the set hashes and compares, so that
    /// an indicator listed without a scheme matches any scheme.
    pub(crate) fn write_rest(&self, out: &mut impl Sink) {
        out.push_lower(self.host.as_bytes());
        if let Some(port) = self.port {
            let mut digits = [0u8; 5];
            out.push(b":");
            out.push(format_u16(port, &mut digits));
        }
        if !self.tail.starts_with('/') {
            out.push(b"/");
        }
        out.push(self.tail.as_bytes());
    }
}

/// A port in decimal, without allocating.
fn format_u16(mut n: u16, digits: &mut [u8; 5]) -> &[u8] {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &digits[i..];
        }
    }
}

/// Checks a URL indicator and returns its normal form: `scheme://rest` when the feed gave
/// a scheme, `rest` alone (matching any scheme) when it did not.
pub(crate) fn url(text: &str) -> Result<String, SkipReason> {
    let invalid = |detail| SkipReason::Invalid {
        kind: IndicatorKind::Url,
        detail,
    };
    let text = text.trim();
    if text.starts_with('/') {
        return Err(SkipReason::PathWithoutHost);
    }
    let parts = split_url(text).ok_or(invalid("no host, or a port that is not a number"))?;
    check_url_host(parts.host)?;
    let mut out = Vec::with_capacity(text.len() + 1);
    if let Some(scheme) = parts.scheme {
        out.push_lower(scheme.as_bytes());
        out.extend_from_slice(b"://");
    }
    parts.write_rest(&mut out);
    if out.len() > MAX_URL_LEN {
        return Err(SkipReason::TooLong {
            kind: IndicatorKind::Url,
            max: MAX_URL_LEN,
        });
    }
    String::from_utf8(out).map_err(|_| SkipReason::NotUtf8)
}

/// A URL's host must be a name (a single label is fine here: the URL is matched whole, not
/// as a suffix), an IPv4 address or a bracketed IPv6 address.
fn check_url_host(host: &str) -> Result<(), SkipReason> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<std::net::Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| SkipReason::Invalid {
                kind: IndicatorKind::Url,
                detail: "bracketed host is not an IPv6 address",
            });
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(());
    }
    match check_domain(host) {
        Ok(()) | Err(SkipReason::SingleLabel) => Ok(()),
        Err(SkipReason::NonAsciiDomain) => Err(SkipReason::NonAsciiDomain),
        Err(_) => Err(SkipReason::Invalid {
            kind: IndicatorKind::Url,
            detail: "the host is not a domain name or IP address",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(url: &str) -> String {
        let mut out = Vec::new();
        split_url(url).unwrap().write_rest(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn url_normal_form_lowercases_scheme_and_host_only() {
        assert_eq!(
            url("HTTP://Evil.COM./Path/A?Q=1#frag").unwrap(),
            "http://evil.com/Path/A?Q=1"
        );
        assert_eq!(url("https://evil.com:443").unwrap(), "https://evil.com/");
        assert_eq!(
            url("http://evil.com:8080?x").unwrap(),
            "http://evil.com:8080/?x"
        );
        assert_eq!(
            url("evil.com/a").unwrap(),
            "evil.com/a",
            "no scheme: any scheme"
        );
        assert_eq!(url("http://user:pw@evil.com/").unwrap(), "http://evil.com/");
        assert_eq!(
            url("http://[2001:DB8::1]:80/x").unwrap(),
            "http://[2001:db8::1]/x"
        );
        assert_eq!(url("/only/a/path"), Err(SkipReason::PathWithoutHost));
        assert!(url("http://evil.com:http/").is_err());
        assert!(url("http://exa mple.com/").is_err());
    }

    #[test]
    fn event_side_rest_equals_indicator_side() {
        assert_eq!(rest("http://EVIL.com:80/x"), "evil.com/x");
        assert_eq!(rest("ftp://evil.com:2121"), "evil.com:2121/");
        assert_eq!(
            rest("evil.com:80/x"),
            "evil.com:80/x",
            "no scheme: port kept"
        );
    }

    #[test]
    fn domains_and_emails() {
        assert_eq!(domain("*.Evil.COM.").unwrap(), "evil.com");
        assert_eq!(domain(".evil.com").unwrap(), "evil.com");
        assert_eq!(domain("localhost"), Err(SkipReason::SingleLabel));
        assert_eq!(domain("bücher.de"), Err(SkipReason::NonAsciiDomain));
        assert!(domain("1.2.3").is_err());
        assert!(domain("a..b").is_err());
        assert_eq!(email("Bad.Guy@Evil.COM").unwrap(), "bad.guy@evil.com");
        assert!(email("no-at-sign").is_err());
        assert!(email("a b@evil.com").is_err());
        assert_eq!(refang("hxxp://evil[.]com/x"), "http://evil.com/x");
    }

    #[test]
    fn stack_buffer_reports_overflow() {
        let mut buf = StackBuf::<4>::new();
        buf.push_lower(b"AB");
        assert_eq!(buf.get(), Some(&b"ab"[..]));
        buf.push(b"CDE");
        assert_eq!(buf.get(), None);
    }
}
