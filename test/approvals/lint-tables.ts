// Rule tables for approval steps (see lint.test.ts), shared with test/lint/rules.test.ts,
// which checks that every rule has one.

export const head = `name: t
owner: ops@example.com
trigger: manual
connections:
  chat: { base_url: "http://127.0.0.1:9" }
groups:
  managers: [a@example.com, b@example.com]
on_error:
  escalate: { uses: chat.request, with: { path: /x } }
steps:
  - id: approve
    approval:
      to: { uses: chat.request, with: { path: /messages } }
      title: "Decide: \${{ approval.url }}"
      timeout: 1h
`;
// Line 16 is the first line after the head.

/** The approval rules' tables; test/lint/rules.test.ts counts them among every rule's. */
export const approvalTables: Record<string, { valid: string[]; invalid: { text: string; at: string[] }[] }> = {
  'approval-on-timeout': {
    valid: [`${head}      on_timeout: fail\n`, `${head}      on_timeout: escalate\n`, `${head}      on_timeout: reject\n`, `${head}      choices: [book, call back]\n      on_timeout: call back\n`],
    invalid: [
      { text: `${head}      on_timeout: rejected\n`, at: ['16:19'] },
      { text: `${head}      choices: [book, decline]\n      on_timeout: approve\n`, at: ['17:19'] },
    ],
  },
  'approval-quorum': {
    valid: [`${head}      approvers: ["@managers"]\n      quorum: 2\n`, `${head}      approvers: [x@example.com]\n`, `${head}      quorum: 5\n`],
    invalid: [
      { text: `${head}      approvers: ["@managers", c@example.com]\n      quorum: 4\n`, at: ['17:15'] },
      { text: `${head}      approvers: ["@nobody", c@example.com]\n`, at: ['16:19'] },
    ],
  },
  'approval-inputs': {
    valid: [`${head}      inputs:\n        d: { type: number, min: 0, max: 50 }\n        t: { type: choice, options: [a, b] }\n        n: { type: text }\n`],
    invalid: [
      { text: `${head}      inputs:\n        d: { type: text, min: 0 }\n`, at: ['17:26'] },
      { text: `${head}      inputs:\n        d: { type: number, min: 9, max: 1 }\n`, at: ['17:28'] },
      { text: `${head}      inputs:\n        t: { type: choice }\n`, at: ['17:14'] },
      { text: `${head}      inputs:\n        n: { type: number, options: [a] }\n`, at: ['17:28'] },
    ],
  },
  connector: {
    valid: [head],
    invalid: [{ text: head.replace('uses: chat.request, with: { path: /messages }', 'uses: chatt.request, with: { path: /messages }'), at: ['13:19'] }],
  },
  'escalation-target': {
    valid: [`${head}      on_timeout: escalate\n`],
    invalid: [{ text: `${head.replace(/on_error:\n  escalate: .*\n/, '')}      on_timeout: escalate\n`, at: ['14:19'] }],
  },
};
