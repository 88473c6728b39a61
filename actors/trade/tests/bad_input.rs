//! Bad input gets an error that names the problem; nothing panics.

use std::path::{Path, PathBuf};

use cb_protocol::{TaskErrorKind, TradeTask};
use cb_trade::TradeAgent;
use cb_trade::analysis::MrioAnalysis;
use cb_trade::data::load_mrio;
use cb_trade::engine;
use faer::Mat;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A writable copy of the pymrio test system.
fn copy_of_test_system() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("pymrio-test/input");
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(&src).unwrap();
            if p.is_dir() {
                std::fs::create_dir_all(dir.path().join(rel)).unwrap();
                stack.push(p);
            } else {
                std::fs::copy(&p, dir.path().join(rel)).unwrap();
            }
        }
    }
    dir
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

fn load_error(dir: &Path) -> String {
    match load_mrio(dir) {
        Ok(m) => match MrioAnalysis::new(m, &mut |_| {}) {
            Ok(_) => panic!("{} loaded and analysed without error", dir.display()),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(msg: &str, words: &[&str]) {
    for w in words {
        assert!(msg.contains(w), "error {msg:?} does not mention {w:?}");
    }
}

#[test]
fn non_square_z() {
    let dir = copy_of_test_system();
    // Drop the last column of Z (every line loses its last cell).
    edit(&dir.path().join("Z.txt"), |t| {
        t.lines()
            .map(|l| l.rsplit_once('\t').map(|(a, _)| a).unwrap_or(l).to_string() + "\n")
            .collect()
    });
    assert_mentions(
        &load_error(dir.path()),
        &["Z.txt", "not square", "48 rows × 47 columns"],
    );
}

#[test]
fn label_mismatch_names_the_first_difference() {
    let dir = copy_of_test_system();
    edit(&dir.path().join("Y.txt"), |t| {
        t.replacen("reg2\tmining", "reg2\tfishing", 1)
    });
    assert_mentions(
        &load_error(dir.path()),
        &[
            "Y.txt rows",
            "Z.txt rows",
            "position 9",
            "reg2|mining",
            "reg2|fishing",
        ],
    );

    let dir = copy_of_test_system();
    edit(&dir.path().join("emissions/F.txt"), |t| {
        t.replacen("electricity", "power", 1)
    });
    assert_mentions(
        &load_error(dir.path()),
        &["emissions/F.txt columns", "reg1|electricity", "reg1|power"],
    );
}

#[test]
fn singular_leontief_system_is_named() {
    // Two sectors that only supply each other and nothing to final demand: A = [[0,1],[1,0]].
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("file_parameters.json"),
        r#"{"files": {"Z": {"name": "Z.txt", "nr_index_col": "2", "nr_header": "2"},
                      "Y": {"name": "Y.txt", "nr_index_col": "2", "nr_header": "2"}}, "systemtype": "IOSystem"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Z.txt"),
        "region\t\tr\tr\nsector\t\tcoal\tpower\nregion\tsector\t\t\nr\tcoal\t0\t1\nr\tpower\t1\t0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Y.txt"),
        "region\t\tr\ncategory\t\thouseholds\nregion\tsector\t\nr\tcoal\t0\nr\tpower\t0\n",
    )
    .unwrap();
    assert_mentions(&load_error(dir.path()), &["singular", "r|power"]);
    // And the engine alone says which column.
    let a = Mat::from_fn(2, 2, |i, j| if i == j { 0.0 } else { 1.0 });
    let err = engine::factorize_leontief(a).err().unwrap();
    assert!(
        matches!(err, engine::EngineError::Singular { column: 1, .. }),
        "{err}"
    );
}

#[test]
fn negative_output_is_refused() {
    let dir = copy_of_test_system();
    // A huge negative change in inventories for reg1 food makes its output negative.
    edit(&dir.path().join("Y.txt"), |t| {
        t.lines()
            .map(|l| {
                if l.starts_with("reg1\tfood\t") {
                    let mut cells: Vec<&str> = l.split('\t').collect();
                    cells[6] = "-1e9";
                    cells.join("\t") + "\n"
                } else {
                    l.to_string() + "\n"
                }
            })
            .collect()
    });
    assert_mentions(&load_error(dir.path()), &["negative", "reg1|food"]);
}

/// A dataset's file that is a symlink out of its folder is not read (a served dataset could
/// otherwise reach any file the server can).
#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_dataset_is_refused() {
    let dir = copy_of_test_system();
    let outside = tempfile::tempdir().unwrap();
    std::fs::rename(dir.path().join("Y.txt"), outside.path().join("Y.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("Y.txt"), dir.path().join("Y.txt")).unwrap();
    assert_mentions(
        &load_error(dir.path()),
        &["Y.txt", "outside the dataset's folder"],
    );
}

#[test]
fn missing_and_truncated_files() {
    let dir = copy_of_test_system();
    std::fs::remove_file(dir.path().join("Y.txt")).unwrap();
    assert_mentions(&load_error(dir.path()), &["Y.txt", "not found"]);

    let dir = copy_of_test_system();
    // Cut Z.txt in the middle of its eleventh data line (line 14).
    edit(&dir.path().join("Z.txt"), |t| {
        let cut = t.match_indices('\n').nth(12).unwrap().0 + 40;
        t[..cut].to_string()
    });
    assert_mentions(&load_error(dir.path()), &["Z.txt", "line 14", "truncated"]);

    let dir = copy_of_test_system();
    // Lose the last twenty lines of Z.txt: its rows no longer match its columns.
    edit(&dir.path().join("Z.txt"), |t| {
        let lines: Vec<&str> = t.lines().collect();
        lines[..lines.len() - 20].join("\n") + "\n"
    });
    assert_mentions(&load_error(dir.path()), &["Z.txt", "not square", "28 rows"]);

    let dir = copy_of_test_system();
    edit(&dir.path().join("Z.txt"), |t| {
        t.replacen("23697.221", "23697,2x1", 1)
    });
    assert_mentions(
        &load_error(dir.path()),
        &["Z.txt", "line 4", "23697,2x1", "not a number"],
    );
}

#[test]
fn not_an_mrio() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    assert_mentions(&load_error(dir.path()), &["not a recognised MRIO"]);
    let file = dir.path().join("data.zip");
    std::fs::write(&file, "this is not a zip").unwrap();
    assert_mentions(&load_error(&file), &["data.zip", "not a readable zip"]);
    assert_mentions(
        &load_error(&dir.path().join("nowhere")),
        &["nowhere", "not found"],
    );
}

#[test]
fn unknown_country_region_stressor_and_sector() {
    let mut agent = TradeAgent::new();
    let err = agent
        .run(&TradeTask::NationalAccounts {
            countries: vec!["Atlantis".into()],
            year: Some(2022),
        })
        .unwrap_err();
    assert_eq!(err.kind, TaskErrorKind::NotFound);
    assert_mentions(&err.message, &["Atlantis", "Global Carbon Budget"]);
    let err = agent
        .run(&TradeTask::NationalAccounts {
            countries: vec!["CHN".into()],
            year: Some(1900),
        })
        .unwrap_err();
    assert_mentions(&err.message, &["China", "1900", "1990–2022"]);

    let mrio = cb_protocol::MrioSource {
        path: fixture("pymrio-test/input").display().to_string(),
    };
    let err = agent
        .run(&TradeTask::Transfers {
            mrio: mrio.clone(),
            stressor: "CO2".into(),
            from: None,
            to: None,
        })
        .unwrap_err();
    assert_mentions(&err.message, &["unknown stressor \"CO2\"", "emission_type1"]);
    let err = agent
        .run(&TradeTask::TopSectors {
            mrio: mrio.clone(),
            stressor: "emission_type1".into(),
            region: "reg9".into(),
            account: cb_protocol::AccountKind::Consumption,
            top: 3,
        })
        .unwrap_err();
    assert_mentions(&err.message, &["unknown region \"reg9\"", "reg1"]);
    let err = agent
        .run(&TradeTask::SupplyChainPaths {
            mrio,
            stressor: "emission_type1".into(),
            region: "reg1".into(),
            sector: "steel".into(),
            depth: 3,
            top: 3,
            threshold: 0.01,
        })
        .unwrap_err();
    assert_mentions(&err.message, &["unknown sector \"steel\"", "manufactoring"]);
}

#[test]
fn miller_and_blair_two_sector_example() {
    // Miller & Blair (2009), Input-Output Analysis, ch. 2: A = [[0.15, 0.25], [0.20, 0.05]].
    let a = Mat::from_fn(2, 2, |i, j| [[0.15, 0.25], [0.20, 0.05]][i][j]);
    let lu = engine::factorize_leontief(a.clone()).unwrap();
    let l = engine::calc_l(&lu);
    let expected = [[1.25412541, 0.330033], [0.2640264, 1.12211221]];
    for i in 0..2 {
        for j in 0..2 {
            assert!(
                (l[(i, j)] - expected[i][j]).abs() < 1e-7,
                "L[{i},{j}] = {}",
                l[(i, j)]
            );
        }
    }
    // x = L·f for their final demand f = (1000, 2000): x = (1914.19, 2508.25).
    let f = faer::Col::from_fn(2, |i| [1000.0, 2000.0][i]);
    let x = engine::calc_x_from_leontief(&lu, f.as_ref());
    assert!(
        (x[0] - 1914.1914).abs() < 1e-3 && (x[1] - 2508.2508).abs() < 1e-3,
        "{:?}",
        (x[0], x[1])
    );
    // And Z = A·diag(x) gives back x = Z·1 + f.
    let z = engine::calc_z(a.as_ref(), x.as_ref());
    let fy = Mat::from_fn(2, 1, |i, _| f[i]);
    let x2 = engine::calc_x(z.as_ref(), fy.as_ref());
    assert!((x2[0] - x[0]).abs() < 1e-9 && (x2[1] - x[1]).abs() < 1e-9);
}

#[test]
fn non_finite_numbers_are_named_where_they_are() {
    let dir = copy_of_test_system();
    edit(&dir.path().join("emissions/F_Y.txt"), |t| {
        t.replacen("62335321", "nan", 1)
    });
    assert_mentions(&load_error(dir.path()), &["F_Y", "non-finite"]);

    let dir = copy_of_test_system();
    edit(&dir.path().join("Z.txt"), |t| t.replacen("23697.221", "inf", 1));
    assert_mentions(&load_error(dir.path()), &["Z", "non-finite", "row 0, column 0"]);
}

#[test]
fn an_empty_unit_file_is_an_error_not_a_panic() {
    let dir = copy_of_test_system();
    std::fs::write(dir.path().join("unit.txt"), "region\tsector\tunit\n").unwrap();
    let err = cb_trade::data::read_labels(dir.path()).unwrap_err().to_string();
    assert_mentions(&err, &["unit.txt", "no rows"]);
}
