//! The trade agent's work: a [`TradeTask`] in, Quantities and a graph fragment out.
//!
//! Synchronous and free of actors, so it runs the same in the ractor wrapper, in a worker
//! process, or in a test. It keeps loaded MRIOs in a cache (loading EXIOBASE takes a while).

use std::path::Path;

use cb_agent_runtime::bounded::{DatasetCache, FileKey};
use std::sync::Arc;

use cb_protocol::text::Text;
use cb_protocol::{
    AccountKind, EdgeKind, GraphEdge, GraphNode, LabeledQuantity, NodeKind, Provenance, Quantity, TaskError,
    TaskErrorKind, TaskOutput, TradeTask, Uncertainty,
};

use crate::analysis::{AnalysisError, MrioAnalysis};
use crate::data::{self, DataError, gcb::Gcb};
use crate::engine::{self, PathSearch};

/// Paths visited at most by one structural path analysis.
const MAX_PATH_VISITS: usize = 2_000_000;

/// The trade agent with its cache of factorised MRIOs.
#[derive(Default)]
pub struct TradeAgent {
    cache: DatasetCache<Arc<MrioAnalysis>>,
}

impl From<DataError> for TaskError {
    fn from(e: DataError) -> Self {
        let kind = match e {
            DataError::Missing { .. } => TaskErrorKind::NotFound,
            DataError::Io { ref reason, .. } if reason == "file not found" => TaskErrorKind::NotFound,
            _ => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

impl From<AnalysisError> for TaskError {
    fn from(e: AnalysisError) -> Self {
        let kind = match e {
            AnalysisError::Unknown { .. } => TaskErrorKind::NotFound,
            _ => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

/// Node id of a region.
pub fn region_node(region: &str) -> String {
    format!("region:{region}")
}

/// Node id of a sector in a region.
pub fn sector_node(region: &str, sector: &str) -> String {
    format!("sector:{region}/{sector}")
}

pub const ATMOSPHERE: &str = "atmosphere";

fn atmosphere() -> GraphNode {
    GraphNode::new(ATMOSPHERE, NodeKind::Atmosphere, "Atmosphere")
}

impl TradeAgent {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads and factorises an MRIO, or takes it from the cache.
    pub fn analysis(&mut self, path: &str) -> Result<Arc<MrioAnalysis>, TaskError> {
        let key = FileKey::of(Path::new(path)).ok();
        if let Some(a) = key.as_ref().and_then(|k| self.cache.get(k)) {
            return Ok(a);
        }
        let mrio = data::load_mrio(Path::new(path))?;
        let analysis = Arc::new(MrioAnalysis::new(mrio, &mut |_| {})?);
        if let Some(key) = key {
            self.cache.insert(key, analysis.clone());
        }
        Ok(analysis)
    }

    /// Runs one task.
    pub fn run(&mut self, task: &TradeTask) -> Result<TaskOutput, TaskError> {
        match task {
            TradeTask::NationalAccounts { countries, year } => {
                national_accounts(Gcb::bundled(), countries, *year)
            }
            TradeTask::MrioAccounts {
                mrio,
                stressor,
                regions,
                year,
            } => {
                let a = self.analysis(&mrio.path)?;
                let mut out = mrio_accounts(&a, stressor.as_deref(), regions)?;
                let acc = a.regional_accounts()?;
                let ks = match stressor {
                    Some(s) => vec![a.stressor_index(s)?],
                    None => (0..a.stressors.len()).collect(),
                };
                gcb_consumption_check(&a, &acc, &ks, *year, Gcb::bundled(), &mut out);
                Ok(out)
            }
            TradeTask::Transfers {
                mrio,
                stressor,
                from,
                to,
            } => {
                let a = self.analysis(&mrio.path)?;
                transfers(&a, stressor, from.as_deref(), to.as_deref())
            }
            TradeTask::TopSectors {
                mrio,
                stressor,
                region,
                account,
                top,
            } => {
                let a = self.analysis(&mrio.path)?;
                top_sectors(&a, stressor, region, *account, *top as usize)
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
                let a = self.analysis(&mrio.path)?;
                supply_chain_paths(
                    &a,
                    stressor,
                    region,
                    sector,
                    PathSearch {
                        depth: *depth as usize,
                        top: *top as usize,
                        threshold: *threshold,
                        max_visits: MAX_PATH_VISITS,
                    },
                )
            }
            TradeTask::Multiplier {
                mrio,
                stressor,
                region,
                sector,
                price,
            } => {
                let a = self.analysis(&mrio.path)?;
                multiplier(&a, stressor, region, sector, price.as_ref())
            }
            TradeTask::AvoidedEmissions {
                exporter,
                destination,
                technology,
                mw,
                parameters,
                margin,
            } => avoided_emissions(exporter, destination, technology, *mw, parameters, *margin),
        }
    }
}

fn gcb_provenance(entity: &str, year: i32, series: &str) -> Provenance {
    Provenance::new(
        data::gcb::DATASET,
        data::gcb::VERSION,
        format!("published {series} CO2 series"),
    )
    .param("entity", entity)
    .param("year", year)
    .cite(data::gcb::CITATION)
}

fn quantity(measure: &str, label: Text, dims: &[(&str, &str)], q: Quantity) -> LabeledQuantity {
    LabeledQuantity::new(measure, label, dims, q)
}

/// Territorial and consumption-based CO2 from the Global Carbon Budget, with the net transfer
/// embodied in trade `consumption − territorial` (positive: net importer of emissions).
pub fn national_accounts(
    gcb: &Gcb,
    countries: &[String],
    year: Option<i32>,
) -> Result<TaskOutput, TaskError> {
    let mut out = TaskOutput::default();
    out.graph.nodes.push(atmosphere());
    out.graph.nodes.push(GraphNode::new(
        "region:rest-of-world",
        NodeKind::Region,
        "Rest of the world",
    ));
    for country in countries {
        let id = gcb.find(country).ok_or_else(|| {
            TaskError::new(
                TaskErrorKind::NotFound,
                format!(
                    "{country:?} is not a country or aggregate in the Global Carbon Budget (use an ISO 3166 \
                     alpha-3 code such as CHN, or a GCB name such as \"European Union (27)\")"
                ),
            )
        })?;
        let entity = &gcb.entities[id];
        let name = entity.name.clone();
        let code = entity.code.clone().unwrap_or_else(|| name.clone());
        if !gcb.has_consumption(id) {
            return Err(TaskError::new(
                TaskErrorKind::NotFound,
                format!("the Global Carbon Budget publishes no consumption-based CO2 for {name}"),
            ));
        }
        let y = match year {
            Some(y) => y,
            None => gcb.latest_common_year(id).ok_or_else(|| {
                TaskError::new(
                    TaskErrorKind::NotFound,
                    format!("no year with both series for {name}"),
                )
            })?,
        };
        let (terr, cons) = match (gcb.territorial(id, y), gcb.consumption(id, y)) {
            (Some(t), Some(c)) => (t, c),
            _ => {
                let (first, last) = gcb.consumption_years(id).unwrap_or((1990, 2022));
                return Err(TaskError::new(
                    TaskErrorKind::NotFound,
                    format!(
                        "the Global Carbon Budget has no territorial and consumption-based CO2 for {name} in {y}; \
                         consumption-based figures cover {first}–{last}"
                    ),
                ));
            }
        };
        let ys = y.to_string();
        let dims = [("region", code.as_str()), ("year", ys.as_str())];
        let t_q = Quantity::new(
            terr,
            "t CO2",
            gcb_provenance(&name, y, "territorial (production-based)"),
        );
        let c_q = Quantity::new(cons, "t CO2", gcb_provenance(&name, y, "consumption-based"));
        let net = cons - terr;
        let net_q = Quantity::new(
            net,
            "t CO2",
            gcb_provenance(&name, y, "consumption-based minus territorial")
                .param("equation", "net transfer = consumption − territorial"),
        );
        out.quantities.push(quantity(
            "territorial_co2",
            Text::new("label_territorial_co2", &[("name", &name), ("year", &ys)]),
            &dims,
            t_q.clone(),
        ));
        out.quantities.push(quantity(
            "consumption_co2",
            Text::new("label_consumption_co2", &[("name", &name), ("year", &ys)]),
            &dims,
            c_q.clone(),
        ));
        out.quantities.push(quantity(
            "net_transfer_co2",
            Text::new("label_net_transfer_co2", &[("name", &name), ("year", &ys)]),
            &dims,
            net_q.clone(),
        ));
        let node_id = region_node(&code);
        let mut node = GraphNode::new(&node_id, NodeKind::Region, &name);
        node.attributes.insert("iso3".into(), code.clone());
        node.quantities.insert("territorial_co2".into(), t_q.clone());
        node.quantities.insert("consumption_co2".into(), c_q);
        out.graph.nodes.push(node);
        out.graph.edges.push(GraphEdge {
            from: node_id.clone(),
            to: ATMOSPHERE.into(),
            kind: EdgeKind::TerritorialEmissions,
            quantity: Some(t_q),
        });
        // The net transfer as a flow: from the net exporter of embodied emissions to the importer.
        let (from, to) = if net >= 0.0 {
            ("region:rest-of-world".to_string(), node_id)
        } else {
            (node_id, "region:rest-of-world".to_string())
        };
        out.graph.edges.push(GraphEdge {
            from,
            to,
            kind: EdgeKind::EmbodiedEmissions,
            quantity: Some(Quantity {
                value: net.abs(),
                ..net_q
            }),
        });
    }
    out.note(Text::new("note_gcb_scope", &[]));
    out.note(Text::new("note_gcb_uncertainty", &[]));
    Ok(out)
}

fn mrio_provenance(a: &MrioAnalysis, method: &str) -> Provenance {
    Provenance::new(&a.meta.name, &a.meta.version, method).param("source", &a.meta.source)
}

fn unit_of(a: &MrioAnalysis, k: usize) -> String {
    let u = &a.stressors[k].unit;
    if u.is_empty() {
        "unit of the stressor".into()
    } else {
        u.clone()
    }
}

/// Regional D_cba, D_pba, D_imp and D_exp (pymrio `D_*_reg`).
pub fn mrio_accounts(
    a: &MrioAnalysis,
    stressor: Option<&str>,
    regions: &[String],
) -> Result<TaskOutput, TaskError> {
    let acc = a.regional_accounts()?;
    let ks: Vec<usize> = match stressor {
        Some(s) => vec![a.stressor_index(s)?],
        None => (0..a.stressors.len()).collect(),
    };
    let rs: Vec<usize> = if regions.is_empty() {
        (0..a.blocks.n_regions).collect()
    } else {
        regions
            .iter()
            .map(|r| a.region_index(r))
            .collect::<Result<_, _>>()?
    };
    let mut out = TaskOutput::default();
    if let Some(b) = a.output_balance {
        let relative = if b.largest_output > 0.0 {
            b.residual.abs() / b.largest_output
        } else {
            0.0
        };
        out.findings.push(cb_protocol::Finding::new(
            "x = Z·1 + Y·1",
            format!(
                "total output as given in the MRIO against intermediate plus final use, every industry; \
                 largest residual at {}",
                a.industry_label(b.industry)
            ),
            &[
                ("largest_residual", b.residual),
                ("largest_output", b.largest_output),
                ("relative_to_largest_output", relative),
            ],
            format!("relative {}", crate::analysis::BALANCE_TOLERANCE),
            relative <= crate::analysis::BALANCE_TOLERANCE,
        ));
    }
    // The regional accounts are sums of the bilateral matrix E = S·X_reg; each is set against
    // a computation that does not use it, so a wrong E, x or factorisation shows.
    // The rows of the stressors asked for.
    let rows = |m: &faer::Mat<f64>| faer::Mat::from_fn(ks.len(), m.ncols(), |row, col| m[(ks[row], col)]);
    let (s_k, fy_k) = (rows(&a.s), rows(&a.f_y_reg));
    let pba_f =
        crate::engine::calc_d_pba_reg_from_f(s_k.as_ref(), a.x.as_ref(), Some(fy_k.as_ref()), a.blocks);
    let m_k = crate::engine::calc_m(s_k.as_ref(), &a.leontief);
    let cba_m =
        crate::engine::calc_d_cba_reg_from_m(m_k.as_ref(), a.y_agg.as_ref(), Some(fy_k.as_ref()), a.blocks);
    // With x given, L·y misses x by the table's output imbalance, so D_pba from F misses the
    // bilateral sums by as much; with x computed from the flows they agree to solver precision.
    let pba_tolerance = if a.output_balance.is_some() {
        crate::analysis::BALANCE_TOLERANCE
    } else {
        crate::analysis::IDENTITY_TOLERANCE
    };
    for (check, compared, independent, of_e, tolerance) in [
        (
            "D_pba: F against the bilateral matrix",
            "production-based account from F = S·diag(x) directly against the producing region's row sums of \
             the bilateral matrix E = S·L·Y_agg, every region and stressor",
            &pba_f,
            rows(&acc.d_pba_reg),
            pba_tolerance,
        ),
        (
            "D_cba: S·L·Y against the bilateral matrix",
            "consumption-based account from the multipliers M = S·L (transposed solves) times final demand \
             against the consuming region's column sums of E (forward solves), every region and stressor",
            &cba_m,
            rows(&acc.d_cba_reg),
            crate::analysis::IDENTITY_TOLERANCE,
        ),
    ] {
        let (worst, relative) = crate::engine::largest_difference(independent.as_ref(), of_e.as_ref());
        out.findings.push(cb_protocol::Finding::new(
            check,
            compared,
            &[
                ("largest_difference", worst),
                ("relative_to_largest_account", relative),
            ],
            format!("relative {tolerance}"),
            relative <= tolerance,
        ));
    }
    out.graph.nodes.push(atmosphere());
    for &r in &rs {
        let region = &a.meta.regions[r];
        let mut node = GraphNode::new(region_node(region), NodeKind::Region, region);
        for &k in &ks {
            let st = &a.stressors[k];
            for (measure, m, method) in [
                (
                    "D_cba_reg",
                    &acc.d_cba_reg,
                    "D_cba_reg = Σ_s (S·L·Ŷ)[·,(r,s)] + F_Y_reg (pymrio)",
                ),
                (
                    "D_pba_reg",
                    &acc.d_pba_reg,
                    "D_pba_reg = Σ_{i∈r} S·diag(x) + F_Y_reg (pymrio)",
                ),
                ("D_imp_reg", &acc.d_imp_reg, "D_imp_reg = Σ_{p≠r} E[p,r] (pymrio)"),
                ("D_exp_reg", &acc.d_exp_reg, "D_exp_reg = Σ_{q≠r} E[r,q] (pymrio)"),
            ] {
                let q = Quantity::new(
                    m[(k, r)],
                    unit_of(a, k),
                    mrio_provenance(a, method)
                        .param("region", region)
                        .param("stressor", &st.label),
                );
                node.quantities
                    .insert(format!("{measure}:{}", st.name), q.clone());
                out.quantities.push(quantity(
                    measure,
                    Text::new(
                        &format!("label_{measure}"),
                        &[("stressor", &st.name), ("region", region)],
                    ),
                    &[("region", region), ("stressor", &st.name)],
                    q,
                ));
            }
        }
        out.graph.nodes.push(node);
    }
    out.note(Text::new("note_mrio_uncertainty", &[]));
    Ok(out)
}

/// How far an MRIO's consumption-based CO2 may be from the Global Carbon Budget's before the
/// comparison fails: MRIOs count CO2 from fuel combustion (and sometimes processes) by their own
/// system boundaries, GCB counts fossil fuels, cement and flaring, so a screen, not an identity.
pub const GCB_TOLERANCE: f64 = 0.25;

/// Tonnes per unit of a mass unit used in MRIO extensions (`kg`, `t`, `Gg`, ...).
fn tonnes_per(unit: &str) -> Option<f64> {
    let u = unit.trim();
    let u = u.strip_suffix("CO2").map(str::trim).unwrap_or(u);
    match u {
        "kg" => Some(1e-3),
        "t" | "Mg" => Some(1.0),
        "kt" | "Gg" => Some(1e3),
        "Mt" | "Tg" => Some(1e6),
        "Gt" | "Pg" => Some(1e9),
        _ => None,
    }
}

/// A monetary unit as MRIOs write it ("Mill USD", "M.EUR", "EUR"): its currency code and how
/// many currency units one unit is.
fn money_unit(unit: &str) -> Option<(String, f64)> {
    let mut currency = None;
    let mut scale = 1.0;
    for t in unit
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        match t.to_ascii_lowercase().as_str() {
            "m" | "mill" | "million" | "millions" | "mio" | "mn" => scale = 1e6,
            "k" | "thousand" | "thousands" | "tsd" => scale = 1e3,
            "bn" | "billion" | "billions" | "mrd" => scale = 1e9,
            _ if t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase()) => currency = Some(t.to_string()),
            _ => return None,
        }
    }
    currency.map(|c| (c, scale))
}

/// The multiplier `M[k, (r,s)] = (S·L)[k, (r,s)]` of one region's sector, and, with the product's
/// price in the MRIO's currency, the same per kg of the product:
/// `M × price per kg ÷ units of money per MRIO unit`, converted to kg of the stressor.
pub fn multiplier(
    a: &MrioAnalysis,
    stressor: &str,
    region: &str,
    sector: &str,
    price: Option<&cb_protocol::ProductPrice>,
) -> Result<TaskOutput, TaskError> {
    let k = a.stressor_index(stressor)?;
    let r = a.region_index(region)?;
    let s = a.sector_index(sector)?;
    let st = &a.stressors[k];
    let m_row = engine::calc_m(a.s.subrows(k, 1).to_owned().as_ref(), &a.leontief);
    let value = m_row[(0, r * a.blocks.n_sectors + s)];
    let money = a.meta.monetary_unit.clone();
    let per = money.clone().unwrap_or_else(|| "unit of output".into());
    let (region_name, sector_name) = (&a.meta.regions[r], &a.meta.sectors[s]);
    let prov = mrio_provenance(a, "M = S·L (pymrio calc_M)")
        .param("region", region_name)
        .param("sector", sector_name)
        .param("stressor", &st.label);
    let dims = [
        ("region", region_name.as_str()),
        ("sector", sector_name.as_str()),
        ("stressor", st.name.as_str()),
    ];
    let mut out = TaskOutput::default();
    out.quantities.push(quantity(
        "multiplier",
        Text::new(
            "label_multiplier",
            &[
                ("stressor", &st.name),
                ("region", region_name),
                ("sector", sector_name),
            ],
        ),
        &dims,
        Quantity::new(value, format!("{}/{per}", unit_of(a, k)), prov.clone()),
    ));
    let Some(p) = price else {
        return Ok(out);
    };
    let stressor_kg = tonnes_per(&st.unit).map(|t| t * 1000.0);
    let money = money.as_deref().and_then(money_unit);
    match (stressor_kg, money) {
        (Some(kg), Some((currency, scale))) if currency == p.currency => {
            let price_per_kg = if p.per == "t" { p.amount / 1000.0 } else { p.amount };
            let per_kg = value * price_per_kg / scale * kg;
            let unit = format!("kg {}/kg", st.name);
            out.quantities.push(quantity(
                "multiplier_per_kg",
                Text::new(
                    "label_multiplier_per_kg",
                    &[
                        ("stressor", &st.name),
                        ("region", region_name),
                        ("sector", sector_name),
                        ("price", &format!("{} {}/{}", p.amount, p.currency, p.per)),
                    ],
                ),
                &dims,
                Quantity::new(
                    per_kg,
                    unit,
                    prov.param("price", format!("{} {}/{}", p.amount, p.currency, p.per))
                        .param("equation", "M × price per kg ÷ money per MRIO unit"),
                ),
            ));
            out.note(Text::new("note_multiplier_price", &[]));
        }
        (None, _) => out.note(Text::new("note_multiplier_no_mass", &[("unit", &st.unit)])),
        (_, Some((currency, _))) => out.note(Text::new(
            "note_multiplier_currency",
            &[("currency", &currency), ("asked", &p.currency)],
        )),
        (_, None) => out.note(Text::new("note_multiplier_no_money", &[("unit", &per)])),
    }
    Ok(out)
}

/// The year an MRIO describes, from its name, version or source (the first plausible year).
fn year_in_name(a: &MrioAnalysis) -> Option<i32> {
    [&a.meta.name, &a.meta.version, &a.meta.source]
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_ascii_digit()))
        .filter(|t| t.len() == 4)
        .filter_map(|t| t.parse::<i32>().ok())
        .find(|y| (1990..=2100).contains(y))
}

/// Compares the MRIO's consumption-based CO2 of every region named by an ISO alpha-3 code with the
/// Global Carbon Budget's consumption-based CO2 of that country in the MRIO's year, as a finding.
/// Where nothing can be compared (no CO2 stressor, no matching region, no year), a note says why.
pub fn gcb_consumption_check(
    a: &MrioAnalysis,
    acc: &crate::engine::RegionalAccounts,
    ks: &[usize],
    year: Option<i32>,
    gcb: &Gcb,
    out: &mut TaskOutput,
) {
    let co2: Vec<usize> = ks
        .iter()
        .copied()
        .filter(|&k| {
            let name = a.stressors[k].name.to_lowercase();
            name.starts_with("co2") || name.contains("carbon dioxide")
        })
        .collect();
    if co2.is_empty() {
        return;
    }
    let Some(year) = year.or_else(|| year_in_name(a)) else {
        out.note(Text::new("note_gcb_no_year", &[]));
        return;
    };
    let units: Option<Vec<f64>> = co2.iter().map(|&k| tonnes_per(&a.stressors[k].unit)).collect();
    let Some(units) = units else {
        out.note(Text::new(
            "note_gcb_unit",
            &[("unit", &format!("{:?}", a.stressors[co2[0]].unit))],
        ));
        return;
    };
    let mut compared = Vec::new();
    for (r, region) in a.meta.regions.iter().enumerate() {
        let Some(id) = gcb.find(region) else { continue };
        if gcb.entities[id].code.as_deref() != Some(region.as_str()) {
            continue;
        }
        let Some(published) = gcb.consumption(id, year) else {
            continue;
        };
        let mrio: f64 = co2
            .iter()
            .zip(&units)
            .map(|(&k, t)| acc.d_cba_reg[(k, r)] * t)
            .sum();
        compared.push((region.clone(), mrio, published));
    }
    if compared.is_empty() {
        out.note(Text::new("note_gcb_no_country", &[("year", &year.to_string())]));
        return;
    }
    let deviation = |(_, m, g): &(String, f64, f64)| {
        if *g != 0.0 {
            (m - g).abs() / g.abs()
        } else {
            f64::INFINITY
        }
    };
    let worst = compared
        .iter()
        .max_by(|x, y| deviation(x).total_cmp(&deviation(y)))
        .expect("not empty");
    let rows: Vec<&str> = co2.iter().map(|&k| a.stressors[k].label.as_str()).collect();
    let mut values: Vec<(String, f64)> = compared
        .iter()
        .flat_map(|(r, m, g)| [(format!("{r}_mrio_t"), *m), (format!("{r}_gcb_t"), *g)])
        .collect();
    values.push(("largest_relative_deviation".into(), deviation(worst)));
    let values: Vec<(&str, f64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    out.findings.push(cb_protocol::Finding::new(
        "MRIO consumption CO2 ≈ Global Carbon Budget",
        format!(
            "consumption-based CO2 of {} region(s) in {year} from the MRIO ({}) against the Global Carbon \
             Budget 2024; largest deviation {} ({:.1} %)",
            compared.len(),
            rows.join(" + "),
            worst.0,
            100.0 * deviation(worst)
        ),
        &values,
        format!("relative {GCB_TOLERANCE} per region"),
        compared.iter().all(|c| deviation(c) <= GCB_TOLERANCE),
    ));
}

/// Emissions embodied in bilateral trade and net transfers for one stressor.
pub fn transfers(
    a: &MrioAnalysis,
    stressor: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<TaskOutput, TaskError> {
    let k = a.stressor_index(stressor)?;
    let st = &a.stressors[k];
    let e = a.embodied_trade(k);
    let net = engine::calc_net_transfers(e.as_ref());
    let nr = a.blocks.n_regions;
    let from_idx = from.map(|f| a.region_index(f)).transpose()?;
    let to_idx = to.map(|t| a.region_index(t)).transpose()?;
    let mut out = TaskOutput::default();
    let regions = &a.meta.regions;
    let method = "E[p,r] = Σ_{i∈p} S[i]·(L·Y_agg)[i,r]";
    let mut involved = vec![false; nr];
    for p in 0..nr {
        for r in 0..nr {
            if p == r || from_idx.is_some_and(|f| f != p) || to_idx.is_some_and(|t| t != r) {
                continue;
            }
            involved[p] = true;
            involved[r] = true;
            let q = Quantity::new(
                e[(p, r)],
                unit_of(a, k),
                mrio_provenance(a, method)
                    .param("producer", &regions[p])
                    .param("consumer", &regions[r])
                    .param("stressor", &st.label),
            );
            out.quantities.push(quantity(
                "embodied_in_trade",
                Text::new(
                    "label_embodied_in_trade",
                    &[
                        ("stressor", &st.name),
                        ("producer", &regions[p]),
                        ("consumer", &regions[r]),
                    ],
                ),
                &[
                    ("producer", &regions[p]),
                    ("consumer", &regions[r]),
                    ("stressor", &st.name),
                ],
                q.clone(),
            ));
            out.graph.edges.push(GraphEdge {
                from: region_node(&regions[p]),
                to: region_node(&regions[r]),
                kind: EdgeKind::EmbodiedEmissions,
                quantity: Some(q),
            });
        }
    }
    for r in (0..nr).filter(|r| involved[*r]) {
        let q = Quantity::new(
            net[r],
            unit_of(a, k),
            mrio_provenance(a, "N[r] = Σ_{p≠r} E[p,r] − Σ_{q≠r} E[r,q] (imports − exports)")
                .param("region", &regions[r])
                .param("stressor", &st.label),
        );
        out.quantities.push(quantity(
            "net_transfer",
            Text::new(
                "label_net_transfer",
                &[("stressor", &st.name), ("region", &regions[r])],
            ),
            &[("region", &regions[r]), ("stressor", &st.name)],
            q.clone(),
        ));
        let mut node = GraphNode::new(region_node(&regions[r]), NodeKind::Region, &regions[r]);
        node.quantities.insert(format!("net_transfer:{}", st.name), q);
        out.graph.nodes.push(node);
    }
    Ok(out)
}

/// The sectors contributing most to one account of one region.
pub fn top_sectors(
    a: &MrioAnalysis,
    stressor: &str,
    region: &str,
    account: AccountKind,
    top: usize,
) -> Result<TaskOutput, TaskError> {
    let k = a.stressor_index(stressor)?;
    let r = a.region_index(region)?;
    let st = &a.stressors[k];
    let acc = a.sector_accounts(Some(k))?;
    let d = match account {
        AccountKind::Consumption => &acc.d_cba,
        AccountKind::Production => &acc.d_pba,
        AccountKind::Imports => &acc.d_imp,
        AccountKind::Exports => &acc.d_exp,
    };
    let contributions = engine::sector_contributions(d.row(0), r, a.blocks);
    let total: f64 = contributions.iter().map(|(_, v)| v).sum();
    let region_name = &a.meta.regions[r];
    let mut out = TaskOutput::default();
    let region_id = region_node(region_name);
    out.graph
        .nodes
        .push(GraphNode::new(&region_id, NodeKind::Region, region_name));
    for (rank, (sec, v)) in contributions.into_iter().take(top).enumerate() {
        let sector = &a.meta.sectors[sec];
        let q = Quantity::new(
            v,
            unit_of(a, k),
            mrio_provenance(
                a,
                &format!("{} per sector (pymrio calc_accounts)", account.symbol()),
            )
            .param("region", region_name)
            .param("sector", sector)
            .param("stressor", &st.label),
        );
        let share = if total != 0.0 { v / total } else { 0.0 };
        let rank_s = (rank + 1).to_string();
        out.quantities.push(quantity(
            account.symbol(),
            Text::new(
                "label_top_sector",
                &[
                    ("account", account.symbol()),
                    ("stressor", &st.name),
                    ("region", region_name),
                    ("sector", sector),
                    ("rank", &rank_s),
                    ("share", &format!("{:.1}", share * 100.0)),
                ],
            ),
            &[
                ("region", region_name),
                ("sector", sector),
                ("stressor", &st.name),
                ("rank", &rank_s),
            ],
            q.clone(),
        ));
        let id = sector_node(region_name, sector);
        let mut node = GraphNode::new(&id, NodeKind::Sector, format!("{sector} ({region_name})"));
        node.quantities
            .insert(format!("{}:{}", account.symbol(), st.name), q);
        out.graph.nodes.push(node);
        out.graph.edges.push(GraphEdge {
            from: region_id.clone(),
            to: id,
            kind: EdgeKind::Contains,
            quantity: None,
        });
    }
    out.note(Text::new(
        "note_top_sectors_total",
        &[
            ("account", account.symbol()),
            ("region", region_name),
            ("stressor", &st.label),
            ("total", &total.to_string()),
            ("sectors", &a.blocks.n_sectors.to_string()),
        ],
    ));
    Ok(out)
}

/// Structural path analysis of region `r`'s final demand for sector `s`'s products.
pub fn supply_chain_paths(
    a: &MrioAnalysis,
    stressor: &str,
    region: &str,
    sector: &str,
    search: PathSearch,
) -> Result<TaskOutput, TaskError> {
    let k = a.stressor_index(stressor)?;
    let r = a.region_index(region)?;
    let sec = a.sector_index(sector)?;
    let st = &a.stressors[k];
    let a_mat = a.coefficients();
    let s_row = a.s.subrows(k, 1).to_owned();
    let m_row = engine::calc_m(s_row.as_ref(), &a.leontief);
    let y = a.final_demand_for(r, sec);
    let res = engine::structural_paths(a_mat.as_ref(), s_row.row(0), m_row.row(0), y.as_ref(), search);
    let region_name = &a.meta.regions[r];
    let sector_name = &a.meta.sectors[sec];
    let mut out = TaskOutput::default();
    let method = format!(
        "structural path analysis of s·L·y to depth {}, pruning subtrees below {} of the total",
        search.depth, search.threshold
    );
    let total_q = Quantity::new(
        res.total,
        unit_of(a, k),
        mrio_provenance(a, "m·y, m = S·L")
            .param("region", region_name)
            .param("sector", sector_name),
    );
    out.quantities.push(quantity(
        "footprint",
        Text::new(
            "label_path_footprint",
            &[
                ("stressor", &st.name),
                ("region", region_name),
                ("sector", sector_name),
            ],
        ),
        &[
            ("region", region_name),
            ("sector", sector_name),
            ("stressor", &st.name),
        ],
        total_q,
    ));
    for (rank, path) in res.paths.iter().enumerate() {
        let names: Vec<String> = path.nodes.iter().map(|&i| a.industry_label(i)).collect();
        let share = if res.total != 0.0 {
            path.value / res.total
        } else {
            0.0
        };
        let q = Quantity::new(
            path.value,
            unit_of(a, k),
            mrio_provenance(a, &method).param("path", names.join(" ← ")),
        );
        let rank_s = (rank + 1).to_string();
        let depth_s = (path.nodes.len() - 1).to_string();
        out.quantities.push(quantity(
            "path",
            Text::new(
                "label_path",
                &[
                    ("rank", &rank_s),
                    ("share", &format!("{:.2}", share * 100.0)),
                    ("path", &names.join(" ← ")),
                ],
            ),
            &[("rank", &rank_s), ("depth", &depth_s), ("stressor", &st.name)],
            q.clone(),
        ));
        for &i in &path.nodes {
            let (reg, sect) = (
                &a.meta.regions[a.blocks.region_of(i)],
                &a.meta.sectors[a.blocks.sector_of(i)],
            );
            out.graph.nodes.push(GraphNode::new(
                sector_node(reg, sect),
                NodeKind::Sector,
                format!("{sect} ({reg})"),
            ));
        }
        // Edges run supplier → user, each carrying this path's emissions.
        for step in path.nodes.windows(2) {
            let (user, supplier) = (step[0], step[1]);
            out.graph.edges.push(GraphEdge {
                from: sector_node(
                    &a.meta.regions[a.blocks.region_of(supplier)],
                    &a.meta.sectors[a.blocks.sector_of(supplier)],
                ),
                to: sector_node(
                    &a.meta.regions[a.blocks.region_of(user)],
                    &a.meta.sectors[a.blocks.sector_of(user)],
                ),
                kind: EdgeKind::Supplies,
                quantity: Some(q.clone()),
            });
        }
    }
    let covered: f64 = res.paths.iter().map(|p| p.value).sum();
    let covered_pct = if res.total != 0.0 {
        covered / res.total * 100.0
    } else {
        0.0
    };
    out.note(Text::new(
        if res.truncated {
            "note_paths_truncated"
        } else {
            "note_paths"
        },
        &[
            ("paths", &res.paths.len().to_string()),
            ("share", &format!("{covered_pct:.1}")),
            ("visited", &res.visited.to_string()),
        ],
    ));
    Ok(out)
}

/// Draws for the interval of an avoided-emissions answer (Latin hypercube).
const AVOIDED_DRAWS: usize = 2_000;

/// Avoided emissions of exported solar or wind capacity against its life-cycle emissions
/// ([`crate::avoided`]): both as Quantities with the grid factors' sources, and an edge of each
/// from the exporter to the destination.
pub fn avoided_emissions(
    exporter: &str,
    destination: &str,
    technology: &str,
    mw: f64,
    parameters: &cb_protocol::AvoidedParameters,
    margin: Option<cb_grid::GridFactor>,
) -> Result<TaskOutput, TaskError> {
    use crate::avoided::{Export, ParametersFile, TechnologyParameters, account};
    let invalid = |e: crate::avoided::AvoidedError| TaskError::new(TaskErrorKind::InvalidInput, e.0);
    let p = TechnologyParameters {
        capacity_factor: parameters.capacity_factor,
        lifetime_years: parameters.lifetime_years,
        degradation_per_year: parameters.degradation_per_year,
        manufacturing_mwh_per_mw: parameters.manufacturing_mwh_per_mw,
        other_embodied_t_per_mw: parameters.other_embodied_t_per_mw,
        transport_t_per_mw: parameters.transport_t_per_mw,
        operation_g_per_kwh: parameters.operation_g_per_kwh,
        source: parameters.source.clone(),
        capacity_factor_range: parameters.capacity_factor_range,
        lifetime_years_range: parameters.lifetime_years_range,
        degradation_range: parameters.degradation_range,
    };
    p.check(technology).map_err(invalid)?;
    let file = ParametersFile {
        technology: [(technology.to_string(), p)].into_iter().collect(),
    };
    let export = Export {
        destination: destination.to_string(),
        technology: technology.to_string(),
        mw,
    };
    let margin = margin.unwrap_or(cb_grid::GridFactor::CombinedMarginIntermittent);
    let rows = account(exporter, &[export], &file, margin)
        .map_err(|e| TaskError::new(TaskErrorKind::NotFound, e.0))?;
    let r = &rows[0];
    // The ranges the question gave, drawn through the uncertainty engine (fixed seed: the same
    // question gives the same interval).
    let spread = crate::avoided::interval(
        &rows,
        &file,
        parameters.margin_relative_uncertainty,
        AVOIDED_DRAWS,
        0,
    )
    .map_err(invalid)?;
    let grid_prov = |g: &cb_grid::GridIntensity| {
        Provenance::new(
            cb_grid::source_name(g.source),
            g.year.to_string(),
            cb_grid::basis(g.source, g.factor),
        )
        .param("area", &g.code)
        .cite(cb_grid::citation(g.source))
    };
    let method = format!(
        "lifetime generation {mw} MW × capacity factor {} × 8,760 h × (1 − {})^year over {} years; avoided at the \
         destination's {}; life-cycle = MW × ({} MWh × the exporter's grid + {} t + {} t transport) + generation × {} g/kWh",
        parameters.capacity_factor,
        parameters.degradation_per_year,
        parameters.lifetime_years,
        cb_grid::factor_name(margin),
        parameters.manufacturing_mwh_per_mw,
        parameters.other_embodied_t_per_mw,
        parameters.transport_t_per_mw,
        parameters.operation_g_per_kwh
    );
    let prov = Provenance::new(
        "avoided emissions (IFI harmonised margin; WBCSD avoided-emissions guidance)",
        format!("parameters: {}", parameters.source),
        method,
    )
    .param("margin_g_per_kwh", r.margin.g_per_kwh)
    .param(
        "margin_source",
        format!("{} {}", cb_grid::source_name(r.margin.source), r.margin.year),
    )
    .param("exporter_grid_g_per_kwh", r.exporter_grid.g_per_kwh)
    .param(
        "exporter_grid_source",
        format!(
            "{} {}",
            cb_grid::source_name(r.exporter_grid.source),
            r.exporter_grid.year
        ),
    );
    let mw_s = format!("{mw}");
    let texts = [
        ("place", r.exporter_grid.area.as_str()),
        ("destination", r.margin.area.as_str()),
        ("technology", technology),
        ("mw", mw_s.as_str()),
    ];
    let dims = [
        ("exporter", r.exporter_grid.code.as_str()),
        ("destination", r.margin.code.as_str()),
        ("technology", technology),
    ];
    let mut out = TaskOutput::default();
    // An interval only where the draws move the number (the life-cycle emissions do not move
    // with the margin, say).
    let band = |s: &cb_uncertainty::engine::stats::Summary| {
        (s.p97_5 - s.p2_5 > 1e-9 * s.p50.abs().max(1e-300)).then_some(Uncertainty::Interval {
            low: s.p2_5,
            high: s.p97_5,
            confidence: 0.95,
        })
    };
    let mut avoided_q = Quantity::new(r.avoided_t, "t CO2", prov.clone());
    let mut life_q = Quantity::new(r.life_cycle_t, "t CO2e", prov.clone());
    let mut ratio_band = None;
    if let Some(i) = &spread {
        if let Some(b) = band(&i.avoided_t) {
            avoided_q = avoided_q.with_uncertainty(b);
        }
        if let Some(b) = band(&i.life_cycle_t) {
            life_q = life_q.with_uncertainty(b);
        }
        ratio_band = band(&i.ratio);
        let inputs: Vec<&str> = i.inputs.iter().map(String::as_str).collect();
        out.note(Text::new(
            "note_avoided_interval",
            &[
                ("draws", &i.iterations.to_string()),
                ("inputs", &inputs.join(", ")),
            ],
        ));
    }
    out.quantities.push(quantity(
        "avoided_emissions",
        Text::new("label_avoided_emissions", &texts),
        &dims,
        avoided_q.clone(),
    ));
    out.quantities.push(quantity(
        "life_cycle_emissions",
        Text::new("label_life_cycle_emissions", &texts),
        &dims,
        life_q.clone(),
    ));
    if let Some(ratio) = r.ratio {
        out.quantities.push(quantity(
            "avoided_to_life_cycle",
            Text::new("label_avoided_to_life_cycle", &[]),
            &dims,
            match ratio_band {
                Some(b) => Quantity::new(ratio, "×", prov.clone()).with_uncertainty(b),
                None => Quantity::new(ratio, "×", prov.clone()),
            },
        ));
    }
    // What the question did not give is not counted, and the answer says so.
    let mut not_counted = Vec::new();
    if parameters.transport_t_per_mw == 0.0 {
        not_counted.push("transport");
    }
    if parameters.operation_g_per_kwh == 0.0 {
        not_counted.push("operation and maintenance");
    }
    for part in not_counted {
        out.note(Text::new("note_avoided_not_counted", &[("part", part)]));
    }
    out.quantities.push(quantity(
        "lifetime_generation",
        Text::new("label_lifetime_generation", &texts),
        &dims,
        Quantity::new(r.lifetime_generation_mwh, "MWh", prov),
    ));
    out.quantities.push(quantity(
        "destination_margin",
        Text::new(
            "label_destination_margin",
            &[
                ("destination", r.margin.area.as_str()),
                ("factor", cb_grid::factor_name(margin)),
            ],
        ),
        &dims,
        Quantity::new(r.margin.g_per_kwh, "g CO2/kWh", grid_prov(&r.margin)),
    ));
    out.quantities.push(quantity(
        "exporter_grid",
        Text::new("label_exporter_grid", &[("place", r.exporter_grid.area.as_str())]),
        &dims,
        Quantity::new(
            r.exporter_grid.g_per_kwh,
            "g CO2e/kWh",
            grid_prov(&r.exporter_grid),
        ),
    ));
    out.note(Text::new(
        "note_avoided_parameters",
        &[("source", parameters.source.as_str())],
    ));
    let from = region_node(&r.exporter_grid.code);
    let to = region_node(&r.margin.code);
    out.graph
        .nodes
        .push(GraphNode::new(&from, NodeKind::Region, &r.exporter_grid.area));
    out.graph
        .nodes
        .push(GraphNode::new(&to, NodeKind::Region, &r.margin.area));
    out.graph.edges.push(GraphEdge {
        from: from.clone(),
        to: to.clone(),
        kind: EdgeKind::EmbodiedEmissions,
        quantity: Some(life_q),
    });
    out.graph.edges.push(GraphEdge {
        from,
        to,
        kind: EdgeKind::AvoidedEmissions,
        quantity: Some(avoided_q),
    });
    Ok(out)
}
