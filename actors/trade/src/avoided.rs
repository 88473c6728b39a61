//! Avoided emissions of exported solar and wind equipment against what making, shipping and
//! running it emits: the parameters of each technology (from the user, each set with its source:
//! none is bundled, since no value could be confirmed in two sources here), the exports by
//! destination, and the grid factors from `cb-grid` (the destination's IFI margin, the
//! exporter's average). The equations are in [`crate::engine`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{avoided_emissions_t, life_cycle_emissions_t, lifetime_generation_mwh};

/// Why an avoided-emissions account cannot be made (names the file, line or parameter).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct AvoidedError(pub String);

/// Technologies with a method: grid-connected generation that displaces the grid's margin.
/// Batteries store rather than generate; no sourced method for their avoided emissions is
/// bundled, so they are refused.
pub const TECHNOLOGIES: [&str; 3] = ["solar-pv", "wind-onshore", "wind-offshore"];

/// At most this many export rows in one account.
pub const MAX_EXPORT_ROWS: usize = 10_000;
/// At most this much capacity in one row, MW (about the world's yearly solar additions).
pub const MAX_ROW_MW: f64 = 1_000_000.0;

/// A technology's parameters, each given by the user with the source they come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechnologyParameters {
    /// Share of the year at full output in the destination (0–1).
    pub capacity_factor: f64,
    pub lifetime_years: u32,
    /// Output lost each year, as a share (0.005 = 0.5 %/yr).
    pub degradation_per_year: f64,
    /// Electricity used to make one MW, MWh, charged at the exporter's grid intensity.
    pub manufacturing_mwh_per_mw: f64,
    /// The rest of the embodied emissions of one MW (materials, process heat), t CO2e.
    pub other_embodied_t_per_mw: f64,
    /// Shipping one MW to the destination, t CO2e.
    pub transport_t_per_mw: f64,
    /// Operation and maintenance, g CO2e per kWh generated.
    pub operation_g_per_kwh: f64,
    /// Where these numbers come from (documents, tables, years).
    pub source: String,
}

/// The parameters file: `[technology.<id>]` tables.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParametersFile {
    pub technology: BTreeMap<String, TechnologyParameters>,
}

impl TechnologyParameters {
    fn check(&self, id: &str) -> Result<(), AvoidedError> {
        let bad = |what: &str, v: f64, range: &str| {
            Err(AvoidedError(format!(
                "[technology.{id}] {what} = {v} is outside {range}"
            )))
        };
        let in_range = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        if !(self.capacity_factor.is_finite() && self.capacity_factor > 0.0 && self.capacity_factor <= 1.0) {
            return bad("capacity_factor", self.capacity_factor, "(0, 1]");
        }
        if !(1..=60).contains(&self.lifetime_years) {
            return bad("lifetime_years", self.lifetime_years as f64, "1 to 60");
        }
        if !in_range(self.degradation_per_year, 0.0, 0.2) {
            return bad("degradation_per_year", self.degradation_per_year, "[0, 0.2]");
        }
        if !in_range(self.manufacturing_mwh_per_mw, 0.0, 100_000.0) {
            return bad(
                "manufacturing_mwh_per_mw",
                self.manufacturing_mwh_per_mw,
                "[0, 100000]",
            );
        }
        if !in_range(self.other_embodied_t_per_mw, 0.0, 100_000.0) {
            return bad(
                "other_embodied_t_per_mw",
                self.other_embodied_t_per_mw,
                "[0, 100000]",
            );
        }
        if !in_range(self.transport_t_per_mw, 0.0, 10_000.0) {
            return bad("transport_t_per_mw", self.transport_t_per_mw, "[0, 10000]");
        }
        if !in_range(self.operation_g_per_kwh, 0.0, 2_000.0) {
            return bad("operation_g_per_kwh", self.operation_g_per_kwh, "[0, 2000]");
        }
        if self.source.trim().is_empty() || self.source.chars().count() > 2_000 {
            return Err(AvoidedError(format!(
                "[technology.{id}] source must say where the numbers come from (1 to 2,000 characters)"
            )));
        }
        Ok(())
    }
}

/// Parses and checks a parameters file (TOML); every technology must be a known one.
pub fn parse_parameters(text: &str, origin: &str) -> Result<ParametersFile, AvoidedError> {
    let file: ParametersFile = toml::from_str(text).map_err(|e| AvoidedError(format!("{origin}: {e}")))?;
    for (id, p) in &file.technology {
        if !TECHNOLOGIES.contains(&id.as_str()) {
            return Err(AvoidedError(format!(
                "{origin}: [technology.{id}] is not one of {} (batteries have no sourced method here)",
                TECHNOLOGIES.join(", ")
            )));
        }
        p.check(id).map_err(|e| AvoidedError(format!("{origin}: {e}")))?;
    }
    Ok(file)
}

/// One shipment: capacity of a technology sent to a destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    pub destination: String,
    pub technology: String,
    pub mw: f64,
}

/// Parses an exports CSV (`destination,technology,mw`), naming the line of any error.
pub fn parse_exports(text: &str, origin: &str) -> Result<Vec<Export>, AvoidedError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| AvoidedError(format!("{origin}: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != ["destination", "technology", "mw"] {
        return Err(AvoidedError(format!(
            "{origin}: the header must be destination,technology,mw (capacity in MW; a count of units needs \
             their MW), got {}",
            header.join(",")
        )));
    }
    let mut out = Vec::new();
    for (i, row) in rdr.deserialize::<Export>().enumerate() {
        let line = i + 2;
        let e = row.map_err(|e| AvoidedError(format!("{origin}: line {line}: {e}")))?;
        if out.len() == MAX_EXPORT_ROWS {
            return Err(AvoidedError(format!(
                "{origin}: more than {MAX_EXPORT_ROWS} rows"
            )));
        }
        if !(e.mw.is_finite() && e.mw > 0.0 && e.mw <= MAX_ROW_MW) {
            return Err(AvoidedError(format!(
                "{origin}: line {line}: mw = {} must be above 0 and at most {MAX_ROW_MW}",
                e.mw
            )));
        }
        if e.destination.is_empty() || e.destination.chars().count() > 80 {
            return Err(AvoidedError(format!(
                "{origin}: line {line}: name the destination (1 to 80 characters)"
            )));
        }
        out.push(e);
    }
    if out.is_empty() {
        return Err(AvoidedError(format!("{origin}: no exports")));
    }
    Ok(out)
}

/// The account of one shipment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvoidedRow {
    pub destination: String,
    pub technology: String,
    pub mw: f64,
    pub lifetime_generation_mwh: f64,
    /// The destination's margin factor used, with its area, year and source.
    pub margin: cb_grid::GridIntensity,
    pub avoided_t: f64,
    /// The exporter's grid average the manufacturing electricity is charged at.
    pub exporter_grid: cb_grid::GridIntensity,
    pub life_cycle_t: f64,
    /// Avoided ÷ life-cycle emissions.
    pub ratio: f64,
    pub net_avoided_t: f64,
    pub parameters_source: String,
}

/// Accounts every shipment: lifetime generation × the destination's margin against the
/// equipment's life-cycle emissions made with the exporter's grid.
pub fn account(
    exporter: &str,
    exports: &[Export],
    parameters: &ParametersFile,
    margin: cb_grid::GridFactor,
) -> Result<Vec<AvoidedRow>, AvoidedError> {
    let grid = cb_grid::GridTables::bundled();
    let exporter_grid = grid
        .intensity(exporter, cb_grid::GridFactor::Average, None, None)
        .map_err(|e| AvoidedError(format!("the exporter: {e}")))?;
    let mut rows = Vec::new();
    for e in exports {
        let p = parameters.technology.get(&e.technology).ok_or_else(|| {
            AvoidedError(format!(
                "no parameters for {:?} (destination {}): give [technology.{}] in the parameters file, with its source",
                e.technology, e.destination, e.technology
            ))
        })?;
        let m = grid
            .intensity(&e.destination, margin, None, None)
            .map_err(|err| AvoidedError(format!("destination {}: {err}", e.destination)))?;
        let generation =
            lifetime_generation_mwh(e.mw, p.capacity_factor, p.lifetime_years, p.degradation_per_year);
        let avoided = avoided_emissions_t(generation, m.t_per_mwh());
        let life_cycle = life_cycle_emissions_t(
            e.mw,
            p.manufacturing_mwh_per_mw,
            exporter_grid.t_per_mwh(),
            p.other_embodied_t_per_mw,
            p.transport_t_per_mw,
            generation,
            p.operation_g_per_kwh / 1000.0,
        );
        rows.push(AvoidedRow {
            destination: e.destination.clone(),
            technology: e.technology.clone(),
            mw: e.mw,
            lifetime_generation_mwh: generation,
            margin: m,
            avoided_t: avoided,
            exporter_grid: exporter_grid.clone(),
            life_cycle_t: life_cycle,
            ratio: if life_cycle > 0.0 {
                avoided / life_cycle
            } else {
                f64::INFINITY
            },
            net_avoided_t: avoided - life_cycle,
            parameters_source: p.source.clone(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMETERS: &str = r#"
[technology.solar-pv]
capacity_factor = 0.2
lifetime_years = 2
degradation_per_year = 0.01
manufacturing_mwh_per_mw = 900
other_embodied_t_per_mw = 300
transport_t_per_mw = 20
operation_g_per_kwh = 1
source = "test values, not data"
"#;

    #[test]
    fn one_shipment_by_hand() {
        let p = parse_parameters(PARAMETERS, "test").unwrap();
        let exports = parse_exports("destination,technology,mw\nBrazil,solar-pv,100\n", "test").unwrap();
        let rows = account(
            "China",
            &exports,
            &p,
            cb_grid::GridFactor::CombinedMarginIntermittent,
        )
        .unwrap();
        let r = &rows[0];
        // 100 MW × 0.2 × 8,760 h, then 1 % less: 348,648 MWh.
        assert!((r.lifetime_generation_mwh - 348_648.0).abs() < 1e-6);
        let brazil = r.margin.g_per_kwh / 1000.0;
        assert!((r.avoided_t - 348_648.0 * brazil).abs() < 1e-6);
        // Ember's CHN row (557.5 g/kWh) for the manufacturing electricity.
        assert_eq!(r.exporter_grid.g_per_kwh, 557.5);
        let by_hand = 100.0 * (900.0 * 0.5575 + 300.0 + 20.0) + 348_648.0 * 0.001;
        assert!(
            (r.life_cycle_t - by_hand).abs() < 1e-6,
            "{} vs {by_hand}",
            r.life_cycle_t
        );
        assert!((r.ratio - r.avoided_t / by_hand).abs() < 1e-12);
    }

    #[test]
    fn bad_input_names_what_and_where() {
        let e = parse_parameters(&PARAMETERS.replace("0.2\n", "1.4\n"), "p.toml").unwrap_err();
        assert!(e.0.contains("capacity_factor = 1.4"), "{e}");
        let e = parse_parameters(&PARAMETERS.replace("solar-pv", "battery"), "p.toml").unwrap_err();
        assert!(e.0.contains("batteries"), "{e}");
        let e = parse_parameters(
            &PARAMETERS.replace("source = \"test values, not data\"", "source = \" \""),
            "p.toml",
        )
        .unwrap_err();
        assert!(e.0.contains("source"), "{e}");
        let e = parse_exports("destination,technology,mw\nBrazil,solar-pv,-3\n", "x.csv").unwrap_err();
        assert!(e.0.contains("line 2"), "{e}");
        let e = parse_exports("country,tech,units\nBrazil,solar-pv,3\n", "x.csv").unwrap_err();
        assert!(e.0.contains("header"), "{e}");
        let p = parse_parameters(PARAMETERS, "test").unwrap();
        let wind = parse_exports("destination,technology,mw\nBrazil,wind-onshore,10\n", "x").unwrap();
        let e = account(
            "China",
            &wind,
            &p,
            cb_grid::GridFactor::CombinedMarginIntermittent,
        )
        .unwrap_err();
        assert!(e.0.contains("[technology.wind-onshore]"), "{e}");
        let nowhere = parse_exports("destination,technology,mw\nAtlantis,solar-pv,10\n", "x").unwrap();
        let e = account(
            "China",
            &nowhere,
            &p,
            cb_grid::GridFactor::CombinedMarginIntermittent,
        )
        .unwrap_err();
        assert!(e.0.contains("Atlantis"), "{e}");
    }
}
