//! Avoided emissions of exported generating equipment against its own life-cycle emissions
//! (the IFI harmonised approach to a renewable project's baseline; WBCSD's guidance on avoided
//! emissions for the comparison with the product's footprint). Pure functions, one per equation.

/// Hours in a year of generation (IFI and IPCC use 8,760).
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// Lifetime generation of `P` MW at capacity factor `CF` for `L` years, output falling by `d` a
/// year: `E = Σ_{y=0}^{L−1} P · CF · 8760 · (1 − d)^y`, in MWh.
pub fn lifetime_generation_mwh(
    capacity_mw: f64,
    capacity_factor: f64,
    lifetime_years: u32,
    degradation: f64,
) -> f64 {
    let first_year = capacity_mw * capacity_factor * HOURS_PER_YEAR;
    (0..lifetime_years)
        .map(|y| first_year * (1.0 - degradation).powi(y as i32))
        .sum()
}

/// Emissions the generation avoids where it displaces the grid's margin:
/// `A = E · EF_margin`, t CO2 (MWh × t CO2/MWh).
pub fn avoided_emissions_t(generation_mwh: f64, margin_t_per_mwh: f64) -> f64 {
    generation_mwh * margin_t_per_mwh
}

/// The equipment's own life-cycle emissions, t CO2e:
/// `M = P · (e_mfg · g_exporter + m_other + m_transport) + E · o`, where `e_mfg` is the electricity
/// used to make one MW (MWh/MW) at the exporting country's grid intensity `g_exporter` (t/MWh),
/// `m_other` the rest of its embodied emissions (materials, process heat; t/MW), `m_transport`
/// shipping to the destination (t/MW), and `o` operation and maintenance per MWh generated.
pub fn life_cycle_emissions_t(
    capacity_mw: f64,
    manufacturing_mwh_per_mw: f64,
    exporter_grid_t_per_mwh: f64,
    other_embodied_t_per_mw: f64,
    transport_t_per_mw: f64,
    generation_mwh: f64,
    operation_t_per_mwh: f64,
) -> f64 {
    capacity_mw
        * (manufacturing_mwh_per_mw * exporter_grid_t_per_mwh + other_embodied_t_per_mw + transport_t_per_mw)
        + generation_mwh * operation_t_per_mwh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // 100 MW at 20 % for two years, 1 % a year lost: 175,200 MWh then 173,448 MWh.
        let e = lifetime_generation_mwh(100.0, 0.2, 2, 0.01);
        assert!((e - (175_200.0 + 173_448.0)).abs() < 1e-6, "{e}");
        assert_eq!(lifetime_generation_mwh(100.0, 0.2, 0, 0.01), 0.0);
        assert!((avoided_emissions_t(e, 0.5) - 174_324.0).abs() < 1e-6);
        // 100 MW × (900 MWh × 0.55 t + 300 t + 20 t) + 348,648 MWh × 0.001 t.
        let m = life_cycle_emissions_t(100.0, 900.0, 0.55, 300.0, 20.0, e, 0.001);
        assert!((m - (100.0 * (495.0 + 320.0) + 348.648)).abs() < 1e-6, "{m}");
    }
}
