// Follows a run's server-sent events over fetch (EventSource cannot send a bearer token),
// parsed by eventsource-parser; reconnects with Last-Event-ID when the connection drops.

import { createParser } from 'eventsource-parser';
import { authHeaders, errorOf, runPath, unreachable } from './api.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls onEvent(runEvent) for each event until the run's answer or failure, or until signal
 * aborts. onConnection(state) hears 'connected' and 'reconnecting'.
 */
export async function followRun(runId, onEvent, { signal, onConnection = () => {} } = {}) {
  let lastId = null;
  let failures = 0;
  while (!signal?.aborted) {
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (lastId) headers['Last-Event-ID'] = lastId;
    let response;
    try {
      response = await fetch(`${runPath(runId)}/events`, { headers, signal });
    } catch (e) {
      if (signal?.aborted) return;
      failures += 1;
      if (failures > 5) throw unreachable(e.message);
      onConnection('reconnecting');
      await sleep(500 * failures);
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    failures = 0;
    onConnection('connected');
    let finished = false;
    const parser = createParser({
      onEvent(message) {
        if (message.id) lastId = message.id;
        if (message.event === 'error') {
          onEvent({ type: 'store_error', error: message.data });
          return;
        }
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        onEvent(data);
        if (data.type === 'answer' || data.type === 'failed') finished = true;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
        if (finished) {
          await reader.cancel();
          return;
        }
      }
    } catch {
      if (signal?.aborted) return;
    }
    if (finished) return;
    onConnection('reconnecting');
    await sleep(300);
  }
}
