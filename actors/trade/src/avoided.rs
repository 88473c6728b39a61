//! Avoided emissions of exported solar and wind equipment against what making, shipping and
//! running it emits: the parameters of each technology (from the user, each set with its source;
//! the few defaults confirmed in two sources, `data/avoided/defaults.toml`, fill what a question
//! to `ask` leaves out), the exports by destination, and the grid factors from `cb-grid` (the
//! destination's IFI margin, the exporter's average). The equations are in [`crate::engine`].

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
/// At most this many draw × shipment × year steps in one interval.
pub const MAX_INTERVAL_STEPS: usize = 200_000_000;

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
    /// Ranges `[low, high]` around the values, drawn triangular with the value as the mode, for
    /// the interval (optional).
    #[serde(default)]
    pub capacity_factor_range: Option<[f64; 2]>,
    #[serde(default)]
    pub lifetime_years_range: Option<[u32; 2]>,
    #[serde(default)]
    pub degradation_range: Option<[f64; 2]>,
}

/// The parameters file: `[technology.<id>]` tables.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParametersFile {
    pub technology: BTreeMap<String, TechnologyParameters>,
}

impl TechnologyParameters {
    /// Range checks of every parameter, naming the technology and the parameter.
    pub fn check(&self, id: &str) -> Result<(), AvoidedError> {
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
        let range = |what: &str, r: Option<[f64; 2]>, v: f64, lo: f64, hi: f64| match r {
            Some([a, b]) if !(in_range(a, lo, hi) && in_range(b, lo, hi) && a <= v && v <= b) => {
                Err(AvoidedError(format!(
                    "[technology.{id}] {what} = [{a}, {b}] must hold the value {v} and stay within [{lo}, {hi}]"
                )))
            }
            _ => Ok(()),
        };
        range(
            "capacity_factor_range",
            self.capacity_factor_range,
            self.capacity_factor,
            0.0,
            1.0,
        )?;
        range(
            "lifetime_years_range",
            self.lifetime_years_range.map(|[a, b]| [a as f64, b as f64]),
            self.lifetime_years as f64,
            1.0,
            60.0,
        )?;
        range(
            "degradation_range",
            self.degradation_range,
            self.degradation_per_year,
            0.0,
            0.2,
        )?;
        if self.manufacturing_mwh_per_mw
            + self.other_embodied_t_per_mw
            + self.transport_t_per_mw
            + self.operation_g_per_kwh
            == 0.0
        {
            return Err(AvoidedError(format!(
                "[technology.{id}] every life-cycle parameter is zero: give the equipment's footprint \
                 (manufacturing_mwh_per_mw, other_embodied_t_per_mw, transport_t_per_mw, operation_g_per_kwh)"
            )));
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

/// A technology's bundled defaults (`data/avoided/defaults.toml`): only numbers confirmed in two
/// sources, each with them; the rest a question must give.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechnologyDefaults {
    pub lifetime_years: Option<u32>,
    pub lifetime_years_range: Option<[u32; 2]>,
    pub lifetime_source: Option<String>,
    pub degradation_per_year: Option<f64>,
    pub degradation_source: Option<String>,
}

const DEFAULTS_TOML: &str = include_str!("../../../data/avoided/defaults.toml");

/// The bundled defaults by technology (checked when first read: a value without its sources, or
/// out of range, is a build mistake the tests catch).
pub fn bundled_defaults() -> &'static BTreeMap<String, TechnologyDefaults> {
    static DEFAULTS: std::sync::OnceLock<BTreeMap<String, TechnologyDefaults>> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| parse_defaults(DEFAULTS_TOML).unwrap_or_default())
}

/// Parses and checks a defaults table: known technologies, values in range, each with a source
/// that names two.
pub fn parse_defaults(text: &str) -> Result<BTreeMap<String, TechnologyDefaults>, AvoidedError> {
    let table: BTreeMap<String, TechnologyDefaults> =
        toml::from_str(text).map_err(|e| AvoidedError(format!("data/avoided/defaults.toml: {e}")))?;
    for (id, d) in &table {
        let bad = |what: &str| Err(AvoidedError(format!("data/avoided/defaults.toml: [{id}] {what}")));
        if !TECHNOLOGIES.contains(&id.as_str()) {
            return bad("is not a known technology");
        }
        // Two sources are separated by ';' in the source text.
        let two = |s: &Option<String>| {
            s.as_ref()
                .is_some_and(|s| s.split(';').filter(|p| !p.trim().is_empty()).count() >= 2)
        };
        if let Some(l) = d.lifetime_years {
            if !(1..=60).contains(&l) || !two(&d.lifetime_source) {
                return bad("lifetime_years needs 1–60 and a lifetime_source naming two sources");
            }
            if let Some([a, b]) = d.lifetime_years_range
                && !(a <= l && l <= b && b <= 60)
            {
                return bad("lifetime_years_range must hold lifetime_years");
            }
        } else if d.lifetime_years_range.is_some() {
            return bad("lifetime_years_range without lifetime_years");
        }
        if let Some(g) = d.degradation_per_year
            && (!(0.0..=0.2).contains(&g) || !two(&d.degradation_source))
        {
            return bad("degradation_per_year needs [0, 0.2] and a degradation_source naming two sources");
        }
    }
    Ok(table)
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
    /// Avoided ÷ life-cycle emissions (none where the life-cycle emissions are zero).
    pub ratio: Option<f64>,
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
            ratio: (life_cycle > 0.0).then(|| avoided / life_cycle),
            net_avoided_t: avoided - life_cycle,
            parameters_source: p.source.clone(),
        });
    }
    Ok(rows)
}

/// The 95 % intervals of the totals, and how they were drawn.
#[derive(Debug, Clone, Serialize)]
pub struct AvoidedInterval {
    pub iterations: usize,
    pub avoided_t: cb_uncertainty::engine::stats::Summary,
    pub life_cycle_t: cb_uncertainty::engine::stats::Summary,
    pub ratio: cb_uncertainty::engine::stats::Summary,
    /// The inputs drawn (those with a range), named.
    pub inputs: Vec<String>,
    pub method: &'static str,
}

/// The totals as a model of the uncertain inputs: per technology its capacity factor, lifetime
/// (rounded to whole years) and degradation, and one multiplier on every destination's margin.
struct AvoidedModel<'a> {
    rows: &'a [AvoidedRow],
    technologies: Vec<(String, &'a TechnologyParameters)>,
}

impl cb_uncertainty::engine::propagate::UncertainModel for AvoidedModel<'_> {
    fn input_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .technologies
            .iter()
            .flat_map(|(t, _)| {
                [
                    format!("{t} capacity factor"),
                    format!("{t} lifetime"),
                    format!("{t} degradation"),
                ]
            })
            .collect();
        names.push("grid margin (relative)".into());
        names
    }

    fn output_names(&self) -> Vec<String> {
        vec!["avoided_t".into(), "life_cycle_t".into(), "ratio".into()]
    }

    fn evaluate(
        &self,
        inputs: &[f64],
        _entries: &mut cb_uncertainty::engine::sampling::EntryStream,
    ) -> Result<Vec<f64>, String> {
        let margin = inputs[inputs.len() - 1];
        let (mut avoided, mut life) = (0.0, 0.0);
        for r in self.rows {
            let k = self
                .technologies
                .iter()
                .position(|(t, _)| *t == r.technology)
                .ok_or("a row's technology has no parameters")?;
            let p = self.technologies[k].1;
            let (cf, years, d) = (
                inputs[3 * k],
                inputs[3 * k + 1].round().max(1.0) as u32,
                inputs[3 * k + 2],
            );
            let generation = lifetime_generation_mwh(r.mw, cf, years, d);
            avoided += avoided_emissions_t(generation, r.margin.t_per_mwh() * margin);
            life += life_cycle_emissions_t(
                r.mw,
                p.manufacturing_mwh_per_mw,
                r.exporter_grid.t_per_mwh(),
                p.other_embodied_t_per_mw,
                p.transport_t_per_mw,
                generation,
                p.operation_g_per_kwh / 1000.0,
            );
        }
        Ok(vec![
            avoided,
            life,
            if life > 0.0 { avoided / life } else { f64::NAN },
        ])
    }
}

/// Monte Carlo (Latin hypercube) of the totals over the ranges the parameters give and a relative
/// uncertainty on the grid margin (`±margin_relative`, triangular); `None` where nothing is
/// uncertain.
pub fn interval(
    rows: &[AvoidedRow],
    parameters: &ParametersFile,
    margin_relative: Option<f64>,
    iterations: usize,
    seed: u64,
) -> Result<Option<AvoidedInterval>, AvoidedError> {
    use cb_uncertainty::engine::distribution::Distribution;
    use cb_uncertainty::engine::sampling::Design;
    if let Some(u) = margin_relative
        && !(u.is_finite() && (0.0..1.0).contains(&u))
    {
        return Err(AvoidedError(format!(
            "the margin's relative uncertainty must be in [0, 1), got {u}"
        )));
    }
    if !(100..=100_000).contains(&iterations) {
        return Err(AvoidedError(format!(
            "draws must be between 100 and 100000, got {iterations}"
        )));
    }
    // The work is draws × shipments × years: bounded, whatever the caller sends.
    let years: usize = rows
        .iter()
        .filter_map(|r| parameters.technology.get(&r.technology))
        .map(|p| p.lifetime_years_range.map_or(p.lifetime_years, |[_, hi]| hi) as usize)
        .max()
        .unwrap_or(1);
    if iterations.saturating_mul(rows.len()).saturating_mul(years) > MAX_INTERVAL_STEPS {
        return Err(AvoidedError(format!(
            "{iterations} draws × {} shipments × {years} years is more than {MAX_INTERVAL_STEPS} steps: use fewer \
             draws or group the shipments",
            rows.len()
        )));
    }
    let used: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.technology.as_str()).collect();
    let technologies: Vec<(String, &TechnologyParameters)> = parameters
        .technology
        .iter()
        .filter(|(t, _)| used.contains(t.as_str()))
        .map(|(t, p)| (t.clone(), p))
        .collect();
    let any = margin_relative.is_some_and(|u| u > 0.0)
        || technologies.iter().any(|(_, p)| {
            p.capacity_factor_range.is_some()
                || p.lifetime_years_range.is_some()
                || p.degradation_range.is_some()
        });
    if !any {
        return Ok(None);
    }
    let fixed = |v: f64| Distribution::Normal { mean: v, sd: 0.0 };
    let tri = |r: Option<[f64; 2]>, v: f64| match r {
        Some([a, b]) if b > a => Distribution::Triangular {
            min: a,
            mode: v,
            max: b,
        },
        _ => fixed(v),
    };
    let mut dists = Vec::new();
    for (_, p) in &technologies {
        dists.push(tri(p.capacity_factor_range, p.capacity_factor));
        dists.push(tri(
            p.lifetime_years_range.map(|[a, b]| [a as f64, b as f64]),
            p.lifetime_years as f64,
        ));
        dists.push(tri(p.degradation_range, p.degradation_per_year));
    }
    dists.push(match margin_relative {
        Some(u) if u > 0.0 => Distribution::Triangular {
            min: 1.0 - u,
            mode: 1.0,
            max: 1.0 + u,
        },
        _ => fixed(1.0),
    });
    let samplers = dists
        .iter()
        .map(|d| d.sampler())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AvoidedError(e.to_string()))?;
    let model = AvoidedModel { rows, technologies };
    // The inputs drawn: those with a range (the others are fixed at their value).
    let names: Vec<String> = cb_uncertainty::engine::propagate::UncertainModel::input_names(&model)
        .into_iter()
        .zip(&dists)
        .filter(|(_, d)| !matches!(d, Distribution::Normal { sd, .. } if *sd == 0.0))
        .map(|(n, _)| n)
        .collect();
    let p = cb_uncertainty::engine::propagate::propagate(
        &model,
        &samplers,
        Design::LatinHypercube,
        seed,
        iterations,
        None,
    )
    .map_err(|e| AvoidedError(e.to_string()))?;
    Ok(Some(AvoidedInterval {
        iterations: p.iterations,
        avoided_t: p.summaries[0].clone(),
        life_cycle_t: p.summaries[1].clone(),
        ratio: p.summaries[2].clone(),
        inputs: names,
        method: "Latin hypercube draws of the parameters' ranges (triangular, the value as mode; lifetimes rounded to whole years) and of the margin (triangular ± the relative uncertainty), through cb-uncertainty's propagation",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_defaults_are_sourced_twice_and_in_range() {
        let d = parse_defaults(DEFAULTS_TOML).unwrap();
        assert_eq!(d["solar-pv"].lifetime_years, Some(30));
        assert_eq!(d["solar-pv"].degradation_per_year, Some(0.005));
        assert_eq!(d["wind-onshore"].lifetime_years_range, Some([20, 30]));
        // No capacity factor or footprint is bundled, and no offshore wind default.
        assert!(!d.contains_key("wind-offshore"));
        assert_eq!(bundled_defaults(), &d);
        // The check can fail: one source only, a range that misses the value, an unknown key.
        for bad in [
            "[solar-pv]\nlifetime_years = 30\nlifetime_source = \"one report\"\n",
            "[solar-pv]\nlifetime_years = 30\nlifetime_years_range = [31, 40]\nlifetime_source = \"a; b\"\n",
            "[solar-pv]\ncapacity_factor = 0.2\n",
            "[battery]\nlifetime_years = 10\nlifetime_source = \"a; b\"\n",
        ] {
            assert!(parse_defaults(bad).is_err(), "{bad}");
        }
    }

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
        assert!((r.ratio.unwrap() - r.avoided_t / by_hand).abs() < 1e-12);
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

    #[test]
    fn the_interval_holds_the_central_value_and_shrinks_to_it() {
        let ranged = PARAMETERS.replace(
            "source = \"test values, not data\"",
            "source = \"test values, not data\"\ncapacity_factor_range = [0.15, 0.25]\nlifetime_years_range = [1, 3]",
        );
        let p = parse_parameters(&ranged, "test").unwrap();
        let exports = parse_exports("destination,technology,mw\nBrazil,solar-pv,100\n", "test").unwrap();
        let rows = account(
            "China",
            &exports,
            &p,
            cb_grid::GridFactor::CombinedMarginIntermittent,
        )
        .unwrap();
        let i = interval(&rows, &p, Some(0.2), 2000, 7).unwrap().unwrap();
        let central = rows[0].avoided_t;
        assert!(
            i.avoided_t.p2_5 < central && central < i.avoided_t.p97_5,
            "{:?} {central}",
            i.avoided_t
        );
        // The triangular draws are symmetric about the values here: the mean lands near the
        // central value (within 3 standard errors).
        assert!((i.avoided_t.mean - central).abs() < 3.0 * i.avoided_t.standard_error + 1e-9 * central);
        // Only the inputs with a range are drawn and named (degradation has none here).
        assert_eq!(
            i.inputs,
            [
                "solar-pv capacity factor",
                "solar-pv lifetime",
                "grid margin (relative)"
            ]
        );
        // Nothing uncertain: no interval.
        let fixed = parse_parameters(PARAMETERS, "test").unwrap();
        assert!(interval(&rows, &fixed, None, 2000, 7).unwrap().is_none());
        // A range that does not hold the value is refused.
        let bad = PARAMETERS.replace(
            "source = \"test values, not data\"",
            "source = \"x\"\ncapacity_factor_range = [0.25, 0.3]",
        );
        assert!(
            parse_parameters(&bad, "t")
                .unwrap_err()
                .0
                .contains("capacity_factor_range")
        );
    }
}
