//! Life-cycle inventory databases in real formats, turned into the matrices of [`crate::engine`].
//!
//! * [`jsonld`]: openLCA JSON-LD (a folder, `.zip` or `.tar.gz` with `processes/`, `flows/`,
//!   `flow_properties/`, `unit_groups/`, `categories/`), schema 1.x and 2.x field names.
//! * [`ecospold2`]: EcoSpold2 (a `.zip` or folder of `.spold` files).
//!
//! Every exchange is converted to its flow's reference unit through the unit groups and flow
//! properties; product inputs are linked to their provider (the default provider, a provider the
//! user chose, or the one process that produces the flow); ambiguity is an error naming the
//! processes, unless the user states how to resolve it ([`ImportOptions`]), and what was decided
//! is recorded in [`Database::remarks`].

mod database;
pub mod ecospold2;
pub mod jsonld;

use database::files_below;
pub use database::{
    Activity, CutOff, Database, ElementaryFlow, ImportOptions, LciError, MultiOutput, Remark,
};

/// Reads a database in either format: EcoSpold2 when the zip or folder holds `.spold` files,
/// openLCA JSON-LD otherwise.
/// A database of more than [`MAX_LCI_ACTIVITIES`](cb_protocol::limits::MAX_LCI_ACTIVITIES)
/// activities is refused: its matrices would not fit one request's bounds.
pub fn load(path: &std::path::Path, options: &ImportOptions) -> Result<Database, LciError> {
    let db = if holds_spold(path) {
        ecospold2::load(path, options)
    } else {
        jsonld::load(path, options)
    }?;
    let max = cb_protocol::limits::MAX_LCI_ACTIVITIES;
    if db.activities.len() > max {
        return Err(LciError::Format {
            path: path.display().to_string(),
            reason: format!("holds {} activities, more than {max}", db.activities.len()),
        });
    }
    Ok(db)
}

fn holds_spold(path: &std::path::Path) -> bool {
    if path.is_dir() {
        return files_below(path)
            .is_ok_and(|f| f.iter().any(|p| p.extension().is_some_and(|x| x == "spold")));
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return false;
    };
    (0..zip.len()).any(|i| {
        zip.by_index(i)
            .is_ok_and(|e| e.name().is_ok_and(|n| n.ends_with(".spold")))
    })
}
