//! Tier 2/3 stand simulation driven by a yield table, with the mass balance checked every year.
//!
//! A stand is a set of age classes (area by age). Each class's above-ground biomass follows its
//! yield table: `AGB(age) = V(age) × BCEF_S` (t d.m./ha), below-ground `BGB = AGB × R`, carbon
//! `× CF` (Eq. 2.8's inner term, per hectare). Dead organic matter follows the pool structure of
//! CBM-CFS3 reduced to the five UNFCCC pools (above- and below-ground biomass, dead wood, litter,
//! soil): biomass turns over into dead wood and litter, dead wood and litter decay (a share to
//! the atmosphere, the rest to the slow soil pool), the soil pool decays to the atmosphere. Decay
//! rates follow CBM-CFS3: `k = k_base × Q10^((T − T_ref) / 10)`, capped at `k_max`.
//!
//! Each year, in CBM-CFS3's order: scheduled disturbances (harvest, fire), then growth and
//! turnover (gross growth = the yield-table increment plus turnover, so biomass follows the
//! table), then decay. Stocks are recomputed from the age classes, and every pool's change must
//! equal its inflows minus its outflows; a violation is an error, never a silent result.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CO2_PER_C, co2_flux_from_stock_change};

/// Merchantable volume (m³/ha) by stand age, linearly interpolated; constant after the last age.
#[derive(Debug, Clone)]
pub struct YieldTable {
    ages: Vec<f64>,
    volumes: Vec<f64>,
}

/// Why a stand cannot be simulated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StandError {
    #[error("yield table: {0}")]
    YieldTable(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "year {year}: the harvest of {requested_m3:.1} m³ exceeds the standing merchantable stock of \
         {standing_m3:.1} m³"
    )]
    HarvestExceedsStock {
        year: u32,
        requested_m3: f64,
        standing_m3: f64,
    },
    #[error(
        "year {year}: mass balance of {pool} off by {residual:e} t C (inflows − outflows ≠ stock change)"
    )]
    MassBalance {
        year: u32,
        pool: &'static str,
        residual: f64,
    },
}

impl YieldTable {
    /// A yield table from (age, volume) rows: ages non-negative and strictly increasing,
    /// volumes finite and non-negative, at least two rows.
    pub fn new(rows: Vec<(f64, f64)>) -> Result<Self, StandError> {
        if rows.len() < 2 {
            return Err(StandError::YieldTable(format!(
                "needs at least two rows (age, volume), got {}",
                rows.len()
            )));
        }
        for (i, &(age, v)) in rows.iter().enumerate() {
            if !age.is_finite() || age < 0.0 {
                return Err(StandError::YieldTable(format!(
                    "row {}: age {age} is not a non-negative number",
                    i + 1
                )));
            }
            if !v.is_finite() || v < 0.0 {
                return Err(StandError::YieldTable(format!(
                    "row {}: volume {v} is not a non-negative number",
                    i + 1
                )));
            }
            if i > 0 && age <= rows[i - 1].0 {
                return Err(StandError::YieldTable(format!(
                    "row {}: ages must increase, but {age} follows {}",
                    i + 1,
                    rows[i - 1].0
                )));
            }
        }
        let (ages, volumes) = rows.into_iter().unzip();
        Ok(YieldTable { ages, volumes })
    }

    /// Volume at an age (m³/ha): 0 before the first row if it starts above age 0.
    pub fn volume(&self, age: f64) -> f64 {
        let (a, v) = (&self.ages, &self.volumes);
        if age <= a[0] {
            return if a[0] <= 0.0 {
                v[0]
            } else {
                v[0] * (age / a[0]).max(0.0)
            };
        }
        if age >= a[a.len() - 1] {
            return v[v.len() - 1];
        }
        let i = a.partition_point(|&x| x <= age);
        let (a0, a1, v0, v1) = (a[i - 1], a[i], v[i - 1], v[i]);
        v0 + (v1 - v0) * (age - a0) / (a1 - a0)
    }
}

/// Decay of one dead organic matter pool, CBM-CFS3 style.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Decay {
    /// Base rate at the reference temperature (1/yr).
    pub base_rate: f64,
    pub reference_temp_c: f64,
    pub q10: f64,
    /// Share of the decayed carbon released to the atmosphere; the rest goes to the soil pool.
    pub prop_to_atmosphere: f64,
    pub max_rate: f64,
}

impl Decay {
    /// `k = min(k_base × Q10^((T − T_ref)/10), k_max)`.
    pub fn rate(&self, mean_temp_c: f64) -> f64 {
        (self.base_rate * self.q10.powf((mean_temp_c - self.reference_temp_c) / 10.0)).min(self.max_rate)
    }
}

/// Parameters of the stand model. Defaults and their sources are chosen by the caller.
#[derive(Debug, Clone, Serialize)]
pub struct StandParameters {
    /// Biomass conversion and expansion factor for growing stock (t AGB d.m. per m³).
    pub bcef_s: f64,
    /// Root-to-shoot ratio.
    pub root_shoot: f64,
    /// Carbon fraction of dry matter.
    pub carbon_fraction: f64,
    /// Annual share of above-ground biomass turned over to dead wood.
    pub agb_to_dead_wood: f64,
    /// Annual share of above-ground biomass turned over to litter (foliage, fine branches).
    pub agb_to_litter: f64,
    /// Annual share of below-ground biomass turned over (to litter).
    pub bgb_to_litter: f64,
    pub dead_wood_decay: Decay,
    pub litter_decay: Decay,
    pub soil_decay: Decay,
    /// Mean annual air temperature for the decay rates (°C).
    pub mean_temp_c: f64,
    /// Basic wood density (t d.m./m³) to turn harvested merchantable volume into product carbon;
    /// needed only when harvests are scheduled.
    pub wood_density: Option<f64>,
    /// Share of the above-ground biomass combusted in a fire (IPCC `C_f`); needed only when
    /// fires are scheduled.
    pub combustion_factor: Option<f64>,
}

/// Something that happens to the stand in a given simulation year (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Clear-fell the oldest age classes first until this merchantable volume (m³) is removed.
    Harvest { year: u32, volume_m3: f64 },
    /// A stand-replacing fire on this share of every age class's area.
    Fire { year: u32, area_share: f64 },
}

impl Event {
    fn year(&self) -> u32 {
        match self {
            Event::Harvest { year, .. } | Event::Fire { year, .. } => *year,
        }
    }
}

/// Carbon stocks (t C) of the five pools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Pools {
    pub above_ground_biomass: f64,
    pub below_ground_biomass: f64,
    pub dead_wood: f64,
    pub litter: f64,
    pub soil: f64,
}

impl Pools {
    pub fn total(&self) -> f64 {
        self.above_ground_biomass + self.below_ground_biomass + self.dead_wood + self.litter + self.soil
    }

    fn as_array(&self) -> [(&'static str, f64); 5] {
        [
            ("above_ground_biomass", self.above_ground_biomass),
            ("below_ground_biomass", self.below_ground_biomass),
            ("dead_wood", self.dead_wood),
            ("litter", self.litter),
            ("soil", self.soil),
        ]
    }
}

/// One simulated year.
#[derive(Debug, Clone, Serialize)]
pub struct StandYear {
    pub year: u32,
    /// Stocks at the end of the year (t C).
    pub pools: Pools,
    /// Stock change of each pool in the year (t C; positive = gain).
    pub pool_change: BTreeMap<&'static str, f64>,
    /// Carbon taken up by gross growth (t C).
    pub uptake_c: f64,
    /// Carbon released by decay (t C).
    pub decay_emissions_c: f64,
    /// Carbon released by fire (t C).
    pub fire_emissions_c: f64,
    /// Carbon leaving with harvested wood (t C), to harvested wood products.
    pub harvested_c: f64,
    /// Merchantable volume harvested (m³).
    pub harvested_m3: f64,
    /// Net CO2 of the ecosystem (t CO2; negative = removal): −ΔC × 44/12.
    pub net_co2_t: f64,
    /// Area by age class at the end of the year (age → ha).
    pub age_classes: BTreeMap<u32, f64>,
}

/// Per-hectare biomass carbon of an age (t C/ha): (above-ground, below-ground).
fn biomass_c(table: &YieldTable, p: &StandParameters, age: f64) -> (f64, f64) {
    let agb = table.volume(age) * p.bcef_s * p.carbon_fraction;
    (agb, agb * p.root_shoot)
}

fn check_share(name: &str, v: f64) -> Result<(), StandError> {
    if !(0.0..=1.0).contains(&v) {
        return Err(StandError::Invalid(format!(
            "{name} must be between 0 and 1, got {v}"
        )));
    }
    Ok(())
}

fn check_positive(name: &str, v: f64) -> Result<(), StandError> {
    if !(v.is_finite() && v > 0.0) {
        return Err(StandError::Invalid(format!(
            "{name} must be a positive number, got {v}"
        )));
    }
    Ok(())
}

impl StandParameters {
    fn validate(&self, events: &[Event]) -> Result<(), StandError> {
        check_positive("BCEF_S", self.bcef_s)?;
        if !(self.root_shoot.is_finite() && self.root_shoot >= 0.0) {
            return Err(StandError::Invalid(format!(
                "the root-to-shoot ratio must be non-negative, got {}",
                self.root_shoot
            )));
        }
        check_share("the carbon fraction", self.carbon_fraction)?;
        check_share("the above-ground turnover to dead wood", self.agb_to_dead_wood)?;
        check_share("the above-ground turnover to litter", self.agb_to_litter)?;
        check_share(
            "the sum of above-ground turnover rates",
            self.agb_to_dead_wood + self.agb_to_litter,
        )?;
        check_share("the below-ground turnover", self.bgb_to_litter)?;
        for (name, d) in [
            ("dead wood", &self.dead_wood_decay),
            ("litter", &self.litter_decay),
            ("soil", &self.soil_decay),
        ] {
            if !(d.base_rate.is_finite() && d.base_rate >= 0.0 && d.q10 > 0.0) {
                return Err(StandError::Invalid(format!(
                    "{name} decay: rate and Q10 must be positive"
                )));
            }
            check_share(
                &format!("{name} decay: the share to the atmosphere"),
                d.prop_to_atmosphere,
            )?;
            check_share(&format!("{name} decay: the maximum rate"), d.max_rate)?;
        }
        if !self.mean_temp_c.is_finite() {
            return Err(StandError::Invalid(
                "the mean temperature must be a number".into(),
            ));
        }
        if events.iter().any(|e| matches!(e, Event::Harvest { .. })) {
            match self.wood_density {
                Some(d) => check_positive("the basic wood density", d)?,
                None => {
                    return Err(StandError::Invalid(
                        "a harvest needs the basic wood density (t d.m./m³) to turn the harvested volume \
                         into carbon; pass it explicitly"
                            .into(),
                    ));
                }
            }
        }
        if events.iter().any(|e| matches!(e, Event::Fire { .. })) {
            match self.combustion_factor {
                Some(c) => check_share("the combustion factor", c)?,
                None => {
                    return Err(StandError::Invalid(
                        "a fire needs the combustion factor C_f (share of biomass burnt); pass it explicitly"
                            .into(),
                    ));
                }
            }
        }
        for e in events {
            match *e {
                Event::Harvest { volume_m3, year } => {
                    if !(volume_m3.is_finite() && volume_m3 >= 0.0) {
                        return Err(StandError::Invalid(format!(
                            "year {year}: harvest volume must be non-negative, got {volume_m3}"
                        )));
                    }
                }
                Event::Fire { area_share, year } => {
                    check_share(&format!("year {year}: fire area share"), area_share)?
                }
            }
        }
        Ok(())
    }
}

/// Simulates a stand for `years` years from its initial age classes (age → ha) and initial dead
/// organic matter stocks (t C), applying the scheduled events.
pub fn simulate(
    table: &YieldTable,
    params: &StandParameters,
    initial_classes: &BTreeMap<u32, f64>,
    initial_dom: Pools,
    events: &[Event],
    years: u32,
) -> Result<Vec<StandYear>, StandError> {
    params.validate(events)?;
    if initial_classes.is_empty() || initial_classes.values().any(|a| !(a.is_finite() && *a >= 0.0)) {
        return Err(StandError::Invalid(
            "the stand needs age classes with non-negative areas".into(),
        ));
    }
    if let Some(e) = events.iter().find(|e| e.year() == 0 || e.year() > years) {
        return Err(StandError::Invalid(format!(
            "an event in year {} lies outside the simulated years 1..={years}",
            e.year()
        )));
    }
    let p = params;
    let mut classes: BTreeMap<u32, f64> = initial_classes.clone();
    let stocks_of = |classes: &BTreeMap<u32, f64>, dom: &Pools| -> Pools {
        let (mut ag, mut bg) = (0.0, 0.0);
        for (&age, &area) in classes {
            let (a, b) = biomass_c(table, p, age as f64);
            ag += a * area;
            bg += b * area;
        }
        Pools {
            above_ground_biomass: ag,
            below_ground_biomass: bg,
            ..*dom
        }
    };
    let mut dom = initial_dom;
    let mut out = Vec::with_capacity(years as usize);
    let (k_dw, k_lit, k_soil) = (
        p.dead_wood_decay.rate(p.mean_temp_c),
        p.litter_decay.rate(p.mean_temp_c),
        p.soil_decay.rate(p.mean_temp_c),
    );

    for year in 1..=years {
        let before = stocks_of(&classes, &dom);
        // Flows into and out of each pool, accumulated apart from the stocks.
        let mut inflow = Pools::default();
        let mut outflow = Pools::default();
        let (mut uptake, mut decay_em, mut fire_em, mut harvested_c, mut harvested_m3) =
            (0.0, 0.0, 0.0, 0.0, 0.0);

        // Cleared or burnt area restarts at age 0, with the table's biomass at age 0 (if any)
        // taken up as regeneration.
        let regenerate =
            |classes: &mut BTreeMap<u32, f64>, area: f64, inflow: &mut Pools, uptake: &mut f64| {
                if area > 0.0 {
                    *classes.entry(0).or_insert(0.0) += area;
                    let (ag, bg) = biomass_c(table, p, 0.0);
                    inflow.above_ground_biomass += ag * area;
                    inflow.below_ground_biomass += bg * area;
                    *uptake += (ag + bg) * area;
                }
            };
        // 1. Disturbances.
        for e in events.iter().filter(|e| e.year() == year) {
            match *e {
                Event::Harvest { volume_m3, .. } => {
                    let standing: f64 = classes.iter().map(|(&a, &ha)| table.volume(a as f64) * ha).sum();
                    if volume_m3 > standing * (1.0 + 1e-12) {
                        return Err(StandError::HarvestExceedsStock {
                            year,
                            requested_m3: volume_m3,
                            standing_m3: standing,
                        });
                    }
                    let density = p.wood_density.unwrap_or_default();
                    let mut left = volume_m3;
                    let mut cleared = 0.0;
                    let ages: Vec<u32> = classes.keys().rev().copied().collect();
                    for age in ages {
                        if left <= 0.0 {
                            break;
                        }
                        let v = table.volume(age as f64);
                        let area = classes[&age];
                        if v <= 0.0 || area <= 0.0 {
                            continue;
                        }
                        let cut_area = (left / v).min(area);
                        left -= cut_area * v;
                        let (ag, bg) = biomass_c(table, p, age as f64);
                        let (ag, bg) = (ag * cut_area, bg * cut_area);
                        // Stem wood leaves as products; the rest of the above-ground biomass stays
                        // as residues (dead wood), roots die into dead wood.
                        let products = (cut_area * v * density * p.carbon_fraction).min(ag);
                        outflow.above_ground_biomass += ag;
                        outflow.below_ground_biomass += bg;
                        inflow.dead_wood += ag - products + bg;
                        harvested_c += products;
                        harvested_m3 += cut_area * v;
                        *classes.get_mut(&age).expect("age class") -= cut_area;
                        cleared += cut_area;
                    }
                    classes.retain(|_, a| *a > 0.0);
                    regenerate(&mut classes, cleared, &mut inflow, &mut uptake);
                }
                Event::Fire { area_share, .. } => {
                    let cf = p.combustion_factor.unwrap_or_default();
                    let mut burnt_area = 0.0;
                    for (&age, area) in classes.iter_mut() {
                        let burnt = *area * area_share;
                        let (ag, bg) = biomass_c(table, p, age as f64);
                        outflow.above_ground_biomass += ag * burnt;
                        outflow.below_ground_biomass += bg * burnt;
                        fire_em += ag * burnt * cf;
                        inflow.dead_wood += ag * burnt * (1.0 - cf) + bg * burnt;
                        *area -= burnt;
                        burnt_area += burnt;
                    }
                    classes.retain(|_, a| *a > 0.0);
                    regenerate(&mut classes, burnt_area, &mut inflow, &mut uptake);
                }
            }
        }

        // 2. Growth and turnover, class by class; then every class is a year older.
        let mut aged = BTreeMap::new();
        for (&age, &area) in &classes {
            let (ag0, bg0) = biomass_c(table, p, age as f64);
            let (ag1, bg1) = biomass_c(table, p, age as f64 + 1.0);
            let turnover_ag_dw = ag0 * p.agb_to_dead_wood * area;
            let turnover_ag_lit = ag0 * p.agb_to_litter * area;
            let turnover_bg = bg0 * p.bgb_to_litter * area;
            // Biomass follows the table: growth makes up the increment and the turnover. Where the
            // table declines, the decline is mortality into dead wood.
            let (d_ag, d_bg) = ((ag1 - ag0) * area, (bg1 - bg0) * area);
            let grow_ag = d_ag.max(0.0) + turnover_ag_dw + turnover_ag_lit;
            let grow_bg = d_bg.max(0.0) + turnover_bg;
            let mortality_ag = (-d_ag).max(0.0);
            let mortality_bg = (-d_bg).max(0.0);
            inflow.above_ground_biomass += grow_ag;
            inflow.below_ground_biomass += grow_bg;
            uptake += grow_ag + grow_bg;
            outflow.above_ground_biomass += turnover_ag_dw + turnover_ag_lit + mortality_ag;
            outflow.below_ground_biomass += turnover_bg + mortality_bg;
            inflow.dead_wood += turnover_ag_dw + mortality_ag + mortality_bg;
            inflow.litter += turnover_ag_lit + turnover_bg;
            *aged.entry(age + 1).or_insert(0.0) += area;
        }
        classes = aged;

        // 3. Decay of the dead organic matter after this year's inputs.
        let dw = before.dead_wood + inflow.dead_wood - outflow.dead_wood;
        let lit = before.litter + inflow.litter - outflow.litter;
        let decay_dw = dw * k_dw;
        let decay_lit = lit * k_lit;
        outflow.dead_wood += decay_dw;
        outflow.litter += decay_lit;
        let to_soil = decay_dw * (1.0 - p.dead_wood_decay.prop_to_atmosphere)
            + decay_lit * (1.0 - p.litter_decay.prop_to_atmosphere);
        decay_em +=
            decay_dw * p.dead_wood_decay.prop_to_atmosphere + decay_lit * p.litter_decay.prop_to_atmosphere;
        let soil = before.soil + inflow.soil - outflow.soil;
        let decay_soil = soil * k_soil;
        outflow.soil += decay_soil;
        inflow.soil += to_soil;
        decay_em += decay_soil * p.soil_decay.prop_to_atmosphere;
        // The soil pool's decay goes to the atmosphere only; what it keeps stays in the pool.
        let soil_kept = decay_soil * (1.0 - p.soil_decay.prop_to_atmosphere);
        inflow.soil += soil_kept;

        dom = Pools {
            above_ground_biomass: 0.0,
            below_ground_biomass: 0.0,
            dead_wood: dw - decay_dw,
            litter: lit - decay_lit,
            soil: soil - decay_soil + to_soil + soil_kept,
        };
        let after = stocks_of(&classes, &dom);

        // 4. Mass balance: every pool, and the system (uptake = Δstocks + emissions + harvest).
        let scale = before.total().abs().max(after.total().abs()).max(1.0);
        let tol = 1e-9 * scale;
        let mut pool_change = BTreeMap::new();
        for (((name, b), (_, a)), ((_, i), (_, o))) in before
            .as_array()
            .into_iter()
            .zip(after.as_array())
            .zip(inflow.as_array().into_iter().zip(outflow.as_array()))
        {
            let residual = (a - b) - (i - o);
            if residual.abs() > tol {
                return Err(StandError::MassBalance {
                    year,
                    pool: name,
                    residual,
                });
            }
            pool_change.insert(name, a - b);
        }
        let system = uptake - (after.total() - before.total()) - decay_em - fire_em - harvested_c;
        if system.abs() > tol {
            return Err(StandError::MassBalance {
                year,
                pool: "ecosystem",
                residual: system,
            });
        }
        out.push(StandYear {
            year,
            pools: after,
            pool_change,
            uptake_c: uptake,
            decay_emissions_c: decay_em,
            fire_emissions_c: fire_em,
            harvested_c,
            harvested_m3,
            net_co2_t: co2_flux_from_stock_change(after.total() - before.total()),
            age_classes: classes.clone(),
        });
    }
    Ok(out)
}

/// Total net CO2 of a simulation (t CO2; negative = removal).
pub fn total_net_co2(years: &[StandYear]) -> f64 {
    years.iter().map(|y| y.net_co2_t).sum()
}

/// CO2 in carbon, for reporting harvested carbon as CO2 where a caller needs it.
pub fn c_to_co2(c: f64) -> f64 {
    c * CO2_PER_C
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decay(rate: f64) -> Decay {
        Decay {
            base_rate: rate,
            reference_temp_c: 10.0,
            q10: 2.0,
            prop_to_atmosphere: 0.83,
            max_rate: 1.0,
        }
    }

    pub(crate) fn params() -> StandParameters {
        StandParameters {
            bcef_s: 0.7,
            root_shoot: 0.25,
            carbon_fraction: 0.5,
            agb_to_dead_wood: 0.005,
            agb_to_litter: 0.02,
            bgb_to_litter: 0.02,
            dead_wood_decay: decay(0.0187),
            litter_decay: decay(0.1435),
            soil_decay: Decay {
                q10: 1.0,
                prop_to_atmosphere: 1.0,
                ..decay(0.0033)
            },
            mean_temp_c: 10.0,
            wood_density: Some(0.4),
            combustion_factor: Some(0.4),
        }
    }

    fn table() -> YieldTable {
        YieldTable::new(vec![
            (0.0, 0.0),
            (20.0, 60.0),
            (50.0, 250.0),
            (80.0, 350.0),
            (120.0, 330.0),
        ])
        .unwrap()
    }

    #[test]
    fn yield_tables_interpolate_and_reject_bad_rows() {
        let t = table();
        assert_eq!(t.volume(10.0), 30.0);
        assert_eq!(t.volume(200.0), 330.0);
        assert!(matches!(
            YieldTable::new(vec![(0.0, 0.0), (20.0, 10.0), (20.0, 30.0)]),
            Err(StandError::YieldTable(m)) if m.contains("ages must increase")
        ));
        assert!(YieldTable::new(vec![(0.0, 0.0), (10.0, -1.0)]).is_err());
        assert!(YieldTable::new(vec![(0.0, 0.0)]).is_err());
    }

    #[test]
    fn a_hundred_years_balance_with_harvest_and_fire() {
        let classes = BTreeMap::from([(0, 50.0), (30, 30.0), (70, 20.0)]);
        let events = [
            Event::Harvest {
                year: 10,
                volume_m3: 5000.0,
            },
            Event::Fire {
                year: 40,
                area_share: 0.1,
            },
        ];
        let years = simulate(&table(), &params(), &classes, Pools::default(), &events, 100).unwrap();
        assert_eq!(years.len(), 100);
        // Area is conserved.
        for y in &years {
            let area: f64 = y.age_classes.values().sum();
            assert!((area - 100.0).abs() < 1e-9);
        }
        assert!((years[9].harvested_m3 - 5000.0).abs() < 1e-6);
        assert!(years[9].harvested_c > 0.0);
        assert!(years[39].fire_emissions_c > 0.0);
        // A young, growing stand is a sink overall.
        assert!(total_net_co2(&years) < 0.0);
    }

    #[test]
    fn a_harvest_beyond_the_standing_stock_is_refused() {
        let classes = BTreeMap::from([(30, 10.0)]);
        let err = simulate(
            &table(),
            &params(),
            &classes,
            Pools::default(),
            &[Event::Harvest {
                year: 1,
                volume_m3: 1e6,
            }],
            5,
        )
        .unwrap_err();
        assert!(
            matches!(err, StandError::HarvestExceedsStock { year: 1, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("exceeds the standing merchantable stock")
        );
    }

    #[test]
    fn missing_parameters_for_events_are_named() {
        let mut p = params();
        p.wood_density = None;
        let err = simulate(
            &table(),
            &p,
            &BTreeMap::from([(30, 10.0)]),
            Pools::default(),
            &[Event::Harvest {
                year: 1,
                volume_m3: 10.0,
            }],
            5,
        )
        .unwrap_err();
        assert!(err.to_string().contains("wood density"), "{err}");
    }
}
