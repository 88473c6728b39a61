//! Impact assessment methods and the matching of real inventory flows to their factors.
//!
//! Inventory databases name the same substance in many ways ("Carbon dioxide" and "Carbon
//! dioxide, fossil", "Methane [Organic emissions to air]", "Dinitrogen monoxide" and "Nitrous
//! oxide (laughing gas)", trailing spaces, CAS numbers with leading zeros). A flow is matched by
//! its cleaned name, then by synonym, then by CAS number, always within its compartment; every
//! match says how it was made, and a flow that matches nothing is reported, never dropped.

use std::collections::HashMap;
use std::sync::OnceLock;

const GWP100_CSV: &str = include_str!("../../../data/lcia/ipcc-ar6-gwp100.csv");
const GWP20_CSV: &str = include_str!("../../../data/lcia/ipcc-ar6-gwp20.csv");

/// Where an elementary flow goes to or comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compartment {
    Air,
    Water,
    Soil,
    Resource,
    Unknown,
}

/// The compartment of a flow from its category path and name (`"Elementary flows/Emission to
/// air"`, `["air", "low population density"]`, `"… [Inorganic emissions to air]"`).
pub fn compartment_of(category: &[String], name: &str) -> Compartment {
    let text = format!(
        "{} {}",
        category.join("/"),
        bracket_suffix(name).unwrap_or_default()
    )
    .to_lowercase();
    if text.contains("resource") || text.contains("raw material") {
        Compartment::Resource
    } else if text.contains("air") {
        Compartment::Air
    } else if text.contains("water") {
        Compartment::Water
    } else if text.contains("soil") {
        Compartment::Soil
    } else {
        Compartment::Unknown
    }
}

fn bracket_suffix(name: &str) -> Option<&str> {
    let open = name.rfind('[')?;
    name[open..].contains(']').then(|| &name[open..])
}

/// A name cleaned for matching: trimmed, lower-case, without a trailing `[...]` category suffix,
/// whitespace collapsed.
pub fn clean_name(name: &str) -> String {
    let base = match name.rfind('[') {
        Some(i) if name[i..].trim_end().ends_with(']') => &name[..i],
        _ => name,
    };
    base.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// How a flow was matched to a factor.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum MatchRule {
    /// The cleaned name equals the method's name.
    Name,
    /// A known synonym of the method's name.
    Synonym { method_name: String },
    /// The CAS number identifies the substance.
    Cas { cas: String, method_name: String },
    /// Matched under a stated assumption (e.g. unqualified CO2 taken as fossil).
    Assumption { method_name: String, assumption: String },
    /// Biogenic carbon, counted with factor 0 under this method's convention.
    Biogenic { convention: String },
}

/// The outcome of matching one flow.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowMatch {
    Matched {
        factor: f64,
        rule: MatchRule,
    },
    /// No factor in this method: reported as unmatched.
    Unmatched,
}

/// A characterisation method: factors by (cleaned name, compartment).
#[derive(Debug)]
pub struct ImpactMethod {
    pub id: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub source: &'static str,
    factors: HashMap<(String, Compartment), (String, f64)>,
}

/// Synonyms (cleaned) → the method's name, for names that mean the same substance.
const SYNONYMS: &[(&str, &str)] = &[
    ("nitrous oxide", "Dinitrogen monoxide"),
    ("nitrous oxide (laughing gas)", "Dinitrogen monoxide"),
    ("n2o", "Dinitrogen monoxide"),
    ("sulphur hexafluoride", "Sulfur hexafluoride"),
    ("sf6", "Sulfur hexafluoride"),
    ("methane, biogenic", "Methane, non-fossil"),
    // ecoinvent renamed the flow in 3.9; the substance and its factor are the same.
    (
        "carbon dioxide, land transformation",
        "Carbon dioxide, from soil or biomass stock",
    ),
];

/// Unqualified names taken as fossil, with the assumption stated in every result.
const ASSUMED_FOSSIL: &[(&str, &str)] = &[
    ("carbon dioxide", "Carbon dioxide, fossil"),
    ("co2", "Carbon dioxide, fossil"),
    ("methane", "Methane, fossil"),
    ("ch4", "Methane, fossil"),
];

/// Biogenic CO2 names: emissions and uptake counted with factor 0.
const BIOGENIC_CO2: &[&str] = &[
    "carbon dioxide, biogenic",
    "carbon dioxide, non-fossil",
    "carbon dioxide, in air",
    "carbon dioxide, from biomass",
];

/// CAS numbers (leading zeros removed) of the main greenhouse gases → the method's name.
const CAS: &[(&str, &str)] = &[
    ("124-38-9", "Carbon dioxide, fossil"),
    ("74-82-8", "Methane, fossil"),
    ("10024-97-2", "Dinitrogen monoxide"),
    ("2551-62-4", "Sulfur hexafluoride"),
];

/// A CAS number without leading zeros in its first group (`010024-97-2` → `10024-97-2`).
pub fn normalise_cas(cas: &str) -> String {
    let cas = cas.trim();
    match cas.split_once('-') {
        Some((first, rest)) => format!("{}-{rest}", first.trim_start_matches('0')),
        None => cas.to_string(),
    }
}

const FOSSIL_ASSUMPTION: &str = "an unqualified name is taken as the fossil substance";
const BIOGENIC_CONVENTION: &str =
    "biogenic CO2 (emission and uptake) has factor 0 in this method; its amount is reported separately";

impl ImpactMethod {
    fn from_csv(
        id: &'static str,
        name: &'static str,
        source: &'static str,
        csv_text: &str,
    ) -> Result<Self, String> {
        let mut factors = HashMap::new();
        let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
            let compartment = match &rec[1] {
                "air" => Compartment::Air,
                "soil" => Compartment::Soil,
                "water" => Compartment::Water,
                other => return Err(format!("line {}: unknown compartment {other:?}", i + 2)),
            };
            let value: f64 = rec[2]
                .parse()
                .map_err(|_| format!("line {}: {:?} is not a number", i + 2, &rec[2]))?;
            factors.insert((clean_name(&rec[0]), compartment), (rec[0].to_string(), value));
        }
        Ok(ImpactMethod {
            id,
            name,
            unit: "kg CO2-eq",
            source,
            factors,
        })
    }

    /// IPCC AR6 GWP100 (bundled).
    pub fn ipcc_ar6_gwp100() -> &'static ImpactMethod {
        static M: OnceLock<ImpactMethod> = OnceLock::new();
        M.get_or_init(|| {
            ImpactMethod::from_csv(
                "ipcc-ar6-gwp100",
                "IPCC AR6 GWP100",
                "IPCC AR6 WG1 ch. 7, table 7.15 (2021), via bw2io 0.9.17's IPCC 2021 GWP100 for ecoinvent 3.9 names",
                GWP100_CSV,
            )
            .expect("the bundled method file is checked by tests")
        })
    }

    /// IPCC AR6 GWP20 (bundled). The same 47 substances as GWP100; see `data/SOURCES.md` for
    /// which values were checked against a second source.
    pub fn ipcc_ar6_gwp20() -> &'static ImpactMethod {
        static M: OnceLock<ImpactMethod> = OnceLock::new();
        M.get_or_init(|| {
            ImpactMethod::from_csv(
                "ipcc-ar6-gwp20",
                "IPCC AR6 GWP20",
                "IPCC AR6 WG1 ch. 7, tables 7.15 and 7.SM.7 (2021), via premise_gwp's IPCC 2021 GWP20a \
                 (CH4 non-fossil 79.75 = fossil 82.5 - 2.75)",
                GWP20_CSV,
            )
            .expect("the bundled method file is checked by tests")
        })
    }

    /// Looks a method by its id up.
    pub fn by_id(id: &str) -> Option<&'static ImpactMethod> {
        match id {
            "ipcc-ar6-gwp100" => Some(Self::ipcc_ar6_gwp100()),
            "ipcc-ar6-gwp20" => Some(Self::ipcc_ar6_gwp20()),
            _ => None,
        }
    }

    /// Ids of the bundled methods.
    pub const IDS: &'static [&'static str] = &["ipcc-ar6-gwp100", "ipcc-ar6-gwp20"];

    /// Number of factors.
    pub fn len(&self) -> usize {
        self.factors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.factors.is_empty()
    }

    fn lookup(&self, method_name: &str, compartment: Compartment) -> Option<f64> {
        self.factors
            .get(&(clean_name(method_name), compartment))
            .map(|(_, v)| *v)
    }

    /// Matches one elementary flow: by name, synonym, stated assumption, CAS, in that order,
    /// within the flow's compartment. Biogenic CO2 is matched explicitly with factor 0.
    pub fn match_flow(&self, name: &str, category: &[String], cas: Option<&str>) -> FlowMatch {
        let compartment = compartment_of(category, name);
        let clean = clean_name(name);
        if let Some((_, v)) = self.factors.get(&(clean.clone(), compartment)) {
            return FlowMatch::Matched {
                factor: *v,
                rule: MatchRule::Name,
            };
        }
        if self.id.starts_with("ipcc")
            && (compartment == Compartment::Air || compartment == Compartment::Resource)
            && BIOGENIC_CO2.contains(&clean.as_str())
        {
            return FlowMatch::Matched {
                factor: 0.0,
                rule: MatchRule::Biogenic {
                    convention: BIOGENIC_CONVENTION.into(),
                },
            };
        }
        // Names with a parenthetical remark ("Nitrous oxide (laughing gas)") are tried without it.
        let without_parens = match (clean.find(" ("), clean.ends_with(')')) {
            (Some(i), true) => Some(clean[..i].to_string()),
            _ => None,
        };
        for candidate in std::iter::once(&clean).chain(without_parens.as_ref()) {
            if let Some((_, method_name)) = SYNONYMS.iter().find(|(s, _)| s == candidate)
                && let Some(v) = self.lookup(method_name, compartment)
            {
                return FlowMatch::Matched {
                    factor: v,
                    rule: MatchRule::Synonym {
                        method_name: method_name.to_string(),
                    },
                };
            }
            if let Some((_, method_name)) = ASSUMED_FOSSIL.iter().find(|(s, _)| s == candidate)
                && let Some(v) = self.lookup(method_name, compartment)
            {
                return FlowMatch::Matched {
                    factor: v,
                    rule: MatchRule::Assumption {
                        method_name: method_name.to_string(),
                        assumption: FOSSIL_ASSUMPTION.into(),
                    },
                };
            }
        }
        if let Some(cas) = cas.map(normalise_cas)
            && let Some((_, method_name)) = CAS.iter().find(|(c, _)| *c == cas)
            && let Some(v) = self.lookup(method_name, compartment)
        {
            return FlowMatch::Matched {
                factor: v,
                rule: MatchRule::Cas {
                    cas,
                    method_name: method_name.to_string(),
                },
            };
        }
        FlowMatch::Unmatched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(path: &[&str]) -> Vec<String> {
        path.iter().map(|s| s.to_string()).collect()
    }

    fn factor(name: &str, path: &[&str], cas: Option<&str>) -> Option<f64> {
        match ImpactMethod::ipcc_ar6_gwp100().match_flow(name, &cat(path), cas) {
            FlowMatch::Matched { factor, .. } => Some(factor),
            FlowMatch::Unmatched => None,
        }
    }

    #[test]
    fn the_bundled_method_has_ipccs_values() {
        let m = ImpactMethod::ipcc_ar6_gwp100();
        assert_eq!(m.len(), 47);
        assert_eq!(
            factor("Carbon dioxide, fossil", &["air", "unspecified"], None),
            Some(1.0)
        );
        assert_eq!(factor("Methane, fossil", &["air"], None), Some(29.8));
        assert_eq!(factor("Methane, non-fossil", &["air"], None), Some(27.0));
        assert_eq!(
            factor("Dinitrogen monoxide", &["air", "stratosphere"], None),
            Some(273.0)
        );
        assert_eq!(factor("Sulfur hexafluoride", &["air"], None), Some(25200.0));
    }

    #[test]
    fn gwp20_weighs_short_lived_gases_more_and_covers_the_same_substances() {
        let (m20, m100) = (ImpactMethod::ipcc_ar6_gwp20(), ImpactMethod::ipcc_ar6_gwp100());
        assert_eq!(m20.len(), m100.len());
        for key in m100.factors.keys() {
            assert!(m20.factors.contains_key(key), "{key:?} has no GWP20 factor");
        }
        let f20 = |name: &str| match m20.match_flow(name, &cat(&["air"]), None) {
            FlowMatch::Matched { factor, .. } => factor,
            FlowMatch::Unmatched => panic!("{name} unmatched"),
        };
        assert_eq!(f20("Carbon dioxide, fossil"), 1.0);
        assert_eq!(f20("Methane, fossil"), 82.5);
        assert_eq!(f20("Methane, non-fossil"), 79.75);
        assert_eq!(f20("Dinitrogen monoxide"), 273.0);
        assert_eq!(f20("Sulfur hexafluoride"), 18300.0);
        assert_eq!(f20("Methane, tetrafluoro-, R-14"), 5300.0);
        // Matching rules are the method's, not the file's: an unqualified name still works.
        assert_eq!(f20("Methane [Organic emissions to air]"), 82.5);
    }

    #[test]
    fn real_world_names_match() {
        let netl = ["Elementary Flows", "NETL Elementary Flows", "Emission to air"];
        assert_eq!(
            factor("Methane [Organic emissions to air]", &netl, None),
            Some(29.8)
        );
        assert_eq!(
            factor(
                "Nitrous oxide (laughing gas) [Inorganic emissions to air]",
                &netl,
                None
            ),
            Some(273.0)
        );
        assert_eq!(
            factor("Carbon dioxide ", &["air", "low population density"], None),
            Some(1.0)
        );
        assert_eq!(
            factor(
                "Dinitrogen monoxide",
                &["Elementary Flows", "air", "unspecified"],
                Some("010024-97-2")
            ),
            Some(273.0)
        );
        assert_eq!(factor("N2O, total", &["air"], Some("010024-97-2")), Some(273.0));
        assert_eq!(
            factor(
                "Carbon dioxide, land transformation",
                &["air", "unspecified"],
                None
            ),
            Some(1.0)
        );
        // Biogenic carbon is explicit, with factor 0.
        let m = ImpactMethod::ipcc_ar6_gwp100();
        assert!(matches!(
            m.match_flow("Carbon dioxide, in air", &cat(&["resource", "in air"]), None),
            FlowMatch::Matched {
                factor: 0.0,
                rule: MatchRule::Biogenic { .. }
            }
        ));
        assert!(matches!(
            m.match_flow("Carbon dioxide, biogenic", &cat(&["air"]), None),
            FlowMatch::Matched {
                factor: 0.0,
                rule: MatchRule::Biogenic { .. }
            }
        ));
        // Not a greenhouse gas, or the wrong compartment: unmatched.
        assert_eq!(factor("Nitrogen oxides", &["air"], None), None);
        assert_eq!(factor("Methane, fossil", &["water", "unspecified"], None), None);
    }
}
