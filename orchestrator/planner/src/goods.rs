//! CBAM goods named in words: the Commission's own names ("ferro-manganese", "agglomerated iron
//! ore", "urea") and the trade's ("HRC", "rebar", "screws"), in the five languages, each mapped to
//! the CN code of the bundled default-value table. The names are data
//! (`data/cbam-goods-names.csv`); a new name or language is a row, with a test.

use std::sync::OnceLock;

use crate::places::{is_cjk, normalise};

const GOODS_CSV: &str = include_str!("../../../data/cbam-goods-names.csv");

/// A good a question names, with the CN code it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodMention {
    pub cn_code: String,
    /// The name as matched, normalised (lower case, accents folded).
    pub name: String,
}

struct GoodName {
    cn_code: String,
    /// Normalised and trimmed.
    name: String,
    cjk: bool,
}

/// The names, longest first so "white portland cement" wins over "cement"; a malformed row is a
/// build-time mistake that `names_are_well_formed` catches.
fn names() -> &'static [GoodName] {
    static NAMES: OnceLock<Vec<GoodName>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut rdr = csv::Reader::from_reader(GOODS_CSV.as_bytes());
        let mut names: Vec<GoodName> = rdr
            .records()
            .flatten()
            .flat_map(|rec| {
                let code = rec[0].to_string();
                rec[2]
                    .split('|')
                    .map(|n| GoodName {
                        cn_code: code.clone(),
                        name: normalise(n).trim().to_string(),
                        cjk: is_cjk(n),
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.name.is_empty())
            .collect();
        names.sort_by_key(|g| std::cmp::Reverse(g.name.chars().count()));
        names
    })
}

/// The goods a normalised question (see [`normalise`]) names, in the order of the table's
/// longest names first, each span used once: "white cement" is one good, not also "cement".
pub fn find(norm: &str) -> Vec<GoodMention> {
    let mut taken: Vec<std::ops::Range<usize>> = Vec::new();
    let mut found: Vec<(usize, GoodMention)> = Vec::new();
    for g in names() {
        // Latin names match whole words (a trailing plural "s" allowed); Chinese names anywhere.
        let hits: Vec<std::ops::Range<usize>> = if g.cjk {
            norm.match_indices(g.name.as_str())
                .map(|(i, s)| i..i + s.len())
                .collect()
        } else {
            let padded = format!(" {} ", g.name);
            let plural = format!(" {}s ", g.name);
            norm.match_indices(padded.as_str())
                .chain(norm.match_indices(plural.as_str()))
                .map(|(i, s)| i + 1..i + s.len() - 1)
                .collect()
        };
        for hit in hits {
            if taken.iter().any(|t| t.start < hit.end && hit.start < t.end) {
                continue;
            }
            taken.push(hit.clone());
            if !found.iter().any(|(_, f)| f.cn_code == g.cn_code) {
                found.push((
                    hit.start,
                    GoodMention {
                        cn_code: g.cn_code.clone(),
                        name: g.name.clone(),
                    },
                ));
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, g)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(q: &str) -> Vec<String> {
        find(&normalise(q)).into_iter().map(|g| g.cn_code).collect()
    }

    #[test]
    fn names_are_well_formed() {
        let mut rdr = csv::Reader::from_reader(GOODS_CSV.as_bytes());
        assert_eq!(rdr.headers().unwrap(), vec!["cn_code", "lang", "names"]);
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap_or_else(|e| panic!("row {}: {e}", i + 2));
            assert!(
                rec[0].chars().all(|c| c.is_ascii_digit()) && (4..=8).contains(&rec[0].len()),
                "row {}: CN code {:?}",
                i + 2,
                &rec[0]
            );
            assert!(
                ["en", "zh", "fr", "de", "es"].contains(&&rec[1]),
                "row {}: language {:?}",
                i + 2,
                &rec[1]
            );
            assert!(
                rec[2].split('|').all(|n| !n.trim().is_empty()),
                "row {}: an empty name",
                i + 2
            );
        }
    }

    #[test]
    fn the_commissions_names_and_trade_names_in_five_languages() {
        assert_eq!(codes("CBAM on 500 t of ferro-manganese from India"), ["720211"]);
        assert_eq!(codes("sinter from Ukraine"), ["26011200"]);
        assert_eq!(codes("Urea from Egypt"), ["31021019"]);
        assert_eq!(codes("steel screws and bolts"), ["7318"]);
        assert_eq!(codes("进口1万吨尿素"), ["31021019"]);
        assert_eq!(codes("bobines laminées à chaud de Turquie"), ["7208"]);
        assert_eq!(codes("Harnstoff aus Ägypten"), ["31021019"]);
        assert_eq!(codes("cemento blanco de Turquía"), ["25232100"]);
        // The longest name wins, and a word inside another word is no good.
        assert_eq!(codes("white portland cement"), ["25232100"]);
        assert!(codes("visible results in the survey").is_empty());
        assert!(codes("a cementitious binder").is_empty());
    }
}
