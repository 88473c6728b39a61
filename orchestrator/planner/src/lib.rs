//! Planning: a question in, a schema-valid [`Plan`] out.
//!
//! This crate owns question understanding: the places gazetteer ([`places`]), the rule-based
//! planner ([`rules`], the embedded default: places, years, sectors, stressors and intents with
//! plain rules, no model or server), the LLM planner and its gate ([`llm`]: it asks an
//! OpenAI-compatible endpoint and falls back to the rules), and the client for that endpoint
//! ([`openai`]). It knows the agents' vocabulary (bundled plants, CBAM tables, the Global Carbon
//! Budget's entities) but never runs an agent, never dispatches, never touches a store: it must
//! not import the core, the decision log, the cluster or the server, nor any actor runtime.

pub mod llm;
pub mod openai;
pub mod places;
pub mod rules;

use std::sync::Arc;

use cb_protocol::Plan;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use rules::plan_with_rules;

use crate::openai::{LlmClient, TokenBudget};

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

/// A question the planner cannot turn into a plan, with what it can answer instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}\n\n{}", CAPABILITIES)]
pub struct PlanningError {
    pub reason: String,
}

/// What Carbon Butler can answer today, shown when a question cannot be planned.
pub const CAPABILITIES: &str = "\
Carbon Butler can answer, for example:
  • consumption versus territorial CO2 of a country or group (Global Carbon Budget 2024, bundled):
      \"How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?\"
      \"What is the carbon footprint of the EU27 in 2020?\"
  • with an MRIO (--mrio PATH: a pymrio save, an EXIOBASE 3 zip, or a WIOD-style folder with emissions):
      \"How much CO2 embodied in reg1's exports is consumed in reg2?\"        (transfer from A to B)
      \"Which sectors contribute most to reg3's consumption-based emissions?\" (top sectors)
      \"What are the main supply-chain paths of reg2's food consumption?\"     (structural paths)
      \"Compare consumption-based and production-based CO2 of all regions\"   (accounts)
  • uncertainty:
      \"Which inputs of the Ishigami function matter most?\"                    (Sobol indices)
      \"What uncertainty do pedigree scores (2,3,1,4,5) imply?\"              (pedigree matrix)
      \"How certain is that?\"                                               (intervals and drivers of the last answer)
Name places by English name, ISO code (CHN, DE) or common alias (the US, Britain, EU27).";

/// Plans a question with the rule-based planner and validates the plan.
pub fn plan(question: &str, ctx: &PlanContext) -> Result<Plan, PlanningError> {
    let plan = plan_with_rules(question, ctx)?;
    plan.validate().map_err(|e| PlanningError {
        reason: format!("the planner produced an invalid plan: {e}"),
    })?;
    Ok(plan)
}

/// Which planner a run uses.
#[derive(Clone, Default)]
pub enum Planner {
    /// The rule-based planner only.
    #[default]
    Rules,
    /// An LLM first (one retry), then the rules.
    Llm(Arc<LlmClient>),
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Planner::Rules => f.write_str("Rules"),
            Planner::Llm(c) => write!(f, "Llm({} at {})", c.config.model, c.config.url),
        }
    }
}

impl Planner {
    /// Plans a question and records every attempt. The LLM's plan passes the same gate as the
    /// rules' plan; if it never does, the rules decide.
    pub async fn plan(
        &self,
        question: &str,
        ctx: &PlanContext,
        budget: &mut TokenBudget,
        attempts: &mut Vec<PlanningAttempt>,
    ) -> Result<Plan, PlanningError> {
        if let Planner::Llm(client) = self
            && let Ok(plan) = llm::plan_with_llm(client, question, ctx, budget, attempts).await
        {
            return Ok(plan);
        }
        llm::plan_with_rules_recorded(question, ctx, attempts)
    }

    pub fn llm(&self) -> Option<&Arc<LlmClient>> {
        match self {
            Planner::Llm(c) => Some(c),
            Planner::Rules => None,
        }
    }
}
