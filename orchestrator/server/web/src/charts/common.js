// What every chart shares: the figure with its caption and download buttons, self-contained SVG
// (presentation attributes, no stylesheet), CSV, and an accessible colour palette.

import { h, s, uid } from '../dom.js';

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const INK = '#1f2328';
export const MUTED = '#57606a';

/** The chart's root SVG: sized by viewBox, titled for screen readers. */
export function svgRoot(width, height, title, description) {
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  return s(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-labelledby': `${titleId} ${descId}`,
      'font-family': FONT,
      'font-size': 12,
      fill: INK,
      class: 'chart-svg',
    },
    s('title', { id: titleId }, title),
    s('desc', { id: descId }, description),
    s('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
  );
}

function csvField(value) {
  const text = value == null ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows) {
  return `${rows.map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

export function download(filename, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function svgText(svg) {
  const xml = new XMLSerializer().serializeToString(svg);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml}\n`;
}

/**
 * A chart in a figure: caption, the SVG (or any element holding one), and buttons that download
 * the SVG and the chart's data as CSV.
 */
export function figure({ id, title, note, body, svg, csv, filename }) {
  const svgOf = () => svg || body.querySelector('svg');
  const actions = h(
    'div',
    { class: 'figure-actions' },
    h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        'data-download': 'svg',
        'aria-label': `Download “${title}” as SVG`,
        onclick: () => download(`${filename}.svg`, 'image/svg+xml', svgText(svgOf())),
      },
      'Download SVG',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        'data-download': 'csv',
        'aria-label': `Download the data of “${title}” as CSV`,
        onclick: () => download(`${filename}.csv`, 'text/csv', toCsv(csv())),
      },
      'Download CSV',
    ),
  );
  return h(
    'figure',
    { class: 'chart', id, 'data-chart': filename },
    h('figcaption', {}, h('h3', {}, title), note ? h('p', { class: 'muted' }, note) : null),
    h('div', { class: 'chart-body' }, body || svg),
    actions,
  );
}

/** A d3 axis drawn with presentation attributes, so a downloaded SVG looks the same. */
export function styleAxis(g) {
  g.attr('font-family', null).attr('font-size', 11);
  g.selectAll('text').attr('fill', INK);
  g.selectAll('line,path').attr('stroke', MUTED);
}

/** Long labels cut to n characters with an ellipsis (the full text stays in a <title>). */
export function clip(text, n) {
  const t = String(text);
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}
