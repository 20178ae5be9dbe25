// The engine's side of events, in-process: an emit step's events reach the journal callback
// with the step's own entry (and not when the step is replayed), and a durable wait_for takes,
// from the events delivered to it, the first its match accepts against the run's own context,
// passing over one it cannot even evaluate.
import { describe, expect, it } from 'vitest';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import type { DeliveredEvent, EmittedEvent, JournaledStep, RunResult } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal } from '../../src/store/run-log.js';
import { parseSource } from '../../src/workflow/source.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

/** One durable attempt of run RUN1; completed steps and their emits go to `journal`. */
async function attempt(yaml: string, journal: { step: JournaledStep; emits: readonly EmittedEvent[] }[], options: { deliver?: DeliveredEvent[]; secrets?: Record<string, string> } = {}): Promise<RunResult> {
  const parsed = parseSource('test.yaml', yaml);
  if (!parsed.ok) throw new Error('does not parse');
  const value = parsed.source.value;
  const history = new Map(journal.map((j) => [j.step.key, j.step]));
  return runWorkflow({
    workflow: { file: 'test.yaml', value, name: String(value.name), owner: String(value.owner), version: 'sha256:test', baseline: null },
    event: { booking: 'B-7' }, trigger: 'event', secrets: options.secrets ?? {}, environment: {}, connectors: {}, clock: new SkippingClock(() => T0),
    journal: new MemoryJournal(), masker: new Masker(), runId: 'RUN1', attempt: 1, resume: journal.length > 0, history, durableWaits: true,
    onStepCompleted: (step, emits) => void journal.push({ step, emits }), ...(options.deliver ? { deliver: options.deliver } : {}),
  });
}

describe('events in the engine', () => {
  it('hands an emit step its events with its journal entry, masked, and a replay hands none', async () => {
    const yaml = `name: t
owner: ops@example.com
trigger: manual
secrets: [TOKEN]
steps:
  - id: announce
    emit: { event: lead.qualified, data: { lead: 7, token: "\${{ secrets.TOKEN }}" } }
  - id: pause
    wait: 1h
`;
    const journal: { step: JournaledStep; emits: readonly EmittedEvent[] }[] = [];
    const first = await attempt(yaml, journal, { secrets: { TOKEN: 'tok-secret-123' } });
    expect(first.status).toBe('waiting');
    const announce = journal.filter((j) => j.step.key === 'announce');
    expect(announce.map((j) => j.emits)).toEqual([[{ event: 'lead.qualified', data: { lead: 7, token: '***' } }]]);
    expect(journal.filter((j) => j.step.key !== 'announce').every((j) => j.emits.length === 0)).toBe(true);
    const before = journal.length;
    await attempt(yaml, journal, { secrets: { TOKEN: 'tok-secret-123' } });
    expect(journal.slice(before).some((j) => j.emits.length > 0)).toBe(false);
  });

  it('a wait_for takes the first delivered event its match accepts, in order, and skips one its match cannot read', async () => {
    const yaml = `name: t
owner: ops@example.com
trigger: manual
steps:
  - id: book
    set: { id: "\${{ event.booking }}" }
  - id: confirmation
    wait_for: { event: booking.confirmed, match: "\${{ item.booking_id == steps.book.output.id }}", timeout: 2d }
`;
    const journal: { step: JournaledStep; emits: readonly EmittedEvent[] }[] = [];
    expect((await attempt(yaml, journal)).status).toBe('waiting');
    const none = await attempt(yaml, journal, { deliver: [{ event: 'booking.confirmed', payload: { booking_id: 'B-8' }, step: 'confirmation' }, { event: 'booking.confirmed', payload: {}, step: 'confirmation' }] });
    expect(none.status).toBe('waiting');
    const elsewhere = await attempt(yaml, journal, { deliver: [{ event: 'booking.confirmed', payload: { booking_id: 'B-7' }, step: 'another' }] });
    expect(elsewhere.status).toBe('waiting');
    const done = await attempt(yaml, journal, {
      deliver: [
        { event: 'booking.confirmed', payload: { booking_id: 'B-8', n: 1 }, step: 'confirmation' }, { event: 'booking.confirmed', payload: { no_id: true }, step: 'confirmation' },
        { event: 'booking.confirmed', payload: { booking_id: 'B-7', n: 3 }, step: 'confirmation' }, { event: 'booking.confirmed', payload: { booking_id: 'B-7', n: 4 }, step: 'confirmation' },
      ],
    });
    expect(done.status).toBe('succeeded');
    expect(journal.find((j) => j.step.key === 'confirmation' && j.step.status === 'succeeded')?.step.output).toEqual({ timed_out: false, event: { booking_id: 'B-7', n: 3 } });
  });
});
