/**
 * The connector registry: every connector flux knows, by name.
 */
import { boxSpec } from './box.js';
import { discordSpec } from './discord.js';
import { gmailSpec } from './gmail.js';
import { googleCalendarSpec } from './google-calendar.js';
import { googleChatSpec } from './google-chat.js';
import { googleDriveSpec } from './google-drive.js';
import { httpSpec } from './http.js';
import { hubspotSpec } from './hubspot.js';
import { intercomSpec } from './intercom.js';
import { notionSpec } from './notion.js';
import { paypalInvoicingSpec } from './paypal-invoicing.js';
import { resendSpec } from './resend.js';
import type { ConnectorRuntime } from './runtime.js';
import { sendgridSpec } from './sendgrid.js';
import { slackSpec } from './slack.js';
import { squareSpec } from './square.js';
import type { ConnectorSpec, OperationSpec } from './spec.js';
import { stripeInvoicingSpec } from './stripe-invoicing.js';
import { stripeSpec } from './stripe.js';
import { xeroSpec } from './xero.js';

/**
 * Every connector, by name, sorted. A vendor connector is one file and one line here; its
 * operations are checked against the vendor's API description in test/connectors.
 */
export const connectorSpecs: Readonly<Record<string, ConnectorSpec>> = {
  box: boxSpec,
  discord: discordSpec,
  gmail: gmailSpec,
  google_calendar: googleCalendarSpec,
  google_chat: googleChatSpec,
  google_drive: googleDriveSpec,
  http: httpSpec,
  hubspot: hubspotSpec,
  intercom: intercomSpec,
  notion: notionSpec,
  paypal_invoicing: paypalInvoicingSpec,
  resend: resendSpec,
  sendgrid: sendgridSpec,
  slack: slackSpec,
  square: squareSpec,
  stripe: stripeSpec,
  stripe_invoicing: stripeInvoicingSpec,
  xero: xeroSpec,
};

export type ResolvedOperation =
  | { readonly ok: true; readonly connector: ConnectorSpec; readonly operation: OperationSpec; readonly name: string; readonly connection?: string }
  | { readonly ok: false; readonly message: string; readonly target: 'connector' | 'operation' };

/**
 * Resolves a step's `uses` against the connectors and the workflow's connections:
 * `http` is a standalone connector, `crm.request` an operation on connection `crm`.
 */
export function resolveUses(uses: string, connections: Readonly<Record<string, { type?: string }>>): ResolvedOperation {
  const dot = uses.indexOf('.');
  if (dot === -1) {
    const connector = connectorSpecs[uses];
    if (connector?.standalone) return { ok: true, connector, operation: connector.standalone, name: uses };
    if (connections[uses]) {
      const ops = Object.keys(connectorSpecs[connections[uses]!.type ?? 'http']?.operations ?? {});
      return { ok: false, target: 'connector', message: `\`${uses}\` is a connection; name an operation, e.g. \`${uses}.${ops[0] ?? 'request'}\`` };
    }
    if (connectorSpecs[uses]) {
      return { ok: false, target: 'connector', message: `\`${uses}\` is a connector; declare a connection (\`connections: { ${uses}: { connector: ${uses}, auth: ... } }\`) and use \`${uses}.<operation>\`` };
    }
    return { ok: false, target: 'connector', message: `unknown connector \`${uses}\`${suggest(uses, [...standaloneNames(), ...Object.keys(connections)])}` };
  }
  const connectionName = uses.slice(0, dot);
  const operationName = uses.slice(dot + 1);
  const connection = connections[connectionName];
  if (!connection) {
    const declared = Object.keys(connections);
    const hint = declared.length === 0
      ? '; declare it under `connections:` with a base_url'
      : suggest(connectionName, declared) || `; declared connections: ${declared.map((c) => `\`${c}\``).join(', ')}`;
    return { ok: false, target: 'connector', message: `unknown connection \`${connectionName}\`${hint}` };
  }
  const type = connection.type ?? 'http';
  const connector = connectorSpecs[type];
  if (!connector) return { ok: false, target: 'connector', message: `connection \`${connectionName}\` has unknown type \`${type}\`${suggest(type, Object.keys(connectorSpecs))}` };
  // A vendor connection also takes a raw request relative to its base URL, with its auth, for
  // what the connector has no operation for yet.
  const operation = connector.operations[operationName] ?? (operationName === 'request' && connector.baseUrl ? httpSpec.operations.request : undefined);
  if (!operation) {
    const ops = Object.keys(connector.operations);
    return {
      ok: false, target: 'operation',
      message: `unknown operation \`${operationName}\` for connection \`${connectionName}\` (${type})${suggest(operationName, ops) || `; available: ${ops.map((o) => `\`${o}\``).join(', ')}`}`,
    };
  }
  return { ok: true, connector, operation, name: `${type}.${operationName}`, connection: connectionName };
}

function standaloneNames(): string[] {
  return Object.values(connectorSpecs).filter((c) => c.standalone).map((c) => c.name);
}

/** "; did you mean `x`?" when a close candidate exists, else "". */
export function suggest(word: string, candidates: readonly string[]): string {
  const best = closest(word, candidates);
  return best === undefined ? '' : `; did you mean \`${best}\`?`;
}

/** The candidate within a small edit distance of `word`, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance && d <= limit) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * The runtime of every connector, for one process (pools are shared across runs). Each is
 * created on its first call, so a run that makes no HTTP call never loads the HTTP client.
 */
export async function createConnectors(options: { userAgent: string }): Promise<Record<string, ConnectorRuntime>> {
  const http = lazy(async () => {
    const { createHttp } = await import('./http.js');
    return createHttp({ userAgent: options.userAgent });
  });
  const runtimes: Record<string, ConnectorRuntime> = { http };
  let vendors: Promise<Record<string, ConnectorRuntime>> | undefined;
  for (const spec of Object.values(connectorSpecs)) {
    if (spec.standalone) continue;
    // Vendor connectors send through the one HTTP runtime, so they share its pools; closing
    // them is closing it, which `http` does.
    runtimes[spec.name] = lazy(async () => {
      vendors ??= import('./vendor-runtime.js').then((m) => m.createVendorRuntimes(http));
      return (await vendors)[spec.name]!;
    }, false);
  }
  return runtimes;
}

function lazy(create: () => Promise<ConnectorRuntime>, owns = true): ConnectorRuntime {
  let runtime: Promise<ConnectorRuntime> | undefined;
  return {
    async call(call, ctx) {
      runtime ??= create();
      return (await runtime).call(call, ctx);
    },
    async close() {
      if (runtime && owns) await (await runtime).close?.();
    },
  };
}
