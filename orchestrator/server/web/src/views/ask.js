// Ask a question and follow its run: the plan as it is made, each task as it starts and
// finishes, then the answer.

import { api, runPath } from '../api.js';
import { followRun } from '../events.js';
import { EXAMPLES } from '../examples.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorBox, renderAnswer } from './answer.js';

const AGENT_NAMES = {
  trade: 'trade (MRIO)',
  lca: 'life-cycle assessment',
  sinks: 'natural sinks',
  factory: 'factory',
  uncertainty: 'uncertainty',
};

function examples(onPick) {
  return h(
    'section',
    { class: 'examples', 'aria-labelledby': 'examples-title' },
    h('h2', { id: 'examples-title' }, t('examples')),
    EXAMPLES.map((group) =>
      h(
        'div',
        { class: 'example-group' },
        h('h3', {}, `${group.title}`, h('span', { class: 'agent-tag' }, AGENT_NAMES[group.agent])),
        group.needsMrio ? h('p', { class: 'muted' }, 'Needs an MRIO path on the server (below the question).') : null,
        h(
          'ul',
          {},
          group.questions.map((q) =>
            h('li', {}, h('button', { type: 'button', class: 'example', 'data-example': group.agent, onclick: () => onPick(q, group) }, q)),
          ),
        ),
      ),
    ),
  );
}

function planTable(planned) {
  return h(
    'table',
    { class: 'plan-table' },
    h('caption', {}, `Plan (${planned.planner}): ${planned.intent}`),
    h('thead', {}, h('tr', {}, [t('plan.task'), t('plan.agent'), t('plan.depends'), t('plan.status')].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      planned.tasks.map((task) =>
        h(
          'tr',
          { 'data-task': task.id },
          h('th', { scope: 'row' }, task.id),
          h('td', {}, AGENT_NAMES[task.agent] || task.agent),
          h('td', {}, task.depends_on.length ? task.depends_on.join(', ') : '—'),
          h('td', { class: 'task-status', 'data-status': 'waiting' }, 'waiting'),
        ),
      ),
    ),
  );
}

/** The progress panel of one run: a timeline of its events and the plan with task states. */
function progressPanel() {
  const timeline = h('ol', { class: 'timeline' });
  const planHolder = h('div', { class: 'plan-holder' });
  const connection = h('p', { class: 'muted connection' });
  const panel = h(
    'section',
    { class: 'progress', 'aria-labelledby': 'progress-title' },
    h('h2', { id: 'progress-title' }, t('progress')),
    connection,
    planHolder,
    h('h3', {}, t('happened')),
    h('div', { 'aria-live': 'polite', 'aria-relevant': 'additions' }, timeline),
  );
  const add = (text, cls) => timeline.append(h('li', { class: cls }, text));
  const taskCell = (id) => planHolder.querySelector(`tr[data-task="${CSS.escape(id)}"] .task-status`);
  const onEvent = (e) => {
    switch (e.type) {
      case 'accepted':
        add('Question accepted.', 'accepted');
        break;
      case 'plan_rejected':
        add(`A plan by ${e.planner} was rejected: ${e.error}`, 'rejected');
        break;
      case 'planned':
        add(`Planned by ${e.planner}: ${e.tasks.length} task${e.tasks.length === 1 ? '' : 's'}.`, 'planned');
        planHolder.replaceChildren(planTable(e));
        break;
      case 'task_started': {
        add(`Task ${e.task} sent to the ${AGENT_NAMES[e.agent] || e.agent} agent.`, 'started');
        const cell = taskCell(e.task);
        if (cell) {
          cell.textContent = 'running';
          cell.dataset.status = 'running';
        }
        break;
      }
      case 'task_finished': {
        const who = e.worker ? ` by ${e.worker}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}` : '';
        add(`Task ${e.task} ${e.status}${who}${e.error ? `: ${e.error}` : '.'}`, e.status === 'completed' ? 'finished' : 'failed');
        const cell = taskCell(e.task);
        if (cell) {
          cell.textContent = e.status;
          cell.dataset.status = e.status;
        }
        break;
      }
      case 'answer':
        add('Answered.', 'answered');
        break;
      case 'failed':
        add(`The run failed: ${e.error}`, 'failed');
        break;
      case 'store_error':
        add(`The server cannot read the run's progress now: ${e.error}`, 'failed');
        break;
      default:
        break;
    }
  };
  const onConnection = (state) => {
    connection.textContent = state === 'reconnecting' ? 'Connection lost; reconnecting…' : '';
  };
  return { panel, onEvent, onConnection };
}

/** Follows a run to its end and shows the answer. */
export async function followAndAnswer(runId, progress, answerHolder, signal) {
  try {
    await followRun(runId, progress.onEvent, { signal, onConnection: progress.onConnection });
    if (signal.aborted) return;
    const run = await api(runPath(runId), { signal });
    answerHolder.replaceChildren(renderAnswer(run));
  } catch (e) {
    if (e.name !== 'AbortError') answerHolder.replaceChildren(errorBox(e));
  }
}

export function askView(main, signal, initial = {}) {
  const question = h('textarea', { id: 'question', name: 'question', rows: 3, required: true, maxlength: 2000, 'aria-describedby': 'question-help' });
  question.value = initial.question || '';
  const mrio = h('input', { id: 'mrio', name: 'mrio', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: '/data/IOT_2022_ixi.zip' });
  const lci = h('input', { id: 'lci', name: 'lci', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'the bundled USLCI' });
  const submit = h('button', { type: 'submit', id: 'ask-button' }, t('ask.button'));
  const formError = h('div', { class: 'form-error', 'aria-live': 'assertive' });
  const work = h('div', { class: 'work' });
  const dataFields = h(
    'details',
    { class: 'data-fields' },
    h('summary', {}, t('ask.data')),
    h('label', { for: 'mrio' }, 'MRIO (a pymrio save, an EXIOBASE 3 zip or a WIOD-style folder, as a path on the server)'),
    mrio,
    h('label', { for: 'lci' }, 'Life-cycle inventory database (path on the server)'),
    lci,
  );
  let current = null;
  const form = h(
    'form',
    {
      class: 'ask-form',
      'aria-labelledby': 'ask-title',
      onsubmit: async (ev) => {
        ev.preventDefault();
        formError.replaceChildren();
        const text = question.value.trim();
        if (!text) {
          formError.replaceChildren(errorBox('Write a question first, or pick an example.'));
          question.focus();
          return;
        }
        current?.abort();
        current = new AbortController();
        submit.disabled = true;
        const body = { question: text };
        if (mrio.value.trim()) body.mrio = mrio.value.trim();
        if (lci.value.trim()) body.lci = lci.value.trim();
        try {
          const accepted = await api('/v1/questions', { method: 'POST', body, signal: current.signal });
          const progress = progressPanel();
          const answerHolder = h('div', { class: 'answer-holder' });
          work.replaceChildren(progress.panel, answerHolder);
          history.replaceState(null, '', `#/?run=${encodeURIComponent(accepted.run_id)}`);
          await followAndAnswer(accepted.run_id, progress, answerHolder, current.signal);
        } catch (e) {
          if (e.name !== 'AbortError') formError.replaceChildren(errorBox(e));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', { id: 'ask-title' }, t('ask.title')),
    h('label', { for: 'question' }, t('ask.question')),
    question,
    h('p', { id: 'question-help', class: 'muted' }, t('ask.help')),
    dataFields,
    h('div', { class: 'form-actions' }, submit),
    formError,
  );
  // Leaving the view stops the run being followed.
  signal.addEventListener('abort', () => current?.abort(), { once: true });
  const pick = (q, group) => {
    question.value = q;
    if (group.needsMrio) dataFields.open = true;
    question.focus();
  };
  main.replaceChildren(h('div', { class: 'ask-layout' }, h('div', { class: 'ask-column' }, form, examples(pick)), work));
  if (initial.run) {
    const progress = progressPanel();
    const answerHolder = h('div', { class: 'answer-holder' });
    work.replaceChildren(progress.panel, answerHolder);
    followAndAnswer(initial.run, progress, answerHolder, signal);
  }
}
