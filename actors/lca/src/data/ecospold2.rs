//! EcoSpold2: a `.zip` (or folder) of `.spold` activity datasets.
//!
//! * `intermediateExchange` with `outputGroup` 0 is the reference product, 2 a by-product;
//!   `inputGroup` 5 an input from the technosphere, linked by `activityLinkId` or, without one,
//!   to the activity whose reference product has the same `intermediateExchangeId`.
//! * `elementaryExchange` with `outputGroup` 4 goes to the environment (compartment and
//!   sub-compartment given), `inputGroup` 4 comes from it (a resource).
//!
//! Exports without master data name units only (`kg`, `kWh`, `metric ton*km`); they are converted
//! through [`unit_factor`]. A dataset with an empty `flowData` is skipped and reported.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use cb_agent_runtime::bounded::Inflated;
use cb_protocol::limits::{MAX_FOLDER_ENTRIES, MAX_INFLATED_BYTES};

use super::database::{
    Activity, CutOff, Database, ElementaryFlow, ImportOptions, LciError, MultiOutput, Remark,
    ambiguous_providers_error, files_below, multi_output_error,
};

/// Units by name → (dimension, factor to the dimension's reference unit).
pub fn unit_factor(unit: &str) -> Option<(&'static str, f64)> {
    let u = unit.trim().to_lowercase();
    Some(match u.as_str() {
        "kg" => ("mass", 1.0),
        "g" => ("mass", 1e-3),
        "mg" => ("mass", 1e-6),
        "t" | "metric ton" | "tonne" => ("mass", 1000.0),
        "lb" => ("mass", 0.453_592_37),
        "mj" => ("energy", 1.0),
        "kj" => ("energy", 1e-3),
        "gj" => ("energy", 1e3),
        "kwh" => ("energy", 3.6),
        "mwh" => ("energy", 3600.0),
        "m3" => ("volume", 1.0),
        "l" | "litre" | "liter" => ("volume", 1e-3),
        "t*km" | "tkm" | "metric ton*km" => ("transport", 1.0),
        "kg*km" | "kgkm" => ("transport", 1e-3),
        "m2" => ("area", 1.0),
        "m2*a" => ("area-time", 1.0),
        "km" => ("length", 1.0),
        "m" => ("length", 1e-3),
        "p" | "item" | "items" | "unit" | "piece" => ("items", 1.0),
        _ => return None,
    })
}

fn reference_unit(dimension: &str) -> &'static str {
    match dimension {
        "mass" => "kg",
        "energy" => "MJ",
        "volume" => "m3",
        "transport" => "t*km",
        "area" => "m2",
        "area-time" => "m2*a",
        "length" => "km",
        _ => "item",
    }
}

struct Exchange {
    elementary: bool,
    id: String,
    name: String,
    amount: f64,
    unit: String,
    input: bool,
    group: u8,
    link: Option<String>,
    category: Vec<String>,
    cas: Option<String>,
}

struct Dataset {
    file: String,
    id: String,
    name: String,
    location: Option<String>,
    exchanges: Vec<Exchange>,
}

fn parse_dataset(file: &str, text: &str) -> Result<Option<Dataset>, LciError> {
    let bad = |reason: String| LciError::Format {
        path: file.to_string(),
        reason,
    };
    let doc = roxmltree::Document::parse(text).map_err(|e| bad(format!("not XML: {e}")))?;
    let find = |name: &str| doc.descendants().find(|n| n.has_tag_name(name));
    let activity = find("activity").ok_or_else(|| bad("not an EcoSpold2 dataset: no <activity>".into()))?;
    let name = activity
        .children()
        .find(|c| c.has_tag_name("activityName"))
        .and_then(|c| c.text())
        .unwrap_or_default()
        .trim()
        .to_string();
    let id = activity.attribute("id").unwrap_or_default().to_string();
    let location = find("geography")
        .and_then(|g| g.children().find(|c| c.has_tag_name("shortname")))
        .and_then(|c| c.text())
        .map(str::to_string);
    let Some(flow_data) = find("flowData") else {
        return Err(bad("not an EcoSpold2 dataset: no <flowData>".into()));
    };
    let mut exchanges = Vec::new();
    for ex in flow_data.children().filter(|c| c.is_element()) {
        let elementary = ex.has_tag_name("elementaryExchange");
        if !elementary && !ex.has_tag_name("intermediateExchange") {
            continue;
        }
        let child = |tag: &str| {
            ex.children()
                .find(|c| c.has_tag_name(tag))
                .and_then(|c| c.text())
                .map(str::trim)
        };
        let amount: f64 = ex
            .attribute("amount")
            .ok_or_else(|| bad(format!("an exchange of {name:?} has no amount")))?
            .trim()
            .parse()
            .map_err(|_| {
                bad(format!(
                    "an exchange of {name:?} has an amount that is not a number"
                ))
            })?;
        let (input, group) = match (child("inputGroup"), child("outputGroup")) {
            (Some(g), _) => (true, g.parse().unwrap_or(0)),
            (None, Some(g)) => (false, g.parse().unwrap_or(0)),
            (None, None) => {
                return Err(bad(format!(
                    "an exchange of {name:?} has neither inputGroup nor outputGroup"
                )));
            }
        };
        let id_attr = if elementary {
            "elementaryExchangeId"
        } else {
            "intermediateExchangeId"
        };
        let mut category = Vec::new();
        if let Some(c) = ex.children().find(|c| c.has_tag_name("compartment")) {
            for tag in ["compartment", "subcompartment"] {
                if let Some(t) = c.children().find(|n| n.has_tag_name(tag)).and_then(|n| n.text()) {
                    category.push(t.trim().to_string());
                }
            }
        }
        if elementary && input && category.first().map(String::as_str) != Some("natural resource") {
            category.insert(0, "resource".into());
        }
        exchanges.push(Exchange {
            elementary,
            id: ex.attribute(id_attr).unwrap_or_default().to_string(),
            name: child("name").unwrap_or_default().to_string(),
            amount,
            unit: child("unitName").unwrap_or_default().to_string(),
            input,
            group,
            link: ex.attribute("activityLinkId").map(str::to_string),
            category,
            cas: ex.attribute("casNumber").map(str::to_string),
        });
    }
    if exchanges.is_empty() {
        return Ok(None);
    }
    Ok(Some(Dataset {
        file: file.to_string(),
        id,
        name,
        location,
        exchanges,
    }))
}

/// Reads the `.spold` files of a zip or a folder.
fn read_files(path: &Path) -> Result<Vec<(String, String)>, LciError> {
    let io = |e: std::io::Error| LciError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut out = Vec::new();
    if path.is_dir() {
        for p in files_below(path).map_err(io)? {
            if p.extension().is_some_and(|x| x == "spold") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).map_err(io)?));
            }
        }
    } else {
        let file = std::fs::File::open(path).map_err(io)?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| LciError::Format {
            path: path.display().to_string(),
            reason: format!("not a folder or a .zip of EcoSpold2 files ({e})"),
        })?;
        if zip.len() > MAX_FOLDER_ENTRIES {
            return Err(LciError::Format {
                path: path.display().to_string(),
                reason: format!("holds {} entries, more than {MAX_FOLDER_ENTRIES}", zip.len()),
            });
        }
        let mut budget = MAX_INFLATED_BYTES;
        for i in 0..zip.len() {
            let entry = zip.by_index(i).map_err(|e| LciError::Format {
                path: path.display().to_string(),
                reason: format!("unreadable zip entry {i}: {e}"),
            })?;
            let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
            if name.ends_with(".spold") {
                let mut text = String::new();
                let mut entry = Inflated::with_budget(entry, budget);
                entry.read_to_string(&mut text).map_err(io)?;
                budget -= entry.inflated();
                out.push((name, text));
            }
        }
    }
    if out.is_empty() {
        return Err(LciError::Format {
            path: path.display().to_string(),
            reason: "no .spold files: not an EcoSpold2 database".into(),
        });
    }
    out.sort();
    Ok(out)
}

/// Reads an EcoSpold2 database into a [`Database`].
pub fn load(path: &Path, options: &ImportOptions) -> Result<Database, LciError> {
    let files = read_files(path)?;
    let mut db = Database {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        ..Database::default()
    };
    let mut datasets = Vec::new();
    let mut empty = 0usize;
    for (file, text) in &files {
        match parse_dataset(file, text)? {
            Some(d) => datasets.push(d),
            None => empty += 1,
        }
    }
    if empty > 0 {
        db.remarks.push(Remark {
            activity: None,
            text: format!("{empty} dataset(s) have no exchanges (empty flowData) and were skipped"),
        });
    }
    let convert = |d: &Dataset, e: &Exchange, to: Option<&str>| -> Result<(f64, String), LciError> {
        let (dim, f) = unit_factor(&e.unit).ok_or_else(|| {
            LciError::Model(format!("{:?}: unknown unit {:?} of {:?}", d.name, e.unit, e.name))
        })?;
        if let Some(target) = to {
            let (tdim, _) = unit_factor(target).unwrap_or(("?", 1.0));
            if tdim != dim {
                return Err(LciError::Model(format!(
                    "{:?}: {:?} is given in {}, its producer's unit is {target}: the units do not convert",
                    d.name, e.name, e.unit
                )));
            }
        }
        Ok((e.amount * f, reference_unit(dim).to_string()))
    };
    // Activities by their reference product.
    let mut problems = Vec::new();
    let mut multi = Vec::new();
    let mut producers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut kept = Vec::new();
    for d in &datasets {
        let refs: Vec<&Exchange> = d
            .exchanges
            .iter()
            .filter(|e| !e.elementary && !e.input && e.group == 0)
            .collect();
        let Some(r) = refs.first() else {
            problems.push(format!(
                "{:?} ({}) has no reference product (outputGroup 0)",
                d.name, d.file
            ));
            continue;
        };
        let by_products = d
            .exchanges
            .iter()
            .filter(|e| !e.elementary && !e.input && e.group == 2)
            .count()
            + refs.len()
            - 1;
        if by_products > 0 {
            match options.multi_output {
                MultiOutput::Error => multi.push(d.name.clone()),
                MultiOutput::AllocateOrReference => db.remarks.push(Remark {
                    activity: Some(db.activities.len()),
                    text: format!(
                        "{:?}: {by_products} by-product(s) and no allocation in the export: all burdens on the reference product",
                        d.name
                    ),
                }),
            }
        }
        let (output, unit) = convert(d, r, None)?;
        producers
            .entry(r.id.clone())
            .or_default()
            .push(db.activities.len());
        db.activities.push(Activity {
            id: d.id.clone(),
            name: d.name.clone(),
            location: d.location.clone(),
            category: Vec::new(),
            product_id: r.id.clone(),
            product_name: r.name.clone(),
            unit,
            // A treatment activity's reference product is negative (EcoSpold2): it keeps its
            // sign, so the negative waste inputs sent to it give it a positive supply.
            output,
        });
        kept.push(d);
    }
    if !problems.is_empty() {
        return Err(LciError::Model(problems.join("; ")));
    }
    if !multi.is_empty() {
        return Err(multi_output_error("dataset(s)", &multi));
    }
    let by_id: HashMap<String, usize> = db
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    let mut elementary: HashMap<String, usize> = HashMap::new();
    let mut ambiguous: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (j, d) in kept.iter().enumerate() {
        db.technosphere.push((j, j, db.activities[j].output));
        for e in &d.exchanges {
            if e.elementary {
                let (amount, unit) = convert(d, e, None)?;
                let key = format!("{}|{}", e.id, e.category.join("/"));
                let row = *elementary.entry(key).or_insert_with(|| {
                    db.elementary_flows.push(ElementaryFlow {
                        id: e.id.clone(),
                        name: e.name.clone(),
                        category: e.category.clone(),
                        cas: e.cas.clone(),
                        unit,
                    });
                    db.elementary_flows.len() - 1
                });
                db.biosphere.push((row, j, amount));
                continue;
            }
            if !(e.input && e.group == 5) {
                continue;
            }
            let provider = e
                .link
                .as_ref()
                .and_then(|l| by_id.get(l).copied())
                .or_else(|| {
                    let choice = options
                        .providers
                        .get(&e.id)
                        .or_else(|| options.providers.get(&e.name))?;
                    db.activities
                        .iter()
                        .position(|a| a.id == *choice || a.name == *choice)
                })
                .or_else(|| match producers.get(&e.id).map(Vec::as_slice) {
                    Some([only]) => Some(*only),
                    Some(many) => {
                        ambiguous.insert(
                            e.name.clone(),
                            many.iter().map(|&i| db.activities[i].name.clone()).collect(),
                        );
                        None
                    }
                    None => None,
                });
            match provider {
                Some(i) => {
                    let (amount, _) = convert(d, e, Some(&db.activities[i].unit))?;
                    db.technosphere.push((i, j, -amount));
                }
                None if producers.contains_key(&e.id) => {}
                None => {
                    let (amount, unit) = convert(d, e, None)?;
                    db.cut_offs.push(CutOff {
                        activity: j,
                        flow: e.name.clone(),
                        amount,
                        unit,
                    });
                }
            }
        }
    }
    if !ambiguous.is_empty() {
        return Err(ambiguous_providers_error(&ambiguous));
    }
    Ok(db)
}
