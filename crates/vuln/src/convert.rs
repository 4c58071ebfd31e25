//! Advisory formats that are not OSV, converted into OSV on import: RubySec (gems, with
//! `patched_versions` and `unaffected_versions` in Gem::Requirement syntax),
//! FriendsOfPHP (Composer constraints per maintained branch) and the Node.js security
//! WG (npm ranges). Each constraint is read into intervals by the ecosystem's own
//! ordering and written back as OSV `introduced` / `fixed` / `last_affected` events.
//!
//! OSV's `introduced` is inclusive; an exclusive lower bound (`> 1.2`) has no exact
//! OSV form. For npm it is rewritten exactly (`> 1.2.3` is `>= 1.2.4-0` in SemVer
//! order); elsewhere it is kept inclusive and the advisory says so in
//! `database_specific.haechi_approximations`.

use crate::Ecosystem;
use crate::advisory::{Advisory, Affected, Event, Package, Range, Reference, Severity};
use crate::version::{self, Version};
use serde_json::{Value, json};
use std::cmp::Ordering;

#[derive(Clone, Debug)]
struct Bound {
    version: Version,
    text: String,
    inclusive: bool,
}

/// A version interval; `None` is unbounded on that side.
#[derive(Clone, Debug)]
struct Interval {
    lo: Option<Bound>,
    hi: Option<Bound>,
}

const ALL: Interval = Interval { lo: None, hi: None };

fn parse_bound(eco: Ecosystem, text: &str, inclusive: bool) -> Result<Bound, String> {
    let version = version::parse(eco, text).map_err(|e| e.to_string())?;
    Ok(Bound {
        version,
        text: text.to_owned(),
        inclusive,
    })
}

/// Lower bounds ordered: unbounded first; at the same version, inclusive first.
fn cmp_lo(a: &Option<Bound>, b: &Option<Bound>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x
            .version
            .cmp_same(&y.version)
            .then_with(|| y.inclusive.cmp(&x.inclusive)),
    }
}

/// Upper bounds ordered: unbounded last; at the same version, exclusive first.
fn cmp_hi(a: &Option<Bound>, b: &Option<Bound>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x
            .version
            .cmp_same(&y.version)
            .then_with(|| x.inclusive.cmp(&y.inclusive)),
    }
}

fn is_empty(i: &Interval) -> bool {
    match (&i.lo, &i.hi) {
        (Some(l), Some(h)) => match l.version.cmp_same(&h.version) {
            Ordering::Greater => true,
            Ordering::Equal => !(l.inclusive && h.inclusive),
            Ordering::Less => false,
        },
        _ => false,
    }
}

fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let lo = if cmp_lo(&x.lo, &y.lo).is_ge() {
                x.lo.clone()
            } else {
                y.lo.clone()
            };
            let hi = if cmp_hi(&x.hi, &y.hi).is_le() {
                x.hi.clone()
            } else {
                y.hi.clone()
            };
            let i = Interval { lo, hi };
            if !is_empty(&i) {
                out.push(i);
            }
        }
    }
    out
}

/// Sorted, merged union.
fn normalize(mut set: Vec<Interval>) -> Vec<Interval> {
    set.retain(|i| !is_empty(i));
    set.sort_by(|a, b| cmp_lo(&a.lo, &b.lo));
    let mut out: Vec<Interval> = Vec::new();
    for i in set {
        if let Some(last) = out.last_mut() {
            let touches = match (&last.hi, &i.lo) {
                (None, _) | (_, None) => true,
                (Some(h), Some(l)) => match h.version.cmp_same(&l.version) {
                    Ordering::Greater => true,
                    Ordering::Equal => h.inclusive || l.inclusive,
                    Ordering::Less => false,
                },
            };
            if touches {
                if cmp_hi(&i.hi, &last.hi).is_gt() {
                    last.hi = i.hi;
                }
                continue;
            }
        }
        out.push(i);
    }
    out
}

fn complement(set: &[Interval]) -> Vec<Interval> {
    let set = normalize(set.to_vec());
    let mut out = Vec::new();
    let mut lo: Option<Bound> = None;
    let mut open_from_start = true;
    for i in &set {
        if let Some(l) = &i.lo {
            out.push(Interval {
                lo: if open_from_start { None } else { lo.clone() },
                hi: Some(Bound {
                    inclusive: !l.inclusive,
                    ..l.clone()
                }),
            });
        }
        match &i.hi {
            Some(h) => {
                lo = Some(Bound {
                    inclusive: !h.inclusive,
                    ..h.clone()
                });
                open_from_start = false;
            }
            None => return normalize(out),
        }
    }
    out.push(Interval {
        lo: if open_from_start { None } else { lo },
        hi: None,
    });
    normalize(out)
}

/// Writes intervals as one OSV range; returns the approximations made.
fn to_range(set: &[Interval]) -> (Range, Vec<String>) {
    let mut events = Vec::new();
    let mut notes = Vec::new();
    for i in normalize(set.to_vec()) {
        match &i.lo {
            None => events.push(Event {
                introduced: Some("0".into()),
                ..Event::default()
            }),
            Some(l) => {
                if !l.inclusive {
                    notes.push(format!("> {} read as >= {}", l.text, l.text));
                }
                events.push(Event {
                    introduced: Some(l.text.clone()),
                    ..Event::default()
                });
            }
        }
        match &i.hi {
            None => {}
            Some(h) if h.inclusive => events.push(Event {
                last_affected: Some(h.text.clone()),
                ..Event::default()
            }),
            Some(h) => events.push(Event {
                fixed: Some(h.text.clone()),
                ..Event::default()
            }),
        }
    }
    (
        Range {
            kind: "ECOSYSTEM".into(),
            repo: None,
            events,
        },
        notes,
    )
}

fn single(eco: Ecosystem, op: &str, v: &str) -> Result<Vec<Interval>, String> {
    let b = |inclusive| parse_bound(eco, v, inclusive).map(Some);
    Ok(match op {
        "" | "=" | "==" => vec![Interval {
            lo: b(true)?,
            hi: b(true)?,
        }],
        ">=" => vec![Interval {
            lo: b(true)?,
            hi: None,
        }],
        ">" => vec![Interval {
            lo: b(false)?,
            hi: None,
        }],
        "<=" => vec![Interval {
            lo: None,
            hi: b(true)?,
        }],
        "<" => vec![Interval {
            lo: None,
            hi: b(false)?,
        }],
        "!=" => complement(&[Interval {
            lo: b(true)?,
            hi: b(true)?,
        }]),
        other => return Err(format!("unknown operator '{other}'")),
    })
}

/// Splits `>=1.2` into (`>=`, `1.2`).
fn split_op(c: &str) -> (&str, &str) {
    let c = c.trim();
    let end = c
        .find(|ch: char| !matches!(ch, '<' | '>' | '=' | '!' | '~' | '^'))
        .unwrap_or(c.len());
    (&c[..end], c[end..].trim())
}

// ---------------------------------------------------------------- RubyGems

/// `Gem::Version#bump` for `~>`: drop pre-release letters and the last segment, then
/// increment the new last segment (`~> 2.2.1` → `< 2.3`, `~> 2` → `< 3`).
fn gem_bump(v: &str) -> String {
    let segments: Vec<&str> = v.split('.').collect();
    let mut numeric: Vec<u64> = Vec::new();
    for s in &segments {
        match s.parse() {
            Ok(n) => numeric.push(n),
            Err(_) => break,
        }
    }
    if numeric.len() > 1 {
        numeric.pop();
    }
    if let Some(last) = numeric.last_mut() {
        *last += 1;
    }
    numeric
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A Gem::Requirement: comma-separated constraints, all of which must hold.
///
/// `~> X` is `>= X` and "release below X's bump": Gem compares the bump with a
/// version's release, so the bump's own pre-releases are outside it. OSV has no such
/// bound and no least pre-release to put there; they are counted inside, and `notes`
/// says so.
fn gem_requirement(req: &str, notes: &mut Vec<String>) -> Result<Vec<Interval>, String> {
    let mut set = vec![ALL];
    for c in req.split(',').filter(|c| !c.trim().is_empty()) {
        let (op, v) = split_op(c);
        let part = if op == "~>" {
            let bump = gem_bump(v);
            notes.push(format!(
                "pre-releases of {bump} read as inside `~> {v}` (Gem compares their release)"
            ));
            let lo = parse_bound(Ecosystem::RubyGems, v, true)?;
            let hi = parse_bound(Ecosystem::RubyGems, &bump, false)?;
            vec![Interval {
                lo: Some(lo),
                hi: Some(hi),
            }]
        } else {
            single(Ecosystem::RubyGems, op, v)?
        };
        set = intersect(&set, &part);
    }
    Ok(set)
}

/// A RubySec gem advisory: affected = neither patched nor unaffected.
pub fn rubysec(doc: &Value) -> Result<(Advisory, Vec<String>), String> {
    let gem = doc["gem"]
        .as_str()
        .ok_or("RubySec advisory without a gem")?;
    let mut safe = Vec::new();
    let mut bump_notes = Vec::new();
    for key in ["patched_versions", "unaffected_versions"] {
        for r in doc[key].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let r = r.as_str().ok_or(format!("{key}: not a string"))?;
            safe.extend(
                gem_requirement(r, &mut bump_notes).map_err(|e| format!("{key} '{r}': {e}"))?,
            );
        }
    }
    let (range, mut notes) = to_range(&complement(&safe));
    notes.extend(bump_notes);
    let cve = doc["cve"].as_str().map(|c| format!("CVE-{c}"));
    let ghsa = doc["ghsa"].as_str().map(|g| format!("GHSA-{g}"));
    let osvdb = doc["osvdb"].as_u64().map(|o| format!("OSVDB-{o}"));
    let id = ghsa
        .clone()
        .or_else(|| cve.clone())
        .or_else(|| osvdb.clone())
        .ok_or("RubySec advisory without cve, ghsa or osvdb id")?;
    let id = format!("RUBYSEC-{gem}-{id}");
    let aliases = [cve, ghsa, osvdb].into_iter().flatten().collect();
    let mut severity = Vec::new();
    if let Some(v) = doc["cvss_v3"].as_f64() {
        severity.push(Severity {
            kind: "CVSS_V3_BASE_SCORE".into(),
            score: v.to_string(),
        });
    }
    let advisory = Advisory {
        id,
        modified: doc["date"].as_str().unwrap_or("").to_owned(),
        published: doc["date"].as_str().unwrap_or("").to_owned(),
        aliases,
        summary: doc["title"].as_str().unwrap_or("").to_owned(),
        details: doc["description"].as_str().unwrap_or("").to_owned(),
        severity,
        affected: vec![affected(Ecosystem::RubyGems, gem, range)],
        references: reference(doc["url"].as_str()),
        database_specific: approximations(&notes),
        ..Advisory::default()
    };
    Ok((advisory, notes))
}

// ---------------------------------------------------------------- Composer

/// A Composer constraint item: `>=2.0`, `<2.0.20`, `>=1.0,<1.1`, `1.2.3`.
fn composer_constraint(c: &str) -> Result<Vec<Interval>, String> {
    let mut set = vec![ALL];
    for part in c.split([',', ' ']).filter(|p| !p.trim().is_empty()) {
        let (op, v) = split_op(part);
        // Composer reads a bare `<X` as `<X-dev` and `>=X` as `>=X-dev`: X's own
        // pre-releases are on the lower bound's side, not the upper's.
        let bare = !v.contains(['-', '@']) && !v.ends_with(|c: char| c.is_ascii_alphabetic());
        let v = if bare && matches!(op, "<" | ">=") {
            format!("{v}-dev")
        } else {
            v.to_owned()
        };
        set = intersect(&set, &single(Ecosystem::Packagist, op, &v)?);
    }
    Ok(set)
}

/// A FriendsOfPHP advisory: the union over branches of each branch's constraints.
pub fn friendsofphp(doc: &Value, file_id: &str) -> Result<(Advisory, Vec<String>), String> {
    let reference_uri = doc["reference"]
        .as_str()
        .ok_or("advisory without reference")?;
    let package = reference_uri
        .strip_prefix("composer://")
        .ok_or_else(|| format!("reference '{reference_uri}' is not composer://"))?;
    let mut affected_set = Vec::new();
    let branches = doc["branches"]
        .as_object()
        .ok_or("advisory without branches")?;
    for (name, branch) in branches {
        let mut set = vec![ALL];
        for c in branch["versions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let c = c
                .as_str()
                .ok_or(format!("branch {name}: version not a string"))?;
            set = intersect(
                &set,
                &composer_constraint(c).map_err(|e| format!("branch {name} '{c}': {e}"))?,
            );
        }
        affected_set.extend(set);
    }
    let (range, notes) = to_range(&affected_set);
    let cve = doc["cve"]
        .as_str()
        .filter(|c| c.starts_with("CVE-"))
        .map(str::to_owned);
    let id = format!("FRIENDSOFPHP-{package}-{file_id}");
    let advisory = Advisory {
        id,
        aliases: cve.into_iter().collect(),
        summary: doc["title"].as_str().unwrap_or("").to_owned(),
        affected: vec![affected(Ecosystem::Packagist, package, range)],
        references: reference(doc["link"].as_str()),
        database_specific: approximations(&notes),
        ..Advisory::default()
    };
    Ok((advisory, notes))
}

// ---------------------------------------------------------------- npm

/// An npm version or partial version (`1`, `1.2`, `1.x`, `*`): the interval it stands
/// for, as node-semver's x-ranges define it.
fn npm_partial(v: &str) -> Result<(Vec<Option<u64>>, String), String> {
    let v = v.trim().trim_start_matches(['v', '=']);
    if v.is_empty() || v == "*" || v.eq_ignore_ascii_case("x") {
        return Ok((vec![], String::new()));
    }
    let (core, pre) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let mut parts = Vec::new();
    for p in core.split('.') {
        if p == "*" || p.eq_ignore_ascii_case("x") {
            break;
        }
        parts.push(Some(
            p.parse::<u64>()
                .map_err(|_| format!("'{v}' is not an npm version"))?,
        ));
    }
    Ok((parts, pre.to_owned()))
}

fn npm_text(major: u64, minor: u64, patch: u64, pre: &str) -> String {
    format!("{major}.{minor}.{patch}{pre}")
}

fn npm_bound(text: &str, inclusive: bool) -> Result<Option<Bound>, String> {
    parse_bound(Ecosystem::Npm, text, inclusive).map(Some)
}

/// One npm comparator (`>=1.2.3`, `^1.2`, `~1.2.3`, `1.x`, `<=1.0`).
fn npm_comparator(c: &str) -> Result<Vec<Interval>, String> {
    let (op, v) = split_op(c);
    let (parts, pre) = npm_partial(v)?;
    let n = |i: usize| parts.get(i).copied().flatten().unwrap_or(0);
    let full = parts.len() == 3;
    // node-semver with pre-releases included: a partial version's lower bound is its
    // first pre-release (`1.2` → `>=1.2.0-0`).
    let lower = npm_text(n(0), n(1), n(2), if full { &pre } else { "-0" });
    // The first version past a partial one (`1.2` → `1.3.0-0`).
    let past = || match parts.len() {
        0 => None,
        1 => Some(npm_text(n(0) + 1, 0, 0, "-0")),
        2 => Some(npm_text(n(0), n(1) + 1, 0, "-0")),
        _ => None,
    };
    let interval = |lo: Option<Bound>, hi: Option<Bound>| vec![Interval { lo, hi }];
    Ok(match op {
        "" | "=" => match (full, past()) {
            (true, _) => interval(npm_bound(&lower, true)?, npm_bound(&lower, true)?),
            (false, Some(p)) => interval(npm_bound(&lower, true)?, npm_bound(&p, false)?),
            (false, None) => vec![ALL],
        },
        ">=" if parts.is_empty() => vec![ALL],
        ">=" => interval(npm_bound(&lower, true)?, None),
        ">" => match (full, past()) {
            // > 1.2.3 is >= 1.2.4-0 in SemVer order: exact.
            (true, _) if pre.is_empty() => interval(
                npm_bound(&npm_text(n(0), n(1), n(2) + 1, "-0"), true)?,
                None,
            ),
            (true, _) => interval(npm_bound(&lower, false)?, None),
            (false, Some(p)) => interval(npm_bound(&p, true)?, None),
            (false, None) => vec![],
        },
        "<" if parts.is_empty() => vec![],
        "<" => interval(
            None,
            npm_bound(
                &npm_text(n(0), n(1), n(2), if full { &pre } else { "-0" }),
                false,
            )?,
        ),
        "<=" => match (full, past()) {
            (true, _) => interval(None, npm_bound(&lower, true)?),
            (false, Some(p)) => interval(None, npm_bound(&p, false)?),
            (false, None) => vec![ALL],
        },
        "~" | "~>" | "^" if parts.is_empty() => vec![ALL],
        "~" | "~>" => {
            let lower = npm_text(n(0), n(1), n(2), &pre);
            let hi = match parts.len() {
                0 => None,
                1 => Some(npm_text(n(0) + 1, 0, 0, "-0")),
                _ => Some(npm_text(n(0), n(1) + 1, 0, "-0")),
            };
            interval(
                npm_bound(&lower, true)?,
                hi.map(|h| npm_bound(&h, false)).transpose()?.flatten(),
            )
        }
        "^" => {
            let lower = npm_text(n(0), n(1), n(2), &pre);
            let hi = if n(0) > 0 || parts.len() <= 1 {
                npm_text(n(0) + 1, 0, 0, "-0")
            } else if n(1) > 0 || parts.len() == 2 {
                npm_text(0, n(1) + 1, 0, "-0")
            } else {
                npm_text(0, 0, n(2) + 1, "-0")
            };
            interval(npm_bound(&lower, true)?, npm_bound(&hi, false)?)
        }
        other => return Err(format!("unknown operator '{other}'")),
    })
}

/// An npm range: `||`-separated sets of space-separated comparators, or hyphen ranges.
fn npm_range(range: &str) -> Result<Vec<Interval>, String> {
    let mut out = Vec::new();
    for alternative in range.split("||") {
        let alternative = alternative.trim();
        if let Some((a, b)) = alternative.split_once(" - ") {
            // With pre-releases included, a hyphen range starts at the first
            // pre-release of its lower version.
            let a = a.trim();
            let a = if a.split('.').count() == 3 && !a.contains(['-', '+']) {
                format!("{a}-0")
            } else {
                a.to_owned()
            };
            let lo = npm_comparator(&format!(">={a}"))?;
            let hi = npm_comparator(&format!("<={}", b.trim()))?;
            out.extend(intersect(&lo, &hi));
            continue;
        }
        // Operators may be written apart from their version (`>= 1.2.0`).
        let mut tokens: Vec<String> = Vec::new();
        for t in alternative.split_whitespace() {
            match tokens.last_mut() {
                Some(last) if split_op(last).1.is_empty() => last.push_str(t),
                _ => tokens.push(t.to_owned()),
            }
        }
        let mut set = vec![ALL];
        for t in &tokens {
            set = intersect(&set, &npm_comparator(t)?);
        }
        out.extend(set);
    }
    Ok(out)
}

/// Whether a version lies in one of the intervals.
fn contains(set: &[Interval], v: &Version) -> bool {
    set.iter().any(|i| {
        i.lo.as_ref().is_none_or(|b| match v.cmp_same(&b.version) {
            Ordering::Greater => true,
            Ordering::Equal => b.inclusive,
            Ordering::Less => false,
        }) && i.hi.as_ref().is_none_or(|b| match v.cmp_same(&b.version) {
            Ordering::Less => true,
            Ordering::Equal => b.inclusive,
            Ordering::Greater => false,
        })
    })
}

/// Whether `version` satisfies the npm dependency range `range` (`^1.2.0`, `~1.2`,
/// `>=1 <2`, `1.x || 2.x`, `1.0.0 - 2.0.0`); `Err` for what is not a semver range (a tag,
/// a URL, an alias).
pub fn npm_satisfies(range: &str, version: &str) -> Result<bool, String> {
    let range = range.trim();
    let set = if range.is_empty() || range == "*" {
        vec![ALL]
    } else {
        npm_range(range)?
    };
    let v = version::parse(Ecosystem::Npm, version).map_err(|e| e.to_string())?;
    Ok(contains(&set, &v))
}

/// A Node.js security WG advisory (`vuln/npm/N.json`).
pub fn nodejs_wg(doc: &Value) -> Result<(Advisory, Vec<String>), String> {
    let module = doc["module_name"]
        .as_str()
        .ok_or("advisory without module_name")?;
    let number = doc["id"].as_u64().ok_or("advisory without a numeric id")?;
    let vulnerable = doc["vulnerable_versions"].as_str().unwrap_or("*");
    let set =
        npm_range(vulnerable).map_err(|e| format!("vulnerable_versions '{vulnerable}': {e}"))?;
    let (range, notes) = to_range(&set);
    let aliases = doc["cves"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    let mut severity = Vec::new();
    if let Some(v) = doc["cvss_vector"]
        .as_str()
        .filter(|v| v.starts_with("CVSS:3"))
    {
        severity.push(Severity {
            kind: "CVSS_V3".into(),
            score: v.to_owned(),
        });
    }
    let advisory = Advisory {
        id: format!("NSWG-ECO-{number}"),
        modified: doc["updated_at"].as_str().unwrap_or("").to_owned(),
        published: doc["publish_date"].as_str().unwrap_or("").to_owned(),
        aliases,
        summary: doc["title"].as_str().unwrap_or("").to_owned(),
        details: doc["overview"].as_str().unwrap_or("").to_owned(),
        severity,
        affected: vec![affected(Ecosystem::Npm, module, range)],
        database_specific: approximations(&notes),
        ..Advisory::default()
    };
    Ok((advisory, notes))
}

fn affected(eco: Ecosystem, name: &str, range: Range) -> Affected {
    Affected {
        package: Package {
            ecosystem: eco.osv_name().into(),
            name: name.to_owned(),
            purl: Some(eco.purl(name, "")),
        },
        ranges: vec![range],
        ..Affected::default()
    }
}

fn reference(url: Option<&str>) -> Vec<Reference> {
    url.map(|u| {
        vec![Reference {
            kind: "ADVISORY".into(),
            url: u.to_owned(),
        }]
    })
    .unwrap_or_default()
}

fn approximations(notes: &[String]) -> Option<Value> {
    (!notes.is_empty()).then(|| json!({ "haechi_approximations": notes }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::CompiledAffected;

    fn affects(a: &Advisory, eco: Ecosystem, v: &str) -> bool {
        let c = CompiledAffected::compile(eco, &a.affected[0]);
        c.affects(&version::parse(eco, v).unwrap(), v).is_some()
    }

    #[test]
    fn rubysec_patched_and_unaffected_become_the_complement() {
        let doc = json!({"gem": "rails", "cve": "2020-8164", "title": "t",
            "patched_versions": ["~> 5.2.4, >= 5.2.4.3", ">= 6.0.3.1"],
            "unaffected_versions": ["< 4.0.0"]});
        let (a, notes) = rubysec(&doc).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("pre-releases of 5.3 "), "{notes:?}");
        assert_eq!(a.aliases, ["CVE-2020-8164"]);
        for (v, hit) in [
            ("3.2", false),
            ("4.0.0", true),
            ("5.2.4.2", true),
            ("5.2.4.3", false),
            ("5.2.9", false),
            ("5.3.0", true),
            ("6.0.3", true),
            ("6.0.3.1", false),
        ] {
            assert_eq!(affects(&a, Ecosystem::RubyGems, v), hit, "{v}");
        }
    }

    #[test]
    fn friendsofphp_branches_are_a_union() {
        let doc = json!({"reference": "composer://cakephp/cakephp", "cve": "~", "title": "t",
            "branches": {"2.6.x": {"versions": [">=2.6.0", "<2.6.11"]}, "2.7.x": {"versions": [">=2.7.0", "<2.7.2"]}}});
        let (a, _) = friendsofphp(&doc, "2015-08-06").unwrap();
        for (v, hit) in [
            ("2.5.9", false),
            ("2.6.10", true),
            ("2.6.11", false),
            ("2.7.1", true),
            ("2.7.2", false),
        ] {
            assert_eq!(affects(&a, Ecosystem::Packagist, v), hit, "{v}");
        }
    }

    #[test]
    fn npm_ranges_follow_node_semver() {
        let doc = |r: &str| json!({"id": 1, "module_name": "m", "vulnerable_versions": r});
        let cases = [
            (">=1.3.0 <1.3.2 || >=1.4.0 <1.4.11", "1.4.10", true),
            (">=1.3.0 <1.3.2 || >=1.4.0 <1.4.11", "1.3.2", false),
            ("<= 1.0", "1.0.9", true),
            ("<= 1.0", "1.1.0", false),
            (">1.2.3", "1.2.3", false),
            (">1.2.3", "1.2.4-alpha", true),
            ("2.0.x || 2.1.x", "2.1.7", true),
            ("2.0.x || 2.1.x", "2.2.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("1.0.0 - 1.2", "1.2.5", true),
        ];
        for (range, v, hit) in cases {
            let (a, _) = nodejs_wg(&doc(range)).unwrap();
            assert_eq!(affects(&a, Ecosystem::Npm, v), hit, "{range} on {v}");
        }
    }
}
