//! The real `openai` Python client (PyPI, in .venv/ by scripts/pyenv.sh) against the real
//! `cb-llm-node` binary serving the tiny SYNTHETIC Qwen3 checkpoint over HTTP.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_openai_python_client_talks_to_the_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pyenv.sh (scripts/test does) to install the openai client",
        python.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cb-llm-node"))
        .args([
            "--model",
            &root.join("tests/fixtures/qwen3-tiny").display().to_string(),
        ])
        .args([
            "--served-model-name",
            "tiny-qwen3",
            "--dtype",
            "f32",
            "--device",
            "cpu",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--api-key", "test-key"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for "listening" on stderr.
    let stderr = child.stderr.take().unwrap();
    let node = Node(child);
    let mut line = String::new();
    let mut reader = BufReader::new(stderr);
    while !line.contains("listening") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "cb-llm-node exited before listening"
        );
    }
    let out = Command::new(&python)
        .arg(root.join("tests/openai_client.py"))
        .args([&format!("http://127.0.0.1:{port}/v1"), "tiny-qwen3"])
        .output()
        .unwrap();
    drop(node);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all ok"), "{text}");
}
