//! Planning: a question in, a schema-valid [`Plan`] out.
//!
//! This crate owns question understanding: the places gazetteer ([`places`]), the rule-based
//! planner ([`rules`], the embedded default: places, years, sectors, stressors and intents with
//! plain rules, no model or server), the LLM planner and its gate ([`llm`]: it asks an
//! OpenAI-compatible endpoint and falls back to the rules), and the client for that endpoint
//! ([`openai`]). It knows the agents' vocabulary (bundled plants, CBAM tables, the Global Carbon
//! Budget's entities) but never runs an agent, never dispatches, never touches a store: it must
//! not import the core, the decision log, the cluster or the server, nor any actor runtime.

pub mod clarify;
pub mod context;
pub mod frames;
pub mod goods;
pub mod land;
pub mod llm;
pub mod mentions;
pub mod openai;
pub mod places;
pub mod products;
pub mod rules;
pub mod templates;

use std::sync::Arc;

use cb_protocol::Plan;

pub use context::{MrioVocabulary, PlanContext, PlanningAttempt, PlanningError, capabilities};
pub use rules::{plan, plan_with_rules};

use crate::openai::{LlmClient, TokenBudget};

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
