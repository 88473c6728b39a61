//! The factory agent's grid-intensity task: the factor asked first, with its source, year and
//! citation; every other bundled factor beside it; its sentences complete in five languages.

use cb_factory::agent::grid_intensity;
use cb_protocol::{GridFactor, GridSource, TaskErrorKind};

#[test]
fn the_factor_asked_then_every_other_with_its_source() {
    // China: Ember's CHN row (2024, 557.5), Electricity Maps' CN zone 2021–2025 and the IFI row
    // "China (PRC and Hong Kong)" (operating margin 899), read from the files by hand.
    let out = grid_intensity("China", GridFactor::Average, None, None).unwrap();
    let first = &out.quantities[0];
    assert_eq!(first.measure, "grid_intensity");
    assert_eq!(first.quantity.value, 557.5);
    assert_eq!(first.quantity.unit, "g CO2e/kWh");
    assert_eq!(first.dimensions["year"], "2024");
    assert_eq!(first.dimensions["source"], "Ember");
    assert!(
        first
            .quantity
            .provenance
            .citation
            .as_deref()
            .unwrap()
            .contains("CC BY 4.0")
    );
    let others: Vec<(String, f64)> = out.quantities[1..]
        .iter()
        .map(|q| {
            (
                format!("{} {}", q.dimensions["source"], q.dimensions["year"]),
                q.quantity.value,
            )
        })
        .collect();
    assert_eq!(others.len(), 5 + 3, "{others:?}");
    assert!(
        others.contains(&("Electricity Maps 2021".into(), 552.0)),
        "{others:?}"
    );
    assert!(
        others.contains(&("IFI harmonised grid factors 2021".into(), 899.0)),
        "{others:?}"
    );
    for q in &out.quantities {
        assert!(q.label_text.as_ref().unwrap().is_complete(), "{:?}", q.label_text);
    }
    assert!(out.note_texts.iter().all(|t| t.is_complete()));

    let om = grid_intensity("IND", GridFactor::OperatingMargin, None, Some(GridSource::Ifi)).unwrap();
    assert_eq!(
        (
            om.quantities[0].quantity.value,
            om.quantities[0].quantity.unit.as_str()
        ),
        (951.0, "g CO2/kWh")
    );
}

#[test]
fn what_the_data_lacks_is_not_found_naming_what_it_has() {
    let e = grid_intensity("Brazil", GridFactor::Average, Some(2015), None).unwrap_err();
    assert_eq!(e.kind, TaskErrorKind::NotFound);
    assert!(e.message.contains("Electricity Maps 2021–2025"), "{}", e.message);
    let e = grid_intensity("Atlantis", GridFactor::Average, None, None).unwrap_err();
    assert_eq!(e.kind, TaskErrorKind::NotFound);
}

/// A plant in a country: the synthetic hourly shape scaled to the country's annual mean. Run
/// steadily, the grid emissions scale by exactly mean(country) / mean(synthetic year), and the
/// direct ones not at all; without a country the answer says which grid ran.
#[test]
fn a_plant_in_a_country_runs_on_that_country_s_annual_mean() {
    use cb_factory::agent::{plant_grid, run_factory};
    use cb_protocol::FactoryTask;
    let year_mean = cb_factory::bundled::profile().mean_grid_intensity();
    let india = plant_grid("synthetic", Some("IND"), 8760).unwrap();
    // Ember's IND row: 708.96 g CO2e/kWh (2024).
    assert!((india.profile.mean_grid_intensity() - 0.70896).abs() < 1e-12);
    assert_eq!(india.note.key, "note_plant_grid_country");
    assert_eq!(india.mean.as_ref().unwrap().quantity.value, 708.96);
    let hour = 17;
    let synthetic = cb_factory::bundled::profile();
    assert!(
        (india.profile.grid_co2_t_per_mwh[hour] / synthetic.grid_co2_t_per_mwh[hour] - 0.70896 / year_mean)
            .abs()
            < 1e-12,
        "the hourly shape is kept"
    );
    assert_eq!(india.profile.price_eur_per_mwh, synthetic.price_eur_per_mwh);

    let intensity = |country: Option<&str>| {
        let out = run_factory(&FactoryTask::Intensity {
            plant: "scrap-eaf".into(),
            hours: 168,
            country: country.map(str::to_string),
        })
        .unwrap();
        let get = |m: &str| {
            out.quantities
                .iter()
                .find(|q| q.measure == m)
                .unwrap()
                .quantity
                .value
        };
        (
            get("emission_intensity_direct"),
            get("emission_intensity_indirect"),
            out.note_texts.iter().map(|t| t.key.clone()).collect::<Vec<_>>(),
        )
    };
    let (direct0, indirect0, notes0) = intensity(None);
    let (direct1, indirect1, notes1) = intensity(Some("India"));
    // Direct intensity is total − grid, so equal to rounding.
    assert!(
        (direct0 - direct1).abs() < 1e-12 * direct0,
        "{direct0} vs {direct1}"
    );
    // The week run averages to India's annual mean exactly (not the year's shape scaled, whose
    // first week is a winter one): the grid emissions scale by India's mean over the week's own.
    let week = cb_factory::bundled::profile().horizon(168);
    let week_india = plant_grid("synthetic", Some("IND"), 168).unwrap().profile;
    assert!((week_india.mean_grid_intensity() - 0.70896).abs() < 1e-12);
    let k = 0.70896 / week.mean_grid_intensity();
    assert!(
        (indirect1 / indirect0 - k).abs() < 1e-9,
        "{indirect1} / {indirect0} against {k}"
    );
    assert!(notes0.contains(&"note_plant_grid_assumed".to_string()));
    assert!(notes1.contains(&"note_plant_grid_country".to_string()));

    let e = plant_grid("synthetic", Some("Atlantis"), 24).err().unwrap();
    assert!(e.message.contains("the plant's country"), "{}", e.message);
}
