// Rule tables: for each rule, valid snippets report nothing from it and invalid ones report
// at the expected positions. Positions and rule ids are asserted, not wordings.
import { describe, expect, it } from 'vitest';
import { lintSources } from '../../src/lint/linter.js';
import { rules } from '../../src/lint/rules/index.js';
import { parseSource, type SourceFile } from '../../src/workflow/source.js';
import { approvalTables } from '../approvals/lint-tables.js';
import { oauthTables } from '../oauth/lint-tables.js';
import { pollTables } from '../poll/lint-tables.js';

function load(name: string, text: string): SourceFile {
  const r = parseSource(name, text);
  if (!r.ok) throw new Error(`fixture does not parse: ${JSON.stringify(r.diagnostics)}`);
  return r.source;
}

/** Positions ("line:col") reported by `ruleId` for these files. */
function positions(ruleId: string, ...texts: string[]): string[] {
  const sources = texts.map((t, i) => load(`f${i}.yaml`, t));
  return lintSources(sources).diagnostics.filter((d) => d.ruleId === ruleId).map((d) => `${d.file === 'f0.yaml' ? '' : `${d.file}:`}${d.line}:${d.column}`);
}

const head = 'name: t\nowner: ops@example.com\ntrigger: manual\n';

interface Table {
  readonly valid: string[];
  readonly invalid: { readonly text: string; readonly at: string[] }[];
}

const tables: Record<string, Table> = {
  'duplicate-step-id': {
    valid: [`${head}steps:\n  - id: a\n    set: {x: 1}\n  - id: b\n    set: {x: 2}\n`],
    invalid: [
      { text: `${head}steps:\n  - id: a\n    set: {x: 1}\n  - id: a\n    set: {x: 2}\n`, at: ['7:9'] },
      { text: `${head}steps:\n  - id: a\n    foreach:\n      items: [1]\n      steps:\n        - id: a\n          set: {x: 1}\n`, at: ['9:15'] },
    ],
  },
  'step-reference': {
    valid: [
      `${head}steps:\n  - id: a\n    set: {x: 1}\n  - id: b\n    set: {y: "\${{ steps.a.output.x }}"}\n`,
      `${head}steps:\n  - id: loop\n    foreach:\n      items: [1]\n      steps:\n        - id: inner\n          set: {x: 1}\n        - id: next\n          set: {y: "\${{ steps.inner.output.x }}"}\n`,
    ],
    invalid: [
      { text: `${head}steps:\n  - id: a\n    set: {x: "\${{ steps.b.output }}"}\n  - id: b\n    set: {x: 2}\n`, at: ['6:25'] },
      { text: `${head}steps:\n  - id: a\n    set: {x: "\${{ steps.nope.output }}"}\n`, at: ['6:25'] },
      { text: `${head}steps:\n  - id: a\n    if: \${{ steps.a.output.ok }}\n    set: {x: 1}\n`, at: ['6:19'] },
      { text: `${head}steps:\n  - id: loop\n    foreach:\n      items: [1]\n      steps:\n        - id: inner\n          set: {x: 1}\n  - id: after\n    set: {y: "\${{ steps.inner.output.x }}"}\n`, at: ['12:25'] },
      { text: `${head}steps:\n  - id: pick\n    switch:\n      cases:\n        - if: \${{ true }}\n          steps: [{id: big, set: {x: 1}}]\n  - id: after\n    set: {y: "\${{ steps.big.output.x }}"}\n`, at: ['11:25'] },
    ],
  },
  'secret-reference': {
    valid: [`${head}secrets: [T]\nsteps:\n  - id: a\n    set: {x: "\${{ secrets.T }}"}\n`],
    invalid: [{ text: `${head}secrets: [T]\nsteps:\n  - id: a\n    set: {x: "\${{ secrets.U + secrets['V'] }}"}\n`, at: ['7:27', '7:39'] }],
  },
  'unknown-context': {
    valid: [`${head}steps:\n  - id: a\n    foreach:\n      items: [1]\n      steps:\n        - id: b\n          set: {x: "\${{ item + index }}"}\n`],
    invalid: [{ text: `${head}steps:\n  - id: a\n    set: {x: "\${{ itme }}"}\n`, at: ['6:19'] }],
  },
  'expression-syntax': {
    valid: [`${head}steps:\n  - id: a\n    set: {x: "\${{ {'a': {'b': 1}} }}"}\n`],
    invalid: [{ text: `${head}steps:\n  - id: a\n    set: {x: "\${{ 1 + * 2 }}"}\n`, at: ['6:23'] }],
  },
  'expression-type': {
    valid: [`${head}steps:\n  - id: a\n    if: \${{ 1 < 2 }}\n    set: {x: 1}\n`],
    invalid: [
      { text: `${head}steps:\n  - id: a\n    if: \${{ 1 + 2 }}\n    set: {x: 1}\n`, at: ['6:13'] },
      { text: `${head}steps:\n  - id: a\n    set: {x: "\${{ 'a' + 1 }}"}\n`, at: ['6:19'] },
    ],
  },
  connector: {
    valid: [`${head}steps:\n  - id: a\n    uses: http\n    with: {url: "https://x.test", method: POST, json: {a: 1}}\n`],
    invalid: [
      { text: `${head}steps:\n  - id: a\n    uses: http\n    with: {url: "https://x.test", verb: POST}\n`, at: ['7:35'] },
      { text: `${head}steps:\n  - id: a\n    uses: nope.request\n`, at: ['6:11'] },
      // The escalation's second call, as any call.
      { text: `${head}steps:\n  - id: a\n    set: {x: 1}\non_error:\n  escalate:\n    uses: http\n    with: {url: "https://x.test"}\n    ack_within: 4h\n    then: {uses: pagr.request}\n`, at: ['12:18'] },
    ],
  },
  cron: {
    valid: ['name: t\nowner: o@x.io\ntrigger: {schedule: {cron: "*/5 * * * *"}}\nsteps:\n  - id: a\n    set: {x: 1}\n'],
    invalid: [{ text: 'name: t\nowner: o@x.io\ntrigger: {schedule: {cron: "* * *"}}\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['3:28'] }],
  },
  'cron-day-fields': {
    valid: ['name: t\nowner: o@x.io\ntrigger: {schedule: {cron: "0 9 * * 1"}}\nsteps:\n  - id: a\n    set: {x: 1}\n'],
    invalid: [{ text: 'name: t\nowner: o@x.io\ntrigger: {schedule: {cron: "0 9 13 * 5"}}\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['3:28'] }],
  },
  timezone: {
    valid: ['name: t\nowner: o@x.io\ntrigger: {schedule: {cron: "0 9 * * 1", timezone: Asia/Tokyo}}\nsteps:\n  - id: a\n    set: {x: 1}\n'],
    invalid: [{ text: 'name: t\nowner: o@x.io\ntrigger: {schedule: {cron: "0 9 * * 1", timezone: Mars/Olympus}}\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['3:51'] }],
  },
  duration: {
    valid: [`${head}steps:\n  - id: a\n    wait: 1h30m\n`],
    invalid: [
      { text: `${head}steps:\n  - id: a\n    wait: 90\n  - id: b\n    wait: 2x\n`, at: ['8:11'] },
      { text: `${head}steps:\n  - id: a\n    set: {x: 1}\non_error:\n  escalate: {uses: http, with: {url: "https://x.test"}, ack_within: 4 hours}\n`, at: ['8:69'] },
    ],
  },
  'unreachable-step': {
    valid: [`${head}steps:\n  - id: a\n    if: \${{ true }}\n    fail: stop\n  - id: b\n    set: {x: 1}\n`],
    invalid: [{ text: `${head}steps:\n  - id: a\n    fail: stop\n  - id: b\n    set: {x: 1}\n`, at: ['7:9'] }],
  },
  owner: {
    valid: [
      `${head}steps:\n  - id: a\n    set: {x: 1}\n`, 'name: t\nowner: "@team"\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\n',
      'name: t\nowner: {team: finance, members: [a@x.io, "@bo"], backup: c@x.io}\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\non_error:\n  escalate: {uses: http, with: {url: "https://x.test"}, ack_within: 4h, then: {uses: http, with: {url: "https://y.test"}}}\n',
    ],
    invalid: [
      { text: 'name: t\nowner: {team: finance, members: [a@x.io, two words]}\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['2:42'] },
      { text: 'name: t\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['1:1'] },
      { text: 'name: t\nowner: ""\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['2:8'] },
      { text: 'name: t\nowner: two words\ntrigger: manual\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['2:8'] },
    ],
  },
  'escalation-target': {
    valid: [`${head}connections: {chat: {base_url: "https://chat.test"}}\nsteps:\n  - id: a\n    on_error: escalate\n    uses: chat.request\n    with: {path: /x}\non_error:\n  escalate: {uses: chat.request, with: {path: /alerts}}\n`],
    invalid: [
      { text: `${head}steps:\n  - id: a\n    on_error: escalate\n    set: {x: 1}\n  - id: b\n    wait_for: {event: e.x, timeout: 1h, on_timeout: escalate}\n`, at: ['6:15', '9:53'] },
      // A workflow a daemon runs unattended, with nobody told of a failure: at its trigger's kind.
      ...['schedule: {cron: "0 9 * * *"}', 'webhook: {path: /h}', 'event: {name: lead.created}'].map((t) => ({ text: `name: t\nowner: o@x.io\ntrigger:\n  ${t}\nsteps:\n  - id: a\n    set: {x: 1}\n`, at: ['4:3'] })),
    ],
  },
  'no-escalation': {
    valid: [
      `${head}steps:\n  - id: a\n    set: {x: 1}\non_error:\n  escalate: {uses: http, with: {url: "https://x.test"}}\n`,
      // A wrong type is the schema's to report, once.
      `${head}steps:\n  - id: a\n    set: {x: 1}\non_error: escalate\n`,
    ],
    invalid: [
      // No on_error at all: at the name, wherever it stands.
      { text: `${head}steps:\n  - id: a\n    set: {x: 1}\n`, at: ['1:1'] },
      { text: 'owner: o@x.io\ntrigger: manual\nname: t\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['3:1'] },
      // Recovery steps but nobody told: at the on_error key.
      { text: `${head}steps:\n  - id: a\n    set: {x: 1}\non_error:\n  steps:\n    - id: r\n      set: {x: 2}\n`, at: ['7:1'] },
      // A step that escalates with no target: escalation-target says so at the step, this rule at the name.
      { text: `${head}steps:\n  - id: a\n    on_error: escalate\n    set: {x: 1}\n`, at: ['1:1'] },
    ],
  },
  'timeout-scope': {
    valid: [`${head}steps:\n  - id: a\n    uses: http\n    timeout: 5s\n    with: {url: "https://x.test"}\n`],
    invalid: [{ text: `${head}steps:\n  - id: a\n    timeout: 5s\n    set: {x: 1}\n`, at: ['6:5'] }],
  },
  'webhook-signature': {
    valid: [
      'name: t\nowner: o@x.io\ntrigger: {webhook: {path: /h, signature: {scheme: hmac-sha256, secret: s, header: X-Sig, encoding: base64}}}\nsteps:\n  - id: a\n    set: {x: 1}\n',
      'name: t\nowner: o@x.io\ntrigger: {webhook: {path: /h, signature: {scheme: stripe, secret: s, tolerance: 10m}}}\nsteps:\n  - id: a\n    set: {x: 1}\n',
    ],
    invalid: [
      { text: 'name: t\nowner: o@x.io\ntrigger: {webhook: {path: /h, signature: {scheme: github, secret: s, encoding: base64, tolerance: 5m}}}\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['3:80', '3:99'] },
      { text: 'name: t\nowner: o@x.io\ntrigger: {webhook: {path: /h, signature: {scheme: slack, secret: s, header: X-Sig}}}\nsteps:\n  - id: a\n    set: {x: 1}\n', at: ['3:77'] },
    ],
  },
  'response-step': {
    valid: [
      `${head}steps:\n  - id: a\n    response: true\n    uses: http\n    with: {url: "https://x.test", method: POST}\n  - id: b\n    response: false\n    set: {x: 1}\n`,
      // A mark on a step with no body is the schema's to report, not this rule's.
      `${head}steps:\n  - id: a\n    response: true\n`,
    ],
    invalid: [
      // A second mark, nested in a parallel branch: at its key, whatever the first one's kind.
      { text: `${head}steps:\n  - id: a\n    response: true\n    uses: http\n    with: {url: "https://x.test"}\n  - id: p\n    parallel:\n      branches:\n        - steps:\n            - id: b\n              response: true\n              uses: http\n              with: {url: "https://x.test"}\n`, at: ['14:15'] },
      // Marks in on_error count too; "first" is by position, so a later step is the extra one.
      { text: `${head}on_error:\n  steps:\n    - id: r\n      response: true\n      uses: http\n      with: {url: "https://x.test"}\nsteps:\n  - id: a\n    response: true\n    uses: http\n    with: {url: "https://x.test"}\n`, at: ['12:5'] },
      // A step that makes no call, inside a foreach; a wait_for too.
      { text: `${head}steps:\n  - id: l\n    foreach:\n      items: [1]\n      steps:\n        - id: s\n          response: true\n          set: {x: 1}\n`, at: ['10:11'] },
      { text: `${head}steps:\n  - id: w\n    response: true\n    wait_for: {event: e.x, timeout: 1h}\n`, at: ['6:5'] },
      // Both at once: an extra mark on a step that makes no call is reported twice at its key.
      { text: `${head}steps:\n  - id: a\n    response: true\n    uses: http\n    with: {url: "https://x.test"}\n  - id: b\n    response: true\n    emit: {event: e.x}\n`, at: ['10:5', '10:5'] },
    ],
  },
  'inputs-schema': {
    valid: [`${head}inputs: {type: object, properties: {email: {type: string, format: email}}}\nsteps:\n  - id: a\n    set: {x: 1}\n`],
    invalid: [{ text: `${head}inputs: {type: object, required: yes}\nsteps:\n  - id: a\n    set: {x: 1}\n`, at: ['4:34'] }],
  },
};

describe('every rule has a table', () => {
  it('covers each file rule', () => {
    // The approval and poll rules' tables live with their own tests, which run them.
    for (const rule of rules) if (rule.scope === 'file') expect([...Object.keys(tables), ...Object.keys(approvalTables), ...Object.keys(pollTables), ...Object.keys(oauthTables)]).toContain(rule.id);
  });
});

for (const [ruleId, table] of Object.entries(tables)) {
  describe(ruleId, () => {
    table.valid.forEach((text, i) => {
      it(`valid ${i + 1}`, () => expect(positions(ruleId, text)).toEqual([]));
    });
    table.invalid.forEach((c, i) => {
      it(`invalid ${i + 1}`, () => expect(positions(ruleId, c.text)).toEqual(c.at));
    });
  });
}

describe('project rules', () => {
  const wf = (name: string, trigger: string, steps: string) => `name: ${name}\nowner: o@x.io\ntrigger: ${trigger}\nsteps:\n${steps}`;
  it('webhook-path reports the second workflow on a path', () => {
    const a = wf('a', '{webhook: {path: /in}}', '  - id: x\n    set: {y: 1}\n');
    const b = wf('b', '{webhook: {path: /in/}}', '  - id: x\n    set: {y: 1}\n');
    const c = wf('c', '{webhook: {path: /other}}', '  - id: x\n    set: {y: 1}\n');
    expect(positions('webhook-path', a, b, c)).toEqual(['f1.yaml:3:27']);
  });
  it('unconsumed-event is quiet when a workflow is triggered by the event or waits for it', () => {
    const emitter = wf('a', 'manual', '  - id: x\n    emit: {event: e.one}\n  - id: y\n    emit: {event: e.two}\n  - id: z\n    emit: {event: e.three}\n');
    const trig = wf('b', '{event: {name: e.one}}', '  - id: x\n    set: {y: 1}\n');
    const waiter = wf('c', 'manual', '  - id: w\n    wait_for: {event: e.two, timeout: 1h}\n');
    expect(positions('unconsumed-event', emitter, trig, waiter)).toEqual(['10:19']);
  });
  it('event-cycle finds a cycle of three and ignores a chain', () => {
    const a = wf('a', '{event: {name: c.done}}', '  - id: x\n    emit: {event: a.done}\n');
    const b = wf('b', '{event: {name: a.done}}', '  - id: x\n    emit: {event: b.done}\n');
    const c = wf('c', '{event: {name: b.done}}', '  - id: x\n    emit: {event: c.done}\n');
    expect(positions('event-cycle', a, b, c)).toHaveLength(1);
    const chainEnd = wf('c', '{event: {name: b.done}}', '  - id: x\n    set: {y: 1}\n');
    expect(positions('event-cycle', a, b, chainEnd)).toEqual([]);
  });
});
