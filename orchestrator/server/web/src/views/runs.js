// The run list: newest first, with links to each run and its decision log.

import { api } from '../api.js';
import { h } from '../dom.js';
import { timeText } from '../format.js';
import { errorBox } from './answer.js';

export async function runsView(main, signal) {
  main.replaceChildren(h('h2', {}, 'Runs'), h('p', { class: 'muted' }, 'Loading…'));
  try {
    const { runs } = await api('/v1/runs?limit=200', { signal });
    const table = runs.length
      ? h(
          'div',
          { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Runs' },
          h(
            'table',
            { class: 'runs-table' },
            h('caption', { class: 'visually-hidden' }, 'Recent runs, newest first'),
            h('thead', {}, h('tr', {}, ['Asked', 'Question', 'Status', 'Asked by', 'Decision log'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              runs.map((r) =>
                h(
                  'tr',
                  { 'data-run': r.run_id },
                  h('td', {}, timeText(r.created_unix_ms)),
                  h('th', { scope: 'row' }, h('a', { href: `#/runs/${encodeURIComponent(r.run_id)}` }, r.question)),
                  h('td', {}, h('span', { class: `badge status-${r.status}` }, r.status)),
                  h('td', {}, r.owner || '—'),
                  h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(r.run_id)}/audit`, 'aria-label': `Decision log of run ${r.run_id}` }, 'log')),
                ),
              ),
            ),
          ),
        )
      : h('p', {}, 'No runs yet. ', h('a', { href: '#/' }, 'Ask a question.'));
    main.replaceChildren(h('h2', {}, 'Runs'), table);
  } catch (e) {
    if (e.name !== 'AbortError') main.replaceChildren(h('h2', {}, 'Runs'), errorBox(e));
  }
}
