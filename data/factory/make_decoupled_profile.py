"""Writes grid-profile-synthetic-decoupled.csv: a SYNTHETIC hourly profile, not measured data.

Construction (fixed seed, so the file is reproducible with `python3 make_decoupled_profile.py`):
- demand: 1 + 0.15 winter peak + 0.12 day/evening shape − 0.08 at weekends (relative units);
- solar: a midday bell, 2.5× stronger in summer than in winter; wind: an AR(1) process
  (persistence 0.97 per hour) that is stronger in winter;
- residual load = demand − 0.35 solar − 0.45 wind, floored at 0.05;
- the price follows the residual load on a convex merit order (gas at the margin, 40 + 70 r²
  EUR/MWh) plus a gas-price AR(1) shock that moves price alone;
- the grid intensity is that of the fossil share of generation, with a coal/lignite share that
  rises in winter nights and is independent of the gas shock (0.9 t/MWh coal, 0.37 gas).
So price and intensity share the residual load but part through the gas shock and the coal
share: over the year they correlate at about 0.6 (printed when the file is written), against
0.98 for the first bundled profile, in which a least-cost schedule is also a low-carbon one.
"""

import math
import random

random.seed(20261204)
rows = []
wind = 0.5
gas = 0.0
for h in range(8760):
    day, hour = divmod(h, 24)
    season = math.cos(2 * math.pi * (day - 15) / 365)  # 1 in mid-January, −1 in mid-July
    weekend = day % 7 in (5, 6)
    demand = 1 + 0.15 * season + 0.12 * math.sin(math.pi * max(0, hour - 6) / 16) - (0.08 if weekend else 0)
    sun = max(0.0, math.sin(math.pi * (hour - 6) / 12)) if 6 <= hour <= 18 else 0.0
    solar = sun * (1.0 - 0.6 * (season + 1) / 2)
    wind = 0.97 * wind + 0.03 * (0.55 + 0.2 * season) + random.gauss(0, 0.06)
    wind = min(max(wind, 0.0), 1.2)
    residual = max(0.05, demand - 0.35 * solar - 0.45 * wind)
    gas = 0.995 * gas + random.gauss(0, 1.2)
    price = 40 + 70 * residual * residual + gas + random.gauss(0, 3)
    night = hour < 6 or hour >= 22
    coal_share = min(0.9, max(0.1, 0.35 + 0.2 * season + (0.15 if night else 0) + random.gauss(0, 0.12)))
    fossil = min(1.0, residual / 1.1)
    intensity = fossil * (0.9 * coal_share + 0.37 * (1 - coal_share))
    rows.append((h, max(price, 5.0), intensity))

n = len(rows)
mp = sum(r[1] for r in rows) / n
mi = sum(r[2] for r in rows) / n
cov = sum((r[1] - mp) * (r[2] - mi) for r in rows)
sp = math.sqrt(sum((r[1] - mp) ** 2 for r in rows))
si = math.sqrt(sum((r[2] - mi) ** 2 for r in rows))
corr = cov / (sp * si)
with open("grid-profile-synthetic-decoupled.csv", "w") as f:
    f.write(
        "# SYNTHETIC hourly profile for examples and tests, not measured data: price and grid intensity share\n"
        "# the residual load but part through a gas-price shock and a coal share (see make_decoupled_profile.py);\n"
        f"# Pearson correlation of price and intensity over the year {corr:.2f}; average {mi:.2f} t/MWh and {mp:.0f} EUR/MWh.\n"
        "hour,price_eur_per_mwh,grid_co2_t_per_mwh\n"
    )
    for h, p, i in rows:
        f.write(f"{h},{p:.2f},{i:.4f}\n")
print(f"correlation {corr:.3f}, mean intensity {mi:.3f} t/MWh, mean price {mp:.1f} EUR/MWh")
