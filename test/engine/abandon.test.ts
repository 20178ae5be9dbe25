// A run its caller gives up on (RunRequest.abandon: rescued from crashed daemons past the
// resume budget) is failed as any failure is, without running a workflow step: the owner is
// told through on_error.escalate (a real HTTP server receives it), on_error steps run, and the
// log reads run.resumed, escalation, run.finished. A give-up cut short by a crash calls nobody.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import type { Abandon, RunResult } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal, type RunRecord } from '../../src/store/run-log.js';
import { parseSource } from '../../src/workflow/source.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { HEAD, validateRecord } from './harness.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
  server.script('POST /step', { status: 200, body: {} });
  server.script('POST /alerts', { status: 200, body: {} });
});
afterEach(async () => {
  await server.close();
});

const REASON = 'abandoned after 4 crashed attempts: the daemon running it died each time (resume budget 3)';

async function abandoned(yaml: string, abandon: Abandon): Promise<{ result: RunResult; log: RunRecord[] }> {
  const parsed = parseSource('test.yaml', yaml);
  if (!parsed.ok) throw new Error('does not parse');
  const value = parsed.source.value;
  const http = await createHttp({ userAgent: 'flux-test' });
  const journal = new MemoryJournal();
  try {
    const result = await runWorkflow({
      workflow: { file: 'test.yaml', value, name: 't', owner: 'ops@example.com', version: 'sha256:test', baseline: null },
      event: { lead: 7 }, trigger: 'webhook', secrets: {}, environment: {}, connectors: { http }, clock: new SkippingClock(), journal,
      masker: new Masker(), runId: 'RUN1', attempt: 5, resume: true, history: new Map(), abandon,
    });
    for (const r of journal.records) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
    return { result, log: journal.records };
  } finally {
    await http.close?.();
  }
}

const step = () => `  - id: call\n    uses: http\n    with: { url: "${server.url}/step", method: POST }\n`;

describe('an abandoned run', () => {
  it('runs no step, tells the owner, runs its on_error steps, and ends escalated', async () => {
    const yaml = `${HEAD}steps:\n${step()}on_error:
  escalate: { uses: http, with: { url: "${server.url}/alerts", method: POST } }
  steps:
    - id: note
      set: { why: "\${{ error.message }}" }
`;
    const { result, log } = await abandoned(yaml, { reason: REASON, escalate: true });
    expect(result.status).toBe('escalated');
    expect(result.error).toEqual({ message: REASON });
    expect(result.escalation).toEqual({ via: 'http', delivered: true });
    expect(server.received.map((r) => r.path)).toEqual(['/alerts']);
    const alert = JSON.parse(server.received[0]!.body) as Record<string, unknown>;
    expect(alert).toMatchObject({ text: `flux: workflow t failed: ${REASON}`, run_id: 'RUN1', error: REASON, event: { lead: 7 } });
    expect(server.received[0]!.headers['idempotency-key']).toBe('RUN1:escalation');
    expect(log.map((r) => r.type)).toEqual(['run.resumed', 'escalation', 'step.started', 'step.finished', 'run.finished']);
    expect(log[0]).toMatchObject({ attempt: 5 });
    expect(log[3]).toMatchObject({ step: 'note', path: 'on_error/note', output: { why: REASON } });
    expect(log[4]).toMatchObject({ status: 'escalated', error: { message: REASON } });
  });

  it('ends failed, saying so, when the workflow has no escalation connection', async () => {
    const { result, log } = await abandoned(`${HEAD}steps:\n${step()}`, { reason: REASON, escalate: true });
    expect(result.status).toBe('failed');
    expect(result.escalation).toEqual({ via: 'none', delivered: false, delivery_error: 'the workflow has no on_error.escalate connection to reach its owner' });
    expect(server.received).toEqual([]);
    expect(log.map((r) => r.type)).toEqual(['run.resumed', 'escalation', 'run.finished']);
  });

  it('calls nobody when an earlier give-up was cut short by a crash, and ends failed', async () => {
    const yaml = `${HEAD}steps:\n${step()}on_error:
  escalate: { uses: http, with: { url: "${server.url}/alerts", method: POST } }
  steps:
    - id: cleanup
      uses: http
      with: { url: "${server.url}/step", method: POST }
`;
    const { result, log } = await abandoned(yaml, { reason: REASON, escalate: false });
    expect(result.status).toBe('failed');
    expect(result.escalation).toMatchObject({ via: 'http', delivered: false });
    expect(result.escalation?.delivery_error).toMatch(/cut short by a crash too/);
    expect(server.received).toEqual([]);
    expect(log.map((r) => r.type)).toEqual(['run.resumed', 'escalation', 'run.finished']);
    expect(log[2]).toMatchObject({ status: 'failed', error: { message: REASON } });
  });
});
