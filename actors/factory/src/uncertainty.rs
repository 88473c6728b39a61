//! Propagation of uncertain emission factors and prices through a plant's run, by the uncertainty
//! agent's [`UncertainModel`] trait: the schedule is held fixed (the decision), each draw scales
//! the plant's factors and prices by lognormal multipliers of geometric mean 1 and re-simulates it.
//!
//! Factors: each fuel's CO2 per MWh, each unit's process CO2, the grid's hourly intensity.
//! Prices: each fuel's and purchase's price, the hourly electricity price.

use cb_protocol::PlantMonteCarlo;
use cb_uncertainty::engine::distribution::{Distribution, Sampler};
use cb_uncertainty::engine::propagate::{Propagation, UncertainModel, propagate};
use cb_uncertainty::engine::sampling::Design;

use crate::FactoryError;
use crate::engine::simulate::{Schedule, simulate};
use crate::model::Plant;
use crate::profile::Profile;

/// One uncertain parameter of a plant and what it is.
#[derive(Debug, Clone, PartialEq)]
enum Parameter {
    FuelCo2(String),
    ProcessCo2(usize),
    GridIntensity,
    FuelPrice(String),
    PurchasePrice(String),
    ElectricityPrice,
}

/// A plant running a fixed schedule, with uncertain factors and prices.
pub struct PlantRun<'a> {
    plant: &'a Plant,
    profile: &'a Profile,
    schedule: &'a Schedule,
    parameters: Vec<(Parameter, bool)>,
}

impl<'a> PlantRun<'a> {
    /// The plant's uncertain parameters: every nonzero factor (`true`) and price (`false`).
    pub fn new(plant: &'a Plant, profile: &'a Profile, schedule: &'a Schedule) -> Self {
        let mut parameters = Vec::new();
        for (name, f) in &plant.fuels {
            if f.co2_t_per_mwh != 0.0 {
                parameters.push((Parameter::FuelCo2(name.clone()), true));
            }
        }
        for (i, u) in plant.units.iter().enumerate() {
            if u.process_co2_t_per_t != 0.0 {
                parameters.push((Parameter::ProcessCo2(i), true));
            }
        }
        if plant.units.iter().any(|u| u.electricity_mwh_per_t > 0.0) {
            parameters.push((Parameter::GridIntensity, true));
            parameters.push((Parameter::ElectricityPrice, false));
        }
        for (name, f) in &plant.fuels {
            if f.price_eur_per_mwh != 0.0 {
                parameters.push((Parameter::FuelPrice(name.clone()), false));
            }
        }
        for (name, p) in &plant.purchases {
            if p.price_eur_per_t != 0.0 {
                parameters.push((Parameter::PurchasePrice(name.clone()), false));
            }
        }
        PlantRun {
            plant,
            profile,
            schedule,
            parameters,
        }
    }

    /// For each input, whether it is an emission factor (else a price).
    pub fn is_factor(&self) -> Vec<bool> {
        self.parameters.iter().map(|(_, f)| *f).collect()
    }
}

impl UncertainModel for PlantRun<'_> {
    fn input_names(&self) -> Vec<String> {
        self.parameters
            .iter()
            .map(|(p, _)| match p {
                Parameter::FuelCo2(f) => format!("CO2 factor of {f}"),
                Parameter::ProcessCo2(i) => format!("process CO2 of {}", self.plant.units[*i].name),
                Parameter::GridIntensity => "grid carbon intensity".into(),
                Parameter::FuelPrice(f) => format!("price of {f}"),
                Parameter::PurchasePrice(p) => format!("price of {p}"),
                Parameter::ElectricityPrice => "electricity price".into(),
            })
            .collect()
    }

    fn output_names(&self) -> Vec<String> {
        vec!["emissions_t".into(), "cost_eur".into()]
    }

    /// `x` holds one multiplier per parameter.
    fn evaluate(
        &self,
        x: &[f64],
        _: &mut cb_uncertainty::engine::sampling::EntryStream,
    ) -> Result<Vec<f64>, String> {
        let mut plant = self.plant.clone();
        let mut profile = self.profile.clone();
        for ((p, _), m) in self.parameters.iter().zip(x) {
            match p {
                Parameter::FuelCo2(f) => {
                    if let Some(fuel) = plant.fuels.get_mut(f) {
                        fuel.co2_t_per_mwh *= m;
                    }
                }
                Parameter::ProcessCo2(i) => plant.units[*i].process_co2_t_per_t *= m,
                Parameter::GridIntensity => profile.grid_co2_t_per_mwh.iter_mut().for_each(|v| *v *= m),
                Parameter::FuelPrice(f) => {
                    if let Some(fuel) = plant.fuels.get_mut(f) {
                        fuel.price_eur_per_mwh *= m;
                    }
                }
                Parameter::PurchasePrice(n) => {
                    if let Some(p) = plant.purchases.get_mut(n) {
                        p.price_eur_per_t *= m;
                    }
                }
                Parameter::ElectricityPrice => profile.price_eur_per_mwh.iter_mut().for_each(|v| *v *= m),
            }
        }
        let run = simulate(&plant, &profile, self.schedule, |_, _| {}).map_err(|e| e.to_string())?;
        Ok(vec![run.totals.emissions_t, run.totals.cost_eur])
    }
}

/// Monte Carlo (Latin hypercube) of a schedule's emissions and cost: factors lognormal with
/// `factor_gsd`, prices with `price_gsd` (a GSD of 1 holds that group fixed).
pub fn propagate_plant_run(
    run: &PlantRun<'_>,
    factor_gsd: f64,
    price_gsd: f64,
    iterations: usize,
    seed: u64,
) -> Result<Propagation, FactoryError> {
    let sampler = |gsd: f64| -> Result<Sampler, FactoryError> {
        Distribution::Lognormal {
            geometric_mean: 1.0,
            gsd,
        }
        .sampler()
        .map_err(|e| FactoryError::Invalid(e.to_string()))
    };
    let (factors, prices) = (sampler(factor_gsd)?, sampler(price_gsd)?);
    let inputs: Vec<Sampler> = run
        .is_factor()
        .into_iter()
        .map(|f| if f { factors.clone() } else { prices.clone() })
        .collect();
    propagate(run, &inputs, Design::LatinHypercube, seed, iterations, None)
        .map_err(|e| FactoryError::Invalid(e.to_string()))
}

/// Emissions and cost of the baseline and the optimised schedule under the same draws of the
/// uncertain factors and prices, and the cut between them.
#[derive(Debug, Clone)]
pub struct ScheduleComparison {
    pub baseline: Propagation,
    pub optimized: Propagation,
    /// `baseline − optimized` emissions, draw by draw: (2.5, 50, 97.5) percentiles.
    pub emissions_cut: cb_uncertainty::engine::stats::Summary,
    /// The inputs that drive the optimised schedule's emissions, by Spearman correlation.
    pub emission_drivers: Vec<(String, f64)>,
}

/// Propagates the same draws (same seed, same Latin hypercube) through both schedules.
pub fn compare_schedules(
    plant: &Plant,
    profile: &Profile,
    baseline: &Schedule,
    optimized: &Schedule,
    mc: &PlantMonteCarlo,
) -> Result<ScheduleComparison, FactoryError> {
    let base = PlantRun::new(plant, profile, baseline);
    let best = PlantRun::new(plant, profile, optimized);
    let (n, seed) = (mc.iterations as usize, mc.seed);
    let b = propagate_plant_run(&base, mc.factor_gsd, mc.price_gsd, n, seed)?;
    let o = propagate_plant_run(&best, mc.factor_gsd, mc.price_gsd, n, seed)?;
    let cut = cb_uncertainty::engine::stats::summary(
        &b.samples[0]
            .iter()
            .zip(&o.samples[0])
            .map(|(x, y)| x - y)
            .collect::<Vec<_>>(),
    );
    let emission_drivers = o.rank_correlations[0].clone();
    Ok(ScheduleComparison {
        baseline: b,
        optimized: o,
        emissions_cut: cut,
        emission_drivers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled;
    use crate::engine::optimize::{Objective, optimize_against_baseline};

    fn setup() -> (Plant, Profile, Schedule, Schedule) {
        let plant = bundled::plant("scrap-eaf").unwrap();
        let profile = bundled::profile().horizon(24);
        let (baseline, opt, _) = optimize_against_baseline(
            &plant,
            &profile,
            Objective::MinCost {
                carbon_price: 80.0,
                price_indirect: true,
            },
        )
        .unwrap();
        (plant, profile, baseline, opt.schedule)
    }

    #[test]
    fn factors_move_emissions_prices_move_cost_and_the_mean_is_exact() {
        let (plant, profile, baseline, best) = setup();
        let base = simulate(&plant, &profile, &best, |_, _| {}).unwrap().totals;
        let mc = PlantMonteCarlo {
            iterations: 2000,
            seed: 4,
            factor_gsd: 1.2,
            price_gsd: 1.0,
        };
        let c = compare_schedules(&plant, &profile, &baseline, &best, &mc).unwrap();
        let (em, cost) = (&c.optimized.summaries[0], &c.optimized.summaries[1]);
        // Prices fixed: the cost does not move.
        assert!(cost.sd <= 1e-9 * base.cost_eur, "{cost:?}");
        // Emissions are linear in the factors, each a lognormal of mean exp(σ²/2).
        let expected = base.emissions_t * (1.2f64.ln().powi(2) / 2.0).exp();
        assert!(
            (em.mean - expected).abs() <= 3.0 * em.standard_error,
            "{} vs {expected}",
            em.mean
        );
        assert!(em.p2_5 < base.emissions_t && base.emissions_t < em.p97_5);
        // Every factor of this plant is named among the drivers.
        let names: Vec<&str> = c.emission_drivers.iter().map(|(n, _)| n.as_str()).collect();
        for n in [
            "CO2 factor of natural_gas",
            "process CO2 of electric arc furnace",
            "grid carbon intensity",
        ] {
            assert!(names.contains(&n), "{names:?}");
        }
        // Prices only: emissions fixed, cost varies.
        let prices = PlantMonteCarlo {
            factor_gsd: 1.0,
            price_gsd: 1.2,
            ..mc
        };
        let c = compare_schedules(&plant, &profile, &baseline, &best, &prices).unwrap();
        assert!(c.optimized.summaries[0].sd <= 1e-9 * base.emissions_t);
        assert!(c.optimized.summaries[1].sd > 0.01 * base.cost_eur);
        assert!(c.emissions_cut.sd <= 1e-6 * base.emissions_t);
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let (plant, profile, baseline, best) = setup();
        let mc = PlantMonteCarlo {
            iterations: 50,
            seed: 9,
            factor_gsd: 1.1,
            price_gsd: 1.1,
        };
        let a = compare_schedules(&plant, &profile, &baseline, &best, &mc).unwrap();
        let b = compare_schedules(&plant, &profile, &baseline, &best, &mc).unwrap();
        assert_eq!(a.optimized.samples, b.optimized.samples);
        assert_eq!(a.emissions_cut, b.emissions_cut);
    }
}
