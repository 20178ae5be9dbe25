// connection-auth: a connection's auth scheme against its connector's spec, with the
// message naming the supported schemes, and the schema's oauth2 shapes.
import { describe, expect, it } from 'vitest';
import { lintSources } from '../../src/lint/linter.js';
import { parseSource } from '../../src/workflow/source.js';
import { head, oauthTables } from './lint-tables.js';

function lint(text: string) {
  const parsed = parseSource('f.yaml', text);
  if (!parsed.ok) throw new Error(`fixture does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  return lintSources([parsed.source]).diagnostics;
}

for (const [rule, table] of Object.entries(oauthTables)) {
  describe(rule, () => {
    table.valid.forEach((text, i) => it(`valid ${i + 1}`, () => expect(lint(text).filter((d) => d.severity === 'error')).toEqual([])));
    table.invalid.forEach((c, i) => it(`invalid ${i + 1}`, () => expect(lint(c.text).filter((d) => d.ruleId === rule).map((d) => `${d.line}:${d.column}`)).toEqual(c.at)));
  });
}

describe('messages', () => {
  it('names the connector and the schemes it supports', () => {
    const [d] = lint(oauthTables['connection-auth']!.invalid[0]!.text).filter((x) => x.ruleId === 'connection-auth');
    expect(d?.message).toBe('connection `crm` uses `oauth2` auth, which intercom does not support; it supports `bearer`');
    expect(d?.severity).toBe('error');
  });
});

describe('schema: oauth2 shapes', () => {
  const errors = (auth: string) => lint(`${head}  api: { base_url: "https://api.example.com", auth: { oauth2: ${auth} } }\n`).filter((d) => d.ruleId === 'schema').map((d) => d.message);

  it('accepts both grants', () => {
    expect(errors('{ token_url: "https://a.test/t", client_id: c, client_secret: s }')).toEqual([]);
    expect(errors('{ grant: refresh_token, token_url: "https://a.test/t", client_id: c, refresh_token: "${{ secrets.T }}" }')).toEqual([]);
  });

  it('refresh_token grant needs refresh_token; client credentials need client_secret; grants are a closed list', () => {
    expect(errors('{ grant: refresh_token, token_url: "https://a.test/t", client_id: c }').join('\n')).toMatch(/refresh_token/);
    expect(errors('{ token_url: "https://a.test/t", client_id: c }').join('\n')).toMatch(/client_secret/);
    expect(errors('{ grant: password, token_url: "https://a.test/t", client_id: c, client_secret: s }').join('\n')).toMatch(/grant/);
  });
});
