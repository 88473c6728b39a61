//! The trade agent's consistency findings: the output balance x = Z·1 + Y·1 on WIOD 2011 (as
//! published, and with one output altered), and the comparison of an MRIO's consumption-based CO2
//! with the Global Carbon Budget on a small SYNTHETIC two-country table.

use std::path::Path;

use cb_protocol::Finding;
use cb_trade::agent::{gcb_consumption_check, mrio_accounts};
use cb_trade::analysis::MrioAnalysis;
use cb_trade::data::gcb::Gcb;
use cb_trade::data::{Core, Extension, Mrio, load_mrio};
use faer::{Col, Mat};

fn finding<'a>(findings: &'a [Finding], check: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no finding {check:?} in {findings:?}"))
}

#[test]
fn wiod_output_balances_and_an_altered_output_is_caught() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wiod2011");
    let mut mrio = load_mrio(&path).unwrap();
    assert!(mrio.x.is_some(), "WIOD ships x.csv");
    // WIOD 2011 has no emission accounts: a SYNTHETIC one lets the accounts run.
    let n = mrio.regions.len() * mrio.sectors.len();
    mrio.extensions.push(Extension {
        name: "synthetic".into(),
        stressors: vec![vec!["CO2".into()]],
        units: vec!["t".into()],
        f: Mat::from_fn(1, n, |_, _| 1.0),
        f_y: None,
    });
    let a = MrioAnalysis::new(mrio.clone(), &mut |_| {}).unwrap();
    let out = mrio_accounts(&a, None, &[]).unwrap();
    let balance = finding(&out.findings, "x = Z·1 + Y·1");
    assert!(balance.passed, "{balance:?}");

    // One industry's output 1 % too high: the balance fails and names that industry.
    let mut altered = mrio;
    let x = altered.x.as_mut().unwrap();
    let big = (0..x.nrows()).max_by(|i, j| x[*i].total_cmp(&x[*j])).unwrap();
    x[big] *= 1.01;
    let a = MrioAnalysis::new(altered, &mut |_| {}).unwrap();
    let out = mrio_accounts(&a, None, &[]).unwrap();
    let balance = finding(&out.findings, "x = Z·1 + Y·1");
    assert!(!balance.passed, "{balance:?}");
    assert!(
        balance.compared.contains(&a.industry_label(big)),
        "{}",
        balance.compared
    );
    assert!((balance.values["relative_to_largest_output"] - 0.01 / 1.01).abs() < 1e-3);
}

/// SYNTHETIC: two countries that do not trade, so each one's consumption-based CO2 is its own
/// extension total; the totals are set as multiples of the GCB's published figures.
fn autarkic_mrio(chn: f64, usa: f64, unit: &str, name: &str) -> Mrio {
    let z = Mat::from_fn(4, 4, |i, j| if i / 2 == j / 2 { 10.0 } else { 0.0 });
    let y = Mat::from_fn(4, 2, |i, j| if i / 2 == j { 50.0 } else { 0.0 });
    Mrio {
        name: name.into(),
        version: "synthetic".into(),
        source: "test".into(),
        regions: vec!["CHN".into(), "USA".into()],
        sectors: vec!["goods".into(), "services".into()],
        final_demand: vec![
            ("CHN".into(), "households".into()),
            ("USA".into(), "households".into()),
        ],
        fd_region: vec![0, 1],
        core: Core::Flows(z),
        y,
        x: None::<Col<f64>>,
        monetary_unit: Some("M.USD".into()),
        extensions: vec![Extension {
            name: "emissions".into(),
            stressors: vec![vec!["CO2".into(), "air".into()]],
            units: vec![unit.into()],
            f: Mat::from_fn(1, 4, |_, j| if j < 2 { chn / 2.0 } else { usa / 2.0 }),
            f_y: None,
        }],
    }
}

fn gcb_check(mrio: Mrio, year: Option<i32>) -> cb_protocol::TaskOutput {
    let a = MrioAnalysis::new(mrio, &mut |_| {}).unwrap();
    let acc = a.regional_accounts().unwrap();
    let mut out = cb_protocol::TaskOutput::default();
    gcb_consumption_check(&a, &acc, &[0], year, Gcb::bundled(), &mut out);
    out
}

#[test]
fn consumption_co2_is_compared_with_the_global_carbon_budget() {
    let gcb = Gcb::bundled();
    let published = |code: &str| gcb.consumption(gcb.find(code).unwrap(), 2019).unwrap();
    // In kt (Gg), 10 % above and 5 % below the published figures: within the screen.
    let (chn, usa) = (published("CHN") * 1.10 / 1e3, published("USA") * 0.95 / 1e3);
    let out = gcb_check(autarkic_mrio(chn, usa, "Gg", "synthetic MRIO"), Some(2019));
    let f = finding(&out.findings, "MRIO consumption CO2 ≈ Global Carbon Budget");
    assert!(f.passed, "{f:?}");
    assert!((f.values["CHN_mrio_t"] / published("CHN") - 1.10).abs() < 1e-9);
    assert!(f.compared.contains("largest deviation CHN"), "{}", f.compared);

    // The year read from the name; the USA at half its published figure fails and is named.
    let out = gcb_check(
        autarkic_mrio(
            published("CHN"),
            published("USA") * 0.5,
            "t",
            "synthetic MRIO 2019",
        ),
        None,
    );
    let f = finding(&out.findings, "MRIO consumption CO2 ≈ Global Carbon Budget");
    assert!(!f.passed, "{f:?}");
    assert!(
        f.compared.contains("largest deviation USA (50.0 %)"),
        "{}",
        f.compared
    );
}

#[test]
fn no_comparison_without_a_year_or_a_known_unit() {
    let out = gcb_check(autarkic_mrio(1.0, 1.0, "t", "synthetic MRIO"), None);
    assert!(out.findings.is_empty());
    assert!(out.notes[0].contains("year is unknown"), "{:?}", out.notes);
    let out = gcb_check(autarkic_mrio(1.0, 1.0, "barrels", "synthetic MRIO"), Some(2019));
    assert!(out.notes[0].contains("\"barrels\""), "{:?}", out.notes);
}

/// The accounts' checks compare two computations: D_pba from F = S·diag(x) and D_cba from
/// M = S·L against the sums of the bilateral matrix E = S·X_reg. Each passes on pymrio's test
/// system and fails when the bilateral matrix's X_reg or the output x is corrupted.
#[test]
fn the_accounts_checks_fail_on_a_corrupted_bilateral_matrix_or_output() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pymrio-test/input");
    let mrio = load_mrio(&path).unwrap();
    let a = MrioAnalysis::new(mrio.clone(), &mut |_| {}).unwrap();
    let out = mrio_accounts(&a, None, &[]).unwrap();
    let pba = "D_pba: F against the bilateral matrix";
    let cba = "D_cba: S·L·Y against the bilateral matrix";
    for check in [pba, cba] {
        let f = finding(&out.findings, check);
        assert!(f.passed, "{f:?}");
        assert!(f.values["relative_to_largest_account"] < 1e-9, "{f:?}");
    }
    // One entry of X_reg = L·Y_agg 1 % off: both sums of E move, neither independent account.
    let mut corrupted = MrioAnalysis::new(mrio.clone(), &mut |_| {}).unwrap();
    let (i, r) = (0..corrupted.x_reg.nrows())
        .flat_map(|i| (0..corrupted.x_reg.ncols()).map(move |r| (i, r)))
        .max_by(|p, q| corrupted.x_reg[*p].total_cmp(&corrupted.x_reg[*q]))
        .unwrap();
    corrupted.x_reg[(i, r)] *= 1.01;
    let out = mrio_accounts(&corrupted, None, &[]).unwrap();
    for check in [pba, cba] {
        let f = finding(&out.findings, check);
        assert!(!f.passed, "{f:?}");
    }
    // The output x 1 % off for one industry: D_pba from F moves, the bilateral matrix does not.
    let mut corrupted = MrioAnalysis::new(mrio, &mut |_| {}).unwrap();
    let big = (0..corrupted.x.nrows())
        .max_by(|p, q| corrupted.x[*p].total_cmp(&corrupted.x[*q]))
        .unwrap();
    corrupted.x[big] *= 1.01;
    let out = mrio_accounts(&corrupted, None, &[]).unwrap();
    assert!(!finding(&out.findings, pba).passed);
    assert!(finding(&out.findings, cba).passed);
}
