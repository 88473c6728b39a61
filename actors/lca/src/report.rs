//! A footprint as an ISO 14044 report: goal and scope, inventory, impact assessment and
//! interpretation, with the numbers of the result (JSON for the CLI and the agent).

use serde_json::{Value, json};

use crate::assessment::{Footprint, Model};
use crate::engine::TreeNode;

fn tree_json(model: &Model, node: &TreeNode) -> Value {
    let a = &model.db.activities[node.activity];
    json!({
        "process": a.name,
        "product": a.product_name,
        "amount": node.amount,
        "unit": a.unit,
        "cumulative_impact": node.cumulative_impact,
        "direct_impact": node.direct_impact,
        "inputs": node.children.iter().map(|c| tree_json(model, c)).collect::<Vec<_>>(),
    })
}

/// The footprint as JSON: `score`, `unit`, `contributions`, `unmatched_flows`, the supply-chain
/// tree and the four ISO 14044 phases.
pub fn footprint_json(
    model: &Model,
    fp: &Footprint,
    tree_depth: usize,
    tree_cutoff: f64,
    stages: &std::collections::HashMap<String, crate::assessment::Stage>,
) -> Value {
    let a = &model.db.activities[fp.activity];
    let share = |v: f64| if fp.score != 0.0 { v / fp.score } else { 0.0 };
    let processes: Vec<Value> = fp
        .by_process
        .iter()
        .take(25)
        .map(|(j, v)| json!({"process": model.db.activities[*j].name, "impact": v, "share": share(*v)}))
        .collect();
    let hotspots: Vec<String> = fp
        .by_process
        .iter()
        .take(3)
        .map(|(j, v)| format!("{} ({:.1}%)", model.db.activities[*j].name, share(*v) * 100.0))
        .collect();
    let assumptions: std::collections::BTreeSet<String> = fp
        .by_flow
        .iter()
        .filter_map(|c| match &c.matched {
            crate::method::MatchRule::Assumption {
                assumption,
                method_name,
            } => Some(format!("{:?} matched to {:?}: {assumption}", c.name, method_name)),
            _ => None,
        })
        .collect();
    let mut quality = Vec::new();
    if !fp.cut_offs.is_empty() {
        quality.push(format!(
            "{} product input(s) in this system have no provider in the database and are cut off",
            fp.cut_offs.len()
        ));
    }
    if !fp.unmatched.is_empty() {
        quality.push(format!(
            "{} elementary flow(s) in the inventory have no factor in {} (listed in unmatched_flows)",
            fp.unmatched.len(),
            fp.method.name
        ));
    }
    quality.extend(assumptions);
    if fp.biogenic_co2 != 0.0 {
        quality.push(format!(
            "biogenic CO2 in the inventory: {} kg, counted with factor 0 by {}",
            fp.biogenic_co2, fp.method.name
        ));
    }
    quality.extend(fp.remarks.iter().cloned());
    json!({
        "process": a.name,
        "product": a.product_name,
        "amount": fp.amount,
        "product_unit": a.unit,
        "method": fp.method.id,
        "score": fp.score,
        "unit": fp.unit,
        "contributions": {
            "processes": processes,
            "flows": fp.by_flow,
            "stages": crate::assessment::stage_contributions(model, fp, stages)
                .into_iter()
                .map(|(stage, v)| json!({"stage": stage, "impact": v, "share": share(v)}))
                .collect::<Vec<_>>(),
            "stage_rule": "user-assigned stages where given (--stage), otherwise by keyword of the process name and category",
        },
        "unmatched_flows": fp.unmatched,
        "flows_matched_in_database": fp.flows_matched,
        "flows_unmatched_in_database": fp.flows_unmatched,
        "supply_chain": tree_json(model, &fp.tree),
        "iso14044": {
            "goal_and_scope": {
                "functional_unit": format!("{} {} of {}", fp.amount, a.unit, a.product_name),
                "system_boundary": "cradle to gate of the product as modelled in the database (its unit processes and their linked suppliers)",
                "database": model.db.name,
                "cut_off": {
                    "unlinked_product_inputs": fp.cut_offs,
                    "supply_chain_tree": {"depth": tree_depth, "relative_cutoff": tree_cutoff},
                },
            },
            "inventory": {
                "processes_in_database": model.db.activities.len(),
                "elementary_flows_in_inventory": fp.by_flow.len() + fp.unmatched.len(),
                "method": "matrix LCA: A·s = f (sparse LU), g = B·s",
            },
            "impact_assessment": {
                "method": fp.method.name,
                "method_source": fp.method.source,
                "score": fp.score,
                "unit": fp.unit,
                "equation": "h = cᵀ·g",
            },
            "interpretation": {
                "hotspots": hotspots,
                "unmatched_flows": fp.unmatched.len(),
                "data_quality": quality,
            },
        },
    })
}
