use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A number as it leaves an agent: value, unit, uncertainty and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quantity {
    pub value: f64,
    /// Unit as written in the field, e.g. `t CO2`, `kg`, `Mt CO2`, `M.EUR`.
    pub unit: String,
    pub uncertainty: Uncertainty,
    pub provenance: Provenance,
}

impl Quantity {
    pub fn new(value: f64, unit: impl Into<String>, provenance: Provenance) -> Self {
        Quantity {
            value,
            unit: unit.into(),
            uncertainty: Uncertainty::NotAssessed,
            provenance,
        }
    }

    pub fn with_uncertainty(mut self, uncertainty: Uncertainty) -> Self {
        self.uncertainty = uncertainty;
        self
    }
}

/// How uncertain a value is. `NotAssessed` is an honest statement, not a default to hide behind:
/// the uncertainty agent replaces it where it can.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Uncertainty {
    /// Nobody has quantified the uncertainty of this value yet.
    NotAssessed,
    /// The true value lies in `[low, high]` with the stated probability (e.g. 0.95).
    Interval { low: f64, high: f64, confidence: f64 },
    /// Normal distribution around the value with standard deviation `sd`.
    Normal { sd: f64 },
    /// Lognormal distribution with geometric standard deviation `gsd` (> 1).
    Lognormal { gsd: f64 },
    /// Triangular distribution on `[min, max]` with the value as mode.
    Triangular { min: f64, max: f64 },
    /// Uniform distribution on `[min, max]`.
    Uniform { min: f64, max: f64 },
}

/// Where a value came from: enough to find the data again and redo the calculation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    /// Name of the dataset, e.g. `Global Carbon Budget 2024` or a path to an MRIO.
    pub dataset: String,
    /// Version or release of the dataset (or a content digest where none is published).
    pub version: String,
    /// The method or equation used, e.g. `D_cba = S·L·Y (pymrio calc_accounts)`.
    pub method: String,
    /// Parameters of the calculation (region, year, stressor, ...).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Citation and licence of the source, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
}

impl Provenance {
    pub fn new(dataset: impl Into<String>, version: impl Into<String>, method: impl Into<String>) -> Self {
        Provenance {
            dataset: dataset.into(),
            version: version.into(),
            method: method.into(),
            parameters: BTreeMap::new(),
            citation: None,
        }
    }

    pub fn param(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.parameters.insert(key.into(), value.to_string());
        self
    }

    pub fn cite(mut self, citation: impl Into<String>) -> Self {
        self.citation = Some(citation.into());
        self
    }
}
