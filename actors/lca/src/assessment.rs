//! A database made ready for assessment (matrices built, technosphere factorised once) and the
//! footprint of a product: score, contributions, unmatched flows, supply-chain tree.

use faer::sparse::SparseColMat;

use crate::data::{Database, LciError};
use crate::engine::{self, LcaEngineError, TechnosphereFactor, TreeNode};
use crate::method::{FlowMatch, ImpactMethod, MatchRule};
pub use crate::uncertainty::MC_TOLERANCE;
use crate::uncertainty::PerturbedSystem;

/// Why an assessment failed.
#[derive(Debug, thiserror::Error)]
pub enum AssessmentError {
    #[error(transparent)]
    Data(#[from] LciError),
    #[error("{0}")]
    Engine(String),
    #[error("no process or product matches {query:?}{}", if suggestions.is_empty() { String::new() } else { format!("; similar: {}", suggestions.join(", ")) })]
    NotFound { query: String, suggestions: Vec<String> },
    #[error("{query:?} matches several processes: {}; name one exactly", matches.join(", "))]
    Ambiguous { query: String, matches: Vec<String> },
}

/// A database with its matrices and the factorised technosphere.
pub struct Model {
    pub db: Database,
    a: SparseColMat<usize, f64>,
    b: SparseColMat<usize, f64>,
    factor: TechnosphereFactor,
}

/// The result of a Monte Carlo footprint.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MonteCarlo {
    pub summary: cb_uncertainty::engine::stats::Summary,
    /// Draws made: the maximum, or fewer where the requested precision was reached.
    pub iterations: usize,
    /// Whether the requested precision was reached (true when none was requested).
    pub converged: bool,
    pub seed: u64,
    pub gsd: f64,
    /// Samples where the preconditioned iteration did not converge and the perturbed matrix was
    /// refactorised.
    pub refactorised: usize,
    #[serde(skip)]
    pub scores: Vec<f64>,
}

/// One entry of `A` or `B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeRef {
    Technosphere { product: usize, activity: usize },
    Biosphere { flow: usize, activity: usize },
}

/// How strongly the score responds to one exchange: `(x/h)·∂h/∂x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elasticity {
    pub exchange: ExchangeRef,
    pub elasticity: f64,
}

/// An elementary flow of the inventory without a factor in the method.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnmatchedFlow {
    pub name: String,
    pub category: String,
    pub amount: f64,
    pub unit: String,
}

/// One flow's part of the score, and how it was matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FlowContribution {
    pub name: String,
    pub category: String,
    pub amount: f64,
    pub unit: String,
    pub factor: f64,
    pub impact: f64,
    pub matched: MatchRule,
}

/// The result of footprinting one product.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub activity: usize,
    pub amount: f64,
    pub score: f64,
    pub unit: String,
    pub method: &'static ImpactMethod,
    /// (activity, impact) largest first, nonzero only.
    pub by_process: Vec<(usize, f64)>,
    pub by_flow: Vec<FlowContribution>,
    pub unmatched: Vec<UnmatchedFlow>,
    /// Elementary flows in the database matched to a factor / not matched.
    pub flows_matched: usize,
    pub flows_unmatched: usize,
    /// Biogenic CO2 in the inventory (kg), counted with factor 0 by the method.
    pub biogenic_co2: f64,
    pub tree: TreeNode,
    /// Cut-off product inputs of activities in this product's system.
    pub cut_offs: Vec<String>,
    /// Import decisions about activities in this product's system (and the whole database).
    pub remarks: Vec<String>,
    /// `‖A·s − f‖ / ‖f‖` of the solve.
    pub solve_residual: f64,
}

impl Model {
    /// Builds A and B and factorises A.
    pub fn new(db: Database) -> Result<Model, AssessmentError> {
        let n = db.activities.len();
        let explain = |e: LcaEngineError, db: &Database| match e {
            LcaEngineError::Singular { activities } => AssessmentError::Engine(format!(
                "the technosphere is singular; it cannot be solved for: {}",
                activities
                    .iter()
                    .take(10)
                    .map(|&j| db
                        .activities
                        .get(j)
                        .map_or(format!("#{j}"), |a| format!("{:?}", a.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            other => AssessmentError::Engine(other.to_string()),
        };
        let a = engine::sparse_from_entries(n, n, &db.technosphere).map_err(|e| explain(e, &db))?;
        let b = engine::sparse_from_entries(db.elementary_flows.len(), n, &db.biosphere)
            .map_err(|e| explain(e, &db))?;
        let factor = engine::factorize(a.as_ref()).map_err(|e| explain(e, &db))?;
        Ok(Model { db, a, b, factor })
    }

    /// First-order elasticities of the score to every exchange, `ε = (x/h)·∂h/∂x`:
    /// technosphere `a_ij`: `ε = −a_ij·λ_i·s_j / h` (`λ = A⁻ᵀ·Bᵀ·c`, `s = A⁻¹·f`);
    /// biosphere `b_kj`: `ε = b_kj·c_k·s_j / h`. With independent lognormal multipliers of
    /// `σ = ln GSD`, `Var(ln h) ≈ σ²·Σ ε²`, so `ε²/Σ ε²` is each exchange's share of the variance
    /// (Heijungs' perturbation analysis). The elasticities of all of `B` sum to 1 and those of
    /// all of `A` (outputs included) to −1: the score is homogeneous in each matrix.
    pub fn elasticities(
        &self,
        j: usize,
        amount: f64,
        method: &ImpactMethod,
    ) -> Result<Vec<Elasticity>, AssessmentError> {
        let f = self.demand(j, amount);
        let s = self.supply(&f)?;
        let c = self.characterisation_factors(method);
        let lambda = self.factor.cumulative_intensities(self.b.as_ref(), &c);
        let h = engine::characterise(&c, &engine::inventory(self.b.as_ref(), &s));
        if h == 0.0 || !h.is_finite() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let (a, b) = (self.a.as_ref(), self.b.as_ref());
        for (col, sj) in s.iter().enumerate() {
            if *sj == 0.0 {
                continue;
            }
            for (&row, &v) in a.row_idx_of_col_raw(col).iter().zip(a.val_of_col(col)) {
                let e = -v * lambda[row] * sj / h;
                if e != 0.0 {
                    out.push(Elasticity {
                        exchange: ExchangeRef::Technosphere {
                            product: row,
                            activity: col,
                        },
                        elasticity: e,
                    });
                }
            }
            for (&row, &v) in b.row_idx_of_col_raw(col).iter().zip(b.val_of_col(col)) {
                let e = v * c[row] * sj / h;
                if e != 0.0 {
                    out.push(Elasticity {
                        exchange: ExchangeRef::Biosphere {
                            flow: row,
                            activity: col,
                        },
                        elasticity: e,
                    });
                }
            }
        }
        out.sort_by(|x, y| y.elasticity.abs().total_cmp(&x.elasticity.abs()));
        Ok(out)
    }

    /// An exchange in words: `input of <product> to <activity>` or `<flow> from <activity>`; a
    /// diagonal entry is the activity's own output.
    pub fn describe(&self, x: ExchangeRef) -> String {
        let acts = &self.db.activities;
        match x {
            ExchangeRef::Technosphere { product, activity } if product == activity => {
                format!("output of {}", acts[activity].name)
            }
            ExchangeRef::Technosphere { product, activity } => {
                format!("{} into {}", acts[product].product_name, acts[activity].name)
            }
            ExchangeRef::Biosphere { flow, activity } => {
                format!(
                    "{} from {}",
                    self.db.elementary_flows[flow].name, acts[activity].name
                )
            }
        }
    }

    /// Monte Carlo of a footprint: every technosphere input and every biosphere exchange is
    /// multiplied by a lognormal factor of geometric mean 1 and GSD `gsd` (independent draws),
    /// the perturbed system solved (preconditioned iteration on the base factors, refactorisation
    /// where that does not converge), and the score recorded. Propagated by the uncertainty
    /// engine's [`UncertainModel`] trait: the draw's entry stream gives the multipliers, so the
    /// same seed gives the same scores on any number of threads.
    pub fn monte_carlo(
        &self,
        j: usize,
        amount: f64,
        method: &'static ImpactMethod,
        gsd: f64,
        draws: cb_uncertainty::engine::propagate::Draws,
        seed: u64,
    ) -> Result<MonteCarlo, AssessmentError> {
        let demand = self.demand(j, amount);
        let c = self.characterisation_factors(method);
        let system = PerturbedSystem::new(self.a.as_ref(), self.b.as_ref(), &self.factor, demand, c, gsd)
            .map_err(|e| AssessmentError::Engine(e.to_string()))?;
        let p = cb_uncertainty::engine::propagate::propagate(
            &system,
            &[],
            cb_uncertainty::engine::sampling::Design::MonteCarlo,
            seed,
            draws.max,
            draws.precision,
        )
        .map_err(|e| AssessmentError::Engine(e.to_string()))?;
        let (iterations, converged) = (p.iterations, p.converged);
        let mut samples = p.samples.into_iter();
        let scores = samples.next().unwrap_or_default();
        let refactorised = samples
            .next()
            .unwrap_or_default()
            .iter()
            .filter(|v| **v > 0.0)
            .count();
        Ok(MonteCarlo {
            summary: cb_uncertainty::engine::stats::summary(&scores),
            iterations,
            converged,
            seed,
            gsd,
            refactorised,
            scores,
        })
    }

    /// Finds exactly one activity by name, product name or id.
    pub fn find(&self, query: &str) -> Result<usize, AssessmentError> {
        let hits = self.db.find(query);
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => {
                let words: Vec<String> = query
                    .to_lowercase()
                    .split_whitespace()
                    .map(String::from)
                    .collect();
                let suggestions = self
                    .db
                    .activities
                    .iter()
                    .filter(|a| {
                        words
                            .iter()
                            .any(|w| w.len() > 3 && a.name.to_lowercase().contains(w))
                    })
                    .take(5)
                    .map(|a| format!("{:?}", a.name))
                    .collect();
                Err(AssessmentError::NotFound {
                    query: query.into(),
                    suggestions,
                })
            }
            many => {
                // Exact name among several containing matches wins.
                Err(AssessmentError::Ambiguous {
                    query: query.into(),
                    matches: many
                        .iter()
                        .take(10)
                        .map(|&i| format!("{:?}", self.db.activities[i].name))
                        .collect(),
                })
            }
        }
    }

    /// The characterisation vector of a method over this database's elementary flows.
    /// The final demand `f`: `amount` of activity `j`'s product, nothing else. A treatment whose
    /// reference product is negative (EcoSpold2) is asked for as that much waste treated, so the
    /// demand takes the reference's sign and its burdens come out positive.
    pub fn demand(&self, j: usize, amount: f64) -> Vec<f64> {
        let mut f = vec![0.0; self.db.activities.len()];
        f[j] = if self.db.activities[j].output < 0.0 {
            -amount
        } else {
            amount
        };
        f
    }

    /// The scaling vector `s = A⁻¹·f`.
    pub fn supply(&self, f: &[f64]) -> Result<Vec<f64>, AssessmentError> {
        self.factor
            .supply(f)
            .map_err(|e| AssessmentError::Engine(e.to_string()))
    }

    /// `c`: the method's factor of every elementary flow (0 where it has none).
    pub fn characterisation_factors(&self, method: &ImpactMethod) -> Vec<f64> {
        self.characterisation(method)
            .iter()
            .map(|m| match m {
                FlowMatch::Matched { factor, .. } => *factor,
                FlowMatch::Unmatched => 0.0,
            })
            .collect()
    }

    /// The technosphere `A`, the biosphere `B` and the factorisation of `A`.
    pub fn matrices(
        &self,
    ) -> (
        faer::sparse::SparseColMatRef<'_, usize, f64>,
        faer::sparse::SparseColMatRef<'_, usize, f64>,
        &TechnosphereFactor,
    ) {
        (self.a.as_ref(), self.b.as_ref(), &self.factor)
    }

    fn characterisation(&self, method: &ImpactMethod) -> Vec<FlowMatch> {
        self.db
            .elementary_flows
            .iter()
            .map(|f| method.match_flow(&f.name, &f.category, f.cas.as_deref()))
            .collect()
    }

    /// The footprint of `amount` (in the product's reference unit) of activity `j`'s product.
    pub fn footprint(
        &self,
        j: usize,
        amount: f64,
        method: &'static ImpactMethod,
        tree_depth: usize,
        tree_cutoff: f64,
    ) -> Result<Footprint, AssessmentError> {
        let f = self.demand(j, amount);
        let s = self.supply(&f)?;
        // The solve checked against the matrix it solved: ‖A·s − f‖ / ‖f‖.
        let residual = {
            let r = engine::inventory(self.a.as_ref(), &s);
            let num: f64 = r
                .iter()
                .zip(&f)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            let den: f64 = f.iter().map(|v| v * v).sum::<f64>().sqrt();
            if den > 0.0 { num / den } else { 0.0 }
        };
        let g = engine::inventory(self.b.as_ref(), &s);
        let matches = self.characterisation(method);
        let c: Vec<f64> = matches
            .iter()
            .map(|m| match m {
                FlowMatch::Matched { factor, .. } => *factor,
                FlowMatch::Unmatched => 0.0,
            })
            .collect();
        let score = engine::characterise(&c, &g);
        let mut by_process: Vec<(usize, f64)> = engine::process_contributions(self.b.as_ref(), &c, &s)
            .into_iter()
            .enumerate()
            .filter(|(_, v)| *v != 0.0)
            .collect();
        by_process.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()));
        let mut by_flow = Vec::new();
        let mut unmatched = Vec::new();
        let mut biogenic = 0.0;
        for (i, m) in matches.iter().enumerate() {
            let flow = &self.db.elementary_flows[i];
            if g[i] == 0.0 {
                continue;
            }
            let category = flow.category.join("/");
            match m {
                FlowMatch::Matched { factor, rule } => {
                    if matches!(rule, MatchRule::Biogenic { .. }) {
                        biogenic += g[i];
                    }
                    by_flow.push(FlowContribution {
                        name: flow.name.trim().to_string(),
                        category,
                        amount: g[i],
                        unit: flow.unit.clone(),
                        factor: *factor,
                        impact: factor * g[i],
                        matched: rule.clone(),
                    });
                }
                FlowMatch::Unmatched => unmatched.push(UnmatchedFlow {
                    name: flow.name.trim().to_string(),
                    category,
                    amount: g[i],
                    unit: flow.unit.clone(),
                }),
            }
        }
        by_flow.sort_by(|x, y| y.impact.abs().total_cmp(&x.impact.abs()));
        unmatched.sort_by(|x, y| y.amount.abs().total_cmp(&x.amount.abs()));
        let flows_matched = matches
            .iter()
            .filter(|m| matches!(m, FlowMatch::Matched { .. }))
            .count();
        let cumulative = self.factor.cumulative_intensities(self.b.as_ref(), &c);
        let direct = engine::direct_intensities(self.b.as_ref(), &c);
        let tree = engine::supply_chain_tree(
            self.a.as_ref(),
            &cumulative,
            &direct,
            j,
            amount,
            tree_depth,
            tree_cutoff,
        );
        let in_system: Vec<bool> = s.iter().map(|v| *v != 0.0).collect();
        let cut_offs = self
            .db
            .cut_offs
            .iter()
            .filter(|c| in_system[c.activity])
            .map(|c| {
                format!(
                    "{} ({} {} per run of {:?})",
                    c.flow, c.amount, c.unit, self.db.activities[c.activity].name
                )
            })
            .collect();
        let remarks = self
            .db
            .remarks
            .iter()
            .filter(|r| r.activity.is_none_or(|a| in_system[a]))
            .map(|r| r.text.clone())
            .collect();
        Ok(Footprint {
            activity: j,
            amount,
            score,
            unit: method.unit.to_string(),
            method,
            by_process,
            by_flow,
            unmatched,
            flows_matched,
            flows_unmatched: matches.len() - flows_matched,
            biogenic_co2: biogenic,
            tree,
            cut_offs,
            remarks,
            solve_residual: residual,
        })
    }
}

/// Life-cycle stages (ISO 14040 language; EN 15804 modules A1–A3, A4, B, C group the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    RawMaterials,
    Manufacturing,
    Transport,
    Use,
    EndOfLife,
}

impl Stage {
    pub fn parse(s: &str) -> Option<Stage> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "raw_materials" | "raw_material" | "extraction" => Some(Stage::RawMaterials),
            "manufacturing" | "production" => Some(Stage::Manufacturing),
            "transport" | "distribution" => Some(Stage::Transport),
            "use" | "use_phase" => Some(Stage::Use),
            "end_of_life" | "eol" | "disposal" => Some(Stage::EndOfLife),
            _ => None,
        }
    }
}

/// The stage of an activity from its category and name, by keyword (a stated rule, shown with
/// the result): transport and carriers; waste treatment and disposal; extraction, mining,
/// agriculture and forestry; everything else manufacturing. The use stage is never inferred.
pub fn inferred_stage(category: &[String], name: &str) -> Stage {
    let text = format!("{} {}", category.join(" "), name).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&[
        "transport",
        "freight",
        "truck",
        "lorry",
        "rail",
        "barge",
        "ocean",
        "pipeline",
        "shipping",
    ]) {
        Stage::Transport
    } else if has(&[
        "waste",
        "landfill",
        "disposal",
        "incinerat",
        "recycl",
        "wastewater",
    ]) {
        Stage::EndOfLife
    } else if has(&[
        "mining",
        "extract",
        "extraction",
        "at mine",
        "agricultur",
        "at farm",
        "at field",
        "forestry",
        "logging",
        "harvest",
        "crude oil",
        "natural gas, at",
    ]) {
        Stage::RawMaterials
    } else {
        Stage::Manufacturing
    }
}

/// Contributions by life-cycle stage: the user's assignment (process name → stage) where given,
/// otherwise [`inferred_stage`].
pub fn stage_contributions(
    model: &Model,
    fp: &Footprint,
    assigned: &std::collections::HashMap<String, Stage>,
) -> Vec<(Stage, f64)> {
    let mut by: std::collections::BTreeMap<Stage, f64> = std::collections::BTreeMap::new();
    for (j, v) in &fp.by_process {
        let a = &model.db.activities[*j];
        let stage = assigned
            .get(&a.name)
            .copied()
            .unwrap_or_else(|| inferred_stage(&a.category, &a.name));
        *by.entry(stage).or_insert(0.0) += v;
    }
    by.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_by_keyword_and_by_name() {
        assert_eq!(
            inferred_stage(&[], "Transport, combination truck, diesel powered"),
            Stage::Transport
        );
        assert_eq!(
            inferred_stage(&["Mining".into()], "Bituminous coal, at mine"),
            Stage::RawMaterials
        );
        assert_eq!(
            inferred_stage(&[], "Disposal, solid waste, to sanitary landfill"),
            Stage::EndOfLife
        );
        assert_eq!(
            inferred_stage(&[], "Steel, cold-formed studs, at plant"),
            Stage::Manufacturing
        );
        assert_eq!(Stage::parse("End of life"), Some(Stage::EndOfLife));
        assert_eq!(Stage::parse("nonsense"), None);
    }
}
