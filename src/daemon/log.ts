/**
 * The daemon's log: one line per thing that happened (a run started, finished or resumed, a
 * fire skipped, a signature refused, a reload), for an operator reading a terminal or journald
 * and for a log shipper. Text lines are `<iso time> <message>`; `--log-format json` writes one
 * JSON object per line, `{"time","level","msg",...fields}`, with the same message and the facts
 * in it as fields a query can filter on.
 *
 * Every line is masked with the daemon's secret values before it is written (a message may
 * quote a server's error body), and outside text cannot drive the terminal: control
 * characters are escaped in text lines, and in JSON lines the ones JSON leaves raw (DEL, C1,
 * bidirectional overrides, line separators) are written as \u escapes.
 */
import type { LoadedWorkflow } from '../engine/types.js';
import { MIN_SECRET_LENGTH, type Masker } from '../secrets/masker.js';
import { escapeControl } from '../text/escape.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';

/** Facts of a line, as JSON fields. Keys `time`, `level` and `msg` are the line's own and are not overwritten. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where the daemon's parts write what happened. Called as a function, it writes an info line. */
export interface DaemonLog {
  (msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface DaemonLogOptions {
  readonly format: LogFormat;
  /** Writes one finished line (with its newline). */
  readonly write: (line: string) => void;
  /** The daemon's clock, in ms: a test clock shows in the log as it does in the store. */
  readonly now: () => number;
  /** Masks the daemon's secret values; later additions (a reload's new secrets) apply at once. */
  readonly masker: Masker;
}

const RESERVED = new Set(['time', 'level', 'msg']);
// What JSON.stringify leaves as raw characters but a terminal may still obey or a reader misplace.
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Creates the log. */
export function createDaemonLog(o: DaemonLogOptions): DaemonLog {
  const line = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    const time = new Date(o.now()).toISOString();
    if (o.format === 'text') {
      o.write(`${time} ${escapeControl(o.masker.mask(msg))}\n`);
      return;
    }
    const record: Record<string, unknown> = { time, level, msg: o.masker.mask(msg) };
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined || RESERVED.has(key)) continue;
      record[key] = typeof value === 'string' ? o.masker.mask(value) : value;
    }
    o.write(`${JSON.stringify(record).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
  };
  return Object.assign((msg: string, fields?: LogFields) => line('info', msg, fields), {
    info: (msg: string, fields?: LogFields) => line('info', msg, fields),
    warn: (msg: string, fields?: LogFields) => line('warn', msg, fields),
    error: (msg: string, fields?: LogFields) => line('error', msg, fields),
  });
}

/**
 * Adds to `masker` the values of the secrets `workflows` declare, as the environment has them.
 * Only declared secrets: masking every environment value would garble ordinary words and paths.
 */
export function maskDeclaredSecrets(masker: Masker, workflows: readonly LoadedWorkflow[], env: Readonly<Record<string, string | undefined>>): void {
  for (const w of workflows) {
    const declared = Array.isArray(w.value.secrets) ? w.value.secrets : [];
    for (const name of declared) {
      const value = typeof name === 'string' && Object.hasOwn(env, name) ? env[name] : undefined;
      if (value !== undefined && value.length >= MIN_SECRET_LENGTH) masker.add(value);
    }
  }
}
