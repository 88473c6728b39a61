//! The real `cb-llm-node` binary serving a test fixture on a free port, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Node {
    pub child: Child,
    pub port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the node on `fixture` (under tests/fixtures) as `served_name`, f32 on the CPU, and
/// returns once it listens. `extra` adds flags (e.g. `--api-key-file`).
#[allow(dead_code)] // not every test binary uses both
pub fn start(fixture: &str, served_name: &str, extra: &[&str]) -> Node {
    start_with_env(fixture, served_name, extra, &[])
}

/// [`start`] with environment variables set for the node (e.g. OpenTelemetry's).
pub fn start_with_env(fixture: &str, served_name: &str, extra: &[&str], env: &[(&str, &str)]) -> Node {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cb-llm-node"))
        .args([
            "--model",
            &root.join("tests/fixtures").join(fixture).display().to_string(),
        ])
        .args([
            "--served-model-name",
            served_name,
            "--dtype",
            "f32",
            "--device",
            "cpu",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let node = Node { child, port };
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    while !line.contains("listening") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "cb-llm-node exited before listening"
        );
    }
    // Keep draining its log so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    node
}
