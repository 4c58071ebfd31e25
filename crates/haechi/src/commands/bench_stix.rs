//! `haechi bench --stages stix`: the STIX object store at the sizes the sharing hub
//! meets — 50,000 indicators imported from one bundle (validation and storage, objects/s),
//! the same bundle again (every object a duplicate), then pages of 1,000 objects as the
//! TAXII server will read them (first page, a page deep into the collection by `next`,
//! `added_after`). Median of 20 for the pages. Then the same collection into the
//! indicator matcher (what the sharing hub's watcher does on every change), and pages of
//! 1,000 over HTTP from the real TAXII server on 127.0.0.1 — as the center (bearer token)
//! and as a partner (HTTP basic; TLP filtered in the query), a new connection each.

use super::bench::BenchArgs;
use super::bench_state::median_ms;
use haechi_intel::Limits;
use haechi_intel::store::{Filter, IntelStore, Versions};
use std::sync::Arc;
use std::time::Instant;

const OBJECTS: usize = 50_000;

fn bundle() -> Vec<u8> {
    let objects: Vec<serde_json::Value> = (0..OBJECTS)
        .map(|i| {
            serde_json::json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i),
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "name": format!("bench indicator {i}"),
                "pattern": format!("[ipv4-addr:value = '10.{}.{}.{}']", (i >> 16) & 255, (i >> 8) & 255, i & 255),
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
                "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects,
    }))
    .unwrap_or_default()
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(
        IntelStore::open(&dir.path().join("intel.db")).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let c = store
        .add_collection("bench", "Bench", "")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = bundle();
    let limits = Limits {
        max_bytes: bytes.len() + 1,
        max_objects: OBJECTS,
    };
    let report = |what: &str, value: f64, unit: &str, note: String| {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"bench": "stix", "what": what, "value": value, "unit": unit, "note": note})
            );
        } else {
            println!("stix {what:<44} {value:>10.2} {unit:<10} {note}");
        }
    };
    for (what, expect_new) in [
        ("import (validate and store)", true),
        ("import again (all duplicates)", false),
    ] {
        let started = Instant::now();
        let r = store
            .add_bundle("bench", &bytes, limits, "bench")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let secs = started.elapsed().as_secs_f64();
        let n = if expect_new { r.stored } else { r.duplicates };
        report(
            what,
            n as f64 / secs,
            "objects/s",
            format!(
                "{n} objects, {} refused, {} MB bundle",
                r.rejected.len(),
                bytes.len() >> 20
            ),
        );
    }
    let page = |f: Filter| {
        store
            .objects(&c.id, &f)
            .map(|p| p.objects.len())
            .unwrap_or(0)
    };
    let deep = store
        .objects(
            &c.id,
            &Filter {
                limit: 40_000,
                versions: Versions::All,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .next;
    let middle_added = store
        .objects(
            &c.id,
            &Filter {
                limit: 25_000,
                versions: Versions::All,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .objects
        .last()
        .map(|o| o.date_added);
    let cases: Vec<(&str, Filter)> = vec![
        (
            "page of 1,000 (newest versions)",
            Filter {
                limit: 1000,
                ..Default::default()
            },
        ),
        (
            "page of 1,000 after 40,000 (next)",
            Filter {
                limit: 1000,
                next: deep.clone(),
                ..Default::default()
            },
        ),
        (
            "page of 1,000 added_after the 25,000th",
            Filter {
                limit: 1000,
                added_after: middle_added,
                ..Default::default()
            },
        ),
    ];
    for (what, f) in cases {
        let (ms, n) = median_ms(|| page(f.clone()));
        report(what, ms, "ms median", format!("{n} objects"));
    }
    let started = Instant::now();
    let (set, _) = crate::hub::hub_indicators(&store, None, None, haechi_ioc::Limits::default())?;
    let secs = started.elapsed().as_secs_f64();
    report(
        "into the matcher (store to indicator set)",
        OBJECTS as f64 / secs,
        "objects/s",
        format!("{} indicators in {:.2} s", set.len(), secs),
    );
    taxii_over_http(dir.path(), store, deep, &report)
}

/// Pages of 1,000 from the TAXII server on 127.0.0.1: (what, ms median, note).
fn taxii_over_http(
    dir: &std::path::Path,
    store: Arc<IntelStore>,
    deep: Option<String>,
    report: &dyn Fn(&str, f64, &str, String),
) -> anyhow::Result<()> {
    use haechi_access::{AccessStore, Role, UserSpec};
    let access = Arc::new(AccessStore::open(&dir.join("access.db"))?);
    let password = haechi_access::secret::random_password();
    access.add_user(
        &UserSpec {
            name: "bench-partner".into(),
            role: Role::Partner,
            tenant: None,
            password: password.clone(),
        },
        "bench",
    )?;
    store
        .set_partner(
            "bench-partner",
            haechi_intel::Tlp::Green,
            &["bench".into()],
            &[],
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let collection = store
        .collection("bench")
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .id;
    let token = haechi_access::secret::random_token("bench_");
    let events: Arc<dyn haechi_store::EventStore> = Arc::new(
        haechi_store::embedded::EmbeddedStore::open(&dir.join("events"), Default::default())?,
    );
    let state = haechi_server::AppState {
        submit: tokio::sync::mpsc::channel(1).0,
        fair: haechi_ingest::fair::FairShare::new(0),
        metrics: Arc::new(haechi_ingest::metrics::Metrics::new()),
        store: events,
        tokens: Arc::new(vec![haechi_server::ApiToken {
            token: token.clone(),
            tenant: None,
            name: Some("bench".into()),
            role: None,
        }]),
        access,
        session_ttl: std::time::Duration::from_secs(3600),
        secure_cookies: false,
        tenants: Arc::new(Vec::new()),
        max_body_bytes: 1 << 20,
        body_timeout: std::time::Duration::from_secs(120),
        max_lines: 1000,
        alerts: None,
        reload: None,
        responder: None,
        live: None,
        taxii: Some(haechi_server::taxii::Taxii::new(
            store,
            haechi_server::taxii::TaxiiConfig::default(),
        )),
        cluster: None,
        vuln: None,
        domains: None,
        sme: None,
        data_dir: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move {
        let _ = axum::serve(listener, haechi_server::router(state).into_make_service()).await;
    });
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("bench-partner:{password}"))
    };
    let objects_path = format!("/taxii2/hub/collections/{collection}/objects/");
    let cases = [
        (
            "TAXII page of 1,000 over HTTP (center)",
            format!("Bearer {token}"),
            objects_path.clone(),
        ),
        (
            "TAXII page of 1,000 over HTTP (partner)",
            format!("Basic {basic}"),
            objects_path.clone(),
        ),
        (
            "TAXII page of 1,000 after 40,000 over HTTP (partner)",
            format!("Basic {basic}"),
            format!("{objects_path}?next={}", deep.unwrap_or_default()),
        ),
    ];
    for (what, auth, path) in cases {
        let (ms, bytes) = median_ms(|| http_get(addr, &path, &auth).unwrap_or(0));
        report(what, ms, "ms median", format!("{} KB answer", bytes >> 10));
    }
    drop(runtime);
    Ok(())
}

/// One GET on a new connection; the answer's size (0 unless 200).
fn http_get(addr: std::net::SocketAddr, path: &str, auth: &str) -> std::io::Result<usize> {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(addr)?;
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {auth}\r\nAccept: application/taxii+json;version=2.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer)?;
    Ok(if answer.starts_with(b"HTTP/1.1 200") {
        answer.len()
    } else {
        0
    })
}
