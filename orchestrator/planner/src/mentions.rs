//! The first pass over a question: typed, located mentions that the rules then plan from.
//!
//! A mention is something the question names that a plan must either use or refuse over: a
//! place, a year or a range of years, a plant route, a percentage. Routes, units and CN codes
//! are read first and masked, so that "BF-BOF" is never Burkina Faso, "10 MT" never Malta and
//! "CN 7208" never China. Cue phrases in Chinese, French, German and Spanish come from
//! `data/planner-cues.csv` and are glossed into the English words the rules read, so a new
//! phrasing or language is a data change.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use crate::goods::GoodMention;
use crate::places::{Gazetteer, Mention as PlaceMention, is_cjk, normalise};

const CUES_CSV: &str = include_str!("../../../data/planner-cues.csv");

/// The language a question is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    En,
    Zh,
    Fr,
    De,
    Es,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Es => "es",
        }
    }

    fn from_code(code: &str) -> Option<Lang> {
        Some(match code {
            "en" => Lang::En,
            "zh" => Lang::Zh,
            "fr" => Lang::Fr,
            "de" => Lang::De,
            "es" => Lang::Es,
            _ => return None,
        })
    }
}

/// Years a question spans: "between 2010 and 2020", "2015–2022", "since 2005" (`to: None`,
/// up to the latest year with data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearRange {
    pub from: i32,
    pub to: Option<i32>,
}

/// A production route named in a question ("BF-BOF", "scrap EAF", "SMR with CCS").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMention {
    /// The route as the field writes it.
    pub route: &'static str,
    /// The words as the question wrote them.
    pub text: String,
}

/// The units a quantity can carry, as the rules use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Tonne,
    Hectare,
    SquareKilometre,
}

/// An amount with its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantityMention {
    pub value: f64,
    pub unit: Unit,
}

impl Mentions {
    /// The first amount given in `unit`.
    pub fn first(&self, unit: Unit) -> Option<f64> {
        self.quantities.iter().find(|q| q.unit == unit).map(|q| q.value)
    }
}

/// Everything the first pass found.
#[derive(Debug, Clone)]
pub struct Mentions {
    pub lang: Lang,
    /// Places in the order they appear, each once (routes, units and CN codes masked first).
    pub places: Vec<PlaceMention>,
    /// Every year written (1750–2100), in order.
    pub years: Vec<i32>,
    /// A range of years, when the question asks over one.
    pub range: Option<YearRange>,
    pub routes: Vec<RouteMention>,
    /// Percentages ("40 %", "40 percent", "40 pour cent").
    pub percents: Vec<f64>,
    /// Amounts with a unit, in the question's order ("10,000 t", "10 000 t", "10.000 t",
    /// "1万公顷", "5 000 hectares").
    pub quantities: Vec<QuantityMention>,
    /// CBAM goods named in words, in any of the five languages ("urea", "热轧卷", "Harnstoff").
    pub goods: Vec<GoodMention>,
    /// The question masked for place and region search: routes, units after a number and
    /// "CN" before a code turned into zeros (lengths kept, so offsets agree).
    pub masked: String,
    /// The normalised question followed by the English glosses of its cue phrases.
    pub norm: String,
}

struct Cue {
    lang: Lang,
    /// Normalised; with surrounding spaces except in Chinese.
    phrase: String,
    gloss: String,
}

/// The cue phrases of `data/planner-cues.csv`; a malformed row is a build-time mistake that the
/// tests catch (`cues_are_well_formed`).
fn cues() -> &'static [Cue] {
    static CUES: OnceLock<Vec<Cue>> = OnceLock::new();
    CUES.get_or_init(|| {
        let mut rdr = csv::Reader::from_reader(CUES_CSV.as_bytes());
        rdr.records()
            .flatten()
            .filter_map(|rec| {
                let lang = Lang::from_code(&rec[0])?;
                let phrase = normalise(&rec[1]);
                let phrase = if is_cjk(&rec[1]) {
                    phrase.trim().to_string()
                } else {
                    phrase
                };
                Some(Cue {
                    lang,
                    phrase,
                    gloss: rec[2].to_string(),
                })
            })
            .collect()
    })
}

/// The English glosses of every cue phrase, by language (English itself excluded): what the
/// frames' cues can be reached by from each language.
pub fn glosses_by_lang() -> std::collections::BTreeMap<Lang, Vec<String>> {
    let mut by = std::collections::BTreeMap::new();
    for lang in [Lang::Zh, Lang::Fr, Lang::De, Lang::Es] {
        by.insert(lang, Vec::new());
    }
    for cue in cues() {
        if let Some(g) = by.get_mut(&cue.lang) {
            g.push(cue.gloss.clone());
        }
    }
    by
}

const ROUTES: &[(&str, &str)] = &[
    (
        concat!(
            r"(?i)\b(?:bf[-\s]?bof|blast[-\s]furnaces?(?:[-\s/]+basic[-\s]oxygen(?:[-\s]furnaces?)?)?",
            r"|hauts?[-\s]fourneaux?|hochofen\w*|altos?[-\s]hornos?)\b|高炉",
        ),
        "BF-BOF",
    ),
    (
        concat!(
            r"(?i)\b(?:h2[-\s]?dri(?:[-\s]?eaf)?|hydrogen[-\s](?:based[-\s])?(?:dri|direct[-\s]reduc\w*)(?:[-\s]?eaf)?",
            r"|wasserstoff[-\s]dri\w*)\b|氢基?直接还原",
        ),
        "H2-DRI-EAF",
    ),
    (
        concat!(
            r"(?i)\b(?:(?:gas|ng)[-\s]?(?:based[-\s])?)?(?:dri|direct[-\s]reduc\w*)(?:[-\s]?eaf)?\b",
            r"|\b(?:réduction[-\s]directe|direktreduktion|reducción[-\s]directa)\b|直接还原",
        ),
        "DRI-EAF",
    ),
    (
        concat!(
            r"(?i)\b(?:scrap[-\s](?:based[-\s])?eaf|eaf|electric[-\s]arc[-\s]furnaces?|fours?[-\s]à[-\s]arc(?:[-\s]électrique)?",
            r"|aciéries?[-\s]électriques?|lichtbogenofen\w*|elektrostahl\w*|hornos?[-\s](?:de[-\s]arco[-\s])?eléctricos?)\b|电弧炉",
        ),
        "scrap EAF",
    ),
    (
        r"(?i)\b(?:smr|steam[-\s]methane[-\s]reform\w*|vaporeformage|dampfreformierung|reformado[-\s]con[-\s]vapor)\b|蒸汽甲烷重整",
        "SMR",
    ),
    (
        r"(?i)\belectroly[sz]\w*|\bélectrolyse\w*|\belektrolyse\w*|\belectrólisis\b|电解水",
        "electrolysis",
    ),
    (
        concat!(
            r"(?i)\b(?:ccs|ccus|carbon[-\s]capture|captage[-\s]du[-\s](?:carbone|co2)|co2[-\s]abscheidung",
            r"|captura[-\s]de[-\s](?:carbono|co2))\b|碳捕集",
        ),
        "carbon capture",
    ),
];

struct Patterns {
    routes: Vec<(Regex, &'static str)>,
    units: Regex,
    cn: Regex,
    year: Regex,
    range: Regex,
    since: Regex,
    percent: Regex,
    quantity: Regex,
    number: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("a planner pattern compiles");
        Patterns {
            routes: ROUTES.iter().map(|(p, r)| (re(p), *r)).collect(),
            // Units after a number that are also ISO codes: MT (Malta), GT, KG, TJ, PT, …
            // A unit after a number, or after "per" ("300 t CO2e per MW" is not Malawi, "per
            // kW" not Kuwait).
            units: re(concat!(
                r"\d\s*((?i:mt|gt|kt|kg|tj|pj|gj|mj|pt|km|ha|mw|gw|tw)[a-zA-Z]*)\b",
                r"|(?i:\bper|\bpar|\bpro|\bpor|/|每)\s*((?i:mw|gw|kw|tw)(?i:h|p|e|el|th)?)\b"
            )),
            cn: re(r"\b(CN|KN|NC)\s*(?:code\s*)?\d{4,10}\b"),
            year: re(r"\d+"),
            range: re(concat!(
                r"(?i)((?:17[5-9]\d|1[89]\d\d|20\d\d|2100))\s*年?\s*",
                r"(?:-|–|—|to|and|until|till|through|à|a|au|et|und|bis|y|hasta|al|至|到|~)\s*",
                r"((?:17[5-9]\d|1[89]\d\d|20\d\d|2100))"
            )),
            since: re(concat!(
                r"(?i)(?:since|from|depuis|seit|desde|自|从)\s*((?:17[5-9]\d|1[89]\d\d|20\d\d))\b",
                r"|((?:17[5-9]\d|1[89]\d\d|20\d\d))\s*年?\s*(?:以来|onwards|onward)"
            )),
            // A number (thousands grouped by ",", ".", a space or a thin space; a decimal "." or
            // ","), an optional Chinese 万 (10^4) or 亿 (10^8), then the unit.
            quantity: re(concat!(
                r"(?i)([-−]\s?)?(\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)\s*(万|亿)?[\s-]*",
                // A Latin unit ends its word; Chinese writes the next word straight after.
                r"((?:kt|mt|mio\.?\s*t|millions?\s+de\s+tonnes|millones\s+de\s+toneladas|tonnes?|tons?|toneladas?",
                r"|tonnen|t|hectares?|hect[aá]reas?|hektar|ha|km2|km²)(?:[^\p{L}\p{N}/]|$)|百万吨|千吨|吨|公顷|平方公里)"
            )),
            percent: re(r"(?i)(\d+(?:[.,]\d+)?)\s*(?:%|％|percent\b|per\s+cent\b|pour\s+cent\b|prozent\b|por\s+ciento\b)"),
            number: re(concat!(
                r"(?i)([-−]\s?)?(\d{1,3}(?:[,.\x{a0}\x{202f} ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)",
                r"(?:\s*(?:\^|\*\*)\s*(\d+))?",
                r"(?:\s*(万|亿|mil\s+millones|billions?\b|milliards?\b|milliarden?\b|millions?\b|millionen\b|millones\b|millón\b|mio\b))?"
            )),
        }
    })
}

/// A number as written in any of the five languages: "10,000" and "10.000" and "10 000" group
/// thousands; "1.9" and "1,9" are decimals (a separator followed by exactly three digits groups
/// thousands).
pub fn parse_number(text: &str) -> Option<f64> {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let groups: Vec<&str> = t.split([',', '.']).collect();
    let cleaned = if groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3) {
        groups.concat()
    } else if groups.len() == 2 {
        format!("{}.{}", groups[0], groups[1])
    } else if groups.len() > 2 {
        // "1,000,000.5" or "1.000.000,5": the last separator is the decimal one.
        let (int, frac) = groups.split_at(groups.len() - 1);
        format!("{}.{}", int.concat(), frac[0])
    } else {
        t
    };
    cleaned.parse().ok()
}

/// The number of a quantity or number match (group 1 its sign, group 2 its digits): negative
/// only where a minus stands right before it and not after a word or number ("2015-2022" is a
/// range, "-500 ha" is negative); infinite after "^" or "e" ("10^30 t" is absurd, not 30 t).
fn signed(c: &regex::Captures, question: &str) -> Option<f64> {
    let digits = c.get(2)?;
    let before = question[..c.get(0)?.start()].chars().next_back();
    if before.is_some_and(|b| b == '^' || b == '*') {
        return Some(f64::INFINITY);
    }
    let value = parse_number(digits.as_str())?;
    let minus = c.get(1).is_some() && !before.is_some_and(|b| b.is_alphanumeric());
    Some(if minus { -value } else { value })
}

/// Every number the question writes, read the way its language writes it, with "^N" powers
/// and word multipliers (万, 亿, million, billion, milliard, Milliarde, millones) applied and a
/// leading minus kept: what sample counts, amounts and bounds are read from.
pub fn numbers(question: &str) -> Vec<f64> {
    patterns()
        .number
        .captures_iter(question)
        .filter_map(|c| {
            let mut v = signed(&c, question)?;
            if let Some(p) = c.get(3) {
                v = v.powi(p.as_str().parse::<i32>().ok()?.min(400));
            }
            let word = c.get(4).map(|m| m.as_str().to_lowercase()).unwrap_or_default();
            let times = match word.as_str() {
                "" => 1.0,
                "万" => 1e4,
                "亿" => 1e8,
                w if w.starts_with("billion") || w.starts_with("milliard") || w.starts_with("mil ") => 1e9,
                _ => 1e6,
            };
            Some(v * times)
        })
        .collect()
}

/// Words after a number that make it a quantity, not a year ("2000 samples", "2000 t").
const QUANTITY_WORDS: &[&str] = &[
    "kg", "t", "tonnes", "tonne", "tons", "ton", "ha", "hectares", "m3", "m³", "kwh", "mwh", "gwh", "mj",
    "gj", "samples", "runs", "draws", "units", "items", "km", "l", "g", "eur", "€", "usd", "$", "h", "hours",
    "吨", "公顷",
];

/// Replaces the alphanumeric characters of `range` in `text` with '0' (ASCII spans only).
fn mask(text: &mut String, range: Range<usize>) {
    let masked: String = text[range.clone()]
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { '0' } else { c })
        .collect();
    text.replace_range(range, &masked);
}

/// Whether the words after a direct-reduction match name the iron it makes (the CBAM good).
fn names_the_iron(after: &str) -> bool {
    let next = after.trim_start_matches([' ', '-']).to_lowercase();
    ["iron", "铁", "eisen", "fer ", "hierro"]
        .iter()
        .any(|w| next.starts_with(w))
}

/// Reads a question's mentions.
pub fn read(question: &str) -> Mentions {
    let p = patterns();
    let mut masked = question.to_string();
    let mut routes: Vec<RouteMention> = Vec::new();
    let mut taken: Vec<Range<usize>> = Vec::new();
    for (re, route) in &p.routes {
        for m in re.find_iter(question) {
            if taken.iter().any(|t| t.start < m.end() && m.start() < t.end) {
                continue;
            }
            // "Direct reduced iron", "直接还原铁", "direkt reduziertes Eisen": the good of CN 7203,
            // which the CBAM goods name, not the production route.
            if *route == "DRI-EAF" && names_the_iron(&question[m.end()..]) {
                continue;
            }
            taken.push(m.range());
            if !routes.iter().any(|r| r.route == *route) {
                routes.push(RouteMention {
                    route,
                    text: m.as_str().to_string(),
                });
            }
        }
    }
    for r in &taken {
        mask(&mut masked, r.clone());
    }
    for c in p.units.captures_iter(question) {
        if let Some(u) = c.get(1).or_else(|| c.get(2)) {
            mask(&mut masked, u.range());
        }
    }
    for c in p.cn.captures_iter(question) {
        if let Some(u) = c.get(1) {
            mask(&mut masked, u.range());
        }
    }
    // A year is a run of four digits, not part of a number written with separators ("10,000").
    let years: Vec<i32> = p
        .year
        .find_iter(question)
        .filter(|m| {
            let before = question[..m.start()].chars().next_back();
            let after = question[m.end()..].chars().next();
            let rest = question[m.end()..].trim_start().to_lowercase();
            let unit = QUANTITY_WORDS
                .iter()
                .any(|u| rest.starts_with(u) && !rest[u.len()..].starts_with(|c: char| c.is_alphabetic()));
            m.len() == 4
                && !unit
                && !before.is_some_and(|c| c == '.' || c == ',')
                && !after.is_some_and(|c| {
                    (c == '.' || c == ',')
                        && question[m.end() + 1..].starts_with(|d: char| d.is_ascii_digit())
                })
        })
        .filter_map(|m| m.as_str().parse().ok())
        .filter(|y| (1750..=2100).contains(y))
        .collect();
    let range = p
        .range
        .captures(question)
        .and_then(|c| {
            let a: i32 = c.get(1)?.as_str().parse().ok()?;
            let b: i32 = c.get(2)?.as_str().parse().ok()?;
            (a != b).then(|| YearRange {
                from: a.min(b),
                to: Some(a.max(b)),
            })
        })
        .or_else(|| {
            p.since.captures(question).and_then(|c| {
                let y = c.get(1).or(c.get(2))?.as_str().parse().ok()?;
                Some(YearRange { from: y, to: None })
            })
        });
    let percents = p
        .percent
        .captures_iter(question)
        .filter(|c| {
            // "more than 4 % carbon", "> 45 % nitrogen": a good's composition, not a target.
            let rest = question[c.get(0).map_or(0, |m| m.end())..]
                .trim_start()
                .to_lowercase();
            let rest = rest
                .trim_start_matches("of ")
                .trim_start_matches("de ")
                .trim_start_matches("d'")
                .trim_start_matches("an ");
            ![
                "carbon",
                "nitrogen",
                "kohlenstoff",
                "stickstoff",
                "carbone",
                "azote",
                "carbono",
                "nitrógeno",
                "碳",
                "氮",
                "c ",
                "n ",
            ]
            .iter()
            .any(|w| rest.starts_with(w))
        })
        .filter_map(|c| c.get(1)?.as_str().replace(',', ".").parse().ok())
        .collect();
    let quantities = p
        .quantity
        .captures_iter(question)
        .filter_map(|c| {
            let value = signed(&c, question)?
                * match c.get(3).map(|m| m.as_str()) {
                    Some("万") => 1e4,
                    Some("亿") => 1e8,
                    _ => 1.0,
                };
            let unit = c
                .get(4)?
                .as_str()
                .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '²');
            let unit = unit.to_lowercase();
            // Kilotonnes and megatonnes are tonnes (kt, Mt, Mio. t, millions de tonnes, 百万吨).
            let scale = if unit == "kt" || unit == "千吨" {
                1e3
            } else if unit == "mt"
                || unit.starts_with("mio")
                || unit.starts_with("million")
                || unit.starts_with("millones")
                || unit == "百万吨"
            {
                1e6
            } else {
                1.0
            };
            let value = value * scale;
            let unit = if scale > 1.0 || unit.starts_with('t') || unit == "吨" {
                Unit::Tonne
            } else if unit.starts_with("km") || unit == "平方公里" {
                Unit::SquareKilometre
            } else {
                Unit::Hectare
            };
            Some(QuantityMention { value, unit })
        })
        .collect();
    let places = Gazetteer::get().find(&masked);
    let mut norm = normalise(question);
    let goods = crate::goods::find(&norm);
    let mut counts = [0usize; 5];
    let mut glosses = String::new();
    for cue in cues() {
        let hit = if cue.phrase.starts_with(' ') {
            norm.contains(&cue.phrase)
        } else {
            norm.contains(cue.phrase.as_str())
        };
        if hit {
            // A phrase written the same in English ("production") says nothing of the language.
            if cue.phrase.trim() != cue.gloss {
                counts[cue.lang as usize] += 1;
            }
            glosses.push_str(&cue.gloss);
            glosses.push(' ');
        }
    }
    norm.push_str(&glosses);
    let lang = if is_cjk(question) {
        Lang::Zh
    } else {
        [Lang::Fr, Lang::De, Lang::Es]
            .into_iter()
            .filter(|l| counts[*l as usize] > 0)
            .max_by_key(|l| counts[*l as usize])
            .unwrap_or(Lang::En)
    };
    Mentions {
        lang,
        places,
        years,
        range,
        routes,
        percents,
        quantities,
        goods,
        masked,
        norm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &Mentions) -> Vec<String> {
        m.places.iter().map(|p| p.place.key.clone()).collect()
    }

    #[test]
    fn cues_are_well_formed() {
        let mut rdr = csv::Reader::from_reader(CUES_CSV.as_bytes());
        let mut n = 0;
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap_or_else(|e| panic!("data/planner-cues.csv row {}: {e}", i + 2));
            assert!(
                Lang::from_code(&rec[0]).is_some(),
                "row {}: language {:?}",
                i + 2,
                &rec[0]
            );
            assert!(
                !rec[1].trim().is_empty() && !rec[2].trim().is_empty(),
                "row {}",
                i + 2
            );
            n += 1;
        }
        assert_eq!(cues().len(), n);
    }

    #[test]
    fn routes_units_and_cn_codes_are_never_places() {
        let m = read("Is the CBAM default for Brazilian steel above what a BF-BOF plant emits?");
        assert_eq!(keys(&m), ["BRA"]);
        assert_eq!(m.routes[0].route, "BF-BOF");
        let m = read("10 MT of HRC under CN 7208 from a scrap-EAF mill");
        assert!(keys(&m).is_empty(), "{:?}", keys(&m));
        assert_eq!(m.routes[0].route, "scrap EAF");
        let m = read("H2-DRI-EAF versus gas DRI and SMR with CCS");
        let routes: Vec<_> = m.routes.iter().map(|r| r.route).collect();
        assert_eq!(routes, ["H2-DRI-EAF", "DRI-EAF", "SMR", "carbon capture"]);
        // A unit after "per" is no place either (MW is Malawi's code, KW Kuwait's).
        let m = read("solar from China to Brazil, 900 MWh per MW, 300 t CO2e per MW, 5 EUR/kW");
        assert_eq!(keys(&m), ["CHN", "BRA"]);
        assert_eq!(keys(&read("exports from Malawi to Kuwait")), ["MWI", "KWT"]);
        assert_eq!(keys(&read("CHN/TWN trade per MWh")), ["CHN", "TWN"]);
    }

    #[test]
    fn years_and_ranges_in_five_languages() {
        for (q, from, to) in [
            ("China's emissions between 2010 and 2020", 2010, Some(2020)),
            ("China's emissions 2015–2022", 2015, Some(2022)),
            ("China's emissions since 2005", 2005, None),
            ("中国2015年至2022年的排放", 2015, Some(2022)),
            ("中国自2005年以来的排放", 2005, None),
            ("les émissions de la Chine de 2010 à 2020", 2010, Some(2020)),
            ("Emissionen Chinas von 2010 bis 2020", 2010, Some(2020)),
            ("emisiones de China entre 2010 y 2020", 2010, Some(2020)),
            ("emisiones de China desde 2005", 2005, None),
        ] {
            let m = read(q);
            assert_eq!(m.range, Some(YearRange { from, to }), "{q}");
        }
        let m = read("China's emissions in 2022 on 10,000 t");
        assert_eq!(m.years, [2022]);
        assert_eq!(m.range, None);
        assert_eq!(read("CN 72081000 in 2026").years, [2026]);
        assert!(read("Sobol indices from 2000 samples of 1800 t").years.is_empty());
    }

    #[test]
    fn languages_and_glosses() {
        let m = read("中国2022年的消费排放与领土排放相比如何？");
        assert_eq!(m.lang, Lang::Zh);
        assert!(
            m.norm.contains(" consumption ") && m.norm.contains(" territorial "),
            "{}",
            m.norm
        );
        assert_eq!(
            read("Quelle est l'empreinte carbone de la France ?").lang,
            Lang::Fr
        );
        assert_eq!(
            read("Wie hoch sind die konsumbasierten Emissionen Deutschlands?").lang,
            Lang::De
        );
        assert_eq!(read("¿Cuál es la huella de carbono de España?").lang, Lang::Es);
        assert_eq!(read("What is the production of steel?").lang, Lang::En);
    }

    #[test]
    fn quantities_as_each_language_writes_them() {
        for (q, v, u) in [
            ("CBAM on 10,000 t of steel", 10_000.0, Unit::Tonne),
            ("sur 10 000 t d'acier", 10_000.0, Unit::Tonne),
            ("für 10.000 Tonnen Stahl", 10_000.0, Unit::Tonne),
            ("从中国进口10000吨热轧卷", 10_000.0, Unit::Tonne),
            ("非洲1万公顷热带雨林", 10_000.0, Unit::Hectare),
            ("5 000 hectares de forêt", 5_000.0, Unit::Hectare),
            ("3.000 hectáreas de bosque", 3_000.0, Unit::Hectare),
            ("20 km² of forest", 20.0, Unit::SquareKilometre),
            ("2.5 t of cement", 2.5, Unit::Tonne),
        ] {
            let m = read(q);
            assert_eq!(
                m.quantities.first().map(|x| (x.value, x.unit)),
                Some((v, u)),
                "{q}"
            );
        }
        assert!(
            read("0.7 t/t of verified data and 80 EUR/t")
                .first(Unit::Tonne)
                .is_none()
        );
    }

    #[test]
    fn percentages() {
        assert_eq!(read("cut 40 % of the plant's emissions by 2035").percents, [40.0]);
        assert_eq!(read("réduire de 30 pour cent").percents, [30.0]);
    }
}
