// Bar charts: grouped vertical bars (accounts by region, Sobol indices by input) and horizontal
// contribution bars (an LCA's processes, a sink's pools, an account's sectors).

import { axisBottom, axisLeft } from 'd3-axis';
import { format } from 'd3-format';
import { scaleBand, scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import { s } from '../dom.js';
import { quantityText } from '../format.js';
import { INK, MUTED, PALETTE, clip, styleAxis, svgRoot } from './common.js';

const tick = format('.2~s');

/**
 * categories: ['CHN', ...]; series: [{name, values: [number per category]}]; unit: axis unit.
 */
export function groupedBars({ title, description, categories, series, unit }) {
  const width = Math.max(420, 90 + categories.length * (40 + 26 * series.length));
  const height = 340;
  const m = { top: 20, right: 20, bottom: 70, left: 70 };
  const svg = svgRoot(width, height, title, description);
  const all = series.flatMap((x) => x.values).filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(0, ...all);
  const x = scaleBand().domain(categories).range([m.left, width - m.right]).padding(0.2);
  const inner = scaleBand().domain(series.map((d) => d.name)).range([0, x.bandwidth()]).padding(0.05);
  const y = scaleLinear().domain([lo, hi]).nice().range([height - m.bottom, m.top]);
  const root = select(svg);
  root.append('g').attr('transform', `translate(0,${height - m.bottom})`).call(axisBottom(x)).call(styleAxis)
    .selectAll('text').attr('transform', 'rotate(-30)').attr('text-anchor', 'end').attr('dx', '-0.4em').attr('dy', '0.6em');
  root.append('g').attr('transform', `translate(${m.left},0)`).call(axisLeft(y).ticks(6).tickFormat(tick)).call(styleAxis);
  root.append('text').attr('x', 12).attr('y', m.top - 6).attr('font-size', 11).attr('fill', MUTED).text(unit);
  root.append('line').attr('x1', m.left).attr('x2', width - m.right).attr('y1', y(0)).attr('y2', y(0)).attr('stroke', INK);
  series.forEach((serie, i) => {
    categories.forEach((c, j) => {
      const v = serie.values[j];
      if (!Number.isFinite(v)) return;
      const rect = s('rect', {
        x: x(c) + inner(serie.name),
        y: Math.min(y(v), y(0)),
        width: inner.bandwidth(),
        height: Math.abs(y(v) - y(0)),
        fill: PALETTE[i % PALETTE.length],
      });
      rect.append(s('title', {}, `${serie.name}, ${c}: ${quantityText(v, unit)}`));
      svg.append(rect);
    });
  });
  // Legend along the bottom.
  let lx = m.left;
  series.forEach((serie, i) => {
    svg.append(s('rect', { x: lx, y: height - 18, width: 12, height: 12, fill: PALETTE[i % PALETTE.length] }));
    svg.append(s('text', { x: lx + 16, y: height - 8, 'font-size': 11 }, serie.name));
    lx += 30 + serie.name.length * 6.5;
  });
  return svg;
}

/** items: [{label, value}], sorted by the caller; total (optional) is drawn as a reference. */
export function contributionBars({ title, description, items, unit, total }) {
  const row = 24;
  const m = { top: 28, right: 110, bottom: 30, left: 230 };
  const width = 720;
  const height = m.top + m.bottom + items.length * row;
  const svg = svgRoot(width, height, title, description);
  const values = items.map((d) => d.value);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values, total ?? 0);
  const x = scaleLinear().domain([lo, hi]).nice().range([m.left, width - m.right]);
  const y = scaleBand().domain(items.map((_, i) => i)).range([m.top, height - m.bottom]).padding(0.2);
  const root = select(svg);
  root.append('g').attr('transform', `translate(0,${height - m.bottom})`).call(axisBottom(x).ticks(6).tickFormat(tick)).call(styleAxis);
  root.append('text').attr('x', width - m.right).attr('y', height - 4).attr('text-anchor', 'end').attr('font-size', 11).attr('fill', MUTED).text(unit);
  items.forEach((d, i) => {
    const label = s('text', { x: m.left - 8, y: y(i) + y.bandwidth() / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', 'font-size': 11 }, clip(d.label, 36));
    label.append(s('title', {}, d.label));
    svg.append(label);
    const bar = s('rect', {
      x: Math.min(x(0), x(d.value)),
      y: y(i),
      width: Math.abs(x(d.value) - x(0)),
      height: y.bandwidth(),
      fill: d.value < 0 ? PALETTE[2] : PALETTE[0],
    });
    bar.append(s('title', {}, `${d.label}: ${quantityText(d.value, unit)}`));
    svg.append(bar);
    svg.append(s('text', { x: Math.max(x(0), x(d.value)) + 4, y: y(i) + y.bandwidth() / 2, 'dominant-baseline': 'middle', 'font-size': 11, fill: MUTED }, quantityText(d.value, unit)));
  });
  if (Number.isFinite(total)) {
    svg.append(s('line', { x1: x(total), x2: x(total), y1: m.top - 6, y2: height - m.bottom, stroke: PALETTE[5], 'stroke-dasharray': '4 3' }));
    svg.append(s('text', { x: x(total), y: m.top - 10, 'text-anchor': 'middle', 'font-size': 11, fill: PALETTE[5] }, `total ${quantityText(total, unit)}`));
  }
  return svg;
}
