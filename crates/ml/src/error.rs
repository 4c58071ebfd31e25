use std::path::PathBuf;

/// Errors of the ML crate: data loading and model files.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is too large: more than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("CSV header has no column named `{0}`")]
    MissingColumn(&'static str),
    #[error("CSV row {row}: {reason}")]
    BadRow { row: u64, reason: String },
    #[error("no samples in the input")]
    Empty,
    #[error("bad model file: {0}")]
    BadModel(String),
}
