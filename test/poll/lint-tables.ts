// Rule tables for the poll trigger's lint rules, in the form of test/lint/rules.test.ts (valid
// snippets report nothing from the rule; invalid ones report at these positions).
const head = 'name: t\nowner: ops@example.com\n';
const tail = 'connections: {desk: {base_url: "https://desk.test"}}\nsteps:\n  - id: a\n    set: {x: 1}\n';
const poll = (fields: string) => `${head}trigger:\n  poll:\n    uses: desk.request\n    dedupe: \${{ string(item.id) }}\n${fields}${tail}`;

export interface Table {
  readonly valid: string[];
  readonly invalid: { readonly text: string; readonly at: string[] }[];
}

export const pollTables: Record<string, Table> = {
  'poll-interval': {
    valid: [
      poll('    every: 30s\n    with: {path: /t}\n'),
      poll('    every: 5m\n    with: {path: /t}\n'),
      // Not a duration: the duration rule reports it, once.
      poll('    every: soon\n    with: {path: /t}\n'),
    ],
    invalid: [
      { text: poll('    every: 10s\n    with: {path: /t}\n'), at: ['7:12'] },
      { text: poll('    every: 500ms\n    with: {path: /t}\n'), at: ['7:12'] },
    ],
  },
  'poll-cursor': {
    valid: [
      poll('    every: 5m\n    with: {path: /t, query: {since: "${{ string(poll.cursor) }}"}}\n    cursor: ${{ max(items.map(i, i.updated_at)) }}\n'),
      poll('    every: 5m\n    with: {path: /t}\n'),
    ],
    invalid: [
      // A cursor nobody sends: at the cursor key.
      { text: poll('    every: 5m\n    with: {path: /t}\n    cursor: ${{ max(items.map(i, i.updated_at)) }}\n'), at: ['9:5'] },
      // poll.cursor read, never set: at the reference.
      { text: poll('    every: 5m\n    with: {path: /t, query: {since: "${{ poll.cursor }}"}}\n'), at: ['8:42'] },
    ],
  },
};
