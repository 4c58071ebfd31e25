//! The ranking on the real ATT&CK Enterprise bundle of `../shared/data/attack`: the groups
//! and their evidence are read as ATT&CK publishes them, a group's own signature ranks it
//! first with the evidence named, and on pseudo-incidents the ranking beats counting
//! exact overlaps.

use haechi_attribution::eval::{Mode, evaluate};
use haechi_attribution::{Attack, Evidence, rank};
use std::path::PathBuf;

fn attack() -> Attack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/attack/enterprise-attack-18.1-dev.json");
    Attack::load(&path).unwrap_or_else(|e| panic!("the shared ATT&CK bundle is required: {e}"))
}

#[test]
fn groups_techniques_and_software_are_read_as_published() {
    let a = attack();
    // SOURCE.md: 172 live groups, 168 with a technique.
    assert_eq!(a.groups.len(), 172);
    assert_eq!(
        a.groups.iter().filter(|g| !g.techniques.is_empty()).count(),
        168
    );
    let lazarus = a.groups.iter().find(|g| g.id == "G0032").unwrap();
    assert_eq!(lazarus.name, "Lazarus Group");
    assert!(lazarus.aliases.contains(&"HIDDEN COBRA".to_owned()));
    let kimsuky = a.groups.iter().find(|g| g.name == "Kimsuky").unwrap();
    assert_eq!(kimsuky.techniques.len(), 109, "the figure SOURCE.md gives");
    assert_eq!(a.names["T1059.001"], "PowerShell");
    assert!(
        a.software_techniques["S0154"].contains("T1059.001"),
        "Cobalt Strike runs PowerShell"
    );
}

#[test]
fn a_groups_own_signature_ranks_it_first_with_the_evidence() {
    let a = attack();
    let kimsuky = a
        .groups
        .iter()
        .find(|g| g.name == "Kimsuky")
        .unwrap()
        .clone();
    let evidence = Evidence {
        techniques: kimsuky.techniques.iter().take(12).cloned().collect(),
        software: kimsuky.software.iter().take(3).cloned().collect(),
    };
    let ranked = rank(&a, &evidence);
    assert_eq!(ranked[0].id, kimsuky.id, "{:?}", &ranked[..3]);
    assert_eq!(ranked[0].matched_software.len(), 3);
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    // Unknown evidence matches nothing rather than everything.
    let none = rank(
        &a,
        &Evidence {
            techniques: vec!["T9999".into()],
            software: vec![],
        },
    );
    assert!(none.is_empty());
}

#[test]
fn the_ranking_beats_exact_overlap_on_pseudo_incidents() {
    let a = attack();
    for mode in [Mode::Observed, Mode::HalfUnreported] {
        let f = evaluate(&a, mode, 0.3, 3, 2, 7);
        assert!(f.incidents > 200, "{f:?}");
        assert!(
            f.ranking.mrr > f.baseline.mrr,
            "{mode:?}: ranking {:?} baseline {:?}",
            f.ranking,
            f.baseline
        );
    }
}
