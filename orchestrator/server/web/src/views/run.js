// One run's page: its question, its plan and every planning attempt, and its answer (or its
// progress, if it is still running).

import { api, runPath } from '../api.js';
import { h } from '../dom.js';
import { timeText } from '../format.js';
import { errorBox, renderAnswer } from './answer.js';
import { askView } from './ask.js';

function attempts(run) {
  if (!run.planning?.length) return null;
  return h(
    'section',
    { 'aria-labelledby': 'attempts-title' },
    h('h3', { id: 'attempts-title' }, 'Planning and writing attempts'),
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Planning attempts' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['Operation', 'Planner', 'Outcome', 'Tokens in/out', 'Latency', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          run.planning.map((a) =>
            h('tr', {}, h('td', {}, a.operation), h('td', {}, a.planner), h('td', {}, a.outcome), h('td', {}, `${a.input_tokens}/${a.output_tokens}`), h('td', {}, `${a.latency_ms} ms`), h('td', {}, a.error || '—')),
          ),
        ),
      ),
    ),
  );
}

export async function runView(main, signal, runId) {
  main.replaceChildren(h('h2', {}, `Run ${runId}`), h('p', { class: 'muted' }, 'Loading…'));
  try {
    const run = await api(runPath(runId), { signal });
    if (run.status !== 'done' && run.status !== 'failed') {
      askView(main, signal, { question: run.question, run: runId });
      return;
    }
    main.replaceChildren(
      h('h2', {}, 'Question'),
      h('blockquote', { class: 'question' }, run.question),
      h('p', { class: 'muted' }, `Asked ${timeText(run.created_unix_ms)}${run.owner ? ` by ${run.owner}` : ''}; ${run.status}.`),
      attempts(run),
      renderAnswer(run),
    );
  } catch (e) {
    if (e.name !== 'AbortError') main.replaceChildren(h('h2', {}, `Run ${runId}`), errorBox(e));
  }
}
