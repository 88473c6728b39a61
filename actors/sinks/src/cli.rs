//! `cbutler sinks …`: IPCC AFOLU accounts from the command line (the sinks agent's engine, called
//! directly, as `cbutler lca` calls the LCA engine).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::defaults;
use crate::engine::stand::{self, Decay, Event, Pools, StandParameters, YieldTable};
use crate::forest::{self, Account, FactorSpec, ForestInputs, LandUseChangeInputs, SoilFactors, SoilInputs};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use cb_protocol::format::format_quantity;

#[derive(Debug, Subcommand)]
pub enum SinksCommand {
    /// Forest land remaining forest land: IPCC gain-loss (Tier 1), yearly by pool.
    Forest(ForestArgs),
    /// Tier 2/3 stand simulation from a yield table (merchantable volume by age), with harvests
    /// and fires on a schedule and the mass balance checked every year.
    Stand(StandArgs),
    /// Mineral soil organic carbon change between two land uses or managements (Eq. 2.25).
    Soil(SoilArgs),
    /// Land converted to or from forest: biomass, dead organic matter and soil (Eqs. 2.16, 2.23, 2.25).
    LandUseChange(LandUseChangeArgs),
    /// Harvested wood products by first-order decay (Eq. 12.1): stock and stock change per year.
    Hwp(HwpArgs),
    /// Biomass carbon change between two inventories by the stock-difference method (Eqs. 2.5, 2.8).
    StockDifference(StockDifferenceArgs),
}

#[derive(Debug, Args)]
pub struct StockDifferenceArgs {
    #[arg(long)]
    pub area_ha: f64,
    /// Merchantable growing stock (m³/ha) at the first and the second inventory.
    #[arg(long)]
    pub volume_t1: f64,
    #[arg(long)]
    pub volume_t2: f64,
    /// Years of the two inventories.
    #[arg(long)]
    pub t1: f64,
    #[arg(long)]
    pub t2: f64,
    /// BCEF_S (t d.m./m³).
    #[arg(long)]
    pub bcef_s: f64,
    #[arg(long)]
    pub root_shoot: f64,
    /// Carbon fraction of dry matter (default 0.47, Table 4.3).
    #[arg(long)]
    pub carbon_fraction: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ForestArgs {
    /// Forest area (ha).
    #[arg(long)]
    pub area_ha: f64,
    /// Ecological zone, for the growth default (2019 Table 4.9: tropical rainforest, tropical
    /// moist forest, tropical dry forest, tropical mountain system) and ratio/BCEF lookups
    /// (temperate, boreal, mediterranean, subtropical_dry).
    #[arg(long)]
    pub zone: Option<String>,
    /// Continent, for the growth default (africa, asia, americas).
    #[arg(long)]
    pub continent: Option<String>,
    /// Stand class for the growth default: primary, "secondary >20 years", "secondary <=20 years".
    #[arg(long)]
    pub stand: Option<String>,
    /// Above-ground biomass growth G_W (t d.m./ha/yr); overrides the default.
    #[arg(long = "growth", value_name = "T_DM_PER_HA_YR")]
    pub growth: Option<f64>,
    /// Root-to-shoot ratio R; overrides the Table 4.4 lookup.
    #[arg(long)]
    pub root_shoot: Option<f64>,
    /// Forest type for Table 4.4/4.5 lookups (con, broad, quercus, eucalyptus; pines, hardwoods,
    /// "other conifers", "firs and spruces", larch, conifers).
    #[arg(long)]
    pub forest_type: Option<String>,
    /// Above-ground biomass stock (t d.m./ha), for the Table 4.4 class.
    #[arg(long = "agb")]
    pub agb: Option<f64>,
    /// Growing stock (m³/ha), for the Table 4.5 class.
    #[arg(long)]
    pub growing_stock: Option<f64>,
    /// Carbon fraction of dry matter (default 0.47, Table 4.3).
    #[arg(long)]
    pub carbon_fraction: Option<f64>,
    /// Roundwood removals (m³/yr).
    #[arg(long)]
    pub removals_m3: Option<f64>,
    /// BCEF_R (t d.m./m³); overrides the Table 4.5 lookup.
    #[arg(long)]
    pub bcef_r: Option<f64>,
    /// Fuelwood removed as whole trees (m³/yr).
    #[arg(long)]
    pub fuelwood_trees_m3: Option<f64>,
    /// Fuelwood removed as parts of trees (m³/yr); needs --wood-density.
    #[arg(long)]
    pub fuelwood_parts_m3: Option<f64>,
    /// Basic wood density (t d.m./m³).
    #[arg(long)]
    pub wood_density: Option<f64>,
    /// Disturbance: "AREA_HA:AGB_T_DM_PER_HA:FRACTION_LOST" (Eq. 2.14).
    #[arg(long)]
    pub disturbance: Option<String>,
    /// Fire: "AREA_HA:FUEL_T_DM_PER_HA:COMBUSTION_FACTOR" (Eq. 2.27).
    #[arg(long)]
    pub fire: Option<String>,
    /// Table 2.5 vegetation class for the fire's emission factors.
    #[arg(long, default_value = "extra-tropical forest")]
    pub fire_vegetation: String,
    /// Years to report.
    #[arg(long, default_value_t = 1)]
    pub years: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StandArgs {
    /// CSV with a header and two columns: age (years), merchantable volume (m³/ha).
    #[arg(long)]
    pub yield_table: PathBuf,
    /// Stand area (ha).
    #[arg(long, default_value_t = 1.0)]
    pub area_ha: f64,
    /// Initial age of the stand (one age class), or --age-classes.
    #[arg(long, default_value_t = 0)]
    pub age: u32,
    /// Initial age classes "AGE:HA,AGE:HA,…" (replaces --age and --area-ha).
    #[arg(long)]
    pub age_classes: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub years: u32,
    /// Harvests "YEAR:M3,YEAR:M3": merchantable volume clear-felled, oldest classes first.
    #[arg(long)]
    pub harvest: Option<String>,
    /// Stand-replacing fires "YEAR:AREA_SHARE,…".
    #[arg(long)]
    pub fire: Option<String>,
    /// Biomass conversion and expansion factor for growing stock BCEF_S (t d.m./m³).
    #[arg(long)]
    pub bcef_s: f64,
    /// Root-to-shoot ratio.
    #[arg(long)]
    pub root_shoot: f64,
    /// Carbon fraction of dry matter (default 0.47, Table 4.3).
    #[arg(long)]
    pub carbon_fraction: Option<f64>,
    /// Annual turnover of above-ground biomass to dead wood (default: CBM-CFS3 softwood stem
    /// turnover 0.005, spatial unit 1).
    #[arg(long, default_value_t = 0.005)]
    pub agb_to_dead_wood: f64,
    /// Annual turnover of above-ground biomass to litter. The CBM-CFS3 foliage and branch rates
    /// apply to those components, which this pool structure lumps with the stem: no default.
    #[arg(long, default_value_t = 0.0)]
    pub agb_to_litter: f64,
    /// Annual turnover of below-ground biomass to litter (default: CBM-CFS3 coarse-root
    /// turnover 0.02).
    #[arg(long, default_value_t = 0.02)]
    pub bgb_to_litter: f64,
    /// Mean annual temperature for decay (°C; default the CBM-CFS3 reference 10 °C).
    #[arg(long, default_value_t = 10.0)]
    pub mean_temp: f64,
    /// Basic wood density (t d.m./m³), needed for harvests.
    #[arg(long)]
    pub wood_density: Option<f64>,
    /// Combustion factor C_f, needed for fires.
    #[arg(long)]
    pub combustion_factor: Option<f64>,
    /// Half-life (years) of the harvested wood products pool; default sawnwood, 35 years.
    #[arg(long)]
    pub hwp_half_life: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SoilArgs {
    #[arg(long)]
    pub area_ha: f64,
    /// Reference soil carbon stock under native vegetation (t C/ha, 0–30 cm).
    #[arg(
        long,
        conflicts_with = "soc_ref_class",
        required_unless_present = "soc_ref_class"
    )]
    pub soc_ref: Option<f64>,
    /// SOC_REF from IPCC 2006 Table 2.3 instead: "CLIMATE,SOIL", e.g. "warm temperate moist,HAC"
    /// (climates: boreal, cool/warm temperate dry/moist, tropical dry/moist/wet, tropical montane;
    /// soils: HAC, LAC, sandy, spodic, volcanic, wetland).
    #[arg(long)]
    pub soc_ref_class: Option<String>,
    /// Climate for Table 5.5 factors: "temperate/boreal dry", "temperate/boreal moist",
    /// "tropical dry", "tropical moist", "tropical montane".
    #[arg(long)]
    pub climate: String,
    /// Factors before: "F_LU,F_MG,F_I", each a Table 5.5 level or a number.
    #[arg(long, default_value = "native,full tillage,medium")]
    pub before: String,
    /// Factors after, as --before.
    #[arg(long)]
    pub after: String,
    /// Transition period D (years).
    #[arg(long, default_value_t = 20)]
    pub transition_years: u32,
    #[arg(long, default_value_t = 20)]
    pub years: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LandUseChangeArgs {
    #[arg(long)]
    pub area_ha: f64,
    /// Total biomass before conversion (t d.m./ha).
    #[arg(long)]
    pub biomass_before: f64,
    /// Total biomass just after conversion (t d.m./ha).
    #[arg(long, default_value_t = 0.0)]
    pub biomass_after: f64,
    /// Growth of the new vegetation "G_W:R" (t d.m./ha/yr and root-to-shoot), e.g. for
    /// afforestation.
    #[arg(long)]
    pub growth_after: Option<String>,
    #[arg(long)]
    pub carbon_fraction: Option<f64>,
    /// Dead organic matter before and after (t C/ha).
    #[arg(long, default_value_t = 0.0)]
    pub dom_before: f64,
    #[arg(long, default_value_t = 0.0)]
    pub dom_after: f64,
    /// Years over which dead organic matter builds up on land converted to forest.
    #[arg(long, default_value_t = 20)]
    pub dom_years: u32,
    /// Soil carbon before and after (t C/ha), changing over --soc-years.
    #[arg(long)]
    pub soc_before: Option<f64>,
    #[arg(long)]
    pub soc_after: Option<f64>,
    #[arg(long, default_value_t = 20)]
    pub soc_years: u32,
    #[arg(long, default_value_t = 20)]
    pub years: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HwpArgs {
    /// Annual inflows of carbon to the pool (t C), "X,Y,Z,…", one per year.
    #[arg(long)]
    pub inflows: String,
    /// Product category for the default half-life (paper, wood panels, sawnwood).
    #[arg(long, default_value = "sawnwood")]
    pub product: String,
    /// Half-life (years); overrides the default.
    #[arg(long)]
    pub half_life: Option<f64>,
    /// Stock at the start (t C).
    #[arg(long, default_value_t = 0.0)]
    pub initial_stock: f64,
    #[arg(long)]
    pub json: bool,
}

fn numbers(text: &str, what: &str, n: usize) -> Result<Vec<f64>> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != n {
        bail!("{what}: expected {n} numbers separated by ':', got {text:?}");
    }
    parts
        .iter()
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .with_context(|| format!("{what}: {p:?} is not a number"))
        })
        .collect()
}

fn pairs(text: &str, what: &str) -> Result<Vec<(u32, f64)>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let (a, b) = item
                .split_once(':')
                .with_context(|| format!("{what}: write each entry as \"YEAR:VALUE\", got {item:?}"))?;
            let a = a
                .trim()
                .parse::<u32>()
                .with_context(|| format!("{what}: {a:?} is not a whole number"))?;
            let b = b
                .trim()
                .parse::<f64>()
                .with_context(|| format!("{what}: {b:?} is not a number"))?;
            Ok((a, b))
        })
        .collect()
}

fn print_account(account: &Account, label: &str, json: bool, out: &mut dyn Write) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(account)?)?;
        return Ok(());
    }
    let first = &account.years[0];
    writeln!(out, "{label}: {}", account.method)?;
    writeln!(
        out,
        "  year 1 net CO2: {} (negative = removal); over {} years: {}",
        format_quantity(first.net_co2_t, "t CO2"),
        account.years.len(),
        format_quantity(account.total_net_co2_t, "t CO2")
    )?;
    if let Some((lo, hi)) = account.annual_net_co2_interval_t {
        writeln!(
            out,
            "  95 % interval of the annual value (Approach 1): {} to {}",
            format_quantity(lo, "t CO2"),
            format_quantity(hi, "t CO2")
        )?;
    }
    let p = &first.by_pool_co2_t;
    writeln!(
        out,
        "  by pool, year 1 (t CO2): above-ground {:.1}, below-ground {:.1}, dead wood {:.1}, litter {:.1}, soil {:.1}",
        p.above_ground_biomass, p.below_ground_biomass, p.dead_wood, p.litter, p.soil
    )?;
    for (gas, t) in &first.non_co2_t {
        writeln!(out, "  {gas}: {t:.3} t per year")?;
    }
    writeln!(out, "Parameters:")?;
    for (k, v) in &account.parameters {
        writeln!(out, "  {k} = {} {} — {}", v.value, v.unit, v.source)?;
    }
    for a in &account.assumptions {
        writeln!(out, "Assumption: {}", a.english())?;
    }
    Ok(())
}

/// Reads a yield table: a header, then rows of age and merchantable volume.
pub fn read_yield_table(path: &Path) -> Result<YieldTable> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        if rec.len() < 2 {
            bail!("{}: line {}: expected age and volume", path.display(), i + 2);
        }
        let num = |j: usize| {
            rec[j].trim().parse::<f64>().with_context(|| {
                format!(
                    "{}: line {}: {:?} is not a number",
                    path.display(),
                    i + 2,
                    &rec[j]
                )
            })
        };
        rows.push((num(0)?, num(1)?));
    }
    YieldTable::new(rows).with_context(|| path.display().to_string())
}

/// CBM-CFS3 decay parameters (libcbm 2.10.2 defaults, `decay_parameters.csv`): dead wood as the
/// stem snag pool, litter as the above-ground fast pool, soil as the below-ground slow pool.
fn cbm_decay() -> (Decay, Decay, Decay) {
    (
        Decay {
            base_rate: 0.0187,
            reference_temp_c: 10.0,
            q10: 2.0,
            prop_to_atmosphere: 0.83,
            max_rate: 1.0,
        },
        Decay {
            base_rate: 0.1435,
            reference_temp_c: 10.0,
            q10: 2.0,
            prop_to_atmosphere: 0.83,
            max_rate: 1.0,
        },
        Decay {
            base_rate: 0.0033,
            reference_temp_c: 10.0,
            q10: 1.0,
            prop_to_atmosphere: 1.0,
            max_rate: 1.0,
        },
    )
}

fn stand(a: StandArgs, out: &mut dyn Write) -> Result<()> {
    let table = read_yield_table(&a.yield_table)?;
    let classes: BTreeMap<u32, f64> = match &a.age_classes {
        Some(text) => pairs(text, "--age-classes")?.into_iter().collect(),
        None => {
            if !(a.area_ha.is_finite() && a.area_ha > 0.0) {
                bail!("--area-ha must be a positive number, got {}", a.area_ha);
            }
            BTreeMap::from([(a.age, a.area_ha)])
        }
    };
    let mut events = Vec::new();
    if let Some(h) = &a.harvest {
        events.extend(
            pairs(h, "--harvest")?
                .into_iter()
                .map(|(year, volume_m3)| Event::Harvest { year, volume_m3 }),
        );
    }
    if let Some(f) = &a.fire {
        events.extend(
            pairs(f, "--fire")?
                .into_iter()
                .map(|(year, area_share)| Event::Fire { year, area_share }),
        );
    }
    let (dead_wood_decay, litter_decay, soil_decay) = cbm_decay();
    let params = StandParameters {
        bcef_s: a.bcef_s,
        root_shoot: a.root_shoot,
        carbon_fraction: a.carbon_fraction.unwrap_or(defaults::carbon_fraction().value),
        agb_to_dead_wood: a.agb_to_dead_wood,
        agb_to_litter: a.agb_to_litter,
        bgb_to_litter: a.bgb_to_litter,
        dead_wood_decay,
        litter_decay,
        soil_decay,
        mean_temp_c: a.mean_temp,
        wood_density: a.wood_density,
        combustion_factor: a.combustion_factor,
    };
    let years = stand::simulate(&table, &params, &classes, Pools::default(), &events, a.years)?;
    let half_life = match a.hwp_half_life {
        Some(h) if h.is_finite() && h > 0.0 => h,
        Some(h) => bail!("--hwp-half-life must be a positive number of years, got {h}"),
        None => defaults::hwp_half_life("sawnwood")?.value,
    };
    let inflows: Vec<f64> = years.iter().map(|y| y.harvested_c).collect();
    let hwp = crate::engine::hwp::simulate(0.0, &inflows, half_life);
    let total = stand::total_net_co2(&years);
    let hwp_total: f64 = hwp
        .iter()
        .map(|(_, d)| crate::engine::co2_flux_from_stock_change(*d))
        .sum();
    if a.json {
        let rows: Vec<_> = years
            .iter()
            .zip(&hwp)
            .map(|(y, (stock, delta))| {
                json!({
                    "year": y.year,
                    "net_co2_t": y.net_co2_t,
                    "pools_c_t": y.pools,
                    "pool_change_c_t": y.pool_change,
                    "uptake_c_t": y.uptake_c,
                    "decay_emissions_c_t": y.decay_emissions_c,
                    "fire_emissions_c_t": y.fire_emissions_c,
                    "harvested_c_t": y.harvested_c,
                    "harvested_m3": y.harvested_m3,
                    "hwp_stock_c_t": stock,
                    "hwp_net_co2_t": crate::engine::co2_flux_from_stock_change(*delta),
                    "age_classes": y.age_classes,
                })
            })
            .collect();
        let doc = json!({
            "method": "yield-table stand simulation (IPCC Tier 2/3), CBM-CFS3 dead organic matter parameters",
            "total_net_co2_t": total,
            "hwp_total_net_co2_t": hwp_total,
            "mass_balance": "checked every year for every pool",
            "parameters": params,
            "hwp_half_life_years": half_life,
            "years": rows,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "Stand simulation over {} years (mass balance checked every year):",
        a.years
    )?;
    writeln!(
        out,
        "  ecosystem net CO2: {} (negative = removal)",
        format_quantity(total, "t CO2")
    )?;
    writeln!(
        out,
        "  harvested wood products net CO2: {}",
        format_quantity(hwp_total, "t CO2")
    )?;
    let last = years.last().expect("at least one year");
    let p = &last.pools;
    writeln!(
        out,
        "  stocks at the end (t C): above-ground {:.1}, below-ground {:.1}, dead wood {:.1}, litter {:.1}, soil {:.1}",
        p.above_ground_biomass, p.below_ground_biomass, p.dead_wood, p.litter, p.soil
    )?;
    for y in years
        .iter()
        .filter(|y| y.harvested_m3 > 0.0 || y.fire_emissions_c > 0.0)
    {
        writeln!(
            out,
            "  year {}: harvested {:.1} m³ ({:.1} t C to products), fire {:.1} t C",
            y.year, y.harvested_m3, y.harvested_c, y.fire_emissions_c
        )?;
    }
    Ok(())
}

pub fn run(command: SinksCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        SinksCommand::Forest(a) => {
            let disturbance = a
                .disturbance
                .as_deref()
                .map(|d| numbers(d, "--disturbance", 3).map(|v| (v[0], v[1], v[2])))
                .transpose()?;
            let fire = a
                .fire
                .as_deref()
                .map(|f| numbers(f, "--fire", 3).map(|v| (v[0], v[1], v[2], a.fire_vegetation.clone())))
                .transpose()?;
            let account = forest::forest_remaining_forest(&ForestInputs {
                area_ha: a.area_ha,
                growth: a.growth,
                zone: a.zone.clone(),
                continent: a.continent.clone(),
                stand: a.stand.clone(),
                root_shoot: a.root_shoot,
                forest_type: a.forest_type.clone(),
                agb_t_dm_ha: a.agb,
                growing_stock_m3_ha: a.growing_stock,
                carbon_fraction: a.carbon_fraction,
                removals_m3: a.removals_m3,
                fuelwood_trees_m3: a.fuelwood_trees_m3,
                fuelwood_parts_m3: a.fuelwood_parts_m3,
                wood_density: a.wood_density,
                bcef_r: a.bcef_r,
                disturbance,
                fire,
                years: a.years,
            })?;
            print_account(&account, &format!("{} ha of forest", a.area_ha), a.json, out)
        }
        SinksCommand::Stand(a) => stand(a, out),
        SinksCommand::Soil(a) => {
            let factors = |text: &str, flag: &str| -> Result<SoilFactors> {
                let p: Vec<&str> = text.split(',').collect();
                if p.len() != 3 {
                    bail!("{flag}: write three factors \"F_LU,F_MG,F_I\" (levels or numbers), got {text:?}");
                }
                Ok(SoilFactors {
                    f_lu: FactorSpec::parse(p[0]),
                    f_mg: FactorSpec::parse(p[1]),
                    f_i: FactorSpec::parse(p[2]),
                })
            };
            let (soc_ref, soc_ref_source) = match (a.soc_ref, &a.soc_ref_class) {
                (Some(v), _) => (v, None),
                (None, Some(class)) => {
                    let Some((climate, soil)) = class.split_once(',') else {
                        bail!(
                            "--soc-ref-class: write \"CLIMATE,SOIL\", e.g. \"warm temperate moist,HAC\", got {class:?}"
                        );
                    };
                    let d = crate::defaults::soc_ref(climate, soil)?;
                    (d.value, Some(d.source))
                }
                (None, None) => bail!("give --soc-ref or --soc-ref-class"),
            };
            let account = forest::soil(&SoilInputs {
                area_ha: a.area_ha,
                soc_ref,
                soc_ref_source,
                climate: a.climate.clone(),
                before: factors(&a.before, "--before")?,
                after: factors(&a.after, "--after")?,
                transition_years: a.transition_years,
                years: a.years,
            })?;
            print_account(
                &account,
                &format!("{} ha of mineral soil", a.area_ha),
                a.json,
                out,
            )
        }
        SinksCommand::LandUseChange(a) => {
            let growth_after = a
                .growth_after
                .as_deref()
                .map(|g| numbers(g, "--growth-after", 2).map(|v| (v[0], v[1])))
                .transpose()?;
            let account = forest::land_use_change(&LandUseChangeInputs {
                area_ha: a.area_ha,
                biomass_before: a.biomass_before,
                biomass_after: a.biomass_after,
                growth_after,
                carbon_fraction: a.carbon_fraction,
                dom_before: a.dom_before,
                dom_after: a.dom_after,
                dom_gain_years: a.dom_years,
                soc_before: a.soc_before,
                soc_after: a.soc_after,
                soc_years: a.soc_years,
                years: a.years,
            })?;
            print_account(&account, &format!("{} ha converted", a.area_ha), a.json, out)
        }
        SinksCommand::StockDifference(a) => {
            for (name, v) in [
                ("--area-ha", a.area_ha),
                ("--volume-t1", a.volume_t1),
                ("--volume-t2", a.volume_t2),
                ("--bcef-s", a.bcef_s),
                ("--root-shoot", a.root_shoot),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    bail!("{name} must be a non-negative number, got {v}");
                }
            }
            let cf = a.carbon_fraction.unwrap_or(defaults::carbon_fraction().value);
            if !(0.0..=1.0).contains(&cf) {
                bail!("--carbon-fraction must be between 0 and 1, got {cf}");
            }
            let stock =
                |v: f64| crate::engine::biomass_stock_from_volume(a.area_ha, v, a.bcef_s, a.root_shoot, cf);
            let (c1, c2) = (stock(a.volume_t1), stock(a.volume_t2));
            let Some(dc) = crate::engine::stock_difference(c1, c2, a.t1, a.t2) else {
                bail!("--t2 ({}) must be later than --t1 ({})", a.t2, a.t1);
            };
            let co2 = crate::engine::co2_flux_from_stock_change(dc);
            if a.json {
                let doc = json!({
                    "method": "IPCC 2006 Vol. 4 Eqs. 2.5 and 2.8: C = A × V × BCEF_S × (1 + R) × CF; ΔC = (C_t2 − C_t1) / (t2 − t1)",
                    "stock_t1_c_t": c1, "stock_t2_c_t": c2, "annual_change_c_t": dc,
                    "net_co2_t_per_year": co2, "carbon_fraction": cf,
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                writeln!(
                    out,
                    "Biomass carbon {c1:.1} t C in {} and {c2:.1} t C in {}: {dc:.1} t C per year, net CO2 {} per year \
                     (negative = removal).",
                    a.t1,
                    a.t2,
                    format_quantity(co2, "t CO2")
                )?;
            }
            Ok(())
        }
        SinksCommand::Hwp(a) => {
            let inflows: Vec<f64> = a
                .inflows
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .with_context(|| format!("--inflows: {s:?} is not a number"))
                })
                .collect::<Result<_>>()?;
            if inflows.iter().any(|v| !v.is_finite()) {
                bail!("--inflows must be finite numbers");
            }
            let (half_life, source) = match a.half_life {
                Some(h) if h.is_finite() && h > 0.0 => (h, "given by the user".to_string()),
                Some(h) => bail!("--half-life must be a positive number of years, got {h}"),
                None => {
                    let d = defaults::hwp_half_life(&a.product)?;
                    (d.value, d.source)
                }
            };
            let years = crate::engine::hwp::simulate(a.initial_stock, &inflows, half_life);
            let rows: Vec<_> = years
                .iter()
                .enumerate()
                .map(|(i, (stock, delta))| {
                    json!({"year": i + 1, "stock_c_t": stock, "stock_change_c_t": delta,
                           "net_co2_t": crate::engine::co2_flux_from_stock_change(*delta)})
                })
                .collect();
            if a.json {
                let doc = json!({"method": "IPCC first-order decay, Eq. 12.1", "half_life_years": half_life,
                                  "half_life_source": source, "years": rows});
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                writeln!(
                    out,
                    "Harvested wood products, half-life {half_life} years ({source}):"
                )?;
                for (i, (stock, delta)) in years.iter().enumerate() {
                    writeln!(
                        out,
                        "  year {}: stock {stock:.2} t C, change {delta:.2} t C",
                        i + 1
                    )?;
                }
            }
            Ok(())
        }
    }
}
