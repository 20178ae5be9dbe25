// The hand-written SVG charts: scales and ticks, bars stacked where they should be, nulls as
// gaps, one period, nothing but zeros, huge values, and outside text kept as text.
import { describe, expect, it } from 'vitest';
import { barChart, HEIGHT, labelIndexes, lineChart, niceScale, WIDTH, type ChartSpec } from '../../src/metrics/format/svg.js';

// The plot box the module draws in (its padding): left 44, right 10, top 10, bottom 24.
const PLOT_LEFT = 44;
const PLOT_W = WIDTH - 44 - 10;
const PLOT_BOTTOM = HEIGHT - 24;
const PLOT_H = HEIGHT - 10 - 24;

const spec = (over: Partial<ChartSpec>): ChartSpec => ({ id: 'c', title: 'T', description: 'D', labels: [], series: [], ...over });

interface Rect { x: number; y: number; width: number; height: number; group: string }

function rects(svg: string): Rect[] {
  const out: Rect[] = [];
  for (const g of svg.matchAll(/<g class="([^"]*)">((?:<rect [^>]*\/>)*)<\/g>/g)) {
    for (const r of (g[2] ?? '').matchAll(/<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"\/>/g)) {
      out.push({ x: Number(r[1]), y: Number(r[2]), width: Number(r[3]), height: Number(r[4]), group: g[1] ?? '' });
    }
  }
  return out;
}

function tickLabels(svg: string): string[] {
  return [...svg.matchAll(/<text x="40" y="[^"]+" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1] ?? '');
}

describe('niceScale', () => {
  it('rounds the top up to a step of 1, 2 or 5 times a power of ten', () => {
    expect(niceScale(19)).toEqual({ max: 20, ticks: [0, 5, 10, 15, 20] });
    expect(niceScale(20)).toEqual({ max: 20, ticks: [0, 5, 10, 15, 20] });
    expect(niceScale(3)).toEqual({ max: 3, ticks: [0, 1, 2, 3] });
    expect(niceScale(2.3)).toEqual({ max: 3, ticks: [0, 1, 2, 3] });
    expect(niceScale(7)).toEqual({ max: 8, ticks: [0, 2, 4, 6, 8] });
  });
  it('writes decimal ticks without floating-point noise', () => {
    expect(niceScale(0.3)).toEqual({ max: 0.3, ticks: [0, 0.1, 0.2, 0.3] });
    expect(niceScale(1.5)).toEqual({ max: 1.5, ticks: [0, 0.5, 1, 1.5] });
  });
  it('draws 0 to 1 when there is nothing to scale', () => {
    for (const v of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) expect(niceScale(v)).toEqual({ max: 1, ticks: [0, 0.5, 1] });
  });
  it('handles huge values, up to the largest double', () => {
    expect(niceScale(1e15)).toEqual({ max: 1e15, ticks: [0, 5e14, 1e15] });
    expect(niceScale(Number.MAX_VALUE)).toEqual({ max: Number.MAX_VALUE, ticks: [0, Number.MAX_VALUE] });
  });
});

describe('labelIndexes', () => {
  it('labels at most six periods, evenly, from the first', () => {
    expect(labelIndexes(0)).toEqual([]);
    expect(labelIndexes(1)).toEqual([0]);
    expect(labelIndexes(6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(labelIndexes(7)).toEqual([0, 2, 4, 6]);
    expect(labelIndexes(90)).toEqual([0, 15, 30, 45, 60, 75]);
  });
});

describe('barChart', () => {
  it('draws each value to scale and leaves nulls and zeros out', () => {
    const svg = barChart(spec({ labels: ['a', 'b', 'c', 'd'], series: [{ name: 'n', className: 'c-hours', values: [1, 2, null, 0] }] }));
    const r = rects(svg);
    expect(r).toHaveLength(2);
    // The scale is 0..2, so 1 is half the plot's height and 2 all of it, both on the baseline.
    expect(r.map((x) => x.height)).toEqual([PLOT_H / 2, PLOT_H]);
    expect(r.map((x) => x.y + x.height)).toEqual([PLOT_BOTTOM, PLOT_BOTTOM]);
    const slot = PLOT_W / 4;
    expect(r[0]!.x + r[0]!.width / 2).toBeCloseTo(PLOT_LEFT + slot * 0.5, 1);
    expect(r[1]!.x + r[1]!.width / 2).toBeCloseTo(PLOT_LEFT + slot * 1.5, 1);
    expect(tickLabels(svg)).toEqual(['0', '0.5', '1', '1.5', '2']);
  });

  it('stacks the series bottom-up, each on the one before', () => {
    const svg = barChart(spec({
      labels: ['a', 'b'],
      series: [{ name: 'ok', className: 'c-succeeded', values: [1, 3] }, { name: 'bad', className: 'c-failed', values: [2, 0] }],
    }));
    const r = rects(svg);
    expect(r.map((x) => x.group)).toEqual(['c-succeeded', 'c-succeeded', 'c-failed']);
    const [okA, okB, badA] = r as [Rect, Rect, Rect];
    // The scale is 0..3: the first stack (1 + 2) and the second bar (3) reach the top.
    expect(badA.y + badA.height).toBeCloseTo(okA.y, 1);
    expect(badA.y).toBeCloseTo(10, 1);
    expect(okB.y).toBeCloseTo(10, 1);
    expect(okA.height).toBeCloseTo(PLOT_H / 3, 1);
  });

  it('draws a single period as one bar in the middle', () => {
    const r = rects(barChart(spec({ labels: ['16 Nov'], series: [{ name: 'n', className: 'c-hours', values: [4] }] })));
    expect(r).toHaveLength(1);
    expect(r[0]!.x + r[0]!.width / 2).toBeCloseTo(PLOT_LEFT + PLOT_W / 2, 1);
    expect(r[0]!.height).toBe(PLOT_H);
  });

  it('draws all zeros as an empty plot on a 0..1 axis, with no NaN anywhere', () => {
    const svg = barChart(spec({ labels: ['a', 'b', 'c'], series: [{ name: 'n', className: 'c-hours', values: [0, 0, 0] }] }));
    expect(rects(svg)).toEqual([]);
    expect(tickLabels(svg)).toEqual(['0', '0.5', '1']);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('scales huge values, and treats NaN, Infinity and negatives as gaps', () => {
    const svg = barChart(spec({ labels: ['a', 'b', 'c', 'd', 'e'], series: [{ name: 'n', className: 'c-hours', values: [1e15, 5e14, Number.NaN, Number.POSITIVE_INFINITY, -3] }] }));
    expect(rects(svg).map((x) => x.height)).toEqual([PLOT_H, PLOT_H / 2]);
    expect(tickLabels(svg)).toEqual(['0', '500T', '1000T']);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

describe('lineChart', () => {
  it('breaks the line at nulls and marks a point with no neighbour', () => {
    const svg = lineChart(spec({ labels: ['a', 'b', 'c', 'd'], series: [{ name: 'p50', className: 'c-p50', values: [1, 2, null, 2] }] }));
    const d = /<path d="([^"]+)"\/>/.exec(svg)?.[1] ?? '';
    // Two points joined (M then L), a gap, then one lone point: not a line but a dot.
    expect(d.match(/[ML]/g)).toEqual(['M', 'L']);
    const dots = [...svg.matchAll(/<circle cx="([^"]+)" cy="([^"]+)"/g)];
    expect(dots).toHaveLength(1);
    expect(Number(dots[0]![1])).toBeCloseTo(PLOT_LEFT + (PLOT_W / 4) * 3.5, 1);
    expect(Number(dots[0]![2])).toBeCloseTo(10, 1);
  });

  it('starts a new segment after each gap', () => {
    const svg = lineChart(spec({ labels: ['a', 'b', 'c', 'd', 'e'], series: [{ name: 'p50', className: 'c-p50', values: [1, 2, null, 3, 3] }] }));
    expect(/<path d="([^"]+)"\/>/.exec(svg)?.[1]?.match(/[ML]/g)).toEqual(['M', 'L', 'M', 'L']);
    expect(svg).not.toContain('<circle');
  });

  it('draws a single period as a dot, and a series of nulls as nothing', () => {
    const svg = lineChart(spec({
      labels: ['a'],
      series: [{ name: 'p50', className: 'c-p50', values: [30] }, { name: 'p90', className: 'c-p90', values: [null] }],
    }));
    expect(svg).not.toContain('<path');
    expect([...svg.matchAll(/<circle /g)]).toHaveLength(1);
    expect(svg).toContain('<g class="line c-p90"></g>');
  });
});

describe('chart markup', () => {
  it('is an image named by its escaped title and description, with a safe id', () => {
    const svg = barChart(spec({ id: 'wf 1"<x>', title: 'Runs of <b>&"x"', description: 'a </svg><script>', labels: ['<i>'], series: [] }));
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="wf_1__x_-t wf_1__x_-d"/);
    expect(svg).toContain('<title id="wf_1__x_-t">Runs of &lt;b&gt;&amp;&quot;x&quot;</title>');
    expect(svg).toContain('<desc id="wf_1__x_-d">a &lt;/svg&gt;&lt;script&gt;</desc>');
    expect(svg).toContain('>&lt;i&gt;</text>');
    expect(svg).not.toMatch(/<(script|b|i)>/);
  });
});
