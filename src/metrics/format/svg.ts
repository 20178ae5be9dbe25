/**
 * Charts as static SVG text, for the HTML report: a stacked bar chart and a line chart over the
 * report's periods. No DOM and no script: the output is a string a browser draws as it is,
 * offline, on paper as on a phone. Colours come from CSS classes (the page's stylesheet), so a
 * chart follows the page's palette and its print rules. Every chart is an `<svg role="img">`
 * named by its `<title>` and `<desc>`; the page puts the numbers beside it as text.
 *
 * Values that are null, negative or not finite are gaps (a line breaks; a bar is not drawn):
 * the report uses null for "no figure", and a chart must never invent a zero for it.
 */
import { esc } from './html-text.js';

/** The drawing box, in SVG units; the chart scales to its container's width. */
export const WIDTH = 320;
export const HEIGHT = 168;
const PAD = { left: 44, right: 10, top: 10, bottom: 24 } as const;
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
/** At most this many x-axis labels, so dates never overlap on a narrow chart. */
const MAX_X_LABELS = 6;

/** A y axis from 0: its top and the tick values, at "nice" steps (1, 2 or 5 times a power of ten). */
export interface Scale {
  readonly max: number;
  readonly ticks: readonly number[];
}

/**
 * The y scale for data whose largest value is `max`: from 0 to the first nice step at or above
 * it, with about `count` ticks. With nothing to show (0, negative, not finite) it is 0 to 1.
 */
export function niceScale(max: number, count = 4): Scale {
  if (!Number.isFinite(max) || max <= 0) return { max: 1, ticks: [0, 0.5, 1] };
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const top = Math.ceil(max / step - 1e-9) * step;
  if (!Number.isFinite(top)) return { max, ticks: [0, max] };
  const ticks: number[] = [];
  // Rounded to 12 significant digits: 3 x 0.1 is 0.3 on the axis, not 0.30000000000000004.
  for (let i = 0; i * step <= top * (1 + 1e-9); i++) ticks.push(Number((i * step).toPrecision(12)));
  return { max: Number(top.toPrecision(12)), ticks };
}

/** One series: its name (for the legend and the title of its marks) and a CSS class for its colour. */
export interface Series {
  readonly name: string;
  readonly className: string;
  readonly values: readonly (number | null)[];
}

/** What a chart draws: an id unique in the page, its accessible name and description, x labels, series. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly labels: readonly string[];
  readonly series: readonly Series[];
  /** How a y tick is written; compact by default ("1.2K"). */
  readonly formatTick?: (value: number) => string;
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** The usable value at i of a series, or null for a gap. */
export function valueAt(series: Series, i: number): number | null {
  const v = series.values[i];
  return v === undefined || v === null || !Number.isFinite(v) || v < 0 ? null : v;
}

// Two decimals are plenty for coordinates and keep the markup small.
const r2 = (v: number): number => Math.round(v * 100) / 100;

function slot(n: number): number {
  return PLOT_W / Math.max(n, 1);
}

function xCenter(i: number, n: number): number {
  return PAD.left + slot(n) * (i + 0.5);
}

function y(value: number, scale: Scale): number {
  return PAD.top + PLOT_H - (Math.min(value, scale.max) / scale.max) * PLOT_H;
}

/** Which x labels to write: every k-th from the first, so there are at most MAX_X_LABELS. */
export function labelIndexes(n: number, max = MAX_X_LABELS): number[] {
  const every = Math.max(1, Math.ceil(n / max));
  const out: number[] = [];
  for (let i = 0; i < n; i += every) out.push(i);
  return out;
}

function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}

function frame(spec: ChartSpec, scale: Scale, body: string): string {
  const id = safeId(spec.id);
  const tick = spec.formatTick ?? ((v: number) => compact.format(v));
  const n = spec.labels.length;
  const grid = scale.ticks
    .map((t) => {
      const ty = r2(y(t, scale));
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${ty}" y2="${ty}"/><text x="${PAD.left - 4}" y="${r2(ty + 3.5)}" text-anchor="end">${esc(tick(t))}</text>`;
    })
    .join('');
  const xLabels = labelIndexes(n)
    .map((i) => `<text x="${r2(xCenter(i, n))}" y="${HEIGHT - 8}" text-anchor="middle">${esc(spec.labels[i] ?? '')}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-t ${id}-d">` +
    `<title id="${id}-t">${esc(spec.title)}</title><desc id="${id}-d">${esc(spec.description)}</desc>` +
    `<g class="axis" aria-hidden="true">${grid}${xLabels}</g>${body}</svg>`
  );
}

/** The largest value drawn: for stacked bars the largest stack, for lines the largest point. */
function maxOf(spec: ChartSpec, stacked: boolean): number {
  let max = 0;
  for (let i = 0; i < spec.labels.length; i++) {
    let stack = 0;
    for (const s of spec.series) {
      const v = valueAt(s, i) ?? 0;
      stack = stacked ? stack + v : Math.max(stack, v);
    }
    max = Math.max(max, stack);
  }
  return max;
}

/** A bar chart, the series stacked bottom-up in the order given; one series makes plain bars. */
export function barChart(spec: ChartSpec): string {
  const n = spec.labels.length;
  const scale = niceScale(maxOf(spec, true));
  const width = r2(Math.max(1, slot(n) * 0.7));
  const base = new Array<number>(n).fill(0);
  const groups = spec.series.map((s) => {
    let rects = '';
    for (let i = 0; i < n; i++) {
      const v = valueAt(s, i);
      const below = base[i] ?? 0;
      if (v === null || v === 0) continue;
      const top = y(below + v, scale);
      const height = y(below, scale) - top;
      base[i] = below + v;
      rects += `<rect x="${r2(xCenter(i, n) - width / 2)}" y="${r2(top)}" width="${width}" height="${r2(Math.max(height, 0.5))}"/>`;
    }
    return `<g class="${esc(s.className)}">${rects}</g>`;
  });
  return frame(spec, scale, groups.join(''));
}

/**
 * A line chart: each series a path through its points, broken at gaps. A point with no
 * neighbour (a single period, or one between gaps) is drawn as a dot so it is not lost.
 */
export function lineChart(spec: ChartSpec): string {
  const n = spec.labels.length;
  const scale = niceScale(maxOf(spec, false));
  const groups = spec.series.map((s) => {
    let d = '';
    let dots = '';
    for (let i = 0; i < n; i++) {
      const v = valueAt(s, i);
      if (v === null) continue;
      const px = r2(xCenter(i, n));
      const py = r2(y(v, scale));
      const prev = i > 0 && valueAt(s, i - 1) !== null;
      const next = i < n - 1 && valueAt(s, i + 1) !== null;
      if (!prev && !next) dots += `<circle cx="${px}" cy="${py}" r="2.5"/>`;
      else d += `${prev ? 'L' : 'M'}${px} ${py}`;
    }
    const path = d === '' ? '' : `<path d="${d}"/>`;
    return `<g class="line ${esc(s.className)}">${path}${dots}</g>`;
  });
  return frame(spec, scale, groups.join(''));
}
