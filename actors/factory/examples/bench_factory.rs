//! Benchmark of the factory optimiser (`bench/factory.sh`): the bundled scrap-EAF plant (flexible
//! EAF with on/off decisions, a billet store) on the bundled SYNTHETIC hourly profile, for a day,
//! a week, a month and a year of hourly steps: model build time, solve time, model size, and the
//! simulation of the optimal schedule with its balance checks.

use std::time::Instant;

use cb_factory::bundled;
use cb_factory::engine::optimize::{Objective, optimize};
use cb_factory::engine::simulate::simulate;

fn main() {
    let plant = bundled::plant("scrap-eaf").expect("bundled plant");
    let profile = bundled::profile();
    let carbon_price = 80.0;
    println!(
        "plant: {} (SYNTHETIC profile), carbon price {carbon_price} EUR/t",
        plant.name
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "hours", "columns", "integer", "rows", "build_s", "solve_s", "simulate_s"
    );
    for hours in [24usize, 168, 720, 2190, 8760] {
        let p = profile.horizon(hours);
        let opt = optimize(
            &plant,
            &p,
            Objective::MinCost {
                carbon_price,
                price_indirect: true,
            },
        )
        .expect("optimum");
        let t = Instant::now();
        simulate(&plant, &p, &opt.schedule, |_, _| {}).expect("balances close");
        let sim = t.elapsed().as_secs_f64();
        println!(
            "{:>6} {:>9} {:>9} {:>9} {:>10.3} {:>10.3} {:>10.3}",
            hours,
            opt.solver.columns,
            opt.solver.integer_columns,
            opt.solver.rows,
            opt.solver.build_seconds,
            opt.solver.solve_seconds,
            sim
        );
    }
}
