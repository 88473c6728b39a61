//! The LCA agent's work: an [`LcaTask`] in, Quantities and a graph fragment out; and its actor.

use std::path::Path;
use std::sync::Arc;

use cb_agent_runtime::bounded::{DatasetCache, FileKey};
use cb_agent_runtime::{Agent, AgentActor, wrong_agent};
use cb_protocol::text::Text;
use cb_protocol::{
    AgentKind, EdgeKind, EeioComparison, FootprintMonteCarlo, GraphEdge, GraphNode, LabeledQuantity, LcaTask,
    NodeKind, Provenance, Quantity, TaskError, TaskErrorKind, TaskOutput, TaskSpec, Uncertainty,
};

use crate::assessment::{AssessmentError, ExchangeRef, Model};
use crate::cbam::{self, CbamError, CostQuery};
use crate::data::{ImportOptions, MultiOutput};
use crate::engine::TreeNode;
use crate::method::ImpactMethod;

/// The bundled USLCI (compiled into the binary) and the import choices documented in
/// data/SOURCES.md.
pub const USLCI: &str = cb_protocol::BUNDLED_DATABASE;
const USLCI_TAR_GZ: &[u8] = include_bytes!("../../../data/lci/uslci_olca1_5_0_json_ld.tar.gz");

fn uslci_options() -> ImportOptions {
    let mut o = ImportOptions {
        multi_output: MultiOutput::AllocateOrReference,
        ..Default::default()
    };
    o.providers.insert(
        "Diesel, at refinery".into(),
        "Petroleum refining, at refinery".into(),
    );
    o.providers.insert(
        "Harvesting, fresh fruit bunch, at farm".into(),
        "Harvesting, fresh fruit bunch, at farm".into(),
    );
    o
}

/// The LCA agent with its cache of factorised databases.
#[derive(Default)]
pub struct LcaAgent {
    /// The bundled USLCI, once factorised.
    uslci: Option<Arc<Model>>,
    /// Databases read from disk, a few at a time.
    models: DatasetCache<Arc<Model>>,
}

/// The LCA agent's actor.
pub type LcaActor = AgentActor<LcaAgent>;

impl From<AssessmentError> for TaskError {
    fn from(e: AssessmentError) -> Self {
        let kind = match e {
            AssessmentError::NotFound { .. } | AssessmentError::Ambiguous { .. } => TaskErrorKind::NotFound,
            _ => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

impl From<CbamError> for TaskError {
    fn from(e: CbamError) -> Self {
        let kind = match e {
            CbamError::NotFound(_) => TaskErrorKind::NotFound,
            CbamError::Invalid(_) => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

impl Agent for LcaAgent {
    const KIND: AgentKind = AgentKind::Lca;

    fn run(&mut self, task: &TaskSpec) -> Result<TaskOutput, TaskError> {
        match task {
            TaskSpec::Lca(t) => self.run_lca(t),
            other => Err(wrong_agent(Self::KIND, other)),
        }
    }
}

fn quantity(measure: &str, label: Text, dims: &[(&str, &str)], q: Quantity) -> LabeledQuantity {
    LabeledQuantity::new(measure, label, dims, q)
}

impl LcaAgent {
    pub fn new() -> Self {
        Self::default()
    }

    /// Imports and factorises a database, or takes it from the cache.
    pub fn model(&mut self, database: &str) -> Result<Arc<Model>, TaskError> {
        let invalid = |e: crate::data::LciError| TaskError::new(TaskErrorKind::InvalidInput, e.to_string());
        if database.eq_ignore_ascii_case(USLCI) {
            if let Some(m) = &self.uslci {
                return Ok(m.clone());
            }
            let db = crate::data::jsonld::load_tar_gz_bytes(
                "USLCI (openLCA JSON-LD 1.5)",
                USLCI_TAR_GZ,
                &uslci_options(),
            )
            .map_err(invalid)?;
            let model = Arc::new(Model::new(db)?);
            self.uslci = Some(model.clone());
            return Ok(model);
        }
        let key = FileKey::of(Path::new(database)).ok();
        if let Some(m) = key.as_ref().and_then(|k| self.models.get(k)) {
            return Ok(m);
        }
        let db = crate::data::load(Path::new(database), &ImportOptions::default()).map_err(invalid)?;
        let model = Arc::new(Model::new(db)?);
        if let Some(key) = key {
            self.models.insert(key, model.clone());
        }
        Ok(model)
    }

    pub fn run_lca(&mut self, task: &LcaTask) -> Result<TaskOutput, TaskError> {
        match task {
            LcaTask::Footprint {
                database,
                product,
                amount,
                unit,
                method,
                monte_carlo,
                eeio_comparison,
            } => {
                let method = ImpactMethod::by_id(method).ok_or_else(|| {
                    TaskError::new(
                        TaskErrorKind::NotFound,
                        format!(
                            "unknown impact method {method:?}; bundled: {}",
                            ImpactMethod::IDS.join(", ")
                        ),
                    )
                })?;
                let model = self.model(database)?;
                let mut out = footprint(&model, database, product, *amount, unit.as_deref(), method)?;
                if let Some(mc) = monte_carlo {
                    footprint_uncertainty(&model, product, *amount, method, mc, &mut out)?;
                }
                if let Some(c) = eeio_comparison {
                    let per_unit = out
                        .quantities
                        .iter()
                        .find(|q| q.measure == "footprint")
                        .map_or(f64::NAN, |q| q.quantity.value / amount);
                    out.findings.push(eeio_finding(per_unit, method, c)?);
                }
                Ok(out)
            }
            LcaTask::CbamCost {
                country,
                cn_code,
                variant,
                tonnes,
                year,
                quarter,
                actual_direct,
                actual_indirect,
                ets_price,
                origin_carbon_price,
            } => cbam_cost(&CostQuery {
                country: country.clone(),
                cn_code: cn_code.clone(),
                variant: variant.clone(),
                tonnes: *tonnes,
                year: *year,
                quarter: *quarter,
                actual_direct: *actual_direct,
                actual_indirect: *actual_indirect,
                ets_price: *ets_price,
                origin_carbon_price: *origin_carbon_price,
                cscf: None,
            }),
        }
    }
}

fn process_node(model: &Model, j: usize) -> GraphNode {
    let a = &model.db.activities[j];
    let mut n = GraphNode::new(format!("process:{}", a.id), NodeKind::Process, &a.name);
    n.attributes.insert("product".into(), a.product_name.clone());
    n.attributes.insert("unit".into(), a.unit.clone());
    n
}

fn tree_graph(model: &Model, node: &TreeNode, prov: &Provenance, unit: &str, out: &mut TaskOutput) {
    out.graph.nodes.push(process_node(model, node.activity));
    for child in &node.children {
        tree_graph(model, child, prov, unit, out);
        out.graph.edges.push(GraphEdge {
            from: format!("process:{}", model.db.activities[child.activity].id),
            to: format!("process:{}", model.db.activities[node.activity].id),
            kind: EdgeKind::Supplies,
            quantity: Some(Quantity::new(child.cumulative_impact, unit, prov.clone())),
        });
    }
}

/// The footprint of `amount` of `product` as Quantities and the supply-chain graph.
pub fn footprint(
    model: &Model,
    database: &str,
    product: &str,
    amount: f64,
    unit: Option<&str>,
    method: &'static ImpactMethod,
) -> Result<TaskOutput, TaskError> {
    let j = model.find(product)?;
    if let Some(u) = unit
        && !u.eq_ignore_ascii_case(&model.db.activities[j].unit)
    {
        return Err(TaskError::new(
            TaskErrorKind::InvalidInput,
            format!(
                "{} is measured in {} in the database, not {u}: ask for an amount in {}",
                model.db.activities[j].product_name, model.db.activities[j].unit, model.db.activities[j].unit
            ),
        ));
    }
    let fp = model.footprint(j, amount, method, 3, 0.01)?;
    let a = &model.db.activities[j];
    let prov = Provenance::new(
        &model.db.name,
        database,
        format!("matrix LCA (A·s = f, g = B·s, h = cᵀ·g), {}", method.name),
    )
    .param("process", &a.name)
    .param("amount", format!("{amount} {}", a.unit))
    .cite(method.source);
    let mut out = TaskOutput::default();
    out.quantities.push(quantity(
        "footprint",
        Text::new(
            "label_footprint",
            &[
                ("amount", &amount.to_string()),
                ("unit", &a.unit),
                ("product", &a.product_name),
                ("process", &a.name),
            ],
        ),
        &[("process", &a.name), ("method", method.id)],
        Quantity::new(fp.score, &fp.unit, prov.clone()),
    ));
    for (k, v) in fp.by_process.iter().take(5) {
        let name = &model.db.activities[*k].name;
        let share = if fp.score != 0.0 {
            v / fp.score * 100.0
        } else {
            0.0
        };
        out.quantities.push(quantity(
            "process_contribution",
            Text::new(
                "label_process_contribution",
                &[("process", name), ("share", &format!("{share:.1}"))],
            ),
            &[("process", name)],
            Quantity::new(*v, &fp.unit, prov.clone()),
        ));
    }
    let mut atmosphere = GraphNode::new("atmosphere", NodeKind::Atmosphere, "Atmosphere");
    atmosphere.attributes.insert("method".into(), method.name.into());
    out.graph.nodes.push(atmosphere);
    tree_graph(model, &fp.tree, &prov, &fp.unit, &mut out);
    out.graph.edges.push(GraphEdge {
        from: format!("process:{}", a.id),
        to: "atmosphere".into(),
        kind: EdgeKind::TerritorialEmissions,
        quantity: Some(Quantity::new(fp.score, &fp.unit, prov)),
    });
    out.note(Text::new(
        "note_unmatched_flows",
        &[
            ("unmatched", &fp.unmatched.len().to_string()),
            ("flows", &(fp.unmatched.len() + fp.by_flow.len()).to_string()),
            ("method", method.name),
        ],
    ));
    if !fp.cut_offs.is_empty() {
        out.note(Text::new(
            "note_cut_offs",
            &[("inputs", &fp.cut_offs.len().to_string())],
        ));
    }
    out.notes.extend(fp.remarks.iter().take(5).cloned());
    out.findings.push(cb_protocol::Finding::new(
        "technosphere balance A·s = f",
        "the supply vector put back into the technosphere matrix against the demand",
        &[("relative_residual", fp.solve_residual)],
        "relative 1e-9",
        fp.solve_residual <= 1e-9,
    ));
    Ok(out)
}

/// A footprint per reference unit against the EEIO multiplier of its product group times the
/// product's price.
pub fn eeio_finding(
    footprint: f64,
    method: &'static ImpactMethod,
    c: &EeioComparison,
) -> Result<cb_protocol::Finding, TaskError> {
    use crate::eeio::{AGREEMENT_FACTOR, ImportFactors, footprint_to_multiplier_ratio};
    let m = ImportFactors::bundled()
        .multiplier(&c.region, &c.sector, method)
        .map_err(|e| TaskError::new(TaskErrorKind::NotFound, e.to_string()))?;
    let ratio = footprint_to_multiplier_ratio(footprint, m.kg_co2e_per_usd, c.price_usd_per_unit);
    Ok(cb_protocol::Finding::new(
        "LCA footprint ≈ EEIO multiplier × price",
        format!(
            "the footprint per unit against the USEEIO import factor of BEA sector {} from {} ({}, {} per USD{}) \
             times the given price of {} USD per unit",
            m.sector,
            m.region,
            m.year,
            method.id,
            if m.unmatched.is_empty() {
                String::new()
            } else {
                format!("; without {}", m.unmatched.join(", "))
            },
            c.price_usd_per_unit
        ),
        &[
            ("footprint_per_unit", footprint),
            ("multiplier_kg_co2e_per_usd", m.kg_co2e_per_usd),
            ("price_usd_per_unit", c.price_usd_per_unit),
            ("ratio", ratio),
        ],
        format!(
            "ratio within a factor of {AGREEMENT_FACTOR} (a sector average at basic prices against one process)"
        ),
        ratio.is_finite() && (1.0 / AGREEMENT_FACTOR..=AGREEMENT_FACTOR).contains(&ratio),
    ))
}

/// How many exchanges a footprint's uncertainty names as its drivers.
const DRIVERS: usize = 5;

/// Gives the footprint (the first quantity of `out`) its 95 % Monte Carlo interval and names the
/// exchanges that drive it (first-order shares of the variance of ln h).
pub fn footprint_uncertainty(
    model: &Model,
    product: &str,
    amount: f64,
    method: &'static ImpactMethod,
    mc: &FootprintMonteCarlo,
    out: &mut TaskOutput,
) -> Result<(), TaskError> {
    let invalid =
        |e: cb_uncertainty::UncertaintyError| TaskError::new(TaskErrorKind::InvalidInput, e.to_string());
    let (gsd, how_text) = match (mc.gsd, mc.pedigree) {
        (Some(g), _) => (g, Text::new("mc_gsd", &[("gsd", &g.to_string())])),
        (None, Some(scores)) => {
            let p = cb_uncertainty::engine::pedigree::pedigree(scores, 0.0).map_err(invalid)?;
            (
                p.gsd,
                Text::new(
                    "mc_gsd_pedigree",
                    &[
                        ("gsd", &format!("{:.4}", p.gsd)),
                        ("scores", &format!("{:?}", p.scores)),
                        ("rule", p.rule),
                    ],
                ),
            )
        }
        (None, None) => {
            return Err(TaskError::new(
                TaskErrorKind::InvalidInput,
                "monte_carlo needs `gsd` or `pedigree`",
            ));
        }
    };
    let j = model.find(product)?;
    let draws = cb_uncertainty::engine::propagate::Draws::exactly(mc.iterations as usize);
    let r = model.monte_carlo(j, amount, method, gsd, draws, mc.seed)?;
    let s = &r.summary;
    if let Some(q) = out.quantities.iter_mut().find(|q| q.measure == "footprint") {
        q.quantity.uncertainty = Uncertainty::Interval {
            low: s.p2_5,
            high: s.p97_5,
            confidence: 0.95,
        };
        q.quantity
            .provenance
            .parameters
            .insert("uncertainty".into(), how_text.english());
    }
    // The outputs on the diagonal do not vary in the Monte Carlo: only inputs and emissions drive it.
    let elasticities: Vec<_> = model
        .elasticities(j, amount, method)?
        .into_iter()
        .filter(
            |e| !matches!(e.exchange, ExchangeRef::Technosphere { product, activity } if product == activity),
        )
        .collect();
    let total: f64 = elasticities.iter().map(|e| e.elasticity * e.elasticity).sum();
    let drivers: Vec<Text> = elasticities
        .iter()
        .take(DRIVERS)
        .map(|e| {
            Text::new(
                "driver_variance_share",
                &[
                    ("input", &model.describe(e.exchange)),
                    (
                        "share",
                        &format!("{:.0}", 100.0 * e.elasticity * e.elasticity / total),
                    ),
                    ("elasticity", &format!("{:+.2}", e.elasticity)),
                ],
            )
        })
        .collect();
    let unit = out
        .quantities
        .first()
        .map(|q| q.quantity.unit.clone())
        .unwrap_or_default();
    let mut values = vec![
        ("draws", r.iterations.to_string()),
        ("seed", r.seed.to_string()),
        ("mean", format!("{:.6e}", s.mean)),
        ("sd", format!("{:.3e}", s.sd)),
        ("low", format!("{:.6e}", s.p2_5)),
        ("high", format!("{:.6e}", s.p97_5)),
        ("unit", unit),
    ];
    if !mc.rule.is_empty() {
        values.push(("rule", mc.rule.clone()));
    }
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let key = if mc.rule.is_empty() {
        "note_lca_mc"
    } else {
        "note_lca_mc_rule"
    };
    out.note(
        Text::new(key, &values)
            .list("how", vec![how_text])
            .list("drivers", drivers),
    );
    Ok(())
}

/// CBAM embedded emissions, certificates and cost as Quantities.
pub fn cbam_cost(q: &CostQuery) -> Result<TaskOutput, TaskError> {
    let c = cbam::cost(cbam::data::CbamTables::bundled(), q)?;
    let prov = |basis: &str| {
        Provenance::new(
            "EU CBAM default values and benchmarks",
            "IR 2025/2621 (v20260204), IR 2025/2620",
            format!("CBAM certificates on {basis}"),
        )
        .param("country", &c.country)
        .param("cn_code", &c.cn_code)
        .param("tonnes", c.tonnes)
        .param("year", c.year)
        .cite(cbam::data::DEFAULTS_SOURCE)
    };
    let mut out = TaskOutput::default();
    let dims = [("country", c.country.as_str()), ("cn_code", c.cn_code.as_str())];
    for case in std::iter::once(&c.default_case).chain(c.actual_case.as_ref()) {
        let p = prov(case.basis);
        // The basis is said in the reader's language with the label around it.
        let label = |key: &str| {
            let basis = if std::ptr::eq(case, &c.default_case) {
                "basis_default"
            } else {
                "basis_actual"
            };
            Text::new(key, &[]).list("basis", vec![Text::new(basis, &[])])
        };
        out.quantities.push(quantity(
            "embedded_emissions",
            label("label_embedded_emissions"),
            &dims,
            Quantity::new(case.embedded_emissions_t, "t CO2e", p.clone()),
        ));
        out.quantities.push(quantity(
            "certificates",
            label("label_certificates"),
            &dims,
            Quantity::new(case.certificates, "certificates (t CO2e)", p.clone()),
        ));
        out.quantities.push(quantity(
            "certificates_to_surrender",
            label("label_certificates_whole"),
            &dims,
            Quantity::new(case.certificates_whole as f64, "certificates", p.clone()),
        ));
        if let Some(eur) = case.cost_eur {
            out.quantities.push(quantity(
                "cbam_cost",
                label("label_cbam_cost"),
                &dims,
                Quantity::new(eur, "EUR", p),
            ));
        }
    }
    // The default value per tonne, with the year's mark-up and its parts without it: what a
    // modelled route or a verified value is set against.
    let year = c.year.to_string();
    for (measure, label, v) in [
        (
            "default_value",
            Text::new("label_default_value", &[("year", &year)]),
            c.default_value_t_per_t,
        ),
        (
            "default_value_direct",
            Text::new("label_default_value_direct", &[]),
            c.default_direct_t_per_t,
        ),
        (
            "default_value_indirect",
            Text::new("label_default_value_indirect", &[]),
            c.default_indirect_t_per_t,
        ),
    ] {
        out.quantities.push(quantity(
            measure,
            label,
            &dims,
            Quantity::new(v, "t CO2e/t", prov("default values").param("route", &c.route)),
        ));
    }
    if let Some(s) = c.saving_eur {
        out.quantities.push(quantity(
            "cbam_saving",
            Text::new("label_cbam_saving", &[]),
            &dims,
            Quantity::new(s, "EUR", prov("actual emissions against default values")),
        ));
    }
    out.note(Text::new(
        "note_cbam_case",
        &[
            ("tonnes", &c.tonnes.to_string()),
            ("good", &c.description),
            ("cn_code", &c.cn_code),
            ("country", &c.country),
            ("year", &year),
            ("default", &c.default_value_t_per_t.to_string()),
            ("mark_up", &format!("{:.0}", c.mark_up * 100.0)),
            ("benchmark", &c.benchmark_t_per_t.to_string()),
            ("route", &c.route),
            ("factor", &c.cbam_factor.to_string()),
        ],
    ));
    for n in c.notes.iter().skip(1) {
        out.note(n.clone());
    }
    out.note(Text::new("note_cbam_no_interval", &[]));
    if let Some(actual) = &c.actual_case {
        let (a, d) = (
            actual.specific_embedded_emissions_t_per_t,
            c.default_value_t_per_t,
        );
        let ratio = if d > 0.0 { a / d } else { f64::NAN };
        out.findings.push(cb_protocol::Finding::new(
            "CBAM actual against default value",
            "declared actual specific embedded emissions against the Commission's default value for the country and CN code",
            &[("actual_t_per_t", a), ("default_t_per_t", d), ("ratio", ratio)],
            "plausibility screen: actual between 10 % and 150 % of the default",
            (0.1..=1.5).contains(&ratio),
        ));
    }
    Ok(out)
}
