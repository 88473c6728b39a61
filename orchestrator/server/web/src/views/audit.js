// A run's decision log for auditors: whether the hash chain and the signed head verify, then
// every entry in order with its hash, the previous entry's hash and its body.

import { api, runPath } from '../api.js';
import { h } from '../dom.js';
import { timeText } from '../format.js';
import { errorBox } from './answer.js';

const short = (hash) => (hash ? `${hash.slice(0, 12)}…` : '—');

function verdict(v) {
  const ok = Boolean(v.intact);
  let detail;
  if (!ok) detail = v.problem || 'The log does not verify.';
  else if (v.complete) detail = `${v.entries} entries, from the question to the ${v.last_kind === 'run_failed' ? 'failure' : 'answer'}; signed by ${short(v.signed_by)}.`;
  else detail = `${v.entries} entries, intact up to where the run stopped: after entry ${v.entries - 1} (${v.last_kind || '?'}); signed by ${short(v.signed_by)}.`;
  return h(
    'div',
    { class: `verdict ${ok ? 'ok' : 'bad'}`, role: 'status', 'data-intact': String(ok) },
    h('p', { class: 'verdict-title' }, ok ? (v.complete ? 'Verified: the hash chain and the signed head hold.' : 'Verified, but incomplete: the run stopped before its answer.') : 'Verification failed: the log was changed.'),
    h('p', {}, detail),
  );
}

export async function auditView(main, signal, runId) {
  const title = h('h2', {}, 'Decision log');
  main.replaceChildren(title, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const log = await api(`${runPath(runId)}/audit`, { signal });
    const v = log.verification || {};
    const entries = log.entries || [];
    main.replaceChildren(
      title,
      h('p', {}, 'Run ', h('code', {}, runId), ' · ', h('a', { href: `#/runs/${encodeURIComponent(runId)}` }, 'run page')),
      verdict(v),
      log.head
        ? h(
            'dl',
            { class: 'head' },
            h('dt', {}, 'Entries signed'),
            h('dd', {}, String(log.head.count)),
            h('dt', {}, 'Head hash'),
            h('dd', {}, h('code', {}, log.head.head_hash)),
            h('dt', {}, 'Signed by (Ed25519 public key)'),
            h('dd', {}, h('code', {}, log.head.public_key)),
          )
        : h('p', { class: 'error-box' }, 'The log has no signed head.'),
      h(
        'ol',
        { class: 'audit-entries' },
        entries.map((e) =>
          h(
            'li',
            { class: 'audit-entry', 'data-kind': e.kind, 'data-seq': e.seq },
            h(
              'details',
              {},
              h('summary', {}, h('span', { class: 'seq' }, `#${e.seq}`), ' ', h('strong', {}, e.kind.replaceAll('_', ' ')), ` · ${timeText(e.at_unix_ms)} · hash ${short(e.hash)}`),
              h(
                'dl',
                {},
                h('dt', {}, 'Hash'),
                h('dd', {}, h('code', {}, e.hash)),
                h('dt', {}, 'Previous hash'),
                h('dd', {}, h('code', {}, e.prev_hash)),
                h('dt', {}, 'Trace'),
                h('dd', {}, h('code', {}, e.trace_id || '—')),
              ),
              h('pre', { class: 'entry-body', tabindex: 0 }, JSON.stringify(e.body, null, 2)),
            ),
          ),
        ),
      ),
    );
  } catch (e) {
    if (e.name !== 'AbortError') main.replaceChildren(title, errorBox(e));
  }
}
