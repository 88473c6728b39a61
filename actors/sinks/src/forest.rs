//! Tier 1 accounts: forest land remaining forest land (gain-loss), land-use change to and from
//! forest, mineral soils; yearly results by pool with Approach 1 uncertainty.
//!
//! Every parameter is either given by the caller or looked up in [`crate::defaults`]; each value
//! used is reported with its source, so a result can be checked against the IPCC tables.

use std::collections::BTreeMap;

use serde::Serialize;

use cb_protocol::text::Text;

use crate::SinksError;
use crate::defaults::{self, DefaultValue};
use crate::engine::{self, CO2_PER_C, uncertainty};

/// A parameter as used: value, source, and relative 95 % uncertainty where known.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub value: f64,
    pub unit: &'static str,
    pub source: String,
    /// Half-width of the 95 % interval as a share of the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_uncertainty: Option<f64>,
}

impl Parameter {
    fn given(value: f64, unit: &'static str) -> Self {
        Parameter {
            value,
            unit,
            source: "given by the user".into(),
            relative_uncertainty: None,
        }
    }

    fn from_default(d: DefaultValue, unit: &'static str) -> Self {
        let relative_uncertainty = match (d.sd, d.range) {
            (Some(sd), _) if d.value != 0.0 => Some(1.96 * sd / d.value.abs()),
            (_, Some((lo, hi))) => Some(uncertainty::relative_from_range(d.value, lo, hi)),
            _ => None,
        };
        Parameter {
            value: d.value,
            unit,
            source: d.source,
            relative_uncertainty,
        }
    }
}

/// Forest land remaining forest land, Tier 1 gain-loss.
#[derive(Debug, Clone, Default)]
pub struct ForestInputs {
    pub area_ha: f64,
    /// Above-ground growth `G_W` (t d.m./ha/yr); when absent it is looked up from zone, continent
    /// and stand class.
    pub growth: Option<f64>,
    pub zone: Option<String>,
    pub continent: Option<String>,
    /// 2019 Table 4.9 stand class: `primary`, `secondary >20 years`, `secondary <=20 years`.
    pub stand: Option<String>,
    pub root_shoot: Option<f64>,
    /// Forest type for Table 4.4 and 4.5 lookups (e.g. `con`, `broad`, `pines`, `hardwoods`).
    pub forest_type: Option<String>,
    /// Above-ground biomass stock (t d.m./ha), for the Table 4.4 class.
    pub agb_t_dm_ha: Option<f64>,
    /// Growing stock (m³/ha), for the Table 4.5 class.
    pub growing_stock_m3_ha: Option<f64>,
    pub carbon_fraction: Option<f64>,
    /// Roundwood removals `H` (m³/yr).
    pub removals_m3: Option<f64>,
    /// Fuelwood removed as whole trees (m³/yr).
    pub fuelwood_trees_m3: Option<f64>,
    /// Fuelwood removed as parts of trees (m³/yr), and the basic wood density for it.
    pub fuelwood_parts_m3: Option<f64>,
    pub wood_density: Option<f64>,
    pub bcef_r: Option<f64>,
    /// Disturbance: area (ha/yr), above-ground biomass of that area (t d.m./ha), fraction lost.
    pub disturbance: Option<(f64, f64, f64)>,
    /// Fire: area burnt (ha/yr), fuel biomass `M_B` (t d.m./ha), combustion factor `C_f`, and the
    /// Table 2.5 vegetation class of the emission factors.
    pub fire: Option<(f64, f64, f64, String)>,
    pub years: u32,
}

/// Carbon stock change of each pool in a year (t C; positive = gain).
#[derive(Debug, Clone, Serialize)]
pub struct PoolChange {
    pub above_ground_biomass: f64,
    pub below_ground_biomass: f64,
    pub dead_wood: f64,
    pub litter: f64,
    pub soil: f64,
}

/// One year of a Tier 1 account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountYear {
    pub year: u32,
    pub gain_c_t: f64,
    pub losses_c_t: BTreeMap<&'static str, f64>,
    pub net_c_t: f64,
    /// Net CO2 (t; negative = removal): −ΔC × 44/12.
    pub net_co2_t: f64,
    /// Pool changes in t C.
    pub by_pool_c_t: PoolChange,
    /// Pool fluxes in t CO2 (negative = removal).
    pub by_pool_co2_t: PoolChange,
    /// Non-CO2 from fire (t of gas), where fire was given.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub non_co2_t: BTreeMap<&'static str, f64>,
}

/// A Tier 1 account over several years.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub method: String,
    pub total_net_co2_t: f64,
    /// 95 % interval of the annual net CO2 (Approach 1), where the inputs' uncertainties are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annual_net_co2_interval_t: Option<(f64, f64)>,
    pub years: Vec<AccountYear>,
    /// Whether the pools were computed pool by pool from the inputs, apart from the net change
    /// (the gain-loss method), so that their sum is a check on the net; elsewhere the pools are
    /// the net's own parts.
    #[serde(skip)]
    pub pools_computed_apart: bool,
    pub parameters: BTreeMap<&'static str, Parameter>,
    /// What the method assumes, as sentences of `data/agent-text.csv` (English in JSON).
    #[serde(serialize_with = "english")]
    pub assumptions: Vec<Text>,
}

fn english<S: serde::Serializer>(texts: &[Text], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(texts.iter().map(Text::english))
}

fn check_area(area: f64) -> Result<(), SinksError> {
    if !(area.is_finite() && area >= 0.0) {
        return Err(SinksError::Invalid(format!(
            "area must be a non-negative number of hectares, got {area}"
        )));
    }
    Ok(())
}

fn check_non_negative(name: &str, v: f64) -> Result<(), SinksError> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(SinksError::Invalid(format!(
            "{name} must be a non-negative number, got {v}"
        )));
    }
    Ok(())
}

fn check_share(name: &str, v: f64) -> Result<(), SinksError> {
    if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
        return Err(SinksError::Invalid(format!(
            "{name} must be between 0 and 1, got {v}"
        )));
    }
    Ok(())
}

fn check_years(years: u32) -> Result<(), SinksError> {
    if years == 0 || years > 1000 {
        return Err(SinksError::Invalid(format!(
            "years must be between 1 and 1000, got {years}"
        )));
    }
    Ok(())
}

fn pool_split(c: f64, r: f64) -> (f64, f64) {
    (c / (1.0 + r), c * r / (1.0 + r))
}

/// Forest land remaining forest land by the gain-loss method (Eqs. 2.7, 2.9–2.14), Tier 1:
/// dead organic matter and mineral soil carbon in equilibrium.
pub fn forest_remaining_forest(inp: &ForestInputs) -> Result<Account, SinksError> {
    check_area(inp.area_ha)?;
    check_years(inp.years)?;
    let mut params: BTreeMap<&'static str, Parameter> = BTreeMap::new();
    let zone = inp.zone.as_deref().map(defaults::normalise_zone);

    let g_w = match inp.growth {
        Some(g) => {
            check_non_negative("the growth rate", g)?;
            Parameter::given(g, "t d.m./ha/yr")
        }
        None => {
            let (Some(z), Some(c)) = (zone.as_deref(), inp.continent.as_deref()) else {
                return Err(SinksError::Invalid(
                    "give the growth rate (--growth T_DM_PER_HA_YR) or the ecological zone and continent \
                     (--zone, --continent) to look it up"
                        .into(),
                ));
            };
            let stand = inp.stand.as_deref().unwrap_or(defaults::DEFAULT_STAND);
            if !defaults::STANDS.contains(&stand) {
                return Err(SinksError::Invalid(format!(
                    "unknown stand class {stand:?}; one of: {}",
                    defaults::STANDS.join(", ")
                )));
            }
            Parameter::from_default(defaults::growth(z, c, stand)?, "t d.m./ha/yr")
        }
    };
    let r = match inp.root_shoot {
        Some(r) => {
            check_non_negative("the root-to-shoot ratio", r)?;
            Parameter::given(r, "t/t")
        }
        None => {
            let (Some(z), Some(t), Some(agb)) =
                (zone.as_deref(), inp.forest_type.as_deref(), inp.agb_t_dm_ha)
            else {
                return Err(SinksError::Invalid(
                    "give the root-to-shoot ratio (--root-shoot R; in a question: \"a root-to-shoot ratio of \
                     0.37\"), or the zone, forest type and above-ground biomass (--zone, --forest-type, --agb) to \
                     look it up in IPCC Table 4.4"
                        .into(),
                ));
            };
            Parameter::from_default(defaults::root_shoot(z, t, agb)?, "t/t")
        }
    };
    let cf = match inp.carbon_fraction {
        Some(cf) => {
            check_share("the carbon fraction", cf)?;
            Parameter::given(cf, "t C/t d.m.")
        }
        None => Parameter::from_default(defaults::carbon_fraction(), "t C/t d.m."),
    };
    let needs_bcef = inp.removals_m3.is_some() || inp.fuelwood_trees_m3.is_some();
    let bcef_r = match (inp.bcef_r, needs_bcef) {
        (Some(b), _) => {
            check_non_negative("BCEF_R", b)?;
            Some(Parameter::given(b, "t d.m./m³"))
        }
        (None, true) => {
            let (Some(z), Some(t), Some(gs)) = (
                zone.as_deref(),
                inp.forest_type.as_deref(),
                inp.growing_stock_m3_ha,
            ) else {
                return Err(SinksError::Invalid(
                    "wood removals need BCEF_R (--bcef-r), or the zone, forest type and growing stock \
                     (--zone, --forest-type, --growing-stock) to look it up in IPCC Table 4.5"
                        .into(),
                ));
            };
            Some(Parameter::from_default(
                defaults::bcef(z, t, "bcef_r", gs)?,
                "t d.m./m³",
            ))
        }
        (None, false) => None,
    };

    let g_total = engine::total_growth_tier1(g_w.value, r.value);
    let gain = engine::biomass_gain(inp.area_ha, g_total, cf.value);
    let mut losses: BTreeMap<&'static str, f64> = BTreeMap::new();
    // The same gains and losses pool by pool, from the inputs rather than from the totals: the
    // roots grow and go with whole trees (the (1 + R) terms of Eqs. 2.9–2.14), not with parts
    // of trees or the fuel a fire burns.
    let (mut above, mut below) = (
        inp.area_ha * g_w.value * cf.value,
        inp.area_ha * g_w.value * r.value * cf.value,
    );
    if let Some(h) = inp.removals_m3 {
        check_non_negative("wood removals", h)?;
        let b = bcef_r.as_ref().map(|p| p.value).unwrap_or_default();
        losses.insert(
            "wood_removals",
            engine::loss_wood_removals(h, b, r.value, cf.value),
        );
        above -= h * b * cf.value;
        below -= h * b * r.value * cf.value;
    }
    if inp.fuelwood_trees_m3.is_some() || inp.fuelwood_parts_m3.is_some() {
        let trees = inp.fuelwood_trees_m3.unwrap_or(0.0);
        let parts = inp.fuelwood_parts_m3.unwrap_or(0.0);
        check_non_negative("fuelwood (trees)", trees)?;
        check_non_negative("fuelwood (parts)", parts)?;
        let d = match (parts > 0.0, inp.wood_density) {
            (true, None) => {
                return Err(SinksError::Invalid(
                    "fuelwood gathered as parts of trees needs the basic wood density (--wood-density)"
                        .into(),
                ));
            }
            (_, d) => d.unwrap_or(0.0),
        };
        let b = bcef_r.as_ref().map(|p| p.value).unwrap_or_default();
        losses.insert(
            "fuelwood",
            engine::loss_fuelwood(trees, parts, b, r.value, d, cf.value),
        );
        above -= (trees * b + parts * d) * cf.value;
        below -= trees * b * r.value * cf.value;
        if parts > 0.0 {
            params.insert("wood_density", Parameter::given(d, "t d.m./m³"));
        }
    }
    if let Some((a, b_w, fd)) = inp.disturbance {
        check_area(a)?;
        check_non_negative("the disturbed area's above-ground biomass", b_w)?;
        check_share("the fraction of biomass lost (fd)", fd)?;
        losses.insert(
            "disturbance",
            engine::loss_disturbance(a, b_w, r.value, cf.value, fd),
        );
        above -= a * b_w * cf.value * fd;
        below -= a * b_w * r.value * cf.value * fd;
    }
    let mut non_co2 = BTreeMap::new();
    let mut assumptions = vec![
        Text::new("assume_forest_tier1", &[]),
        Text::new("assume_sign_convention", &[]),
    ];
    if let Some((a, m_b, c_f, vegetation)) = &inp.fire {
        check_area(*a)?;
        check_non_negative("the fuel biomass M_B", *m_b)?;
        check_share("the combustion factor C_f", *c_f)?;
        // The carbon of the biomass burnt is a disturbance loss; CH4 and N2O come on top (Eq. 2.27).
        losses.insert("fire", a * m_b * c_f * cf.value);
        above -= a * m_b * c_f * cf.value;
        for (gas, key) in [("CH4", "fire_ch4"), ("N2O", "fire_n2o")] {
            let g_ef = defaults::fire_emission_factor(vegetation, gas)?;
            non_co2.insert(key, engine::fire_emission(*a, *m_b, *c_f, g_ef.value));
            params.insert(
                if gas == "CH4" { "g_ef_ch4" } else { "g_ef_n2o" },
                Parameter::from_default(g_ef, "g/kg d.m."),
            );
        }
        assumptions.push(Text::new("assume_fire", &[]));
    }
    let loss_total: f64 = losses.values().sum();
    let net = engine::gain_loss(gain, &losses.values().copied().collect::<Vec<_>>());
    let (ag, bg) = (above, below);
    let pools_c = PoolChange {
        above_ground_biomass: ag,
        below_ground_biomass: bg,
        dead_wood: 0.0,
        litter: 0.0,
        soil: 0.0,
    };
    let pools_co2 = PoolChange {
        above_ground_biomass: engine::co2_flux_from_stock_change(ag),
        below_ground_biomass: engine::co2_flux_from_stock_change(bg),
        dead_wood: 0.0,
        litter: 0.0,
        soil: 0.0,
    };
    let net_co2 = engine::co2_flux_from_stock_change(net);

    // Approach 1: the gain is a product of G_W, (1 + R) and CF; losses are taken as exact.
    let u_gain = [&g_w, &cf]
        .iter()
        .map(|p| p.relative_uncertainty)
        .collect::<Option<Vec<f64>>>()
        .map(|u| uncertainty::product(&u));
    let interval = u_gain
        .and_then(|u| uncertainty::sum(&[(gain, u), (-loss_total, 0.0)]))
        .map(|u| {
            let half = u * net_co2.abs();
            (net_co2 - half, net_co2 + half)
        });

    params.insert("growth_g_w", g_w);
    params.insert("root_shoot_r", r);
    params.insert("carbon_fraction_cf", cf);
    if let Some(b) = bcef_r {
        params.insert("bcef_r", b);
    }
    let years: Vec<AccountYear> = (1..=inp.years)
        .map(|year| AccountYear {
            year,
            gain_c_t: gain,
            losses_c_t: losses.clone(),
            net_c_t: net,
            net_co2_t: net_co2,
            by_pool_c_t: pools_c.clone(),
            by_pool_co2_t: pools_co2.clone(),
            non_co2_t: non_co2.clone(),
        })
        .collect();
    Ok(Account {
        pools_computed_apart: true,
        method: "IPCC 2006 Vol. 4 gain-loss, Eqs. 2.7, 2.9–2.14 (Tier 1)".into(),
        total_net_co2_t: net_co2 * inp.years as f64,
        annual_net_co2_interval_t: interval,
        years,
        parameters: params,
        assumptions,
    })
}

/// Mineral soil carbon change between two land uses or managements (Eq. 2.25).
#[derive(Debug, Clone)]
pub struct SoilInputs {
    pub area_ha: f64,
    /// Reference stock under native vegetation (t C/ha, 0–30 cm).
    pub soc_ref: f64,
    /// Where SOC_REF came from when it is a bundled default (Table 2.3); `None` when given.
    pub soc_ref_source: Option<String>,
    pub climate: String,
    /// (F_LU, F_MG, F_I) levels or values, before and after.
    pub before: SoilFactors,
    pub after: SoilFactors,
    /// Transition period `D` (years; IPCC default 20).
    pub transition_years: u32,
    pub years: u32,
}

/// Stock change factors, each a level of IPCC Table 5.5 or a number.
#[derive(Debug, Clone)]
pub struct SoilFactors {
    pub f_lu: FactorSpec,
    pub f_mg: FactorSpec,
    pub f_i: FactorSpec,
}

/// A factor as a Table 5.5 level (e.g. `long-term cultivated`) or an explicit value.
#[derive(Debug, Clone, PartialEq)]
pub enum FactorSpec {
    Level(String),
    Value(f64),
}

impl FactorSpec {
    /// Parses a number, or takes the text as a level name.
    pub fn parse(text: &str) -> FactorSpec {
        match text.trim().parse::<f64>() {
            Ok(v) => FactorSpec::Value(v),
            Err(_) => FactorSpec::Level(text.trim().to_string()),
        }
    }

    fn resolve(&self, factor: &'static str, climate: &str) -> Result<Parameter, SinksError> {
        match self {
            FactorSpec::Value(v) => {
                check_non_negative(factor, *v)?;
                Ok(Parameter::given(*v, "1"))
            }
            FactorSpec::Level(l) => Ok(Parameter::from_default(
                defaults::soil_factor(factor, l, climate)?,
                "1",
            )),
        }
    }
}

/// Relative uncertainty of a soil stock change by IPCC Approach 1 (2006 Vol. 1 Eqs. 3.1–3.2).
/// The factors' uncertainties are uncertainties of the stocks, not of their change: a factor at
/// the same level before and after multiplies both stocks alike (Eq. 3.1 on the change), and the
/// factors that differ enter through the difference of their products (Eq. 3.2), where the
/// stocks' uncertainties add in absolute terms against the smaller difference. `None` when
/// nothing changes (no change, no interval).
pub fn soc_change_uncertainty(
    before_spec: [&FactorSpec; 3],
    after_spec: [&FactorSpec; 3],
    before: &[Parameter; 3],
    after: &[Parameter; 3],
) -> Option<f64> {
    let rel = |p: &Parameter| p.relative_uncertainty.unwrap_or(0.0);
    let mut shared = Vec::new();
    let (mut pb, mut pa, mut ub, mut ua) = (1.0, 1.0, Vec::new(), Vec::new());
    for k in 0..3 {
        if before_spec[k] == after_spec[k] {
            shared.push(rel(&after[k]));
        } else {
            pb *= before[k].value;
            pa *= after[k].value;
            ub.push(rel(&before[k]));
            ua.push(rel(&after[k]));
        }
    }
    let difference = uncertainty::sum(&[(pa, uncertainty::product(&ua)), (-pb, uncertainty::product(&ub))])?;
    Some(uncertainty::product(&[uncertainty::product(&shared), difference]))
}

/// Mineral soil organic carbon: `SOC = SOC_REF × F_LU × F_MG × F_I × A` before and after; the
/// change is spread evenly over the transition period (Eq. 2.25).
pub fn soil(inp: &SoilInputs) -> Result<Account, SinksError> {
    check_area(inp.area_ha)?;
    check_years(inp.years)?;
    check_non_negative("SOC_REF", inp.soc_ref)?;
    if inp.transition_years == 0 {
        return Err(SinksError::Invalid(
            "the transition period must be at least 1 year".into(),
        ));
    }
    let mut params = BTreeMap::new();
    let mut factors = |f: &SoilFactors, tag: &'static str| -> Result<[Parameter; 3], SinksError> {
        let lu = f.f_lu.resolve("F_LU", &inp.climate)?;
        let mg = f.f_mg.resolve("F_MG", &inp.climate)?;
        let fi = f.f_i.resolve("F_I", &inp.climate)?;
        let names: [&'static str; 3] = match tag {
            "before" => ["f_lu_before", "f_mg_before", "f_i_before"],
            _ => ["f_lu_after", "f_mg_after", "f_i_after"],
        };
        params.insert(names[0], lu.clone());
        params.insert(names[1], mg.clone());
        params.insert(names[2], fi.clone());
        Ok([lu, mg, fi])
    };
    let fb = factors(&inp.before, "before")?;
    let fa = factors(&inp.after, "after")?;
    let stock =
        |f: &[Parameter; 3]| engine::soc_stock(inp.soc_ref, f[0].value, f[1].value, f[2].value, inp.area_ha);
    let (before, after) = (stock(&fb), stock(&fa));
    let u_change = soc_change_uncertainty(
        [&inp.before.f_lu, &inp.before.f_mg, &inp.before.f_i],
        [&inp.after.f_lu, &inp.after.f_mg, &inp.after.f_i],
        &fb,
        &fa,
    );
    params.insert(
        "soc_ref",
        match &inp.soc_ref_source {
            Some(source) => Parameter::from_default(
                defaults::DefaultValue {
                    value: inp.soc_ref,
                    sd: None,
                    range: None,
                    source: source.clone(),
                },
                "t C/ha",
            ),
            None => Parameter::given(inp.soc_ref, "t C/ha"),
        },
    );
    let annual = engine::soc_change(before, after, inp.transition_years as f64);
    let years: Vec<AccountYear> = (1..=inp.years)
        .map(|year| {
            let d = if year <= inp.transition_years { annual } else { 0.0 };
            AccountYear {
                year,
                gain_c_t: d.max(0.0),
                losses_c_t: BTreeMap::from([("soil", (-d).max(0.0))]),
                net_c_t: d,
                net_co2_t: engine::co2_flux_from_stock_change(d),
                by_pool_c_t: PoolChange {
                    above_ground_biomass: 0.0,
                    below_ground_biomass: 0.0,
                    dead_wood: 0.0,
                    litter: 0.0,
                    soil: d,
                },
                by_pool_co2_t: PoolChange {
                    above_ground_biomass: 0.0,
                    below_ground_biomass: 0.0,
                    dead_wood: 0.0,
                    litter: 0.0,
                    soil: engine::co2_flux_from_stock_change(d),
                },
                non_co2_t: BTreeMap::new(),
            }
        })
        .collect();
    let total: f64 = years.iter().map(|y| y.net_co2_t).sum();
    let annual_co2 = engine::co2_flux_from_stock_change(annual);
    Ok(Account {
        pools_computed_apart: false,
        method: format!(
            "IPCC 2006 Vol. 4 Eq. 2.25: SOC = SOC_REF × F_LU × F_MG × F_I × A; ΔC = (SOC_after − SOC_before) / {} years",
            inp.transition_years
        ),
        total_net_co2_t: total,
        annual_net_co2_interval_t: u_change.filter(|u| *u > 0.0).map(|u| {
            (
                annual_co2 - u * annual_co2.abs(),
                annual_co2 + u * annual_co2.abs(),
            )
        }),
        years,
        parameters: params,
        assumptions: vec![Text::new(
            "assume_soil_linear",
            &[("years", &inp.transition_years.to_string())],
        )],
    })
}

/// Land converted to or from forest: the immediate biomass change (Eq. 2.16), dead organic matter
/// (Eq. 2.23: losses in the year of conversion, gains over `dom_gain_years`), growth of the new
/// vegetation (Eq. 2.9) and mineral soil over the transition (Eq. 2.25).
#[derive(Debug, Clone, Default)]
pub struct LandUseChangeInputs {
    pub area_ha: f64,
    /// Total biomass (t d.m./ha) just before and just after the conversion.
    pub biomass_before: f64,
    pub biomass_after: f64,
    /// Above-ground growth of the new land use (t d.m./ha/yr) and its root-to-shoot ratio, for
    /// land converted to forest.
    pub growth_after: Option<(f64, f64)>,
    pub carbon_fraction: Option<f64>,
    /// Dead organic matter stocks (t C/ha) before and after.
    pub dom_before: f64,
    pub dom_after: f64,
    pub dom_gain_years: u32,
    /// Soil stocks (t C/ha) before and after, with the transition period.
    pub soc_before: Option<f64>,
    pub soc_after: Option<f64>,
    pub soc_years: u32,
    pub years: u32,
}

/// The yearly account of a land-use change.
pub fn land_use_change(inp: &LandUseChangeInputs) -> Result<Account, SinksError> {
    check_area(inp.area_ha)?;
    check_years(inp.years)?;
    for (n, v) in [
        ("biomass before", inp.biomass_before),
        ("biomass after", inp.biomass_after),
        ("dead organic matter before", inp.dom_before),
        ("dead organic matter after", inp.dom_after),
    ] {
        check_non_negative(n, v)?;
    }
    if inp.dom_gain_years == 0 || inp.soc_years == 0 {
        return Err(SinksError::Invalid(
            "transition periods must be at least 1 year".into(),
        ));
    }
    let cf = match inp.carbon_fraction {
        Some(cf) => {
            check_share("the carbon fraction", cf)?;
            Parameter::given(cf, "t C/t d.m.")
        }
        None => Parameter::from_default(defaults::carbon_fraction(), "t C/t d.m."),
    };
    let conversion =
        engine::conversion_biomass_change(inp.biomass_before, inp.biomass_after, inp.area_ha, cf.value);
    let dom_total = inp.area_ha * (inp.dom_after - inp.dom_before);
    let dom_years = if dom_total < 0.0 { 1 } else { inp.dom_gain_years };
    let dom_annual = engine::dom_change(inp.area_ha, inp.dom_before, inp.dom_after, dom_years as f64);
    let soc_annual = match (inp.soc_before, inp.soc_after) {
        (Some(b), Some(a)) => {
            check_non_negative("soil carbon before", b)?;
            check_non_negative("soil carbon after", a)?;
            engine::soc_change(b * inp.area_ha, a * inp.area_ha, inp.soc_years as f64)
        }
        (None, None) => 0.0,
        _ => {
            return Err(SinksError::Invalid(
                "give the soil carbon stock both before and after (t C/ha), or neither".into(),
            ));
        }
    };
    let (growth_c, r) = match inp.growth_after {
        Some((g, r)) => {
            check_non_negative("the growth after conversion", g)?;
            check_non_negative("the root-to-shoot ratio", r)?;
            (
                engine::biomass_gain(inp.area_ha, engine::total_growth_tier1(g, r), cf.value),
                r,
            )
        }
        None => (0.0, 0.0),
    };
    let years: Vec<AccountYear> = (1..=inp.years)
        .map(|year| {
            let biomass = if year == 1 { conversion } else { 0.0 } + growth_c;
            let dom = if year <= dom_years { dom_annual } else { 0.0 };
            let soil = if year <= inp.soc_years { soc_annual } else { 0.0 };
            let net = biomass + dom + soil;
            let (ag, bg) = pool_split(biomass, r);
            // Dead organic matter is reported as dead wood and litter together under dead_wood.
            let pools = PoolChange {
                above_ground_biomass: ag,
                below_ground_biomass: bg,
                dead_wood: dom,
                litter: 0.0,
                soil,
            };
            AccountYear {
                year,
                gain_c_t: [biomass, dom, soil].iter().filter(|v| **v > 0.0).sum(),
                losses_c_t: BTreeMap::from([
                    ("biomass", (-biomass).max(0.0)),
                    ("dead_organic_matter", (-dom).max(0.0)),
                    ("soil", (-soil).max(0.0)),
                ]),
                net_c_t: net,
                net_co2_t: engine::co2_flux_from_stock_change(net),
                by_pool_co2_t: PoolChange {
                    above_ground_biomass: -pools.above_ground_biomass * CO2_PER_C,
                    below_ground_biomass: -pools.below_ground_biomass * CO2_PER_C,
                    dead_wood: -pools.dead_wood * CO2_PER_C,
                    litter: 0.0,
                    soil: -pools.soil * CO2_PER_C,
                },
                by_pool_c_t: pools,
                non_co2_t: BTreeMap::new(),
            }
        })
        .collect();
    let total = years.iter().map(|y| y.net_co2_t).sum();
    let mut parameters = BTreeMap::new();
    parameters.insert("carbon_fraction_cf", cf);
    Ok(Account {
        pools_computed_apart: false,
        method:
            "IPCC 2006 Vol. 4 Eqs. 2.16 (conversion), 2.23 (dead organic matter), 2.9 (growth), 2.25 (soil)"
                .into(),
        total_net_co2_t: total,
        annual_net_co2_interval_t: None,
        years,
        parameters,
        assumptions: vec![Text::new("assume_conversion_tier1", &[])],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_by_hand() {
        let acc = forest_remaining_forest(&ForestInputs {
            area_ha: 1000.0,
            growth: Some(5.0),
            root_shoot: Some(0.37),
            carbon_fraction: Some(0.47),
            years: 3,
            ..Default::default()
        })
        .unwrap();
        assert!((acc.years[0].gain_c_t - 3219.5).abs() < 1e-9);
        assert!((acc.years[0].net_co2_t + 11804.833333333334).abs() < 1e-6);
        assert!((acc.total_net_co2_t + 3.0 * 11804.833333333334).abs() < 1e-6);
        let p = &acc.years[0].by_pool_c_t;
        assert!((p.above_ground_biomass - 1000.0 * 5.0 * 0.47).abs() < 1e-9);
        assert!((p.below_ground_biomass - 1000.0 * 5.0 * 0.37 * 0.47).abs() < 1e-9);
    }

    #[test]
    fn defaults_are_looked_up_and_reported() {
        let acc = forest_remaining_forest(&ForestInputs {
            area_ha: 100.0,
            zone: Some("tropical rainforest".into()),
            continent: Some("Africa".into()),
            root_shoot: Some(0.37),
            removals_m3: Some(100.0),
            bcef_r: Some(1.0),
            years: 1,
            ..Default::default()
        })
        .unwrap();
        let g = &acc.parameters["growth_g_w"];
        assert_eq!(g.value, 3.5);
        assert!(g.source.contains("Table 4.9"));
        // 100 × 3.5 × 1.37 × 0.47 − 100 × 1.0 × 1.37 × 0.47.
        assert!((acc.years[0].net_c_t - (100.0 * 3.5 - 100.0) * 1.37 * 0.47).abs() < 1e-9);
        assert!(acc.annual_net_co2_interval_t.is_some());
    }

    #[test]
    fn bad_input_is_named() {
        let e = forest_remaining_forest(&ForestInputs {
            area_ha: -1.0,
            growth: Some(1.0),
            root_shoot: Some(0.2),
            years: 1,
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("area"), "{e}");
        let e = forest_remaining_forest(&ForestInputs {
            area_ha: 1.0,
            zone: Some("atlantis".into()),
            continent: Some("europe".into()),
            root_shoot: Some(0.2),
            years: 1,
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("no confirmed IPCC default growth rate for atlantis"),
            "{e}"
        );
    }

    #[test]
    fn soil_and_land_use_change_by_hand() {
        let acc = soil(&SoilInputs {
            area_ha: 100.0,
            soc_ref: 95.0,
            soc_ref_source: None,
            climate: "temperate/boreal moist".into(),
            before: SoilFactors {
                f_lu: FactorSpec::parse("native"),
                f_mg: FactorSpec::parse("full tillage"),
                f_i: FactorSpec::parse("medium"),
            },
            after: SoilFactors {
                f_lu: FactorSpec::parse("long-term cultivated"),
                f_mg: FactorSpec::parse("full tillage"),
                f_i: FactorSpec::parse("low"),
            },
            transition_years: 20,
            years: 25,
        })
        .unwrap();
        // 100 × 95 × (0.69 × 0.92 − 1) / 20 = −173.47 t C/yr for 20 years, then 0.
        assert!(
            (acc.years[0].net_c_t + 173.47).abs() < 1e-9,
            "{}",
            acc.years[0].net_c_t
        );
        assert_eq!(acc.years[24].net_c_t, 0.0);
        // The interval is on the stocks (Approach 1): F_MG is shared and multiplies the change;
        // F_LU and F_I differ, so their uncertainties enter through 1 − 0.69 × 0.92 = 0.3652,
        // far wider than the after-stock's own relative uncertainty.
        let p = |name: &str| acc.parameters[name].clone();
        let u = |name: &str| p(name).relative_uncertainty.unwrap_or(0.0);
        let pa = p("f_lu_after").value * p("f_i_after").value;
        let u_after = (u("f_lu_after").powi(2) + u("f_i_after").powi(2)).sqrt();
        let u_before = (u("f_lu_before").powi(2) + u("f_i_before").powi(2)).sqrt();
        let diff = ((u_after * pa).powi(2) + u_before.powi(2)).sqrt() / (1.0 - pa);
        let want = (u("f_mg_after").powi(2) + diff.powi(2)).sqrt();
        let (low, high) = acc.annual_net_co2_interval_t.unwrap();
        let annual = acc.years[0].net_co2_t;
        assert!(
            ((high - low) / 2.0 - want * annual.abs()).abs() < 1e-6,
            "{low} {high} {want}"
        );
        let stock_u = (u("f_lu_after").powi(2) + u("f_mg_after").powi(2) + u("f_i_after").powi(2)).sqrt();
        assert!(want > stock_u, "{want} vs {stock_u}");
        let luc = land_use_change(&LandUseChangeInputs {
            area_ha: 10.0,
            biomass_before: 300.0,
            biomass_after: 0.0,
            dom_before: 20.0,
            dom_after: 0.0,
            dom_gain_years: 20,
            soc_before: Some(80.0),
            soc_after: Some(60.0),
            soc_years: 20,
            years: 2,
            ..Default::default()
        })
        .unwrap();
        // Year 1: −300 × 10 × 0.47 − 200 − 10 = −1,620 t C; year 2: soil only, −10 t C.
        assert!(
            (luc.years[0].net_c_t + 1620.0).abs() < 1e-9,
            "{}",
            luc.years[0].net_c_t
        );
        assert!((luc.years[1].net_c_t + 10.0).abs() < 1e-9);
        assert!(luc.total_net_co2_t > 0.0);
    }
}
