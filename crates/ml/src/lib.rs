//! # haechi-ml — the malicious-domain (DGA and phishing host) and web-attack classifiers
//!
//! **What it is.** [`DomainModel`] estimates the probability that a host name is malicious —
//! produced by a domain-generation algorithm (the rendez-vous names of botnets such as
//! Conficker, Ramdo or Matsnu), or a phishing host (`xfinitymailin.weebly.com`,
//! `secure-paypal-login.com`) — from the *name alone*: no DNS, WHOIS or traffic. The name is
//! lower-cased, a trailing dot and a leading `www.` are dropped, and the public suffix is
//! split off (the last label, or two for `co.uk`-style ccTLDs; no full public-suffix list).
//! The label left of the suffix is the *registrable label*, everything further left the
//! *subdomain labels*. The registrable label, wrapped in `^…$`, gives character 2-, 3- and
//! 4-grams hashed (FNV-1a) into 2^18 buckets; the suffix is hashed into the same space; 17
//! dense lexical features of the registrable label (length and length buckets,
//! digit/vowel/consonant/hyphen ratios, Shannon entropy, longest consonant and digit runs,
//! character-class switches) and 8 host features ([`HOST_FEATURE_NAMES`]) are appended:
//! hyphen runs (`---`), a commonly impersonated brand ([`BRAND_TOKENS`]) in the subdomains
//! or inside a registrable label that is not the brand's own, credential words
//! ([`CREDENTIAL_TOKENS`]), and whether the registrable part is a free-hosting, site-builder
//! or dynamic-DNS suffix ([`FREE_HOSTS`]: `pages.dev`, `weebly.com`, `github.io`, …). Under
//! such a suffix, and only there, the subdomain labels are what the user registered, and
//! they add n-grams (a separately salted hash, `subgram:` in explanations), their count, the
//! host length and their digits. The lists are fixed from public knowledge (APWG-style
//! brand reports, the Public Suffix List's private section), not from the training data.
//! The model is a logistic regression over that sparse vector; its sigmoid output is the
//! score, and [`DomainModel::explain`] lists the n-grams and dense features that moved the
//! logit most. Scoring works on stack buffers and does not allocate (about 0.5 µs a name).
//! This is the `host` feature set ([`TrainConfig::host_features`], in
//! [`DomainModel::default_config`]); model files without that key keep the older
//! *registrable* set (n-grams and lexical features of everything left of the suffix as one
//! string, no host features) and load and score as before.
//!
//! **How it is trained.** Plain per-sample SGD with Adagrad step sizes on the log loss, with an
//! L2 penalty applied to the weights touched by each update, for a few epochs. The sample order
//! of every epoch is a Fisher–Yates shuffle driven by a seeded splitmix64; training is
//! single-threaded, so the same data, order and [`TrainConfig`] give bit-identical weights.
//! The model file records the feature and training configuration, the seed, a SHA-256 of the
//! exact training samples (our own small SHA-256, [`sha256`]), and the validation and baseline
//! metrics, and ends with a SHA-256 checksum so a corrupt file is refused on load. Data comes
//! from labeled CSVs (`domain`, `label`, optional `family`) and plain host-name lists, whose
//! names are all malicious (family `phishing`, [`load_domain_file`] tells the layouts apart
//! by the first line); a name in several files is kept once ([`DomainSet::extend_dedup`]).
//!
//! **How it is evaluated.** [`split_train_validation`] ([`DomainSet::split`]) assigns each
//! domain to train or validation by a hash of its normalized name, so one name never sits on
//! both sides and the split does not depend on row order. Everything reported — accuracy,
//! per-class precision/recall/F1, macro-F1, ROC AUC, confusion matrix ([`Metrics`]) and the
//! share flagged per family ([`evaluate_families`]: each DGA family, `phishing`, the benign
//! list) — is measured on the validation side only, at the fixed threshold 0.5, and is
//! compared with a deliberately trivial [`EntropyBaseline`] (one entropy threshold fitted on
//! the training side) so that a number can be read against "what a one-liner gets". On the
//! dev CSV plus 23,807 OpenPhish host names: phishing 0.89 flagged (0.14 with the previous,
//! registrable-only CSV model), Alexa 0.049 (0.018 before), DGA families 0.93–1.0 as before;
//! but only 0.68 of phishing hosts on a registrable domain never seen in training, and on the
//! real DNS names of a lab capture 2.7 % score ≥ 0.95 (1.7 % before). Reading subdomain
//! n-grams on every name gave the same validation figures and 41 % of those real names
//! ≥ 0.95 — the "has a subdomain ⇒ phishing" shortcut, since the benign training names
//! rarely have one; hence the free-hosting restriction (figures in
//! `docs/models/domains.md`).
//!
//! **Limits.** The development set (`shared/data/domains/dga_dev_balanced.csv`) is balanced
//! 50/50, while real DNS traffic is overwhelmingly benign: precision in production will be far
//! lower than the validation figures, and the threshold should be set for a target false-positive
//! rate on real traffic. The DGA side covers eight families generated by public
//! re-implementations (one of them, zeus, has only 1,000 names); families never seen — in
//! particular dictionary-word DGAs beyond matsnu, and new algorithms — may score low, and the
//! split is by domain, not by family, so the validation figures say nothing about unseen
//! families. The phishing side is two months of one feed; the split is by host name, so one
//! attacker domain or hosting platform sits on both sides, and phishing on free-hosting
//! platforms is recognised largely by the platform (benign pages there score high too). The
//! benign side is a 2015 Alexa top list: popular names, unlike the long tail of CDN, cloud and
//! tracking host names (random-looking labels, load-balancer names, brands inside CDN aliases)
//! that a deployment sees. The model knows nothing of IDNs beyond their bytes, nor of
//! homoglyphs, has no public-suffix list, and hash collisions make explanations of rare
//! n-grams approximate.
//!
//! ## The web-attack model
//!
//! **What it is.** [`WebModel`] estimates the probability that an HTTP parameter value is an
//! attack (SQL injection, XSS, path traversal, command injection). The value is percent-decoded
//! once (`%XX` → byte, `+` → space; malformed escapes are kept, so `%2527` stays `%27`),
//! lower-cased and cut at [`MAX_PAYLOAD`] bytes; wrapped in `^…$` it gives character 1–4-grams
//! hashed into 2^18 buckets, plus 57 dense features ([`WEB_FEATURE_NAMES`]): `ln(1+count)` of
//! quotes, angle brackets, `../`, `;`, `|`, `--`, `/*`, `$(`… and of keywords (`select`,
//! `union`, `sleep(`, `script`, `onerror`, `etc/passwd`, …), log length, special-character,
//! digit and space ratios, and whether anything was percent-encoded. It shares the trainer
//! (same Adagrad/L2/seeded-shuffle code, so the same determinism), the [`TrainConfig`]
//! ([`WebModel::default_config`] uses 1–4-grams), the model file format (kind `"web"`; domain
//! files are unchanged and each loader refuses the other kind by name) and [`Metrics`] (classes
//! `normal`/`attack`). [`WebModel::score`] is for one value; [`WebModel::score_query`] takes the
//! maximum over the values of an `a=1&b=2` query string. Scoring does not allocate.
//!
//! **Evaluation.** [`split_web_train_validation`] puts 20 % of the rows in validation by a hash
//! of the decoded, lower-cased payload. The comparison is [`WebBaseline`]: "attack if any of 16
//! fixed tokens occurs". On the HttpParamsDataset training split (20,712 rows, release build):
//! model accuracy 0.9993, macro-F1 0.9992, AUC 1.0000 (3 errors in 4,157: two of 13 cmdi rows
//! and one sqli); baseline 0.9846 / 0.9836 / 0.9813 (64 errors, it misses 60 % of path
//! traversals). Training takes ~0.3 s.
//!
//! **Limits.** These figures are near-perfect because the data set is easy, not because the
//! problem is solved: benign values are CSIC-2010 form fields (names, streets, numbers, e-mail
//! addresses) that *never* contain `%`, `=`, `&`, `<` or quotes, so such characters alone
//! separate the classes — real benign traffic (JSON, rich text, URLs, base64, search strings
//! with apostrophes) will give false positives, and whole query strings must go through
//! `score_query`, because `=` by itself reads as an attack. Attacks are tool-generated and 92 %
//! SQLi; only 59 cmdi and 193 traversal rows exist, and near-duplicate payloads from one tool
//! can sit on both sides of the split even though identical payloads cannot. No decoding beyond
//! one percent-decode (no HTML entities, Unicode escapes, double encoding, base64), no
//! understanding of context (which parameter, which endpoint).
//!
//! ## The flow model
//!
//! **What it is.** [`FlowModel`] classifies network flows as normal or attack (or into attack
//! categories) with gradient-boosted decision trees ([`Gbdt`], our own, pure Rust). Three
//! feature schemas ([`FlowSchema`]), each stored by name in the model file: `nslkdd` (the 41
//! NSL-KDD features), `unsw` (the 42 UNSW-NB15 features: every column but `id`, `attack_cat`,
//! `label`) and `live` ([`LIVE_FEATURES`]: `dur`, `proto`, `service`, `state`, packet and byte
//! counts per direction and the derived `rate`, `sload`, `dload`, `smean`, `dmean`) — only what
//! Haechi computes itself from Suricata EVE `flow` and Zeek `conn` events, as a
//! [`FlowRecord`] (borrowed strings; scoring it does not allocate). The live features of a
//! UNSW-NB15 training row are computed from its raw counts through the same `FlowRecord`
//! code, not copied from the published derived columns, so training and serving agree.
//! Zeek `conn_state`, Suricata `flow.state` and service names are mapped to the UNSW-NB15
//! (Argus) vocabulary by [`zeek_conn_state_to_unsw`], [`suricata_state_to_unsw`] and
//! [`service_to_unsw`] — documented approximations. Categorical features become ordinal codes
//! learned from the training data (values seen ≥ 3 times, most frequent first, ≤ 254 codes,
//! everything else one "other" code), matched case-insensitively. Tasks ([`FlowTask`]): binary
//! normal/attack, or category (NSL-KDD normal/DoS/Probe/R2L/U2R through
//! [`nsl_kdd_category`], which includes the KDDTest+-only attack names; an attack name it does
//! not know is still an attack and gets category `unknown`; UNSW-NB15 `attack_cat`, 10
//! classes). [`FlowModel::explain`] gives Saabas path attributions per input feature (the
//! change of a node's expected value, credited to the split feature along the decision path;
//! they sum to the log-odds).
//!
//! **How it is trained.** Histogram GBDT: each feature is cut into ≤ 255 bins at quantiles of
//! the training values (on a seeded sample above 200,000 rows), plus a bin for missing values;
//! split thresholds are stored as raw `f32` values (`x < t` goes left), so inference never
//! bins. Second-order (Newton) leaves `-G/(H+λ)`, gain with L2 `λ`, `min_child_weight` on the
//! hessian, seeded row subsampling, depth-wise growth with histogram subtraction; missing
//! values go the direction learned at each split (the heavier side if training had none).
//! Logistic loss for two classes, softmax (one tree per class per round) otherwise. Defaults
//! ([`GbdtConfig::default`]): 60 rounds, learning rate 0.3, depth 6, `min_child_weight` 1,
//! `λ` 1, no minimum gain, subsample 0.8, 255 bins. Per-feature histograms are built in
//! parallel (rayon), each by one thread in row order, and splits are chosen by a sequential
//! scan, so the same data, config and seed give a bit-identical model on any thread count.
//! Optional Platt scaling ([`FlowTrainConfig::calibration_percent`]) holds out a stratified
//! slice of the training side and is kept only if a two-fold cross-fit lowers its Brier
//! score; it never did here (the boosted log-odds are already well calibrated: e.g. UNSW
//! binary, Brier 0.0199 raw vs 0.0201 Platt on the slice), so it is off by default. The model
//! file (kind `"flows"`, same frame and checksum as the other models) stores the schema, class
//! names, vocabularies, configuration, training-data SHA-256, metrics and the flat node arrays
//! (feature, threshold, children, value); loading checks every index so a crafted file cannot
//! make inference loop or read out of bounds.
//!
//! **How it is evaluated.** [`split_flows`] is a seeded split stratified by category (default
//! 20 % validation). [`evaluate_flows`] reports accuracy, per-class P/R/F1, macro-F1, ROC AUC
//! of P(attack) (category models: `1 − P(normal)`), the Brier score and, for categories, the
//! full confusion matrix. The baseline is a single decision stump
//! ([`FlowTrainConfig::stump_baseline`]: one boosting round of depth 1, learning rate 1; one
//! stump per class for categories). Release build, 2-core machine, seed 20261123, defaults:
//!
//! | data, schema, task | accuracy | macro-F1 | AUC | Brier | stump acc / macro-F1 | train | file |
//! |---|---|---|---|---|---|---|---|
//! | NSL-KDD 20 %, `nslkdd`, binary | 0.9970 | 0.9970 | 0.9999 | 0.0023 | 0.9236 / 0.9233 | 0.5 s | 45 KB |
//! | UNSW part A, `unsw`, binary | 0.9790 | 0.9788 | 0.9975 | 0.0167 | 0.7634 / 0.7332 | 1.0 s | 77 KB |
//! | UNSW part A, `unsw`, 10 categories | 0.8777 | 0.5887 | 0.9976 | 0.1591 | 0.7243 / 0.2720 | 8.1 s | 665 KB |
//! | UNSW part A, `live`, binary | 0.9354 | 0.9350 | 0.9862 | 0.0452 | 0.7386 / 0.7374 | 0.7 s | 90 KB |
//! | NSL-KDD 20 %, `nslkdd`, 5 categories | 0.9976 | 0.9857 | 1.0000 | 0.0037 | 0.8785 / 0.5289 | 2.7 s | 135 KB |
//!
//! Majority class: 0.5338 (NSL-KDD), 0.5506 (UNSW). Binary inference on precomputed feature
//! vectors, one thread: 0.6–1.0 million records/s (it varies with machine load; 150 rounds at
//! learning rate 0.15 gave ~0.2 million/s for +0.0006 NSL-KDD and +0.003 live accuracy, −0.0007
//! UNSW). Category models are 10× (UNSW) slower per record. UNSW categories: Normal and Generic
//! F1 ≈ 0.98, Reconnaissance 0.82, Fuzzers 0.73, Exploits 0.71, DoS 0.44, Shellcode 0.41,
//! Analysis 0.10, Backdoor 0.05 (DoS/Exploits/Analysis/Backdoor share near-identical flow
//! features in UNSW-NB15 — a known property of the data set).
//!
//! **Limits.** These are validation splits of *development* files, not the official test sets:
//! NSL-KDD here is the 20 % training subset, whose validation side shares the training
//! distribution; the harder KDDTest+ (with attack types never seen in training) scores far
//! lower for every published model. The UNSW figures come from half of the official UNSW-NB15
//! test partition, split again — again one distribution. Both data sets are lab captures from
//! 1998 and 2015; several UNSW-NB15 features (`sttl`, `dttl`, `ct_state_ttl`) are artefacts of
//! the testbed and would not transfer to another network. The `live` model is the one that
//! can run on Haechi's own events, and it is the weakest: the state and service mappings are
//! approximations (e.g. UNSW-NB15 has no `RST` rows in this file, so `RST` reads as "other"),
//! Suricata/Zeek count bytes and timeouts differently from Argus, and real traffic's base rate
//! of attacks is tiny, so precision in production will be far lower than here — set the
//! threshold for a target false-positive rate on real traffic.

mod data;
mod error;
mod features;
mod flows;
mod gbdt;
mod metrics;
mod model;
pub mod sha256;
mod web;

pub use data::{
    DEFAULT_CSV_LIMIT, DomainSet, HOSTLIST_FAMILY, Sample, is_domain_csv, is_validation,
    load_domain_csv, load_domain_file, read_domain_csv, read_domain_csv_set, read_hostname_list,
    split_train_validation,
};
pub use error::MlError;
pub use features::{
    BRAND_OWNED_LABELS, BRAND_TOKENS, CREDENTIAL_TOKENS, FREE_HOSTS, FeatureConfig,
    HOST_FEATURE_NAMES, LEXICAL_NAMES, MAX_NAME,
};
pub use flows::{
    CategoryVocab, FLOW_BINARY_CLASSES, FLOW_FILE_LIMIT, FlowColumn, FlowDataset, FlowFormat,
    FlowModel, FlowModelMeta, FlowRecord, FlowSchema, FlowTask, FlowTrainConfig, LIVE_FEATURES,
    NSL_KDD_FEATURES, NSL_KDD_TRAIN_20, UNSW_FEATURES, UNSW_PART_A_CSV, detect_flow_format,
    evaluate_flows, load_flows, load_nsl_kdd, load_unsw, nsl_kdd_category, read_nsl_kdd, read_unsw,
    service_to_unsw, sniff_flow_format, split_flows, suricata_state_to_unsw, unsw_category,
    zeek_conn_state_to_unsw,
};
pub use gbdt::{Gbdt, GbdtConfig};
pub use metrics::{ClassMetrics, Confusion, Metrics, roc_auc};
pub use model::{
    DomainModel, EntropyBaseline, FamilyRate, ModelMeta, TrainConfig, evaluate, evaluate_families,
};
pub use web::{
    MAX_PAYLOAD, WEB_CLASSES, WEB_DEV_CSV, WEB_FEATURE_NAMES, WebBaseline, WebModel, WebModelMeta,
    WebSample, evaluate_web, is_web_validation, load_web_csv, read_web_csv,
    split_web_train_validation,
};

/// Path of the development data set, relative to this crate.
pub const DGA_DEV_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/domains/dga_dev_balanced.csv"
);

/// Path of the OpenPhish host-name list (malicious names, one per line), relative to this
/// crate.
pub const PHISHING_HOSTNAMES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/domains/phishing_hostnames_openphish.txt"
);
