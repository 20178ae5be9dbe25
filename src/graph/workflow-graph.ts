/**
 * One workflow as a graph: its trigger, each step with its connector, conditions and switch
 * cases as branches, foreach and parallel as groups, waits with their durations, approvals as
 * human decisions with a branch per choice and their timeout path, and what happens on
 * failure: recovery steps and the escalation path (with its acknowledgement deadline and the
 * next in line). Reads the workflow's plain value, tolerating fields of the wrong type, so it
 * draws whatever the loader accepted.
 */
import { choicesOf } from '../approvals/request.js';
import { asRecord } from '../workflow/model.js';
import { GraphBuilder, type EdgeStyle, type Graph } from './model.js';

type Rec = Readonly<Record<string, unknown>>;

/** An edge still looking for its target: where the flow goes next from `from`. */
interface Exit {
  readonly from: string;
  readonly label?: string | undefined;
  readonly style?: EdgeStyle | undefined;
}

/** How deep `then` chains of escalations are followed; real ones have two or three levels. */
const MAX_ESCALATION_LEVELS = 5;

/** The expression inside `${{ … }}`, or the text as written. */
export function exprText(value: unknown): string {
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return '';
  const m = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(value);
  return (m ? m[1]! : value).trim();
}

/** The owner as one line: a handle or address, or a team with its members and backup. */
export function ownerText(owner: unknown): string {
  if (typeof owner === 'string') return owner;
  const team = asRecord(owner);
  if (!team) return '';
  const members = Array.isArray(team.members) ? team.members.filter((m): m is string => typeof m === 'string') : [];
  const who = [...members, ...(typeof team.backup === 'string' ? [`backup ${team.backup}`] : [])];
  return `${typeof team.team === 'string' ? `team ${team.team}` : 'team'}${who.length > 0 ? ` (${who.join(', ')})` : ''}`;
}

/** What starts the workflow, as label lines. */
export function triggerLines(trigger: unknown): string[] {
  if (trigger === 'manual' || trigger === undefined) return ['manual', 'started by hand'];
  const rec = asRecord(trigger);
  const kind = rec ? Object.keys(rec)[0] : undefined;
  const body = kind === undefined ? undefined : asRecord(rec![kind]) ?? {};
  switch (kind) {
    case 'schedule':
      return ['schedule', `cron ${String(body!.cron ?? '')}${typeof body!.timezone === 'string' ? ` (${body!.timezone})` : ''}`];
    case 'webhook':
      return ['webhook', `${typeof body!.method === 'string' ? body!.method : 'POST'} ${String(body!.path ?? '')}`];
    case 'poll': {
      const initial = typeof body!.initial === 'string' ? `, initial ${body!.initial}` : '';
      const pages = asRecord(body!.paginate)?.max_pages;
      return ['poll', `every ${String(body!.every ?? '?')} via ${String(body!.uses ?? '?')}${initial}`, ...(pages !== undefined ? [`up to ${String(pages)} pages`] : [])];
    }
    case 'event':
      return ['event', String(body!.name ?? ''), ...(body!.if !== undefined ? [`if ${exprText(body!.if)}`] : [])];
    default:
      return ['manual', 'started by hand'];
  }
}

/** Draws one workflow (its plain value, as loaded). */
export function workflowGraph(workflow: Rec): Graph {
  const name = typeof workflow.name === 'string' ? workflow.name : 'workflow';
  const g = new GraphBuilder(name);
  const onError = asRecord(workflow.on_error);
  const owner = ownerText(workflow.owner);

  let escalationNode: string | undefined;
  /** The escalation path, drawn once, on first use: the owner, then each `then` after an unanswered `ack_within`. */
  const escalation = (): string => {
    if (escalationNode !== undefined) return escalationNode;
    let body = asRecord(onError?.escalate);
    const ack = (b: Rec | undefined) => (b?.ack_within !== undefined && !asRecord(b.then) ? `ack within ${String(b.ack_within)}` : undefined);
    const first = g.node('escalation', ['escalate to owner', body ? `via ${String(body.uses ?? '?')}` : 'no escalation configured', owner === '' ? undefined : `owner: ${owner}`, ack(body)]);
    let at = first;
    for (let level = 1; body && body.ack_within !== undefined && level < MAX_ESCALATION_LEVELS; level++) {
      const then = asRecord(body.then);
      if (!then) break;
      const next = g.node('escalation', ['then escalate', `via ${String(then.uses ?? '?')}`, ack(then)]);
      g.edge(at, next, `no ack within ${String(body.ack_within)}`, 'dashed');
      at = next;
      body = then;
    }
    escalationNode = first;
    return first;
  };
  let failedNode: string | undefined;
  const failed = (): string => (failedNode ??= g.node('fail', ['run fails']));

  const connect = (exits: readonly Exit[], to: string) => {
    for (const e of exits) g.edge(e.from, to, e.label, e.style ?? 'solid');
  };

  const drawList = (list: unknown, entries: readonly Exit[], group: string | undefined): Exit[] => {
    let exits: Exit[] = [...entries];
    if (!Array.isArray(list)) return exits;
    for (const raw of list) {
      const step = asRecord(raw);
      if (step) exits = drawStep(step, exits, group);
    }
    return exits;
  };

  const drawStep = (step: Rec, entries: readonly Exit[], group: string | undefined): Exit[] => {
    const id = typeof step.id === 'string' ? step.id : '?';
    const title = typeof step.name === 'string' && step.name !== '' ? [id, step.name] : [id];
    let into: readonly Exit[] = entries;
    const skipped: Exit[] = [];
    if (step.if !== undefined) {
      const d = g.node('decision', [`if ${exprText(step.if)}`], { group, step: id });
      connect(entries, d);
      into = [{ from: d, label: 'yes' }];
      skipped.push({ from: d, label: 'no, skip' });
    }
    const body = (): Exit[] => {
      const single = (kind: Parameters<typeof g.node>[0], detail: readonly unknown[]): Exit[] => {
        const n = g.node(kind, [...title, ...detail], { group, step: id });
        connect(into, n);
        if (step.on_error === 'escalate') g.edge(n, escalation(), 'on error', 'dashed');
        return [{ from: n }];
      };
      if (step.approval !== undefined) return approvalStep(step, title, id, into, group);
      if (typeof step.uses === 'string') {
        const retry = asRecord(step.retry);
        const extras = [
          retry && typeof retry.attempts === 'number' ? `${retry.attempts} attempts` : undefined,
          typeof step.timeout === 'string' ? `timeout ${step.timeout}` : undefined,
          step.response === true ? 'answers the event' : undefined,
        ].filter((x) => x !== undefined);
        return single('call', [step.uses, extras.join(', ')]);
      }
      if (step.set !== undefined) return single('set', [`set ${Object.keys(asRecord(step.set) ?? {}).join(', ')}`]);
      if (step.wait !== undefined) {
        const until = asRecord(step.wait)?.until;
        return single('wait', [until !== undefined ? `wait until ${exprText(until)}` : `wait ${String(step.wait)}`]);
      }
      if (step.emit !== undefined) return single('emit', [`emit ${String(asRecord(step.emit)?.event ?? '?')}`]);
      if (step.fail !== undefined) {
        const n = g.node('fail', [...title, `fail: ${String(step.fail)}`], { group, step: id });
        connect(into, n);
        if (onError) g.edge(n, failed(), undefined, 'dashed');
        return [];
      }
      if (step.wait_for !== undefined) return waitForStep(asRecord(step.wait_for) ?? {}, title, id, into, group);
      if (step.switch !== undefined) {
        const sw = asRecord(step.switch) ?? {};
        const d = g.node('decision', [...title, 'switch'], { group, step: id });
        connect(into, d);
        const exits: Exit[] = [];
        if (Array.isArray(sw.cases)) {
          for (const c of sw.cases) {
            const kase = asRecord(c);
            exits.push(...drawList(kase?.steps, [{ from: d, label: `if ${exprText(kase?.if)}` }], group));
          }
        }
        if (sw.default !== undefined) exits.push(...drawList(sw.default, [{ from: d, label: 'default' }], group));
        else exits.push({ from: d, label: 'no case matches' });
        return exits;
      }
      if (step.foreach !== undefined) {
        const fe = asRecord(step.foreach) ?? {};
        const items = Array.isArray(fe.items) ? `[${fe.items.length} items]` : exprText(fe.items);
        const at = typeof fe.concurrency === 'number' && fe.concurrency > 1 ? `, ${fe.concurrency} at once` : '';
        const inner = g.group(`${id}: foreach ${typeof fe.as === 'string' ? fe.as : 'item'} in ${items}${at}`, group);
        return drawList(fe.steps, into, inner);
      }
      if (step.parallel !== undefined) {
        const par = asRecord(step.parallel) ?? {};
        const outer = g.group(`${id}: parallel`, group);
        const branches = Array.isArray(par.branches) ? par.branches : [];
        const join = g.node('join', ['all branches done'], { group: outer, step: id });
        branches.forEach((b, i) => {
          const branch = asRecord(b);
          const inner = g.group(typeof branch?.name === 'string' ? branch.name : `branch ${i + 1}`, outer);
          connect(drawList(branch?.steps, into, inner), join);
        });
        return [{ from: join }];
      }
      return single('call', ['(unknown step)']);
    };
    return [...body(), ...skipped];
  };

  const approvalStep = (step: Rec, title: readonly string[], id: string, into: readonly Exit[], group: string | undefined): Exit[] => {
    const a = asRecord(step.approval) ?? {};
    const to = asRecord(a.to);
    const approvers = Array.isArray(a.approvers) ? a.approvers.filter((x): x is string => typeof x === 'string') : [];
    const n = g.node('human', [
      ...title,
      `approval: ${typeof a.title === 'string' ? a.title : 'a person decides'}`,
      to && typeof to.uses === 'string' ? `asked via ${to.uses}` : undefined,
      approvers.length > 0 ? `approvers: ${approvers.join(', ')}${typeof a.quorum === 'number' && a.quorum > 1 ? `, quorum ${a.quorum}` : ''}` : undefined,
      typeof a.remind_every === 'string' ? `reminder every ${a.remind_every}` : undefined,
    ], { group, step: id });
    connect(into, n);
    const choices = choicesOf(a);
    const exits: Exit[] = choices.map((c) => ({ from: n, label: c }));
    if (a.timeout !== undefined) {
      const label = `no answer in ${String(a.timeout)}`;
      const onTimeout = typeof a.on_timeout === 'string' ? a.on_timeout : undefined;
      if (onTimeout === 'escalate') g.edge(n, escalation(), label, 'dashed');
      else if (onTimeout === 'fail') g.edge(n, failed(), label, 'dashed');
      else exits.push({ from: n, label: onTimeout === undefined ? label : `${label}: ${onTimeout}`, style: 'dashed' });
    }
    return exits;
  };

  const waitForStep = (w: Rec, title: readonly string[], id: string, into: readonly Exit[], group: string | undefined): Exit[] => {
    const n = g.node('wait', [...title, `wait for event ${String(w.event ?? '?')}`, w.match !== undefined ? `matching ${exprText(w.match)}` : undefined, `up to ${String(w.timeout ?? '?')}`], { group, step: id });
    connect(into, n);
    const label = `timeout ${String(w.timeout ?? '')}`;
    const exits: Exit[] = [{ from: n, label: 'event arrives' }];
    if (w.on_timeout === 'escalate') g.edge(n, escalation(), label, 'dashed');
    else if (w.on_timeout === 'fail') g.edge(n, failed(), label, 'dashed');
    else exits.push({ from: n, label, style: 'dashed' });
    return exits;
  };

  const trigger = g.node('trigger', triggerLines(workflow.trigger));
  const end = drawList(workflow.steps, [{ from: trigger }], undefined);
  connect(end, g.node('end', ['run succeeds']));

  if (onError) {
    const from = failed();
    if (onError.escalate !== undefined) g.edge(from, escalation(), 'escalate', 'dashed');
    if (onError.steps !== undefined) {
      const recovery = g.group('on error: recovery steps');
      drawList(onError.steps, [{ from, label: 'recover', style: 'dashed' }], recovery);
    }
  }
  return g.build();
}
