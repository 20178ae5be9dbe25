// flux graph's drawings rendered for real: the Mermaid text by Mermaid in headless Chromium,
// the DOT by Graphviz (viz-js). Each drawing is read back and must hold every node with its
// label shown exactly as written, every edge and every group, and nothing a label smuggled in.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toDot } from '../../src/graph/dot.js';
import { toMermaid } from '../../src/graph/mermaid.js';
import type { Graph } from '../../src/graph/model.js';
import { orchestrationGraph } from '../../src/graph/orchestration.js';
import { dotToSvg } from '../../src/graph/svg.js';
import { workflowGraph } from '../../src/graph/workflow-graph.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { ROOT } from '../helpers.js';
import { mermaidPage, readGraphvizSvg, renderMermaid, type Drawing } from './render-check.js';

const FIXTURES = join(ROOT, 'test/graph/fixtures');
const EXAMPLES = readdirSync(join(ROOT, 'workflows')).filter((f) => f.endsWith('.yaml')).sort();

async function load(path: string): Promise<Readonly<Record<string, unknown>>> {
  const loaded = await loadWorkflow(path);
  if (!loaded.ok) throw new Error(`${path} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.workflow.value;
}

/** Every node, edge and group of `graph` is in `drawing`, labels shown as written. */
function expectDrawn(drawing: Drawing, graph: Graph): void {
  const shown = Object.fromEntries(Object.entries(drawing.nodes).map(([id, text]) => [id, text.replace(/\u200b/g, '').replace(/\s*\n\s*/g, '')]));
  expect(shown).toEqual(Object.fromEntries(graph.nodes.map((n) => [n.id, n.label.join('')])));
  expect(drawing.edges).toBe(graph.edges.length);
  expect([...drawing.edgeLabels].sort()).toEqual(graph.edges.flatMap((e) => (e.label === undefined ? [] : [e.label])).sort());
  expect([...drawing.clusters].sort()).toEqual(graph.groups.map((g) => g.label).sort());
  expect(drawing.injected).toEqual([]);
}

let browser: Browser;
let page: Page;
beforeAll(async () => {
  ({ browser, page } = await mermaidPage());
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

async function expectRenders(graph: Graph): Promise<{ mermaid: Drawing; dot: Drawing }> {
  const mermaid = await renderMermaid(page, toMermaid(graph));
  expectDrawn(mermaid, graph);
  const dot = await readGraphvizSvg(page, await dotToSvg(toDot(graph)));
  expectDrawn(dot, graph);
  return { mermaid, dot };
}

describe('the example workflows', () => {
  it.each(EXAMPLES)('%s renders in Mermaid and Graphviz with every node, edge and group', async (file) => {
    const graph = workflowGraph(await load(join(ROOT, 'workflows', file)));
    expect(graph.nodes.length).toBeGreaterThan(2);
    await expectRenders(graph);
  });

  it('lead-intake: the trigger, the switch with its cases, the emit and the escalation', async () => {
    const graph = workflowGraph(await load(join(ROOT, 'workflows/lead-intake.yaml')));
    const { mermaid } = await expectRenders(graph);
    expect(Object.values(mermaid.nodes)).toEqual(expect.arrayContaining(['webhookPOST /hooks/leads', 'routeswitch', 'qualifiedemit lead.qualified']));
    expect(mermaid.edgeLabels).toEqual(expect.arrayContaining(['if steps.score.output.priority == "high"', 'default', 'escalate']));
  });

  it('the directory: workflows linked by the events they emit and consume, with owners and sources', async () => {
    const values = await Promise.all(EXAMPLES.map((f) => load(join(ROOT, 'workflows', f))));
    const graph = orchestrationGraph('workflows', values);
    const { mermaid } = await expectRenders(graph);
    const id = (text: string) => Object.entries(mermaid.nodes).find(([, t]) => t.startsWith(text))?.[0];
    expect(mermaid.nodes[id('lead-intake')!]).toBe('lead-intakeowner: sales-ops@example.com');
    expect(graph.edges).toContainEqual({ from: id('lead-intake'), to: id('appointment-reminders'), label: 'lead.qualified', style: 'solid' });
    expect(Object.values(mermaid.nodes)).toEqual(expect.arrayContaining(['pollevery 15m via crm.search_contacts', 'webhookPOST /hooks/leads']));
  });
});

describe('a workflow with every step kind and labels written to break diagrams', () => {
  it('draws each kind, and every label comes out as the text typed', async () => {
    const graph = workflowGraph(await load(join(FIXTURES, 'every-kind.yaml')));
    const { mermaid, dot } = await expectRenders(graph);
    for (const d of [mermaid, dot]) {
      const texts = Object.values(d.nodes).join('\n');
      expect(texts).toContain('Fetch "the" [lead] --> {now} </script><script>x</script>');
      expect(texts).toContain('Größe: 大きい — ✓ ünïcødé');
      expect(texts).toContain('fail: line one line two </svg> "]]]');
      expect(texts.replace(/\u200b/g, '')).toContain('& #amp; #quot; \\N \\ `tick` $$x$$ %% ;|');
      expect(texts).toContain('wait until event.due');
      expect(texts).toContain('all branches done');
    }
    expect(mermaid.clusters).toEqual(expect.arrayContaining(['each: foreach row in event.items, 4 at once', 'both: parallel', 'left "branch" -->', 'on error: recovery steps']));
    expect(mermaid.edgeLabels).toEqual(expect.arrayContaining(['if event.size > 10 && event.tag == "x|y;z"', 'no, skip', 'timeout 48h', 'event arrives']));
  });

  it('bounds long labels', async () => {
    const value = { ...(await load(join(FIXTURES, 'every-kind.yaml'))) };
    value.steps = [{ id: 'long', name: `${'x'.repeat(500)}"<b>`, uses: 'http' }];
    const graph = workflowGraph(value);
    const node = graph.nodes.find((n) => n.step === 'long')!;
    expect(node.label[1]).toBe(`${'x'.repeat(79)}…`);
    await expectRenders(graph);
  });
});

describe('the shapes issue 9 adds', () => {
  const value = parse(readFileSync(join(FIXTURES, 'new-shapes.yaml'), 'utf8')) as Record<string, unknown>;

  it('an approval is a human decision with a branch per choice and its timeout path; escalation climbs its ladder', async () => {
    const graph = workflowGraph(value);
    const { mermaid } = await expectRenders(graph);
    const human = graph.nodes.filter((n) => n.kind === 'human');
    expect(human.map((n) => n.step)).toEqual(['approve_discount', 'second_look']);
    const title = 'approval: Discount of ${{ string(event.discount) }}% for <${{ event.customer }}>';
    expect(human[0]!.label).toEqual([
      'approve_discount', title, 'asked via chat.request', 'approvers: maria@example.com, @sales-managers, quorum 2', 'reminder every 8h',
    ]);
    const out = (id: string) => graph.edges.filter((e) => e.from === id).map((e) => `${e.label} ${graph.nodes.find((n) => n.id === e.to)!.label[0]}`);
    expect(out(human[0]!.id)).toEqual(['no answer in 48h escalate to owner', 'approve second_look', 'reject second_look', 'ask "legal" second_look']);
    expect(out(human[1]!.id)).toEqual(['approve book', 'reject book', 'no answer in 1d: reject book']);
    const ladder = graph.nodes.filter((n) => n.kind === 'escalation').map((n) => n.label.join(' | '));
    expect(ladder).toEqual(['escalate to owner | via chat.request | owner: team finance (a@example.com, b@example.com, backup c@example.com)', 'then escalate | via pager.request', 'then escalate | via phone.request']);
    expect(mermaid.edgeLabels).toEqual(expect.arrayContaining(['no ack within 4h', 'no ack within 1h', 'on error']));
    expect(mermaid.nodes.n0).toBe('pollevery 5m via crm.request, initial baselineup to 10 pages');
  });

  it('an acknowledgement deadline with nobody after it is said on the last rung', async () => {
    const graph = workflowGraph({ ...value, on_error: { escalate: { uses: 'chat.request', ack_within: '2h' } } });
    await expectRenders(graph);
    expect(graph.nodes.filter((n) => n.kind === 'escalation').map((n) => n.label)).toEqual([
      ['escalate to owner', 'via chat.request', 'owner: team finance (a@example.com, b@example.com, backup c@example.com)', 'ack within 2h'],
    ]);
  });

  it('the directory map shows a team owner', async () => {
    const graph = orchestrationGraph('dir', [value]);
    const { mermaid } = await expectRenders(graph);
    expect(Object.values(mermaid.nodes)).toContain('discount-approvalowner: team finance (a@example.com, b@example.com, backup c@example.com)');
  });
});

describe('a directory whose workflows share events and a webhook path', () => {
  it('links emitter to consumer and waiter, draws the shared path once and the clash between them', async () => {
    const wf = (name: string, trigger: unknown, steps: unknown[]) => ({ name, owner: '@o', trigger, steps });
    const graph = orchestrationGraph('shop', [
      wf('orders', { webhook: { path: '/hooks/shop' } }, [{ id: 'e', emit: { event: 'order.placed' } }, { id: 'x', emit: { event: 'order.lost' } }]),
      wf('billing', { event: { name: 'order.placed', if: '${{ event.total > 0 }}' } }, [{ id: 'w', wait_for: { event: 'payment.done', timeout: '1h' } }]),
      wf('audit', { webhook: { path: '/hooks/shop', method: 'PUT' } }, [{ id: 'w', wait_for: { event: 'order.placed', timeout: '1h' } }]),
    ]);
    const { mermaid } = await expectRenders(graph);
    const byLabel = new Map(Object.entries(mermaid.nodes).map(([id, t]) => [t, id]));
    const orders = byLabel.get('ordersowner: @o')!;
    const billing = byLabel.get('billingowner: @o')!;
    const audit = byLabel.get('auditowner: @o')!;
    expect(graph.edges).toEqual(expect.arrayContaining([
      { from: orders, to: billing, label: 'order.placed if event.total > 0', style: 'solid' },
      { from: orders, to: audit, label: 'order.placed (waited for)', style: 'dashed' },
      { from: byLabel.get('webhookPOST /hooks/shop')!, to: orders, label: undefined, style: 'solid' },
      { from: byLabel.get('webhookPOST /hooks/shop')!, to: audit, label: undefined, style: 'solid' },
      { from: orders, to: audit, label: 'same webhook path /hooks/shop', style: 'dotted' },
      { from: byLabel.get('eventpayment.donesent from outside')!, to: billing, label: 'waited for', style: 'dashed' },
      { from: orders, to: byLabel.get('eventorder.lostno workflow here consumes it')!, label: 'emits', style: 'solid' },
    ]));
  });
});
