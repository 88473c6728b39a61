//! The run journal in Redis: a run's state as one JSON document, its events as a stream, the set
//! of unfinished runs a restarted server resumes, and a lease so that only one server drives a run.

use std::time::Duration;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use redis::streams::StreamRangeReply;
use tokio::sync::Notify;

use cb_audit::{AuditBackend, AuditEntry, AuditError, AuditHead, parse_lines};
use cb_core::operations::WorkerRegistry;
use cb_core::runs::{EventKind, RunBackend, RunEvent, RunState, RunSummary, StoreError, now_ms, summary};

use crate::{ClusterError, Keys, connect_retrying};

/// How long finished runs and closed decision logs stay in Redis (`None`: for ever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// A finished run's state and events.
    pub runs: Option<Duration>,
    /// A closed decision log (its entries and head). The index of runs records when it expires,
    /// so `audit verify-index` tells an expired log from a deleted one.
    pub audit: Option<Duration>,
}

/// Workers the status route lists at most.
pub const MAX_LISTED_WORKERS: usize = 1000;

/// Takes a lease if free or already ours, and returns its fencing token (0: held by another).
/// The token grows only when the run changes hands: an owner re-taking its own lapsed lease,
/// with nobody in between, keeps it. KEYS: lease, fence, fence owner. ARGV: owner, ttl (ms).
const LEASE: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder ~= false and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local fence = redis.call('GET', KEYS[2])
if fence == false or redis.call('GET', KEYS[3]) ~= ARGV[1] then
  fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[3], ARGV[1])
end
return tonumber(fence)
";

/// Appends one decision-log entry where the writer's chain ends, under its fencing token; the
/// entry that closes a log starts its retention. KEYS: log, head, audits index, fence. ARGV:
/// entry, head, seq, time (ms), run id, token or '', seconds to keep a closed log or ''.
const AUDIT_APPEND: &str = r"
if ARGV[6] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[6] then return 'fenced' end
local held = redis.call('LLEN', KEYS[1])
if held ~= tonumber(ARGV[3]) then return 'at ' .. held end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
if ARGV[7] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  redis.call('EXPIRE', KEYS[2], ARGV[7])
end
return 'ok'
";

/// How often a reader waiting for events of a run driven by another server looks again.
const EVENT_POLL: Duration = Duration::from_millis(500);

/// Per run, a wake-up for readers waiting on its events in this process.
type Appended = Arc<Mutex<HashMap<String, Arc<Notify>>>>;

#[derive(Clone)]
pub struct RedisStore {
    keys: Keys,
    retention: Retention,
    con: ConnectionManager,
    lease: redis::Script,
    audit_append: redis::Script,
    /// Wakes readers when this process adds an event; events from other servers are found by
    /// polling every [`EVENT_POLL`]. (A blocking XREAD per reader would hold up every other
    /// command on the shared connection.)
    appended: Appended,
}

fn corrupt(what: String, source: serde_json::Error) -> ClusterError {
    ClusterError::Corrupt { what, source }
}

fn event_from(id: String, map: &std::collections::HashMap<String, redis::Value>) -> Option<RunEvent> {
    let Some(redis::Value::BulkString(raw)) = map.get("e") else {
        return None;
    };
    let stored: RunEvent = serde_json::from_slice(raw).ok()?;
    Some(RunEvent { id, ..stored })
}

/// The Redis commands behind the trait implementations below (the traits are the public API).
impl RedisStore {
    pub async fn connect(url: &str, keys: Keys) -> Result<RedisStore, ClusterError> {
        let con = connect_retrying(url, Duration::from_secs(5), Some(Duration::from_secs(30))).await?;
        Ok(RedisStore {
            keys,
            con,
            retention: Retention::default(),
            lease: redis::Script::new(LEASE),
            audit_append: redis::Script::new(AUDIT_APPEND),
            appended: Arc::default(),
        })
    }

    /// The same store, expiring what is finished after `retention`.
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    async fn ping(&self) -> bool {
        let mut con = self.con.clone();
        redis::cmd("PING").query_async::<String>(&mut con).await.is_ok()
    }

    /// Workers that announced themselves in the last 15 s, with what they serve: at most
    /// [`MAX_LISTED_WORKERS`], read by score from the workers' sorted set (older names are
    /// pruned from it), never by scanning keys.
    async fn workers(&self) -> Result<Vec<serde_json::Value>, ClusterError> {
        let mut con = self.con.clone();
        let since = crate::now_ms().saturating_sub(15_000);
        let set = self.keys.workers();
        let (_, names): ((), Vec<String>) = redis::pipe()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&set)
            .arg("-inf")
            .arg(format!("({since}"))
            .cmd("ZREVRANGEBYSCORE")
            .arg(&set)
            .arg("+inf")
            .arg(since)
            .arg("LIMIT")
            .arg(0)
            .arg(MAX_LISTED_WORKERS)
            .query_async(&mut con)
            .await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.keys.worker(n)).collect();
        let raw: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut con).await?;
        Ok(raw
            .into_iter()
            .flatten()
            .filter_map(|r| serde_json::from_str(&r).ok())
            .collect())
    }

    async fn save(&self, state: &RunState) -> Result<(), ClusterError> {
        let json = serde_json::to_string(state).map_err(|e| corrupt(format!("run {}", state.run_id), e))?;
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(self.keys.run(&state.run_id))
            .arg(json)
            .ignore()
            .cmd("ZADD")
            .arg(self.keys.runs())
            .arg(state.created_unix_ms)
            .arg(&state.run_id)
            .ignore();
        if state.status.is_final() {
            pipe.cmd("SREM")
                .arg(self.keys.active_runs())
                .arg(&state.run_id)
                .ignore();
            pipe.cmd("DEL").arg(self.keys.run_lease(&state.run_id)).ignore();
            if let Some(keep) = self.retention.runs {
                // A finished run and its events expire; the list drops what has expired as
                // it reads.
                let secs = keep.as_secs().max(1);
                pipe.cmd("EXPIRE")
                    .arg(self.keys.run(&state.run_id))
                    .arg(secs)
                    .ignore();
                pipe.cmd("EXPIRE")
                    .arg(self.keys.run_events(&state.run_id))
                    .arg(secs)
                    .ignore();
                for k in [
                    self.keys.run_fence(&state.run_id),
                    self.keys.run_fence_owner(&state.run_id),
                ] {
                    pipe.cmd("EXPIRE").arg(k).arg(secs).ignore();
                }
            }
        } else {
            pipe.cmd("SADD")
                .arg(self.keys.active_runs())
                .arg(&state.run_id)
                .ignore();
        }
        pipe.query_async::<()>(&mut con).await?;
        Ok(())
    }

    async fn get(&self, run_id: &str) -> Result<Option<RunState>, ClusterError> {
        let mut con = self.con.clone();
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.run(run_id))
            .query_async(&mut con)
            .await?;
        raw.map(|r| serde_json::from_str(&r).map_err(|e| corrupt(format!("run {run_id}"), e)))
            .transpose()
    }

    async fn list(&self, limit: usize) -> Result<Vec<RunSummary>, ClusterError> {
        let mut con = self.con.clone();
        let ids: Vec<String> = redis::cmd("ZREVRANGE")
            .arg(self.keys.runs())
            .arg(0)
            .arg(limit.saturating_sub(1))
            .query_async(&mut con)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One round trip for all of them.
        let keys: Vec<String> = ids.iter().map(|id| self.keys.run(id)).collect();
        let raws: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut con).await?;
        let mut out = Vec::new();
        let mut expired = Vec::new();
        for (id, raw) in ids.iter().zip(raws) {
            match raw {
                Some(raw) => {
                    let state: RunState =
                        serde_json::from_str(&raw).map_err(|e| corrupt(format!("run {id}"), e))?;
                    out.push(summary(&state));
                }
                None => expired.push(id),
            }
        }
        if !expired.is_empty() {
            // Runs past their retention leave the index too.
            redis::cmd("ZREM")
                .arg(self.keys.runs())
                .arg(&expired)
                .query_async::<()>(&mut con)
                .await?;
        }
        Ok(out)
    }

    async fn push_event(&self, run_id: &str, event: EventKind) -> Result<(), ClusterError> {
        let stored = RunEvent {
            id: String::new(),
            at_unix_ms: now_ms(),
            event,
        };
        let json = serde_json::to_string(&stored).map_err(|e| corrupt(format!("event of {run_id}"), e))?;
        let mut con = self.con.clone();
        redis::cmd("XADD")
            .arg(self.keys.run_events(run_id))
            .arg("*")
            .arg("e")
            .arg(json)
            .query_async::<String>(&mut con)
            .await?;
        let waiting = self
            .appended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(run_id)
            .cloned();
        if let Some(n) = waiting {
            n.notify_waiters();
        }
        Ok(())
    }

    async fn events(
        &self,
        run_id: &str,
        after: Option<&str>,
        wait: Duration,
    ) -> Result<Vec<RunEvent>, ClusterError> {
        let key = self.keys.run_events(run_id);
        // XRANGE with an exclusive start: what follows the cursor.
        let start = after.map(|a| format!("({a}")).unwrap_or_else(|| "-".into());
        let deadline = tokio::time::Instant::now() + wait;
        let notify = self
            .appended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(run_id.to_string())
            .or_default()
            .clone();
        let found = self.events_until(&key, &start, deadline, &notify).await;
        let mut map = self.appended.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and ours: nobody else waits on this run.
        if Arc::strong_count(&notify) <= 2 {
            map.remove(run_id);
        }
        found
    }

    async fn events_until(
        &self,
        key: &str,
        start: &str,
        deadline: tokio::time::Instant,
        notify: &Notify,
    ) -> Result<Vec<RunEvent>, ClusterError> {
        loop {
            let appended = notify.notified();
            let mut con = self.con.clone();
            let range: StreamRangeReply = redis::cmd("XRANGE")
                .arg(key)
                .arg(start)
                .arg("+")
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await?;
            let found: Vec<RunEvent> = range
                .ids
                .into_iter()
                .filter_map(|e| event_from(e.id, &e.map))
                .collect();
            let now = tokio::time::Instant::now();
            if !found.is_empty() || now >= deadline {
                return Ok(found);
            }
            let _ = tokio::time::timeout(EVENT_POLL.min(deadline - now), appended).await;
        }
    }

    /// Asks the worker `name` to drain (it checks every few seconds).
    async fn request_drain(&self, name: &str) -> Result<(), ClusterError> {
        let mut con = self.con.clone();
        redis::cmd("SET")
            .arg(self.keys.drain(name))
            .arg(1)
            .arg("EX")
            .arg(3600)
            .query_async::<()>(&mut con)
            .await?;
        Ok(())
    }

    /// Appends a decision-log entry and replaces the signed head, atomically.
    async fn audit_append(
        &self,
        entry: &AuditEntry,
        head: &AuditHead,
        fence: Option<u64>,
    ) -> Result<Result<(), String>, ClusterError> {
        let line = serde_json::to_string(entry)
            .map_err(|e| corrupt(format!("audit entry of {}", entry.run_id), e))?;
        let head =
            serde_json::to_string(head).map_err(|e| corrupt(format!("audit head of {}", entry.run_id), e))?;
        let mut con = self.con.clone();
        let outcome: String = self
            .audit_append
            .key(self.keys.audit(&entry.run_id))
            .key(self.keys.audit_head(&entry.run_id))
            .key(self.keys.audits())
            .key(self.keys.run_fence(&entry.run_id))
            .arg(line)
            .arg(head)
            .arg(entry.seq)
            .arg(entry.at_unix_ms)
            .arg(&entry.run_id)
            .arg(fence.map(|f| f.to_string()).unwrap_or_default())
            .arg(match self.retention.audit {
                Some(keep) if cb_audit::FINAL_KINDS.contains(&entry.kind.as_str()) => {
                    keep.as_secs().max(1).to_string()
                }
                _ => String::new(),
            })
            .invoke_async(&mut con)
            .await?;
        Ok(match outcome.as_str() {
            "ok" => Ok(()),
            "fenced" => Err("another server holds the run's lease now".into()),
            at => Err(format!(
                "the log is {at} entries, this writer's next is entry {}",
                entry.seq
            )),
        })
    }

    /// A run's decision-log entries (as stored) and its signed head.
    async fn audit_load(&self, run_id: &str) -> Result<(Vec<String>, Option<String>), ClusterError> {
        let mut con = self.con.clone();
        let lines: Vec<String> = redis::cmd("LRANGE")
            .arg(self.keys.audit(run_id))
            .arg(0)
            .arg(-1)
            .query_async(&mut con)
            .await?;
        let head: Option<String> = redis::cmd("GET")
            .arg(self.keys.audit_head(run_id))
            .query_async(&mut con)
            .await?;
        Ok((lines, head))
    }

    /// Runs with a decision log, newest first.
    async fn audit_list(&self) -> Result<Vec<String>, ClusterError> {
        let mut con = self.con.clone();
        Ok(redis::cmd("ZREVRANGE")
            .arg(self.keys.audits())
            .arg(0)
            .arg(-1)
            .query_async(&mut con)
            .await?)
    }

    async fn active_count(&self) -> Result<usize, ClusterError> {
        let mut con = self.con.clone();
        Ok(redis::cmd("SCARD")
            .arg(self.keys.active_runs())
            .query_async(&mut con)
            .await?)
    }

    async fn active(&self) -> Result<Vec<String>, ClusterError> {
        let mut con = self.con.clone();
        Ok(redis::cmd("SMEMBERS")
            .arg(self.keys.active_runs())
            .query_async(&mut con)
            .await?)
    }

    async fn take_lease(
        &self,
        run_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, ClusterError> {
        let mut con = self.con.clone();
        let fence: u64 = self
            .lease
            .key(self.keys.run_lease(run_id))
            .key(self.keys.run_fence(run_id))
            .key(self.keys.run_fence_owner(run_id))
            .arg(owner)
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut con)
            .await?;
        Ok((fence > 0).then_some(fence))
    }
}

impl From<ClusterError> for StoreError {
    fn from(e: ClusterError) -> Self {
        StoreError(Box::new(e))
    }
}

#[async_trait::async_trait]
impl RunBackend for RedisStore {
    async fn save(&self, state: &RunState) -> Result<(), StoreError> {
        Ok(RedisStore::save(self, state).await?)
    }

    async fn get(&self, run_id: &str) -> Result<Option<RunState>, StoreError> {
        Ok(RedisStore::get(self, run_id).await?)
    }

    async fn list(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        Ok(RedisStore::list(self, limit).await?)
    }

    async fn push_event(&self, run_id: &str, event: EventKind) -> Result<(), StoreError> {
        Ok(RedisStore::push_event(self, run_id, event).await?)
    }

    async fn events(
        &self,
        run_id: &str,
        after: Option<&str>,
        wait: Duration,
    ) -> Result<Vec<RunEvent>, StoreError> {
        Ok(RedisStore::events(self, run_id, after, wait).await?)
    }

    async fn active(&self) -> Result<Vec<String>, StoreError> {
        Ok(RedisStore::active(self).await?)
    }

    async fn active_count(&self) -> Result<usize, StoreError> {
        Ok(RedisStore::active_count(self).await?)
    }

    async fn take_lease(&self, run_id: &str, owner: &str, ttl: Duration) -> Result<Option<u64>, StoreError> {
        Ok(RedisStore::take_lease(self, run_id, owner, ttl).await?)
    }
}

#[async_trait::async_trait]
impl WorkerRegistry for RedisStore {
    async fn ping(&self) -> bool {
        RedisStore::ping(self).await
    }

    async fn workers(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        Ok(RedisStore::workers(self).await?)
    }

    async fn request_drain(&self, name: &str) -> Result<(), StoreError> {
        Ok(RedisStore::request_drain(self, name).await?)
    }
}

fn audit_error(e: ClusterError) -> AuditError {
    AuditError::Backend(Box::new(e))
}

#[async_trait::async_trait]
impl AuditBackend for RedisStore {
    async fn append(
        &self,
        entry: &AuditEntry,
        head: &AuditHead,
        fence: Option<u64>,
    ) -> Result<(), AuditError> {
        self.audit_append(entry, head, fence)
            .await
            .map_err(audit_error)?
            .map_err(|reason| AuditError::Fenced {
                run_id: entry.run_id.clone(),
                reason,
            })
    }

    async fn load(&self, run_id: &str) -> Result<(Vec<AuditEntry>, Option<AuditHead>), AuditError> {
        let (lines, head) = self.audit_load(run_id).await.map_err(audit_error)?;
        if lines.is_empty() {
            return Err(AuditError::NotFound(run_id.into()));
        }
        let entries = parse_lines(&lines.join("\n"))?;
        let head = head.and_then(|h| serde_json::from_str(&h).ok());
        Ok((entries, head))
    }

    async fn list(&self) -> Result<Vec<String>, AuditError> {
        self.audit_list().await.map_err(audit_error)
    }

    fn retention(&self) -> Option<Duration> {
        self.retention.audit
    }

    async fn last(&self, run_id: &str) -> Result<Option<AuditEntry>, AuditError> {
        let mut con = self.con.clone();
        let line: Option<String> = redis::cmd("LINDEX")
            .arg(self.keys.audit(run_id))
            .arg(-1)
            .query_async(&mut con)
            .await
            .map_err(|e| audit_error(e.into()))?;
        match line {
            None => Ok(None),
            Some(l) => Ok(parse_lines(&l)?.pop()),
        }
    }
}
