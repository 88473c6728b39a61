// A finished run: the short answer, every number with unit, interval and source, the consistency
// findings, notes and errors, the run id with its decision log, and the charts.

import { api, ApiError, authHeaders, errorOf, runPath } from '../api.js';
import { graphView } from '../charts/graph.js';
import { chartsFor } from '../charts/detect.js';
import { download, figure, toCsv } from '../charts/common.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { numberText, quantityText, uncertaintyText } from '../format.js';

export function errorBox(error) {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return h('div', { class: 'error-box', role: 'alert' }, h('p', {}, message));
}

const FIRST_ROWS = 12;

function answerTable(answer) {
  const rows = answer.table || [];
  const more = rows.length - FIRST_ROWS;
  let body;
  const toggle =
    more > 0
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary small',
            'aria-expanded': 'false',
            onclick: (ev) => {
              const open = ev.currentTarget.getAttribute('aria-expanded') !== 'true';
              ev.currentTarget.setAttribute('aria-expanded', String(open));
              ev.currentTarget.textContent = open ? `Show the first ${FIRST_ROWS}` : `Show all ${rows.length} numbers`;
              body.querySelectorAll('tr').forEach((tr, i) => {
                tr.hidden = !open && i >= FIRST_ROWS;
              });
            },
          },
          `Show all ${rows.length} numbers`,
        )
      : null;
  const csv = () => [
    ['task', 'measure', 'label', 'value', 'unit', 'uncertainty', 'source', 'method'],
    ...rows.map((r) => [r.task, r.measure, r.label, r.value, r.unit, uncertaintyText(r.uncertainty, r.unit), r.source, r.method]),
  ];
  return h(
    'section',
    { class: 'numbers', 'aria-labelledby': 'numbers-title' },
    h(
      'div',
      { class: 'section-head' },
      h('h3', { id: 'numbers-title' }, t('answer.numbers')),
      h('button', { type: 'button', class: 'secondary small', onclick: () => download(`${answer.run_id}-numbers.csv`, 'text/csv', toCsv(csv())) }, t('answer.csv')),
    ),
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Numbers of the answer' },
      h(
        'table',
        { class: 'answer-table' },
        h('caption', { class: 'visually-hidden' }, 'Every number of the answer with its unit, uncertainty and source'),
        h('thead', {}, h('tr', {}, [t('col.quantity'), t('col.value'), t('col.uncertainty'), t('col.source'), t('col.method')].map((c) => h('th', { scope: 'col' }, c)))),
        (body = h(
          'tbody',
          {},
          rows.map((r, i) =>
            h(
              'tr',
              { hidden: i >= FIRST_ROWS },
              h('th', { scope: 'row' }, r.label),
              h('td', { class: 'num', title: `${numberText(r.value)} ${r.unit}` }, quantityText(r.value, r.unit)),
              h('td', {}, uncertaintyText(r.uncertainty, r.unit)),
              h('td', {}, r.source),
              h('td', {}, r.method),
            ),
          ),
        )),
      ),
    ),
    toggle,
  );
}

function findings(answer) {
  const list = answer.findings || [];
  if (!list.length) return null;
  return h(
    'section',
    { 'aria-labelledby': 'findings-title' },
    h('h3', { id: 'findings-title' }, t('checks')),
    h(
      'ul',
      { class: 'findings' },
      list.map((f) =>
        h(
          'li',
          { class: f.passed ? 'passed' : 'failed' },
          h('span', { class: `badge ${f.passed ? 'ok' : 'bad'}` }, f.passed ? 'passed' : 'failed'),
          ' ',
          h('strong', {}, f.check),
          `: ${f.compared} (${Object.entries(f.values || {}).map(([k, v]) => `${k} = ${numberText(v)}`).join(', ')}; tolerance ${f.tolerance})`,
        ),
      ),
    ),
  );
}

function listSection(title, items, cls) {
  if (!items?.length) return null;
  return h('section', { class: cls }, h('h3', {}, title), h('ul', {}, items.map((item) => h('li', {}, item))));
}

async function saveGraph(runId, format) {
  const response = await fetch(`${runPath(runId)}/graph?format=${format}`, { headers: authHeaders() });
  if (!response.ok) throw await errorOf(response);
  const ext = { json: 'json', dot: 'dot', graphml: 'graphml' }[format];
  download(`${runId}-graph.${ext}`, response.headers.get('content-type') || 'text/plain', await response.text());
}

async function graphFigure(runId, holder) {
  try {
    const graph = await api(`${runPath(runId)}/graph?format=json`);
    if (!graph.nodes?.length) {
      holder.replaceChildren();
      return;
    }
    const view = graphView(graph);
    const fig = figure({ id: 'chart-graph', title: view.title, note: view.description, body: view.body, svg: view.svg, csv: view.csv, filename: 'supply-chain-graph' });
    const exports = h(
      'p',
      { class: 'graph-exports' },
      'Graph files: ',
      ['json', 'dot', 'graphml'].map((f) =>
        h('button', { type: 'button', class: 'link-button', onclick: () => saveGraph(runId, f).catch((e) => holder.append(errorBox(e))) }, f.toUpperCase()),
      ),
    );
    fig.append(exports);
    holder.replaceChildren(fig);
  } catch (e) {
    holder.replaceChildren(errorBox(e));
  }
}

/** Renders a finished run's answer (or failure) into an element. */
export function renderAnswer(run) {
  const answer = run.answer;
  if (!answer) {
    return h(
      'section',
      { class: 'answer failed', 'aria-labelledby': 'answer-title' },
      h('h2', { id: 'answer-title' }, t('answer.none')),
      errorBox(run.error || `The run is ${run.status}.`),
      runLinks(run.run_id),
    );
  }
  const graphHolder = h('div', { class: 'graph-holder' }, h('p', { class: 'muted' }, 'Loading the supply-chain graph…'));
  graphFigure(run.run_id, graphHolder);
  let charts = [];
  try {
    charts = chartsFor(answer);
  } catch (e) {
    charts = [errorBox(`A chart could not be drawn: ${e.message}`)];
  }
  return h(
    'section',
    { class: 'answer', 'aria-labelledby': 'answer-title' },
    h('h2', { id: 'answer-title' }, t('answer.title')),
    h('p', { class: 'answer-text' }, answer.text),
    h('p', { class: 'muted' }, `Planned by ${answer.planner}; written by ${answer.writer}. ${answer.intent}.`),
    listSection(t('errors'), answer.errors, 'errors'),
    answerTable(answer),
    findings(answer),
    listSection(t('notes'), answer.notes, 'notes'),
    listSection(t('sources'), answer.sources, 'sources'),
    runLinks(run.run_id, run.trace_id),
    h('section', { class: 'charts', 'aria-labelledby': 'charts-title' }, h('h3', { id: 'charts-title' }, t('charts')), graphHolder, charts),
  );
}

export function runLinks(runId, traceId) {
  return h(
    'p',
    { class: 'run-links' },
    'Run ',
    h('code', {}, runId),
    ' · ',
    h('a', { href: `#/runs/${encodeURIComponent(runId)}` }, 'run page'),
    ' · ',
    h('a', { href: `#/runs/${encodeURIComponent(runId)}/audit` }, 'decision log'),
    traceId ? [' · trace ', h('code', {}, traceId)] : null,
  );
}
