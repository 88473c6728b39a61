//! WIOD-style CSV folders: `Z.csv.gz` (or `Z.csv`), `Y.csv.gz`, optional `x.csv`, and an optional
//! emissions extension `F.csv(.gz)` / `F_Y.csv(.gz)` in the same layout (two header lines: region,
//! sector or category; then a line of index names; then data lines).
//!
//! The bundled WIOD 2013 release (2011, 41 regions × 35 industries, millions of USD) has no
//! emission accounts: it yields output, coefficients and the Leontief system, and accounts once a
//! user adds an `F.csv`.

use super::error::DataError;
use super::mrio::{ExtensionParts, Mrio, MrioParts};
use super::source::Source;
use super::table::{LabeledMatrix, Layout, parse_labeled_matrix};

fn first_existing(source: &mut Source, names: &[&str]) -> Option<String> {
    names.iter().find(|n| source.exists(n)).map(|n| n.to_string())
}

fn read(source: &mut Source, rel: &str, layout: Layout) -> Result<(LabeledMatrix, String), DataError> {
    let m = source.with_file(rel, |r, name| parse_labeled_matrix(r, name, ',', layout))?;
    Ok((m, rel.to_string()))
}

/// Loads a WIOD-style CSV folder.
pub fn load(mut source: Source) -> Result<Mrio, DataError> {
    let display = source.display();
    let missing = |f: &str| DataError::Missing {
        dataset: display.clone(),
        file: f.into(),
    };
    let two = Layout {
        index_cols: Some(2),
        header_rows: Some(2),
    };
    let z_file = first_existing(&mut source, &["Z.csv.gz", "Z.csv"]).ok_or_else(|| missing("Z.csv.gz"))?;
    let y_file = first_existing(&mut source, &["Y.csv.gz", "Y.csv"]).ok_or_else(|| missing("Y.csv.gz"))?;
    let core = read(&mut source, &z_file, two)?;
    let y = read(&mut source, &y_file, two)?;
    let x = match first_existing(&mut source, &["x.csv", "x.csv.gz"]) {
        Some(f) => Some(read(
            &mut source,
            &f,
            Layout {
                index_cols: Some(2),
                header_rows: Some(1),
            },
        )?),
        None => None,
    };
    let mut extensions = Vec::new();
    if let Some(f_file) = first_existing(&mut source, &["F.csv.gz", "F.csv"]) {
        let f = read(&mut source, &f_file, Layout::default())?;
        let f_y = match first_existing(&mut source, &["F_Y.csv.gz", "F_Y.csv"]) {
            Some(fy) => Some(read(&mut source, &fy, Layout::default())?),
            None => None,
        };
        extensions.push(ExtensionParts {
            name: "emissions".into(),
            f,
            f_y,
            units: Vec::new(),
        });
    }
    Mrio::assemble(MrioParts {
        name: "WIOD".into(),
        version: display.clone(),
        source: display,
        core_is_flows: true,
        core,
        y,
        x,
        monetary_unit: Some("millions of USD".into()),
        extensions,
    })
}
