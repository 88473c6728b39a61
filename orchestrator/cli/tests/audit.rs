//! The decision log through the `cbutler` binary and the local store: a run's log verifies;
//! changing, reordering, removing or inserting an entry, cutting the end off, or forging the head
//! is detected and named; an export verifies offline; a replay reproduces every number.
//! (`cluster.rs` does the same against the Redis store, and a crashed server's log.)

use std::path::Path;
use std::process::{Command, Output};

use cb_audit::{AuditHead, AuditKey};

fn cbutler(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cbutler"))
        .env("CBUTLER_HOME", home)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_run_log_verifies_and_every_tampering_is_named() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let asked = cbutler(
        h,
        &[
            "ask",
            "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
        ],
    );
    assert!(asked.status.success(), "{}", text(&asked));
    let list = cbutler(h, &["audit", "list"]);
    let run = String::from_utf8_lossy(&list.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(text(&asked).contains(&run));

    let ok = cbutler(h, &["audit", "verify", &run]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("intact: 6 entries"), "{}", text(&ok));
    let shown = text(&cbutler(h, &["audit", "show", &run]));
    for kind in [
        "question",
        "planning_attempt",
        "plan",
        "task_dispatched",
        "task_result",
        "answer",
    ] {
        assert!(shown.contains(kind), "{kind}: {shown}");
    }
    // The trusted key is the one `public-key` prints.
    let key_file = h.join("trusted.pub");
    std::fs::write(&key_file, cbutler(h, &["audit", "public-key"]).stdout).unwrap();
    let trusted = cbutler(
        h,
        &[
            "audit",
            "verify",
            &run,
            "--public-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(trusted.status.success(), "{}", text(&trusted));

    let log = h.join("audit").join(format!("{run}.jsonl"));
    let head_path = h.join("audit").join(format!("{run}.head.json"));
    let original = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let check = |content: String, needle: &str| {
        std::fs::write(&log, content).unwrap();
        let v = cbutler(h, &["audit", "verify", &run]);
        assert_eq!(v.status.code(), Some(1), "{}", text(&v));
        assert!(text(&v).contains(needle), "{needle}: {}", text(&v));
    };
    // A recorded number changed.
    let changed = lines[4]
        .replacen("\"value\":", "\"value\":1+", 1)
        .replace("1+", "9");
    assert_ne!(changed, lines[4]);
    check(
        [&lines[..4], &[changed.as_str()], &lines[5..]]
            .concat()
            .join("\n"),
        "entry 4 (task_result) was altered",
    );
    // Reordered, removed, inserted, cut off.
    check(
        [lines[0], lines[2], lines[1], lines[3], lines[4], lines[5]].join("\n"),
        "entry 1",
    );
    check(
        [lines[0], lines[1], lines[3], lines[4], lines[5]].join("\n"),
        "entry 2",
    );
    check(
        [
            lines[0], lines[1], lines[1], lines[2], lines[3], lines[4], lines[5],
        ]
        .join("\n"),
        "entry 2",
    );
    check(lines[..5].join("\n"), "cut off at the end");
    std::fs::write(&log, &original).unwrap();

    // A forged head: re-signed by another key, or its signature altered.
    let head: AuditHead = serde_json::from_slice(&std::fs::read(&head_path).unwrap()).unwrap();
    let other = AuditKey::load_or_create(&h.join("other.key")).unwrap();
    let forged = other.sign_head(&run, head.count, &head.head_hash);
    std::fs::write(&head_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let v = cbutler(
        h,
        &[
            "audit",
            "verify",
            &run,
            "--public-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert_eq!(v.status.code(), Some(1));
    assert!(text(&v).contains("not by the trusted key"), "{}", text(&v));
    let mut bad = head.clone();
    bad.signature = forged.signature.clone();
    std::fs::write(&head_path, serde_json::to_vec(&bad).unwrap()).unwrap();
    let v = cbutler(h, &["audit", "verify", &run]);
    assert!(text(&v).contains("signature is not valid"), "{}", text(&v));
    std::fs::write(&head_path, serde_json::to_vec(&head).unwrap()).unwrap();

    // A log copied under another run's id is not that run's log, and a log signed by another
    // key is refused unless the user says to trust the log's own key.
    let other = "run-1-0-0-00000000";
    let dir = h.join("audit");
    std::fs::copy(
        dir.join(format!("{run}.jsonl")),
        dir.join(format!("{other}.jsonl")),
    )
    .unwrap();
    std::fs::copy(
        dir.join(format!("{run}.head.json")),
        dir.join(format!("{other}.head.json")),
    )
    .unwrap();
    let copied = cbutler(h, &["audit", "verify", other]);
    assert_eq!(copied.status.code(), Some(1), "{}", text(&copied));
    assert!(
        text(&copied).contains(&format!("belongs to run {run}, not {other}")),
        "{}",
        text(&copied)
    );
    let stranger = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(stranger.path().join("audit")).unwrap();
    for f in [format!("{run}.jsonl"), format!("{run}.head.json")] {
        std::fs::copy(dir.join(&f), stranger.path().join("audit").join(&f)).unwrap();
    }
    let no_key = cbutler(stranger.path(), &["audit", "verify", &run]);
    assert!(!no_key.status.success());
    assert!(text(&no_key).contains("no trusted key"), "{}", text(&no_key));
    let own_key = cbutler(stranger.path(), &["audit", "verify", &run, "--trust-log-key"]);
    assert!(own_key.status.success(), "{}", text(&own_key));
    assert!(
        text(&own_key).contains("its origin is not checked"),
        "{}",
        text(&own_key)
    );
    let wrong_key = tempfile::tempdir().unwrap();
    cbutler(wrong_key.path(), &["audit", "public-key"]);
    for f in [format!("{run}.jsonl"), format!("{run}.head.json")] {
        std::fs::create_dir_all(wrong_key.path().join("audit")).unwrap();
        std::fs::copy(dir.join(&f), wrong_key.path().join("audit").join(&f)).unwrap();
    }
    let foreign = cbutler(wrong_key.path(), &["audit", "verify", &run]);
    assert_eq!(foreign.status.code(), Some(1), "{}", text(&foreign));
    assert!(
        text(&foreign).contains("not by the trusted key"),
        "{}",
        text(&foreign)
    );

    // Export, verified offline; replay reproduces every number.
    let export = h.join("run.jsonl");
    assert!(
        cbutler(h, &["audit", "export", &run, "--out", export.to_str().unwrap()])
            .status
            .success()
    );
    std::fs::remove_dir_all(h.join("audit")).unwrap();
    let offline = cbutler(
        h,
        &[
            "audit",
            "verify",
            export.to_str().unwrap(),
            "--public-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(offline.status.success(), "{}", text(&offline));
    let exported = std::fs::read_to_string(&export).unwrap();
    let replay_home = tempfile::tempdir().unwrap();
    let audit_dir = replay_home.path().join("audit");
    std::fs::create_dir_all(&audit_dir).unwrap();
    let entries: Vec<&str> = exported.lines().skip(1).collect();
    std::fs::write(audit_dir.join(format!("{run}.jsonl")), entries.join("\n")).unwrap();
    let replay = cbutler(replay_home.path(), &["audit", "replay", &run]);
    assert!(replay.status.success(), "{}", text(&replay));
    assert!(
        text(&replay).contains("3 number(s) reproduced, 0 did not"),
        "{}",
        text(&replay)
    );
    // A result that does not reproduce: one recorded number altered. Replay names it, counts it
    // and fails.
    let mut altered: Vec<String> = entries.iter().map(|l| l.to_string()).collect();
    let at = altered
        .iter()
        .position(|l| l.contains("\"task_result\""))
        .expect("a task result entry");
    let mut entry: serde_json::Value = serde_json::from_str(&altered[at]).unwrap();
    let number = entry
        .pointer_mut("/body/numbers/0/value")
        .expect("a recorded number");
    let was = number.as_f64().unwrap();
    *number = serde_json::json!(was * 1.01 + 1.0);
    altered[at] = entry.to_string();
    std::fs::write(audit_dir.join(format!("{run}.jsonl")), altered.join("\n")).unwrap();
    let replay = cbutler(replay_home.path(), &["audit", "replay", &run]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
    assert!(
        text(&replay).contains("DIFFERS") && text(&replay).contains("2 number(s) reproduced, 1 did not"),
        "{}",
        text(&replay)
    );
}

#[test]
fn bad_audit_requests_are_named() {
    let home = tempfile::tempdir().unwrap();
    let v = cbutler(home.path(), &["audit", "verify", "run-nope"]);
    assert!(!v.status.success());
    assert!(text(&v).contains("no audit log for run run-nope"), "{}", text(&v));
}

/// `cbutler ask` with `OTEL_EXPORTER_OTLP_ENDPOINT` set exports its run's spans before it exits
/// (to tests/otlp_receiver.py, which decodes them with `opentelemetry-proto`), and every entry
/// of the run's decision log names that trace.
#[test]
fn an_ask_exports_one_trace_and_its_log_names_it() {
    use std::io::{BufRead, BufReader};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pyenv.sh",
        python.display()
    );
    let home = tempfile::tempdir().unwrap();
    let spans_file = home.path().join("spans.jsonl");
    let mut receiver = Command::new(&python)
        .arg(root.join("tests/otlp_receiver.py"))
        .arg(&spans_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(receiver.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let asked = Command::new(env!("CARGO_BIN_EXE_cbutler"))
        .env("CBUTLER_HOME", home.path())
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", port.trim()),
        )
        .args([
            "ask",
            "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
        ])
        .output()
        .unwrap();
    // The exporter's requests were answered before `ask` exited: the spans are on file now.
    let _ = receiver.kill();
    let _ = receiver.wait();
    assert!(asked.status.success(), "{}", text(&asked));
    let spans: Vec<serde_json::Value> = std::fs::read_to_string(&spans_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    for name in ["run", "plan", "invoke_agent trade"] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    let trace = spans[0]["trace_id"].as_str().unwrap().to_string();
    assert!(
        spans.iter().all(|s| s["trace_id"] == trace.as_str()),
        "{spans:#?}"
    );
    assert!(spans.iter().all(|s| s["service"] == "cbutler"), "{spans:#?}");

    let list = cbutler(home.path(), &["audit", "list"]);
    let run = String::from_utf8_lossy(&list.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let shown = cbutler(home.path(), &["audit", "show", &run, "--json"]);
    let log: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let entries = log["entries"].as_array().unwrap_or_else(|| panic!("{log:#}"));
    assert_eq!(entries.len(), 6);
    for e in entries {
        assert_eq!(e["trace_id"], trace.as_str(), "{e:#}");
    }
}

/// The index of runs finds what a run's own log cannot show: the whole log deleted, or cut back
/// to an earlier head that was validly signed at the time.
#[test]
fn the_index_of_runs_finds_a_deleted_or_cut_back_log() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for q in [
        "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
        "What uncertainty do pedigree scores (2,3,1,4,5) imply?",
    ] {
        let asked = cbutler(h, &["ask", q]);
        assert!(asked.status.success(), "{}", text(&asked));
    }
    let ok = cbutler(h, &["audit", "verify-index"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("naming 2 runs"), "{}", text(&ok));
    let list = String::from_utf8_lossy(&cbutler(h, &["audit", "list"]).stdout).into_owned();
    let runs: Vec<&str> = list.lines().collect();
    assert_eq!(runs.len(), 2, "{list}");
    let dir = h.join("audit");

    // Cut back to three entries under a head signed with the real key: the run's own check
    // cannot tell (it reads as a run that stopped), the index can.
    let cut = runs[0];
    let log = std::fs::read_to_string(dir.join(format!("{cut}.jsonl"))).unwrap();
    let kept: Vec<&str> = log.lines().take(3).collect();
    let last: cb_audit::AuditEntry = serde_json::from_str(kept[2]).unwrap();
    let key = AuditKey::load_or_create(&AuditKey::default_path(h)).unwrap();
    let head = key.sign_head(cut, 3, &last.hash);
    std::fs::write(dir.join(format!("{cut}.jsonl")), kept.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.join(format!("{cut}.head.json")),
        serde_json::to_vec(&head).unwrap(),
    )
    .unwrap();
    let own = cbutler(h, &["audit", "verify", cut]);
    assert!(
        own.status.success() && text(&own).contains("incomplete"),
        "{}",
        text(&own)
    );
    // Delete the other run's log whole.
    let gone = runs[1];
    std::fs::remove_file(dir.join(format!("{gone}.jsonl"))).unwrap();
    std::fs::remove_file(dir.join(format!("{gone}.head.json"))).unwrap();

    let v = cbutler(h, &["audit", "verify-index"]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(
        text(&v).contains(&format!("run {cut}: closed with")),
        "{}",
        text(&v)
    );
    assert!(text(&v).contains("(cut back)"), "{}", text(&v));
    assert!(
        text(&v).contains(&format!("run {gone}: the index names it, but its log is gone")),
        "{}",
        text(&v)
    );
}
