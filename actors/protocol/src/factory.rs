use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Monte Carlo on a plant's emission factors and prices: each varies by a lognormal factor of
/// geometric mean 1 (a GSD of 1 holds that group fixed); the schedules are held fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlantMonteCarlo {
    #[schemars(range(min = 10, max = 100_000))]
    pub iterations: u32,
    #[serde(default)]
    pub seed: u64,
    /// GSD of every emission factor (fuels' CO2, process CO2, grid intensity), ≥ 1.
    pub factor_gsd: f64,
    /// GSD of every price (fuels, purchases, electricity), ≥ 1.
    pub price_gsd: f64,
}

/// What the factory agent can be asked to do. `plant` is a bundled plant id (`scrap-eaf`,
/// `bf-bof`, `cement`, …) or a path to a plant TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FactoryTask {
    /// The least-cost schedule at a carbon price against the steady baseline, over the first
    /// `hours` of the bundled hourly grid profile.
    Optimize {
        #[schemars(length(min = 1))]
        plant: String,
        #[schemars(range(min = 1, max = 8784))]
        hours: u32,
        /// EUR per t CO2, on direct emissions and, unless `carbon_price_on_grid` is false, on
        /// grid emissions.
        #[schemars(range(min = 0.0))]
        carbon_price: f64,
        /// Uncertain factors and prices propagated through both schedules.
        #[serde(default)]
        monte_carlo: Option<PlantMonteCarlo>,
        /// Whether the carbon price is charged on grid emissions too. False where the power price
        /// already carries the carbon cost (EU ETS pass-through), so it is not counted twice.
        #[serde(default = "charged_on_grid")]
        carbon_price_on_grid: bool,
        /// Bundled hourly profile: `synthetic` (default) or `synthetic-decoupled`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
        /// The country the plant is in (name or ISO code): the profile's hourly grid intensity
        /// is scaled to that country's annual mean (Ember); without one the synthetic grid runs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(min = 1, max = 80))]
        country: Option<String>,
    },
    /// The marginal abatement cost curve of the plant's bundled measures, and the least-cost set
    /// for a target where one is given.
    Macc {
        #[schemars(length(min = 1))]
        plant: String,
        #[serde(default)]
        target_t_per_yr: Option<f64>,
        /// EUR per t CO2: measures cheaper than this pay for themselves against the carbon price.
        #[serde(default)]
        carbon_price: Option<f64>,
    },
    /// The plant's emission intensity, t CO2 per t of its product (direct, grid and total), run
    /// steadily over the first `hours` of the bundled hourly grid profile: a modelled route to set
    /// against a default value, not a verified installation value.
    Intensity {
        #[schemars(length(min = 1))]
        plant: String,
        #[schemars(range(min = 1, max = 8784))]
        hours: u32,
        /// The country whose grid the plant draws from, as for `Optimize`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(min = 1, max = 80))]
        country: Option<String>,
    },
    /// The carbon intensity of a place's electricity from the bundled grid data: a country (name
    /// or ISO code), an Ember region ("EU", "World") or an Electricity Maps zone.
    GridIntensity {
        #[schemars(length(min = 1, max = 80))]
        place: String,
        #[serde(default)]
        factor: GridFactor,
        /// The data year; default the latest the source has.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 1990, max = 2100))]
        year: Option<i32>,
        /// Default: Ember for a country's average, Electricity Maps for a zone or a year Ember
        /// lacks, IFI for margins.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<GridSource>,
    },
}

/// Which grid factor: the average intensity of a grid's electricity (what a consumer's power
/// emits), or a margin (what a plant that adds or saves power displaces: the factors for avoided
/// emissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GridFactor {
    #[default]
    Average,
    /// The generation a new plant or a saving displaces now (IFI harmonised operating margin).
    OperatingMargin,
    /// Operating and build margins combined, for intermittent generation (solar, wind).
    CombinedMarginIntermittent,
    /// Operating and build margins combined, for firm generation, efficiency and consumption.
    CombinedMarginFirm,
}

/// Where a grid factor comes from (`data/grid/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GridSource {
    /// Ember Yearly Electricity Data: a country's or region's average, its latest year.
    Ember,
    /// Electricity Maps yearly data 2021–2025: averages by grid zone.
    ElectricityMaps,
    /// IFI Harmonised Default Grid Factors 2021 v3.1: operating and combined margins.
    Ifi,
}

fn check_country(country: &Option<String>) -> Result<(), (&'static str, String)> {
    match country {
        Some(c) if c.trim().is_empty() || c.chars().count() > 80 => {
            Err(("country", "must name a country in 1 to 80 characters".into()))
        }
        _ => Ok(()),
    }
}

fn charged_on_grid() -> bool {
    true
}

/// The bundled hourly profiles a task may name.
pub const BUNDLED_PROFILES: [&str; 2] = ["synthetic", "synthetic-decoupled"];

impl FactoryTask {
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            FactoryTask::Optimize {
                hours,
                carbon_price,
                monte_carlo,
                profile,
                country,
                ..
            } => {
                check_country(country)?;
                if let Some(p) = profile
                    && !BUNDLED_PROFILES.contains(&p.as_str())
                {
                    let p: String = p.chars().take(40).collect();
                    return Err((
                        "profile",
                        format!("{p:?} is not a bundled profile ({})", BUNDLED_PROFILES.join(", ")),
                    ));
                }
                if !(1..=8784).contains(hours) {
                    return Err(("hours", format!("is {hours}, must be between 1 and 8784")));
                }
                if !(carbon_price.is_finite() && *carbon_price >= 0.0) {
                    return Err(("carbon_price", format!("is {carbon_price}, must be non-negative")));
                }
                if let Some(mc) = monte_carlo {
                    if !(10..=crate::limits::MAX_MC_ITERATIONS).contains(&mc.iterations) {
                        return Err((
                            "monte_carlo.iterations",
                            format!(
                                "is {}, must be between 10 and {}",
                                mc.iterations,
                                crate::limits::MAX_MC_ITERATIONS
                            ),
                        ));
                    }
                    for (field, g) in [
                        ("monte_carlo.factor_gsd", mc.factor_gsd),
                        ("monte_carlo.price_gsd", mc.price_gsd),
                    ] {
                        if !(g.is_finite() && g >= 1.0) {
                            return Err((field, format!("is {g}, must be a number ≥ 1")));
                        }
                    }
                }
                Ok(())
            }
            FactoryTask::Intensity { hours, country, .. } => {
                check_country(country)?;
                if !(1..=8784).contains(hours) {
                    return Err(("hours", format!("is {hours}, must be between 1 and 8784")));
                }
                Ok(())
            }
            FactoryTask::GridIntensity { place, year, .. } => {
                if place.trim().is_empty() || place.chars().count() > 80 {
                    return Err((
                        "place",
                        "must name a country or grid zone in 1 to 80 characters".into(),
                    ));
                }
                if let Some(y) = year
                    && !(1990..=2100).contains(y)
                {
                    return Err(("year", format!("is {y}, must be between 1990 and 2100")));
                }
                Ok(())
            }
            FactoryTask::Macc { target_t_per_yr, .. } => match target_t_per_yr {
                Some(t) if !(t.is_finite() && *t >= 0.0) => {
                    Err(("target_t_per_yr", format!("is {t}, must be non-negative")))
                }
                _ => Ok(()),
            },
        }
    }
}
