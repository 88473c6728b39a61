// Talks to cbutler serve. Every error becomes an ApiError whose message a person can act on.

const TOKEN_KEY = 'cbutler.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message, kind) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.kind = kind;
  }
}

const listeners = new Set();
/** Called with an ApiError whenever the server answers 401 (the page asks for a token). */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

export function unreachable(cause) {
  return new ApiError(
    0,
    `Cannot reach the Carbon Butler server at ${location.origin}: is cbutler serve running? (${cause})`,
    'unreachable',
  );
}

/** The readable error for a failed response. */
export async function errorOf(response) {
  let message = `HTTP ${response.status} ${response.statusText}`.trim();
  let kind;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    kind = body?.error?.type;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  const status = response.status;
  let text = message;
  if (status === 401) text = `This server needs a bearer token: ${message}. Enter yours with the Token button.`;
  else if (status === 403) text = `Your token's role cannot do this: ${message}.`;
  else if (status === 429) {
    const after = response.headers.get('Retry-After');
    text = `The server is busy: ${message}.${after ? ` Try again in ${after} s.` : ''}`;
  } else if (status === 503) text = `The server cannot serve this now: ${message}.`;
  else if (status >= 500) text = `The server failed: ${message}.`;
  const error = new ApiError(status, text, kind);
  if (status === 401) listeners.forEach((fn) => fn(error));
  return error;
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  return headers;
}

/** A JSON (or text) request; resolves to the body, rejects with an ApiError. */
export async function api(path, { method = 'GET', body, signal, text = false } = {}) {
  const headers = authHeaders({ Accept: text ? 'text/plain, */*' : 'application/json' });
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw unreachable(e.message);
  }
  if (!response.ok) throw await errorOf(response);
  return text ? response.text() : response.json();
}

export const runPath = (id) => `/v1/runs/${encodeURIComponent(id)}`;
