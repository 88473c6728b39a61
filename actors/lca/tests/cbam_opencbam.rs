//! The CBAM cost engine against an independent implementation, opencbam 0.1.0 (PyPI, installed
//! into `.venv` by `scripts/pyenv.sh`), run as its users run it:
//! `python -m opencbam calculate --cn … --country … --mass … --price … --year … --json`.
//!
//! Where both implement the same rule the certificates agree to rounding (opencbam rounds the
//! marked-up default value to three decimals, so up to 0.0005 t/t × mass). Every case where they
//! differ names the legal text that decides it; the test asserts the difference too, so a new
//! opencbam that changes its answer is noticed.
//!
//! opencbam looks up the country by the Commission's own spelling ("Russia", "South Korea") and
//! needs the code as the table subdivides it; both are passed so.

use std::path::PathBuf;
use std::process::Command;

use cb_lca::cbam::data::CbamTables;
use cb_lca::cbam::{CostQuery, cost};

const PRICE: f64 = 75.36;

fn python() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/pyenv.sh (the README's test command does) to install opencbam 0.1.0",
        p.display()
    );
    p
}

/// opencbam's certificates due, or its error message.
fn opencbam(cn: &str, country: &str, mass: f64, year: i32) -> Result<f64, String> {
    let out = Command::new(python())
        .args([
            "-m",
            "opencbam",
            "calculate",
            "--json",
            "--cn",
            cn,
            "--country",
            country,
        ])
        .args([
            "--mass",
            &mass.to_string(),
            "--price",
            &PRICE.to_string(),
            "--year",
            &year.to_string(),
        ])
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| text.clone())?;
    doc["certificates_due"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or(text)
}

fn ours(cn: &str, country: &str, mass: f64, year: i32) -> Result<f64, String> {
    let q = CostQuery {
        country: country.into(),
        cn_code: cn.into(),
        tonnes: mass,
        year,
        ets_price: Some(PRICE),
        ..CostQuery::default()
    };
    cost(CbamTables::bundled(), &q)
        .map(|c| c.default_case.certificates)
        .map_err(|e| e.to_string())
}

/// Cases where both implement the same rule, across sectors (iron and steel, ferro-alloys,
/// aluminium, cement, fertilisers, hydrogen, iron ore), routes, years 2026–2034 and countries
/// whose blank values fall back to other countries and territories.
const AGREE: [(&str, &str, f64, i32); 32] = [
    ("72031000", "China", 1000.0, 2026), // DRI, China blank: other countries' row
    ("72241010", "Thailand", 1000.0, 2026), // route (H), column (1)
    ("72249002", "Thailand", 1000.0, 2029), // route (H), column (2)
    ("72193100", "Indonesia", 1000.0, 2030), // stainless, column (2)
    ("72191100", "Indonesia", 1000.0, 2026), // stainless, column (1)
    ("28141000", "Russia", 1000.0, 2026), // ammonia, the Commission's spelling
    ("28141000", "Egypt", 1000.0, 2027), // ammonia, 1 % mark-up
    ("31021019", "United States", 1000.0, 2028), // urea
    ("31025000", "Chile", 1000.0, 2030), // sodium nitrate, column (2)
    ("25233000", "China", 1000.0, 2029), // aluminous cement, column (2)
    ("72081000", "India", 1000.0, 2026), // hot-rolled flat, route (C)
    ("72142000", "Türkiye", 1000.0, 2027), // bars
    ("72071111", "Ukraine", 1000.0, 2028), // semi-finished
    ("28041000", "Saudi Arabia", 1000.0, 2026), // hydrogen
    ("26011200", "Brazil", 1000.0, 2026), // agglomerated iron ore (indirect counts)
    ("26011200", "Australia", 1000.0, 2033), // CBAM factor 0.14
    ("72024110", "Kazakhstan", 1000.0, 2028), // ferro-chromium, column (2)
    ("72021120", "South Africa", 1000.0, 2026), // ferro-manganese, column (1)
    ("28080000", "Ukraine", 1000.0, 2029), // nitric acid
    ("31023010", "Russia", 1000.0, 2027), // ammonium nitrate
    ("72083900", "South Korea", 1000.0, 2034), // CBAM factor 0: no free allocation left
    ("76042100", "United Arab Emirates", 1000.0, 2027), // aluminium bars, route (K)
    ("72081000", "China", 40.0, 2026),   // within de minimis: the obligation if liable
    ("25070080", "India", 1000.0, 2026), // calcined clay: the adjustment exceeds it, 0
    ("72193100", "Brunei", 1000.0, 2026), // the Commission's spelling, other countries' row
    ("72071111", "India", 1000.0, 2029),
    ("28141000", "Trinidad and Tobago", 1000.0, 2030),
    ("31021019", "China", 1000.0, 2033),
    ("72021120", "India", 1000.0, 2027),
    ("72191100", "China", 1000.0, 2028),
    ("72254040", "South Korea", 1000.0, 2026), // route (F), the default value's own route
    ("72083900", "Vietnam", 1000.0, 2031),     // CBAM factor 0.39; benchmark (2) kept after 2030
];

#[test]
fn certificates_agree_with_opencbam_where_both_apply_the_same_rule() {
    let mut report = Vec::new();
    for (cn, country, mass, year) in AGREE {
        let theirs =
            opencbam(cn, country, mass, year).unwrap_or_else(|e| panic!("opencbam {cn} {country}: {e}"));
        let us = ours(cn, country, mass, year).unwrap_or_else(|e| panic!("ours {cn} {country}: {e}"));
        let tolerance = 0.0005 * mass + 1e-6;
        report.push(format!(
            "{cn} {country} {mass} t {year}: ours {us:.4}, opencbam {theirs:.4}"
        ));
        assert!(
            (us - theirs).abs() <= tolerance,
            "{cn} from {country}, {mass} t in {year}: ours {us} against opencbam {theirs}"
        );
    }
    eprintln!("{}", report.join("\n"));
}

/// Where the two differ, the legal text decides; each case says which.
#[test]
fn where_opencbam_differs_the_legal_text_decides() {
    // Norway is an Annex III country: goods originating there are not subject to CBAM
    // (Reg. 2023/956 Art. 2(4) and Annex III pt 1). opencbam charges them like any country.
    assert!(opencbam("72081000", "Norway", 1000.0, 2026).is_ok_and(|c| c > 0.0));
    assert!(
        ours("72081000", "Norway", 1000.0, 2026)
            .unwrap_err()
            .contains("Annex III")
    );
    // Unwrought aluminium 7601 has column-B benchmarks, 1.423 (K) primary and 0.091 (L)
    // secondary (IR 2025/2620 Annex pt 5.3); the Chinese default value names route (K).
    // opencbam has no aluminium benchmark and grants no free-allocation adjustment.
    let theirs = opencbam("76011000", "China", 1000.0, 2026).unwrap();
    let us = ours("76011000", "China", 1000.0, 2026).unwrap();
    assert!((theirs - 3300.0).abs() < 1e-6, "{theirs}");
    assert!((us - (3300.0 - 0.975 * 1.423 * 1000.0)).abs() < 1e-6, "{us}");
    // An ISO code names the country as well as its name does; opencbam does not read "RU" as
    // the Commission's "Russia" and takes other countries' value (IR 2025/2621 Annex I lists
    // Russia's own).
    let theirs = opencbam("28141000", "RU", 1000.0, 2026).unwrap();
    let us = ours("28141000", "RU", 1000.0, 2026).unwrap();
    assert_eq!(us, ours("28141000", "Russia", 1000.0, 2026).unwrap());
    assert!((theirs - us).abs() > 100.0, "ours {us}, opencbam {theirs}");
    // The same with "CN" for China's hot-rolled flat products of 7208.
    let theirs = opencbam("72083900", "CN", 1000.0, 2032).unwrap();
    let us = ours("72083900", "CN", 1000.0, 2032).unwrap();
    assert_eq!(us, ours("72083900", "China", 1000.0, 2032).unwrap());
    assert!((theirs - us).abs() > 100.0, "ours {us}, opencbam {theirs}");
}
