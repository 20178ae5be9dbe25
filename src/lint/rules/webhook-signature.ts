/**
 * webhook-signature: a signature field the chosen scheme does not read is a mistake, not a
 * setting. `header` and `encoding` belong to hmac-sha256 (the providers fix their own); a
 * `tolerance` on github or hmac-sha256 suggests replay protection those schemes cannot give,
 * because their signatures carry no timestamp.
 */
import { asRecord, triggerOf } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

const FIXED: Readonly<Record<string, string>> = { stripe: 'Stripe-Signature (hex)', github: 'X-Hub-Signature-256 (hex)', slack: 'X-Slack-Signature (hex)' };

export const webhookSignature: FileRule = {
  id: 'webhook-signature',
  description: 'Webhook signature fields apply to the scheme: header and encoding to hmac-sha256, tolerance to stripe and slack.',
  severity: 'warning',
  scope: 'file',
  check(a, report) {
    const t = triggerOf(a.workflow);
    if (t?.kind !== 'webhook') return;
    const sig = asRecord(t.body.signature);
    const scheme = sig?.scheme;
    if (!sig || typeof scheme !== 'string') return;
    const at = (key: string) => a.source.locate(['trigger', 'webhook', 'signature', key]);
    const fixed = FIXED[scheme];
    if (fixed) {
      for (const key of ['header', 'encoding']) {
        if (key in sig) report({ at: at(key), message: `\`${key}\` has no effect with scheme \`${scheme}\`, which always signs in ${fixed}; remove it` });
      }
    }
    if ((scheme === 'github' || scheme === 'hmac-sha256') && 'tolerance' in sig) {
      report({ at: at('tolerance'), message: `\`tolerance\` has no effect with scheme \`${scheme}\`: its signatures carry no timestamp, so a replayed delivery cannot be told by age; use \`dedupe\` to run each delivery once` });
    }
  },
};
