//! Property-based fuzzing of the inventory loaders (proptest, a fixed number of cases so the
//! test command's time stays bounded): openLCA JSON-LD and EcoSpold2 datasets with one file
//! damaged at random, and arbitrary bytes as an archive, import or fail with an error; nothing
//! panics, and what imports can be factorised or is refused with an error.

use std::io::Read;
use std::path::{Path, PathBuf};

use cb_lca::assessment::Model;
use cb_lca::data::{ImportOptions, jsonld, load};
use proptest::prelude::*;

#[path = "../../../tests/shared/random_edits.rs"]
mod random_edits;
use random_edits::{apply, copy_dir, edits};

/// What inserted text is made of.
const ALPHABET: &str = r#"[{}\[\]",:0-9a-zA-Z.eE+-<>/= ]{0,12}"#;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Every file below `dir`, relative, in a fixed order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = cb_agent_runtime::bounded::files_below(dir)
        .unwrap()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// The first few activities of the USLCI EcoSpold2 export, as (name, text).
fn some_spold() -> Vec<(String, String)> {
    let file = std::fs::File::open(fixture("uslci_fy18_q3_01_olca1_7_2.ecospold2.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        if name.ends_with(".spold") {
            let mut text = String::new();
            e.read_to_string(&mut text).unwrap();
            out.push((name.rsplit('/').next().unwrap().to_string(), text));
            if out.len() == 3 {
                break;
            }
        }
    }
    out
}

fn import_and_factorise(dir: &Path) {
    if let Ok(db) = load(dir, &ImportOptions::default()) {
        let _ = Model::new(db);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_damaged_json_ld_database_imports_or_fails_cleanly(pick in any::<usize>(), changes in edits(ALPHABET)) {
        let src = fixture("four-process");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&src, dir.path());
        let all = files(dir.path());
        let path = dir.path().join(&all[pick % all.len()]);
        let mut bytes = std::fs::read(&path).unwrap();
        apply(&mut bytes, &changes);
        std::fs::write(&path, bytes).unwrap();
        import_and_factorise(dir.path());
    }

    #[test]
    fn a_damaged_ecospold2_activity_imports_or_fails_cleanly(pick in 0usize..3, changes in edits(ALPHABET)) {
        let dir = tempfile::tempdir().unwrap();
        for (i, (name, text)) in some_spold().into_iter().enumerate() {
            let mut bytes = text.into_bytes();
            if i == pick {
                apply(&mut bytes, &changes);
            }
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        import_and_factorise(dir.path());
    }

    #[test]
    fn arbitrary_bytes_as_an_archive_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut gz = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
        gz.extend_from_slice(&bytes);
        for candidate in [&bytes, &gz] {
            let _ = jsonld::load_tar_gz_bytes("fuzz", candidate, &ImportOptions::default());
        }
    }
}
