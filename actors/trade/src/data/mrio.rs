//! The in-memory MRIO, assembled from labelled matrices with every label checked.

use faer::{Col, Mat};

use super::error::DataError;
use super::table::LabeledMatrix;

/// The names in an MRIO: regions, sectors and the row labels of every stressor.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    pub name: String,
    pub regions: Vec<String>,
    pub sectors: Vec<String>,
    pub stressors: Vec<Vec<String>>,
}

/// The inter-industry part of an MRIO: flows `Z` or coefficients `A`.
#[derive(Debug, Clone)]
pub enum Core {
    Flows(Mat<f64>),
    Coefficients(Mat<f64>),
}

/// A satellite account (pymrio "extension"): stressors of industries and of final demand.
#[derive(Debug, Clone)]
pub struct Extension {
    pub name: String,
    /// Row labels, one string per level (e.g. `["CO2", "air"]`).
    pub stressors: Vec<Vec<String>>,
    pub units: Vec<String>,
    /// `F`: stressors × industries.
    pub f: Mat<f64>,
    /// `F_Y`: stressors × final-demand columns.
    pub f_y: Option<Mat<f64>>,
}

/// A multi-regional input-output table with satellite accounts.
#[derive(Debug, Clone)]
pub struct Mrio {
    pub name: String,
    pub version: String,
    /// Where it was loaded from.
    pub source: String,
    pub regions: Vec<String>,
    pub sectors: Vec<String>,
    /// Final-demand columns as (consuming region, category).
    pub final_demand: Vec<(String, String)>,
    /// Consuming region (index into `regions`) of each final-demand column.
    pub fd_region: Vec<usize>,
    pub core: Core,
    pub y: Mat<f64>,
    pub x: Option<Col<f64>>,
    pub monetary_unit: Option<String>,
    pub extensions: Vec<Extension>,
}

/// The parts of an MRIO as read from files, before their labels are checked.
pub struct MrioParts {
    pub name: String,
    pub version: String,
    pub source: String,
    /// True when the core matrix holds flows `Z`, false for coefficients `A`.
    pub core_is_flows: bool,
    /// The core matrix and its file name (for messages).
    pub core: (LabeledMatrix, String),
    pub y: (LabeledMatrix, String),
    pub x: Option<(LabeledMatrix, String)>,
    pub monetary_unit: Option<String>,
    pub extensions: Vec<ExtensionParts>,
}

/// An extension as read from files: `F`, `F_Y` and units, each with its file name.
pub struct ExtensionParts {
    pub name: String,
    pub f: (LabeledMatrix, String),
    pub f_y: Option<(LabeledMatrix, String)>,
    pub units: Vec<(Vec<String>, String)>,
}

fn joined(label: &[String]) -> String {
    label.join("|")
}

/// Checks that two label lists are equal, naming the first difference.
fn check_labels(
    what: &str,
    found: &[Vec<String>],
    against: &str,
    expected: &[Vec<String>],
) -> Result<(), DataError> {
    let mismatch = |position: usize, e: String, f: String| DataError::LabelMismatch {
        what: what.to_string(),
        against: against.to_string(),
        position,
        expected: e,
        found: f,
    };
    for (i, (f, e)) in found.iter().zip(expected).enumerate() {
        if f != e {
            return Err(mismatch(i, joined(e), joined(f)));
        }
    }
    match found.len().cmp(&expected.len()) {
        std::cmp::Ordering::Less => Err(mismatch(
            found.len(),
            joined(&expected[found.len()]),
            "<end: missing rows or columns>".into(),
        )),
        std::cmp::Ordering::Greater => Err(mismatch(
            expected.len(),
            "<end>".into(),
            joined(&found[expected.len()]),
        )),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

impl Mrio {
    /// Checks every label against the core's and assembles the MRIO.
    pub fn assemble(parts: MrioParts) -> Result<Mrio, DataError> {
        let (core_m, core_file) = parts.core;
        let n = core_m.rows.len();
        if core_m.cols.len() != n {
            return Err(DataError::NotSquare {
                what: core_file,
                rows: n,
                cols: core_m.cols.len(),
            });
        }
        check_labels(
            &format!("{core_file} columns"),
            &core_m.cols,
            &format!("{core_file} rows"),
            &core_m.rows,
        )?;
        let (regions, sectors) = region_blocks(&core_m.rows, &core_file)?;

        let (y_m, y_file) = parts.y;
        check_labels(
            &format!("{y_file} rows"),
            &y_m.rows,
            &format!("{core_file} rows"),
            &core_m.rows,
        )?;
        let mut final_demand = Vec::with_capacity(y_m.cols.len());
        let mut fd_region = Vec::with_capacity(y_m.cols.len());
        for (j, col) in y_m.cols.iter().enumerate() {
            let region = col.first().cloned().unwrap_or_default();
            let r = regions.iter().position(|x| *x == region).ok_or_else(|| {
                DataError::Structure(format!(
                    "{y_file}: final-demand column {j} belongs to region {region:?}, which has no \
                     industries in {core_file}"
                ))
            })?;
            let category = if col.len() > 1 {
                col[1..].join("|")
            } else {
                "final demand".into()
            };
            final_demand.push((region, category));
            fd_region.push(r);
        }

        let x = match parts.x {
            Some((x_m, x_file)) => {
                check_labels(
                    &format!("{x_file} rows"),
                    &x_m.rows,
                    &format!("{core_file} rows"),
                    &core_m.rows,
                )?;
                if x_m.values.ncols() != 1 {
                    return Err(DataError::Structure(format!(
                        "{x_file}: total output must be one column, found {}",
                        x_m.values.ncols()
                    )));
                }
                Some(Col::from_fn(n, |i| x_m.values[(i, 0)]))
            }
            None => None,
        };

        let mut extensions = Vec::with_capacity(parts.extensions.len());
        for ext in parts.extensions {
            let (f_m, f_file) = ext.f;
            check_labels(
                &format!("{f_file} columns"),
                &f_m.cols,
                &format!("{core_file} rows"),
                &core_m.rows,
            )?;
            let f_y = match ext.f_y {
                Some((fy_m, fy_file)) => {
                    check_labels(
                        &format!("{fy_file} columns"),
                        &fy_m.cols,
                        &format!("{y_file} columns"),
                        &y_m.cols,
                    )?;
                    check_labels(
                        &format!("{fy_file} rows"),
                        &fy_m.rows,
                        &format!("{f_file} rows"),
                        &f_m.rows,
                    )?;
                    Some(fy_m.values)
                }
                None => None,
            };
            let units = f_m
                .rows
                .iter()
                .map(|row| {
                    // An exact label first; the first level alone only where no row matches whole.
                    ext.units
                        .iter()
                        .find(|(label, _)| label == row)
                        .or_else(|| ext.units.iter().find(|(label, _)| label.first() == row.first()))
                        .map(|(_, u)| u.clone())
                        .unwrap_or_default()
                })
                .collect();
            extensions.push(Extension {
                name: ext.name,
                stressors: f_m.rows,
                units,
                f: f_m.values,
                f_y,
            });
        }
        let core = if parts.core_is_flows {
            Core::Flows(core_m.values)
        } else {
            Core::Coefficients(core_m.values)
        };
        Ok(Mrio {
            name: parts.name,
            version: parts.version,
            source: parts.source,
            regions,
            sectors,
            final_demand,
            fd_region,
            core,
            y: y_m.values,
            x,
            monetary_unit: parts.monetary_unit,
            extensions,
        })
    }

    /// Number of industries (regions × sectors).
    pub fn n(&self) -> usize {
        self.regions.len() * self.sectors.len()
    }
}

/// Splits (region, sector) row labels into regions and sectors, and checks the MRIO block
/// layout: regions in contiguous blocks, every region with the same sectors in the same order.
pub(crate) fn region_blocks(
    rows: &[Vec<String>],
    file: &str,
) -> Result<(Vec<String>, Vec<String>), DataError> {
    if rows.is_empty() {
        return Err(DataError::Structure(format!("{file}: no rows (no industries)")));
    }
    if rows.iter().any(|r| r.len() < 2) {
        return Err(DataError::Structure(format!(
            "{file}: rows must be labelled (region, sector); found {} label level(s)",
            rows.first().map(Vec::len).unwrap_or(0)
        )));
    }
    let mut regions: Vec<String> = Vec::new();
    for r in rows {
        if regions.last() != Some(&r[0]) {
            if regions.contains(&r[0]) {
                return Err(DataError::Structure(format!(
                    "{file}: rows of region {:?} are not contiguous",
                    r[0]
                )));
            }
            regions.push(r[0].clone());
        }
    }
    let ns = rows.len() / regions.len();
    if ns * regions.len() != rows.len() {
        return Err(DataError::Structure(format!(
            "{file}: {} rows do not split into {} regions of equal size",
            rows.len(),
            regions.len()
        )));
    }
    let sectors: Vec<String> = rows[..ns].iter().map(|r| r[1..].join("|")).collect();
    for (i, r) in rows.iter().enumerate() {
        let expected = &sectors[i % ns];
        if r[0] != regions[i / ns] || r[1..].join("|") != *expected {
            return Err(DataError::Structure(format!(
                "{file}: row {i} is {:?}, expected sector {expected:?} of region {:?} (every region must \
                 list the same sectors in the same order)",
                joined(r),
                regions[i / ns]
            )));
        }
    }
    Ok((regions, sectors))
}
