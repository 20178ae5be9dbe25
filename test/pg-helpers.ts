// PostgreSQL for tests: the server at $FLUX_TEST_PG_URL (the machine's, trust auth), a fresh
// schema per store so test files, and CI runs, never see each other's rows, and every schema a
// file made dropped when it ends. An unreachable server fails the tests that need it, loudly:
// it never skips them.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server. */
export const PG_URL = process.env.FLUX_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A store URL for `schema` on the test server. */
export function urlWithSchema(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return url.href;
}

/** Runs one statement on the test server, outside any store (to inspect, break or clean up). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Fails (throws) with a message saying how to get a server when the test server does not
 * answer: call it in beforeAll.
 */
export async function requirePostgres(): Promise<void> {
  try {
    await adminQuery('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}). These tests need a real server: ` +
        'start one (CI runs .ci/run, which does), or point FLUX_TEST_PG_URL at one.',
    );
  }
}

/** Schemas made by one test file: `fresh()` names a new one; `dropAll()` (afterAll) drops them all. */
export function testSchemas(prefix = 'flux_test'): { fresh(): string; dropAll(): Promise<void> } {
  const made: string[] = [];
  const run = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  return {
    fresh() {
      const name = `${run}_${made.length}`;
      made.push(name);
      return name;
    },
    async dropAll() {
      const names = made.splice(0);
      if (names.length === 0) return;
      const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        // The names are quoted by the server (format %I), not spliced in here.
        for (const name of names) {
          const { rows } = await client.query<{ sql: string }>("SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS sql", [name]);
          await client.query(rows[0]!.sql);
        }
      } finally {
        await client.end();
      }
    },
  };
}
