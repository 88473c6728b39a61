//! Numbers for people to read: a quantity scaled to a readable unit, significant digits, and an
//! uncertainty in words. Shared by the answers and every agent's command line, so a number reads
//! the same wherever it is shown.

use crate::quantity::{Quantity, Uncertainty};
use crate::text::Text;

/// Formats a quantity for reading: tonnes scaled to kt, Mt or Gt; other units with four
/// significant digits.
pub fn format_quantity(value: f64, unit: &str) -> String {
    if let Some(rest) = unit
        .strip_prefix("t ")
        .or(if unit == "t" { Some("") } else { None })
    {
        let (scale, prefix) = match value.abs() {
            v if v >= 1e9 => (1e9, "Gt"),
            v if v >= 1e6 => (1e6, "Mt"),
            v if v >= 1e3 => (1e3, "kt"),
            _ => (1.0, "t"),
        };
        let sep = if rest.is_empty() { "" } else { " " };
        return format!("{} {prefix}{sep}{rest}", significant(value / scale, 4));
    }
    // Energy in the unit that keeps the number short: 39,001,256 MWh reads 39.00 TWh.
    const ENERGY: [(&str, f64); 4] = [("kWh", 1.0), ("MWh", 1e3), ("GWh", 1e6), ("TWh", 1e9)];
    if let Some((_, from)) = ENERGY.iter().find(|(u, _)| *u == unit) {
        let kwh = value * from;
        let (name, scale) = ENERGY
            .iter()
            .rev()
            .find(|(_, s)| kwh.abs() >= *s)
            .copied()
            .unwrap_or(ENERGY[0]);
        return format!("{} {name}", significant(kwh / scale, 4));
    }
    // Whole certificates are counted, not measured.
    if unit == "certificates" && value.fract() == 0.0 && value.abs() < 1e15 {
        let n = value as i64;
        return format!("{n} {}", if n == 1 { "certificate" } else { "certificates" });
    }
    format!("{} {unit}", significant(value, 4))
}

/// A number to `digits` significant digits, without exponent for everyday magnitudes.
pub fn significant(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-4..=15).contains(&mag) {
        return format!("{:.*e}", digits.saturating_sub(1), v);
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

/// The uncertainty of a quantity in words, e.g. ` (95 % interval 1.2 to 3.4 t CO2)`; empty when
/// it has not been assessed.
pub fn interval_text(q: &Quantity) -> String {
    uncertainty_text(q.value, &q.unit, &q.uncertainty)
        .map(|t| format!(" ({t})"))
        .unwrap_or_default()
}

/// The uncertainty of `value` in words, `None` when it has not been assessed.
pub fn uncertainty_text(v: f64, u: &str, uncertainty: &Uncertainty) -> Option<String> {
    uncertainty_sentence(v, u, uncertainty).map(|t| t.english())
}

/// The uncertainty of `value` as a sentence of `data/agent-text.csv`, so an answer can say it in
/// the reader's language; `None` when it has not been assessed.
pub fn uncertainty_sentence(v: f64, u: &str, uncertainty: &Uncertainty) -> Option<Text> {
    let q = |x: f64| format_quantity(x, u);
    Some(match *uncertainty {
        Uncertainty::NotAssessed => return None,
        Uncertainty::Interval {
            low,
            high,
            confidence,
        } => Text::new(
            "uncertainty_interval",
            &[
                ("confidence", &format!("{:.0}", confidence * 100.0)),
                ("low", &q(low)),
                ("high", &q(high)),
            ],
        ),
        Uncertainty::Normal { sd } => Text::new("uncertainty_sd", &[("sd", &q(sd))]),
        Uncertainty::Lognormal { gsd } => Text::new(
            "uncertainty_gsd",
            &[
                ("low", &q(v / (gsd * gsd))),
                ("high", &q(v * gsd * gsd)),
                ("gsd", &significant(gsd, 3)),
            ],
        ),
        Uncertainty::Triangular { min, max } | Uncertainty::Uniform { min, max } => {
            Text::new("uncertainty_range", &[("low", &q(min)), ("high", &q(max))])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonnes_scale_and_other_units_keep_theirs() {
        assert_eq!(format_quantity(10_309_727_000.0, "t CO2"), "10.31 Gt CO2");
        assert_eq!(format_quantity(-1_040_811_000.0, "t CO2"), "-1.041 Gt CO2");
        assert_eq!(format_quantity(5_300.0, "t CO2"), "5.300 kt CO2");
        assert_eq!(format_quantity(12.0, "t"), "12.00 t");
        assert_eq!(format_quantity(207_752_104.43, "kg"), "207752104 kg");
        assert_eq!(format_quantity(0.000_012_3, "kg"), "1.230e-5 kg");
        assert_eq!(format_quantity(39_001_256.0, "MWh"), "39.00 TWh");
        assert_eq!(format_quantity(450.0, "MWh"), "450.0 MWh");
        assert_eq!(format_quantity(1_500.0, "kWh"), "1.500 MWh");
        assert_eq!(format_quantity(0.5, "kWh"), "0.5000 kWh");
        assert_eq!(format_quantity(2.0, "certificates"), "2 certificates");
        assert_eq!(format_quantity(1.0, "certificates"), "1 certificate");
        assert_eq!(format_quantity(1.648, "certificates"), "1.648 certificates");
    }
}
