/// Errors of the risk crate: configuration and training.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RiskError {
    #[error("bad risk configuration: {0}")]
    BadConfig(String),
    #[error("no training buckets (before the split, outside incidents)")]
    NoTrainingData,
    #[error("the training buckets have only one class ({positives} positive of {total})")]
    OneClass { positives: usize, total: usize },
    #[error("bad incident model: {0}")]
    BadModel(String),
}
