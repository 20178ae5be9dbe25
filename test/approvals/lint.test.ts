// Rule tables for approval steps (eslint-style): valid snippets report nothing from the rule,
// invalid ones report at the expected positions. Positions and rule ids, not wordings. Every
// example here also passes the schema, so the rules are what is tested.
import { describe, expect, it } from 'vitest';
import { lintSources } from '../../src/lint/linter.js';
import { parseSource } from '../../src/workflow/source.js';
import { approvalTables, head } from './lint-tables.js';

function lint(text: string) {
  const r = parseSource('f.yaml', text);
  if (!r.ok) throw new Error(`fixture does not parse: ${JSON.stringify(r.diagnostics)}`);
  return lintSources([r.source]).diagnostics;
}

function positions(ruleId: string, text: string): string[] {
  return lint(text).filter((d) => d.ruleId === ruleId).map((d) => `${d.line}:${d.column}`);
}

describe('approval lint rules', () => {
  for (const [rule, table] of Object.entries(approvalTables)) {
    describe(rule, () => {
      it.each(table.valid.map((t, i) => [i, t] as const))('valid %i reports nothing', (_i, text) => {
        expect(positions(rule, text)).toEqual([]);
      });
      it.each(table.invalid.map((c, i) => [i, c] as const))('invalid %i reports where expected', (_i, c) => {
        expect(positions(rule, c.text)).toEqual(c.at);
      });
    });
  }

  it('a valid approval step lints clean: approval.* is known in its texts and request, and nowhere else', () => {
    expect(lint(`${head}      details: "\${{ approval.title }} \${{ approval.choices.join(', ') }}"\n      approvers: ["@managers"]\n      inputs:\n        d: { type: number }\n`)
      .filter((d) => d.severity === 'error')).toEqual([]);
    const outside = `${head}  - id: after\n    set: { x: "\${{ approval.url }}" }\n`;
    expect(positions('unknown-context', outside)).toEqual(['17:20']);
  });

  it('the schema refuses an approval without a timeout, and duplicate or empty choices', () => {
    const ids = (text: string) => lint(text).filter((d) => d.ruleId === 'schema').map((d) => d.line);
    expect(ids(head.replace('      timeout: 1h\n', ''))).not.toEqual([]);
    expect(ids(`${head}      choices: [a, a]\n`)).not.toEqual([]);
    expect(ids(`${head}      choices: []\n`)).not.toEqual([]);
  });
});
