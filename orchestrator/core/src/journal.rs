//! The run journal of the embedded mode: one JSON record per finished run in a local folder,
//! written atomically (temporary file, then rename), so a crash never leaves half a record.

use std::path::{Path, PathBuf};

pub use cb_audit::write_atomically;
use serde::{Deserialize, Serialize};

use crate::answer::Answer;

/// Where runs are kept: `$CBUTLER_HOME/runs`, else `~/.cbutler/runs`.
pub fn default_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CBUTLER_HOME") {
        return PathBuf::from(h);
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cbutler"),
        None => PathBuf::from(".cbutler"),
    }
}

/// A finished run as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub finished_unix_ms: u128,
    pub answer: Answer,
}

/// The local run journal.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn new(home: &Path) -> Self {
        Journal {
            dir: home.join("runs"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores a finished run.
    pub fn record(&self, answer: &Answer) -> std::io::Result<PathBuf> {
        let record = RunRecord {
            run_id: answer.run_id.clone(),
            finished_unix_ms: now_ms(),
            answer: answer.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&record).map_err(std::io::Error::other)?;
        let path = self.dir.join(format!("{}.json", answer.run_id));
        write_atomically(&path, &bytes)?;
        Ok(path)
    }

    /// The most recent stored run, if any (run ids start with their start time in ms).
    pub fn latest(&self) -> std::io::Result<Option<RunRecord>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut best: Option<(u128, String)> = None;
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().to_string();
            let Some(id) = name.strip_suffix(".json") else {
                continue;
            };
            let Some(ms) = id
                .strip_prefix("run-")
                .and_then(|r| r.split('-').next())
                .and_then(|t| t.parse().ok())
            else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _)| ms > *b) {
                best = Some((ms, id.to_string()));
            }
        }
        best.map(|(_, id)| self.load(&id)).transpose()
    }

    /// Reads a stored run.
    pub fn load(&self, run_id: &str) -> std::io::Result<RunRecord> {
        let bytes = std::fs::read(self.dir.join(format!("{run_id}.json")))?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }
}

pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// A new run id: time in milliseconds, the process id, a per-process counter and 32 random
/// bits, so that servers on different hosts sharing one Redis never collide.
pub fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "run-{}-{:x}-{n}-{:08x}",
        now_ms(),
        std::process::id(),
        rand::random::<u32>()
    )
}
