// Group commit for PostgreSQL intake: unkeyed runs enqueued together go in one statement (one
// commit), each caller told only once its row is committed; a bad row fails its own caller and
// no other; and against the real server, a burst of intake lands whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { RunBatcher } from '../../src/store/postgres/run-batcher.js';
import { requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const schemas = testSchemas('flux_intake');
beforeAll(requirePostgres);
afterAll(() => schemas.dropAll());

/** A batcher over recording fakes: each "statement" waits for the test to let it finish. */
function recorded(failOn?: string) {
  const statements: string[][] = [];
  const gates: (() => void)[] = [];
  const wait = () => new Promise<void>((resolve) => gates.push(resolve));
  const batcher = new RunBatcher(
    async (rows) => {
      statements.push(rows.map((r) => String(r.id)));
      await wait();
      if (failOn !== undefined && rows.some((r) => r.id === failOn)) throw new Error('insert or update on table "runs" violates foreign key constraint');
    },
    async (row) => {
      statements.push([String(row.id)]);
      await wait();
      if (row.id === failOn) throw new Error('insert or update on table "runs" violates foreign key constraint');
    },
    500,
    1,
  );
  const release = async () => {
    while (gates.length > 0) gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { batcher, statements, release };
}

describe('RunBatcher', () => {
  it('rows submitted while a batch is on its way go together in the next one', async () => {
    const { batcher, statements, release } = recorded();
    const settled: string[] = [];
    const first = batcher.submit({ id: 'a' }).then(() => settled.push('a'));
    await new Promise((r) => setImmediate(r));
    expect(statements).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map((id) => batcher.submit({ id }).then(() => settled.push(id)));
    await new Promise((r) => setImmediate(r));
    // One batch in flight at most (as configured): b, c, d wait, and nobody is told early.
    expect(statements).toEqual([['a']]);
    expect(settled).toEqual([]);
    await release();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(statements).toEqual([['a'], ['b', 'c', 'd']]);
    expect(settled).toEqual(['a']);
    await release();
    await Promise.all(rest);
    expect(settled).toEqual(['a', 'b', 'c', 'd']);
    await batcher.drained();
  });

  it('a batch that fails is tried row by row: the bad row fails its caller alone', async () => {
    const { batcher, statements, release } = recorded('y');
    let done = false;
    const outcomes = Promise.all(['x', 'y', 'z'].map((id) => batcher.submit({ id }).then(() => 'ok', (e: Error) => e.message))).finally(() => (done = true));
    for (let i = 0; i < 20 && !done; i++) {
      await new Promise((r) => setImmediate(r));
      await release();
    }
    expect(await outcomes).toEqual(['ok', 'insert or update on table "runs" violates foreign key constraint', 'ok']);
    expect(statements).toEqual([['x', 'y', 'z'], ['x'], ['y'], ['z']]);
  });
});

describe('PostgreSQL intake', () => {
  it('a burst of 2,000 webhook runs: each committed and readable, a bad one refused alone', async () => {
    const store = await openPostgresStore({ url: urlWithSchema(schemas.fresh()), now: () => T0 });
    try {
      await store.putWorkflowVersion({ hash: 'sha256:v1', name: 'intake', text: 'name: intake\n', createdAt: T0 });
      const run = (i: number, version = 'sha256:v1') => ({ id: `01RUN${String(i).padStart(8, '0')}`, workflow: 'intake', workflowVersion: version, trigger: 'webhook', event: { n: i, text: 'naïve \u2028 "quoted"' }, receivedAt: T0 + i });
      const outcomes = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => store.enqueueRun(run(i, i === 777 ? 'sha256:unknown' : 'sha256:v1'), T0)));
      expect(outcomes.filter((o) => o.status === 'rejected').length).toBe(1);
      expect(outcomes[777]?.status).toBe('rejected');
      const runs = await store.listRuns({ workflow: 'intake', limit: 5000 });
      expect(runs.length).toBe(1999);
      const one = await store.getRun(run(42).id);
      expect(one).toMatchObject({ status: 'queued', trigger: 'webhook', event: { n: 42, text: 'naïve \u2028 "quoted"' }, receivedAt: T0 + 42, chainDepth: 0 });
    } finally {
      await store.close();
    }
  });
});
