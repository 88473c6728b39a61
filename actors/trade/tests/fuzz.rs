//! Property-based fuzzing of the MRIO loaders (proptest, with a fixed number of cases so the
//! test command's time stays bounded): any text, and real files damaged at random, load or
//! fail with an error; nothing panics, and what loads is consistent.

use std::path::{Path, PathBuf};

use cb_trade::MrioAnalysis;
use cb_trade::data::load_mrio;
use cb_trade::data::table::{Layout, parse_labeled_matrix};
use proptest::prelude::*;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pymrio-test/input")
}

/// One random change to a file's bytes.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, u8),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 1..40usize).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<usize>(), "[\t\n 0-9a-zA-Z.eE+-]{0,12}").prop_map(|(at, s)| Edit::Insert(at, s)),
            (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        ],
        1..8,
    )
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        match e {
            Edit::Delete(at, n) if !bytes.is_empty() => {
                let at = at % bytes.len();
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Insert(at, s) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
            }
            Edit::Replace(at, b) if !bytes.is_empty() => {
                let at = at % bytes.len();
                bytes[at] = *b;
            }
            _ => {}
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

const FILES: [&str; 6] = [
    "Z.txt",
    "Y.txt",
    "unit.txt",
    "file_parameters.json",
    "emissions/F.txt",
    "emissions/F_Y.txt",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_as_a_table_or_fails_cleanly(
        text in "[\t\n 0-9a-zA-Z.,;eE+-]{0,400}",
        index_cols in proptest::option::of(0usize..4),
        header_rows in proptest::option::of(0usize..4),
    ) {
        let layout = Layout { index_cols, header_rows };
        if let Ok(m) = parse_labeled_matrix(text.as_bytes(), "fuzz.txt", '\t', layout) {
            prop_assert_eq!(m.rows.len(), m.values.nrows());
            prop_assert_eq!(m.cols.len(), m.values.ncols());
        }
    }

    #[test]
    fn a_damaged_real_table_parses_or_fails_cleanly(changes in edits()) {
        let mut bytes = std::fs::read(fixture().join("Z.txt")).unwrap();
        apply(&mut bytes, &changes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Ok(m) = parse_labeled_matrix(text.as_bytes(), "Z.txt", '\t', Layout::default()) {
            prop_assert_eq!(m.rows.len(), m.values.nrows());
            prop_assert_eq!(m.cols.len(), m.values.ncols());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// A whole pymrio save with one file damaged loads and factorises, or fails with an error.
    #[test]
    fn a_damaged_dataset_loads_or_fails_cleanly(file in 0..FILES.len(), changes in edits()) {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture(), dir.path());
        let path = dir.path().join(FILES[file]);
        let mut bytes = std::fs::read(&path).unwrap();
        apply(&mut bytes, &changes);
        std::fs::write(&path, bytes).unwrap();
        if let Ok(mrio) = load_mrio(dir.path()) {
            let _ = MrioAnalysis::new(mrio, &mut |_| {});
        }
    }
}
