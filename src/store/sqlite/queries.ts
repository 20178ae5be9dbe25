/**
 * Every statement the SQLite store runs, by name. Writes are conditional (`WHERE status = …
 * AND lease_owner = …`) or guarded by a UNIQUE key with ON CONFLICT, so each is correct however
 * many connections or processes write at once; none relies on a read made earlier.
 * Parameters are named (`:now`, `:owner`); times are ISO-8601 text (see migrations.ts).
 */

/** The canned error of a run cancelled by `cancelRun` or at a wait. */
export const CANCELLED_ERROR = '{"message":"the run was cancelled"}';

/**
 * SQL for a time in ms since the epoch, as the store writes times (rows.ts isoTime,
 * Date#toISOString): SQLite rounds to whole milliseconds, so the two agree to the character.
 */
function isoOf(ms: string): string {
  return `strftime('%Y-%m-%dT%H:%M:%fZ', (${ms}) / 1000.0, 'unixepoch')`;
}

/**
 * The run columns a spooled delivery (intake-spool.ts) gives, as SQL over `run`, its JSON
 * {workflow, version, trigger, received_at, created_at, event} (times in ms): what adoption
 * inserts and what readers of the spool see, from one reading of the row.
 */
export function spooledColumns(run: string): { readonly [column in 'workflow' | 'workflow_version' | 'trigger' | 'event' | 'received_at' | 'created_at']: string } {
  return {
    workflow: `${run} ->> '$.workflow'`, workflow_version: `${run} ->> '$.version'`, trigger: `${run} ->> '$.trigger'`, event: `${run} -> '$.event'`,
    received_at: isoOf(`${run} ->> '$.received_at'`), created_at: isoOf(`${run} ->> '$.created_at'`),
  };
}

const adopted = spooledColumns('?2');

export const SQL = {
  putWorkflowVersion: `
    INSERT INTO workflow_versions (hash, name, text, created_at) VALUES (:hash, :name, :text, :created_at)
    ON CONFLICT (hash) DO NOTHING`,
  getWorkflowVersion: `SELECT * FROM workflow_versions WHERE hash = :hash`,

  /** A shared key: the first value offered is kept; the select reads whichever won. */
  offerSharedKey: `
    INSERT INTO shared_keys (name, value, created_at) VALUES (:name, :value, :now)
    ON CONFLICT (name) DO NOTHING`,
  sharedKey: `SELECT value FROM shared_keys WHERE name = :name`,

  /** First half of a keyed enqueue: take the key, or learn which run holds it. */
  takeRunKey: `
    INSERT INTO run_keys (kind, workflow, key, run_id, created_at) VALUES (:kind, :workflow, :key, :id, :now)
    ON CONFLICT (kind, workflow, key) DO NOTHING
    RETURNING run_id`,
  runKeyHolder: `SELECT run_id FROM run_keys WHERE kind = :kind AND workflow = :workflow AND key = :key`,
  /**
   * Numbered, not named, parameters (in the order of the columns; ?10 is now): this is the
   * statement of every webhook accepted, and the driver binds ten named parameters in about as
   * long as SQLite takes to insert the row (measured: 8.7 µs against 5.3 µs a row).
   */
  insertRun: `
    INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, scheduled_for,
                      parent_run_id, chain_depth, created_at, updated_at)
    VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)`,

  /**
   * A spooled webhook delivery (intake-spool.ts) becomes a queued run, once: a run with its id
   * already adopted (a crash between adoption and the spool's delete) is left as it is.
   */
  adoptRun: `
    INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, chain_depth, created_at, updated_at)
    SELECT ?1, ${adopted.workflow}, ${adopted.workflow_version}, 'queued', ${adopted.trigger}, ${adopted.event}, ${adopted.received_at}, 0,
           ${adopted.created_at}, ${adopted.created_at}
    WHERE true
    ON CONFLICT (id) DO NOTHING`,

  /** A crashed runner's run whose cancel was asked is cancelled, not rescued. */
  cancelAbandoned: `
    UPDATE runs SET status = 'cancelled', error = '${CANCELLED_ERROR}', lease_owner = NULL, lease_until = NULL,
                    finished_at = :now, updated_at = :now
    WHERE status = 'running' AND lease_until < :now AND cancel_requested = 1`,
  /** Runs whose runner stopped renewing its lease (it died): taken over, as a new attempt. */
  claimRescue: `
    UPDATE runs SET attempt = attempt + 1, lease_owner = :owner, lease_until = :until, updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'running' AND lease_until < :now
                 ORDER BY lease_until, id LIMIT :limit)
    RETURNING *`,
  /** Waiting runs whose time came (a wait, a wait_for timeout, or a delivered event). */
  claimWake: `
    UPDATE runs SET status = 'running', lease_owner = :owner, lease_until = :until, wake_at = NULL,
                    waiting_event = NULL, waiting_for = NULL, updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'waiting' AND wake_at <= :now
                 ORDER BY wake_at, id LIMIT :limit)
    RETURNING *`,
  /** Queued runs, oldest first; a schedule fire not before its time. */
  claimStart: `
    UPDATE runs SET status = 'running', attempt = attempt + 1, lease_owner = :owner, lease_until = :until,
                    started_at = coalesce(started_at, :now), updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'queued' AND (scheduled_for IS NULL OR scheduled_for <= :now)
                 ORDER BY id LIMIT :limit)
    RETURNING *`,

  /*
   * Claims under per-workflow limits (see claimRuns): the limited workflows' runs in progress
   * are counted, due runs are picked per workflow up to its free slots and from the rest
   * (`:except`, a JSON array of names) as usual, then the picked ids are claimed.
   */
  limitedActive: `
    SELECT workflow, status, count(*) AS n FROM runs
    WHERE status IN ('queued', 'running', 'waiting') AND workflow IN (SELECT value FROM json_each(:names))
    GROUP BY workflow, status`,
  dueWaitingExcept: `
    SELECT id, wake_at FROM runs
    WHERE status = 'waiting' AND wake_at <= :now AND workflow NOT IN (SELECT value FROM json_each(:except))
    ORDER BY wake_at, id LIMIT :limit`,
  dueWaitingOf: `
    SELECT id, wake_at FROM runs WHERE workflow = :workflow AND status = 'waiting' AND wake_at <= :now
    ORDER BY wake_at, id LIMIT :limit`,
  dueQueuedExcept: `
    SELECT id FROM runs
    WHERE status = 'queued' AND (scheduled_for IS NULL OR scheduled_for <= :now) AND workflow NOT IN (SELECT value FROM json_each(:except))
    ORDER BY id LIMIT :limit`,
  dueQueuedOf: `
    SELECT id FROM runs WHERE workflow = :workflow AND status = 'queued' AND (scheduled_for IS NULL OR scheduled_for <= :now)
    ORDER BY id LIMIT :limit`,
  claimWakeIds: `
    UPDATE runs SET status = 'running', lease_owner = :owner, lease_until = :until, wake_at = NULL,
                    waiting_event = NULL, waiting_for = NULL, updated_at = :now
    WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'waiting'
    RETURNING *`,
  claimStartIds: `
    UPDATE runs SET status = 'running', attempt = attempt + 1, lease_owner = :owner, lease_until = :until,
                    started_at = coalesce(started_at, :now), updated_at = :now
    WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'queued'
    RETURNING *`,
  /** A run of the workflow in progress, which a schedule fire with `overlap: skip` gives way to. */
  activeRunOf: `
    SELECT id FROM runs WHERE workflow = :workflow AND status IN ('queued', 'running', 'waiting') ORDER BY id LIMIT 1`,

  renewLease: `
    UPDATE runs SET lease_until = :until, updated_at = :now
    WHERE id = :id AND status = 'running' AND lease_owner = :owner
    RETURNING cancel_requested`,

  /** Only the lease holder writes the journal; a key already recorded keeps its first entry. */
  recordStep: `
    INSERT INTO journal (run_id, key, kind, status, output, error, attempt, started_at, finished_at)
    SELECT :run_id, :key, :kind, :status, :output, :error, :attempt, :started_at, :finished_at
    WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND status = 'running' AND lease_owner = :owner)
    ON CONFLICT (run_id, key) DO NOTHING
    RETURNING *`,
  /** The entry an event delivery records for a woken run's wait_for step. */
  recordDelivery: `
    INSERT INTO journal (run_id, key, kind, status, output, error, attempt, started_at, finished_at)
    VALUES (:run_id, :key, 'step', 'succeeded', :output, NULL, :attempt, :now, :now)
    ON CONFLICT (run_id, key) DO NOTHING`,
  journalEntry: `SELECT * FROM journal WHERE run_id = :run_id AND key = :key`,
  journalFor: `SELECT * FROM journal WHERE run_id = :run_id ORDER BY id`,
  holdsLease: `SELECT 1 FROM runs WHERE id = :id AND status = 'running' AND lease_owner = :owner`,

  /** A cancel asked while the run was running takes effect here, instead of parking it. */
  setWaiting: `
    UPDATE runs SET
      status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'waiting' END,
      error = CASE WHEN cancel_requested = 1 THEN '${CANCELLED_ERROR}' ELSE error END,
      finished_at = CASE WHEN cancel_requested = 1 THEN :now ELSE NULL END,
      -- An answer recorded while the run ran (wakeForAnswer) set an earlier wake time: kept.
      wake_at = CASE WHEN cancel_requested = 1 THEN NULL ELSE min(coalesce(wake_at, :wake_at), coalesce(:wake_at, wake_at)) END,
      waiting_event = CASE WHEN cancel_requested = 1 THEN NULL ELSE :waiting_event END,
      waiting_for = CASE WHEN cancel_requested = 1 THEN NULL ELSE :waiting_for END,
      lease_owner = NULL, lease_until = NULL, updated_at = :now
    WHERE id = :id AND status = 'running' AND lease_owner = :owner
    RETURNING status`,
  finishRun: `
    UPDATE runs SET status = :status, error = :error, finished_at = :now, updated_at = :now,
                    lease_owner = NULL, lease_until = NULL, wake_at = NULL, waiting_event = NULL, waiting_for = NULL
    WHERE id = :id AND status = 'running' AND lease_owner = :owner`,
  /** Queued and waiting runs end now; a running run is flagged for its runner. */
  cancelRun: `
    UPDATE runs SET
      status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
      cancel_requested = CASE WHEN status = 'running' THEN 1 ELSE cancel_requested END,
      error = CASE WHEN status = 'running' THEN error ELSE '${CANCELLED_ERROR}' END,
      finished_at = CASE WHEN status = 'running' THEN finished_at ELSE :now END,
      wake_at = CASE WHEN status = 'running' THEN wake_at ELSE NULL END,
      waiting_event = CASE WHEN status = 'running' THEN waiting_event ELSE NULL END,
      waiting_for = CASE WHEN status = 'running' THEN waiting_for ELSE NULL END,
      updated_at = :now
    WHERE id = :id AND status IN ('queued', 'waiting', 'running')
    RETURNING status`,

  getRun: `SELECT * FROM runs WHERE id = :id`,
  /** Every filter is optional: a NULL parameter matches all. */
  listRuns: `
    SELECT * FROM runs
    WHERE (:workflow IS NULL OR workflow = :workflow)
      AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
      AND (:since IS NULL OR created_at >= :since)
      AND (:retry_of IS NULL OR retry_of = :retry_of)
    ORDER BY created_at DESC, id DESC
    LIMIT :limit`,
  /**
   * One scan per live state, each over that state's partial index: left to itself the planner
   * walks runs_by_workflow for the GROUP BY, which reads every finished run too.
   */
  /** A covering scan of the live runs' index: no table row is read, however many runs there are. */
  countRuns: `
    SELECT workflow, status, count(*) AS n FROM runs INDEXED BY runs_active_by_workflow
    WHERE status IN ('queued', 'running', 'waiting')
    GROUP BY workflow, status ORDER BY workflow, status`,
  waitingOn: `SELECT * FROM runs WHERE status = 'waiting' AND waiting_event = :name ORDER BY created_at, id`,
  lastFire: `
    SELECT max(r.scheduled_for) AS fired FROM run_keys k JOIN runs r ON r.id = k.run_id
    WHERE k.kind = 'fire' AND k.workflow = :workflow`,

  appendEvent: `
    INSERT INTO events (id, name, data, source_run_id, chain_depth, created_at)
    VALUES (:id, :name, :data, :source_run_id, :chain_depth, :created_at)
    ON CONFLICT (id) DO NOTHING`,
  claimEvents: `
    UPDATE events SET lease_owner = :owner, lease_until = :until
    WHERE id IN (SELECT id FROM events WHERE delivered_at IS NULL AND (lease_until IS NULL OR lease_until < :now)
                 ORDER BY created_at, id LIMIT :limit)
    RETURNING *`,
  /** The one delivery of an event: whoever sets delivered_at first. */
  markDelivered: `
    UPDATE events SET delivered_at = :now, lease_owner = NULL, lease_until = NULL
    WHERE id = :id AND delivered_at IS NULL
    RETURNING name`,
  /** Wakes a run only if it still waits for this event at this step (not timed out, not cancelled). */
  wakeForEvent: `
    UPDATE runs SET wake_at = :now, waiting_event = NULL, waiting_for = NULL, updated_at = :now
    WHERE id = :id AND status = 'waiting' AND waiting_event = :name AND json_extract(waiting_for, '$.step') = :step
    RETURNING attempt`,
  getEvent: `SELECT * FROM events WHERE id = :id`,

  /**
   * A retry of a failed or escalated run: the same workflow version, event and trigger, queued
   * now. The UNIQUE index on retry_of makes a second retry of the same run insert nothing.
   */
  insertRetry: `
    INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, scheduled_for,
                      parent_run_id, chain_depth, retry_of, created_at, updated_at)
    SELECT :new_id, workflow, workflow_version, 'queued', trigger, event, received_at, NULL,
           parent_run_id, chain_depth, id, :now, :now
    FROM runs WHERE id = :id AND status IN ('failed', 'escalated')
    ON CONFLICT DO NOTHING
    RETURNING id`,
  /** The retry starts with the original's journal: replay returns what completed. */
  copyJournal: `
    INSERT INTO journal (run_id, key, kind, status, output, error, attempt, started_at, finished_at)
    SELECT :new_id, key, kind, status, output, error, attempt, started_at, finished_at
    FROM journal WHERE run_id = :id ORDER BY id`,
  retryHolder: `SELECT id FROM runs WHERE retry_of = :id`,

  /**
   * An answer to an approval step, only while the step is open: the run not finished, its
   * request journaled and not expired, the step neither completed nor decided by the answers
   * recorded so far (the request's quorum). The UNIQUE key refuses a second
   * answer of the same person.
   */
  recordAnswer: `
    INSERT INTO approval_answers (run_id, step, approver, choice, inputs, answered_at, via, from_address)
    SELECT :run_id, :step, :approver, :choice, :inputs, :answered_at, :via, :from_address
    WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND status IN ('queued', 'running', 'waiting'))
      AND EXISTS (SELECT 1 FROM journal WHERE run_id = :run_id AND key = :request_key
                  AND json_extract(output, '$.output.expires_at') > :now_ms)
      AND NOT EXISTS (SELECT 1 FROM journal WHERE run_id = :run_id AND key = :step)
      -- Decided already: some choice has the quorum (the run may not have woken to see it yet).
      AND NOT EXISTS (SELECT 1 FROM approval_answers WHERE run_id = :run_id AND step = :step GROUP BY choice
                      HAVING count(*) >= (SELECT coalesce(json_extract(output, '$.output.quorum'), 1) FROM journal
                                          WHERE run_id = :run_id AND key = :request_key))
    ON CONFLICT (run_id, step, approver) DO NOTHING
    RETURNING id`,
  answerOf: `SELECT 1 FROM approval_answers WHERE run_id = :run_id AND step = :step AND approver = :approver`,
  /** A recorded answer makes its run due: at once if it waits, as soon as it parks if it runs. */
  wakeForAnswer: `UPDATE runs SET wake_at = min(coalesce(wake_at, :now), :now), updated_at = :now WHERE id = :run_id AND status IN ('waiting', 'running')`,
  approvalAnswers: `SELECT * FROM approval_answers WHERE run_id = :run_id ORDER BY id`,
  /**
   * Poll triggers (migration 9). A poll is claimed by a conditional upsert: the row is created
   * on first sight, and taken only when it is due and its lease is free or expired.
   */
  claimPoll: `
    INSERT INTO poll_state (workflow, next_poll_at, lease_owner, lease_until, updated_at)
    VALUES (:workflow, :now, :owner, :until, :now)
    ON CONFLICT (workflow) DO UPDATE SET lease_owner = :owner, lease_until = :until, updated_at = :now
    WHERE poll_state.next_poll_at <= :now AND (poll_state.lease_until IS NULL OR poll_state.lease_until < :now)
    RETURNING *`,
  failingPolls: `SELECT s.*, (SELECT count(*) FROM poll_seen k WHERE k.workflow = s.workflow) AS seen FROM poll_state s WHERE s.failures > 0 ORDER BY s.workflow`,
  pollState: `SELECT s.*, (SELECT count(*) FROM poll_seen k WHERE k.workflow = s.workflow) AS seen FROM poll_state s WHERE s.workflow = :workflow`,
  /** A poll's success, only by the daemon holding its lease. */
  pollSucceeded: `
    UPDATE poll_state SET cursor = :cursor, polled = 1, failures = 0, last_error = NULL, escalated_at = NULL,
                          next_poll_at = :next, lease_owner = NULL, lease_until = NULL, updated_at = :now
    WHERE workflow = :workflow AND lease_owner = :owner
    RETURNING workflow`,
  pollFailed: `
    UPDATE poll_state SET failures = failures + 1, last_error = :error, next_poll_at = :next, lease_owner = NULL, lease_until = NULL, updated_at = :now
    WHERE workflow = :workflow AND lease_owner = :owner
    RETURNING failures`,
  /** The escalation of a run of failures is claimed once: until a success clears escalated_at. */
  pollEscalate: `
    UPDATE poll_state SET escalated_at = :now
    WHERE workflow = :workflow AND escalated_at IS NULL AND failures >= :after
    RETURNING workflow`,
  markSeen: `
    INSERT INTO poll_seen (workflow, key, run_id, first_seen, last_seen) VALUES (:workflow, :key, :run_id, :now, :now)
    ON CONFLICT (workflow, key) DO NOTHING
    RETURNING key`,
  touchSeen: `UPDATE poll_seen SET last_seen = :now WHERE workflow = :workflow AND key = :key`,
  /** Keeps the `keep` most recently seen keys of a workflow; the least recently seen go first. */
  trimSeen: `
    DELETE FROM poll_seen WHERE rowid IN (
      SELECT rowid FROM poll_seen WHERE workflow = :workflow ORDER BY last_seen DESC, rowid DESC LIMIT -1 OFFSET :keep)`,
  /** Escalations (migration 8): one row per run, opened once; acknowledged once. */
  openEscalation: `
    INSERT INTO escalations (run_id, workflow, workflow_version, owner, members, error, escalated_at, ack_due_at, has_then, then_next_at)
    VALUES (:run_id, :workflow, :workflow_version, :owner, :members, :error, :escalated_at, :ack_due_at, :has_then, CASE WHEN :has_then = 1 THEN :ack_due_at END)
    ON CONFLICT (run_id) DO NOTHING`,
  getEscalation: `SELECT * FROM escalations WHERE run_id = :run_id`,
  escalationsFor: `SELECT * FROM escalations WHERE run_id IN (SELECT value FROM json_each(:run_ids))`,
  ackEscalation: `
    UPDATE escalations SET acked_by = :by, acked_at = :now, acked_via = :via, then_next_at = NULL
    WHERE run_id = :run_id AND acked_at IS NULL
    RETURNING *`,
  /** Due then calls, not acknowledged, not sent, and not held by a live lease. */
  claimDueThen: `
    UPDATE escalations SET then_lease_owner = :owner, then_lease_until = :until, then_attempts = then_attempts + 1
    WHERE run_id IN (
      SELECT run_id FROM escalations INDEXED BY escalations_then_due
      WHERE acked_at IS NULL AND then_sent_at IS NULL AND has_then = 1 AND then_next_at <= :now
        AND (then_lease_until IS NULL OR then_lease_until <= :now)
      ORDER BY then_next_at, run_id LIMIT :limit)
    RETURNING *`,
  thenSent: `
    UPDATE escalations SET then_sent_at = :now, then_next_at = NULL, then_error = NULL, then_lease_owner = NULL, then_lease_until = NULL
    WHERE run_id = :run_id AND then_lease_owner = :owner AND then_sent_at IS NULL`,
  thenFailed: `
    UPDATE escalations SET then_next_at = :retry_at, then_error = :error, then_lease_owner = NULL, then_lease_until = NULL
    WHERE run_id = :run_id AND then_lease_owner = :owner AND then_sent_at IS NULL`,
  countEscalations: `
    SELECT workflow, count(*) AS n, sum(CASE WHEN ack_due_at <= :now THEN 1 ELSE 0 END) AS overdue
    FROM escalations INDEXED BY escalations_open WHERE acked_at IS NULL GROUP BY workflow ORDER BY workflow`,
} as const;
