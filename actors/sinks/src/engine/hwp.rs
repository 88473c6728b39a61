//! Harvested wood products: first-order decay (2019 Refinement, Vol. 4, ch. 12, Eq. 12.1; the
//! same as the 2006 Guidelines' Eq. 12.1).
//!
//! `C(i+1) = e^(−k) × C(i) + [(1 − e^(−k)) / k] × Inflow(i)`, `ΔC(i) = C(i+1) − C(i)`,
//! with `k = ln 2 / HL` the decay constant of a product pool of half-life `HL` years.

/// The decay constant `k = ln 2 / HL` (1/yr).
pub fn decay_constant(half_life_years: f64) -> f64 {
    std::f64::consts::LN_2 / half_life_years
}

/// One year of Eq. 12.1: the stock at the start of the next year from this year's stock and
/// inflow (t C).
pub fn next_stock(stock: f64, inflow: f64, k: f64) -> f64 {
    let decay = (-k).exp();
    decay * stock + ((1.0 - decay) / k) * inflow
}

/// A product pool year by year: for each year's inflow, the stock at the end of the year and the
/// stock change `ΔC(i)` (positive = the pool grows, a removal in the inventory).
pub fn simulate(initial_stock: f64, inflows: &[f64], half_life_years: f64) -> Vec<(f64, f64)> {
    let k = decay_constant(half_life_years);
    let mut stock = initial_stock;
    inflows
        .iter()
        .map(|&inflow| {
            let next = next_stock(stock, inflow, k);
            let delta = next - stock;
            stock = next;
            (next, delta)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pulse_halves_every_half_life() {
        // One year's inflow, then nothing: after the first year the stock halves every HL years.
        let mut inflows = vec![100.0];
        inflows.extend(std::iter::repeat_n(0.0, 35));
        let years = simulate(0.0, &inflows, 35.0);
        let first = years[0].0;
        // The first year's stock: (1 − e^−k)/k × 100, a little under 100 (some decays in-year).
        let k = decay_constant(35.0);
        assert!((first - (1.0 - (-k).exp()) / k * 100.0).abs() < 1e-12);
        assert!(first < 100.0 && first > 98.0);
        assert!((years[35].0 - first / 2.0).abs() < 1e-9);
    }

    #[test]
    fn constant_inflow_tends_to_inflow_over_k() {
        let years = simulate(0.0, &[10.0; 400], 2.0);
        let steady = 10.0 / decay_constant(2.0);
        assert!((years[399].0 - steady).abs() < 1e-6 * steady);
        assert!(years[399].1.abs() < 1e-6);
    }
}
