//! Products named in the question's language, in the English the bundled inventory's names use:
//! `data/product-names.csv` gives each product's names in English, Chinese, French, German and
//! Spanish (several separated by `|`). The inventory itself is matched by the LCA agent; this
//! only lets "聚乙烯" or "polyéthylène" reach "polyethylene".

use std::sync::OnceLock;

use crate::places::normalise;

const PRODUCT_NAMES_CSV: &str = include_str!("../../../data/product-names.csv");

/// (normalised name in any language, English name).
fn names() -> &'static [(String, String)] {
    static N: OnceLock<Vec<(String, String)>> = OnceLock::new();
    N.get_or_init(|| {
        let mut rdr = csv::Reader::from_reader(PRODUCT_NAMES_CSV.as_bytes());
        let mut out = Vec::new();
        for rec in rdr.records().flatten() {
            let english = rec[0].to_string();
            for col in rec.iter() {
                for name in col.split('|') {
                    out.push((normalise(name).trim().to_string(), english.clone()));
                }
            }
        }
        out
    })
}

/// The English name of a product written in any supported language; `None` when the whole
/// name is not in the file (it then goes to the inventory as written).
pub fn in_english(product: &str) -> Option<&'static str> {
    let key = normalise(product);
    let key = key.trim();
    names()
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, english)| english.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_in_any_language_has_its_english_name() {
        assert_eq!(in_english("聚乙烯"), Some("polyethylene"));
        assert_eq!(in_english("Polyéthylène"), Some("polyethylene"));
        assert_eq!(in_english("Flachglas"), Some("flat glass"));
        assert_eq!(in_english("cemento portland"), Some("portland cement"));
        assert_eq!(in_english("液氨"), Some("ammonia"));
        assert_eq!(in_english("polyethylene"), Some("polyethylene"));
        // A name the file lacks goes to the inventory as written.
        assert_eq!(in_english("sheep wool"), None);
    }

    #[test]
    fn the_file_has_five_languages_on_every_row() {
        let mut rdr = csv::Reader::from_reader(PRODUCT_NAMES_CSV.as_bytes());
        assert_eq!(rdr.headers().unwrap(), vec!["en", "zh", "fr", "de", "es"]);
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), 5, "row {}", i + 2);
            assert!(rec.iter().all(|c| !c.trim().is_empty()), "row {}", i + 2);
        }
    }
}
