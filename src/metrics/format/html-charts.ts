/**
 * The report's charts over the periods (`--by`): runs stacked by outcome, reclaimed hours, and
 * response time p50/p90. Each is a `<figure>`: the SVG (named by its title and description), a
 * legend, a caption that says the main numbers in words, and a visually hidden table with
 * every period's figures, which is what a screen reader reads instead of the picture (and what
 * the tests compare with the report).
 */
import type { Period, PeriodFigures } from '../report.js';
import { OUTCOME_CLASSES } from './html-style.js';
import { esc, formatCount, formatHours, formatSeconds, plural, scopeAttrs, shown, text } from './html-text.js';
import { barChart, lineChart, type Series } from './svg.js';

/** Whose periods a chart draws: a workflow (by name) or the totals, and an id prefix unique in the page. */
export interface ChartOwner {
  readonly id: string;
  readonly workflow: string | null;
  readonly by: Period;
  readonly periods: readonly PeriodFigures[];
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A period's first day as an axis label: "16 Nov" (days and weeks) or "Nov 2026" (months). */
export function periodLabel(start: string, by: Period): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(start);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  if (!m || month === undefined) return shown(start, 20);
  return by === 'month' ? `${month} ${m[1]}` : `${Number(m[3])} ${month}`;
}

const PER: Readonly<Record<Period, string>> = { day: 'per day', week: 'per week (from Monday)', month: 'per month' };

function whose(owner: ChartOwner): string {
  return owner.workflow === null ? 'all workflows' : shown(owner.workflow);
}

function legend(series: readonly Series[]): string {
  return `<ul class="legend" aria-hidden="true">${series.map((s) => `<li class="${s.className}">${esc(s.name)}</li>`).join('')}</ul>`;
}

interface Column {
  readonly heading: string;
  readonly metric: string;
  readonly value: (p: PeriodFigures) => number | null;
  readonly format: (v: number | null) => string;
}

/**
 * The hidden table of every period's figures: the chart's text equivalent. Each column header
 * names its metric, the table whose figures they are and each row its period (a checker reads
 * a cell's from its column header and nearest ancestors), so a year of days for fifty
 * workflows stays a few megabytes instead of tens.
 */
function periodTable(owner: ChartOwner, caption: string, columns: readonly Column[]): string {
  const head = columns.map((c) => `<th scope="col" data-metric="${esc(c.metric)}">${esc(c.heading)}</th>`).join('');
  const rows = owner.periods
    .map((p) => {
      const cells = columns.map((c) => `<td>${esc(c.format(c.value(p)))}</td>`).join('');
      return `<tr data-period="${text(p.start, 20)}"><th scope="row">${text(p.start, 20)}</th>${cells}</tr>`;
    })
    .join('');
  const whose = owner.workflow === null ? scopeAttrs({ totals: true }) : scopeAttrs({ workflow: owner.workflow });
  // The class is on a wrapper: a table ignores overflow and width, so it would still widen the page.
  return `<div class="sr-only"><table${whose}><caption>${esc(caption)}</caption><thead><tr><th scope="col">Period</th>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function chartFigure(svg: string, series: readonly Series[], caption: string, summary: string, table: string): string {
  return `<figure>${svg}${legend(series)}<figcaption><strong>${esc(caption)}</strong>${esc(summary)}</figcaption>${table}</figure>`;
}

function span(owner: ChartOwner): string {
  const first = owner.periods[0];
  const last = owner.periods[owner.periods.length - 1];
  if (!first || !last) return '';
  const a = periodLabel(first.start, owner.by);
  const b = periodLabel(last.start, owner.by);
  return a === b ? a : `${a} to ${b}`;
}

/** Runs per period, stacked by outcome; outcomes that never happened are left out of chart and legend. */
export function runsChart(owner: ChartOwner): string {
  const outcomes = OUTCOME_CLASSES.filter((k) => owner.periods.some((p) => p.runs[k] > 0));
  const series: Series[] = outcomes.map((k) => ({ name: k, className: `c-${k}`, values: owner.periods.map((p) => p.runs[k]) }));
  const labels = owner.periods.map((p) => periodLabel(p.start, owner.by));
  const caption = `Runs ${PER[owner.by]}, by outcome`;
  const total = owner.periods.reduce((n, p) => n + p.runs.started, 0);
  let busiest: PeriodFigures | undefined;
  for (const p of owner.periods) if (!busiest || p.runs.started > busiest.runs.started) busiest = p;
  const peak = busiest && busiest.runs.started > 0 ? `; most on ${periodLabel(busiest.start, owner.by)} (${formatCount(busiest.runs.started)})` : '';
  const summary = ` ${plural(total, 'run')} started, ${span(owner)}${peak}.`;
  const svg = barChart({ id: `${owner.id}-runs`, title: `${caption}: ${whose(owner)}`, description: summary.trim(), labels, series, formatTick: tickCount });
  const columns: Column[] = [
    { heading: 'started', metric: 'runs.started', value: (p) => p.runs.started, format: formatCount },
    ...outcomes.map((k): Column => ({ heading: k, metric: `runs.${k}`, value: (p) => p.runs[k], format: formatCount })),
  ];
  return chartFigure(svg, series, caption, summary, periodTable(owner, `${caption}: ${whose(owner)}`, columns));
}

/** Reclaimed hours per period. */
export function hoursChart(owner: ChartOwner): string {
  const series: Series[] = [{ name: 'reclaimed hours', className: 'c-hours', values: owner.periods.map((p) => p.reclaimed_hours) }];
  const labels = owner.periods.map((p) => periodLabel(p.start, owner.by));
  const caption = `Hours reclaimed ${PER[owner.by]}`;
  const total = owner.periods.reduce((n, p) => n + p.reclaimed_hours, 0);
  const summary = ` ${formatHours(total)} in all, ${span(owner)}.`;
  const svg = barChart({ id: `${owner.id}-hours`, title: `${caption}: ${whose(owner)}`, description: summary.trim(), labels, series });
  const columns: Column[] = [{ heading: 'reclaimed hours', metric: 'reclaimed_hours', value: (p) => p.reclaimed_hours, format: formatHours }];
  return chartFigure(svg, series, caption, summary, periodTable(owner, `${caption}: ${whose(owner)}`, columns));
}

/** The unit a time axis is drawn in, chosen by its largest value so ticks read "30 min", not "1.8K s". */
export function timeUnit(maxSeconds: number): { readonly name: string; readonly seconds: number } {
  // Automated answers often come in milliseconds: ticks of "0 s, 0 s" would say nothing.
  if (maxSeconds < 2) return { name: 'ms', seconds: 0.001 };
  if (maxSeconds < 120) return { name: 's', seconds: 1 };
  if (maxSeconds < 2 * 3600) return { name: 'min', seconds: 60 };
  if (maxSeconds < 3 * 86400) return { name: 'h', seconds: 3600 };
  return { name: 'd', seconds: 86400 };
}

/** Response time p50 and p90 per period, as lines; periods without a response are gaps. */
export function responseChart(owner: ChartOwner): string {
  const pick = (k: 'p50' | 'p90') => owner.periods.map((p) => p.response_seconds[k]);
  // Reduced, not spread into Math.max: years of daily periods would overflow the call stack.
  const top = [...pick('p50'), ...pick('p90')].reduce<number>((m, v) => (v !== null && Number.isFinite(v) ? Math.max(m, v) : m), 0);
  const unit = timeUnit(top);
  const inUnit = (values: readonly (number | null)[]) => values.map((v) => (v === null ? null : v / unit.seconds));
  const series: Series[] = [
    { name: 'p50', className: 'c-p50', values: inUnit(pick('p50')) },
    { name: 'p90', className: 'c-p90', values: inUnit(pick('p90')) },
  ];
  const labels = owner.periods.map((p) => periodLabel(p.start, owner.by));
  const caption = `Time to response ${PER[owner.by]}, p50 and p90`;
  const p50s = pick('p50').filter((v): v is number => v !== null && Number.isFinite(v));
  const summary =
    p50s.length === 0
      ? ' No response step succeeded in these periods.'
      : ` p50 from ${formatSeconds(p50s.reduce((a, b) => Math.min(a, b)))} to ${formatSeconds(p50s.reduce((a, b) => Math.max(a, b)))}, ${span(owner)}; gaps are periods without a response.`;
  const formatTick = (v: number): string => (v === 0 ? '0' : `${compact.format(v)} ${unit.name}`);
  const svg = lineChart({ id: `${owner.id}-resp`, title: `${caption}: ${whose(owner)}`, description: summary.trim(), labels, series, formatTick });
  const columns: Column[] = [
    { heading: 'p50', metric: 'response_seconds.p50', value: (p) => p.response_seconds.p50, format: formatSeconds },
    { heading: 'p90', metric: 'response_seconds.p90', value: (p) => p.response_seconds.p90, format: formatSeconds },
  ];
  return chartFigure(svg, series, caption, summary, periodTable(owner, `${caption}: ${whose(owner)}`, columns));
}

// Counts are whole: a tick of 0.25 runs would be nonsense, so fractional ticks go unlabelled.
function tickCount(v: number): string {
  return Number.isInteger(v) ? compact.format(v) : '';
}

