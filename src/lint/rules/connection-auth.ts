/**
 * connection-auth: a connection's auth scheme is one its connector accepts (the spec's `auth`
 * list: Intercom takes a bearer token, not OAuth2), and an `oauth2` block names its token
 * endpoint unless the connector knows the vendor's (spec.oauth). The schema checks each
 * scheme's own fields.
 */
import { connectorSpecs } from '../../connectors/index.js';
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const connectionAuth: FileRule = {
  id: 'connection-auth',
  description: "A connection's auth scheme must be one its connector supports, and oauth2 needs a token endpoint.",
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const raw = asRecord(a.workflow.connections) ?? {};
    for (const [name, c] of Object.entries(a.connections)) {
      const auth = asRecord(asRecord(raw[name])?.auth);
      if (!auth) continue;
      const spec = c.type ? connectorSpecs[c.type] : undefined;
      const connector = c.type ?? 'http';
      for (const scheme of Object.keys(auth)) {
        const at = a.source.locate(['connections', name, 'auth', scheme], { key: true });
        if (spec?.auth && !(spec.auth as readonly string[]).includes(scheme)) {
          const supported = spec.auth.map((s) => `\`${s}\``).join(', ');
          report({ at, message: `connection \`${name}\` uses \`${scheme}\` auth, which ${connector} does not support; it supports ${supported}` });
          continue;
        }
        const oauth2 = scheme === 'oauth2' ? asRecord(auth.oauth2) : undefined;
        if (oauth2 && oauth2.token_url === undefined && !spec?.oauth) {
          report({ at, message: `connection \`${name}\` needs \`token_url\` under \`oauth2\`: ${connector} has no default token endpoint` });
        }
      }
    }
  },
};
