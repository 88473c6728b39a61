//! What planning works with besides the question — the user's MRIO labels and LCI database —
//! and what it records and answers: each planning attempt, and a refusal with what can be asked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::mentions::Lang;

/// The labels of an MRIO the user supplied, so questions can name its regions and sectors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MrioVocabulary {
    pub path: String,
    pub name: String,
    pub regions: Vec<String>,
    pub sectors: Vec<String>,
    /// Stressor names (first level of the extension row labels).
    pub stressors: Vec<String>,
}

/// One call to a planner or an LLM, kept in the run whatever its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanningAttempt {
    /// `plan` or `prose`.
    pub operation: String,
    /// `rules` or `llm:<model>`.
    pub planner: String,
    /// `accepted`, `rejected` (invalid output), `failed` (no output) or `skipped` (budget).
    pub outcome: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub input_tokens: u32,
    #[serde(default)]
    pub output_tokens: u32,
    #[serde(default)]
    pub latency_ms: u64,
    /// The LLM call as made: endpoint, request (model, parameters, seed, messages) and the
    /// response text. Absent for the rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<serde_json::Value>,
}

/// What the planner knows besides the question.
#[derive(Debug, Clone, Default)]
pub struct PlanContext {
    pub mrio: Option<MrioVocabulary>,
    /// A life-cycle inventory database to answer product questions from (the bundled USLCI when
    /// absent).
    pub lci: Option<String>,
}

/// A question the planner cannot turn into a plan: why, the answerable questions closest to it
/// (built from the user's own words), and what Carbon Butler can answer in general.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}{}\n\n{}", suggestions_text(*lang, suggestions), capabilities(*lang))]
pub struct PlanningError {
    pub reason: String,
    /// Two or three questions that can be answered, made from the question's own place, good,
    /// amount or product; empty when nothing in the question points to one.
    pub suggestions: Vec<String>,
    /// The question's language, which the suggestions' heading is written in.
    pub lang: Lang,
}

impl PlanningError {
    pub fn new(reason: impl Into<String>) -> Self {
        PlanningError {
            reason: reason.into(),
            suggestions: Vec::new(),
            lang: Lang::En,
        }
    }

    pub fn in_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// Adds answerable questions, keeping at most three and no repeats.
    pub fn suggest(mut self, questions: impl IntoIterator<Item = String>) -> Self {
        for q in questions {
            if self.suggestions.len() < 3 && !self.suggestions.contains(&q) {
                self.suggestions.push(q);
            }
        }
        self
    }
}

fn suggestions_text(lang: Lang, suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let mut text = format!("\n\n{}", crate::templates::say(lang, "ask_instead", &[]));
    for s in suggestions {
        text.push_str(&format!("\n  • \"{s}\""));
    }
    text
}

/// What Carbon Butler can answer today, shown when a question cannot be planned, in `lang`
/// (`capabilities` in data/answer-templates.csv; the example questions stay as they can be
/// typed, the words around them are translated).
pub fn capabilities(lang: Lang) -> String {
    crate::templates::say(lang, "capabilities", &[])
}
