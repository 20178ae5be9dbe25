// Calls a vendor connector's operation through the real runtime (vendor runtime on the HTTP
// connector) against a running sandbox, as a workflow step would.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { connectorSpecs } from '../../src/connectors/index.js';
import type { CallOutcome, ConnectionConfig, ConnectorRuntime } from '../../src/connectors/runtime.js';
import { createVendorRuntime } from '../../src/connectors/vendor-runtime.js';
import { vendorBaseUrl } from '../../src/sandbox/contract/sites.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { Masker } from '../../src/secrets/masker.js';

export interface Caller {
  call(connector: string, operation: string, params: Record<string, unknown>, options?: { idempotencyKey?: string; auth?: boolean }): Promise<CallOutcome>;
  close(): Promise<void>;
}

/** A caller whose connections point at the sandbox at `url`, with a demo bearer token. */
export async function caller(url: string): Promise<Caller> {
  const http: ConnectorRuntime = await createHttp({ userAgent: 'flux-test' });
  let n = 0;
  return {
    async call(connector, operation, params, options = {}) {
      const spec = connectorSpecs[connector]!;
      const headers = Object.fromEntries(Object.entries(spec.connectionHeaders ?? {}).map(([k, h]) => [k, h.example]));
      const connection = { base_url: vendorBaseUrl(url, connector), headers, ...(options.auth === false ? {} : { auth: { bearer: 'sandbox-token-0123' } }) } as ConnectionConfig;
      return createVendorRuntime(spec, http).call({ operation, params, connection }, {
        signal: new AbortController().signal, idempotencyKey: options.idempotencyKey ?? `RUN${++n}:step`, masker: new Masker(), dryRun: false,
      });
    },
    close: async () => {
      await http.close?.();
    },
  };
}

/** A fresh sandbox (on the clock `now`, if given) and caller for each test of the calling block: `ctx.sandbox`, `ctx.vendors`. */
export function sandboxPerTest(options: { now?: () => number } = {}): { sandbox: Sandbox; vendors: Caller } {
  return sandboxFor(beforeEach, afterEach, options);
}

/** One sandbox and caller shared by every test of the calling block, in order. */
export function sandboxPerBlock(): { sandbox: Sandbox; vendors: Caller } {
  return sandboxFor(beforeAll, afterAll, {});
}

function sandboxFor(before: typeof beforeAll, after: typeof afterAll, options: { now?: () => number }): { sandbox: Sandbox; vendors: Caller } {
  const ctx = {} as { sandbox: Sandbox; vendors: Caller };
  before(async () => {
    ctx.sandbox = await startSandbox(options);
    ctx.vendors = await caller(ctx.sandbox.url);
  });
  after(async () => {
    await ctx.vendors.close();
    await ctx.sandbox.close();
  });
  return ctx;
}
