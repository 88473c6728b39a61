//! Global Carbon Budget 2024 national CO2 series, bundled in the binary.
//!
//! Territorial (production-based) fossil CO2, 1750–2023, and consumption-based CO2, 1990–2022,
//! in tonnes of CO2, as published by Our World in Data (`data/gcb/`, CC BY 4.0). Land-use change
//! is not included in either series.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use super::error::DataError;

pub const DATASET: &str = "Global Carbon Budget 2024";
pub const VERSION: &str = "GCB 2024 (Friedlingstein et al. 2025), OWID release";
pub const CITATION: &str = "Friedlingstein, P. et al. (2025), Global Carbon Budget 2024, Earth Syst. Sci. Data 17, \
     965–1039; processed by Our World in Data. Licence CC BY 4.0.";

const TERRITORIAL_CSV: &str = include_str!("../../../../data/gcb/annual-co2-emissions-per-country.csv");
const CONSUMPTION_CSV: &str = include_str!("../../../../data/gcb/consumption-co2-emissions.csv");

/// A country or aggregate as GCB names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub name: String,
    /// ISO 3166-1 alpha-3 code (OWID's `OWID_*` codes for a few aggregates); `None` for most
    /// aggregates.
    pub code: Option<String>,
}

/// Both series, by entity and year (t CO2).
#[derive(Debug, Default)]
pub struct Gcb {
    pub entities: Vec<Entity>,
    territorial: HashMap<usize, BTreeMap<i32, f64>>,
    consumption: HashMap<usize, BTreeMap<i32, f64>>,
}

impl Gcb {
    /// Parses the two OWID CSV files (`Entity,Code,Year,<value>`).
    pub fn parse(territorial_csv: &str, consumption_csv: &str) -> Result<Gcb, DataError> {
        let mut gcb = Gcb::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (file, text, consumption) in [
            ("annual-co2-emissions-per-country.csv", territorial_csv, false),
            ("consumption-co2-emissions.csv", consumption_csv, true),
        ] {
            let mut rdr = csv::Reader::from_reader(text.as_bytes());
            for (i, rec) in rdr.records().enumerate() {
                let line = i + 2;
                let bad = |reason: String| DataError::Malformed {
                    file: file.into(),
                    line,
                    reason,
                };
                let rec = rec.map_err(|e| bad(e.to_string()))?;
                if rec.len() < 4 {
                    return Err(bad(format!("{} fields, expected 4", rec.len())));
                }
                let name = rec[0].to_string();
                let year: i32 = rec[2]
                    .parse()
                    .map_err(|_| bad(format!("year {:?} is not a number", &rec[2])))?;
                let value: f64 = rec[3]
                    .parse()
                    .map_err(|_| bad(format!("value {:?} is not a number", &rec[3])))?;
                let id = *index.entry(name.clone()).or_insert_with(|| {
                    gcb.entities.push(Entity {
                        name,
                        code: (!rec[1].is_empty()).then(|| rec[1].to_string()),
                    });
                    gcb.entities.len() - 1
                });
                let series = if consumption {
                    &mut gcb.consumption
                } else {
                    &mut gcb.territorial
                };
                series.entry(id).or_default().insert(year, value);
            }
        }
        Ok(gcb)
    }

    /// The series shipped with Carbon Butler.
    pub fn bundled() -> &'static Gcb {
        static GCB: OnceLock<Gcb> = OnceLock::new();
        GCB.get_or_init(|| {
            Gcb::parse(TERRITORIAL_CSV, CONSUMPTION_CSV).expect("the bundled GCB files are checked by tests")
        })
    }

    /// Finds an entity by ISO alpha-3 code or exact name (case-insensitive).
    pub fn find(&self, key: &str) -> Option<usize> {
        let key = key.trim();
        self.entities
            .iter()
            .position(|e| e.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(key)))
            .or_else(|| {
                self.entities
                    .iter()
                    .position(|e| e.name.eq_ignore_ascii_case(key))
            })
    }

    pub fn territorial(&self, entity: usize, year: i32) -> Option<f64> {
        self.territorial.get(&entity)?.get(&year).copied()
    }

    pub fn consumption(&self, entity: usize, year: i32) -> Option<f64> {
        self.consumption.get(&entity)?.get(&year).copied()
    }

    /// Latest year for which both series have a value.
    pub fn latest_common_year(&self, entity: usize) -> Option<i32> {
        let c = self.consumption.get(&entity)?;
        let t = self.territorial.get(&entity)?;
        c.keys().rev().find(|y| t.contains_key(y)).copied()
    }

    /// Years for which the consumption series exists.
    pub fn consumption_years(&self, entity: usize) -> Option<(i32, i32)> {
        let c = self.consumption.get(&entity)?;
        Some((*c.keys().next()?, *c.keys().next_back()?))
    }

    pub fn has_consumption(&self, entity: usize) -> bool {
        self.consumption.contains_key(&entity)
    }
}
