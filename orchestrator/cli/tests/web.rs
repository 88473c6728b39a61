//! The web page in a real browser: `orchestrator/server/web/tests/e2e.mjs` drives Debian's Chromium
//! with playwright-core against a real cluster — `cbutler serve` with bearer tokens on the Redis
//! at 127.0.0.1:6379 and one worker for the trade, lca and factory agents (so the page has a
//! down agent kind to report). Screenshots and downloads land in `target/tmp/web-artifacts/`.
//!
//! Needs Node.js, `/usr/bin/chromium` and `orchestrator/server/web/node_modules` (scripts/web.sh, which
//! scripts/test runs, installs the last two).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cb_server::auth::{Role, new_token};
use common::*;

const REDIS: &str = "redis://127.0.0.1:6379";

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_in_chromium_asks_follows_answers_charts_and_audits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let web = root.join("../server/web");
    assert!(
        web.join("node_modules/playwright-core").exists() && Path::new(&chromium()).exists(),
        "the browser test needs {} and {}: run scripts/web.sh (scripts/test does)",
        web.join("node_modules").display(),
        chromium()
    );
    let dir = tempfile::tempdir().unwrap();
    let (analyst, analyst_entry) = new_token("alice", Role::Analyst);
    let (auditor, auditor_entry) = new_token("audrey", Role::Auditor);
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, format!("{analyst_entry}\n{auditor_entry}")).unwrap();

    let p = prefix("web");
    let port = free_port();
    // The test MRIO's folder is a data root of the server and the worker.
    let fixtures = root
        .join("../../actors/trade/tests/fixtures")
        .canonicalize()
        .unwrap();
    let fixtures = fixtures.display().to_string();
    let serve = serve(
        REDIS,
        &p,
        port,
        &["--auth", &tokens.display().to_string(), "--data-root", &fixtures],
    );
    let _worker = worker(
        REDIS,
        &p,
        "web-worker",
        "trade,lca,factory",
        &[],
        &["--data-root", &fixtures],
    );
    // Up, with the worker registered.
    let started = Instant::now();
    loop {
        if let Ok(r) = http()
            .get(format!("http://127.0.0.1:{port}/v1/status"))
            .send()
            .await
            && let Ok(status) = r.json::<serde_json::Value>().await
            && status["agents"]
                .as_array()
                .is_some_and(|a| a.iter().any(|k| k["agent"] == "trade" && k["available"] == true))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve and its worker did not come up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    let mrio = root.join("../../actors/trade/tests/fixtures/pymrio-test/input");
    let out = Command::new("node")
        .arg(web.join("tests/e2e.mjs"))
        .current_dir(&web)
        .env("CBUTLER_URL", format!("http://127.0.0.1:{port}"))
        .env("CBUTLER_ANALYST_TOKEN", &analyst)
        .env("CBUTLER_AUDITOR_TOKEN", &auditor)
        .env("CBUTLER_MRIO", mrio.canonicalize().unwrap())
        .env("CBUTLER_SERVE_PID", serve.child.id().to_string())
        .env("CBUTLER_ARTIFACTS", &artifacts)
        .env("CHROMIUM", chromium())
        .output()
        .expect("node runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}\nscreenshots and downloads: {}", artifacts.display());
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all ok"), "{text}");
    let shots = std::fs::read_dir(&artifacts)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert!(shots >= 10, "{shots} screenshots in {}", artifacts.display());
}
