// `flux connectors` as a real spawned process, the generated reference kept up to date, and
// the workflow schema's generated connector part matching the specs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectorSchemaDefs } from '../../src/connectors/schema-shapes.js';
import { referenceMarkdown } from '../../src/connectors/reference.js';
import { runFlux } from '../helpers.js';

describe('flux connectors', () => {
  it('lists connectors with their category, operations and whether they are checked', async () => {
    const r = await runFlux(['connectors']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^slack +chat +post_message, update_message, lookup_user_by_email, list_channels +checked$/m);
    expect(r.stdout).toMatch(/^stripe +payments .*create_refund +checked$/m);
    expect(r.stdout).toMatch(/^sendgrid +email +send_email +checked$/m);
  });

  it("shows a connector's operations", async () => {
    const r = await runFlux(['connectors', 'slack']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('base URL: https://slack.com/api');
    expect(r.stdout).toMatch(/^ {2}post_message +Post a message/m);
  });

  it("shows an operation's fields and an example step", async () => {
    const r = await runFlux(['connectors', 'slack', 'post_message']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('channel (required): string');
    expect(r.stdout).toContain('give at least one of: text, blocks');
    expect(r.stdout).toContain('uses: slack.post_message');
  });

  it('exits 2 with a suggestion for an unknown connector or operation', async () => {
    const a = await runFlux(['connectors', 'slak']);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe('flux: unknown connector `slak`; did you mean `slack`? (flux connectors lists them)\n');
    const b = await runFlux(['connectors', 'slack', 'post_mesage']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('did you mean `post_message`?');
    const c = await runFlux(['connectors', 'slack', '--markdown']);
    expect(c.code).toBe(2);
  });
});

describe('generated files', () => {
  it('docs/connectors.md is the reference the specs make (regenerate: flux connectors --markdown > docs/connectors.md)', () => {
    expect(readFileSync(new URL('../../docs/connectors.md', import.meta.url), 'utf8')).toBe(referenceMarkdown());
  });

  it("the workflow schema's connector part matches the specs (regenerate: npm run build)", () => {
    const schema = JSON.parse(readFileSync(new URL('../../schemas/workflow.schema.json', import.meta.url), 'utf8')) as { $defs: Record<string, unknown> };
    const generated = connectorSchemaDefs();
    expect(schema.$defs.connectorName).toEqual(generated.connectorName);
    expect(schema.$defs.operationWith).toEqual(generated.operationWith);
  });
});
