//! The block structure of an MRIO ([`Blocks`]), the engine's errors ([`EngineError`]) and the input
//! checks every equation shares.

/// The block structure of an MRIO: `n_regions` blocks of `n_sectors` each, region-major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocks {
    pub n_regions: usize,
    pub n_sectors: usize,
}

impl Blocks {
    pub fn n(&self) -> usize {
        self.n_regions * self.n_sectors
    }

    /// Region of the industry (or product) at index `i`.
    pub fn region_of(&self, i: usize) -> usize {
        i / self.n_sectors
    }

    /// Sector of the industry at index `i`.
    pub fn sector_of(&self, i: usize) -> usize {
        i % self.n_sectors
    }

    /// Index of (region, sector).
    pub fn index(&self, region: usize, sector: usize) -> usize {
        region * self.n_sectors + sector
    }
}

/// Errors of the input-output engine: the maths cannot proceed on these numbers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error(
        "(I − A) is singular: its columns are linearly dependent at column {column} (pivot {pivot:e}); \
         the economy has no unique solution (does a sector's input share reach 100%?)"
    )]
    Singular { column: usize, pivot: f64 },
    #[error("{what} has shape {found_rows} × {found_cols}, expected {expected_rows} × {expected_cols}")]
    Shape {
        what: &'static str,
        expected_rows: usize,
        expected_cols: usize,
        found_rows: usize,
        found_cols: usize,
    },
    #[error("{what} contains a non-finite value at row {row}, column {col}")]
    NonFinite {
        what: &'static str,
        row: usize,
        col: usize,
    },
    #[error("total output at index {index} is {value}: it must be a finite, non-negative number")]
    InvalidOutput { index: usize, value: f64 },
    #[error(
        "the identity cba − pba = imp − exp fails for stressor {stressor}, region {region}: \
         {lhs} vs {rhs}"
    )]
    IdentityViolated {
        stressor: usize,
        region: usize,
        lhs: f64,
        rhs: f64,
    },
}

/// Checks that a matrix has the expected shape and only finite values.
pub fn check_matrix(
    what: &'static str,
    m: faer::MatRef<'_, f64>,
    rows: usize,
    cols: usize,
) -> Result<(), EngineError> {
    if m.nrows() != rows || m.ncols() != cols {
        return Err(EngineError::Shape {
            what,
            expected_rows: rows,
            expected_cols: cols,
            found_rows: m.nrows(),
            found_cols: m.ncols(),
        });
    }
    for j in 0..cols {
        for i in 0..rows {
            if !m[(i, j)].is_finite() {
                return Err(EngineError::NonFinite { what, row: i, col: j });
            }
        }
    }
    Ok(())
}

/// Checks that total output is finite and not negative: `x ≥ 0` (pymrio tolerates negative
/// output; the accounts then mean nothing, so we refuse).
pub fn check_output(x: faer::ColRef<'_, f64>) -> Result<(), EngineError> {
    match x.iter().position(|v| *v < 0.0 || !v.is_finite()) {
        Some(index) => Err(EngineError::InvalidOutput {
            index,
            value: x[index],
        }),
        None => Ok(()),
    }
}
