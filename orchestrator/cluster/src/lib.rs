//! The cluster transport: tasks travel to `cbutler worker` processes over Redis Streams.
//!
//! ```text
//! serve ── XADD {p}:tasks:<kind> ──► consumer group "workers" ──► worker (AgentActor)
//!   ▲                                                                │
//!   └──── XREAD {p}:done ◄── SET {p}:result:<uid> NX, XADD done, XACK, XDEL (one script)
//! ```
//! One stream and consumer group per agent kind. A task's `uid` (`<run id>/<task id>`) is its
//! idempotency key: it is enqueued at most once (`{p}:enq:<uid>`), its result is stored at most once
//! (`SET NX`), and a redelivered task whose result exists is only acknowledged. Delivery is
//! at-least-once: a worker holds a task in the group's pending list until its result is written, and
//! refreshes its claim while it works; a task idle past the claim deadline (its worker died or lost
//! Redis) is taken over by another worker with XAUTOCLAIM. A task that has been started
//! `max_attempts` times without a result moves to the dead-letter stream `{p}:dead:<kind>` with the
//! errors of its attempts, and its run gets a failed result naming them.
//!
//! Because acknowledged entries are deleted, a stream's length is the work outstanding for its kind
//! (waiting plus in progress); enqueueing refuses past a bound, so no queue grows without limit.
//!
//! This crate owns the transport ([`queue`]: the server's side; [`worker`]: the workers'), the
//! Redis store of runs, events and decision logs ([`store`], implementing the core's
//! `RunBackend` and `WorkerRegistry` and the decision log's `AuditBackend`), and a worker's
//! probes ([`health`]). It depends on the core, never on the server or the binary.

pub mod health;
pub mod queue;
pub mod store;
pub mod worker;

use std::time::Duration;

use cb_protocol::{AgentKind, TaskResult};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

/// The consumer group every worker of a kind joins.
pub const GROUP: &str = "workers";

/// A Redis URL fit for a log line: any password replaced by `***`.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => format!("{}***{}", &url[..scheme + 3], &url[at..]),
            }
        }
        _ => url.to_string(),
    }
}

/// Why the transport failed (as opposed to a task that ran and failed).
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("Redis at {url}: {source}")]
    Connect { url: String, source: redis::RedisError },
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("a stored record is not valid JSON ({what}): {source}")]
    Corrupt { what: String, source: serde_json::Error },
}

/// Key names under one prefix, so that several clusters (or tests) can share a Redis.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    pub fn tasks(&self, kind: AgentKind) -> String {
        format!("{}:tasks:{kind}", self.prefix)
    }

    pub fn dead(&self, kind: AgentKind) -> String {
        format!("{}:dead:{kind}", self.prefix)
    }

    pub fn enqueued(&self, uid: &str) -> String {
        format!("{}:enq:{uid}", self.prefix)
    }

    pub fn result(&self, uid: &str) -> String {
        format!("{}:result:{uid}", self.prefix)
    }

    pub fn attempts(&self, uid: &str) -> String {
        format!("{}:attempts:{uid}", self.prefix)
    }

    pub fn errors(&self, uid: &str) -> String {
        format!("{}:errors:{uid}", self.prefix)
    }

    pub fn owner(&self, uid: &str) -> String {
        format!("{}:owner:{uid}", self.prefix)
    }

    /// Stream of finished task uids, read by every server waiting for results.
    pub fn done(&self) -> String {
        format!("{}:done", self.prefix)
    }

    pub fn run(&self, run_id: &str) -> String {
        format!("{}:run:{run_id}", self.prefix)
    }

    pub fn run_events(&self, run_id: &str) -> String {
        format!("{}:run:{run_id}:events", self.prefix)
    }

    pub fn run_lease(&self, run_id: &str) -> String {
        format!("{}:run:{run_id}:lease", self.prefix)
    }

    /// The fencing token of a run's lease: grows each time another server takes the run.
    pub fn run_fence(&self, run_id: &str) -> String {
        format!("{}:run:{run_id}:fence", self.prefix)
    }

    /// Which owner the current fencing token was given to.
    pub fn run_fence_owner(&self, run_id: &str) -> String {
        format!("{}:run:{run_id}:fence-owner", self.prefix)
    }

    /// Every run by creation time (a sorted set).
    pub fn runs(&self) -> String {
        format!("{}:runs", self.prefix)
    }

    /// Runs accepted and not yet finished (a set): what a restarted server resumes.
    pub fn active_runs(&self) -> String {
        format!("{}:runs:active", self.prefix)
    }

    /// A run's decision log (a list of JSON entries) and its signed head.
    pub fn audit(&self, run_id: &str) -> String {
        format!("{}:audit:{run_id}", self.prefix)
    }

    pub fn audit_head(&self, run_id: &str) -> String {
        format!("{}:audit:{run_id}:head", self.prefix)
    }

    /// Runs with a decision log, by time (a sorted set).
    pub fn audits(&self) -> String {
        format!("{}:audits", self.prefix)
    }

    pub fn worker(&self, name: &str) -> String {
        format!("{}:worker:{name}", self.prefix)
    }

    /// Set by an operator to make a worker stop gracefully.
    pub fn drain(&self, name: &str) -> String {
        format!("{}:drain:{name}", self.prefix)
    }

    /// Worker names by the time (ms) of their last announcement (a sorted set): the status
    /// route reads the live ones by score, never scanning the keyspace.
    pub fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }
}

/// A task's idempotency key: the run and the task id within its plan.
pub fn task_uid(run_id: &str, task_id: &str) -> String {
    format!("{run_id}/{task_id}")
}

/// A result as stored in Redis: the result, who produced it and on which attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResult {
    pub result: TaskResult,
    pub worker: String,
    pub attempt: u32,
    pub finished_unix_ms: u128,
}

impl From<StoredResult> for cb_core::dispatch::Delivered {
    fn from(s: StoredResult) -> Self {
        cb_core::dispatch::Delivered {
            result: s.result,
            worker: s.worker,
            attempt: s.attempt,
        }
    }
}

/// Settings shared by servers and workers.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub url: String,
    pub keys: Keys,
    /// How long an entry may sit unacknowledged without its worker refreshing its claim before
    /// another worker takes it over.
    pub claim_after: Duration,
    /// Attempts before a task goes to the dead-letter stream.
    pub max_attempts: u32,
    /// Outstanding tasks (waiting + in progress) per agent kind before enqueueing waits.
    pub max_pending: usize,
    /// How long results, markers and attempt counters are kept.
    pub ttl: Duration,
}

impl ClusterConfig {
    pub fn new(url: &str, prefix: &str) -> Self {
        ClusterConfig {
            url: url.to_string(),
            keys: Keys::new(prefix),
            claim_after: Duration::from_secs(30),
            max_attempts: 3,
            max_pending: 10_000,
            ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Opens a connection that reconnects by itself after Redis restarts or the network drops.
/// `response_timeout` must exceed the longest BLOCK a caller issues on it.
pub async fn connect(url: &str, response_timeout: Duration) -> Result<ConnectionManager, ClusterError> {
    let client = redis::Client::open(url).map_err(|source| ClusterError::Connect {
        url: redacted(url),
        source,
    })?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    client
        .get_connection_manager_with_config(config)
        .await
        .map_err(|source| ClusterError::Connect {
            url: redacted(url),
            source,
        })
}

/// Connects, retrying with backoff until Redis answers or `give_up` passes.
pub async fn connect_retrying(
    url: &str,
    response_timeout: Duration,
    give_up: Option<Duration>,
) -> Result<ConnectionManager, ClusterError> {
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        match connect(url, response_timeout).await {
            Ok(c) => return Ok(c),
            Err(e) => {
                if give_up.is_some_and(|g| start.elapsed() >= g) {
                    return Err(e);
                }
                eprintln!("warning: {e}; retrying in {} ms", delay.as_millis());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Creates the consumer group of a kind's stream (and the stream) if missing.
pub async fn ensure_group(con: &mut ConnectionManager, stream: &str) -> Result<(), ClusterError> {
    let created: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(con)
        .await;
    match created {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub fn now_ms() -> u128 {
    cb_core::journal::now_ms()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_a_log_line() {
        assert_eq!(
            super::redacted("redis://:s3cret@redis:6379/0"),
            "redis://:***@redis:6379/0"
        );
        assert_eq!(
            super::redacted("rediss://app:s3cret@r.example:6380"),
            "rediss://app:***@r.example:6380"
        );
        assert_eq!(
            super::redacted("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
