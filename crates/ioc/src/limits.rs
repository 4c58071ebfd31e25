//! Bounds on what a feed can make Haechi read and keep, so that a hostile or broken feed
//! fails with a specific error instead of exhausting memory.

use serde::Deserialize;

/// Size limits for loading feeds into one [`crate::IndicatorSetBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The largest feed file read (checked before reading, and again while reading in
    /// case the file grows).
    pub max_file_bytes: u64,
    /// The longest line (plain lists, CSV rows).
    pub max_line_bytes: usize,
    /// The most indicators one builder takes, over all its feeds (duplicates included).
    /// Ten million indicators take a few hundred MB once built; see the crate docs.
    pub max_indicators: usize,
    /// The most skipped entries a [`crate::LoadReport`] lists one by one; the rest are
    /// counted.
    pub max_skipped_details: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 512 * 1024 * 1024,
            max_line_bytes: 64 * 1024,
            max_indicators: 20_000_000,
            max_skipped_details: 10_000,
        }
    }
}
