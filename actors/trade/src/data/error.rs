//! Why a dataset could not be read: every loader's error, naming the file and the place.

/// Why a dataset could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{dataset}: required file {file} is missing")]
    Missing { dataset: String, file: String },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error("{file}, line {line}: {reason}")]
    Malformed {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{what} is not square: {rows} rows × {cols} columns")]
    NotSquare { what: String, rows: usize, cols: usize },
    #[error(
        "labels of {what} do not match {against}: first mismatch at position {position}: \
         expected {expected:?}, found {found:?}"
    )]
    LabelMismatch {
        what: String,
        against: String,
        position: usize,
        expected: String,
        found: String,
    },
    #[error("{0}")]
    Structure(String),
}

impl DataError {
    pub(crate) fn io(file: &str, e: std::io::Error) -> Self {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::UnexpectedEof => "file ends early (truncated?)".to_string(),
            _ => e.to_string(),
        };
        DataError::Io {
            file: file.to_string(),
            reason,
        }
    }
}
