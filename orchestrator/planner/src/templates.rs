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
    T.get_or_init(|| cb_protocol::text::five_language_table(TEMPLATES_CSV))
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

    #[test]
    fn templates_are_complete() {
        cb_protocol::text::check_five_language_csv(TEMPLATES_CSV).unwrap();
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
