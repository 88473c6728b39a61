//! Loaders for real MRIO formats and the published national CO2 series.
//!
//! * [`pymrio`]: pymrio's own save format (folder or zip with `file_parameters.json`) — the one
//!   format that every MRIO pymrio parses (EXIOBASE, OECD ICIO, Eora, GLORIA, WIOD) can be saved
//!   in; also EXIOBASE 3's `IOT_<year>_ixi.zip` / `_pxp.zip`, which use the same layout inside a
//!   top folder.
//! * [`wiod`]: the WIOD-style CSV folder (`Z.csv.gz`, `Y.csv.gz`, `x.csv`).
//! * [`gcb`]: Global Carbon Budget territorial and consumption-based CO2 (bundled).

mod error;
pub mod gcb;
mod mrio;
pub mod pymrio;
mod source;
pub mod table;
pub mod wiod;

use std::path::Path;

pub use error::DataError;
pub use mrio::{Core, Extension, ExtensionParts, Labels, Mrio, MrioParts};
pub use source::Source;

/// The formats the loaders read.
enum Format {
    /// pymrio's save layout: a pymrio save, or an EXIOBASE 3 release (one top folder).
    Pymrio,
    /// WIOD-style CSV.
    Wiod,
}

/// Opens a dataset and recognises its format from the files present, descending into the one
/// top folder that EXIOBASE zips (and saves moved into a folder) have.
fn open_recognised(path: &Path) -> Result<(Source, Format), DataError> {
    let mut source = Source::open(path)?;
    if source.exists("file_parameters.json") {
        return Ok((source, Format::Pymrio));
    }
    if source.exists("Z.csv.gz") || source.exists("Z.csv") {
        return Ok((source, Format::Wiod));
    }
    let files = source.files();
    let tops: std::collections::BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.split_once('/').map(|(top, _)| top))
        .collect();
    if tops.len() == 1 && files.iter().all(|f| f.contains('/')) {
        let top = tops.into_iter().next().unwrap_or_default().to_string();
        if files
            .iter()
            .any(|f| *f == format!("{top}/A.txt") || *f == format!("{top}/Z.txt"))
        {
            source.descend(&top);
            return Ok((source, Format::Pymrio));
        }
    }
    Err(DataError::Format {
        path: path.display().to_string(),
        reason: "not a recognised MRIO: expected a pymrio save (file_parameters.json), an EXIOBASE 3 \
                 zip (one folder with A.txt, Y.txt, satellite/F.txt) or a WIOD-style folder (Z.csv.gz, \
                 Y.csv.gz)"
            .into(),
    })
}

/// Reads the names of an MRIO, cheaply where the format lists them in unit files (pymrio saves,
/// EXIOBASE), otherwise by loading it.
pub fn read_labels(path: &Path) -> Result<Labels, DataError> {
    let (mut source, format) = open_recognised(path)?;
    if let Format::Pymrio = format
        && let Some(labels) = pymrio::read_labels(&mut source)?
    {
        return Ok(labels);
    }
    let mrio = load_mrio(path)?;
    Ok(Labels {
        name: mrio.name,
        regions: mrio.regions,
        sectors: mrio.sectors,
        stressors: mrio
            .extensions
            .iter()
            .flat_map(|e| e.stressors.iter().cloned())
            .collect(),
    })
}

/// Opens any supported MRIO: a pymrio save (folder or zip), an EXIOBASE 3 zip, or a WIOD-style
/// CSV folder. The format is recognised from the files present.
pub fn load_mrio(path: &Path) -> Result<Mrio, DataError> {
    match open_recognised(path)? {
        (source, Format::Pymrio) => pymrio::load(source),
        (source, Format::Wiod) => wiod::load(source),
    }
}
