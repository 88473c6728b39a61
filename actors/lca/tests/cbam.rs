//! CBAM: the Commission's tables parsed and validated, and costs computed by hand from the
//! regulation's formulas.

use cb_lca::cbam::data::{CbamTables, parse_defaults};
use cb_lca::cbam::{CostQuery, cost};

fn query(country: &str, cn: &str, tonnes: f64, year: i32) -> CostQuery {
    CostQuery {
        country: country.into(),
        cn_code: cn.into(),
        tonnes,
        year,
        actual_direct: None,
        actual_indirect: None,
        ets_price: Some(80.0),
        origin_carbon_price: None,
        cscf: None,
    }
}

#[test]
fn the_bundled_tables_load_and_shifted_rows_are_reported() {
    let t = CbamTables::bundled();
    eprintln!(
        "{} default values, {} rejected rows, {} benchmarks",
        t.defaults.len(),
        t.rejected.len(),
        t.benchmarks.len()
    );
    assert!(t.defaults.len() > 5000, "{}", t.defaults.len());
    assert!(t.benchmarks.len() > 1000);
    // Few rows are unusable, and each says why.
    assert!(
        !t.rejected.is_empty() && t.rejected.len() < 50,
        "{}",
        t.rejected.len()
    );
    assert!(t.rejected.iter().all(|r| r.line > 1 && !r.reason.is_empty()));
    // Albania, white Portland cement: the numbers sit in the mark-up columns upstream.
    let albania = t
        .rejected
        .iter()
        .find(|r| r.country == "Albania" && r.description == "White Portland cement")
        .expect("the shifted Albania row is reported");
    assert!(albania.reason.contains("shifted"), "{}", albania.reason);
    let err = cost(CbamTables::bundled(), &query("Albania", "25232100", 100.0, 2026)).unwrap_err();
    assert!(err.to_string().contains("malformed"), "{err}");
    // Validation on a hand-written file: a total that does not add up, a bad mark-up.
    let text = "h\nX;Cement;25232900;Grey cement;0.9;0.03;0.99;1.089;1.188;1.287;\n\
                X;Cement;25231000;Grey clinker;0.87;0.0;0.87;0.9;1.044;1.131;(A)\n\
                X;Cement;25239000;Grey hydraulic;0.86;0.03;0.89;0.979;1.068;1.157;(A)\n";
    let (ok, rejected) = parse_defaults(text);
    assert_eq!(ok.len(), 1);
    assert_eq!(rejected.len(), 2);
    assert!(rejected[0].reason.contains("≠ direct"));
    assert!(rejected[1].reason.contains("mark-up"));
}

#[test]
fn chinese_hot_rolled_coil_in_2027_on_default_values() {
    let t = CbamTables::bundled();
    let c = cost(t, &query("China", "7208", 10_000.0, 2027)).unwrap();
    // Default 3.186893 t/t (route C), +20 % in 2027 = 3.824271 (as published).
    assert!((c.default_value_t_per_t - 3.824271).abs() < 1e-9);
    assert!((c.default_value_t_per_t - 3.186893 * 1.2).abs() < 1e-5);
    assert_eq!(c.route, "(C)");
    // Benchmark column B for hot-rolled flat, route C: 1.370; CBAM factor 2027: 0.95.
    assert_eq!(c.benchmark_t_per_t, 1.370);
    let embedded = 3.824271 * 10_000.0;
    let faa = 0.95 * 1.0 * 1.370 * 10_000.0;
    let d = &c.default_case;
    assert!((d.embedded_emissions_t - embedded).abs() < 1e-6);
    assert!((d.free_allocation_adjustment_t - faa).abs() < 1e-6);
    assert!((d.certificates - (embedded - faa)).abs() < 1e-6);
    assert!((d.cost_eur.unwrap() - (embedded - faa) * 80.0).abs() < 1e-3);
    // ISO codes work too.
    assert_eq!(
        cost(t, &query("CN", "72082700", 10_000.0, 2027))
            .unwrap()
            .default_case,
        c.default_case
    );
    assert_eq!(
        cost(t, &query("CHN", "7208", 10_000.0, 2027)).unwrap().country,
        "China"
    );
}

#[test]
fn actual_emissions_origin_price_and_the_saving() {
    let t = CbamTables::bundled();
    let mut q = query("China", "7208", 10_000.0, 2027);
    q.actual_direct = Some(1.9);
    q.actual_indirect = Some(0.3); // Annex II good: not counted
    q.origin_carbon_price = Some(10.0);
    let c = cost(t, &q).unwrap();
    let a = c.actual_case.as_ref().unwrap();
    let embedded = 1.9 * 10_000.0;
    let faa = 0.95 * 1.370 * 10_000.0;
    // Art. 9: 10 EUR/t paid on 19,000 t at 80 EUR/t offsets 2,375 certificates.
    let reduction = 10.0 * embedded / 80.0;
    assert!((a.embedded_emissions_t - embedded).abs() < 1e-9);
    assert!((a.origin_price_reduction_certificates - reduction).abs() < 1e-9);
    assert!((a.certificates - (embedded - faa - reduction)).abs() < 1e-6);
    let saving = c.saving_eur.unwrap();
    assert!((saving - (c.default_case.cost_eur.unwrap() - a.cost_eur.unwrap())).abs() < 1e-6);
    assert!(saving > 0.0);
    assert!(c.notes.iter().any(|n| n.english().contains("Annex II")));
}

#[test]
fn fertilisers_have_a_one_percent_mark_up_and_indirect_emissions() {
    let t = CbamTables::bundled();
    let c = cost(t, &query("Albania", "28080000", 1_000.0, 2030)).unwrap();
    assert_eq!(c.mark_up, 0.01);
    assert!((c.default_value_t_per_t - 2.7876).abs() < 1e-9);
    let mut q = query("Albania", "28080000", 1_000.0, 2030);
    q.actual_direct = Some(2.0);
    q.actual_indirect = Some(0.05);
    let a = cost(t, &q).unwrap().actual_case.unwrap();
    assert!((a.specific_embedded_emissions_t_per_t - 2.05).abs() < 1e-12);
    // 2030: CBAM factor 0.515, benchmark 0.582 (nitric acid, column B).
    assert!((a.free_allocation_adjustment_t - 0.515 * 0.582 * 1_000.0).abs() < 1e-9);
}

#[test]
fn bad_queries_get_clear_errors() {
    let t = CbamTables::bundled();
    let err = cost(t, &query("Atlantis", "7208", 1.0, 2027))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"Atlantis\" is not a country"), "{err}");
    let err = cost(t, &query("China", "9999", 1.0, 2027))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no CBAM default value for CN 9999"), "{err}");
    let err = cost(t, &query("China", "72x8", 1.0, 2027))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a CN code"), "{err}");
    let err = cost(t, &query("China", "7208", -5.0, 2027))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tonnes must be a positive number"), "{err}");
    let err = cost(t, &query("China", "7208", 5.0, 2024))
        .unwrap_err()
        .to_string();
    assert!(err.contains("definitive period"), "{err}");
}

/// Where a country's value is blank or the country is not listed, the row for other countries
/// and territories applies (IR 2025/2621 Annex I), and the answer says so; EU members and the
/// Annex III countries are not subject to CBAM at all (Reg. 2023/956 Art. 2).
#[test]
fn other_countries_values_apply_where_a_country_has_none() {
    let t = CbamTables::bundled();
    // Chinese DRI (CN 7203 10 00), blank for China: 1.325 t/t × 1.10 for 2026 = 1.4575 t/t.
    let c = cost(t, &query("China", "72031000", 1000.0, 2026)).unwrap();
    assert!(
        (c.default_value_t_per_t - 1.4575).abs() < 1e-9,
        "{}",
        c.default_value_t_per_t
    );
    assert_eq!(c.country, "China");
    assert!(
        c.notes
            .iter()
            .any(|n| n.english().contains("other countries and territories"))
    );
    // Certificates: (1.4575 − benchmark 0.397 × CBAM factor 0.975 for 2026) × 1,000 t, the
    // issue's "about 1,071".
    let want = (1.4575 - 0.397 * 0.975) * 1000.0;
    assert!(
        (c.default_case.certificates - want).abs() < 1e-6,
        "{} vs {want}",
        c.default_case.certificates
    );
    // Türkiye's grey cement is blank in the table; an ISO code reaches the same row.
    let tr = cost(t, &query("TUR", "25232900", 1000.0, 2026)).unwrap();
    assert!(
        (tr.default_value_t_per_t - 1.584).abs() < 1e-9,
        "{}",
        tr.default_value_t_per_t
    );
    // A listed country with its own value keeps it (no fallback note).
    let cn = cost(t, &query("China", "7208", 1000.0, 2027)).unwrap();
    assert!(!cn.notes.iter().any(|n| n.english().contains("other countries")));
    // Not subject to CBAM: a member state and an Annex III country, each with its reason.
    let err = cost(t, &query("France", "7601", 1.0, 2027))
        .unwrap_err()
        .to_string();
    assert!(err.contains("member of the EU"), "{err}");
    let err = cost(t, &query("NO", "7601", 1.0, 2027)).unwrap_err().to_string();
    assert!(err.contains("Annex III"), "{err}");
}
