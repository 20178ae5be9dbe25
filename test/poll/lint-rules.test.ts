// The poll trigger's lint rules as tables (see lint-tables.ts), and what the shared rules say
// about a poll's expressions: which contexts each field sees, and a poll `uses` that names no
// declared connection.
import { describe, expect, it } from 'vitest';
import { lintSources } from '../../src/lint/linter.js';
import { parseSource } from '../../src/workflow/source.js';
import { pollTables } from './lint-tables.js';

function lint(text: string) {
  const r = parseSource('f0.yaml', text);
  if (!r.ok) throw new Error(`fixture does not parse: ${JSON.stringify(r.diagnostics)}`);
  return lintSources([r.source]).diagnostics;
}

function positions(ruleId: string, text: string): string[] {
  return lint(text).filter((d) => d.ruleId === ruleId).map((d) => `${d.line}:${d.column}`);
}

for (const [ruleId, table] of Object.entries(pollTables)) {
  describe(ruleId, () => {
    table.valid.forEach((text, i) => it(`valid ${i + 1}`, () => expect(positions(ruleId, text)).toEqual([])));
    table.invalid.forEach((c, i) => it(`invalid ${i + 1}`, () => expect(positions(ruleId, c.text)).toEqual(c.at)));
  });
}

const workflow = (poll: string) => `name: t
owner: ops@example.com
trigger:
  poll:
    every: 5m
${poll}connections: {desk: {base_url: "https://desk.test"}}
steps:
  - id: a
    set: {x: 1}
on_error:
  escalate: {uses: desk.request, with: {path: /alerts}}
`;

describe('poll expressions', () => {
  it('a complete poll trigger lints clean', () => {
    expect(lint(workflow(`    uses: desk.request
    with: {path: /t, query: {since: "\${{ poll.cursor == null ? '' : string(poll.cursor) }}"}}
    items: \${{ response.body.tickets }}
    dedupe: \${{ string(item.id) }}
    cursor: \${{ max(items.map(i, i.updated_at)) }}
    paginate: {next: "\${{ response.body.next }}", max_pages: 5}
    initial: all
    escalate_after: 2
`))).toEqual([]);
  });

  it('each field sees only its own contexts', () => {
    const d = lint(workflow(`    uses: desk.request
    with: {path: "/t/\${{ string(response.status) }}"}
    items: \${{ item.list }}
    dedupe: \${{ string(items[0].id) }}
    cursor: \${{ item.updated_at }}
`));
    expect(d.filter((x) => x.ruleId === 'unknown-context').map((x) => `${x.line}:${x.column}`)).toEqual(['7:33', '8:16', '9:24', '10:17']);
  });

  it('a poll that names no declared connection, or a bad expression, is reported where it stands', () => {
    const d = lint(workflow(`    uses: crm.request
    with: {path: /t}
    dedupe: \${{ item.id + }}
`));
    expect(d.map((x) => `${x.ruleId} ${x.line}:${x.column}`)).toEqual(expect.arrayContaining(['connector 6:11', expect.stringMatching(/^expression-syntax 8:/)]));
  });

  it('the schema bounds max_pages and escalate_after and knows initial', () => {
    const d = lint(workflow(`    uses: desk.request
    with: {path: /t}
    dedupe: \${{ string(item.id) }}
    paginate: {next: "\${{ response.body.next }}", max_pages: 500}
    initial: some
    escalate_after: 0
`));
    expect(d.filter((x) => x.ruleId === 'schema').map((x) => x.line)).toEqual([9, 10, 11]);
  });
});
