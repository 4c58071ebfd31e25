//! Lockfile and manifest readers, picked by file name: `Cargo.lock`,
//! `package-lock.json` / `npm-shrinkwrap.json` (v1–v3), `yarn.lock` (v1 and Berry),
//! `pnpm-lock.yaml` (5.x–9.0), `poetry.lock`, `Pipfile.lock`, `requirements*.txt`
//! (pinned `==` lines), `go.mod` / `go.sum`, `composer.lock`, `Gemfile.lock` and
//! `pom.xml` (declared versions, `${properties}` resolved within the file).

use super::Inventory;
use crate::Ecosystem;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// `Ok(None)` when the file name is not a lockfile this module reads.
pub fn read(file_name: &str, source: &str, text: &str) -> Result<Option<Inventory>, String> {
    let lower = file_name.to_ascii_lowercase();
    let inv = match lower.as_str() {
        n if n.ends_with("cargo.lock") => cargo_lock(source, text)?,
        "package-lock.json" | "npm-shrinkwrap.json" => package_lock(source, text)?,
        "yarn.lock" => yarn_lock(source, text)?,
        "pnpm-lock.yaml" => pnpm_lock(source, text)?,
        "poetry.lock" => poetry_lock(source, text)?,
        "pipfile.lock" => pipfile_lock(source, text)?,
        "go.mod" => go_mod(source, text),
        "go.sum" => go_sum(source, text),
        "composer.lock" => composer_lock(source, text)?,
        "gemfile.lock" => gemfile_lock(source, text),
        "pom.xml" => pom_xml(source, text)?,
        n if n.starts_with("requirements") && n.ends_with(".txt") => requirements(source, text),
        _ => return Ok(None),
    };
    Ok(Some(inv))
}

/// Cargo.lock (all versions of the format, by the `cargo-lock` crate). Only packages
/// from a registry are matched; workspace, path and git packages are named as skipped.
fn cargo_lock(source: &str, text: &str) -> Result<Inventory, String> {
    let lock: cargo_lock::Lockfile = text
        .parse()
        .map_err(|e| format!("invalid Cargo.lock: {e}"))?;
    let mut inv = Inventory::new(source, format!("Cargo.lock {:?}", lock.version));
    for (i, p) in lock.packages.iter().enumerate() {
        let name = p.name.as_str();
        let version = p.version.to_string();
        let location = format!("[[package]] #{} {name}", i + 1);
        match &p.source {
            Some(s) if s.is_registry() => inv.add(Ecosystem::CratesIo, name, &version, location),
            Some(s) => inv.skip(
                name,
                &version,
                location,
                &format!("not from a registry ({s})"),
            ),
            None => inv.skip(
                name,
                &version,
                location,
                "a workspace or path package, not published",
            ),
        }
    }
    Ok(inv)
}

fn package_lock(source: &str, text: &str) -> Result<Inventory, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let v = doc
        .get("lockfileVersion")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let mut inv = Inventory::new(source, format!("package-lock.json v{v}"));
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (path, p) in packages {
            npm_constraints(&mut inv, path, p);
            if path.is_empty() || p.get("link").and_then(Value::as_bool) == Some(true) {
                continue; // the project itself, or a link to a workspace folder
            }
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| match path.rfind("node_modules/") {
                    Some(i) => path[i + "node_modules/".len()..].to_owned(),
                    None => path.clone(),
                });
            let version = p.get("version").and_then(Value::as_str).unwrap_or("");
            let location = format!("packages[\"{path}\"]");
            if !path.contains("node_modules/") {
                inv.skip(
                    &name,
                    version,
                    location,
                    "a workspace folder, not a published package",
                );
                continue;
            }
            npm_add(&mut inv, &name, version, location);
        }
    } else if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
        package_lock_v1(&mut inv, deps, "dependencies");
    }
    Ok(inv)
}

/// The ranges a package-lock v2/v3 entry requires of its dependencies.
fn npm_constraints(inv: &mut Inventory, path: &str, p: &Value) {
    let who = if path.is_empty() {
        "the project".to_owned()
    } else {
        let name = path.rsplit("node_modules/").next().unwrap_or(path);
        format!(
            "{name}@{}",
            p.get("version").and_then(Value::as_str).unwrap_or("?")
        )
    };
    for section in ["dependencies", "optionalDependencies", "peerDependencies"] {
        if let Some(deps) = p.get(section).and_then(Value::as_object) {
            for (dep, range) in deps {
                if let Some(range) = range.as_str() {
                    inv.constraints.push(super::Constraint {
                        ecosystem: Ecosystem::Npm,
                        package: dep.clone(),
                        range: range.to_owned(),
                        required_by: who.clone(),
                    });
                }
            }
        }
    }
}

fn package_lock_v1(inv: &mut Inventory, deps: &serde_json::Map<String, Value>, path: &str) {
    for (name, d) in deps {
        let location = format!("{path}[\"{name}\"]");
        let version = d.get("version").and_then(Value::as_str).unwrap_or("");
        if let Some(requires) = d.get("requires").and_then(Value::as_object) {
            for (dep, range) in requires {
                if let Some(range) = range.as_str() {
                    inv.constraints.push(super::Constraint {
                        ecosystem: Ecosystem::Npm,
                        package: dep.clone(),
                        range: range.to_owned(),
                        required_by: format!("{name}@{version}"),
                    });
                }
            }
        }
        npm_add(inv, name, version, location.clone());
        if let Some(nested) = d.get("dependencies").and_then(Value::as_object) {
            package_lock_v1(inv, nested, &format!("{location}.dependencies"));
        }
    }
}

/// npm versions that are not registry versions (`file:`, `git+…`, tarball URLs,
/// aliases `npm:other@1.0.0`) are resolved where they can be and skipped otherwise.
fn npm_add(inv: &mut Inventory, name: &str, version: &str, location: String) {
    if let Some((real, v)) = version
        .strip_prefix("npm:")
        .and_then(|alias| alias.rsplit_once('@'))
    {
        inv.add(Ecosystem::Npm, real, v, location);
        return;
    }
    if version.contains(':') || version.contains('/') {
        inv.skip(
            name,
            version,
            location,
            "not a registry version (file, git or URL)",
        );
        return;
    }
    inv.add(Ecosystem::Npm, name, version, location);
}

/// The package name of a yarn/pnpm descriptor (`@scope/name@range` → `@scope/name`).
fn descriptor_name(descriptor: &str) -> &str {
    let d = descriptor.trim().trim_matches('"');
    let search_from = usize::from(d.starts_with('@'));
    match d[search_from..].find('@') {
        Some(i) => &d[..i + search_from],
        None => d,
    }
}

fn yarn_lock(source: &str, text: &str) -> Result<Inventory, String> {
    if text.contains("\n__metadata:") || text.starts_with("__metadata:") {
        return yarn_berry(source, text);
    }
    let mut inv = Inventory::new(source, "yarn.lock v1");
    let mut current: Option<(String, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') && line.ends_with(':') {
            let first = line.trim_end_matches(':').split(',').next().unwrap_or("");
            current = Some((descriptor_name(first).to_owned(), n + 1));
        } else if let Some(v) = line.strip_prefix("  version ")
            && let Some((name, at)) = current.take()
        {
            npm_add(
                &mut inv,
                &name,
                v.trim().trim_matches('"'),
                format!("line {at}"),
            );
        }
    }
    Ok(inv)
}

fn yarn_berry(source: &str, text: &str) -> Result<Inventory, String> {
    let doc: BTreeMap<String, Value> =
        yaml_serde::from_str(text).map_err(|e| format!("invalid yarn.lock (YAML): {e}"))?;
    let version = doc
        .get("__metadata")
        .and_then(|m| m.get("version"))
        .map(|v| v.to_string())
        .unwrap_or_default();
    let mut inv = Inventory::new(source, format!("yarn.lock berry v{version}"));
    for (key, entry) in &doc {
        if key == "__metadata" {
            continue;
        }
        let resolution = entry
            .get("resolution")
            .and_then(Value::as_str)
            .unwrap_or("");
        let version = entry
            .get("version")
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default();
        let name = descriptor_name(resolution);
        let location = format!("\"{key}\"");
        if resolution.contains("@workspace:")
            || resolution.contains("@link:")
            || resolution.contains("@portal:")
        {
            inv.skip(
                name,
                &version,
                location,
                "a workspace or linked folder, not a published package",
            );
        } else if resolution.contains("@npm:") {
            inv.add(Ecosystem::Npm, name, &version, location);
        } else {
            inv.skip(
                name,
                &version,
                location,
                "not resolved from the npm registry",
            );
        }
    }
    Ok(inv)
}

fn pnpm_lock(source: &str, text: &str) -> Result<Inventory, String> {
    let doc: Value =
        yaml_serde::from_str(text).map_err(|e| format!("invalid pnpm-lock.yaml: {e}"))?;
    let version = doc
        .get("lockfileVersion")
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default();
    let mut inv = Inventory::new(source, format!("pnpm-lock.yaml {version}"));
    let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
        return Ok(inv);
    };
    let old_format = version.starts_with('5') || version.starts_with('4');
    for key in packages.keys() {
        let location = format!("packages[\"{key}\"]");
        match pnpm_key(key, old_format) {
            Some((name, version)) => npm_add(&mut inv, name, version, location),
            None => inv.skip(key, "", location, "not a name and version"),
        }
    }
    Ok(inv)
}

/// A pnpm package key: `/name/1.0.0_peer@2.0.0` (lockfile 5.x) or
/// `/name@1.0.0(peer@2.0.0)` and `name@1.0.0` (6.0 and later); scoped names keep their `@`.
fn pnpm_key(key: &str, old_format: bool) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    if old_format {
        let (name, version) = k.rsplit_once('/')?;
        let version = version.split('_').next().unwrap_or(version);
        return Some((name, version));
    }
    let k = k.split('(').next().unwrap_or(k);
    let start = usize::from(k.starts_with('@'));
    let at = k[start..].find('@')? + start;
    Some((&k[..at], &k[at + 1..]))
}

fn poetry_lock(source: &str, text: &str) -> Result<Inventory, String> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("invalid poetry.lock: {e}"))?;
    let lock_version = doc
        .get("metadata")
        .and_then(|m| m.get("lock-version"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let mut inv = Inventory::new(source, format!("poetry.lock {lock_version}"));
    for (i, p) in doc
        .get("package")
        .and_then(|p| p.as_array())
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let name = p.get("name").and_then(|v| v.as_str()).unwrap_or("");
        let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("");
        let location = format!("[[package]] #{}", i + 1);
        match p
            .get("source")
            .and_then(|s| s.get("type"))
            .and_then(|t| t.as_str())
        {
            Some(kind @ ("git" | "directory" | "file" | "url")) => inv.skip(
                name,
                version,
                location,
                &format!("installed from a {kind}, not PyPI"),
            ),
            _ => inv.add(Ecosystem::PyPI, name, version, location),
        }
    }
    Ok(inv)
}

fn pipfile_lock(source: &str, text: &str) -> Result<Inventory, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut inv = Inventory::new(source, "Pipfile.lock");
    for section in ["default", "develop"] {
        let Some(map) = doc.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (name, p) in map {
            let location = format!("{section}[\"{name}\"]");
            match p.get("version").and_then(Value::as_str) {
                Some(v) if v.starts_with("==") => {
                    inv.add(Ecosystem::PyPI, name, v.trim_start_matches('='), location)
                }
                _ => inv.skip(
                    name,
                    "",
                    location,
                    "no pinned version (git, path or editable)",
                ),
            }
        }
    }
    Ok(inv)
}

/// `requirements.txt`: pinned `name==version` lines (extras and markers allowed);
/// other requirement lines are named as unpinned.
fn requirements(source: &str, text: &str) -> Inventory {
    let mut inv = Inventory::new(source, "requirements.txt");
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or(raw).trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let location = format!("line {}", n + 1);
        let spec = line.split(';').next().unwrap_or(line).trim();
        match spec.split_once("==") {
            Some((name, version)) if !version.starts_with('=') => {
                let name = name.split('[').next().unwrap_or(name).trim();
                let version = version.split(',').next().unwrap_or(version).trim();
                inv.add(Ecosystem::PyPI, name, version, location);
            }
            _ => {
                let name = spec
                    .split(|c: char| "<>=!~[ ".contains(c))
                    .next()
                    .unwrap_or(spec);
                inv.skip(name, "", location, "not pinned with ==");
            }
        }
    }
    inv
}

/// `go.mod`: every `require` (block or line), with `replace` directives applied.
fn go_mod(source: &str, text: &str) -> Inventory {
    let mut inv = Inventory::new(source, "go.mod");
    let mut requires: Vec<(String, String, usize)> = Vec::new();
    let mut replaces: HashMap<String, (String, String)> = HashMap::new();
    let mut block: Option<&str> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let (directive, rest) = match block {
            Some(d) => (d, line),
            None => {
                let (d, r) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let r = r.trim();
                if r == "(" {
                    block = Some(match d {
                        "require" => "require",
                        "replace" => "replace",
                        _ => "other",
                    });
                    continue;
                }
                (d, r)
            }
        };
        match directive {
            "require" => {
                let mut parts = rest.split_whitespace();
                if let (Some(m), Some(v)) = (parts.next(), parts.next()) {
                    requires.push((m.to_owned(), v.to_owned(), n + 1));
                }
            }
            "replace" => {
                if let Some((from, to)) = rest.split_once("=>") {
                    let from = from.split_whitespace().next().unwrap_or("").to_owned();
                    let mut to = to.split_whitespace();
                    let (m, v) = (to.next().unwrap_or(""), to.next().unwrap_or(""));
                    replaces.insert(from, (m.to_owned(), v.to_owned()));
                }
            }
            _ => {}
        }
    }
    for (module, version, line) in requires {
        let location = format!("line {line}");
        match replaces.get(&module) {
            Some((_, v)) if v.is_empty() => {
                inv.skip(&module, &version, location, "replaced by a local folder")
            }
            Some((m, v)) => inv.add(Ecosystem::Go, m, v, location),
            None => inv.add(Ecosystem::Go, &module, &version, location),
        }
    }
    inv
}

/// `go.sum`: the modules whose content was hashed (not just their `go.mod`), at the
/// highest version listed for each (the one the build selects).
fn go_sum(source: &str, text: &str) -> Inventory {
    let mut inv = Inventory::new(source, "go.sum");
    let mut best: BTreeMap<String, (crate::version::Version, String, usize)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let mut parts = line.split_whitespace();
        let (Some(module), Some(version)) = (parts.next(), parts.next()) else {
            continue;
        };
        if version.ends_with("/go.mod") {
            continue;
        }
        match crate::version::parse(Ecosystem::Go, version) {
            Ok(v) => {
                let replace = best
                    .get(module)
                    .is_none_or(|(old, _, _)| v.cmp_same(old).is_gt());
                if replace {
                    best.insert(module.to_owned(), (v, version.to_owned(), n + 1));
                }
            }
            Err(e) => inv.skip(module, version, format!("line {}", n + 1), &e.to_string()),
        }
    }
    for (module, (_, version, line)) in best {
        inv.add(Ecosystem::Go, &module, &version, format!("line {line}"));
    }
    inv
}

fn composer_lock(source: &str, text: &str) -> Result<Inventory, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut inv = Inventory::new(source, "composer.lock");
    for section in ["packages", "packages-dev"] {
        for (i, p) in doc
            .get(section)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            let version = p.get("version").and_then(Value::as_str).unwrap_or("");
            let location = format!("{section}[{i}]");
            if version.starts_with("dev-") {
                inv.skip(
                    name,
                    version,
                    location,
                    "a development branch, not a release",
                );
            } else {
                inv.add(Ecosystem::Packagist, name, version, location);
            }
        }
    }
    Ok(inv)
}

/// `Gemfile.lock`: the `specs:` of every `GEM` section (four-space `name (version)`
/// lines); `GIT` and `PATH` sections are named as skipped.
fn gemfile_lock(source: &str, text: &str) -> Inventory {
    let mut inv = Inventory::new(source, "Gemfile.lock");
    let mut section = "";
    let mut in_specs = false;
    for (n, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.is_empty() {
            section = line.trim();
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        let Some(spec) = line.strip_prefix("    ") else {
            continue;
        };
        if !in_specs || spec.starts_with(' ') {
            continue; // dependency lines of a spec are indented six spaces
        }
        let Some((name, rest)) = spec.split_once(" (") else {
            continue;
        };
        let version = rest.trim_end_matches(')');
        // A platform suffix (`1.10.9-x86_64-linux`) is not part of the version.
        let version = match version.split_once('-') {
            Some((v, platform))
                if platform.contains("linux")
                    || platform.contains("darwin")
                    || platform.contains("mingw")
                    || platform == "java" =>
            {
                v
            }
            _ => version,
        };
        let location = format!("line {}", n + 1);
        match section {
            "GEM" => inv.add(Ecosystem::RubyGems, name, version, location),
            other => inv.skip(
                name,
                version,
                location,
                &format!("from a {other} section, not rubygems"),
            ),
        }
    }
    inv
}

/// `pom.xml`: declared `<dependency>` versions, `${property}` resolved from the file's
/// `<properties>` and `${project.version}`; a version from a parent POM or a BOM cannot
/// be known offline and is named as skipped.
fn pom_xml(source: &str, text: &str) -> Result<Inventory, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts)
        .map_err(|e| format!("invalid XML: {e}"))?;
    let root = doc.root_element();
    let child = |n: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        n.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .and_then(|c| c.text())
            .map(|t| t.trim().to_owned())
    };
    let mut props: HashMap<String, String> = HashMap::new();
    if let Some(v) = child(root, "version") {
        props.insert("project.version".into(), v);
    }
    if let Some(p) = root
        .children()
        .find(|c| c.tag_name().name() == "properties")
    {
        for prop in p.children().filter(|c| c.is_element()) {
            props.insert(
                prop.tag_name().name().to_owned(),
                prop.text().unwrap_or("").trim().to_owned(),
            );
        }
    }
    let mut inv = Inventory::new(source, "pom.xml");
    let dependencies = root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "dependency");
    for (i, d) in dependencies.enumerate() {
        let group = child(d, "groupId").unwrap_or_default();
        let artifact = child(d, "artifactId").unwrap_or_default();
        let name = format!("{group}:{artifact}");
        let location = format!(
            "dependency #{} (line {})",
            i + 1,
            doc.text_pos_at(d.range().start).row
        );
        let Some(raw) = child(d, "version") else {
            inv.skip(
                &name,
                "",
                location,
                "no version (managed by a parent POM or BOM)",
            );
            continue;
        };
        let resolved = resolve_properties(&raw, &props);
        match resolved {
            Some(v) => inv.add(Ecosystem::Maven, &name, &v, location),
            None => inv.skip(&name, &raw, location, "a property not defined in this file"),
        }
    }
    Ok(inv)
}

fn resolve_properties(raw: &str, props: &HashMap<String, String>) -> Option<String> {
    let mut out = raw.to_owned();
    for _ in 0..8 {
        let Some(start) = out.find("${") else {
            return Some(out);
        };
        let end = out[start..].find('}')? + start;
        let value = props.get(&out[start + 2..end])?;
        out.replace_range(start..=end, value);
    }
    None
}
