//! Where names come from, recognised by content: plain lists (one name per line, `#`
//! comments), Certificate Transparency entries as certstream-style JSON lines (every SAN
//! of every certificate: `data.leaf_cert.all_domains`, or a flat `all_domains` or
//! `domain`), and DNS zone files in RFC 1035 master format (the owner names, with
//! `$ORIGIN`, `@` and relative names). Gzip-compressed files are read as such.

use std::io::Read;

/// The most a file may hold once decompressed.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// What a file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Plain,
    CertStream,
    Zone,
}

/// Reads a file (decompressing gzip), bounded by [`MAX_FILE_BYTES`].
pub fn read(path: &std::path::Path) -> Result<String, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut raw = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{shown}: {e}"))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("{shown}: not a readable gzip file: {e}"))?;
        out
    } else {
        raw
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{shown}: over {MAX_FILE_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown}: not UTF-8 text"))
}

/// What the text is.
pub fn recognise(text: &str) -> Format {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'));
    match first {
        Some(l) if l.starts_with('{') => Format::CertStream,
        _ if text
            .lines()
            .any(|l| l.starts_with("$ORIGIN") || l.starts_with("$TTL"))
            || text.lines().take(200).any(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                t.len() >= 3
                    && t.iter().any(|w| w.eq_ignore_ascii_case("IN"))
                    && t.iter().any(|w| {
                        matches!(
                            w.to_ascii_uppercase().as_str(),
                            "NS" | "A" | "AAAA" | "SOA" | "CNAME" | "MX" | "TXT" | "DS"
                        )
                    })
            }) =>
        {
            Format::Zone
        }
        _ => Format::Plain,
    }
}

/// Every name of the text, each with its line number (1-based), in order; a line that
/// cannot hold a name is given as `Err` with the reason.
pub fn names(text: &str, format: Format) -> Vec<(usize, Result<String, String>)> {
    match format {
        Format::Plain => text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let l = l.split('#').next().unwrap_or("").trim();
                (!l.is_empty()).then(|| {
                    (
                        i + 1,
                        Ok(l.split_whitespace().next().unwrap_or("").to_owned()),
                    )
                })
            })
            .collect(),
        Format::CertStream => cert_stream(text),
        Format::Zone => zone(text),
    }
}

fn cert_stream(text: &str) -> Vec<(usize, Result<String, String>)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                out.push((i + 1, Err(format!("not JSON: {e}"))));
                continue;
            }
        };
        let list = v
            .pointer("/data/leaf_cert/all_domains")
            .or_else(|| v.get("all_domains"))
            .and_then(|d| d.as_array());
        match (list, v.get("domain").and_then(|d| d.as_str())) {
            (Some(list), _) => {
                for d in list {
                    match d.as_str() {
                        Some(d) => out.push((i + 1, Ok(d.to_owned()))),
                        None => out.push((i + 1, Err("a SAN that is not a string".into()))),
                    }
                }
            }
            (None, Some(d)) => out.push((i + 1, Ok(d.to_owned()))),
            (None, None) => {
                // Heartbeats and other messages carry no certificate.
                if v.get("message_type").and_then(|m| m.as_str()) != Some("heartbeat") {
                    out.push((
                        i + 1,
                        Err("a JSON line without all_domains or domain".into()),
                    ));
                }
            }
        }
    }
    out
}

/// The owner names of a zone file (each once): `$ORIGIN` and `@` honoured, relative names
/// completed, continuation lines (inside parentheses, or starting with a blank: the
/// previous owner) skipped.
fn zone(text: &str) -> Vec<(usize, Result<String, String>)> {
    let mut out = Vec::new();
    let mut origin = String::new();
    let mut depth = 0i32;
    let mut last = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split(';').next().unwrap_or("");
        let opening = depth > 0;
        depth += line.matches('(').count() as i32 - line.matches(')').count() as i32;
        if opening || line.trim().is_empty() || line.starts_with(char::is_whitespace) {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let Some(owner) = tokens.next() else { continue };
        if owner.eq_ignore_ascii_case("$ORIGIN") {
            match tokens.next() {
                Some(o) => origin = o.trim_end_matches('.').to_ascii_lowercase(),
                None => out.push((i + 1, Err("$ORIGIN without a name".into()))),
            }
            continue;
        }
        if owner.starts_with('$') {
            continue; // $TTL, $INCLUDE (not followed)
        }
        let name = if owner == "@" {
            origin.clone()
        } else if let Some(abs) = owner.strip_suffix('.') {
            abs.to_ascii_lowercase()
        } else if origin.is_empty() {
            owner.to_ascii_lowercase()
        } else {
            format!("{}.{origin}", owner.to_ascii_lowercase())
        };
        if name.is_empty() {
            out.push((i + 1, Err("an owner name with no $ORIGIN".into())));
            continue;
        }
        if name != last {
            out.push((i + 1, Ok(name.clone())));
            last = name;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_files_give_their_owner_names() {
        let z = "$ORIGIN kr.\n$TTL 3600\n@ IN SOA ns.kr. hostmaster.kr. (\n  1 2 3 4 5 )\n\
                 seoul.go IN NS ns1.seoul.go.kr.\n  IN NS ns2.seoul.go.kr.\nkbstar-login.co 3600 IN NS ns.evil.example.\n\
                 absolute.example. IN A 192.0.2.1\n$ORIGIN\n";
        assert_eq!(recognise(z), Format::Zone);
        let names: Vec<_> = names(z, Format::Zone);
        let ok: Vec<&str> = names
            .iter()
            .filter_map(|(_, n)| n.as_deref().ok())
            .collect();
        assert_eq!(
            ok,
            [
                "kr",
                "seoul.go.kr",
                "kbstar-login.co.kr",
                "absolute.example"
            ]
        );
        assert!(names.iter().any(|(l, n)| *l == 9 && n.is_err()));
    }

    #[test]
    fn certstream_lines_give_every_san() {
        let t = "{\"message_type\":\"certificate_update\",\"data\":{\"leaf_cert\":{\"all_domains\":[\"kbstar-secure.com\",\"*.kbstar-secure.com\"]}}}\n\
                 {\"message_type\":\"heartbeat\"}\n{broken\n{\"domain\":\"seoul.go.kr\"}\n";
        assert_eq!(recognise(t), Format::CertStream);
        let n = names(t, Format::CertStream);
        assert_eq!(n.len(), 4);
        assert_eq!(n[1].1.as_deref(), Ok("*.kbstar-secure.com"));
        assert!(n[2].1.as_ref().unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn plain_lists_skip_comments() {
        let t = "# whoisds\nexample.com\n\nfoo.kr  # a note\n";
        assert_eq!(recognise(t), Format::Plain);
        let n: Vec<String> = names(t, Format::Plain)
            .into_iter()
            .map(|(_, n)| n.unwrap())
            .collect();
        assert_eq!(n, ["example.com", "foo.kr"]);
    }
}
