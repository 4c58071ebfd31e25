//! Every command, flag and configuration key a user meets is documented: the test walks
//! `haechi --help` through every subcommand and reads the configuration's structs (every
//! `deny_unknown_fields` struct of the files listed in [`CONFIG_SOURCES`]), and looks for
//! each in the README and `docs/`.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The source files that hold the structs of the configuration file (`haechi serve
/// --config`). A new configuration struct in another file belongs in this list.
const CONFIG_SOURCES: &[&str] = &[
    "crates/haechi/src/config.rs",
    "crates/cluster/src/lib.rs",
    "crates/detect/src/alert.rs",
    "crates/detect/src/device.rs",
    "crates/ingest/src/listen.rs",
    "crates/ingest/src/parsers/json.rs",
    "crates/ingest/src/watch.rs",
    "crates/intel/src/remote.rs",
    "crates/ioc/src/limits.rs",
    "crates/ioc/src/load/mod.rs",
    "crates/respond/src/mail.rs",
    "crates/risk/src/config.rs",
    "crates/server/src/taxii/mod.rs",
    "crates/store/src/clickhouse/mod.rs",
    "crates/store/src/embedded/mod.rs",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README and every Markdown file under `docs/`.
fn documentation() -> String {
    let mut text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut stack = vec![root().join("docs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    text
}

/// `haechi ARGS --help`.
fn help(path: &[String]) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let out = haechi(&args);
    assert!(out.status.success(), "haechi {args:?}: {}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists (none for a leaf).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The long flags a help text lists.
fn flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Options:"))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|w| {
            let w = w.trim_end_matches(',');
            let name: String = w
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| format!("--{name}"))
        })
        .filter(|f| f != "--help" && f != "--version")
        .collect()
}

#[test]
fn every_command_and_flag_is_documented() {
    let docs = documentation();
    let mut missing = Vec::new();
    let mut stack: Vec<Vec<String>> = vec![Vec::new()];
    let mut commands = 0;
    while let Some(path) = stack.pop() {
        let text = help(&path);
        if !path.is_empty() {
            commands += 1;
            // The command as written in the docs: `haechi vuln db import`, or within a
            // heading that names the parent (`… db status`).
            // A heading may name the parent once and list the leaves after it:
            // `haechi user list|disable NAME`, `haechi blocklist add …`, `remove …`.
            let tail = path[path.len().saturating_sub(2)..].join(" ");
            let leaf = &path[path.len() - 1];
            let parent = format!("haechi {}", path[..path.len() - 1].join(" "));
            let listed = path.len() > 1
                && docs.contains(&parent)
                && (docs.contains(&format!("`{leaf} "))
                    || docs.contains(&format!("`{leaf}`"))
                    || docs.contains(&format!("|{leaf}")));
            if !docs.contains(&format!("haechi {}", path.join(" ")))
                && !docs.contains(&tail)
                && !listed
            {
                missing.push(format!("command `haechi {}`", path.join(" ")));
            }
            for flag in flags(&text) {
                if !docs.contains(&flag) {
                    missing.push(format!("flag {flag} of `haechi {}`", path.join(" ")));
                }
            }
        }
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            stack.push(next);
        }
    }
    assert!(commands > 60, "the walk found only {commands} commands");
    assert!(
        missing.is_empty(),
        "not in README.md or docs/:\n{}",
        missing.join("\n")
    );
}

/// The fields of every `deny_unknown_fields` struct in a Rust source file.
fn config_keys(source: &str) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    let mut in_struct: Option<String> = None;
    let mut armed = false;
    let mut skipped = false;
    for line in source.lines() {
        let t = line.trim();
        if in_struct.is_some() && t.starts_with("#[serde(skip") {
            skipped = true; // not read from the file
            continue;
        }
        if t.starts_with("#[serde(") && t.contains("deny_unknown_fields") {
            armed = true;
        } else if armed && t.starts_with("pub struct ") {
            let name = t["pub struct ".len()..]
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap_or_default()
                .to_owned();
            in_struct = (!t.ends_with(';')).then_some(name);
            armed = false;
        } else if armed && (t.starts_with("pub enum ") || t.starts_with("enum ")) {
            armed = false;
        } else if let Some(s) = &in_struct {
            if t == "}" {
                in_struct = None;
            } else if let Some((field, _)) =
                t.strip_prefix("pub ").and_then(|rest| rest.split_once(':'))
                && field
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !std::mem::take(&mut skipped)
            {
                keys.push((s.clone(), field.to_owned()));
            }
        }
    }
    keys
}

#[test]
fn every_configuration_key_is_documented() {
    let docs = documentation();
    let mut missing = Vec::new();
    let mut total = 0;
    for file in CONFIG_SOURCES {
        let source = std::fs::read_to_string(root().join(file)).unwrap();
        let keys = config_keys(&source);
        assert!(!keys.is_empty(), "{file} holds no configuration struct");
        for (owner, key) in keys {
            total += 1;
            let documented = [
                format!("{key} ="),
                format!("{key}="),
                format!("`{key}`"),
                format!(".{key}"),
                format!("[{key}]"),
                format!("[{key}."),
                format!("[[{key}]]"),
            ]
            .iter()
            .any(|form| docs.contains(form.as_str()));
            if !documented {
                missing.push(format!("{key} ({owner}, {file})"));
            }
        }
    }
    assert!(
        total > 150,
        "only {total} keys found: has the parsing broken?"
    );
    assert!(
        missing.is_empty(),
        "configuration keys not in README.md or docs/:\n{}",
        missing.join("\n")
    );
}
