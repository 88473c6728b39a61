//! Consumption-, production-, import- and export-based accounts, and trade transfers.

use faer::{Col, ColRef, Mat, MatRef, RowRef};

use super::leontief::{LeontiefFactor, calc_f};
use super::shape::{Blocks, EngineError};

/// Sums columns into groups: `B = X·G`, `G[c, g] = 1` when column `c` is in group `g`.
///
/// With `groups` the consuming region of each final-demand column this is pymrio's
/// `Y.T.groupby(level="region").sum().T` (and the same for `F_Y`).
pub fn aggregate_columns(m: MatRef<'_, f64>, groups: &[usize], n_groups: usize) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(m.nrows(), n_groups);
    for (c, &g) in groups.iter().enumerate() {
        for i in 0..m.nrows() {
            out[(i, g)] += m[(i, c)];
        }
    }
    out
}

/// Sums the columns of each region block: `D_reg[k, r] = Σ_{i ∈ r} D[k, i]`
/// (pymrio's `D.T.groupby(level="region").sum().T`).
pub fn sum_by_region(d: MatRef<'_, f64>, blocks: Blocks) -> Mat<f64> {
    let groups: Vec<usize> = (0..d.ncols()).map(|i| blocks.region_of(i)).collect();
    aggregate_columns(d, &groups, blocks.n_regions)
}

/// Output by consuming region: `X_reg = L·Y_agg`; column `r` is the output, everywhere, that
/// region `r`'s final demand requires. Solves `(I − A)·X_reg = Y_agg`.
pub fn calc_x_by_consumer(leontief: &LeontiefFactor, y_agg: MatRef<'_, f64>) -> Mat<f64> {
    leontief.right_multiply(y_agg)
}

/// Total output required by all final demand: `x_tot = X_reg·1` (pymrio's `x_tot`).
pub fn calc_x_tot(x_reg: MatRef<'_, f64>) -> Col<f64> {
    Col::from_fn(x_reg.nrows(), |i| x_reg.row(i).iter().sum())
}

/// Output produced for other regions' final demand: `x_exp[i] = Σ_{r ≠ region(i)} X_reg[i, r]`
/// (pymrio: the row sums of `x_diag` with the domestic blocks set to zero).
pub fn calc_x_exp(x_reg: MatRef<'_, f64>, blocks: Blocks) -> Col<f64> {
    Col::from_fn(x_reg.nrows(), |i| {
        let home = blocks.region_of(i);
        x_reg
            .row(i)
            .iter()
            .enumerate()
            .filter(|(r, _)| *r != home)
            .map(|(_, v)| v)
            .sum()
    })
}

/// Consumption-based account per final product:
/// `D_cba = S·L·Ŷ`, `Ŷ` the block-diagonalised `Y_agg` (pymrio `calc_accounts`), so
/// `D_cba[k, (r, s)] = Σ_p M[k, (p, s)]·Y_agg[(p, s), r]`: emissions caused by region `r`'s final
/// demand for products of sector `s`, from any origin.
pub fn calc_d_cba(m: MatRef<'_, f64>, y_agg: MatRef<'_, f64>, blocks: Blocks) -> Mat<f64> {
    let (ns, nr) = (blocks.n_sectors, blocks.n_regions);
    Mat::from_fn(m.nrows(), blocks.n(), |k, col| {
        let (r, s) = (col / ns, col % ns);
        (0..nr)
            .map(|p| {
                let i = blocks.index(p, s);
                m[(k, i)] * y_agg[(i, r)]
            })
            .sum()
    })
}

/// Production-based (territorial) account per industry: `D_pba = S·diag(x_tot)`.
pub fn calc_d_pba(s: MatRef<'_, f64>, x_tot: ColRef<'_, f64>) -> Mat<f64> {
    calc_f(s, x_tot)
}

/// Import-based account per final product: emissions abroad caused by region `r`'s final demand
/// for products of sector `s`: `D_imp[k, (r, s)] = Σ_{i ∉ r} S[k, i]·(L·Ŷ)[i, (r, s)]`.
///
/// Computed as `D_cba − D_dom`, `D_dom[k, (r, s)] = Σ_p (S_r·L)[k, (p, s)]·Y_agg[(p, s), r]`
/// with `S_r` the columns of `S` in region `r` (zero elsewhere): k·R transposed solves instead
/// of the n solves that forming `L·Ŷ` would take.
pub fn calc_d_imp(
    s: MatRef<'_, f64>,
    d_cba: MatRef<'_, f64>,
    leontief: &LeontiefFactor,
    y_agg: MatRef<'_, f64>,
    blocks: Blocks,
) -> Mat<f64> {
    let (k, ns, nr) = (s.nrows(), blocks.n_sectors, blocks.n_regions);
    // Column (r·k + stressor) holds S_rᵀ for that stressor.
    let mut rhs = Mat::<f64>::zeros(blocks.n(), nr * k);
    for r in 0..nr {
        for st in 0..k {
            for sec in 0..ns {
                let i = blocks.index(r, sec);
                rhs[(i, r * k + st)] = s[(st, i)];
            }
        }
    }
    leontief.solve_transpose_in_place(rhs.as_mut());
    Mat::from_fn(k, blocks.n(), |st, col| {
        let (r, sec) = (col / ns, col % ns);
        let domestic: f64 = (0..nr)
            .map(|p| {
                let i = blocks.index(p, sec);
                rhs[(i, r * k + st)] * y_agg[(i, r)]
            })
            .sum();
        d_cba[(st, col)] - domestic
    })
}

/// Export-based account per industry: `D_exp = S·diag(x_exp)`.
pub fn calc_d_exp(s: MatRef<'_, f64>, x_exp: ColRef<'_, f64>) -> Mat<f64> {
    calc_f(s, x_exp)
}

/// Emissions embodied in bilateral trade for one stressor `s` (a row of `S`):
/// `E[p, r] = Σ_{i ∈ p} s_i·X_reg[i, r]`, emissions released in producing region `p` because of
/// consuming region `r`'s final demand. The diagonal is domestic; off-diagonal is trade.
pub fn calc_embodied_trade(s: RowRef<'_, f64>, x_reg: MatRef<'_, f64>, blocks: Blocks) -> Mat<f64> {
    let nr = blocks.n_regions;
    let mut e = Mat::<f64>::zeros(nr, x_reg.ncols());
    for r in 0..x_reg.ncols() {
        for i in 0..blocks.n() {
            e[(blocks.region_of(i), r)] += s[i] * x_reg[(i, r)];
        }
    }
    e
}

/// Net transfer embodied in trade of each region: imports minus exports,
/// `N[r] = Σ_{p ≠ r} E[p, r] − Σ_{q ≠ r} E[r, q]` (positive: a net importer of emissions).
pub fn calc_net_transfers(e: MatRef<'_, f64>) -> Vec<f64> {
    (0..e.nrows())
        .map(|r| {
            let imports: f64 = (0..e.nrows()).filter(|p| *p != r).map(|p| e[(p, r)]).sum();
            let exports: f64 = (0..e.ncols()).filter(|q| *q != r).map(|q| e[(r, q)]).sum();
            imports - exports
        })
        .collect()
}

/// Regional accounts (pymrio's `D_cba_reg`, `D_pba_reg`, `D_imp_reg`, `D_exp_reg`), each k × R.
#[derive(Debug, Clone)]
pub struct RegionalAccounts {
    pub d_cba_reg: Mat<f64>,
    pub d_pba_reg: Mat<f64>,
    pub d_imp_reg: Mat<f64>,
    pub d_exp_reg: Mat<f64>,
}

/// Regional accounts from the bilateral matrices, without any per-sector account:
///
/// * `D_cba_reg[k, r] = Σ_p E_k[p, r] + F_Y_reg[k, r]`
/// * `D_pba_reg[k, p] = Σ_r E_k[p, r] + F_Y_reg[k, p]`
/// * `D_imp_reg[k, r] = Σ_{p ≠ r} E_k[p, r]`
/// * `D_exp_reg[k, p] = Σ_{r ≠ p} E_k[p, r]`
///
/// with `E_k` from [`calc_embodied_trade`] and `F_Y_reg` the final-demand stressors summed by
/// consuming region (pymrio adds `F_Y` to cba and pba in the same way).
pub fn calc_regional_accounts(
    s: MatRef<'_, f64>,
    x_reg: MatRef<'_, f64>,
    f_y_reg: Option<MatRef<'_, f64>>,
    blocks: Blocks,
) -> RegionalAccounts {
    let (k, nr) = (s.nrows(), blocks.n_regions);
    let mut acc = RegionalAccounts {
        d_cba_reg: Mat::zeros(k, nr),
        d_pba_reg: Mat::zeros(k, nr),
        d_imp_reg: Mat::zeros(k, nr),
        d_exp_reg: Mat::zeros(k, nr),
    };
    for st in 0..k {
        let e = calc_embodied_trade(s.row(st), x_reg, blocks);
        for p in 0..nr {
            for r in 0..nr {
                let v = e[(p, r)];
                acc.d_cba_reg[(st, r)] += v;
                acc.d_pba_reg[(st, p)] += v;
                if p != r {
                    acc.d_imp_reg[(st, r)] += v;
                    acc.d_exp_reg[(st, p)] += v;
                }
            }
        }
        if let Some(fy) = f_y_reg {
            for r in 0..nr {
                acc.d_cba_reg[(st, r)] += fy[(st, r)];
                acc.d_pba_reg[(st, r)] += fy[(st, r)];
            }
        }
    }
    acc
}

/// Production-based accounts by region from the stressors directly, apart from the bilateral
/// matrix: `D_pba_reg[k, r] = Σ_{i ∈ r} F[k, i] + F_Y_reg[k, r]`, `F = S·diag(x)` with `x` the
/// total output as given (or computed from the flows).
pub fn calc_d_pba_reg_from_f(
    s: MatRef<'_, f64>,
    x: ColRef<'_, f64>,
    f_y_reg: Option<MatRef<'_, f64>>,
    blocks: Blocks,
) -> Mat<f64> {
    plus_final_demand(sum_by_region(calc_f(s, x).as_ref(), blocks), f_y_reg)
}

/// Adds the final-demand emissions by consuming region, where the MRIO has them.
fn plus_final_demand(mut account: Mat<f64>, f_y_reg: Option<MatRef<'_, f64>>) -> Mat<f64> {
    if let Some(fy) = f_y_reg {
        account += fy;
    }
    account
}

/// Consumption-based accounts by region from the multipliers, apart from the bilateral matrix:
/// `D_cba_reg[k, r] = Σ_s (S·L·Ŷ)[k, (r, s)] + F_Y_reg[k, r]`, `M = S·L` from transposed solves
/// where the bilateral matrix uses `X_reg = L·Y_agg` from forward solves.
pub fn calc_d_cba_reg_from_m(
    m: MatRef<'_, f64>,
    y_agg: MatRef<'_, f64>,
    f_y_reg: Option<MatRef<'_, f64>>,
    blocks: Blocks,
) -> Mat<f64> {
    plus_final_demand(
        sum_by_region(calc_d_cba(m, y_agg, blocks).as_ref(), blocks),
        f_y_reg,
    )
}

/// The largest absolute difference between two accounts of the same shape, and that difference
/// relative to the largest account of either (0 where both are zero; NaN where either holds NaN).
pub fn largest_difference(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> (f64, f64) {
    let (mut worst, mut scale) = (0.0f64, 0.0f64);
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            let d = (a[(i, j)] - b[(i, j)]).abs();
            if d.is_nan() {
                return (f64::NAN, f64::NAN);
            }
            worst = worst.max(d);
            scale = scale.max(a[(i, j)].abs()).max(b[(i, j)].abs());
        }
    }
    (worst, if scale > 0.0 { worst / scale } else { 0.0 })
}

/// Regional accounts from per-sector accounts, exactly as pymrio forms them:
/// `D_cba_reg = Σ_{s} D_cba[·, (r, s)] + F_Y_reg`, `D_pba_reg = Σ_{i ∈ r} D_pba + F_Y_reg`,
/// `D_imp_reg`, `D_exp_reg` the plain regional sums.
pub fn regional_from_sector_accounts(
    acc: &SectorAccounts,
    f_y_reg: Option<MatRef<'_, f64>>,
    blocks: Blocks,
) -> RegionalAccounts {
    let mut d_cba_reg = sum_by_region(acc.d_cba.as_ref(), blocks);
    let mut d_pba_reg = sum_by_region(acc.d_pba.as_ref(), blocks);
    if let Some(fy) = f_y_reg {
        d_cba_reg += fy;
        d_pba_reg += fy;
    }
    RegionalAccounts {
        d_cba_reg,
        d_pba_reg,
        d_imp_reg: sum_by_region(acc.d_imp.as_ref(), blocks),
        d_exp_reg: sum_by_region(acc.d_exp.as_ref(), blocks),
    }
}

/// Per-sector accounts (pymrio's `D_cba`, `D_pba`, `D_imp`, `D_exp`), each k × n.
#[derive(Debug, Clone)]
pub struct SectorAccounts {
    pub d_cba: Mat<f64>,
    pub d_pba: Mat<f64>,
    pub d_imp: Mat<f64>,
    pub d_exp: Mat<f64>,
}

/// All per-sector accounts (pymrio `calc_accounts(S, L, Y_agg)`), from `S`, the multipliers
/// `M = S·L`, the factorised Leontief system and `X_reg = L·Y_agg`.
pub fn calc_sector_accounts(
    s: MatRef<'_, f64>,
    m: MatRef<'_, f64>,
    leontief: &LeontiefFactor,
    y_agg: MatRef<'_, f64>,
    x_reg: MatRef<'_, f64>,
    blocks: Blocks,
) -> SectorAccounts {
    let d_cba = calc_d_cba(m, y_agg, blocks);
    let d_imp = calc_d_imp(s, d_cba.as_ref(), leontief, y_agg, blocks);
    SectorAccounts {
        d_pba: calc_d_pba(s, calc_x_tot(x_reg).as_ref()),
        d_exp: calc_d_exp(s, calc_x_exp(x_reg, blocks).as_ref()),
        d_cba,
        d_imp,
    }
}

/// Checks `D_cba_reg − D_pba_reg = D_imp_reg − D_exp_reg` for every stressor and region, to a
/// relative tolerance of the region's largest account.
pub fn check_trade_identity(acc: &RegionalAccounts, rel_tol: f64) -> Result<(), EngineError> {
    for st in 0..acc.d_cba_reg.nrows() {
        for r in 0..acc.d_cba_reg.ncols() {
            let (cba, pba) = (acc.d_cba_reg[(st, r)], acc.d_pba_reg[(st, r)]);
            let (imp, exp) = (acc.d_imp_reg[(st, r)], acc.d_exp_reg[(st, r)]);
            let lhs = cba - pba;
            let rhs = imp - exp;
            let scale = cba.abs().max(pba.abs()).max(imp.abs()).max(exp.abs());
            // NaN fails the check too.
            let holds = (lhs - rhs).abs() <= rel_tol * scale;
            if !holds {
                return Err(EngineError::IdentityViolated {
                    stressor: st,
                    region: r,
                    lhs,
                    rhs,
                });
            }
        }
    }
    Ok(())
}

/// Sector drill-down: each sector's part in one stressor's account of one region, largest first.
/// `d` is a per-sector account row (k-th row of `D_cba`, `D_pba`, `D_imp` or `D_exp`).
pub fn sector_contributions(d: RowRef<'_, f64>, region: usize, blocks: Blocks) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = (0..blocks.n_sectors)
        .map(|sec| (sec, d[blocks.index(region, sec)]))
        .collect();
    v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    v
}
