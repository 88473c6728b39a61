//! Land questions of the sinks agent: mineral soil carbon after a change of land use, tillage or
//! input (IPCC 2006 Vol. 4 Eq. 2.25), land converted by clearing (Eq. 2.16), and carbon kept in
//! harvested wood products (2019 Refinement Eq. 12.1).
//!
//! Each needs numbers no confirmed default supplies (a reference soil stock, a biomass stock, the
//! carbon a wood flow holds): a question that lacks one is refused with every missing number
//! named at once and the words that give it, never answered with a guess.

use std::sync::OnceLock;

use cb_protocol::{SinksTask, SoilManagement, Task, TaskSpec};
use regex::Regex;

use crate::context::PlanningError;
use crate::mentions::{Lang, Mentions, Unit, parse_number};
use crate::templates::say;

/// A land area's hectares: the world's land is about 1.3e10 ha.
pub const MAX_LAND_HA: f64 = 1.5e10;

/// A number as any of the five languages writes it, with 万 (ten thousand) after it.
const NUM: &str = r"(\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)\s*(万)?";

struct Patterns {
    carbon_per_ha: Regex,
    carbon_per_ha_zh: Regex,
    biomass_per_ha: Regex,
    biomass_per_ha_zh: Regex,
    carbon: Regex,
    co2: Regex,
    carbon_per_m3: Regex,
    volume: Regex,
    years: Regex,
    years_zh: Regex,
    half_life: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: String| Regex::new(&p).expect("a land pattern compiles");
        let tonnes = r"(?:t|tonnes?|tons?|mg|吨)\.?";
        let carbon = r"(?:(?:c|carbon|carbone|kohlenstoff|carbono)\b|碳)";
        let per = r"\s*(?:/|per|par|pro|por|je)\s*";
        let ha = r"(?:ha|hectares?|hektar|hectáreas?)\b";
        Patterns {
            carbon_per_ha: re(format!(r"(?i){NUM}\s*{tonnes}\s*(?:of\s+|de\s+)?{carbon}{per}{ha}")),
            carbon_per_ha_zh: re(format!(r"每公顷\s*{NUM}\s*吨碳")),
            biomass_per_ha: re(format!(
                r"(?i){NUM}\s*{tonnes}\s*(?:of\s+|de\s+)?(?:d\.?\s?m\.?|dry matter|biomass|matière sèche|matiere seche|trockenmasse|biomasse|materia seca|biomasa){per}{ha}"
            )),
            biomass_per_ha_zh: re(format!(r"每公顷\s*{NUM}\s*吨(?:干物质|生物量)")),
            carbon: re(format!(r"(?i){NUM}\s*{tonnes}\s*(?:of\s+|de\s+)?{carbon}")),
            co2: re(format!(r"(?i){NUM}\s*{tonnes}\s*(?:of\s+|de\s+)?co2\b")),
            carbon_per_m3: re(format!(r"(?i){NUM}\s*{tonnes}\s*(?:of\s+|de\s+)?{carbon}{per}(?:m³|m3|cubic met)")),
            volume: re(format!(r"(?i){NUM}\s*(?:m³|m3|cubic met|立方米)")),
            years: re(format!(
                r"(?i)\b(?:over|after|for|within|in|pendant|après|apres|sur|en|nach|über|uber|durante|después de|despues de|tras)\s+(?:the\s+next\s+|les\s+|den\s+nächsten\s+)?{NUM}\s*(?:years?|ans|années|annees|jahren?|años|anos)\b"
            )),
            years_zh: re(format!(r"{NUM}\s*年(?:后|内|间|里)")),
            half_life: re(format!(
                r"(?i)(?:half[- ]life|demi-vie|halbwertszeit|vida media|半衰期)\s*(?:of|de|von|:|=|为)?\s*{NUM}"
            )),
        }
    })
}

fn value(c: &regex::Captures) -> Option<f64> {
    let v = parse_number(c.get(1)?.as_str())?;
    Some(if c.get(2).is_some() { v * 1e4 } else { v })
}

fn all(re: &Regex, q: &str) -> Vec<(usize, f64)> {
    re.captures_iter(q)
        .filter_map(|c| Some((c.get(0)?.start(), value(&c)?)))
        .collect()
}

/// The numbers one pattern pair finds, the Latin-script and the Chinese word order, in order.
fn per_ha(q: &str, latin: &Regex, zh: &Regex) -> Vec<f64> {
    let mut v = all(latin, q);
    v.extend(all(zh, q));
    v.sort_by_key(|(at, _)| *at);
    v.into_iter().map(|(_, x)| x).collect()
}

/// Carbon per hectare ("80 t C/ha", "每公顷80吨碳"), in order.
fn carbon_per_ha(q: &str) -> Vec<f64> {
    let p = patterns();
    per_ha(q, &p.carbon_per_ha, &p.carbon_per_ha_zh)
}

/// Biomass per hectare ("300 t of dry matter per hectare", "每公顷300吨干物质"), in order.
fn biomass_per_ha(q: &str) -> Vec<f64> {
    let p = patterns();
    per_ha(q, &p.biomass_per_ha, &p.biomass_per_ha_zh)
}

/// "over 30 years", "après 35 ans", "nach 20 Jahren", "35年后".
fn years(q: &str) -> Option<u32> {
    let p = patterns();
    p.years
        .captures(q)
        .or_else(|| p.years_zh.captures(q))
        .and_then(|c| value(&c))
        .filter(|v| *v >= 1.0 && v.fract() == 0.0)
        .map(|v| v.min(1e6) as u32)
}

fn area(m: &Mentions) -> Option<f64> {
    m.first(Unit::Hectare)
        .or(m.first(Unit::SquareKilometre).map(|km2| km2 * 100.0))
}

fn unplannable(reason: impl Into<String>) -> PlanningError {
    PlanningError::new(reason)
}

/// "… needs A; B; C." in the question's language, each missing number a template key.
fn needs(lang: Lang, head: &str, missing: &[&str]) -> PlanningError {
    let items: Vec<String> = missing.iter().map(|k| say(lang, k, &[])).collect();
    let sep = if lang == Lang::Zh { "；" } else { "; " };
    unplannable(say(lang, head, &[("missing", &items.join(sep))]))
}

/// The first of `classes` whose words appear in `norm`, each with where it first appears; the
/// question's own words come before the English glosses appended to `norm`, so the order is the
/// question's.
fn found<'a>(norm: &str, classes: &[(&'a str, &[&str])]) -> Vec<(usize, &'a str)> {
    let mut hits: Vec<(usize, &str)> = classes
        .iter()
        .filter_map(|(class, words)| {
            words
                .iter()
                .filter_map(|w| {
                    let w = if w.is_ascii() {
                        format!(" {w}")
                    } else {
                        w.to_string()
                    };
                    norm.find(&w)
                })
                .min()
                .map(|at| (at, *class))
        })
        .collect();
    hits.sort();
    hits
}

/// Table 5.5's land-use levels: grassland, forest and native vegetation sit at the reference
/// stock (F_LU = 1, as Tier 1 takes them); cropland is "long-term cultivated".
const LAND_USES: &[(&str, &[&str])] = &[
    (
        "native",
        &[
            "grassland",
            "pasture",
            "native",
            "forest",
            "woodland",
            "rainforest",
            "savanna",
            "prairie",
            "wiese",
            "weide",
            "grunland",
            "wald",
            "foret",
            "pastizal",
            "pastos",
            "pradera",
            "bosque",
            "selva",
            "草地",
            "草原",
            "森林",
            "牧场",
        ],
    ),
    (
        "long-term cultivated",
        &[
            "cropland",
            "arable",
            "crop",
            "cultivat",
            "farmland",
            "terres cultivees",
            "culture",
            "terres arables",
            "acker",
            "cultivo",
            "tierras de cultivo",
            "农田",
            "耕地",
        ],
    ),
];

const TILLAGE: &[(&str, &[&str])] = &[
    (
        "no-till",
        &[
            "no till",
            "no tillage",
            "zero till",
            "semis direct",
            "direktsaat",
            "siembra directa",
            "labranza cero",
            "免耕",
        ],
    ),
    (
        "reduced tillage",
        &[
            "reduced till",
            "minimum till",
            "min till",
            "travail reduit",
            "reduzierte bodenbearbeitung",
            "labranza reducida",
            "少耕",
        ],
    ),
    (
        "full tillage",
        &[
            "full till",
            "conventional till",
            "intensive till",
            "labour",
            "pflug",
            "labranza convencional",
            "翻耕",
        ],
    ),
];

const INPUTS: &[(&str, &[&str])] = &[
    (
        "high with manure",
        &["manure", "fumier", "mist ", "gulle", "estiercol", "粪肥"],
    ),
    (
        "high without manure",
        &[
            "high input",
            "fort intrant",
            "hoher eintrag",
            "alto insumo",
            "高投入",
        ],
    ),
    (
        "low",
        &[
            "low input",
            "faible intrant",
            "niedriger eintrag",
            "bajo insumo",
            "低投入",
        ],
    ),
];

/// Table 5.5's climates from the question's words.
fn climate(norm: &str) -> Option<&'static str> {
    let has = |ws: &[&str]| ws.iter().any(|w| norm.contains(&format!(" {w}")));
    let moist = has(&["moist", "wet", "humid"]);
    let dry = has(&["dry", "arid", "semi arid"]);
    if has(&["tropical"]) {
        if has(&["montane", "mountain"]) {
            Some("tropical montane")
        } else if dry {
            Some("tropical dry")
        } else if moist || has(&["rainforest"]) {
            Some("tropical moist")
        } else {
            None
        }
    } else if has(&["temperate", "boreal"]) {
        if dry {
            Some("temperate/boreal dry")
        } else if moist {
            Some("temperate/boreal moist")
        } else {
            None
        }
    } else {
        None
    }
}

/// Before and after from the levels found in order: two found are before and after; one found
/// is where the land ends up, from the reference level `reference`.
fn before_after(hits: &[(usize, &'static str)], reference: &'static str) -> (&'static str, &'static str) {
    match hits {
        [] => (reference, reference),
        [(_, one)] => (reference, one),
        [(_, a), (_, b), ..] => (a, b),
    }
}

/// A soil question: area, climate, the reference stock, and the land use, tillage and input
/// before and after.
pub fn soil(q: &str, m: &Mentions) -> Result<(Task, String), PlanningError> {
    let norm = m.norm.as_str();
    let area = area(m);
    let climate = climate(norm);
    let soc_ref = carbon_per_ha(q).first().copied();
    let land = found(norm, LAND_USES);
    let tillage = found(norm, TILLAGE);
    let inputs = found(norm, INPUTS);
    let mut missing = Vec::new();
    if area.is_none() {
        missing.push("need_area");
    }
    if climate.is_none() {
        missing.push("need_climate");
    }
    if soc_ref.is_none() {
        missing.push("need_soc_ref");
    }
    if land.is_empty() && tillage.is_empty() && inputs.is_empty() {
        missing.push("need_change");
    }
    if !missing.is_empty() {
        return Err(needs(m.lang, "land_soil_needs", &missing));
    }
    let (area, climate, soc_ref) = (
        area.unwrap_or_default(),
        climate.unwrap_or_default(),
        soc_ref.unwrap_or_default(),
    );
    check_area(area)?;
    // A tillage or input change alone happens on cropland.
    let (lu_before, lu_after) = if land.is_empty() {
        ("long-term cultivated", "long-term cultivated")
    } else if land.len() == 1 && !(tillage.is_empty() && inputs.is_empty()) {
        (land[0].1, land[0].1)
    } else {
        before_after(&land, "native")
    };
    let (mg_before, mg_after) = before_after(&tillage, "full tillage");
    let (i_before, i_after) = before_after(&inputs, "medium");
    for (factor, level) in [
        ("F_LU", lu_before),
        ("F_LU", lu_after),
        ("F_MG", mg_before),
        ("F_MG", mg_after),
        ("F_I", i_before),
        ("F_I", i_after),
    ] {
        if cb_sinks::defaults::soil_factor(factor, level, climate).is_err() {
            return Err(unplannable(format!(
                "No confirmed IPCC factor {factor} for {level:?} in a {climate} climate is bundled (only the \
                 confirmed rows of Table 5.5 are). Give the factor with `cbutler sinks soil --area-ha {area} \
                 --soc-ref {soc_ref} --climate \"{climate}\" --after \"F_LU,F_MG,F_I\"` (each a level or a number)."
            )));
        }
    }
    let years = years(q).unwrap_or(20);
    if !(1..=1000).contains(&years) {
        return Err(unplannable(format!(
            "A soil account runs 1 to 1,000 years; the question asks for {years}."
        )));
    }
    let management = |lu: &str, mg: &str, i: &str| SoilManagement {
        land_use: lu.into(),
        tillage: mg.into(),
        input: i.into(),
    };
    let t = |w: &str| cb_protocol::text::term(m.lang.code(), w).unwrap_or_else(|| w.to_string());
    let described = say(
        m.lang,
        "plan_soil",
        &[
            ("area", &area.to_string()),
            ("climate", &t(climate)),
            ("soc_ref", &soc_ref.to_string()),
            (
                "before",
                &format!("{}, {}, {}", t(lu_before), t(mg_before), t(i_before)),
            ),
            (
                "after",
                &format!("{}, {}, {}", t(lu_after), t(mg_after), t(i_after)),
            ),
            ("years", &years.to_string()),
        ],
    );
    let task = Task::new(
        "soil-carbon",
        TaskSpec::Sinks(SinksTask::Soil {
            area_ha: area,
            climate: climate.into(),
            soc_ref_t_c_per_ha: soc_ref,
            before: management(lu_before, mg_before, i_before),
            after: management(lu_after, mg_after, i_after),
            transition_years: 20,
            years,
        }),
    );
    Ok((task, described))
}

fn check_area(area: f64) -> Result<(), PlanningError> {
    if area > 0.0 && area <= MAX_LAND_HA {
        Ok(())
    } else {
        Err(unplannable(format!(
            "An area of {area} ha cannot be accounted: give more than 0 and at most 15,000,000,000 ha."
        )))
    }
}

/// Land cleared or converted: the biomass before (and after, if given) per hectare, and the soil
/// carbon before and after when both are given.
pub fn land_use_change(q: &str, m: &Mentions) -> Result<(Task, String), PlanningError> {
    let area = area(m);
    let biomass = biomass_per_ha(q);
    let soil = carbon_per_ha(q);
    let mut missing = Vec::new();
    if area.is_none() {
        missing.push("need_area");
    }
    if biomass.is_empty() {
        missing.push("need_biomass");
    }
    if !missing.is_empty() {
        return Err(needs(m.lang, "land_luc_needs", &missing));
    }
    if soil.len() == 1 {
        return Err(unplannable(
            "The question gives one soil carbon stock: give it before and after (e.g. \"soil carbon from 80 to 55 t \
             C/ha\"), or leave soil out.",
        ));
    }
    let area = area.unwrap_or_default();
    check_area(area)?;
    let before = biomass[0];
    let after = biomass.get(1).copied().unwrap_or(0.0);
    for b in [before, after] {
        if !(0.0..=5000.0).contains(&b) {
            return Err(unplannable(format!(
                "A biomass of {b} t d.m./ha is outside 0 to 5,000 t d.m./ha."
            )));
        }
    }
    let soc = (soil.len() >= 2).then(|| (soil[0], soil[1]));
    let years = years(q).unwrap_or(1);
    if !(1..=1000).contains(&years) {
        return Err(unplannable(format!(
            "A land-use account runs 1 to 1,000 years; the question asks for {years}."
        )));
    }
    let soil = match soc {
        Some((b, a)) => say(
            m.lang,
            "plan_luc_soil",
            &[("before", &b.to_string()), ("after", &a.to_string())],
        ),
        None => say(m.lang, "plan_luc_no_soil", &[]),
    };
    let described = say(
        m.lang,
        if biomass.len() < 2 {
            "plan_luc_cleared"
        } else {
            "plan_luc"
        },
        &[
            ("area", &area.to_string()),
            ("before", &before.to_string()),
            ("after", &after.to_string()),
            ("soil", &soil),
            ("years", &years.to_string()),
        ],
    );
    let task = Task::new(
        "land-use-change",
        TaskSpec::Sinks(SinksTask::LandUseChange {
            area_ha: area,
            biomass_before_t_dm_per_ha: before,
            biomass_after_t_dm_per_ha: after,
            carbon_fraction: None,
            soc_before_t_c_per_ha: soc.map(|s| s.0),
            soc_after_t_c_per_ha: soc.map(|s| s.1),
            years,
        }),
    );
    Ok((task, described))
}

const WOOD: &[(&str, &[&str])] = &[
    (
        "sawnwood",
        &[
            "sawnwood",
            "sawn wood",
            "lumber",
            "timber",
            "sciage",
            "bois scie",
            "schnittholz",
            "madera aserrada",
            "锯材",
        ],
    ),
    (
        "wood panels",
        &[
            "panel",
            "plywood",
            "particle board",
            "particleboard",
            "osb",
            "fibreboard",
            "fiberboard",
            "panneau",
            "holzwerkstoff",
            "spanplatte",
            "tablero",
            "人造板",
            "胶合板",
        ],
    ),
    ("paper", &["paper", "paperboard", "papier", "papel", "纸"]),
];

/// Carbon entering a harvested wood product pool: the product, its carbon (t C, t CO2, or m³ with
/// its carbon per m³), and the years after which the stock is asked.
pub fn wood_products(q: &str, m: &Mentions) -> Result<(Task, String), PlanningError> {
    let p = patterns();
    let products = found(&m.norm, WOOD);
    let per_m3 = p.carbon_per_m3.captures(q).and_then(|c| value(&c));
    let volume = p.volume.captures(q).and_then(|c| value(&c));
    let inflow = match (volume, per_m3) {
        (Some(v), Some(f)) => Some(v * f),
        _ => p
            .carbon
            .captures_iter(q)
            .find(|c| {
                let end = c.get(0).map_or(0, |g| g.end());
                !q[end..].trim_start().starts_with(['/', 'p'])
            })
            .and_then(|c| value(&c))
            .or_else(|| {
                p.co2
                    .captures(q)
                    .and_then(|c| value(&c))
                    .map(|co2| co2 * 12.0 / 44.0)
            }),
    };
    let years = years(q);
    let mut missing = Vec::new();
    if products.len() != 1 {
        missing.push("need_wood_product");
    }
    if inflow.is_none() {
        missing.push(if volume.is_some() {
            "need_wood_carbon_volume"
        } else {
            "need_wood_carbon"
        });
    }
    if years.is_none() {
        missing.push("need_years");
    }
    if !missing.is_empty() {
        return Err(needs(m.lang, "land_hwp_needs", &missing));
    }
    let (product, inflow, years) = (products[0].1, inflow.unwrap_or_default(), years.unwrap_or(1));
    if !(inflow > 0.0 && inflow <= 1e12) {
        return Err(unplannable(format!(
            "An inflow of {inflow} t C is outside 0 to 1e12 t C."
        )));
    }
    if !(1..=1000).contains(&years) {
        return Err(unplannable(format!(
            "A wood product pool is followed 1 to 1,000 years; the question asks for {years}."
        )));
    }
    let half_life = p
        .half_life
        .captures(q)
        .and_then(|c| value(&c))
        .filter(|h| *h > 0.0 && *h <= 1000.0);
    let product_name = cb_protocol::text::term(m.lang.code(), product).unwrap_or_else(|| product.to_string());
    let described = match half_life {
        Some(h) => say(
            m.lang,
            "plan_hwp_given",
            &[
                ("inflow", &inflow.to_string()),
                ("product", &product_name),
                ("years", &years.to_string()),
                ("half_life", &h.to_string()),
            ],
        ),
        None => say(
            m.lang,
            "plan_hwp",
            &[
                ("inflow", &inflow.to_string()),
                ("product", &product_name),
                ("years", &years.to_string()),
            ],
        ),
    };
    let task = Task::new(
        "wood-products",
        TaskSpec::Sinks(SinksTask::WoodProducts {
            inflow_t_c: inflow,
            product: product.into(),
            half_life_years: half_life,
            years,
        }),
    );
    Ok((task, described))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_land_questions_in_five_languages() {
        assert_eq!(carbon_per_ha("a reference soil carbon of 80 t C/ha"), vec![80.0]);
        assert_eq!(carbon_per_ha("soil carbon from 80 to 55 t C/ha"), vec![55.0]);
        assert_eq!(
            carbon_per_ha("SOC 60 t C per hectare and 45,5 t de carbone par ha"),
            vec![60.0, 45.5]
        );
        assert_eq!(carbon_per_ha("每公顷80吨碳"), vec![80.0]);
        assert_eq!(
            biomass_per_ha("holding 300 t of dry matter per hectare"),
            vec![300.0]
        );
        assert_eq!(biomass_per_ha("mit 250 t Trockenmasse je ha"), vec![250.0]);
        assert_eq!(biomass_per_ha("每公顷300吨干物质"), vec![300.0]);
        assert_eq!(years("what is left after 35 years?"), Some(35));
        assert_eq!(years("après 35 ans"), Some(35));
        assert_eq!(years("nach 20 Jahren"), Some(20));
        assert_eq!(years("35年后还剩多少"), Some(35));
        assert_eq!(years("in 2030"), None);
    }

    #[test]
    fn land_uses_keep_the_question_s_order() {
        let norm = crate::mentions::read("100 ha of cropland converted to grassland").norm;
        let hits = found(&norm, LAND_USES);
        assert_eq!(before_after(&hits, "native"), ("long-term cultivated", "native"));
        let norm = crate::mentions::read("把100公顷草地改为农田").norm;
        assert_eq!(
            before_after(&found(&norm, LAND_USES), "native"),
            ("native", "long-term cultivated")
        );
        assert_eq!(climate(" temperate moist "), Some("temperate/boreal moist"));
        assert_eq!(climate(" tropical "), None);
    }
}
