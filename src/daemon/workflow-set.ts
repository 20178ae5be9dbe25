/**
 * The workflows the daemon serves now, behind one object that a reload swaps whole. Every
 * part that starts runs reads it at the moment it needs it: the HTTP server its webhook routes,
 * the scheduler its schedules, event delivery its event triggers. So after a SIGHUP, new runs
 * use the new versions at once, and a part that keeps state of its own (the scheduler's next
 * fire times) rebuilds it from `onChange`. Runs already started never read it: they run the
 * version their row names, from the store.
 */
import type { LoadedWorkflow } from '../engine/types.js';
import { webhookRoutes, type WebhookRoute } from './intake.js';
import type { ServedWorkflow } from './workflow-files.js';

/** The current workflows and what is derived from them. */
export class WorkflowSet {
  private entries: readonly ServedWorkflow[] = [];
  private routeMap: ReadonlyMap<string, WebhookRoute> = new Map();
  private readonly listeners = new Set<(set: WorkflowSet) => void>();

  /** `env` renders webhook signing secrets. Problems with the first routes are in `replace`'s result. */
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** Every served workflow with its text, by file name order as read. */
  get all(): readonly ServedWorkflow[] {
    return this.entries;
  }

  /** The served workflows. */
  workflows(): readonly LoadedWorkflow[] {
    return this.entries.map((e) => e.workflow);
  }

  /** The served version of a workflow, by its `name`. */
  byName(name: string): LoadedWorkflow | undefined {
    return this.entries.find((e) => e.workflow.name === name)?.workflow;
  }

  /** Webhook routes by path, for the current versions. */
  get routes(): ReadonlyMap<string, WebhookRoute> {
    return this.routeMap;
  }

  /**
   * Serves `next` from now on: rebuilds the webhook routes, then tells every listener.
   * Returns the webhooks that cannot be served (a signing secret not set), already left out.
   */
  replace(next: readonly ServedWorkflow[]): { readonly routeProblems: readonly string[] } {
    const { routes, problems } = webhookRoutes(next.map((e) => e.workflow), this.env);
    this.entries = [...next];
    this.routeMap = routes;
    for (const listener of this.listeners) listener(this);
    return { routeProblems: problems };
  }

  /** Calls `listener` after each `replace`; returns a function that stops it. */
  onChange(listener: (set: WorkflowSet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
