/**
 * The bounds of a poll trigger's fields, part of the format: lint checks them, the daemon and
 * `flux run` apply them (triggers/poll.ts).
 */

/** The shortest `every` a poll may have (lint refuses less; the daemon polls no more often). */
export const MIN_POLL_INTERVAL_MS = 30_000;
/** `paginate.max_pages` when not set. */
export const DEFAULT_MAX_PAGES = 10;
/** The most `paginate.max_pages` may be (the schema says so too). */
export const MAX_PAGES_CAP = 100;
/** `escalate_after` when not set: the owner hears of the third failed poll in a row. */
export const DEFAULT_ESCALATE_AFTER = 3;
