// The supply-chain dependency graph: laid out left to right by dagre, zoomed and panned with
// d3-zoom (mouse, touch, or the buttons), every node and edge a focusable button that shows its
// Quantities and provenance.

import dagre from '@dagrejs/dagre';
import { line, curveBasis } from 'd3-shape';
import { select } from 'd3-selection';
import { zoom, zoomIdentity } from 'd3-zoom';
import { h, s } from '../dom.js';
import { quantityText, uncertaintyText } from '../format.js';
import { MUTED, PALETTE, clip, svgRoot } from './common.js';

const KIND_COLOURS = {
  region: PALETTE[0],
  process: PALETTE[2],
  product: PALETTE[2],
  sector: PALETTE[4],
  atmosphere: '#6e7781',
  plant: PALETTE[1],
  unit: PALETTE[1],
  sink: PALETTE[2],
};

const colourOf = (kind) => KIND_COLOURS[kind] || PALETTE[3];

/** Lays the graph out; returns {nodes: [{...node, x, y, width, height}], edges: [{...edge, points}], width, height}. */
export function layoutGraph(graph) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const label = clip(n.label || n.id, 28);
    g.setNode(n.id, { width: Math.max(80, label.length * 7 + 24), height: 34, label });
  }
  graph.edges.forEach((e, i) => {
    if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, {}, `e${i}`);
  });
  dagre.layout(g);
  const nodes = graph.nodes.map((n) => ({ ...n, ...g.node(n.id) }));
  const edges = graph.edges
    .map((e, i) => ({ ...e, index: i, points: g.edge({ v: e.from, w: e.to, name: `e${i}` })?.points }))
    .filter((e) => e.points);
  const { width, height } = g.graph();
  return { nodes, edges, width: Math.max(width, 200), height: Math.max(height, 120) };
}

function quantityList(quantities) {
  const entries = Object.entries(quantities || {});
  if (!entries.length) return h('p', { class: 'muted' }, 'No numbers on this element.');
  return h(
    'dl',
    { class: 'quantity-list' },
    entries.map(([measure, q]) => [h('dt', {}, measure), h('dd', {}, quantityDetail(q))]),
  );
}

/** One Quantity with its uncertainty and provenance, for the details panel. */
export function quantityDetail(q) {
  const p = q.provenance || {};
  const params = Object.entries(p.parameters || {});
  return h(
    'div',
    { class: 'quantity' },
    h('p', { class: 'quantity-value' }, quantityText(q.value, q.unit)),
    h('p', {}, `Uncertainty: ${uncertaintyText(q.uncertainty, q.unit) || 'not stated'}`),
    h('p', {}, `Source: ${p.dataset || '?'} (${p.version || '?'})`),
    h('p', {}, `Method: ${p.method || '?'}`),
    params.length ? h('p', {}, `Parameters: ${params.map(([k, v]) => `${k} = ${v}`).join('; ')}`) : null,
    p.citation ? h('p', { class: 'muted' }, p.citation) : null,
  );
}

/** The interactive graph view with its details panel. */
export function graphView(graph) {
  const laid = layoutGraph(graph);
  const title = 'Supply-chain dependency graph';
  const description = `${laid.nodes.length} nodes and ${laid.edges.length} edges; select one to see its numbers and sources.`;
  const svg = svgRoot(1000, 460, title, description);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('class', 'chart-svg graph-svg');
  // Not an image: it holds buttons (nodes and edges).
  svg.setAttribute('role', 'group');
  const defs = s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: MUTED })));
  svg.append(defs);
  const viewport = s('g', { class: 'viewport' });
  svg.append(viewport);
  const details = h('div', { class: 'graph-details', 'aria-live': 'polite', id: 'graph-details' }, h('p', { class: 'muted' }, 'Select a node or an edge (click, or Tab to it and press Enter).'));
  const byId = new Map(laid.nodes.map((n) => [n.id, n]));
  let selected = null;
  const select_ = (el, content) => {
    if (selected) selected.classList.remove('selected');
    selected = el;
    el.classList.add('selected');
    details.replaceChildren(...content);
  };
  const activate = (el, fn) => {
    el.addEventListener('click', fn);
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        fn();
      }
    });
  };
  const path = line().x((p) => p.x).y((p) => p.y).curve(curveBasis);
  const values = laid.edges.map((e) => Math.abs(e.quantity?.value || 0)).filter((v) => v > 0);
  const maxValue = Math.max(...values, 1);
  for (const e of laid.edges) {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    const widthOf = e.quantity ? 1.5 + 5 * Math.sqrt(Math.abs(e.quantity.value) / maxValue) : 1.5;
    const label = `${from?.label || e.from} → ${to?.label || e.to}: ${e.kind.replaceAll('_', ' ')}${e.quantity ? `, ${quantityText(e.quantity.value, e.quantity.unit)}` : ''}`;
    const group = s('g', { class: 'graph-edge', tabindex: 0, role: 'button', 'aria-label': label, 'data-edge': e.index });
    group.append(s('path', { d: path(e.points), fill: 'none', stroke: MUTED, 'stroke-width': widthOf, 'marker-end': 'url(#arrow)', class: 'edge-line' }));
    group.append(s('path', { d: path(e.points), fill: 'none', stroke: 'transparent', 'stroke-width': 14 }));
    group.append(s('title', {}, label));
    activate(group, () =>
      select_(group, [
        h('h4', {}, `${e.kind.replaceAll('_', ' ')}: ${from?.label || e.from} → ${to?.label || e.to}`),
        e.quantity ? quantityDetail(e.quantity) : h('p', { class: 'muted' }, 'No number on this edge.'),
      ]),
    );
    viewport.append(group);
  }
  for (const n of laid.nodes) {
    const group = s('g', {
      class: 'graph-node',
      transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})`,
      tabindex: 0,
      role: 'button',
      'aria-label': `${n.kind}: ${n.label}`,
      'data-node': n.id,
    });
    group.append(s('rect', { width: n.width, height: n.height, rx: 6, fill: '#ffffff', stroke: colourOf(n.kind), 'stroke-width': 2, class: 'node-box' }));
    group.append(s('text', { x: n.width / 2, y: n.height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'middle', 'font-size': 12 }, n.label));
    group.append(s('title', {}, `${n.kind}: ${n.label}`));
    activate(group, () => {
      const attributes = Object.entries(n.attributes || {});
      select_(group, [
        h('h4', {}, `${n.label} (${n.kind})`),
        attributes.length ? h('p', {}, attributes.map(([k, v]) => `${k}: ${v}`).join('; ')) : null,
        quantityList(n.quantities),
      ]);
    });
    viewport.append(group);
  }
  const frame = h('div', { class: 'graph-frame' }, svg);
  const behaviour = zoom().scaleExtent([0.1, 8]).on('zoom', (ev) => viewport.setAttribute('transform', ev.transform.toString()));
  const root = select(svg).call(behaviour);
  const fit = () => {
    const box = svg.viewBox.baseVal;
    const k = Math.min(box.width / laid.width, box.height / laid.height, 1.5);
    const tx = (box.width - laid.width * k) / 2;
    const ty = (box.height - laid.height * k) / 2;
    root.call(behaviour.transform, zoomIdentity.translate(tx, ty).scale(k));
  };
  fit();
  const controls = h(
    'div',
    { class: 'graph-controls', role: 'group', 'aria-label': 'Zoom' },
    h('button', { type: 'button', class: 'secondary small', onclick: () => root.call(behaviour.scaleBy, 1.3) }, 'Zoom in'),
    h('button', { type: 'button', class: 'secondary small', onclick: () => root.call(behaviour.scaleBy, 1 / 1.3) }, 'Zoom out'),
    h('button', { type: 'button', class: 'secondary small', onclick: fit }, 'Fit'),
  );
  const csv = () => [
    ['element', 'id', 'kind', 'label or from', 'to', 'measure', 'value', 'unit', 'dataset', 'method'],
    ...laid.nodes.flatMap((n) => {
      const q = Object.entries(n.quantities || {});
      return q.length
        ? q.map(([m, v]) => ['node', n.id, n.kind, n.label, '', m, v.value, v.unit, v.provenance?.dataset, v.provenance?.method])
        : [['node', n.id, n.kind, n.label, '', '', '', '', '', '']];
    }),
    ...laid.edges.map((e) => ['edge', e.index, e.kind, e.from, e.to, e.kind, e.quantity?.value ?? '', e.quantity?.unit ?? '', e.quantity?.provenance?.dataset ?? '', e.quantity?.provenance?.method ?? '']),
  ];
  const body = h('div', { class: 'graph-layout' }, h('div', {}, controls, frame), details);
  return { body, svg, csv, title, description };
}
