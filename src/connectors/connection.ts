/**
 * Which connector a workflow's connection uses: `connector: slack`, or the older
 * `type: http`; undefined when it names none (the HTTP connector).
 */
import { asRecord } from '../workflow/model.js';

/** The connector a raw `connections.<name>` value names, if any. */
export function connectorOf(connection: unknown): string | undefined {
  const c = asRecord(connection);
  const name = c?.connector ?? c?.type;
  return typeof name === 'string' ? name : undefined;
}
