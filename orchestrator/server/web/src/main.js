// The page: a hash router over the views, the token dialog, and the banner that says when the
// server or an agent kind is down.

import './style.css';
import { ApiError, api, onUnauthorized, setToken, token } from './api.js';
import { localisePage } from './i18n.js';
import { askView } from './views/ask.js';
import { auditView } from './views/audit.js';
import { runView } from './views/run.js';
import { runsView } from './views/runs.js';

const main = document.getElementById('main');
const banner = document.getElementById('banner');
const statusLine = document.getElementById('service-status');
const dialog = document.getElementById('token-dialog');
const tokenInput = document.getElementById('token-input');
const tokenReason = document.getElementById('token-reason');

localisePage();

let controller = new AbortController();

function route() {
  controller.abort();
  controller = new AbortController();
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll('[data-nav]').forEach((a) => a.removeAttribute('aria-current'));
  const nav = (name) => document.querySelector(`[data-nav="${name}"]`)?.setAttribute('aria-current', 'page');
  if (parts[0] === 'runs' && parts[1] && parts[2] === 'audit') {
    nav('runs');
    document.title = `Decision log · Carbon Butler`;
    auditView(main, controller.signal, parts[1]);
  } else if (parts[0] === 'runs' && parts[1]) {
    nav('runs');
    document.title = `Run · Carbon Butler`;
    runView(main, controller.signal, parts[1]);
  } else if (parts[0] === 'runs') {
    nav('runs');
    document.title = 'Runs · Carbon Butler';
    runsView(main, controller.signal);
  } else {
    nav('ask');
    document.title = 'Carbon Butler';
    askView(main, controller.signal, { run: params.get('run') || undefined });
  }
}

function showBanner(text) {
  if (text) {
    banner.textContent = text;
    banner.hidden = false;
  } else {
    banner.hidden = true;
    banner.textContent = '';
  }
}

let authChecked = false;

async function refreshStatus() {
  try {
    const status = await api('/v1/status');
    if (status.auth_required && !token() && !authChecked) {
      authChecked = true;
      askToken('This server asks for a bearer token (from your operator). It is kept for this browser tab only.');
    }
    const down = status.agents.filter((a) => !a.available).map((a) => a.agent);
    statusLine.textContent = status.mode === 'cluster' ? `Cluster: ${status.agents.filter((a) => a.available).length} of ${status.agents.length} agent kinds up` : 'Server up (agents in process)';
    statusLine.dataset.state = down.length ? 'degraded' : 'ok';
    showBanner(
      down.length
        ? `No worker serves the ${down.join(', ')} agent${down.length > 1 ? 's' : ''} now: questions that need ${down.length > 1 ? 'them' : 'it'} wait in the queue until one starts.`
        : '',
    );
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      statusLine.textContent = 'Token needed';
      statusLine.dataset.state = 'degraded';
      return;
    }
    statusLine.textContent = e.status === 503 ? 'Run store unavailable' : 'Server unreachable';
    statusLine.dataset.state = 'down';
    showBanner(e.message);
  }
}

function askToken(reason) {
  if (dialog.open) return;
  tokenReason.textContent = reason || 'This server asks for a bearer token. It is kept for this browser tab only.';
  tokenInput.value = '';
  dialog.showModal();
  tokenInput.focus();
}

dialog.addEventListener('close', () => {
  if (dialog.returnValue === 'save' && tokenInput.value.trim()) setToken(tokenInput.value.trim());
  else if (dialog.returnValue === 'clear') setToken(null);
  else return;
  refreshStatus();
  route();
});

document.getElementById('token-button').addEventListener('click', () =>
  askToken(token() ? 'Replace the token this tab uses (for example with an auditor’s).' : undefined),
);
onUnauthorized((error) => askToken(error.message));
window.addEventListener('hashchange', route);

// Status first: with a token required and none given, the page asks before calling anything else.
refreshStatus().then(route);
setInterval(refreshStatus, 10_000);
