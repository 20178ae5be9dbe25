// Property-based fuzzing of the linter on text: whatever the bytes, linting never throws,
// every diagnostic has a valid 1-based position inside the file, the terminal and GitHub
// outputs hold no raw control character, and each input is done within a bound. Three sources of input: structures serialized by the `yaml` package (workflow-shaped
// and arbitrary), raw strings, and mutations of the real example workflows. fast-check prints
// the seed and the shrunk counterexample when a property fails; replay with { seed, path }.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Diagnostic } from '../../src/lint/diagnostic.js';
import { formatGithub } from '../../src/lint/format/machine.js';
import { formatStylish } from '../../src/lint/format/stylish.js';
import { lintSources } from '../../src/lint/linter.js';
import { parseSource } from '../../src/workflow/source.js';
import { ROOT } from '../helpers.js';

/** Longest any one input may take; real workflows lint in a few milliseconds. */
const BOUND_MS = 1000;

// What a terminal would obey: every control but newline and tab, and the bidi overrides.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** What `flux lint` does with one file's text, in process: load, lint, format for a terminal and for GitHub. */
function lintText(text: string | Uint8Array): readonly Diagnostic[] {
  const loaded = parseSource('f.yaml', text);
  const diagnostics = loaded.ok ? lintSources([loaded.source]).diagnostics : loaded.diagnostics;
  const shown = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  for (const out of [formatStylish(diagnostics, new Map([['f.yaml', shown]])), formatGithub(diagnostics)]) {
    const raw = RAW_CONTROL.exec(out);
    expect(raw, `a raw control character U+${raw?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in:\n${out}`).toBeNull();
  }
  return diagnostics;
}

/** Lints and checks every property; throws (failing the run) on the first broken one. */
function check(text: string | Uint8Array): void {
  const started = performance.now();
  const diagnostics = lintText(text);
  const ms = performance.now() - started;
  expect(ms, `took ${ms.toFixed(0)} ms`).toBeLessThan(BOUND_MS);
  const shown = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  const lines = shown.split('\n');
  for (const d of diagnostics) {
    const where = JSON.stringify(d);
    expect(d.file, where).toBe('f.yaml');
    expect(typeof d.message === 'string' && d.message.length > 0, where).toBe(true);
    expect(d.ruleId, where).toMatch(/^[a-z][a-z-]*$/);
    expect(['error', 'warning'], where).toContain(d.severity);
    expect(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines.length, `line out of the file: ${where}`).toBe(true);
    expect(Number.isInteger(d.column) && d.column >= 1 && d.column <= (lines[d.line - 1]?.length ?? 0) + 1, `column out of its line: ${where}`).toBe(true);
    if (d.endLine !== undefined) {
      expect(Number.isInteger(d.endLine) && d.endLine >= d.line && d.endLine <= lines.length + 1, `endLine: ${where}`).toBe(true);
    }
    if (d.endColumn !== undefined) {
      expect(Number.isInteger(d.endColumn) && d.endColumn >= 1, `endColumn: ${where}`).toBe(true);
      if (d.endLine === d.line) expect(d.endColumn, `span ends before it starts: ${where}`).toBeGreaterThanOrEqual(d.column);
    }
  }
}

// Workflow keys and values that reach deep into the rules, mixed with arbitrary ones.
const KEYS = ['name', 'owner', 'trigger', 'steps', 'id', 'uses', 'with', 'set', 'if', 'foreach', 'items', 'parallel', 'branches',
  'switch', 'cases', 'default', 'wait', 'wait_for', 'event', 'timeout', 'on_timeout', 'on_error', 'escalate', 'emit', 'fail',
  'retry', 'schedule', 'cron', 'timezone', 'webhook', 'path', 'poll', 'every', 'inputs', 'secrets', 'env', 'connections',
  'base_url', 'type', 'properties', 'required', '$ref', 'data', 'match', 'manual'];
const SCALARS = ['manual', 'escalate', 'continue', 'http', 'crm.request', '*/0 * * * *', '5-1 * * * *', '@reboot', '1h30m', '90',
  '${{ steps.a.output.x }}', '${{ event.email + 1 }}', '${{ secrets.X }}', '${{', '}}', '${{ item }}', '${{ error.message }}',
  'ops@example.com', 'Europe/Berlin', '\u001b[2J', '\u202e', '', ' ', '\t', 'a: b', '- x', '&a', '*a', '!!binary', '#'];

const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const scalar = fc.oneof(
  fc.constantFrom(...SCALARS),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
  ),
}));
/** A workflow-shaped document: the top-level keys are mostly the real ones. */
const workflowish = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 8 });

const EXAMPLES = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).sort()
  .map((f) => readFileSync(join(ROOT, 'workflows', f), 'utf8'));

type Mutation = (text: string) => string;

/** A mutation that fast-check prints by what it does, so a counterexample can be read and replayed by hand. */
function named(description: string, apply: Mutation): Mutation {
  return Object.assign(apply, { [fc.toStringMethod]: () => description });
}

const at = (t: string, n: number) => n % (t.length + 1);
const lineAt = (lines: readonly string[], n: number) => n % lines.length;

/** Small edits of the kind a hand (or a bad merge) makes: cut, insert, swap, duplicate, re-indent. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat({ max: 40 })).map(([p, n]) => named(`cut(${p}, ${n})`, (t) => t.slice(0, at(t, p)) + t.slice(at(t, p) + n))),
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...SCALARS, ':', '\n', '  ', '- ', '"', "'", '{', '[', '}', ']'), fc.string({ maxLength: 6 })))
    .map(([p, s]) => named(`insert(${p}, ${JSON.stringify(s)})`, (t) => t.slice(0, at(t, p)) + s + t.slice(at(t, p)))),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => named(`swapLines(${a}, ${b})`, (t) => {
    const lines = t.split('\n');
    const i = lineAt(lines, a);
    const j = lineAt(lines, b);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return lines.join('\n');
  })),
  fc.nat().map((a) => named(`duplicateLine(${a})`, (t) => {
    const lines = t.split('\n');
    const i = lineAt(lines, a);
    lines.splice(i, 0, lines[i]!);
    return lines.join('\n');
  })),
  fc.tuple(fc.nat(), fc.constantFrom('', ' ', '   ', '\t')).map(([a, indent]) => named(`reindent(${a}, ${JSON.stringify(indent)})`, (t) => {
    const lines = t.split('\n');
    const i = lineAt(lines, a);
    lines[i] = indent + lines[i]!.trimStart();
    return lines.join('\n');
  })),
);

// Tuned to a few seconds of CI time in all; FLUX_FUZZ_RUNS=5000 fuzzes harder locally.
const RUNS = Number(process.env.FLUX_FUZZ_RUNS ?? 100);
const PARAMS = { numRuns: RUNS, endOnFailure: true } as const;

describe('lint never throws and reports valid positions', () => {
  it('lints for real: the examples have no errors and a broken file has some', () => {
    // Guards the harness: if lintText stopped linting, the properties below would pass vacuously.
    // (Run first, it also loads the lazy parts, so the time bound measures linting alone.)
    // Alone, an example may warn about an event another example consumes: errors only.
    for (const text of EXAMPLES) expect(lintText(text).filter((d) => d.severity === 'error')).toEqual([]);
    expect(lintText('name: x\n').filter((d) => d.severity === 'error').length).toBeGreaterThan(0);
  });
  it('on workflow-shaped structures serialized by yaml', () => {
    fc.assert(fc.property(workflowish, (doc) => check(stringify(doc))), PARAMS);
  });
  it('on arbitrary structures serialized by yaml, in flow and block style', () => {
    fc.assert(fc.property(tree, fc.boolean(), (doc, flow) => check(stringify(doc, { collectionStyle: flow ? 'flow' : 'block' }))), PARAMS);
  });
  it('on raw strings, YAML-ish and not', () => {
    const yamlish = fc.array(fc.oneof(fc.constantFrom(...KEYS, ...SCALARS, ': ', '\n', '\n  ', '- ', '[', ']', '{', '}', ',', '"', "'", '|', '>', '---', '\r\n', '\r')), { maxLength: 60 })
      .map((parts) => parts.join(''));
    fc.assert(fc.property(fc.oneof(yamlish, fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), check), PARAMS);
  });
  it('on raw bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { ...PARAMS, numRuns: 100 });
  });
  it('on mutations of the example workflows', () => {
    fc.assert(fc.property(fc.constantFrom(...EXAMPLES), fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, edits) => {
      check(edits.reduce((t, edit) => edit(t), text));
    }), { ...PARAMS, numRuns: Math.ceil(RUNS * 0.6) });
  });
});
