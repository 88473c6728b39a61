//! The sinks agent's work: a [`SinksTask`] in, Quantities and a graph fragment out; and its actor.

use cb_agent_runtime::{Agent, AgentActor, wrong_agent};
use cb_protocol::text::Text;
use cb_protocol::{
    AgentKind, EdgeKind, GraphEdge, GraphNode, LabeledQuantity, NodeKind, Provenance, Quantity, SinksTask,
    SoilManagement, TaskError, TaskErrorKind, TaskOutput, TaskSpec, Uncertainty,
};

use crate::SinksError;
use crate::forest::{self, Account, FactorSpec, ForestInputs, LandUseChangeInputs, SoilFactors, SoilInputs};

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
            let area = area_ha.to_string();
            let label = match continent {
                Some(c) => Text::new(
                    "sink_forest_in",
                    &[("area", &area), ("kind", &kind), ("continent", c)],
                ),
                None => Text::new("sink_forest", &[("area", &area), ("kind", &kind)]),
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
                let drivers: Vec<Text> = p.rank_correlations[0]
                    .iter()
                    .map(|(n, r)| Text::new("driver_spearman", &[("input", n), ("rho", &format!("{r:.2}"))]))
                    .collect();
                out.note(
                    Text::new(
                        "note_forest_mc",
                        &[
                            ("draws", &p.iterations.to_string()),
                            ("mean", &format!("{:.0}", s.mean)),
                            ("low", &format!("{:.0}", s.p2_5)),
                            ("high", &format!("{:.0}", s.p97_5)),
                        ],
                    )
                    .list("drivers", drivers),
                );
            }
            Ok(out)
        }
        SinksTask::Soil {
            area_ha,
            climate,
            soc_ref_t_c_per_ha,
            before,
            after,
            transition_years,
            years,
        } => {
            let factors = |m: &SoilManagement| SoilFactors {
                f_lu: FactorSpec::parse(&m.land_use),
                f_mg: FactorSpec::parse(&m.tillage),
                f_i: FactorSpec::parse(&m.input),
            };
            let account = forest::soil(&SoilInputs {
                area_ha: *area_ha,
                soc_ref: *soc_ref_t_c_per_ha,
                soc_ref_source: None,
                climate: climate.clone(),
                before: factors(before),
                after: factors(after),
                transition_years: *transition_years,
                years: *years,
            })?;
            let label = Text::new(
                "sink_soil",
                &[("area", &area_ha.to_string()), ("climate", climate)],
            )
            .list("before", vec![management_text(before)])
            .list("after", vec![management_text(after)]);
            Ok(account_output(&account, &label, *area_ha))
        }
        SinksTask::LandUseChange {
            area_ha,
            biomass_before_t_dm_per_ha,
            biomass_after_t_dm_per_ha,
            carbon_fraction,
            soc_before_t_c_per_ha,
            soc_after_t_c_per_ha,
            years,
        } => {
            let account = forest::land_use_change(&LandUseChangeInputs {
                area_ha: *area_ha,
                biomass_before: *biomass_before_t_dm_per_ha,
                biomass_after: *biomass_after_t_dm_per_ha,
                carbon_fraction: *carbon_fraction,
                soc_before: *soc_before_t_c_per_ha,
                soc_after: *soc_after_t_c_per_ha,
                dom_gain_years: 20,
                soc_years: 20,
                years: *years,
                ..Default::default()
            })?;
            let label = Text::new(
                "sink_conversion",
                &[
                    ("area", &area_ha.to_string()),
                    ("before", &biomass_before_t_dm_per_ha.to_string()),
                    ("after", &biomass_after_t_dm_per_ha.to_string()),
                ],
            );
            let mut out = account_output(&account, &label, *area_ha);
            // The conversion is a one-off: year 1 is not a yearly rate.
            for q in out.quantities.iter_mut() {
                let relabel = match q.measure.as_str() {
                    "net_co2_annual" => {
                        q.measure = "net_co2_first_year".into();
                        Text::new("label_net_co2_first_year", &[]).list("sink", vec![label.clone()])
                    }
                    "net_co2_by_pool" => {
                        let pool = q
                            .dimensions
                            .get("pool")
                            .map_or(String::new(), |p| p.replace('_', " "));
                        Text::new("label_net_co2_by_pool_first_year", &[("pool", &pool)])
                    }
                    _ => continue,
                };
                q.label = relabel.english();
                q.label_text = Some(relabel);
                q.quantity.unit = "t CO2".into();
            }
            Ok(out)
        }
        SinksTask::WoodProducts {
            inflow_t_c,
            product,
            half_life_years,
            years,
        } => wood_products(*inflow_t_c, product, *half_life_years, *years),
    }
}

fn management_text(m: &SoilManagement) -> Text {
    Text::new(
        "soil_management",
        &[
            ("land_use", &m.land_use),
            ("tillage", &m.tillage),
            ("input", &m.input),
        ],
    )
}

/// One year's inflow to a harvested wood product pool decayed over `years` (Eq. 12.1): the carbon
/// still stored, as carbon and as the CO2 kept out of the atmosphere.
fn wood_products(
    inflow_t_c: f64,
    product: &str,
    half_life: Option<f64>,
    years: u32,
) -> Result<TaskOutput, TaskError> {
    let (half_life, source, source_text) = match half_life {
        Some(h) => (
            h,
            "given in the question".to_string(),
            Text::new("hwp_half_life_given", &[]),
        ),
        None => {
            let d = crate::defaults::hwp_half_life(product)?;
            (
                d.value,
                d.source,
                Text::new("hwp_half_life_default", &[("product", product)]),
            )
        }
    };
    // The protocol bounds years to 1..=1000; a task that skipped validation is refused, not indexed.
    if !(1..=1000).contains(&years) {
        return Err(TaskError::new(
            TaskErrorKind::InvalidInput,
            format!("years is {years}, must be between 1 and 1000"),
        ));
    }
    let mut inflows = vec![0.0; years as usize];
    inflows[0] = inflow_t_c;
    let path = crate::engine::hwp::simulate(0.0, &inflows, half_life);
    let stock = path.last().map(|(s, _)| *s).unwrap_or(0.0);
    let method =
        format!("IPCC 2019 Vol. 4 Eq. 12.1 (first-order decay, k = ln 2 / {half_life} yr; inflow in year 1)");
    let prov = Provenance::new("IPCC AFOLU defaults (data/afolu)", "2019 Refinement", &method)
        .param("inflow_t_c", inflow_t_c)
        .param("product", product)
        .param("half_life_years", format!("{half_life} ({source})"))
        .param("years", years)
        .cite("IPCC 2019 Refinement, Vol. 4, ch. 12");
    let label = Text::new(
        "sink_hwp",
        &[("inflow", &inflow_t_c.to_string()), ("product", product)],
    );
    let (sink, years_s) = (label.english(), years.to_string());
    let dims = [("sink", sink.as_str()), ("years", years_s.as_str())];
    let stored = |key: &str| Text::new(key, &[("years", &years_s)]).list("sink", vec![label.clone()]);
    let mut out = TaskOutput::default();
    out.quantities.push(LabeledQuantity::new(
        "hwp_stock",
        stored("label_hwp_stock"),
        &dims,
        Quantity::new(stock, "t C", prov.clone()),
    ));
    out.quantities.push(LabeledQuantity::new(
        "hwp_stock_co2",
        stored("label_hwp_stock_co2"),
        &dims,
        Quantity::new(
            -crate::engine::co2_flux_from_stock_change(stock),
            "t CO2",
            prov.clone(),
        ),
    ));
    // An independent computation of the same stock: the closed form of a pulse under Eq. 12.1.
    let k = crate::engine::hwp::decay_constant(half_life);
    let closed = inflow_t_c * (1.0 - (-k).exp()) / k * (-k * (years as f64 - 1.0)).exp();
    out.findings.push(cb_protocol::Finding::new(
        "year-by-year decay matches the closed form",
        "the stock after stepping Eq. 12.1 each year against inflow × (1 − e^−k)/k × e^−k(n−1)",
        &[("stepped_t_c", stock), ("closed_form_t_c", closed)],
        "relative 1e-9",
        (stock - closed).abs() <= 1e-9 * closed.abs().max(1.0),
    ));
    let id = format!("sink:hwp-{}", product.to_lowercase().replace(' ', "-"));
    out.graph.nodes.push(GraphNode::new(
        &id,
        NodeKind::Sink,
        format!("Harvested wood products: {product}"),
    ));
    out.note(
        Text::new("note_hwp_half_life", &[("half_life", &half_life.to_string())])
            .list("source", vec![source_text]),
    );
    Ok(out)
}

/// A Tier 1 account as Quantities (annual and total net CO2, by pool) and a sink node.
pub fn account_output(account: &Account, sink: &Text, area_ha: f64) -> TaskOutput {
    let label = sink.english();
    let label = label.as_str();
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
    let of_sink =
        |key: &str, values: &[(&str, &str)]| Text::new(key, values).list("sink", vec![sink.clone()]);
    out.quantities.push(LabeledQuantity {
        dimensions: dims(&[]),
        ..LabeledQuantity::new(
            "net_co2_annual",
            of_sink("label_net_co2_annual", &[]),
            &[],
            annual_q.clone(),
        )
    });
    let total_label = match account.years.len() {
        1 => of_sink("label_net_co2_total_1", &[]),
        n => of_sink("label_net_co2_total", &[("years", &n.to_string())]),
    };
    out.quantities.push(LabeledQuantity {
        dimensions: dims(&[]),
        ..LabeledQuantity::new(
            "net_co2_total",
            total_label,
            &[],
            Quantity::new(account.total_net_co2_t, "t CO2", prov.clone()),
        )
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
                dimensions: dims(&[("pool", pool)]),
                ..LabeledQuantity::new(
                    "net_co2_by_pool",
                    Text::new("label_net_co2_by_pool", &[("pool", &pool.replace('_', " "))]),
                    &[],
                    Quantity::new(v, "t CO2/yr", prov.clone()),
                )
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
    if let Some(y) = first.filter(|_| account.pools_computed_apart) {
        out.findings.push(pools_finding(y));
    }
    for a in &account.assumptions {
        out.note(a.clone());
    }
    for (k, p) in &account.parameters {
        out.note(Text::new(
            "note_parameter",
            &[
                ("name", k),
                ("value", &p.value.to_string()),
                ("unit", p.unit),
                ("source", &p.source),
            ],
        ));
    }
    out
}

/// The pools' changes, each computed from the inputs, summed against the net change from the
/// total gain and losses.
pub fn pools_finding(y: &crate::forest::AccountYear) -> cb_protocol::Finding {
    let p = &y.by_pool_c_t;
    let sum = p.above_ground_biomass + p.below_ground_biomass + p.dead_wood + p.litter + p.soil;
    let residual = (sum - y.net_c_t).abs();
    cb_protocol::Finding::new(
        "pools add up to the net change",
        "the five pools' carbon stock changes, each from the inputs (gain and every loss split into above- \
         and below-ground by whether it carries the root-to-shoot term), summed, against the net change \
         from the total gain and losses (Eqs. 2.7, 2.11), year 1",
        &[("sum_of_pools_t_c", sum), ("net_t_c", y.net_c_t)],
        "relative 1e-9",
        residual <= 1e-9 * y.net_c_t.abs().max(1.0),
    )
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

    #[test]
    fn soil_after_cultivation_loses_carbon_over_the_transition() {
        // 100 ha, SOC_REF 80 t C/ha, temperate moist: native 8,000 t C → long-term cultivated
        // (F_LU 0.69, Table 5.5) 5,520 t C; −124 t C a year for 20 years = 454.67 t CO2/yr emitted.
        let management = |land_use: &str| SoilManagement {
            land_use: land_use.into(),
            tillage: "full tillage".into(),
            input: "medium".into(),
        };
        let out = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::Soil {
                area_ha: 100.0,
                climate: "temperate/boreal moist".into(),
                soc_ref_t_c_per_ha: 80.0,
                before: management("native"),
                after: management("long-term cultivated"),
                transition_years: 20,
                years: 20,
            }))
            .unwrap();
        let annual = out
            .quantities
            .iter()
            .find(|q| q.measure == "net_co2_annual")
            .unwrap();
        assert!(
            (annual.quantity.value - 124.0 * 44.0 / 12.0).abs() < 1e-9,
            "{}",
            annual.quantity.value
        );
        let total = out
            .quantities
            .iter()
            .find(|q| q.measure == "net_co2_total")
            .unwrap();
        assert!((total.quantity.value - 2480.0 * 44.0 / 12.0).abs() < 1e-6);
        // A tillage level whose factor is not confirmed is an error naming what to pass.
        let err = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::Soil {
                area_ha: 100.0,
                climate: "temperate/boreal moist".into(),
                soc_ref_t_c_per_ha: 80.0,
                before: management("long-term cultivated"),
                after: SoilManagement {
                    tillage: "no-till".into(),
                    ..management("long-term cultivated")
                },
                transition_years: 20,
                years: 20,
            }))
            .unwrap_err();
        assert!(err.message.contains("F_MG"), "{}", err.message);
    }

    #[test]
    fn clearing_emits_the_biomass_carbon_in_the_year_of_conversion() {
        // 500 ha × 300 t d.m./ha × 0.47 t C/t d.m. = 70,500 t C = 258,500 t CO2.
        let out = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::LandUseChange {
                area_ha: 500.0,
                biomass_before_t_dm_per_ha: 300.0,
                biomass_after_t_dm_per_ha: 0.0,
                carbon_fraction: None,
                soc_before_t_c_per_ha: None,
                soc_after_t_c_per_ha: None,
                years: 1,
            }))
            .unwrap();
        let first = out
            .quantities
            .iter()
            .find(|q| q.measure == "net_co2_first_year")
            .unwrap();
        assert!(
            (first.quantity.value - 70_500.0 * 44.0 / 12.0).abs() < 1e-6,
            "{}",
            first.quantity.value
        );
        assert!(out.quantities.iter().all(|q| q.measure != "net_co2_annual"));
    }

    #[test]
    fn wood_products_keep_what_first_order_decay_leaves() {
        let out = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::WoodProducts {
                inflow_t_c: 1000.0,
                product: "sawnwood".into(),
                half_life_years: None,
                years: 35,
            }))
            .unwrap();
        let stock = out.quantities.iter().find(|q| q.measure == "hwp_stock").unwrap();
        // Hand-computed: k = ln 2 / 35; 1000 × (1 − e^−k)/k × e^(−34k) = 504.98 t C.
        let k = std::f64::consts::LN_2 / 35.0;
        let expected = 1000.0 * (1.0 - (-k).exp()) / k * (-34.0 * k).exp();
        assert!((stock.quantity.value - expected).abs() < 1e-9);
        assert!(
            (stock.quantity.value - 504.98).abs() < 0.01,
            "{}",
            stock.quantity.value
        );
        assert!(out.findings.iter().all(|f| f.passed));
        let err = SinksAgent
            .run(&TaskSpec::Sinks(SinksTask::WoodProducts {
                inflow_t_c: 1.0,
                product: "pallets".into(),
                half_life_years: None,
                years: 5,
            }))
            .unwrap_err();
        assert!(err.message.contains("half-life"), "{}", err.message);
    }
}
