//! Flow-model tests on the real development files (`shared/data/ids/`). Training here uses
//! small configurations; the figures of the defaults come from `haechi train flows` (see
//! `docs/models/flows.md`) and throughput from `haechi bench --stages ml`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

use haechi_ml::{
    DomainModel, FlowDataset, FlowFormat, FlowModel, FlowRecord, FlowSchema, FlowTask,
    FlowTrainConfig, GbdtConfig, Metrics, MlError, NSL_KDD_TRAIN_20, UNSW_PART_A_CSV,
    detect_flow_format, evaluate_flows, load_flows, nsl_kdd_category, read_nsl_kdd, read_unsw,
    service_to_unsw, sha256, split_flows, suricata_state_to_unsw, zeek_conn_state_to_unsw,
};

// Per-thread allocation counter (const-initialized thread-local: no allocation on access), so
// tests running in parallel do not disturb each other.
struct Counting;
thread_local! { static ALLOCS: Cell<usize> = const { Cell::new(0) }; }
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;
fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

const SEED: u64 = 20261123;

struct Data {
    nsl: (FlowDataset, FlowDataset),
    unsw: (FlowDataset, FlowDataset),
}

fn data() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| {
        let nsl = load_flows(NSL_KDD_TRAIN_20).expect("NSL-KDD loads");
        let unsw = load_flows(UNSW_PART_A_CSV).expect("UNSW-NB15 loads");
        assert_eq!(nsl.format, FlowFormat::NslKdd);
        assert_eq!(unsw.format, FlowFormat::Unsw);
        Data {
            nsl: split_flows(&nsl, 20, SEED),
            unsw: split_flows(&unsw, 20, SEED),
        }
    })
}

/// Small, fast configuration for unoptimized test builds.
fn quick(schema: FlowSchema, task: FlowTask) -> FlowTrainConfig {
    FlowTrainConfig {
        gbdt: GbdtConfig {
            rounds: if task == FlowTask::Category { 8 } else { 25 },
            learning_rate: 0.3,
            max_depth: 5,
            ..GbdtConfig::default()
        },
        ..FlowTrainConfig::new(schema, task)
    }
}

fn majority_accuracy(d: &FlowDataset) -> f64 {
    let a = d.attack.iter().filter(|&&a| a).count();
    a.max(d.len() - a) as f64 / d.len() as f64
}

fn binary_model(schema: FlowSchema) -> &'static (FlowModel, Metrics) {
    static M: [OnceLock<(FlowModel, Metrics)>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = schema as usize;
    M[i].get_or_init(|| {
        let (train, valid) = if schema == FlowSchema::NslKdd {
            &data().nsl
        } else {
            &data().unsw
        };
        let model = FlowModel::train(train, &quick(schema, FlowTask::Binary));
        let m = evaluate_flows(&model, valid);
        (model, m)
    })
}

#[test]
fn dev_files_are_the_documented_ones() {
    for (path, want) in [
        (
            NSL_KDD_TRAIN_20,
            "5bf25df3ec1544eb3297b9a90b56736ba11e31f429df20e5aa0cfd49ca0fc896",
        ),
        (
            UNSW_PART_A_CSV,
            "c81a76dc9e1d3bba5bc04761b9b013f04d8a612791545e4918092f1a4c05675c",
        ),
    ] {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(sha256::to_hex(&sha256::sha256(&bytes)), want, "{path}");
    }
    let d = data();
    assert_eq!(d.nsl.0.len() + d.nsl.1.len(), 25_192);
    assert_eq!(d.unsw.0.len() + d.unsw.1.len(), 41_164);
    // Stratified: 20 % of each class (rounded) in validation.
    let worms = |x: &FlowDataset| x.category.iter().filter(|c| *c == "Worms").count();
    assert_eq!((worms(&d.unsw.0), worms(&d.unsw.1)), (18, 4));
    assert_eq!(
        d.unsw.1.category.iter().filter(|c| *c == "Normal").count(),
        3_700
    );
}

#[test]
fn nslkdd_binary_above_floor() {
    let (model, m) = binary_model(FlowSchema::NslKdd);
    let majority = majority_accuracy(&data().nsl.1);
    // Quick config (25 rounds); release defaults reach more (see crate docs).
    assert!(
        m.accuracy >= 0.99,
        "accuracy {} (majority {majority})",
        m.accuracy
    );
    assert!(m.macro_f1 >= 0.99, "macro-F1 {}", m.macro_f1);
    assert!(m.auc.unwrap() >= 0.998, "AUC {:?}", m.auc);
    assert!(m.brier.unwrap() < 0.01, "Brier {:?}", m.brier);
    let base = evaluate_flows(
        &FlowModel::train_baseline(&data().nsl.0, &quick(FlowSchema::NslKdd, FlowTask::Binary)),
        &data().nsl.1,
    );
    assert!(base.accuracy > majority && m.accuracy > base.accuracy + 0.05);
    assert_eq!(model.meta().class_names, ["normal", "attack"]);
}

#[test]
fn unsw_binary_above_floor() {
    let (_, m) = binary_model(FlowSchema::Unsw);
    let majority = majority_accuracy(&data().unsw.1);
    assert!(
        m.accuracy >= 0.93,
        "accuracy {} (majority {majority})",
        m.accuracy
    );
    assert!(m.auc.unwrap() >= 0.98, "AUC {:?}", m.auc);
    assert!(m.accuracy > majority + 0.3);
}

#[test]
fn live_binary_above_floor_and_scores_records() {
    let (model, m) = binary_model(FlowSchema::Live);
    assert!(m.accuracy >= 0.88, "accuracy {}", m.accuracy);
    assert!(m.auc.unwrap() >= 0.95, "AUC {:?}", m.auc);
    // A live record scores exactly like the same flow read from a UNSW-NB15 row.
    let valid = &data().unsw.1;
    let (dur, sp) = (valid.column("dur").unwrap(), valid.column("spkts").unwrap());
    let num = |c: &haechi_ml::FlowColumn, r: usize| match c {
        haechi_ml::FlowColumn::Numeric(v) => v[r],
        _ => unreachable!(),
    };
    let cat = |name: &str, r: usize| match valid.column(name).unwrap() {
        haechi_ml::FlowColumn::Categorical(v) => v[r].clone(),
        _ => unreachable!(),
    };
    for r in [0, 100, 5_000] {
        let (proto, service, state) = (cat("proto", r), cat("service", r), cat("state", r));
        let n = |c: &str| num(valid.column(c).unwrap(), r) as u64;
        let rec = FlowRecord {
            duration_secs: Some(num(dur, r)),
            transport: Some(&proto),
            service: Some(&service),
            state: Some(&state),
            src_packets: Some(num(sp, r) as u64),
            dst_packets: Some(n("dpkts")),
            src_bytes: Some(n("sbytes")),
            dst_bytes: Some(n("dbytes")),
        };
        assert_eq!(model.score_record(&rec), Some(model.score_row(valid, r)));
    }
    // Live scoring does not allocate, even with missing fields and unseen values.
    let recs = [
        FlowRecord {
            duration_secs: Some(0.12),
            transport: Some("TCP"),
            service: Some(service_to_unsw("tls")),
            state: Some(zeek_conn_state_to_unsw("SF", "tcp")),
            src_packets: Some(12),
            dst_packets: Some(10),
            src_bytes: Some(1_500),
            dst_bytes: Some(9_000),
        },
        FlowRecord::default(),
        FlowRecord {
            transport: Some(
                "some-protocol-never-seen-in-training-with-a-long-name-xxxxxxxxxxxxxxx",
            ),
            state: Some("RST"),
            ..FlowRecord::default()
        },
    ];
    let before = allocs();
    let mut s = 0.0;
    for _ in 0..50 {
        for r in &recs {
            s += model.score_record(r).unwrap();
        }
    }
    assert_eq!(allocs() - before, 0, "score_record allocated");
    assert!(s.is_finite());
    let e = model.explain_record(&recs[0], 5).unwrap();
    assert!(!e.is_empty() && e.len() <= 5);
    assert!(
        e.iter()
            .all(|(n, _)| n == "bias" || haechi_ml::LIVE_FEATURES.contains(&n.as_str()))
    );
    // Not a live model: no record scoring.
    assert_eq!(
        binary_model(FlowSchema::Unsw).0.score_record(&recs[0]),
        None
    );
}

#[test]
fn unsw_category_above_floor() {
    let (train, valid) = &data().unsw;
    let model = FlowModel::train(train, &quick(FlowSchema::Unsw, FlowTask::Category));
    let m = evaluate_flows(&model, valid);
    assert_eq!(model.class_names().len(), 10);
    assert_eq!(model.class_names()[0], "Normal");
    assert!(m.accuracy >= 0.70, "accuracy {}", m.accuracy);
    assert!(m.macro_f1 >= 0.35, "macro-F1 {}", m.macro_f1);
    assert!(m.auc.unwrap() >= 0.97, "AUC {:?}", m.auc);
    let cm = m.confusion_matrix.as_ref().unwrap();
    assert_eq!(cm.iter().flatten().sum::<u64>(), valid.len() as u64);
    let mut p = [0.0f32; 10];
    let mut x = [0.0f32; 42];
    model.features(valid, 3, &mut x);
    model.predict_proba(&x, &mut p);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let top = model.explain(&x, 3);
    assert!(top.len() <= 3);
}

#[test]
fn training_is_deterministic_and_file_round_trips() {
    let (train, valid) = &data().nsl;
    let small = train.subset(&(0..4_000).collect::<Vec<_>>());
    let cfg = FlowTrainConfig {
        calibration_percent: 10,
        gbdt: GbdtConfig {
            rounds: 10,
            ..GbdtConfig::default()
        },
        ..FlowTrainConfig::new(FlowSchema::NslKdd, FlowTask::Binary)
    };
    let a = FlowModel::train(&small, &cfg);
    let b = FlowModel::train(&small, &cfg);
    assert!(a.trees_eq(&b));
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert!(a.meta().calibration_brier.is_some());
    let c = FlowModel::train(
        &small,
        &FlowTrainConfig {
            gbdt: GbdtConfig {
                seed: 7,
                ..cfg.gbdt
            },
            ..cfg
        },
    );
    assert!(!a.trees_eq(&c), "the seed drives row subsampling");

    let bytes = a.to_bytes();
    let back = FlowModel::from_bytes(&bytes).unwrap();
    assert_eq!(back, a);
    for r in 0..50 {
        assert_eq!(
            back.score_row(valid, r).to_bits(),
            a.score_row(valid, r).to_bits()
        );
    }
    let dir = std::env::temp_dir().join(format!("haechi-flows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("flows.model");
    a.save(&path).unwrap();
    assert_eq!(FlowModel::load(&path).unwrap(), a);
    std::fs::remove_dir_all(&dir).ok();
    // Corruption anywhere is refused.
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    assert!(matches!(
        FlowModel::from_bytes(&bad),
        Err(MlError::BadModel(_))
    ));
    assert!(FlowModel::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    // Other kinds are refused by name, both ways.
    let domain = DomainModel::train(
        &[haechi_ml::Sample {
            domain: "a.com".into(),
            is_dga: false,
        }],
        &haechi_ml::TrainConfig {
            features: haechi_ml::FeatureConfig {
                hash_bits: 10,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let err = FlowModel::from_bytes(&domain.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("\"domains\""), "{err}");
    assert!(DomainModel::from_bytes(&bytes).is_err());
}

#[test]
fn loaders_report_file_and_line() {
    let good = std::fs::read(NSL_KDD_TRAIN_20).unwrap();
    let mut text = good[..good.iter().position(|&c| c == b'\n').unwrap() + 1].to_vec();
    text.extend_from_slice(b"0,tcp,http,SF,1,2,3\n");
    let err = read_nsl_kdd(&text, "x.txt").unwrap_err().to_string();
    assert!(
        err.contains("x.txt:2:") && err.contains("43 fields"),
        "{err}"
    );
    let err = read_nsl_kdd(
        &good[..good.iter().position(|&c| c == b'\n').unwrap() + 1]
            .iter()
            .map(|&c| if c == b'4' { b'z' } else { c })
            .collect::<Vec<_>>(),
        "y.txt",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("y.txt:1:") && err.contains("not a number"),
        "{err}"
    );
    // LF-only works as CRLF does; test-only attack names map to categories.
    let lf = b"0,tcp,http,SF,1,2,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,1,0,0,1,1,1,0,0,0,0,0,0,0,apache2,18\n";
    let d = read_nsl_kdd(lf, "lf.txt").unwrap();
    assert_eq!((d.attack[0], d.category[0].as_str()), (true, "DoS"));
    for (name, cat) in [
        ("mscan", "Probe"),
        ("snmpguess", "R2L"),
        ("sqlattack", "U2R"),
        ("processtable", "DoS"),
        ("xterm", "U2R"),
    ] {
        assert_eq!(nsl_kdd_category(name), Some(cat));
    }
    let unknown = String::from_utf8(lf.to_vec())
        .unwrap()
        .replace("apache2", "newattack");
    let d = read_nsl_kdd(unknown.as_bytes(), "u.txt").unwrap();
    assert_eq!((d.attack[0], d.category[0].as_str()), (true, "unknown"));

    // UNSW: BOM, columns by name in any order, Backdoors → Backdoor, empty attack_cat → Normal.
    let src = std::fs::read_to_string(UNSW_PART_A_CSV).unwrap();
    let mut lines = src.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap(); // a Normal row
    let mut csv = format!("\u{feff}{header}\n");
    csv.push_str(&format!("{row}\n"));
    let attackrow = row.replace(",Normal,0", ", Backdoors ,1");
    csv.push_str(&format!("{attackrow}\n"));
    csv.push_str(&format!("{}\n", row.replace(",Normal,0", ",,0")));
    let d = read_unsw(csv.as_bytes(), "u.csv").unwrap();
    assert_eq!(d.category, ["Normal", "Backdoor", "Normal"]);
    assert_eq!(d.attack, [false, true, false]);
    let bad = format!("{header}\n{}\n", row.replacen(",udp,", ",udp,-,x,", 1));
    let err = read_unsw(bad.as_bytes(), "b.csv").unwrap_err().to_string();
    assert!(err.contains("b.csv:2:"), "{err}");
    let missing = header.replace("sbytes", "sbytez");
    assert!(matches!(
        read_unsw(format!("{missing}\n{row}\n").as_bytes(), "m.csv"),
        Err(MlError::MissingColumn("sbytes"))
    ));

    assert_eq!(
        detect_flow_format(header.as_bytes()),
        Some(FlowFormat::Unsw)
    );
    assert_eq!(
        detect_flow_format(format!("\u{feff}{header}\r\n").as_bytes()),
        Some(FlowFormat::Unsw)
    );
    assert_eq!(detect_flow_format(&lf[..]), Some(FlowFormat::NslKdd));
    assert_eq!(detect_flow_format(b"domain,label"), None);
}

#[test]
fn state_and_service_mappings() {
    assert_eq!(zeek_conn_state_to_unsw("SF", "tcp"), "FIN");
    assert_eq!(zeek_conn_state_to_unsw("S0", "tcp"), "REQ");
    assert_eq!(zeek_conn_state_to_unsw("S1", "tcp"), "CON");
    assert_eq!(zeek_conn_state_to_unsw("REJ", "tcp"), "RST");
    assert_eq!(zeek_conn_state_to_unsw("S0", "udp"), "INT");
    assert_eq!(zeek_conn_state_to_unsw("SF", "udp"), "CON");
    assert_eq!(zeek_conn_state_to_unsw("XYZ", "tcp"), "-");
    assert_eq!(suricata_state_to_unsw("closed", "TCP", true), "FIN");
    assert_eq!(suricata_state_to_unsw("new", "TCP", false), "REQ");
    assert_eq!(suricata_state_to_unsw("established", "UDP", false), "INT");
    assert_eq!(suricata_state_to_unsw("established", "UDP", true), "CON");
    assert_eq!(service_to_unsw("tls"), "ssl");
    assert_eq!(service_to_unsw("ssl,http"), "ssl");
    assert_eq!(service_to_unsw("FTP-DATA"), "ftp-data");
    assert_eq!(service_to_unsw("krb"), "-");
    assert_eq!(service_to_unsw(""), "-");
    // Derived live features follow the UNSW-NB15 definitions.
    let n = FlowRecord {
        duration_secs: Some(2.0),
        src_packets: Some(10),
        dst_packets: Some(8),
        src_bytes: Some(500),
        dst_bytes: Some(400),
        ..FlowRecord::default()
    }
    .numeric();
    assert_eq!(&n[5..], &[8.5, 2000.0, 1600.0, 50.0, 50.0]);
    let z = FlowRecord {
        duration_secs: Some(0.0),
        src_packets: Some(1),
        dst_packets: Some(0),
        src_bytes: Some(46),
        dst_bytes: Some(0),
        ..FlowRecord::default()
    }
    .numeric();
    assert_eq!(&z[5..], &[0.0, 0.0, 0.0, 46.0, 0.0]);
    assert!(FlowRecord::default().numeric().iter().all(|v| v.is_nan()));
}
