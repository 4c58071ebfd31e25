//! The DFIQ catalog of `../shared/data/attack/dfiq` read whole, and the questions a
//! scheduled-task incident raises.

use haechi_forensics::dfiq::Catalog;
use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn the_catalog_reads_and_a_scheduled_task_incident_gets_its_questions() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/attack/dfiq/data");
    let c =
        Catalog::load(&dir).unwrap_or_else(|e| panic!("the shared DFIQ catalog is required: {e}"));
    // SOURCE.md: 6 scenarios, 30 facets, 90 questions.
    assert_eq!(
        (c.scenarios.len(), c.facets.len(), c.questions.len()),
        (6, 30, 90)
    );
    let techniques: BTreeSet<String> = ["T1053.005".to_owned()].into();
    let asked = c.questions_for(&techniques);
    let ids: Vec<&str> = asked.iter().map(|a| a.question.id.as_str()).collect();
    assert!(
        ids.contains(&"Q1061"),
        "the Windows scheduled-task question: {ids:?}"
    );
    assert!(
        !ids.contains(&"Q1060"),
        "at jobs on macOS/Linux are another sub-technique: {ids:?}"
    );
    let q = asked.iter().find(|a| a.question.id == "Q1061").unwrap();
    assert!(
        q.because.iter().any(|b| b.starts_with("T1053.005")),
        "{:?}",
        q.because
    );
    assert!(q.haechi_query.as_deref().unwrap().contains("4698"));
    // Nothing for an unrelated technique.
    assert!(c.questions_for(&["T1190".to_owned()].into()).is_empty());
}
