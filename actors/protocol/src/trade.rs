use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where an MRIO lives: a pymrio save folder or zip, an EXIOBASE 3 zip, or a WIOD-style folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MrioSource {
    #[schemars(length(min = 1))]
    pub path: String,
}

/// Which account of a region a sector drill-down ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Consumption-based (footprint): D_cba, by product of final demand.
    Consumption,
    /// Production-based (territorial): D_pba, by producing sector.
    Production,
    /// Emissions abroad caused by the region's final demand: D_imp.
    Imports,
    /// Emissions at home caused by other regions' final demand: D_exp.
    Exports,
}

impl AccountKind {
    pub fn symbol(self) -> &'static str {
        match self {
            AccountKind::Consumption => "D_cba",
            AccountKind::Production => "D_pba",
            AccountKind::Imports => "D_imp",
            AccountKind::Exports => "D_exp",
        }
    }
}

/// What the trade agent can be asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TradeTask {
    /// Published territorial and consumption-based CO2 of countries (Global Carbon Budget),
    /// and the net transfer embodied in trade (consumption − territorial).
    NationalAccounts {
        /// ISO 3166-1 alpha-3 codes, or Global Carbon Budget entity names for aggregates
        /// such as `European Union (27)`.
        #[schemars(length(min = 1))]
        countries: Vec<String>,
        /// Calendar year; the latest year with both series when absent.
        #[serde(default)]
        year: Option<i32>,
    },
    /// Regional consumption-, production-, import- and export-based accounts from an MRIO.
    MrioAccounts {
        mrio: MrioSource,
        /// First level of the extension row label (e.g. `CO2`); all stressors when absent.
        #[serde(default)]
        stressor: Option<String>,
        /// Regions to report (MRIO labels); all when empty.
        #[serde(default)]
        regions: Vec<String>,
        /// Year the MRIO describes, for the comparison with the Global Carbon Budget; read from
        /// the MRIO's name or version when absent.
        #[serde(default)]
        year: Option<i32>,
    },
    /// Emissions embodied in bilateral trade (producing × consuming region) and net transfers.
    Transfers {
        mrio: MrioSource,
        stressor: String,
        /// Producing (exporting) region; every region when absent.
        #[serde(default)]
        from: Option<String>,
        /// Consuming (importing) region; every region when absent.
        #[serde(default)]
        to: Option<String>,
    },
    /// The sectors that contribute most to one of a region's accounts.
    TopSectors {
        mrio: MrioSource,
        stressor: String,
        region: String,
        account: AccountKind,
        #[schemars(range(min = 1, max = 1000))]
        top: u32,
    },
    /// Structural path analysis: the largest supply-chain paths behind a region's final demand
    /// for one sector's product.
    SupplyChainPaths {
        mrio: MrioSource,
        stressor: String,
        region: String,
        sector: String,
        #[schemars(range(min = 1, max = 12))]
        depth: u32,
        #[schemars(range(min = 1, max = 1000))]
        top: u32,
        /// Paths (and their subtrees) below this share of the total are pruned.
        #[schemars(range(min = 0.0, max = 1.0))]
        threshold: f64,
    },
    /// The multiplier of one region's sector (pymrio `M = S·L`): the stressor emitted along the
    /// whole supply chain per unit of that sector's final demand, in the MRIO's money; with a
    /// product price, also per kg of the product, so it can be set against a life-cycle footprint.
    Multiplier {
        mrio: MrioSource,
        stressor: String,
        region: String,
        sector: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        price: Option<ProductPrice>,
    },
    /// Avoided emissions of exported solar or wind capacity over its lifetime at the destination's
    /// grid margin, against its life-cycle emissions (made on the exporter's grid), with the
    /// technology's parameters as given and where they come from.
    AvoidedEmissions {
        /// Country names or ISO codes.
        #[schemars(length(min = 1, max = 80))]
        exporter: String,
        #[schemars(length(min = 1, max = 80))]
        destination: String,
        /// `solar-pv`, `wind-onshore` or `wind-offshore`.
        technology: String,
        #[schemars(range(min = 0.0, max = 1000000.0))]
        mw: f64,
        parameters: AvoidedParameters,
        /// The destination's margin: the IFI combined margin for intermittent generation unless
        /// another is named.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        margin: Option<crate::factory::GridFactor>,
    },
}

/// A technology's parameters for avoided emissions, with their source: the question's numbers,
/// and any bundled default (two sources) it named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AvoidedParameters {
    /// A fraction of the year at full output (0.17, not 17).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub capacity_factor: f64,
    #[schemars(range(min = 1, max = 60))]
    pub lifetime_years: u32,
    /// A fraction lost each year (0.005 = 0.5 %/yr).
    #[schemars(range(min = 0.0, max = 0.2))]
    pub degradation_per_year: f64,
    /// MWh of electricity to make one MW.
    #[schemars(range(min = 0.0, max = 100000.0))]
    pub manufacturing_mwh_per_mw: f64,
    /// t CO2e per MW besides the manufacturing electricity.
    #[schemars(range(min = 0.0, max = 100000.0))]
    pub other_embodied_t_per_mw: f64,
    #[serde(default)]
    pub transport_t_per_mw: f64,
    #[serde(default)]
    pub operation_g_per_kwh: f64,
    #[schemars(length(min = 1, max = 2000))]
    pub source: String,
    /// Ranges `[low, high]` the question gives around the capacity factor, lifetime and
    /// degradation (fractions and years, the values inside them); with any of these or a margin
    /// uncertainty the answer carries a 95 % interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_factor_range: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_years_range: Option<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degradation_range: Option<[f64; 2]>,
    /// Relative uncertainty of the destination's margin (0.1 = ±10 %, triangular).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 0.99))]
    pub margin_relative_uncertainty: Option<f64>,
}

/// What one unit of a product costs, to turn a monetary multiplier into one per kg.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductPrice {
    #[schemars(range(min = 0.0))]
    pub amount: f64,
    /// ISO 4217 code: EUR, USD, CNY, ...
    #[schemars(length(min = 3, max = 3))]
    pub currency: String,
    /// The unit priced: `t` or `kg`.
    pub per: String,
}

impl TradeTask {
    /// The MRIO the task reads, if any (the Global Carbon Budget is bundled).
    pub fn mrio_mut(&mut self) -> Option<&mut MrioSource> {
        match self {
            TradeTask::NationalAccounts { .. } => None,
            TradeTask::MrioAccounts { mrio, .. }
            | TradeTask::Transfers { mrio, .. }
            | TradeTask::TopSectors { mrio, .. }
            | TradeTask::SupplyChainPaths { mrio, .. }
            | TradeTask::Multiplier { mrio, .. } => Some(mrio),
            TradeTask::AvoidedEmissions { .. } => None,
        }
    }

    /// Range checks that a JSON Schema states but serde alone does not enforce.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        fn non_empty(field: &'static str, s: &str) -> Result<(), (&'static str, String)> {
            if s.trim().is_empty() {
                Err((field, "must not be empty".into()))
            } else {
                Ok(())
            }
        }
        fn in_range(field: &'static str, v: u32, lo: u32, hi: u32) -> Result<(), (&'static str, String)> {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err((field, format!("is {v}, must be between {lo} and {hi}")))
            }
        }
        match self {
            TradeTask::NationalAccounts { countries, year } => {
                if countries.is_empty() {
                    return Err(("countries", "must name at least one country".into()));
                }
                for c in countries {
                    non_empty("countries", c)?;
                }
                if let Some(y) = year
                    && !(1750..=2100).contains(y)
                {
                    return Err(("year", format!("is {y}, must be between 1750 and 2100")));
                }
                Ok(())
            }
            TradeTask::MrioAccounts {
                mrio, stressor, year, ..
            } => {
                non_empty("mrio.path", &mrio.path)?;
                if let Some(s) = stressor {
                    non_empty("stressor", s)?;
                }
                if let Some(y) = year
                    && !(1950..=2100).contains(y)
                {
                    return Err(("year", format!("is {y}, must be between 1950 and 2100")));
                }
                Ok(())
            }
            TradeTask::Transfers { mrio, stressor, .. } => {
                non_empty("mrio.path", &mrio.path)?;
                non_empty("stressor", stressor)
            }
            TradeTask::TopSectors {
                mrio,
                stressor,
                region,
                top,
                ..
            } => {
                non_empty("mrio.path", &mrio.path)?;
                non_empty("stressor", stressor)?;
                non_empty("region", region)?;
                in_range("top", *top, 1, 1000)
            }
            TradeTask::SupplyChainPaths {
                mrio,
                stressor,
                region,
                sector,
                depth,
                top,
                threshold,
            } => {
                non_empty("mrio.path", &mrio.path)?;
                non_empty("stressor", stressor)?;
                non_empty("region", region)?;
                non_empty("sector", sector)?;
                in_range("depth", *depth, 1, 12)?;
                in_range("top", *top, 1, 1000)?;
                if !(0.0..=1.0).contains(threshold) {
                    return Err(("threshold", format!("is {threshold}, must be between 0 and 1")));
                }
                Ok(())
            }
            TradeTask::AvoidedEmissions {
                exporter,
                destination,
                technology,
                mw,
                parameters,
                margin,
            } => {
                if *margin == Some(crate::factory::GridFactor::Average) {
                    return Err((
                        "margin",
                        "an average intensity is not a margin: avoided emissions take the operating or a \
                         combined margin"
                            .into(),
                    ));
                }
                for (field, v) in [("exporter", exporter), ("destination", destination)] {
                    non_empty(field, v)?;
                    if v.chars().count() > 80 {
                        return Err((field, "is longer than 80 characters".into()));
                    }
                }
                if !["solar-pv", "wind-onshore", "wind-offshore"].contains(&technology.as_str()) {
                    return Err((
                        "technology",
                        "must be solar-pv, wind-onshore or wind-offshore".into(),
                    ));
                }
                if !(mw.is_finite() && *mw > 0.0 && *mw <= 1_000_000.0) {
                    return Err(("mw", format!("is {mw}, must be above 0 and at most 1000000")));
                }
                non_empty("parameters.source", &parameters.source)?;
                if parameters.source.chars().count() > 2000 {
                    return Err(("parameters.source", "is longer than 2,000 characters".into()));
                }
                Ok(())
            }
            TradeTask::Multiplier {
                mrio,
                stressor,
                region,
                sector,
                price,
            } => {
                non_empty("mrio.path", &mrio.path)?;
                non_empty("stressor", stressor)?;
                non_empty("region", region)?;
                non_empty("sector", sector)?;
                if let Some(p) = price {
                    if !(p.amount > 0.0 && p.amount.is_finite() && p.amount <= 1e12) {
                        return Err((
                            "price.amount",
                            format!("is {}, must be above 0 and at most 1e12", p.amount),
                        ));
                    }
                    if !(p.currency.len() == 3 && p.currency.chars().all(|c| c.is_ascii_uppercase())) {
                        return Err((
                            "price.currency",
                            format!("is {:?}, must be an ISO 4217 code", p.currency),
                        ));
                    }
                    if !matches!(p.per.as_str(), "t" | "kg") {
                        return Err(("price.per", format!("is {:?}, must be t or kg", p.per)));
                    }
                }
                Ok(())
            }
        }
    }
}
