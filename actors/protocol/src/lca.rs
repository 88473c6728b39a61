use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The inventory database compiled into every agent (USLCI); any other name is a path.
pub const BUNDLED_DATABASE: &str = "uslci";

/// Monte Carlo settings of a footprint: every technosphere input and biosphere exchange varies by
/// a lognormal factor (geometric mean 1) whose GSD is given or follows from pedigree scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FootprintMonteCarlo {
    #[schemars(range(min = 10, max = 100_000))]
    pub iterations: u32,
    #[serde(default)]
    pub seed: u64,
    /// Lognormal GSD of every exchange (> 1); or give `pedigree`.
    #[serde(default)]
    pub gsd: Option<f64>,
    /// ecoinvent pedigree scores (reliability, completeness, temporal, geographical, further
    /// technological correlation), each 1–5, giving the GSD.
    #[serde(default)]
    pub pedigree: Option<[u8; 5]>,
    /// Why these scores or this GSD (shown with the answer), e.g. `assumed: ...`.
    #[serde(default)]
    pub rule: String,
}

/// The product group in an EEIO model to compare a footprint with, and the product's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EeioComparison {
    /// Exporting region of the bundled USEEIO import factors: APAC, CA, CN, EU, JP, MX or ROW.
    #[schemars(length(min = 1))]
    pub region: String,
    /// BEA detail sector code (2017 schema), e.g. `331110` (iron and steel mills).
    #[schemars(length(min = 1))]
    pub sector: String,
    /// Price of one reference unit of the product, USD (basic prices, 2019).
    #[schemars(range(min = 0.0))]
    pub price_usd_per_unit: f64,
}

/// What the life-cycle assessment agent can be asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LcaTask {
    /// The carbon footprint of an amount of a product from a life-cycle inventory database.
    Footprint {
        /// `uslci` for the bundled US LCI, or a path to an openLCA JSON-LD database.
        #[schemars(length(min = 1))]
        database: String,
        /// A process name or product flow name in the database.
        #[schemars(length(min = 1))]
        product: String,
        /// Amount in the product's reference unit.
        #[schemars(range(min = 0.0))]
        amount: f64,
        /// Unit of the amount as asked; it must be the product's reference unit.
        #[serde(default)]
        unit: Option<String>,
        /// Impact method id, e.g. `ipcc-ar6-gwp100`.
        method: String,
        /// Monte Carlo on the exchanges, giving the footprint an interval.
        #[serde(default)]
        monte_carlo: Option<FootprintMonteCarlo>,
        /// Compare the footprint with the EEIO multiplier of its product group.
        #[serde(default)]
        eeio_comparison: Option<EeioComparison>,
    },
    /// Embedded emissions, certificates and cost of an import under the EU CBAM.
    CbamCost {
        /// Country of origin: English name or ISO code.
        #[schemars(length(min = 1))]
        country: String,
        /// CN code of the good.
        #[schemars(length(min = 4, max = 10))]
        cn_code: String,
        /// Which of the goods sharing the code: `grey` or `white` (clinker, hydraulic cements).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variant: Option<String>,
        #[schemars(range(min = 0.0))]
        tonnes: f64,
        #[schemars(range(min = 2026, max = 2100))]
        year: i32,
        /// Quarter of import (1–4): selects the published certificate price of 2026.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 1, max = 4))]
        quarter: Option<u8>,
        #[serde(default)]
        actual_direct: Option<f64>,
        #[serde(default)]
        actual_indirect: Option<f64>,
        /// Certificate price, EUR per t CO2e.
        #[serde(default)]
        ets_price: Option<f64>,
        /// Carbon price paid at origin, EUR per t CO2e.
        #[serde(default)]
        origin_carbon_price: Option<f64>,
    },
}

impl LcaTask {
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        let positive = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err((field, format!("is {v}, must be a positive number")))
            }
        };
        match self {
            LcaTask::Footprint {
                database,
                product,
                amount,
                monte_carlo,
                eeio_comparison,
                ..
            } => {
                if let Some(c) = eeio_comparison
                    && !(c.price_usd_per_unit.is_finite() && c.price_usd_per_unit > 0.0)
                {
                    return Err((
                        "eeio_comparison.price_usd_per_unit",
                        format!("is {}, must be a positive number", c.price_usd_per_unit),
                    ));
                }
                if database.trim().is_empty() {
                    return Err(("database", "must not be empty".into()));
                }
                if product.trim().is_empty() {
                    return Err(("product", "must not be empty".into()));
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
                    match (mc.gsd, mc.pedigree) {
                        (Some(g), None) if g.is_finite() && g >= 1.0 => {}
                        (Some(g), None) => {
                            return Err(("monte_carlo.gsd", format!("is {g}, must be a number ≥ 1")));
                        }
                        (None, Some(p)) if p.iter().all(|s| (1..=5).contains(s)) => {}
                        (None, Some(p)) => {
                            return Err((
                                "monte_carlo.pedigree",
                                format!("is {p:?}, each score must be 1–5"),
                            ));
                        }
                        _ => {
                            return Err(("monte_carlo", "give exactly one of `gsd` and `pedigree`".into()));
                        }
                    }
                }
                positive("amount", *amount)
            }
            LcaTask::CbamCost {
                tonnes,
                year,
                cn_code,
                variant,
                quarter,
                ..
            } => {
                positive("tonnes", *tonnes)?;
                if let Some(k) = quarter
                    && !(1..=4).contains(k)
                {
                    return Err(("quarter", format!("is {k}, must be 1 to 4")));
                }
                if let Some(v) = variant
                    && !(v.len() <= 16 && v.chars().all(char::is_alphabetic))
                {
                    return Err(("variant", format!("{v:?} is not a word such as grey or white")));
                }
                if !(2026..=2100).contains(year) {
                    return Err(("year", format!("is {year}, must be between 2026 and 2100")));
                }
                if !cn_code.chars().all(|c| c.is_ascii_digit() || c == ' ') {
                    return Err(("cn_code", format!("{cn_code:?} is not a CN code")));
                }
                Ok(())
            }
        }
    }
}
