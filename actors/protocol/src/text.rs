//! What agents write for readers — the labels of their numbers and their notes — by key, so an
//! answer can say it in the question's language. `data/agent-text.csv` holds each sentence in
//! English, Chinese, French, German and Spanish with the same `{placeholders}`; an agent keeps
//! the key and the filled-in values beside the English it writes, and the answer renders them
//! again in the reader's language. Values are the agent's own (names from the data, numbers
//! already formatted): only the sentence around them changes.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const AGENT_TEXT_CSV: &str = include_str!("../../../data/agent-text.csv");
/// The languages of the file's columns, in order.
pub const LANGS: [&str; 5] = ["en", "zh", "fr", "de", "es"];

fn table() -> &'static HashMap<String, [String; 5]> {
    static T: OnceLock<HashMap<String, [String; 5]>> = OnceLock::new();
    T.get_or_init(|| five_language_table(AGENT_TEXT_CSV))
}

/// A file of sentences as `key,en,zh,fr,de,es` rows (this one, and the answers' own templates in
/// the planner), by key.
pub fn five_language_table(csv_text: &str) -> HashMap<String, [String; 5]> {
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    rdr.records()
        .flatten()
        .filter(|r| r.len() == 6)
        .map(|r| (r[0].to_string(), std::array::from_fn(|i| r[i + 1].to_string())))
        .collect()
}

/// What is wrong with such a file, naming the row: a header other than `key,en,zh,fr,de,es`, a
/// repeated key, an empty sentence, or a language whose placeholders differ from the English.
pub fn check_five_language_csv(csv_text: &str) -> Result<(), String> {
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let header = rdr.headers().map_err(|e| e.to_string())?;
    if header != vec!["key", "en", "zh", "fr", "de", "es"] {
        return Err(format!("the header is {header:?}, not key,en,zh,fr,de,es"));
    }
    let mut keys = std::collections::BTreeSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|e| format!("row {row}: {e}"))?;
        if !keys.insert(rec[0].to_string()) {
            return Err(format!("row {row}: key {} repeated", &rec[0]));
        }
        let english = placeholders(&rec[1]);
        for col in 2..6 {
            if rec[col].trim().is_empty() {
                return Err(format!("row {row} ({}) column {col} is empty", &rec[0]));
            }
            if placeholders(&rec[col]) != english {
                return Err(format!(
                    "row {row} ({}) column {col}: placeholders differ from English",
                    &rec[0]
                ));
            }
        }
    }
    Ok(())
}

/// A sentence by key with its values, e.g. `label_footprint` with `amount`, `unit`, `product`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Text {
    pub key: String,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Placeholders filled with a list of sentences (the drivers of a Monte Carlo, say), each
    /// rendered in the same language and joined with semicolons.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lists: BTreeMap<String, Vec<Text>>,
}

impl Text {
    pub fn new(key: &str, values: &[(&str, &str)]) -> Self {
        Text {
            key: key.to_string(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            lists: BTreeMap::new(),
        }
    }

    /// Fills placeholder `name` with `items`.
    pub fn list(mut self, name: &str, items: Vec<Text>) -> Self {
        self.lists.insert(name.to_string(), items);
        self
    }

    /// The sentence in English, as the agent writes it into `label` or `notes`.
    pub fn english(&self) -> String {
        self.render("en", &|v| v.to_string())
    }

    /// The sentence in `lang` (a code of [`LANGS`]; English otherwise), each value passed
    /// through `value` first (a language's decimal mark, say). A key missing from the file is a
    /// mistake the tests catch; it renders as the key and its values rather than panic.
    pub fn render(&self, lang: &str, value: &dyn Fn(&str) -> String) -> String {
        let Some(row) = table().get(&self.key) else {
            let values: Vec<String> = self.values.values().cloned().collect();
            return format!("{} ({})", self.key, values.join(", "));
        };
        let i = LANGS.iter().position(|l| *l == lang).unwrap_or(0);
        let mut text = row[i].clone();
        for (name, v) in &self.values {
            text = text.replace(&format!("{{{name}}}"), &value(v));
        }
        let separator = if lang == "zh" { "；" } else { "; " };
        for (name, items) in &self.lists {
            let parts: Vec<String> = items.iter().map(|t| t.render(lang, value)).collect();
            text = text.replace(&format!("{{{name}}}"), &parts.join(separator));
        }
        text
    }

    /// Whether the file has this key and the values fill exactly its placeholders.
    pub fn is_complete(&self) -> bool {
        table().get(&self.key).is_some_and(|row| {
            let names: Vec<String> = placeholders(&row[0]);
            let mut given: Vec<String> = self.values.keys().chain(self.lists.keys()).cloned().collect();
            given.sort();
            names == given && self.lists.values().flatten().all(Text::is_complete)
        })
    }
}

/// A word of the data (an IPCC forest zone, a soil management level, a wood product) in `lang`,
/// where `data/agent-text.csv` has it as `term:<word>`; names the file lacks stay as the data
/// wrote them.
pub fn term(lang: &str, word: &str) -> Option<String> {
    let row = table().get(&format!("term:{}", word.trim().to_lowercase()))?;
    let i = LANGS.iter().position(|l| *l == lang)?;
    Some(row[i].clone())
}

/// The `{placeholders}` of a sentence, sorted and without repeats.
pub fn placeholders(s: &str) -> Vec<String> {
    let mut out: Vec<String> = s
        .split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_has_five_languages_with_the_same_placeholders() {
        check_five_language_csv(AGENT_TEXT_CSV).unwrap();
        // The check can fail: a placeholder missing in one language, a repeated key.
        let bad = "key,en,zh,fr,de,es\nk,a {x},b,c {x},d {x},e {x}\n";
        assert!(check_five_language_csv(bad).unwrap_err().contains("column 2"));
        let twice = "key,en,zh,fr,de,es\nk,a,b,c,d,e\nk,a,b,c,d,e\n";
        assert!(check_five_language_csv(twice).unwrap_err().contains("repeated"));
    }

    #[test]
    fn a_text_renders_in_each_language_with_its_values() {
        let t = Text::new(
            "note_hwp_half_life",
            &[("half_life", "35"), ("source", "IPCC 2019")],
        );
        assert!(t.is_complete());
        assert!(t.english().contains("35"));
        assert_ne!(t.render("zh", &str::to_string), t.english());
        assert!(t.render("zh", &str::to_string).contains("35"));
        assert_eq!(term("de", "Sawnwood").as_deref(), Some("Schnittholz"));
        assert_eq!(term("de", "oak"), None);
        let missing = Text::new("no_such_key", &[("a", "1")]);
        assert!(!missing.is_complete());
        assert_eq!(missing.english(), "no_such_key (1)");
    }
}
