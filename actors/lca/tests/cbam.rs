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
        ets_price: Some(80.0),
        ..CostQuery::default()
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
    // Whole certificates are surrendered and paid for: the obligation rounded up.
    assert_eq!(d.certificates_whole, (embedded - faa).ceil() as u64);
    assert!((d.cost_eur.unwrap() - (embedded - faa).ceil() * 80.0).abs() < 1e-6);
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

/// A benchmark mark such as `(H)(2)` is a production route and a production-year column: the
/// route is the default value's, the column the year's (IR 2025/2620 Annex pt 5.3).
#[test]
fn the_benchmark_follows_the_default_value_s_route_and_the_production_year() {
    let t = CbamTables::bundled();
    // Thai alloy steel 7224 10 10: default 3.39 t/t route (H), 3.729 with the 2026 mark-up;
    // benchmark (H)(1) 0.640, not the highest route (F) 1.807: (3.729 − 0.975 × 0.640) × 1,000.
    let c = cost(t, &query("Thailand", "72241010", 1000.0, 2026)).unwrap();
    assert_eq!(
        (c.route.as_str(), c.benchmark_t_per_t, c.benchmark_period),
        ("(H)", 0.640, Some(1))
    );
    assert!(
        (c.default_case.certificates - (3729.0 - 624.0)).abs() < 1e-6,
        "{}",
        c.default_case.certificates
    );
    assert_eq!(c.default_case.certificates_whole, 3105);
    // From 2028 the (2) column: (H)(2) 0.628 in 2029 with CBAM factor 0.775.
    let c = cost(t, &query("Thailand", "72241010", 1000.0, 2029)).unwrap();
    assert_eq!((c.benchmark_t_per_t, c.benchmark_period), (0.628, Some(2)));
    // Indonesian stainless cold-rolled 7219 31 00 in 2030: (2) 1.230, not (1) 1.270.
    let c = cost(t, &query("Indonesia", "72193100", 1000.0, 2030)).unwrap();
    assert_eq!(c.benchmark_t_per_t, 1.230);
    let c = cost(t, &query("Indonesia", "72193100", 1000.0, 2027)).unwrap();
    assert_eq!(c.benchmark_t_per_t, 1.270);
    // After 2030 no benchmark is published: the 2028–2030 column, said in a note.
    let c = cost(t, &query("Indonesia", "72193100", 1000.0, 2031)).unwrap();
    assert_eq!(c.benchmark_t_per_t, 1.230);
    assert!(
        c.notes
            .iter()
            .any(|n| n.english().contains("No benchmarks are published"))
    );
}

/// The Commission's spellings (cut at 31 characters, with underscores) are reached from any
/// name, ISO-2 or ISO-3 code.
#[test]
fn commission_country_spellings_resolve_from_names_and_codes() {
    let t = CbamTables::bundled();
    for (asked, listed) in [
        ("Russia", "Russia"),
        ("RU", "Russia"),
        ("RUS", "Russia"),
        ("Russian Federation", "Russia"),
        ("Myanmar", "Myanmar_Burma"),
        ("Burma", "Myanmar_Burma"),
        ("MMR", "Myanmar_Burma"),
        ("Brunei Darussalam", "Brunei"),
        ("BN", "Brunei"),
        ("CD", "Democratic Republic of the Cong"),
        ("DR Congo", "Democratic Republic of the Cong"),
        (
            "Congo, The Democratic Republic of the",
            "Democratic Republic of the Cong",
        ),
        ("Turkey", "Türkiye"),
        ("Korea, Republic of", "South Korea"),
        ("KOR", "South Korea"),
    ] {
        assert_eq!(t.country(asked).unwrap(), listed, "{asked}");
    }
    // Russian ammonia now costs rather than failing.
    let c = cost(t, &query("Russia", "28141000", 1000.0, 2026)).unwrap();
    assert!(c.default_case.certificates > 0.0);
}

/// Agglomerated iron ore (2601 12 00) is in Annex I but not Annex II: its actual indirect
/// emissions count, unlike a Chapter 72 good's.
#[test]
fn agglomerated_iron_ore_counts_its_indirect_emissions() {
    let t = CbamTables::bundled();
    let mut q = query("Brazil", "26011200", 1000.0, 2026);
    q.actual_direct = Some(0.1);
    q.actual_indirect = Some(0.02);
    let a = cost(t, &q).unwrap().actual_case.unwrap();
    assert!((a.specific_embedded_emissions_t_per_t - 0.12).abs() < 1e-12);
    let mut q = query("Brazil", "72081000", 1000.0, 2026);
    q.actual_direct = Some(0.1);
    q.actual_indirect = Some(0.02);
    let a = cost(t, &q).unwrap().actual_case.unwrap();
    assert!((a.specific_embedded_emissions_t_per_t - 0.1).abs() < 1e-12);
}

/// Actual direct emissions without actual indirect ones, for a good whose indirect emissions
/// count: the country's default indirect value is added, with a note; never zero.
#[test]
fn actual_direct_alone_takes_the_default_indirect_part() {
    let t = CbamTables::bundled();
    let mut q = query("Egypt", "28141000", 1000.0, 2026);
    let d = cost(t, &q).unwrap();
    assert!(d.default_indirect_t_per_t > 0.0, "{}", d.default_indirect_t_per_t);
    q.actual_direct = Some(1.8);
    let c = cost(t, &q).unwrap();
    let a = c.actual_case.as_ref().unwrap();
    assert!((a.specific_embedded_emissions_t_per_t - (1.8 + d.default_indirect_t_per_t)).abs() < 1e-12);
    assert!(
        c.notes
            .iter()
            .any(|n| n.english().contains("default indirect value"))
    );
    // Actual indirect without actual direct is refused.
    let mut q = query("Egypt", "28141000", 1000.0, 2026);
    q.actual_indirect = Some(0.1);
    assert!(
        cost(t, &q)
            .unwrap_err()
            .to_string()
            .contains("without actual direct")
    );
}

/// Grey and white clinker share 2523 10 00: the importer chooses; without a choice the error
/// names both.
#[test]
fn grey_or_white_clinker_is_chosen() {
    let t = CbamTables::bundled();
    let err = cost(t, &query("Vietnam", "25231000", 1000.0, 2026))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Grey clinker") && err.contains("White clinker") && err.contains("grey or white"),
        "{err}"
    );
    let mut q = query("Vietnam", "25231000", 1000.0, 2026);
    q.variant = Some("white".into());
    let white = cost(t, &q).unwrap();
    q.variant = Some("grey".into());
    let grey = cost(t, &q).unwrap();
    assert_eq!(
        (white.description.as_str(), grey.description.as_str()),
        ("White clinker", "Grey clinker")
    );
    // Each with its own route's benchmark: (B) 0.859 white, (A) 0.666 grey.
    assert_eq!((white.benchmark_t_per_t, grey.benchmark_t_per_t), (0.859, 0.666));
    // The route letter chooses as well: (B) is white clinker.
    q.variant = Some("B".into());
    assert_eq!(cost(t, &q).unwrap().description, "White clinker");
    q.variant = Some("pink".into());
    assert!(
        cost(t, &q)
            .unwrap_err()
            .to_string()
            .contains("no good called \"pink\"")
    );
}

/// De minimis: 50 t or less per importer and year is exempt ("does not exceed"), never for
/// hydrogen or electricity (Reg. 2023/956 Art. 2a).
#[test]
fn de_minimis_fifty_tonnes_does_not_exceed_and_never_hydrogen() {
    let t = CbamTables::bundled();
    assert!(
        cost(t, &query("China", "7208", 50.0, 2026))
            .unwrap()
            .within_de_minimis
    );
    assert!(
        !cost(t, &query("China", "7208", 50.001, 2026))
            .unwrap()
            .within_de_minimis
    );
    let h2 = cost(t, &query("Saudi Arabia", "28041000", 10.0, 2026)).unwrap();
    assert!(!h2.within_de_minimis);
    assert!(h2.notes.iter().any(|n| n.english().contains("never exempt")));
}

/// Art. 9: the origin carbon price is deducted on the direct emissions it was paid on, never
/// below zero certificates.
#[test]
fn the_origin_carbon_price_is_deducted_on_direct_emissions() {
    let t = CbamTables::bundled();
    let mut q = query("Egypt", "28141000", 1000.0, 2026);
    q.actual_direct = Some(1.8);
    q.actual_indirect = Some(0.2);
    q.origin_carbon_price = Some(20.0);
    let a = cost(t, &q).unwrap().actual_case.unwrap();
    // 20 EUR/t on 1,800 t direct at 80 EUR/t: 450 certificates, not 500 on 2,000 t.
    assert!((a.origin_price_reduction_certificates - 450.0).abs() < 1e-9);
    // A price above the certificate price cannot make the obligation negative.
    q.origin_carbon_price = Some(500.0);
    let a = cost(t, &q).unwrap().actual_case.unwrap();
    assert_eq!(a.certificates, 0.0);
    assert!(
        (a.origin_price_reduction_certificates - (a.embedded_emissions_t - a.free_allocation_adjustment_t))
            .abs()
            < 1e-9
    );
}

/// The Commission's published 2026 quarterly price applies where no price is given and the
/// quarter is known; `ets_price` overrides it; the answer says which applied.
#[test]
fn the_published_quarterly_price_applies_unless_one_is_given() {
    let t = CbamTables::bundled();
    let mut q = query("China", "72031000", 1000.0, 2026);
    q.ets_price = None;
    q.quarter = Some(1);
    let c = cost(t, &q).unwrap();
    assert_eq!(c.ets_price_eur, Some(75.36));
    assert!(c.ets_price_source.as_deref().unwrap().contains("7 April 2026"));
    assert!((c.default_case.cost_eur.unwrap() - 1071.0 * 75.36).abs() < 1e-6);
    q.ets_price = Some(90.0);
    let c = cost(t, &q).unwrap();
    assert_eq!(c.ets_price_eur, Some(90.0));
    assert!(c.notes.iter().any(|n| n.english().contains("as given")));
    // A quarter whose price is not bundled: no cost, and the note lists what is published.
    q.ets_price = None;
    q.quarter = Some(3);
    let c = cost(t, &q).unwrap();
    assert_eq!(c.default_case.cost_eur, None);
    assert!(c.notes.iter().any(|n| n.english().contains("Q1 2026: 75.36 EUR")));
    q.quarter = Some(5);
    assert!(cost(t, &q).is_err());
}

#[test]
fn a_malformed_price_table_is_refused_with_its_row() {
    use cb_lca::cbam::data::parse_prices;
    let ok = "year,quarter,eur_per_t,published,source\n2026,2,70.1,2026-07-06,x\n";
    assert_eq!(parse_prices(ok).unwrap()[0].quarter, 2);
    for bad in [
        "year,quarter,eur_per_t,published,source\n2026,5,70.1,2026-07-06,x\n",
        "year,quarter,eur_per_t,published,source\n2026,2,-1,2026-07-06,x\n",
        "year,quarter,eur_per_t,published,source\n2026,2,70,July,x\n",
    ] {
        assert!(
            parse_prices(bad).unwrap_err().to_string().contains("row 2"),
            "{bad}"
        );
    }
}
