//! Random damage to a file's bytes for the loaders' fuzz tests (included by path from
//! `actors/trade/tests/fuzz.rs` and `actors/lca/tests/fuzz.rs`): deletions, insertions drawn
//! from an alphabet the format uses, and replaced bytes; and a folder copy to damage.

use std::path::Path;

use proptest::prelude::*;

/// One random change to a file's bytes.
#[derive(Debug, Clone)]
pub enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, u8),
}

/// One to seven edits; inserted text matches the regex `alphabet` (e.g. `[\t\n0-9.]{0,12}`).
pub fn edits(alphabet: &'static str) -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 1..40usize).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<usize>(), alphabet).prop_map(|(at, s)| Edit::Insert(at, s)),
            (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        ],
        1..8,
    )
}

/// Applies the edits in order, each at its position modulo the length so far.
pub fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
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

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
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
