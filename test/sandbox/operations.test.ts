// Every operation of every checked connector, its spec example run through the real connector
// runtime against the contract sandbox: the sandbox accepts it (the request matched the
// vendor's description and the state the example names), and the answer matches the response
// schema the vendor's description gives for it, where it gives one. A connector with no vendor
// description (HubSpot) is played instead: its site must route and handle each of its
// operations, and hubspot.test.ts runs their examples.
import { describe, expect, it } from 'vitest';
import { checkResponse, loadDescription } from '../../src/connectors/contract/check.js';
import { connectorSpecs } from '../../src/connectors/index.js';
import { matchRoute } from '../../src/sandbox/contract/site.js';
import { vendorSites } from '../../src/sandbox/contract/sites.js';
import { exampleParams } from '../connectors/arbitraries.js';
import { sandboxPerBlock } from './helpers.js';

const checked = Object.values(connectorSpecs).filter((c) => c.vendorCheck?.checked === true);
const ctx = sandboxPerBlock();
let described = 0;
const unreadable: string[] = [];

describe('the contract sandbox plays every operation of every checked connector', () => {
  for (const spec of checked) {
    const check = spec.vendorCheck as Extract<typeof spec.vendorCheck, { checked: true }>;
    const description = loadDescription(check);
    describe(spec.name, () => {
      // In the spec's order: a connector lists create before update, finalize before pay.
      for (const [name, op] of Object.entries(spec.operations)) {
        it(`${name}: the spec's example succeeds and its answer matches the described response`, async () => {
          const outcome = await ctx.vendors.call(spec.name, name, exampleParams(op));
          expect(outcome.error?.message, JSON.stringify(outcome.output)).toBeUndefined();
          expect(outcome.ok).toBe(true);
          const served = ctx.sandbox.state.requests.at(-1)!;
          expect(served.vendor).toBeDefined();
          const result = checkResponse(description, op.http!.method, served.operation!, outcome.status!, outcome.output);
          if (result.described) described++;
          if (result.unreadable) unreadable.push(`${spec.name}.${name}`);
          expect(result.problems.join('\n'), JSON.stringify(outcome.output).slice(0, 2000)).toBe('');
        });
      }
    });
  }
  it('checked a described response schema for most operations', () => {
    // Stripe's descriptions keep only request sides, SendGrid's 202 and Xero's email 204 have no body.
    expect(described).toBeGreaterThanOrEqual(30);
    // Square's description, cut to a few operations, lost a schema its payment link answer refers to.
    expect(unreadable).toEqual(['square.create_payment_link']);
  });
});

describe('the contract sandbox plays every catalogue connector', () => {
  for (const spec of Object.values(connectorSpecs).filter((c) => c.vendorCheck !== undefined)) {
    it(`${spec.name}: a site serves it${spec.vendorCheck?.checked === true ? '' : ', routing and handling every operation'}`, () => {
      const site = vendorSites.find((s) => s.connectors.includes(spec.name));
      expect(site, `no sandbox site plays ${spec.name}`).toBeDefined();
      if (spec.vendorCheck?.checked === true) return;
      const base = new URL(spec.baseUrl!).pathname.replace(/\/$/, '');
      const unplayed = Object.entries(spec.operations).filter(([, op]) => {
        const route = matchRoute(site!.routes ?? [], op.http!.method, `${base}${op.http!.path}`);
        return !route || !site!.handlers[`${op.http!.method} ${route.template}`];
      });
      expect(unplayed.map(([name]) => name)).toEqual([]);
    });
  }
});
