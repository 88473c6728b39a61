//! Output, coefficients and the Leontief system.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor, solve};
use faer::perm::PermRef;
use faer::reborrow::Reborrow;
use faer::{Col, ColRef, Mat, MatMut, MatRef, Par};

use super::shape::EngineError;

/// 1/v, with 1/0 := 0 (pymrio's convention for industries without output).
fn reciprocal_or_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { 1.0 / v }
}

fn par() -> Par {
    faer::get_global_parallelism()
}

/// Total output from flows and final demand: `x = Z·1 + Y·1` (pymrio `calc_x`).
pub fn calc_x(z: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Col<f64> {
    row_sums(z) + row_sums(y)
}

/// `M·1`, summed column by column (matrices are column-major: rows would be strided).
pub fn row_sums(m: MatRef<'_, f64>) -> Col<f64> {
    let mut s = Col::<f64>::zeros(m.nrows());
    for j in 0..m.ncols() {
        for (acc, v) in s.iter_mut().zip(m.col(j).iter()) {
            *acc += v;
        }
    }
    s
}

/// The output balance of a table whose total output is given: the residual `r = x − Z·1 − Y·1`
/// (equivalently `x − A·x − Y·1` when the table holds coefficients, since `Z = A·diag(x)`).
/// Returns `(index of the largest |r_i|, that residual)`.
pub fn output_balance_residual(
    core: MatRef<'_, f64>,
    core_is_flows: bool,
    y: MatRef<'_, f64>,
    x: ColRef<'_, f64>,
) -> (usize, f64) {
    let mut inputs = Col::<f64>::zeros(core.nrows());
    for j in 0..core.ncols() {
        let scale = if core_is_flows { 1.0 } else { x[j] };
        for (acc, v) in inputs.iter_mut().zip(core.col(j).iter()) {
            *acc += v * scale;
        }
    }
    let supplied = inputs + row_sums(y);
    (0..x.nrows())
        .map(|i| (i, x[i] - supplied[i]))
        .fold(
            (0, 0.0),
            |best, (i, r)| if r.abs() > best.1.abs() { (i, r) } else { best },
        )
}

/// Total output from the Leontief system and final demand: `x = L·y`, i.e. `(I − A)·x = y`
/// (pymrio `calc_x_from_L`).
pub fn calc_x_from_leontief(leontief: &LeontiefFactor, y: ColRef<'_, f64>) -> Col<f64> {
    let mut x = Mat::from_fn(y.nrows(), 1, |i, _| y[i]);
    leontief.solve_in_place(x.as_mut());
    Col::from_fn(y.nrows(), |i| x[(i, 0)])
}

/// Technical coefficients: `A = Z·diag(x)⁻¹`, with columns of zero output set to 0
/// (pymrio `calc_A`). Takes `Z` by value and scales it in place, so no second n × n matrix.
pub fn calc_a(mut z: Mat<f64>, x: ColRef<'_, f64>) -> Mat<f64> {
    for j in 0..z.ncols() {
        let r = reciprocal_or_zero(x[j]);
        z.col_mut(j).iter_mut().for_each(|v| *v *= r);
    }
    z
}

/// Flows from coefficients: `Z = A·diag(x)` (pymrio `calc_Z`).
pub fn calc_z(a: MatRef<'_, f64>, x: ColRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] * x[j])
}

/// Stressor coefficients: `S = F·diag(x)⁻¹`, 0 where `x = 0` (pymrio `calc_S`).
pub fn calc_s(f: MatRef<'_, f64>, x: ColRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(f.nrows(), f.ncols(), |i, j| f[(i, j)] * reciprocal_or_zero(x[j]))
}

/// Final-demand stressor coefficients: `S_Y = F_Y·diag(1ᵀ·Y)⁻¹`, 0 where a final-demand column
/// sums to 0 (pymrio `calc_S_Y`).
pub fn calc_s_y(f_y: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Mat<f64> {
    let totals: Vec<f64> = (0..y.ncols()).map(|j| y.col(j).iter().sum::<f64>()).collect();
    Mat::from_fn(f_y.nrows(), f_y.ncols(), |i, j| {
        f_y[(i, j)] * reciprocal_or_zero(totals[j])
    })
}

/// Stressors from coefficients: `F = S·diag(x)` (pymrio `calc_F`).
pub fn calc_f(s: MatRef<'_, f64>, x: ColRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(s.nrows(), s.ncols(), |i, j| s[(i, j)] * x[j])
}

/// LU factors with partial pivoting: `P·M = L_f·U`, stored in one matrix.
struct Lu<T> {
    lu: Mat<T>,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
}

fn lu_in_place<T: faer::traits::ComplexField>(mut m: Mat<T>) -> Lu<T> {
    let n = m.nrows();
    let mut perm = vec![0usize; n];
    let mut perm_inv = vec![0usize; n];
    let par = par();
    let mut mem = MemBuffer::new(factor::lu_in_place_scratch::<usize, T>(
        n,
        n,
        par,
        Default::default(),
    ));
    factor::lu_in_place(
        m.as_mut(),
        &mut perm,
        &mut perm_inv,
        par,
        MemStack::new(&mut mem),
        Default::default(),
    );
    Lu {
        lu: m,
        perm,
        perm_inv,
    }
}

impl<T: faer::traits::ComplexField> Lu<T> {
    fn perm(&self) -> PermRef<'_, usize> {
        PermRef::new_checked(&self.perm, &self.perm_inv, self.perm.len())
    }

    fn solve(&self, rhs: MatMut<'_, T>, transpose: bool) {
        let par = par();
        let n = self.lu.nrows();
        let mut mem = MemBuffer::new(solve::solve_in_place_scratch::<usize, T>(n, rhs.ncols(), par));
        let stack = MemStack::new(&mut mem);
        if transpose {
            solve::solve_transpose_in_place(self.lu.as_ref(), self.lu.as_ref(), self.perm(), rhs, par, stack);
        } else {
            solve::solve_in_place(self.lu.as_ref(), self.lu.as_ref(), self.perm(), rhs, par, stack);
        }
    }
}

/// The first pivot of U that is zero relative to the largest, if any.
fn small_pivot(diag: impl Iterator<Item = f64> + Clone, relative: f64) -> Option<(usize, f64)> {
    let scale = diag.clone().map(f64::abs).fold(0.0f64, f64::max).max(1.0);
    diag.enumerate()
        .find(|(_, p)| !p.is_finite() || p.abs() <= relative * scale)
}

/// The Leontief matrix `(I − A)` factorised for solving, standing in for `L = (I − A)⁻¹`:
/// `L·B` is [`solve_in_place`](Self::solve_in_place) and `B·L` a transposed solve, each at O(n²)
/// per column instead of the O(n³) inverse.
///
/// Mixed precision with iterative refinement (the method of LAPACK's `dsgesv`): `(I − A)` is
/// factorised in f32, which runs at twice the f64 speed; every solve is refined with residuals
/// computed in f64 until each column's backward error is at f64 level
/// (`‖r‖∞ ≤ ‖x‖∞·‖I − A‖∞·ε·√n`), so results are as accurate as an f64 solve. Where refinement
/// does not converge (an ill-conditioned system) or the f32 factors have a tiny pivot, an f64 LU
/// is made and used instead.
pub struct LeontiefFactor {
    /// `(I − A)` in f64, for the residuals.
    m: Mat<f64>,
    /// `‖I − A‖∞` (largest absolute row sum).
    norm_inf: f64,
    /// `‖I − A‖₁` (largest absolute column sum).
    norm_one: f64,
    lu32: Option<Lu<f32>>,
    lu64: std::sync::OnceLock<Lu<f64>>,
}

/// Relative size below which a pivot of U counts as zero (f64).
const SINGULAR_PIVOT: f64 = 1e-12;
/// Relative pivot size below which f32 factors are not trusted.
const F32_PIVOT: f64 = 1e-5;
/// More right-hand sides than n / MANY_RHS are solved with f64 factors.
const MANY_RHS: usize = 10;
/// Refinement steps before falling back to f64 factors (LAPACK's ITERMAX is 30).
const MAX_REFINEMENT: usize = 30;

/// Factorises the Leontief matrix `(I − A)`: `P·(I − A) = L_f·U` with partial pivoting.
///
/// Takes `A` by value and turns it into `(I − A)` in place. A zero pivot means `(I − A)` is
/// singular: reported with the column where elimination broke down.
pub fn factorize_leontief(mut a: Mat<f64>) -> Result<LeontiefFactor, EngineError> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(EngineError::Shape {
            what: "A",
            expected_rows: n,
            expected_cols: n,
            found_rows: a.nrows(),
            found_cols: a.ncols(),
        });
    }
    let mut row_abs = vec![0.0f64; n];
    for j in 0..n {
        for (i, v) in a.col_mut(j).iter_mut().enumerate() {
            *v = -*v;
            row_abs[i] += v.abs();
        }
        row_abs[j] += (a[(j, j)] + 1.0).abs() - a[(j, j)].abs();
        a[(j, j)] += 1.0;
    }
    let norm_inf = row_abs.into_iter().fold(0.0, f64::max);
    let norm_one = (0..n)
        .map(|j| a.col(j).iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let lu32 = lu_in_place(Mat::<f32>::from_fn(n, n, |i, j| a[(i, j)] as f32));
    let factor = LeontiefFactor {
        m: a,
        norm_inf,
        norm_one,
        lu32: None,
        lu64: std::sync::OnceLock::new(),
    };
    let pivots32 = (0..n).map(|i| lu32.lu[(i, i)] as f64);
    if small_pivot(pivots32, F32_PIVOT).is_none() {
        return Ok(LeontiefFactor {
            lu32: Some(lu32),
            ..factor
        });
    }
    // f32 is not enough here: factorise in f64 and judge singularity there.
    drop(lu32);
    let lu64 = factor.lu64();
    if let Some((column, pivot)) = small_pivot((0..n).map(|i| lu64.lu[(i, i)]), SINGULAR_PIVOT) {
        return Err(EngineError::Singular { column, pivot });
    }
    Ok(factor)
}

impl LeontiefFactor {
    /// Size n of the system.
    pub fn dim(&self) -> usize {
        self.m.nrows()
    }

    /// The technical coefficients back: `A = I − (I − A)`.
    pub fn coefficients(&self) -> Mat<f64> {
        let n = self.dim();
        Mat::from_fn(n, n, |i, j| f64::from(u8::from(i == j)) - self.m[(i, j)])
    }

    fn lu64(&self) -> &Lu<f64> {
        self.lu64.get_or_init(|| lu_in_place(self.m.clone()))
    }

    /// Solves `(I − A)·X = B` (or `(I − A)ᵀ·X = B`), overwriting `B` with `X`.
    fn solve(&self, mut b: MatMut<'_, f64>, transpose: bool) {
        if let Some(lu64) = self.lu64.get() {
            return lu64.solve(b, transpose);
        }
        let Some(lu32) = &self.lu32 else {
            return self.lu64().solve(b, transpose);
        };
        let (n, m) = (b.nrows(), b.ncols());
        // Refinement costs a few f64 products with (I − A) per solve; past about n/10
        // right-hand sides one f64 factorisation is cheaper (the D_imp accounts, L itself).
        if m * MANY_RHS > n {
            return self.lu64().solve(b, transpose);
        }
        let rhs = b.to_owned();
        // Like dsgesv: what f32 cannot represent goes to the f64 factors directly.
        let fits_f32 = |v: &f64| v.is_finite() && v.abs() <= f32::MAX as f64;
        if !(0..m).all(|j| rhs.col(j).iter().all(fits_f32)) {
            return self.lu64().solve(b, transpose);
        }
        let mut low = Mat::<f32>::from_fn(n, m, |i, j| rhs[(i, j)] as f32);
        lu32.solve(low.as_mut(), transpose);
        for j in 0..m {
            for i in 0..n {
                b[(i, j)] = low[(i, j)] as f64;
            }
        }
        // The backward-error test uses the norm of the matrix actually solved with:
        // ‖M‖∞ for M, ‖Mᵀ‖∞ = ‖M‖₁ for Mᵀ.
        let norm = if transpose { self.norm_one } else { self.norm_inf };
        let tolerance = norm * (f64::EPSILON / 2.0) * (n as f64).sqrt();
        let lhs = if transpose {
            self.m.transpose()
        } else {
            self.m.as_ref()
        };
        let mut residual = Mat::<f64>::zeros(n, m);
        for step in 0..=MAX_REFINEMENT {
            // r = B − M·X in f64.
            residual.copy_from(&rhs);
            faer::linalg::matmul::matmul(residual.as_mut(), faer::Accum::Add, lhs, b.rb(), -1.0, par());
            let converged = (0..m).all(|j| {
                let (r, x) = (residual.col(j), b.rb().col(j));
                let finite = r.iter().all(|v| v.is_finite()) && x.iter().all(|v| v.is_finite());
                let r_max = r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                let x_max = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                finite && r_max <= x_max * tolerance
            });
            if converged {
                return;
            }
            if step == MAX_REFINEMENT || !(0..m).all(|j| residual.col(j).iter().all(fits_f32)) {
                break;
            }
            for j in 0..m {
                for i in 0..n {
                    low[(i, j)] = residual[(i, j)] as f32;
                }
            }
            lu32.solve(low.as_mut(), transpose);
            for j in 0..m {
                for i in 0..n {
                    b[(i, j)] += low[(i, j)] as f64;
                }
            }
        }
        // No convergence: an ill-conditioned system. Solve in f64 from the original B.
        b.copy_from(&rhs);
        self.lu64().solve(b, transpose);
    }

    /// Overwrites `B` with `L·B`, i.e. solves `(I − A)·X = B`.
    pub fn solve_in_place(&self, rhs: MatMut<'_, f64>) {
        self.solve(rhs, false);
    }

    /// Overwrites `B` with `Lᵀ·B`, i.e. solves `(I − A)ᵀ·X = B`; `(B'·L)ᵀ = Lᵀ·B'ᵀ`.
    pub fn solve_transpose_in_place(&self, rhs: MatMut<'_, f64>) {
        self.solve(rhs, true);
    }

    /// `B·L` for a row-block `B` (k × n): solves `(I − A)ᵀ·Xᵀ = Bᵀ`.
    pub fn left_multiply(&self, b: MatRef<'_, f64>) -> Mat<f64> {
        let mut bt = b.transpose().to_owned();
        self.solve_transpose_in_place(bt.as_mut());
        bt.transpose().to_owned()
    }

    /// `L·B` for a column-block `B` (n × m).
    pub fn right_multiply(&self, b: MatRef<'_, f64>) -> Mat<f64> {
        let mut x = b.to_owned();
        self.solve_in_place(x.as_mut());
        x
    }

    /// `L` itself, through f64 factors (n right-hand sides: refinement would cost more).
    fn inverse(&self) -> Mat<f64> {
        let n = self.dim();
        let mut l = Mat::<f64>::identity(n, n);
        self.lu64().solve(l.as_mut(), false);
        l
    }
}

/// The Leontief inverse `L = (I − A)⁻¹` (pymrio `calc_L`). O(n³) and n² memory: only for
/// users who ask for L itself; the accounts never need it.
pub fn calc_l(leontief: &LeontiefFactor) -> Mat<f64> {
    leontief.inverse()
}

/// Multipliers: `M = S·L`, computed as `Mᵀ = (I − A)⁻ᵀ·Sᵀ` (pymrio `calc_M`).
pub fn calc_m(s: MatRef<'_, f64>, leontief: &LeontiefFactor) -> Mat<f64> {
    leontief.left_multiply(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_abs_diff(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
        let mut d = 0.0f64;
        for j in 0..a.ncols() {
            for i in 0..a.nrows() {
                d = d.max((a[(i, j)] - b[(i, j)]).abs());
            }
        }
        d
    }

    /// A dense, productive A (column sums 0.6) with a pseudo-random pattern.
    fn coefficients(n: usize) -> Mat<f64> {
        let mut a = Mat::from_fn(n, n, |i, j| {
            (((i * 7919 + j * 104_729) % 1000) as f64 + 1.0) / 1000.0
        });
        for j in 0..n {
            let s: f64 = a.col(j).iter().sum();
            a.col_mut(j).iter_mut().for_each(|v| *v *= 0.6 / s);
        }
        a
    }

    #[test]
    fn refined_solves_are_as_accurate_as_f64_solves() {
        let n = 300;
        let a = coefficients(n);
        let factor = factorize_leontief(a.clone()).unwrap();
        assert!(factor.lu32.is_some() && factor.lu64.get().is_none());
        let b = Mat::from_fn(n, 5, |i, j| ((i + 3 * j) % 17) as f64 + 0.5);
        let x = factor.right_multiply(b.as_ref());
        assert!(
            factor.lu64.get().is_none(),
            "well-conditioned: no f64 factors needed"
        );
        // The f64 reference: (I − A)⁻¹ through f64 LU.
        let reference = lu_in_place(Mat::<f64>::identity(n, n) - &a);
        let mut expected = b.clone();
        reference.solve(expected.as_mut(), false);
        let scale = max_abs_diff(expected.as_ref(), Mat::<f64>::zeros(n, 5).as_ref());
        assert!(max_abs_diff(x.as_ref(), expected.as_ref()) <= 1e-13 * scale);
        // Transposed too.
        let xt = factor.left_multiply(b.transpose());
        let mut expected_t = b.clone();
        reference.solve(expected_t.as_mut(), true);
        assert!(max_abs_diff(xt.transpose(), expected_t.as_ref()) <= 1e-13 * scale);
    }

    #[test]
    fn entries_f32_cannot_hold_use_f64_factors() {
        // A = [[0, 1 − δ], [1 − δ, 0]] with δ = 1e-9: in f32 (I − A) is exactly singular.
        let d = 1e-9;
        let a = Mat::from_fn(2, 2, |i, j| if i == j { 0.0 } else { 1.0 - d });
        let factor = factorize_leontief(a.clone()).unwrap();
        assert!(factor.lu32.is_none() && factor.lu64.get().is_some());
        let x = calc_x_from_leontief(&factor, Col::from_fn(2, |_| 1.0).as_ref());
        // (I − A)·x = 1 gives x = 1/δ for both.
        assert!(
            (x[0] * d - 1.0).abs() < 1e-6 && (x[1] * d - 1.0).abs() < 1e-6,
            "{x:?}"
        );
    }

    /// M = H·diag(σ)·H, H a Householder reflection and σ from 1 down to `smallest`, with f32
    /// factors made by hand (so the pivot check cannot divert it to f64 first).
    fn conditioned(smallest: f64) -> (LeontiefFactor, Mat<f64>, Mat<f64>) {
        let n = 20;
        let v: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 * 0.37).collect();
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let h = Mat::from_fn(n, n, |i, j| f64::from(u8::from(i == j)) - 2.0 * v[i] * v[j] / vv);
        let exponent = smallest.log10();
        let sigma = Mat::from_fn(n, n, |i, j| {
            if i == j {
                10f64.powf(exponent * i as f64 / (n - 1) as f64)
            } else {
                0.0
            }
        });
        let m = &h * &sigma * &h;
        let factor = LeontiefFactor {
            norm_inf: (0..n)
                .map(|i| m.row(i).iter().map(|x| x.abs()).sum::<f64>())
                .fold(0.0, f64::max),
            norm_one: (0..n)
                .map(|j| m.col(j).iter().map(|x| x.abs()).sum::<f64>())
                .fold(0.0, f64::max),
            lu32: Some(lu_in_place(Mat::<f32>::from_fn(n, n, |i, j| m[(i, j)] as f32))),
            lu64: std::sync::OnceLock::new(),
            m: m.clone(),
        };
        let x_true = Mat::from_fn(n, 1, |i, _| 1.0 + (i % 3) as f64);
        let b = &m * &x_true;
        (factor, b, x_true)
    }

    #[test]
    fn refinement_reaches_f64_accuracy_on_ill_conditioned_systems() {
        // Condition number 1e9: f32 factors alone give ~1e-1 errors; refined, ~cond·ε₆₄.
        let (factor, b, x_true) = conditioned(1e-9);
        let x = factor.right_multiply(b.as_ref());
        assert!(factor.lu64.get().is_none());
        assert!(max_abs_diff(x.as_ref(), x_true.as_ref()) < 1e-6);
    }

    #[test]
    fn refinement_that_cannot_converge_falls_back_to_f64() {
        // Condition number 1e13: beyond f32 refinement; the f64 factors answer (to ~cond·ε₆₄).
        let (factor, b, x_true) = conditioned(1e-13);
        let x = factor.right_multiply(b.as_ref());
        assert!(factor.lu64.get().is_some(), "refinement should have given up");
        assert!(max_abs_diff(x.as_ref(), x_true.as_ref()) < 1e-3);
    }
}
