//! `cbutler worker`: consumes one or more agent kinds' streams and runs their tasks on in-process
//! agent actors (the same [`AgentActor`](cb_agent_runtime::AgentActor) the embedded mode uses).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cb_agent_runtime::AgentMsg;
use cb_protocol::{AgentKind, Task, TaskError, TaskErrorKind, TaskId, TaskOutcome, TaskResult};
use cb_telemetry::{self as telemetry, KeyValue, SpanKind, Status, TraceContextExt as _, attr};
use ractor::ActorRef;
use ractor::rpc::CallResult;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use serde::Serialize;
use tokio::sync::watch;

use crate::health::WorkerHealth;
use crate::{ClusterConfig, ClusterError, GROUP, StoredResult, connect_retrying, ensure_group};

/// Writes the result (once), announces it, acknowledges and deletes the entry — atomically, so a
/// result is always written before its entry is acknowledged.
/// KEYS: result, done, stream. ARGV: group, entry id, uid, result JSON, ttl (s).
const FINISH: &str = r"
local stored = redis.call('SET', KEYS[1], ARGV[4], 'NX', 'EX', ARGV[5])
if stored then redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', 'uid', ARGV[3]) end
redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[3], ARGV[2])
if stored then return 1 else return 0 end
";

/// Refreshes this consumer's claim on an entry (resets its idle time) only while it still owns
/// it, so a worker that lost a task to another never takes it back.
/// KEYS: stream. ARGV: group, entry id, consumer.
const HEARTBEAT: &str = r"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 1 and p[1][2] == ARGV[3] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
  return 1
end
return 0
";

/// Puts an unfinished entry back at the end of its stream for another worker, without counting
/// the attempt. KEYS: stream, attempts. ARGV: group, entry id, uid, task, run, now (ms),
/// traceparent.
const HAND_BACK: &str = r"
redis.call('XADD', KEYS[1], '*', 'uid', ARGV[3], 'task', ARGV[4], 'run', ARGV[5], 'enqueued_ms', ARGV[6], 'traceparent', ARGV[7])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('DECR', KEYS[2])
return 1
";

/// Settings of one worker process.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub cluster: ClusterConfig,
    /// Unique among live workers; consumers are named `<name>-<kind>-<slot>`.
    pub name: String,
    pub agents: Vec<AgentKind>,
    /// Tasks of each kind this worker runs at once.
    pub concurrency: usize,
    /// Longest a task may run before it is answered as failed.
    pub task_timeout: Duration,
    /// On shutdown, how long running tasks may take before they are handed back.
    pub grace: Duration,
    /// Where the agents may read files (a task naming any other path fails).
    pub data_roots: Arc<cb_core::DataRoots>,
}

struct Ctx {
    config: WorkerConfig,
    health: Arc<WorkerHealth>,
    con: ConnectionManager,
    finish: redis::Script,
    heartbeat: redis::Script,
    hand_back: redis::Script,
}

/// A dead-lettered task as stored in `{p}:dead:<kind>`.
#[derive(Debug, Serialize)]
struct DeadLetter<'a> {
    uid: &'a str,
    errors: &'a [String],
}

/// Runs a worker until `shutdown` turns true, then lets running tasks finish (or hands them back
/// after the grace period) and returns. `health` hears about Redis and every task.
pub async fn run(
    config: WorkerConfig,
    mut external: watch::Receiver<bool>,
    health: Arc<WorkerHealth>,
) -> Result<(), ClusterError> {
    let con = connect_retrying(&config.cluster.url, Duration::from_secs(5), None).await?;
    let ctx = Arc::new(Ctx {
        config,
        health,
        con,
        finish: redis::Script::new(FINISH),
        heartbeat: redis::Script::new(HEARTBEAT),
        hand_back: redis::Script::new(HAND_BACK),
    });
    // Stops on the process's signal or on an operator's drain request (seen by `announce`).
    let (stop, shutdown) = watch::channel(false);
    let stop = Arc::new(stop);
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            stopped(&mut external).await;
            let _ = stop.send(true);
        });
    }
    let mut set = tokio::task::JoinSet::new();
    set.spawn(announce(ctx.clone(), shutdown.clone(), stop));
    for &kind in &ctx.config.agents {
        for slot in 0..ctx.config.concurrency.max(1) {
            set.spawn(consume(ctx.clone(), kind, slot, shutdown.clone()));
        }
    }
    while set.join_next().await.is_some() {}
    Ok(())
}

/// Keeps `{p}:worker:<name>` alive (15 s expiry) so servers can list live workers, and stops the
/// worker when an operator asks it to drain.
async fn announce(ctx: Arc<Ctx>, mut shutdown: watch::Receiver<bool>, stop: Arc<watch::Sender<bool>>) {
    let key = ctx.config.cluster.keys.worker(&ctx.config.name);
    let drain = ctx.config.cluster.keys.drain(&ctx.config.name);
    let info = serde_json::json!({
        "name": ctx.config.name,
        "agents": ctx.config.agents,
        "concurrency": ctx.config.concurrency,
        "pid": std::process::id(),
    })
    .to_string();
    let workers = ctx.config.cluster.keys.workers();
    loop {
        let mut con = ctx.con.clone();
        let announced: redis::RedisResult<()> = redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg(&info)
            .arg("EX")
            .arg(15)
            .ignore()
            .cmd("ZADD")
            .arg(&workers)
            .arg(crate::now_ms())
            .arg(&ctx.config.name)
            .ignore()
            .query_async(&mut con)
            .await;
        if announced.is_ok() {
            ctx.health.redis_ok();
        }
        let drained: redis::RedisResult<Option<String>> =
            redis::cmd("GETDEL").arg(&drain).query_async(&mut con).await;
        if let Ok(Some(_)) = drained {
            eprintln!("worker {}: draining on an operator's request", ctx.config.name);
            let _ = stop.send(true);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stopped(&mut shutdown) => {
                let _: redis::RedisResult<()> = redis::pipe()
                    .cmd("DEL")
                    .arg(&key)
                    .ignore()
                    .cmd("ZREM")
                    .arg(&workers)
                    .arg(&ctx.config.name)
                    .ignore()
                    .query_async(&mut con)
                    .await;
                return;
            }
        }
    }
}

/// Resolves when shutdown is asked for (the watch's guard is dropped inside, so callers stay Send).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

fn field(entry: &StreamId, name: &str) -> Option<String> {
    match entry.map.get(name) {
        Some(redis::Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(redis::Value::SimpleString(s)) => Some(s.clone()),
        _ => None,
    }
}

/// One consumer: takes over abandoned entries, else reads new ones, one at a time.
async fn consume(ctx: Arc<Ctx>, kind: AgentKind, slot: usize, mut shutdown: watch::Receiver<bool>) {
    let consumer = format!("{}-{kind}-{slot}", ctx.config.name);
    let stream = ctx.config.cluster.keys.tasks(kind);
    let claim_after = ctx.config.cluster.claim_after;
    let claim_every = (claim_after / 2).max(Duration::from_millis(200));
    let mut reader = match connect_retrying(&ctx.config.cluster.url, Duration::from_secs(10), None).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: consumer {consumer}: {e}");
            return;
        }
    };
    let mut actor: Option<ActorRef<AgentMsg>> = None;
    let mut last_claim: Option<Instant> = None;
    let mut delay = Duration::from_millis(100);
    while !*shutdown.borrow() {
        let claim_due = last_claim.is_none_or(|t| t.elapsed() >= claim_every);
        let read = async {
            let mut entries = Vec::new();
            if claim_due {
                let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                    .arg(&stream)
                    .arg(GROUP)
                    .arg(&consumer)
                    .arg(claim_after.as_millis() as u64)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut reader)
                    .await?;
                entries = claimed.claimed;
            }
            if entries.is_empty() {
                let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg(GROUP)
                    .arg(&consumer)
                    .arg("COUNT")
                    .arg(1)
                    .arg("BLOCK")
                    .arg(1000)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(">")
                    .query_async(&mut reader)
                    .await?;
                entries = reply
                    .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
                    .unwrap_or_default();
            }
            redis::RedisResult::Ok(entries)
        };
        let entries = tokio::select! {
            r = read => r,
            _ = stopped(&mut shutdown) => break,
        };
        if claim_due {
            last_claim = Some(Instant::now());
        }
        match entries {
            Ok(entries) => {
                ctx.health.redis_ok();
                delay = Duration::from_millis(100);
                for entry in entries {
                    process(&ctx, kind, &consumer, &stream, entry, &mut actor, &mut shutdown).await;
                }
            }
            Err(e) => {
                if e.code() == Some("NOGROUP") {
                    // Redis came back without the group (no persistence): recreate it.
                    let _ = ensure_group(&mut reader, &stream).await;
                } else {
                    eprintln!(
                        "warning: consumer {consumer}: {e}; retrying in {} ms",
                        delay.as_millis()
                    );
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

fn failed_result(task_id: &str, kind: AgentKind, message: String) -> TaskResult {
    TaskResult {
        task_id: TaskId::new(task_id),
        agent: kind,
        outcome: TaskOutcome::Failed(TaskError::new(TaskErrorKind::Internal, message)),
    }
}

/// Handles one delivered entry: skip if done, count the attempt, dead-letter if over the limit,
/// else run it and write its result.
async fn process(
    ctx: &Arc<Ctx>,
    kind: AgentKind,
    consumer: &str,
    stream: &str,
    entry: StreamId,
    actor: &mut Option<ActorRef<AgentMsg>>,
    shutdown: &mut watch::Receiver<bool>,
) {
    let keys = &ctx.config.cluster.keys;
    let ttl = ctx.config.cluster.ttl.as_secs();
    let mut con = ctx.con.clone();
    let task_json = field(&entry, "task").unwrap_or_default();
    let run = field(&entry, "run").unwrap_or_default();
    let traceparent = field(&entry, "traceparent").unwrap_or_default();
    let Some(uid) = field(&entry, "uid") else {
        let errors = vec!["the entry has no uid field".to_string()];
        dead_letter(
            ctx,
            &Delivery {
                kind,
                stream,
                entry: &entry,
                uid: "",
                task_json: &task_json,
                task_id: None,
            },
            &errors,
        )
        .await;
        return;
    };
    let task_id = uid.rsplit('/').next().unwrap_or(&uid).to_string();
    let delivery = Delivery {
        kind,
        stream,
        entry: &entry,
        uid: &uid,
        task_json: &task_json,
        task_id: Some(&task_id),
    };
    let exists: redis::RedisResult<bool> = redis::cmd("EXISTS")
        .arg(keys.result(&uid))
        .query_async(&mut con)
        .await;
    if exists.unwrap_or(false) {
        // Redelivered after its result was written: only acknowledge.
        ack_and_delete(&mut con, stream, &entry.id).await;
        return;
    }
    let counted: redis::RedisResult<(u32, (), Option<String>)> = redis::pipe()
        .cmd("INCR")
        .arg(keys.attempts(&uid))
        .cmd("EXPIRE")
        .arg(keys.attempts(&uid))
        .arg(ttl)
        .cmd("SET")
        .arg(keys.owner(&uid))
        .arg(consumer)
        .arg("EX")
        .arg(ttl)
        .arg("GET")
        .query_async(&mut con)
        .await;
    let Ok((attempt, (), previous)) = counted else {
        return; // Redis away: the entry stays pending and is taken over later.
    };
    if attempt > 1 {
        let who = previous.unwrap_or_else(|| "a worker".into());
        let _: redis::RedisResult<()> = redis::pipe()
            .cmd("RPUSH")
            .arg(keys.errors(&uid))
            .arg(format!(
                "attempt {}: {who} did not finish it (it stopped or lost Redis for over {} s)",
                attempt - 1,
                ctx.config.cluster.claim_after.as_secs_f64()
            ))
            .cmd("EXPIRE")
            .arg(keys.errors(&uid))
            .arg(ttl)
            .query_async(&mut con)
            .await;
    }
    if attempt > ctx.config.cluster.max_attempts {
        let errors: Vec<String> = redis::cmd("LRANGE")
            .arg(keys.errors(&uid))
            .arg(0)
            .arg(-1)
            .query_async(&mut con)
            .await
            .unwrap_or_default();
        dead_letter(ctx, &delivery, &errors).await;
        return;
    }
    let task: Task = match serde_json::from_str(&task_json) {
        Ok(t) => t,
        Err(e) => {
            let errors = vec![format!("the task is not a valid {kind} task: {e}")];
            dead_letter(ctx, &delivery, &errors).await;
            return;
        }
    };
    fault_abort(&uid);

    // This worker's side of the task: a span under the dispatching server's `invoke_agent` span.
    let span_cx = telemetry::start_with_parent(
        &telemetry::context_from_traceparent(&traceparent),
        format!("invoke_agent {kind}"),
        SpanKind::Consumer,
        vec![
            KeyValue::new(attr::GEN_AI_OPERATION_NAME, "invoke_agent"),
            KeyValue::new(attr::GEN_AI_AGENT_NAME, kind.to_string()),
            KeyValue::new(attr::TASK_ID, task_id.clone()),
            KeyValue::new(attr::RUN_ID, run.clone()),
            KeyValue::new(attr::WORKER, consumer.to_string()),
            KeyValue::new(attr::ATTEMPT, i64::from(attempt)),
            KeyValue::new(attr::MESSAGING_SYSTEM, "redis"),
            KeyValue::new(attr::MESSAGING_DESTINATION_NAME, stream.to_string()),
        ],
    );
    let span = span_cx.span();

    let heartbeat = tokio::spawn(keep_claim(
        ctx.clone(),
        stream.to_string(),
        entry.id.clone(),
        consumer.to_string(),
    ));
    let agent = match actor {
        Some(a) => a.clone(),
        None => match cb_core::orchestrator::spawn_agent(kind, Some(ctx.config.data_roots.clone())).await {
            Ok(a) => {
                *actor = Some(a.clone());
                a
            }
            Err(e) => {
                heartbeat.abort();
                eprintln!("error: cannot start the {kind} agent: {e}");
                span.set_status(Status::error(format!("cannot start the {kind} agent: {e}")));
                return;
            }
        },
    };
    let timeout = ctx.config.task_timeout;
    let running = ctx.health.running.with_label_values(&[kind.as_str()]);
    running.inc();
    let call = async {
        fault_delay().await;
        agent
            .call(|reply| AgentMsg::Run(task.clone(), reply), Some(timeout))
            .await
    };
    tokio::pin!(call);
    let grace = ctx.config.grace;
    let outcome = tokio::select! {
        r = &mut call => Some(r),
        _ = async {
            stopped(shutdown).await;
            tokio::time::sleep(grace).await;
        } => None,
    };
    heartbeat.abort();
    running.dec();
    let outcome_of = |name: &str| ctx.health.tasks.with_label_values(&[kind.as_str(), name]).inc();
    let result = match outcome {
        None => {
            let _: redis::RedisResult<i64> = ctx
                .hand_back
                .key(stream)
                .key(keys.attempts(&uid))
                .arg(GROUP)
                .arg(&entry.id)
                .arg(&uid)
                .arg(&task_json)
                .arg(&run)
                .arg(crate::now_ms().to_string())
                .arg(&traceparent)
                .invoke_async(&mut con)
                .await;
            eprintln!("worker {consumer}: handed task {uid} back (shutdown)");
            outcome_of("handed_back");
            span.set_attribute(KeyValue::new("cbutler.task.handed_back", true));
            return;
        }
        Some(Ok(CallResult::Success(result))) => result,
        Some(Ok(CallResult::Timeout)) => failed_result(
            &task_id,
            kind,
            format!("the {kind} agent did not finish within {} s", timeout.as_secs()),
        ),
        Some(Ok(CallResult::SenderError) | Err(_)) => {
            // The actor died: start a fresh one; the entry stays pending and is retried.
            *actor = None;
            span.set_status(Status::error(format!(
                "the {kind} agent stopped while running it"
            )));
            let _: redis::RedisResult<()> = redis::cmd("RPUSH")
                .arg(keys.errors(&uid))
                .arg(format!(
                    "attempt {attempt}: the {kind} agent on {consumer} stopped while running it"
                ))
                .query_async(&mut con)
                .await;
            return;
        }
    };
    if let TaskOutcome::Failed(e) = &result.outcome {
        span.set_attribute(KeyValue::new(attr::ERROR_TYPE, format!("{:?}", e.kind)));
        span.set_status(Status::error(e.message.clone()));
        outcome_of("failed");
    } else {
        outcome_of("completed");
    }
    let stored = StoredResult {
        result,
        worker: consumer.to_string(),
        attempt,
        finished_unix_ms: crate::now_ms(),
    };
    write_result(ctx, stream, &entry.id, &uid, &stored).await;
}

/// Acknowledges and deletes an entry that needs no result written (best effort: if Redis is away,
/// the entry is delivered again and handled again).
async fn ack_and_delete(con: &mut ConnectionManager, stream: &str, entry_id: &str) {
    let _: redis::RedisResult<()> = redis::pipe()
        .cmd("XACK")
        .arg(stream)
        .arg(GROUP)
        .arg(entry_id)
        .cmd("XDEL")
        .arg(stream)
        .arg(entry_id)
        .query_async(con)
        .await;
}

/// Writes a result, retrying while Redis is away (a result once computed is not thrown away).
async fn write_result(ctx: &Arc<Ctx>, stream: &str, entry_id: &str, uid: &str, stored: &StoredResult) {
    let keys = &ctx.config.cluster.keys;
    let Ok(json) = serde_json::to_string(stored) else {
        return;
    };
    let mut delay = Duration::from_millis(100);
    for _ in 0..60 {
        let mut con = ctx.con.clone();
        let written: redis::RedisResult<i64> = ctx
            .finish
            .key(keys.result(uid))
            .key(keys.done())
            .key(stream)
            .arg(GROUP)
            .arg(entry_id)
            .arg(uid)
            .arg(&json)
            .arg(ctx.config.cluster.ttl.as_secs())
            .invoke_async(&mut con)
            .await;
        match written {
            Ok(_) => return,
            Err(e) => {
                eprintln!("warning: cannot write the result of {uid}: {e}; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// What a worker knows of a delivered entry.
struct Delivery<'a> {
    kind: AgentKind,
    stream: &'a str,
    entry: &'a StreamId,
    uid: &'a str,
    task_json: &'a str,
    /// `None` when the entry has no uid to take it from.
    task_id: Option<&'a str>,
}

/// Moves an entry to the dead-letter stream with its errors and answers its run with a failed
/// result naming them.
async fn dead_letter(ctx: &Arc<Ctx>, d: &Delivery<'_>, errors: &[String]) {
    let Delivery {
        kind,
        stream,
        entry,
        uid,
        task_json,
        task_id,
    } = *d;
    let keys = &ctx.config.cluster.keys;
    let mut con = ctx.con.clone();
    let record = serde_json::to_string(&DeadLetter { uid, errors }).unwrap_or_default();
    let _: redis::RedisResult<()> = redis::cmd("XADD")
        .arg(keys.dead(kind))
        .arg("*")
        .arg("uid")
        .arg(uid)
        .arg("task")
        .arg(task_json)
        .arg("errors")
        .arg(&record)
        .arg("entry")
        .arg(&entry.id)
        .query_async(&mut con)
        .await;
    eprintln!(
        "worker: task {uid} moved to {} after: {}",
        keys.dead(kind),
        errors.join("; ")
    );
    ctx.health
        .tasks
        .with_label_values(&[kind.as_str(), "dead_lettered"])
        .inc();
    match task_id {
        Some(task_id) => {
            let result = failed_result(
                task_id,
                kind,
                format!(
                    "the task was moved to the dead-letter stream {}: {}",
                    keys.dead(kind),
                    errors.join("; ")
                ),
            );
            let stored = StoredResult {
                result,
                worker: ctx.config.name.clone(),
                attempt: 0,
                finished_unix_ms: crate::now_ms(),
            };
            write_result(ctx, stream, &entry.id, uid, &stored).await;
        }
        None => {
            ack_and_delete(&mut con, stream, &entry.id).await;
        }
    }
}

/// While a task runs, refreshes the claim every third of the claim deadline.
async fn keep_claim(ctx: Arc<Ctx>, stream: String, entry_id: String, consumer: String) {
    let every = (ctx.config.cluster.claim_after / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let mut con = ctx.con.clone();
        let _: redis::RedisResult<i64> = ctx
            .heartbeat
            .key(&stream)
            .arg(GROUP)
            .arg(&entry_id)
            .arg(&consumer)
            .invoke_async(&mut con)
            .await;
    }
}

/// Fault injection for the transport's tests, off unless set: `CBUTLER_FAULT_ABORT_TASK=<text>`
/// aborts the process (as a native crash would) on any task whose uid contains the text.
fn fault_abort(uid: &str) {
    if let Ok(needle) = std::env::var("CBUTLER_FAULT_ABORT_TASK")
        && !needle.is_empty()
        && uid.contains(&needle)
    {
        eprintln!("fault injection: aborting on task {uid}");
        std::process::abort();
    }
}

/// Fault injection for the transport's tests, off unless set: `CBUTLER_FAULT_TASK_DELAY_MS`
/// makes every task take that much longer (as part of running it).
async fn fault_delay() {
    if let Some(ms) = std::env::var("CBUTLER_FAULT_TASK_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}
