//! IPCC default values bundled in `data/afolu/`, each with the table it comes from.
//!
//! Only values confirmed from a cited table ship here (see `data/SOURCES.md` for the sources and
//! how each was checked). Where the IPCC has a default that we could not confirm — 2006 Table 4.9
//! growth rates for temperate and boreal forests, combustion factors, reference soil stocks — the
//! lookup fails with a message that says so and names the flag to pass the value explicitly.

use std::sync::OnceLock;

use crate::SinksError;

const ROOT_SHOOT_CSV: &str = include_str!("../../../data/afolu/root_shoot_ratio.csv");
const BCEF_CSV: &str = include_str!("../../../data/afolu/bcef.csv");
const GROWTH_CSV: &str = include_str!("../../../data/afolu/growth_natural_forest_ipcc2019.csv");
const FIRE_CSV: &str = include_str!("../../../data/afolu/fire_emission_factors.csv");
const SOIL_CSV: &str = include_str!("../../../data/afolu/soil_stock_change_factors.csv");
const HWP_CSV: &str = include_str!("../../../data/afolu/hwp_half_lives.csv");
const SOC_REF_CSV: &str = include_str!("../../../data/afolu/soc_ref.csv");

/// The climate regions and soil classes of the bundled reference soil stocks.
pub fn soc_ref_classes() -> Vec<(String, String)> {
    records(SOC_REF_CSV)
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

/// The reference soil organic carbon stock SOC_REF (t C/ha, 0–30 cm, native vegetation) of a
/// climate region and soil class: IPCC 2006 Vol. 4 Table 2.3, the values on which the project's
/// transcription and bonsai-ipcc 0.5.3 (`par_soc_ref.csv`) agree.
pub fn soc_ref(climate: &str, soil: &str) -> Result<DefaultValue, SinksError> {
    let (c, s) = (climate.trim().to_lowercase(), soil.trim().to_lowercase());
    let rows = records(SOC_REF_CSV);
    match rows
        .iter()
        .find(|r| r[0].to_lowercase() == c && r[1].to_lowercase() == s)
    {
        Some(r) => Ok(DefaultValue {
            value: num(&r[2]),
            sd: None,
            range: None,
            source: format!(
                "IPCC 2006 Vol. 4 Table 2.3 ({}, {}); the same in bonsai-ipcc 0.5.3 par_soc_ref.csv",
                r[0], r[1]
            ),
        }),
        None => Err(SinksError::NoDefault(format!(
            "no confirmed SOC_REF for climate {climate:?} and soil {soil:?}: pass --soc-ref; bundled: {}",
            rows.iter()
                .map(|r| format!("{}/{}", r[0], r[1]))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A default value with where it comes from and, where the source gives one, its uncertainty.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DefaultValue {
    pub value: f64,
    /// Standard deviation, in the value's unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// 95 % range, in the value's unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    pub source: String,
}

/// Carbon fraction of forest dry matter: IPCC 2006 Vol. 4 Table 4.3, default 0.47 (range
/// 0.44–0.49 for tropical and subtropical forest, applied here to the generic default).
pub fn carbon_fraction() -> DefaultValue {
    DefaultValue {
        value: 0.47,
        sd: None,
        range: Some((0.44, 0.49)),
        source: "IPCC 2006 Vol. 4 Table 4.3 (default carbon fraction of dry matter)".into(),
    }
}

/// Ecological zones of the bundled growth and ratio tables, in the words users write.
pub fn normalise_zone(zone: &str) -> String {
    let z = zone.trim().to_lowercase().replace(['_', '-'], " ");
    match z.as_str() {
        "tropical rain forest" | "rainforest" | "rain forest" => "tropical rainforest".into(),
        "tropical moist" | "tropical moist deciduous forest" | "tropical moist deciduous" => {
            "tropical moist forest".into()
        }
        "tropical dry" => "tropical dry forest".into(),
        "tropical mountain" | "tropical montane" => "tropical mountain system".into(),
        _ => z,
    }
}

/// Continents as the tables write them.
pub fn normalise_continent(continent: &str) -> String {
    let c = continent.trim().to_lowercase().replace(['_', '-'], " ");
    match c.as_str() {
        "north america" | "south america" | "central america" | "america" | "n & s america"
        | "latin america" => "americas".into(),
        _ => c,
    }
}

struct GrowthRow {
    zone: String,
    continent: String,
    stand: String,
    value: f64,
    sd: f64,
}

fn growth_rows() -> &'static [GrowthRow] {
    static ROWS: OnceLock<Vec<GrowthRow>> = OnceLock::new();
    ROWS.get_or_init(|| {
        records(GROWTH_CSV)
            .into_iter()
            .map(|r| GrowthRow {
                zone: r[0].clone(),
                continent: r[1].clone(),
                stand: r[2].clone(),
                value: num(&r[3]),
                sd: num(&r[4]),
            })
            .collect()
    })
}

fn records(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.expect("bundled CSV is checked by tests")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn num(s: &str) -> f64 {
    if s == "INF" {
        return f64::INFINITY;
    }
    s.trim()
        .parse()
        .expect("bundled CSV numbers are checked by tests")
}

/// Stand classes of 2019 Refinement Table 4.9.
pub const STANDS: [&str; 3] = ["primary", "secondary >20 years", "secondary <=20 years"];

/// The stand class a forest account looks growth up for when none is given.
pub const DEFAULT_STAND: &str = "secondary >20 years";

/// Above-ground biomass growth `G_W` of a natural forest (t d.m./ha/yr): 2019 Refinement Table
/// 4.9 (Requena Suarez et al. 2019), with its standard deviation.
pub fn growth(zone: &str, continent: &str, stand: &str) -> Result<DefaultValue, SinksError> {
    let (z, c) = (normalise_zone(zone), normalise_continent(continent));
    let rows = growth_rows();
    if let Some(r) = rows
        .iter()
        .find(|r| r.zone == z && r.continent == c && r.stand == stand)
    {
        return Ok(DefaultValue {
            value: r.value,
            sd: Some(r.sd),
            range: None,
            source: format!(
                "IPCC 2019 Refinement Vol. 4 Table 4.9 ({z}, {c}, {stand}; Requena Suarez et al. 2019)"
            ),
        });
    }
    let known: Vec<String> = rows
        .iter()
        .filter(|r| r.stand == stand)
        .map(|r| format!("{} in {}", r.zone, r.continent))
        .collect();
    Err(SinksError::NoDefault(format!(
        "no confirmed IPCC default growth rate for {z} in {c} ({stand}): the bundled 2019 Table 4.9 rows \
         are {}; the 2006 table's temperate and boreal rows could not be confirmed, so they are not \
         shipped. Pass the above-ground growth explicitly (--growth T_DM_PER_HA_YR; in a question: \
         \"growing 4 t of dry matter per hectare per year\")",
        known.join(", ")
    )))
}

/// Root-to-shoot ratio `R` (t root d.m. per t shoot d.m.): IPCC 2006 Vol. 4 Table 4.4, by zone,
/// forest type (`con`, `broad`, `quercus`, `eucalyptus`) and above-ground biomass (t d.m./ha).
pub fn root_shoot(zone: &str, forest_type: &str, agb_t_dm_ha: f64) -> Result<DefaultValue, SinksError> {
    static ROWS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let rows = ROWS.get_or_init(|| records(ROOT_SHOOT_CSV));
    let z = normalise_zone(zone).replace(' ', "_");
    let t = forest_type_key(forest_type);
    let hit = rows
        .iter()
        .find(|r| r[0] == z && r[1] == t && num(&r[2]) <= agb_t_dm_ha && agb_t_dm_ha < num(&r[3]));
    match hit {
        Some(r) => Ok(DefaultValue {
            value: num(&r[4]),
            sd: None,
            range: None,
            source: format!(
                "IPCC 2006 Vol. 4 Table 4.4 ({}, {}, above-ground biomass {}–{} t d.m./ha)",
                r[0], r[1], r[2], r[3]
            ),
        }),
        None => Err(SinksError::NoDefault(format!(
            "no IPCC Table 4.4 root-to-shoot ratio for zone {zone:?}, forest type {forest_type:?} at \
             {agb_t_dm_ha} t d.m./ha above-ground biomass (bundled zones: temperate, boreal, subtropical_dry; \
             types: con, broad, quercus, eucalyptus); pass --root-shoot"
        ))),
    }
}

fn forest_type_key(t: &str) -> String {
    match t.trim().to_lowercase().as_str() {
        "conifer" | "conifers" | "coniferous" | "con" | "softwood" => "con".into(),
        "broadleaf" | "broadleaved" | "broad-leaved" | "broad" | "hardwood" | "deciduous" => "broad".into(),
        other => other.into(),
    }
}

/// A biomass conversion and expansion factor (t d.m. per m³): IPCC 2006 Vol. 4 Table 4.5, by
/// climatic zone, forest type, factor (`bcef_s`, `bcef_i`, `bcef_r`) and growing stock (m³/ha).
pub fn bcef(
    zone: &str,
    forest_type: &str,
    factor: &str,
    growing_stock_m3_ha: f64,
) -> Result<DefaultValue, SinksError> {
    static ROWS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let rows = ROWS.get_or_init(|| records(BCEF_CSV));
    let z = normalise_zone(zone);
    let t = forest_type.trim().to_lowercase();
    let hit = rows
        .iter()
        .filter(|r| r[0] == z && r[1] == t && r[2] == factor)
        .find(|r| growing_stock_m3_ha <= num(&r[4]) || num(&r[4]).is_infinite());
    match hit {
        Some(r) => Ok(DefaultValue {
            value: num(&r[5]),
            sd: None,
            range: None,
            source: format!(
                "IPCC 2006 Vol. 4 Table 4.5 ({}, {}, {}, growing stock {}–{} m³/ha)",
                r[0], r[1], r[2], r[3], r[4]
            ),
        }),
        None => {
            let types: std::collections::BTreeSet<String> =
                rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
            Err(SinksError::NoDefault(format!(
                "no IPCC Table 4.5 {factor} for {zone:?} / {forest_type:?} (bundled zone/type: {}); pass it explicitly",
                types.into_iter().collect::<Vec<_>>().join(", ")
            )))
        }
    }
}

/// Fire emission factor `G_ef` (g gas per kg d.m. burnt): IPCC 2006 Vol. 4 Table 2.5.
pub fn fire_emission_factor(vegetation: &str, gas: &str) -> Result<DefaultValue, SinksError> {
    let v = vegetation.trim().to_lowercase();
    records(FIRE_CSV)
        .into_iter()
        .find(|r| r[0] == v && r[1].eq_ignore_ascii_case(gas))
        .map(|r| DefaultValue {
            value: num(&r[2]),
            sd: None,
            range: None,
            source: format!("IPCC 2006 Vol. 4 Table 2.5 ({}, {})", r[0], r[1]),
        })
        .ok_or_else(|| {
            SinksError::NoDefault(format!(
                "no IPCC Table 2.5 emission factor for {gas} from {vegetation:?} (bundled: tropical forest, \
                 extra-tropical forest; CO2, CH4, N2O)"
            ))
        })
}

/// A soil stock change factor (`F_LU`, `F_MG`, `F_I`): IPCC 2006 Vol. 4 Table 5.5, with its error
/// (± % of the mean, two standard deviations) where given. The reference levels are 1 by definition.
pub fn soil_factor(factor: &str, level: &str, climate: &str) -> Result<DefaultValue, SinksError> {
    let (f, l, c) = (
        factor.trim(),
        level.trim().to_lowercase(),
        climate.trim().to_lowercase(),
    );
    let rows = records(SOIL_CSV);
    let hit = rows.iter().find(|r| {
        r[0].eq_ignore_ascii_case(f)
            && (r[1] == l || r[1].starts_with(&format!("{l} (")))
            && (r[2] == "all" || r[2] == c)
    });
    match hit {
        Some(r) => {
            let value = num(&r[3]);
            let range = (!r[4].is_empty()).then(|| {
                let e = num(&r[4]) / 100.0 * value;
                (value - e, value + e)
            });
            Ok(DefaultValue {
                value,
                sd: None,
                range,
                source: format!("IPCC 2006 Vol. 4 Table 5.5 ({}, {}, {})", r[0], r[1], r[2]),
            })
        }
        None => {
            let known: Vec<String> = rows
                .iter()
                .filter(|r| r[0].eq_ignore_ascii_case(f))
                .map(|r| format!("{} / {}", r[1], r[2]))
                .collect();
            Err(SinksError::NoDefault(format!(
                "no confirmed default for {f} = {level:?} in climate {climate:?} (bundled: {}); pass the factor \
                 explicitly",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join("; ")
                }
            )))
        }
    }
}

/// Default half-life (years) of a harvested wood product category: paper 2, wood panels 25,
/// sawnwood 35 (Regulation (EU) 2018/841 Annex V, the IPCC defaults).
pub fn hwp_half_life(product: &str) -> Result<DefaultValue, SinksError> {
    let p = product.trim().to_lowercase();
    records(HWP_CSV)
        .into_iter()
        .find(|r| r[0] == p)
        .map(|r| DefaultValue {
            value: num(&r[1]),
            sd: None,
            range: None,
            source: format!("IPCC default half-life of {} (as in Regulation (EU) 2018/841 Annex V)", r[0]),
        })
        .ok_or_else(|| {
            SinksError::NoDefault(format!(
                "no default half-life for {product:?} (bundled: paper, wood panels, sawnwood); pass --half-life"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_file_parses() {
        assert_eq!(growth_rows().len(), 16);
        for text in [ROOT_SHOOT_CSV, BCEF_CSV, GROWTH_CSV, FIRE_CSV, SOIL_CSV, HWP_CSV] {
            for r in records(text) {
                assert!(
                    r.iter().skip(1).any(|c| c.parse::<f64>().is_ok() || c == "INF"),
                    "{r:?}"
                );
            }
        }
    }

    #[test]
    fn lookups_find_the_tables_values() {
        assert_eq!(
            growth("tropical rainforest", "Africa", "secondary >20 years")
                .unwrap()
                .value,
            3.5
        );
        assert_eq!(
            growth("rainforest", "South America", "primary").unwrap().value,
            1.0
        );
        let err = growth("temperate continental forest", "europe", "secondary >20 years").unwrap_err();
        assert!(err.to_string().contains("--growth"), "{err}");
        assert_eq!(root_shoot("temperate", "conifer", 60.0).unwrap().value, 0.29);
        assert_eq!(root_shoot("boreal", "broad", 100.0).unwrap().value, 0.24);
        assert!(root_shoot("tropical rainforest", "broad", 100.0).is_err());
        assert_eq!(bcef("temperate", "pines", "bcef_r", 150.0).unwrap().value, 0.77);
        assert_eq!(bcef("boreal", "pines", "bcef_s", 10.0).unwrap().value, 1.2);
        assert_eq!(
            fire_emission_factor("extra-tropical forest", "ch4")
                .unwrap()
                .value,
            4.7
        );
        let f = soil_factor("F_LU", "long-term cultivated", "temperate/boreal moist").unwrap();
        assert_eq!(f.value, 0.69);
        assert!((f.range.unwrap().0 - 0.69 * 0.88).abs() < 1e-12);
        assert_eq!(
            soil_factor("F_MG", "full tillage", "tropical dry").unwrap().value,
            1.0
        );
        assert!(soil_factor("F_MG", "no-till", "tropical dry").is_err());
        assert_eq!(hwp_half_life("Sawnwood").unwrap().value, 35.0);
    }
}
