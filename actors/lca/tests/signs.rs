//! Sign conventions on hand-made databases: EcoSpold2 treatment activities (negative reference
//! products) and the negative waste inputs sent to them give positive burdens; openLCA avoided
//! products are credits; negative exchanges keep their sign; a process's default allocation
//! method is the one used.

use std::io::Write;
use std::path::Path;

use cb_lca::assessment::Model;
use cb_lca::data::{ImportOptions, MultiOutput, load};
use cb_lca::method::ImpactMethod;
use serde_json::{Value, json};

fn score(model: &Model, product: &str, amount: f64) -> f64 {
    let j = model.find(product).unwrap();
    model
        .footprint(j, amount, ImpactMethod::ipcc_ar6_gwp100(), 2, 0.0)
        .unwrap()
        .score
}

fn spold(id: &str, name: &str, exchanges: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ecoSpold xmlns="http://www.EcoInvent.org/EcoSpold02"><activityDataset>
<activityDescription><activity id="{id}"><activityName>{name}</activityName></activity>
<geography><shortname>GLO</shortname></geography></activityDescription>
<flowData>{exchanges}</flowData></activityDataset></ecoSpold>"#
    )
}

fn intermediate(id: &str, name: &str, amount: f64, group: &str) -> String {
    format!(
        r#"<intermediateExchange amount="{amount}" intermediateExchangeId="{id}"><name>{name}</name><unitName>kg</unitName>{group}</intermediateExchange>"#
    )
}

fn co2(amount: f64) -> String {
    format!(
        r#"<elementaryExchange amount="{amount}" elementaryExchangeId="e-co2"><name>Carbon dioxide, fossil</name><unitName>kg</unitName><compartment><compartment>air</compartment><subcompartment>unspecified</subcompartment></compartment><outputGroup>4</outputGroup></elementaryExchange>"#
    )
}

/// A product (1 kg: 1 kg CO2) sending 0.2 kg of waste (a negative input) to a treatment whose
/// reference product is −1 kg of that waste and which emits 0.5 kg CO2: 1 + 0.2 × 0.5 = 1.1.
#[test]
fn ecospold2_treatment_and_waste_sent_to_it_are_burdens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let maker = spold(
        "a-maker",
        "widget production",
        &(intermediate("p-widget", "widget", 1.0, "<outputGroup>0</outputGroup>")
            + &intermediate("p-waste", "waste plastic", -0.2, "<inputGroup>5</inputGroup>")
            + &co2(1.0)),
    );
    let treatment = spold(
        "a-treat",
        "treatment of waste plastic, incineration",
        &(intermediate("p-waste", "waste plastic", -1.0, "<outputGroup>0</outputGroup>") + &co2(0.5)),
    );
    for (name, text) in [
        ("Activities/maker.spold", maker),
        ("Activities/treat.spold", treatment),
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let model = Model::new(load(&path, &ImportOptions::default()).unwrap()).unwrap();
    let widget = score(&model, "widget", 1.0);
    assert!((widget - 1.1).abs() < 1e-12, "{widget}");
    // The treatment asked for by itself: 2 kg of waste treated, 1 kg CO2, positive.
    let treated = score(&model, "waste plastic", 2.0);
    assert!((treated - 1.0).abs() < 1e-12, "{treated}");
}

fn write(dir: &Path, folder: &str, v: &Value) {
    std::fs::create_dir_all(dir.join(folder)).unwrap();
    let id = v["@id"].as_str().unwrap();
    std::fs::write(dir.join(folder).join(format!("{id}.json")), v.to_string()).unwrap();
}

fn exchange(flow: &str, amount: f64, input: bool) -> Value {
    json!({"input": input, "amount": amount, "flow": {"@id": flow}, "unit": {"@id": "u-kg", "name": "kg"},
           "flowProperty": {"@id": "fp-mass"}})
}

/// A small openLCA database: coal (1 kg: 2 kg CO2), and steel (1 kg) using 0.5 kg coal and
/// emitting 1 kg CO2, with whatever exchanges a test adds to steel.
fn olca(dir: &Path, steel_extra: Vec<Value>, steel_fields: Value) {
    write(
        dir,
        "unit_groups",
        &json!({"@id": "ug-mass", "name": "Units of mass",
        "units": [{"@id": "u-kg", "name": "kg", "conversionFactor": 1.0, "referenceUnit": true}]}),
    );
    write(
        dir,
        "flow_properties",
        &json!({"@id": "fp-mass", "name": "Mass", "unitGroup": {"@id": "ug-mass"}}),
    );
    write(
        dir,
        "categories",
        &json!({"@id": "c-elem", "name": "Elementary flows"}),
    );
    write(
        dir,
        "categories",
        &json!({"@id": "c-air", "name": "air", "category": {"@id": "c-elem"}}),
    );
    for (id, name, kind) in [
        ("f-coal", "hard coal", "PRODUCT_FLOW"),
        ("f-steel", "steel", "PRODUCT_FLOW"),
        ("f-slag", "slag", "PRODUCT_FLOW"),
        ("e-co2", "Carbon dioxide, fossil", "ELEMENTARY_FLOW"),
    ] {
        let mut flow = json!({"@id": id, "name": name, "flowType": kind,
            "flowProperties": [{"flowProperty": {"@id": "fp-mass"}, "conversionFactor": 1.0, "referenceFlowProperty": true}]});
        if kind == "ELEMENTARY_FLOW" {
            flow["category"] = json!({"@id": "c-air"});
        }
        write(dir, "flows", &flow);
    }
    let mut coal_ref = exchange("f-coal", 1.0, false);
    coal_ref["quantitativeReference"] = json!(true);
    write(
        dir,
        "processes",
        &json!({"@id": "p-coal", "name": "coal mining",
        "exchanges": [coal_ref, exchange("e-co2", 2.0, false)]}),
    );
    let mut steel_ref = exchange("f-steel", 1.0, false);
    steel_ref["quantitativeReference"] = json!(true);
    steel_ref["internalId"] = json!(1);
    let mut exchanges = vec![
        steel_ref,
        exchange("f-coal", 0.5, true),
        exchange("e-co2", 1.0, false),
    ];
    exchanges[1]["internalId"] = json!(2);
    exchanges[2]["internalId"] = json!(3);
    exchanges.extend(steel_extra);
    let mut steel = json!({"@id": "p-steel", "name": "steel making", "exchanges": exchanges});
    if let (Some(obj), Some(extra)) = (steel.as_object_mut(), steel_fields.as_object()) {
        obj.extend(extra.clone());
    }
    write(dir, "processes", &steel);
}

fn olca_score(steel_extra: Vec<Value>, steel_fields: Value) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    olca(dir.path(), steel_extra, steel_fields);
    let options = ImportOptions {
        multi_output: MultiOutput::AllocateOrReference,
        ..ImportOptions::default()
    };
    let model = Model::new(load(dir.path(), &options).unwrap()).unwrap();
    score(&model, "steel", 1.0)
}

#[test]
fn openlca_avoided_products_are_credits_and_negative_exchanges_keep_their_sign() {
    // Steel alone: 1 + 0.5 × 2 = 2 kg CO2-eq.
    assert!((olca_score(vec![], json!({})) - 2.0).abs() < 1e-12);
    // 0.25 kg of coal avoided (an input flagged avoidedProduct): a credit of 0.25 × 2.
    let mut avoided = exchange("f-coal", 0.25, true);
    avoided["avoidedProduct"] = json!(true);
    let s = olca_score(vec![avoided], json!({}));
    assert!((s - 1.5).abs() < 1e-12, "{s}");
    // A negative coal input is a negative use: −0.1 × 2.
    let s = olca_score(vec![exchange("f-coal", -0.1, true)], json!({}));
    assert!((s - 1.8).abs() < 1e-12, "{s}");
}

#[test]
fn openlca_uses_the_process_s_default_allocation_method() {
    // Slag as a co-product; physical factor 0.9 and economic 0.6 for steel.
    let factors = json!([
        {"allocationType": "PHYSICAL_ALLOCATION", "product": {"@id": "f-steel"}, "value": 0.9},
        {"allocationType": "ECONOMIC_ALLOCATION", "product": {"@id": "f-steel"}, "value": 0.6},
        {"allocationType": "PHYSICAL_ALLOCATION", "product": {"@id": "f-slag"}, "value": 0.1},
        {"allocationType": "ECONOMIC_ALLOCATION", "product": {"@id": "f-slag"}, "value": 0.4},
    ]);
    let slag = exchange("f-slag", 0.3, false);
    let economic = olca_score(
        vec![slag.clone()],
        json!({"allocationFactors": factors, "defaultAllocationMethod": "ECONOMIC_ALLOCATION"}),
    );
    assert!((economic - 2.0 * 0.6).abs() < 1e-12, "{economic}");
    let physical = olca_score(
        vec![slag.clone()],
        json!({"allocationFactors": factors, "defaultAllocationMethod": "PHYSICAL_ALLOCATION"}),
    );
    assert!((physical - 2.0 * 0.9).abs() < 1e-12, "{physical}");
    // Causal: the coal input (internal id 2) carries 0.5 for steel, the CO2 (3) 0.8.
    let causal = json!([
        {"allocationType": "CAUSAL_ALLOCATION", "product": {"@id": "f-steel"}, "value": 0.5, "exchange": {"internalId": 2}},
        {"allocationType": "CAUSAL_ALLOCATION", "product": {"@id": "f-steel"}, "value": 0.8, "exchange": {"internalId": 3}},
    ]);
    let s = olca_score(
        vec![slag],
        json!({"allocationFactors": causal, "defaultAllocationMethod": "CAUSAL_ALLOCATION"}),
    );
    assert!((s - (0.8 * 1.0 + 0.5 * 0.5 * 2.0)).abs() < 1e-12, "{s}");
}
