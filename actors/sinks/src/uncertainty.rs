//! Monte Carlo of a Tier 1 forest account through the uncertainty engine's
//! [`UncertainModel`] trait: the inputs with an IPCC uncertainty (growth rate with its standard
//! deviation, carbon fraction with its range) are drawn, the rest held at their values.

use cb_uncertainty::engine::distribution::{Distribution, Sampler};
use cb_uncertainty::engine::propagate::{Propagation, UncertainModel, propagate};
use cb_uncertainty::engine::sampling::Design;

use crate::SinksError;
use crate::engine;
use crate::forest::Account;

/// The forest account's annual net CO2 as a function of `G_W` and `CF`.
struct ForestModel {
    area_ha: f64,
    root_shoot: f64,
    losses_c: f64,
}

impl UncertainModel for ForestModel {
    fn input_names(&self) -> Vec<String> {
        vec!["growth_g_w".into(), "carbon_fraction_cf".into()]
    }
    fn output_names(&self) -> Vec<String> {
        vec!["net_co2_t_per_yr".into()]
    }
    fn evaluate(
        &self,
        x: &[f64],
        _: &mut cb_uncertainty::engine::sampling::EntryStream,
    ) -> Result<Vec<f64>, String> {
        let gain = engine::biomass_gain(
            self.area_ha,
            engine::total_growth_tier1(x[0], self.root_shoot),
            x[1],
        );
        Ok(vec![engine::co2_flux_from_stock_change(gain - self.losses_c)])
    }
}

/// A lognormal with the given mean and standard deviation (moment-matched), so a growth rate
/// stays positive however wide its spread.
fn lognormal_from_moments(mean: f64, sd: f64) -> Result<Sampler, SinksError> {
    let s2 = (1.0 + (sd / mean).powi(2)).ln();
    Distribution::Lognormal {
        geometric_mean: mean / (s2 / 2.0).exp(),
        gsd: s2.sqrt().exp(),
    }
    .sampler()
    .map_err(|e| SinksError::Invalid(e.to_string()))
}

/// Propagates the growth rate's and the carbon fraction's uncertainty to the annual net CO2 of
/// a Tier 1 account (Latin hypercube, fixed seed). `None` when no input has an uncertainty.
pub fn forest_monte_carlo(
    account: &Account,
    area_ha: f64,
    iterations: usize,
) -> Result<Option<Propagation>, SinksError> {
    let g = &account.parameters["growth_g_w"];
    let cf = &account.parameters["carbon_fraction_cf"];
    let r = account.parameters["root_shoot_r"].value;
    if g.relative_uncertainty.is_none() && cf.relative_uncertainty.is_none() {
        return Ok(None);
    }
    let g_dist = match g.relative_uncertainty {
        // The relative uncertainty is the 95 % half-width: sd = u·value/1.96.
        Some(u) if g.value > 0.0 => lognormal_from_moments(g.value, u * g.value / 1.96)?,
        _ => Distribution::Normal {
            mean: g.value,
            sd: 0.0,
        }
        .sampler()
        .map_err(|e| SinksError::Invalid(e.to_string()))?,
    };
    let cf_dist = match cf.relative_uncertainty {
        Some(u) => Distribution::Triangular {
            min: cf.value * (1.0 - u),
            mode: cf.value,
            max: (cf.value * (1.0 + u)).min(1.0),
        },
        None => Distribution::Normal {
            mean: cf.value,
            sd: 0.0,
        },
    }
    .sampler()
    .map_err(|e| SinksError::Invalid(e.to_string()))?;
    let losses_c: f64 = account
        .years
        .first()
        .map(|y| y.losses_c_t.values().sum())
        .unwrap_or(0.0);
    let model = ForestModel {
        area_ha,
        root_shoot: r,
        losses_c,
    };
    propagate(
        &model,
        &[g_dist, cf_dist],
        Design::LatinHypercube,
        1,
        iterations,
        None,
    )
    .map(Some)
    .map_err(|e| SinksError::Invalid(e.to_string()))
}
