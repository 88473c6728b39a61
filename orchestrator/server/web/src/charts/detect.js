// Which charts a run's results call for, and their data: read from the Quantities' measures and
// dimensions (the agents' own vocabulary), never from the answer's text.

import { contributionBars, groupedBars } from './bars.js';
import { figure } from './common.js';
import { maccChart } from './macc.js';
import { sankeyChart } from './sankey.js';

/** Every labelled Quantity of the completed tasks, with its task and agent. */
export function quantitiesOf(answer) {
  return (answer?.results || []).flatMap((r) =>
    r.outcome?.status === 'completed'
      ? (r.outcome.quantities || []).map((q) => ({ ...q, task: r.task_id, agent: r.agent }))
      : [],
  );
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function accounts(qs, consumption, production, names) {
  const byStressor = new Map();
  for (const q of qs) {
    if (q.measure !== consumption && q.measure !== production) continue;
    const region = q.dimensions?.region;
    if (!region) continue;
    const stressor = q.dimensions?.stressor || 'CO2';
    if (!byStressor.has(stressor)) byStressor.set(stressor, { unit: q.quantity.unit, rows: new Map() });
    const entry = byStressor.get(stressor);
    if (!entry.rows.has(region)) entry.rows.set(region, {});
    entry.rows.get(region)[q.measure] = q.quantity.value;
  }
  return [...byStressor.entries()].slice(0, 3).map(([stressor, { unit, rows }]) => {
    const categories = [...rows.keys()];
    const series = [
      { name: names[0], values: categories.map((c) => rows.get(c)[consumption]) },
      { name: names[1], values: categories.map((c) => rows.get(c)[production]) },
    ];
    const title = `Consumption- versus production-based ${stressor}`;
    return figure({
      id: `chart-accounts-${slug(stressor)}`,
      title,
      note: 'Consumption-based accounts what a region’s final demand causes anywhere; production-based (territorial) what is emitted on its territory.',
      svg: groupedBars({ title, description: `${names[0]} and ${names[1]} by region, in ${unit}.`, categories, series, unit }),
      csv: () => [['region', `${names[0]} (${unit})`, `${names[1]} (${unit})`], ...categories.map((c, i) => [c, series[0].values[i], series[1].values[i]])],
      filename: `accounts-${slug(stressor)}`,
    });
  });
}

function transfers(qs) {
  const flows = qs
    .filter((q) => q.measure === 'embodied_in_trade' && q.dimensions?.producer && q.dimensions?.consumer && q.quantity.value > 0)
    .map((q) => ({ producer: q.dimensions.producer, consumer: q.dimensions.consumer, value: q.quantity.value, unit: q.quantity.unit, stressor: q.dimensions.stressor }));
  if (!flows.length) return [];
  const unit = flows[0].unit;
  const stressor = flows[0].stressor || 'CO2';
  const title = `${stressor} embodied in trade between regions`;
  return [
    figure({
      id: 'chart-transfers',
      title,
      note: 'Each band: emissions in the producing region for final demand in the consuming region.',
      svg: sankeyChart({ title, description: `${flows.length} bilateral flows in ${unit}.`, flows, unit }),
      csv: () => [['producer', 'consumer', `value (${unit})`], ...flows.map((f) => [f.producer, f.consumer, f.value])],
      filename: 'embodied-transfers',
    }),
  ];
}

function macc(qs, answer) {
  const byMeasure = new Map();
  for (const q of qs) {
    if (q.measure !== 'abatement_cost' && q.measure !== 'abatement_potential') continue;
    const name = q.dimensions?.measure;
    if (!name) continue;
    if (!byMeasure.has(name)) byMeasure.set(name, { name, plant: q.dimensions?.plant });
    byMeasure.get(name)[q.measure === 'abatement_cost' ? 'cost' : 'potential'] = q.quantity.value;
  }
  const measures = [...byMeasure.values()].filter((d) => Number.isFinite(d.cost) && Number.isFinite(d.potential));
  if (!measures.length) return [];
  const task = (answer.plan?.tasks || []).find((t) => t.agent === 'factory' && t.params?.op === 'macc');
  const carbonPrice = task?.params?.carbon_price ?? null;
  const plant = measures[0].plant || 'the plant';
  const title = `Marginal abatement cost curve of ${plant}`;
  return [
    figure({
      id: 'chart-macc',
      title,
      note: carbonPrice != null ? `Green steps cost less than the carbon price of ${carbonPrice} EUR/t CO2.` : null,
      svg: maccChart({ title, description: `${measures.length} measures, cost per tonne against abatement potential.`, measures, carbonPrice }),
      csv: () => [['measure', 'cost (EUR/t CO2)', 'abatement potential (t CO2/yr)'], ...measures.map((d) => [d.name, d.cost, d.potential])],
      filename: 'macc',
    }),
  ];
}

function breakdown({ qs, measure, key, title, note, filename, total }) {
  const items = qs
    .filter((q) => q.measure === measure && q.dimensions?.[key] != null)
    .map((q) => ({ label: q.dimensions[key], value: q.quantity.value, unit: q.quantity.unit }))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  if (!items.length) return [];
  const unit = items[0].unit;
  return [
    figure({
      id: `chart-${filename}`,
      title,
      note,
      svg: contributionBars({ title, description: `${items.length} contributions in ${unit}.`, items, unit, total }),
      csv: () => [[key, `value (${unit})`], ...items.map((d) => [d.label, d.value])],
      filename,
    }),
  ];
}

function sobol(qs) {
  const inputs = [...new Set(qs.filter((q) => q.measure.startsWith('sobol_')).map((q) => q.dimensions?.input).filter(Boolean))];
  if (!inputs.length) return [];
  const value = (measure, input) => qs.find((q) => q.measure === measure && q.dimensions?.input === input)?.quantity.value;
  const series = [
    { name: 'first-order', values: inputs.map((i) => value('sobol_first_order', i)) },
    { name: 'total', values: inputs.map((i) => value('sobol_total', i)) },
  ];
  const title = 'Sobol sensitivity indices';
  return [
    figure({
      id: 'chart-sobol',
      title,
      svg: groupedBars({ title, description: 'First-order and total Sobol indices by input.', categories: inputs, series, unit: 'index' }),
      csv: () => [['input', 'first-order', 'total'], ...inputs.map((i, j) => [i, series[0].values[j], series[1].values[j]])],
      filename: 'sobol',
    }),
  ];
}

/** The figures for a finished run's answer, in reading order. */
export function chartsFor(answer) {
  const qs = quantitiesOf(answer);
  const footprint = qs.find((q) => q.measure === 'footprint' && q.dimensions?.process);
  return [
    ...transfers(qs),
    ...accounts(qs, 'consumption_co2', 'territorial_co2', ['consumption-based', 'territorial']),
    ...accounts(qs, 'D_cba_reg', 'D_pba_reg', ['consumption-based', 'production-based']),
    ...macc(qs, answer),
    ...breakdown({
      qs,
      measure: 'process_contribution',
      key: 'process',
      title: 'Life-cycle contributions by process',
      note: 'Direct emissions of each process in the product’s supply chain (the largest), against the total footprint.',
      filename: 'lca-contributions',
      total: footprint?.quantity.value,
    }),
    ...breakdown({ qs, measure: 'net_co2_by_pool', key: 'pool', title: 'Net CO2 by carbon pool', note: 'Negative: removal from the atmosphere.', filename: 'sink-pools' }),
    ...breakdown({ qs, measure: 'D_cba', key: 'sector', title: 'Sectors behind the account', filename: 'top-sectors' }),
    ...sobol(qs),
  ];
}
