//! SBOMs and lockfiles (`haechi sbom add`, `vuln scan`, the SME portal's uploads): the
//! first byte picks the file name, which picks the reader; the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 16] = [
    "bom.json",
    "bom.xml",
    "sbom.spdx.json",
    "sbom.spdx",
    "Cargo.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "composer.lock",
    "go.sum",
    "go.mod",
    "requirements.txt",
    "poetry.lock",
    "Pipfile.lock",
    "Gemfile.lock",
    "pom.xml",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[*first as usize % NAMES.len()];
    let text = String::from_utf8_lossy(rest);
    let _ = haechi_vuln::inventory::read_text(name, name, &text);
});
