//! EcoSpold2 import: a hand-made two-activity zip with units to convert, and the USLCI export.

use std::io::Write;
use std::path::{Path, PathBuf};

use cb_lca::assessment::Model;
use cb_lca::data::{ImportOptions, MultiOutput, ecospold2, load};
use cb_lca::method::ImpactMethod;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn spold(id: &str, name: &str, exchanges: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ecoSpold xmlns="http://www.EcoInvent.org/EcoSpold02"><activityDataset>
<activityDescription><activity id="{id}"><activityName>{name}</activityName></activity>
<geography><shortname>US</shortname></geography></activityDescription>
<flowData>{exchanges}</flowData></activityDataset></ecoSpold>"#
    )
}

fn product(id: &str, name: &str, amount: f64, unit: &str, group: &str) -> String {
    format!(
        r#"<intermediateExchange amount="{amount}" intermediateExchangeId="{id}"><name>{name}</name><unitName>{unit}</unitName>{group}</intermediateExchange>"#
    )
}

fn emission(id: &str, name: &str, amount: f64, unit: &str) -> String {
    format!(
        r#"<elementaryExchange amount="{amount}" elementaryExchangeId="{id}"><name>{name}</name><unitName>{unit}</unitName><compartment><compartment>air</compartment><subcompartment>unspecified</subcompartment></compartment><outputGroup>4</outputGroup></elementaryExchange>"#
    )
}

/// Electricity (1 kWh: 0.8 kg CO2) and aluminium (1 t: 15,000 kWh given as 54,000 MJ; 2 t CO2
/// given in t; 1 m3 of water as 1,000 l is ignored here). By hand, per kg of aluminium:
/// 15 kWh × 0.8 + 2 kg = 14 kg CO2-eq.
fn write_zip(path: &Path, with_unknown_unit: bool) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    let elec = spold(
        "a-elec",
        "electricity, coal",
        &(product(
            "p-elec",
            "electricity",
            1.0,
            "kWh",
            "<outputGroup>0</outputGroup>",
        ) + &emission("e-co2", "Carbon dioxide, fossil", 0.8, "kg")),
    );
    let unit = if with_unknown_unit { "barrels" } else { "MJ" };
    let alu = spold(
        "a-alu",
        "aluminium smelting",
        &(product("p-alu", "aluminium", 1.0, "t", "<outputGroup>0</outputGroup>")
            + &product(
                "p-elec",
                "electricity",
                54_000.0,
                unit,
                "<inputGroup>5</inputGroup>",
            )
            + &emission("e-co2", "Carbon dioxide, fossil", 2.0, "t")),
    );
    for (name, text) in [
        ("Activities/a.spold", elec),
        ("Activities/b.spold", alu),
        ("Activities/empty.spold", spold("a-empty", "empty", "")),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn a_hand_made_zip_with_units_to_convert() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.zip");
    write_zip(&path, false);
    let db = load(&path, &ImportOptions::default()).unwrap();
    assert_eq!(db.activities.len(), 2);
    assert!(
        db.remarks
            .iter()
            .any(|r| r.text.contains("1 dataset(s) have no exchanges"))
    );
    let model = Model::new(db).unwrap();
    let alu = model.find("aluminium").unwrap();
    assert_eq!(model.db.activities[alu].unit, "kg");
    let fp = model
        .footprint(alu, 1.0, ImpactMethod::ipcc_ar6_gwp100(), 2, 0.0)
        .unwrap();
    assert!((fp.score - 14.0).abs() < 1e-9, "{}", fp.score);

    let bad = dir.path().join("bad.zip");
    write_zip(&bad, true);
    let err = ecospold2::load(&bad, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown unit \"barrels\""), "{err}");
}

#[test]
fn the_uslci_ecospold2_export() {
    let path = fixture("uslci_fy18_q3_01_olca1_7_2.ecospold2.zip");
    let err = load(&path, &ImportOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("several product outputs") && err.contains("Solid strip and plank flooring"),
        "{err}"
    );
    let options = ImportOptions {
        multi_output: MultiOutput::AllocateOrReference,
        ..Default::default()
    };
    let db = load(&path, &options).unwrap();
    // 771 files; 726 have an empty flowData in this export and are reported, not hidden.
    assert_eq!(db.activities.len(), 45);
    assert!(
        db.remarks
            .iter()
            .any(|r| r.text.contains("726 dataset(s) have no exchanges"))
    );
    let model = Model::new(db).unwrap();
    for j in 0..model.db.activities.len() {
        let fp = model
            .footprint(j, 1.0, ImpactMethod::ipcc_ar6_gwp100(), 0, 0.0)
            .unwrap();
        assert!(fp.score.is_finite());
    }
}
