//! The factory agent's work: a [`FactoryTask`] in, Quantities and a graph of plant units and
//! their energy and material flows out; and its actor.

use cb_agent_runtime::{Agent, AgentActor, wrong_agent};
use cb_protocol::text::Text;
use cb_protocol::{
    AgentKind, EdgeKind, FactoryTask, GraphEdge, GraphFragment, GraphNode, LabeledQuantity, NodeKind,
    Provenance, Quantity, TaskError, TaskErrorKind, TaskOutput, TaskSpec, Uncertainty,
};

use crate::FactoryError;
use crate::bundled;
use crate::engine::optimize::{Objective, optimize_against_baseline};
use crate::engine::simulate::{Run, baseline_schedule, simulate};
use crate::model::Plant;

/// The factory agent (stateless: plants and the profile are compiled in or read per task).
#[derive(Default)]
pub struct FactoryAgent;

/// The factory agent's actor.
pub type FactoryActor = AgentActor<FactoryAgent>;

impl From<FactoryError> for TaskError {
    fn from(e: FactoryError) -> Self {
        let kind = match e {
            FactoryError::NotFound(_) => TaskErrorKind::NotFound,
            FactoryError::Balance(_) | FactoryError::Solver(_) => TaskErrorKind::Internal,
            _ => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

impl Agent for FactoryAgent {
    const KIND: AgentKind = AgentKind::Factory;

    fn run(&mut self, task: &TaskSpec) -> Result<TaskOutput, TaskError> {
        match task {
            TaskSpec::Factory(t) => run_factory(t),
            other => Err(wrong_agent(Self::KIND, other)),
        }
    }
}

fn quantity(measure: &str, label: Text, plant: &str, q: Quantity) -> LabeledQuantity {
    LabeledQuantity::new(measure, label, &[("plant", plant)], q)
}

/// Relative tolerance between the solver's objective and the re-simulated schedule: HiGHS's
/// default feasibility tolerance is 1e-7, and outputs below zero by that much are set to zero.
pub const SCHEDULE_TOLERANCE: f64 = 1e-6;

/// The optimiser's own objective (HiGHS's value, or the coefficient sum where the baseline was
/// kept) against the chosen schedule re-run through the hourly simulator, which recomputes
/// every balance, cost and emission from the plant file: [`carbon_cost`]. Two computations
/// apart, so a schedule the LP did not cost as simulated fails.
pub fn schedule_check(
    lp_objective: f64,
    simulated: &Run,
    carbon_price: f64,
    on_grid: bool,
    kept: bool,
) -> cb_protocol::Finding {
    let resimulated = carbon_cost(simulated, carbon_price, on_grid);
    let scale = lp_objective.abs().max(resimulated.abs()).max(1.0);
    let relative = (lp_objective - resimulated).abs() / scale;
    cb_protocol::Finding::new(
        "optimiser objective against the re-simulated schedule",
        if kept {
            "objective of the kept baseline from the LP's cost coefficients against the same schedule re-simulated hour by hour"
        } else {
            "HiGHS's objective value against the optimal schedule re-simulated hour by hour (cost + carbon price × the CO2 it is charged on)"
        },
        &[
            ("optimiser_objective_eur", lp_objective),
            ("resimulated_eur", resimulated),
            ("relative_difference", relative),
        ],
        format!("relative {SCHEDULE_TOLERANCE}"),
        relative <= SCHEDULE_TOLERANCE,
    )
}

/// A run's cost with the carbon price: on direct emissions, and on grid emissions unless the
/// power price already carries the carbon cost (`on_grid` false).
pub fn carbon_cost(run: &Run, carbon_price: f64, on_grid: bool) -> f64 {
    let priced = if on_grid {
        run.totals.emissions_t
    } else {
        run.totals.direct_co2_t
    };
    run.totals.cost_eur + carbon_price * priced
}

/// Runs one factory task.
pub fn run_factory(task: &FactoryTask) -> Result<TaskOutput, TaskError> {
    match task {
        FactoryTask::Optimize {
            plant,
            hours,
            carbon_price,
            monte_carlo,
            carbon_price_on_grid,
            profile: profile_id,
            country,
        } => {
            let p = bundled::plant(plant)?;
            let profile_id = profile_id.as_deref().unwrap_or("synthetic");
            if !bundled::PROFILES.iter().any(|(id, _)| *id == profile_id) {
                return Err(TaskError::new(
                    TaskErrorKind::InvalidInput,
                    format!("{profile_id:?} is not a bundled profile"),
                ));
            }
            let grid = plant_grid(profile_id, country.as_deref(), *hours)?;
            let profile = grid.profile;
            let on_grid = *carbon_price_on_grid;
            let objective = Objective::MinCost {
                carbon_price: *carbon_price,
                price_indirect: on_grid,
            };
            let (baseline, opt, kept) = optimize_against_baseline(&p, &profile, objective)?;
            let base = simulate(&p, &profile, &baseline, |_, _| {})?;
            let best = simulate(&p, &profile, &opt.schedule, |_, _| {})?;
            let prov = Provenance::new(
                format!("bundled plant {plant}"),
                "data/factory (factors cited in the plant file; prices illustrative)",
                format!(
                    "least-cost hourly schedule (HiGHS {}), cost + {carbon_price} EUR/t × ({})",
                    if opt.solver.integer_columns > 0 {
                        "MILP"
                    } else {
                        "LP"
                    },
                    if on_grid {
                        "direct + grid CO2"
                    } else {
                        "direct CO2; the power price carries the grid's"
                    }
                ),
            )
            .param("hours", hours)
            .param("carbon_price_eur_per_t", carbon_price)
            .param("profile", &grid.described);
            let mut out = TaskOutput::default();
            out.note(grid.note.clone());
            let hours_s = hours.to_string();
            for (case, run) in [("case_baseline", &base), ("case_optimized", &best)] {
                let label = |key: &str| {
                    Text::new(key, &[("plant", &p.name), ("hours", &hours_s)])
                        .list("case", vec![Text::new(case, &[])])
                };
                out.quantities.push(quantity(
                    "emissions",
                    label("label_plant_emissions"),
                    plant,
                    Quantity::new(run.totals.emissions_t, "t CO2", prov.clone()),
                ));
                out.quantities.push(quantity(
                    "cost",
                    label("label_plant_cost"),
                    plant,
                    Quantity::new(run.totals.cost_eur, "EUR", prov.clone()),
                ));
            }
            let carbon_cost = |r: &Run| carbon_cost(r, *carbon_price, on_grid);
            out.quantities.push(quantity(
                "emissions_cut",
                Text::new("label_emissions_cut", &[("hours", &hours_s)]),
                plant,
                Quantity::new(
                    difference(base.totals.emissions_t, best.totals.emissions_t),
                    "t CO2",
                    prov.clone(),
                ),
            ));
            out.quantities.push(quantity(
                "cost_saving",
                Text::new(
                    "label_cost_saving",
                    &[("price", &carbon_price.to_string()), ("hours", &hours_s)],
                ),
                plant,
                Quantity::new(
                    difference(carbon_cost(&base), carbon_cost(&best)),
                    "EUR",
                    prov.clone(),
                ),
            ));
            match monte_carlo {
                Some(mc) => {
                    let c =
                        crate::uncertainty::compare_schedules(&p, &profile, &baseline, &opt.schedule, mc)?;
                    let interval = |s: &cb_uncertainty::engine::stats::Summary| Uncertainty::Interval {
                        low: s.p2_5,
                        high: s.p97_5,
                        confidence: 0.95,
                    };
                    // The first four quantities: (emissions, cost) of the baseline, then of the optimum.
                    for (pair, prop) in out.quantities.chunks_mut(2).zip([&c.baseline, &c.optimized]) {
                        pair[0].quantity.uncertainty = interval(&prop.summaries[0]);
                        pair[1].quantity.uncertainty = interval(&prop.summaries[1]);
                    }
                    if let Some(q) = out.quantities.iter_mut().find(|q| q.measure == "emissions_cut") {
                        q.quantity.uncertainty = interval(&c.emissions_cut);
                    }
                    let drivers: Vec<Text> = c
                        .emission_drivers
                        .iter()
                        .take(5)
                        .map(|(n, r)| {
                            Text::new(
                                "driver_spearman_signed",
                                &[("input", n), ("rho", &format!("{r:+.2}"))],
                            )
                        })
                        .collect();
                    out.note(
                        Text::new(
                            "note_plant_mc",
                            &[
                                ("draws", &mc.iterations.to_string()),
                                ("seed", &mc.seed.to_string()),
                                ("factor_gsd", &mc.factor_gsd.to_string()),
                                ("price_gsd", &mc.price_gsd.to_string()),
                            ],
                        )
                        .list("drivers", drivers),
                    );
                }
                None => out.note(Text::new("note_plant_no_mc", &[])),
            }
            out.graph = plant_graph(&p, &best, &prov);
            out.findings
                .push(schedule_check(opt.objective, &best, *carbon_price, on_grid, kept));
            out.note(Text::new(
                if on_grid {
                    "note_plant_carbon_on_grid"
                } else {
                    "note_plant_carbon_in_power_price"
                },
                &[("price", &carbon_price.to_string())],
            ));
            if let Some(r) = profile.price_intensity_correlation() {
                out.note(Text::new(
                    if r > 0.9 {
                        "note_profile_correlated"
                    } else {
                        "note_profile_correlation"
                    },
                    &[("r", &format!("{r:.2}")), ("profile", profile_id)],
                ));
            }
            if kept {
                out.note(Text::new("note_baseline_kept", &[]));
            }
            let binding: Vec<Text> = opt
                .binding
                .iter()
                .map(|b| {
                    Text::new(
                        "binding_constraint",
                        &[
                            ("constraint", &b.constraint),
                            ("subject", &b.subject),
                            ("hours", &b.hours.to_string()),
                        ],
                    )
                })
                .collect();
            if !binding.is_empty() {
                out.note(Text::new("note_binding", &[]).list("constraints", binding));
            }
            out.note(Text::new("note_synthetic_profile", &[]));
            // Last, so the first four stay the baseline's and the optimum's emissions and cost.
            out.quantities.extend(grid.mean);
            Ok(out)
        }
        FactoryTask::Intensity {
            plant,
            hours,
            country,
        } => intensity(plant, *hours, country.as_deref()),
        FactoryTask::GridIntensity {
            place,
            factor,
            year,
            source,
        } => grid_intensity(place, *factor, *year, *source),
        FactoryTask::Macc {
            plant,
            target_t_per_yr,
            carbon_price,
        } => {
            let m = bundled::measures(plant)?;
            let curve = m.curve();
            let prov = Provenance::new(
                format!("measures for {plant}"),
                "data/factory/measures (ILLUSTRATIVE numbers)",
                format!(
                    "marginal abatement cost curve, CRF at {} discount rate",
                    m.discount_rate
                ),
            );
            let mut out = TaskOutput::default();
            // Each measure's step of the curve: its height (cost) and width (potential).
            for pt in &curve {
                let dimensions: std::collections::BTreeMap<String, String> = [
                    ("plant".to_string(), plant.clone()),
                    ("measure".to_string(), pt.name.clone()),
                ]
                .into_iter()
                .collect();
                let potential = format!("{:.0}", pt.abatement_t_per_yr);
                out.quantities.push(LabeledQuantity {
                    dimensions: dimensions.clone(),
                    ..LabeledQuantity::new(
                        "abatement_cost",
                        Text::new(
                            "label_abatement_cost",
                            &[("measure", &pt.name), ("potential", &potential)],
                        ),
                        &[],
                        Quantity::new(pt.cost_eur_per_t, "EUR/t CO2", prov.clone()),
                    )
                });
                out.quantities.push(LabeledQuantity {
                    dimensions,
                    ..LabeledQuantity::new(
                        "abatement_potential",
                        Text::new("label_abatement_potential", &[("measure", &pt.name)]),
                        &[],
                        Quantity::new(pt.abatement_t_per_yr, "t CO2/yr", prov.clone()),
                    )
                });
            }
            if let Some(t) = target_t_per_yr {
                let s = m.least_cost_set(*t)?;
                out.quantities.push(quantity(
                    "least_cost_set_cost",
                    Text::new(
                        "label_least_cost_set",
                        &[("target", &format!("{t:.0}")), ("measures", &s.chosen.join(", "))],
                    ),
                    plant,
                    Quantity::new(s.annualised_cost_eur_per_yr, "EUR/yr", prov.clone()),
                ));
            }
            if let Some(price) = carbon_price {
                let paying: Vec<&str> = curve
                    .iter()
                    .filter(|p| p.cost_eur_per_t <= *price)
                    .map(|p| p.name.as_str())
                    .collect();
                let abated: f64 = curve
                    .iter()
                    .filter(|p| p.cost_eur_per_t <= *price)
                    .map(|p| p.abatement_t_per_yr)
                    .sum();
                let price_s = price.to_string();
                out.note(if paying.is_empty() {
                    Text::new("note_no_measure_pays", &[("price", &price_s)])
                } else {
                    Text::new(
                        "note_measures_pay",
                        &[
                            ("price", &price_s),
                            ("measures", &paying.join(", ")),
                            ("abated", &format!("{abated:.0}")),
                        ],
                    )
                });
            }
            out.notes.push(m.description.clone());
            Ok(out)
        }
    }
}

/// Units, supplies and flows of a run as a graph fragment.
pub fn plant_graph(plant: &Plant, run: &Run, prov: &Provenance) -> GraphFragment {
    let id = |name: &str| {
        format!(
            "unit:{}:{}",
            plant.name.to_lowercase().replace(' ', "-"),
            name.replace(' ', "-")
        )
    };
    let mut g = GraphFragment::default();
    g.nodes
        .push(GraphNode::new("atmosphere", NodeKind::Atmosphere, "Atmosphere"));
    g.nodes.push(GraphNode::new(
        "supply:grid",
        NodeKind::Supply,
        "Electricity grid",
    ));
    let totals: Vec<f64> = (0..plant.units.len())
        .map(|u| run.hours.iter().map(|h| h.production_t[u]).sum())
        .collect();
    for (u, unit) in plant.units.iter().enumerate() {
        let mut node = GraphNode::new(id(&unit.name), NodeKind::PlantUnit, &unit.name);
        node.attributes.insert("product".into(), unit.product.clone());
        node.quantities.insert(
            "production".into(),
            Quantity::new(totals[u], format!("t {}", unit.product), prov.clone()),
        );
        g.nodes.push(node);
        let mwh = totals[u] * plant.electricity_mwh_per_t(unit);
        if mwh > 0.0 {
            g.edges.push(GraphEdge {
                from: "supply:grid".into(),
                to: id(&unit.name),
                kind: EdgeKind::Supplies,
                quantity: Some(Quantity::new(mwh, "MWh", prov.clone())),
            });
        }
        for (f, per_t) in &unit.fuels {
            let fid = format!("supply:{f}");
            if !g.nodes.iter().any(|n| n.id == fid) {
                g.nodes.push(GraphNode::new(&fid, NodeKind::Supply, f));
            }
            g.edges.push(GraphEdge {
                from: fid,
                to: id(&unit.name),
                kind: EdgeKind::Supplies,
                quantity: Some(Quantity::new(per_t * totals[u], "MWh", prov.clone())),
            });
        }
        for (p, a) in &unit.inputs {
            let from = match plant.units.iter().find(|v| &v.product == p) {
                Some(v) => id(&v.name),
                None => {
                    let sid = format!("supply:{p}");
                    if !g.nodes.iter().any(|n| n.id == sid) {
                        g.nodes.push(GraphNode::new(&sid, NodeKind::Supply, p));
                    }
                    sid
                }
            };
            g.edges.push(GraphEdge {
                from,
                to: id(&unit.name),
                kind: EdgeKind::Supplies,
                quantity: Some(Quantity::new(a * totals[u], format!("t {p}"), prov.clone())),
            });
        }
        let direct = totals[u] * plant.direct_co2_t_per_t(unit);
        if direct > 0.0 {
            g.edges.push(GraphEdge {
                from: id(&unit.name),
                to: "atmosphere".into(),
                kind: EdgeKind::TerritorialEmissions,
                quantity: Some(Quantity::new(direct, "t CO2", prov.clone())),
            });
        }
    }
    g
}

/// The plant run steadily (its baseline) over `hours` of the bundled profile: t CO2 per t of the
/// product delivered, direct (fuels and process, net of capture) and indirect (grid electricity).
fn intensity(plant: &str, hours: u32, country: Option<&str>) -> Result<TaskOutput, TaskError> {
    let p = bundled::plant(plant)?;
    let grid = plant_grid("synthetic", country, hours)?;
    let profile = grid.profile;
    let run = simulate(&p, &profile, &baseline_schedule(&p, hours as usize), |_, _| {})?;
    let t = &run.totals;
    if t.delivered_t <= 0.0 {
        return Err(TaskError::new(
            TaskErrorKind::InvalidInput,
            format!("{plant} delivers no product in {hours} h, so it has no intensity"),
        ));
    }
    let product = &p.demand.product;
    let prov = Provenance::new(
        format!("bundled plant {plant}"),
        "data/factory (factors cited in the plant file)",
        format!("steady baseline over {hours} h; emissions ÷ {product} delivered"),
    )
    .param("hours", hours)
    .param("profile", &grid.described);
    let per_t = format!("t CO2/t {product}");
    let mut out = TaskOutput::default();
    out.note(grid.note);
    for (measure, v) in [
        ("emission_intensity", t.emissions_t),
        ("emission_intensity_direct", t.emissions_t - t.indirect_co2_t),
        ("emission_intensity_indirect", t.indirect_co2_t),
    ] {
        let mut q = quantity(
            measure,
            Text::new(&format!("label_{measure}"), &[("plant", &p.name)]),
            plant,
            Quantity::new(v / t.delivered_t, &per_t, prov.clone()),
        );
        q.dimensions.insert("product".into(), product.clone());
        out.quantities.push(q);
    }
    out.quantities.extend(grid.mean);
    out.note(Text::new(
        "note_modelled_route",
        &[("plant", &p.name), ("hours", &hours.to_string())],
    ));
    Ok(out)
}

/// The grid a plant runs on: a bundled hourly profile, and where a country is named, the same
/// shape with its grid intensity scaled to the country's annual mean (Ember, lifecycle average),
/// with the sentence that says which grid was used.
pub struct PlantGrid {
    pub profile: crate::profile::Profile,
    pub note: Text,
    /// One line for the provenance: which profile, scaled to what.
    pub described: String,
    /// The country's annual mean the profile was scaled to, with its source (none on the
    /// synthetic grid).
    pub mean: Option<LabeledQuantity>,
}

/// [`PlantGrid`] for a bundled profile, `hours` long, in `country` or on the synthetic grid.
pub fn plant_grid(profile_id: &str, country: Option<&str>, hours: u32) -> Result<PlantGrid, TaskError> {
    let full = bundled::profile_named(profile_id)?;
    match country {
        Some(place) => {
            let g = cb_grid::GridTables::bundled()
                .intensity(place, cb_grid::GridFactor::Average, None, None)
                .map_err(|e| TaskError::new(TaskErrorKind::NotFound, format!("the plant's country: {e}")))?;
            // The hours run average to the country's annual mean (their ups and downs kept): a
            // steady run's intensity is then the annual one, whatever stretch of the shape it uses.
            let profile = full.horizon(hours as usize).scaled_to_mean(g.t_per_mwh())?;
            let mean = format!("{}", g.g_per_kwh);
            let quantity = LabeledQuantity::new(
                "plant_grid_mean",
                Text::new("label_plant_grid_mean", &[("place", &g.area)]),
                &[
                    ("place", &g.code),
                    ("source", cb_grid::source_name(g.source)),
                    ("year", &g.year.to_string()),
                ],
                Quantity::new(
                    g.g_per_kwh,
                    "g CO2e/kWh",
                    Provenance::new(
                        cb_grid::source_name(g.source),
                        g.year.to_string(),
                        cb_grid::basis(g.source, g.factor),
                    )
                    .param("area", &g.code)
                    .cite(cb_grid::citation(g.source)),
                ),
            );
            Ok(PlantGrid {
                mean: Some(quantity),
                note: Text::new(
                    "note_plant_grid_country",
                    &[
                        ("place", &g.area),
                        ("mean", &mean),
                        ("source", cb_grid::source_name(g.source)),
                        ("year", &g.year.to_string()),
                        ("profile", profile_id),
                    ],
                ),
                described: format!(
                    "bundled SYNTHETIC hourly shape {profile_id}, grid intensity scaled to {} ({}) annual mean {} g CO2e/kWh ({} {}); prices the synthetic profile's",
                    g.area,
                    g.code,
                    mean,
                    cb_grid::source_name(g.source),
                    g.year
                ),
                profile,
            })
        }
        None => {
            let mean = format!("{:.0}", full.mean_grid_intensity() * 1000.0);
            Ok(PlantGrid {
                note: Text::new(
                    "note_plant_grid_assumed",
                    &[("profile", profile_id), ("mean", &mean)],
                ),
                described: format!(
                    "bundled SYNTHETIC hourly grid profile {profile_id} (annual mean {mean} g CO2/kWh)"
                ),
                profile: full.horizon(hours as usize),
                mean: None,
            })
        }
    }
}

/// The grid intensity of a place from the bundled grid data (`cb_grid`): the factor asked, its
/// year and source, and beside it every other factor the data has for the place (another
/// source's average, the margins), so a reader sees how much the choice matters.
pub fn grid_intensity(
    place: &str,
    factor: cb_grid::GridFactor,
    year: Option<i32>,
    source: Option<cb_grid::GridSource>,
) -> Result<TaskOutput, TaskError> {
    let tables = cb_grid::GridTables::bundled();
    let found = tables.intensity(place, factor, year, source).map_err(|e| {
        let kind = match e {
            cb_grid::GridError::Data(_) => TaskErrorKind::Internal,
            cb_grid::GridError::UnknownPlace(_) | cb_grid::GridError::NotCovered(_) => {
                TaskErrorKind::NotFound
            }
        };
        TaskError::new(kind, e.to_string())
    })?;
    let mut out = TaskOutput::default();
    let lq = |measure: &str, g: &cb_grid::GridIntensity| {
        let factor_key = format!("{:?}", g.factor);
        let source_name = cb_grid::source_name(g.source);
        let prov = Provenance::new(
            source_name,
            g.year.to_string(),
            cb_grid::basis(g.source, g.factor),
        )
        .param("area", &g.code)
        .param("factor", cb_grid::factor_name(g.factor))
        .cite(cb_grid::citation(g.source));
        let unit = if g.source == cb_grid::GridSource::Ifi {
            "g CO2/kWh"
        } else {
            "g CO2e/kWh"
        };
        LabeledQuantity::new(
            measure,
            Text::new(
                &format!("label_{measure}"),
                &[
                    ("place", &g.area),
                    ("factor", cb_grid::factor_name(g.factor)),
                    ("year", &g.year.to_string()),
                    ("source", source_name),
                ],
            ),
            &[
                ("place", &g.code),
                ("factor", &factor_key),
                ("source", source_name),
                ("year", &g.year.to_string()),
            ],
            Quantity::new(g.g_per_kwh, unit, prov),
        )
    };
    out.quantities.push(lq("grid_intensity", &found));
    for other in tables.all_for(place).unwrap_or_default() {
        if other != found {
            out.quantities.push(lq("grid_intensity_other", &other));
        }
    }
    out.note(Text::new(
        "note_grid_basis",
        &[
            ("source", cb_grid::source_name(found.source)),
            ("basis", cb_grid::basis(found.source, found.factor)),
        ],
    ));
    if found.factor == cb_grid::GridFactor::Average {
        out.note(Text::new("note_grid_average_not_margin", &[]));
    }
    Ok(out)
}

/// `a − b` of two solver totals, zero where they differ only by rounding (a cut of 2.9e-11 t
/// between two equal schedules is no cut).
fn difference(a: f64, b: f64) -> f64 {
    let d = a - b;
    if d.abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0) {
        0.0
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn a_difference_of_rounding_is_zero() {
        assert_eq!(difference(1_234.5, 1_234.5 - 2.9e-11), 0.0);
        assert_eq!(difference(0.0, 1e-12), 0.0);
        assert!((difference(100.0, 90.0) - 10.0).abs() < 1e-12);
        assert!((difference(1e-3, 0.0) - 1e-3).abs() < 1e-15);
    }
}
