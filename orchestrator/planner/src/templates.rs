//! Sentences in the question's language: `data/answer-templates.csv` holds each sentence of the
//! answers and of the questions a refusal offers in English, Chinese, French, German and
//! Spanish with the same `{placeholders}` (`templates_are_complete` checks). Numbers keep their
//! value and unit in every language and take the language's decimal mark. The agents' own labels
//! and notes are in `data/agent-text.csv` (`cb_protocol::text`).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::mentions::Lang;

const TEMPLATES_CSV: &str = include_str!("../../../data/answer-templates.csv");
const LANGS: [Lang; 5] = [Lang::En, Lang::Zh, Lang::Fr, Lang::De, Lang::Es];

fn templates() -> &'static HashMap<String, [String; 5]> {
    static T: OnceLock<HashMap<String, [String; 5]>> = OnceLock::new();
    T.get_or_init(|| {
        let mut rdr = csv::Reader::from_reader(TEMPLATES_CSV.as_bytes());
        rdr.records()
            .flatten()
            .filter(|r| r.len() == 6)
            .map(|r| (r[0].to_string(), std::array::from_fn(|i| r[i + 1].to_string())))
            .collect()
    })
}

/// The sentence `key` in `lang` with its placeholders filled. A key missing from the file is a
/// build-time mistake the tests catch; it falls back to the key itself rather than panic.
pub fn say(lang: Lang, key: &str, values: &[(&str, &str)]) -> String {
    let Some(row) = templates().get(key) else {
        return key.to_string();
    };
    let i = LANGS.iter().position(|l| *l == lang).unwrap_or(0);
    let mut text = row[i].clone();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// A number or quantity as `lang` writes it: French, German and Spanish use a decimal comma.
pub fn number(lang: Lang, text: &str) -> String {
    if !matches!(lang, Lang::Fr | Lang::De | Lang::Es) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let between_digits =
                i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if *c == '.' && between_digits { ',' } else { *c }
        })
        .collect()
}

/// A place's name in `lang`, else the name the data gave.
pub fn place(lang: Lang, key: &str, name: &str) -> String {
    if lang == Lang::En {
        return name.to_string();
    }
    crate::places::name_in(key, lang.code()).unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn templates_are_complete() {
        let mut rdr = csv::Reader::from_reader(TEMPLATES_CSV.as_bytes());
        assert_eq!(rdr.headers().unwrap(), vec!["key", "en", "zh", "fr", "de", "es"]);
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap_or_else(|e| panic!("row {}: {e}", i + 2));
            let english = placeholders(&rec[1]);
            for col in 2..6 {
                assert!(!rec[col].trim().is_empty(), "row {} column {col} is empty", i + 2);
                assert_eq!(
                    placeholders(&rec[col]),
                    english,
                    "row {} ({}) column {col}: placeholders differ from English",
                    i + 2,
                    &rec[0]
                );
            }
        }
    }

    #[test]
    fn numbers_take_the_languages_decimal_mark() {
        assert_eq!(number(Lang::Fr, "10.31 Gt CO2 (-9.2%)"), "10,31 Gt CO2 (-9,2%)");
        assert_eq!(number(Lang::Zh, "10.31 Gt CO2"), "10.31 Gt CO2");
        assert_eq!(number(Lang::De, "CN 7208. Next"), "CN 7208. Next");
        assert_eq!(
            say(Lang::De, "no_result", &[]),
            "Es konnte kein Ergebnis berechnet werden."
        );
        assert_eq!(place(Lang::Zh, "CHN", "China"), "中国");
    }
}
