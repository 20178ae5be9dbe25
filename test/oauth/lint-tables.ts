// The connection-auth rule's table (see lint.test.ts), shared with test/lint/rules.test.ts,
// which checks that every rule has one.

export const head = `name: t
owner: ops@example.com
trigger: manual
secrets: [T]
steps:
  - id: a
    set: { x: 1 }
connections:
`;
// Line 9 is the first line after the head.

/** The connection-auth rule's table: positions of the scheme's key. */
export const oauthTables: Record<string, { valid: string[]; invalid: { text: string; at: string[] }[] }> = {
  'connection-auth': {
    valid: [
      `${head}  crm: { connector: intercom, auth: { bearer: "\${{ secrets.T }}" } }\n`,
      // A vendor with OAuth endpoints in its spec: no token_url needed.
      `${head}  books: { connector: xero, headers: { xero-tenant-id: t1 }, auth: { oauth2: { grant: refresh_token, client_id: c, refresh_token: "\${{ secrets.T }}" } } }\n`,
      `${head}  cal:\n    connector: google_calendar\n    auth:\n      oauth2: { grant: refresh_token, client_id: c, client_secret: "\${{ secrets.T }}", refresh_token: "\${{ secrets.T }}" }\n`,
      // http takes every scheme; oauth2 with its token_url.
      `${head}  api: { base_url: "https://api.example.com", auth: { oauth2: { token_url: "https://auth.example.com/token", client_id: c, client_secret: "\${{ secrets.T }}" } } }\n`,
      `${head}  api: { base_url: "https://api.example.com", auth: { api_key: { header: X-Key, value: "\${{ secrets.T }}" } } }\n`,
    ],
    invalid: [
      // Intercom takes a bearer token only.
      { text: `${head}  crm: { connector: intercom, auth: { oauth2: { grant: refresh_token, token_url: "https://x.test/t", client_id: c, refresh_token: "\${{ secrets.T }}" } } }\n`, at: ['9:39'] },
      { text: `${head}  chat:\n    connector: slack\n    auth:\n      basic: { username: u }\n`, at: ['12:7'] },
      // oauth2 on http, or on a vendor that has no default endpoint, needs token_url.
      { text: `${head}  api: { base_url: "https://api.example.com", auth: { oauth2: { client_id: c, client_secret: s } } }\n`, at: ['9:55'] },
    ],
  },
};
