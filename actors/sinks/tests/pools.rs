//! The forest pools are computed pool by pool from the inputs and their sum is checked against
//! the net change from the total gain and losses: the check passes on a forest with every kind
//! of loss and fails when a pool is corrupted.

use cb_sinks::agent::pools_finding;
use cb_sinks::forest::{ForestInputs, forest_remaining_forest};

fn forest() -> ForestInputs {
    ForestInputs {
        area_ha: 1000.0,
        growth: Some(5.0),
        root_shoot: Some(0.37),
        carbon_fraction: Some(0.47),
        removals_m3: Some(300.0),
        bcef_r: Some(1.2),
        fuelwood_trees_m3: Some(50.0),
        fuelwood_parts_m3: Some(40.0),
        wood_density: Some(0.5),
        disturbance: Some((10.0, 150.0, 0.3)),
        fire: Some((5.0, 100.0, 0.5, FIRE_CLASS.into())),
        years: 1,
        ..Default::default()
    }
}

const FIRE_CLASS: &str = "tropical forest";

#[test]
fn pools_by_hand_and_their_sum_against_the_net_change() {
    let acc = forest_remaining_forest(&forest()).unwrap();
    assert!(acc.pools_computed_apart);
    let y = &acc.years[0];
    let (cf, r) = (0.47, 0.37);
    // Above ground: growth, minus removals, whole-tree and part fuelwood, disturbance and the
    // fuel the fire burns.
    let above = 1000.0 * 5.0 * cf
        - 300.0 * 1.2 * cf
        - (50.0 * 1.2 + 40.0 * 0.5) * cf
        - 10.0 * 150.0 * cf * 0.3
        - 5.0 * 100.0 * 0.5 * cf;
    // Below ground: the roots of what grows and of whole trees that go; not of parts or fire.
    let below = (1000.0 * 5.0 - 300.0 * 1.2 - 50.0 * 1.2 - 10.0 * 150.0 * 0.3) * r * cf;
    assert!((y.by_pool_c_t.above_ground_biomass - above).abs() < 1e-9);
    assert!((y.by_pool_c_t.below_ground_biomass - below).abs() < 1e-9);
    let f = pools_finding(y);
    assert!(f.passed, "{f:?}");
}

#[test]
fn a_corrupted_pool_fails_the_check() {
    let acc = forest_remaining_forest(&forest()).unwrap();
    let mut y = acc.years[0].clone();
    y.by_pool_c_t.below_ground_biomass *= 1.001;
    assert!(!pools_finding(&y).passed);
    let mut y = acc.years[0].clone();
    y.net_c_t += 1.0;
    assert!(!pools_finding(&y).passed);
}
