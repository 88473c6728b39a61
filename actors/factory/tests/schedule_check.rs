//! The plant finding compares two computations: the optimiser's objective (HiGHS) against the
//! chosen schedule re-simulated hour by hour. It passes for every bundled plant and fails when
//! the schedule simulated is not the one the optimiser costed.

use cb_factory::agent::{run_factory, schedule_check};
use cb_factory::bundled;
use cb_factory::engine::optimize::{Objective, optimize_against_baseline};
use cb_factory::engine::simulate::{baseline_schedule, simulate};
use cb_protocol::FactoryTask;

const CHECK: &str = "optimiser objective against the re-simulated schedule";

/// A week of a bundled plant at 80 EUR/t.
fn week(plant: &str, on_grid: bool, profile: Option<&str>) -> FactoryTask {
    FactoryTask::Optimize {
        plant: plant.to_string(),
        hours: 168,
        carbon_price: 80.0,
        monte_carlo: None,
        carbon_price_on_grid: on_grid,
        profile: profile.map(str::to_string),
        country: None,
    }
}

#[test]
fn every_bundled_plant_s_schedule_re_simulates_to_the_optimiser_s_objective() {
    for (plant, _) in bundled::PLANTS {
        let out = run_factory(&week(plant, true, None)).unwrap_or_else(|e| panic!("{plant}: {e}"));
        let f = out
            .findings
            .iter()
            .find(|f| f.check == CHECK)
            .unwrap_or_else(|| panic!("{plant}: no finding {CHECK:?}"));
        assert!(f.passed, "{plant}: {f:?}");
    }
}

#[test]
fn a_schedule_the_optimiser_did_not_cost_fails_the_check() {
    let p = bundled::plant("scrap-eaf").unwrap();
    let profile = bundled::profile().horizon(168);
    let objective = Objective::MinCost {
        carbon_price: 80.0,
        price_indirect: true,
    };
    let (_, opt, kept) = optimize_against_baseline(&p, &profile, objective).unwrap();
    assert!(!kept, "the scrap EAF's optimum moves load to cheap hours");
    let best = simulate(&p, &profile, &opt.schedule, |_, _| {}).unwrap();
    assert!(schedule_check(opt.objective, &best, 80.0, true, false).passed);
    // The flat baseline re-simulated against the optimum's objective: a different schedule.
    let flat = simulate(&p, &profile, &baseline_schedule(&p, 168), |_, _| {}).unwrap();
    let f = schedule_check(opt.objective, &flat, 80.0, true, false);
    assert!(!f.passed, "{f:?}");
    // The right schedule at another carbon price than the one optimised: fails too.
    assert!(!schedule_check(opt.objective, &best, 90.0, true, false).passed);
}

/// With the carbon cost left in the power price, the carbon price is charged on direct emissions
/// only: the objective and the re-simulated cost agree on that, and the grid's emissions are not
/// counted twice (the same schedule costed with them charged differs).
#[test]
fn the_carbon_price_on_grid_electricity_is_a_stated_convention() {
    for on_grid in [true, false] {
        let out = run_factory(&week("scrap-eaf", on_grid, Some("synthetic-decoupled"))).unwrap();
        let f = out.findings.iter().find(|f| f.check == CHECK).unwrap();
        assert!(f.passed, "{on_grid}: {f:?}");
        let key = if on_grid {
            "note_plant_carbon_on_grid"
        } else {
            "note_plant_carbon_in_power_price"
        };
        assert!(out.note_texts.iter().any(|n| n.key == key), "{on_grid}");
        // The decoupled profile's correlation is stated.
        assert!(out.note_texts.iter().any(|n| n.key == "note_profile_correlation"));
    }
    let p = bundled::plant("scrap-eaf").unwrap();
    let profile = bundled::profile().horizon(168);
    let direct_only = Objective::MinCost {
        carbon_price: 80.0,
        price_indirect: false,
    };
    let (_, opt, kept) = optimize_against_baseline(&p, &profile, direct_only).unwrap();
    let best = simulate(&p, &profile, &opt.schedule, |_, _| {}).unwrap();
    assert!(schedule_check(opt.objective, &best, 80.0, false, kept).passed);
    assert!(!schedule_check(opt.objective, &best, 80.0, true, kept).passed);
}

#[test]
fn the_bundled_profiles_state_their_correlation() {
    let r = bundled::profile().price_intensity_correlation().unwrap();
    assert!(r > 0.95, "{r}");
    let d = bundled::profile_named("synthetic-decoupled")
        .unwrap()
        .price_intensity_correlation()
        .unwrap();
    assert!((0.4..0.8).contains(&d), "{d}");
    // A file header says the same figure.
    let header = bundled::PROFILES[1].1.lines().nth(2).unwrap();
    assert!(header.contains(&format!("{d:.2}")), "{header}");
    // The answer on the default profile warns that cost alone cuts emissions there, with the
    // figure and the other profile's name; the decoupled one only states its correlation.
    let out = run_factory(&week("scrap-eaf", true, None)).unwrap();
    let warning = out
        .note_texts
        .iter()
        .find(|n| n.key == "note_profile_correlated")
        .expect("the 0.98 warning");
    let text = warning.english();
    // The figure is the correlation over the hours run (a week here), not over the whole year.
    let week_r = bundled::profile()
        .horizon(168)
        .price_intensity_correlation()
        .unwrap();
    assert!(week_r > 0.9, "{week_r}");
    assert!(
        text.contains(&format!("{week_r:.2}")) && text.contains("synthetic-decoupled"),
        "{text}"
    );
    let out = run_factory(&week("scrap-eaf", true, Some("synthetic-decoupled"))).unwrap();
    assert!(!out.note_texts.iter().any(|n| n.key == "note_profile_correlated"));
}
