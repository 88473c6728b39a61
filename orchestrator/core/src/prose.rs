//! The answer's prose written by an LLM from the computed results only — and checked: every
//! number in it must be one of the run's numbers (as computed, scaled to k/M/G, as a percentage,
//! or as printed in the template answer), rounded no further than it is written. Anything else
//! keeps the template answer.

use cb_protocol::Uncertainty;
use serde_json::json;

use cb_planner::PlanningAttempt;
use cb_planner::openai::{LlmClient, LlmError, TokenBudget};
use cb_protocol::format::{format_quantity, uncertainty_text};

use crate::answer::Answer;

/// The numbers written in a text, with how many decimals each shows. Thousands separators are
/// read (`11,397.3`); a leading minus sign counts.
pub fn numbers_in(text: &str) -> Vec<(f64, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let negative = i > 0 && (bytes[i - 1] == b'-' || text[..i].ends_with('−'));
        let mut j = i;
        let mut literal = String::new();
        let mut decimals = None;
        while j < bytes.len() {
            let c = bytes[j];
            let next_digit = j + 1 < bytes.len() && bytes[j + 1].is_ascii_digit();
            if c.is_ascii_digit() {
                literal.push(c as char);
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            } else if c == b',' && decimals.is_none() && next_digit {
                // a thousands separator
            } else if c == b'.' && decimals.is_none() && next_digit {
                literal.push('.');
                decimals = Some(0);
            } else {
                break;
            }
            j += 1;
        }
        if let Ok(v) = literal.parse::<f64>() {
            out.push((if negative { -v } else { v }, decimals.unwrap_or(0)));
        }
        i = j;
    }
    out
}

/// Every number a run's prose may use.
pub fn supported_numbers(answer: &Answer) -> Vec<f64> {
    let mut base: Vec<f64> = Vec::new();
    for row in &answer.table {
        base.push(row.value);
        match row.uncertainty {
            Uncertainty::Interval {
                low,
                high,
                confidence,
            } => base.extend([low, high, confidence]),
            Uncertainty::Triangular { min, max } | Uncertainty::Uniform { min, max } => {
                base.extend([min, max])
            }
            Uncertainty::Normal { sd } => base.push(sd),
            Uncertainty::Lognormal { gsd } => base.push(gsd),
            Uncertainty::NotAssessed => {}
        }
    }
    for f in &answer.findings {
        base.extend(f.values.values().copied());
    }
    let mut all: Vec<f64> = base
        .iter()
        .flat_map(|v| [*v, v / 1e3, v / 1e6, v / 1e9, v * 100.0])
        .collect();
    // What the template and the question already say (years, shares, ratios it computed).
    all.extend(numbers_in(&answer.text).into_iter().map(|(v, _)| v));
    all.extend(numbers_in(&answer.question).into_iter().map(|(v, _)| v));
    // Names of quantities and sources carry years and versions ("Global Carbon Budget 2024").
    for text in answer
        .table
        .iter()
        .flat_map(|r| [&r.label, &r.source])
        .chain(&answer.sources)
    {
        all.extend(numbers_in(text).into_iter().map(|(v, _)| v));
    }
    for r in &answer.results {
        if let Some(o) = r.output() {
            for q in &o.quantities {
                for d in q.dimensions.values() {
                    all.extend(numbers_in(d).into_iter().map(|(v, _)| v));
                }
            }
        }
    }
    all
}

/// Whether `n`, written with `decimals` decimals, is one of `values` rounded (sign aside).
fn matches_any(n: f64, decimals: usize, values: &[f64]) -> bool {
    let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12 * n.abs();
    values.iter().any(|v| (v.abs() - n.abs()).abs() <= tolerance)
}

/// Checks that every number in `prose` is one of the run's numbers, rounded as written, and that
/// it states at least one computed result (prose without the result is no answer).
pub fn check_numbers(prose: &str, answer: &Answer) -> Result<(), String> {
    let supported = supported_numbers(answer);
    let computed: Vec<f64> = answer
        .table
        .iter()
        .flat_map(|r| [r.value, r.value / 1e3, r.value / 1e6, r.value / 1e9])
        .collect();
    let numbers = numbers_in(prose);
    for &(n, decimals) in &numbers {
        if !matches_any(n, decimals, &supported) {
            return Err(format!("the number {n} is not in any task result"));
        }
    }
    if !answer.table.is_empty() && !numbers.iter().any(|&(n, d)| matches_any(n, d, &computed)) {
        return Err("the text states none of the computed results".into());
    }
    Ok(())
}

/// Asks the LLM for a short answer in words and returns it only if every number checks out.
pub async fn write_prose(
    client: &LlmClient,
    answer: &Answer,
    budget: &mut TokenBudget,
    attempts: &mut Vec<PlanningAttempt>,
) -> Option<String> {
    let writer = format!("llm:{}", client.config.model);
    let rows: Vec<String> = answer
        .table
        .iter()
        .take(40)
        .map(|r| {
            format!(
                "- {}: {}{} [{}]",
                r.label,
                format_quantity(r.value, &r.unit),
                uncertainty_text(r.value, &r.unit, &r.uncertainty)
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
                r.source
            )
        })
        .collect();
    let messages = [
        json!({"role": "system", "content": "You write the short answer of Carbon Butler, a carbon-accounting \
system, for a policy reader: two to four plain sentences that answer the question from the computed results \
below. Use only numbers that appear in the results, written as they appear there; state no other numbers, no \
estimates of your own, and no advice."}),
        json!({"role": "user", "content": format!(
            "Question: {}\n\nComputed answer:\n{}\n\nResults:\n{}",
            answer.question, answer.text, rows.join("\n")
        )}),
    ];
    let reply = client
        .chat(&messages, None, client.config.max_prose_tokens, budget)
        .await;
    let attempt =
        |outcome: &str, error: Option<String>, c: Option<&cb_planner::openai::Completion>| PlanningAttempt {
            operation: "prose".into(),
            planner: writer.clone(),
            outcome: outcome.into(),
            error,
            input_tokens: c.map(|c| c.input_tokens).unwrap_or(0),
            output_tokens: c.map(|c| c.output_tokens).unwrap_or(0),
            latency_ms: c.map(|c| c.latency_ms).unwrap_or(0),
            call: c.map(|c| c.call.clone()),
        };
    match reply {
        Err(e) => {
            let outcome = if matches!(e, LlmError::Budget { .. }) {
                "skipped"
            } else {
                "failed"
            };
            attempts.push(attempt(outcome, Some(e.to_string()), None));
            None
        }
        Ok(c) => {
            let text = c.content.trim().to_string();
            let checked = if text.is_empty() {
                Err("the reply is empty".to_string())
            } else {
                check_numbers(&text, answer)
            };
            attempts.push(attempt(
                if checked.is_ok() { "accepted" } else { "rejected" },
                checked.as_ref().err().cloned(),
                Some(&c),
            ));
            checked.ok().map(|_| text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_with_their_decimals() {
        let found = numbers_in("China emitted 11,397.3 Mt in 2022, −3.5 % less; CO2 and PM2.5 are names.");
        assert_eq!(found, vec![(11397.3, 1), (2022.0, 0), (-3.5, 1)]);
    }
}
