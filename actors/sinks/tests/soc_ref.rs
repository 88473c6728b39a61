//! The bundled reference soil stocks (IPCC 2006 Vol. 4 Table 2.3) against a second
//! transcription, bonsai-ipcc 0.5.3's `data/agriculture/generic/par_soc_ref.csv` (PyPI, its data
//! files installed into `.venv` by `scripts/pyenv.sh`): every shipped value is there, the same.

use std::path::PathBuf;

use cb_sinks::defaults::{soc_ref, soc_ref_classes};

fn bonsai_csv() -> PathBuf {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/lib");
    let python = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run scripts/pyenv.sh to install bonsai-ipcc 0.5.3",
                lib.display()
            )
        })
        .filter_map(Result::ok)
        .map(|d| d.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python3"))
        })
        .expect("a python3.x folder in .venv/lib");
    let path = python.join("site-packages/bonsai_ipcc/data/agriculture/generic/par_soc_ref.csv");
    assert!(
        path.exists(),
        "{} is missing: run scripts/pyenv.sh",
        path.display()
    );
    path
}

/// Table 2.3's climate regions as bonsai-ipcc names them (zone, moisture regime).
fn bonsai_climate(climate: &str) -> (&'static str, &'static str) {
    match climate {
        "boreal" => ("boreal", "undefined"),
        "cool temperate dry" => ("temperate-cool", "dry"),
        "cool temperate moist" => ("temperate-cool", "moist"),
        "warm temperate dry" => ("temperate-warm", "dry"),
        "warm temperate moist" => ("temperate-warm", "moist"),
        "tropical dry" => ("tropical", "dry"),
        "tropical moist" => ("tropical", "moist"),
        "tropical wet" => ("tropical", "wet"),
        "tropical montane" => ("tropical-montane", "undefined"),
        other => panic!("unknown climate {other:?}"),
    }
}

#[test]
fn every_bundled_soc_ref_agrees_with_bonsai_ipcc() {
    let mut rdr = csv::Reader::from_path(bonsai_csv()).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let classes = soc_ref_classes();
    assert_eq!(classes.len(), 46, "the 46 values both sources give");
    for (climate, soil) in classes {
        let ours = soc_ref(&climate, &soil).unwrap();
        let (zone, moisture) = bonsai_climate(&climate);
        let theirs: f64 = rows
            .iter()
            .find(|r| &r[0] == zone && &r[1] == moisture && &r[2] == soil.as_str() && &r[3] == "def")
            .unwrap_or_else(|| panic!("{climate}/{soil} is not in bonsai-ipcc"))[4]
            .parse()
            .unwrap();
        assert_eq!(ours.value, theirs, "{climate}/{soil}");
        assert!(ours.source.contains("Table 2.3") && ours.source.contains("bonsai-ipcc"));
    }
    let err = soc_ref("warm temperate wet", "HAC").unwrap_err().to_string();
    assert!(err.contains("pass --soc-ref"), "{err}");
}
