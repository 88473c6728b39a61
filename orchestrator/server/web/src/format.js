// Numbers as people read them: three significant digits with a scaled unit where the unit is a
// mass of CO2, intervals beside the value.

import { format } from 'd3-format';

const sig = format('.3~s');
const plain = format(',.4~r');

const SCALES = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** "10.3 Gt CO2" for 1.03e10 t CO2 (and 8.15 kt for 8.15e6 kg); other units keep their value. */
export function quantityText(value, unit) {
  if (!Number.isFinite(value)) return `${value} ${unit}`;
  const m = /^(t|kg)( [^/]*)?$/.exec(unit || '');
  if (m) {
    // Masses from a tonne up read in tonnes (kt, Mt, Gt), never "Mkg".
    const tonnes = m[1] === 'kg' ? value / 1000 : value;
    const rest = m[2] || '';
    const abs = Math.abs(tonnes);
    for (const [size, prefix] of SCALES) {
      if (abs >= size) return `${plain(tonnes / size)} ${prefix}t${rest}`;
    }
    if (abs >= 1) return `${plain(tonnes)} t${rest}`;
  }
  return `${Math.abs(value) >= 1e6 || (Math.abs(value) < 1e-3 && value !== 0) ? sig(value) : plain(value)} ${unit}`.trim();
}

export function numberText(value) {
  return Number.isFinite(value) ? plain(value) : String(value);
}

/** The uncertainty of a Quantity in words. */
export function uncertaintyText(u, unit) {
  if (!u) return '';
  switch (u.kind) {
    case 'interval':
      return `${Math.round(u.confidence * 100)} % interval ${quantityText(u.low, unit)} – ${quantityText(u.high, unit)}`;
    case 'normal':
      return `normal, sd ${quantityText(u.sd, unit)}`;
    case 'lognormal':
      return `lognormal, GSD ${numberText(u.gsd)}`;
    case 'triangular':
      return `triangular ${quantityText(u.min, unit)} – ${quantityText(u.max, unit)}`;
    case 'uniform':
      return `uniform ${quantityText(u.min, unit)} – ${quantityText(u.max, unit)}`;
    case 'not_assessed':
      return 'not assessed';
    default:
      return u.kind;
  }
}

export function timeText(ms) {
  return new Date(ms).toLocaleString();
}
