//! Carbon intensity of electricity by country, grid zone and year, bundled with its provenance
//! (`data/grid/`, licences in `data/grid/ATTRIBUTION.md`):
//!
//! * **Ember**, Yearly Electricity Data: the average intensity of a country's (or region's)
//!   generation mix, lifecycle gCO2e/kWh (AR5 GWP100, upstream emissions included), one year per
//!   country (its latest, 2022–2024). CC BY 4.0.
//! * **Electricity Maps**, yearly data 2021–2025: the average lifecycle intensity of a grid zone
//!   (countries by ISO alpha-2, and sub-national zones such as `US-CAL-CISO`), gCO2e/kWh. ODbL 1.0.
//! * **IFI** Harmonised Default Grid Factors 2021 v3.1 (IFI Technical Working Group on GHG
//!   Accounting, UNFCCC): the operating margin and the combined margins, gCO2/kWh — the factors
//!   that account avoided emissions of a project that adds generation.
//!
//! A lookup returns the factor, the year, the area and the source it came from; what is not bundled
//! is an error naming what is (never a neighbour's value or another year silently).

use std::collections::HashMap;
use std::sync::OnceLock;

pub use cb_protocol::{GridFactor, GridSource};
use serde::Serialize;

const EMBER_JSON: &str = include_str!("../../../data/grid/ember-average-intensities.json");
const IFI_JSON: &str = include_str!("../../../data/grid/marginal-intensities-2021.json");
const IFI_CSV: &str = include_str!("../../../data/grid/ifi-default-grid-factors-2021-v3.1.csv");
const ISO3166_CSV: &str = include_str!("../../../data/iso3166-1.csv");
const ZONES_JSON: [(i32, &str); 5] = [
    (
        2021,
        include_str!("../../../data/grid/electricity-maps/yearly_2021.json"),
    ),
    (
        2022,
        include_str!("../../../data/grid/electricity-maps/yearly_2022.json"),
    ),
    (
        2023,
        include_str!("../../../data/grid/electricity-maps/yearly_2023.json"),
    ),
    (
        2024,
        include_str!("../../../data/grid/electricity-maps/yearly_2024.json"),
    ),
    (
        2025,
        include_str!("../../../data/grid/electricity-maps/yearly_2025.json"),
    ),
];

/// The year the IFI harmonised factors describe (dataset 2021 v3.1).
pub const IFI_YEAR: i32 = 2021;

/// Why a grid intensity cannot be given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// A bundled file does not parse or holds an impossible value (names the file and entry).
    #[error("{0}")]
    Data(String),
    /// The place is not a country, region or grid zone the bundled data covers.
    #[error("{0}")]
    UnknownPlace(String),
    /// The place is covered, but not for the factor, source or year asked.
    #[error("{0}")]
    NotCovered(String),
}

/// A source's citation, licence and what its numbers measure.
pub fn citation(source: GridSource) -> &'static str {
    match source {
        GridSource::Ember => {
            "Ember, Yearly Electricity Data (average emissions intensity of generation), as republished by \
             the Green Web Foundation's co2.js v0.19; CC BY 4.0"
        }
        GridSource::ElectricityMaps => {
            "Electricity Maps, yearly carbon intensity data 2021–2025 (lifecycle), as republished by the \
             Green Web Foundation's co2.js v0.19; ODbL 1.0"
        }
        GridSource::Ifi => {
            "IFI Technical Working Group on GHG Accounting, Harmonised IFI Default Grid Factors 2021 v3.1 \
             (UNFCCC); methodology AHG-001"
        }
    }
}

/// What a factor of a source measures, in a few words.
pub fn basis(source: GridSource, factor: GridFactor) -> &'static str {
    match (source, factor) {
        (GridSource::Ember, _) => "average of the generation mix, lifecycle CO2e",
        (GridSource::ElectricityMaps, _) => "average of the zone's consumption, lifecycle CO2e",
        (GridSource::Ifi, GridFactor::OperatingMargin) => {
            "operating margin: the generation a new plant or a saving displaces now, combustion CO2"
        }
        (GridSource::Ifi, GridFactor::CombinedMarginIntermittent) => {
            "combined margin for intermittent generation (solar, wind), combustion CO2"
        }
        (GridSource::Ifi, _) => "combined margin for firm generation and for consumption, combustion CO2",
    }
}

/// One grid intensity, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridIntensity {
    /// The area's name as the source writes it ("China", "California ISO").
    pub area: String,
    /// Its code: ISO 3166 alpha-3 for a country (Ember, IFI), the source's zone id for a zone
    /// (Electricity Maps: ISO alpha-2 or a sub-national id such as `US-CAL-CISO`).
    pub code: String,
    pub year: i32,
    pub factor: GridFactor,
    pub source: GridSource,
    /// gCO2e per kWh (equal to kg per MWh).
    pub g_per_kwh: f64,
}

impl GridIntensity {
    /// The same in t CO2e per MWh, the unit plants use.
    pub fn t_per_mwh(&self) -> f64 {
        self.g_per_kwh / 1000.0
    }
}

#[derive(Debug, Clone)]
struct Country {
    iso2: String,
    iso3: String,
    /// Lower-case names (ISO name, common and official names, the sources' spellings).
    names: Vec<String>,
    /// The name to show.
    display: String,
}

#[derive(Debug, Clone)]
struct Ifi {
    iso3: String,
    name: String,
    firm: f64,
    intermittent: f64,
    operating_margin: f64,
}

/// The bundled tables, parsed and validated.
#[derive(Debug, Default)]
pub struct GridTables {
    /// Ember by ISO alpha-3, or by region name for aggregates ("EU", "World"): (name, year, g/kWh).
    ember: HashMap<String, (String, i32, f64)>,
    zones: Zones,
    ifi: HashMap<String, Ifi>,
    countries: Vec<Country>,
}

fn positive(v: f64, what: &str) -> Result<f64, GridError> {
    if v.is_finite() && (0.0..5000.0).contains(&v) {
        Ok(v)
    } else {
        Err(GridError::Data(format!(
            "{what}: {v} is not a grid intensity in gCO2/kWh (0 to 5,000)"
        )))
    }
}

fn parse_ember(text: &str) -> Result<HashMap<String, (String, i32, f64)>, GridError> {
    #[derive(serde::Deserialize)]
    struct Row {
        country_code: String,
        country_or_region: String,
        year: i32,
        emissions_intensity_gco2_per_kwh: f64,
    }
    let rows: HashMap<String, Row> = serde_json::from_str(text)
        .map_err(|e| GridError::Data(format!("data/grid/ember-average-intensities.json: {e}")))?;
    let mut out = HashMap::new();
    for (key, r) in rows {
        let what = format!("ember-average-intensities.json {key:?}");
        if !(1990..=2100).contains(&r.year) {
            return Err(GridError::Data(format!("{what}: year {}", r.year)));
        }
        let v = positive(r.emissions_intensity_gco2_per_kwh, &what)?;
        let k = if r.country_code.is_empty() {
            r.country_or_region.to_lowercase()
        } else {
            r.country_code.to_uppercase()
        };
        if out.insert(k.clone(), (r.country_or_region, r.year, v)).is_some() {
            return Err(GridError::Data(format!("{what}: a second row for {k}")));
        }
    }
    Ok(out)
}

/// Electricity Maps by (zone id, year): (zone name, g/kWh).
type Zones = HashMap<(String, i32), (String, f64)>;

fn parse_zones(files: &[(i32, &str)]) -> Result<Zones, GridError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Zone {
        zone: ZoneName,
        carbon_intensity: Value,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ZoneName {
        zone_name: String,
    }
    #[derive(serde::Deserialize)]
    struct Value {
        value: f64,
        unit: String,
    }
    let mut out = HashMap::new();
    for (year, text) in files {
        let file = format!("data/grid/electricity-maps/yearly_{year}.json");
        let zones: HashMap<String, Zone> =
            serde_json::from_str(text).map_err(|e| GridError::Data(format!("{file}: {e}")))?;
        for (id, z) in zones {
            if z.carbon_intensity.unit != "gCO2eq/kWh" {
                return Err(GridError::Data(format!(
                    "{file} zone {id}: unit {:?}, expected gCO2eq/kWh",
                    z.carbon_intensity.unit
                )));
            }
            let v = positive(z.carbon_intensity.value, &format!("{file} zone {id}"))?;
            out.insert((id, *year), (z.zone.zone_name, v));
        }
    }
    Ok(out)
}

/// The IFI rows by ISO alpha-3 (or by lower-case name where a row has no code of its own).
/// A code that two rows claim goes to the row whose name is the code's ISO name (the republished
/// JSON gives the Canary Islands the Cayman Islands' `CYM`); the other is reachable by its name
/// only. A repeated code that no row's name settles is an error, never a silent overwrite.
fn parse_ifi(text: &str, countries: &[Country]) -> Result<HashMap<String, Ifi>, GridError> {
    // Cells are strings, except where the republisher split a name at its comma into a list
    // ("Bolivia, Plurinational State of"): only the string cells named below are read.
    let rows: HashMap<String, HashMap<String, serde_json::Value>> = serde_json::from_str(text)
        .map_err(|e| GridError::Data(format!("data/grid/marginal-intensities-2021.json: {e}")))?;
    let mut parsed: Vec<(String, Ifi)> = Vec::new();
    for (name, r) in rows {
        let iso3 = r
            .get("country_code_iso_3")
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_uppercase();
        let num = |field: &str| -> Result<f64, GridError> {
            let what = format!("marginal-intensities-2021.json {name:?} {field:?}");
            let cell = r
                .get(field)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| GridError::Data(format!("{what}: missing or not a string")))?;
            let v = cell
                .trim()
                .parse::<f64>()
                .map_err(|_| GridError::Data(format!("{what}: {cell:?} is not a number")))?;
            positive(v, &what)
        };
        let row = Ifi {
            iso3: String::new(),
            name: name.clone(),
            firm: num("Firm Energy (e.g., Hydro, Geothermal)")?,
            intermittent: num("Intermittent Energy (e.g., Solar, Wind, Tidal)")?,
            operating_margin: num("Operating Margin Grid Emission")?,
        };
        parsed.push((iso3, row));
    }
    let iso_names = |code: &str| -> Vec<String> {
        countries
            .iter()
            .filter(|c| c.iso3 == code)
            .flat_map(|c| c.names.clone())
            .collect()
    };
    let mut out = HashMap::new();
    for (i, (code, row)) in parsed.iter().enumerate() {
        let claimants: Vec<&Ifi> = parsed.iter().filter(|(c, _)| c == code).map(|(_, r)| r).collect();
        let own_code =
            !code.is_empty() && (claimants.len() == 1 || iso_names(code).contains(&row.name.to_lowercase()));
        if !code.is_empty()
            && claimants.len() > 1
            && !claimants
                .iter()
                .any(|r| iso_names(code).contains(&r.name.to_lowercase()))
        {
            return Err(GridError::Data(format!(
                "marginal-intensities-2021.json: {} rows claim the code {code} ({}) and none is named as ISO names it",
                claimants.len(),
                claimants
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // Islands, the EU-27 memo row and a row that claimed another's code: reachable by name.
        let key = if own_code {
            code.clone()
        } else {
            row.name.to_lowercase()
        };
        let mut row = row.clone();
        row.iso3 = key.clone();
        if out.insert(key.clone(), row).is_some() {
            return Err(GridError::Data(format!(
                "marginal-intensities-2021.json: row {} repeats the key {key}",
                i + 1
            )));
        }
    }
    Ok(out)
}

/// The IFI factors as the CSV of the dataset lays them out (`country, firm, intermittent, energy
/// efficiency, consumption, operating margin`), by country name: a second transcription of the
/// same table that the JSON copy is checked against.
pub fn ifi_csv_rows() -> Result<Vec<(String, [f64; 5])>, GridError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(IFI_CSV.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| GridError::Data(format!("ifi-default-grid-factors-2021-v3.1.csv: {e}")))?;
        let name = rec.get(0).unwrap_or("").trim();
        let nums: Vec<Option<f64>> = (1..6)
            .map(|k| rec.get(k).and_then(|c| c.trim().parse::<f64>().ok()))
            .collect();
        if name.is_empty() || nums.iter().any(Option::is_none) {
            continue; // headings and notes
        }
        let v: Vec<f64> = nums.into_iter().flatten().collect();
        out.push((name.to_string(), [v[0], v[1], v[2], v[3], v[4]]));
    }
    Ok(out)
}

fn parse_countries(iso_csv: &str, ember: &HashMap<String, (String, i32, f64)>) -> Vec<Country> {
    let mut out = Vec::new();
    let mut rdr = csv::Reader::from_reader(iso_csv.as_bytes());
    for rec in rdr.records().flatten() {
        let (iso2, iso3) = (rec[0].to_string(), rec[1].to_string());
        let mut names: Vec<String> = [&rec[2], &rec[3], &rec[4]]
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(str::to_lowercase)
            .collect();
        let display = ember.get(&iso3).map(|e| e.0.clone()).unwrap_or_else(|| {
            rec.get(3)
                .filter(|c| !c.is_empty())
                .unwrap_or(&rec[2])
                .to_string()
        });
        names.push(display.to_lowercase());
        out.push(Country {
            iso2,
            iso3,
            names,
            display,
        });
    }
    out
}

/// Everyday names of countries that ISO 3166 writes otherwise, lower case → ISO alpha-3.
const ALIASES: &[(&str, &str)] = &[
    ("uk", "GBR"),
    ("u.k.", "GBR"),
    ("britain", "GBR"),
    ("great britain", "GBR"),
    ("turkey", "TUR"),
    ("us", "USA"),
    ("u.s.", "USA"),
    ("america", "USA"),
    ("czech republic", "CZE"),
    ("ivory coast", "CIV"),
    ("laos", "LAO"),
    ("syria", "SYR"),
    ("macedonia", "MKD"),
    ("swaziland", "SWZ"),
    ("burma", "MMR"),
    ("dr congo", "COD"),
    ("drc", "COD"),
    ("holland", "NLD"),
    ("uae", "ARE"),
];

/// The area a query names, resolved.
#[derive(Debug, Clone, PartialEq)]
enum Area {
    /// A country: ISO alpha-2, alpha-3, display name.
    Country(String, String, String),
    /// An Ember aggregate region ("EU", "World"), by its lower-case name.
    Region(String),
    /// An Electricity Maps zone id.
    Zone(String),
}

impl GridTables {
    /// The bundled tables, parsed once. They are validated by this crate's tests, so a failure here
    /// is a build defect, never input.
    pub fn bundled() -> &'static GridTables {
        static T: OnceLock<GridTables> = OnceLock::new();
        T.get_or_init(|| {
            GridTables::parse(EMBER_JSON, &ZONES_JSON, IFI_JSON, ISO3166_CSV)
                .expect("the bundled grid tables are checked by cb-grid's tests")
        })
    }

    /// Parses and validates the four sources.
    pub fn parse(
        ember: &str,
        zones: &[(i32, &str)],
        ifi: &str,
        iso_csv: &str,
    ) -> Result<GridTables, GridError> {
        let ember = parse_ember(ember)?;
        let zones = parse_zones(zones)?;
        let countries = parse_countries(iso_csv, &ember);
        let ifi = parse_ifi(ifi, &countries)?;
        Ok(GridTables {
            ember,
            zones,
            ifi,
            countries,
        })
    }

    /// Years of Electricity Maps data bundled.
    pub fn zone_years(&self) -> (i32, i32) {
        let years = self.zones.keys().map(|(_, y)| *y);
        (years.clone().min().unwrap_or(0), years.max().unwrap_or(0))
    }

    fn resolve(&self, query: &str) -> Result<Area, GridError> {
        let q = query.trim();
        if q.is_empty() || q.chars().count() > 80 {
            return Err(GridError::UnknownPlace(
                "name a country (an English name or an ISO code such as CN or CHN) or a grid zone".into(),
            ));
        }
        let lower = q.to_lowercase();
        let upper = q.to_uppercase();
        // Everyday names that ISO 3166 writes otherwise (the planner's gazetteer has more; this
        // serves the command line).
        let alias = ALIASES.iter().find(|(a, _)| *a == lower).map(|(_, iso3)| *iso3);
        let country = self.countries.iter().find(|c| {
            alias.is_some_and(|a| c.iso3 == a)
                || (q.len() == 2 && c.iso2 == upper)
                || (q.len() == 3 && c.iso3 == upper)
                || c.names.contains(&lower)
        });
        if let Some(c) = country {
            return Ok(Area::Country(c.iso2.clone(), c.iso3.clone(), c.display.clone()));
        }
        // The EU as the planner's gazetteer and people name it; Ember calls it "EU".
        let region = match lower.as_str() {
            "european union" | "european union (27)" | "eu27" | "eu-27" | "eu 27" | "eu28" => "eu",
            "the world" | "global" | "worldwide" => "world",
            other => other,
        };
        if self.ember.contains_key(region) {
            return Ok(Area::Region(region.to_string()));
        }
        if let Some(((id, _), _)) = self
            .zones
            .iter()
            .find(|((id, _), (name, _))| id.eq_ignore_ascii_case(q) || name.eq_ignore_ascii_case(q))
        {
            return Ok(Area::Zone(id.clone()));
        }
        if self.ifi.contains_key(&lower) {
            return Ok(Area::Region(lower));
        }
        Err(GridError::UnknownPlace(format!(
            "{:?} is not a country, region or grid zone the bundled grid data covers (use an English name, an \
             ISO code such as CN or CHN, or an Electricity Maps zone such as US-CAL-CISO)",
            q.chars().take(80).collect::<String>()
        )))
    }

    /// The grid intensity of a place: `factor` (average, or a margin for avoided emissions), `year`
    /// (default: the latest the source has) and `source` (default: Ember for a country's average,
    /// Electricity Maps for a zone or a year Ember does not have, IFI for margins).
    pub fn intensity(
        &self,
        place: &str,
        factor: GridFactor,
        year: Option<i32>,
        source: Option<GridSource>,
    ) -> Result<GridIntensity, GridError> {
        let area = self.resolve(place)?;
        match factor {
            GridFactor::Average => self.average(&area, year, source),
            _ => self.margin(&area, factor, year, source),
        }
    }

    fn area_name(&self, area: &Area) -> String {
        match area {
            Area::Country(_, _, name) => name.clone(),
            Area::Region(r) => self
                .ember
                .get(r)
                .map(|e| e.0.clone())
                .or_else(|| self.ifi.get(r).map(|i| i.name.clone()))
                .unwrap_or_else(|| r.clone()),
            Area::Zone(z) => z.clone(),
        }
    }

    fn average(
        &self,
        area: &Area,
        year: Option<i32>,
        source: Option<GridSource>,
    ) -> Result<GridIntensity, GridError> {
        let name = self.area_name(area);
        let ember_key = match area {
            Area::Country(_, iso3, _) => Some(iso3.clone()),
            Area::Region(r) => Some(r.clone()),
            Area::Zone(_) => None,
        };
        let zone_id = match area {
            Area::Country(iso2, _, _) => Some(iso2.clone()),
            Area::Zone(z) => Some(z.clone()),
            Area::Region(_) => None,
        };
        let ember = ember_key.as_ref().and_then(|k| self.ember.get(k).map(|e| (k, e)));
        let (first, last) = self.zone_years();
        let from_ember = |(k, (n, y, v)): (&String, &(String, i32, f64))| GridIntensity {
            area: n.clone(),
            code: if k.len() == 3 { k.clone() } else { n.clone() },
            year: *y,
            factor: GridFactor::Average,
            source: GridSource::Ember,
            g_per_kwh: *v,
        };
        let from_zone = |y: i32| {
            let id = zone_id.as_ref()?;
            self.zones.get(&(id.clone(), y)).map(|(n, v)| GridIntensity {
                area: n.clone(),
                code: id.clone(),
                year: y,
                factor: GridFactor::Average,
                source: GridSource::ElectricityMaps,
                g_per_kwh: *v,
            })
        };
        let ember_year = ember.map(|(_, e)| e.1);
        let have = || {
            let mut parts = Vec::new();
            if let Some(y) = ember_year {
                parts.push(format!("Ember {y}"));
            }
            if zone_id
                .as_ref()
                .is_some_and(|id| self.zones.contains_key(&(id.clone(), last)))
            {
                parts.push(format!("Electricity Maps {first}–{last}"));
            }
            if parts.is_empty() {
                "no average intensity".to_string()
            } else {
                parts.join(", ")
            }
        };
        let found = match (source, year) {
            (Some(GridSource::Ifi), _) => {
                return Err(GridError::NotCovered(
                    "the IFI dataset gives margins (operating and combined), not average intensities: ask for \
                     the operating margin, or an average from Ember or Electricity Maps"
                        .into(),
                ));
            }
            (Some(GridSource::Ember), y) => ember.filter(|(_, e)| y.is_none_or(|y| y == e.1)).map(from_ember),
            (Some(GridSource::ElectricityMaps), y) => from_zone(y.unwrap_or(last)),
            (None, None) => ember.map(from_ember).or_else(|| from_zone(last)),
            (None, Some(y)) => ember
                .filter(|(_, e)| e.1 == y)
                .map(from_ember)
                .or_else(|| from_zone(y)),
        };
        found.ok_or_else(|| {
            GridError::NotCovered(format!(
                "no average grid intensity for {name}{}{} is bundled; what is: {}",
                year.map(|y| format!(" in {y}")).unwrap_or_default(),
                source
                    .map(|s| format!(" from {}", source_name(s)))
                    .unwrap_or_default(),
                have()
            ))
        })
    }

    fn margin(
        &self,
        area: &Area,
        factor: GridFactor,
        year: Option<i32>,
        source: Option<GridSource>,
    ) -> Result<GridIntensity, GridError> {
        let name = self.area_name(area);
        if let Some(s) = source.filter(|s| *s != GridSource::Ifi) {
            return Err(GridError::NotCovered(format!(
                "{} gives average intensities only; margins come from the IFI harmonised factors",
                source_name(s)
            )));
        }
        if let Some(y) = year.filter(|y| *y != IFI_YEAR) {
            return Err(GridError::NotCovered(format!(
                "the bundled margins are the IFI harmonised factors of {IFI_YEAR} (v3.1), one vintage; none for \
                 {y} is bundled"
            )));
        }
        let key = match area {
            Area::Country(_, iso3, _) => iso3.clone(),
            // The IFI table's EU-27 row is a memo line under its own name.
            Area::Region(r) if r == "eu" => "memo:  eu 27".to_string(),
            Area::Region(r) => r.clone(),
            Area::Zone(z) => {
                return Err(GridError::NotCovered(format!(
                    "margins are given by country, not for the grid zone {z}"
                )));
            }
        };
        let row = self.ifi.get(&key).ok_or_else(|| {
            GridError::NotCovered(format!(
                "the IFI harmonised factors have no {} for {name}",
                factor_name(factor)
            ))
        })?;
        let g = match factor {
            GridFactor::OperatingMargin => row.operating_margin,
            GridFactor::CombinedMarginIntermittent => row.intermittent,
            GridFactor::CombinedMarginFirm => row.firm,
            GridFactor::Average => unreachable!("averages are looked up in `average`"),
        };
        Ok(GridIntensity {
            area: row.name.clone(),
            code: row.iso3.clone(),
            year: IFI_YEAR,
            factor,
            source: GridSource::Ifi,
            g_per_kwh: g,
        })
    }

    /// Every factor the bundled data has for a place, each with its year and source (to set the
    /// one used beside the others).
    pub fn all_for(&self, place: &str) -> Result<Vec<GridIntensity>, GridError> {
        let _ = self.resolve(place)?;
        let (first, last) = self.zone_years();
        let mut out = Vec::new();
        if let Ok(e) = self.intensity(place, GridFactor::Average, None, Some(GridSource::Ember)) {
            out.push(e);
        }
        for y in first..=last {
            if let Ok(z) = self.intensity(
                place,
                GridFactor::Average,
                Some(y),
                Some(GridSource::ElectricityMaps),
            ) {
                out.push(z);
            }
        }
        for f in [
            GridFactor::OperatingMargin,
            GridFactor::CombinedMarginIntermittent,
            GridFactor::CombinedMarginFirm,
        ] {
            if let Ok(m) = self.intensity(place, f, None, None) {
                out.push(m);
            }
        }
        Ok(out)
    }
}

/// A source's short name.
pub fn source_name(s: GridSource) -> &'static str {
    match s {
        GridSource::Ember => "Ember",
        GridSource::ElectricityMaps => "Electricity Maps",
        GridSource::Ifi => "IFI harmonised grid factors",
    }
}

/// A factor's name in words.
pub fn factor_name(f: GridFactor) -> &'static str {
    match f {
        GridFactor::Average => "average intensity",
        GridFactor::OperatingMargin => "operating margin",
        GridFactor::CombinedMarginIntermittent => "combined margin for intermittent generation",
        GridFactor::CombinedMarginFirm => "combined margin for firm generation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> &'static GridTables {
        GridTables::bundled()
    }

    #[test]
    fn bundled_tables_parse_with_their_sizes() {
        let t = t();
        assert_eq!(t.ember.len(), 222, "Ember: 222 countries and regions");
        assert_eq!(t.zones.len(), 352 * 5, "Electricity Maps: 352 zones × 2021–2025");
        assert_eq!(t.ifi.len(), 233, "IFI: 233 rows, none lost to a repeated code");
        assert_eq!(t.zone_years(), (2021, 2025));
    }

    #[test]
    fn a_country_from_any_name_or_code() {
        // Values read by hand from the bundled files.
        for q in ["CN", "CHN", "China", "china"] {
            let g = t().intensity(q, GridFactor::Average, None, None).unwrap();
            assert_eq!(g.source, GridSource::Ember, "{q}");
            assert_eq!(g.code, "CHN");
            assert!(g.year >= 2022);
        }
        let de = t()
            .intensity(
                "Germany",
                GridFactor::Average,
                Some(2024),
                Some(GridSource::ElectricityMaps),
            )
            .unwrap();
        assert_eq!((de.g_per_kwh, de.year, de.code.as_str()), (341.0, 2024, "DE"));
        let cn21 = t()
            .intensity("CN", GridFactor::Average, Some(2021), None)
            .unwrap();
        assert_eq!(
            (cn21.g_per_kwh, cn21.source),
            (552.0, GridSource::ElectricityMaps)
        );
        assert!((cn21.t_per_mwh() - 0.552).abs() < 1e-12);
    }

    #[test]
    fn margins_are_the_ifi_factors_of_2021() {
        let om = t()
            .intensity("CHN", GridFactor::OperatingMargin, None, None)
            .unwrap();
        assert_eq!((om.g_per_kwh, om.year, om.source), (899.0, 2021, GridSource::Ifi));
        let cm = t()
            .intensity("China", GridFactor::CombinedMarginIntermittent, None, None)
            .unwrap();
        assert_eq!(cm.g_per_kwh, 744.0);
        let firm = t()
            .intensity("DE", GridFactor::CombinedMarginFirm, None, None)
            .unwrap();
        assert_eq!(firm.g_per_kwh, 313.0);
        let eu = t()
            .intensity("Memo:  EU 27", GridFactor::OperatingMargin, None, None)
            .unwrap();
        assert_eq!(eu.g_per_kwh, 409.0);
        // The republished JSON gives the Canary Islands the Cayman Islands' code: CYM stays the
        // Cayman Islands' (intermittent 610), the Canary Islands are reached by their name (633).
        let cym = t()
            .intensity("KY", GridFactor::CombinedMarginIntermittent, None, None)
            .unwrap();
        assert_eq!((cym.area.as_str(), cym.g_per_kwh), ("Cayman Islands", 610.0));
        let canary = t()
            .intensity(
                "Canary Islands (Spain)",
                GridFactor::CombinedMarginIntermittent,
                None,
                None,
            )
            .unwrap();
        assert_eq!(canary.g_per_kwh, 633.0);
    }

    #[test]
    fn what_is_not_bundled_is_refused_with_what_is() {
        let e = t()
            .intensity("CN", GridFactor::Average, Some(2019), None)
            .unwrap_err();
        assert!(matches!(e, GridError::NotCovered(_)), "{e}");
        assert!(e.to_string().contains("Electricity Maps 2021–2025"), "{e}");
        let e = t()
            .intensity("CN", GridFactor::OperatingMargin, Some(2024), None)
            .unwrap_err();
        assert!(e.to_string().contains("2021"), "{e}");
        let e = t()
            .intensity("CN", GridFactor::Average, None, Some(GridSource::Ifi))
            .unwrap_err();
        assert!(e.to_string().contains("margins"), "{e}");
        let e = t()
            .intensity("Atlantis", GridFactor::Average, None, None)
            .unwrap_err();
        assert!(matches!(e, GridError::UnknownPlace(_)), "{e}");
        let long = "x".repeat(10_000);
        assert!(t().intensity(&long, GridFactor::Average, None, None).is_err());
    }

    #[test]
    fn zones_and_regions() {
        let z = t()
            .intensity("US-CAL-CISO", GridFactor::Average, Some(2023), None)
            .unwrap();
        assert_eq!(z.source, GridSource::ElectricityMaps);
        for (alias, iso3) in [
            ("Turkey", "TUR"),
            ("UK", "GBR"),
            ("US", "USA"),
            ("Ivory Coast", "CIV"),
        ] {
            let g = t().intensity(alias, GridFactor::Average, None, None).unwrap();
            assert_eq!((g.code.as_str(), g.source), (iso3, GridSource::Ember), "{alias}");
        }
        let eu = t().intensity("EU", GridFactor::Average, None, None).unwrap();
        assert_eq!(eu.source, GridSource::Ember);
        for name in ["European Union", "European Union (27)", "eu27"] {
            assert_eq!(
                t().intensity(name, GridFactor::Average, None, None).unwrap(),
                eu,
                "{name}"
            );
        }
        let world = t().intensity("World", GridFactor::Average, None, None).unwrap();
        assert!(world.g_per_kwh > 300.0 && world.g_per_kwh < 600.0, "{world:?}");
    }

    /// The JSON copy of the IFI table (with ISO codes) against the dataset's CSV, row by row: two
    /// transcriptions of one table, so a value is shipped only where they agree.
    #[test]
    fn ifi_json_agrees_with_the_csv() {
        let csv = ifi_csv_rows().unwrap();
        assert!(csv.len() >= 230, "{} rows", csv.len());
        let by_name: HashMap<&str, &Ifi> = t().ifi.values().map(|r| (r.name.as_str(), r)).collect();
        let mut compared = 0;
        for (name, v) in &csv {
            let Some(r) = by_name.get(name.as_str()) else {
                continue;
            };
            assert_eq!(
                [r.firm, r.intermittent, r.operating_margin],
                [v[0], v[1], v[4]],
                "{name}"
            );
            compared += 1;
        }
        assert!(compared >= 225, "only {compared} IFI rows compared");
    }

    #[test]
    fn corrupt_data_is_an_error_naming_the_entry() {
        let bad = r#"{"XYZ": {"country_code": "XYZ", "country_or_region": "X", "year": 2023, "emissions_intensity_gco2_per_kwh": -5}}"#;
        let e = GridTables::parse(bad, &[], "{}", "alpha_2,alpha_3,name,common_name,official_name\n")
            .unwrap_err();
        assert!(e.to_string().contains("XYZ"), "{e}");
        let zones = [(
            2024,
            r#"{"DE": {"zone": {"zoneName": "Germany"}, "carbonIntensity": {"value": 3, "unit": "g/MJ"}}}"#,
        )];
        let e = GridTables::parse(
            "{}",
            &zones,
            "{}",
            "alpha_2,alpha_3,name,common_name,official_name\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unit"), "{e}");
    }
}
