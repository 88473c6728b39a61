//! The real `openai` Python client (PyPI, in .venv/ by scripts/pyenv.sh) against the real
//! `cb-llm-node` binary serving the tiny SYNTHETIC Qwen3 checkpoint over HTTP.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_openai_python_client_talks_to_the_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pyenv.sh (scripts/test does) to install the openai client",
        python.display()
    );
    let key_file = std::env::temp_dir().join(format!("cb-llm-key-{}", std::process::id()));
    std::fs::write(&key_file, "test-key\n").unwrap();
    let node = common::start(
        "qwen3-tiny",
        "tiny-qwen3",
        &["--api-key-file", key_file.to_str().unwrap()],
    );
    let port = node.port;
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
