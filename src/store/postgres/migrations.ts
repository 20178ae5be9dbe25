/**
 * The PostgreSQL schema, as numbered migrations applied in order at open (see migrate.ts). A
 * migration, once released, is never edited: a change is a new migration. The numbering is the
 * PostgreSQL store's own; the tables mean what the SQLite store's tables mean
 * (src/store/sqlite/migrations.ts) and keep their names, so an operator reads either with the
 * same words.
 *
 * Types, for an operator with psql: times are bigint milliseconds since the epoch (the store's
 * own unit: `to_timestamp(created_at / 1000.0)` shows one); outside data (events, step outputs,
 * errors, form inputs, cursors) is `json`, which keeps the text as it came (key order, a
 * `\u0000` jsonb would refuse); the store's own small structures are `jsonb`; identifiers and
 * states are text in the "C" collation, so they sort as the code compares them, on any server.
 */
import type { Migration } from '../sqlite/migrations.js';

export type { Migration };

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, run keys, journal, events, workflow versions, shared keys',
    sql: `
CREATE TABLE workflow_versions (
  hash        text COLLATE "C" PRIMARY KEY,   -- sha256:<hex> of the file
  name        text NOT NULL,
  text        text NOT NULL,
  created_at  bigint NOT NULL
);

CREATE TABLE runs (
  id                text COLLATE "C" PRIMARY KEY,   -- ULID: sorts by creation time
  workflow          text COLLATE "C" NOT NULL,
  workflow_version  text COLLATE "C" NOT NULL REFERENCES workflow_versions (hash),
  status            text COLLATE "C" NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'escalated', 'cancelled', 'rejected')),
  trigger           text NOT NULL,                  -- manual, schedule, webhook, poll, event
  event             json NOT NULL,
  received_at       bigint NOT NULL,
  scheduled_for     bigint,                         -- a schedule fire's time; not started before it
  started_at        bigint,                         -- when a runner first took it
  attempt           integer NOT NULL DEFAULT 0,     -- 1 on the first start, +1 per rescue
  lease_owner       text,                           -- the daemon running it, while running
  lease_until       bigint,                         -- past this, the owner is presumed dead
  wake_at           bigint,                         -- a waiting run is resumed at this time
  waiting_event     text,                           -- the event name a waiting run waits for
  waiting_for       jsonb,                          -- {event, step, match}
  cancel_requested  boolean NOT NULL DEFAULT false, -- stop at the next step
  parent_run_id     text COLLATE "C",               -- the run whose event started this one
  retry_of          text COLLATE "C" REFERENCES runs (id),
  chain_depth       integer NOT NULL DEFAULT 0,
  error             json,                           -- {message, step?, http_status?}
  created_at        bigint NOT NULL,
  updated_at        bigint NOT NULL,
  finished_at       bigint
);
-- What claimRuns scans (each with SKIP LOCKED): queued runs in id order, waiting runs by wake
-- time, running runs by lease; the rest serve waitingOn, listRuns, countRuns and limits.
CREATE INDEX runs_queued_by_id ON runs (id) WHERE status = 'queued';
CREATE INDEX runs_waking_in_order ON runs (wake_at, id) WHERE status = 'waiting';
CREATE INDEX runs_leased ON runs (lease_until, id) WHERE status = 'running';
CREATE INDEX runs_waiting_event ON runs (waiting_event) WHERE status = 'waiting';
CREATE INDEX runs_by_workflow ON runs (workflow, created_at);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_active_by_workflow ON runs (workflow, status, id) WHERE status IN ('queued', 'running', 'waiting');
-- flux runs retry: a run is retried once, however many operators (or daemons) ask at once.
CREATE UNIQUE INDEX runs_retry_of ON runs (retry_of) WHERE retry_of IS NOT NULL;

-- A webhook delivery (kind 'dedupe') or a schedule fire (kind 'fire') starts one run, however
-- many daemons see it: the key is inserted first (ON CONFLICT DO NOTHING), the run follows in
-- the same transaction.
CREATE TABLE run_keys (
  kind        text COLLATE "C" NOT NULL CHECK (kind IN ('dedupe', 'fire')),
  workflow    text COLLATE "C" NOT NULL,
  key         text COLLATE "C" NOT NULL,
  run_id      text COLLATE "C" NOT NULL REFERENCES runs (id) DEFERRABLE INITIALLY DEFERRED,
  created_at  bigint NOT NULL,
  PRIMARY KEY (kind, workflow, key)
);
CREATE INDEX run_keys_by_run ON run_keys (run_id);

-- A run's history: what replay returns instead of running a step again. Outputs are whole.
CREATE TABLE journal (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- write order
  run_id       text COLLATE "C" NOT NULL REFERENCES runs (id),
  key          text COLLATE "C" NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('step', 'random', 'time')),
  status       text NOT NULL,
  output       json NOT NULL,
  error        json,
  attempt      integer NOT NULL,
  started_at   bigint NOT NULL,
  finished_at  bigint NOT NULL,
  UNIQUE (run_id, key)
);

-- Events emitted by runs or injected from outside; leased to one daemon (SKIP LOCKED), delivered
-- once (the conditional update that sets delivered_at).
CREATE TABLE events (
  id             text COLLATE "C" PRIMARY KEY,
  name           text NOT NULL,
  data           json NOT NULL,
  source_run_id  text COLLATE "C",
  chain_depth    integer NOT NULL DEFAULT 0,
  created_at     bigint NOT NULL,
  lease_owner    text,
  lease_until    bigint,
  delivered_at   bigint
);
CREATE INDEX events_pending ON events (created_at, id) WHERE delivered_at IS NULL;

-- Values every daemon on this store agrees on, made once by whichever asks first.
CREATE TABLE shared_keys (
  name        text COLLATE "C" PRIMARY KEY,
  value       text NOT NULL,
  created_at  bigint NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'approval answers, escalations, poll triggers',
    sql: `
-- One answer per person per approval step, written only while the step is open.
CREATE TABLE approval_answers (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- answer order
  run_id        text COLLATE "C" NOT NULL REFERENCES runs (id),
  step          text COLLATE "C" NOT NULL,
  approver      text COLLATE "C" NOT NULL,
  choice        text NOT NULL,
  inputs        json NOT NULL,
  answered_at   bigint NOT NULL,
  via           text NOT NULL CHECK (via IN ('page', 'api', 'cli')),
  from_address  text,
  UNIQUE (run_id, step, approver)
);

-- An escalated run's acknowledgement (once, by a conditional update) and its then call
-- (leased to one daemon with SKIP LOCKED, made once).
CREATE TABLE escalations (
  run_id            text COLLATE "C" PRIMARY KEY REFERENCES runs (id),
  workflow          text COLLATE "C" NOT NULL,
  workflow_version  text NOT NULL,
  owner             text NOT NULL,
  members           jsonb NOT NULL,           -- who may acknowledge
  error             json NOT NULL,
  escalated_at      bigint NOT NULL,
  ack_due_at        bigint NOT NULL,
  acked_by          text,
  acked_at          bigint,
  acked_via         text,                     -- link, cli
  has_then          boolean NOT NULL,
  then_next_at      bigint,
  then_attempts     integer NOT NULL DEFAULT 0,
  then_lease_owner  text,
  then_lease_until  bigint,
  then_sent_at      bigint,
  then_error        text
);
CREATE INDEX escalations_then_due ON escalations (then_next_at, run_id) WHERE acked_at IS NULL AND then_sent_at IS NULL AND has_then;
CREATE INDEX escalations_open ON escalations (workflow, ack_due_at) WHERE acked_at IS NULL;

-- One row per workflow with a poll trigger, leased to one daemon at a time by a conditional upsert.
CREATE TABLE poll_state (
  workflow      text COLLATE "C" PRIMARY KEY,
  cursor        json NOT NULL DEFAULT 'null',
  polled        boolean NOT NULL DEFAULT false,
  failures      integer NOT NULL DEFAULT 0,
  last_error    text,
  escalated_at  bigint,
  next_poll_at  bigint NOT NULL,
  lease_owner   text,
  lease_until   bigint,
  updated_at    bigint NOT NULL
);
-- Keys of items seen, per workflow (UNIQUE: an item starts one run however many daemons poll);
-- id breaks ties in last_seen by insertion order when the least recently seen are trimmed.
CREATE TABLE poll_seen (
  id          bigint GENERATED ALWAYS AS IDENTITY,
  workflow    text COLLATE "C" NOT NULL,
  key         text COLLATE "C" NOT NULL,
  run_id      text COLLATE "C",
  first_seen  bigint NOT NULL,
  last_seen   bigint NOT NULL,
  PRIMARY KEY (workflow, key)
);
CREATE INDEX poll_seen_by_age ON poll_seen (workflow, last_seen, id);
`,
  },
];
