//! USLCI footprints against an independent computation: `tests/peers/uslci_bw2calc.py` reads the
//! same openLCA JSON-LD archive with its own reader (no code shared with cb-lca), builds the
//! technosphere and biosphere matrices and solves them with bw2calc (Brightway 2.5; installed into
//! `.venv` by `scripts/pyenv.sh`). The IPCC AR6 GWP100 factors are ours, by elementary flow id,
//! so what is compared is reading, linking, allocation and solving: 20 processes spread over
//! the database, to 1e-9.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use cb_lca::assessment::Model;
use cb_lca::data::{ImportOptions, MultiOutput, jsonld};
use cb_lca::method::ImpactMethod;
use serde_json::json;

#[test]
fn uslci_footprints_agree_with_bw2calc_on_matrices_read_apart() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pyenv.sh",
        python.display()
    );
    let archive = root.join("data/lci/uslci_olca1_5_0_json_ld.tar.gz");
    let providers = [
        ("Diesel, at refinery", "Petroleum refining, at refinery"),
        (
            "Harvesting, fresh fruit bunch, at farm",
            "Harvesting, fresh fruit bunch, at farm",
        ),
    ];
    let mut options = ImportOptions {
        multi_output: MultiOutput::AllocateOrReference,
        ..Default::default()
    };
    for (product, process) in providers {
        options.providers.insert(product.into(), process.into());
    }
    let model = Model::new(jsonld::load(&archive, &options).unwrap()).unwrap();
    let gwp = ImpactMethod::ipcc_ar6_gwp100();
    let c = model.characterisation_factors(gwp);
    let factors: BTreeMap<&str, f64> = model
        .db
        .elementary_flows
        .iter()
        .zip(&c)
        .filter(|(_, v)| **v != 0.0)
        .map(|(f, v)| (f.id.as_str(), *v))
        .collect();
    // 20 processes spread over the database by name, each the first from its twentieth of the
    // list with a footprint that is not zero (a zero agrees with anything).
    let mut order: Vec<usize> = (0..model.db.activities.len()).collect();
    order.sort_by(|a, b| model.db.activities[*a].name.cmp(&model.db.activities[*b].name));
    let step = order.len() / 20;
    let score_of = |j: usize| model.footprint(j, 1.0, gwp, 0, 0.0).unwrap().score;
    let ours: BTreeMap<String, f64> = (0..20)
        .filter_map(|k| {
            order[k * step..(k + 1) * step]
                .iter()
                .map(|&j| (j, score_of(j)))
                .find(|(_, score)| *score != 0.0)
                .map(|(j, score)| (model.db.activities[j].id.clone(), score))
        })
        .collect();
    assert_eq!(
        ours.len(),
        20,
        "a twentieth of USLCI without a non-zero footprint"
    );
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        json!({
            "processes": ours.keys().collect::<Vec<_>>(),
            "factors": factors,
            "providers": providers.iter().map(|(a, b)| (*a, *b)).collect::<BTreeMap<_, _>>(),
        })
        .to_string(),
    )
    .unwrap();
    let out = Command::new(&python)
        .arg(root.join("actors/lca/tests/peers/uslci_bw2calc.py"))
        .arg(&archive)
        .arg(&request)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(peer["activities"], model.db.activities.len());
    for (id, score) in &ours {
        let theirs = peer["scores"][id].as_f64().unwrap();
        let name = &model.db.activities.iter().find(|a| &a.id == id).unwrap().name;
        eprintln!("{name}: ours {score:.9e}, bw2calc {theirs:.9e}");
        assert!(
            (score - theirs).abs() <= 1e-9 * score.abs().max(theirs.abs()).max(1e-12),
            "{name}: ours {score}, bw2calc {theirs}"
        );
    }
}
