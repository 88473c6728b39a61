//! Output, coefficients and the Leontief system.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor, solve};
use faer::perm::PermRef;
use faer::{Col, ColRef, Mat, MatMut, MatRef, Par};

use super::EngineError;

/// 1/v, with 1/0 := 0 (pymrio's convention for industries without output).
fn reciprocal_or_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { 1.0 / v }
}

fn par() -> Par {
    faer::get_global_parallelism()
}

/// Total output from flows and final demand: `x = Z·1 + Y·1` (pymrio `calc_x`).
pub fn calc_x(z: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Col<f64> {
    Col::from_fn(z.nrows(), |i| {
        z.row(i).iter().sum::<f64>() + y.row(i).iter().sum::<f64>()
    })
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

/// An LU factorisation (with partial pivoting) of the Leontief matrix `(I − A)`.
///
/// It stands in for `L = (I − A)⁻¹`: `L·B` is [`solve_in_place`](Self::solve_in_place) and
/// `B·L` is a transposed solve, each at O(n²) per column instead of the O(n³) inverse.
pub struct LeontiefFactor {
    lu: Mat<f64>,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
}

/// Relative size below which a pivot of U counts as zero.
const SINGULAR_PIVOT: f64 = 1e-12;

/// Factorises the Leontief matrix: `P·(I − A) = L_f·U` (LU with partial pivoting).
///
/// Takes `A` by value and overwrites it with the factors, so the factorisation costs no
/// memory beyond `A` itself. A zero pivot means `(I − A)` is singular: reported with the column.
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
    // I − A in place.
    for j in 0..n {
        let col = a.col_mut(j);
        for v in col.iter_mut() {
            *v = -*v;
        }
        a[(j, j)] += 1.0;
    }
    let mut perm = vec![0usize; n];
    let mut perm_inv = vec![0usize; n];
    let par = par();
    let mut mem = MemBuffer::new(factor::lu_in_place_scratch::<usize, f64>(
        n,
        n,
        par,
        Default::default(),
    ));
    factor::lu_in_place(
        a.as_mut(),
        &mut perm,
        &mut perm_inv,
        par,
        MemStack::new(&mut mem),
        Default::default(),
    );
    let scale = (0..n).map(|i| a[(i, i)].abs()).fold(0.0f64, f64::max);
    for i in 0..n {
        let pivot = a[(i, i)];
        if !pivot.is_finite() || pivot.abs() <= SINGULAR_PIVOT * scale.max(1.0) {
            return Err(EngineError::Singular { column: i, pivot });
        }
    }
    Ok(LeontiefFactor {
        lu: a,
        perm,
        perm_inv,
    })
}

impl LeontiefFactor {
    /// Size n of the system.
    pub fn dim(&self) -> usize {
        self.lu.nrows()
    }

    fn perm(&self) -> PermRef<'_, usize> {
        PermRef::new_checked(&self.perm, &self.perm_inv, self.perm.len())
    }

    /// Overwrites `B` with `L·B`, i.e. solves `(I − A)·X = B`.
    pub fn solve_in_place(&self, rhs: MatMut<'_, f64>) {
        let par = par();
        let mut mem = MemBuffer::new(solve::solve_in_place_scratch::<usize, f64>(
            self.dim(),
            rhs.ncols(),
            par,
        ));
        solve::solve_in_place(
            self.lu.as_ref(),
            self.lu.as_ref(),
            self.perm(),
            rhs,
            par,
            MemStack::new(&mut mem),
        );
    }

    /// Overwrites `B` with `Lᵀ·B`, i.e. solves `(I − A)ᵀ·X = B`; `(B'·L)ᵀ = Lᵀ·B'ᵀ`.
    pub fn solve_transpose_in_place(&self, rhs: MatMut<'_, f64>) {
        let par = par();
        let mut mem = MemBuffer::new(solve::solve_transpose_in_place_scratch::<usize, f64>(
            self.dim(),
            rhs.ncols(),
            par,
        ));
        solve::solve_transpose_in_place(
            self.lu.as_ref(),
            self.lu.as_ref(),
            self.perm(),
            rhs,
            par,
            MemStack::new(&mut mem),
        );
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
}

/// The Leontief inverse `L = (I − A)⁻¹` (pymrio `calc_L`). O(n³) and n² memory: only for
/// users who ask for L itself; the accounts never need it.
pub fn calc_l(leontief: &LeontiefFactor) -> Mat<f64> {
    let n = leontief.dim();
    let mut l = Mat::<f64>::identity(n, n);
    leontief.solve_in_place(l.as_mut());
    l
}

/// Multipliers: `M = S·L`, computed as `Mᵀ = (I − A)⁻ᵀ·Sᵀ` (pymrio `calc_M`).
pub fn calc_m(s: MatRef<'_, f64>, leontief: &LeontiefFactor) -> Mat<f64> {
    leontief.left_multiply(s)
}
