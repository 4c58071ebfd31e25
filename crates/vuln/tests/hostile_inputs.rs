//! Documents built to hurt the reader get a clear refusal, fast and in bounded memory:
//! a YAML alias bomb (a billion laughs in a pnpm or yarn lockfile), JSON nested far
//! deeper than any SBOM, an XML entity bomb in a CycloneDX XML or pom.xml, and overlong
//! version strings.

use haechi_vuln::inventory::read_text;
use haechi_vuln::{Ecosystem, version};

fn alias_bomb(head: &str) -> String {
    let mut lines = vec![
        head.to_owned(),
        "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]".to_owned(),
    ];
    let mut prev = 'a';
    for i in 1..10u8 {
        let n = (b'a' + i) as char;
        lines.push(format!("{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"));
        prev = n;
    }
    lines.push(format!("packages: *{prev}"));
    lines.join("\n")
}

#[test]
fn a_yaml_alias_bomb_is_refused() {
    let err = read_text(
        "pnpm-lock.yaml",
        "bomb",
        &alias_bomb("lockfileVersion: 5.4"),
    )
    .unwrap_err();
    assert!(err.contains("repetition limit"), "{err}");
    let err = read_text(
        "yarn.lock",
        "bomb",
        &alias_bomb("__metadata:\n  version: 6"),
    )
    .unwrap_err();
    assert!(
        err.contains("repetition limit") || err.contains("invalid"),
        "{err}"
    );
}

#[test]
fn json_nested_beyond_any_sbom_is_refused() {
    let deep = format!(
        "{{\"bomFormat\": \"CycloneDX\", \"components\": {}1{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let err = read_text("bom.json", "deep", &deep).unwrap_err();
    assert!(err.contains("recursion limit"), "{err}");
}

#[test]
fn xml_entity_bombs_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component><name>&c;</name></component></components></bom>"#;
    let err = read_text("bom.xml", "bomb", bomb).unwrap_err();
    assert!(err.to_ascii_lowercase().contains("dtd"), "{err}");
    let pom = bomb
        .replace(
            "bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\"",
            "project",
        )
        .replace("</bom>", "</project>");
    assert!(read_text("pom.xml", "bomb", &pom).is_err());
}

#[test]
fn overlong_versions_are_refused_by_every_ecosystem() {
    let long = "1.".repeat(200) + "0";
    for eco in Ecosystem::ALL {
        let err = version::parse(eco, &long).unwrap_err();
        assert!(err.reason.contains("longer than"), "{eco}: {err}");
    }
}
