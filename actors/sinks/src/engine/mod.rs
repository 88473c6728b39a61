//! The IPCC AFOLU equations, one pure function each, with the equation in its doc comment.
//!
//! Equation numbers are those of the 2006 IPCC Guidelines, Volume 4, chapter 2 (unchanged in
//! structure by the 2019 Refinement) unless stated. Units: area in ha, biomass in t dry matter
//! (d.m.), carbon in t C, volumes in m³. Stock changes are positive when carbon is gained; the
//! inventory sign convention (removals negative) is applied once, in [`co2_flux_from_stock_change`].
//!
//! Nothing here reads files, talks to actors or allocates beyond its result: the agent and the
//! CLI validate inputs and pick defaults; these functions only compute.

pub mod hwp;
pub mod stand;
pub mod uncertainty;

/// Molecular weight ratio of CO2 to C.
pub const CO2_PER_C: f64 = 44.0 / 12.0;

/// Net CO2 flux to the atmosphere from a carbon stock change, by the inventory sign convention:
/// `CO2 = −ΔC × 44/12` (a gain of carbon is a removal, negative).
pub fn co2_flux_from_stock_change(delta_c: f64) -> f64 {
    -delta_c * CO2_PER_C
}

/// Eq. 2.10 (Tier 1): total biomass growth `G_TOTAL = G_W × (1 + R)` in t d.m./ha/yr, from
/// above-ground growth `G_W` and the root-to-shoot ratio `R`.
pub fn total_growth_tier1(g_w: f64, r: f64) -> f64 {
    g_w * (1.0 + r)
}

/// Eq. 2.10 (Tier 2): `G_TOTAL = I_V × BCEF_I × (1 + R)` from the net annual increment `I_V`
/// (m³/ha/yr) and the biomass conversion and expansion factor for increment `BCEF_I`.
pub fn total_growth_tier2(i_v: f64, bcef_i: f64, r: f64) -> f64 {
    i_v * bcef_i * (1.0 + r)
}

/// Eq. 2.9: annual increase in biomass carbon `ΔC_G = A × G_TOTAL × CF` (t C/yr).
pub fn biomass_gain(area_ha: f64, g_total: f64, cf: f64) -> f64 {
    area_ha * g_total * cf
}

/// Eq. 2.12: carbon lost with wood removals `L_wood-removals = H × BCEF_R × (1 + R) × CF` (t C/yr),
/// `H` the roundwood removed (m³/yr) and `BCEF_R` the conversion and expansion factor for removals.
pub fn loss_wood_removals(h_m3: f64, bcef_r: f64, r: f64, cf: f64) -> f64 {
    h_m3 * bcef_r * (1.0 + r) * cf
}

/// Eq. 2.13: carbon lost with fuelwood
/// `L_fuelwood = [FG_trees × BCEF_R × (1 + R) + FG_part × D] × CF` (t C/yr): whole trees
/// (m³/yr) expanded to total biomass, parts of trees (m³/yr) by basic wood density `D` (t d.m./m³).
pub fn loss_fuelwood(fg_trees_m3: f64, fg_part_m3: f64, bcef_r: f64, r: f64, d: f64, cf: f64) -> f64 {
    (fg_trees_m3 * bcef_r * (1.0 + r) + fg_part_m3 * d) * cf
}

/// Eq. 2.14: carbon lost to disturbances `L_disturbances = A_disturbance × B_W × (1 + R) × CF × fd`
/// (t C/yr), `B_W` the above-ground biomass of the disturbed area (t d.m./ha) and `fd` the fraction
/// of biomass lost.
pub fn loss_disturbance(area_disturbed_ha: f64, b_w: f64, r: f64, cf: f64, fd: f64) -> f64 {
    area_disturbed_ha * b_w * (1.0 + r) * cf * fd
}

/// Eqs. 2.7 and 2.11: gain-loss method `ΔC_B = ΔC_G − ΔC_L`, with
/// `ΔC_L = L_wood-removals + L_fuelwood + L_disturbances` (t C/yr).
pub fn gain_loss(gain: f64, losses: &[f64]) -> f64 {
    gain - losses.iter().sum::<f64>()
}

/// Eq. 2.8 (inner term): biomass carbon stock `C = A × V × BCEF_S × (1 + R) × CF` (t C) from the
/// merchantable growing stock `V` (m³/ha) and the conversion and expansion factor for stocks.
pub fn biomass_stock_from_volume(area_ha: f64, v_m3_ha: f64, bcef_s: f64, r: f64, cf: f64) -> f64 {
    area_ha * v_m3_ha * bcef_s * (1.0 + r) * cf
}

/// Eqs. 2.5 and 2.8: stock-difference method `ΔC = (C_t2 − C_t1) / (t2 − t1)` (t C/yr).
/// `None` when `t2 <= t1`.
pub fn stock_difference(c_t1: f64, c_t2: f64, t1: f64, t2: f64) -> Option<f64> {
    (t2 > t1).then(|| (c_t2 - c_t1) / (t2 - t1))
}

/// Eq. 2.16: initial change in biomass carbon on land converted to another category
/// `ΔC_CONVERSION = (B_AFTER − B_BEFORE) × ΔA × CF` (t C), `B` total biomass (t d.m./ha) just
/// before and just after the conversion. Negative for deforestation.
pub fn conversion_biomass_change(b_before: f64, b_after: f64, area_ha: f64, cf: f64) -> f64 {
    (b_after - b_before) * area_ha * cf
}

/// Eq. 2.23: annual change in dead wood or litter carbon on converted land
/// `ΔC_DOM = A × (C_n − C_o) / T_on` (t C/yr), `C_o` and `C_n` the old and new stocks (t C/ha),
/// `T_on` the years of the transition (1 = the whole change in the year of conversion, the Tier 1
/// assumption for losses; 20 years for gains).
pub fn dom_change(area_ha: f64, c_old: f64, c_new: f64, t_on: f64) -> f64 {
    area_ha * (c_new - c_old) / t_on
}

/// Eq. 2.25: mineral soil organic carbon stock `SOC = SOC_REF × F_LU × F_MG × F_I × A` (t C, 0–30 cm),
/// `SOC_REF` the reference stock under native vegetation (t C/ha) and the stock change factors for
/// land use, management and input.
pub fn soc_stock(soc_ref: f64, f_lu: f64, f_mg: f64, f_i: f64, area_ha: f64) -> f64 {
    soc_ref * f_lu * f_mg * f_i * area_ha
}

/// Eq. 2.25: annual change in mineral soil carbon `ΔC_Mineral = (SOC_0 − SOC_(0−T)) / D` (t C/yr),
/// spread over the transition period `D` (default 20 years).
pub fn soc_change(soc_before: f64, soc_after: f64, d_years: f64) -> f64 {
    (soc_after - soc_before) / d_years
}

/// Eq. 2.27: emission of a gas from fire `L_fire = A × M_B × C_f × G_ef × 10⁻³` (t of the gas),
/// `M_B` the fuel available (t d.m./ha), `C_f` the combustion factor and `G_ef` the emission factor
/// (g gas per kg d.m. burnt).
pub fn fire_emission(area_ha: f64, m_b: f64, c_f: f64, g_ef: f64) -> f64 {
    area_ha * m_b * c_f * g_ef * 1e-3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn growth_of_a_thousand_hectares_by_hand() {
        // 1,000 ha × 5 t d.m./ha/yr × (1 + 0.37) × 0.47 = 3,219.5 t C = 11,804.83 t CO2.
        let g = total_growth_tier1(5.0, 0.37);
        let c = biomass_gain(1000.0, g, 0.47);
        assert!(close(c, 3219.5), "{c}");
        assert!(close(co2_flux_from_stock_change(c), -11804.833333333334));
    }

    #[test]
    fn losses_by_hand() {
        // 1,000 m³ × 1.0 × 1.24 × 0.5 = 620 t C.
        assert!(close(loss_wood_removals(1000.0, 1.0, 0.24, 0.5), 620.0));
        // (100 × 1.0 × 1.2 + 50 × 0.5) × 0.47 = 68.15 t C.
        assert!(close(loss_fuelwood(100.0, 50.0, 1.0, 0.2, 0.5, 0.47), 68.15));
        // 10 ha × 100 t/ha × 1.2 × 0.47 × 0.5 = 282 t C.
        assert!(close(loss_disturbance(10.0, 100.0, 0.2, 0.47, 0.5), 282.0));
        assert!(close(gain_loss(1000.0, &[620.0, 68.15, 282.0]), 29.85));
    }

    #[test]
    fn stocks_and_conversions_by_hand() {
        // 10 ha × 200 m³/ha × 0.7 × 1.29 × 0.47 = 848.82 t C.
        assert!(close(
            biomass_stock_from_volume(10.0, 200.0, 0.7, 0.29, 0.47),
            848.82
        ));
        assert_eq!(stock_difference(100.0, 160.0, 2000.0, 2010.0), Some(6.0));
        assert_eq!(stock_difference(100.0, 160.0, 2010.0, 2010.0), None);
        // Clearing 5 ha of 300 t d.m./ha to cropland of 10 t d.m./ha: −(290 × 5 × 0.47) = −681.5 t C.
        assert!(close(conversion_biomass_change(300.0, 10.0, 5.0, 0.47), -681.5));
        assert!(close(dom_change(5.0, 20.0, 0.0, 1.0), -100.0));
        // 100 ha at 95 t C/ha: forest (1,1,1) to long-term cultivated (0.69, 1, 1) over 20 years.
        let before = soc_stock(95.0, 1.0, 1.0, 1.0, 100.0);
        let after = soc_stock(95.0, 0.69, 1.0, 1.0, 100.0);
        assert!(close(soc_change(before, after, 20.0), -147.25));
        // 100 ha × 50 t/ha × 0.5 × 1,569 g/kg × 10⁻³ = 3,922.5 t CO2.
        assert!(close(fire_emission(100.0, 50.0, 0.5, 1569.0), 3922.5));
    }
}
