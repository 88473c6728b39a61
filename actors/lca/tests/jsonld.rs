//! openLCA JSON-LD import and footprints: a hand-checkable four-process system with a loop and
//! mixed units, the whole of USLCI, and bad input.

use std::path::{Path, PathBuf};

use cb_lca::assessment::Model;
use cb_lca::data::{ImportOptions, MultiOutput, jsonld};
use cb_lca::method::ImpactMethod;
use cb_uncertainty::engine::propagate::Draws;
use faer::linalg::solvers::Solve;
use serde_json::{Value, json};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn write(dir: &Path, folder: &str, id: &str, v: Value) {
    std::fs::create_dir_all(dir.join(folder)).unwrap();
    std::fs::write(
        dir.join(folder).join(format!("{id}.json")),
        serde_json::to_vec_pretty(&v).unwrap(),
    )
    .unwrap();
}

fn read(dir: &Path, folder: &str, id: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(folder).join(format!("{id}.json"))).unwrap()).unwrap()
}

/// A copy of the hand-checkable four-process database (fixtures/four-process, see its README):
/// steel, electricity, coal and transport with a loop and units that need converting.
fn four_process_database(dir: &Path) {
    let src = fixture("four-process");
    for folder in std::fs::read_dir(&src).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        let target = dir.join(folder.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for f in std::fs::read_dir(&folder).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, target.join(f.file_name().unwrap())).unwrap();
        }
    }
}

/// The same system by hand, in reference units (kg, MJ, t*km), solved densely: A·s = f.
fn expected_score(steel_kg: f64) -> f64 {
    expected_score_with(steel_kg, 29.8, 273.0)
}

/// As `expected_score`, with the method's factors for fossil methane and nitrous oxide.
fn expected_score_with(steel_kg: f64, ch4: f64, n2o: f64) -> f64 {
    // Columns: steel (per kg), electricity (per MJ), coal (per kg), transport (per t*km).
    // Per kg steel: 1800/1000 MJ·... written per the process's own reference amount.
    let a = faer::Mat::from_fn(4, 4, |i, j| {
        [
            [1000.0, -0.001, 0.0, 0.0],
            [-1800.0, 3.6, -0.18, 0.0],
            [-600.0, -0.4, 1.0, 0.0],
            [-200.0, 0.0, -0.1, 1.0],
        ][i][j]
    });
    // Impact per run of each process: CO2 1 + CH4 + N2O (AR6 GWP100: 29.8 and 273).
    let direct = [1800.0, 0.9, 0.010 * ch4, 0.1 + 1e-6 * n2o];
    let f = faer::Mat::from_fn(4, 1, |i, _| if i == 0 { steel_kg } else { 0.0 });
    let s = a.partial_piv_lu().solve(&f);
    (0..4).map(|j| direct[j] * s[(j, 0)]).sum()
}

#[test]
fn four_processes_with_a_loop_and_mixed_units() {
    let dir = tempfile::tempdir().unwrap();
    four_process_database(dir.path());
    let db = jsonld::load(dir.path(), &ImportOptions::default()).unwrap();
    assert_eq!(db.activities.len(), 4);
    let model = Model::new(db).unwrap();
    let steel = model.find("steel production").unwrap();
    assert_eq!(model.db.activities[steel].unit, "kg");
    let gwp = ImpactMethod::ipcc_ar6_gwp100();
    let fp = model.footprint(steel, 1000.0, gwp, 4, 0.0).unwrap();
    let expected = expected_score(1000.0);
    assert!(
        (fp.score - expected).abs() <= 1e-9 * expected,
        "{} vs {expected}",
        fp.score
    );
    // By hand, to the first order: 1,800 (steel) + 500 kWh × 0.9 + 600 kg coal × 0.298 + … ≈ 2,470.
    assert!(fp.score > 2400.0 && fp.score < 2600.0, "{}", fp.score);
    // Contributions add up; the unqualified CO2 and the NETL-style methane and the CAS N2O matched.
    let by_process: f64 = fp.by_process.iter().map(|(_, v)| v).sum();
    assert!((by_process - fp.score).abs() <= 1e-9 * fp.score);
    let by_flow: f64 = fp.by_flow.iter().map(|c| c.impact).sum();
    assert!((by_flow - fp.score).abs() <= 1e-9 * fp.score);
    assert_eq!(fp.by_flow.len(), 4);
    // NOx has no GWP: listed as unmatched with its amount, not dropped.
    assert_eq!(fp.unmatched.len(), 1);
    assert_eq!(fp.unmatched[0].name, "Nitrogen oxides");
    assert!(fp.unmatched[0].amount > 0.9);
    // The tree: steel ← electricity, coal, transport; the loop shows up below.
    assert_eq!(fp.tree.children.len(), 3);
    assert!((fp.tree.cumulative_impact - fp.score).abs() <= 1e-9 * fp.score);
    // The factorisation is reused for another demand: half the steel, half the score.
    let half = model.footprint(steel, 500.0, gwp, 1, 0.0).unwrap();
    assert!((half.score * 2.0 - fp.score).abs() <= 1e-9 * fp.score);
    // GWP20 on the same factorisation: methane weighs 82.5 instead of 29.8, N2O stays 273.
    let fp20 = model
        .footprint(steel, 1000.0, ImpactMethod::ipcc_ar6_gwp20(), 1, 0.0)
        .unwrap();
    let expected20 = expected_score_with(1000.0, 82.5, 273.0);
    assert!(
        (fp20.score - expected20).abs() <= 1e-9 * expected20,
        "{} vs {expected20}",
        fp20.score
    );
    assert!(fp20.score > fp.score);
}

#[test]
fn elasticities_sum_as_homogeneity_requires_and_predict_the_monte_carlo_spread() {
    use cb_lca::assessment::ExchangeRef;
    let dir = tempfile::tempdir().unwrap();
    four_process_database(dir.path());
    let model = Model::new(jsonld::load(dir.path(), &ImportOptions::default()).unwrap()).unwrap();
    let steel = model.find("steel production").unwrap();
    let gwp = ImpactMethod::ipcc_ar6_gwp100();
    let e = model.elasticities(steel, 1000.0, gwp).unwrap();
    // h is homogeneous of degree 1 in B and of degree −1 in A.
    let sum = |bio: bool| -> f64 {
        e.iter()
            .filter(|x| matches!(x.exchange, ExchangeRef::Biosphere { .. }) == bio)
            .map(|x| x.elasticity)
            .sum()
    };
    assert!((sum(true) - 1.0).abs() < 1e-9, "{}", sum(true));
    assert!((sum(false) + 1.0).abs() < 1e-9, "{}", sum(false));
    // The steel's own output weighs most (about −1: twice the output, half the runs; the loop
    // through electricity makes it not exactly −1); of the exchanges that vary, steel's own CO2
    // (1,800 of ~2,470) does.
    assert_eq!(model.describe(e[0].exchange), "output of steel production");
    assert!(e[0].elasticity < -0.9, "{}", e[0].elasticity);
    assert_eq!(
        model.describe(e[1].exchange),
        "Carbon dioxide, fossil from steel production"
    );
    // Var(ln h) ≈ σ²·Σε² over the exchanges the Monte Carlo varies (inputs and biosphere).
    let sigma = 1.1f64.ln();
    let varied: f64 = e
        .iter()
        .filter(|x| match x.exchange {
            ExchangeRef::Technosphere { product, activity } => product != activity,
            ExchangeRef::Biosphere { .. } => true,
        })
        .map(|x| x.elasticity * x.elasticity)
        .sum();
    let mc = model
        .monte_carlo(steel, 1000.0, gwp, 1.1, Draws::exactly(4000), 5)
        .unwrap();
    let logs: Vec<f64> = mc.scores.iter().map(|v| v.ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let sd = (logs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt();
    let predicted = sigma * varied.sqrt();
    assert!(
        (sd / predicted - 1.0).abs() < 0.06,
        "sd(ln h) {sd} vs first order {predicted}"
    );
}

#[test]
fn the_whole_of_uslci_imports_and_every_process_gets_a_score() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/lci/uslci_olca1_5_0_json_ld.tar.gz");
    // Strict by default: multi-output processes and products with two producers are named.
    let err = jsonld::load(&path, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("several product outputs"), "{err}");
    let mut options = ImportOptions {
        multi_output: MultiOutput::AllocateOrReference,
        ..Default::default()
    };
    let err = jsonld::load(&path, &options).unwrap_err().to_string();
    assert!(err.contains("\"Diesel, at refinery\" is produced by"), "{err}");
    options.providers.insert(
        "Diesel, at refinery".into(),
        "Petroleum refining, at refinery".into(),
    );
    options.providers.insert(
        "Harvesting, fresh fruit bunch, at farm".into(),
        "Harvesting, fresh fruit bunch, at farm".into(),
    );
    let db = jsonld::load(&path, &options).unwrap();
    assert_eq!(db.activities.len(), 766);
    assert!(
        db.remarks
            .iter()
            .any(|r| r.text.contains("physical allocation factor") && r.activity.is_some())
    );
    let model = Model::new(db).unwrap();
    let gwp = ImpactMethod::ipcc_ar6_gwp100();
    let mut scored = 0;
    let mut matched = 0;
    for j in 0..model.db.activities.len() {
        let fp = model.footprint(j, 1.0, gwp, 0, 0.0).unwrap();
        assert!(fp.score.is_finite(), "{}", model.db.activities[j].name);
        scored += 1;
        matched = fp.flows_matched;
    }
    assert_eq!(scored, 766);
    eprintln!(
        "USLCI: {} elementary flows, {matched} matched to IPCC AR6 GWP100",
        model.db.elementary_flows.len()
    );
    assert!(matched > 20, "{matched}");
    // A known product: diesel from the refinery has a positive footprint per kg.
    let diesel = model.find("Petroleum refining, at refinery").unwrap();
    let fp = model.footprint(diesel, 1.0, gwp, 2, 0.01).unwrap();
    assert!(fp.score > 0.0);
}

#[test]
fn bad_input_gets_clear_errors() {
    // A zip that is not JSON-LD.
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("notjsonld.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"hello").unwrap();
        zip.finish().unwrap();
    }
    let err = jsonld::load(&zip_path, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not openLCA JSON-LD") && err.contains("processes/"),
        "{err}"
    );
    let not_zip = dir.path().join("data.bin");
    std::fs::write(&not_zip, b"garbage").unwrap();
    let err = jsonld::load(&not_zip, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a folder, a .zip or a .tar.gz"), "{err}");

    // A process without a reference flow.
    let db_dir = tempfile::tempdir().unwrap();
    four_process_database(db_dir.path());
    let p = db_dir.path().join("processes/p-tkm.json");
    let text = std::fs::read_to_string(&p).unwrap().replace(
        "\"quantitativeReference\": true",
        "\"quantitativeReference\": false",
    );
    std::fs::write(&p, text).unwrap();
    let err = jsonld::load(db_dir.path(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"lorry transport\" has no quantitative reference"),
        "{err}"
    );

    // Units that do not convert: kWh given for a mass flow (coal into electricity generation).
    let db_dir = tempfile::tempdir().unwrap();
    four_process_database(db_dir.path());
    let mut elec = read(db_dir.path(), "processes", "p-elec");
    elec["exchanges"][1]["unit"] = json!({"@id": "u-kwh", "name": "kWh"});
    write(db_dir.path(), "processes", "p-elec", elec);
    let err = jsonld::load(db_dir.path(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unit \"kWh\"") && err.contains("do not convert"),
        "{err}"
    );

    // A product nobody else makes but several processes claim.
    let db_dir = tempfile::tempdir().unwrap();
    four_process_database(db_dir.path());
    let mut dup: Value =
        serde_json::from_slice(&std::fs::read(db_dir.path().join("processes/p-coal.json")).unwrap()).unwrap();
    dup["@id"] = json!("p-coal-2");
    dup["name"] = json!("coal mining, open pit");
    write(db_dir.path(), "processes", "p-coal-2", dup);
    let err = jsonld::load(db_dir.path(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"hard coal\" is produced by") && err.contains("coal mining, open pit"),
        "{err}"
    );

    // An unknown product name in a footprint.
    let db_dir = tempfile::tempdir().unwrap();
    four_process_database(db_dir.path());
    let model = Model::new(jsonld::load(db_dir.path(), &ImportOptions::default()).unwrap()).unwrap();
    let err = model.find("aluminium ingot").unwrap_err().to_string();
    assert!(
        err.contains("no process or product matches \"aluminium ingot\""),
        "{err}"
    );
}

#[test]
fn monte_carlo_scores_do_not_depend_on_threads_or_batching() {
    use cb_lca::uncertainty::PerturbedSystem;
    use cb_uncertainty::engine::propagate::UncertainModel;
    use cb_uncertainty::engine::sampling::EntryStream;
    let dir = tempfile::tempdir().unwrap();
    four_process_database(dir.path());
    let model = Model::new(jsonld::load(dir.path(), &ImportOptions::default()).unwrap()).unwrap();
    let steel = model.find("steel production").unwrap();
    let gwp = ImpactMethod::ipcc_ar6_gwp100();
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                model
                    .monte_carlo(steel, 1000.0, gwp, 1.3, Draws::exactly(300), 11)
                    .unwrap()
                    .scores
            })
    };
    let one = on(1);
    assert_eq!(one, on(2));
    assert_eq!(one.len(), 300);
    // A draw evaluated alone equals the same draw solved in a batch with others.
    let (a, b, factor) = model.matrices();
    let demand: Vec<f64> = (0..4).map(|i| if i == steel { 1000.0 } else { 0.0 }).collect();
    let c = model.characterisation_factors(gwp);
    let system = PerturbedSystem::new(a, b, factor, demand, c, 1.3).unwrap();
    let alone = system.evaluate(&[], &mut EntryStream::new(5, 2)).unwrap();
    let mut streams: Vec<EntryStream> = (0..3).map(|i| EntryStream::new(5, i)).collect();
    let batch = system.evaluate_batch(&[&[], &[], &[]], &mut streams).unwrap();
    assert_eq!(alone, batch[2]);
}
