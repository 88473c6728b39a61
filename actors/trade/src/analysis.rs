//! An MRIO made ready for the accounts: the engine's equations applied to a loaded [`Mrio`], with
//! indices translated back to region, sector and stressor names. No I/O here either.

use faer::{Col, Mat};

use crate::data::{Core, Mrio};
use crate::engine::{self, Blocks, EngineError, LeontiefFactor, RegionalAccounts, SectorAccounts};

/// Why an analysis could not be made or a name could not be found.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("{0}")]
    Engine(String),
    #[error("unknown {what} {name:?}; known: {}", known.join(", "))]
    Unknown {
        what: &'static str,
        name: String,
        known: Vec<String>,
    },
    #[error("{0} has no stressor accounts (no extension with F): carbon accounts need emissions by sector")]
    NoExtensions(String),
}

/// One stressor row (of any extension).
#[derive(Debug, Clone)]
pub struct Stressor {
    /// First level of the row label (`CO2` for `CO2 | air`), or the whole label where the first
    /// level alone would be ambiguous.
    pub name: String,
    /// The whole row label, levels joined with ` | `.
    pub label: String,
    pub unit: String,
    pub extension: String,
}

/// Names and origin of the MRIO an analysis was made from.
#[derive(Debug, Clone)]
pub struct MrioMeta {
    pub name: String,
    pub version: String,
    pub source: String,
    pub regions: Vec<String>,
    pub sectors: Vec<String>,
    pub final_demand: Vec<(String, String)>,
    pub monetary_unit: Option<String>,
}

/// A factorised MRIO: `x`, `S`, `S_Y`, the Leontief system, demand by consuming region and
/// `X_reg = L·Y_agg`; everything the accounts, transfers and paths need.
pub struct MrioAnalysis {
    pub meta: MrioMeta,
    pub blocks: Blocks,
    pub x: Col<f64>,
    /// The check `x = Z·1 + Y·1` where `x` was given with the table.
    pub output_balance: Option<OutputBalance>,
    /// `A`, made from the factor's `(I − A)` when first needed (structural paths need it; the
    /// accounts do not).
    a: std::sync::OnceLock<Mat<f64>>,
    pub leontief: LeontiefFactor,
    /// `S` of all extensions' stressors stacked (k × n).
    pub s: Mat<f64>,
    /// `S_Y` (k × m), zero rows for extensions without `F_Y`.
    pub s_y: Mat<f64>,
    pub stressors: Vec<Stressor>,
    /// Final demand summed by consuming region (n × R).
    pub y_agg: Mat<f64>,
    /// `X_reg = L·Y_agg` (n × R).
    pub x_reg: Mat<f64>,
    /// `F_Y` summed by consuming region (k × R).
    pub f_y_reg: Mat<f64>,
}

/// How far a given total output is from the table's flows: `x = Z·1 + Y·1`, checked before `Z` is
/// turned into `A`. Absent when `x` was computed from the flows (it balances by construction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputBalance {
    /// Industry (region × sector index) with the largest residual.
    pub industry: usize,
    /// `x_i − (Z·1 + Y·1)_i` there.
    pub residual: f64,
    /// The largest total output, the scale the residual is judged against.
    pub largest_output: f64,
}

/// Relative tolerance of the output balance, against the largest output. Published tables round
/// every entry (WIOD 2013 to 1 M USD), so a row of some 1,600 entries misses its output by
/// rounding: WIOD 2011's largest residual is 108 M USD, 3.2e-5 of its largest output.
pub const BALANCE_TOLERANCE: f64 = 1e-4;

/// Relative tolerance of the cba − pba = imp − exp check.
pub const IDENTITY_TOLERANCE: f64 = 1e-9;

impl MrioAnalysis {
    /// Computes `x` (pymrio: given, else `Z·1 + Y·1`, else `L·y`), `A`, the LU of `(I − A)`,
    /// `S`, `S_Y`, `Y_agg`, `F_Y_reg` and `X_reg`. Consumes the MRIO so that `Z` becomes `A` and
    /// then `(I − A)` in place. `progress` hears each step.
    pub fn new(mrio: Mrio, progress: &mut dyn FnMut(&str)) -> Result<Self, AnalysisError> {
        let blocks = Blocks {
            n_regions: mrio.regions.len(),
            n_sectors: mrio.sectors.len(),
        };
        let meta = MrioMeta {
            name: mrio.name,
            version: mrio.version,
            source: mrio.source,
            regions: mrio.regions,
            sectors: mrio.sectors,
            final_demand: mrio.final_demand,
            monetary_unit: mrio.monetary_unit,
        };
        let label = |i: usize| {
            format!(
                "{}|{}",
                meta.regions[blocks.region_of(i)],
                meta.sectors[blocks.sector_of(i)]
            )
        };
        let explain = |e: EngineError| -> AnalysisError {
            AnalysisError::Engine(match e {
                EngineError::Singular { column, pivot } => format!(
                    "(I − A) is singular: the Leontief system has no unique solution; elimination broke \
                     down at column {column} ({}), pivot {pivot:e}. Check that no sector's inputs add up \
                     to 100% of its output.",
                    label(column)
                ),
                other => other.to_string(),
            })
        };
        // Output must be finite and not negative; say where the bad value came from.
        let check_output = |x: &Col<f64>, origin: &str| -> Result<(), AnalysisError> {
            engine::check_output(x.as_ref()).map_err(|e| match e {
                EngineError::InvalidOutput { index, value } => AnalysisError::Engine(format!(
                    "total output of {} is {} ({origin}): output must be a finite, non-negative number",
                    label(index),
                    if value < 0.0 {
                        format!("negative, {value}")
                    } else {
                        value.to_string()
                    }
                )),
                other => explain(other),
            })
        };
        let n = blocks.n();
        engine::check_matrix("Y", mrio.y.as_ref(), n, mrio.y.ncols()).map_err(explain)?;
        let y_total = engine::row_sums(mrio.y.as_ref());
        let balance = |core: &Mat<f64>, flows: bool, x: &Col<f64>| {
            let (industry, residual) =
                engine::output_balance_residual(core.as_ref(), flows, mrio.y.as_ref(), x.as_ref());
            OutputBalance {
                industry,
                residual,
                largest_output: x.iter().fold(0.0f64, |m, v| m.max(v.abs())),
            }
        };
        let mut output_balance = None;
        progress("computing coefficients A");
        let (a, x_given) = match mrio.core {
            Core::Flows(z) => {
                engine::check_matrix("Z", z.as_ref(), n, n).map_err(explain)?;
                let x = match mrio.x {
                    Some(x) => {
                        check_output(&x, "as given in the MRIO's x")?;
                        output_balance = Some(balance(&z, true, &x));
                        x
                    }
                    None => {
                        let x = engine::calc_x(z.as_ref(), mrio.y.as_ref());
                        check_output(&x, "computed as x = Z·1 + Y·1")?;
                        x
                    }
                };
                (engine::calc_a(z, x.as_ref()), Some(x))
            }
            Core::Coefficients(a) => {
                engine::check_matrix("A", a.as_ref(), n, n).map_err(explain)?;
                if let Some(x) = &mrio.x {
                    check_output(x, "as given in the MRIO's x")?;
                    output_balance = Some(balance(&a, false, x));
                }
                (a, mrio.x)
            }
        };
        progress("factorising (I − A)");
        let leontief = engine::factorize_leontief(a).map_err(explain)?;
        let x = match x_given {
            Some(x) => x,
            None => {
                let x = engine::calc_x_from_leontief(&leontief, y_total.as_ref());
                check_output(&x, "computed as x = L·y")?;
                x
            }
        };

        progress("computing stressor coefficients S");
        let m_fd = mrio.y.ncols();
        let k: usize = mrio.extensions.iter().map(|e| e.f.nrows()).sum();
        let mut s = Mat::<f64>::zeros(k, n);
        let mut s_y = Mat::<f64>::zeros(k, m_fd);
        let mut f_y = Mat::<f64>::zeros(k, m_fd);
        let mut stressors = Vec::with_capacity(k);
        let mut row = 0;
        for ext in &mrio.extensions {
            engine::check_matrix("F", ext.f.as_ref(), ext.f.nrows(), n).map_err(explain)?;
            if let Some(fy) = &ext.f_y {
                engine::check_matrix("F_Y", fy.as_ref(), ext.f.nrows(), m_fd).map_err(explain)?;
            }
            let s_ext = engine::calc_s(ext.f.as_ref(), x.as_ref());
            let s_y_ext = ext
                .f_y
                .as_ref()
                .map(|fy| engine::calc_s_y(fy.as_ref(), mrio.y.as_ref()));
            for r in 0..ext.f.nrows() {
                s.row_mut(row + r).copy_from(s_ext.row(r));
                if let (Some(fy), Some(sy)) = (&ext.f_y, &s_y_ext) {
                    f_y.row_mut(row + r).copy_from(fy.row(r));
                    s_y.row_mut(row + r).copy_from(sy.row(r));
                }
                stressors.push(Stressor {
                    name: ext.stressors[r].first().cloned().unwrap_or_default(),
                    label: ext.stressors[r].join(" | "),
                    unit: ext.units[r].clone(),
                    extension: ext.name.clone(),
                });
            }
            row += ext.f.nrows();
        }
        let labels: Vec<Vec<String>> = mrio
            .extensions
            .iter()
            .flat_map(|e| e.stressors.iter().cloned())
            .collect();
        for (st, name) in stressors.iter_mut().zip(stressor_names(&labels)) {
            st.name = name;
        }

        progress("solving L·Y by consuming region");
        let y_agg = engine::aggregate_columns(mrio.y.as_ref(), &mrio.fd_region, blocks.n_regions);
        let f_y_reg = engine::aggregate_columns(f_y.as_ref(), &mrio.fd_region, blocks.n_regions);
        let x_reg = engine::calc_x_by_consumer(&leontief, y_agg.as_ref());
        Ok(MrioAnalysis {
            meta,
            blocks,
            x,
            output_balance,
            a: std::sync::OnceLock::new(),
            leontief,
            s,
            s_y,
            stressors,
            y_agg,
            x_reg,
            f_y_reg,
        })
    }

    /// The technical coefficients `A`.
    pub fn coefficients(&self) -> &Mat<f64> {
        self.a.get_or_init(|| self.leontief.coefficients())
    }

    /// Regional accounts of every stressor, the trade identity checked.
    pub fn regional_accounts(&self) -> Result<RegionalAccounts, AnalysisError> {
        self.require_stressors()?;
        let acc = engine::calc_regional_accounts(
            self.s.as_ref(),
            self.x_reg.as_ref(),
            Some(self.f_y_reg.as_ref()),
            self.blocks,
        );
        self.check_identity(&acc)?;
        Ok(acc)
    }

    fn check_identity(&self, acc: &RegionalAccounts) -> Result<(), AnalysisError> {
        engine::check_trade_identity(acc, IDENTITY_TOLERANCE).map_err(|e| match e {
            EngineError::IdentityViolated {
                stressor,
                region,
                lhs,
                rhs,
            } => AnalysisError::Engine(format!(
                "the identity cba − pba = imp − exp fails for {} in {}: {lhs} vs {rhs}",
                self.stressors[stressor].label, self.meta.regions[region]
            )),
            other => AnalysisError::Engine(other.to_string()),
        })
    }

    /// Multipliers `M = S·L` of every stressor.
    pub fn multipliers(&self) -> Mat<f64> {
        engine::calc_m(self.s.as_ref(), &self.leontief)
    }

    /// Per-sector accounts for the given stressor rows (all when `None`).
    pub fn sector_accounts(&self, stressor: Option<usize>) -> Result<SectorAccounts, AnalysisError> {
        self.require_stressors()?;
        let s = match stressor {
            Some(k) => self.s.subrows(k, 1).to_owned(),
            None => self.s.clone(),
        };
        let m = engine::calc_m(s.as_ref(), &self.leontief);
        Ok(engine::calc_sector_accounts(
            s.as_ref(),
            m.as_ref(),
            &self.leontief,
            self.y_agg.as_ref(),
            self.x_reg.as_ref(),
            self.blocks,
        ))
    }

    /// Emissions of stressor `k` embodied in trade: `E[p, r]` (producer × consumer).
    pub fn embodied_trade(&self, k: usize) -> Mat<f64> {
        engine::calc_embodied_trade(self.s.row(k), self.x_reg.as_ref(), self.blocks)
    }

    fn require_stressors(&self) -> Result<(), AnalysisError> {
        if self.stressors.is_empty() {
            Err(AnalysisError::NoExtensions(self.meta.name.clone()))
        } else {
            Ok(())
        }
    }

    /// Index of a stressor by name (first label level), full label, or case-insensitively.
    pub fn stressor_index(&self, name: &str) -> Result<usize, AnalysisError> {
        self.require_stressors()?;
        let name = name.trim();
        self.stressors
            .iter()
            .position(|s| s.name == name || s.label == name)
            .or_else(|| {
                self.stressors
                    .iter()
                    .position(|s| s.name.eq_ignore_ascii_case(name) || s.label.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| AnalysisError::Unknown {
                what: "stressor",
                name: name.to_string(),
                known: self.stressors.iter().map(|s| s.name.clone()).collect(),
            })
    }

    /// Index of a region by its label (case-insensitive).
    pub fn region_index(&self, name: &str) -> Result<usize, AnalysisError> {
        find_label(&self.meta.regions, name).ok_or_else(|| AnalysisError::Unknown {
            what: "region",
            name: name.to_string(),
            known: self.meta.regions.clone(),
        })
    }

    /// Index of a sector by its label (case-insensitive).
    pub fn sector_index(&self, name: &str) -> Result<usize, AnalysisError> {
        find_label(&self.meta.sectors, name).ok_or_else(|| AnalysisError::Unknown {
            what: "sector",
            name: name.to_string(),
            known: self.meta.sectors.clone(),
        })
    }

    /// `region|sector` of industry `i`.
    pub fn industry_label(&self, i: usize) -> String {
        format!(
            "{}|{}",
            self.meta.regions[self.blocks.region_of(i)],
            self.meta.sectors[self.blocks.sector_of(i)]
        )
    }

    /// The final demand of region `r` for products of sector `s`, from every origin:
    /// the column `(r, s)` of the block-diagonalised `Y_agg`.
    pub fn final_demand_for(&self, region: usize, sector: usize) -> Col<f64> {
        Col::from_fn(self.blocks.n(), |i| {
            if self.blocks.sector_of(i) == sector {
                self.y_agg[(i, region)]
            } else {
                0.0
            }
        })
    }
}

/// Names of stressor rows: the first level of each label (`CO2` for `CO2 | air`), or the whole
/// label (levels joined with ` | `) where the first level is shared by several rows.
pub fn stressor_names(labels: &[Vec<String>]) -> Vec<String> {
    let first = |l: &Vec<String>| l.first().cloned().unwrap_or_default();
    labels
        .iter()
        .map(|l| {
            if labels.iter().filter(|o| first(o) == first(l)).count() > 1 {
                l.join(" | ")
            } else {
                first(l)
            }
        })
        .collect()
}

/// Region, sector and stressor names of an MRIO file, for planners and listings.
#[derive(Debug, Clone)]
pub struct MrioLabels {
    pub name: String,
    pub regions: Vec<String>,
    pub sectors: Vec<String>,
    pub stressors: Vec<String>,
}

impl MrioLabels {
    pub fn of(mrio: &Mrio) -> MrioLabels {
        let labels: Vec<Vec<String>> = mrio
            .extensions
            .iter()
            .flat_map(|e| e.stressors.iter().cloned())
            .collect();
        MrioLabels {
            name: mrio.name.clone(),
            regions: mrio.regions.clone(),
            sectors: mrio.sectors.clone(),
            stressors: stressor_names(&labels),
        }
    }

    /// The names of the MRIO at `path`, without loading its matrices where the format allows.
    pub fn read(path: &std::path::Path) -> Result<MrioLabels, crate::data::DataError> {
        let labels = crate::data::read_labels(path)?;
        Ok(MrioLabels {
            stressors: stressor_names(&labels.stressors),
            name: labels.name,
            regions: labels.regions,
            sectors: labels.sectors,
        })
    }
}

fn find_label(labels: &[String], name: &str) -> Option<usize> {
    let name = name.trim();
    labels
        .iter()
        .position(|l| l == name)
        .or_else(|| labels.iter().position(|l| l.eq_ignore_ascii_case(name)))
}
