/**
 * Text for the HTML report: outside strings made safe, and numbers written the one way the
 * report shows them. Every workflow name, owner, step id, error message and file name in a
 * report came from run logs that anyone able to write a workflow controls, so each goes
 * through `shown` (bounded, control characters made visible) and then `esc` (HTML entities)
 * before it becomes markup. Numbers follow a small grammar (an optional currency prefix, a
 * number with `,` grouping, an optional unit: %, x, ms, s, min, h, d) so a checker can read a
 * figure back from the page and compare it with the report within the shown precision.
 */
import { escapeControl } from '../../text/escape.js';

/** What the report shows in place of a figure that could not be computed (null). */
export const NONE = '—';

/** The longest outside string shown: names, ids and files; error messages and reasons get more. */
export const MAX_NAME = 200;
export const MAX_MESSAGE = 500;

/**
 * An outside string as it is displayed: control characters escaped as visible text (`\e`,
 * `\x07`, bidi overrides), and clipped so one enormous name cannot swamp the page.
 */
export function shown(text: string, max = MAX_NAME): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return escapeControl(clipped);
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for an element or a quoted attribute (no control handling: see `text`). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** An outside string, bounded, made visible and HTML-escaped: the one way such text enters the page. */
export function text(value: string, max = MAX_NAME): string {
  return esc(shown(value, max));
}

// Building an Intl.NumberFormat costs far more than using one, and a report formats tens of
// thousands of figures: one formatter per number of decimals, made once.
const byDecimals = new Map<number, Intl.NumberFormat>();
const twoSignificant = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });

function grouped(value: number, decimals: number): string {
  let f = byDecimals.get(decimals);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    byDecimals.set(decimals, f);
  }
  return f.format(value);
}

// A figure too small for the fixed decimals keeps two significant digits, so a real but tiny
// value (a leakage rate of 0.004%) never reads as zero.
function fixed(value: number, decimals: number): string {
  return value !== 0 && Math.abs(value) < 10 ** -decimals ? twoSignificant.format(value) : grouped(value, decimals);
}

/** A count: "1,204". */
export function formatCount(n: number | null): string {
  return n === null || !Number.isFinite(n) ? NONE : grouped(n, 0);
}

/** Hours, one decimal: "10.3 h". */
export function formatHours(h: number | null): string {
  return h === null || !Number.isFinite(h) ? NONE : `${fixed(h, 1)} h`;
}

/** A fraction in [0, 1] as a percentage with one decimal: "95.8%". */
export function formatRate(r: number | null): string {
  return r === null || !Number.isFinite(r) ? NONE : `${fixed(r * 100, 1)}%`;
}

/** A duration in seconds, in the largest unit that reads well: "42.5 s", "12.0 min", "1.5 h", "2.1 d". */
export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return NONE;
  const a = Math.abs(s);
  if (a < 60) return `${fixed(s, 1)} s`;
  if (a < 3600) return `${fixed(s / 60, 1)} min`;
  if (a < 48 * 3600) return `${fixed(s / 3600, 1)} h`;
  return `${fixed(s / 86400, 1)} d`;
}

/** A duration in milliseconds: "120 ms" below a second, else as `formatSeconds`. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return NONE;
  return Math.abs(ms) < 1000 ? `${fixed(ms, 0)} ms` : formatSeconds(ms / 1000);
}

/** A speed-up ratio: "339x", "1.5x" (one decimal below 10). */
export function formatSpeedup(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return NONE;
  return `${fixed(x, Math.abs(x) < 10 ? 1 : 0)}x`;
}

/**
 * Money in the report's currency: "$516", "€12.50", "CHF 1,200". Whole units from 100 up (a
 * CFO reads thousands, not cents). A currency that is not an ISO 4217 code Intl knows is shown
 * after the number as escaped text; without a currency, the bare number.
 */
export function formatMoney(value: number | null, currency: string | null): string {
  if (value === null || !Number.isFinite(value)) return NONE;
  const decimals = Math.abs(value) >= 100 ? 0 : 2;
  if (currency !== null && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
    } catch {
      // An unknown code: fall through to the plain form below.
    }
  }
  const amount = fixed(value, decimals);
  return currency === null ? amount : `${amount} ${shown(currency, 12)}`;
}

const ISO = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?Z$/;

/** An ISO UTC time as people read it: "2026-11-23 09:00 UTC"; anything else is shown as given. */
export function formatTime(iso: string): string {
  const m = ISO.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : shown(iso, 40);
}

/** A `<time>` element for an ISO time, escaped. */
export function timeTag(iso: string): string {
  return `<time datetime="${text(iso, 40)}">${esc(formatTime(iso))}</time>`;
}

/** Where a figure belongs, carried as data attributes so a test can find it in the report. */
export interface Scope {
  readonly workflow?: string;
  readonly totals?: boolean;
  readonly owner?: string;
  readonly step?: string;
  readonly period?: string;
}

/**
 * The attributes that say whose a figure is. On the figure itself, or on an ancestor (a table
 * of one workflow's periods says it once): a reader takes them from the nearest element that
 * names a workflow, the totals or an owner, and the step and period from the nearest that
 * names one. Outside names are attribute-escaped after `shown`, so they match what the page shows.
 */
export function scopeAttrs(scope: Scope): string {
  let attrs = '';
  if (scope.totals) attrs += ' data-scope="totals"';
  if (scope.workflow !== undefined) attrs += ` data-workflow="${text(scope.workflow)}"`;
  if (scope.owner !== undefined) attrs += ` data-owner="${text(scope.owner)}"`;
  if (scope.step !== undefined) attrs += ` data-step="${text(scope.step)}"`;
  if (scope.period !== undefined) attrs += ` data-period="${text(scope.period, 40)}"`;
  return attrs;
}

/** `data-metric` (the figure's path in the JSON shape: `runs.succeeded`, `duration_ms.p95`) and its scope. */
export function metricAttrs(metric: string, scope: Scope): string {
  return ` data-metric="${esc(metric)}"${scopeAttrs(scope)}`;
}

/** A figure as a `<span>` carrying its metric attributes; `shownValue` is already formatted. */
export function figure(metric: string, scope: Scope, shownValue: string, className = ''): string {
  const cls = className === '' ? '' : ` class="${className}"`;
  return `<span${cls}${metricAttrs(metric, scope)}>${esc(shownValue)}</span>`;
}

/** "1 run", "2 runs". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
