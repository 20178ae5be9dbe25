// Runs a workflow in-process against real connectors, with a skipping clock and an in-memory
// journal, so engine tests need no sleeps and can read every record.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createHttp } from '../../src/connectors/http.js';
import { createVendorRuntimes } from '../../src/connectors/vendor-runtime.js';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import type { EventSource, RunResult } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal } from '../../src/store/run-log.js';
import { parseSource } from '../../src/workflow/source.js';
import { lintSources } from '../../src/lint/linter.js';

export interface Harnessed {
  readonly result: RunResult;
  readonly journal: MemoryJournal;
  readonly clock: SkippingClock;
}

const runLogSchema = JSON.parse(readFileSync(new URL('../../schemas/run-log.schema.json', import.meta.url), 'utf8')) as object;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
export const validateRecord = addFormats(new Ajv2020({ strict: true, allErrors: true })).compile(runLogSchema);

/** Parses, lints (failing the test on lint errors), runs, and checks every record against the run-log schema. */
export async function run(yaml: string, options: { event?: unknown; secrets?: Record<string, string>; environment?: Record<string, string>; random?: () => number; events?: EventSource; dryRun?: boolean; receivedAt?: number } = {}): Promise<Harnessed> {
  const parsed = parseSource('test.yaml', yaml);
  if (!parsed.ok) throw new Error(`does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  const lint = lintSources([parsed.source]).diagnostics.filter((d) => d.severity === 'error' && d.ruleId !== 'unconsumed-event');
  if (lint.length > 0) throw new Error(`lint errors: ${lint.map((d) => `${d.line}:${d.column} ${d.message} [${d.ruleId}]`).join('; ')}`);
  const value = parsed.source.value;
  const clock = new SkippingClock(() => Date.UTC(2026, 10, 24, 9, 0, 0));
  const masker = new Masker();
  const journal = new MemoryJournal();
  const http = await createHttp({ userAgent: 'flux-test' });
  try {
    const result = await runWorkflow({
      workflow: { file: 'test.yaml', value, name: String(value.name), owner: String(value.owner), version: 'sha256:test', baseline: null },
      event: options.event ?? {}, trigger: 'manual', secrets: options.secrets ?? {}, environment: options.environment ?? {},
      connectors: { http, ...createVendorRuntimes(http) }, clock, journal, masker, runId: 'RUN1', random: options.random ?? (() => 0.5),
      ...(options.events ? { events: options.events } : {}), ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.receivedAt !== undefined ? { receivedAt: options.receivedAt } : {}),
    });
    const finishedSteps = new Set<string>();
    for (const record of journal.records) {
      if (!validateRecord(record)) throw new Error(`record does not match run-log.schema.json: ${JSON.stringify(record)} ${JSON.stringify(validateRecord.errors)}`);
      if (record.type === 'step.finished') {
        const key = `${record.path}#${JSON.stringify(record.index ?? [])}`;
        if (finishedSteps.has(key)) throw new Error(`step ${key} finished twice`);
        finishedSteps.add(key);
      }
    }
    const ends = journal.records.filter((r) => r.type === 'run.finished').length;
    if (ends !== 1) throw new Error(`expected exactly one run.finished record, got ${ends}`);
    return { result, journal, clock };
  } finally {
    await http.close?.();
  }
}

/** The `step.finished` record of a step (the first, or the one at `index`). */
export function finished(journal: MemoryJournal, step: string, index?: number[]) {
  return journal.records.find((r) => r.type === 'step.finished' && r.step === step && (index === undefined || JSON.stringify(r.index) === JSON.stringify(index))) as
    (Extract<MemoryJournal['records'][number], { type: 'step.finished' }>) | undefined;
}

export const HEAD = 'name: t\nowner: ops@example.com\ntrigger: manual\n';
