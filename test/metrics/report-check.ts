/**
 * Helpers for metrics tests: run `flux metrics --format json` (in-process or as a spawned
 * binary) on a directory with a test clock, validate the output against
 * schemas/metrics.schema.json, and compare quantiles within the sketch's stated 1% error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import type { MetricsReport } from '../../src/metrics/report.js';
import { ROOT, runFlux, runInProcess, type Captured } from '../helpers.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const validate = addFormats(new Ajv2020({ strict: true, allErrors: true })).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/metrics.schema.json'), 'utf8')) as object);

/** Fails the test with ajv's errors when `report` does not match the schema. */
export function expectValid(report: unknown): void {
  const ok = validate(report);
  expect(ok ? [] : validate.errors).toEqual([]);
}

/** Sets the test clock of `dir` and returns the environment that makes flux read it. */
export function clockEnv(dir: string, iso: string): Record<string, string> {
  const file = join(dir, 'clock');
  writeFileSync(file, iso);
  return { FLUX_TEST_CLOCK: file };
}

/** `flux metrics --format json …` on `dir`: the parsed, schema-checked report and the process. */
export async function metricsJson(dir: string, args: string[], env: Record<string, string>, spawned = false): Promise<{ report: MetricsReport; run: Captured }> {
  const argv = ['metrics', '--format', 'json', ...args];
  const run = spawned ? await runFlux(argv, { cwd: dir, env }) : await runInProcess(argv, dir, env);
  expect(run.code, run.stderr).toBeLessThan(2);
  const report = JSON.parse(run.stdout) as MetricsReport;
  expectValid(report);
  return { report, run };
}

/** Expects a sketch quantile within 1% of `expected` (or both null). */
export function near(actual: number | null | undefined, expected: number | null): void {
  if (expected === null) {
    expect(actual).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * 0.01 + 1e-9);
}

/** Expects p50/p90/p99 each within 1%. */
export function nearQ(q: { p50: number | null; p90: number | null; p99: number | null }, p50: number | null, p90: number | null, p99: number | null): void {
  near(q.p50, p50);
  near(q.p90, p90);
  near(q.p99, p99);
}
