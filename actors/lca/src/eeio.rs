//! Environmentally-extended input-output multipliers for comparing a footprint with the
//! multiplier of its product group: the US EPA's import emission factors for USEEIO (from
//! EXIOBASE 3, 2019, BEA 2017-schema detail sectors, seven exporting regions; kg per USD at basic
//! prices), characterised with the footprint's own method.
//!
//! The comparison: `h / (m · p)`, the footprint per unit `h` against the multiplier `m` (kg CO2e
//! per USD) times the product's price `p` (USD per unit, given by the user: no price is bundled).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::method::{FlowMatch, ImpactMethod};

const BUNDLED: &str =
    include_str!("../../../data/useeio/Regional_detail_import_factors_exiobase_2019_17sch.csv");

/// The factor of ratio within which a footprint and multiplier × price agree: an EEIO sector
/// averages many products at basic prices, so this screens for unit mistakes and wrong processes,
/// not for small differences.
pub const AGREEMENT_FACTOR: f64 = 3.0;

/// Why a multiplier cannot be given.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EeioError {
    #[error("import factors, line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("no import factors for region {region:?} (regions: {known})")]
    UnknownRegion { region: String, known: String },
    #[error("no import factors for BEA sector {sector:?} from {region}")]
    UnknownSector { region: String, sector: String },
}

/// One flow of a multiplier.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorRow {
    pub flowable: String,
    /// `kg` or `kg CO2e` (already characterised by the source).
    pub unit: String,
    /// Per USD.
    pub amount: f64,
}

/// Import factors by (region, BEA sector).
#[derive(Debug)]
pub struct ImportFactors {
    pub year: i32,
    rows: BTreeMap<(String, String), Vec<FactorRow>>,
}

/// A characterised multiplier.
#[derive(Debug, Clone, PartialEq)]
pub struct Multiplier {
    pub region: String,
    pub sector: String,
    pub year: i32,
    pub kg_co2e_per_usd: f64,
    /// Flows with no factor in the method (listed, not dropped).
    pub unmatched: Vec<String>,
}

impl ImportFactors {
    /// Parses the `Regional_detail_import_factors_*.csv` layout: Region, Sector, Year, Unit,
    /// ReferenceCurrency, PriceType, Flowable, Context, FlowUUID, FlowAmount, BaseIOLevel.
    pub fn parse(text: &str) -> Result<ImportFactors, EeioError> {
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let mut rows: BTreeMap<(String, String), Vec<FactorRow>> = BTreeMap::new();
        let mut year = 0;
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let bad = |reason: String| EeioError::Malformed { line, reason };
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            if rec.len() < 11 {
                return Err(bad(format!("{} fields, expected 11", rec.len())));
            }
            if &rec[4] != "USD" {
                return Err(bad(format!("reference currency {:?}, expected USD", &rec[4])));
            }
            let amount: f64 = rec[9]
                .parse()
                .map_err(|_| bad(format!("FlowAmount {:?} is not a number", &rec[9])))?;
            year = rec[2]
                .parse()
                .map_err(|_| bad(format!("Year {:?} is not a year", &rec[2])))?;
            rows.entry((rec[0].to_string(), rec[1].to_string()))
                .or_default()
                .push(FactorRow {
                    flowable: rec[6].to_string(),
                    unit: rec[3].to_string(),
                    amount,
                });
        }
        Ok(ImportFactors { year, rows })
    }

    /// The bundled 2019 factors (parsed once).
    pub fn bundled() -> &'static ImportFactors {
        static F: OnceLock<ImportFactors> = OnceLock::new();
        F.get_or_init(|| ImportFactors::parse(BUNDLED).expect("the bundled import factors parse"))
    }

    pub fn regions(&self) -> Vec<&str> {
        let mut r: Vec<&str> = self.rows.keys().map(|(r, _)| r.as_str()).collect();
        r.dedup();
        r
    }

    /// The multiplier of a region's sector in kg CO2e per USD: `m = Σ_k c_k·e_k` over the flows,
    /// with `c` from `method` (a flow the source gives in kg CO2e counts with factor 1).
    pub fn multiplier(
        &self,
        region: &str,
        sector: &str,
        method: &ImpactMethod,
    ) -> Result<Multiplier, EeioError> {
        let region = region.trim().to_uppercase();
        if !self.rows.keys().any(|(r, _)| *r == region) {
            return Err(EeioError::UnknownRegion {
                known: self.regions().join(", "),
                region,
            });
        }
        let flows = self
            .rows
            .get(&(region.clone(), sector.trim().to_string()))
            .ok_or_else(|| EeioError::UnknownSector {
                region: region.clone(),
                sector: sector.trim().to_string(),
            })?;
        let air = ["emission".to_string(), "air".to_string()];
        let mut total = 0.0;
        let mut unmatched = Vec::new();
        for f in flows {
            if f.unit == "kg CO2e" {
                total += f.amount;
                continue;
            }
            match method.match_flow(&f.flowable, &air, None) {
                FlowMatch::Matched { factor, .. } => total += factor * f.amount,
                FlowMatch::Unmatched => unmatched.push(f.flowable.clone()),
            }
        }
        Ok(Multiplier {
            region,
            sector: sector.trim().to_string(),
            year: self.year,
            kg_co2e_per_usd: total,
            unmatched,
        })
    }
}

/// `h / (m·p)`: the footprint per unit against the multiplier times the price.
pub fn footprint_to_multiplier_ratio(
    footprint_per_unit: f64,
    kg_co2e_per_usd: f64,
    price_usd_per_unit: f64,
) -> f64 {
    footprint_per_unit / (kg_co2e_per_usd * price_usd_per_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_iron_and_steel_mills() {
        let f = ImportFactors::bundled();
        assert_eq!(f.year, 2019);
        assert_eq!(f.regions(), ["APAC", "CA", "CN", "EU", "JP", "MX", "ROW"]);
        let m = f
            .multiplier("cn", "331110", ImpactMethod::ipcc_ar6_gwp100())
            .unwrap();
        // CO2 1.7637 + CH4 0.0069370 × 29.8 + N2O 4.8265e-5 × 273 + SF6 1.0369e-7 × 25,200
        // + HFCs/PFCs 0.010158 (kg CO2e) — the file's values by hand.
        let by_hand = 1.763_665_550_155_647_5
            + 0.006_936_950_974_322_025 * 29.8
            + 4.826_483_652_953_012_6e-5 * 273.0
            + 1.036_930_494_416_804_8e-7 * 25_200.0
            + 0.010_158_041_457_123_273;
        assert!(
            (m.kg_co2e_per_usd - by_hand).abs() < 1e-6 * by_hand,
            "{} vs {by_hand}",
            m.kg_co2e_per_usd
        );
        assert!(m.unmatched.is_empty(), "{:?}", m.unmatched);
    }

    #[test]
    fn unknown_regions_sectors_and_bad_rows_are_named() {
        let f = ImportFactors::bundled();
        let gwp = ImpactMethod::ipcc_ar6_gwp100();
        assert!(matches!(
            f.multiplier("US", "331110", gwp),
            Err(EeioError::UnknownRegion { .. })
        ));
        let e = f.multiplier("CN", "999999", gwp).unwrap_err();
        assert!(e.to_string().contains("999999"), "{e}");
        let e = ImportFactors::parse(
            "Region,Sector,Year,Unit,ReferenceCurrency,PriceType,Flowable,Context,FlowUUID,FlowAmount,BaseIOLevel\n\
             CN,331110,2019,kg,USD,Basic,Carbon dioxide,emission/air,x,lots,Detail\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "import factors, line 2: FlowAmount \"lots\" is not a number"
        );
    }
}
