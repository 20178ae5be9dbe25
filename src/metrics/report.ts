/**
 * The shape of what `flux metrics` computes: one plain-data report that every format renders
 * (table, json, csv, prom, html). `--format json` prints it as it is, so these names are a
 * public, versioned contract, documented by schemas/metrics.schema.json: add fields, never
 * rename or repurpose one without raising METRICS_VERSION.
 *
 * Conventions: times are ISO 8601 UTC strings; durations are seconds (or milliseconds where
 * the name says `_ms`); a figure that cannot be computed (no runs, no baseline) is null, never
 * 0 or NaN; rates are fractions in [0, 1].
 */

export const METRICS_VERSION = 1;

/** The grain of the trend series. Weeks start on Monday; every period is in UTC. */
export type Period = 'day' | 'week' | 'month';

/** Streaming-sketch quantiles (relative error 1%, see metrics/sketch.ts), null with no samples. */
export interface Quantiles {
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
}

/**
 * Runs by how they stand. A run counts in the window its run.started falls in, and in exactly
 * one of the keys after `started`: started = succeeded + failed + escalated + cancelled +
 * rejected + running + waiting + stalled.
 */
export interface RunCounts {
  readonly started: number;
  readonly succeeded: number;
  /** Ended failed: nobody was told (no escalation was delivered). Every one is also leaked. */
  readonly failed: number;
  /** Ended failed, and the escalation to its owner was delivered. */
  readonly escalated: number;
  readonly cancelled: number;
  /** Refused before any step ran (inputs invalid or conditions false). */
  readonly rejected: number;
  /** No terminal record yet, last record newer than the stale threshold. */
  readonly running: number;
  /** Parked at a durable wait whose wake time has not passed by more than the stale threshold. */
  readonly waiting: number;
  /** No terminal record, and its last record is older than the stale threshold: leaked. */
  readonly stalled: number;
}

/** The manual baseline a workflow declares, as its newest record in the window carries it. */
export interface Baseline {
  readonly minutes_per_run: number | null;
  readonly response_minutes: number | null;
  readonly hourly_cost: number | null;
  readonly currency: string | null;
}

/** One step of one workflow (steps inside loops and branches count under their own id). */
export interface StepFigures {
  readonly workflow: string;
  readonly step: string;
  /** step.finished records, whatever their status. */
  readonly finished: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  /** step.retry records: attempts that failed and were tried again. */
  readonly retries: number;
  /** Of steps that ran (succeeded or failed), in milliseconds. */
  readonly duration_ms: { readonly p50: number | null; readonly p95: number | null };
  /** The most frequent error message of its failed finishes, with how often it was seen. */
  readonly top_error: { readonly message: string; readonly count: number } | null;
}

/** One period of the trend series (`--by`), keyed by its first day. */
export interface PeriodFigures {
  /** The period's first day, YYYY-MM-DD (UTC). */
  readonly start: string;
  readonly runs: RunCounts;
  readonly leaked: number;
  readonly reclaimed_hours: number;
  readonly reclaimed_value: number | null;
  readonly response_seconds: Quantiles;
  readonly cycle_seconds: Quantiles;
  /** Escalation to acknowledgement, of escalations acknowledged, by when they were escalated. */
  readonly ack_seconds: Quantiles;
}

/** The figures of one workflow, or of all of them together (`totals`, name "total"). */
export interface WorkflowFigures {
  readonly name: string;
  /** The owner the newest record names; null for totals (a missing owner is a warning). */
  readonly owner: string | null;
  readonly runs: RunCounts;
  /** succeeded / (succeeded + failed + escalated); null when that is 0. */
  readonly success_rate: number | null;
  /** (failed + escalated) / (succeeded + failed + escalated); null when that is 0. */
  readonly error_rate: number | null;
  /** leaked runs / started; null when nothing started. */
  readonly leakage_rate: number | null;
  readonly leaked: number;
  /** Event received to the first successful response step (see README), succeeded or not. */
  readonly response_seconds: Quantiles;
  /** baseline.response_minutes in seconds, from the newest baseline; null without one. */
  readonly response_baseline_seconds: number | null;
  /** response_baseline_seconds / response_seconds.p50: "38x faster than by hand". */
  readonly response_speedup: number | null;
  /** Event received to run.finished, waits included, of succeeded runs. */
  readonly cycle_seconds: Quantiles;
  /**
   * Escalation to acknowledgement (escalations with `ack_within`), of those acknowledged;
   * unacknowledged ones past their deadline are leaked runs instead.
   */
  readonly ack_seconds: Quantiles;
  /** Sum over succeeded runs of that run's own baseline.minutes_per_run / 60. */
  readonly reclaimed_hours: number;
  /** Sum over succeeded runs of their reclaimed hours x that run's hourly_cost; null when no run had a cost or currencies differ. */
  readonly reclaimed_value: number | null;
  readonly currency: string | null;
  readonly baseline: Baseline | null;
  /** How many different baselines the window's records carried (more than 1: it changed). */
  readonly baselines_seen: number;
  /** Per step, in the order first seen; empty for totals. */
  readonly steps: readonly StepFigures[];
  /** The trend, oldest first, one entry per period from the first run to the last (gaps filled with zeros). */
  readonly periods: readonly PeriodFigures[];
}

/** Per owner: their workflows' leakage and reclaimed hours. */
export interface OwnerFigures {
  readonly owner: string;
  readonly workflows: readonly string[];
  readonly runs_started: number;
  readonly leaked: number;
  readonly leakage_rate: number | null;
  readonly reclaimed_hours: number;
  readonly reclaimed_value: number | null;
  readonly currency: string | null;
}

/** A run that failed silently or stopped without an end: the goal is that there are none. */
export interface LeakedRun {
  readonly run_id: string;
  readonly workflow: string;
  readonly owner: string | null;
  /** The last step the run's records name, null when none ran. */
  readonly last_step: string | null;
  readonly last_record_at: string;
  /** Why it counts as leaked, in words: e.g. "failed, and no escalation was delivered". */
  readonly reason: string;
}

/** A line that could not be used, or a file-level problem (line null). */
export interface MetricsWarning {
  readonly file: string;
  readonly line: number | null;
  readonly message: string;
}

/** The whole report. */
export interface MetricsReport {
  readonly version: typeof METRICS_VERSION;
  readonly generated_at: string;
  /** since null: from the first record. until: the --until given, or now. */
  readonly window: { readonly since: string | null; readonly until: string };
  readonly by: Period;
  /** A run with no terminal record whose last record is older than this is leaked. */
  readonly stale_after_seconds: number;
  readonly input: { readonly files: number; readonly lines: number; readonly records: number; readonly bytes: number };
  readonly totals: WorkflowFigures;
  /** Sorted by name. */
  readonly workflows: readonly WorkflowFigures[];
  /** Sorted by owner. */
  readonly owners: readonly OwnerFigures[];
  /** The steps with the most failed finishes across workflows, most first, at most 10, only steps that failed. */
  readonly top_failing_steps: readonly StepFigures[];
  /** Every leaked run, oldest last record first (capped; see leaked_runs_omitted). */
  readonly leaked_runs: readonly LeakedRun[];
  /** Leaked runs beyond the listing cap, counted but not listed. */
  readonly leaked_runs_omitted: number;
  readonly warnings: readonly MetricsWarning[];
  /** Warnings beyond the listing cap, counted but not listed. */
  readonly warnings_omitted: number;
  /** What the daemons' store says now (`--store`); absent without it. */
  readonly live?: LiveFigures;
}

/** One workflow's runs queued, running and waiting now, by the store. */
export interface LiveRuns {
  readonly workflow: string;
  readonly queued: number;
  readonly running: number;
  readonly waiting: number;
}

/** One workflow's escalations nobody has acknowledged yet, and how many are past their deadline. */
export interface LiveEscalations {
  readonly workflow: string;
  readonly unacknowledged: number;
  readonly overdue: number;
}

/** A poll trigger whose last poll failed. */
export interface LiveFailingPoll {
  readonly workflow: string;
  /** Failed polls in a row. */
  readonly failures: number;
  /** The last failure's message (cut to 500 characters), null when none was kept. */
  readonly last_error: string | null;
  /** When the owner was told of these failures, null before. */
  readonly escalated_at: string | null;
  readonly next_poll_at: string;
}

/**
 * The cluster as the store sees it when the report is made (`--store`): work in flight, whoever
 * runs it, escalations awaiting an answer, polls failing; and how the store settled the runs
 * whose logs have no end.
 */
export interface LiveFigures {
  /** The store, as it may be shown (a URL without its password, or the SQLite file). */
  readonly store: string;
  /** When the store was read (the real clock, not --until). */
  readonly read_at: string;
  /** Every workflow with a run in a live state, sorted by name. */
  readonly runs: readonly LiveRuns[];
  readonly totals: { readonly queued: number; readonly running: number; readonly waiting: number };
  /** Every workflow with an unacknowledged escalation, sorted by name. */
  readonly escalations: readonly LiveEscalations[];
  /** Sorted by workflow. */
  readonly failing_polls: readonly LiveFailingPoll[];
  /** Runs in the window whose logs have no end, looked up in the store. */
  readonly open_runs_checked: number;
  /** Of those, still queued, running or waiting in the store: counted running or waiting, never leaked. */
  readonly open_runs_live: number;
  /** Of those, finished in the store: counted with the store's outcome (their end is in a log not read). */
  readonly log_incomplete_runs: number;
  /** Open runs not looked up because there were more than the bound: judged by --stale-after. */
  readonly open_runs_unchecked: number;
}
