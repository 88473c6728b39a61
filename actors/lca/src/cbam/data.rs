//! The Commission's CBAM default values (IR (EU) 2025/2621 Annex I, workbook of 4 Feb 2026) and
//! CBAM benchmarks (IR (EU) 2025/2620 Annex, column B), bundled and validated on load.
//!
//! Some rows of the default-values file are shifted by an upstream parsing error (the direct,
//! indirect and total cells are empty and the numbers sit in the mark-up columns, e.g. Albania,
//! white Portland cement). Such rows are detected and reported, never used.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

use super::{CbamError, default_mark_up};

const DEFAULTS_CSV: &str = include_str!("../../../../data/cbam/cbam_default_values_definitive_v20260204.csv");
const BENCHMARKS_CSV: &str = include_str!("../../../../data/cbam/cbam_benchmarks.csv");
const ISO3166_CSV: &str = include_str!("../../../../data/iso3166-1.csv");
const PRICES_CSV: &str = include_str!("../../../../data/cbam/certificate-prices.csv");

/// A certificate price the Commission has published: for 2026 one per quarter of import, the
/// weighted average of EU ETS auction prices of the quarter (Reg. 2023/956 Art. 21(1a), IR (EU)
/// 2025/2548). Only prices confirmed in two sources are bundled (`data/cbam/certificate-prices.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CertificatePrice {
    pub year: i32,
    pub quarter: u8,
    pub eur_per_t: f64,
    /// Date of publication (ISO 8601).
    pub published: String,
    pub source: String,
}

/// The bundled published certificate prices.
pub fn certificate_prices() -> &'static [CertificatePrice] {
    static P: OnceLock<Vec<CertificatePrice>> = OnceLock::new();
    P.get_or_init(|| parse_prices(PRICES_CSV).expect("the bundled certificate prices are checked by tests"))
}

/// The published certificate price for imports in a quarter, if the Commission has published it
/// and it is bundled.
pub fn certificate_price(year: i32, quarter: u8) -> Option<&'static CertificatePrice> {
    certificate_prices()
        .iter()
        .find(|p| p.year == year && p.quarter == quarter)
}

/// Parses the certificate-price table, checking every row (quarter 1–4, price positive, date).
pub fn parse_prices(text: &str) -> Result<Vec<CertificatePrice>, CbamError> {
    let mut out = Vec::new();
    for (i, row) in csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .enumerate()
    {
        let p: CertificatePrice =
            row.map_err(|e| CbamError::Invalid(format!("certificate-prices.csv row {}: {e}", i + 2)))?;
        let date_ok = p.published.len() == 10
            && p.published.as_bytes()[4] == b'-'
            && p.published.as_bytes()[7] == b'-'
            && p.published.replace('-', "").chars().all(|c| c.is_ascii_digit());
        let valid = (1..=4).contains(&p.quarter) && p.eur_per_t > 0.0 && p.eur_per_t.is_finite() && date_ok;
        if !valid {
            return Err(CbamError::Invalid(format!(
                "certificate-prices.csv row {}: quarter 1–4, a positive price and a date YYYY-MM-DD are needed",
                i + 2
            )));
        }
        out.push(p);
    }
    Ok(out)
}

pub const DEFAULTS_SOURCE: &str = "CBAM default values, Implementing Regulation (EU) 2025/2621 Annex I (Commission workbook \
     \"DVs as adopted_v20260204\"; before the correction by IR (EU) 2026/1740)";
pub const BENCHMARKS_SOURCE: &str = "CBAM benchmarks, Implementing Regulation (EU) 2025/2620 Annex, column B";

/// One default value row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultValue {
    pub country: String,
    pub sector: String,
    pub cn_code: String,
    pub description: String,
    pub direct: f64,
    pub indirect: f64,
    pub total: f64,
    /// Values including the mark-up for 2026, 2027 and 2028 as published.
    pub with_mark_up: [Option<f64>; 3],
    /// Production route that selects the benchmark, e.g. `(A)` or `(C)`.
    pub route: String,
    pub line: usize,
}

/// A row that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedRow {
    pub line: usize,
    pub country: String,
    pub cn_code: String,
    pub description: String,
    pub reason: String,
}

/// A benchmark value (column B) for a CN code, production route and production years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Benchmark {
    pub cn_code: String,
    pub value: f64,
    /// Production route the value belongs to: `(A)`, `(C)`, `(F)` … or empty (any route).
    pub route: String,
    /// Production-year column: `(1)` for 2026–2027, `(2)` from 2028 (IR 2025/2620 Annex pt 5.3);
    /// `None` where the value holds for every year.
    pub period: Option<u8>,
}

/// The benchmark column of a production year: `(1)` 2026–2027, `(2)` from 2028 (IR 2025/2620
/// Annex pt 5.3; the `(2)` values are given for 2028–2030 and nothing later is published).
pub fn benchmark_period(year: i32) -> u8 {
    if year <= 2027 { 1 } else { 2 }
}

/// Splits a benchmark mark such as `(F)(1)`, `(A)` or `(2)` into its route and its period.
fn split_mark(mark: &str) -> Result<(String, Option<u8>), String> {
    let mut route = String::new();
    let mut period = None;
    let mut rest = mark.trim();
    while !rest.is_empty() {
        let Some(end) = rest.strip_prefix('(').and_then(|r| r.find(')')) else {
            return Err(format!("{mark:?} is not a route or year mark such as (F)(1)"));
        };
        let inner = &rest[1..=end];
        match inner {
            "1" => period = Some(1),
            "2" => period = Some(2),
            r if r.len() == 1 && r.chars().all(|c| c.is_ascii_uppercase()) => route = format!("({r})"),
            _ => return Err(format!("{mark:?} is not a route or year mark such as (F)(1)")),
        }
        rest = rest[end + 2..].trim_start();
    }
    Ok((route, period))
}

/// The bundled tables.
#[derive(Debug, Default)]
pub struct CbamTables {
    pub defaults: Vec<DefaultValue>,
    pub rejected: Vec<RejectedRow>,
    pub benchmarks: Vec<Benchmark>,
    iso: HashMap<String, String>,
    /// Every country the table lists, with values or without (a blank row still names it).
    countries: Vec<String>,
}

/// The rows that apply where a country's value is blank or the country is not listed
/// (IR 2025/2621 Annex I, "Other countries and territories"; the Commission's file cuts the name).
pub const OTHER_COUNTRIES: &str = "_Other Countries and Territorie";

/// Member states (ISO 3166 alpha-2) and the Annex III countries of Reg. 2023/956 (Iceland,
/// Liechtenstein, Norway, Switzerland): goods from them are not subject to CBAM (Art. 2(4)).
const EU_MEMBERS: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];
const ANNEX_III: [&str; 4] = ["IS", "LI", "NO", "CH"];

/// The countries the default-values file names in its first column, in file order.
fn listed_countries(text: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut out: Vec<String> = Vec::new();
    for rec in rdr.records().flatten() {
        let country = rec.get(0).unwrap_or("").trim();
        let cn = rec.get(2).unwrap_or("").trim();
        if !country.is_empty() && !cn.is_empty() && out.last().is_none_or(|l| l != country) {
            out.push(country.to_string());
        }
    }
    out.dedup();
    out
}

fn number(cell: &str) -> Result<Option<f64>, String> {
    let t = cell.trim();
    if t.is_empty() || t == "–" || t == "-" {
        return Ok(None);
    }
    t.replace(',', ".")
        .parse::<f64>()
        .map(Some)
        .map_err(|_| format!("{t:?} is not a number"))
}

/// Parses the default-values file (`;`-separated, one header line), validating every row:
/// numbers parse, total = direct + indirect (±0.002), and the mark-up columns equal the total
/// with the sector's mark-up (±0.5 %). Rows that fail are rejected with the reason.
pub fn parse_defaults(text: &str) -> (Vec<DefaultValue>, Vec<RejectedRow>) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut ok = Vec::new();
    let mut rejected = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let Ok(rec) = rec else { continue };
        let cell = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
        let (country, sector, cn, description) = (cell(0), cell(1), cell(2), cell(3));
        let reject = |reason: String| RejectedRow {
            line,
            country: country.clone(),
            cn_code: cn.clone(),
            description: description.clone(),
            reason,
        };
        if rec.len() != 11 {
            rejected.push(reject(format!("{} fields, expected 11", rec.len())));
            continue;
        }
        let nums: Result<Vec<Option<f64>>, String> = (4..10).map(|k| number(&cell(k))).collect();
        let nums = match nums {
            Ok(n) => n,
            Err(e) => {
                rejected.push(reject(e));
                continue;
            }
        };
        let (direct, indirect, total) = (nums[0], nums[1], nums[2]);
        let marked = [nums[3], nums[4], nums[5]];
        match (direct, total) {
            (None, None) if marked.iter().all(Option::is_none) => continue, // no default published
            (None, None) => {
                rejected.push(reject(
                    "shifted row: direct, indirect and total are empty but the mark-up columns hold numbers"
                        .into(),
                ));
                continue;
            }
            (None, Some(_)) | (Some(_), None) => {
                rejected.push(reject("direct or total emissions missing".into()));
                continue;
            }
            _ => {}
        }
        let (direct, total, indirect) = (
            direct.unwrap_or(0.0),
            total.unwrap_or(0.0),
            indirect.unwrap_or(0.0),
        );
        // Published values are rounded (to two decimals for many goods): allow one unit of that rounding.
        if (direct + indirect - total).abs() > 0.0101 + 1e-6 * total.abs() {
            rejected.push(reject(format!(
                "total {total} ≠ direct {direct} + indirect {indirect}"
            )));
            continue;
        }
        let mut bad_mark_up = None;
        for (k, (year, v)) in [2026, 2027, 2028].iter().zip(marked).enumerate() {
            if let Some(v) = v {
                let expected = total * (1.0 + default_mark_up(&sector, *year));
                if (v - expected).abs() > 0.005 * expected.abs().max(0.01) {
                    bad_mark_up = Some(format!(
                        "{year} value {v} is not total × (1 + mark-up) = {expected:.4}"
                    ));
                }
            } else if k == 0 && total > 0.0 {
                bad_mark_up = Some("2026 value with mark-up is missing".into());
            }
        }
        if let Some(reason) = bad_mark_up {
            rejected.push(reject(reason));
            continue;
        }
        ok.push(DefaultValue {
            country,
            sector,
            cn_code: cn,
            description,
            direct,
            indirect,
            total,
            with_mark_up: marked,
            route: cell(10),
            line,
        });
    }
    (ok, rejected)
}

/// Parses the benchmarks file: `CN code;Column B`, sector heading lines, decimal commas and a
/// route mark after the value (`0,666 (A)`).
pub fn parse_benchmarks(text: &str) -> Result<Vec<Benchmark>, CbamError> {
    let mut out = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate().skip(1) {
        let Some((cn, value)) = line.split_once(';') else {
            continue;
        };
        let cn = cn.trim();
        if cn.is_empty() || !cn.chars().all(|c| c.is_ascii_digit()) {
            continue; // a sector heading or a blank separator line
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let (num, mark) = match value.find('(') {
            Some(p) => (value[..p].trim(), value[p..].trim()),
            None => (value, ""),
        };
        let v = number(num)
            .map_err(|e| CbamError::Invalid(format!("cbam_benchmarks.csv line {}: {e}", i + 1)))?
            .ok_or_else(|| CbamError::Invalid(format!("cbam_benchmarks.csv line {}: empty value", i + 1)))?;
        let (route, period) = split_mark(mark)
            .map_err(|e| CbamError::Invalid(format!("cbam_benchmarks.csv line {}: {e}", i + 1)))?;
        out.push(Benchmark {
            cn_code: cn.to_string(),
            value: v,
            route,
            period,
        });
    }
    Ok(out)
}

impl CbamTables {
    /// The bundled tables (parsed once).
    pub fn bundled() -> &'static CbamTables {
        static T: OnceLock<CbamTables> = OnceLock::new();
        T.get_or_init(|| {
            let (defaults, rejected) = parse_defaults(DEFAULTS_CSV);
            let benchmarks =
                parse_benchmarks(BENCHMARKS_CSV).expect("the bundled benchmarks are checked by tests");
            let iso = rdr_codes();
            let countries = listed_countries(DEFAULTS_CSV);
            CbamTables {
                defaults,
                rejected,
                benchmarks,
                iso,
                countries,
            }
        })
    }

    /// The country as the default-values table names it, from a name or an ISO code.
    pub fn country(&self, query: &str) -> Result<String, CbamError> {
        let q = query.trim();
        // The ISO names of the query, whether it is a code or one of the names.
        let iso_names: Option<&String> = self.iso.get(&q.to_uppercase()).or_else(|| {
            self.iso
                .values()
                .find(|v| v.split('|').any(|n| n.eq_ignore_ascii_case(q)))
        });
        let iso2 = iso_names.and_then(|names| {
            self.iso
                .iter()
                .find(|(code, v)| code.len() == 2 && *v == names)
                .map(|(code, _)| code.as_str())
        });
        if let Some(code) = iso2 {
            let name = iso_names.and_then(|n| n.split('|').next()).unwrap_or(q);
            if EU_MEMBERS.contains(&code) {
                return Err(CbamError::Invalid(format!(
                    "{name} is a member of the EU: goods from it are not imported into the customs territory \
                     and CBAM does not apply (Reg. 2023/956 Art. 2)"
                )));
            }
            if ANNEX_III.contains(&code) {
                return Err(CbamError::Invalid(format!(
                    "{name} is an Annex III country of Reg. 2023/956 (it applies the EU ETS or one linked to \
                     it): goods originating there are not subject to CBAM (Art. 2(4))"
                )));
            }
        }
        let listed = |name: &str| {
            self.countries
                .iter()
                .find(|c| c.as_str() != OTHER_COUNTRIES && c.eq_ignore_ascii_case(name))
                .cloned()
        };
        if let Some(c) = listed(q) {
            return Ok(c);
        }
        if let Some(names) = iso_names {
            if let Some(c) = names.split('|').find_map(listed) {
                return Ok(c);
            }
            // A country the Commission's table does not list: the values for other countries
            // and territories apply to it (`default_value` falls back to them).
            return Ok(names.split('|').next().unwrap_or(q).to_string());
        }
        Err(CbamError::NotFound(format!(
            "{q:?} is not a country Carbon Butler knows (use an English name such as \"China\" or an ISO code \
             such as CN or CHN)"
        )))
    }

    /// The default value for a country and CN code: the row with the longest CN code that is a
    /// prefix of the code asked (`7208` serves `72082700`), or the code's own rows.
    pub fn default_value(&self, country: &str, cn_code: &str) -> Result<&DefaultValue, CbamError> {
        self.default_value_of(country, cn_code, None)
    }

    /// As [`CbamTables::default_value`], choosing among goods that share a code (grey and white
    /// clinker, 2523 10 00; grey and white hydraulic cements, 2523 90 00) by a word of their
    /// description, e.g. `grey` or `white`.
    pub fn default_value_of(
        &self,
        country: &str,
        cn_code: &str,
        variant: Option<&str>,
    ) -> Result<&DefaultValue, CbamError> {
        let cn = normalise_cn(cn_code)?;
        let rows: Vec<&DefaultValue> = self
            .defaults
            .iter()
            .filter(|d| d.country == country && (cn.starts_with(&d.cn_code) || d.cn_code.starts_with(&cn)))
            .collect();
        let rejected = self
            .rejected
            .iter()
            .find(|r| r.country == country && r.cn_code == cn);
        // A blank value, or a country the table does not list: the other countries' row applies
        // (IR 2025/2621 Annex I). A malformed row is an error, never a silent fallback.
        if rows.is_empty() && rejected.is_none() && country != OTHER_COUNTRIES {
            return self.default_value_of(OTHER_COUNTRIES, cn_code, variant);
        }
        if rows.is_empty()
            && let Some(r) = rejected
        {
            return Err(CbamError::Invalid(format!(
                "the default value for {country}, CN {cn} ({}) is unusable: line {} of the Commission file is \
                 malformed ({})",
                r.description, r.line, r.reason
            )));
        }
        // In messages, the fallback rows are named as the regulation names them, not as the
        // Commission's file cuts the name.
        let country = if country == OTHER_COUNTRIES {
            "other countries and territories (their row applies)"
        } else {
            country
        };
        let longest = rows
            .iter()
            .filter(|d| cn.starts_with(&d.cn_code))
            .map(|d| d.cn_code.len())
            .max();
        let mut candidates: Vec<&DefaultValue> = rows
            .iter()
            .copied()
            .filter(|d| Some(d.cn_code.len()) == longest && cn.starts_with(&d.cn_code))
            .collect();
        if let Some(v) = variant.map(str::trim).filter(|v| !v.is_empty()) {
            // A word of the description ("white"), or the production route the row names ("B" or
            // "(B)": grey clinker is route (A), white (B)).
            let route = v.trim_matches(|c| c == '(' || c == ')');
            let words = |d: &DefaultValue| {
                d.description
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w.eq_ignore_ascii_case(v) || (v.eq_ignore_ascii_case("gray") && w == "Grey"))
                    || (route.len() == 1 && d.route.eq_ignore_ascii_case(&format!("({route})")))
            };
            if candidates.len() > 1 || candidates.first().is_some_and(|d| !words(d)) {
                let chosen: Vec<&DefaultValue> = candidates.iter().copied().filter(|d| words(d)).collect();
                if chosen.is_empty() {
                    return Err(CbamError::Invalid(format!(
                        "CN {cn} from {country} has no good called {v:?}: the table lists {}",
                        candidates
                            .iter()
                            .map(|d| d.description.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )));
                }
                candidates = chosen;
            }
        }
        // Several goods under one code (white and grey clinker) with different values: the
        // importer says which (`variant`), never a guess.
        if candidates.len() > 1 && candidates.iter().any(|d| d.total != candidates[0].total) {
            return Err(CbamError::Invalid(format!(
                "CN {cn} covers several goods from {country} with different default values: {}; say which \
                 (grey or white)",
                candidates
                    .iter()
                    .map(|d| format!("{} ({} t/t)", d.description, d.total))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let best = candidates.first().copied();
        match best {
            Some(d) => Ok(d),
            None if rows.len() == 1 => Ok(rows[0]),
            None if rows.is_empty() => Err(CbamError::NotFound(format!(
                "no CBAM default value for CN {cn}: neither the country's row nor the row for other countries \
                 and territories has one (is {cn} a CBAM good?)"
            ))),
            None => Err(CbamError::Invalid(format!(
                "CN {cn} covers several goods with different default values for {country}: {}; give the full code",
                rows.iter()
                    .map(|d| format!(
                        "{} {}",
                        d.cn_code,
                        d.description.chars().take(40).collect::<String>()
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    /// The CBAM benchmark (column B) for a CN code, the production route of the default value
    /// used and the production year: the rows of that route (or of no route) in the year's column
    /// (`(1)` or `(2)`, or rows without a column). Where several remain — the default value names
    /// no route and the code has several — the highest applies (IR 2025/2620 Annex pt 5.1).
    pub fn benchmark(&self, cn_code: &str, route: &str, year: i32) -> Option<&Benchmark> {
        let cn = normalise_cn(cn_code).ok()?;
        let period = benchmark_period(year);
        let of_code: Vec<&Benchmark> = self
            .benchmarks
            .iter()
            .filter(|b| b.cn_code.starts_with(&cn) || cn.starts_with(&b.cn_code))
            .filter(|b| b.period.is_none_or(|p| p == period))
            .collect();
        let with_route: Vec<&Benchmark> = of_code
            .iter()
            .copied()
            .filter(|b| b.route.is_empty() || route.is_empty() || b.route == route)
            .collect();
        let pool = if with_route.is_empty() {
            of_code
        } else {
            with_route
        };
        pool.into_iter().max_by(|a, b| a.value.total_cmp(&b.value))
    }
}

fn rdr_codes() -> HashMap<String, String> {
    let mut iso: HashMap<String, String> = HashMap::new();
    let mut rdr = csv::Reader::from_reader(ISO3166_CSV.as_bytes());
    for rec in rdr.records().flatten() {
        let names: Vec<&str> = [&rec[2], &rec[3], &rec[4]]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect();
        let joined = names.join("|");
        iso.insert(rec[0].to_string(), joined.clone());
        iso.insert(rec[1].to_string(), joined);
    }
    // Names the Commission's file uses that ISO writes differently (its cells are cut at 31
    // characters), and names people use for them that ISO's common names do not give.
    for (code, name) in [
        ("TR", "Turkey"),
        ("RU", "Russia"),
        ("MM", "Myanmar_Burma|Burma"),
        ("BN", "Brunei"),
        (
            "CD",
            "Democratic Republic of the Cong|DR Congo|DRC|Congo-Kinshasa",
        ),
        ("CG", "Congo-Brazzaville"),
    ] {
        let Some(names) = iso.get(code).cloned() else {
            continue;
        };
        let extra: Vec<&str> = name
            .split('|')
            .filter(|n| !names.split('|').any(|m| m.eq_ignore_ascii_case(n)))
            .collect();
        if extra.is_empty() {
            continue;
        }
        let joined = format!("{names}|{}", extra.join("|"));
        let alpha3: Vec<String> = iso
            .iter()
            .filter(|(k, v)| **v == names && k.len() == 3)
            .map(|(k, _)| k.clone())
            .collect();
        for k in alpha3.into_iter().chain([code.to_string()]) {
            iso.insert(k, joined.clone());
        }
    }
    iso
}

/// A CN code of digits only (spaces allowed in input: `7208 27 00`).
pub fn normalise_cn(cn: &str) -> Result<String, CbamError> {
    let digits: String = cn.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() < 4 || digits.len() > 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(CbamError::Invalid(format!(
            "{cn:?} is not a CN code (4 to 10 digits, e.g. 7208 or 72082700)"
        )));
    }
    Ok(digits)
}
