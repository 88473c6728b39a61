//! pymrio's own save format, and EXIOBASE 3 zips which use the same layout.
//!
//! A save is a folder (or zip) with `file_parameters.json` naming the core files (`Z.txt` or
//! `A.txt`, `Y.txt`, optionally `x.txt`, `unit.txt`) and their layout (`nr_index_col`,
//! `nr_header`), `metadata.json` (name, version), and one sub-folder per extension with its own
//! `file_parameters.json` (`systemtype: "Extension"`, files `F.txt`, `F_Y.txt`, `unit.txt`).
//! EXIOBASE 3 releases (`IOT_<year>_ixi.zip`) hold exactly this inside one top folder; where the
//! parameter files are absent, the EXIOBASE file names and layouts are assumed.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::DataError;
use super::mrio::{ExtensionParts, Labels, Mrio, MrioParts, region_blocks};
use super::source::Source;
use super::table::{LabeledMatrix, Layout, parse_labeled_matrix, parse_unit_table};

#[derive(Debug, Deserialize)]
struct FileParameters {
    files: BTreeMap<String, FileEntry>,
    #[serde(default)]
    systemtype: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
struct FileEntry {
    name: String,
    #[serde(default)]
    nr_index_col: Option<serde_json::Value>,
    #[serde(default)]
    nr_header: Option<serde_json::Value>,
}

fn as_count(v: &Option<serde_json::Value>) -> Option<usize> {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|n| n as usize),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

impl FileEntry {
    fn layout(&self) -> Layout {
        Layout {
            index_cols: as_count(&self.nr_index_col),
            header_rows: as_count(&self.nr_header),
        }
    }

    fn default(name: &str, index_cols: Option<usize>, header_rows: usize) -> FileEntry {
        FileEntry {
            name: name.to_string(),
            nr_index_col: index_cols.map(|c| serde_json::Value::from(c as u64)),
            nr_header: Some(serde_json::Value::from(header_rows as u64)),
        }
    }
}

fn read_parameters(source: &mut Source, folder: &str) -> Result<Option<FileParameters>, DataError> {
    let rel = format!("{folder}file_parameters.json");
    if !source.exists(&rel) {
        return Ok(None);
    }
    let text = source.read_string(&rel)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| DataError::Format {
            path: format!("{}/{rel}", source.display()),
            reason: format!("not a pymrio file_parameters.json: {e}"),
        })
}

fn read_matrix(
    source: &mut Source,
    folder: &str,
    entry: &FileEntry,
) -> Result<(LabeledMatrix, String), DataError> {
    let rel = format!("{folder}{}", entry.name);
    let layout = entry.layout();
    let m = source.with_file(&rel, |r, name| parse_labeled_matrix(r, name, '\t', layout))?;
    Ok((m, rel))
}

/// Loads a pymrio save or an EXIOBASE 3 folder from `source`.
pub fn load(mut source: Source) -> Result<Mrio, DataError> {
    let display = source.display();
    let params = read_parameters(&mut source, "")?;
    let files: BTreeMap<String, FileEntry> = match &params {
        Some(p) => p.files.clone(),
        None => {
            // EXIOBASE 3 layout.
            let mut f = BTreeMap::new();
            for (key, name, idx, hdr) in [
                ("A", "A.txt", Some(2), 2),
                ("Z", "Z.txt", Some(2), 2),
                ("Y", "Y.txt", Some(2), 2),
                ("x", "x.txt", Some(2), 1),
                ("unit", "unit.txt", Some(2), 1),
            ] {
                if source.exists(name) {
                    f.insert(key.to_string(), FileEntry::default(name, idx, hdr));
                }
            }
            f
        }
    };
    let missing = |file: &str| DataError::Missing {
        dataset: display.clone(),
        file: file.to_string(),
    };
    let (core_is_flows, core_entry) = match (files.get("Z"), files.get("A")) {
        (Some(z), _) => (true, z.clone()),
        (None, Some(a)) => (false, a.clone()),
        (None, None) => return Err(missing("Z.txt or A.txt")),
    };
    let y_entry = files.get("Y").ok_or_else(|| missing("Y.txt"))?.clone();
    let core = read_matrix(&mut source, "", &core_entry)?;
    let y = read_matrix(&mut source, "", &y_entry)?;
    let x = match files.get("x") {
        Some(e) => Some(read_matrix(&mut source, "", e)?),
        None => None,
    };
    let monetary_unit = match files.get("unit") {
        Some(e) => {
            let units = source.with_file(&e.name, |r, name| parse_unit_table(r, name, '\t'))?;
            units.first().map(|(_, u)| u.clone())
        }
        None => None,
    };

    let (name, version) = read_metadata(&mut source, &params);
    let extensions = load_extensions(&mut source)?;
    Mrio::assemble(MrioParts {
        name,
        version,
        source: display,
        core_is_flows,
        core,
        y,
        x,
        monetary_unit,
        extensions,
    })
}

fn read_metadata(source: &mut Source, params: &Option<FileParameters>) -> (String, String) {
    #[derive(Deserialize)]
    struct Metadata {
        name: Option<String>,
        version: Option<String>,
    }
    let meta: Option<Metadata> = source
        .exists("metadata.json")
        .then(|| source.read_string("metadata.json").ok())
        .flatten()
        .and_then(|t| serde_json::from_str(&t).ok());
    let fallback = source.display();
    let name = meta
        .as_ref()
        .and_then(|m| m.name.clone())
        .or_else(|| params.as_ref().and_then(|p| p.name.clone()))
        .unwrap_or(fallback);
    let version = meta
        .and_then(|m| m.version)
        .unwrap_or_else(|| "unversioned".into());
    (name, version)
}

/// Every sub-folder that is an extension: with a `file_parameters.json` of systemtype
/// `Extension`, or (EXIOBASE without parameter files) with an `F.txt`.
fn load_extensions(source: &mut Source) -> Result<Vec<ExtensionParts>, DataError> {
    let folders: Vec<String> = {
        let mut v: Vec<String> = source
            .files()
            .iter()
            .filter_map(|f| f.split_once('/').map(|(d, _)| format!("{d}/")))
            .collect();
        v.dedup();
        v
    };
    let mut out = Vec::new();
    for folder in folders {
        let params = read_parameters(source, &folder)?;
        let files = match params {
            Some(p) if p.systemtype.as_deref() == Some("Extension") => {
                let name = p
                    .name
                    .clone()
                    .unwrap_or_else(|| folder.trim_end_matches('/').to_string());
                (name, p.files)
            }
            Some(_) => continue,
            None if source.exists(&format!("{folder}F.txt")) => {
                let mut f = BTreeMap::new();
                f.insert("F".into(), FileEntry::default("F.txt", None, 2));
                for fy in ["F_Y.txt", "F_hh.txt"] {
                    if source.exists(&format!("{folder}{fy}")) {
                        f.insert("F_Y".into(), FileEntry::default(fy, None, 2));
                        break;
                    }
                }
                if source.exists(&format!("{folder}unit.txt")) {
                    f.insert("unit".into(), FileEntry::default("unit.txt", None, 1));
                }
                (folder.trim_end_matches('/').to_string(), f)
            }
            None => continue,
        };
        let (name, files) = files;
        let Some(f_entry) = files.get("F") else {
            return Err(DataError::Missing {
                dataset: format!("{} (extension {name})", source.display()),
                file: "F.txt".into(),
            });
        };
        let f = read_matrix(source, &folder, f_entry)?;
        let f_y = match files.get("F_Y") {
            Some(e) => Some(read_matrix(source, &folder, e)?),
            None => None,
        };
        let units = match files.get("unit") {
            Some(e) => {
                let rel = format!("{folder}{}", e.name);
                source.with_file(&rel, |r, n| parse_unit_table(r, n, '\t'))?
            }
            None => Vec::new(),
        };
        out.push(ExtensionParts { name, f, f_y, units });
    }
    Ok(out)
}

/// Names of a pymrio save or EXIOBASE folder without reading its matrices: regions and sectors
/// from the core `unit.txt`, stressor row labels from each extension's `unit.txt`. `None` when a
/// unit file is missing (then the caller loads the whole MRIO).
pub fn read_labels(source: &mut Source) -> Result<Option<Labels>, DataError> {
    let params = read_parameters(source, "")?;
    let unit_file = match &params {
        Some(p) => match p.files.get("unit") {
            Some(e) => e.name.clone(),
            None => return Ok(None),
        },
        None if source.exists("unit.txt") => "unit.txt".to_string(),
        None => return Ok(None),
    };
    let rows: Vec<Vec<String>> = source
        .with_file(&unit_file, |r, n| parse_unit_table(r, n, '\t'))?
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    let (regions, sectors) = region_blocks(&rows, &unit_file)?;
    let (name, _) = read_metadata(source, &params);
    let mut stressors = Vec::new();
    let folders: std::collections::BTreeSet<String> = source
        .files()
        .iter()
        .filter_map(|f| f.split_once('/').map(|(d, _)| format!("{d}/")))
        .collect();
    for folder in folders {
        let is_extension = match read_parameters(source, &folder)? {
            Some(p) => p.systemtype.as_deref() == Some("Extension"),
            None => source.exists(&format!("{folder}F.txt")),
        };
        if !is_extension {
            continue;
        }
        let unit = format!("{folder}unit.txt");
        if !source.exists(&unit) {
            return Ok(None);
        }
        let labels = source.with_file(&unit, |r, n| parse_unit_table(r, n, '\t'))?;
        stressors.extend(labels.into_iter().map(|(label, _)| label));
    }
    Ok(Some(Labels {
        name,
        regions,
        sectors,
        stressors,
    }))
}
