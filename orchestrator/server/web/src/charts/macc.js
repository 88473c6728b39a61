// The marginal abatement cost curve: one step per measure, as wide as its abatement potential
// and as high as its cost per tonne, cheapest first; the carbon price as a line.

import { axisBottom, axisLeft } from 'd3-axis';
import { format } from 'd3-format';
import { scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import { s } from '../dom.js';
import { numberText } from '../format.js';
import { MUTED, PALETTE, clip, styleAxis, svgRoot } from './common.js';

/** measures: [{name, cost (EUR/t CO2), potential (t CO2/yr)}]. */
export function maccChart({ title, description, measures, carbonPrice }) {
  const steps = [...measures].sort((a, b) => a.cost - b.cost);
  const width = 720;
  const height = 380;
  const m = { top: 24, right: 24, bottom: 110, left: 70 };
  const svg = svgRoot(width, height, title, description);
  const totalPotential = steps.reduce((sum, d) => sum + d.potential, 0);
  const costs = steps.map((d) => d.cost).concat(carbonPrice ?? []);
  const x = scaleLinear().domain([0, totalPotential || 1]).range([m.left, width - m.right]);
  const y = scaleLinear().domain([Math.min(0, ...costs), Math.max(0, ...costs)]).nice().range([height - m.bottom, m.top]);
  const root = select(svg);
  root.append('g').attr('transform', `translate(0,${y(0)})`).call(axisBottom(x).ticks(6).tickFormat(format('.2~s'))).call(styleAxis);
  root.append('g').attr('transform', `translate(${m.left},0)`).call(axisLeft(y).ticks(6)).call(styleAxis);
  root.append('text').attr('x', 12).attr('y', m.top - 8).attr('font-size', 11).attr('fill', MUTED).text('EUR/t CO2');
  root.append('text').attr('x', width - m.right).attr('y', height - 6).attr('text-anchor', 'end').attr('font-size', 11).attr('fill', MUTED).text('abatement potential, t CO2/yr');
  let at = 0;
  steps.forEach((d) => {
    const x0 = x(at);
    const x1 = x(at + d.potential);
    at += d.potential;
    const pays = carbonPrice != null && d.cost <= carbonPrice;
    const rect = s('rect', {
      x: x0,
      y: Math.min(y(d.cost), y(0)),
      width: Math.max(1, x1 - x0 - 1),
      height: Math.max(1, Math.abs(y(d.cost) - y(0))),
      fill: pays ? PALETTE[2] : PALETTE[0],
      stroke: '#ffffff',
    });
    rect.append(s('title', {}, `${d.name}: ${numberText(d.cost)} EUR/t CO2, ${numberText(d.potential)} t CO2/yr`));
    svg.append(rect);
    const label = s(
      'text',
      { transform: `translate(${(x0 + x1) / 2},${height - m.bottom + 24}) rotate(-35)`, 'text-anchor': 'end', 'font-size': 11 },
      clip(d.name, 24),
    );
    label.append(s('title', {}, d.name));
    svg.append(label);
  });
  if (carbonPrice != null) {
    svg.append(s('line', { x1: m.left, x2: width - m.right, y1: y(carbonPrice), y2: y(carbonPrice), stroke: PALETTE[5], 'stroke-dasharray': '5 3' }));
    svg.append(s('text', { x: m.left + 6, y: y(carbonPrice) - 5, 'font-size': 11, fill: PALETTE[5] }, `carbon price ${numberText(carbonPrice)} EUR/t CO2`));
  }
  return svg;
}
