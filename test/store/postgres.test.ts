// The PostgreSQL store: the shared suite against the real server at $FLUX_TEST_PG_URL, each
// store in a fresh schema, then what only a shared server can show: daemons migrating at once,
// many claimers and schedulers racing on one database, a connection killed mid-call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, openPostgresStore, PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { PostgresOpenError } from '../../src/store/postgres/connection.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import type { Store } from '../../src/store/store.js';
import { adminQuery, requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';
import { describeStore } from './store-suite.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const now = () => T0;
const schemas = testSchemas();

beforeAll(requirePostgres);
afterAll(() => schemas.dropAll());

describeStore(
  'postgres',
  () => openPostgresStore({ url: urlWithSchema(schemas.fresh()), now }),
  (store: Store) => openPostgresStore({ url: urlWithSchema((store as PostgresStore).schema), now }),
  { commitsOnCallerThread: false },
);
