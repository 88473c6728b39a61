//! Discrete-time simulation of a plant on an hourly schedule: production, energy, direct and
//! indirect emissions and cost per hour, with the mass balances checked every hour and each store over the run.
//!
//! Per hour `t` and unit `u` with output `x_u,t` (t/h):
//! * electricity `E_t = Σ_u e_u · x_u,t` (MWh), fuels `F_f,t = Σ_u φ_u,f · x_u,t` (MWh);
//! * direct CO2 `D_t = Σ_u d_u · x_u,t`, indirect `I_t = g_t · E_t` (grid intensity `g_t`);
//! * cost `C_t = p_t · E_t + Σ_f π_f F_f,t + Σ_p π_p B_p,t + Σ_u v_u · x_u,t` (purchases `B`);
//! * product balance `s_p,t = s_p,t−1 + Σ_{u makes p} x_u,t + B_p,t − Σ_u a_u,p · x_u,t − δ_p,t`
//!   with delivery `δ` of the final product.

use serde::Serialize;

use crate::FactoryError;
use crate::model::Plant;
use crate::profile::Profile;

/// A schedule: output of every unit in every hour (t/h), `[unit][hour]`.
pub type Schedule = Vec<Vec<f64>>;

/// One hour of a simulation.
#[derive(Debug, Clone, Serialize)]
pub struct Hour {
    pub hour: usize,
    pub production_t: Vec<f64>,
    pub delivered_t: f64,
    pub electricity_mwh: f64,
    pub fuels_mwh: f64,
    pub direct_co2_t: f64,
    pub indirect_co2_t: f64,
    pub captured_co2_t: f64,
    pub cost_eur: f64,
    /// Storage levels at the end of the hour, by product (in the plant's storage order).
    pub storage_t: Vec<f64>,
}

/// Totals of a run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub production_t: f64,
    pub delivered_t: f64,
    pub electricity_mwh: f64,
    pub fuels_mwh: f64,
    pub direct_co2_t: f64,
    pub indirect_co2_t: f64,
    pub captured_co2_t: f64,
    /// Direct + indirect.
    pub emissions_t: f64,
    /// Energy, fuels, purchases and variable cost, without any carbon price.
    pub cost_eur: f64,
}

/// A simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub hours: Vec<Hour>,
    pub totals: Totals,
}

/// The constant schedule that delivers the demand evenly: the baseline.
pub fn baseline_schedule(plant: &Plant, hours: usize) -> Schedule {
    plant.steady_rates().into_iter().map(|r| vec![r; hours]).collect()
}

/// Simulates a schedule hour by hour. Purchases cover what units need of bought products;
/// storage absorbs the difference between production and use of made products. A schedule that
/// would drain a store below zero or fill it beyond capacity, run a unit outside its limits or
/// leave demand unmet is an error naming the hour, the unit or product and the numbers.
pub fn simulate(
    plant: &Plant,
    profile: &Profile,
    schedule: &Schedule,
    mut progress: impl FnMut(usize, usize),
) -> Result<Run, FactoryError> {
    let n = profile.hours();
    if schedule.len() != plant.units.len() || schedule.iter().any(|s| s.len() != n) {
        return Err(FactoryError::Invalid(format!(
            "the schedule must have {} units × {n} hours",
            plant.units.len()
        )));
    }
    let store_names: Vec<&String> = plant.storage.keys().collect();
    let mut levels: Vec<f64> = plant.storage.values().map(|s| s.initial_t).collect();
    let hourly_demand = plant.demand.t_per_day / 24.0;
    let e: Vec<f64> = plant
        .units
        .iter()
        .map(|u| plant.electricity_mwh_per_t(u))
        .collect();
    let d: Vec<f64> = plant.units.iter().map(|u| plant.direct_co2_t_per_t(u)).collect();
    let gross: Vec<f64> = plant
        .units
        .iter()
        .map(|u| plant.gross_direct_co2_t_per_t(u))
        .collect();
    let other_cost: Vec<f64> = plant
        .units
        .iter()
        .map(|u| plant.non_electricity_cost_eur_per_t(u))
        .collect();
    let fuel_mwh: Vec<f64> = plant.units.iter().map(|u| plant.fuels_mwh_per_t(u)).collect();
    // Solver schedules carry round-off of about 1e-7 per row, which adds up over a year of
    // storage levels: tolerances scale with the plant's size.
    let scale = plant
        .units
        .iter()
        .map(|u| u.capacity_t_per_h)
        .chain(plant.storage.values().map(|s| s.capacity_t))
        .fold(1.0, f64::max);
    let tol = 1e-6 * scale;
    let made = plant.made_products();
    let mut hours = Vec::with_capacity(n);
    let mut totals = Totals::default();
    for t in 0..n {
        let x: Vec<f64> = schedule.iter().map(|s| s[t]).collect();
        for (u, unit) in plant.units.iter().enumerate() {
            let xu = x[u];
            if !(xu.is_finite() && xu >= -tol && xu <= unit.capacity_t_per_h * (1.0 + 1e-9) + tol) {
                return Err(FactoryError::Invalid(format!(
                    "hour {t}: unit {:?} output {xu} t/h is outside 0..{} t/h",
                    unit.name, unit.capacity_t_per_h
                )));
            }
            if xu > tol && xu < unit.min_load * unit.capacity_t_per_h - tol {
                return Err(FactoryError::Invalid(format!(
                    "hour {t}: unit {:?} runs at {xu:.3} t/h, below its minimum load {:.3} t/h",
                    unit.name,
                    unit.min_load * unit.capacity_t_per_h
                )));
            }
        }
        // Net make of every made product; bought inputs are bought as used.
        let mut purchases_cost = 0.0;
        let mut net: std::collections::BTreeMap<&str, f64> = made.iter().map(|p| (*p, 0.0)).collect();
        for (u, unit) in plant.units.iter().enumerate() {
            *net.entry(unit.product.as_str()).or_insert(0.0) += x[u];
            for (p, a) in &unit.inputs {
                match net.get_mut(p.as_str()) {
                    Some(v) => *v -= a * x[u],
                    None => {
                        purchases_cost +=
                            a * x[u] * plant.purchases.get(p).map(|b| b.price_eur_per_t).unwrap_or(0.0)
                    }
                }
            }
        }
        *net.entry(plant.demand.product.as_str()).or_insert(0.0) -= hourly_demand;
        // Storage takes the net of made products; without storage the net must be zero.
        for (p, v) in &net {
            match store_names.iter().position(|s| s.as_str() == *p) {
                Some(i) => {
                    let new = levels[i] + v;
                    let cap = plant.storage[*p].capacity_t;
                    if new < -tol || new > cap + tol {
                        return Err(FactoryError::Invalid(format!(
                            "hour {t}: storage of {p:?} would reach {new:.3} t (capacity 0..{cap} t)"
                        )));
                    }
                    levels[i] = new.clamp(0.0, cap);
                }
                None if v.abs() > tol => {
                    return Err(FactoryError::Invalid(format!(
                        "hour {t}: {p:?} is out of balance by {v:.3} t (made − used − delivered) and has no storage"
                    )));
                }
                None => {}
            }
        }
        let electricity: f64 = x.iter().zip(&e).map(|(a, b)| a * b).sum();
        let fuels: f64 = x.iter().zip(&fuel_mwh).map(|(a, b)| a * b).sum();
        let direct: f64 = x.iter().zip(&d).map(|(a, b)| a * b).sum();
        let captured: f64 = plant
            .units
            .iter()
            .enumerate()
            .map(|(u, unit)| x[u] * gross[u] * unit.capture_rate)
            .sum();
        let indirect = electricity * profile.grid_co2_t_per_mwh[t];
        let cost = electricity * profile.price_eur_per_mwh[t]
            + x.iter().zip(&other_cost).map(|(a, b)| a * b).sum::<f64>()
            + purchases_cost;
        totals.production_t += x.iter().sum::<f64>();
        totals.delivered_t += hourly_demand;
        totals.electricity_mwh += electricity;
        totals.fuels_mwh += fuels;
        totals.direct_co2_t += direct;
        totals.indirect_co2_t += indirect;
        totals.captured_co2_t += captured;
        totals.cost_eur += cost;
        hours.push(Hour {
            hour: t,
            production_t: x,
            delivered_t: hourly_demand,
            electricity_mwh: electricity,
            fuels_mwh: fuels,
            direct_co2_t: direct,
            indirect_co2_t: indirect,
            captured_co2_t: captured,
            cost_eur: cost,
            storage_t: levels.clone(),
        });
        progress(t + 1, n);
    }
    // The mass balance over the run: what each store gained equals what was made less what was
    // used and delivered (stores hold made products only, see `Plant::validate`).
    for (i, (p, s)) in plant.storage.iter().enumerate() {
        let made: f64 = plant
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| &u.product == p)
            .map(|(u, _)| schedule[u].iter().sum::<f64>())
            .sum();
        let used: f64 = plant
            .units
            .iter()
            .enumerate()
            .map(|(u, unit)| unit.inputs.get(p).copied().unwrap_or(0.0) * schedule[u].iter().sum::<f64>())
            .sum();
        let delivered = if *p == plant.demand.product {
            hourly_demand * n as f64
        } else {
            0.0
        };
        let residual = (levels[i] - s.initial_t) - (made - used - delivered);
        if residual.abs() > 1e-6 * (made + used + delivered).max(1.0) + tol {
            return Err(FactoryError::Balance(format!(
                "storage of {p:?}: off by {residual} t over the run"
            )));
        }
    }
    totals.emissions_t = totals.direct_co2_t + totals.indirect_co2_t;
    Ok(Run { hours, totals })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Plant;

    pub(crate) fn plant() -> Plant {
        Plant::from_toml(
            r#"
name = "test"
demand = { product = "steel", t_per_day = 240 }
[[units]]
name = "eaf"
product = "steel"
capacity_t_per_h = 20
electricity_mwh_per_t = 0.5
inputs = { scrap = 1.1 }
fuels = { gas = 0.2 }
process_co2_t_per_t = 0.05
variable_cost_eur_per_t = 10
[fuels.gas]
co2_t_per_mwh = 0.2
price_eur_per_mwh = 40
[purchases.scrap]
price_eur_per_t = 300
[storage.steel]
capacity_t = 100
initial_t = 50
"#,
            "test",
        )
        .unwrap()
    }

    fn flat(n: usize, price: f64, g: f64) -> Profile {
        Profile {
            price_eur_per_mwh: vec![price; n],
            grid_co2_t_per_mwh: vec![g; n],
        }
    }

    #[test]
    fn the_baseline_balances_and_adds_up_by_hand() {
        let p = plant();
        let prof = flat(24, 100.0, 0.4);
        let run = simulate(&p, &prof, &baseline_schedule(&p, 24), |_, _| {}).unwrap();
        // 240 t: electricity 120 MWh, indirect 48 t, direct 240 × (0.05 + 0.04) = 21.6 t.
        assert!((run.totals.electricity_mwh - 120.0).abs() < 1e-9);
        assert!((run.totals.indirect_co2_t - 48.0).abs() < 1e-9);
        assert!((run.totals.direct_co2_t - 21.6).abs() < 1e-9);
        // Cost: 120 × 100 + 240 × (10 + 0.2 × 40) + 264 × 300 = 12,000 + 4,320 + 79,200.
        assert!(
            (run.totals.cost_eur - 95_520.0).abs() < 1e-6,
            "{}",
            run.totals.cost_eur
        );
        assert!(run.hours.iter().all(|h| (h.storage_t[0] - 50.0).abs() < 1e-9));
    }

    #[test]
    fn a_schedule_that_breaks_a_limit_is_named() {
        let p = plant();
        let prof = flat(24, 100.0, 0.4);
        let mut s = baseline_schedule(&p, 24);
        s[0][3] = 25.0;
        let e = simulate(&p, &prof, &s, |_, _| {}).unwrap_err().to_string();
        assert!(e.contains("hour 3") && e.contains("eaf"), "{e}");
        let mut s = baseline_schedule(&p, 24);
        for v in s[0].iter_mut().take(8) {
            *v = 0.0;
        }
        let e = simulate(&p, &prof, &s, |_, _| {}).unwrap_err().to_string();
        assert!(e.contains("storage of \"steel\""), "{e}");
    }
}
