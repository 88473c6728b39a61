//! The server's side of the transport: enqueue a task once, then wait for its result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cb_protocol::{AgentKind, Task};
use redis::aio::ConnectionManager;
use redis::streams::StreamReadReply;
use tokio::sync::oneshot;

use cb_core::dispatch::{AgentHandle, BoxFuture, Delivered, DispatchError};
use cb_core::operations::TaskBacklog;
use cb_core::runs::StoreError;

use crate::{ClusterConfig, ClusterError, StoredResult, connect_retrying, ensure_group, task_uid};

/// Enqueues a task unless it was enqueued before; refuses when the kind's stream is full.
/// KEYS: marker, stream. ARGV: max_pending, uid, task JSON, run id, now (ms), ttl (s),
/// traceparent (the dispatching span's W3C context; empty when there is none).
const ENQUEUE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 'dup' end
local limit = tonumber(ARGV[1])
if limit > 0 and redis.call('XLEN', KEYS[2]) >= limit then return 'busy' end
redis.call('XADD', KEYS[2], '*', 'uid', ARGV[2], 'task', ARGV[3], 'run', ARGV[4], 'enqueued_ms', ARGV[5], 'traceparent', ARGV[7])
redis.call('SET', KEYS[1], ARGV[5], 'EX', ARGV[6])
return 'ok'
";

type Waiters = Arc<Mutex<HashMap<String, Vec<oneshot::Sender<StoredResult>>>>>;

/// Tasks out to workers and results back, for every agent kind.
pub struct TaskQueue {
    config: ClusterConfig,
    con: ConnectionManager,
    enqueue: redis::Script,
    waiters: Waiters,
}

/// How an enqueue went.
enum Enqueued {
    Fresh,
    AlreadyThere,
    Busy,
}

impl TaskQueue {
    /// Connects and starts the reader of the `done` stream that wakes waiting dispatches.
    pub async fn start(config: ClusterConfig) -> Result<Arc<TaskQueue>, ClusterError> {
        let mut con =
            connect_retrying(&config.url, Duration::from_secs(5), Some(Duration::from_secs(30))).await?;
        for kind in AgentKind::ALL {
            ensure_group(&mut con, &config.keys.tasks(kind)).await?;
        }
        let reader = connect_retrying(
            &config.url,
            Duration::from_secs(10),
            Some(Duration::from_secs(30)),
        )
        .await?;
        let queue = Arc::new(TaskQueue {
            config,
            con,
            enqueue: redis::Script::new(ENQUEUE),
            waiters: Arc::default(),
        });
        tokio::spawn(read_done(Arc::downgrade(&queue), reader));
        tokio::spawn(sweep(Arc::downgrade(&queue)));
        Ok(queue)
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Outstanding tasks (waiting + in progress) per agent kind.
    pub async fn depth(&self) -> Result<Vec<(AgentKind, usize)>, ClusterError> {
        self.lengths(|kind| self.config.keys.tasks(kind)).await
    }

    /// Tasks in the dead-letter stream of each kind.
    pub async fn dead_letters(&self) -> Result<Vec<(AgentKind, usize)>, ClusterError> {
        self.lengths(|kind| self.config.keys.dead(kind)).await
    }

    /// The length of one stream per agent kind.
    async fn lengths(
        &self,
        stream: impl Fn(AgentKind) -> String,
    ) -> Result<Vec<(AgentKind, usize)>, ClusterError> {
        let mut con = self.con.clone();
        let mut out = Vec::new();
        for kind in AgentKind::ALL {
            let n: usize = redis::cmd("XLEN").arg(stream(kind)).query_async(&mut con).await?;
            out.push((kind, n));
        }
        Ok(out)
    }

    async fn stored_result(&self, uid: &str) -> Result<Option<StoredResult>, ClusterError> {
        let mut con = self.con.clone();
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.config.keys.result(uid))
            .query_async(&mut con)
            .await?;
        raw.map(|r| {
            serde_json::from_str(&r).map_err(|source| ClusterError::Corrupt {
                what: format!("result of {uid}"),
                source,
            })
        })
        .transpose()
    }

    async fn try_enqueue(&self, run_id: &str, uid: &str, task: &Task) -> Result<Enqueued, ClusterError> {
        let mut con = self.con.clone();
        let json = serde_json::to_string(task).map_err(|source| ClusterError::Corrupt {
            what: format!("task {uid}"),
            source,
        })?;
        let answer: String = self
            .enqueue
            .key(self.config.keys.enqueued(uid))
            .key(self.config.keys.tasks(task.agent()))
            .arg(self.config.max_pending)
            .arg(uid)
            .arg(json)
            .arg(run_id)
            .arg(crate::now_ms().to_string())
            .arg(self.config.ttl.as_secs())
            .arg(cb_telemetry::traceparent(&cb_telemetry::Context::current()).unwrap_or_default())
            .invoke_async(&mut con)
            .await?;
        Ok(match answer.as_str() {
            "ok" => Enqueued::Fresh,
            "busy" => Enqueued::Busy,
            _ => Enqueued::AlreadyThere,
        })
    }

    /// Sends a task to a worker of its kind (at most once per uid) and waits for its result.
    /// Redis being away only delays: enqueueing and waiting resume when it is back.
    pub async fn dispatch(
        self: &Arc<Self>,
        run_id: &str,
        task: Task,
        timeout: Duration,
    ) -> Result<Delivered, DispatchError> {
        let uid = task_uid(run_id, &task.id.0);
        let agent = task.agent();
        let deadline = tokio::time::Instant::now() + timeout;
        let timed_out = || DispatchError::Timeout {
            agent,
            task: task.id.0.clone(),
            seconds: timeout.as_secs(),
        };
        // Register first, so that a result arriving between the check and the wait is not missed.
        let (tx, rx) = oneshot::channel();
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(uid.clone())
            .or_default()
            .push(tx);
        let mut delay = Duration::from_millis(50);
        loop {
            if tokio::time::Instant::now() >= deadline {
                self.forget(&uid);
                return Err(timed_out());
            }
            match self.stored_result(&uid).await {
                Ok(Some(stored)) => {
                    self.forget(&uid);
                    return Ok(stored.into());
                }
                Ok(None) => {}
                Err(e) => {
                    eprintln!("warning: task {uid}: {e}; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                    continue;
                }
            }
            match self.try_enqueue(run_id, &uid, &task).await {
                Ok(Enqueued::Fresh | Enqueued::AlreadyThere) => break,
                Ok(Enqueued::Busy) => {}
                Err(e) => eprintln!("warning: cannot enqueue task {uid}: {e}; retrying"),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(stored)) => Ok(stored.into()),
            Ok(Err(_)) => Err(DispatchError::AgentStopped {
                agent,
                task: task.id.0.clone(),
                reason: "the server is shutting down".into(),
            }),
            Err(_) => {
                self.forget(&uid);
                Err(timed_out())
            }
        }
    }

    fn forget(&self, uid: &str) {
        self.waiters.lock().unwrap_or_else(|p| p.into_inner()).remove(uid);
    }

    /// Hands a stored result to everyone waiting for it.
    async fn deliver(&self, uid: &str) {
        let has_waiters = self
            .waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(uid);
        if !has_waiters {
            return;
        }
        if let Ok(Some(stored)) = self.stored_result(uid).await {
            let senders = self.waiters.lock().unwrap_or_else(|p| p.into_inner()).remove(uid);
            for tx in senders.into_iter().flatten() {
                let _ = tx.send(stored.clone());
            }
        }
    }

    fn waiting(&self) -> Vec<String> {
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

/// Follows the `done` stream and wakes the dispatches waiting for those uids.
async fn read_done(queue: std::sync::Weak<TaskQueue>, mut con: ConnectionManager) {
    let mut last = "$".to_string();
    if let Some(q) = queue.upgrade() {
        // Follow from the newest entry now ("$" would skip whatever lands between two reads).
        let newest: redis::RedisResult<redis::streams::StreamRangeReply> = redis::cmd("XREVRANGE")
            .arg(q.config.keys.done())
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut con)
            .await;
        last = match newest {
            Ok(r) => r
                .ids
                .first()
                .map(|e| e.id.clone())
                .unwrap_or_else(|| "0-0".into()),
            Err(_) => last,
        };
    }
    loop {
        let Some(q) = queue.upgrade() else { return };
        let key = q.config.keys.done();
        drop(q);
        let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(500)
            .arg("BLOCK")
            .arg(2000)
            .arg("STREAMS")
            .arg(&key)
            .arg(&last)
            .query_async(&mut con)
            .await;
        let Some(q) = queue.upgrade() else { return };
        match reply {
            Ok(Some(reply)) => {
                for entry in reply.keys.into_iter().flat_map(|k| k.ids) {
                    last = entry.id.clone();
                    if let Some(redis::Value::BulkString(uid)) = entry.map.get("uid") {
                        q.deliver(&String::from_utf8_lossy(uid)).await;
                    }
                }
            }
            Ok(None) => {}
            Err(_) => {
                // Redis went away: the sweep finds what finished meanwhile; follow from now on.
                last = "$".into();
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Every two seconds, looks up the results of every waiting dispatch: catches anything the
/// `done` reader missed while Redis was away.
async fn sweep(queue: std::sync::Weak<TaskQueue>) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Some(q) = queue.upgrade() else { return };
        for uid in q.waiting() {
            q.deliver(&uid).await;
        }
    }
}

#[async_trait::async_trait]
impl TaskBacklog for TaskQueue {
    async fn depth(&self) -> Result<Vec<(AgentKind, usize)>, StoreError> {
        Ok(TaskQueue::depth(self).await?)
    }

    async fn dead_letters(&self) -> Result<Vec<(AgentKind, usize)>, StoreError> {
        Ok(TaskQueue::dead_letters(self).await?)
    }

    fn max_pending(&self) -> usize {
        self.config.max_pending
    }
}

/// An agent kind served by workers behind Redis Streams.
pub struct RedisAgent {
    pub kind: AgentKind,
    pub queue: Arc<TaskQueue>,
    pub timeout: Duration,
}

impl AgentHandle for RedisAgent {
    fn kind(&self) -> AgentKind {
        self.kind
    }

    fn dispatch(&self, run_id: &str, task: Task) -> BoxFuture<Result<Delivered, DispatchError>> {
        let queue = self.queue.clone();
        let (run_id, timeout) = (run_id.to_string(), self.timeout);
        Box::pin(async move { queue.dispatch(&run_id, task, timeout).await })
    }
}
