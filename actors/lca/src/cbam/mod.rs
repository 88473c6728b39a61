//! The EU Carbon Border Adjustment Mechanism: embedded emissions of goods and what importing them
//! costs in certificates, as pure functions (the formulas of Regulation (EU) 2023/956 Annex IV,
//! IR (EU) 2025/2547, 2025/2620 and 2025/2621), and the Commission's default values and CBAM
//! benchmarks as data ([`data`]).

pub mod data;

use cb_protocol::text::Text;

fn english<S: serde::Serializer>(notes: &[Text], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(notes.iter().map(Text::english))
}

/// Why a CBAM calculation cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CbamError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
}

/// A precursor consumed to make a complex good: mass per tonne of good... given as totals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precursor {
    /// Mass of the precursor consumed for the activity level (t).
    pub mass: f64,
    /// Its specific embedded emissions, direct and indirect (t CO2e/t).
    pub see_direct: f64,
    pub see_indirect: f64,
}

/// Specific embedded emissions of a good (Reg. 2023/956 Annex IV pts 2–3; IR 2025/2547 Annex III
/// pt B), direct and indirect separately:
/// `SEE = (AttrEm + Σ_i M_i·SEE_i) / AL`. With no precursors this is the simple-good formula
/// `SEE = AttrEm / AL`.
pub fn specific_embedded_emissions(
    attributed_direct: f64,
    attributed_indirect: f64,
    activity_level: f64,
    precursors: &[Precursor],
) -> Result<(f64, f64), CbamError> {
    if activity_level.is_nan() || activity_level <= 0.0 {
        return Err(CbamError::Invalid(format!(
            "the activity level (production in t) must be positive, got {activity_level}"
        )));
    }
    for (name, v) in [("direct", attributed_direct), ("indirect", attributed_indirect)] {
        if v.is_nan() || v < 0.0 {
            return Err(CbamError::Invalid(format!(
                "attributed {name} emissions must be ≥ 0, got {v}"
            )));
        }
    }
    let direct =
        (attributed_direct + precursors.iter().map(|p| p.mass * p.see_direct).sum::<f64>()) / activity_level;
    let indirect = (attributed_indirect + precursors.iter().map(|p| p.mass * p.see_indirect).sum::<f64>())
        / activity_level;
    Ok((direct, indirect))
}

/// The CBAM factor `CBAM_y`: share of free allocation still granted in year `y` (Directive
/// 2003/87/EC Art. 10a(1a), as amended by Directive (EU) 2023/959); 0 from 2034.
pub fn cbam_factor(year: i32) -> f64 {
    match year {
        ..=2025 => 1.0,
        2026 => 0.975,
        2027 => 0.95,
        2028 => 0.90,
        2029 => 0.775,
        2030 => 0.515,
        2031 => 0.39,
        2032 => 0.265,
        2033 => 0.14,
        _ => 0.0,
    }
}

/// Mark-up on default values (IR 2025/2621 Annex I opening paragraph): cement, iron and steel,
/// aluminium and hydrogen +10 % in 2026, +20 % in 2027, +30 % from 2028; fertilisers +1 %.
pub fn default_mark_up(sector: &str, year: i32) -> f64 {
    if sector.eq_ignore_ascii_case("fertilisers") {
        return 0.01;
    }
    match year {
        ..=2026 => 0.10,
        2027 => 0.20,
        _ => 0.30,
    }
}

/// Whether only direct emissions count for a good (Reg. 2023/956 Art. 7(1) and Annex II, as
/// amended by Reg. 2025/2083): iron and steel of Chapter 72 and headings 7301–7311, 7318 and
/// 7326, aluminium (Chapter 76), hydrogen (2804 10 00) and electricity (2716). Agglomerated iron
/// ore (2601 12 00) is an iron and steel good of Annex I but not of Annex II: its indirect
/// emissions count, as do those of cement and fertilisers.
pub fn direct_only(cn_code: &str) -> bool {
    let cn: String = cn_code.chars().filter(char::is_ascii_digit).collect();
    ["72", "73", "76", "280410", "2716"]
        .iter()
        .any(|p| cn.starts_with(p))
}

/// What a production-route mark of the default values and benchmarks names: (C), (D) and (E)
/// are carbon steel by blast furnace and basic oxygen furnace, by direct reduction and electric
/// arc furnace, and by scrap and electric arc furnace (IR 2025/2620 Annex, the benchmarks'
/// notes); (A) and (B) are grey and white clinker (the default-value table puts (A) on grey
/// clinker and (B) on white cements). The alloy-steel marks (F) to (J) and aluminium's (K) and
/// (L) are not named: their definitions were not confirmed here.
pub fn route_mark_meaning(mark: &str) -> Option<&'static str> {
    match mark.trim() {
        "(A)" => Some("grey clinker"),
        "(B)" => Some("white clinker"),
        "(C)" => Some("carbon steel by blast furnace and basic oxygen furnace"),
        "(D)" => Some("carbon steel by direct reduction and electric arc furnace"),
        "(E)" => Some("carbon steel by scrap and electric arc furnace"),
        _ => None,
    }
}

/// Whether the 50 t de-minimis threshold can apply to a good: never to electricity or hydrogen
/// (Reg. 2023/956 Art. 2a(4) as inserted by Reg. 2025/2083).
pub fn de_minimis_applies(cn_code: &str) -> bool {
    let cn: String = cn_code.chars().filter(char::is_ascii_digit).collect();
    !(cn.starts_with("2716") || cn.starts_with("280410"))
}

/// The de-minimis threshold: net mass per importer and calendar year that does not exceed it is
/// exempt (Reg. 2023/956 Art. 2a(1), Annex VII), in tonnes.
pub const DE_MINIMIS_TONNES: f64 = 50.0;

/// Certificates are surrendered whole: the exact obligation rounded up, so that the whole of it
/// is covered (the rules round period totals to full tonnes without naming the method, IR
/// 2025/2547 Annex II pt A.1(8)).
pub fn whole_certificates(exact: f64) -> u64 {
    // 1e-9 absorbs floating-point residue of products such as 0.975 × 1.4 × 1000.
    (exact - 1e-9).ceil().max(0.0) as u64
}

/// Free-allocation adjustment (IR 2025/2620 Annex): `FAA = CBAM_y × CSCF_y × BM × Q`, in t CO2e.
pub fn free_allocation_adjustment(year: i32, cscf: f64, benchmark: f64, tonnes: f64) -> f64 {
    cbam_factor(year) * cscf * benchmark * tonnes
}

/// Certificates to surrender for an import: `max(0, Q × SEE − FAA − reduction)`, where the
/// reduction is for a carbon price effectively paid in the country of origin (Art. 9, only with
/// actual emissions).
pub fn certificates(embedded: f64, faa: f64, origin_reduction: f64) -> f64 {
    (embedded - faa - origin_reduction).max(0.0)
}

/// Certificates that a carbon price paid at origin offsets (Reg. 2023/956 Art. 9(1)):
/// `price_paid × emissions_priced / certificate_price`, where `emissions_priced` are the
/// embedded emissions the price was paid on — the direct emissions released during production
/// (Art. 3(29)), net of any rebate or free allocation at origin — and never more than the
/// certificates otherwise due.
pub fn origin_price_reduction(
    origin_price: f64,
    emissions_priced: f64,
    certificate_price: f64,
    due_before_reduction: f64,
) -> f64 {
    if certificate_price > 0.0 {
        (origin_price * emissions_priced / certificate_price).min(due_before_reduction.max(0.0))
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_and_complex_goods() {
        // A simple good: 2,000 t CO2 direct, 150 t indirect for 1,000 t: 2.0 and 0.15 t/t.
        assert_eq!(
            specific_embedded_emissions(2000.0, 150.0, 1000.0, &[]).unwrap(),
            (2.0, 0.15)
        );
        // A complex good: 1,000 t of hot-rolled coil from 1,050 t of crude steel (SEE 1.9 / 0.1)
        // with 100 t CO2 direct and 40 t indirect at the rolling mill:
        // direct (100 + 1,050 × 1.9) / 1,000 = 2.095; indirect (40 + 1,050 × 0.1) / 1,000 = 0.145.
        let (d, i) = specific_embedded_emissions(
            100.0,
            40.0,
            1000.0,
            &[Precursor {
                mass: 1050.0,
                see_direct: 1.9,
                see_indirect: 0.1,
            }],
        )
        .unwrap();
        assert!((d - 2.095).abs() < 1e-12 && (i - 0.145).abs() < 1e-12);
        assert!(specific_embedded_emissions(1.0, 0.0, 0.0, &[]).is_err());
        assert!(specific_embedded_emissions(-1.0, 0.0, 1.0, &[]).is_err());
    }

    #[test]
    fn phase_out_and_mark_ups() {
        assert_eq!(cbam_factor(2026), 0.975);
        assert_eq!(cbam_factor(2030), 0.515);
        assert_eq!(cbam_factor(2034), 0.0);
        assert_eq!(default_mark_up("Iron and steel", 2027), 0.20);
        assert_eq!(default_mark_up("Cement", 2031), 0.30);
        assert_eq!(default_mark_up("Fertilisers", 2028), 0.01);
        assert!(direct_only("72081000") && direct_only("7601") && direct_only("28041000"));
        assert!(!direct_only("26011200") && !direct_only("25231000") && !direct_only("28141000"));
        assert!(
            de_minimis_applies("72081000")
                && !de_minimis_applies("28041000")
                && !de_minimis_applies("27160000")
        );
        assert_eq!(whole_certificates(1070.425), 1071);
        assert_eq!(whole_certificates(975.0000000001), 975);
        assert_eq!(whole_certificates(0.0), 0);
    }
}

/// What an importer asks: the good, its origin, how much and when, and optionally actual
/// (verified) emissions and prices.
#[derive(Debug, Clone, Default)]
pub struct CostQuery {
    pub country: String,
    pub cn_code: String,
    /// Which of the goods sharing a code, by a word of its description (`grey`, `white`).
    pub variant: Option<String>,
    pub tonnes: f64,
    pub year: i32,
    /// Quarter of import (1–4): selects the Commission's certificate price for 2026.
    pub quarter: Option<u8>,
    pub actual_direct: Option<f64>,
    pub actual_indirect: Option<f64>,
    /// CBAM certificate price (EUR per t CO2e); overrides the published price of the quarter.
    pub ets_price: Option<f64>,
    /// Carbon price effectively paid in the country of origin (EUR per t CO2e), net of rebates.
    pub origin_carbon_price: Option<f64>,
    /// Cross-sectoral correction factor of the year; 1 (none) unless given.
    pub cscf: Option<f64>,
}

/// One way of counting (default values or actual emissions).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CostCase {
    pub basis: &'static str,
    pub specific_embedded_emissions_t_per_t: f64,
    pub embedded_emissions_t: f64,
    pub free_allocation_adjustment_t: f64,
    pub origin_price_reduction_certificates: f64,
    /// The obligation as computed, in t CO2e.
    pub certificates: f64,
    /// Whole certificates to surrender ([`whole_certificates`]).
    pub certificates_whole: u64,
    /// Cost of the whole certificates at the certificate price.
    pub cost_eur: Option<f64>,
}

/// The answer to a [`CostQuery`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CbamCost {
    pub country: String,
    pub sector: String,
    pub cn_code: String,
    pub description: String,
    pub year: i32,
    pub tonnes: f64,
    pub default_value_t_per_t: f64,
    pub default_direct_t_per_t: f64,
    pub default_indirect_t_per_t: f64,
    pub mark_up: f64,
    pub route: String,
    pub benchmark_t_per_t: f64,
    /// Production-year column of the benchmark: 1 (2026–2027) or 2 (from 2028); `None` where
    /// the benchmark has one value for every year.
    pub benchmark_period: Option<u8>,
    pub cbam_factor: f64,
    pub cscf: f64,
    pub ets_price_eur: Option<f64>,
    /// Where the certificate price came from: the caller, or the Commission's published price.
    pub ets_price_source: Option<String>,
    /// The tonnage does not exceed the 50 t de-minimis threshold and the good can be exempt:
    /// nothing is due if these are all of the importer's CBAM goods of the year.
    pub within_de_minimis: bool,
    pub default_case: CostCase,
    pub actual_case: Option<CostCase>,
    /// Money saved by declaring actual emissions instead of default values.
    pub saving_eur: Option<f64>,
    /// What a reader needs besides the numbers, as sentences of `data/agent-text.csv` (written
    /// out in English in JSON).
    #[serde(serialize_with = "english")]
    pub notes: Vec<Text>,
    pub sources: Vec<&'static str>,
}

fn round5(v: f64) -> String {
    // IR 2025/2547 Annex II pt A.1(6): at most five decimals; trailing zeros say nothing.
    let s = format!("{v:.5}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Computes embedded emissions, the free-allocation adjustment, certificates and cost of an
/// import, on default values and, where given, on actual emissions.
pub fn cost(tables: &data::CbamTables, q: &CostQuery) -> Result<CbamCost, CbamError> {
    if !q.tonnes.is_finite() || q.tonnes <= 0.0 {
        return Err(CbamError::Invalid(format!(
            "tonnes must be a positive number, got {}",
            q.tonnes
        )));
    }
    if !(2026..=2100).contains(&q.year) {
        return Err(CbamError::Invalid(format!(
            "year {} is outside the definitive period: certificates are due for imports from 2026",
            q.year
        )));
    }
    if let Some(k) = q.quarter
        && !(1..=4).contains(&k)
    {
        return Err(CbamError::Invalid(format!("quarter must be 1 to 4, got {k}")));
    }
    for (name, v) in [
        ("actual direct emissions", q.actual_direct),
        ("actual indirect emissions", q.actual_indirect),
        ("ETS price", q.ets_price),
        ("origin carbon price", q.origin_carbon_price),
        ("CSCF", q.cscf),
    ] {
        if let Some(v) = v
            && !(v >= 0.0 && v.is_finite())
        {
            return Err(CbamError::Invalid(format!(
                "{name} must be a non-negative number, got {v}"
            )));
        }
    }
    if q.cscf.is_some_and(|c| c > 1.0) {
        return Err(CbamError::Invalid(format!(
            "the cross-sectoral correction factor is at most 1, got {}",
            q.cscf.unwrap_or_default()
        )));
    }
    if q.actual_indirect.is_some() && q.actual_direct.is_none() {
        return Err(CbamError::Invalid(
            "actual indirect emissions were given without actual direct emissions: give both, or neither to \
             use default values"
                .into(),
        ));
    }
    let country = tables.country(&q.country)?;
    let dv = tables.default_value_of(&country, &q.cn_code, q.variant.as_deref())?;
    let mark_up = default_mark_up(&dv.sector, q.year);
    let column = (q.year.min(2028) - 2026) as usize;
    let default_see = dv.with_mark_up[column].unwrap_or(dv.total * (1.0 + mark_up));
    let bm = tables.benchmark(&dv.cn_code, &dv.route, q.year).ok_or_else(|| {
        CbamError::NotFound(format!(
            "no CBAM benchmark for CN {} (route {:?})",
            dv.cn_code, dv.route
        ))
    })?;
    let cscf = q.cscf.unwrap_or(1.0);
    let mut notes = vec![Text::new(
        "note_cbam_default",
        &[
            ("default", &default_see.to_string()),
            ("good", &dv.description),
            ("country", &country),
            ("cn_code", &dv.cn_code),
            ("mark_up", &format!("{:.0}", mark_up * 100.0)),
            ("year", &q.year.to_string()),
        ],
    )];
    if dv.country == data::OTHER_COUNTRIES {
        notes.push(Text::new("note_cbam_other_countries", &[("country", &country)]));
    }
    let route = if bm.route.is_empty() {
        "–"
    } else {
        bm.route.as_str()
    };
    notes.push(match bm.period {
        Some(p) => Text::new(
            "note_cbam_benchmark_period",
            &[
                ("benchmark", &bm.value.to_string()),
                ("route", route),
                ("column", &format!("({p})")),
                ("years", if p == 1 { "2026–2027" } else { "2028–2030" }),
            ],
        ),
        None => Text::new(
            "note_cbam_benchmark",
            &[("benchmark", &bm.value.to_string()), ("route", route)],
        ),
    });
    if q.year > 2030 && q.year < 2034 && bm.period.is_some() {
        notes.push(Text::new(
            "note_cbam_benchmark_after_2030",
            &[("year", &q.year.to_string())],
        ));
    }
    if q.cscf.is_none() {
        notes.push(Text::new("note_cbam_cscf", &[]));
    }
    // The certificate price: the caller's, else the Commission's published price of the quarter.
    let published = q.quarter.and_then(|k| data::certificate_price(q.year, k));
    let (ets_price, ets_price_source) = match (q.ets_price, published) {
        (Some(p), _) => {
            notes.push(Text::new("note_cbam_price_given", &[("price", &p.to_string())]));
            (Some(p), Some("given by the caller (--ets-price)".to_string()))
        }
        (None, Some(p)) => {
            notes.push(Text::new(
                "note_cbam_price_published",
                &[
                    ("price", &p.eur_per_t.to_string()),
                    ("quarter", &p.quarter.to_string()),
                    ("year", &p.year.to_string()),
                    ("published", &p.published),
                ],
            ));
            (Some(p.eur_per_t), Some(p.source.clone()))
        }
        (None, None) => {
            let known = data::certificate_prices()
                .iter()
                .map(|p| format!("Q{} {}: {} EUR", p.quarter, p.year, p.eur_per_t))
                .collect::<Vec<_>>()
                .join("; ");
            notes.push(Text::new("note_cbam_no_price", &[("published", &known)]));
            (None, None)
        }
    };
    let faa = free_allocation_adjustment(q.year, cscf, bm.value, q.tonnes);
    let case = |basis: &'static str, see: f64, reduction: f64| {
        let embedded = see * q.tonnes;
        let certs = certificates(embedded, faa, reduction);
        let whole = whole_certificates(certs);
        CostCase {
            basis,
            specific_embedded_emissions_t_per_t: see,
            embedded_emissions_t: embedded,
            free_allocation_adjustment_t: faa,
            origin_price_reduction_certificates: reduction,
            certificates: certs,
            certificates_whole: whole,
            cost_eur: ets_price.map(|p| whole as f64 * p),
        }
    };
    let default_case = case("default values (with mark-up)", default_see, 0.0);
    if q.origin_carbon_price.is_some() && q.actual_direct.is_none() {
        notes.push(Text::new("note_cbam_origin_price_default", &[]));
    }
    let actual_case = match q.actual_direct {
        Some(direct) => {
            let see = if direct_only(&dv.cn_code) {
                if q.actual_indirect.is_some_and(|v| v > 0.0) {
                    notes.push(Text::new("note_cbam_annex_ii", &[("sector", &dv.sector)]));
                }
                direct
            } else {
                match q.actual_indirect {
                    Some(indirect) => direct + indirect,
                    None => {
                        // Indirect emissions count for this good and none were declared: the
                        // default indirect part applies, not zero.
                        notes.push(Text::new(
                            "note_cbam_default_indirect",
                            &[("indirect", &dv.indirect.to_string()), ("country", &country)],
                        ));
                        direct + dv.indirect
                    }
                }
            };
            let embedded = see * q.tonnes;
            let reduction = match (q.origin_carbon_price, ets_price) {
                (Some(p), Some(ets)) => {
                    let priced = direct * q.tonnes;
                    notes.push(Text::new(
                        "note_cbam_art9_base",
                        &[("priced", &round5(priced)), ("price", &p.to_string())],
                    ));
                    origin_price_reduction(p, priced, ets, embedded - faa)
                }
                (Some(_), None) => {
                    notes.push(Text::new("note_cbam_origin_price_needs_ets", &[]));
                    0.0
                }
                _ => 0.0,
            };
            notes.push(Text::new("note_cbam_benchmark_column", &[]));
            Some(case("actual emissions", see, reduction))
        }
        None => None,
    };
    let saving_eur = actual_case
        .as_ref()
        .and_then(|a| Some(default_case.cost_eur? - a.cost_eur?));
    notes.push(Text::new(
        "note_cbam_whole",
        &[
            ("exact", &round5(default_case.certificates)),
            ("whole", &default_case.certificates_whole.to_string()),
        ],
    ));
    let within_de_minimis = q.tonnes <= DE_MINIMIS_TONNES && de_minimis_applies(&dv.cn_code);
    if within_de_minimis {
        notes.push(Text::new(
            "note_cbam_de_minimis",
            &[("tonnes", &q.tonnes.to_string())],
        ));
    } else if q.tonnes <= DE_MINIMIS_TONNES {
        notes.push(Text::new("note_cbam_never_exempt", &[("good", &dv.description)]));
    }
    Ok(CbamCost {
        country,
        sector: dv.sector.clone(),
        cn_code: dv.cn_code.clone(),
        description: dv.description.clone(),
        year: q.year,
        tonnes: q.tonnes,
        default_value_t_per_t: default_see,
        default_direct_t_per_t: dv.direct,
        default_indirect_t_per_t: dv.indirect,
        mark_up,
        route: dv.route.clone(),
        benchmark_t_per_t: bm.value,
        benchmark_period: bm.period,
        cbam_factor: cbam_factor(q.year),
        cscf,
        ets_price_eur: ets_price,
        ets_price_source,
        within_de_minimis,
        default_case,
        actual_case,
        saving_eur,
        notes,
        sources: vec![
            data::DEFAULTS_SOURCE,
            data::BENCHMARKS_SOURCE,
            "CBAM factor: Directive 2003/87/EC Art. 10a(1a) as amended by Directive (EU) 2023/959",
            "Certificates, de minimis and Art. 9 deduction: Regulation (EU) 2023/956 as amended by Regulation (EU) 2025/2083",
        ],
    })
}
