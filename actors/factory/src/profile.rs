//! Hourly electricity price and grid carbon-intensity profiles.
//!
//! File format: CSV with a header and three columns `hour,price_eur_per_mwh,grid_co2_t_per_mwh`,
//! hours 0, 1, 2, … without gaps. Lines starting with `#` are comments (for the source).

use crate::FactoryError;

/// Electricity price and grid carbon intensity, hour by hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub price_eur_per_mwh: Vec<f64>,
    pub grid_co2_t_per_mwh: Vec<f64>,
}

impl Profile {
    /// Pearson correlation of the hourly price and grid intensity: near 1, a schedule that cuts
    /// cost also cuts emissions whatever the carbon price; `None` where either is constant.
    pub fn price_intensity_correlation(&self) -> Option<f64> {
        let (p, g) = (&self.price_eur_per_mwh, &self.grid_co2_t_per_mwh);
        let varies = |v: &[f64]| v.iter().any(|x| *x != v[0]);
        (varies(p) && varies(g)).then(|| cb_uncertainty::engine::stats::pearson(p, g))
    }

    /// Mean grid intensity over the profile's hours (t CO2/MWh).
    pub fn mean_grid_intensity(&self) -> f64 {
        self.grid_co2_t_per_mwh.iter().sum::<f64>() / self.hours().max(1) as f64
    }

    /// The same hourly shape with the grid intensity scaled to an annual mean:
    /// `g'_h = g_h × mean_target / mean(g)`, prices unchanged. A country's annual mean on the
    /// bundled shape keeps the hours' ups and downs (labelled as the shape's, not the country's).
    pub fn scaled_to_mean(&self, mean_t_per_mwh: f64) -> Result<Profile, FactoryError> {
        let mean = self.mean_grid_intensity();
        if !(mean_t_per_mwh.is_finite() && mean_t_per_mwh >= 0.0) {
            return Err(FactoryError::Profile(format!(
                "a grid mean of {mean_t_per_mwh} t/MWh is not a grid intensity"
            )));
        }
        if mean <= 0.0 {
            return Err(FactoryError::Profile(
                "the profile's grid intensity is zero in every hour: it has no shape to scale".into(),
            ));
        }
        let k = mean_t_per_mwh / mean;
        Ok(Profile {
            price_eur_per_mwh: self.price_eur_per_mwh.clone(),
            grid_co2_t_per_mwh: self.grid_co2_t_per_mwh.iter().map(|g| g * k).collect(),
        })
    }

    pub fn hours(&self) -> usize {
        self.price_eur_per_mwh.len()
    }

    /// The first `hours` hours, repeating the profile if it is shorter.
    pub fn horizon(&self, hours: usize) -> Profile {
        let n = self.hours();
        Profile {
            price_eur_per_mwh: (0..hours).map(|h| self.price_eur_per_mwh[h % n]).collect(),
            grid_co2_t_per_mwh: (0..hours).map(|h| self.grid_co2_t_per_mwh[h % n]).collect(),
        }
    }

    /// Parses a profile; errors name the line.
    pub fn from_csv(text: &str, origin: &str) -> Result<Profile, FactoryError> {
        let bad = |line: usize, msg: String| FactoryError::Profile(format!("{origin}: line {line}: {msg}"));
        let mut rdr = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let header = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
        let want = ["hour", "price_eur_per_mwh", "grid_co2_t_per_mwh"];
        if header.iter().map(str::trim).collect::<Vec<_>>() != want {
            return Err(FactoryError::Profile(format!(
                "{origin}: the header must be {:?}, got {:?}",
                want.join(","),
                header.iter().collect::<Vec<_>>().join(",")
            )));
        }
        let mut p = Profile {
            price_eur_per_mwh: Vec::new(),
            grid_co2_t_per_mwh: Vec::new(),
        };
        for rec in rdr.records() {
            let rec = rec.map_err(|e| bad(0, e.to_string()))?;
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
            let num = |j: usize| -> Result<f64, FactoryError> {
                rec.get(j)
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        bad(
                            line,
                            format!(
                                "column {} is not a number: {:?}",
                                want[j],
                                rec.get(j).unwrap_or("")
                            ),
                        )
                    })
            };
            let hour = num(0)?;
            if hour != p.price_eur_per_mwh.len() as f64 {
                return Err(bad(
                    line,
                    format!("hour {hour}: expected hour {}", p.price_eur_per_mwh.len()),
                ));
            }
            let co2 = num(2)?;
            if co2 < 0.0 {
                return Err(bad(line, format!("grid intensity {co2} is negative")));
            }
            p.price_eur_per_mwh.push(num(1)?);
            p.grid_co2_t_per_mwh.push(co2);
        }
        if p.hours() == 0 {
            return Err(FactoryError::Profile(format!("{origin}: no hours")));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_to_a_mean_keeps_the_shape_and_the_prices() {
        let p = Profile {
            price_eur_per_mwh: vec![50.0, 60.0, 70.0, 80.0],
            grid_co2_t_per_mwh: vec![0.1, 0.2, 0.3, 0.4],
        };
        // mean 0.25 → 0.5: every hour doubles.
        let s = p.scaled_to_mean(0.5).unwrap();
        assert_eq!(s.grid_co2_t_per_mwh, vec![0.2, 0.4, 0.6, 0.8]);
        assert_eq!(s.price_eur_per_mwh, p.price_eur_per_mwh);
        assert!((s.mean_grid_intensity() - 0.5).abs() < 1e-15);
        assert!(p.scaled_to_mean(f64::NAN).is_err() && p.scaled_to_mean(-1.0).is_err());
        let flat = Profile {
            price_eur_per_mwh: vec![1.0],
            grid_co2_t_per_mwh: vec![0.0],
        };
        assert!(flat.scaled_to_mean(0.3).is_err());
    }
}
