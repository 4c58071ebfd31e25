//! MITRE ATT&CK Enterprise from its STIX 2.1 bundle (`enterprise-attack.json`, as
//! attack-stix-data publishes it). Objects are identified by their ATT&CK ids
//! (`external_references[source_name = "mitre-attack"].external_id`: `G0032`, `T1059.001`,
//! `S0154`); revoked and deprecated objects are skipped, and relationships to a revoked
//! technique or group follow its `revoked-by` replacement.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One intrusion set and what it is reported to use.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The ATT&CK id, `G0032`.
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    /// Technique ids (`T1059.001`).
    pub techniques: BTreeSet<String>,
    /// Software ids (`S0154`).
    pub software: BTreeSet<String>,
}

/// ATT&CK as the ranking needs it.
#[derive(Debug, Default)]
pub struct Attack {
    pub groups: Vec<Group>,
    /// Technique and software names by id.
    pub names: HashMap<String, String>,
    /// The techniques each software is reported to use.
    pub software_techniques: HashMap<String, BTreeSet<String>>,
}

#[derive(Deserialize)]
struct Bundle {
    objects: Vec<Object>,
}

#[derive(Deserialize)]
struct Object {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    external_references: Vec<ExternalRef>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    x_mitre_deprecated: bool,
    #[serde(default)]
    relationship_type: Option<String>,
    #[serde(default)]
    source_ref: Option<String>,
    #[serde(default)]
    target_ref: Option<String>,
}

#[derive(Deserialize)]
struct ExternalRef {
    source_name: String,
    #[serde(default)]
    external_id: Option<String>,
}

impl Object {
    fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|r| r.source_name == "mitre-attack")
            .and_then(|r| r.external_id.as_deref())
    }
}

/// The most a bundle file may weigh (the Enterprise bundle is about 50 MB).
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

impl Attack {
    /// Reads a bundle file.
    pub fn load(path: &Path) -> Result<Attack, String> {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > MAX_BUNDLE_BYTES {
            return Err(format!(
                "{}: {size} bytes, more than an ATT&CK bundle ({MAX_BUNDLE_BYTES})",
                path.display()
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Attack::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads a bundle.
    pub fn from_json(bytes: &[u8]) -> Result<Attack, String> {
        let bundle: Bundle = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a STIX bundle of ATT&CK objects: {e}"))?;
        let objects = bundle.objects;
        // Revoked objects point to their replacements.
        let mut replaced: HashMap<&str, &str> = HashMap::new();
        for o in objects.iter().filter(|o| o.kind == "relationship") {
            if o.relationship_type.as_deref() == Some("revoked-by")
                && let (Some(s), Some(t)) = (&o.source_ref, &o.target_ref)
            {
                replaced.insert(s, t);
            }
        }
        let live = |o: &Object| !o.revoked && !o.x_mitre_deprecated;
        let mut ids: HashMap<&str, String> = HashMap::new();
        let mut attack = Attack::default();
        let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
        for o in objects.iter().filter(|o| live(o)) {
            let Some(aid) = o.attack_id() else { continue };
            match o.kind.as_str() {
                "attack-pattern" | "malware" | "tool" => {
                    ids.insert(&o.id, aid.to_owned());
                    if let Some(n) = &o.name {
                        attack.names.insert(aid.to_owned(), n.clone());
                    }
                }
                "intrusion-set" => {
                    ids.insert(&o.id, aid.to_owned());
                    groups.insert(
                        &o.id,
                        Group {
                            id: aid.to_owned(),
                            name: o.name.clone().unwrap_or_default(),
                            aliases: o.aliases.clone(),
                            techniques: BTreeSet::new(),
                            software: BTreeSet::new(),
                        },
                    );
                }
                _ => {}
            }
        }
        let resolve = |stix: &str| -> Option<String> {
            let mut id = stix;
            for _ in 0..8 {
                if let Some(a) = ids.get(id) {
                    return Some(a.clone());
                }
                id = replaced.get(id)?;
            }
            None
        };
        for o in objects
            .iter()
            .filter(|o| o.kind == "relationship" && live(o))
        {
            if o.relationship_type.as_deref() != Some("uses") {
                continue;
            }
            let (Some(s), Some(t)) = (&o.source_ref, &o.target_ref) else {
                continue;
            };
            let Some(target) = resolve(t) else { continue };
            let is_technique = t.starts_with("attack-pattern--");
            let is_software = t.starts_with("malware--") || t.starts_with("tool--");
            if s.starts_with("intrusion-set--") {
                let source = replaced.get(s.as_str()).copied().unwrap_or(s);
                if let Some(g) = groups.get_mut(source) {
                    if is_technique {
                        g.techniques.insert(target);
                    } else if is_software {
                        g.software.insert(target);
                    }
                }
            } else if (s.starts_with("malware--") || s.starts_with("tool--"))
                && is_technique
                && let Some(software) = resolve(s)
            {
                attack
                    .software_techniques
                    .entry(software)
                    .or_default()
                    .insert(target);
            }
        }
        attack.groups = groups.into_values().collect();
        attack.groups.sort_by(|a, b| a.id.cmp(&b.id));
        if attack.groups.is_empty() {
            return Err("no intrusion set in it".into());
        }
        Ok(attack)
    }

    /// Whether `id` is a technique or software this ATT&CK knows.
    pub fn knows(&self, id: &str) -> bool {
        self.names.contains_key(id)
    }
}

/// The base technique of a sub-technique (`T1059` of `T1059.001`), or itself.
pub fn base_technique(id: &str) -> &str {
    id.split_once('.').map_or(id, |(b, _)| b)
}
