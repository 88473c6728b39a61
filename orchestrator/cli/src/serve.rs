//! `cbutler serve` and `cbutler worker`, and the LLM options shared with `cbutler ask`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cb_protocol::AgentKind;
use clap::Args;
use tokio::sync::watch;

use cb_audit::{AuditKey, AuditStore, LocalAudit};
use cb_cluster::health::WorkerHealth;
use cb_cluster::queue::{RedisAgent, TaskQueue};
use cb_cluster::store::RedisStore;
use cb_cluster::worker::{self, WorkerConfig};
use cb_cluster::{ClusterConfig, Keys};
use cb_core::dispatch::AgentDirectory;
use cb_core::journal::{self, Journal};
use cb_core::operations::WorkerRegistry;
use cb_core::orchestrator::{Embedded, OrchestratorArgs};
use cb_core::runs::{MemoryStore, RunStore};
use cb_planner::Planner;
use cb_planner::openai::{LlmClient, LlmConfig};
use cb_server::{AppState, RunService, ServiceConfig, router};

/// Planning with an LLM behind an OpenAI-compatible endpoint (cb-llm-node, vLLM, …).
#[derive(Debug, Clone, Args)]
pub struct LlmArgs {
    /// The endpoint's API base, e.g. http://127.0.0.1:8000/v1. Without it the rule-based planner
    /// plans alone.
    #[arg(long, env = "CBUTLER_LLM_URL")]
    pub llm_url: Option<String>,
    /// The model name to ask for.
    #[arg(long, env = "CBUTLER_LLM_MODEL", requires = "llm_url")]
    pub llm_model: Option<String>,
    /// Bearer token for the endpoint (or CBUTLER_LLM_API_KEY).
    #[arg(long, env = "CBUTLER_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// Seconds one LLM call may take.
    #[arg(long, env = "CBUTLER_LLM_TIMEOUT", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub llm_timeout: u64,
    /// Input plus output tokens one run may spend on LLM calls.
    #[arg(long, env = "CBUTLER_LLM_TOKEN_BUDGET", default_value_t = 16_000, value_parser = clap::value_parser!(u32).range(100..=10_000_000))]
    pub llm_token_budget: u32,
    /// Keep the template answer text instead of asking the LLM to write it.
    #[arg(long, env = "CBUTLER_LLM_NO_PROSE")]
    pub llm_no_prose: bool,
    /// Leave the worked examples out of the planning prompt (for a model with a short context).
    #[arg(long, env = "CBUTLER_LLM_NO_EXAMPLES")]
    pub llm_no_examples: bool,
}

impl LlmArgs {
    pub fn planner(&self) -> Result<Planner> {
        let Some(url) = &self.llm_url else {
            return Ok(Planner::Rules);
        };
        let Some(model) = &self.llm_model else {
            bail!("--llm-url needs --llm-model NAME (the model the endpoint serves)");
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--llm-url {url:?} must start with http:// or https://");
        }
        let mut config = LlmConfig::new(url, model);
        config.api_key = self.llm_api_key.clone();
        config.timeout = Duration::from_secs(self.llm_timeout);
        config.token_budget = self.llm_token_budget;
        config.prose = !self.llm_no_prose;
        config.worked_examples = !self.llm_no_examples;
        Ok(Planner::Llm(Arc::new(LlmClient::new(config)?)))
    }
}

/// Where the cluster's Redis is and how its keys are named.
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// Prefix of every key, so several clusters can share one Redis.
    #[arg(long, env = "CBUTLER_PREFIX", default_value = "cbutler")]
    pub prefix: String,
    /// Seconds a task may go without its worker refreshing its claim before another worker
    /// takes it over.
    #[arg(long, env = "CBUTLER_CLAIM_AFTER", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub claim_after: u64,
    /// Attempts before a task goes to the dead-letter stream.
    #[arg(long, env = "CBUTLER_MAX_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Tasks waiting or running per agent kind before new work is refused (busy, retry after).
    #[arg(long, env = "CBUTLER_MAX_PENDING", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_pending: u64,
    /// Seconds one task may run.
    #[arg(long, env = "CBUTLER_TASK_TIMEOUT", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub task_timeout: u64,
}

impl RedisArgs {
    fn config(&self, url: &str) -> ClusterConfig {
        let mut c = ClusterConfig::new(url, &self.prefix);
        c.claim_after = Duration::from_secs(self.claim_after);
        c.max_attempts = self.max_attempts;
        c.max_pending = self.max_pending as usize;
        c
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CBUTLER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Redis URL (redis://[:password@]host:port[/db], rediss:// for TLS): runs go to
    /// `cbutler worker`s and live in Redis. Without it, the agents run in this process and runs
    /// live in memory (and the local journal).
    #[arg(long, env = "CBUTLER_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
    #[command(flatten)]
    pub cluster: RedisArgs,
    #[command(flatten)]
    pub llm: LlmArgs,
    /// Runs accepted and unfinished before new questions are refused (busy, retry after).
    #[arg(long, env = "CBUTLER_MAX_ACTIVE_RUNS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_active_runs: u64,
    /// Runs one token (without tokens: all callers together) may have in progress on this
    /// server at once; more get 429 with Retry-After.
    #[arg(long, env = "CBUTLER_MAX_RUNS_PER_TOKEN", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_runs_per_token: u64,
    /// Event streams one token may hold open on this server at once.
    #[arg(long, env = "CBUTLER_MAX_STREAMS_PER_TOKEN", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_streams_per_token: u64,
    /// Seconds a run's lease lasts; the runs of a server that stopped are resumed after this.
    #[arg(long, env = "CBUTLER_LEASE", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease: u64,
    /// This server's name (default: host name and process id).
    #[arg(long, env = "CBUTLER_NAME")]
    pub name: Option<String>,
    /// Bearer tokens with roles (TOML: [[token]] name, role = analyst|auditor|operator, sha256);
    /// `cbutler token new` makes one. Without it the API is open: bind it to localhost only.
    #[arg(long, env = "CBUTLER_AUTH_FILE")]
    pub auth: Option<std::path::PathBuf>,
    /// Also serve /metrics and /livez here without a token, for Prometheus (e.g. 0.0.0.0:9090;
    /// keep the port off the Service and limit who reaches it). On the main address /metrics
    /// stays the operator's.
    #[arg(long, env = "CBUTLER_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Listen beyond loopback without --auth: anyone who can reach the port may ask, read every
    /// run and its decision log. Refused unless given.
    #[arg(long, env = "CBUTLER_INSECURE_OPEN")]
    pub insecure_open: bool,
    /// Seconds a client may take to send a request's headers (and a keep-alive connection may
    /// sit idle).
    #[arg(long, env = "CBUTLER_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout: u64,
    /// Seconds a client may take to send a request's body.
    #[arg(long, env = "CBUTLER_BODY_READ_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub body_read_timeout: u64,
    /// Days a finished run and its events stay in Redis (0: for ever). Embedded, a server keeps
    /// its 10,000 most recent runs in memory.
    #[arg(long, env = "CBUTLER_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=36_500))]
    pub retention_days: u64,
    /// Days a closed decision log stays in Redis (0, the default: for ever). The index of runs
    /// records each log's expiry, so an expired log is not reported as deleted.
    #[arg(long, env = "CBUTLER_AUDIT_RETENTION_DAYS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=36_500))]
    pub audit_retention_days: u64,
    /// Connections open at once.
    #[arg(long, env = "CBUTLER_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_connections: u64,
    #[command(flatten)]
    pub data: DataRootArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Redis URL (redis://[:password@]host:port[/db], rediss:// for TLS).
    #[arg(long, env = "CBUTLER_REDIS_URL", hide_env_values = true)]
    pub redis: String,
    /// Agent kinds to serve, comma-separated: trade,lca,sinks,factory,uncertainty.
    #[arg(
        long,
        env = "CBUTLER_AGENTS",
        value_delimiter = ',',
        default_value = "trade,lca,sinks,factory,uncertainty"
    )]
    pub agents: Vec<String>,
    /// Tasks of each kind run at once.
    #[arg(long, env = "CBUTLER_CONCURRENCY", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
    #[command(flatten)]
    pub cluster: RedisArgs,
    /// On SIGTERM, seconds running tasks may take before they are handed back.
    #[arg(long, env = "CBUTLER_GRACE", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub grace: u64,
    /// This worker's name (default: host name and process id).
    #[arg(long, env = "CBUTLER_NAME")]
    pub name: Option<String>,
    /// Serve /livez, /health (503 while Redis is unreachable) and /metrics here, for probes
    /// and Prometheus (e.g. 0.0.0.0:9090). Off when absent.
    #[arg(long, env = "CBUTLER_HEALTH_LISTEN")]
    pub health_listen: Option<String>,
    #[command(flatten)]
    pub data: DataRootArgs,
}

/// Where served questions may name files.
#[derive(Debug, Clone, Args)]
pub struct DataRootArgs {
    /// A folder whose MRIOs and inventory databases callers may name; repeatable (the variable
    /// takes a colon-separated list). Any other path is refused, symlinks leaving a root
    /// included. Default: the source checkout's bundled data folder and $CBUTLER_HOME/data.
    #[arg(long = "data-root", env = "CBUTLER_DATA_ROOTS", value_delimiter = ':')]
    pub data_roots: Vec<std::path::PathBuf>,
}

impl DataRootArgs {
    /// The named roots (each must exist), or the defaults that exist.
    pub fn roots(&self) -> Result<Arc<cb_core::DataRoots>> {
        let roots = if self.data_roots.is_empty() {
            let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
            let home = journal::default_home().join("data");
            cb_core::DataRoots::new(&[], &[bundled, home])
        } else {
            cb_core::DataRoots::new(&self.data_roots, &[])
        };
        let roots = roots.map_err(anyhow::Error::msg)?;
        Ok(Arc::new(roots))
    }
}

/// The local decision-log store and this machine's signing key (both under `home`).
pub fn local_audit(home: &std::path::Path) -> Result<(AuditStore, AuditKey)> {
    let key = AuditKey::load_or_create(&AuditKey::default_path(home))?;
    Ok((AuditStore::Local(LocalAudit::new(home)), key))
}

/// Binds a second, token-free endpoint (metrics, probes) and serves it in the background.
async fn side_server(flag: &str, addr: &str, what: &str, app: axum::Router) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("{flag}: cannot listen on {addr}"))?;
    eprintln!("{what} on http://{}", listener.local_addr()?);
    let flag = flag.to_string();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("warning: the {flag} endpoint stopped: {e}");
        }
    });
    Ok(())
}

fn roots_line(roots: &cb_core::DataRoots) -> String {
    if roots.roots().is_empty() {
        return "no data roots: questions may name no MRIO or inventory file".into();
    }
    let list: Vec<String> = roots.roots().iter().map(|r| r.display().to_string()).collect();
    format!("files are read only under {}", list.join(", "))
}

fn default_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}", std::process::id())
}

fn parse_agents(names: &[String]) -> Result<Vec<AgentKind>> {
    let mut kinds = Vec::new();
    for n in names {
        let n = n.trim();
        let Some(kind) = AgentKind::ALL.into_iter().find(|k| k.as_str() == n) else {
            bail!("--agents: {n:?} is not an agent kind (trade, lca, sinks, factory, uncertainty)");
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        bail!("--agents names no agent kind");
    }
    Ok(kinds)
}

/// A watch that turns true on SIGINT or SIGTERM.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    let _ = tx.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        let _ = tx.send(true);
    });
    rx
}

impl ServeArgs {
    fn quotas(&self) -> cb_server::Quotas {
        cb_server::Quotas {
            runs_per_token: self.max_runs_per_token as usize,
            streams_per_token: self.max_streams_per_token as usize,
        }
    }
}

pub fn serve(args: ServeArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(serve_async(args));
    // Unfinished runs resume from the store; an embedded agent's computation is not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve_async(args: ServeArgs) -> Result<()> {
    let planner = args.llm.planner()?;
    let owner = args.name.clone().unwrap_or_else(default_name);
    let tokens = match &args.auth {
        Some(path) => Some(Arc::new(cb_server::auth::Tokens::load(path)?)),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let loopback = listener.local_addr()?.ip().is_loopback();
    if tokens.is_none() && !loopback && !args.insecure_open {
        bail!(
            "refusing to serve {} without tokens: anyone who reaches it could ask, and read every \
             run and decision log. Give --auth FILE (see `cbutler token`), listen on 127.0.0.1, or \
             pass --insecure-open",
            args.listen
        );
    }
    let task_timeout = Duration::from_secs(args.cluster.task_timeout);
    let home = journal::default_home();
    let data_roots = args.data.roots()?;
    let key = AuditKey::load_or_create(&AuditKey::default_path(&home))?;
    eprintln!(
        "cbutler serve: decision logs are signed with Ed25519 key {}",
        key.public_hex()
    );
    eprintln!("cbutler serve: {}", roots_line(&data_roots));
    let config = ServiceConfig {
        planner: planner.clone(),
        token_budget: args.llm.llm_token_budget,
        max_active_runs: args.max_active_runs as usize,
        journal: None,
        owner,
        lease_ttl: Duration::from_secs(args.lease),
        audit: None,
        data_roots: Some(data_roots.clone()),
        quotas: args.quotas(),
    };
    let mut embedded = None;
    let (service, workers) = match &args.redis {
        Some(url) => {
            let cluster = args.cluster.config(url);
            let queue = TaskQueue::start(cluster.clone())
                .await
                .with_context(|| format!("cannot reach Redis at {}", cb_cluster::redacted(url)))?;
            let agents = AgentDirectory::default();
            for kind in AgentKind::ALL {
                agents.register(Arc::new(RedisAgent {
                    kind,
                    queue: queue.clone(),
                    timeout: task_timeout,
                }));
            }
            let days = |d: u64| (d > 0).then(|| Duration::from_secs(d * 86_400));
            let retention = cb_cluster::store::Retention {
                runs: days(args.retention_days),
                audit: days(args.audit_retention_days),
            };
            let store = Arc::new(
                RedisStore::connect(url, Keys::new(&args.cluster.prefix))
                    .await?
                    .with_retention(retention),
            );
            let config = ServiceConfig {
                audit: Some((AuditStore::Shared(store.clone()), key)),
                ..config
            };
            let service = RunService::new(RunStore::Shared(store.clone()), agents, Some(queue), config);
            let workers: Arc<dyn WorkerRegistry> = store;
            (service, Some(workers))
        }
        None => {
            let e = Embedded::start(OrchestratorArgs {
                journal: None,
                task_timeout,
                planner,
                token_budget: args.llm.llm_token_budget,
                data_roots: Some(data_roots.clone()),
            })
            .await
            .context("cannot start the orchestrator")?;
            let agents = e.agents().await?;
            embedded = Some(e);
            let config = ServiceConfig {
                journal: Some(Journal::new(&home)),
                audit: Some((AuditStore::Local(LocalAudit::new(&home)), key)),
                ..config
            };
            (
                RunService::new(RunStore::Memory(MemoryStore::default()), agents, None, config),
                None,
            )
        }
    };
    service.start_resumer();
    let mode = if workers.is_some() {
        "cluster (Redis)"
    } else {
        "embedded"
    };
    eprintln!(
        "cbutler serve: listening on http://{} ({mode})",
        listener.local_addr()?
    );
    let state = AppState {
        service,
        workers,
        loopback_hosts_only: tokens.is_none() && loopback,
        tokens,
    };
    if let Some(addr) = &args.metrics_listen {
        let app = cb_server::metrics_router(state.clone());
        side_server("--metrics-listen", addr, "cbutler serve: metrics", app).await?;
    }
    let limits = cb_server::listen::ConnectionLimits {
        header_read: Duration::from_secs(args.header_read_timeout),
        body_read: Duration::from_secs(args.body_read_timeout),
        max_connections: args.max_connections as usize,
    };
    cb_server::listen::serve(listener, router(state), limits, shutdown_signal()).await?;
    if let Some(e) = embedded {
        e.shutdown().await;
    }
    Ok(())
}

pub fn worker(args: WorkerArgs) -> Result<()> {
    let agents = parse_agents(&args.agents)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let config = WorkerConfig {
        cluster: args.cluster.config(&args.redis),
        name: args.name.clone().unwrap_or_else(default_name),
        agents,
        concurrency: args.concurrency as usize,
        task_timeout: Duration::from_secs(args.cluster.task_timeout),
        grace: Duration::from_secs(args.grace),
        data_roots: args.data.roots()?,
    };
    let health = WorkerHealth::new(&config.name, &config.agents);
    let result = runtime.block_on(async move {
        let names: Vec<&str> = config.agents.iter().map(|k| k.as_str()).collect();
        if let Some(addr) = &args.health_listen {
            let app = cb_cluster::health::router(health.clone());
            let what = format!("cbutler worker {}: health and metrics", config.name);
            side_server("--health-listen", addr, &what, app).await?;
        }
        eprintln!(
            "cbutler worker {}: serving {} ({} at a time each) from {}; {}",
            config.name,
            names.join(", "),
            config.concurrency,
            cb_cluster::redacted(&config.cluster.url),
            roots_line(&config.data_roots)
        );
        anyhow::Ok(worker::run(config, shutdown_signal(), health).await?)
    });
    // A task handed back may still be computing on a blocking thread: do not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result?;
    Ok(())
}
