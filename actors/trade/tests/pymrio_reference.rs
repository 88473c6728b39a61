//! pymrio 0.7's test system reproduced: x, A, L, S, S_Y, M and every D_* account, against
//! pymrio's own `calc_all()` results (fixtures/pymrio-test/expected), to 1e-9 relative.

use std::path::{Path, PathBuf};

use cb_trade::analysis::MrioAnalysis;
use cb_trade::data::load_mrio;
use cb_trade::engine;
use faer::Mat;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// pymrio's expected files: `row,<col>|<col>...`, multi-level labels joined with `|`.
struct Expected {
    rows: Vec<String>,
    cols: Vec<String>,
    values: Mat<f64>,
}

fn expected(name: &str) -> Expected {
    let path = fixture(&format!("pymrio-test/expected/{name}.csv"));
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let cols: Vec<String> = rdr.headers().unwrap().iter().skip(1).map(String::from).collect();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        rows.push(rec[0].to_string());
        data.push(
            rec.iter()
                .skip(1)
                .map(|v| v.parse::<f64>().unwrap())
                .collect::<Vec<_>>(),
        );
    }
    let values = Mat::from_fn(rows.len(), cols.len(), |i, j| data[i][j]);
    Expected { rows, cols, values }
}

/// Every entry within 1e-9 relative (with an absolute floor of 1e-12 of the matrix's largest
/// entry, for entries that are zero in pymrio's result).
fn assert_close(what: &str, ours: faer::MatRef<'_, f64>, exp: &Expected) {
    assert_eq!(
        (ours.nrows(), ours.ncols()),
        (exp.values.nrows(), exp.values.ncols()),
        "{what}: shape"
    );
    let scale = (0..exp.values.ncols())
        .flat_map(|j| (0..exp.values.nrows()).map(move |i| (i, j)))
        .map(|(i, j)| exp.values[(i, j)].abs())
        .fold(0.0, f64::max);
    let mut worst = 0.0f64;
    for j in 0..ours.ncols() {
        for i in 0..ours.nrows() {
            let (a, b) = (ours[(i, j)], exp.values[(i, j)]);
            let tol = 1e-9 * b.abs() + 1e-12 * scale;
            assert!(
                (a - b).abs() <= tol,
                "{what}[{}, {}]: ours {a}, pymrio {b}, relative difference {:e}",
                exp.rows[i],
                exp.cols[j],
                (a - b).abs() / b.abs()
            );
            if b != 0.0 {
                worst = worst.max((a - b).abs() / b.abs());
            }
        }
    }
    eprintln!("{what}: worst relative difference {worst:e}");
}

fn analysis() -> MrioAnalysis {
    let mrio = load_mrio(&fixture("pymrio-test/input")).unwrap();
    MrioAnalysis::new(mrio, &mut |_| {}).unwrap()
}

/// Rows of the `emissions` extension within the stacked S.
fn emission_rows(a: &MrioAnalysis) -> Vec<usize> {
    ["emission_type1", "emission_type2"]
        .iter()
        .map(|s| a.stressor_index(s).unwrap())
        .collect()
}

fn select_rows(m: &Mat<f64>, rows: &[usize]) -> Mat<f64> {
    Mat::from_fn(rows.len(), m.ncols(), |i, j| m[(rows[i], j)])
}

#[test]
fn output_coefficients_and_leontief_inverse() {
    let a = analysis();
    let x = Mat::from_fn(a.x.nrows(), 1, |i, _| a.x[i]);
    assert_close("x", x.as_ref(), &expected("x"));
    assert_close("A", a.coefficients().as_ref(), &expected("A"));
    let l = engine::calc_l(&a.leontief);
    assert_close("L", l.as_ref(), &expected("L"));
}

#[test]
fn stressor_coefficients_and_multipliers() {
    let a = analysis();
    let rows = emission_rows(&a);
    let s = select_rows(&a.s, &rows);
    assert_close("S", s.as_ref(), &expected("emissions_S"));
    assert_close(
        "S_Y",
        select_rows(&a.s_y, &rows).as_ref(),
        &expected("emissions_S_Y"),
    );
    let m = engine::calc_m(s.as_ref(), &a.leontief);
    assert_close("M", m.as_ref(), &expected("emissions_M"));
}

#[test]
fn every_sector_account() {
    let a = analysis();
    let acc = a.sector_accounts(None).unwrap();
    let rows = emission_rows(&a);
    assert_close(
        "D_cba",
        select_rows(&acc.d_cba, &rows).as_ref(),
        &expected("emissions_D_cba"),
    );
    assert_close(
        "D_pba",
        select_rows(&acc.d_pba, &rows).as_ref(),
        &expected("emissions_D_pba"),
    );
    assert_close(
        "D_imp",
        select_rows(&acc.d_imp, &rows).as_ref(),
        &expected("emissions_D_imp"),
    );
    assert_close(
        "D_exp",
        select_rows(&acc.d_exp, &rows).as_ref(),
        &expected("emissions_D_exp"),
    );
}

#[test]
fn regional_accounts_both_ways() {
    let a = analysis();
    let rows = emission_rows(&a);
    // From the bilateral matrices (the fast path used by `cbutler mrio accounts`).
    let fast = a.regional_accounts().unwrap();
    // And exactly as pymrio forms them, from the per-sector accounts.
    let sector = a.sector_accounts(None).unwrap();
    let slow = engine::regional_from_sector_accounts(&sector, Some(a.f_y_reg.as_ref()), a.blocks);
    for acc in [&fast, &slow] {
        assert_close(
            "D_cba_reg",
            select_rows(&acc.d_cba_reg, &rows).as_ref(),
            &expected("emissions_D_cba_reg"),
        );
        assert_close(
            "D_pba_reg",
            select_rows(&acc.d_pba_reg, &rows).as_ref(),
            &expected("emissions_D_pba_reg"),
        );
        assert_close(
            "D_imp_reg",
            select_rows(&acc.d_imp_reg, &rows).as_ref(),
            &expected("emissions_D_imp_reg"),
        );
        assert_close(
            "D_exp_reg",
            select_rows(&acc.d_exp_reg, &rows).as_ref(),
            &expected("emissions_D_exp_reg"),
        );
        engine::check_trade_identity(acc, 1e-9).unwrap();
    }
}

#[test]
fn bilateral_transfers_add_up_to_the_regional_accounts() {
    // The bilateral matrix E (ours) against pymrio's own regional accounts, computed by pymrio
    // from its per-sector D_imp and D_exp (not from any bilateral matrix): imports are E's
    // column sums off the diagonal, exports its row sums, the net transfer their difference.
    let a = analysis();
    let k = a.stressor_index("emission_type1").unwrap();
    let e = a.embodied_trade(k);
    let net = engine::calc_net_transfers(e.as_ref());
    let (imp, exp) = (expected("emissions_D_imp_reg"), expected("emissions_D_exp_reg"));
    let (cba, pba) = (expected("emissions_D_cba_reg"), expected("emissions_D_pba_reg"));
    let row = imp
        .rows
        .iter()
        .position(|r| r.starts_with("emission_type1"))
        .unwrap();
    for r in 0..a.blocks.n_regions {
        let col = imp.cols.iter().position(|c| *c == a.meta.regions[r]).unwrap();
        let imports: f64 = (0..a.blocks.n_regions)
            .filter(|p| *p != r)
            .map(|p| e[(p, r)])
            .sum();
        let exports: f64 = (0..a.blocks.n_regions)
            .filter(|q| *q != r)
            .map(|q| e[(r, q)])
            .sum();
        let (pymrio_imp, pymrio_exp) = (imp.values[(row, col)], exp.values[(row, col)]);
        assert!(
            (imports - pymrio_imp).abs() <= 1e-9 * pymrio_imp.abs(),
            "region {r}: {imports} vs {pymrio_imp}"
        );
        assert!(
            (exports - pymrio_exp).abs() <= 1e-9 * pymrio_exp.abs(),
            "region {r}: {exports} vs {pymrio_exp}"
        );
        let pymrio_net = pymrio_imp - pymrio_exp;
        assert!(
            (net[r] - pymrio_net).abs() <= 1e-9 * pymrio_imp.abs().max(pymrio_exp.abs()),
            "region {r}: {} vs {pymrio_net}",
            net[r]
        );
        // pymrio's cba − pba is the same gap.
        let gap = cba.values[(row, col)] - pba.values[(row, col)];
        assert!(
            (net[r] - gap).abs() <= 1e-9 * cba.values[(row, col)].abs(),
            "region {r}: {} vs {gap}",
            net[r]
        );
    }
}

#[test]
fn structural_paths_decompose_the_footprint() {
    let a = analysis();
    let k = a.stressor_index("emission_type1").unwrap();
    let r = a.region_index("reg2").unwrap();
    let sec = a.sector_index("food").unwrap();
    let s = a.s.subrows(k, 1).to_owned();
    let m = engine::calc_m(s.as_ref(), &a.leontief);
    let y = a.final_demand_for(r, sec);
    let aa = a.coefficients();
    // With no pruning and a deep tree the paths sum towards the whole footprint m·y.
    let all = engine::structural_paths(
        aa.as_ref(),
        s.row(0),
        m.row(0),
        y.as_ref(),
        engine::PathSearch {
            depth: 3,
            top: 1_000_000,
            threshold: 0.0,
            max_visits: 10_000_000,
        },
    );
    assert!(!all.truncated);
    let sum: f64 = all.paths.iter().map(|p| p.value).sum();
    // Paths to depth 3 are the first four terms of the Leontief series s·(I + A + A² + A³)·y.
    let mut w = y.clone();
    let mut series = 0.0;
    for _ in 0..=3 {
        series += (0..w.nrows()).map(|i| s[(0, i)] * w[i]).sum::<f64>();
        w = aa * &w;
    }
    assert!((sum - series).abs() <= 1e-9 * series, "{sum} vs {series}");
    assert!(sum <= all.total * (1.0 + 1e-12));
    // The top paths are sorted, and each value is its own chain product.
    let top = engine::structural_paths(
        aa.as_ref(),
        s.row(0),
        m.row(0),
        y.as_ref(),
        engine::PathSearch {
            depth: 4,
            top: 5,
            threshold: 1e-3,
            max_visits: 1_000_000,
        },
    );
    assert_eq!(top.paths.len(), 5);
    for w in top.paths.windows(2) {
        assert!(w[0].value >= w[1].value);
    }
    assert_eq!(
        top.paths[0].value,
        engine::path_value(aa.as_ref(), s.row(0), y.as_ref(), &top.paths[0].nodes)
    );
    // The largest path is in the unpruned list too, with the same value.
    assert!(
        all.paths
            .iter()
            .any(|p| p.nodes == top.paths[0].nodes && p.value == top.paths[0].value)
    );
}
