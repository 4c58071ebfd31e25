//! The models that ship inside the `haechi` binary, by name.
//!
//! Wherever a model file is expected (`haechi eval MODEL`, `haechi predict MODEL`, the
//! `[ml]` configuration keys), a name from [`DEFAULT_MODELS`] may be given instead of a
//! path: an existing file always wins, so a model retrained under the same name is used.
//! Each default is the output of the recipe in its model card (`docs/models/NAME.md`),
//! written by `scripts/train-default-models`; the test `default_models_reproduce` checks
//! that retraining from the recipe gives the same weights.

use std::path::Path;

/// A model shipped with Haechi.
pub struct DefaultModel {
    /// The name a user gives instead of a path.
    pub name: &'static str,
    /// What it scores, in one line (for `haechi models`).
    pub what: &'static str,
    /// The model file, as written by `haechi train`.
    pub bytes: &'static [u8],
    /// Its model card, `docs/models/<card>.md`.
    pub card: &'static str,
}

/// Every default model.
pub const DEFAULT_MODELS: &[DefaultModel] = &[
    DefaultModel {
        name: "domains",
        what: "malicious (DGA or phishing host) vs normal domain name, from the name alone",
        bytes: include_bytes!("../models/domains.model"),
        card: "domains",
    },
    DefaultModel {
        name: "web",
        what: "attack vs normal HTTP parameter value (SQLi, XSS, traversal, command injection)",
        bytes: include_bytes!("../models/web.model"),
        card: "web",
    },
    DefaultModel {
        name: "nslkdd",
        what: "attack vs normal connection on the 41 NSL-KDD features",
        bytes: include_bytes!("../models/nslkdd.model"),
        card: "flows",
    },
    DefaultModel {
        name: "unsw",
        what: "attack vs normal flow on the 42 UNSW-NB15 features",
        bytes: include_bytes!("../models/unsw.model"),
        card: "flows",
    },
    DefaultModel {
        name: "unsw-multiclass",
        what: "attack family of a flow (10 UNSW-NB15 categories)",
        bytes: include_bytes!("../models/unsw-multiclass.model"),
        card: "flows",
    },
    DefaultModel {
        name: "flows",
        what: "attack vs normal on live Suricata flow / Zeek conn events (13 shared features)",
        bytes: include_bytes!("../models/flows.model"),
        card: "flows",
    },
    DefaultModel {
        name: "risk",
        what: "incident probability for the next hour from an institution's risk series",
        bytes: include_bytes!("../models/risk.json"),
        card: "risk",
    },
];

/// The default model called `name`, if there is one.
pub fn default_model(name: &str) -> Option<&'static DefaultModel> {
    DEFAULT_MODELS.iter().find(|m| m.name == name)
}

/// Where a model comes from: a file, or a default shipped in the binary.
pub enum ModelRef<'a> {
    File(&'a Path),
    Default(&'static DefaultModel),
}

/// Resolves a model given as a file path or a default model's name. A file that exists
/// wins over a default of the same name.
pub fn resolve(spec: &Path) -> anyhow::Result<ModelRef<'_>> {
    if spec.is_file() {
        return Ok(ModelRef::File(spec));
    }
    if let Some(m) = spec.to_str().and_then(default_model) {
        return Ok(ModelRef::Default(m));
    }
    let names: Vec<&str> = DEFAULT_MODELS.iter().map(|m| m.name).collect();
    anyhow::bail!(
        "{}: no such model file, and not the name of a default model ({})",
        spec.display(),
        names.join(", ")
    )
}

/// Loads a model given as a path or a default's name with the model type's own loader
/// (which checks its kind, size and checksum).
pub fn load_with<M, E: std::fmt::Display>(
    spec: &Path,
    from_file: impl FnOnce(&Path) -> Result<M, E>,
    from_bytes: impl FnOnce(&[u8]) -> Result<M, E>,
) -> anyhow::Result<M> {
    match resolve(spec)? {
        ModelRef::File(path) => {
            from_file(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        ModelRef::Default(m) => {
            from_bytes(m.bytes).map_err(|e| anyhow::anyhow!("default model {}: {e}", m.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_ml::{DomainModel, TrainConfig, WebModel};

    /// The shipped models are what their recipes produce: retraining on the development
    /// data with the default configuration and split gives the same weights.
    #[test]
    fn default_models_reproduce() {
        // `haechi train domains --data dga_dev_balanced.csv --data
        // phishing_hostnames_openphish.txt`: both files, a name kept once (first file wins),
        // the host feature set.
        let mut samples = haechi_ml::DomainSet::default();
        for file in [haechi_ml::DGA_DEV_CSV, haechi_ml::PHISHING_HOSTNAMES] {
            samples.extend_dedup(haechi_ml::load_domain_file(file).expect("domain data"));
        }
        let (train, _) = samples.split(20);
        let retrained = DomainModel::train(&train.samples, &DomainModel::default_config());
        let shipped = DomainModel::from_bytes(default_model("domains").unwrap().bytes).unwrap();
        assert!(shipped.meta().train.host_features);
        assert!(retrained.weights_eq(&shipped), "domains: weights differ");
        assert_eq!(
            retrained.meta().training_data_sha256,
            shipped.meta().training_data_sha256
        );

        let samples = haechi_ml::load_web_csv(haechi_ml::WEB_DEV_CSV).expect("web data");
        let (train, _) = haechi_ml::split_web_train_validation(&samples, 20);
        let retrained = WebModel::train(&train, &WebModel::default_config());
        let shipped = WebModel::from_bytes(default_model("web").unwrap().bytes).unwrap();
        assert!(retrained.weights_eq(&shipped), "web: weights differ");
    }

    /// The flow models: the recipes of `scripts/train-default-models` (default seed, 20 %
    /// stratified validation split) give the same trees.
    #[test]
    fn default_flow_models_reproduce() {
        use haechi_ml::{FlowModel, FlowSchema, FlowTask, FlowTrainConfig};
        let seed = TrainConfig::default().seed;
        let cases = [
            (
                "nslkdd",
                haechi_ml::NSL_KDD_TRAIN_20,
                FlowSchema::NslKdd,
                FlowTask::Binary,
            ),
            (
                "unsw",
                haechi_ml::UNSW_PART_A_CSV,
                FlowSchema::Unsw,
                FlowTask::Binary,
            ),
            (
                "unsw-multiclass",
                haechi_ml::UNSW_PART_A_CSV,
                FlowSchema::Unsw,
                FlowTask::Category,
            ),
            (
                "flows",
                haechi_ml::UNSW_PART_A_CSV,
                FlowSchema::Live,
                FlowTask::Binary,
            ),
        ];
        for (name, file, schema, task) in cases {
            let data = haechi_ml::load_flows(file).expect("flow data");
            let (train, _) = haechi_ml::split_flows(&data, 20, seed);
            let mut cfg = FlowTrainConfig::new(schema, task);
            cfg.gbdt.seed = seed;
            let retrained = FlowModel::train(&train, &cfg);
            let shipped = FlowModel::from_bytes(default_model(name).unwrap().bytes).unwrap();
            assert!(retrained.trees_eq(&shipped), "{name}: trees differ");
            assert_eq!(
                retrained.meta().training_data_sha256,
                shipped.meta().training_data_sha256,
                "{name}"
            );
        }
    }

    #[test]
    fn a_file_wins_over_a_default_and_unknown_names_are_refused() {
        let dir = std::env::temp_dir().join(format!("haechi-defaults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("domains");
        std::fs::write(&file, b"not a model").unwrap();
        assert!(matches!(resolve(&file).unwrap(), ModelRef::File(_)));
        assert!(matches!(
            resolve(Path::new("domains")).unwrap(),
            ModelRef::Default(m) if m.name == "domains"
        ));
        let err = resolve(Path::new("no-such-model"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("not the name of a default model (domains, web"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
