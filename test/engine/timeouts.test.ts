// Which bound the engine hands a connector for each attempt: the step's `timeout`, else its
// connection's, else flux's default (5 minutes for a step, 30 seconds for an escalation). No
// call is ever made without one, so no call can wait forever.
import { describe, expect, it } from 'vitest';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, type CallContext, type CallOutcome, type OperationCall } from '../../src/connectors/runtime.js';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal } from '../../src/store/run-log.js';
import { parseSource } from '../../src/workflow/source.js';

/** Runs a workflow against a connector that records each call's bound and answers `answer`. */
async function bounds(yaml: string, answer: (call: OperationCall) => CallOutcome): Promise<Map<string, number | undefined>> {
  const parsed = parseSource('t.yaml', yaml);
  if (!parsed.ok) throw new Error(`does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  const value = parsed.source.value;
  const seen = new Map<string, number | undefined>();
  const http = {
    async call(call: OperationCall, ctx: CallContext): Promise<CallOutcome> {
      seen.set(String(call.params.path ?? call.params.url), ctx.timeoutMs);
      return answer(call);
    },
  };
  await runWorkflow({
    workflow: { file: 't.yaml', value, name: String(value.name), owner: String(value.owner), version: 'sha256:test', baseline: null },
    event: {}, trigger: 'manual', secrets: {}, environment: {}, connectors: { http },
    clock: new SkippingClock(() => 0), journal: new MemoryJournal(), masker: new Masker(), runId: 'RUN1',
  });
  return seen;
}

const ok = (): CallOutcome => ({ ok: true, output: {} });
const HEAD = 'name: t\nowner: ops@example.com\ntrigger: manual\n';

describe('the bound on each attempt', () => {
  it('is the step timeout, else the connection timeout, else the default', async () => {
    const seen = await bounds(`${HEAD}connections:
  slow: { base_url: "http://slow.test", timeout: 3s }
  plain: { base_url: "http://plain.test" }
steps:
  - { id: a, uses: http, with: { url: "http://a.test" } }
  - { id: b, uses: http, timeout: 2s, with: { url: "http://b.test" } }
  - { id: c, uses: slow.request, with: { path: /c } }
  - { id: d, uses: slow.request, timeout: 1s, with: { path: /d } }
  - { id: e, uses: plain.request, with: { path: /e } }
`, ok);
    expect(DEFAULT_ATTEMPT_TIMEOUT_MS).toBe(300_000);
    expect(Object.fromEntries(seen)).toEqual({ 'http://a.test': 300_000, 'http://b.test': 2000, '/c': 3000, '/d': 1000, '/e': 300_000 });
  });

  it('an escalation is bounded by its connection timeout, else 30 seconds', async () => {
    const failing = (call: OperationCall): CallOutcome => (call.params.url ? { ok: false, output: null, error: { message: 'HTTP 500', retryable: false } } : ok());
    const workflow = (timeout: string) => `${HEAD}connections:
  chat: { base_url: "http://chat.test"${timeout} }
steps:
  - { id: a, uses: http, with: { url: "http://a.test" } }
on_error:
  escalate: { uses: chat.request, with: { method: POST, path: /hook } }
`;
    expect((await bounds(workflow(''), failing)).get('/hook')).toBe(30_000);
    expect((await bounds(workflow(', timeout: 1s'), failing)).get('/hook')).toBe(1000);
  });
});
