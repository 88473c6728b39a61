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
