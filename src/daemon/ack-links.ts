/**
 * Acknowledgement links: what the runner gives the engine to open an escalation's
 * acknowledgement (a row in the store, then a signed link to `/ack/<token>` on the daemon's
 * public URL), and how long such a link is honoured.
 *
 * A link stays valid for ACK_LINK_GRACE_MS past the deadline: an owner who answers late is
 * still recorded (late acknowledgements count in time to acknowledgement), and a `then` call's
 * message may carry the link to the backup. After that the page answers 410 and
 * `flux runs ack` still works.
 */
import { signedLink } from '../approvals/token.js';
import type { AckRequest, LoadedWorkflow } from '../engine/types.js';
import type { Store } from '../store/store.js';
import { ownerOf } from '../workflow/model.js';

/** How long past its deadline an acknowledgement link is honoured: 7 days. */
export const ACK_LINK_GRACE_MS = 7 * 86_400_000;

/** The path acknowledgement pages are served under. */
export const ACK_PATH = '/ack/';

/** The link to acknowledge `runId`'s escalation, due at `ackDueAt`, signed with the daemons' shared `key`. */
export function ackLink(key: Buffer, publicUrl: string, runId: string, ackDueAt: number): string {
  return signedLink(publicUrl, ACK_PATH, key, { kind: 'ack', runId, step: 'escalation', expiresAt: ackDueAt + ACK_LINK_GRACE_MS });
}

/** The engine's `openAck` for one run: stores the escalation once, and links to its page. */
export function ackOpener(store: Store, link: (runId: string, ackDueAt: number) => string, workflow: LoadedWorkflow): (ack: AckRequest) => Promise<{ url: string; ackDueAt: number }> {
  return async (ack) => {
    const owner = ownerOf(workflow.value);
    const row = await store.openEscalation({
      runId: ack.runId, workflow: workflow.name, workflowVersion: workflow.version, owner: owner.name, members: owner.members, error: ack.error,
      escalatedAt: ack.escalatedAt, ackDueAt: ack.ackDueAt, hasThen: ack.hasThen,
    });
    return { url: link(ack.runId, row.ackDueAt), ackDueAt: row.ackDueAt };
  };
}
