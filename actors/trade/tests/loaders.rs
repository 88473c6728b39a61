//! The loaders on real and format-true data: pymrio saves (folder and zip), a hand-made
//! EXIOBASE 3 zip, the WIOD 2011 CSV, and the bundled Global Carbon Budget series.

use std::io::Write;
use std::path::{Path, PathBuf};

use cb_trade::analysis::MrioAnalysis;
use cb_trade::data::{Core, gcb::Gcb, load_mrio};
use cb_trade::engine;
use faer::Mat;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn zip_dir(src: &Path, zip_path: &Path, prefix: &str) {
    let file = std::fs::File::create(zip_path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(src).unwrap().to_string_lossy().replace('\\', "/");
                zip.start_file(format!("{prefix}{rel}"), opts).unwrap();
                zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
            }
        }
    }
    zip.finish().unwrap();
}

#[test]
fn pymrio_save_as_folder_and_as_zip() {
    let folder = load_mrio(&fixture("pymrio-test/input")).unwrap();
    assert_eq!(folder.name, "testmrio");
    assert_eq!(folder.regions, ["reg1", "reg2", "reg3", "reg4", "reg5", "reg6"]);
    assert_eq!(folder.sectors.len(), 8);
    assert_eq!(folder.final_demand.len(), 42);
    assert_eq!(folder.monetary_unit.as_deref(), Some("Mill USD"));
    let names: Vec<&str> = folder.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Emissions", "Factor Inputs"]);
    assert_eq!(folder.extensions[0].units, ["kg", "kg"]);

    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("testmrio.zip");
    zip_dir(&fixture("pymrio-test/input"), &zip, "");
    let zipped = load_mrio(&zip).unwrap();
    assert_eq!(zipped.regions, folder.regions);
    let (Core::Flows(a), Core::Flows(b)) = (&folder.core, &zipped.core) else {
        panic!("the test system holds Z");
    };
    assert_eq!(a, b);
    assert_eq!(folder.y, zipped.y);
}

/// Writes a matrix in the tab-separated pymrio/EXIOBASE layout.
fn write_table(
    path: &Path,
    col_levels: &[(&str, Vec<String>)],
    row_names: &[&str],
    rows: &[Vec<String>],
    values: &Mat<f64>,
) {
    let mut s = String::new();
    let pad = row_names.len() - 1;
    for (level, labels) in col_levels {
        s.push_str(level);
        s.push_str(&"\t".repeat(pad));
        for l in labels {
            s.push('\t');
            s.push_str(l);
        }
        s.push('\n');
    }
    s.push_str(&row_names.join("\t"));
    s.push_str(&"\t".repeat(values.ncols()));
    s.push('\n');
    for (i, r) in rows.iter().enumerate() {
        s.push_str(&r.join("\t"));
        for j in 0..values.ncols() {
            s.push_str(&format!("\t{}", values[(i, j)]));
        }
        s.push('\n');
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, s).unwrap();
}

/// A 2-region × 2-sector system in the EXIOBASE 3 layout (`IOT_2022_ixi/` with A, Y, x, unit and
/// `satellite/` with F, F_Y, unit; stressors single-level as in EXIOBASE). Returns the folder and
/// the A, x, F, F_Y it was written from.
fn write_exiobase(root: &Path, with_parameters: bool) -> (Mat<f64>, Vec<f64>, Mat<f64>, Mat<f64>) {
    let top = root.join("IOT_2022_ixi");
    let regions = ["AT", "WA"];
    let sectors = ["Cultivation of paddy rice", "Production of electricity by coal"];
    let cats = [
        "Final consumption expenditure by households",
        "Gross fixed capital formation",
    ];
    let rows: Vec<Vec<String>> = regions
        .iter()
        .flat_map(|r| sectors.iter().map(move |s| vec![r.to_string(), s.to_string()]))
        .collect();
    let a = Mat::from_fn(4, 4, |i, j| {
        [
            [0.10, 0.20, 0.01, 0.02],
            [0.05, 0.15, 0.00, 0.03],
            [0.02, 0.01, 0.12, 0.25],
            [0.00, 0.04, 0.06, 0.10],
        ][i][j]
    });
    let x = vec![100.0, 250.0, 80.0, 400.0];
    // Final demand consistent with A and x: y = (I − A)·x, split 70/30 between households and
    // investment of the home region, with a little exported to the other region's households.
    let xm = Mat::from_fn(4, 1, |i, _| x[i]);
    let y_tot = &xm - &a * &xm;
    let mut y = Mat::<f64>::zeros(4, 4);
    for i in 0..4 {
        let home = i / 2;
        let other = 1 - home;
        y[(i, home * 2)] = 0.6 * y_tot[(i, 0)];
        y[(i, home * 2 + 1)] = 0.3 * y_tot[(i, 0)];
        y[(i, other * 2)] = y_tot[(i, 0)] - 0.6 * y_tot[(i, 0)] - 0.3 * y_tot[(i, 0)];
    }
    let f = Mat::from_fn(2, 4, |i, j| {
        [[1.0e6, 9.0e7, 2.0e6, 3.0e8], [5.0e4, 1.0e5, 4.0e4, 2.0e5]][i][j]
    });
    let f_y = Mat::from_fn(2, 4, |i, j| {
        [[3.0e5, 0.0, 9.0e5, 0.0], [1.0e3, 0.0, 2.0e3, 0.0]][i][j]
    });

    let col_rs: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let col_ss: Vec<String> = rows.iter().map(|r| r[1].clone()).collect();
    let fd_r: Vec<String> = regions
        .iter()
        .flat_map(|r| cats.iter().map(move |_| r.to_string()))
        .collect();
    let fd_c: Vec<String> = regions
        .iter()
        .flat_map(|_| cats.iter().map(|c| c.to_string()))
        .collect();
    let industry_cols = [("region", col_rs.clone()), ("sector", col_ss.clone())];
    write_table(
        &top.join("A.txt"),
        &industry_cols,
        &["region", "sector"],
        &rows,
        &a,
    );
    write_table(
        &top.join("Y.txt"),
        &[("region", fd_r.clone()), ("category", fd_c.clone())],
        &["region", "sector"],
        &rows,
        &y,
    );
    let mut xs = String::from("region\tsector\tindout\n");
    for (r, v) in rows.iter().zip(&x) {
        xs.push_str(&format!("{}\t{}\t{v}\n", r[0], r[1]));
    }
    std::fs::write(top.join("x.txt"), xs).unwrap();
    let mut units = String::from("region\tsector\tunit\n");
    for r in &rows {
        units.push_str(&format!("{}\t{}\tM.EUR\n", r[0], r[1]));
    }
    std::fs::write(top.join("unit.txt"), units).unwrap();
    let stressors = vec![
        vec!["CO2 - combustion - air".to_string()],
        vec!["CH4 - combustion - air".to_string()],
    ];
    write_table(
        &top.join("satellite/F.txt"),
        &industry_cols,
        &["stressor"],
        &stressors,
        &f,
    );
    write_table(
        &top.join("satellite/F_Y.txt"),
        &[("region", fd_r), ("category", fd_c)],
        &["stressor"],
        &stressors,
        &f_y,
    );
    std::fs::write(
        top.join("satellite/unit.txt"),
        "stressor\tunit\nCO2 - combustion - air\tkg\nCH4 - combustion - air\tkg\n",
    )
    .unwrap();
    if with_parameters {
        std::fs::write(
            top.join("file_parameters.json"),
            r#"{"files": {"A": {"name": "A.txt", "nr_index_col": "2", "nr_header": "2"},
                          "Y": {"name": "Y.txt", "nr_index_col": "2", "nr_header": "2"},
                          "x": {"name": "x.txt", "nr_index_col": "2", "nr_header": "1"},
                          "unit": {"name": "unit.txt", "nr_index_col": "2", "nr_header": "1"}},
                "systemtype": "IOSystem", "name": "IO"}"#,
        )
        .unwrap();
        std::fs::write(
            top.join("satellite/file_parameters.json"),
            r#"{"files": {"F": {"name": "F.txt", "nr_index_col": "1", "nr_header": "2"},
                          "F_Y": {"name": "F_Y.txt", "nr_index_col": "1", "nr_header": "2"},
                          "unit": {"name": "unit.txt", "nr_index_col": "1", "nr_header": "1"}},
                "systemtype": "Extension", "name": "satellite"}"#,
        )
        .unwrap();
        std::fs::write(
            top.join("metadata.json"),
            r#"{"name": "EXIOBASE", "version": "3.8.2", "system": "ixi"}"#,
        )
        .unwrap();
    }
    (a, x, f, f_y)
}

#[test]
fn exiobase_zip_in_the_release_layout() {
    for with_parameters in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let (a, x, f, f_y) = write_exiobase(&src, with_parameters);
        let zip = dir.path().join("IOT_2022_ixi.zip");
        zip_dir(&src, &zip, "");
        let mrio = load_mrio(&zip).unwrap();
        assert_eq!(mrio.regions, ["AT", "WA"]);
        assert_eq!(
            mrio.sectors,
            ["Cultivation of paddy rice", "Production of electricity by coal"]
        );
        assert_eq!(mrio.final_demand[1].1, "Gross fixed capital formation");
        assert_eq!(mrio.monetary_unit.as_deref(), Some("M.EUR"));
        if with_parameters {
            assert_eq!((mrio.name.as_str(), mrio.version.as_str()), ("EXIOBASE", "3.8.2"));
        }
        let Core::Coefficients(loaded_a) = &mrio.core else {
            panic!("EXIOBASE ships A")
        };
        assert_eq!(loaded_a, &a);
        let an = MrioAnalysis::new(mrio, &mut |_| {}).unwrap();
        assert_eq!(an.stressors[0].name, "CO2 - combustion - air");
        assert_eq!(an.stressors[0].unit, "kg");
        for (i, v) in x.iter().enumerate() {
            assert_eq!(an.x[i], *v);
        }
        let acc = an.regional_accounts().unwrap();
        // Production-based = the region's own F (x_tot = L·y = x) plus its households' F_Y.
        for k in 0..2 {
            for r in 0..2 {
                let expected = f[(k, 2 * r)] + f[(k, 2 * r + 1)] + f_y[(k, 2 * r)] + f_y[(k, 2 * r + 1)];
                let got = acc.d_pba_reg[(k, r)];
                assert!(
                    (got - expected).abs() <= 1e-9 * expected,
                    "pba[{k},{r}] {got} vs {expected}"
                );
            }
            // All emissions are consumed somewhere: Σ cba = Σ pba.
            let (cba, pba): (f64, f64) = (0..2)
                .map(|r| (acc.d_cba_reg[(k, r)], acc.d_pba_reg[(k, r)]))
                .fold((0.0, 0.0), |s, v| (s.0 + v.0, s.1 + v.1));
            assert!((cba - pba).abs() <= 1e-9 * pba);
        }
        engine::check_trade_identity(&acc, 1e-9).unwrap();
    }
}

#[test]
fn wiod_2011_csv() {
    let mrio = load_mrio(&fixture("wiod2011")).unwrap();
    assert_eq!(mrio.regions.len(), 41);
    assert_eq!(mrio.sectors.len(), 35);
    assert_eq!(mrio.regions[0], "AUS");
    assert_eq!(mrio.sectors[11], "c12");
    assert_eq!(mrio.final_demand.len(), 41 * 5);
    assert!(mrio.extensions.is_empty());
    let x_given = mrio.x.clone().unwrap();
    let Core::Flows(z) = &mrio.core else {
        panic!("WIOD ships Z")
    };
    assert_eq!(x_given[3], 7320.0); // AUS c4 in x.csv
    // The bundled Y holds five final-demand categories of WIOD's; the published output also
    // covers the rest (e.g. international transport margins), so x ≥ Z·1 + Y·1 up to the
    // rounding of the published cells, and the two agree for most industries.
    let x_calc = engine::calc_x(z.as_ref(), mrio.y.as_ref());
    let mut close = 0;
    for i in 0..x_given.nrows() {
        assert!(
            x_calc[i] - x_given[i] <= 1e-3 * x_given[i].abs().max(100.0),
            "row {i}: {} vs {}",
            x_calc[i],
            x_given[i]
        );
        close += usize::from((x_calc[i] - x_given[i]).abs() <= 0.01 * x_given[i].abs().max(1.0));
    }
    assert!(close > 1000, "{close} of 1435 industries balance within 1%");
    let an = MrioAnalysis::new(mrio, &mut |_| {}).unwrap();
    // The Leontief system of the real table factorises, and L·y reproduces Z·1 + Y·1 ≤ x.
    let y_total = faer::Col::from_fn(an.x.nrows(), |i| an.y_agg.row(i).iter().sum::<f64>());
    let x_l = engine::calc_x_from_leontief(&an.leontief, y_total.as_ref());
    for i in 0..x_l.nrows() {
        assert!(
            x_l[i] <= an.x[i] * (1.0 + 1e-3) + 1.0,
            "row {i}: {} vs {}",
            x_l[i],
            an.x[i]
        );
    }
    let err = an.regional_accounts().unwrap_err().to_string();
    assert!(err.contains("no stressor accounts"), "{err}");
}

#[test]
fn bundled_global_carbon_budget() {
    let gcb = Gcb::bundled();
    let chn = gcb.find("CHN").unwrap();
    assert_eq!(gcb.entities[chn].name, "China");
    // The values in data/gcb for China, 2022 (t CO2).
    assert_eq!(gcb.territorial(chn, 2022), Some(11_350_538_000.0));
    assert_eq!(gcb.consumption(chn, 2022), Some(10_309_727_000.0));
    assert_eq!(gcb.latest_common_year(chn), Some(2022));
    let eu = gcb.find("european union (27)").unwrap();
    assert!(gcb.consumption(eu, 2020).unwrap() > gcb.territorial(eu, 2020).unwrap());
    assert!(gcb.find("Atlantis").is_none());
    // A broken file is reported with its line.
    let err = Gcb::parse(
        "Entity,Code,Year,Annual CO2\nChina,CHN,20x2,1\n",
        "Entity,Code,Year,c\n",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("line 2") && err.to_string().contains("20x2"),
        "{err}"
    );
}

#[test]
fn labels_without_loading_the_matrices() {
    use cb_trade::analysis::MrioLabels;
    use cb_trade::data::read_labels;
    // pymrio save: from unit files; the same as a full load.
    let cheap = MrioLabels::read(&fixture("pymrio-test/input")).unwrap();
    let full = MrioLabels::of(&load_mrio(&fixture("pymrio-test/input")).unwrap());
    assert_eq!(
        (&cheap.name, &cheap.regions, &cheap.sectors, &cheap.stressors),
        (&full.name, &full.regions, &full.sectors, &full.stressors)
    );
    assert_eq!(
        cheap.stressors,
        ["emission_type1", "emission_type2", "Value Added"]
    );
    // EXIOBASE zip, with and without parameter files.
    for with_parameters in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        write_exiobase(&src, with_parameters);
        let zip = dir.path().join("IOT_2022_ixi.zip");
        zip_dir(&src, &zip, "");
        let labels = read_labels(&zip).unwrap();
        assert_eq!(labels.regions, ["AT", "WA"]);
        assert_eq!(
            labels.stressors,
            [
                vec!["CO2 - combustion - air".to_string()],
                vec!["CH4 - combustion - air".to_string()]
            ]
        );
    }
    // WIOD: no unit files, so a full load.
    let wiod = read_labels(&fixture("wiod2011")).unwrap();
    assert_eq!(
        (wiod.regions.len(), wiod.sectors.len(), wiod.stressors.len()),
        (41, 35, 0)
    );
}
