//! Property-based fuzzing of the MRIO loaders (proptest, with a fixed number of cases so the
//! test command's time stays bounded): any text, and real files damaged at random, load or
//! fail with an error; nothing panics, and what loads is consistent.

use std::path::{Path, PathBuf};

use cb_trade::MrioAnalysis;
use cb_trade::data::load_mrio;
use cb_trade::data::table::{Layout, parse_labeled_matrix};
use proptest::prelude::*;

#[path = "../../../tests/shared/random_edits.rs"]
mod random_edits;
use random_edits::{apply, copy_dir, edits};

/// What inserted text is made of.
const ALPHABET: &str = "[\t\n 0-9a-zA-Z.eE+-]{0,12}";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pymrio-test/input")
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
    fn a_damaged_real_table_parses_or_fails_cleanly(changes in edits(ALPHABET)) {
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
    fn a_damaged_dataset_loads_or_fails_cleanly(file in 0..FILES.len(), changes in edits(ALPHABET)) {
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
