//! The plants, measures and hourly profile compiled into the binary (`data/factory/`).

use crate::FactoryError;
use crate::engine::macc::Measures;
use crate::model::Plant;
use crate::profile::Profile;

/// Bundled plant ids and their files.
pub const PLANTS: &[(&str, &str)] = &[
    (
        "scrap-eaf",
        include_str!("../../../data/factory/plants/scrap-eaf.toml"),
    ),
    (
        "gas-dri-eaf",
        include_str!("../../../data/factory/plants/gas-dri-eaf.toml"),
    ),
    (
        "h2-dri-eaf",
        include_str!("../../../data/factory/plants/h2-dri-eaf.toml"),
    ),
    ("bf-bof", include_str!("../../../data/factory/plants/bf-bof.toml")),
    ("cement", include_str!("../../../data/factory/plants/cement.toml")),
    (
        "cement-ccs",
        include_str!("../../../data/factory/plants/cement-ccs.toml"),
    ),
    (
        "ammonia-smr",
        include_str!("../../../data/factory/plants/ammonia-smr.toml"),
    ),
    (
        "ammonia-smr-ccs",
        include_str!("../../../data/factory/plants/ammonia-smr-ccs.toml"),
    ),
    (
        "ammonia-electrolysis",
        include_str!("../../../data/factory/plants/ammonia-electrolysis.toml"),
    ),
];

/// Bundled measures by plant id: SYNTHETIC, illustrative numbers (see each file's description).
/// No measures ship for the DRI, BF-BOF or ammonia plants.
pub const MEASURES: &[(&str, &str)] = &[
    (
        "scrap-eaf",
        include_str!("../../../data/factory/measures/scrap-eaf.toml"),
    ),
    (
        "cement",
        include_str!("../../../data/factory/measures/cement.toml"),
    ),
];

/// The bundled hourly profile: SYNTHETIC (see the file's header).
pub const PROFILE_CSV: &str = include_str!("../../../data/factory/grid-profile-synthetic.csv");

/// The bundled hourly profiles by id, both SYNTHETIC: `synthetic` (price and grid intensity
/// correlate at 0.98, so a least-cost schedule is also a low-carbon one) and
/// `synthetic-decoupled` (0.60: they share the residual load but part through a gas-price shock
/// and the coal share; see `data/factory/make_decoupled_profile.py`).
pub const PROFILES: &[(&str, &str)] = &[
    ("synthetic", PROFILE_CSV),
    (
        "synthetic-decoupled",
        include_str!("../../../data/factory/grid-profile-synthetic-decoupled.csv"),
    ),
];

/// A bundled file by id, else the file at that path; `parse` reads the text with its origin.
fn bundled_or_file<T>(
    id_or_path: &str,
    table: &[(&str, &str)],
    what: &str,
    parse: impl Fn(&str, &str) -> Result<T, FactoryError>,
) -> Result<T, FactoryError> {
    if let Some((id, text)) = table.iter().find(|(id, _)| *id == id_or_path) {
        return parse(text, &format!("bundled {what} {id}"));
    }
    let path = std::path::Path::new(id_or_path);
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FactoryError::PlantFile(format!("{}: {e}", path.display())))?;
        return parse(&text, &path.display().to_string());
    }
    Err(FactoryError::NotFound(format!(
        "no bundled {what} {id_or_path:?} and no such file; bundled: {}",
        table.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(", ")
    )))
}

/// A plant by bundled id, or from a TOML file at that path.
pub fn plant(id_or_path: &str) -> Result<Plant, FactoryError> {
    bundled_or_file(id_or_path, PLANTS, "plant", Plant::from_toml)
}

/// Bundled measures of a plant, or measures from a TOML file at that path.
pub fn measures(id_or_path: &str) -> Result<Measures, FactoryError> {
    bundled_or_file(id_or_path, MEASURES, "measures", Measures::from_toml)
}

/// The bundled profile (8,760 synthetic hours).
pub fn profile() -> Profile {
    Profile::from_csv(PROFILE_CSV, "bundled grid profile").expect("the bundled profile is checked by tests")
}

/// A bundled profile by id, or a profile CSV at that path.
pub fn profile_named(id_or_path: &str) -> Result<Profile, FactoryError> {
    bundled_or_file(id_or_path, PROFILES, "profile", Profile::from_csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_file_loads_and_its_baseline_balances() {
        let prof = profile().horizon(48);
        assert_eq!(profile().hours(), 8760);
        for (id, _) in PROFILES {
            let p = profile_named(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(p.hours(), 8760, "{id}");
        }
        // The ids a task may name over the API are these.
        let ids: Vec<&str> = PROFILES.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, cb_protocol::BUNDLED_PROFILES);
        for (id, _) in PLANTS {
            let p = plant(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            let run = crate::engine::simulate::simulate(
                &p,
                &prof,
                &crate::engine::simulate::baseline_schedule(&p, 48),
                |_, _| {},
            )
            .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(run.totals.emissions_t >= 0.0 && run.totals.cost_eur > 0.0, "{id}");
            for u in &p.units {
                assert!(
                    !u.source.is_empty() && p.sources.contains_key(&u.source),
                    "{id}: {} has no source",
                    u.name
                );
            }
        }
        for (id, _) in MEASURES {
            measures(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(
                PLANTS.iter().any(|(p, _)| p == id),
                "{id}: measures for a plant not bundled"
            );
        }
        // Every measures file in data/ is bundled: none is left unread.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/factory/measures");
        for f in std::fs::read_dir(dir).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().to_string();
            let id = name.trim_end_matches(".toml");
            assert!(MEASURES.iter().any(|(m, _)| *m == id), "{name} is not bundled");
        }
        assert!(
            plant("no-such-plant")
                .unwrap_err()
                .to_string()
                .contains("bundled: scrap-eaf")
        );
    }
}
