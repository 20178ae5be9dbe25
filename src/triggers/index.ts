/**
 * The trigger kinds a workflow may have (`trigger:` in the schema), and who starts each. One
 * file or module per kind does the work:
 *
 * - `manual`: started by hand with `flux run` (the daemon never starts it).
 * - `schedule`: cron in a time zone; fire times in cron-next.ts and schedule.ts, fired by the
 *   daemon's scheduler (daemon/scheduler.ts).
 * - `webhook`: an HTTP request to the daemon; its checks in webhook-request.ts,
 *   webhook-signature.ts and webhook-body.ts, served by daemon/intake.ts.
 * - `event`: an event another workflow emitted or `flux event` sent; names in event.ts,
 *   delivered by daemon/events.ts.
 * - `poll`: a connector called every `every`; one poll in poll.ts, polled by the daemon's
 *   poller (daemon/poller.ts); `flux run` makes one poll and runs what it found.
 *
 * Each is driven by the injected clock: the scheduler, event delivery and intake read the time
 * only through it.
 */
import type { LoadedWorkflow } from '../engine/types.js';
import { triggerOf } from '../workflow/model.js';

export type TriggerKind = 'manual' | 'schedule' | 'webhook' | 'event' | 'poll';

export interface TriggerInfo {
  readonly kind: TriggerKind;
  /** Whether `flux daemon` starts runs of it. */
  readonly servedByDaemon: boolean;
  /** What starts it, for people. */
  readonly startedBy: string;
}

export const TRIGGERS: Readonly<Record<TriggerKind, TriggerInfo>> = {
  manual: { kind: 'manual', servedByDaemon: false, startedBy: '`flux run`' },
  schedule: { kind: 'schedule', servedByDaemon: true, startedBy: 'the daemon, at each fire time' },
  webhook: { kind: 'webhook', servedByDaemon: true, startedBy: 'a request to the daemon' },
  event: { kind: 'event', servedByDaemon: true, startedBy: 'an emitted or injected event' },
  poll: { kind: 'poll', servedByDaemon: true, startedBy: 'the daemon, for each new item a poll finds' },
};

/** The trigger kind of a workflow, when it is one flux knows. */
export function triggerKind(workflow: LoadedWorkflow): TriggerKind | undefined {
  const kind = triggerOf(workflow.value)?.kind;
  return kind !== undefined && Object.hasOwn(TRIGGERS, kind) ? (kind as TriggerKind) : undefined;
}

/**
 * Workflows handed to the daemon that it will never start on its own, with why: an operator
 * who deploys such a workflow to the daemon must hear that it does not run, not find out later.
 * Every trigger kind the daemon has is served now, so this finds none.
 */
export function unservedByDaemon(workflows: readonly LoadedWorkflow[]): { readonly workflow: LoadedWorkflow; readonly message: string }[] {
  const unserved: { workflow: LoadedWorkflow; message: string }[] = [];
  for (const workflow of workflows) {
    const kind = triggerKind(workflow);
    if (kind !== undefined && kind !== 'manual' && !TRIGGERS[kind].servedByDaemon) unserved.push({ workflow, message: `${workflow.file}: ${kind} triggers are not served by the daemon; ${workflow.name} does not run here (start it with flux run)` });
  }
  return unserved;
}
