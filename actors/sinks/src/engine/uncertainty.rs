//! IPCC Approach 1 error propagation (2006 IPCC Guidelines, Vol. 1, ch. 3, Eqs. 3.1 and 3.2).
//!
//! Uncertainties are half-widths of 95 % confidence intervals as a fraction of the value
//! (0.1 = ±10 %). Approach 1 assumes independent, not too large (< ±100 %) uncertainties; the
//! uncertainty agent does the Monte Carlo (Approach 2) where that does not hold.

/// Eq. 3.1, for a product of quantities: `U_total = √(U₁² + U₂² + … + U_n²)`.
pub fn product(relative: &[f64]) -> f64 {
    relative.iter().map(|u| u * u).sum::<f64>().sqrt()
}

/// Eq. 3.2, for a sum of quantities `x_i` with relative uncertainties `U_i`:
/// `U_total = √((U₁x₁)² + … + (U_n x_n)²) / |x₁ + … + x_n|`. `None` when the sum is 0.
pub fn sum(terms: &[(f64, f64)]) -> Option<f64> {
    let total: f64 = terms.iter().map(|(x, _)| x).sum();
    if total == 0.0 {
        return None;
    }
    let abs: f64 = terms.iter().map(|(x, u)| (u * x) * (u * x)).sum::<f64>().sqrt();
    Some(abs / total.abs())
}

/// The relative half-width of a range `[low, high]` around `value` (the larger side, so the
/// interval is never understated).
pub fn relative_from_range(value: f64, low: f64, high: f64) -> f64 {
    if value == 0.0 {
        return 0.0;
    }
    ((value - low).abs().max((high - value).abs())) / value.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approach_1_by_hand() {
        // √(0.3² + 0.4²) = 0.5.
        assert!((product(&[0.3, 0.4]) - 0.5).abs() < 1e-12);
        // √((0.1·100)² + (0.2·50)²) / 150 = √200 / 150.
        let u = sum(&[(100.0, 0.1), (50.0, 0.2)]).unwrap();
        assert!((u - 200f64.sqrt() / 150.0).abs() < 1e-12);
        assert_eq!(sum(&[(1.0, 0.1), (-1.0, 0.1)]), None);
        assert!((relative_from_range(0.47, 0.44, 0.49) - 0.03 / 0.47).abs() < 1e-12);
    }
}
