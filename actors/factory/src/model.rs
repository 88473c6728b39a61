//! Plant models as data: a TOML file of units, their energy and material balances, emission
//! factors, capacities, ramp limits, storage and costs. `cbutler schema plant` prints the JSON
//! Schema; `data/factory/plants/*.toml` are the bundled models.
//!
//! Balances are linear per tonne of a unit's product: a unit that makes `x` t/h of its product
//! draws `electricity_mwh_per_t × x` MWh of grid power, `fuels[f] × x` MWh of each fuel and
//! `inputs[p] × x` t of each input product, and emits `process_co2_t_per_t × x` t of process CO2
//! plus the CO2 of its fuels, less what its capture (if any) takes.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::FactoryError;

/// A plant: what it makes, from which units, with which fuels and purchased inputs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plant {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The final product and how much of it must be delivered.
    pub demand: Demand,
    pub units: Vec<Unit>,
    /// Fuels bought from outside, by name.
    #[serde(default)]
    pub fuels: BTreeMap<String, Fuel>,
    /// Products bought from outside (scrap, iron ore pellets, limestone, …), by name.
    #[serde(default)]
    pub purchases: BTreeMap<String, Purchase>,
    /// Storage of products, by product name.
    #[serde(default)]
    pub storage: BTreeMap<String, Storage>,
    /// Sources cited by the `source` fields, by key.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// Delivery of the final product.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    pub product: String,
    /// Tonnes to deliver per day, evenly per hour.
    pub t_per_day: f64,
}

/// A production unit (blast furnace, EAF, kiln, electrolyser, …).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub name: String,
    /// The product it makes.
    pub product: String,
    /// Maximum output, t/h.
    pub capacity_t_per_h: f64,
    /// Minimum output while running, as a share of capacity (0 = can run at any load).
    #[serde(default)]
    pub min_load: f64,
    /// Whether the unit may stop (output 0) between runs; with `min_load > 0` this makes an
    /// on/off decision (MILP).
    #[serde(default = "yes")]
    pub can_stop: bool,
    /// Largest change of output from one hour to the next, t/h (absent = no limit).
    #[serde(default)]
    pub ramp_t_per_h: Option<f64>,
    /// Grid electricity, MWh per t of product.
    #[serde(default)]
    pub electricity_mwh_per_t: f64,
    /// Fuel use, MWh (net calorific value) per t of product, by fuel name.
    #[serde(default)]
    pub fuels: BTreeMap<String, f64>,
    /// Input products, t per t of product, by product name.
    #[serde(default)]
    pub inputs: BTreeMap<String, f64>,
    /// Process CO2 (not from fuels: calcination, electrodes, reductant carbon), t per t.
    #[serde(default)]
    pub process_co2_t_per_t: f64,
    /// Share of the unit's direct CO2 captured (0–1).
    #[serde(default)]
    pub capture_rate: f64,
    /// Grid electricity for capture, MWh per t of CO2 captured.
    #[serde(default)]
    pub capture_electricity_mwh_per_t_co2: f64,
    /// Heat to regenerate the capture solvent, MWh per t of CO2 captured, from `capture_heat_fuel`
    /// (its CO2 is not captured).
    #[serde(default)]
    pub capture_heat_mwh_per_t_co2: f64,
    #[serde(default)]
    pub capture_heat_fuel: Option<String>,
    /// Other variable cost, EUR per t of product (operation, maintenance, capture and storage).
    #[serde(default)]
    pub variable_cost_eur_per_t: f64,
    /// Key into `sources` for this unit's factors.
    #[serde(default)]
    pub source: String,
}

fn yes() -> bool {
    true
}

/// A purchased fuel.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fuel {
    /// t CO2 per MWh (net calorific value) burnt.
    pub co2_t_per_mwh: f64,
    pub price_eur_per_mwh: f64,
    #[serde(default)]
    pub source: String,
}

/// A purchased product.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Purchase {
    pub price_eur_per_t: f64,
    #[serde(default)]
    pub source: String,
}

/// Storage of a product.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    pub capacity_t: f64,
    /// Level at the start; the run must end at least this full.
    pub initial_t: f64,
}

impl Plant {
    /// Parses and validates a plant from TOML. Syntax and type errors name the line and column
    /// (from the TOML parser); model errors name the unit and field.
    pub fn from_toml(text: &str, origin: &str) -> Result<Plant, FactoryError> {
        let plant: Plant =
            toml::from_str(text).map_err(|e| FactoryError::PlantFile(format!("{origin}: {e}")))?;
        plant
            .validate()
            .map_err(|e| FactoryError::PlantFile(format!("{origin}: {e}")))?;
        Ok(plant)
    }

    /// Checks that every number is in range and every name refers to something.
    pub fn validate(&self) -> Result<(), String> {
        let non_negative = |what: String, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a non-negative number, got {v}"))
            }
        };
        let share = |what: String, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{what} must be between 0 and 1, got {v}"))
            }
        };
        if self.units.is_empty() {
            return Err("a plant needs at least one [[units]] entry".into());
        }
        non_negative("demand.t_per_day".into(), self.demand.t_per_day)?;
        let mut makers: BTreeMap<&str, &str> = BTreeMap::new();
        for u in &self.units {
            let at = |field: &str| format!("unit {:?}: {field}", u.name);
            if let Some(other) = makers.insert(u.product.as_str(), u.name.as_str()) {
                return Err(format!(
                    "units {other:?} and {:?} both make {:?}; one unit per product",
                    u.name, u.product
                ));
            }
            if !(u.capacity_t_per_h.is_finite() && u.capacity_t_per_h > 0.0) {
                return Err(format!(
                    "{} must be a positive number, got {}",
                    at("capacity_t_per_h"),
                    u.capacity_t_per_h
                ));
            }
            share(at("min_load"), u.min_load)?;
            share(at("capture_rate"), u.capture_rate)?;
            if let Some(r) = u.ramp_t_per_h {
                non_negative(at("ramp_t_per_h"), r)?;
            }
            for (name, v) in [
                ("electricity_mwh_per_t", u.electricity_mwh_per_t),
                ("process_co2_t_per_t", u.process_co2_t_per_t),
                (
                    "capture_electricity_mwh_per_t_co2",
                    u.capture_electricity_mwh_per_t_co2,
                ),
                ("variable_cost_eur_per_t", u.variable_cost_eur_per_t),
            ] {
                non_negative(at(name), v)?;
            }
            if u.capture_heat_mwh_per_t_co2 > 0.0 {
                non_negative(at("capture_heat_mwh_per_t_co2"), u.capture_heat_mwh_per_t_co2)?;
                match &u.capture_heat_fuel {
                    Some(f) if self.fuels.contains_key(f) => {}
                    Some(f) => {
                        return Err(format!(
                            "{} {f:?} is not a fuel of the plant",
                            at("capture_heat_fuel")
                        ));
                    }
                    None => {
                        return Err(format!(
                            "{} is needed with capture_heat_mwh_per_t_co2",
                            at("capture_heat_fuel")
                        ));
                    }
                }
            }
            for (f, v) in &u.fuels {
                non_negative(at(&format!("fuels.{f}")), *v)?;
                if !self.fuels.contains_key(f) {
                    return Err(format!(
                        "{} is not a fuel of the plant (add [fuels.{f}])",
                        at(&format!("fuels.{f}"))
                    ));
                }
            }
            for (p, v) in &u.inputs {
                non_negative(at(&format!("inputs.{p}")), *v)?;
            }
            if !u.source.is_empty() && !self.sources.contains_key(&u.source) {
                return Err(format!(
                    "{} {:?} is not a key of [sources]",
                    at("source"),
                    u.source
                ));
            }
        }
        for u in &self.units {
            for p in u.inputs.keys() {
                if !makers.contains_key(p.as_str()) && !self.purchases.contains_key(p) {
                    return Err(format!(
                        "unit {:?}: input {p:?} is neither made by a unit nor purchased (add [purchases.{p}])",
                        u.name
                    ));
                }
            }
        }
        if !makers.contains_key(self.demand.product.as_str()) {
            return Err(format!(
                "demand.product {:?} is made by no unit",
                self.demand.product
            ));
        }
        for (name, f) in &self.fuels {
            non_negative(format!("fuels.{name}.co2_t_per_mwh"), f.co2_t_per_mwh)?;
            if !f.price_eur_per_mwh.is_finite() {
                return Err(format!("fuels.{name}.price_eur_per_mwh must be a number"));
            }
        }
        for (name, p) in &self.purchases {
            if !p.price_eur_per_t.is_finite() {
                return Err(format!("purchases.{name}.price_eur_per_t must be a number"));
            }
        }
        for (product, s) in &self.storage {
            non_negative(format!("storage.{product}.capacity_t"), s.capacity_t)?;
            non_negative(format!("storage.{product}.initial_t"), s.initial_t)?;
            if s.initial_t > s.capacity_t {
                return Err(format!("storage.{product}: initial_t exceeds capacity_t"));
            }
            if !makers.contains_key(product.as_str()) {
                return Err(format!(
                    "storage.{product}: no unit makes {product:?} (only made products are stored)"
                ));
            }
        }
        // The input graph must not loop back on itself (a unit cannot need, through others, its
        // own product): the steady-state requirements are solved by walking it.
        self.topological_units()?;
        Ok(())
    }

    /// Units in an order where every unit comes after the units whose products it needs.
    pub fn topological_units(&self) -> Result<Vec<usize>, String> {
        let index: BTreeMap<&str, usize> = self
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.product.as_str(), i))
            .collect();
        let mut order = Vec::new();
        let mut state = vec![0u8; self.units.len()];
        fn visit(
            i: usize,
            plant: &Plant,
            index: &BTreeMap<&str, usize>,
            state: &mut [u8],
            order: &mut Vec<usize>,
        ) -> Result<(), String> {
            match state[i] {
                2 => return Ok(()),
                1 => {
                    return Err(format!(
                        "unit {:?} needs its own product through its inputs",
                        plant.units[i].name
                    ));
                }
                _ => {}
            }
            state[i] = 1;
            for p in plant.units[i].inputs.keys() {
                if let Some(&j) = index.get(p.as_str()) {
                    visit(j, plant, index, state, order)?;
                }
            }
            state[i] = 2;
            order.push(i);
            Ok(())
        }
        for i in 0..self.units.len() {
            visit(i, self, &index, &mut state, &mut order)?;
        }
        Ok(order)
    }

    /// Products made by the plant's units.
    pub fn made_products(&self) -> BTreeSet<&str> {
        self.units.iter().map(|u| u.product.as_str()).collect()
    }

    /// Steady output of each unit (t/h) that delivers the demand evenly.
    pub fn steady_rates(&self) -> Vec<f64> {
        let order = self.topological_units().expect("validated");
        let mut need: BTreeMap<&str, f64> = BTreeMap::new();
        need.insert(self.demand.product.as_str(), self.demand.t_per_day / 24.0);
        let mut rates = vec![0.0; self.units.len()];
        // Consumers first: walk the order backwards.
        for &i in order.iter().rev() {
            let u = &self.units[i];
            let x = need.get(u.product.as_str()).copied().unwrap_or(0.0);
            rates[i] = x;
            for (p, a) in &u.inputs {
                *need.entry(p.as_str()).or_insert(0.0) += a * x;
            }
        }
        rates
    }

    /// Direct CO2 per t of a unit's product before capture: fuels plus process.
    pub fn gross_direct_co2_t_per_t(&self, u: &Unit) -> f64 {
        u.process_co2_t_per_t
            + u.fuels
                .iter()
                .map(|(f, mwh)| mwh * self.fuels.get(f).map(|f| f.co2_t_per_mwh).unwrap_or(0.0))
                .sum::<f64>()
    }

    /// Grid electricity per t of a unit's product, including capture.
    pub fn electricity_mwh_per_t(&self, u: &Unit) -> f64 {
        u.electricity_mwh_per_t
            + u.capture_rate * self.gross_direct_co2_t_per_t(u) * u.capture_electricity_mwh_per_t_co2
    }

    /// All fuel burnt per t of a unit's product (MWh): its fuels and the capture heat.
    pub fn fuels_mwh_per_t(&self, u: &Unit) -> f64 {
        u.fuels.values().sum::<f64>() + self.capture_heat(u).map(|(mwh, _)| mwh).unwrap_or(0.0)
    }

    /// Fuel for capture heat per t of a unit's product (MWh) and its fuel.
    fn capture_heat(&self, u: &Unit) -> Option<(f64, &Fuel)> {
        let f = self.fuels.get(u.capture_heat_fuel.as_deref()?)?;
        Some((
            u.capture_rate * self.gross_direct_co2_t_per_t(u) * u.capture_heat_mwh_per_t_co2,
            f,
        ))
    }

    /// Direct CO2 emitted per t of a unit's product, after capture, with the CO2 of the capture
    /// heat.
    pub fn direct_co2_t_per_t(&self, u: &Unit) -> f64 {
        self.gross_direct_co2_t_per_t(u) * (1.0 - u.capture_rate)
            + self
                .capture_heat(u)
                .map(|(mwh, f)| mwh * f.co2_t_per_mwh)
                .unwrap_or(0.0)
    }

    /// Cost per t of a unit's product apart from electricity: fuels, bought inputs and variable
    /// cost.
    pub fn non_electricity_cost_eur_per_t(&self, u: &Unit) -> f64 {
        self.capture_heat(u)
            .map(|(mwh, f)| mwh * f.price_eur_per_mwh)
            .unwrap_or(0.0)
            + u.variable_cost_eur_per_t
            + u.fuels
                .iter()
                .map(|(f, mwh)| mwh * self.fuels.get(f).map(|f| f.price_eur_per_mwh).unwrap_or(0.0))
                .sum::<f64>()
    }
}

impl Plant {
    /// Cost of the bought inputs per t of a unit's product.
    pub fn purchases_cost_eur_per_t(&self, u: &Unit) -> f64 {
        let made = self.made_products();
        u.inputs
            .iter()
            .filter(|(p, _)| !made.contains(p.as_str()))
            .map(|(p, a)| a * self.purchases.get(p).map(|b| b.price_eur_per_t).unwrap_or(0.0))
            .sum()
    }
}

/// The JSON Schema of a plant file.
pub fn plant_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Plant)).expect("a generated schema always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
name = "two-step test plant"
demand = { product = "steel", t_per_day = 240 }

[[units]]
name = "dri"
product = "dri"
capacity_t_per_h = 20
fuels = { gas = 3.0 }

[[units]]
name = "eaf"
product = "steel"
capacity_t_per_h = 15
electricity_mwh_per_t = 0.6
inputs = { dri = 1.1, scrap = 0.1 }
process_co2_t_per_t = 0.05

[fuels.gas]
co2_t_per_mwh = 0.2
price_eur_per_mwh = 30

[purchases.scrap]
price_eur_per_t = 300
"#;

    #[test]
    fn a_small_plant_parses_and_has_steady_rates() {
        let p = Plant::from_toml(SMALL, "small.toml").unwrap();
        let r = p.steady_rates();
        assert_eq!(r[1], 10.0);
        assert!((r[0] - 11.0).abs() < 1e-12);
        assert!((p.gross_direct_co2_t_per_t(&p.units[0]) - 0.6).abs() < 1e-12);
    }

    #[test]
    fn malformed_files_name_the_line_or_the_field() {
        let e = Plant::from_toml(
            &SMALL.replace("capacity_t_per_h = 15", "capacity_t_per_h = \"fast\""),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 14") && e.contains("capacity_t_per_h"), "{e}");
        let e = Plant::from_toml(&SMALL.replace("capacity_t_per_h = 20\n", ""), "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("capacity_t_per_h"), "{e}");
        let e = Plant::from_toml(&SMALL.replace("scrap = 0.1", "ore = 0.1"), "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("input \"ore\" is neither made by a unit nor purchased"),
            "{e}"
        );
        let e = Plant::from_toml(
            &SMALL.replace("electricity_mwh_per_t = 0.6", "electricity_mwh_per_t = -1"),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("unit \"eaf\": electricity_mwh_per_t must be a non-negative number"),
            "{e}"
        );
        let e = Plant::from_toml(
            &SMALL.replace("name = \"eaf\"", "name = \"eaf\"\ncolour = 1"),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("colour"), "{e}");
    }
}
