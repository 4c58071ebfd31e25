//! Web-attack model tests on the real dev set (`shared/data/web_attacks/httpparams_payload_train.csv`).

use std::sync::OnceLock;

use haechi_ml::{
    DomainModel, Metrics, MlError, WEB_DEV_CSV, WebBaseline, WebModel, WebSample, evaluate_web,
    load_web_csv, read_web_csv, sha256, split_web_train_validation,
};

struct Fixture {
    train: Vec<WebSample>,
    valid: Vec<WebSample>,
    model: WebModel,
    metrics: Metrics,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let all = load_web_csv(WEB_DEV_CSV).expect("web dev set loads");
        assert_eq!(all.len(), 20_712);
        let (train, valid) = split_web_train_validation(&all, 20);
        let model = WebModel::train(&train, &WebModel::default_config());
        let metrics = evaluate_web(&model, &valid);
        Fixture {
            train,
            valid,
            model,
            metrics,
        }
    })
}

#[test]
fn dev_file_is_the_documented_one() {
    let bytes = std::fs::read(WEB_DEV_CSV).unwrap();
    assert_eq!(
        sha256::to_hex(&sha256::sha256(&bytes)),
        "dfa6e59c87b2bafc485c9cb14d37e3f86607d180e5a22e7c46dae6d3d1dd6a16"
    );
}

#[test]
fn validation_quality_above_measured_floor() {
    let m = &fixture().metrics;
    // Measured (full 16,555-row training side): accuracy 0.9993, macro-F1 0.9992, AUC 1.0000.
    assert!(m.n > 4_000, "validation rows {}", m.n);
    assert!(m.accuracy >= 0.995, "accuracy {}", m.accuracy);
    assert!(m.macro_f1 >= 0.995, "macro-F1 {}", m.macro_f1);
    assert!(m.auc.unwrap() >= 0.999, "AUC {:?}", m.auc);
    assert_eq!(m.per_class[0].class, "normal");
    assert_eq!(m.per_class[1].class, "attack");
}

#[test]
fn model_beats_token_baseline() {
    let f = fixture();
    let b = WebBaseline.evaluate(&f.valid);
    // Measured: baseline accuracy 0.9846, macro-F1 0.9836, AUC 0.9813.
    assert!(b.macro_f1 > 0.9, "baseline {}", b.macro_f1);
    let errors = |m: &Metrics| m.confusion.fp + m.confusion.fn_;
    assert!(
        errors(&f.metrics) * 5 <= errors(&b),
        "model {:?} vs baseline {:?}",
        f.metrics.confusion,
        b.confusion
    );
    assert!(f.metrics.macro_f1 > b.macro_f1 && f.metrics.auc > b.auc);
}

#[test]
fn training_is_deterministic() {
    let f = fixture();
    let small = &f.train[..3_000];
    let cfg = WebModel::default_config();
    let a = WebModel::train(small, &cfg);
    let b = WebModel::train(small, &cfg);
    assert_eq!(a.to_bytes(), b.to_bytes());
    let c = WebModel::train(
        small,
        &haechi_ml::TrainConfig {
            seed: cfg.seed + 1,
            ..cfg
        },
    );
    assert!(!a.weights_eq(&c), "the seed must matter");
    assert_eq!(a.meta().training_data_sha256, c.meta().training_data_sha256);
}

#[test]
fn save_load_round_trip_and_kinds() {
    let f = fixture();
    let mut model = f.model.clone();
    model.meta_mut().validation_metrics = Some(f.metrics.clone());
    let path = std::env::temp_dir().join(format!("haechi-web-{}.model", std::process::id()));
    model.save(&path).unwrap();
    let loaded = WebModel::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(loaded.weights_eq(&model));
    for s in &f.valid[..1_000] {
        assert_eq!(
            loaded.score(&s.payload).to_bits(),
            model.score(&s.payload).to_bits()
        );
    }
    assert_eq!(loaded.meta().kind, "web");
    assert_eq!(loaded.meta().n_train, f.train.len() as u64);
    assert_eq!(
        loaded.meta().validation_metrics.as_ref().unwrap().confusion,
        f.metrics.confusion
    );
    // Same file format, different kinds: each loader refuses the other's file by kind.
    let bytes = model.to_bytes();
    match DomainModel::from_bytes(&bytes) {
        Err(MlError::BadModel(m)) => assert!(m.contains("kind") && m.contains("web"), "{m}"),
        other => panic!("{other:?}"),
    }
    let dm = DomainModel::train(
        &[haechi_ml::Sample {
            domain: "a.com".into(),
            is_dga: false,
        }],
        &haechi_ml::TrainConfig::default(),
    );
    match WebModel::from_bytes(&dm.to_bytes()) {
        Err(MlError::BadModel(m)) => assert!(m.contains("\"domains\""), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 1;
    assert!(
        matches!(WebModel::from_bytes(&flipped), Err(MlError::BadModel(m)) if m.contains("checksum"))
    );
}

#[test]
fn obvious_attacks_high_plain_values_low() {
    let m = &fixture().model;
    for p in [
        "1' OR '1'='1' -- ",
        "1 UNION SELECT username, password FROM users--",
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "../../../../etc/passwd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "; cat /etc/passwd",
    ] {
        assert!(m.score(p) > 0.9, "{p:?} scored {}", m.score(p));
    }
    for p in [
        "42",
        "2",
        "maria garcia",
        "calle mayor 5",
        "juan@example.es",
    ] {
        assert!(m.score(p) < 0.1, "{p:?} scored {}", m.score(p));
    }
    assert!(m.score_query("id=42&page=2") < 0.1);
    assert!(m.score_query("?id=42&page=2") < 0.1);
    assert!(m.score_query("id=42&q=1' OR '1'='1' --") > 0.9);
}

#[test]
fn explain_names_are_readable() {
    let m = &fixture().model;
    let ex = m.explain("<script>alert(1)</script>");
    assert!(!ex.is_empty() && ex.len() <= 15);
    assert!(ex.windows(2).all(|w| w[0].1.abs() >= w[1].1.abs()));
    assert!(ex.iter().all(|(n, _)| n.starts_with("ngram:")
        || n.starts_with("tok:")
        || n.starts_with("kw:")
        || haechi_ml::WEB_FEATURE_NAMES.contains(&n.as_str())
        || n == "bias"));
    assert!(ex.iter().map(|(_, c)| c).sum::<f32>() > 0.0, "{ex:?}");
    for p in ["", "%", "%zz", &"a".repeat(10_000), "ÄÖÜ%ff"] {
        let s = m.score(p);
        assert!((0.0..=1.0).contains(&s), "{p:?} → {s}");
        let _ = m.explain(p);
    }
    // Percent-encoding and case do not change the score.
    assert_eq!(m.score("%3Cscript%3E"), m.score("<SCRIPT>"));
}

#[test]
fn split_is_deterministic_and_disjoint() {
    let f = fixture();
    let share = f.valid.len() as f64 / 20_712.0;
    assert!((0.18..0.22).contains(&share), "validation share {share}");
    assert_eq!(
        haechi_ml::is_web_validation("%27 OR 1=1", 20),
        haechi_ml::is_web_validation("' or 1=1", 20)
    );
}

fn csv_err(text: &str) -> (u64, String) {
    match read_web_csv(text.as_bytes(), 1 << 20) {
        Err(MlError::BadRow { row, reason }) => (row, reason),
        other => panic!("expected BadRow for {text:?}, got {other:?}"),
    }
}

#[test]
fn csv_loader_reports_specific_errors() {
    let ok = "payload,length,attack_type,label\n\"a, b\",4,norm,norm\n\"1' or 1=1\",9,sqli,anom\n";
    let s = read_web_csv(ok.as_bytes(), 1 << 20).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].payload, "a, b");
    assert!(!s[0].is_attack && s[1].is_attack);
    assert_eq!(s[1].attack_type.as_deref(), Some("sqli"));

    let (row, reason) = csv_err("payload,label\nx,norm\ny,bad\n");
    assert_eq!(row, 3);
    assert!(
        reason.contains("norm or anom") && reason.contains("\"bad\""),
        "{reason}"
    );
    let (row, reason) = csv_err("payload,label\nx,norm\ny,anom,extra\n");
    assert_eq!(row, 3);
    assert!(reason.contains("expected 2 fields, found 3"), "{reason}");
    let (row, reason) = csv_err("payload,label\n,anom\n");
    assert_eq!((row, reason.as_str()), (2, "empty payload"));
    let (row, reason) = csv_err(&format!("payload,label\n{},anom\n", "a".repeat(5000)));
    assert_eq!(row, 2);
    assert!(reason.contains("longer than 4096"), "{reason}");
    let mut bad_utf8 = b"payload,label\n".to_vec();
    bad_utf8.extend_from_slice(b"\xff\xfe,anom\n");
    match read_web_csv(&bad_utf8[..], 1 << 20) {
        Err(MlError::BadRow { row: 2, reason }) => assert!(reason.contains("UTF-8")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read_web_csv("value,label\nx,norm\n".as_bytes(), 1 << 20),
        Err(MlError::MissingColumn("payload"))
    ));
    assert!(matches!(
        read_web_csv("payload,class\nx,norm\n".as_bytes(), 1 << 20),
        Err(MlError::MissingColumn("label"))
    ));
    assert!(matches!(
        read_web_csv("payload,label\n".as_bytes(), 1 << 20),
        Err(MlError::Empty)
    ));
    assert!(matches!(
        read_web_csv(ok.as_bytes(), 10),
        Err(MlError::TooLarge { limit: 10, .. })
    ));
    let e = load_web_csv("/nonexistent/web.csv").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/web.csv"), "{e}");
}
