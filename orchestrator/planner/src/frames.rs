//! Question frames as data: `data/planner-frames.toml`.
//!
//! A frame is one kind of question an agent answers: the cues that recognise it (English; the
//! other languages reach them through `data/planner-cues.csv`), the mentions (slots) it uses, its
//! defaults with their bounds, and the task kinds it plans. The rule planner reads the frame of a
//! question from the triggers in file order, takes its settings from here, and decides from the
//! slots whether a mention the question makes is used, named as not used, or refuses the question.
//! The file is checked as a whole when first read ([`load`]): a bad entry is an error that names it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use cb_protocol::{AgentKind, TaskSpec};
use serde::Deserialize;

use crate::mentions;

const FRAMES_TOML: &str = include_str!("../../../data/planner-frames.toml");

/// Sobol base samples a question may ask for at most (the protocol's cap). No frames file may
/// loosen it.
pub use cb_protocol::limits::MAX_SOBOL_SAMPLES;
use cb_protocol::limits::{MAX_MC_ITERATIONS, MAX_PRODUCT_DRAWS, MAX_SOBOL_BOOTSTRAP};

/// What a question asks for: the frames of `data/planner-frames.toml`, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Supply-chain paths behind a region's demand for a product.
    Paths,
    /// Sectors contributing most to an account.
    TopSectors,
    /// Emissions embodied in trade from A to B.
    Transfer,
    /// Consumption-based against territorial (production-based) emissions.
    ConsumptionVsTerritorial,
    /// A consumption-based footprint.
    Footprint,
    /// A product's life-cycle carbon footprint from an inventory database.
    ProductFootprint,
    /// A product's footprint by an MRIO (its sector's multiplier × its price) against its
    /// life-cycle footprint.
    MrioAgainstLca,
    /// What the EU CBAM charges on an import.
    Cbam,
    /// A CBAM default value set against a modelled production route.
    CbamAgainstRoute,
    /// What a forest or other natural sink removes (IPCC AFOLU).
    ForestSink,
    /// Mineral soil carbon after a change of land use, tillage or input.
    SoilCarbon,
    /// Emissions of land cleared or converted.
    LandUseChange,
    /// Carbon kept in harvested wood products.
    WoodProducts,
    /// How an industrial plant can cut emissions: optimal operation and abatement measures.
    Plant,
    /// The carbon intensity of a place's electricity (average or a margin factor).
    GridIntensity,
    /// Emissions exported solar or wind equipment avoids, against its life-cycle emissions.
    AvoidedEmissions,
    /// Global sensitivity (Sobol indices) of the standard test function.
    Sensitivity,
    /// The uncertainty that ecoinvent pedigree scores imply.
    Pedigree,
    /// A product of uncertain factors (activity × emission factor) propagated by Monte Carlo.
    Propagation,
}

impl Intent {
    pub const ALL: [Intent; 19] = [
        Intent::Paths,
        Intent::TopSectors,
        Intent::Transfer,
        Intent::ConsumptionVsTerritorial,
        Intent::Footprint,
        Intent::ProductFootprint,
        Intent::MrioAgainstLca,
        Intent::Cbam,
        Intent::CbamAgainstRoute,
        Intent::ForestSink,
        Intent::SoilCarbon,
        Intent::LandUseChange,
        Intent::WoodProducts,
        Intent::Plant,
        Intent::GridIntensity,
        Intent::AvoidedEmissions,
        Intent::Sensitivity,
        Intent::Pedigree,
        Intent::Propagation,
    ];

    /// The frame's name in `data/planner-frames.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Paths => "paths",
            Intent::TopSectors => "top_sectors",
            Intent::Transfer => "transfer",
            Intent::ConsumptionVsTerritorial => "consumption_vs_territorial",
            Intent::Footprint => "footprint",
            Intent::ProductFootprint => "product_footprint",
            Intent::MrioAgainstLca => "mrio_against_lca",
            Intent::Cbam => "cbam",
            Intent::CbamAgainstRoute => "cbam_against_route",
            Intent::ForestSink => "forest_sink",
            Intent::SoilCarbon => "soil_carbon",
            Intent::LandUseChange => "land_use_change",
            Intent::WoodProducts => "wood_products",
            Intent::Plant => "plant",
            Intent::GridIntensity => "grid_intensity",
            Intent::AvoidedEmissions => "avoided_emissions",
            Intent::Sensitivity => "sensitivity",
            Intent::Pedigree => "pedigree",
            Intent::Propagation => "propagation",
        }
    }
}

/// A mention a frame can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Places,
    Year,
    YearRange,
    Region,
    Sector,
    Stressor,
    Depth,
    TopN,
    CbamGood,
    Quantity,
    Price,
    Product,
    ImpactMethod,
    Route,
    Hours,
    Target,
    Percent,
    ForestArea,
    ForestZone,
    Continent,
    Growth,
    LandArea,
    Climate,
    LandUse,
    SoilStock,
    Biomass,
    WoodProduct,
    Duration,
    SampleCount,
    PedigreeScores,
    UncertainFactors,
}

/// A fact a trigger needs that code reads from the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The question names a plant the factory agent bundles.
    BundledPlant,
    /// The question gives an amount of a product ("1 kg of …").
    ProductAmount,
    /// The question names a production route (BF-BOF, scrap EAF, SMR, …).
    Route,
}

/// One kind of question.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    pub name: Intent,
    pub agent: AgentKind,
    /// Task kinds (`agent.op`) the frame plans.
    pub tasks: Vec<String>,
    /// Task kinds of other agents the frame composes with its own (a CBAM default against a
    /// plant's modelled intensity).
    #[serde(default)]
    pub composes: Vec<String>,
    pub slots: Vec<Slot>,
    /// Cues written alike in every language (names of methods and databases).
    #[serde(default)]
    pub same_in_every_language: Vec<String>,
    #[serde(default)]
    pub defaults: BTreeMap<String, f64>,
    #[serde(default)]
    pub bounds: BTreeMap<String, [f64; 2]>,
}

impl Frame {
    pub fn takes(&self, slot: Slot) -> bool {
        self.slots.contains(&slot)
    }

    /// The default of `key` and its bounds (checked present at load for every key the planner
    /// reads).
    pub fn setting(&self, key: &str) -> Setting {
        let [min, max] = self.bounds.get(key).copied().unwrap_or([f64::MIN, f64::MAX]);
        Setting {
            default: self.defaults.get(key).copied().unwrap_or(min),
            min,
            max,
        }
    }
}

/// A default and the bounds a question's own value must keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    pub default: f64,
    pub min: f64,
    pub max: f64,
}

impl Setting {
    /// The question's value when it is a whole number within the bounds, the default when the
    /// question gives none, and `Err(value)` otherwise (never silently replaced by the default).
    pub fn whole(&self, asked: Option<f64>) -> Result<u32, f64> {
        match asked {
            None => Ok(self.default as u32),
            Some(n) if n.fract() == 0.0 && (self.min..=self.max).contains(&n) => Ok(n as u32),
            Some(n) => Err(n),
        }
    }
}

/// A rule that recognises a frame.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub frame: Intent,
    /// Every group must have one of its cues in the question.
    #[serde(default)]
    pub all: Vec<Vec<String>>,
    #[serde(default)]
    pub needs: Vec<Condition>,
    #[serde(default)]
    pub regions_min: Option<usize>,
    #[serde(default)]
    pub regions_max: Option<usize>,
}

/// True when a word of the normalised text starts with `cue`, or, for a cue ending in a space,
/// when `cue` is a whole word of it.
pub fn cue_in(norm: &str, cue: &str) -> bool {
    norm.contains(&format!(" {cue}"))
}

impl Trigger {
    pub fn holds(&self, norm: &str, regions: usize, condition: impl Fn(Condition) -> bool) -> bool {
        self.regions_min.is_none_or(|n| regions >= n)
            && self.regions_max.is_none_or(|n| regions <= n)
            && self.all.iter().all(|g| g.iter().any(|c| cue_in(norm, c)))
            && self.needs.iter().all(|&c| condition(c))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frames {
    #[serde(rename = "frame")]
    pub frames: Vec<Frame>,
    #[serde(rename = "trigger")]
    pub triggers: Vec<Trigger>,
}

/// Every frame the planner knows, and the settings it reads from each with the hard cap no file
/// may loosen (the bounds that keep one request's cost bounded).
const SETTINGS: &[(Intent, &str, f64)] = &[
    (Intent::Sensitivity, "samples", MAX_SOBOL_SAMPLES as f64),
    (Intent::Sensitivity, "bootstrap", MAX_SOBOL_BOOTSTRAP as f64),
    (Intent::Propagation, "draws", MAX_PRODUCT_DRAWS as f64),
    (Intent::ProductFootprint, "draws", MAX_MC_ITERATIONS as f64),
    (Intent::MrioAgainstLca, "draws", 100_000.0),
    (Intent::Plant, "hours", 8784.0),
    (Intent::CbamAgainstRoute, "hours", 8784.0),
    (Intent::Paths, "depth", 12.0),
    (Intent::Paths, "top", 1000.0),
    (Intent::TopSectors, "top", 1000.0),
];

/// Task kinds the agents accept, as `agent.op`.
const TASK_KINDS: &[&str] = &[
    "trade.national_accounts",
    "trade.mrio_accounts",
    "trade.transfers",
    "trade.top_sectors",
    "trade.supply_chain_paths",
    "trade.multiplier",
    "trade.avoided_emissions",
    "lca.footprint",
    "lca.cbam_cost",
    "sinks.forest",
    "sinks.soil",
    "sinks.land_use_change",
    "sinks.wood_products",
    "factory.optimize",
    "factory.macc",
    "factory.intensity",
    "factory.grid_intensity",
    "uncertainty.sobol",
    "uncertainty.pedigree",
    "uncertainty.product",
];

/// A task's kind, `agent.op`, as the protocol names it.
pub fn task_kind(spec: &TaskSpec) -> String {
    let v = serde_json::to_value(spec).unwrap_or_default();
    format!(
        "{}.{}",
        v["agent"].as_str().unwrap_or("?"),
        v["params"]["op"].as_str().unwrap_or("?")
    )
}

impl Frames {
    pub fn frame(&self, intent: Intent) -> &Frame {
        // `load` checked that every intent has its frame.
        self.frames
            .iter()
            .find(|f| f.name == intent)
            .unwrap_or(&self.frames[0])
    }

    /// The frame whose trigger first holds.
    pub fn recognise(
        &self,
        norm: &str,
        regions: usize,
        condition: impl Fn(Condition) -> bool,
    ) -> Option<Intent> {
        self.triggers
            .iter()
            .find(|t| t.holds(norm, regions, &condition))
            .map(|t| t.frame)
    }

    fn check(&self, glosses: &BTreeMap<mentions::Lang, Vec<String>>) -> Result<(), String> {
        let names: Vec<Intent> = self.frames.iter().map(|f| f.name).collect();
        for intent in Intent::ALL {
            match names.iter().filter(|&&n| n == intent).count() {
                1 => {}
                0 => return Err(format!("no [[frame]] named {:?}", intent.as_str())),
                _ => return Err(format!("two [[frame]]s named {:?}", intent.as_str())),
            }
        }
        for f in &self.frames {
            let at = format!("[[frame]] {:?}", f.name.as_str());
            if f.tasks.is_empty() {
                return Err(format!("{at}: tasks is empty"));
            }
            if let Some(t) = f.composes.iter().find(|c| !f.tasks.contains(c)) {
                return Err(format!("{at}: composes {t:?}, which is not in its tasks"));
            }
            for t in &f.tasks {
                if !TASK_KINDS.contains(&t.as_str()) {
                    return Err(format!(
                        "{at}: unknown task kind {t:?} (known: {})",
                        TASK_KINDS.join(", ")
                    ));
                }
                if !f.composes.contains(t) && !t.starts_with(&format!("{}.", f.agent.as_str())) {
                    return Err(format!(
                        "{at}: task {t:?} is not the {} agent's",
                        f.agent.as_str()
                    ));
                }
            }
            let distinct: BTreeSet<&Slot> = f.slots.iter().collect();
            if distinct.len() != f.slots.len() {
                return Err(format!("{at}: a slot is listed twice"));
            }
            for key in f.defaults.keys().chain(f.bounds.keys()) {
                if !SETTINGS.iter().any(|(i, k, _)| *i == f.name && k == key) {
                    return Err(format!(
                        "{at}: the planner reads no setting {key:?} for this frame"
                    ));
                }
            }
            for cue in &f.same_in_every_language {
                check_cue(&at, cue)?;
            }
        }
        for &(intent, key, cap) in SETTINGS {
            let f = self.frame(intent);
            let at = format!("[[frame]] {:?}", intent.as_str());
            let (Some(&d), Some(&[min, max])) = (f.defaults.get(key), f.bounds.get(key)) else {
                return Err(format!("{at}: {key} needs both a default and bounds"));
            };
            if !(min <= d && d <= max) {
                return Err(format!(
                    "{at}: the default {key} = {d} is outside its bounds [{min}, {max}]"
                ));
            }
            if max > cap || min < 1.0 {
                return Err(format!(
                    "{at}: the bounds of {key} [{min}, {max}] go beyond the planner's limits [1, {cap}]"
                ));
            }
        }
        for (i, t) in self.triggers.iter().enumerate() {
            let at = format!("[[trigger]] {} (frame {:?})", i + 1, t.frame.as_str());
            if t.all.is_empty() && t.needs.is_empty() {
                return Err(format!("{at}: a trigger needs cues or conditions"));
            }
            for g in &t.all {
                if g.is_empty() {
                    return Err(format!("{at}: an empty group of cues"));
                }
                for cue in g {
                    check_cue(&at, cue)?;
                }
            }
        }
        // Every frame a trigger recognises is reachable in every language: through its cues'
        // glosses, or through cues written alike everywhere, or through conditions only.
        for f in &self.frames {
            let triggers: Vec<&Trigger> = self.triggers.iter().filter(|t| t.frame == f.name).collect();
            if triggers.is_empty() {
                if f.name != Intent::Propagation {
                    return Err(format!(
                        "[[frame]] {:?}: no trigger recognises it",
                        f.name.as_str()
                    ));
                }
                continue;
            }
            for (lang, gl) in glosses {
                let reached = |cue: &String| {
                    f.same_in_every_language.contains(cue)
                        || gl.iter().any(|g| cue_in(&format!(" {g} "), cue))
                };
                if !triggers
                    .iter()
                    .any(|t| t.all.iter().all(|g| g.iter().any(reached)))
                {
                    return Err(format!(
                        "[[frame]] {:?}: no phrase of data/planner-cues.csv in {} reaches its triggers' cues",
                        f.name.as_str(),
                        lang.code()
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_cue(at: &str, cue: &str) -> Result<(), String> {
    let ok = !cue.trim().is_empty()
        && !cue.starts_with(' ')
        && cue
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' ' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{at}: the cue {cue:?} is not in the normalised form the rules read (lower-case ASCII \
             words, a trailing space for a whole word)"
        ))
    }
}

fn parse(text: &str) -> Result<Frames, String> {
    let frames: Frames = toml::from_str(text).map_err(|e| format!("data/planner-frames.toml: {e}"))?;
    frames
        .check(&mentions::glosses_by_lang())
        .map_err(|e| format!("data/planner-frames.toml: {e}"))?;
    Ok(frames)
}

/// The bundled frames, read and checked once.
pub fn load() -> Result<&'static Frames, String> {
    static FRAMES: OnceLock<Result<Frames, String>> = OnceLock::new();
    FRAMES
        .get_or_init(|| parse(FRAMES_TOML))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_frames_pass_their_checks() {
        let f = load().unwrap();
        assert_eq!(f.frames.len(), Intent::ALL.len());
        assert_eq!(f.frame(Intent::Sensitivity).setting("samples").default, 10_000.0);
    }

    /// Each check can fail, and says which entry is wrong.
    #[test]
    fn a_bad_frames_file_is_refused_with_the_entry_named() {
        let cases = [
            (
                "tasks = [\"uncertainty.sobol\"]",
                "tasks = [\"uncertainty.sobo\"]",
                "unknown task kind",
            ),
            (
                "tasks = [\"sinks.forest\"]",
                "tasks = [\"lca.footprint\"]",
                "is not the sinks agent's",
            ),
            (
                "composes = [\"factory.intensity\"]",
                "composes = [\"factory.optimize\"]",
                "which is not in its tasks",
            ),
            (
                "tasks = [\"lca.cbam_cost\", \"factory.intensity\"]",
                "tasks = [\"lca.cbam_cost\", \"factory.macc\", \"factory.intensity\"]",
                "is not the lca agent's",
            ),
            (
                "defaults = { samples = 10000,",
                "defaults = { samples = 1000000,",
                "outside its bounds",
            ),
            (
                "bounds = { samples = [10, 100000]",
                "bounds = { samples = [10, 10000000]",
                "beyond the planner's limits",
            ),
            (
                "all = [[\"sobol\", \"ishigami\"]]",
                "all = [[\"Sobol\"]]",
                "normalised form",
            ),
            (
                "slots = [\"pedigree_scores\"]",
                "slots = [\"pedigree_score\"]",
                "unknown variant",
            ),
            ("name = \"pedigree\"", "name = \"pedigrees\"", "unknown variant"),
            (
                "same_in_every_language = [\"sobol\", \"ishigami\"]",
                "same_in_every_language = []",
                "\"sensitivity\": no phrase",
            ),
        ];
        for (from, to, says) in cases {
            assert!(FRAMES_TOML.contains(from), "{from}");
            let text = FRAMES_TOML.replacen(from, to, 1);
            let err = parse(&text).expect_err(to);
            assert!(err.contains(says), "{to}: {err}");
        }
        // A frame without a trigger is unreachable.
        let text = FRAMES_TOML.replace("[[trigger]]\nframe = \"pedigree\"\nall = [[\"pedigree\"]]\n", "");
        assert!(parse(&text).unwrap_err().contains("no trigger recognises it"));
    }

    /// A new phrasing is a data change: a cue added to the file recognises a question that
    /// no cue recognised before.
    #[test]
    fn a_new_cue_in_the_data_recognises_a_new_phrasing() {
        let norm = " how big is the carbon sink of a 500 ha treescape in the tropics ";
        let none = |_| false;
        assert_eq!(
            load().unwrap().recognise(norm, 0, none),
            Some(Intent::ConsumptionVsTerritorial)
        );
        let text = FRAMES_TOML.replacen("\"rainforest \",", "\"rainforest \", \"treescape \",", 1);
        let frames = parse(&text).unwrap();
        assert_eq!(frames.recognise(norm, 0, none), Some(Intent::ForestSink));
    }
}
