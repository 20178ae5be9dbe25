/**
 * The SQLite schema, as numbered migrations applied in order at open (see `migrate` in
 * sqlite-store.ts). A migration, once released, is never edited: a change is a new migration.
 *
 * Written for an operator with `sqlite3 .flux/flux.db`: times are ISO-8601 UTC text with
 * milliseconds (`2026-11-24T09:00:00.000Z`, which sorts in time order), JSON columns are
 * JSON text, states are words.
 */

/** One schema change. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, run keys, journal, events, workflow versions',
    sql: `
-- A workflow file as runs started it, by content hash: a run replays the version it began with,
-- even after the file changed.
CREATE TABLE workflow_versions (
  hash        TEXT PRIMARY KEY,             -- sha256:<hex> of the file
  name        TEXT NOT NULL,
  text        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);

CREATE TABLE runs (
  id                TEXT PRIMARY KEY,       -- ULID: sorts by creation time
  workflow          TEXT NOT NULL,
  workflow_version  TEXT NOT NULL REFERENCES workflow_versions (hash),
  status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'escalated', 'cancelled', 'rejected')),
  trigger           TEXT NOT NULL,          -- manual, schedule, webhook, poll, event
  event             TEXT NOT NULL,          -- JSON
  received_at       TEXT NOT NULL,
  scheduled_for     TEXT,                   -- a schedule fire's time; not started before it
  attempt           INTEGER NOT NULL DEFAULT 0,   -- 1 on the first start, +1 per rescue
  lease_owner       TEXT,                   -- the daemon running it, while running
  lease_until       TEXT,                   -- past this, the owner is presumed dead
  wake_at           TEXT,                   -- a waiting run is resumed at this time
  waiting_event     TEXT,                   -- the event name a waiting run waits for
  waiting_for       TEXT,                   -- JSON {event, step, match}
  cancel_requested  INTEGER NOT NULL DEFAULT 0, -- 1: stop at the next step
  parent_run_id     TEXT,                   -- the run whose event started this one
  chain_depth       INTEGER NOT NULL DEFAULT 0,
  error             TEXT,                   -- JSON {message, step?, http_status?}
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  finished_at       TEXT
);
-- What claimRuns scans: queued runs by start time, waiting runs by wake time, running runs by lease.
CREATE INDEX runs_queued ON runs (scheduled_for, id) WHERE status = 'queued';
CREATE INDEX runs_waking ON runs (wake_at) WHERE status = 'waiting';
CREATE INDEX runs_leased ON runs (lease_until) WHERE status = 'running';
CREATE INDEX runs_waiting_event ON runs (waiting_event) WHERE status = 'waiting';
CREATE INDEX runs_by_workflow ON runs (workflow, created_at);
CREATE INDEX runs_by_created ON runs (created_at);

-- Makes a webhook delivery (kind 'dedupe') or a schedule fire (kind 'fire', key = fire time)
-- start one run, however many intakes or schedulers see it. Inserted with the run, in one
-- transaction, before the run can start.
CREATE TABLE run_keys (
  kind        TEXT NOT NULL CHECK (kind IN ('dedupe', 'fire')),
  workflow    TEXT NOT NULL,
  key         TEXT NOT NULL,
  -- Deferred: the key goes in first, so a duplicate is refused before any run row is written;
  -- the run follows in the same write.
  run_id      TEXT NOT NULL REFERENCES runs (id) DEFERRABLE INITIALLY DEFERRED,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (kind, workflow, key)
);
-- Which key started a run; also what SQLite searches, for every run inserted, to check the
-- deferred foreign key above (without it, each enqueue scans the whole table).
CREATE INDEX run_keys_by_run ON run_keys (run_id);

-- A run's history: what replay returns instead of running a step again. Outputs are whole.
CREATE TABLE journal (
  id           INTEGER PRIMARY KEY,         -- write order
  run_id       TEXT NOT NULL REFERENCES runs (id),
  key          TEXT NOT NULL,               -- step path and item indexes: remind/email[3]
  kind         TEXT NOT NULL CHECK (kind IN ('step', 'random', 'time')),
  status       TEXT NOT NULL,               -- succeeded, failed, skipped; recorded for draws
  output       TEXT NOT NULL,               -- JSON
  error        TEXT,                        -- JSON
  attempt      INTEGER NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT NOT NULL,
  UNIQUE (run_id, key)                      -- a step is recorded once; replay reads it back
);

-- Events emitted by runs or injected from outside. delivered_at is set once, by the one
-- delivery that wins the conditional update; the lease keeps two daemons off one event.
CREATE TABLE events (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  data           TEXT NOT NULL,             -- JSON
  source_run_id  TEXT,
  chain_depth    INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  lease_owner    TEXT,
  lease_until    TEXT,
  delivered_at   TEXT
);
CREATE INDEX events_pending ON events (created_at) WHERE delivered_at IS NULL;
`,
  },
  {
    version: 2,
    name: 'retries: a run linked to the run it retries, once',
    sql: `
-- flux runs retry: the new run names the failed run it retries. UNIQUE, so two operators
-- retrying the same run at once start one retry, not two.
ALTER TABLE runs ADD COLUMN retry_of TEXT REFERENCES runs (id);
CREATE UNIQUE INDEX runs_retry_of ON runs (retry_of) WHERE retry_of IS NOT NULL;
`,
  },
  {
    version: 3,
    name: 'queued runs in claim order',
    sql: `
-- claimStart takes the oldest queued runs (ORDER BY id). Without this index SQLite walked the
-- primary key past every finished run to find them: 11 ms a claim with 100,000 runs behind
-- them (0.4 ms with it), on every webhook and every poll, growing with the table.
CREATE INDEX runs_queued_by_id ON runs (id) WHERE status = 'queued';
`,
  },
  {
    version: 4,
    name: 'run start times; active runs by workflow',
    sql: `
-- When a runner first took the run: with scheduled_for, how late a schedule fire started.
ALTER TABLE runs ADD COLUMN started_at TEXT;
-- Per-workflow concurrency and a schedule's overlap check count a workflow's runs in progress.
CREATE INDEX runs_active_by_workflow ON runs (workflow, status, id) WHERE status IN ('queued', 'running', 'waiting');
`,
  },
  {
    version: 5,
    name: 'waiting runs in wake order',
    sql: `
-- claimWake takes due waiting runs ORDER BY wake_at, id. With runs_waking (wake_at) alone,
-- SQLite sorted every due row by id on each claim: 2.65 ms to pick 10 of 10,000 runs due at
-- the same instant, 0.011 ms with this index. runs_waking stays: countRuns names it.
CREATE INDEX runs_waking_in_order ON runs (wake_at, id) WHERE status = 'waiting';
`,
  },
  {
    version: 6,
    name: 'keys the daemons share',
    sql: `
-- Values every daemon on this store must agree on, made once by whichever asks first: the key
-- approval and acknowledgement links are signed with. A link signed by one daemon is verified
-- by any other, and survives restarts.
CREATE TABLE shared_keys (
  name        TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
`,
  },
  {
    version: 7,
    name: 'approval answers',
    sql: `
-- Answers to approval steps: one per person per step (UNIQUE), written only while the step is
-- open (see recordAnswer in queries.ts), so a second answer, or one after the step was decided
-- or timed out, is refused however many daemons take answers at once.
CREATE TABLE approval_answers (
  id           INTEGER PRIMARY KEY,         -- answer order
  run_id       TEXT NOT NULL REFERENCES runs (id),
  step         TEXT NOT NULL,               -- the approval step's key: approve, approve:2
  approver     TEXT NOT NULL,               -- who answered (lowercased)
  choice       TEXT NOT NULL,
  inputs       TEXT NOT NULL,               -- JSON object of form values
  answered_at  TEXT NOT NULL,
  via          TEXT NOT NULL CHECK (via IN ('page', 'api', 'cli')),
  from_address TEXT,                        -- the client address, for page and api answers
  UNIQUE (run_id, step, approver)
);
`,
  },
  {
    version: 8,
    name: 'escalations and their acknowledgement',
    sql: `
-- An escalated run's open acknowledgement: the run has ended, its owner has still to say they
-- saw it. One row per escalation (the run id), written before the message with the link is
-- sent. acked_* are set once, by the conditional update that wins; then_* follow the second
-- call (on_error.escalate.then) made once the deadline passes unacknowledged.
CREATE TABLE escalations (
  run_id            TEXT PRIMARY KEY REFERENCES runs (id),
  workflow          TEXT NOT NULL,
  workflow_version  TEXT NOT NULL,
  owner             TEXT NOT NULL,          -- the owner, or the owner team's name
  members           TEXT NOT NULL,          -- JSON list of who may acknowledge
  error             TEXT NOT NULL,          -- JSON {message, step?}: what the escalation was about
  escalated_at      TEXT NOT NULL,
  ack_due_at        TEXT NOT NULL,          -- escalated_at + ack_within
  acked_by          TEXT,
  acked_at          TEXT,
  acked_via         TEXT,                   -- link, cli
  has_then          INTEGER NOT NULL,       -- 1: a then call is to be made past the deadline
  then_next_at      TEXT,                   -- when the then call is due (the deadline, then each retry)
  then_attempts     INTEGER NOT NULL DEFAULT 0,
  then_lease_owner  TEXT,                   -- the daemon making the then call now
  then_lease_until  TEXT,
  then_sent_at      TEXT,
  then_error        TEXT                    -- why the last then attempt failed
);
-- What the acknowledgement watcher scans: then calls due, not yet made, not acknowledged.
CREATE INDEX escalations_then_due ON escalations (then_next_at) WHERE acked_at IS NULL AND then_sent_at IS NULL AND has_then = 1;
-- Gauges: unacknowledged escalations by workflow.
CREATE INDEX escalations_open ON escalations (workflow, ack_due_at) WHERE acked_at IS NULL;
`,
  },
  {
    version: 9,
    name: 'poll triggers: state and seen keys',
    sql: `
-- One row per workflow with a poll trigger: the cursor carried from one poll to the next, the
-- failed polls in a row, when it is next due, and a lease so that one daemon polls it at a
-- time (taken by a conditional upsert: due and not leased, or leased by a daemon that died).
CREATE TABLE poll_state (
  workflow      TEXT PRIMARY KEY,
  cursor        TEXT NOT NULL DEFAULT 'null',  -- JSON; null before the first poll that set one
  polled        INTEGER NOT NULL DEFAULT 0,    -- 1 once a poll succeeded (its items are the baseline)
  failures      INTEGER NOT NULL DEFAULT 0,    -- failed polls in a row; a success resets it
  last_error    TEXT,
  escalated_at  TEXT,                          -- when the owner was told of the failures; reset by a success
  next_poll_at  TEXT NOT NULL,
  lease_owner   TEXT,
  lease_until   TEXT,
  updated_at    TEXT NOT NULL
);
-- The keys (the poll's dedupe) of items already seen, per workflow. UNIQUE: an item starts one
-- run however many daemons poll. Bounded per workflow: the least recently seen are forgotten
-- first (see Store.completePoll).
CREATE TABLE poll_seen (
  workflow    TEXT NOT NULL,
  key         TEXT NOT NULL,
  run_id      TEXT,                            -- the run it started; NULL for a baseline item
  first_seen  TEXT NOT NULL,
  last_seen   TEXT NOT NULL,
  PRIMARY KEY (workflow, key)
);
CREATE INDEX poll_seen_by_age ON poll_seen (workflow, last_seen);
`,
  },
  {
    version: 10,
    name: 'one index fewer on every run enqueued',
    sql: `
-- runs_queued (scheduled_for, id) was read only to count queued runs, which the covering index
-- runs_active_by_workflow answers; claims walk runs_queued_by_id. Every enqueued run wrote it:
-- a webhook's 202 waits on the insert, and each index is another B-tree page in each commit.
DROP INDEX runs_queued;
`,
  },
];
