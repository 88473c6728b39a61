//! Answerable questions offered with a refusal, built from the user's own words: the same place,
//! good, amount, year, plant or forest, asked the way the rule planner answers. Each one is
//! planned in the tests (the corpus test and `refusals_offer_questions_built_from_the_users_words`),
//! so a refusal never points to another dead end. National and CBAM questions are offered in the
//! question's language (`data/answer-templates.csv`); the others in English for now.

use crate::mentions::{Lang, Mentions, RouteMention, Unit};
use crate::places::Mention as PlaceMention;
use crate::templates::{place, say};

/// An amount written the way `lang` groups thousands, so the rules read it back: "10,000",
/// "10 000" (French), "10.000" (German, Spanish), "10000" (Chinese).
fn amount_in(lang: Lang, v: f64) -> String {
    let en = amount(v);
    match lang {
        Lang::Fr if v.fract() == 0.0 => en.replace(',', " "),
        Lang::De | Lang::Es if v.fract() == 0.0 => en.replace(',', "."),
        Lang::Zh => en.replace(',', ""),
        _ => en,
    }
}

/// A number as the rules read it back: whole numbers with thousands commas ("10,000").
pub fn amount(v: f64) -> String {
    if v.fract() != 0.0 || v.abs() >= 1e15 {
        return format!("{v}");
    }
    let digits = format!("{}", v.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A country's national accounts, the question the bundled Global Carbon Budget answers for
/// every place it knows.
pub fn national(lang: Lang, p: &PlaceMention, year: Option<i32>) -> String {
    let name = place(lang, &p.place.key, &p.place.name);
    match year {
        Some(y) => say(
            lang,
            "ask_national_year",
            &[("name", &name), ("year", &y.to_string())],
        ),
        None => say(lang, "ask_national", &[("name", &name)]),
    }
}

/// Example goods for a CBAM question that names a family ("steel", "fertiliser") but no good the
/// tables price: the family's commonest goods, with their CN codes.
fn goods_of_family(norm: &str) -> Vec<&'static str> {
    let has = |w: &str| norm.contains(w);
    if has(" steel") || has(" iron") || has("钢") || has(" acier") || has(" stahl") || has(" acero") {
        vec!["hot-rolled coil (CN 7208)", "rebar (CN 7214)"]
    } else if has(" fertili")
        || has(" nitrogen")
        || has("化肥")
        || has(" engrais")
        || has(" dunger")
        || has(" fertilizante")
    {
        vec!["urea (CN 31021019)", "ammonia (CN 28141000)"]
    } else {
        vec!["hot-rolled coil (CN 7208)", "cement (CN 25232900)"]
    }
}

/// The CBAM cost of the question's good (or the goods of its family) from its origin, in its
/// amount and year, or the defaults `ask` states (1,000 t, 2026).
pub fn cbam(m: &Mentions, origin: &str, cn_code: Option<&str>, year: Option<i32>) -> Vec<String> {
    let lang = m.lang;
    let goods: Vec<String> = match cn_code {
        Some(cn) => vec![format!("CN {cn}")],
        // Outside English the code alone names the good: "CN 7208" reads the same everywhere.
        None if lang != Lang::En => goods_of_family(&m.norm)
            .into_iter()
            .filter_map(|g| {
                g.split_once("(CN ")
                    .map(|(_, c)| format!("CN {}", c.trim_end_matches(')')))
            })
            .collect(),
        None => goods_of_family(&m.norm).into_iter().map(String::from).collect(),
    };
    goods.iter().map(|g| cbam_ask(m, origin, g, year)).collect()
}

/// One CBAM question: the tonnes the question gave (1,000 t if none), the good, the origin and
/// the year (2026 if none).
fn cbam_ask(m: &Mentions, origin: &str, good: &str, year: Option<i32>) -> String {
    let lang = m.lang;
    let tonnes = amount_in(
        lang,
        m.first(Unit::Tonne)
            .filter(|t| *t > 0.0 && *t <= 1e9)
            .unwrap_or(1000.0),
    );
    let year = year.unwrap_or(2026).to_string();
    let origin = crate::places::Gazetteer::get()
        .resolve(origin)
        .map_or(origin.to_string(), |p| place(lang, &p.key, &p.name));
    say(
        lang,
        "ask_cbam",
        &[
            ("tonnes", &tonnes),
            ("good", good),
            ("origin", &origin),
            ("year", &year),
        ],
    )
}

/// The CBAM question again for a good of a code that grey and white goods share, once for each.
pub fn cbam_shades(m: &Mentions, origin: &str, cn_code: &str, year: Option<i32>) -> Vec<String> {
    let code = format!("CN {cn_code}");
    ["good_grey", "good_white"]
        .iter()
        .map(|key| say(m.lang, key, &[("good", &code)]))
        .map(|good| cbam_ask(m, origin, &good, year))
        .collect()
}

/// The bundled plant a route names, as a noun phrase a plant question uses.
pub fn plant_phrase(route: &RouteMention) -> &'static str {
    match route.route {
        "BF-BOF" => "a blast furnace (BF-BOF) steel plant",
        "H2-DRI-EAF" => "a hydrogen DRI-EAF steel plant",
        "DRI-EAF" => "a gas DRI-EAF steel plant",
        "scrap EAF" => "a scrap EAF steel plant",
        "SMR" => "an SMR ammonia plant",
        "electrolysis" => "a green ammonia plant",
        _ => "a cement plant with carbon capture",
    }
}

/// A bundled plant (its id in `cb_factory::bundled`) as a noun phrase a plant question uses.
pub fn bundled_plant_phrase(id: &str) -> &'static str {
    match id {
        "bf-bof" => "a blast furnace (BF-BOF) steel plant",
        "h2-dri-eaf" => "a hydrogen DRI-EAF steel plant",
        "gas-dri-eaf" => "a gas DRI-EAF steel plant",
        "scrap-eaf" => "a scrap EAF steel plant",
        "cement-ccs" => "a cement plant with carbon capture",
        "ammonia-smr" => "an SMR ammonia plant",
        "ammonia-smr-ccs" => "an SMR ammonia plant with carbon capture",
        "ammonia-electrolysis" => "a green ammonia plant",
        _ => "a cement plant",
    }
}

/// How a bundled plant runs at a carbon price.
pub fn plant_operation(plant: &str) -> String {
    format!("How should {plant} operate next week at 80 EUR/t CO2?")
}

/// A bundled plant's abatement measures, cheapest first.
pub fn plant_measures(plant: &str) -> String {
    format!("What are the least-cost measures to cut emissions of {plant}?")
}

/// A forest's carbon balance with the question's area (or 1,000 ha), zone and continent where
/// named, else with each of the two ways the rules accept: a zone and continent, or a growth.
pub fn forest(
    area_ha: Option<f64>,
    zone: Option<&str>,
    continent: Option<&str>,
    root_shoot: f64,
) -> Vec<String> {
    let area = amount(area_ha.filter(|a| *a > 0.0 && a.is_finite()).unwrap_or(1000.0));
    let forest = |z: &str| {
        if z.contains("forest") || z.contains("system") {
            z.to_string()
        } else {
            format!("{z} forest")
        }
    };
    match (zone, continent) {
        (Some(z), Some(c)) => vec![format!(
            "How much CO2 does {area} ha of {} in {c} with a root-to-shoot ratio of {root_shoot} remove each year?",
            forest(z)
        )],
        // A zone without a continent, or the reverse: the one pair whose default growth is
        // surely bundled, and the growth the user can give instead.
        _ => vec![
            format!(
                "How much CO2 does {area} ha of tropical rainforest in Africa with a root-to-shoot ratio of \
                 {root_shoot} remove each year?"
            ),
            format!(
                "How much CO2 does {area} ha of forest growing 5 t of dry matter per hectare per year with a \
                 root-to-shoot ratio of {root_shoot} remove?"
            ),
        ],
    }
}

/// The question's product from the bundled US inventory.
pub fn product(amount_text: &str, unit: &str, product: &str) -> String {
    if unit.is_empty() {
        format!("What is the carbon footprint of {amount_text} of {product} in USLCI?")
    } else {
        format!("What is the carbon footprint of {amount_text} {unit} of {product} in USLCI?")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_back_as_the_rules_parse_them() {
        assert_eq!(amount(1000.0), "1,000");
        assert_eq!(amount(25_000_000.0), "25,000,000");
        assert_eq!(amount(12.5), "12.5");
        assert_eq!(amount(999.0), "999");
    }
}
