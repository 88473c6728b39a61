//! Least-cost (or least-carbon) operation of a plant over an hourly horizon, as a linear or
//! mixed-integer programme solved by HiGHS.
//!
//! Variables per hour `t`: unit outputs `x_u,t ∈ [0, cap_u]`, on/off `z_u,t ∈ {0,1}` for units
//! with a minimum load that may stop, storage levels `s_p,t ∈ [0, S_p]`. Constraints:
//! * product balance `Σ_{u makes p} x_u,t − Σ_u a_u,p x_u,t − s_p,t + s_p,t−1 = δ_p,t`;
//! * minimum load `m_u cap_u z_u,t ≤ x_u,t ≤ cap_u z_u,t`;
//! * ramp `|x_u,t − x_u,t−1| ≤ r_u` (from the steady rate before the first hour);
//! * end storage `s_p,T ≥ s_p,0`;
//! * in the emissions mode, the cost cap `Σ c_u,t x_u,t ≤ C`.
//!
//! Objective, cost mode: `min Σ_t Σ_u x_u,t (p_t e_u + k_u + P · (d_u + g_t e_u))` with carbon
//! price `P` on direct and indirect (grid) emissions, or on direct only. Emissions mode:
//! `min Σ_t Σ_u x_u,t (d_u + g_t e_u)`.

use highs::{HighsModelStatus, RowProblem, Sense};
use serde::Serialize;

use crate::FactoryError;
use crate::engine::simulate::{Schedule, baseline_schedule};
use crate::model::Plant;
use crate::profile::Profile;

/// What to optimise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Objective {
    /// Energy, fuel, input and variable cost plus a carbon price (EUR/t CO2) on direct
    /// emissions and, if `price_indirect`, on the grid emissions of the electricity used.
    MinCost { carbon_price: f64, price_indirect: bool },
    /// Direct and indirect emissions, with the cost (without carbon price) at most `cost_cap_eur`.
    MinEmissions { cost_cap_eur: f64 },
}

/// A constraint family that binds in the optimal schedule, and in how many hours.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Binding {
    pub constraint: String,
    pub subject: String,
    pub hours: usize,
}

/// What the solver did.
#[derive(Debug, Clone, Serialize)]
pub struct SolverReport {
    pub solver: &'static str,
    pub status: String,
    pub columns: usize,
    pub rows: usize,
    pub integer_columns: usize,
    pub objective: f64,
    /// Seconds to build the model and to solve it.
    pub build_seconds: f64,
    pub solve_seconds: f64,
}

/// The optimal schedule.
#[derive(Debug, Clone, Serialize)]
pub struct Optimum {
    pub schedule: Schedule,
    pub objective: f64,
    pub binding: Vec<Binding>,
    pub solver: SolverReport,
}

fn unit_coefficients(plant: &Plant, profile: &Profile, objective: Objective) -> Vec<Vec<f64>> {
    plant
        .units
        .iter()
        .map(|u| {
            let e = plant.electricity_mwh_per_t(u);
            let d = plant.direct_co2_t_per_t(u);
            let k = plant.non_electricity_cost_eur_per_t(u) + plant.purchases_cost_eur_per_t(u);
            (0..profile.hours())
                .map(|t| {
                    let (p, g) = (profile.price_eur_per_mwh[t], profile.grid_co2_t_per_mwh[t]);
                    match objective {
                        Objective::MinCost {
                            carbon_price,
                            price_indirect,
                        } => p * e + k + carbon_price * (d + if price_indirect { g * e } else { 0.0 }),
                        Objective::MinEmissions { .. } => d + g * e,
                    }
                })
                .collect()
        })
        .collect()
}

/// The cost (without carbon price) per t of each unit's product in each hour.
pub fn cost_coefficients(plant: &Plant, profile: &Profile) -> Vec<Vec<f64>> {
    unit_coefficients(
        plant,
        profile,
        Objective::MinCost {
            carbon_price: 0.0,
            price_indirect: false,
        },
    )
}

/// The objective value of a schedule.
pub fn objective_value(plant: &Plant, profile: &Profile, schedule: &Schedule, objective: Objective) -> f64 {
    unit_coefficients(plant, profile, objective)
        .iter()
        .zip(schedule)
        .map(|(c, x)| c.iter().zip(x).map(|(a, b)| a * b).sum::<f64>())
        .sum()
}

/// Checks that the demand can be met at all before a solver is asked; the message names the unit
/// whose capacity is short.
fn check_capacity(plant: &Plant) -> Result<(), FactoryError> {
    for (u, rate) in plant.units.iter().zip(plant.steady_rates()) {
        if rate > u.capacity_t_per_h * (1.0 + 1e-9) {
            return Err(FactoryError::Infeasible(format!(
                "the demand of {} t/day of {} needs unit {:?} to make {:.1} t/day of {}, but its capacity is {:.1} t/day \
                 ({} t/h × 24 h): the binding constraint is that unit's capacity",
                plant.demand.t_per_day,
                plant.demand.product,
                u.name,
                rate * 24.0,
                u.product,
                u.capacity_t_per_h * 24.0,
                u.capacity_t_per_h
            )));
        }
    }
    Ok(())
}

/// Solves for the optimal schedule over the profile's hours.
pub fn optimize(plant: &Plant, profile: &Profile, objective: Objective) -> Result<Optimum, FactoryError> {
    let n = profile.hours();
    check_capacity(plant)?;
    if let Objective::MinCost { carbon_price, .. } = objective
        && !(carbon_price.is_finite() && carbon_price >= 0.0)
    {
        return Err(FactoryError::Invalid(format!(
            "the carbon price must be non-negative, got {carbon_price}"
        )));
    }
    let started = std::time::Instant::now();
    let coef = unit_coefficients(plant, profile, objective);
    let mut pb = RowProblem::default();
    let mut integer_columns = 0;
    // Unit outputs and on/off decisions.
    let mut x = Vec::with_capacity(plant.units.len());
    for (u, unit) in plant.units.iter().enumerate() {
        let lower = if unit.min_load > 0.0 && !unit.can_stop {
            unit.min_load * unit.capacity_t_per_h
        } else {
            0.0
        };
        x.push(
            (0..n)
                .map(|t| pb.add_column(coef[u][t], lower..=unit.capacity_t_per_h))
                .collect::<Vec<_>>(),
        );
        if unit.min_load > 0.0 && unit.can_stop {
            let zs: Vec<_> = (0..n).map(|_| pb.add_integer_column(0.0, 0..=1)).collect();
            integer_columns += n;
            for t in 0..n {
                pb.add_row(..=0.0, [(x[u][t], 1.0), (zs[t], -unit.capacity_t_per_h)]);
                pb.add_row(
                    0.0..,
                    [(x[u][t], 1.0), (zs[t], -unit.min_load * unit.capacity_t_per_h)],
                );
            }
        }
    }
    // Storage levels.
    let stores: Vec<(&String, Vec<highs::Col>)> = plant
        .storage
        .iter()
        .map(|(p, s)| {
            (
                p,
                (0..n).map(|_| pb.add_column(0.0, 0.0..=s.capacity_t)).collect(),
            )
        })
        .collect();
    // Product balances.
    let hourly_demand = plant.demand.t_per_day / 24.0;
    for product in plant.made_products() {
        let store = stores.iter().find(|(p, _)| p.as_str() == product);
        let initial = plant.storage.get(product).map(|s| s.initial_t).unwrap_or(0.0);
        for t in 0..n {
            let mut row: Vec<(highs::Col, f64)> = Vec::new();
            for (u, unit) in plant.units.iter().enumerate() {
                let mut a = if unit.product == product { 1.0 } else { 0.0 };
                a -= unit.inputs.get(product).copied().unwrap_or(0.0);
                if a != 0.0 {
                    row.push((x[u][t], a));
                }
            }
            let mut rhs = if product == plant.demand.product {
                hourly_demand
            } else {
                0.0
            };
            if let Some((_, s)) = store {
                row.push((s[t], -1.0));
                if t > 0 {
                    row.push((s[t - 1], 1.0));
                } else {
                    rhs -= initial;
                }
            }
            pb.add_row(rhs..=rhs, row);
        }
        if let Some((_, s)) = store {
            pb.add_row(initial.., [(s[n - 1], 1.0)]);
        }
    }
    // Ramps, from the steady rate before the horizon.
    let steady = plant.steady_rates();
    for (u, unit) in plant.units.iter().enumerate() {
        if let Some(r) = unit.ramp_t_per_h {
            pb.add_row(steady[u] - r..=steady[u] + r, [(x[u][0], 1.0)]);
            for t in 1..n {
                pb.add_row(-r..=r, [(x[u][t], 1.0), (x[u][t - 1], -1.0)]);
            }
        }
    }
    if let Objective::MinEmissions { cost_cap_eur } = objective {
        let cost = cost_coefficients(plant, profile);
        let row: Vec<(highs::Col, f64)> = (0..plant.units.len())
            .flat_map(|u| (0..n).map(move |t| (u, t)))
            .map(|(u, t)| (x[u][t], cost[u][t]))
            .collect();
        pb.add_row(..=cost_cap_eur, row);
    }
    let (columns, rows) = (pb.num_cols(), pb.num_rows());
    let mut model = pb.optimise(Sense::Minimise);
    model.make_quiet();
    model.set_option("mip_rel_gap", 1e-6);
    let build_seconds = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let solved = model
        .try_solve()
        .map_err(|e| FactoryError::Solver(format!("HiGHS failed: {e:?}")))?;
    let solve_seconds = started.elapsed().as_secs_f64();
    let status = solved.status();
    if status != HighsModelStatus::Optimal {
        let why = match status {
            HighsModelStatus::Infeasible => infeasibility_hint(plant, objective),
            other => format!("HiGHS ended with status {other:?}"),
        };
        return Err(FactoryError::Infeasible(why));
    }
    let sol = solved.get_solution();
    let cols = sol.columns();
    let schedule: Schedule = x
        .iter()
        .map(|xs| xs.iter().map(|c| cols[c.index()].max(0.0)).collect())
        .collect();
    let objective_value = solved.objective_value();
    let binding = binding_constraints(
        plant,
        &schedule,
        &stores
            .iter()
            .map(|(p, s)| (p.as_str(), s.iter().map(|c| cols[c.index()]).collect()))
            .collect::<Vec<(&str, Vec<f64>)>>(),
        objective,
        profile,
    );
    Ok(Optimum {
        schedule,
        objective: objective_value,
        binding,
        solver: SolverReport {
            solver: "HiGHS",
            status: format!("{status:?}"),
            columns,
            rows,
            integer_columns,
            objective: objective_value,
            build_seconds,
            solve_seconds,
        },
    })
}

/// Why the problem may be infeasible, naming the constraints that can stop it.
fn infeasibility_hint(plant: &Plant, objective: Objective) -> String {
    let mut parts = Vec::new();
    let steady = plant.steady_rates();
    for (u, unit) in plant.units.iter().enumerate() {
        if unit.min_load > 0.0 && !unit.can_stop && unit.min_load * unit.capacity_t_per_h > steady[u] + 1e-9 {
            parts.push(format!(
                "unit {:?} may not stop and runs at least {:.1} t/h, more than the {:.1} t/h the demand needs, with \
                 too little storage to take the surplus",
                unit.name,
                unit.min_load * unit.capacity_t_per_h,
                steady[u]
            ));
        }
        if let Some(r) = unit.ramp_t_per_h
            && r == 0.0
        {
            parts.push(format!("unit {:?} has a ramp limit of 0 t/h", unit.name));
        }
    }
    if let Objective::MinEmissions { cost_cap_eur } = objective {
        parts.push(format!(
            "the cost cap of {cost_cap_eur:.0} EUR may be below the least possible cost"
        ));
    }
    if parts.is_empty() {
        parts.push("the ramp limits, minimum loads and storage together cannot follow the demand".into());
    }
    format!("no schedule meets the demand: {}", parts.join("; "))
}

fn binding_constraints(
    plant: &Plant,
    schedule: &Schedule,
    stores: &[(&str, Vec<f64>)],
    objective: Objective,
    profile: &Profile,
) -> Vec<Binding> {
    let tol = 1e-6;
    let mut out = Vec::new();
    let mut push = |constraint: &str, subject: &str, hours: usize| {
        if hours > 0 {
            out.push(Binding {
                constraint: constraint.into(),
                subject: subject.into(),
                hours,
            });
        }
    };
    for (u, unit) in plant.units.iter().enumerate() {
        let x = &schedule[u];
        let cap = unit.capacity_t_per_h;
        push(
            "capacity",
            &unit.name,
            x.iter().filter(|v| **v >= cap - tol * cap.max(1.0)).count(),
        );
        if unit.min_load > 0.0 {
            let m = unit.min_load * cap;
            push(
                "minimum load",
                &unit.name,
                x.iter().filter(|v| (**v - m).abs() <= tol * cap.max(1.0)).count(),
            );
        }
        if unit.can_stop {
            push("stopped", &unit.name, x.iter().filter(|v| **v <= tol).count());
        }
        if let Some(r) = unit.ramp_t_per_h {
            push(
                "ramp limit",
                &unit.name,
                x.windows(2)
                    .filter(|w| ((w[1] - w[0]).abs() - r).abs() <= tol * r.max(1.0))
                    .count(),
            );
        }
    }
    for (p, levels) in stores {
        let cap = plant.storage[*p].capacity_t;
        push(
            "storage full",
            p,
            levels.iter().filter(|v| **v >= cap - tol * cap.max(1.0)).count(),
        );
        push(
            "storage empty",
            p,
            levels.iter().filter(|v| **v <= tol * cap.max(1.0)).count(),
        );
    }
    if let Objective::MinEmissions { cost_cap_eur } = objective {
        let cost = objective_value(
            plant,
            profile,
            schedule,
            Objective::MinCost {
                carbon_price: 0.0,
                price_indirect: false,
            },
        );
        if cost >= cost_cap_eur - 1e-6 * cost_cap_eur.abs().max(1.0) {
            push("cost cap", "plant", 1);
        }
    }
    out
}

/// The optimum against the baseline: if the solver's schedule were worse than the baseline under
/// the same objective (a MIP gap, or a baseline outside the solver's model), the baseline is kept.
pub fn optimize_against_baseline(
    plant: &Plant,
    profile: &Profile,
    objective: Objective,
) -> Result<(Schedule, Optimum, bool), FactoryError> {
    let baseline = baseline_schedule(plant, profile.hours());
    let opt = optimize(plant, profile, objective)?;
    let base_value = objective_value(plant, profile, &baseline, objective);
    let opt_value = objective_value(plant, profile, &opt.schedule, objective);
    if opt_value > base_value + 1e-9 * base_value.abs().max(1.0) {
        let kept = Optimum {
            schedule: baseline.clone(),
            objective: base_value,
            ..opt
        };
        return Ok((baseline, kept, true));
    }
    Ok((baseline, opt, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Plant;

    fn plant(extra: &str) -> Plant {
        Plant::from_toml(
            &format!(
                r#"
name = "flexible EAF"
demand = {{ product = "steel", t_per_day = 48 }}
[[units]]
name = "eaf"
product = "steel"
capacity_t_per_h = 4
electricity_mwh_per_t = 0.5
{extra}
[storage.steel]
capacity_t = 48
initial_t = 24
"#
            ),
            "t",
        )
        .unwrap()
    }

    #[test]
    fn a_small_lp_with_a_known_optimum() {
        // Four hours, demand 2 t/h, capacity 4 t/h, storage 24 t: make everything in the two
        // cheap hours at full capacity. Cost = 0.5 MWh/t × (4 × 10 + 4 × 10) = 40 EUR.
        let p = plant("");
        let prof = Profile {
            price_eur_per_mwh: vec![10.0, 100.0, 10.0, 100.0],
            grid_co2_t_per_mwh: vec![0.1; 4],
        };
        let obj = Objective::MinCost {
            carbon_price: 0.0,
            price_indirect: true,
        };
        let opt = optimize(&p, &prof, obj).unwrap();
        assert!((opt.objective - 40.0).abs() < 1e-6, "{}", opt.objective);
        assert_eq!(opt.schedule[0], vec![4.0, 0.0, 4.0, 0.0]);
        assert!(
            opt.binding
                .iter()
                .any(|b| b.constraint == "capacity" && b.hours == 2)
        );
        // The baseline (2 t/h flat) costs 0.5 × 2 × 220 = 220 EUR: the optimum is no worse.
        let (_, kept, fell_back) = optimize_against_baseline(&p, &prof, obj).unwrap();
        assert!(!fell_back && kept.objective <= 220.0);
    }

    #[test]
    fn a_carbon_price_moves_load_to_clean_hours_and_min_load_is_a_milp() {
        let p = plant("min_load = 0.5\nramp_t_per_h = 4");
        let prof = Profile {
            price_eur_per_mwh: vec![50.0; 4],
            grid_co2_t_per_mwh: vec![0.9, 0.1, 0.9, 0.1],
        };
        let opt = optimize(
            &p,
            &prof,
            Objective::MinCost {
                carbon_price: 100.0,
                price_indirect: true,
            },
        )
        .unwrap();
        assert!(opt.solver.integer_columns == 4);
        assert_eq!(opt.schedule[0], vec![0.0, 4.0, 0.0, 4.0]);
    }

    #[test]
    fn infeasible_demand_names_the_capacity() {
        let mut p = plant("");
        p.demand.t_per_day = 200.0;
        let prof = Profile {
            price_eur_per_mwh: vec![50.0; 24],
            grid_co2_t_per_mwh: vec![0.3; 24],
        };
        let e = optimize(
            &p,
            &prof,
            Objective::MinCost {
                carbon_price: 0.0,
                price_indirect: true,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unit \"eaf\"") && e.contains("capacity"), "{e}");
    }
}
