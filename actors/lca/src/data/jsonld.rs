//! openLCA JSON-LD: a folder, `.zip` or `.tar.gz` holding one JSON file per entity in
//! `processes/`, `flows/`, `flow_properties/`, `unit_groups/` and `categories/` (any enclosing
//! folder is allowed). Field names of schema 1.x (`input`, `quantitativeReference`) and 2.x
//! (`isInput`, `isQuantitativeReference`) are both read.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use cb_agent_runtime::bounded::Inflated;
use cb_protocol::limits::{MAX_FOLDER_ENTRIES, MAX_INFLATED_BYTES};
use serde::Deserialize;
use serde_json::Value;

use super::database::{
    Activity, CutOff, Database, ElementaryFlow, ImportOptions, LciError, MultiOutput, Remark,
    ambiguous_providers_error, files_below, multi_output_error,
};

#[derive(Debug, Deserialize, Clone)]
struct Ref {
    #[serde(rename = "@id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessJ {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    #[serde(default)]
    category: Option<Value>,
    #[serde(default)]
    location: Option<Ref>,
    #[serde(default)]
    exchanges: Vec<ExchangeJ>,
    #[serde(default)]
    allocation_factors: Vec<AllocationJ>,
    /// `PHYSICAL_ALLOCATION`, `ECONOMIC_ALLOCATION`, `CAUSAL_ALLOCATION` or `NO_ALLOCATION`.
    #[serde(default)]
    default_allocation_method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeJ {
    #[serde(default, alias = "isInput")]
    input: bool,
    #[serde(default)]
    amount: f64,
    flow: Ref,
    #[serde(default)]
    unit: Option<Ref>,
    #[serde(default)]
    flow_property: Option<Ref>,
    #[serde(default, alias = "isQuantitativeReference")]
    quantitative_reference: bool,
    #[serde(default)]
    default_provider: Option<Ref>,
    #[serde(default, alias = "isAvoidedProduct")]
    avoided_product: bool,
    #[serde(default)]
    internal_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllocationJ {
    #[serde(default)]
    allocation_type: Option<String>,
    #[serde(default)]
    product: Option<Ref>,
    #[serde(default)]
    value: f64,
    /// The exchange a causal factor applies to.
    #[serde(default)]
    exchange: Option<ExchangeRefJ>,
}

/// The share of a multi-output process's exchanges that its reference product carries: one
/// factor for all (physical or economic allocation), or causal factors exchange by exchange.
struct Share {
    default: f64,
    per_exchange: HashMap<i64, f64>,
}

impl Share {
    fn whole() -> Share {
        Share {
            default: 1.0,
            per_exchange: HashMap::new(),
        }
    }

    fn of(&self, ex: &ExchangeJ) -> f64 {
        ex.internal_id
            .and_then(|id| self.per_exchange.get(&id).copied())
            .unwrap_or(self.default)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeRefJ {
    #[serde(default)]
    internal_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlowJ {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    #[serde(default)]
    flow_type: Option<String>,
    #[serde(default)]
    category: Option<Value>,
    #[serde(default)]
    cas: Option<String>,
    #[serde(default)]
    flow_properties: Vec<FlowPropertyFactorJ>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlowPropertyFactorJ {
    flow_property: Ref,
    #[serde(default = "one")]
    conversion_factor: f64,
    #[serde(default, alias = "isRefFlowProperty")]
    reference_flow_property: bool,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnitGroupJ {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    #[serde(default)]
    units: Vec<UnitJ>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnitJ {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    name: String,
    #[serde(default = "one")]
    conversion_factor: f64,
    #[serde(default, alias = "isRefUnit")]
    reference_unit: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlowPropertyJ {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    unit_group: Ref,
}

#[derive(Debug, Deserialize)]
struct CategoryJ {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    #[serde(default)]
    category: Option<Ref>,
}

/// The JSON files of a JSON-LD package, by entity folder.
#[derive(Default)]
struct Package {
    files: HashMap<&'static str, Vec<(String, Vec<u8>)>>,
    /// Bytes taken out of an archive so far: all entries together stay within one budget.
    inflated: u64,
    /// Archive entries seen so far.
    entries: usize,
}

const FOLDERS: [&str; 5] = [
    "processes",
    "flows",
    "flow_properties",
    "unit_groups",
    "categories",
];

impl Package {
    fn add(&mut self, path: &str, read: impl FnOnce() -> std::io::Result<Vec<u8>>) -> std::io::Result<()> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 || !parts[parts.len() - 1].ends_with(".json") {
            return Ok(());
        }
        if let Some(folder) = FOLDERS.iter().find(|f| **f == parts[parts.len() - 2]) {
            let bytes = read()?;
            self.files
                .entry(folder)
                .or_default()
                .push((path.to_string(), bytes));
        }
        Ok(())
    }

    /// Adds an archive entry, reading it only when it is a file the package needs.
    fn add_entry(&mut self, path: &str, entry: &mut impl Read) -> std::io::Result<()> {
        self.entries += 1;
        if self.entries > MAX_FOLDER_ENTRIES {
            return Err(std::io::Error::other(format!(
                "the archive holds more than {MAX_FOLDER_ENTRIES} entries"
            )));
        }
        let budget = MAX_INFLATED_BYTES.saturating_sub(self.inflated);
        let mut taken = 0;
        let added = self.add(path, || {
            let mut v = Vec::new();
            let mut limited = Inflated::with_budget(entry, budget);
            let read = limited.read_to_end(&mut v);
            taken = limited.inflated();
            read.map(|_| v)
        });
        self.inflated += taken;
        added
    }

    fn read(path: &Path) -> Result<Package, LciError> {
        let io = |e: std::io::Error| LciError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut pkg = Package::default();
        if path.is_dir() {
            for p in files_below(path).map_err(io)? {
                let rel = p
                    .strip_prefix(path)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                pkg.add(&rel, || std::fs::read(&p)).map_err(io)?;
            }
            return Ok(pkg);
        }
        let name = path.to_string_lossy().to_lowercase();
        let file = std::fs::File::open(path).map_err(io)?;
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            return Package::read_tar_gz(file, &path.display().to_string());
        }
        {
            let mut archive =
                zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| LciError::Format {
                    path: path.display().to_string(),
                    reason: format!("not a folder, a .zip or a .tar.gz of openLCA JSON-LD ({e})"),
                })?;
            for i in 0..archive.len() {
                let mut entry = archive.by_index(i).map_err(|e| LciError::Format {
                    path: path.display().to_string(),
                    reason: format!("unreadable zip entry {i}: {e}"),
                })?;
                let p = entry.name().map(|n| n.to_string()).unwrap_or_default();
                pkg.add_entry(&p, &mut entry).map_err(io)?;
            }
        }
        Ok(pkg)
    }

    fn read_tar_gz(reader: impl Read, name: &str) -> Result<Package, LciError> {
        let io = |e: std::io::Error| LciError::Io {
            path: name.to_string(),
            reason: e.to_string(),
        };
        let mut pkg = Package::default();
        let mut archive = tar::Archive::new(Inflated::new(flate2::read::GzDecoder::new(reader)));
        let entries = archive.entries().map_err(|e| LciError::Format {
            path: name.to_string(),
            reason: format!("not a readable .tar.gz ({e})"),
        })?;
        for entry in entries {
            let mut entry = entry.map_err(|e| LciError::Format {
                path: name.to_string(),
                reason: format!("not a readable .tar.gz ({e})"),
            })?;
            let p = entry.path().map_err(io)?.to_string_lossy().to_string();
            pkg.add_entry(&p, &mut entry).map_err(io)?;
        }
        Ok(pkg)
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self, folder: &'static str) -> Result<Vec<T>, LciError> {
        self.files
            .get(folder)
            .map(|files| {
                files
                    .iter()
                    .map(|(p, bytes)| {
                        serde_json::from_slice(bytes).map_err(|e| LciError::Format {
                            path: p.clone(),
                            reason: format!("not an openLCA {folder} entity: {e}"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }
}

fn remark(activity: usize, text: String) -> Remark {
    Remark {
        activity: Some(activity),
        text,
    }
}

/// Reads an openLCA JSON-LD package (a `.tar.gz` held in memory) into a [`Database`].
pub fn load_tar_gz_bytes(name: &str, bytes: &[u8], options: &ImportOptions) -> Result<Database, LciError> {
    let pkg = Package::read_tar_gz(bytes, name)?;
    from_package(pkg, name.to_string(), name, options)
}

/// Reads an openLCA JSON-LD package into a [`Database`].
pub fn load(path: &Path, options: &ImportOptions) -> Result<Database, LciError> {
    let pkg = Package::read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string());
    from_package(pkg, name, &path.display().to_string(), options)
}

fn from_package(
    pkg: Package,
    name: String,
    path: &str,
    options: &ImportOptions,
) -> Result<Database, LciError> {
    for required in ["processes", "flows", "flow_properties", "unit_groups"] {
        if !pkg.files.contains_key(required) {
            return Err(LciError::Format {
                path: path.to_string(),
                reason: format!(
                    "not openLCA JSON-LD: no {required}/ folder with .json files (expected processes/, flows/, \
                     flow_properties/, unit_groups/)"
                ),
            });
        }
    }
    let processes: Vec<ProcessJ> = pkg.parse("processes")?;
    let flows: Vec<FlowJ> = pkg.parse("flows")?;
    let properties: Vec<FlowPropertyJ> = pkg.parse("flow_properties")?;
    let groups: Vec<UnitGroupJ> = pkg.parse("unit_groups")?;
    let categories: Vec<CategoryJ> = pkg.parse("categories")?;
    build(name, processes, flows, properties, groups, categories, options)
}

struct Units {
    /// unit id or name within a group → (factor to the group's reference unit)
    groups: HashMap<String, (String, HashMap<String, f64>, String)>,
    /// flow property id → unit group id
    property_group: HashMap<String, String>,
    property_name: HashMap<String, String>,
}

impl Units {
    fn reference_unit(&self, property: &str) -> Option<String> {
        let group = self.property_group.get(property)?;
        self.groups.get(group).map(|(_, _, r)| r.clone())
    }

    /// Factor converting an amount in `unit` of `property` into the property's reference unit.
    fn unit_factor(&self, property: &str, unit: &Ref) -> Option<f64> {
        let group = self.property_group.get(property)?;
        let (_, units, _) = self.groups.get(group)?;
        units
            .get(&unit.id)
            .or_else(|| unit.name.as_ref().and_then(|n| units.get(n)))
            .copied()
    }
}

fn category_path(value: &Option<Value>, categories: &HashMap<String, CategoryJ>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s
            .split('/')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        Some(Value::Object(o)) => {
            let mut path = Vec::new();
            let mut id = o.get("@id").and_then(Value::as_str).map(str::to_string);
            let mut guard = 0;
            while let Some(cid) = id {
                guard += 1;
                match categories.get(&cid) {
                    Some(c) if guard < 64 => {
                        path.push(c.name.clone());
                        id = c.category.as_ref().map(|r| r.id.clone());
                    }
                    _ => {
                        if path.is_empty()
                            && let Some(n) = o.get("name").and_then(Value::as_str)
                        {
                            path.push(n.to_string());
                        }
                        break;
                    }
                }
            }
            path.reverse();
            path
        }
        _ => Vec::new(),
    }
}

fn build(
    name: String,
    processes: Vec<ProcessJ>,
    flows: Vec<FlowJ>,
    properties: Vec<FlowPropertyJ>,
    groups: Vec<UnitGroupJ>,
    categories: Vec<CategoryJ>,
    options: &ImportOptions,
) -> Result<Database, LciError> {
    let categories: HashMap<String, CategoryJ> = categories.into_iter().map(|c| (c.id.clone(), c)).collect();
    let mut units = Units {
        groups: HashMap::new(),
        property_group: HashMap::new(),
        property_name: HashMap::new(),
    };
    for g in groups {
        let reference = g
            .units
            .iter()
            .find(|u| u.reference_unit)
            .or_else(|| g.units.iter().find(|u| u.conversion_factor == 1.0))
            .map(|u| u.name.clone())
            .ok_or_else(|| LciError::Model(format!("unit group {:?} has no reference unit", g.name)))?;
        let mut by = HashMap::new();
        for u in &g.units {
            if let Some(id) = &u.id {
                by.insert(id.clone(), u.conversion_factor);
            }
            by.insert(u.name.clone(), u.conversion_factor);
        }
        units.groups.insert(g.id.clone(), (g.name, by, reference));
    }
    for p in properties {
        units.property_group.insert(p.id.clone(), p.unit_group.id.clone());
        units.property_name.insert(p.id, p.name);
    }
    let flows: HashMap<String, FlowJ> = flows.into_iter().map(|f| (f.id.clone(), f)).collect();
    let is_elementary = |f: &FlowJ| f.flow_type.as_deref() == Some("ELEMENTARY_FLOW");
    let is_waste = |f: &FlowJ| f.flow_type.as_deref() == Some("WASTE_FLOW");

    // The reference unit of a flow, and the amount of an exchange in it.
    let flow_reference = |f: &FlowJ| -> Option<(String, String)> {
        let fp = f
            .flow_properties
            .iter()
            .find(|p| p.reference_flow_property)
            .or(f.flow_properties.first())?;
        Some((
            fp.flow_property.id.clone(),
            units.reference_unit(&fp.flow_property.id)?,
        ))
    };
    let convert =
        |process: &ProcessJ, ex: &ExchangeJ, flow: &FlowJ| -> Result<f64, LciError> {
            let property = ex
                .flow_property
                .as_ref()
                .map(|p| p.id.clone())
                .or_else(|| flow_reference(flow).map(|(p, _)| p))
                .ok_or_else(|| LciError::Model(format!("flow {:?} has no flow property", flow.name)))?;
            let fpf = flow.flow_properties.iter().find(|p| p.flow_property.id == property).ok_or_else(|| {
            LciError::Model(format!(
                "process {:?}: flow {:?} has no flow property {:?}, so its amount cannot be converted",
                process.name,
                flow.name,
                units.property_name.get(&property).cloned().unwrap_or(property.clone())
            ))
        })?;
            let unit_factor = match &ex.unit {
            Some(u) => units.unit_factor(&property, u).ok_or_else(|| {
                LciError::Model(format!(
                    "process {:?}: unit {:?} of flow {:?} is not a unit of {:?}: the units do not convert",
                    process.name,
                    u.name.clone().unwrap_or(u.id.clone()),
                    flow.name,
                    units.property_name.get(&property).cloned().unwrap_or(property.clone())
                ))
            })?,
            None => 1.0,
        };
            if fpf.conversion_factor == 0.0 {
                return Err(LciError::Model(format!(
                    "flow {:?} has a zero conversion factor for a flow property",
                    flow.name
                )));
            }
            Ok(ex.amount * unit_factor / fpf.conversion_factor)
        };

    // 1. Activities: one per process, by its quantitative reference.
    let mut db = Database {
        name,
        ..Database::default()
    };
    let mut problems: Vec<String> = Vec::new();
    let mut multi: Vec<String> = Vec::new();
    let mut allocation: Vec<Share> = Vec::new();
    let mut producers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for p in &processes {
        let reference: Vec<&ExchangeJ> = p.exchanges.iter().filter(|e| e.quantitative_reference).collect();
        let Some(refx) = reference.first() else {
            problems.push(format!(
                "process {:?} has no quantitative reference (reference flow)",
                p.name
            ));
            continue;
        };
        let flow = flows.get(&refx.flow.id).ok_or_else(|| {
            LciError::Model(format!(
                "process {:?}: reference flow {} is not in flows/",
                p.name, refx.flow.id
            ))
        })?;
        let output = convert(p, refx, flow)?;
        let unit = flow_reference(flow).map(|(_, u)| u).unwrap_or_default();
        // Other product outputs (co-products).
        let co_products: Vec<&ExchangeJ> = p
            .exchanges
            .iter()
            .filter(|e| !e.quantitative_reference && !e.input && !e.avoided_product)
            .filter(|e| {
                flows
                    .get(&e.flow.id)
                    .is_some_and(|f| !is_elementary(f) && !is_waste(f))
            })
            .collect();
        let mut share = Share::whole();
        if !co_products.is_empty() {
            match options.multi_output {
                MultiOutput::Error => multi.push(p.name.clone()),
                MultiOutput::AllocateOrReference => {
                    // The process's own default method (openLCA's `defaultAllocationMethod`);
                    // physical where it names none.
                    let method = p
                        .default_allocation_method
                        .as_deref()
                        .unwrap_or("PHYSICAL_ALLOCATION");
                    let of_ref = |a: &&AllocationJ| {
                        a.allocation_type.as_deref() == Some(method)
                            && a.product.as_ref().is_some_and(|r| r.id == refx.flow.id)
                    };
                    let factors: Vec<&AllocationJ> = p.allocation_factors.iter().filter(of_ref).collect();
                    let per_exchange: HashMap<i64, f64> = factors
                        .iter()
                        .filter_map(|a| Some((a.exchange.as_ref()?.internal_id?, a.value)))
                        .collect();
                    let whole = factors.iter().find(|a| a.exchange.is_none()).map(|a| a.value);
                    if method == "CAUSAL_ALLOCATION" && !per_exchange.is_empty() {
                        share = Share {
                            default: whole.unwrap_or(1.0),
                            per_exchange,
                        };
                        db.remarks.push(remark(db.activities.len(), format!(
                            "{:?}: {} co-product(s); causal allocation factors (the process's default method) applied exchange by exchange",
                            p.name,
                            co_products.len()
                        )));
                    } else if let Some(v) = whole.or_else(|| factors.first().map(|a| a.value)) {
                        share = Share {
                            default: v,
                            per_exchange: HashMap::new(),
                        };
                        db.remarks.push(remark(db.activities.len(), format!(
                            "{:?}: {} co-product(s); {} factor {} (the process's default method) applied to the reference product",
                            p.name,
                            co_products.len(),
                            method.to_lowercase().replace('_', " "),
                            v
                        )));
                    } else {
                        db.remarks.push(remark(db.activities.len(), format!(
                            "{:?}: {} co-product(s) and no {} factor: all burdens on the reference product",
                            p.name,
                            co_products.len(),
                            method.to_lowercase().replace('_', " ")
                        )));
                    }
                }
            }
        }
        let index = db.activities.len();
        producers.entry(refx.flow.id.clone()).or_default().push(index);
        db.activities.push(Activity {
            id: p.id.clone(),
            name: p.name.trim().to_string(),
            location: p.location.as_ref().and_then(|l| l.name.clone()),
            category: category_path(&p.category, &categories),
            product_id: refx.flow.id.clone(),
            product_name: flow.name.trim().to_string(),
            unit,
            // A treated waste is an input of its treatment process, the treatment service its
            // output: both with the amount as written, so a negative reference keeps its sign.
            output,
        });
        allocation.push(share);
    }
    if !problems.is_empty() {
        return Err(LciError::Model(problems.join("; ")));
    }
    if !multi.is_empty() {
        return Err(multi_output_error("process(es)", &multi));
    }
    let by_id: HashMap<&str, usize> = db
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let chosen = |flow: &FlowJ| -> Option<usize> {
        let choice = options
            .providers
            .get(&flow.id)
            .or_else(|| options.providers.get(flow.name.trim()))?;
        db.activities
            .iter()
            .position(|a| a.id == *choice || a.name == *choice)
    };

    // 2. Exchanges.
    let mut ambiguous: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut elementary: HashMap<String, usize> = HashMap::new();
    let mut active = 0usize;
    for p in &processes {
        if !p.exchanges.iter().any(|e| e.quantitative_reference) {
            continue;
        }
        let j = active;
        active += 1;
        let share = &allocation[j];
        db.technosphere.push((j, j, db.activities[j].output));
        for ex in p.exchanges.iter().filter(|e| !e.quantitative_reference) {
            let flow = flows.get(&ex.flow.id).ok_or_else(|| {
                LciError::Model(format!(
                    "process {:?}: flow {} is not in flows/",
                    p.name, ex.flow.id
                ))
            })?;
            if is_elementary(flow) {
                let amount = convert(p, ex, flow)? * share.of(ex);
                let row = *elementary.entry(flow.id.clone()).or_insert_with(|| {
                    db.elementary_flows.push(ElementaryFlow {
                        id: flow.id.clone(),
                        name: flow.name.clone(),
                        category: category_path(&flow.category, &categories),
                        cas: flow.cas.clone().filter(|c| !c.trim().is_empty()),
                        unit: flow_reference(flow).map(|(_, u)| u).unwrap_or_default(),
                    });
                    db.elementary_flows.len() - 1
                });
                db.biosphere.push((row, j, amount));
                continue;
            }
            // A product input, or a waste output sent to treatment: consumes a provider's output.
            // An avoided product (an input flagged `avoidedProduct`) or avoided waste (an output
            // so flagged) is the same link with the opposite sign: a credit.
            let consumes = (ex.input && !is_waste(flow)) || (!ex.input && is_waste(flow));
            if !consumes {
                continue; // co-products (handled above) and non-reference waste inputs
            }
            let sign = if ex.avoided_product { -1.0 } else { 1.0 };
            // Amounts keep the sign they are written with: a negative input is a negative use.
            let amount = sign * convert(p, ex, flow)? * share.of(ex);
            let provider = ex
                .default_provider
                .as_ref()
                .and_then(|r| by_id.get(r.id.as_str()).copied())
                .or_else(|| chosen(flow))
                .or_else(|| match producers.get(&flow.id).map(Vec::as_slice) {
                    Some([only]) => Some(*only),
                    Some(many) => {
                        ambiguous.insert(
                            flow.name.trim().to_string(),
                            many.iter().map(|&i| db.activities[i].name.clone()).collect(),
                        );
                        None
                    }
                    None => None,
                });
            match provider {
                Some(i) => db.technosphere.push((i, j, -amount)),
                None if producers.contains_key(&flow.id) => {}
                None => db.cut_offs.push(CutOff {
                    activity: j,
                    flow: flow.name.trim().to_string(),
                    amount,
                    unit: flow_reference(flow).map(|(_, u)| u).unwrap_or_default(),
                }),
            }
        }
    }
    if !ambiguous.is_empty() {
        return Err(ambiguous_providers_error(&ambiguous));
    }
    for choice in options.providers.values() {
        if let Some(i) = db
            .activities
            .iter()
            .position(|a| a.id == *choice || a.name == *choice)
        {
            db.chosen_providers.push(i);
        }
    }
    for (product, choice) in &options.providers {
        db.remarks.push(Remark {
            activity: None,
            text: format!("provider of {product:?} chosen by the user: {choice:?}"),
        });
    }
    Ok(db)
}
