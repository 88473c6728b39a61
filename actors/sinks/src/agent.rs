//! The sinks agent's work: a [`SinksTask`] in, Quantities and a graph fragment out; and its actor.

use cb_agent_runtime::{Agent, AgentActor, wrong_agent};
use cb_protocol::{
    AgentKind, EdgeKind, GraphEdge, GraphNode, LabeledQuantity, NodeKind, Provenance, Quantity, SinksTask,
    TaskError, TaskErrorKind, TaskOutput, TaskSpec, Uncertainty,
};

use crate::SinksError;
use crate::forest::{self, Account, ForestInputs};

/// The natural sinks agent (stateless: the defaults are compiled in).
#[derive(Default)]
pub struct SinksAgent;

/// The sinks agent's actor.
pub type SinksActor = AgentActor<SinksAgent>;

impl From<SinksError> for TaskError {
    fn from(e: SinksError) -> Self {
        let kind = match e {
            SinksError::NoDefault(_) => TaskErrorKind::NotFound,
            _ => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

impl Agent for SinksAgent {
    const KIND: AgentKind = AgentKind::Sinks;

    fn run(&mut self, task: &TaskSpec) -> Result<TaskOutput, TaskError> {
        match task {
            TaskSpec::Sinks(t) => run_sinks(t),
            other => Err(wrong_agent(Self::KIND, other)),
        }
    }
}

/// Runs one sinks task.
pub fn run_sinks(task: &SinksTask) -> Result<TaskOutput, TaskError> {
    match task {
        SinksTask::Forest {
            area_ha,
            zone,
            continent,
            growth_t_dm_per_ha_yr,
            root_shoot,
            carbon_fraction,
            removals_m3,
            bcef_r,
            years,
        } => {
            let inputs = ForestInputs {
                area_ha: *area_ha,
                growth: *growth_t_dm_per_ha_yr,
                zone: zone.clone(),
                continent: continent.clone(),
                root_shoot: *root_shoot,
                carbon_fraction: *carbon_fraction,
                removals_m3: *removals_m3,
                bcef_r: *bcef_r,
                years: *years,
                ..Default::default()
            };
            let account = forest::forest_remaining_forest(&inputs)?;
            let mc = crate::uncertainty::forest_monte_carlo(&account, *area_ha, 5000)?;
            let kind = match zone {
                Some(z) if z.contains("forest") || z.contains("system") => z.clone(),
                Some(z) => format!("{z} forest"),
                None => "forest".into(),
            };
            let label = match continent {
                Some(c) => format!("{area_ha} ha of {kind} in {c}"),
                None => format!("{area_ha} ha of {kind}"),
            };
            let mut out = account_output(&account, &label, *area_ha);
            if let Some(p) = mc {
                let s = &p.summaries[0];
                if let Some(q) = out.quantities.iter_mut().find(|q| q.measure == "net_co2_annual") {
                    q.quantity.uncertainty = Uncertainty::Interval {
                        low: s.p2_5,
                        high: s.p97_5,
                        confidence: 0.95,
                    };
                }
                let drivers: Vec<String> = p.rank_correlations[0]
                    .iter()
                    .map(|(n, r)| format!("{n} (Spearman ρ = {r:.2})"))
                    .collect();
                out.notes.push(format!(
                    "Uncertainty: Monte Carlo ({} Latin-hypercube draws; growth lognormal with the IPCC mean and SD, \
                     carbon fraction triangular over its range): mean {:.0}, 95 % interval {:.0} to {:.0} t CO2/yr. \
                     Drivers: {}.",
                    p.iterations,
                    s.mean,
                    s.p2_5,
                    s.p97_5,
                    drivers.join(", ")
                ));
            }
            Ok(out)
        }
    }
}

/// A Tier 1 account as Quantities (annual and total net CO2, by pool) and a sink node.
pub fn account_output(account: &Account, label: &str, area_ha: f64) -> TaskOutput {
    let mut prov = Provenance::new(
        "IPCC AFOLU defaults (data/afolu)",
        "2006 Guidelines Vol. 4, 2019 Refinement",
        &account.method,
    )
    .param("area_ha", area_ha)
    .param("years", account.years.len())
    .cite("IPCC 2006 Guidelines for National Greenhouse Gas Inventories, Vol. 4; 2019 Refinement");
    for (k, p) in &account.parameters {
        prov = prov.param(*k, format!("{} {} ({})", p.value, p.unit, p.source));
    }
    let first = account.years.first();
    let annual = first.map(|y| y.net_co2_t).unwrap_or(0.0);
    let mut annual_q = Quantity::new(annual, "t CO2/yr", prov.clone());
    if let Some((low, high)) = account.annual_net_co2_interval_t {
        annual_q = annual_q.with_uncertainty(Uncertainty::Interval {
            low,
            high,
            confidence: 0.95,
        });
    }
    let dims = |extra: &[(&str, &str)]| {
        let mut d: std::collections::BTreeMap<String, String> =
            [("sink".to_string(), label.to_string())].into_iter().collect();
        d.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        d
    };
    let mut out = TaskOutput::default();
    out.quantities.push(LabeledQuantity {
        measure: "net_co2_annual".into(),
        label: format!("Net CO2 of {label}, per year (negative = removal)"),
        dimensions: dims(&[]),
        quantity: annual_q.clone(),
    });
    out.quantities.push(LabeledQuantity {
        measure: "net_co2_total".into(),
        label: match account.years.len() {
            1 => format!("Net CO2 of {label} over 1 year"),
            n => format!("Net CO2 of {label} over {n} years"),
        },
        dimensions: dims(&[]),
        quantity: Quantity::new(account.total_net_co2_t, "t CO2", prov.clone()),
    });
    if let Some(y) = first {
        for (pool, v) in [
            ("above_ground_biomass", y.by_pool_co2_t.above_ground_biomass),
            ("below_ground_biomass", y.by_pool_co2_t.below_ground_biomass),
            ("dead_wood", y.by_pool_co2_t.dead_wood),
            ("litter", y.by_pool_co2_t.litter),
            ("soil", y.by_pool_co2_t.soil),
        ] {
            out.quantities.push(LabeledQuantity {
                measure: "net_co2_by_pool".into(),
                label: format!("Net CO2 per year, {}", pool.replace('_', " ")),
                dimensions: dims(&[("pool", pool)]),
                quantity: Quantity::new(v, "t CO2/yr", prov.clone()),
            });
        }
    }
    let id = format!("sink:{}", label.to_lowercase().replace(' ', "-"));
    let mut node = GraphNode::new(&id, NodeKind::Sink, label);
    node.attributes.insert("method".into(), account.method.clone());
    out.graph
        .nodes
        .push(GraphNode::new("atmosphere", NodeKind::Atmosphere, "Atmosphere"));
    out.graph.nodes.push(node);
    // A removal is an edge from the atmosphere into the sink, carrying the CO2 removed (positive).
    out.graph.edges.push(GraphEdge {
        from: "atmosphere".into(),
        to: id,
        kind: EdgeKind::Removal,
        quantity: Some(Quantity::new(-annual, "t CO2/yr", prov)),
    });
    if let Some(y) = first {
        let p = &y.by_pool_c_t;
        let sum = p.above_ground_biomass + p.below_ground_biomass + p.dead_wood + p.litter + p.soil;
        let residual = (sum - y.net_c_t).abs();
        out.findings.push(cb_protocol::Finding::new(
            "pools add up to the net change",
            "the sum of the five pools' carbon stock changes against the net stock change, year 1",
            &[("sum_of_pools_t_c", sum), ("net_t_c", y.net_c_t)],
            "relative 1e-9",
            residual <= 1e-9 * y.net_c_t.abs().max(1.0),
        ));
    }
    out.notes.extend(account.assumptions.iter().cloned());
    for (k, p) in &account.parameters {
        out.notes
            .push(format!("{k} = {} {} — {}", p.value, p.unit, p.source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_growth_carries_a_monte_carlo_interval_and_its_drivers() {
        let out = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::Forest {
                area_ha: 10_000.0,
                zone: Some("tropical rainforest".into()),
                continent: Some("africa".into()),
                growth_t_dm_per_ha_yr: None,
                root_shoot: Some(0.37),
                carbon_fraction: None,
                removals_m3: None,
                bcef_r: None,
                years: 1,
            }))
            .unwrap();
        let q = &out.quantities[0].quantity;
        match q.uncertainty {
            Uncertainty::Interval { low, high, .. } => assert!(low < q.value && q.value < high && high < 0.0),
            ref other => panic!("{other:?}"),
        }
        let note = out
            .notes
            .iter()
            .find(|n| n.starts_with("Uncertainty: Monte Carlo"))
            .unwrap();
        assert!(note.contains("Drivers: growth_g_w"), "{note}");
    }

    #[test]
    fn a_forest_task_gives_quantities_and_a_sink() {
        let out = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::Forest {
                area_ha: 1000.0,
                zone: None,
                continent: None,
                growth_t_dm_per_ha_yr: Some(5.0),
                root_shoot: Some(0.37),
                carbon_fraction: Some(0.47),
                removals_m3: None,
                bcef_r: None,
                years: 1,
            }))
            .unwrap();
        let annual = &out.quantities[0];
        assert_eq!(annual.measure, "net_co2_annual");
        assert!((annual.quantity.value + 11804.833333333334).abs() < 1e-6);
        assert!(out.graph.nodes.iter().any(|n| n.kind == NodeKind::Sink));
        let edge = &out.graph.edges[0];
        assert_eq!((edge.from.as_str(), edge.kind), ("atmosphere", EdgeKind::Removal));
        assert!(edge.quantity.as_ref().unwrap().value > 0.0);
    }
}
