//! `cbutler` end to end: the real binary, real data, real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture_mrio() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actors/trade/tests/fixtures/pymrio-test/input")
}

/// The emissions of stressor `row` in region `from` for final demand of region `to`, from
/// pymrio's results for its test system (`S`, `L`) and the input `Y`, none of it computed by us.
fn bilateral_from_pymrio_results(row: &str, from: &str, to: &str) -> f64 {
    let l = expected_csv("L");
    let s = expected_csv("emissions_S");
    let labels: Vec<String> = l[0][1..].to_vec();
    let n = labels.len();
    let s_row: Vec<f64> = s.iter().find(|r| r[0] == row).unwrap()[1..]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    let l: Vec<Vec<f64>> = l[1..]
        .iter()
        .map(|r| r[1..].iter().map(|v| v.parse().unwrap()).collect())
        .collect();
    // Y.txt: two header rows (region, category), a blank index row, then "region\tsector\tvalues".
    let y_text = std::fs::read_to_string(fixture_mrio().join("Y.txt")).unwrap();
    let mut lines = y_text.lines();
    let regions: Vec<&str> = lines.next().unwrap().split('\t').skip(2).collect();
    let mut y = vec![0.0; n];
    for line in lines.skip(2) {
        let cells: Vec<&str> = line.split('\t').collect();
        let label = format!("{}|{}", cells[0], cells[1]);
        let i = labels.iter().position(|l| *l == label).unwrap();
        y[i] = cells[2..]
            .iter()
            .zip(&regions)
            .filter(|(_, r)| **r == to)
            .map(|(v, _)| v.parse::<f64>().unwrap())
            .sum();
    }
    (0..n)
        .filter(|&i| labels[i].starts_with(&format!("{from}|")))
        .map(|i| s_row[i] * (0..n).map(|j| l[i][j] * y[j]).sum::<f64>())
        .sum()
}

fn expected_csv(name: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../actors/trade/tests/fixtures/pymrio-test/expected")
        .join(format!("{name}.csv"));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    rdr.records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

struct Cbutler {
    home: tempfile::TempDir,
}

impl Cbutler {
    fn new() -> Self {
        Cbutler {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cbutler"))
            .args(args)
            .env("CBUTLER_HOME", self.home.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "cbutler {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "cbutler {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }
}

#[test]
fn china_consumption_versus_territorial_in_several_phrasings() {
    let cb = Cbutler::new();
    for q in [
        "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
        "China: consumption vs territorial CO2 in 2022",
        "Compare CHN's consumption-based and production-based emissions for 2022",
    ] {
        let text = cb.ok(&["ask", q]);
        for needle in [
            "China",
            "2022",
            "10.31 Gt CO2",
            "11.35 Gt CO2",
            "net exporter",
            "Global Carbon Budget 2024",
        ] {
            assert!(text.contains(needle), "{q}: answer lacks {needle:?}:\n{text}");
        }
    }
}

#[test]
fn json_answer_carries_numbers_units_sources_and_a_valid_plan() {
    let cb = Cbutler::new();
    let a = cb.json(&[
        "ask",
        "What is the carbon footprint of the EU27 and the US in 2020?",
        "--json",
    ]);
    let rows = a["table"].as_array().unwrap();
    let find = |measure: &str, region: &str| {
        a["results"][0]["outcome"]["quantities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["measure"] == measure && q["dimensions"]["region"] == region)
            .cloned()
            .unwrap_or_else(|| panic!("no {measure} for {region}"))
    };
    let usa = find("consumption_co2", "USA");
    assert_eq!(usa["quantity"]["unit"], "t CO2");
    assert_eq!(
        usa["quantity"]["provenance"]["dataset"],
        "Global Carbon Budget 2024"
    );
    assert!(usa["quantity"]["value"].as_f64().unwrap() > 5.0e9);
    find("territorial_co2", "European Union (27)");
    assert_eq!(rows.len(), 6);
    assert!(a["sources"][0].as_str().unwrap().contains("CC BY 4.0"));
    let schema = cb.json(&["schema", "plan"]);
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&a["plan"]),
        "the plan fails its own schema: {}",
        a["plan"]
    );
    // The run was journaled, whole.
    let run_id = a["run_id"].as_str().unwrap();
    let record: Value =
        serde_json::from_slice(&std::fs::read(cb.home.path().join(format!("runs/{run_id}.json"))).unwrap())
            .unwrap();
    assert_eq!(record["answer"]["run_id"], run_id);
    let leftovers: Vec<_> = std::fs::read_dir(cb.home.path().join("runs"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn out_writes_answer_and_graph_in_three_formats() {
    let cb = Cbutler::new();
    let out = cb.home.path().join("answer");
    let out_s = out.to_str().unwrap();
    cb.ok(&[
        "ask",
        "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
        "--out",
        out_s,
    ]);
    let answer: Value = serde_json::from_slice(&std::fs::read(out.join("answer.json")).unwrap()).unwrap();
    assert!(answer["text"].as_str().unwrap().contains("China"));
    let graph: Value = serde_json::from_slice(&std::fs::read(out.join("graph.json")).unwrap()).unwrap();
    let china = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "region:CHN")
        .unwrap();
    assert_eq!(china["quantities"]["consumption_co2"]["value"], 10_309_727_000.0);
    let edges = graph["edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["from"] == "region:CHN"
        && e["to"] == "region:rest-of-world"
        && e["kind"] == "embodied_emissions"));
    let dot = std::fs::read_to_string(out.join("graph.dot")).unwrap();
    assert!(dot.starts_with("digraph") && dot.contains("\"region:CHN\" -> \"atmosphere\""));
    let graphml = std::fs::read_to_string(out.join("graph.graphml")).unwrap();
    assert!(
        graphml.contains("<graphml")
            && graphml.contains("<node id=\"region:CHN\">")
            && graphml.trim_end().ends_with("</graphml>")
    );
}

#[test]
fn questions_about_an_mrio() {
    let cb = Cbutler::new();
    let mrio = fixture_mrio();
    let m = mrio.to_str().unwrap();
    // Transfer from reg1 to reg2, against `mrio transfers`.
    let a = cb.json(&[
        "ask",
        "How much emission_type1 embodied in reg1's exports is consumed in reg2?",
        "--mrio",
        m,
        "--json",
    ]);
    let flow = table_row(&a, "embodied_in_trade").clone();
    let t = cb.json(&[
        "mrio",
        "transfers",
        "--mrio",
        m,
        "--stressor",
        "emission_type1",
        "--json",
    ]);
    assert_eq!(flow["value"], t["embodied_in_trade"]["reg1"]["reg2"]);
    // And against a computation apart from ours: pymrio's own S and L of the test system and the
    // input Y, E(reg1 → reg2) = Σ_{i ∈ reg1} S_i · (L · y_reg2)_i.
    let by_pymrio = bilateral_from_pymrio_results("emission_type1|air", "reg1", "reg2");
    let ours = flow["value"].as_f64().unwrap();
    assert!(
        (ours - by_pymrio).abs() <= 1e-9 * by_pymrio,
        "ask {ours} against pymrio's S·L·y {by_pymrio}"
    );
    assert!(
        flow["label"]
            .as_str()
            .unwrap()
            .contains("emitted in reg1 for final demand in reg2")
    );

    let text = cb.ok(&[
        "ask",
        "Which sectors contribute most to reg3's consumption-based emissions?",
        "--mrio",
        m,
    ]);
    assert!(
        text.contains("Largest contributions by sector") && text.contains("reg3"),
        "{text}"
    );

    let text = cb.ok(&[
        "ask",
        "What are the top 3 supply chain paths of reg2's food consumption?",
        "--mrio",
        m,
    ]);
    assert!(
        text.contains("#1") && text.contains("#3") && !text.contains("#4 "),
        "{text}"
    );
    assert!(text.contains("reg2|food"), "{text}");

    let a = cb.json(&[
        "ask",
        "Compare consumption-based and production-based emission_type2 of all regions",
        "--mrio",
        m,
        "--json",
    ]);
    let n = a["table"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["measure"] == "D_cba_reg")
        .count();
    assert_eq!(n, 6);
}

#[test]
fn mrio_accounts_json_has_the_documented_shape_and_pymrio_values() {
    let cb = Cbutler::new();
    let m = fixture_mrio();
    let doc = cb.json(&["mrio", "accounts", "--mrio", m.to_str().unwrap(), "--json"]);
    let accounts = doc["accounts"].as_object().unwrap();
    // Every stressor of every extension: two emissions and the factor inputs.
    assert!(accounts.contains_key("emission_type1") && accounts.contains_key("emission_type2"));
    assert!(accounts.contains_key("Value Added"));
    for acc in ["D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"] {
        let rows = expected_csv(&format!("emissions_{acc}"));
        let regions = &rows[0][1..];
        for row in &rows[1..] {
            let stressor = row[0].split('|').next().unwrap();
            for (region, v) in regions.iter().zip(&row[1..]) {
                let exp: f64 = v.parse().unwrap();
                let ours = accounts[stressor][acc][region].as_f64().unwrap();
                assert!(
                    (ours - exp).abs() <= 1e-9 * exp.abs(),
                    "{stressor} {acc} {region}: {ours} vs {exp}"
                );
            }
        }
    }
}

#[test]
fn mrio_transfers_and_paths() {
    let cb = Cbutler::new();
    let m = fixture_mrio();
    let m = m.to_str().unwrap();
    let t = cb.json(&[
        "mrio",
        "transfers",
        "--mrio",
        m,
        "--stressor",
        "emission_type1",
        "--json",
    ]);
    let acc = cb.json(&[
        "mrio",
        "accounts",
        "--mrio",
        m,
        "--stressor",
        "emission_type1",
        "--json",
    ]);
    let e1 = &acc["accounts"]["emission_type1"];
    // pymrio's own regional imports and exports of the test system (computed by pymrio from its
    // per-sector accounts, not from a bilateral matrix) are the reference for the transfers.
    let pymrio = |name: &str| -> std::collections::BTreeMap<String, f64> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../actors/trade/tests/fixtures/pymrio-test/expected")
            .join(format!("{name}.csv"));
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row = lines.find(|l| l.starts_with("emission_type1")).unwrap();
        head.iter()
            .zip(row.split(','))
            .skip(1)
            .map(|(r, v)| (r.to_string(), v.parse().unwrap()))
            .collect()
    };
    let (imp, exp) = (pymrio("emissions_D_imp_reg"), pymrio("emissions_D_exp_reg"));
    let regions = ["reg1", "reg2", "reg3", "reg4", "reg5", "reg6"];
    for r in regions {
        let net = t["net_transfers"][r].as_f64().unwrap();
        let expected = imp[r] - exp[r];
        assert!(
            (net - expected).abs() <= 1e-9 * imp[r].max(exp[r]),
            "{r}: {net} vs {expected}"
        );
        // The bilateral flows into r from the other regions add up to pymrio's imports.
        let into: f64 = regions
            .iter()
            .filter(|p| **p != r)
            .map(|p| t["embodied_in_trade"][p][r].as_f64().unwrap())
            .sum();
        assert!(
            (into - imp[r]).abs() <= 1e-9 * imp[r],
            "{r}: {into} vs {}",
            imp[r]
        );
        // And the accounts command says the same as pymrio.
        let ours = e1["D_imp_reg"][r].as_f64().unwrap();
        assert!((ours - imp[r]).abs() <= 1e-9 * imp[r], "{r}");
    }
    let p = cb.json(&[
        "mrio",
        "paths",
        "--mrio",
        m,
        "--stressor",
        "emission_type1",
        "--region",
        "reg2",
        "--sector",
        "food",
        "--depth",
        "3",
        "--top",
        "4",
        "--json",
    ]);
    let paths = p["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 4);
    assert!(paths[0]["value"].as_f64().unwrap() >= paths[3]["value"].as_f64().unwrap());
    assert!(paths.iter().all(|x| x["depth"].as_u64().unwrap() <= 3));
    let text = cb.ok(&[
        "mrio",
        "paths",
        "--mrio",
        m,
        "--stressor",
        "emission_type1",
        "--region",
        "reg2",
        "--sector",
        "food",
    ]);
    assert!(
        text.contains("footprint of reg2's final demand for food"),
        "{text}"
    );
}

#[test]
fn bad_questions_and_bad_input_get_clear_errors() {
    let cb = Cbutler::new();
    let err = cb.fails(&["ask", "What is the carbon footprint of Atlantis?"]);
    assert!(
        err.contains("Name a country") && err.contains("Carbon Butler can answer"),
        "{err}"
    );
    let err = cb.fails(&["ask", "Tell me a joke"]);
    assert!(
        err.contains("could not tell what you want") && err.contains("--mrio"),
        "{err}"
    );
    let err = cb.fails(&["ask", "What were China's consumption emissions in 1950?"]);
    assert!(err.contains("1950") && err.contains("from 1990 to 2022"), "{err}");
    let err = cb.fails(&["ask", "Which sectors drive Germany's footprint?"]);
    assert!(err.contains("--mrio"), "{err}");
    let err = cb.fails(&["mrio", "accounts", "--mrio", "/nonexistent/mrio"]);
    assert!(
        err.contains("/nonexistent/mrio") && err.contains("not found"),
        "{err}"
    );
    let m = fixture_mrio();
    let err = cb.fails(&[
        "mrio",
        "transfers",
        "--mrio",
        m.to_str().unwrap(),
        "--stressor",
        "CO2",
    ]);
    assert!(err.contains("unknown stressor \"CO2\""), "{err}");
    let err = cb.fails(&[
        "mrio",
        "paths",
        "--mrio",
        m.to_str().unwrap(),
        "--stressor",
        "emission_type1",
        "--region",
        "reg1",
        "--sector",
        "food",
        "--depth",
        "99",
    ]);
    assert!(err.contains("--depth"), "{err}");
}

#[test]
fn every_command_has_help() {
    let cb = Cbutler::new();
    for args in [
        vec!["--help"],
        vec!["ask", "--help"],
        vec!["schema", "--help"],
        vec!["mrio", "--help"],
        vec!["mrio", "accounts", "--help"],
        vec!["mrio", "transfers", "--help"],
        vec!["mrio", "paths", "--help"],
    ] {
        let text = cb.ok(&args);
        assert!(text.contains("Usage:"), "{args:?}");
    }
    let schema = cb.json(&["schema", "task-result"]);
    assert!(schema["properties"]["outcome"].is_object());
}

/// The first row of an answer's table with this measure.
fn table_row<'a>(answer: &'a Value, measure: &str) -> &'a Value {
    answer["table"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measure"] == measure)
        .unwrap_or_else(|| panic!("no {measure} in {}", answer["table"]))
}

fn lca_fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../actors/lca/tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn lca_footprint_and_processes() {
    let cb = Cbutler::new();
    let db = lca_fixture("four-process");
    let fp = cb.json(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--amount",
        "1000",
        "--json",
    ]);
    let score = fp["score"].as_f64().unwrap();
    assert!(score > 2400.0 && score < 2600.0, "{score}");
    assert_eq!(fp["unit"], "kg CO2-eq");
    assert_eq!(fp["product_unit"], "kg");
    let processes = fp["contributions"]["processes"].as_array().unwrap();
    let sum: f64 = processes.iter().map(|p| p["impact"].as_f64().unwrap()).sum();
    assert!((sum - score).abs() <= 1e-9 * score);
    assert_eq!(fp["unmatched_flows"][0]["name"], "Nitrogen oxides");
    for phase in [
        "goal_and_scope",
        "inventory",
        "impact_assessment",
        "interpretation",
    ] {
        assert!(fp["iso14044"][phase].is_object(), "{phase}");
    }
    assert_eq!(
        fp["iso14044"]["goal_and_scope"]["functional_unit"],
        "1000 kg of steel"
    );
    // Transport (about 20 kg CO2-eq) is below the default 1% cut-off of the tree; with none, it shows.
    assert_eq!(fp["supply_chain"]["inputs"].as_array().unwrap().len(), 2);
    let full = cb.json(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--amount",
        "1000",
        "--cutoff",
        "0",
        "--json",
    ]);
    assert_eq!(full["supply_chain"]["inputs"].as_array().unwrap().len(), 3);
    // Twice the amount, twice the score.
    let fp2 = cb.json(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel production",
        "--amount",
        "2000",
        "--json",
    ]);
    assert!((fp2["score"].as_f64().unwrap() - 2.0 * score).abs() <= 1e-9 * score);
    let text = cb.ok(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--amount",
        "1000",
    ]);
    assert!(
        text.contains("kg CO2-eq") && text.contains("steel production"),
        "{text}"
    );

    let list = cb.json(&["lca", "processes", "--db", &db, "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 4);
    let text = cb.ok(&["lca", "processes", "--db", &db, "--search", "coal"]);
    assert!(text.contains("coal mining") && text.contains("1 of 4"), "{text}");
}

#[test]
fn lca_bad_input() {
    let cb = Cbutler::new();
    let db = lca_fixture("four-process");
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--method",
        "ipcc-ar5-gwp100",
    ]);
    assert!(
        err.contains("unknown impact method")
            && err.contains("ipcc-ar6-gwp100")
            && err.contains("ipcc-ar6-gwp20"),
        "{err}"
    );
    // GWP20 is bundled: the same system scores higher (methane 82.5 instead of 29.8).
    let score = |method: &str| {
        cb.json(&[
            "lca",
            "footprint",
            "--db",
            &db,
            "--product",
            "steel",
            "--method",
            method,
            "--json",
        ])["score"]
            .as_f64()
            .unwrap()
    };
    assert!(score("ipcc-ar6-gwp20") > score("ipcc-ar6-gwp100"));
    let err = cb.fails(&["lca", "footprint", "--db", &db, "--product", "aluminium"]);
    assert!(
        err.contains("no process or product matches \"aluminium\""),
        "{err}"
    );
    let uslci = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/lci/uslci_olca1_5_0_json_ld.tar.gz")
        .display()
        .to_string();
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &uslci,
        "--product",
        "Petroleum refining, at refinery",
    ]);
    assert!(
        err.contains("several product outputs") && err.contains("--multi-output allocate"),
        "{err}"
    );
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &uslci,
        "--product",
        "x",
        "--multi-output",
        "allocate",
        "--provider",
        "nonsense",
    ]);
    assert!(err.contains("PRODUCT=PROCESS"), "{err}");
    let err = cb.fails(&["lca", "processes", "--db", "/nonexistent/db.zip"]);
    assert!(err.contains("/nonexistent/db.zip"), "{err}");
}

/// `cbutler cbam cost` with a country, CN code, tonnes and year, then `extra`.
fn cbam_cost_args<'a>(
    country: &'a str,
    cn: &'a str,
    tonnes: &'a str,
    year: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "cbam",
        "cost",
        "--country",
        country,
        "--cn-code",
        cn,
        "--tonnes",
        tonnes,
        "--year",
        year,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn cbam_cost_default_and_actual() {
    let cb = Cbutler::new();
    let d = cb.json(&cbam_cost_args(
        "China",
        "7208",
        "10000",
        "2027",
        &["--ets-price", "80", "--json"],
    ));
    for key in [
        "embedded_emissions_t",
        "default_value_t_per_t",
        "free_allocation_adjustment_t",
        "certificates",
        "cost_eur",
    ] {
        assert!(d[key].is_number(), "{key}: {}", d[key]);
    }
    let expected_certs = 3.824271 * 10_000.0 - 0.95 * 1.370 * 10_000.0;
    assert!((d["certificates"].as_f64().unwrap() - expected_certs).abs() < 1e-6);
    let a = cb.json(&cbam_cost_args(
        "CN",
        "7208",
        "10000",
        "2027",
        &["--ets-price", "80", "--actual-direct", "1.9", "--json"],
    ));
    assert_eq!(a["basis"], "actual emissions");
    assert!((a["embedded_emissions_t"].as_f64().unwrap() - 19_000.0).abs() < 1e-9);
    assert!(a["default_case"]["cost_eur"].as_f64().unwrap() > a["cost_eur"].as_f64().unwrap());
    assert!(a["saving_eur"].as_f64().unwrap() > 1.5e6);
    let err = cb.fails(&cbam_cost_args("Atlantis", "7208", "1", "2027", &[]));
    assert!(err.contains("not a country"), "{err}");
    let err = cb.fails(&cbam_cost_args("China", "0101", "1", "2027", &[]));
    assert!(err.contains("no CBAM default value for CN 0101"), "{err}");
    // White clinker in the first quarter of 2026: the Commission's published price applies.
    let w = cb.json(&cbam_cost_args(
        "Vietnam",
        "2523 10 00",
        "1000",
        "2026",
        &["--variant", "white", "--quarter", "1", "--json"],
    ));
    assert_eq!(w["description"], "White clinker");
    assert_eq!(w["ets_price_eur"], 75.36);
    let whole = w["certificates_whole"].as_f64().unwrap();
    assert!((w["cost_eur"].as_f64().unwrap() - whole * 75.36).abs() < 1e-6);
    let err = cb.fails(&cbam_cost_args(
        "Vietnam",
        "25231000",
        "1000",
        "2026",
        &["--quarter", "5"],
    ));
    assert!(err.contains("5 is not in 1..=4"), "{err}");
}

#[test]
fn ask_about_cbam_and_product_footprints() {
    let cb = Cbutler::new();
    let a = cb.json(&[
        "ask",
        "What will CBAM cost on 10,000 t of Chinese hot-rolled coil in 2027 at 80 EUR/t?",
        "--json",
    ]);
    let cost = table_row(&a, "cbam_cost").clone();
    // Whole certificates are paid for: the obligation rounded up.
    let expected = (3.824271f64 * 10_000.0 - 0.95 * 1.370 * 10_000.0).ceil() * 80.0;
    assert!(
        (cost["value"].as_f64().unwrap() - expected).abs() < 1e-6,
        "{cost}"
    );
    assert_eq!(cost["unit"], "EUR");
    let text = cb.ok(&["ask", "What is the carbon footprint of 1 m3 of diesel in USLCI?"]);
    assert!(
        text.contains("Diesel, at refinery") && text.contains("kg CO2-eq"),
        "{text}"
    );
    let err = cb.fails(&["ask", "What is the carbon footprint of 1 kg of diesel in USLCI?"]);
    assert!(err.contains("measured in m3"), "{err}");
    // Another database with --lci.
    let db = lca_fixture("four-process");
    let a = cb.json(&[
        "ask",
        "What is the carbon footprint of 1000 kg of steel?",
        "--lci",
        &db,
        "--json",
    ]);
    let fp = table_row(&a, "footprint").clone();
    assert!(
        fp["value"].as_f64().unwrap() > 2400.0 && fp["value"].as_f64().unwrap() < 2600.0,
        "{fp}"
    );
}

#[test]
fn sinks_forest_gain_loss_by_hand_and_with_defaults() {
    let cb = Cbutler::new();
    // 1,000 ha × 5 t d.m./ha/yr × 1.37 × 0.47 = 3,219.5 t C = −11,804.83 t CO2 a year.
    let v = cb.json(&[
        "sinks",
        "forest",
        "--area-ha",
        "1000",
        "--growth",
        "5",
        "--root-shoot",
        "0.37",
        "--carbon-fraction",
        "0.47",
        "--years",
        "3",
        "--json",
    ]);
    let year = &v["years"][0];
    assert!(
        (year["net_co2_t"].as_f64().unwrap() + 11804.833333).abs() < 1e-3,
        "{year}"
    );
    assert!((v["total_net_co2_t"].as_f64().unwrap() + 3.0 * 11804.833333).abs() < 1e-2);
    assert_eq!(v["years"].as_array().unwrap().len(), 3);
    let ag = year["by_pool_co2_t"]["above_ground_biomass"].as_f64().unwrap();
    let bg = year["by_pool_co2_t"]["below_ground_biomass"].as_f64().unwrap();
    assert!((ag + bg - year["net_co2_t"].as_f64().unwrap()).abs() < 1e-6);
    // Removals with BCEF_R from Table 4.5 (temperate pines, growing stock 100–200: 0.77).
    let v = cb.json(&[
        "sinks",
        "forest",
        "--area-ha",
        "1000",
        "--growth",
        "5",
        "--root-shoot",
        "0.29",
        "--zone",
        "temperate",
        "--forest-type",
        "pines",
        "--growing-stock",
        "150",
        "--removals-m3",
        "2000",
        "--json",
    ]);
    assert_eq!(v["parameters"]["bcef_r"]["value"], 0.77);
    let loss = v["years"][0]["losses_c_t"]["wood_removals"].as_f64().unwrap();
    assert!((loss - 2000.0 * 0.77 * 1.29 * 0.47).abs() < 1e-6, "{loss}");
    // Defaults from 2019 Table 4.9 with their source and an uncertainty interval.
    let v = cb.json(&[
        "sinks",
        "forest",
        "--area-ha",
        "100",
        "--zone",
        "tropical rainforest",
        "--continent",
        "asia",
        "--stand",
        "secondary <=20 years",
        "--root-shoot",
        "0.2",
        "--json",
    ]);
    assert_eq!(v["parameters"]["growth_g_w"]["value"], 3.4);
    assert!(v["annual_net_co2_interval_t"].is_array());
    // Fire adds CH4 and N2O by Eq. 2.27: 10 ha × 50 t × 0.5 × 4.7 g/kg × 10⁻³ = 1.175 t CH4.
    let v = cb.json(&[
        "sinks",
        "forest",
        "--area-ha",
        "100",
        "--growth",
        "4",
        "--root-shoot",
        "0.2",
        "--fire",
        "10:50:0.5",
        "--json",
    ]);
    assert!((v["years"][0]["non_co2_t"]["fire_ch4"].as_f64().unwrap() - 1.175).abs() < 1e-9);
}

#[test]
fn sinks_stand_soil_land_use_change_and_hwp() {
    let cb = Cbutler::new();
    let table = format!(
        "{}/tests/fixtures/yield-table-synthetic.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let v = cb.json(&[
        "sinks",
        "stand",
        "--yield-table",
        &table,
        "--area-ha",
        "100",
        "--years",
        "100",
        "--bcef-s",
        "0.7",
        "--root-shoot",
        "0.25",
        "--harvest",
        "60:10000",
        "--wood-density",
        "0.42",
        "--json",
    ]);
    let years = v["years"].as_array().unwrap();
    assert_eq!(years.len(), 100);
    assert!(v["total_net_co2_t"].as_f64().unwrap() < 0.0);
    assert!((years[59]["harvested_m3"].as_f64().unwrap() - 10000.0).abs() < 1e-6);
    assert!(years[59]["hwp_stock_c_t"].as_f64().unwrap() > 0.0);
    // A harvest beyond the standing stock is refused, naming the year and both volumes.
    let err = cb.fails(&[
        "sinks",
        "stand",
        "--yield-table",
        &table,
        "--area-ha",
        "10",
        "--age",
        "30",
        "--bcef-s",
        "0.7",
        "--root-shoot",
        "0.25",
        "--harvest",
        "1:1000000",
        "--wood-density",
        "0.42",
    ]);
    assert!(
        err.contains("year 1") && err.contains("exceeds the standing merchantable stock"),
        "{err}"
    );
    // A yield table whose ages do not increase.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "age,volume\n0,0\n20,50\n10,80\n").unwrap();
    let err = cb.fails(&[
        "sinks",
        "stand",
        "--yield-table",
        bad.to_str().unwrap(),
        "--bcef-s",
        "0.7",
        "--root-shoot",
        "0.25",
    ]);
    assert!(err.contains("ages must increase"), "{err}");

    // Soil: 100 ha at 95 t C/ha from native to long-term cultivated with low input, temperate moist.
    let v = cb.json(&[
        "sinks",
        "soil",
        "--area-ha",
        "100",
        "--soc-ref",
        "95",
        "--climate",
        "temperate/boreal moist",
        "--after",
        "long-term cultivated,full tillage,low",
        "--json",
    ]);
    let c = v["years"][0]["net_c_t"].as_f64().unwrap();
    assert!(
        (c + 100.0 * 95.0 * (1.0 - 0.69 * 0.92) / 20.0).abs() < 1e-9,
        "{c}"
    );
    let err = cb.fails(&[
        "sinks",
        "soil",
        "--area-ha",
        "100",
        "--soc-ref",
        "95",
        "--climate",
        "temperate/boreal moist",
        "--after",
        "long-term cultivated,no-till,low",
    ]);
    assert!(err.contains("no confirmed default for F_MG"), "{err}");

    // Deforestation: the biomass goes in the year of conversion.
    let v = cb.json(&[
        "sinks",
        "land-use-change",
        "--area-ha",
        "10",
        "--biomass-before",
        "300",
        "--years",
        "5",
        "--json",
    ]);
    assert!((v["years"][0]["net_c_t"].as_f64().unwrap() + 300.0 * 10.0 * 0.47).abs() < 1e-9);
    assert_eq!(v["years"][1]["net_c_t"].as_f64().unwrap(), 0.0);

    let v = cb.json(&[
        "sinks",
        "hwp",
        "--inflows",
        "100,0,0",
        "--product",
        "paper",
        "--json",
    ]);
    assert_eq!(v["half_life_years"], 2.0);
    assert!(v["years"][2]["stock_c_t"].as_f64().unwrap() < v["years"][0]["stock_c_t"].as_f64().unwrap());

    // Bad input: negative area, unknown zone.
    let err = cb.fails(&[
        "sinks",
        "forest",
        "--area-ha=-5",
        "--growth",
        "1",
        "--root-shoot",
        "0.2",
    ]);
    assert!(err.contains("area must be a non-negative number"), "{err}");
    let err = cb.fails(&[
        "sinks",
        "forest",
        "--area-ha",
        "5",
        "--zone",
        "atlantis",
        "--continent",
        "asia",
        "--root-shoot",
        "0.2",
    ]);
    assert!(
        err.contains("no confirmed IPCC default growth rate for atlantis"),
        "{err}"
    );
}

#[test]
fn ask_about_forest_sinks() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "ask",
        "How much CO2 do 10,000 ha of tropical rainforest in Africa with a root-to-shoot ratio of 0.37 remove per year?",
        "--json",
    ]);
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("removes 82.63 kt CO2 per year"), "{text}");
    // The default used and its table travel with the answer.
    assert!(v.to_string().contains("2019 Refinement Vol. 4 Table 4.9"), "{v}");
    // Temperate Europe has no confirmed default: the refusal says so, what to add, and offers
    // the same forest with a growth.
    let err = cb.fails(&[
        "ask",
        "How much CO2 do 10,000 ha of temperate forest in Europe with a root-to-shoot ratio of 0.29 remove per year?",
    ]);
    assert!(
        err.contains("No IPCC default above-ground growth for temperate forest")
            && err.contains("10,000 ha of forest growing 5 t of dry matter per hectare per year with a root-to-shoot ratio of 0.29"),
        "{err}"
    );
    // No root-to-shoot ratio ships that a question can reach: without the question's own, the
    // refusal says what to add and offers no number of its own.
    let err = cb.fails(&[
        "ask",
        "How much CO2 do 10,000 ha of tropical rainforest in Africa remove per year?",
    ]);
    assert!(
        err.contains("root-to-shoot ratio") && err.contains("Table 4.4"),
        "{err}"
    );
    assert!(!err.contains("You could ask instead"), "{err}");
}

#[test]
fn factory_simulate_optimize_and_macc() {
    let cb = Cbutler::new();
    // Two days of the scrap EAF by hand: 4,000 t steel, 0.45 MWh/t, direct 0.08 + 0.411 × 0.20196 t/t.
    let v = cb.json(&[
        "factory",
        "simulate",
        "--plant",
        "scrap-eaf",
        "--hours",
        "48",
        "--json",
    ]);
    let t = &v["totals"];
    assert!((t["delivered_t"].as_f64().unwrap() - 4000.0).abs() < 1e-6);
    assert!((t["electricity_mwh"].as_f64().unwrap() - 1800.0).abs() < 1e-6);
    assert!((t["direct_co2_t"].as_f64().unwrap() - 4000.0 * (0.08 + 0.411 * 0.20196)).abs() < 1e-6);
    assert_eq!(v["series"].as_array().unwrap().len(), 48);

    // A week at 80 EUR/t: never worse than the baseline under its own objective.
    let v = cb.json(&[
        "factory",
        "optimize",
        "--plant",
        "scrap-eaf",
        "--hours",
        "168",
        "--carbon-price",
        "80",
        "--json",
    ]);
    let (b, o) = (&v["baseline"], &v["optimized"]);
    for key in ["emissions_t", "cost_eur"] {
        assert!(b[key].is_number() && o[key].is_number(), "{v}");
    }
    assert!(o["objective"].as_f64().unwrap() <= b["objective"].as_f64().unwrap() + 1e-6);
    assert!(
        o["emissions_t"].as_f64().unwrap() < b["emissions_t"].as_f64().unwrap(),
        "shifting cuts grid CO2"
    );
    assert_eq!(
        v["schedule"]["electric arc furnace"].as_array().unwrap().len(),
        168
    );
    assert!(
        v["solver"]["integer_columns"].as_u64().unwrap() > 0,
        "on/off decisions make it a MILP"
    );

    // Every bundled plant optimises over a day.
    let plants = cb.ok(&["factory", "plants"]);
    for id in plants.lines().map(|l| l.split_whitespace().next().unwrap()) {
        let v = cb.json(&[
            "factory",
            "optimize",
            "--plant",
            id,
            "--hours",
            "24",
            "--carbon-price",
            "80",
            "--json",
        ]);
        assert!(
            v["optimized"]["objective"].as_f64().unwrap()
                <= v["baseline"]["objective"].as_f64().unwrap() + 1e-6,
            "{id}"
        );
    }

    // The MACC and the least-cost set, with an SVG.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("macc.svg");
    let v = cb.json(&[
        "factory",
        "macc",
        "--plant",
        "scrap-eaf",
        "--target-t",
        "70000",
        "--svg",
        svg.to_str().unwrap(),
        "--json",
    ]);
    let costs: Vec<f64> = v["series"]["cost_eur_per_t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(costs.windows(2).all(|w| w[0] <= w[1]));
    assert!(v["selection"]["abatement_t_per_yr"].as_f64().unwrap() >= 70000.0);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}

#[test]
fn factory_bad_input() {
    let cb = Cbutler::new();
    let dir = tempfile::tempdir().unwrap();
    let bundled = std::fs::read_to_string(format!(
        "{}/../../data/factory/plants/scrap-eaf.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // A malformed plant file: the field and the line.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        bundled.replace("capacity_t_per_h = 120", "capacity_t_per_h = \"big\""),
    )
    .unwrap();
    let err = cb.fails(&["factory", "simulate", "--plant", bad.to_str().unwrap()]);
    assert!(
        err.contains("line 8") && err.contains("capacity_t_per_h"),
        "{err}"
    );
    // Demand beyond capacity: the binding constraint is named.
    let big = dir.path().join("big.toml");
    std::fs::write(&big, bundled.replace("t_per_day = 2000", "t_per_day = 5000")).unwrap();
    let err = cb.fails(&[
        "factory",
        "optimize",
        "--plant",
        big.to_str().unwrap(),
        "--hours",
        "24",
    ]);
    assert!(
        err.contains("capacity") && err.contains("electric arc furnace"),
        "{err}"
    );
    let err = cb.fails(&["factory", "optimize", "--plant", "no-such-plant"]);
    assert!(err.contains("bundled: scrap-eaf"), "{err}");
    // A profile with a gap.
    let prof = dir.path().join("p.csv");
    std::fs::write(
        &prof,
        "hour,price_eur_per_mwh,grid_co2_t_per_mwh\n0,50,0.3\n2,50,0.3\n",
    )
    .unwrap();
    let err = cb.fails(&[
        "factory",
        "simulate",
        "--plant",
        "scrap-eaf",
        "--profile",
        prof.to_str().unwrap(),
    ]);
    assert!(err.contains("line 3") && err.contains("expected hour 1"), "{err}");
    let schema = cb.json(&["schema", "plant"]);
    assert!(schema["properties"]["units"].is_object());
}

#[test]
fn ask_how_a_plant_cuts_emissions() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "ask",
        "How can an EAF steel plant in Germany cut emissions at least cost with a carbon price of 80 EUR/t?",
        "--json",
    ]);
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("Operating the plant at least cost"), "{text}");
    assert!(text.contains("Abatement measures, cheapest first"), "{text}");
    assert!(
        v.to_string().contains("SYNTHETIC"),
        "the synthetic profile is named"
    );
}

#[test]
fn uncertainty_sobol_pedigree_and_monte_carlo_footprints() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "uncertainty",
        "sobol",
        "--model",
        "ishigami",
        "--samples",
        "5000",
        "--seed",
        "3",
        "--json",
    ]);
    for key in ["S1", "ST"] {
        let xs = v[key].as_array().unwrap();
        assert_eq!(xs.len(), 3, "{key}");
        let ci = v[format!("{key}_conf")].as_array().unwrap();
        for (x, c) in xs.iter().zip(ci) {
            let (x, lo, hi) = (
                x.as_f64().unwrap(),
                c[0].as_f64().unwrap(),
                c[1].as_f64().unwrap(),
            );
            assert!(lo <= x && x <= hi, "{key}: {x} not in [{lo}, {hi}]");
        }
    }
    assert!((v["ST"][0].as_f64().unwrap() - 0.5576).abs() < 0.05);
    let v = cb.json(&["uncertainty", "pedigree", "--scores", "1,1,1,1,5", "--json"]);
    assert!((v["gsd"].as_f64().unwrap() - 0.12f64.sqrt().exp()).abs() < 1e-12);
    let err = cb.fails(&["uncertainty", "pedigree", "--scores", "1,1,9,1,1"]);
    assert!(err.contains("temporal correlation must be 1–5"), "{err}");

    // Monte Carlo footprints: same seed, same numbers; mean near the deterministic score.
    let db = lca_fixture("four-process");
    let args = |seed: &str| {
        vec![
            "lca",
            "footprint",
            "--db",
            db.as_str(),
            "--product",
            "steel",
            "--amount",
            "1000",
            "--mc",
            "500",
            "--seed",
            seed,
            "--gsd",
            "1.1",
            "--json",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let run = |seed: &str| {
        let a = args(seed);
        cb.json(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (a, b, c) = (run("5"), run("5"), run("6"));
    assert_eq!(a["monte_carlo"], b["monte_carlo"]);
    assert_ne!(a["monte_carlo"]["mean"], c["monte_carlo"]["mean"]);
    let m = &a["monte_carlo"];
    let score = a["score"].as_f64().unwrap();
    assert!((m["p50"].as_f64().unwrap() - score).abs() / score < 0.05, "{m}");
    assert!(m["p2_5"].as_f64().unwrap() < score && score < m["p97_5"].as_f64().unwrap());
    for key in ["mean", "sd", "p2_5", "p50", "p97_5"] {
        assert!(m[key].is_number(), "{key}");
    }
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--mc",
        "10",
    ]);
    assert!(err.contains("--gsd") && err.contains("--pedigree"), "{err}");
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--mc",
        "10",
        "--gsd",
        "0.5",
    ]);
    assert!(err.contains("geometric standard deviation must be ≥ 1"), "{err}");
}

#[test]
fn mrio_accounts_with_monte_carlo() {
    let cb = Cbutler::new();
    let mrio = fixture_mrio();
    let m = mrio.to_str().unwrap();
    let args = [
        "mrio",
        "accounts",
        "--mrio",
        m,
        "--stressor",
        "emission_type1",
        "--mc",
        "200",
        "--seed",
        "4",
        "--gsd",
        "1.1",
        "--json",
    ];
    let v = cb.json(&args);
    let u = &v["monte_carlo"]["accounts"]["emission_type1"]["D_cba_reg"];
    for (region, s) in u.as_object().unwrap() {
        let point = v["accounts"]["emission_type1"]["D_cba_reg"][region]
            .as_f64()
            .unwrap();
        let (lo, med, hi) = (
            s["p2_5"].as_f64().unwrap(),
            s["p50"].as_f64().unwrap(),
            s["p97_5"].as_f64().unwrap(),
        );
        assert!(lo < point && point < hi, "{region}: {point} not in [{lo}, {hi}]");
        assert!(
            (med - point).abs() / point < 0.05,
            "{region}: median {med} vs {point}"
        );
    }
    assert_eq!(
        cb.json(&args)["monte_carlo"],
        v["monte_carlo"],
        "same seed, same numbers"
    );
}

#[test]
fn answers_carry_consistency_findings() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "ask",
        "What would CBAM cost on 10,000 t of Chinese hot-rolled coil in 2027 with verified data of 1.9 t/t, at 80 EUR/t?",
        "--json",
    ]);
    let f = &v["findings"][0];
    assert_eq!(f["check"], "CBAM actual against default value");
    assert_eq!(f["passed"], true);
    assert_eq!(f["values"]["actual_t_per_t"], 1.9);
    let v = cb.json(&[
        "ask",
        "What is the carbon footprint of 1 m3 of diesel in USLCI?",
        "--json",
    ]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "technosphere balance A·s = f" && f["passed"] == true)
    );
    let mrio = fixture_mrio();
    let v = cb.json(&[
        "ask",
        "What are the consumption-based emission_type1 emissions of reg2?",
        "--mrio",
        mrio.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "D_cba: S·L·Y against the bilateral matrix" && f["passed"] == true),
        "{}",
        v["findings"]
    );
}

#[test]
fn how_certain_is_that_reports_intervals_and_drivers() {
    let cb = Cbutler::new();
    let err = cb.fails(&["ask", "How certain is that?"]);
    assert!(err.contains("no earlier answer"), "{err}");
    cb.ok(&["ask", "How much CO2 do 10,000 ha of tropical rainforest in Africa with a root-to-shoot ratio of 0.37 remove per year?"]);
    let v = cb.json(&["ask", "How certain is that?", "--json"]);
    assert!(
        v["follow_up_on"]["question"]
            .as_str()
            .unwrap()
            .contains("tropical rainforest")
    );
    let annual = v["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"].as_str().unwrap().contains("per year (negative"))
        .unwrap();
    assert_eq!(annual["uncertainty"]["kind"], "interval");
    assert!(
        v["drivers"][0].as_str().unwrap().contains("Drivers: growth_g_w"),
        "{}",
        v["drivers"]
    );
}

#[test]
fn product_footprints_in_ask_carry_an_interval_and_name_their_drivers() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "ask",
        "What is the carbon footprint of 1 m3 of diesel in USLCI?",
        "--json",
    ]);
    let footprint = table_row(&v, "footprint");
    let u = &footprint["uncertainty"];
    assert_eq!(u["kind"], "interval", "{footprint}");
    let (lo, hi, point) = (
        u["low"].as_f64().unwrap(),
        u["high"].as_f64().unwrap(),
        footprint["value"].as_f64().unwrap(),
    );
    assert!(lo < point && point < hi, "{point} not in [{lo}, {hi}]");
    let note = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|n| n.starts_with("Uncertainty: Monte Carlo"))
        .unwrap();
    assert!(note.contains("assumed pedigree scores [3, 3, 3, 3, 3]"), "{note}");
    assert!(note.contains("% of the variance"), "{note}");
    // The follow-up names the same drivers.
    let text = cb.ok(&["ask", "How certain is that?"]);
    assert!(text.contains("95 % interval"), "{text}");
    assert!(text.contains("Drivers:"), "{text}");
}

#[test]
fn ask_the_uncertainty_agent() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "ask",
        "Which inputs of the Ishigami function matter most? Use 4096 samples.",
        "--json",
    ]);
    assert_eq!(v["results"][0]["agent"], "uncertainty");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 6);
    assert!(findings.iter().all(|f| f["passed"] == true), "{findings:?}");
    let text = cb.ok(&["ask", "What uncertainty do pedigree scores (1,1,1,1,5) imply?"]);
    assert!(text.contains("pedigree scores [1, 1, 1, 1, 5]"), "{text}");
}

#[test]
fn factory_optimize_with_monte_carlo() {
    let cb = Cbutler::new();
    let args = [
        "factory",
        "optimize",
        "--plant",
        "scrap-eaf",
        "--hours",
        "24",
        "--carbon-price",
        "80",
        "--mc",
        "200",
        "--factor-gsd",
        "1.1",
        "--price-gsd",
        "1.2",
        "--json",
    ];
    let v = cb.json(&args);
    let m = &v["monte_carlo"];
    let point = v["optimized"]["emissions_t"].as_f64().unwrap();
    let e = &m["optimized"]["emissions_t"];
    assert!(e["p2_5"].as_f64().unwrap() < point && point < e["p97_5"].as_f64().unwrap());
    assert!(!m["drivers"].as_array().unwrap().is_empty());
    assert_eq!(cb.json(&args)["monte_carlo"], *m, "same seed, same numbers");
    let err = cb.fails(&[
        "factory",
        "optimize",
        "--plant",
        "scrap-eaf",
        "--hours",
        "24",
        "--mc",
        "100",
    ]);
    assert!(err.contains("--factor-gsd"), "{err}");
}

#[test]
fn lca_footprint_against_an_eeio_multiplier() {
    let cb = Cbutler::new();
    let db = lca_fixture("four-process");
    let check = |price: &str| -> Value {
        let v = cb.json(&[
            "lca",
            "footprint",
            "--db",
            &db,
            "--product",
            "steel",
            "--amount",
            "1000",
            "--compare-eeio",
            &format!("CN:331110:{price}"),
            "--json",
        ]);
        v["findings"][0].clone()
    };
    // ~2.47 kg CO2e per kg of steel against ~1.99 kg CO2e per USD × 1 USD/kg: a ratio near 1.25.
    let f = check("1.0");
    assert_eq!(f["check"], "LCA footprint ≈ EEIO multiplier × price");
    assert_eq!(f["passed"], true, "{f}");
    let ratio = f["values"]["ratio"].as_f64().unwrap();
    assert!((1.1..1.4).contains(&ratio), "{ratio}");
    // A price off by 100 (USD per tonne written as per kg) fails.
    assert_eq!(check("100")["passed"], false);
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--compare-eeio",
        "US:331110:1",
    ]);
    assert!(err.contains("no import factors for region \"US\""), "{err}");
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--compare-eeio",
        "CN:331110",
    ]);
    assert!(err.contains("REGION:SECTOR:PRICE"), "{err}");
}

#[test]
fn monte_carlo_stops_at_the_requested_precision() {
    let cb = Cbutler::new();
    let db = lca_fixture("four-process");
    let v = cb.json(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--mc",
        "20000",
        "--gsd",
        "1.05",
        "--precision",
        "0.002",
        "--json",
    ]);
    let m = &v["monte_carlo"];
    let n = m["iterations"].as_u64().unwrap();
    assert!((200..20_000).contains(&n), "{m}");
    assert_eq!(m["converged"], true);
    assert!(m["standard_error"].as_f64().unwrap() <= 0.002 * m["mean"].as_f64().unwrap());
    let err = cb.fails(&[
        "lca",
        "footprint",
        "--db",
        &db,
        "--product",
        "steel",
        "--mc",
        "100",
        "--gsd",
        "1.1",
        "--precision",
        "2",
    ]);
    assert!(err.contains("--precision must be between 0 and 1"), "{err}");
}

/// `cbutler probe` (the images' health check): 0 for a 2xx answer, else non-zero naming the URL.
#[test]
fn probe_says_whether_an_endpoint_answers() {
    let cb = Cbutler::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        for status in ["200 OK", "503 Service Unavailable"] {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    let url = format!("http://127.0.0.1:{port}/health");
    assert!(cb.ok(&["probe", &url]).contains("200 OK"));
    let err = cb.fails(&["probe", &url]);
    assert!(err.contains(&url) && err.contains("503"), "{err}");
    server.join().unwrap();
    let err = cb.fails(&["probe", "http://127.0.0.1:9/nothing"]);
    assert!(err.contains("did not answer"), "{err}");
}

/// GCB's value for an ISO code and year, read from the bundled CSV apart from the trade agent.
fn gcb_value(file: &str, code: &str, year: i32) -> f64 {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/gcb")
        .join(file);
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| r.unwrap())
        .find(|r| &r[1] == code && r[2].parse::<i32>().ok() == Some(year))
        .map(|r| r[3].parse().unwrap())
        .unwrap_or_else(|| panic!("no {file} value for {code} {year}"))
}

#[test]
fn a_trend_asked_in_english_or_french_states_both_ends_and_the_change() {
    let cb = Cbutler::new();
    let t = |y| gcb_value("annual-co2-emissions-per-country.csv", "GBR", y);
    let c = |y| gcb_value("consumption-co2-emissions.csv", "GBR", y);
    // French writes the decimal comma, and the answer is written in the question's language.
    let pct = |a: f64, b: f64, comma: bool| {
        let p = format!("{:+.1}%", (b - a) / a * 100.0);
        if comma { p.replace('.', ",") } else { p }
    };
    for (q, head, comma) in [
        (
            "UK territorial and consumption CO2 between 2010 and 2020",
            "United Kingdom, 2010 to 2020",
            false,
        ),
        (
            "Les émissions territoriales et de consommation du Royaume-Uni entre 2010 et 2020",
            "Royaume-Uni, de 2010 à 2020",
            true,
        ),
    ] {
        let text = cb.ok(&["ask", q]);
        for needle in [
            head.to_string(),
            pct(t(2010), t(2020), comma),
            pct(c(2010), c(2020), comma),
        ] {
            assert!(text.contains(&needle), "{q}: answer lacks {needle:?}:\n{text}");
        }
    }
}

#[test]
fn questions_that_would_get_a_nearby_answer_are_refused_with_what_is_missing() {
    let cb = Cbutler::new();
    for (q, needle) in [
        (
            "Which country imports the most embodied CO2 from Germany?",
            "--mrio",
        ),
        ("What are the emissions of BF-BOF steelmaking?", "route"),
        (
            "Cut 40 % of a cement plant's emissions by 2035 at least cost",
            "40 %",
        ),
        (
            "What is the carbon footprint of 1 kg of steel made in China?",
            "USLCI",
        ),
    ] {
        let err = cb.fails(&["ask", q]);
        assert!(err.contains(needle), "{q}: {err}");
        assert!(!err.contains("Burkina"), "{q}: {err}");
    }
    // Two origins: one CBAM cost each, each named.
    let text = cb.ok(&[
        "ask",
        "Compare the CBAM cost of 1,000 t of aluminium from India and from China in 2026",
    ]);
    for needle in ["from India in 2026", "from China in 2026"] {
        assert!(text.contains(needle), "{text}");
    }
}

/// `cbutler plan` shows what a question becomes without running it; `--jsonl` plans a batch
/// (what `bench/planner.py` drives) and names the line of bad input.
#[test]
fn plan_shows_the_plan_or_the_refusal_with_questions_to_ask_instead() {
    let c = Cbutler::new();
    let out: Value = serde_json::from_str(&c.ok(&[
        "plan",
        "What will CBAM cost on 500 t of ferro-manganese from India in 2027?",
    ]))
    .unwrap();
    assert_eq!(out["planner"], "rules");
    let task = &out["plan"]["tasks"][0];
    assert_eq!(task["params"]["op"], "cbam_cost");
    assert_eq!(task["params"]["cn_code"], "720211");
    assert_eq!(task["params"]["country"], "IN");
    assert_eq!(task["params"]["tonnes"], 500.0);
    assert!(out["ms"].as_f64().unwrap() >= 0.0);

    let out: Value = serde_json::from_str(&c.ok(&["plan", "What will CBAM cost on Chinese steel?"])).unwrap();
    assert!(out["plan"].is_null());
    assert!(out["refusal"].as_str().unwrap().contains("CN code"), "{out}");
    let suggestions = out["suggestions"].as_array().unwrap();
    assert!(
        suggestions
            .iter()
            .any(|s| s.as_str().unwrap().contains("CN 7208) from China")),
        "{out}"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_cbutler"))
        .args(["plan", "--jsonl", "--mrio"])
        .arg(fixture_mrio())
        .env("CBUTLER_HOME", c.home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            concat!(
                "{\"q\": \"Which sectors contribute most to reg3's consumption-based emissions?\", \"mrio\": true}\n",
                "{\"q\": \"Which sectors contribute most to reg3's consumption-based emissions?\"}\n",
                "not json\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["plan"]["tasks"][0]["params"]["op"], "top_sectors");
    // Without the MRIO, the same question needs one.
    assert!(
        lines[1]["refusal"].as_str().unwrap().contains("--mrio"),
        "{}",
        lines[1]
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 3"), "{err}");
}

/// `sinks stock-difference` on the command line, against the Eqs. 2.5 and 2.8 by hand:
/// C = A × V × BCEF_S × (1 + R) × CF at each inventory, ΔC = (C_t2 − C_t1) / (t2 − t1).
#[test]
fn sinks_stock_difference_by_hand() {
    let cb = Cbutler::new();
    let args = |t1: &'static str, t2: &'static str, json: bool| {
        let mut a = vec![
            "sinks",
            "stock-difference",
            "--area-ha",
            "100",
            "--volume-t1",
            "150",
            "--volume-t2",
            "180",
            "--t1",
            t1,
            "--t2",
            t2,
            "--bcef-s",
            "0.7",
            "--root-shoot",
            "0.25",
        ];
        if json {
            a.push("--json");
        }
        a
    };
    let v = cb.json(&args("2010", "2020", true));
    let c = |vol: f64| 100.0 * vol * 0.7 * 1.25 * 0.47;
    let annual = (c(180.0) - c(150.0)) / 10.0;
    assert!(
        (v["stock_t1_c_t"].as_f64().unwrap() - c(150.0)).abs() < 1e-9,
        "{v}"
    );
    assert!(
        (v["annual_change_c_t"].as_f64().unwrap() - annual).abs() < 1e-9,
        "{v}"
    );
    assert!(
        (v["net_co2_t_per_year"].as_f64().unwrap() + annual * 44.0 / 12.0).abs() < 1e-9,
        "{v}"
    );
    let err = cb.fails(&args("2020", "2010", false));
    assert!(err.contains("2010") || err.contains("t2"), "{err}");
}

/// `cbam cost --cscf`: the cross-sectoral correction factor scales the free-allocation
/// adjustment (IR 2025/2620 Annex: CBAM_y × CSCF_y × BM × Q), and a factor above 1 is refused.
#[test]
fn cbam_cost_with_a_cross_sectoral_correction_factor() {
    let cb = Cbutler::new();
    let d = cb.json(&cbam_cost_args(
        "China",
        "7208",
        "10000",
        "2027",
        &["--cscf", "0.9", "--json"],
    ));
    let faa = 0.95 * 0.9 * 1.370 * 10_000.0;
    assert!(
        (d["free_allocation_adjustment_t"].as_f64().unwrap() - faa).abs() < 1e-6,
        "{d}"
    );
    assert!((d["certificates"].as_f64().unwrap() - (3.824271 * 10_000.0 - faa)).abs() < 1e-6);
    assert!(
        !d["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("taken as 1"))
    );
    let err = cb.fails(&cbam_cost_args(
        "China",
        "7208",
        "10000",
        "2027",
        &["--cscf", "1.2"],
    ));
    assert!(err.contains("at most 1"), "{err}");
}

/// `cbutler grid` and the same question in `ask`: the values read by hand from the bundled files
/// (Ember's `DEU` row, Electricity Maps' `DE` of 2021, the IFI row for Germany), the source and
/// year of each, and what is not bundled refused with what is.
#[test]
fn grid_intensity_by_country_from_the_command_line_and_in_ask() {
    let cb = Cbutler::new();
    let text = cb.ok(&["grid", "--place", "DE"]);
    assert!(
        text.starts_with(
            "Grid carbon intensity of Germany, average intensity, 2024 (Ember): 342.06 g CO2e/kWh"
        ),
        "{text}"
    );
    assert!(text.contains("CC BY 4.0"), "{text}");
    assert!(
        text.contains("average intensity, 2021 (Electricity Maps): 439 g CO2e/kWh"),
        "{text}"
    );
    assert!(text.contains("operating margin, 2021 (IFI harmonised grid factors): 650 g CO2/kWh"));
    let v = cb.json(&[
        "grid",
        "--country",
        "Germany",
        "--factor",
        "combined-margin-firm",
        "--json",
    ]);
    assert_eq!(v["quantities"][0]["quantity"]["value"].as_f64(), Some(313.0));
    assert_eq!(v["quantities"][0]["measure"].as_str(), Some("grid_intensity"));
    let v = cb.json(&["grid", "--place", "DEU", "--year", "2022", "--json"]);
    assert_eq!(v["quantities"][0]["quantity"]["value"].as_f64(), Some(475.0));
    assert_eq!(
        v["quantities"][0]["dimensions"]["source"].as_str(),
        Some("Electricity Maps")
    );
    let err = cb.fails(&["grid", "--place", "DE", "--year", "2019"]);
    assert!(err.contains("Ember 2024, Electricity Maps 2021–2025"), "{err}");
    let err = cb.fails(&[
        "grid",
        "--place",
        "DE",
        "--factor",
        "operating-margin",
        "--year",
        "2024",
    ]);
    assert!(err.contains("2021"), "{err}");
    let err = cb.fails(&["grid", "--place", "Atlantis"]);
    assert!(err.contains("\"Atlantis\" is not a country"), "{err}");

    let answer = cb.ok(&["ask", "What is the carbon intensity of electricity in Germany?"]);
    for needle in [
        "342.1 g CO2e/kWh",
        "2024 (Ember)",
        "Ember, Yearly Electricity Data",
        "margin factor",
    ] {
        assert!(answer.contains(needle), "{needle}: {answer}");
    }
    let answer = cb.ok(&["ask", "Wie hoch ist die CO2-Intensität des Stroms in Frankreich?"]);
    assert!(answer.contains("44,18 g CO2e/kWh"), "{answer}");
    let err = cb.fails(&[
        "ask",
        "What was the carbon intensity of electricity in Brazil in 2015?",
    ]);
    assert!(err.contains("Electricity Maps 2021–2025"), "{err}");
}

/// `factory optimize --direct-only`: the carbon price is charged on direct emissions only, and the
/// objectives reported are the ones the optimiser minimised (the solver's own value), not the
/// cost with the grid's carbon added back.
#[test]
fn factory_optimize_direct_only_prices_direct_emissions_alone() {
    let cb = Cbutler::new();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "factory",
            "optimize",
            "--plant",
            "scrap-eaf",
            "--hours",
            "24",
            "--carbon-price",
            "80",
            "--json",
        ];
        args.extend_from_slice(extra);
        cb.json(&args)
    };
    for (extra, on_grid) in [(&[][..], true), (&["--direct-only"][..], false)] {
        let v = run(extra);
        assert_eq!(v["objective"]["price_indirect"].as_bool(), Some(on_grid));
        for side in ["baseline", "optimized"] {
            let s = &v[side];
            let priced = if on_grid {
                s["emissions_t"].as_f64().unwrap()
            } else {
                s["direct_co2_t"].as_f64().unwrap()
            };
            let by_hand = s["cost_eur"].as_f64().unwrap() + 80.0 * priced;
            let reported = s["objective"].as_f64().unwrap();
            assert!(
                (reported - by_hand).abs() < 1e-6 * by_hand,
                "{side} {on_grid}: {reported} vs {by_hand}"
            );
        }
        let solver = v["solver"]["objective"].as_f64().unwrap();
        let optimized = v["optimized"]["objective"].as_f64().unwrap();
        assert!(
            (solver - optimized).abs() < 1e-6 * optimized,
            "{on_grid}: solver {solver}, re-simulated {optimized}"
        );
    }
}

/// `sinks soil --soc-ref-class`: IPCC 2006 Table 2.3's reference stock for the class (warm
/// temperate moist, HAC: 88 t C/ha) with its sources, the same account as `--soc-ref 88`, and
/// by hand: 100 ha × 88 × (1 − 0.69) / 20 years = 136.4 t C a year, × 44/12 t CO2.
#[test]
fn sinks_soil_reads_the_reference_stock_of_a_class() {
    let cb = Cbutler::new();
    let args = |soc: &[&str]| {
        let mut a = vec!["sinks", "soil", "--area-ha", "100"];
        a.extend_from_slice(soc);
        a.extend_from_slice(&[
            "--climate",
            "temperate/boreal moist",
            "--after",
            "long-term cultivated,full tillage,medium",
            "--json",
        ]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |soc: &[&str]| {
        let a = args(soc);
        cb.json(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let by_class = run(&["--soc-ref-class", "warm temperate moist,HAC"]);
    let p = &by_class["parameters"]["soc_ref"];
    assert_eq!(p["value"].as_f64(), Some(88.0));
    let source = p["source"].as_str().unwrap();
    assert!(
        source.contains("Table 2.3") && source.contains("bonsai-ipcc"),
        "{source}"
    );
    let year1 = by_class["years"][0]["net_co2_t"].as_f64().unwrap();
    assert!((year1 - 136.4 * 44.0 / 12.0).abs() < 1e-9, "{year1}");
    let by_value = run(&["--soc-ref", "88"]);
    assert_eq!(by_class["total_net_co2_t"], by_value["total_net_co2_t"]);
    let bad = args(&["--soc-ref-class", "warm temperate moist,peat"]);
    let err = cb.fails(&bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("no confirmed SOC_REF") && err.contains("pass --soc-ref"),
        "{err}"
    );
}

/// `factory simulate --country`: the grid emissions of two steady days scale by Germany's annual
/// mean (Ember DEU, 342.06 g CO2e/kWh) over the bundled profile's mean of those two days, read
/// from the CSV here; the direct emissions do not move; both outputs say which grid ran.
#[test]
fn factory_simulate_in_a_country_scales_the_grid_to_its_annual_mean() {
    let cb = Cbutler::new();
    let csv = std::fs::read_to_string(format!(
        "{}/../../data/factory/grid-profile-synthetic.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let g: Vec<f64> = csv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("hour"))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    // The two days run average to Germany's annual mean: the scale is its mean over theirs.
    let year_mean = g[..48].iter().sum::<f64>() / 48.0;
    let run = |extra: &[&str]| {
        let mut a = vec![
            "factory",
            "simulate",
            "--plant",
            "scrap-eaf",
            "--hours",
            "48",
            "--json",
        ];
        a.extend_from_slice(extra);
        cb.json(&a)
    };
    let plain = run(&[]);
    let germany = run(&["--country", "DE"]);
    let t = |v: &Value, k: &str| v["totals"][k].as_f64().unwrap();
    assert_eq!(t(&plain, "direct_co2_t"), t(&germany, "direct_co2_t"));
    let k = 0.34206 / year_mean;
    let ratio = t(&germany, "indirect_co2_t") / t(&plain, "indirect_co2_t");
    assert!((ratio - k).abs() < 1e-9, "{ratio} against {k}");
    assert!(
        germany["grid"]
            .as_str()
            .unwrap()
            .contains("Germany's annual mean, 342.06 g CO2e/kWh (Ember 2024")
    );
    assert!(plain["grid"].as_str().unwrap().contains("no country's grid"));
    let err = cb.fails(&[
        "factory",
        "simulate",
        "--plant",
        "scrap-eaf",
        "--hours",
        "4",
        "--country",
        "Atlantis",
    ]);
    assert!(err.contains("--country") && err.contains("Atlantis"), "{err}");
}

/// `cbam compare`: India's default for ingots (CN 7206 10 00: 2.64 t/t direct, no indirect part,
/// 2.904 with the 2026 mark-up, read from the Commission's table) against the four steel routes
/// on India's grid, compared on direct emissions as CBAM counts them for Annex II goods; the scrap
/// EAF's direct intensity by hand is 0.08 + 0.411 × 0.20196 t/t. Cement is compared on direct +
/// indirect; a good no route makes, and a country CBAM does not cover, are refused.
#[test]
fn cbam_defaults_against_the_route_models_on_the_country_s_grid() {
    let cb = Cbutler::new();
    let v = cb.json(&[
        "cbam",
        "compare",
        "--country",
        "IN",
        "--cn-code",
        "72061000",
        "--json",
    ]);
    let rows = v.as_array().unwrap();
    // `ask` says the same ratio for the BF-BOF route (to its four significant figures).
    let text = cb.json(&["ask", "Do the CBAM defaults overstate India's steel?", "--json"])["text"]
        .as_str()
        .unwrap()
        .to_string();
    let ratio = rows[0]["ratio"].as_f64().unwrap();
    let said: f64 = text
        .split("the default is ")
        .nth(1)
        .and_then(|t| t.split(" times").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!((said - ratio).abs() < 1e-3 * ratio, "{said} vs {ratio}: {text}");
    let plants: Vec<&str> = rows.iter().map(|r| r["plant"].as_str().unwrap()).collect();
    assert_eq!(plants, ["bf-bof", "gas-dri-eaf", "h2-dri-eaf", "scrap-eaf"]);
    for r in rows {
        assert!((r["default_with_mark_up_t_per_t"].as_f64().unwrap() - 2.904).abs() < 1e-9);
        assert!((r["default_without_mark_up_t_per_t"].as_f64().unwrap() - 2.64).abs() < 1e-9);
        assert_eq!(r["default_route_mark"].as_str(), Some("(C)"));
        assert_eq!(r["basis"].as_str(), Some("direct only (Annex II good)"));
        let direct = r["modelled_direct_t_per_t"].as_f64().unwrap();
        assert_eq!(r["modelled_on_basis_t_per_t"].as_f64(), Some(direct));
        assert!((r["ratio"].as_f64().unwrap() - 2.904 / direct).abs() < 1e-9);
        assert!(
            r["grid"]
                .as_str()
                .unwrap()
                .contains("708.96 g CO2e/kWh (Ember 2024)")
        );
    }
    // The mark names its route, and the BF-BOF model is that route; Thailand's default is a
    // scrap EAF's (E), so there the scrap EAF model is the default's own route.
    let same: Vec<bool> = rows
        .iter()
        .map(|r| r["same_route_as_default"].as_bool().unwrap())
        .collect();
    assert_eq!(same, [true, false, false, false]);
    assert_eq!(
        rows[0]["default_route"].as_str(),
        Some("carbon steel by blast furnace and basic oxygen furnace")
    );
    let thai_args = [
        "cbam",
        "compare",
        "--country",
        "Thailand",
        "--cn-code",
        "72061000",
    ];
    let thai = cb.json(&[&thai_args[..], &["--json"]].concat());
    let same: Vec<(&str, bool)> = thai
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["default_route_mark"].as_str().unwrap(),
                r["same_route_as_default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        same,
        [("(E)", false), ("(E)", false), ("(E)", false), ("(E)", true)]
    );
    let text = cb.ok(&thai_args);
    assert!(
        text.contains("(E)*")
            && text.contains("Route mark (E): carbon steel by scrap and electric arc furnace"),
        "{text}"
    );
    let scrap = &rows[3];
    let by_hand = 0.08 + 0.411 * 0.20196;
    assert!((scrap["modelled_direct_t_per_t"].as_f64().unwrap() - by_hand).abs() < 1e-9);
    // The scrap EAF's grid part on India's grid is above its direct part: the comparison shows it.
    assert!(scrap["modelled_indirect_t_per_t"].as_f64().unwrap() > by_hand);
    // Without the mark-up (a penalty, not an emission): 2.64 over the same basis.
    assert!((scrap["ratio_without_mark_up"].as_f64().unwrap() - 2.64 / by_hand).abs() < 1e-9);
    // Hot-rolled coil is another good than the crude steel the routes make: refused.
    let err = cb.fails(&["cbam", "compare", "--country", "IN", "--cn-code", "72081000"]);
    assert!(err.contains("no bundled route model makes CN 72081000"), "{err}");

    let v = cb.json(&[
        "cbam",
        "compare",
        "--country",
        "India",
        "--cn-code",
        "25232900",
        "--json",
    ]);
    let cement = &v.as_array().unwrap()[0];
    assert_eq!(cement["basis"].as_str(), Some("direct + indirect"));
    let total = cement["modelled_direct_t_per_t"].as_f64().unwrap()
        + cement["modelled_indirect_t_per_t"].as_f64().unwrap();
    assert!((cement["modelled_on_basis_t_per_t"].as_f64().unwrap() - total).abs() < 1e-12);
    assert!((cement["default_with_mark_up_t_per_t"].as_f64().unwrap() - 1.628).abs() < 1e-9);

    let text = cb.ok(&["cbam", "compare", "--country", "IN"]);
    assert!(
        text.contains("not a verified installation value") && text.contains("ammonia-electrolysis"),
        "{text}"
    );
    let err = cb.fails(&["cbam", "compare", "--country", "IN", "--cn-code", "76011000"]);
    assert!(err.contains("no bundled route model makes CN 76011000"), "{err}");
    let err = cb.fails(&["cbam", "compare", "--country", "NO"]);
    assert!(err.contains("Annex III"), "{err}");
}

/// `ask` sets the CBAM default against every steel route on the country's grid and names the
/// production route the default is the one of ((C), BF-BOF, for India's ingots), in the asker's
/// language (the ratio against `cbam compare` is checked in the test above).
#[test]
fn ask_names_the_route_of_the_default_against_the_route_models() {
    let cb = Cbutler::new();
    let answer = |q: &str| {
        cb.json(&["ask", q, "--json"])["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let text = answer("Do the CBAM defaults overstate India's steel?");
    for (needle, times) in [
        (
            "production route (C): carbon steel by blast furnace and basic oxygen furnace",
            1,
        ),
        ("is the route the default value names", 1),
        ("bf-bof is the route the default value names", 1),
    ] {
        assert_eq!(text.matches(needle).count(), times, "{needle}: {text}");
    }
    let text = answer("Les valeurs par défaut du CBAM surestiment-elles l'acier de l'Inde ?");
    assert!(
        text.contains("acier au carbone par haut fourneau et convertisseur à oxygène"),
        "{text}"
    );
    // A CBAM cost question sets no route against the default: no route sentence.
    let text = answer("What does CBAM charge on 1000 t of hot-rolled coil from India in 2026?");
    assert!(
        text.contains("CBAM") && !text.contains("production route"),
        "{text}"
    );
}

/// `cbutler avoided`: one shipment by hand — 100 MW at 20 % for two years losing 1 % a year
/// generate 348,648 MWh; × Brazil's IFI combined margin for intermittent generation (234 g/kWh,
/// read from the IFI table); against 100 MW × (900 MWh × China's Ember average 557.5 g/kWh + 300 t
/// + 20 t) + 348,648 MWh × 1 g/kWh. The parameters are TEST values written here, not data.
#[test]
fn avoided_emissions_of_exported_solar_by_hand() {
    let cb = Cbutler::new();
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("p.toml");
    std::fs::write(
        &params,
        "[technology.solar-pv]\ncapacity_factor = 0.2\nlifetime_years = 2\ndegradation_per_year = 0.01\n\
         manufacturing_mwh_per_mw = 900\nother_embodied_t_per_mw = 300\ntransport_t_per_mw = 20\n\
         operation_g_per_kwh = 1\nsource = \"TEST values, not data\"\n",
    )
    .unwrap();
    let p = params.to_str().unwrap();
    let v = cb.json(&[
        "avoided",
        "--exporter",
        "CN",
        "--parameters",
        p,
        "--destination",
        "Brazil",
        "--technology",
        "solar-pv",
        "--mw",
        "100",
        "--json",
    ]);
    let r = &v["rows"][0];
    let generation = 100.0 * 0.2 * 8760.0 * (1.0 + 0.99);
    assert!((r["lifetime_generation_mwh"].as_f64().unwrap() - generation).abs() < 1e-6);
    assert_eq!(r["margin"]["g_per_kwh"].as_f64(), Some(234.0));
    assert_eq!(r["margin"]["source"].as_str(), Some("ifi"));
    assert!((r["avoided_t"].as_f64().unwrap() - generation * 0.234).abs() < 1e-6);
    let life = 100.0 * (900.0 * 0.5575 + 300.0 + 20.0) + generation * 0.001;
    assert!((r["life_cycle_t"].as_f64().unwrap() - life).abs() < 1e-6);
    // Operating margin instead (Brazil 2021: read from the IFI table).
    let om = cb.json(&[
        "avoided",
        "--exporter",
        "CN",
        "--parameters",
        p,
        "--destination",
        "Brazil",
        "--technology",
        "solar-pv",
        "--mw",
        "100",
        "--margin",
        "operating-margin",
        "--json",
    ]);
    assert_eq!(
        om["rows"][0]["margin"]["factor"].as_str(),
        Some("operating_margin")
    );
    assert!(v["interval"].is_null(), "no ranges, no interval");
    // Ranges on the capacity factor and the margin: a 95 % interval that holds the central value.
    let mut text = std::fs::read_to_string(&params).unwrap();
    text.push_str("capacity_factor_range = [0.15, 0.25]\n");
    std::fs::write(&params, text).unwrap();
    let ranged = cb.json(&[
        "avoided",
        "--exporter",
        "CN",
        "--parameters",
        p,
        "--destination",
        "Brazil",
        "--technology",
        "solar-pv",
        "--mw",
        "100",
        "--margin-uncertainty",
        "0.2",
        "--json",
    ]);
    let i = &ranged["interval"];
    let central = ranged["total_avoided_t"].as_f64().unwrap();
    assert!(
        i["avoided_t"]["p2_5"].as_f64().unwrap() < central
            && central < i["avoided_t"]["p97_5"].as_f64().unwrap(),
        "{i}"
    );
    assert_eq!(i["iterations"].as_u64(), Some(2000));
    // A file of exports, and what is wrong named with its line.
    let exports = dir.path().join("x.csv");
    std::fs::write(
        &exports,
        "destination,technology,mw\nBrazil,solar-pv,100\nIndia,solar-pv,50\n",
    )
    .unwrap();
    let text = cb.ok(&[
        "avoided",
        "--exporter",
        "China",
        "--parameters",
        p,
        "--exports",
        exports.to_str().unwrap(),
    ]);
    assert!(
        text.contains("to Brazil") && text.contains("to India") && text.contains("TEST values"),
        "{text}"
    );
    std::fs::write(&exports, "destination,technology,mw\nBrazil,battery,100\n").unwrap();
    let err = cb.fails(&[
        "avoided",
        "--exporter",
        "CN",
        "--parameters",
        p,
        "--exports",
        exports.to_str().unwrap(),
    ]);
    assert!(err.contains("battery"), "{err}");
    std::fs::write(&exports, "destination,technology,mw\nBrazil,solar-pv,-1\n").unwrap();
    let err = cb.fails(&[
        "avoided",
        "--exporter",
        "CN",
        "--parameters",
        p,
        "--exports",
        exports.to_str().unwrap(),
    ]);
    assert!(err.contains("line 2"), "{err}");
}

/// The value of `measure` in an `ask --json` answer's table.
fn table_value(answer: &Value, measure: &str) -> f64 {
    table_row(answer, measure)["value"].as_f64().unwrap()
}

/// Avoided emissions in `ask` with ranges: "15 to 19 %" and "25 to 30 years" are drawn
/// (triangular, the middle as mode) with the margin's ±10 %; the interval of the avoided emissions
/// lies between the corners computed by hand (every input at its low end, every input at its high
/// end) and holds the value; the life-cycle emissions, which no drawn input moves (no operation
/// emissions given), carry no interval.
#[test]
fn avoided_emissions_in_ask_with_ranges_carry_an_interval() {
    let cb = Cbutler::new();
    let q = "How much CO2 do China's 1,000 MW of solar exports to Brazil avoid over 25 to 30 years, with a \
             capacity factor of 15 to 19 %, degradation of 0.5 % a year, 900 MWh per MW to make and 300 t CO2e per \
             MW besides, margin ±10 %?";
    let a = cb.json(&["ask", q, "--json"]);
    let row = |m: &str| table_row(&a, m);
    let generation =
        |cf: f64, years: i32| -> f64 { (0..years).map(|y| 1000.0 * cf * 8760.0 * 0.995f64.powi(y)).sum() };
    let value = generation(0.17, 28) * 0.234;
    let (lowest, highest) = (
        generation(0.15, 25) * 0.234 * 0.9,
        generation(0.19, 30) * 0.234 * 1.1,
    );
    let avoided = row("avoided_emissions");
    assert!(
        (avoided["value"].as_f64().unwrap() - value).abs() < 1e-6 * value,
        "{avoided}"
    );
    let u = &avoided["uncertainty"];
    assert_eq!(u["kind"], "interval", "{avoided}");
    let (low, high) = (u["low"].as_f64().unwrap(), u["high"].as_f64().unwrap());
    assert!(
        lowest < low && low < value && value < high && high < highest,
        "{lowest} {low} {value} {high} {highest}"
    );
    let life = row("life_cycle_emissions");
    assert!(
        life["uncertainty"].is_null() || life["uncertainty"]["kind"] == "not_assessed",
        "{life}"
    );
    let ratio = row("avoided_to_life_cycle");
    assert_eq!(ratio["uncertainty"]["kind"], "interval", "{ratio}");
    let notes = a["notes"].to_string();
    assert!(
        notes.contains("Latin hypercube") && notes.contains("grid margin"),
        "{notes}"
    );
    assert!(
        !notes.contains("solar-pv degradation"),
        "degradation had no range: {notes}"
    );
}

/// Avoided emissions in `ask`: a shipment in words with every number given. By hand: 1,000 MW ×
/// 0.17 × 8,760 h × Σ_{y<25} 0.995^y MWh × Brazil's IFI combined margin for intermittent
/// generation (234 g/kWh) against 1,000 MW × (900 MWh × China's Ember average 557.5 g/kWh + 300 t);
/// the graph has the exporter → destination edges of both. Without the numbers the question is
/// refused with each one it must give.
#[test]
fn avoided_emissions_in_ask_with_the_graph_edges() {
    let cb = Cbutler::new();
    let dir = tempfile::tempdir().unwrap();
    let q = "How much CO2 do 1,000 MW of solar panels exported from China to Brazil avoid over 25 years at a \
             capacity factor of 17%, degrading 0.5% a year, if making them took 900 MWh per MW and 300 t CO2e per \
             MW besides?";
    let a = cb.json(&["ask", q, "--json", "--out", dir.path().to_str().unwrap()]);
    let generation: f64 = (0..25).map(|y| 1000.0 * 0.17 * 8760.0 * 0.995f64.powi(y)).sum();
    let avoided = generation * 0.234;
    let life = 1000.0 * (900.0 * 0.5575 + 300.0);
    let row = |m: &str| table_value(&a, m);
    assert!((row("avoided_emissions") - avoided).abs() < 1e-6 * avoided);
    assert!((row("life_cycle_emissions") - life).abs() < 1e-6 * life);
    assert!((row("avoided_to_life_cycle") - avoided / life).abs() < 1e-9 * avoided / life);
    let graph: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("graph.json")).unwrap()).unwrap();
    let edges = graph["edges"].as_array().unwrap();
    let kinds: Vec<&str> = edges.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"avoided_emissions") && kinds.contains(&"embodied_emissions"),
        "{graph}"
    );
    let err = cb.fails(&[
        "ask",
        "How much CO2 do China's solar exports to Brazil avoid over their lifetime, against what making them emitted?",
    ]);
    for needle in ["the capacity", "the capacity factor", "900 MWh per MW"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // A solar PV lifetime and degradation are bundled (two sources each): not asked for.
    assert!(
        !err.contains("the lifetime") && !err.contains("degradation"),
        "{err}"
    );
}

/// A question of the seed's kind that leaves the lifetime and degradation out: the bundled solar
/// PV defaults (30 years, 0.5 %/yr, each from two sources) apply and the answer says so. By
/// hand: Σ_{y<30} 1,000 MW × 0.17 × 8,760 h × 0.995^y × 234 g/kWh. Onshore wind's lifetime
/// default carries a range (20–30 years), so its answer has an interval without any range asked.
#[test]
fn avoided_emissions_take_the_bundled_lifetime_and_degradation() {
    let cb = Cbutler::new();
    let q = "How much CO2 do China's 1 GW of solar exports to Brazil avoid over their lifetime at a capacity factor \
             of 17 %, with 900 MWh per MW to make and 300 t CO2e per MW besides, against what making them emitted?";
    let a = cb.json(&["ask", q, "--json"]);
    let value = |m: &str| table_value(&a, m);
    let generation: f64 = (0..30).map(|y| 1000.0 * 0.17 * 8760.0 * 0.995f64.powi(y)).sum();
    assert!((value("lifetime_generation") - generation).abs() < 1e-6 * generation);
    assert!((value("avoided_emissions") - generation * 0.234).abs() < 1e-6 * generation);
    let life = 1000.0 * (900.0 * 0.5575 + 300.0);
    assert!((value("life_cycle_emissions") - life).abs() < 1e-6 * life);
    let notes = a["notes"].to_string();
    assert!(
        notes.contains("lifetime 30 years: bundled default") && notes.contains("NREL LCA Harmonization"),
        "{notes}"
    );
    assert!(
        notes.contains("degradation 0.5 %/yr: bundled default") && notes.contains("Jordan"),
        "{notes}"
    );
    let plan = a["plan"].to_string();
    assert!(
        plan.contains("bundled defaults, each from two sources: a lifetime of 30 years"),
        "{plan}"
    );
    // Offshore wind has no bundled lifetime: asked for.
    let err = cb.fails(&[
        "ask",
        "How much CO2 do 2 GW of offshore wind turbines exported from China to Viet Nam avoid at a capacity factor \
         of 40%, degrading 0.3% a year, with 200 MWh per MW and 800 t CO2e per MW?",
    ]);
    assert!(err.contains("the lifetime"), "{err}");
    // Onshore wind: 20 years, drawn over 20–30, so an interval comes without one being asked.
    let a = cb.json(&[
        "ask",
        "How much CO2 do 200 MW of wind turbines exported from Germany to Poland avoid at a capacity factor of 30 %, \
         degrading 0.5 % a year, with 150 MWh per MW and 700 t CO2e per MW?",
        "--json",
    ]);
    let avoided = table_row(&a, "avoided_emissions");
    let generation: f64 = (0..20).map(|y| 200.0 * 0.3 * 8760.0 * 0.995f64.powi(y)).sum();
    let v = avoided["value"].as_f64().unwrap();
    assert!((table_value(&a, "lifetime_generation") - generation).abs() < 1e-6 * generation);
    assert_eq!(avoided["uncertainty"]["kind"], "interval", "{avoided}");
    // Lifetimes from 20 to 30 years only add generation: the value (the default, 20 years, the
    // range's mode at its low end) is the interval's floor.
    assert!(avoided["uncertainty"]["high"].as_f64().unwrap() > v, "{avoided}");
    assert!(
        avoided["uncertainty"]["low"].as_f64().unwrap() >= v * (1.0 - 1e-12),
        "{avoided}"
    );
    let plan = a["plan"].to_string();
    assert!(plan.contains("a lifetime of 20 (20–30) years"), "{plan}");
}
