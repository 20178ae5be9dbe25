// Builds a vendor operation's request through the real connector runtime (vendor runtime on
// the HTTP connector) in dry-run mode: the request exactly as it would be sent, sent nowhere.
import { createHttp } from '../../src/connectors/http.js';
import type { ConnectionConfig, ConnectorRuntime } from '../../src/connectors/runtime.js';
import type { ConnectorSpec } from '../../src/connectors/spec.js';
import { createVendorRuntime } from '../../src/connectors/vendor-runtime.js';
import { Masker } from '../../src/secrets/masker.js';
import type { BuiltHttpRequest } from '../../src/connectors/contract/check.js';

let http: ConnectorRuntime | undefined;

export async function buildThroughConnector(spec: ConnectorSpec, operation: string, params: Record<string, unknown>, idempotencyKey = 'RUN1:step'): Promise<BuiltHttpRequest> {
  http ??= await createHttp({ userAgent: 'flux-test' });
  const runtime = createVendorRuntime(spec, http);
  // No base_url: the connector's default is used, as for `connections: { x: { connector: ... } }`.
  // Headers the vendor needs on every call (Xero's tenant) come from the connection, as in a workflow.
  const headers = Object.fromEntries(Object.entries(spec.connectionHeaders ?? {}).map(([k, h]) => [k, h.example]));
  const connection = { auth: { bearer: 'test-token-0123' }, headers } as unknown as ConnectionConfig;
  const outcome = await runtime.call({ operation, params, connection }, { signal: new AbortController().signal, idempotencyKey, masker: new Masker(), dryRun: true });
  if (!outcome.ok) throw new Error(`${spec.name}.${operation} did not build: ${outcome.error?.message}`);
  return (outcome.output as { request: BuiltHttpRequest }).request;
}

export async function closeBuilder(): Promise<void> {
  await http?.close?.();
  http = undefined;
}
