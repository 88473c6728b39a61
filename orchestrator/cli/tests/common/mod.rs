//! Real processes for the cluster tests: `cbutler serve` and `cbutler worker` children that are
//! killed when dropped, a Redis of a test's own, and a TCP proxy that can cut a worker off.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const QUESTION: &str =
    "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?";

/// A port to listen on, below Linux's ephemeral range (32768-60999): a port the kernel hands
/// out as "free" can be taken by any outgoing connection (to Redis, say) before the child
/// process binds it.
pub fn free_port() -> u16 {
    loop {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A key prefix no other test uses.
pub fn prefix(name: &str) -> String {
    format!("cbtest-{name}-{}-{}", std::process::id(), free_port())
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn term(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `CBUTLER_HOME` of every process a test starts (so they share one signing key).
pub fn test_home() -> PathBuf {
    std::env::temp_dir().join(format!("cbutler-test-home-{}", std::process::id()))
}

fn cbutler() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cbutler"));
    c.env("CBUTLER_HOME", test_home()).stdin(Stdio::null());
    c
}

/// `cbutler serve` on `port`: a cluster server with `Some(redis URL and prefix)`, else embedded.
fn serve_with(cluster: Option<(&str, &str)>, port: u16, extra: &[&str]) -> Proc {
    let mut c = cbutler();
    c.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    if let Some((redis, prefix)) = cluster {
        c.args(["--redis", redis, "--prefix", prefix, "--lease", "2"]);
    }
    Proc {
        child: c.args(extra).spawn().expect("cbutler serve starts"),
        name: format!("serve:{port}"),
    }
}

pub fn serve(redis: &str, prefix: &str, port: u16, extra: &[&str]) -> Proc {
    serve_with(Some((redis, prefix)), port, extra)
}

pub fn embedded_serve(port: u16, extra: &[&str]) -> Proc {
    serve_with(None, port, extra)
}

pub fn worker(
    redis: &str,
    prefix: &str,
    name: &str,
    agents: &str,
    env: &[(&str, &str)],
    extra: &[&str],
) -> Proc {
    let mut c = cbutler();
    c.args([
        "worker", "--redis", redis, "--prefix", prefix, "--name", name, "--agents", agents,
    ])
    .args(["--claim-after", "2"])
    .args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    Proc {
        child: c.spawn().expect("cbutler worker starts"),
        name: name.to_string(),
    }
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Waits until the server `serve` listening on `port` answers its health probe; fails at once,
/// with its exit status, if the server has exited instead.
pub async fn wait_healthy(serve: &mut Proc, port: u16) {
    let client = http();
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = serve.child.try_wait() {
            panic!("{} exited ({status}) before it became healthy", serve.name);
        }
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/health")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "serve on {port} did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GETs a URL's body as text.
pub async fn get_text(url: &str) -> String {
    http().get(url).send().await.unwrap().text().await.unwrap()
}

/// GETs a path of the server on `port` as JSON.
pub async fn get_json(port: u16, path: &str) -> Value {
    http()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Posts a question and returns the run id.
pub async fn ask(port: u16, question: &str) -> String {
    let r = http()
        .post(format!("http://127.0.0.1:{port}/v1/questions"))
        .json(&serde_json::json!({ "question": question }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let body: Value = r.json().await.unwrap();
    body["run_id"].as_str().unwrap().to_string()
}

/// GETs a run, tolerating a server that is down or restarting.
pub async fn run_state(port: u16, run: &str) -> Option<Value> {
    let r = http()
        .get(format!("http://127.0.0.1:{port}/v1/runs/{run}"))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

/// Waits until a run is done or failed.
pub async fn wait_finished(port: u16, run: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        if let Some(state) = run_state(port, run).await {
            let status = state["status"].as_str().unwrap_or_default().to_string();
            if status == "done" || status == "failed" {
                return state;
            }
        }
        assert!(
            start.elapsed() < within,
            "run {run} did not finish within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Waits until a key exists.
pub async fn wait_key(url: &str, key: &str, within: Duration) {
    let start = Instant::now();
    loop {
        if let Ok(client) = redis::Client::open(url)
            && let Ok(mut con) = client.get_multiplexed_async_connection().await
        {
            let exists: bool = redis::cmd("EXISTS")
                .arg(key)
                .query_async(&mut con)
                .await
                .unwrap_or(false);
            if exists {
                return;
            }
        }
        assert!(start.elapsed() < within, "{key} did not appear within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The uid of a run's first task once its plan is stored.
pub async fn first_task_uid(port: u16, run: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(state) = run_state(port, run).await
            && let Some(id) = state["plan"]["tasks"][0]["id"].as_str()
        {
            return format!("{run}/{id}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "run {run} was not planned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many `done` announcements a uid got (one per stored result).
pub async fn done_count(url: &str, prefix: &str, uid: &str) -> usize {
    let mut con = redis(url).await;
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{prefix}:done"))
        .arg("-")
        .arg("+")
        .query_async(&mut con)
        .await
        .unwrap();
    entries
        .ids
        .iter()
        .filter(|e| matches!(e.map.get("uid"), Some(redis::Value::BulkString(b)) if b == uid.as_bytes()))
        .count()
}

pub async fn stored_result(url: &str, prefix: &str, uid: &str) -> Value {
    let mut con = redis(url).await;
    let raw: String = redis::cmd("GET")
        .arg(format!("{prefix}:result:{uid}"))
        .query_async(&mut con)
        .await
        .unwrap();
    serde_json::from_str(&raw).unwrap()
}

/// A Redis of the test's own (persisting every write), so it can be killed and restarted.
pub struct OwnRedis {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub proc: Option<Proc>,
}

impl OwnRedis {
    pub fn start() -> OwnRedis {
        let mut r = OwnRedis {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            proc: None,
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/redis.sh installs it)");
        self.proc = Some(Proc {
            child,
            name: "redis".into(),
        });
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }
}

/// A TCP proxy to Redis that can cut every connection through it and refuse new ones.
pub struct CutProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl CutProxy {
    pub async fn start(upstream: u16) -> CutProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (c, g) = (cut.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let mut changed = g.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = changed.changed() => {}
                    }
                });
            }
        });
        CutProxy {
            port,
            cut,
            generation,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

pub fn venv_python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}
