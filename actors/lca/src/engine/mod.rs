//! Matrix life-cycle assessment as pure functions (Heijungs & Suh 2002; Brightway's conventions).
//!
//! | symbol | shape | meaning |
//! |---|---|---|
//! | `A` | products × activities | technosphere: outputs positive, inputs negative |
//! | `B` | elementary flows × activities | biosphere: amounts per activity as reported |
//! | `c` | elementary flows | characterisation factors of one impact category |
//! | `f` | products | final demand (the functional unit) |
//!
//! `A·s = f` gives the scaling (supply) vector `s`, `g = B·s` the inventory, `h = cᵀ·g` the
//! impact. `A` is factorised once with a sparse LU ([`TechnosphereFactor`]) and the factors serve
//! every demand; nothing here forms `A⁻¹`. No I/O, async or actors here.

use faer::Mat;
use faer::sparse::{SparseColMat, SparseColMatRef};

mod sparse_lu;
pub use sparse_lu::{FillOrder, SparseLu};

/// Errors of the matrix LCA.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LcaEngineError {
    #[error("the technosphere matrix is not square: {rows} products × {cols} activities")]
    NotSquare { rows: usize, cols: usize },
    #[error("entry ({row}, {col}) is outside the {rows} × {cols} matrix")]
    OutOfBounds {
        row: usize,
        col: usize,
        rows: usize,
        cols: usize,
    },
    #[error("entry ({row}, {col}) is not a finite number")]
    NonFinite { row: usize, col: usize },
    #[error("the technosphere is singular: activities {activities:?} cannot be solved for")]
    Singular { activities: Vec<usize> },
    #[error("the demand vector has {found} entries, the technosphere {expected} products")]
    DemandLength { expected: usize, found: usize },
    #[error("a perturbed technosphere has {found} values, the technosphere {expected} stored entries")]
    ValuesLength { expected: usize, found: usize },
    #[error("the technosphere has {activities} activities, more than this solver indexes (2³²)")]
    TooLarge { activities: usize },
}

/// Builds a sparse matrix from (row, column, value) entries, summing duplicates and dropping
/// entries that sum to zero. Linear in the entries (bucketed by column, then each column's few
/// entries sorted by row).
pub fn sparse_from_entries(
    rows: usize,
    cols: usize,
    entries: &[(usize, usize, f64)],
) -> Result<SparseColMat<usize, f64>, LcaEngineError> {
    let mut col_ptr = vec![0usize; cols + 1];
    for &(row, col, val) in entries {
        if row >= rows || col >= cols {
            return Err(LcaEngineError::OutOfBounds { row, col, rows, cols });
        }
        if !val.is_finite() {
            return Err(LcaEngineError::NonFinite { row, col });
        }
        col_ptr[col + 1] += 1;
    }
    for j in 0..cols {
        col_ptr[j + 1] += col_ptr[j];
    }
    let mut next = col_ptr.clone();
    let mut bucketed = vec![(0usize, 0.0f64); entries.len()];
    for &(row, col, val) in entries {
        bucketed[next[col]] = (row, val);
        next[col] += 1;
    }
    let mut out_ptr = Vec::with_capacity(cols + 1);
    let mut row_idx = Vec::with_capacity(entries.len());
    let mut values = Vec::with_capacity(entries.len());
    out_ptr.push(0);
    for j in 0..cols {
        let column = &mut bucketed[col_ptr[j]..col_ptr[j + 1]];
        // Stable: duplicates are summed in the order given.
        column.sort_by_key(|&(row, _)| row);
        let mut k = 0;
        while k < column.len() {
            let row = column[k].0;
            let mut sum = 0.0;
            while k < column.len() && column[k].0 == row {
                sum += column[k].1;
                k += 1;
            }
            if sum != 0.0 {
                row_idx.push(row);
                values.push(sum);
            }
        }
        out_ptr.push(row_idx.len());
    }
    let symbolic = faer::sparse::SymbolicSparseColMat::new_checked(rows, cols, out_ptr, None, row_idx);
    Ok(SparseColMat::new(symbolic, values))
}

/// The technosphere matrix factorised by a sparse LU with partial pivoting ([`sparse_lu`]: a
/// symmetric fill-reducing order, then Gilbert–Peierls). Built once, it solves any number of
/// demands (`A·s = f`) and, by the transposed solve, every product's cumulative intensity.
pub struct TechnosphereFactor {
    order: FillOrder,
    lu: SparseLu<f64>,
    n: usize,
    /// The same factors in single precision, made on the first perturbed solve (`None` inside
    /// where that factorisation fails).
    single: std::sync::OnceLock<Option<SparseLu<f32>>>,
}

impl std::fmt::Debug for TechnosphereFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TechnosphereFactor({} × {})", self.n, self.n)
    }
}

/// Activities that make `A` structurally singular: columns with no entry, or columns whose
/// only entries sit in rows no other column can cover (no production of their product).
fn structurally_deficient(a: SparseColMatRef<'_, usize, f64>) -> Vec<usize> {
    let n = a.ncols();
    let mut row_used = vec![false; a.nrows()];
    let mut empty_cols = Vec::new();
    for j in 0..n {
        let rows = a.row_idx_of_col_raw(j);
        if rows.is_empty() {
            empty_cols.push(j);
        }
        for &i in rows {
            row_used[i] = true;
        }
    }
    // A product nobody produces or consumes: the activity of the same index has nothing to solve.
    let empty_rows = (0..a.nrows()).filter(|i| !row_used[*i]);
    let mut out: Vec<usize> = empty_cols.into_iter().chain(empty_rows).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Factorises the technosphere: `A = P⁻¹·L·U·Q⁻¹` (sparse LU).
///
/// A singular `A` — an activity that produces nothing, a product nobody makes, or loops whose
/// inputs equal their outputs — is reported with the activities involved.
pub fn factorize(a: SparseColMatRef<'_, usize, f64>) -> Result<TechnosphereFactor, LcaEngineError> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(LcaEngineError::NotSquare {
            rows: n,
            cols: a.ncols(),
        });
    }
    let deficient = structurally_deficient(a);
    if !deficient.is_empty() {
        return Err(LcaEngineError::Singular {
            activities: deficient,
        });
    }
    let order = FillOrder::amd(a).map_err(|_| LcaEngineError::Singular {
        activities: Vec::new(),
    })?;
    let lu = SparseLu::factorize(a, &order).map_err(|e| singular(e, n))?;
    let factor = TechnosphereFactor {
        order,
        lu,
        n,
        single: std::sync::OnceLock::new(),
    };
    // Numerical singularity shows as non-finite solutions: probe with a demand for everything.
    let probe = factor.solve_many(Mat::from_fn(n, 1, |_, _| 1.0));
    let bad: Vec<usize> = (0..n).filter(|&i| !probe[(i, 0)].is_finite()).collect();
    if !bad.is_empty() {
        return Err(LcaEngineError::Singular { activities: bad });
    }
    Ok(factor)
}

/// A failed numeric factorisation as the activities involved (where faer names one).
fn singular(e: faer::sparse::linalg::LuError, n: usize) -> LcaEngineError {
    match e {
        faer::sparse::linalg::LuError::SymbolicSingular { index } => LcaEngineError::Singular {
            activities: vec![index.min(n.saturating_sub(1))],
        },
        faer::sparse::linalg::LuError::Generic(_) => LcaEngineError::Singular {
            activities: Vec::new(),
        },
    }
}

impl TechnosphereFactor {
    /// Number of products (= activities).
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Refactorises a technosphere with the same sparsity pattern, reusing the fill order (for
    /// Monte Carlo on perturbed values).
    pub fn refactorize(
        &self,
        a: SparseColMatRef<'_, usize, f64>,
    ) -> Result<TechnosphereFactor, LcaEngineError> {
        if a.nrows() != self.n || a.ncols() != self.n {
            return Err(LcaEngineError::NotSquare {
                rows: a.nrows(),
                cols: a.ncols(),
            });
        }
        let lu = SparseLu::factorize(a, &self.order).map_err(|e| singular(e, self.n))?;
        Ok(TechnosphereFactor {
            order: self.order.clone(),
            lu,
            n: self.n,
            single: std::sync::OnceLock::new(),
        })
    }

    /// The factors of `a` (the matrix this factorises) in single precision, in the same order:
    /// half the memory traffic per triangular solve. The preconditioned iteration solves for its
    /// corrections with them while its residuals stay in double precision (mixed precision
    /// iterative refinement), so the solution keeps double precision.
    fn single_precision(&self, a: SparseColMatRef<'_, usize, f64>) -> Option<&SparseLu<f32>> {
        self.single
            .get_or_init(|| {
                let values: Vec<f32> = a.val().iter().map(|&v| v as f32).collect();
                let single = SparseColMatRef::new(a.symbolic(), &values);
                SparseLu::factorize(single, &self.order).ok()
            })
            .as_ref()
    }

    /// Supply for several demands at once: solves `A·S = F` (each column a demand).
    pub fn solve_many(&self, mut f: Mat<f64>) -> Mat<f64> {
        self.lu.solve_in_place(&self.order, f.as_mut());
        f
    }

    /// The scaling vector: `s = A⁻¹·f`, by solving `A·s = f`.
    pub fn supply(&self, f: &[f64]) -> Result<Vec<f64>, LcaEngineError> {
        if f.len() != self.n {
            return Err(LcaEngineError::DemandLength {
                expected: self.n,
                found: f.len(),
            });
        }
        let s = self.solve_many(Mat::from_fn(self.n, 1, |i, _| f[i]));
        Ok((0..self.n).map(|i| s[(i, 0)]).collect())
    }

    /// Cumulative characterised intensity of each product: `λ = A⁻ᵀ·Bᵀ·c`, i.e. `λᵀ = cᵀ·B·A⁻¹`;
    /// `λ_j` is the impact of one unit of product `j` with its whole supply chain.
    pub fn cumulative_intensities(&self, b: SparseColMatRef<'_, usize, f64>, c: &[f64]) -> Vec<f64> {
        let direct = direct_intensities(b, c);
        let mut rhs = Mat::from_fn(self.n, 1, |i, _| direct[i]);
        self.lu.solve_transpose_in_place(&self.order, rhs.as_mut());
        (0..self.n).map(|i| rhs[(i, 0)]).collect()
    }

    /// Stored entries of the LU factors.
    pub fn factor_nnz(&self) -> usize {
        self.lu.factor_nnz()
    }
}

/// How a perturbed system was solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PerturbedSolve {
    /// Preconditioned iteration with the base factors, in this many steps.
    Iterative(usize),
    /// A numeric refactorisation with the symbolic analysis reused.
    Refactorised,
}

/// `y = A'·s` where `A'` has the values of `a` times `mult` (one multiplier per stored entry, in
/// storage order).
pub fn matvec_scaled(a: SparseColMatRef<'_, usize, f64>, mult: &[f64], s: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; a.nrows()];
    let mut k = 0;
    for (j, sj) in s.iter().enumerate() {
        for (&i, &v) in a.row_idx_of_col_raw(j).iter().zip(a.val_of_col(j)) {
            y[i] += v * mult[k] * sj;
            k += 1;
        }
    }
    y
}

/// A sparse pattern with 32-bit row indices: a quarter less memory traffic per matrix–vector
/// product, which is the largest cost of a Monte Carlo draw (several products per draw).
struct CompactPattern {
    nrows: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<u32>,
}

impl CompactPattern {
    fn of(a: SparseColMatRef<'_, usize, f64>) -> Self {
        let mut col_ptr = Vec::with_capacity(a.ncols() + 1);
        let mut row_idx = Vec::with_capacity(a.val().len());
        col_ptr.push(0);
        for j in 0..a.ncols() {
            // Rows fit in 32 bits: the technosphere is bounded far below 2³² activities.
            row_idx.extend(a.row_idx_of_col_raw(j).iter().map(|&i| i as u32));
            col_ptr.push(row_idx.len());
        }
        CompactPattern {
            nrows: a.nrows(),
            col_ptr,
            row_idx,
        }
    }
}

/// `y = A'·s` where `A'` has the pattern `p` and the stored values `values` (storage order).
fn matvec_compact(p: &CompactPattern, values: &[f64], s: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; p.nrows];
    for (j, sj) in s.iter().enumerate() {
        let range = p.col_ptr[j]..p.col_ptr[j + 1];
        for (&i, &v) in p.row_idx[range.clone()].iter().zip(&values[range]) {
            y[i as usize] += v * sj;
        }
    }
    y
}

/// The stored values of `a` times one multiplier per stored entry (storage order).
pub fn scaled_values(a: SparseColMatRef<'_, usize, f64>, mult: &[f64]) -> Vec<f64> {
    a.val().iter().zip(mult).map(|(v, m)| v * m).collect()
}

impl TechnosphereFactor {
    /// Solves a perturbed technosphere `A'·s = f` (`A'` = `a` with its entries times `mult`); see
    /// [`TechnosphereFactor::solve_perturbed_many`].
    pub fn solve_perturbed(
        &self,
        a: SparseColMatRef<'_, usize, f64>,
        mult: &[f64],
        f: &[f64],
        tol: f64,
        max_iter: usize,
    ) -> Result<(Vec<f64>, PerturbedSolve), LcaEngineError> {
        let s0 = self.supply(f)?;
        let values = scaled_values(a, mult);
        let mut solved = self.solve_perturbed_many(a, &[&values], f, &s0, tol, max_iter)?;
        Ok(solved.pop().expect("one system in, one out"))
    }

    /// Solves several perturbed technospheres `A'_j·s_j = f` at once (`A'_j` has the pattern of
    /// `a` and the stored values `values[j]`, in storage order), each starting from the base supply
    /// `s0 = A⁻¹·f`.
    ///
    /// Preconditioned Richardson iteration on the base factors, `s ← s + A⁻¹·(f − A'_j·s)`
    /// (the corrections solved with the factors in single precision, the residuals in double),
    /// converges when the perturbation is small (`ρ(I − A⁻¹A'_j) < 1`); the residuals of the
    /// systems not yet converged are solved together, as the columns of one matrix, because a
    /// triangular solve with several right-hand sides costs far less per column than one at a
    /// time. A system whose relative residual `‖f − A'_j·s‖/‖f‖` is not below `tol` after
    /// `max_iter` steps is refactorised instead (the symbolic analysis reused).
    pub fn solve_perturbed_many(
        &self,
        a: SparseColMatRef<'_, usize, f64>,
        values: &[&[f64]],
        f: &[f64],
        s0: &[f64],
        tol: f64,
        max_iter: usize,
    ) -> Result<Vec<(Vec<f64>, PerturbedSolve)>, LcaEngineError> {
        if f.len() != self.n || s0.len() != self.n {
            return Err(LcaEngineError::DemandLength {
                expected: self.n,
                found: if f.len() != self.n { f.len() } else { s0.len() },
            });
        }
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let fnorm = norm(f).max(f64::MIN_POSITIVE);
        if let Some(bad) = values.iter().find(|v| v.len() != a.val().len()) {
            return Err(LcaEngineError::ValuesLength {
                expected: a.val().len(),
                found: bad.len(),
            });
        }
        if a.nrows() > u32::MAX as usize {
            return Err(LcaEngineError::TooLarge {
                activities: a.nrows(),
            });
        }
        let pattern = CompactPattern::of(a);
        let mut s: Vec<Vec<f64>> = values.iter().map(|_| s0.to_vec()).collect();
        let mut how: Vec<Option<PerturbedSolve>> = vec![None; values.len()];
        for step in 0..=max_iter {
            let mut active = Vec::new();
            let mut residuals = Vec::new();
            for (j, vals) in values.iter().enumerate() {
                if how[j].is_some() || s[j].iter().any(|v| !v.is_finite()) {
                    continue;
                }
                let r: Vec<f64> = f
                    .iter()
                    .zip(matvec_compact(&pattern, vals, &s[j]))
                    .map(|(f, y)| f - y)
                    .collect();
                if norm(&r) / fnorm <= tol {
                    how[j] = Some(PerturbedSolve::Iterative(step));
                } else if step < max_iter {
                    active.push(j);
                    residuals.push(r);
                }
            }
            if active.is_empty() {
                break;
            }
            match self.single_precision(a) {
                Some(lu) => {
                    let mut ds = Mat::from_fn(self.n, active.len(), |i, c| residuals[c][i] as f32);
                    lu.solve_in_place(&self.order, ds.as_mut());
                    for (c, &j) in active.iter().enumerate() {
                        for (i, v) in s[j].iter_mut().enumerate() {
                            *v += f64::from(ds[(i, c)]);
                        }
                    }
                }
                None => {
                    let ds = self.solve_many(Mat::from_fn(self.n, active.len(), |i, c| residuals[c][i]));
                    for (c, &j) in active.iter().enumerate() {
                        for (i, v) in s[j].iter_mut().enumerate() {
                            *v += ds[(i, c)];
                        }
                    }
                }
            }
        }
        values
            .iter()
            .zip(s)
            .zip(how)
            .map(|((vals, s), how)| match how {
                Some(h) => Ok((s, h)),
                // Not converging: factorise the perturbed matrix (same pattern and fill order).
                None => {
                    let perturbed = SparseColMatRef::new(a.symbolic(), vals);
                    let factor = self.refactorize(perturbed)?;
                    Ok((factor.supply(f)?, PerturbedSolve::Refactorised))
                }
            })
            .collect()
    }
}

/// The life-cycle inventory: `g = B·s`.
pub fn inventory(b: SparseColMatRef<'_, usize, f64>, s: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; b.nrows()];
    for (j, sj) in s.iter().enumerate() {
        for (&i, &v) in b.row_idx_of_col_raw(j).iter().zip(b.val_of_col(j)) {
            g[i] += v * sj;
        }
    }
    g
}

/// The inventory matrix `G = B·diag(s)`: column `j` holds what activity `j`, at its scale in the
/// supply `s`, emits (Heijungs & Suh 2002, § 2.3); its row sums are the inventory `g = B·s`.
/// Returned as the stored values on `B`'s pattern (view it with
/// `SparseColMatRef::new(b.symbolic(), &values)`): the pattern is `B`'s, so it is not copied.
pub fn inventory_matrix(b: SparseColMatRef<'_, usize, f64>, s: &[f64]) -> Vec<f64> {
    (0..b.ncols())
        .flat_map(|j| b.val_of_col(j).iter().map(move |v| v * s[j]))
        .collect()
}

/// The characterised inventory `diag(c)·G` (each emission times its characterisation factor), as
/// values on the pattern of `G`. Its sum is the score `h`, its column sums the process
/// contributions.
pub fn characterised_inventory(c: &[f64], g: SparseColMatRef<'_, usize, f64>) -> Vec<f64> {
    (0..g.ncols())
        .flat_map(|j| {
            g.row_idx_of_col_raw(j)
                .iter()
                .zip(g.val_of_col(j))
                .map(|(&i, v)| c[i] * v)
        })
        .collect()
}

/// The impact score: `h = cᵀ·g`.
pub fn characterise(c: &[f64], g: &[f64]) -> f64 {
    c.iter().zip(g).map(|(c, g)| c * g).sum()
}

/// Direct characterised emissions per unit of each activity: `(cᵀ·B)_j`.
pub fn direct_intensities(b: SparseColMatRef<'_, usize, f64>, c: &[f64]) -> Vec<f64> {
    (0..b.ncols())
        .map(|j| {
            b.row_idx_of_col_raw(j)
                .iter()
                .zip(b.val_of_col(j))
                .map(|(&i, v)| c[i] * v)
                .sum()
        })
        .collect()
}

/// Contribution of each activity to the score: `h_j = (cᵀ·B)_j·s_j` (sums to `h`).
pub fn process_contributions(b: SparseColMatRef<'_, usize, f64>, c: &[f64], s: &[f64]) -> Vec<f64> {
    direct_intensities(b, c)
        .iter()
        .zip(s)
        .map(|(d, s)| d * s)
        .collect()
}

/// Contribution of each elementary flow to the score: `c_i·g_i` (sums to `h`).
pub fn flow_contributions(c: &[f64], g: &[f64]) -> Vec<f64> {
    c.iter().zip(g).map(|(c, g)| c * g).collect()
}

/// A node of the supply-chain tree: an activity, the amount of its product needed, and the
/// impact of that amount with everything upstream (`λ_j × amount`).
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub activity: usize,
    pub amount: f64,
    pub cumulative_impact: f64,
    /// Impact of this node's own emissions for this amount.
    pub direct_impact: f64,
    pub children: Vec<TreeNode>,
}

/// The supply-chain tree of `amount` of product `root` to `depth` levels: each activity's inputs
/// (negative entries of its column of `A`, per unit of its output on the diagonal) become
/// children. Branches whose cumulative impact is below `cutoff × |root impact|` are not expanded,
/// and the tree stops growing at 10,000 nodes or 100 levels.
pub fn supply_chain_tree(
    a: SparseColMatRef<'_, usize, f64>,
    cumulative: &[f64],
    direct: &[f64],
    root: usize,
    amount: f64,
    depth: usize,
    cutoff: f64,
) -> TreeNode {
    let total = (cumulative[root] * amount).abs();
    /// At most this many nodes and levels: loops with no cut-off would otherwise grow the tree
    /// without end (and the recursion past the stack).
    const MAX_NODES: usize = 10_000;
    const MAX_DEPTH: usize = 100;
    struct Grow<'a> {
        a: SparseColMatRef<'a, usize, f64>,
        cumulative: &'a [f64],
        direct: &'a [f64],
        min: f64,
        budget: usize,
    }
    impl Grow<'_> {
        fn node(&mut self, j: usize, amount: f64, depth: usize) -> TreeNode {
            self.budget = self.budget.saturating_sub(1);
            let rows = self.a.row_idx_of_col_raw(j);
            let vals = self.a.val_of_col(j);
            // Output of activity j of its own product (the diagonal): inputs are per this output.
            let output = rows
                .iter()
                .zip(vals)
                .find(|(i, _)| **i == j)
                .map_or(1.0, |(_, v)| *v);
            let scale = amount / output;
            let mut node = TreeNode {
                activity: j,
                amount,
                cumulative_impact: self.cumulative[j] * amount,
                direct_impact: self.direct[j] * scale,
                children: Vec::new(),
            };
            if depth == 0 {
                return node;
            }
            for (&i, &v) in rows.iter().zip(vals) {
                if i == j || v >= 0.0 || self.budget == 0 {
                    continue;
                }
                let need = -v * scale;
                if (self.cumulative[i] * need).abs() >= self.min {
                    node.children.push(self.node(i, need, depth - 1));
                }
            }
            node.children
                .sort_by(|x, y| y.cumulative_impact.abs().total_cmp(&x.cumulative_impact.abs()));
            node
        }
    }
    Grow {
        a,
        cumulative,
        direct,
        min: cutoff * total,
        budget: MAX_NODES,
    }
    .node(root, amount, depth.min(MAX_DEPTH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perturbed_system_is_solved_by_iteration_or_refactorisation() {
        let a = sparse_from_entries(2, 2, &[(0, 0, 1.0), (1, 0, -2.0), (1, 1, 1.0), (0, 1, -0.01)]).unwrap();
        let lu = factorize(a.as_ref()).unwrap();
        // Entries in storage order: (0,0), (1,0), (0,1), (1,1). Scale the inputs by 1.1 and 0.9.
        let mult = [1.0, 1.1, 0.9, 1.0];
        let (s, how) = lu
            .solve_perturbed(a.as_ref(), &mult, &[1.0, 0.0], 1e-12, 50)
            .unwrap();
        // s0 = 1 + 0.009·s1, s1 = 2.2·s0 → s0 = 1/(1 − 0.0198).
        assert!((s[0] - 1.0 / (1.0 - 0.0198)).abs() < 1e-10, "{s:?}");
        assert!(matches!(how, PerturbedSolve::Iterative(k) if k > 0));
        // No iterations allowed: the refactorisation gives the same answer.
        let (s2, how) = lu
            .solve_perturbed(a.as_ref(), &mult, &[1.0, 0.0], 1e-12, 0)
            .unwrap();
        assert_eq!(how, PerturbedSolve::Refactorised);
        assert!((s2[0] - s[0]).abs() < 1e-12);
    }

    /// Two activities in a loop: electricity (1 kWh needs 0.1 kg coal... ) — see the test body.
    #[test]
    fn a_loop_solves_exactly() {
        // Products/activities: 0 = steel (kg), 1 = electricity (kWh).
        // Steel: 1 kg out, 2 kWh in, emits 1.5 kg CO2. Electricity: 1 kWh out, 0.01 kg steel in,
        // emits 0.5 kg CO2.
        let a = sparse_from_entries(2, 2, &[(0, 0, 1.0), (1, 0, -2.0), (1, 1, 1.0), (0, 1, -0.01)]).unwrap();
        let b = sparse_from_entries(1, 2, &[(0, 0, 1.5), (0, 1, 0.5)]).unwrap();
        let lu = factorize(a.as_ref()).unwrap();
        let s = lu.supply(&[1.0, 0.0]).unwrap();
        // s0 = 1 + 0.01·s1, s1 = 2·s0 → s0 = 1/0.98, s1 = 2/0.98.
        assert!((s[0] - 1.0 / 0.98).abs() < 1e-14 && (s[1] - 2.0 / 0.98).abs() < 1e-14);
        let g = inventory(b.as_ref(), &s);
        let h = characterise(&[1.0], &g);
        assert!((h - (1.5 + 1.0) / 0.98).abs() < 1e-12);
        let pc = process_contributions(b.as_ref(), &[1.0], &s);
        assert!((pc.iter().sum::<f64>() - h).abs() < 1e-12);
        let lambda = lu.cumulative_intensities(b.as_ref(), &[1.0]);
        assert!((lambda[0] - h).abs() < 1e-12);
        let tree = supply_chain_tree(
            a.as_ref(),
            &lambda,
            &direct_intensities(b.as_ref(), &[1.0]),
            0,
            1.0,
            3,
            0.0,
        );
        assert_eq!(tree.children[0].activity, 1);
        assert!((tree.children[0].amount - 2.0).abs() < 1e-15);
        assert!((tree.cumulative_impact - h).abs() < 1e-12);
        // A loop with no cut-off and a deep tree stops at the node budget instead of exploding.
        fn count(t: &TreeNode) -> usize {
            1 + t.children.iter().map(count).sum::<usize>()
        }
        let deep = supply_chain_tree(
            a.as_ref(),
            &lambda,
            &direct_intensities(b.as_ref(), &[1.0]),
            0,
            1.0,
            50_000,
            0.0,
        );
        assert!(count(&deep) <= 10_000, "{}", count(&deep));
    }

    #[test]
    fn singular_technospheres_name_the_activities() {
        // Activity 1 produces nothing (empty column).
        let a = sparse_from_entries(2, 2, &[(0, 0, 1.0), (1, 0, -1.0)]).unwrap();
        assert_eq!(
            factorize(a.as_ref()).unwrap_err(),
            LcaEngineError::Singular { activities: vec![1] }
        );
        // Two activities that exactly consume each other's output: numerically singular.
        let a = sparse_from_entries(2, 2, &[(0, 0, 1.0), (1, 0, -1.0), (1, 1, 1.0), (0, 1, -1.0)]).unwrap();
        assert!(matches!(
            factorize(a.as_ref()),
            Err(LcaEngineError::Singular { .. })
        ));
        assert!(matches!(
            sparse_from_entries(2, 2, &[(2, 0, 1.0)]),
            Err(LcaEngineError::OutOfBounds { .. })
        ));
    }

    #[test]
    fn entries_are_summed_in_order_and_zero_sums_dropped() {
        let m = sparse_from_entries(
            3,
            2,
            &[(2, 1, 0.5), (0, 0, 1.0), (2, 1, 0.25), (1, 0, 2.0), (1, 0, -2.0)],
        )
        .unwrap();
        assert_eq!(m.compute_nnz(), 2, "the (1, 0) entries cancel and are dropped");
        assert_eq!(m.row_idx_of_col_raw(0), &[0]);
        assert_eq!(m.row_idx_of_col_raw(1), &[2]);
        assert_eq!(m.val_of_col(1), &[0.75]);
        assert_eq!(
            sparse_from_entries(2, 2, &[(0, 1, f64::NAN)]).unwrap_err(),
            LcaEngineError::NonFinite { row: 0, col: 1 }
        );
    }

    /// Systems whose pivots must leave the diagonal (an input larger than the output it feeds,
    /// as with a co-product credited by substitution) and with hub products, against a dense LU.
    #[test]
    fn sparse_solves_agree_with_a_dense_lu() {
        use faer::linalg::solvers::Solve;
        for seed in 0..20u64 {
            let n = 60;
            let mut state = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut next = move || {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let mut entries: Vec<(usize, usize, f64)> = (0..n).map(|j| (j, j, 0.5 + next())).collect();
            for j in 0..n {
                for _ in 0..3 {
                    let i = (next() * n as f64) as usize % n;
                    // Every tenth input dwarfs its column's output; product 0 is a hub.
                    let big = if next() < 0.1 { 5.0 } else { 0.3 };
                    entries.push((i, j, -big * next()));
                    entries.push((0, j, -0.01 * next()));
                }
            }
            let a = sparse_from_entries(n, n, &entries).unwrap();
            let Ok(lu) = factorize(a.as_ref()) else { continue };
            let dense = a.to_dense();
            let dense_lu = dense.partial_piv_lu();
            let f: Vec<f64> = (0..n).map(|_| next()).collect();
            let s = lu.supply(&f).unwrap();
            let expected = dense_lu.solve(Mat::from_fn(n, 1, |i, _| f[i]));
            let b =
                sparse_from_entries(2, n, &(0..n).map(|j| (j % 2, j, next())).collect::<Vec<_>>()).unwrap();
            let lambda = lu.cumulative_intensities(b.as_ref(), &[1.0, 2.0]);
            let direct = direct_intensities(b.as_ref(), &[1.0, 2.0]);
            let expected_lambda = dense_lu.solve_transpose(Mat::from_fn(n, 1, |i, _| direct[i]));
            for i in 0..n {
                let tol = 1e-9 * (1.0 + expected[(i, 0)].abs());
                assert!((s[i] - expected[(i, 0)]).abs() < tol, "seed {seed}, supply {i}");
                let tol = 1e-9 * (1.0 + expected_lambda[(i, 0)].abs());
                assert!(
                    (lambda[i] - expected_lambda[(i, 0)]).abs() < tol,
                    "seed {seed}, intensity {i}"
                );
            }
            // The inventory matrix and its characterisation give the same score as the vector.
            let g = inventory_matrix(b.as_ref(), &s);
            let g = SparseColMatRef::new(b.symbolic(), &g);
            let score: f64 = characterised_inventory(&[1.0, 2.0], g).iter().sum();
            let by_vector = characterise(&[1.0, 2.0], &inventory(b.as_ref(), &s));
            assert!((score - by_vector).abs() <= 1e-12 * by_vector.abs().max(1.0));
        }
    }

    #[test]
    fn perturbed_values_must_match_the_pattern() {
        let a = sparse_from_entries(2, 2, &[(0, 0, 1.0), (1, 0, -0.5), (1, 1, 1.0)]).unwrap();
        let lu = factorize(a.as_ref()).unwrap();
        let s0 = lu.supply(&[1.0, 0.0]).unwrap();
        assert_eq!(
            lu.solve_perturbed_many(a.as_ref(), &[&[1.0, -0.5]], &[1.0, 0.0], &s0, 1e-12, 5)
                .unwrap_err(),
            LcaEngineError::ValuesLength {
                expected: 3,
                found: 2
            }
        );
    }
}
