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
    /// Mineral soil organic carbon (0–30 cm) after a change of land use, tillage or input
    /// (IPCC 2006 Vol. 4 Eq. 2.25, stock change factors of Table 5.5). The reference stock has no
    /// confirmed bundled default, so it is always given.
    Soil {
        #[schemars(range(min = 0.0))]
        area_ha: f64,
        /// Table 5.5 climate: `temperate/boreal dry`, `temperate/boreal moist`, `tropical dry`,
        /// `tropical moist`, `tropical montane`.
        climate: String,
        /// SOC_REF, t C/ha under native vegetation.
        #[schemars(range(min = 0.0, max = 2000.0))]
        soc_ref_t_c_per_ha: f64,
        before: SoilManagement,
        after: SoilManagement,
        /// Transition period D (IPCC default 20 years).
        #[schemars(range(min = 1, max = 1000))]
        transition_years: u32,
        #[schemars(range(min = 1, max = 1000))]
        years: u32,
    },
    /// Land converted from one use to another (deforestation, afforestation): the biomass lost or
    /// gained at conversion (Eq. 2.16) and, where given, soil carbon over its transition (Eq. 2.25).
    LandUseChange {
        #[schemars(range(min = 0.0))]
        area_ha: f64,
        /// Total biomass just before conversion, t d.m./ha.
        #[schemars(range(min = 0.0, max = 5000.0))]
        biomass_before_t_dm_per_ha: f64,
        /// Total biomass just after conversion, t d.m./ha (0 for clearing).
        #[serde(default)]
        #[schemars(range(min = 0.0, max = 5000.0))]
        biomass_after_t_dm_per_ha: f64,
        #[serde(default)]
        carbon_fraction: Option<f64>,
        /// Soil carbon before and after, t C/ha (both or neither).
        #[serde(default)]
        soc_before_t_c_per_ha: Option<f64>,
        #[serde(default)]
        soc_after_t_c_per_ha: Option<f64>,
        #[schemars(range(min = 1, max = 1000))]
        years: u32,
    },
    /// Carbon in a pool of harvested wood products by first-order decay (IPCC 2019 Vol. 4
    /// Eq. 12.1): what one year's inflow still holds after `years`.
    WoodProducts {
        /// Carbon entering the pool in the first year, t C.
        #[schemars(range(min = 0.0))]
        inflow_t_c: f64,
        /// `sawnwood`, `wood panels` or `paper` (for the default half-life).
        product: String,
        /// Overrides the default half-life.
        #[serde(default)]
        half_life_years: Option<f64>,
        #[schemars(range(min = 1, max = 1000))]
        years: u32,
    },
}

/// A soil's land use, tillage and input, each a Table 5.5 level (`long-term cultivated`, `full
/// tillage`, `high with manure`, …) or a factor as a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoilManagement {
    pub land_use: String,
    pub tillage: String,
    pub input: String,
}

/// The largest area one task accounts (the world's land is about 1.3e10 ha).
const MAX_AREA_HA: f64 = 2.0e10;

fn check_area(area_ha: f64) -> Result<(), (&'static str, String)> {
    if area_ha.is_finite() && (0.0..=MAX_AREA_HA).contains(&area_ha) {
        Ok(())
    } else {
        Err((
            "area_ha",
            format!("is {area_ha}, must be between 0 and {MAX_AREA_HA:e}"),
        ))
    }
}

fn check_years(years: u32) -> Result<(), (&'static str, String)> {
    if (1..=1000).contains(&years) {
        Ok(())
    } else {
        Err(("years", format!("is {years}, must be between 1 and 1000")))
    }
}

fn check_range(field: &'static str, v: f64, max: f64) -> Result<(), (&'static str, String)> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(())
    } else {
        Err((field, format!("is {v}, must be between 0 and {max}")))
    }
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
            SinksTask::Soil {
                area_ha,
                climate,
                soc_ref_t_c_per_ha,
                before,
                after,
                transition_years,
                years,
            } => {
                check_area(*area_ha)?;
                check_years(*years)?;
                check_range("soc_ref_t_c_per_ha", *soc_ref_t_c_per_ha, 2000.0)?;
                if !(1..=1000).contains(transition_years) {
                    return Err((
                        "transition_years",
                        format!("is {transition_years}, must be between 1 and 1000"),
                    ));
                }
                for (field, text) in [
                    ("climate", climate),
                    ("before.land_use", &before.land_use),
                    ("before.tillage", &before.tillage),
                    ("before.input", &before.input),
                    ("after.land_use", &after.land_use),
                    ("after.tillage", &after.tillage),
                    ("after.input", &after.input),
                ] {
                    if text.trim().is_empty() || text.len() > 64 {
                        return Err((field, "must be 1 to 64 characters".into()));
                    }
                }
                Ok(())
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
                check_area(*area_ha)?;
                check_years(*years)?;
                check_range("biomass_before_t_dm_per_ha", *biomass_before_t_dm_per_ha, 5000.0)?;
                check_range("biomass_after_t_dm_per_ha", *biomass_after_t_dm_per_ha, 5000.0)?;
                if let Some(cf) = carbon_fraction {
                    check_range("carbon_fraction", *cf, 1.0)?;
                }
                match (soc_before_t_c_per_ha, soc_after_t_c_per_ha) {
                    (Some(b), Some(a)) => {
                        check_range("soc_before_t_c_per_ha", *b, 2000.0)?;
                        check_range("soc_after_t_c_per_ha", *a, 2000.0)?;
                    }
                    (None, None) => {}
                    _ => {
                        return Err((
                            "soc_before_t_c_per_ha",
                            "give soil carbon before and after, or neither".into(),
                        ));
                    }
                }
                Ok(())
            }
            SinksTask::WoodProducts {
                inflow_t_c,
                product,
                half_life_years,
                years,
            } => {
                check_years(*years)?;
                check_range("inflow_t_c", *inflow_t_c, 1e12)?;
                if let Some(h) = half_life_years
                    && !(h.is_finite() && *h > 0.0 && *h <= 1000.0)
                {
                    return Err((
                        "half_life_years",
                        format!("is {h}, must be above 0 and at most 1000"),
                    ));
                }
                if product.trim().is_empty() || product.len() > 64 {
                    return Err(("product", "must be 1 to 64 characters".into()));
                }
                Ok(())
            }
        }
    }
}
