//! What the vulnerability center's tests share.

use std::path::PathBuf;

/// A file or folder of the staged vulnerability data (`shared/data/vulns` beside the
/// project).
pub fn vulns(rel: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/vulns")
        .join(rel);
    assert!(
        path.exists(),
        "the shared vulnerability data {} is missing",
        path.display()
    );
    path
}
