//! Countries and country groups as people name them in questions.
//!
//! Names and codes come from ISO 3166-1 (`data/iso3166-1.csv`), the Global Carbon Budget's own
//! entity names (aggregates such as "European Union (27)"), a short list of everyday aliases, and
//! names and adjectives in Chinese, French, German and Spanish (`data/place-names.csv`).

use std::collections::HashMap;
use std::sync::OnceLock;

use cb_trade::data::gcb::Gcb;

const ISO3166_CSV: &str = include_str!("../../../data/iso3166-1.csv");
const PLACE_NAMES_CSV: &str = include_str!("../../../data/place-names.csv");

/// Lower-case alpha-3 codes read as places ("usa vs chn"): only those that are no word in the
/// five languages (not "can", "per", "and", "aus", "nor", "fin", "mar", …).
const LOWERCASE_CODES: &[&str] = &[
    "chn", "deu", "gbr", "fra", "jpn", "rus", "bra", "zaf", "kor", "idn", "mex", "tur", "sau", "arg", "pol",
    "nld", "swe", "ita", "ukr", "vnm", "tha", "mys", "egy", "irn", "pak", "bgd", "nga", "phl", "kaz", "dnk",
    "prt", "grc", "cze", "chl", "dza", "nzl", "sgp", "twn",
];

/// Capitals that are ISO codes but, in these questions, the field's own abbreviations: "LCA"
/// (life-cycle assessment, not Saint Lucia), "ID" (an identifier, not Indonesia).
const FIELD_ACRONYMS: &[&str] = &["LCA", "ID"];

/// A place a question can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// ISO 3166-1 alpha-3 code, or the GCB entity name for a group of countries.
    pub key: String,
    pub iso2: Option<String>,
    pub name: String,
}

/// A place found in a question, with where it was found (byte offset in the normalised text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub place: Place,
    pub at: usize,
}

/// Everyday names (lowercase) for places, as (alias, ISO alpha-3 or GCB entity name).
const ALIASES: &[(&str, &str)] = &[
    ("the us", "USA"),
    ("u s", "USA"),
    ("usa", "USA"),
    ("u s a", "USA"),
    ("america", "USA"),
    ("united states of america", "USA"),
    ("the states", "USA"),
    ("uk", "GBR"),
    ("u k", "GBR"),
    ("britain", "GBR"),
    ("great britain", "GBR"),
    ("united kingdom", "GBR"),
    ("eu", "European Union (27)"),
    ("eu27", "European Union (27)"),
    ("eu 27", "European Union (27)"),
    ("european union", "European Union (27)"),
    ("eu28", "European Union (28)"),
    ("eu 28", "European Union (28)"),
    ("prc", "CHN"),
    ("mainland china", "CHN"),
    ("russia", "RUS"),
    ("korea", "KOR"),
    ("south korea", "KOR"),
    ("north korea", "PRK"),
    ("iran", "IRN"),
    ("vietnam", "VNM"),
    ("viet nam", "VNM"),
    ("taiwan", "TWN"),
    ("czechia", "CZE"),
    ("czech republic", "CZE"),
    ("turkey", "TUR"),
    ("turkiye", "TUR"),
    ("holland", "NLD"),
    ("the netherlands", "NLD"),
    ("syria", "SYR"),
    ("laos", "LAO"),
    ("bolivia", "BOL"),
    ("venezuela", "VEN"),
    ("tanzania", "TZA"),
    ("moldova", "MDA"),
    // Adjectives of origin, as in "Chinese hot-rolled coil".
    ("chinese", "CHN"),
    ("indian", "IND"),
    ("turkish", "TUR"),
    ("russian", "RUS"),
    ("ukrainian", "UKR"),
    ("korean", "KOR"),
    ("south korean", "KOR"),
    ("japanese", "JPN"),
    ("brazilian", "BRA"),
    ("american", "USA"),
    ("vietnamese", "VNM"),
    ("egyptian", "EGY"),
    ("indonesian", "IDN"),
    ("german", "DEU"),
    ("british", "GBR"),
    ("french", "FRA"),
    ("norwegian", "NOR"),
    ("algerian", "DZA"),
    ("serbian", "SRB"),
    ("taiwanese", "TWN"),
    ("malaysian", "MYS"),
    ("thai", "THA"),
    ("saudi", "SAU"),
    ("emirati", "ARE"),
    ("south african", "ZAF"),
    ("canadian", "CAN"),
    ("mexican", "MEX"),
    ("australian", "AUS"),
    ("albanian", "ALB"),
    ("kazakh", "KAZ"),
    ("the world", "World"),
    ("world", "World"),
    ("worldwide", "World"),
    // "global" alone is also "global warming potential" and "global sensitivity".
    ("global co2", "World"),
    ("global emissions", "World"),
    ("global carbon emissions", "World"),
];

/// Lowercases and turns punctuation into spaces, so names match on word boundaries:
/// `"China's"` becomes `" china s "`.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut last_space = true;
    let mut last_cjk = false;
    for c in text.chars() {
        let c = if c.is_alphanumeric() {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            ' '
        };
        // Fold the accents of the five languages, so "Türkei", "Japón" and "Émirats" match
        // however they are typed.
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ß' => {
                out.push('s');
                's'
            }
            c => c,
        };
        // Chinese runs next to Latin letters or digits get a space between them, so "2027年CBAM"
        // reads as "2027 年 cbam".
        let cjk = ('\u{4e00}'..='\u{9fff}').contains(&c);
        if c != ' ' && !last_space && cjk != last_cjk {
            out.push(' ');
        }
        last_cjk = cjk;
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    if !last_space {
        out.push(' ');
    }
    out
}

/// The gazetteer: every name, alias and code, normalised.
pub struct Gazetteer {
    /// (normalised phrase with surrounding spaces, place), longest phrases first. A Chinese name
    /// has no spaces around it: Chinese writes no spaces between words.
    phrases: Vec<(String, Place)>,
    /// Upper-case ISO codes (2 and 3 letters) as written in a question.
    codes: HashMap<String, Place>,
}

impl Gazetteer {
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(Gazetteer::build)
    }

    fn build() -> Gazetteer {
        let mut by_key: HashMap<String, Place> = HashMap::new();
        let mut phrases: Vec<(String, Place)> = Vec::new();
        let mut codes = HashMap::new();
        let mut rdr = csv::Reader::from_reader(ISO3166_CSV.as_bytes());
        for rec in rdr.records().flatten() {
            let (a2, a3) = (rec[0].to_string(), rec[1].to_string());
            let common = rec[3].to_string();
            let name = if common.is_empty() {
                rec[2].to_string()
            } else {
                common
            };
            let place = Place {
                key: a3.clone(),
                iso2: Some(a2.clone()),
                name,
            };
            for n in [&rec[2], &rec[3], &rec[4]] {
                if !n.is_empty() {
                    phrases.push((normalise(n), place.clone()));
                }
            }
            codes.insert(a3.clone(), place.clone());
            codes.insert(a2, place.clone());
            by_key.insert(a3, place);
        }
        for entity in &Gcb::bundled().entities {
            if entity.code.as_deref().is_some_and(|c| by_key.contains_key(c)) {
                continue;
            }
            let place = Place {
                key: entity.name.clone(),
                iso2: None,
                name: entity.name.clone(),
            };
            phrases.push((normalise(&entity.name), place.clone()));
            by_key.insert(entity.name.clone(), place);
        }
        for (alias, key) in ALIASES {
            if let Some(place) = by_key.get(*key) {
                phrases.push((normalise(alias), place.clone()));
            }
        }
        let mut rdr = csv::Reader::from_reader(PLACE_NAMES_CSV.as_bytes());
        for rec in rdr.records().flatten() {
            let Some(place) = by_key.get(&rec[0]) else {
                continue;
            };
            for name in rec[3].split('|') {
                let forms: Vec<String> = if &rec[1] == "de" && &rec[2] == "adjective" {
                    // German adjectives inflect: chinesisch, chinesische, chinesischen, ….
                    ["", "e", "en", "er", "es", "em"]
                        .iter()
                        .map(|e| format!("{name}{e}"))
                        .collect()
                } else if &rec[1] == "de" && !name.ends_with(['s', 'z', 'x']) && !name.contains(' ') {
                    // and names take a genitive -s: "die Emissionen Chinas".
                    vec![name.to_string(), format!("{name}s")]
                } else {
                    vec![name.to_string()]
                };
                for form in forms {
                    let n = normalise(&form);
                    let n = if is_cjk(&form) { n.trim().to_string() } else { n };
                    phrases.push((n, place.clone()));
                }
            }
        }
        codes.insert("EU27".into(), by_key["European Union (27)"].clone());
        codes.insert("EU".into(), by_key["European Union (27)"].clone());
        phrases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Gazetteer { phrases, codes }
    }

    /// The place a single name stands for: an ISO code (either case), an English or GCB name, or
    /// an alias. `None` when it names nothing known.
    pub fn resolve(&self, name: &str) -> Option<Place> {
        let trimmed = name.trim();
        if let Some(place) = self.codes.get(&trimmed.to_ascii_uppercase()) {
            return Some(place.clone());
        }
        let norm = normalise(trimmed);
        self.phrases
            .iter()
            .find(|(p, _)| *p == norm || p == norm.trim())
            .map(|(_, place)| place.clone())
    }

    /// The places a question names, in the order they appear, each once.
    pub fn find(&self, question: &str) -> Vec<Mention> {
        let norm = normalise(question);
        let mut taken = vec![false; norm.len()];
        let mut found: Vec<Mention> = Vec::new();
        for (phrase, place) in &self.phrases {
            let mut start = 0;
            while let Some(pos) = norm[start..].find(phrase.as_str()) {
                let at = start + pos;
                let span = if phrase.starts_with(' ') {
                    at + 1..at + phrase.len() - 1
                } else {
                    at..at + phrase.len()
                };
                if !taken[span.clone()].iter().any(|t| *t) {
                    taken[span].iter_mut().for_each(|t| *t = true);
                    found.push(Mention {
                        place: place.clone(),
                        at,
                    });
                }
                start = at + phrase.chars().next().map_or(1, char::len_utf8);
            }
        }
        // Upper-case codes as written (CHN, DE, EU27); lower-case two-letter words are too common.
        for (start, word) in words(question) {
            let upper = word.len() >= 2 && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            let lower_code = LOWERCASE_CODES.contains(&word);
            let place = if upper && FIELD_ACRONYMS.contains(&word) {
                None
            } else if upper {
                self.codes.get(word)
            } else if lower_code {
                self.codes.get(&word.to_ascii_uppercase())
            } else {
                None
            };
            if let Some(place) = place {
                found.push(Mention {
                    place: place.clone(),
                    at: normalise(&question[..start]).len(),
                });
            }
        }
        found.sort_by_key(|m| m.at);
        let mut seen = std::collections::HashSet::new();
        found.retain(|m| seen.insert(m.place.key.clone()));
        found
    }
}

/// True when a text is written in Chinese characters (CJK Unified Ideographs).
pub fn is_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A place's name in one of the four other languages (`data/place-names.csv`, its first name
/// of kind `name`), for answers written in the question's language.
pub fn name_in(key: &str, lang: &str) -> Option<String> {
    static NAMES: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut rdr = csv::Reader::from_reader(PLACE_NAMES_CSV.as_bytes());
            let mut names = HashMap::new();
            for rec in rdr.records().flatten() {
                if &rec[2] == "name"
                    && let Some(first) = rec[3].split('|').next()
                {
                    names
                        .entry((rec[0].to_string(), rec[1].to_string()))
                        .or_insert_with(|| first.to_string());
                }
            }
            names
        })
        .get(&(key.to_string(), lang.to_string()))
        .cloned()
}

/// The alphanumeric words of a text with their byte offsets.
pub fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    // Chinese writes words against Latin ones ("reg3的消费"): a change of script ends a word.
    let cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let mut word_cjk = false;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => {
                start = Some(i);
                word_cjk = cjk(c);
            }
            (true, Some(s)) if cjk(c) != word_cjk => {
                out.push((s, &text[s..i]));
                start = Some(i);
                word_cjk = cjk(c);
            }
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(q: &str) -> Vec<String> {
        Gazetteer::get()
            .find(q)
            .into_iter()
            .map(|m| m.place.key)
            .collect()
    }

    #[test]
    fn names_aliases_and_codes() {
        assert_eq!(
            keys("How do China's consumption-based CO2 emissions compare?"),
            ["CHN"]
        );
        assert_eq!(keys("exports from the US to Britain"), ["USA", "GBR"]);
        assert_eq!(keys("CHN and DEU"), ["CHN", "DEU"]);
        assert_eq!(keys("What is the EU27 footprint?"), ["European Union (27)"]);
        assert_eq!(
            keys("the European Union and South Korea"),
            ["European Union (27)", "KOR"]
        );
        assert_eq!(keys("footprint of the United States of America"), ["USA"]);
        assert_eq!(keys("Türkiye in 2020"), ["TUR"]);
        assert_eq!(keys("usa vs chn"), ["USA", "CHN"]);
    }

    #[test]
    fn names_in_five_languages() {
        assert_eq!(keys("中国2022年的消费排放与美国相比如何"), ["CHN", "USA"]);
        assert_eq!(keys("印度尼西亚和印度"), ["IDN", "IND"]);
        assert_eq!(
            keys("les émissions de la Chine et des États-Unis"),
            ["CHN", "USA"]
        );
        assert_eq!(keys("acier chinois importé en Allemagne"), ["CHN", "DEU"]);
        assert_eq!(
            keys("Emissionen der Türkei und von Großbritannien"),
            ["TUR", "GBR"]
        );
        assert_eq!(keys("chinesischer Stahl"), ["CHN"]);
        assert_eq!(keys("emisiones de Japón y México"), ["JPN", "MEX"]);
        assert_eq!(keys("la Unión Europea"), ["European Union (27)"]);
    }

    #[test]
    fn ordinary_words_are_not_places() {
        assert!(keys("how is it in the end, to be or not").is_empty());
        assert!(keys("What does it cost?").is_empty());
        assert!(keys("tell us — please — about it’s “sources”").is_empty());
        // Lower-case codes that are words stay words.
        assert!(keys("can you compare per capita and aus").is_empty());
    }
}
