/**
 * A record's `baseline`, the manual cost a workflow declares, checked field by field: records
 * are outside data, so a value of the wrong type or range counts as absent.
 */

/** The manual baseline a record carries, checked. */
export interface BaselineValue {
  readonly minutes_per_run: number | null;
  readonly response_minutes: number | null;
  readonly hourly_cost: number | null;
  readonly currency: string | null;
  /** A stable text of the four, to count distinct baselines. */
  readonly key: string;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/** A parsed `baseline` value to a checked baseline, or null when it holds none. */
export function toBaseline(value: unknown): BaselineValue | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const b = value as Record<string, unknown>;
  const minutes = num(b.minutes_per_run);
  const response = num(b.response_minutes);
  const cost = num(b.hourly_cost);
  const currency = typeof b.currency === 'string' && /^[A-Z]{3}$/.test(b.currency) ? b.currency : null;
  if (minutes === null && response === null && cost === null && currency === null) return null;
  return { minutes_per_run: minutes, response_minutes: response, hourly_cost: cost, currency, key: `${minutes}|${response}|${cost}|${currency}` };
}

/** Baselines by their JSON text: a log holds a handful, each repeated on every record. */
const byText = new Map<string, BaselineValue | null>();
const MAX_CACHED = 256;
let lastText = 'null';
let lastValue: BaselineValue | null = null;

/**
 * The baseline of a record from the JSON text of its `baseline` value alone (as the fast path
 * of the parser cuts it out of a line), the same as toBaseline of the parsed value; undefined
 * when the text is not JSON. Cached by text: consecutive records mostly repeat the last one.
 */
export function baselineFromText(text: string): BaselineValue | null | undefined {
  if (text === lastText) return lastValue;
  // Stored values are never undefined: undefined means not cached.
  let value = byText.get(text);
  if (value === undefined) {
    try {
      value = toBaseline(JSON.parse(text));
    } catch {
      return undefined;
    }
    // A log with ever new baselines must not grow this without end.
    if (byText.size >= MAX_CACHED) byText.clear();
    byText.set(text, value);
  }
  lastText = text;
  lastValue = value;
  return lastValue;
}
