//! The plant finding compares two computations: the optimiser's objective (HiGHS) against the
//! chosen schedule re-simulated hour by hour. It passes for every bundled plant and fails when
//! the schedule simulated is not the one the optimiser costed.

use cb_factory::agent::{run_factory, schedule_check};
use cb_factory::bundled;
use cb_factory::engine::optimize::{Objective, optimize_against_baseline};
use cb_factory::engine::simulate::{baseline_schedule, simulate};
use cb_protocol::FactoryTask;

const CHECK: &str = "optimiser objective against the re-simulated schedule";

#[test]
fn every_bundled_plant_s_schedule_re_simulates_to_the_optimiser_s_objective() {
    for (plant, _) in bundled::PLANTS {
        let out = run_factory(&FactoryTask::Optimize {
            plant: plant.to_string(),
            hours: 168,
            carbon_price: 80.0,
            monte_carlo: None,
        })
        .unwrap_or_else(|e| panic!("{plant}: {e}"));
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
    assert!(schedule_check(opt.objective, &best, 80.0, false).passed);
    // The flat baseline re-simulated against the optimum's objective: a different schedule.
    let flat = simulate(&p, &profile, &baseline_schedule(&p, 168), |_, _| {}).unwrap();
    let f = schedule_check(opt.objective, &flat, 80.0, false);
    assert!(!f.passed, "{f:?}");
    // The right schedule at another carbon price than the one optimised: fails too.
    assert!(!schedule_check(opt.objective, &best, 90.0, false).passed);
}
