/**
 * Every statement the PostgreSQL store runs, by name. Many daemons run them at once, so each
 * claim picks its rows with `FOR UPDATE SKIP LOCKED` (two claimers never wait on, or take, the
 * same row) and each other race is a conditional UPDATE (`WHERE status = … AND lease_owner = …`)
 * or a UNIQUE key with ON CONFLICT DO NOTHING. Parameters are named here (`:now`) and sent as
 * numbered parameters (see `statement`); data is never spliced into the text.
 */

/** The error recorded on a run cancelled by `cancelRun` or at a wait. */
export const CANCELLED_ERROR = { message: 'the run was cancelled' };

const SQL = {
  putWorkflowVersion: `
    INSERT INTO workflow_versions (hash, name, text, created_at) VALUES (:hash, :name, :text, :created_at)
    ON CONFLICT (hash) DO NOTHING`,
  getWorkflowVersion: `SELECT * FROM workflow_versions WHERE hash = :hash`,

  offerSharedKey: `INSERT INTO shared_keys (name, value, created_at) VALUES (:name, :value, :now) ON CONFLICT (name) DO NOTHING`,
  sharedKey: `SELECT value FROM shared_keys WHERE name = :name`,

  /** First half of a keyed enqueue: take the key, or (nothing returned) learn who holds it. */
  takeRunKey: `
    INSERT INTO run_keys (kind, workflow, key, run_id, created_at) VALUES (:kind, :workflow, :key, :id, :now)
    ON CONFLICT (kind, workflow, key) DO NOTHING
    RETURNING run_id`,
  runKeyHolder: `SELECT run_id FROM run_keys WHERE kind = :kind AND workflow = :workflow AND key = :key`,
  insertRun: `
    INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, scheduled_for,
                      parent_run_id, chain_depth, created_at, updated_at)
    VALUES (:id, :workflow, :workflow_version, 'queued', :trigger, :event::json, :received_at, :scheduled_for,
            :parent_run_id, :chain_depth, :now, :now)`,

  /**
   * Many unkeyed runs in one statement (one commit, one WAL flush): webhook intake under load.
   * Each array holds one column, row by row.
   */
  insertRuns: `
    INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, scheduled_for,
                      parent_run_id, chain_depth, created_at, updated_at)
    SELECT r.id, r.workflow, r.workflow_version, 'queued', r.trigger, r.event::json, r.received_at, r.scheduled_for,
           r.parent_run_id, r.chain_depth, r.now, r.now
    FROM unnest(:ids::text[], :workflows::text[], :versions::text[], :triggers::text[], :events::text[], :received::bigint[],
                :scheduled::bigint[], :parents::text[], :depths::integer[], :nows::bigint[])
         AS r(id, workflow, workflow_version, trigger, event, received_at, scheduled_for, parent_run_id, chain_depth, now)`,

  /** A crashed runner's run whose cancel was asked is cancelled, not rescued. */
  cancelAbandoned: `
    UPDATE runs SET status = 'cancelled', error = :cancelled::json, lease_owner = NULL, lease_until = NULL, finished_at = :now, updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'running' AND lease_until < :now AND cancel_requested
                 FOR UPDATE SKIP LOCKED)`,
  /** Runs whose runner stopped renewing its lease (it died): taken over, as a new attempt. */
  claimRescue: `
    UPDATE runs SET attempt = attempt + 1, lease_owner = :owner, lease_until = :until, updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'running' AND lease_until < :now AND NOT cancel_requested
                 ORDER BY lease_until, id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING *`,
  claimWake: `
    UPDATE runs SET status = 'running', lease_owner = :owner, lease_until = :until, wake_at = NULL,
                    waiting_event = NULL, waiting_for = NULL, updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'waiting' AND wake_at <= :now
                 ORDER BY wake_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING *`,
  claimStart: `
    UPDATE runs SET status = 'running', attempt = attempt + 1, lease_owner = :owner, lease_until = :until,
                    started_at = coalesce(started_at, :now), updated_at = :now
    WHERE id IN (SELECT id FROM runs WHERE status = 'queued' AND (scheduled_for IS NULL OR scheduled_for <= :now)
                 ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING *`,

  /*
   * Claims under per-workflow limits. The claiming transaction first takes an advisory lock per
   * limited workflow (`lockWorkflow`, in name order), so the runs in progress it counts cannot
   * change until it commits: two daemons never both fill the same free slot.
   */
  lockWorkflow: `SELECT pg_advisory_xact_lock(hashtext(:purpose), hashtext(current_schema() || '/' || :workflow))`,
  limitedActive: `
    SELECT workflow, status, count(*) AS n FROM runs
    WHERE status IN ('queued', 'running', 'waiting') AND workflow = ANY(:names::text[])
    GROUP BY workflow, status`,
  dueWaitingExcept: `
    SELECT id, wake_at FROM runs
    WHERE status = 'waiting' AND wake_at <= :now AND NOT (workflow = ANY(:except::text[]))
    ORDER BY wake_at, id LIMIT :limit FOR UPDATE SKIP LOCKED`,
  dueWaitingOf: `
    SELECT id, wake_at FROM runs WHERE workflow = :workflow AND status = 'waiting' AND wake_at <= :now
    ORDER BY wake_at, id LIMIT :limit FOR UPDATE SKIP LOCKED`,
  dueQueuedExcept: `
    SELECT id FROM runs
    WHERE status = 'queued' AND (scheduled_for IS NULL OR scheduled_for <= :now) AND NOT (workflow = ANY(:except::text[]))
    ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED`,
  dueQueuedOf: `
    SELECT id FROM runs WHERE workflow = :workflow AND status = 'queued' AND (scheduled_for IS NULL OR scheduled_for <= :now)
    ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED`,
  claimWakeIds: `
    UPDATE runs SET status = 'running', lease_owner = :owner, lease_until = :until, wake_at = NULL,
                    waiting_event = NULL, waiting_for = NULL, updated_at = :now
    WHERE id = ANY(:ids::text[]) AND status = 'waiting'
    RETURNING *`,
  claimStartIds: `
    UPDATE runs SET status = 'running', attempt = attempt + 1, lease_owner = :owner, lease_until = :until,
                    started_at = coalesce(started_at, :now), updated_at = :now
    WHERE id = ANY(:ids::text[]) AND status = 'queued'
    RETURNING *`,
  activeRunOf: `SELECT id FROM runs WHERE workflow = :workflow AND status IN ('queued', 'running', 'waiting') ORDER BY id LIMIT 1`,

  renewLease: `
    UPDATE runs SET lease_until = :until, updated_at = :now
    WHERE id = :id AND status = 'running' AND lease_owner = :owner
    RETURNING cancel_requested`,

  /**
   * The lease holder's check before it writes the journal: FOR SHARE holds off a rescuer's
   * takeover until the entry is committed, and waits for one already under way (then finds the
   * run no longer its own).
   */
  holdsLease: `SELECT 1 FROM runs WHERE id = :id AND status = 'running' AND lease_owner = :owner FOR SHARE`,
  recordStep: `
    INSERT INTO journal (run_id, key, kind, status, output, error, attempt, started_at, finished_at)
    VALUES (:run_id, :key, :kind, :status, :output::json, :error::json, :attempt, :started_at, :finished_at)
    ON CONFLICT (run_id, key) DO NOTHING
    RETURNING *`,
  recordDelivery: `
    INSERT INTO journal (run_id, key, kind, status, output, error, attempt, started_at, finished_at)
    VALUES (:run_id, :key, 'step', 'succeeded', :output::json, NULL, :attempt, :now, :now)
    ON CONFLICT (run_id, key) DO NOTHING`,
  journalEntry: `SELECT * FROM journal WHERE run_id = :run_id AND key = :key`,
  journalFor: `SELECT * FROM journal WHERE run_id = :run_id ORDER BY id`,

  /** A cancel asked while the run was running takes effect here; an earlier wake time (an answer) is kept. */
  setWaiting: `
    UPDATE runs SET
      status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'waiting' END,
      error = CASE WHEN cancel_requested THEN :cancelled::json ELSE error END,
      finished_at = CASE WHEN cancel_requested THEN :now::bigint ELSE NULL END,
      wake_at = CASE WHEN cancel_requested THEN NULL ELSE least(wake_at, :wake_at::bigint) END,
      waiting_event = CASE WHEN cancel_requested THEN NULL ELSE :waiting_event::text END,
      waiting_for = CASE WHEN cancel_requested THEN NULL ELSE :waiting_for::jsonb END,
      lease_owner = NULL, lease_until = NULL, updated_at = :now
    WHERE id = :id AND status = 'running' AND lease_owner = :owner
    RETURNING status`,
  finishRun: `
    UPDATE runs SET status = :status, error = :error::json, finished_at = :now, updated_at = :now,
                    lease_owner = NULL, lease_until = NULL, wake_at = NULL, waiting_event = NULL, waiting_for = NULL
    WHERE id = :id AND status = 'running' AND lease_owner = :owner`,
  cancelRun: `
    UPDATE runs SET
      status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
      cancel_requested = CASE WHEN status = 'running' THEN true ELSE cancel_requested END,
      error = CASE WHEN status = 'running' THEN error ELSE :cancelled::json END,
      finished_at = CASE WHEN status = 'running' THEN finished_at ELSE :now::bigint END,
      wake_at = CASE WHEN status = 'running' THEN wake_at ELSE NULL END,
      waiting_event = CASE WHEN status = 'running' THEN waiting_event ELSE NULL END,
      waiting_for = CASE WHEN status = 'running' THEN waiting_for ELSE NULL END,
      updated_at = :now
    WHERE id = :id AND status IN ('queued', 'waiting', 'running')
    RETURNING status`,

  getRun: `SELECT * FROM runs WHERE id = :id`,
  listRuns: `
    SELECT * FROM runs
    WHERE (:workflow::text IS NULL OR workflow = :workflow)
      AND (:statuses::text[] IS NULL OR status = ANY(:statuses::text[]))
      AND (:since::bigint IS NULL OR created_at >= :since::bigint)
      AND (:retry_of::text IS NULL OR retry_of = :retry_of)
    ORDER BY created_at DESC, id DESC
    LIMIT :limit`,
  countRuns: `
    SELECT workflow, status, count(*) AS n FROM runs
    WHERE status IN ('queued', 'running', 'waiting')
    GROUP BY workflow, status ORDER BY workflow, status`,
  /** Every run by state, for `flux store status` (a full scan: an operator's question, not a scrape). */
  countAllRuns: `SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status`,
  waitingOn: `SELECT * FROM runs WHERE status = 'waiting' AND waiting_event = :name ORDER BY created_at, id`,
  lastFire: `
    SELECT max(r.scheduled_for) AS fired FROM run_keys k JOIN runs r ON r.id = k.run_id
    WHERE k.kind = 'fire' AND k.workflow = :workflow`,

  appendEvent: `
    INSERT INTO events (id, name, data, source_run_id, chain_depth, created_at)
    VALUES (:id, :name, :data::json, :source_run_id, :chain_depth, :created_at)
    ON CONFLICT (id) DO NOTHING`,
  claimEvents: `
    UPDATE events SET lease_owner = :owner, lease_until = :until
    WHERE id IN (SELECT id FROM events WHERE delivered_at IS NULL AND (lease_until IS NULL OR lease_until < :now)
                 ORDER BY created_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING *`,
  markDelivered: `
    UPDATE events SET delivered_at = :now, lease_owner = NULL, lease_until = NULL
    WHERE id = :id AND delivered_at IS NULL
    RETURNING name`,
  wakeForEvent: `
    UPDATE runs SET wake_at = :now, waiting_event = NULL, waiting_for = NULL, updated_at = :now
    WHERE id = :id AND status = 'waiting' AND waiting_event = :name AND waiting_for ->> 'step' = :step
    RETURNING attempt`,
  getEvent: `SELECT * FROM events WHERE id = :id`,

  insertRetry: `
    INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, scheduled_for,
                      parent_run_id, chain_depth, retry_of, created_at, updated_at)
    SELECT :new_id, workflow, workflow_version, 'queued', trigger, event, received_at, NULL,
           parent_run_id, chain_depth, id, :now, :now
    FROM runs WHERE id = :id AND status IN ('failed', 'escalated')
    ON CONFLICT DO NOTHING
    RETURNING id`,
  copyJournal: `
    INSERT INTO journal (run_id, key, kind, status, output, error, attempt, started_at, finished_at)
    SELECT :new_id, key, kind, status, output, error, attempt, started_at, finished_at
    FROM journal WHERE run_id = :id ORDER BY id`,
  retryHolder: `SELECT id FROM runs WHERE retry_of = :id`,

  /** The answering transaction's lock on the run: answers to one run are decided one at a time. */
  lockRun: `SELECT status FROM runs WHERE id = :run_id FOR UPDATE`,
  recordAnswer: `
    INSERT INTO approval_answers (run_id, step, approver, choice, inputs, answered_at, via, from_address)
    SELECT :run_id, :step, :approver, :choice, :inputs::json, :answered_at, :via, :from_address
    WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND status IN ('queued', 'running', 'waiting'))
      AND EXISTS (SELECT 1 FROM journal WHERE run_id = :run_id AND key = :request_key
                  AND CASE WHEN json_typeof(output -> 'output' -> 'expires_at') = 'number'
                           THEN (output -> 'output' ->> 'expires_at')::numeric > :now ELSE false END)
      AND NOT EXISTS (SELECT 1 FROM journal WHERE run_id = :run_id AND key = :step)
      AND NOT EXISTS (SELECT 1 FROM approval_answers WHERE run_id = :run_id AND step = :step GROUP BY choice
                      HAVING count(*) >= (SELECT coalesce(CASE WHEN json_typeof(output -> 'output' -> 'quorum') = 'number'
                                                               THEN (output -> 'output' ->> 'quorum')::numeric END, 1)
                                          FROM journal WHERE run_id = :run_id AND key = :request_key))
    ON CONFLICT (run_id, step, approver) DO NOTHING
    RETURNING id`,
  answerOf: `SELECT 1 FROM approval_answers WHERE run_id = :run_id AND step = :step AND approver = :approver`,
  wakeForAnswer: `UPDATE runs SET wake_at = least(wake_at, :now), updated_at = :now WHERE id = :run_id AND status IN ('waiting', 'running')`,
  approvalAnswers: `SELECT * FROM approval_answers WHERE run_id = :run_id ORDER BY id`,

  claimPoll: `
    INSERT INTO poll_state (workflow, next_poll_at, lease_owner, lease_until, updated_at)
    VALUES (:workflow, :now, :owner, :until, :now)
    ON CONFLICT (workflow) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until, updated_at = EXCLUDED.updated_at
    WHERE poll_state.next_poll_at <= :now AND (poll_state.lease_until IS NULL OR poll_state.lease_until < :now)
    RETURNING *`,
  failingPolls: `SELECT s.*, (SELECT count(*) FROM poll_seen k WHERE k.workflow = s.workflow) AS seen FROM poll_state s WHERE s.failures > 0 ORDER BY s.workflow`,
  pollState: `SELECT s.*, (SELECT count(*) FROM poll_seen k WHERE k.workflow = s.workflow) AS seen FROM poll_state s WHERE s.workflow = :workflow`,
  pollSucceeded: `
    UPDATE poll_state SET cursor = :cursor::json, polled = true, failures = 0, last_error = NULL, escalated_at = NULL,
                          next_poll_at = :next, lease_owner = NULL, lease_until = NULL, updated_at = :now
    WHERE workflow = :workflow AND lease_owner = :owner
    RETURNING workflow`,
  pollFailed: `
    UPDATE poll_state SET failures = failures + 1, last_error = :error, next_poll_at = :next, lease_owner = NULL, lease_until = NULL, updated_at = :now
    WHERE workflow = :workflow AND lease_owner = :owner
    RETURNING failures`,
  pollEscalate: `
    UPDATE poll_state SET escalated_at = :now
    WHERE workflow = :workflow AND escalated_at IS NULL AND failures >= :after
    RETURNING workflow`,
  markSeen: `
    INSERT INTO poll_seen (workflow, key, run_id, first_seen, last_seen) VALUES (:workflow, :key, :run_id, :now, :now)
    ON CONFLICT (workflow, key) DO NOTHING
    RETURNING key`,
  touchSeen: `UPDATE poll_seen SET last_seen = :now WHERE workflow = :workflow AND key = :key`,
  trimSeen: `
    DELETE FROM poll_seen WHERE workflow = :workflow AND key IN (
      SELECT key FROM poll_seen WHERE workflow = :workflow ORDER BY last_seen DESC, id DESC OFFSET :keep)`,

  openEscalation: `
    INSERT INTO escalations (run_id, workflow, workflow_version, owner, members, error, escalated_at, ack_due_at, has_then, then_next_at)
    VALUES (:run_id, :workflow, :workflow_version, :owner, :members::jsonb, :error::json, :escalated_at, :ack_due_at, :has_then,
            CASE WHEN :has_then::boolean THEN :ack_due_at::bigint END)
    ON CONFLICT (run_id) DO NOTHING`,
  getEscalation: `SELECT * FROM escalations WHERE run_id = :run_id`,
  escalationsFor: `SELECT * FROM escalations WHERE run_id = ANY(:run_ids::text[])`,
  ackEscalation: `
    UPDATE escalations SET acked_by = :by, acked_at = :now, acked_via = :via, then_next_at = NULL
    WHERE run_id = :run_id AND acked_at IS NULL
    RETURNING *`,
  claimDueThen: `
    UPDATE escalations SET then_lease_owner = :owner, then_lease_until = :until, then_attempts = then_attempts + 1
    WHERE run_id IN (
      SELECT run_id FROM escalations
      WHERE acked_at IS NULL AND then_sent_at IS NULL AND has_then AND then_next_at <= :now
        AND (then_lease_until IS NULL OR then_lease_until <= :now)
      ORDER BY then_next_at, run_id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING *`,
  thenSent: `
    UPDATE escalations SET then_sent_at = :now, then_next_at = NULL, then_error = NULL, then_lease_owner = NULL, then_lease_until = NULL
    WHERE run_id = :run_id AND then_lease_owner = :owner AND then_sent_at IS NULL`,
  thenFailed: `
    UPDATE escalations SET then_next_at = :retry_at, then_error = :error, then_lease_owner = NULL, then_lease_until = NULL
    WHERE run_id = :run_id AND then_lease_owner = :owner AND then_sent_at IS NULL`,
  countEscalations: `
    SELECT workflow, count(*) AS n, count(*) FILTER (WHERE ack_due_at <= :now) AS overdue
    FROM escalations WHERE acked_at IS NULL GROUP BY workflow ORDER BY workflow`,
} as const;

/** A statement's name. */
export type QueryName = keyof typeof SQL;

/** A statement ready for pg: numbered parameters, and the names they are filled from, in order. */
export interface Statement {
  readonly name: string;
  readonly text: string;
  readonly params: readonly string[];
}

/** `:name` (not `::type`) in a statement's text. */
const PARAM = /(?<!:):([a-z_]+)/g;

function compile(name: string, sql: string): Statement {
  const params: string[] = [];
  const text = sql.replace(PARAM, (_, param: string) => {
    let n = params.indexOf(param);
    if (n < 0) n = params.push(param) - 1;
    return `$${n + 1}`;
  });
  return { name: `flux_${name}`, text, params };
}

/** Every statement, compiled once. */
export const STATEMENTS: Readonly<Record<QueryName, Statement>> = Object.fromEntries(
  Object.entries(SQL).map(([name, sql]) => [name, compile(name, sql)]),
) as Record<QueryName, Statement>;
