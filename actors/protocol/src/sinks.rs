use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the natural sinks agent can be asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SinksTask {
    /// Annual net CO2 of forest land remaining forest land by the IPCC gain-loss method (Tier 1).
    /// Parameters left out are IPCC defaults where a confirmed one is bundled.
    Forest {
        #[schemars(range(min = 0.0))]
        area_ha: f64,
        /// Ecological zone, e.g. `tropical rainforest`, `temperate`.
        #[serde(default)]
        zone: Option<String>,
        /// Continent, e.g. `africa`, `europe`, `americas`.
        #[serde(default)]
        continent: Option<String>,
        /// Above-ground biomass growth, t d.m./ha/yr.
        #[serde(default)]
        growth_t_dm_per_ha_yr: Option<f64>,
        #[serde(default)]
        root_shoot: Option<f64>,
        #[serde(default)]
        carbon_fraction: Option<f64>,
        /// Roundwood removals, m³/yr.
        #[serde(default)]
        removals_m3: Option<f64>,
        #[serde(default)]
        bcef_r: Option<f64>,
        #[schemars(range(min = 1, max = 1000))]
        years: u32,
    },
}

impl SinksTask {
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            SinksTask::Forest {
                area_ha,
                years,
                growth_t_dm_per_ha_yr,
                ..
            } => {
                if !(area_ha.is_finite() && *area_ha >= 0.0) {
                    return Err(("area_ha", format!("is {area_ha}, must be a non-negative number")));
                }
                if !(1..=1000).contains(years) {
                    return Err(("years", format!("is {years}, must be between 1 and 1000")));
                }
                if let Some(g) = growth_t_dm_per_ha_yr
                    && !(g.is_finite() && *g >= 0.0)
                {
                    return Err((
                        "growth_t_dm_per_ha_yr",
                        format!("is {g}, must be a non-negative number"),
                    ));
                }
                Ok(())
            }
        }
    }
}
