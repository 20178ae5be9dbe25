// Cancellation reaches a run whatever it is doing, here a long loop of synchronous steps: the
// engine gives the event loop a turn now and then, so a signal handler (a macrotask) runs.
import { describe, expect, it } from 'vitest';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import type { RunResult } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal } from '../../src/store/run-log.js';
import { parseSource } from '../../src/workflow/source.js';
import { HEAD } from './harness.js';

function start(yaml: string, event: unknown, hooks: { signal: AbortSignal; onProgress?: () => void; onRecord?: (r: { type: string; step?: string }) => void }): { done: Promise<RunResult>; journal: MemoryJournal } {
  const parsed = parseSource('test.yaml', yaml);
  if (!parsed.ok) throw new Error(`does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  const value = parsed.source.value;
  const journal = new MemoryJournal();
  const done = runWorkflow({
    workflow: { file: 'test.yaml', value, name: String(value.name), owner: String(value.owner), version: 'sha256:test', baseline: null },
    event, trigger: 'manual', secrets: {}, environment: {}, connectors: {}, clock: new SkippingClock(), journal, masker: new Masker(), runId: 'RUN1',
    signal: hooks.signal, ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}), ...(hooks.onRecord ? { onRecord: hooks.onRecord } : {}),
  });
  return { done, journal };
}

describe('cancellation', () => {
  it('a cancel from a macrotask stops a long loop of synchronous steps', async () => {
    const items = Array.from({ length: 50_000 }, (_, i) => i);
    const controller = new AbortController();
    let scheduled = false;
    const { done, journal } = start(`${HEAD}steps:
  - id: loop
    foreach:
      items: \${{ event.items }}
      steps:
        - id: double
          set: { n: "\${{ item * 2 }}" }
`, { items }, {
      signal: controller.signal,
      // Like a SIGINT handler, the abort runs as a macrotask: before the engine yielded, it
      // could only run once all 50,000 items were done and the run had succeeded.
      onProgress: () => {
        if (!scheduled) setImmediate(() => controller.abort(new Error('interrupted')));
        scheduled = true;
      },
    });
    const result = await done;
    expect(result.status).toBe('cancelled');
    const finished = journal.records.filter((r) => r.type === 'run.finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ status: 'cancelled', error: { message: 'the run was cancelled' } });
    const doubled = journal.records.filter((r) => r.type === 'step.finished' && r.step === 'double').length;
    expect(doubled).toBeLessThan(items.length);
  });

  it('a cancel during the last step is not lost', async () => {
    const controller = new AbortController();
    const { done, journal } = start(`${HEAD}steps:
  - id: first
    set: { n: 1 }
  - id: last
    set: { n: 2 }
`, {}, {
      signal: controller.signal,
      onRecord: (r) => {
        if (r.type === 'step.started' && r.step === 'last') controller.abort(new Error('interrupted'));
      },
    });
    // The abort lands while the last step runs, and that step still finishes; the run must not
    // then record success.
    expect((await done).status).toBe('cancelled');
    expect(journal.records.filter((r) => r.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'cancelled' })]);
  });
});
