//! The decision log: for every run, an append-only list of entries — the question, each planning
//! attempt and LLM call, the plan, each task dispatched and its result, the answer — each carrying
//! the SHA-256 of the one before, so that editing, removing, reordering or inserting an entry
//! breaks the chain. After every append the chain's head (run, count, last hash) is signed with
//! the orchestrator's Ed25519 key, so a log that stops (a crash) is still verifiable up to where it
//! stopped, and cutting entries off its end breaks the signature.
//!
//! Hash of an entry: SHA-256 over the canonical JSON (object keys sorted, no whitespace) of the
//! entry without its `hash` field — `seq`, `run_id`, `at_unix_ms`, `kind`, `trace_id`, `body`,
//! `prev_hash`. The first entry's `prev_hash` is 64 zeros. The signed message is
//! `carbon-butler audit head\n<run_id>\n<count>\n<head hash>`.
//!
//! This crate owns the log's format, its cryptography, its verification and the local store; other
//! stores (Redis, in the cluster crate) implement [`AuditBackend`]. It depends on the protocol
//! only: it must never import the planner, the core, the cluster or the server, so that an
//! auditor's tool can verify a log with nothing else of Carbon Butler.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One decision-log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub run_id: String,
    pub at_unix_ms: u64,
    /// `question`, `llm_call`, `planning_attempt`, `plan`, `task_dispatched`, `task_result`,
    /// `error`, `answer`.
    pub kind: String,
    #[serde(default)]
    pub trace_id: Option<String>,
    pub body: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The signed head of a run's chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditHead {
    pub run_id: String,
    pub count: u64,
    pub head_hash: String,
    /// Hex Ed25519 public key of the signer.
    pub public_key: String,
    /// Hex Ed25519 signature of [`head_message`].
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit store at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the audit signing key {path} is not valid: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("no audit log for run {0}")]
    NotFound(String),
    #[error("entry {line} of the audit log is not valid JSON: {reason}")]
    Malformed { line: usize, reason: String },
    /// Another writer appended first (the log no longer ends where this writer's chain does) or
    /// holds the run's lease now (a newer fencing token): this writer must stop writing.
    #[error("the decision log of run {run_id} is written by another server now ({reason})")]
    Fenced { run_id: String, reason: String },
    /// A store behind [`AuditBackend`] failed (Redis unreachable, …).
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// Whether `id` can be a run id: 1–96 ASCII letters, digits, `-` or `_`, starting with a letter
/// or digit. Stores name files and keys after run ids, so anything else (a `/`, `..`, a `%2F`
/// decoded by a router) never reaches them.
pub fn is_run_id(id: &str) -> bool {
    (1..=96).contains(&id.len())
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Canonical JSON: object keys sorted, no whitespace, serde_json's number formatting.
pub fn canonical(value: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&map[*k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash an entry must carry.
pub fn entry_hash(e: &AuditEntry) -> String {
    let unsigned = serde_json::json!({
        "seq": e.seq, "run_id": e.run_id, "at_unix_ms": e.at_unix_ms, "kind": e.kind,
        "trace_id": e.trace_id, "body": e.body, "prev_hash": e.prev_hash,
    });
    sha256_hex(canonical(&unsigned).as_bytes())
}

pub fn head_message(run_id: &str, count: u64, head_hash: &str) -> String {
    format!("carbon-butler audit head\n{run_id}\n{count}\n{head_hash}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The orchestrator's signing key: the file `$CBUTLER_AUDIT_KEY_FILE` names (a Kubernetes
/// Secret shared by every server replica), else `$CBUTLER_HOME/keys/audit-ed25519.key` (0600),
/// created on first use. The file holds the Ed25519 seed as 64 hex digits, or a PKCS#8 PEM
/// private key (`openssl genpkey -algorithm ed25519`, Helm's `genPrivateKey "ed25519"`).
#[derive(Clone)]
pub struct AuditKey {
    key: SigningKey,
}

impl AuditKey {
    pub fn default_path(home: &Path) -> PathBuf {
        match std::env::var_os("CBUTLER_AUDIT_KEY_FILE").filter(|v| !v.is_empty()) {
            Some(file) => PathBuf::from(file),
            None => home.join("keys").join("audit-ed25519.key"),
        }
    }

    /// Loads the key, creating it if the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<AuditKey, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
                use ed25519_dalek::pkcs8::DecodePrivateKey;
                let key = SigningKey::from_pkcs8_pem(text.trim()).map_err(|e| AuditError::Key {
                    path: path.to_path_buf(),
                    reason: format!("not a PKCS#8 PEM Ed25519 private key: {e}"),
                })?;
                Ok(AuditKey { key })
            }
            Ok(text) => {
                let bytes = unhex(text.trim())
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| AuditError::Key {
                        path: path.to_path_buf(),
                        reason: "expected 64 hex digits (an Ed25519 seed) or a PKCS#8 PEM private key".into(),
                    })?;
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&bytes);
                Ok(AuditKey {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let seed: [u8; 32] = rand::random();
                let key = SigningKey::from_bytes(&seed);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                // The key is written whole to a private file first and then linked into
                // place: a link never replaces an existing file, so when several servers start
                // at once on a fresh home, one key wins and no server reads a half-written one.
                let dir = path.parent().unwrap_or(Path::new("."));
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let tmp = dir.join(format!(".{name}.{:016x}.new", rand::random::<u64>()));
                let written = (|| {
                    let mut options = std::fs::OpenOptions::new();
                    options.write(true).create(true).truncate(true);
                    #[cfg(unix)]
                    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                    let mut f = options.open(&tmp)?;
                    f.write_all(hex(&seed).as_bytes())?;
                    f.sync_all()?;
                    std::fs::hard_link(&tmp, path)
                })();
                let _ = std::fs::remove_file(&tmp);
                match written {
                    Ok(()) => Ok(AuditKey { key }),
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(path),
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn public_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    pub fn sign_head(&self, run_id: &str, count: u64, head_hash: &str) -> AuditHead {
        let signature = self.key.sign(head_message(run_id, count, head_hash).as_bytes());
        AuditHead {
            run_id: run_id.to_string(),
            count,
            head_hash: head_hash.to_string(),
            public_key: self.public_hex(),
            signature: hex(&signature.to_bytes()),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that
/// readers see the old file or the whole new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Builds the next entry of a chain.
pub fn next_entry(
    run_id: &str,
    previous: Option<&AuditEntry>,
    kind: &str,
    body: Value,
    trace_id: Option<String>,
) -> AuditEntry {
    let mut e = AuditEntry {
        seq: previous.map(|p| p.seq + 1).unwrap_or(0),
        run_id: run_id.to_string(),
        at_unix_ms: unix_ms(),
        kind: kind.to_string(),
        trace_id,
        body,
        prev_hash: previous
            .map(|p| p.hash.clone())
            .unwrap_or_else(|| GENESIS.to_string()),
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    e
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub run_id: String,
    pub entries: u64,
    pub intact: bool,
    /// The first problem, naming the entry.
    pub problem: Option<String>,
    /// The public key that signed the head.
    pub signed_by: Option<String>,
    /// Whether the log ends with the run's answer (or failure); if not, where it stopped.
    pub complete: bool,
    pub last_kind: Option<String>,
}

/// Checks a chain and its signed head. `trusted` is the public key (hex) the head must be signed
/// with; without it, the key recorded in the head is used (checks integrity, not origin).
pub fn verify(
    run_id: &str,
    entries: &[AuditEntry],
    head: Option<&AuditHead>,
    trusted: Option<&str>,
) -> Verification {
    let mut v = Verification {
        run_id: run_id.to_string(),
        entries: entries.len() as u64,
        intact: false,
        problem: None,
        signed_by: head.map(|h| h.public_key.clone()),
        complete: entries
            .last()
            .is_some_and(|e| FINAL_KINDS.contains(&e.kind.as_str())),
        last_kind: entries.last().map(|e| e.kind.clone()),
    };
    let fail = |mut v: Verification, problem: String| {
        v.problem = Some(problem);
        v
    };
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != i as u64 {
            return fail(
                v,
                format!(
                    "entry {i} carries sequence number {}: an entry was removed, inserted or moved there",
                    e.seq
                ),
            );
        }
        if e.run_id != run_id {
            return fail(v, format!("entry {i} belongs to run {}, not {run_id}", e.run_id));
        }
        if e.prev_hash != prev {
            return fail(
                v,
                format!(
                    "entry {i} ({}) does not follow entry {}: the chain is broken there",
                    e.kind,
                    i as i64 - 1
                ),
            );
        }
        if entry_hash(e) != e.hash {
            return fail(
                v,
                format!(
                    "entry {i} ({}) was altered: its content does not match its hash",
                    e.kind
                ),
            );
        }
        prev = e.hash.clone();
    }
    let Some(head) = head else {
        return fail(v, "the log has no signed head".into());
    };
    if let Some(t) = trusted
        && !t.trim().eq_ignore_ascii_case(&head.public_key)
    {
        return fail(
            v,
            format!(
                "the head is signed by {}, not by the trusted key {}",
                head.public_key,
                t.trim()
            ),
        );
    }
    if head.run_id != run_id || head.count != entries.len() as u64 || head.head_hash != prev {
        return fail(
            v,
            format!(
                "the signed head covers {} entries ending in {}, but the log has {} ending in {}: entries were added or cut off at the end",
                head.count,
                &head.head_hash[..head.head_hash.len().min(12)],
                entries.len(),
                &prev[..prev.len().min(12)]
            ),
        );
    }
    let key = unhex(&head.public_key)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok());
    let sig = unhex(&head.signature)
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b));
    match (key, sig) {
        (Some(key), Some(sig))
            if key
                .verify(head_message(run_id, head.count, &head.head_hash).as_bytes(), &sig)
                .is_ok() =>
        {
            v.intact = true;
            v
        }
        _ => fail(
            v,
            "the head's signature is not valid: the head was forged or altered".into(),
        ),
    }
}

/// The local audit store: `$CBUTLER_HOME/audit/<run>.jsonl` (one entry per line, appended) and
/// `<run>.head.json` (written atomically after each append).
#[derive(Debug, Clone)]
pub struct LocalAudit {
    dir: PathBuf,
}

impl LocalAudit {
    pub fn new(home: &Path) -> Self {
        LocalAudit {
            dir: home.join("audit"),
        }
    }

    fn log_path(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.jsonl"))
    }

    fn head_path(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.head.json"))
    }

    pub fn append(&self, entry: &AuditEntry, head: &AuditHead) -> Result<(), AuditError> {
        if !is_run_id(&entry.run_id) {
            return Err(AuditError::NotFound(entry.run_id.chars().take(100).collect()));
        }
        let path = self.log_path(&entry.run_id);
        let io = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        // Processes sharing a home (`serve` and `ask`, say) append one at a time: the position
        // check and the append happen under one exclusive lock, released when `lock` closes.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!(".{}.lock", entry.run_id)))
            .map_err(io)?;
        lock.lock().map_err(io)?;
        let held = match std::fs::read_to_string(&path) {
            Ok(t) => t.lines().filter(|l| !l.trim().is_empty()).count() as u64,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(e)),
        };
        if held != entry.seq {
            return Err(AuditError::Fenced {
                run_id: entry.run_id.clone(),
                reason: format!(
                    "the log holds {held} entries, this writer's next is entry {}",
                    entry.seq
                ),
            });
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let mut line = serde_json::to_string(entry).map_err(|e| io(std::io::Error::other(e)))?;
        line.push('\n');
        f.write_all(line.as_bytes()).map_err(io)?;
        f.sync_data().map_err(io)?;
        let head_bytes = serde_json::to_vec_pretty(head).map_err(|e| io(std::io::Error::other(e)))?;
        write_atomically(&self.head_path(&entry.run_id), &head_bytes).map_err(io)
    }

    pub fn load(&self, run_id: &str) -> Result<(Vec<AuditEntry>, Option<AuditHead>), AuditError> {
        if !is_run_id(run_id) {
            return Err(AuditError::NotFound(run_id.chars().take(100).collect()));
        }
        let path = self.log_path(run_id);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(AuditError::NotFound(run_id.into()));
            }
            Err(source) => return Err(AuditError::Io { path, source }),
        };
        let entries = parse_lines(&text)?;
        let head = std::fs::read(self.head_path(run_id))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Ok((entries, head))
    }

    /// Runs with a log, newest first (run ids start with their time).
    pub fn list(&self) -> Result<Vec<String>, AuditError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(AuditError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut runs: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_suffix(".jsonl")
                    .map(String::from)
            })
            .filter(|r| is_run_id(r))
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(run_time(r)));
        Ok(runs)
    }
}

fn run_time(run_id: &str) -> u128 {
    run_id
        .strip_prefix("run-")
        .and_then(|r| r.split('-').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// Parses JSON Lines entries, naming the first bad line.
pub fn parse_lines(text: &str) -> Result<Vec<AuditEntry>, AuditError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| AuditError::Malformed {
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// A self-contained export: the head on the first line, then every entry.
pub fn export(entries: &[AuditEntry], head: Option<&AuditHead>) -> String {
    let mut out = String::new();
    if let Some(h) = head {
        out.push_str(&serde_json::json!({"audit_head": h}).to_string());
        out.push('\n');
    }
    for e in entries {
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Reads an export back: its head (if any) and its entries.
pub fn import(text: &str) -> Result<(Vec<AuditEntry>, Option<AuditHead>), AuditError> {
    let mut head = None;
    let mut rest = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0
            && let Ok(v) = serde_json::from_str::<Value>(line)
            && let Some(h) = v.get("audit_head")
        {
            head = serde_json::from_value(h.clone()).ok();
            rest.push('\n');
            continue;
        }
        rest.push_str(line);
        rest.push('\n');
    }
    Ok((parse_lines(&rest)?, head))
}

/// A place decision logs are kept other than the local folder (the cluster's Redis store
/// implements it).
#[async_trait::async_trait]
pub trait AuditBackend: Send + Sync {
    /// Appends `entry` only if the log holds exactly `entry.seq` entries and, where `fence` is
    /// given, the run's lease still carries that fencing token; otherwise [`AuditError::Fenced`].
    async fn append(
        &self,
        entry: &AuditEntry,
        head: &AuditHead,
        fence: Option<u64>,
    ) -> Result<(), AuditError>;
    /// The run's entries and signed head; [`AuditError::NotFound`] when it has no log.
    async fn load(&self, run_id: &str) -> Result<(Vec<AuditEntry>, Option<AuditHead>), AuditError>;
    /// Runs with a log.
    async fn list(&self) -> Result<Vec<String>, AuditError>;
    /// How long a closed log is kept (`None`: for ever).
    fn retention(&self) -> Option<std::time::Duration> {
        None
    }
    /// The log's last entry (`None`: no log yet), without reading the rest where the store can.
    async fn last(&self, run_id: &str) -> Result<Option<AuditEntry>, AuditError> {
        match self.load(run_id).await {
            Ok((mut entries, _)) => Ok(entries.pop()),
            Err(AuditError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Where decision logs are kept: the local folder (embedded) or a shared backend (cluster).
#[derive(Clone)]
pub enum AuditStore {
    Local(LocalAudit),
    Shared(std::sync::Arc<dyn AuditBackend>),
}

impl AuditStore {
    /// Appends after the log's last entry (see [`AuditBackend::append`]); the local folder has one
    /// writer, the process that holds it, so it checks the position only.
    pub async fn append(
        &self,
        entry: &AuditEntry,
        head: &AuditHead,
        fence: Option<u64>,
    ) -> Result<(), AuditError> {
        match self {
            AuditStore::Local(l) => l.append(entry, head),
            AuditStore::Shared(b) => b.append(entry, head, fence).await,
        }
    }

    pub async fn load(&self, run_id: &str) -> Result<(Vec<AuditEntry>, Option<AuditHead>), AuditError> {
        match self {
            AuditStore::Local(l) => l.load(run_id),
            AuditStore::Shared(b) => b.load(run_id).await,
        }
    }

    /// The log's last entry (`None`: no log yet).
    pub async fn last(&self, run_id: &str) -> Result<Option<AuditEntry>, AuditError> {
        match self {
            AuditStore::Local(l) => match l.load(run_id) {
                Ok((mut entries, _)) => Ok(entries.pop()),
                Err(AuditError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            },
            AuditStore::Shared(b) => b.last(run_id).await,
        }
    }

    /// Runs with a log, newest first (the index of runs is not a run).
    pub async fn list(&self) -> Result<Vec<String>, AuditError> {
        let mut runs = match self {
            AuditStore::Local(l) => l.list(),
            AuditStore::Shared(b) => b.list().await,
        }?;
        runs.retain(|r| r != INDEX_LOG);
        Ok(runs)
    }
}

/// The log that indexes runs: a chained, signed log like a run's, in the same store, with a
/// `run_started` entry when a run's log begins and a `run_closed` entry (its entry count and
/// last hash) when it ends. Deleting a run's whole log, or cutting it back to an earlier signed
/// head, leaves the index naming what is gone ([`verify_index`]).
pub const INDEX_LOG: &str = "audit-index";

/// Appends to the index, re-reading its end when another writer appended first.
async fn index_append(store: &AuditStore, key: &AuditKey, kind: &str, body: Value) -> Result<(), AuditError> {
    let mut last_error = None;
    for _ in 0..16 {
        let last = store.last(INDEX_LOG).await?;
        let entry = next_entry(INDEX_LOG, last.as_ref(), kind, body.clone(), None);
        let head = key.sign_head(INDEX_LOG, entry.seq + 1, &entry.hash);
        match store.append(&entry, &head, None).await {
            Ok(()) => return Ok(()),
            Err(e @ AuditError::Fenced { .. }) => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or(AuditError::NotFound(INDEX_LOG.into())))
}

/// What [`verify_index`] found: the index's own verification and each problem with a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexVerification {
    pub index: Verification,
    /// Runs the index names.
    pub runs: usize,
    /// One line per run whose log is missing, shorter than the index recorded, not the log the
    /// index recorded, or not in the index at all.
    pub problems: Vec<String>,
}

impl IndexVerification {
    pub fn intact(&self) -> bool {
        self.index.intact && self.problems.is_empty()
    }
}

/// Checks the index of runs (its chain and signed head, with `trusted` as for [`verify`]) and,
/// against it, every run: each run it names still has a log, each closed run's log still holds
/// the entry count and last hash it closed with, and every log in the store is indexed.
pub async fn verify_index(
    store: &AuditStore,
    trusted: Option<&str>,
) -> Result<IndexVerification, AuditError> {
    let (entries, head) = store.load(INDEX_LOG).await?;
    let index = verify(INDEX_LOG, &entries, head.as_ref(), trusted);
    let mut problems = Vec::new();
    let mut named: Vec<String> = Vec::new();
    // Runs whose closed log has passed its retention: gone by design, not deleted.
    let now = unix_ms();
    let expired: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind == "run_closed")
        .filter(|e| e.body["expires_unix_ms"].as_u64().is_some_and(|t| t <= now))
        .filter_map(|e| e.body["run"].as_str())
        .collect();
    // What the index says of each run, in order: whether it started, and how it closed.
    let mut started: Vec<&str> = Vec::new();
    let mut closes: Vec<(&str, usize, &str)> = Vec::new();
    for e in &entries {
        let Some(run) = e.body["run"].as_str() else {
            continue;
        };
        if !named.iter().any(|n| n == run) {
            named.push(run.to_string());
        }
        match e.kind.as_str() {
            "run_started" => started.push(run),
            "run_closed" => closes.push((
                run,
                e.body["count"].as_u64().unwrap_or(0) as usize,
                e.body["head_hash"].as_str().unwrap_or(""),
            )),
            _ => {}
        }
    }
    // Each run's log is read once.
    for run in named.iter().map(String::as_str) {
        if expired.contains(&run) {
            continue;
        }
        let log = match store.load(run).await {
            Ok((log, _)) => log,
            Err(AuditError::NotFound(_)) => {
                if started.contains(&run) {
                    problems.push(format!(
                        "run {run}: the index names it, but its log is gone (deleted)"
                    ));
                }
                continue;
            }
            Err(err) => return Err(err),
        };
        for &(_, count, hash) in closes.iter().filter(|(r, _, _)| *r == run) {
            if log.len() < count {
                problems.push(format!(
                    "run {run}: closed with {count} entries, its log now has {} (cut back)",
                    log.len()
                ));
            } else if count > 0 && log[count - 1].hash != hash {
                problems.push(format!(
                    "run {run}: entry {} is not the one the run closed with (rewritten)",
                    count - 1
                ));
            }
        }
    }
    for run in store.list().await? {
        if !named.contains(&run) {
            problems.push(format!("run {run}: its log is not in the index"));
        }
    }
    Ok(IndexVerification {
        index,
        runs: named.len(),
        problems,
    })
}

/// A run's decision log being written: appends entries in order and re-signs the head after each.
pub struct RunAudit {
    store: AuditStore,
    key: AuditKey,
    run_id: String,
    /// The run's trace id, written into every entry.
    trace_id: Option<String>,
    /// The fencing token of this server's lease on the run, checked by the store on append.
    fence: Option<u64>,
    /// Whether the log's end is known (a store unreachable at open is asked again before the
    /// first append, so a resumed run never starts a second chain).
    loaded: bool,
    last: Option<AuditEntry>,
    /// Entries that could not be written, recorded as a `log_gap` entry by the next append
    /// that succeeds: the log never has a silent hole.
    missed: Vec<Value>,
    /// Another server writes this log now: this one writes nothing more.
    fenced: bool,
}

impl RunAudit {
    /// Opens a run's log, continuing after its last entry (a resumed run). `fence` is the
    /// token of this server's lease on the run, if the store fences.
    pub async fn open(
        store: AuditStore,
        key: AuditKey,
        run_id: &str,
        trace_id: Option<String>,
        fence: Option<u64>,
    ) -> RunAudit {
        let mut audit = RunAudit {
            store,
            key,
            run_id: run_id.to_string(),
            trace_id,
            fence,
            loaded: false,
            last: None,
            missed: Vec::new(),
            fenced: false,
        };
        let _ = audit.load_end().await;
        audit
    }

    /// Reads where the log ends; a log that does not exist yet starts at genesis.
    async fn load_end(&mut self) -> Result<(), AuditError> {
        self.last = self.store.last(&self.run_id).await?;
        self.loaded = true;
        Ok(())
    }

    /// Whether the log has no entry yet (known only once its end could be read).
    pub fn is_empty(&self) -> bool {
        self.loaded && self.last.is_none()
    }

    /// Whether another server has taken over this run's log.
    pub fn is_fenced(&self) -> bool {
        self.fenced
    }

    /// Appends an entry, preceded by a `log_gap` entry naming any entries that could not be
    /// written before. An entry that cannot be written now is kept for that gap entry and the
    /// error returned; once another server writes the log, nothing more is written.
    pub async fn record(&mut self, kind: &str, body: Value) -> Result<(), AuditError> {
        if self.fenced {
            return Err(AuditError::Fenced {
                run_id: self.run_id.clone(),
                reason: "fenced earlier".into(),
            });
        }
        let result = self.try_record(kind, body.clone()).await;
        if let Err(e) = &result {
            if matches!(e, AuditError::Fenced { .. }) {
                self.fenced = true;
            } else {
                self.missed.push(serde_json::json!({
                    "kind": kind, "error": e.to_string(), "at_unix_ms": unix_ms(),
                }));
            }
            eprintln!("warning: run {}: cannot write the decision log: {e}", self.run_id);
        }
        result
    }

    async fn try_record(&mut self, kind: &str, body: Value) -> Result<(), AuditError> {
        if !self.loaded {
            self.load_end().await?;
        }
        if !self.missed.is_empty() {
            let gap = serde_json::json!({ "missed": self.missed });
            self.append(LOG_GAP, gap).await?;
            self.missed.clear();
        }
        self.append(kind, body).await
    }

    async fn append(&mut self, kind: &str, body: Value) -> Result<(), AuditError> {
        let entry = next_entry(
            &self.run_id,
            self.last.as_ref(),
            kind,
            body,
            self.trace_id.clone(),
        );
        let head = self.key.sign_head(&self.run_id, entry.seq + 1, &entry.hash);
        self.store.append(&entry, &head, self.fence).await?;
        // The index learns when a log begins and how it ended. Its failure leaves the run's log
        // whole; `verify_index` then reports the run as not indexed.
        let note = if entry.seq == 0 {
            Some(("run_started", serde_json::json!({"run": self.run_id})))
        } else if FINAL_KINDS.contains(&kind) {
            let mut body =
                serde_json::json!({"run": self.run_id, "count": entry.seq + 1, "head_hash": entry.hash});
            if let AuditStore::Shared(b) = &self.store
                && let Some(keep) = b.retention()
            {
                body["expires_unix_ms"] = (entry.at_unix_ms.saturating_add(keep.as_millis() as u64)).into();
            }
            Some(("run_closed", body))
        } else {
            None
        };
        if let Some((index_kind, body)) = note
            && let Err(e) = index_append(&self.store, &self.key, index_kind, body).await
        {
            eprintln!(
                "warning: run {}: cannot write the index of runs: {e}",
                self.run_id
            );
        }
        self.last = Some(entry);
        Ok(())
    }
}

/// The kinds of entry that end a run's log.
pub const FINAL_KINDS: [&str; 2] = ["answer", "run_failed"];

/// The kind of the entry that records entries a run could not write when they happened.
pub const LOG_GAP: &str = "log_gap";

/// The body of a `task_result` entry: status, who answered on which attempt, every number with
/// its unit, the datasets and versions, and a digest of the Quantities.
pub fn result_body(result: &cb_protocol::TaskResult, worker: Option<&str>, attempt: Option<u32>) -> Value {
    use cb_protocol::TaskOutcome;
    let mut body = serde_json::json!({
        "task": result.task_id.0, "agent": result.agent, "worker": worker, "attempt": attempt,
    });
    match &result.outcome {
        TaskOutcome::Failed(e) => {
            body["status"] = "failed".into();
            body["error"] = e.message.clone().into();
        }
        TaskOutcome::Completed(out) => {
            let quantities = serde_json::to_value(&out.quantities).unwrap_or_default();
            let numbers: Vec<Value> = out
                .quantities
                .iter()
                .map(|q| serde_json::json!({"measure": q.measure, "label": q.label, "value": q.quantity.value, "unit": q.quantity.unit}))
                .collect();
            let mut datasets: Vec<(String, String)> = out
                .quantities
                .iter()
                .map(|q| {
                    (
                        q.quantity.provenance.dataset.clone(),
                        q.quantity.provenance.version.clone(),
                    )
                })
                .collect();
            datasets.sort();
            datasets.dedup();
            body["status"] = "completed".into();
            body["quantities_sha256"] = sha256_hex(canonical(&quantities).as_bytes()).into();
            body["numbers"] = numbers.into();
            body["datasets"] = datasets
                .into_iter()
                .map(|(d, v)| serde_json::json!({"dataset": d, "version": v}))
                .collect::<Vec<_>>()
                .into();
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(key: &AuditKey) -> (Vec<AuditEntry>, AuditHead) {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for (kind, body) in [
            ("question", json!({"question": "q"})),
            ("plan", json!({"tasks": 1})),
            ("task_result", json!({"value": 1.5})),
            ("answer", json!({"text": "a"})),
        ] {
            let e = next_entry("run-1", entries.last(), kind, body, None);
            entries.push(e);
        }
        let head = key.sign_head("run-1", entries.len() as u64, &entries.last().unwrap().hash);
        (entries, head)
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "é"}], "c": null}})),
            r#"{"a":{"c":null,"d":[1,{"y":"é","z":0}]},"b":1}"#
        );
    }

    #[test]
    fn every_kind_of_tampering_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        let (entries, head) = chain(&key);
        assert!(verify("run-1", &entries, Some(&head), Some(&key.public_hex())).intact);

        let mut altered = entries.clone();
        altered[2].body = json!({"value": 2.5});
        assert!(
            verify("run-1", &altered, Some(&head), None)
                .problem
                .unwrap()
                .contains("entry 2 (task_result) was altered")
        );

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert!(
            verify("run-1", &reordered, Some(&head), None)
                .problem
                .unwrap()
                .contains("entry 1")
        );

        let mut removed = entries.clone();
        removed.remove(1);
        assert!(
            verify("run-1", &removed, Some(&head), None)
                .problem
                .unwrap()
                .contains("entry 1")
        );

        let mut inserted = entries.clone();
        let extra = next_entry("run-1", Some(&entries[0]), "plan", json!({}), None);
        inserted.insert(1, extra);
        assert!(
            verify("run-1", &inserted, Some(&head), None)
                .problem
                .unwrap()
                .contains("entry 2")
        );

        let cut = &entries[..3];
        assert!(
            verify("run-1", cut, Some(&head), None)
                .problem
                .unwrap()
                .contains("cut off at the end")
        );

        // A head re-signed by another key, or with a forged signature.
        let other = AuditKey::load_or_create(&dir.path().join("other")).unwrap();
        let forged = other.sign_head("run-1", 4, &entries[3].hash);
        assert!(
            verify("run-1", &entries, Some(&forged), Some(&key.public_hex()))
                .problem
                .unwrap()
                .contains("not by the trusted key")
        );
        let mut bad_sig = head.clone();
        bad_sig.count = 3;
        assert!(!verify("run-1", &entries, Some(&bad_sig), None).intact);
        let mut swapped_key = forged.clone();
        swapped_key.public_key = key.public_hex();
        assert!(
            verify("run-1", &entries, Some(&swapped_key), None)
                .problem
                .unwrap()
                .contains("signature is not valid")
        );

        // A key file survives a reload.
        let again = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(again.public_hex(), key.public_hex());
    }

    #[test]
    fn a_pkcs8_pem_key_loads() {
        // RFC 8410 §10.3's example private key; its public key is §10.1's.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let key = AuditKey::load_or_create(&path).unwrap();
        assert_eq!(
            key.public_hex(),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = AuditKey::load_or_create(&path).err().unwrap().to_string();
        assert!(e.contains("not a PKCS#8 PEM Ed25519 private key"), "{e}");
    }

    #[test]
    fn servers_starting_together_on_a_fresh_home_share_one_whole_key() {
        // CI once saw a server read the key file another had created but not yet written.
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("keys").join("audit.key");
            let keys: Vec<String> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| AuditKey::load_or_create(&path).map(|k| k.public_hex())))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
            let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
            assert_eq!(left.len(), 1, "temporary files left behind");
        }
    }

    #[test]
    fn an_export_verifies_offline() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        let (entries, head) = chain(&key);
        let (back, back_head) = import(&export(&entries, Some(&head))).unwrap();
        assert_eq!(back, entries);
        assert!(verify("run-1", &back, back_head.as_ref(), Some(&key.public_hex())).intact);
    }

    /// A store that refuses the appends whose numbers are listed (counting from 0).
    struct Flaky {
        inner: LocalAudit,
        fail: Vec<usize>,
        calls: std::sync::Mutex<usize>,
    }

    #[async_trait::async_trait]
    impl AuditBackend for Flaky {
        async fn append(
            &self,
            entry: &AuditEntry,
            head: &AuditHead,
            _: Option<u64>,
        ) -> Result<(), AuditError> {
            let n = {
                let mut c = self.calls.lock().unwrap();
                *c += 1;
                *c - 1
            };
            if self.fail.contains(&n) {
                return Err(AuditError::Backend("the store is unreachable".into()));
            }
            self.inner.append(entry, head)
        }
        async fn load(&self, run_id: &str) -> Result<(Vec<AuditEntry>, Option<AuditHead>), AuditError> {
            self.inner.load(run_id)
        }
        async fn list(&self) -> Result<Vec<String>, AuditError> {
            self.inner.list()
        }
    }

    #[tokio::test]
    async fn an_entry_that_could_not_be_written_leaves_a_recorded_gap_not_a_hole() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        let flaky = Flaky {
            inner: LocalAudit::new(dir.path()),
            fail: vec![2], // 0 question, 1 the index's run_started, 2 plan
            calls: Default::default(),
        };
        let store = AuditStore::Shared(std::sync::Arc::new(flaky));
        let mut audit = RunAudit::open(store.clone(), key.clone(), "run-1", None, None).await;
        assert!(audit.is_empty());
        audit.record("question", json!({"question": "q"})).await.unwrap();
        let lost = audit.record("plan", json!({"tasks": 1})).await;
        assert!(lost.is_err());
        audit.record("answer", json!({"text": "a"})).await.unwrap();
        let (entries, head) = store.load("run-1").await.unwrap();
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["question", LOG_GAP, "answer"]);
        assert_eq!(entries[1].body["missed"][0]["kind"], "plan");
        assert!(
            entries[1].body["missed"][0]["error"]
                .as_str()
                .unwrap()
                .contains("unreachable")
        );
        let v = verify("run-1", &entries, head.as_ref(), Some(&key.public_hex()));
        assert!(v.intact && v.complete, "{v:?}");
    }

    #[tokio::test]
    async fn a_resumed_run_continues_its_chain_and_a_stale_writer_is_fenced() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        let store = AuditStore::Local(LocalAudit::new(dir.path()));
        let mut first = RunAudit::open(store.clone(), key.clone(), "run-2", None, None).await;
        first.record("question", json!({"question": "q"})).await.unwrap();
        // Another server resumes the run: it continues after entry 0, not from a new genesis.
        let mut resumed = RunAudit::open(store.clone(), key.clone(), "run-2", None, None).await;
        assert!(!resumed.is_empty());
        resumed.record("plan", json!({"tasks": 1})).await.unwrap();
        // The first server, unaware, tries to write its own entry 1: refused, and it stops.
        let stale = first.record("plan", json!({"tasks": 2})).await.unwrap_err();
        assert!(matches!(stale, AuditError::Fenced { .. }), "{stale}");
        assert!(first.is_fenced());
        assert!(first.record("answer", json!({})).await.is_err());
        resumed.record("answer", json!({"text": "a"})).await.unwrap();
        let (entries, head) = store.load("run-2").await.unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries.iter().filter(|e| e.seq == 0).count(), 1, "one genesis");
        assert!(verify("run-2", &entries, head.as_ref(), Some(&key.public_hex())).intact);
    }
}
