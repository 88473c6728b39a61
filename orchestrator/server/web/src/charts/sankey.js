// Embodied-carbon transfers between regions as a Sankey diagram: producing regions on the left,
// consuming regions on the right, each band a bilateral flow (d3-sankey).

import { sankey, sankeyLinkHorizontal } from 'd3-sankey';
import { s } from '../dom.js';
import { quantityText } from '../format.js';
import { MUTED, PALETTE, svgRoot } from './common.js';

/** flows: [{producer, consumer, value}] (value > 0). */
export function sankeyChart({ title, description, flows, unit }) {
  const producers = [...new Set(flows.map((f) => f.producer))];
  const consumers = [...new Set(flows.map((f) => f.consumer))];
  const nodes = [
    ...producers.map((r) => ({ id: `p:${r}`, name: r, side: 'produced in' })),
    ...consumers.map((r) => ({ id: `c:${r}`, name: r, side: 'consumed in' })),
  ];
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const links = flows.map((f) => ({
    source: index.get(`p:${f.producer}`),
    target: index.get(`c:${f.consumer}`),
    value: f.value,
    flow: f,
  }));
  const width = 720;
  const height = Math.max(260, 26 * Math.max(producers.length, consumers.length) + 60);
  const svg = svgRoot(width, height, title, description);
  const layout = sankey().nodeWidth(14).nodePadding(10).extent([[150, 30], [width - 150, height - 10]]);
  const graph = layout({ nodes: nodes.map((d) => ({ ...d })), links: links.map((d) => ({ ...d })) });
  const colour = new Map(producers.map((r, i) => [r, PALETTE[i % PALETTE.length]]));
  svg.append(s('text', { x: 150, y: 18, 'font-size': 11, fill: MUTED }, 'emitted in (producer)'));
  svg.append(s('text', { x: width - 150, y: 18, 'font-size': 11, fill: MUTED, 'text-anchor': 'end' }, 'for final demand in (consumer)'));
  const path = sankeyLinkHorizontal();
  for (const link of graph.links) {
    const band = s('path', {
      d: path(link),
      fill: 'none',
      stroke: colour.get(link.flow.producer),
      'stroke-opacity': 0.45,
      'stroke-width': Math.max(1, link.width),
    });
    band.append(s('title', {}, `${link.flow.producer} → ${link.flow.consumer}: ${quantityText(link.value, unit)}`));
    svg.append(band);
  }
  for (const node of graph.nodes) {
    const fill = node.side === 'produced in' ? colour.get(node.name) : '#6e7781';
    const rect = s('rect', { x: node.x0, y: node.y0, width: node.x1 - node.x0, height: Math.max(1, node.y1 - node.y0), fill });
    rect.append(s('title', {}, `${node.name} (${node.side}): ${quantityText(node.value, unit)}`));
    svg.append(rect);
    const left = node.side === 'produced in';
    svg.append(
      s(
        'text',
        {
          x: left ? node.x0 - 6 : node.x1 + 6,
          y: (node.y0 + node.y1) / 2,
          'text-anchor': left ? 'end' : 'start',
          'dominant-baseline': 'middle',
          'font-size': 11,
        },
        `${node.name} ${quantityText(node.value, unit)}`,
      ),
    );
  }
  return svg;
}
