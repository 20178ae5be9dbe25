/**
 * The HTML report's stylesheet, inlined into the page so the file stands alone: no fonts,
 * images or CDNs (the page's Content-Security-Policy forbids loading anything). Light colours
 * that survive a black-and-white printer, a layout that reflows to one column on a phone, and
 * print rules that keep a figure or a table row from splitting across pages.
 */

/** Outcome colours, shared by the run charts' bars and their legends. */
export const OUTCOME_CLASSES = ['succeeded', 'escalated', 'failed', 'stalled', 'cancelled', 'rejected', 'running', 'waiting'] as const;

/** The stylesheet. */
export const CSS = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde2ea; --panel: #f6f8fb; --accent: #2456a6;
  --ok: #2e7d4f; --alert: #b3261e; --alert-bg: #fdecea; --warn-bg: #fff6e0; }
* { box-sizing: border-box; }
:root { color-scheme: light; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2.25rem 0 .5rem; padding-top: .75rem; border-top: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
.muted, .meta { color: var(--muted); }
.meta { margin: 0; }
.name { overflow-wrap: anywhere; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .75rem; margin: .75rem 0; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; }
.tile .label { margin: 0; color: var(--muted); font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; }
.tile .big { display: block; font-size: 1.9rem; font-weight: 650; margin: .15rem 0; font-variant-numeric: tabular-nums; }
.tile p { margin: .2rem 0 0; }
.tile.alert { background: var(--alert-bg); border: 2px solid var(--alert); color: #5f1410; }
.tile.alert .label, .tile.alert .big { color: var(--alert); }
.tile.good .big { color: var(--ok); }
.headline { margin: .75rem 0; }
tr[data-run] code { white-space: nowrap; }
.finding { background: var(--warn-bg); border-left: 4px solid #c98a00; padding: .5rem .75rem; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: .5rem 1rem; margin: .5rem 0; }
dl.figures div { background: var(--panel); border-radius: 6px; padding: .5rem .75rem; }
dl.figures dt { color: var(--muted); font-size: .85rem; }
dl.figures dd { margin: .1rem 0 0; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(19rem, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem .75rem; break-inside: avoid; }
figcaption { font-size: .85rem; color: var(--muted); }
figcaption strong { color: var(--ink); display: block; font-size: .95rem; }
svg.chart { display: block; width: 100%; height: auto; margin: .25rem 0; }
svg.chart .axis line { stroke: var(--line); stroke-width: 1; }
svg.chart .axis text { fill: var(--muted); font-size: 10px; font-family: inherit; }
svg.chart .line path { fill: none; stroke-width: 2; stroke-linejoin: round; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem .9rem; padding: 0; margin: .25rem 0; font-size: .8rem; }
.legend li::before { content: ""; display: inline-block; width: .75em; height: .75em; margin-right: .3em; border-radius: 2px; background: var(--c); vertical-align: -.05em; }
.legend li.c-p50::before, .legend li.c-p90::before { height: .2em; vertical-align: .25em; }
svg.chart g[class^="c-"] { fill: var(--c); }
svg.chart .line path { stroke: var(--c); }
svg.chart .line circle { fill: var(--c); }
.c-succeeded { --c: #3f9b63; } .c-escalated { --c: #e0a030; } .c-failed { --c: #d4493f; } .c-stalled { --c: #7a1f1a; }
.c-cancelled { --c: #9aa3b1; } .c-rejected { --c: #b79fd6; } .c-running { --c: #4a86d8; } .c-waiting { --c: #9cc3ee; }
.c-hours { --c: #2f7fb5; } .c-p50 { --c: #2f7fb5; } .c-p90 { --c: #e07b30; }
.table-wrap { overflow-x: auto; margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; caption-side: top; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody th { font-weight: 500; }
tr.leak td, tr.leak th { background: var(--alert-bg); }
ul.warnings, ul.speedups { padding-left: 1.2rem; margin: .2rem 0 0; }
ul.warnings li { margin: .2rem 0; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
nav ul { padding-left: 1.2rem; margin: .25rem 0; }
footer { margin-top: 3rem; font-size: .8rem; color: var(--muted); }
.with-map { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; align-items: start; }
.with-map dl.figures { grid-template-columns: 1fr; }
svg.map { display: block; max-width: 100%; max-height: 44rem; height: auto; margin: .25rem auto; }
@media (max-width: 40rem) {
  body { font-size: 14px; }
  main { padding: .75rem .6rem 2rem; }
  .tile .big { font-size: 1.6rem; }
  th, td { padding: .3rem .35rem; }
}
@media print {
  @page { margin: 14mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  section.workflow { break-before: page; }
  tr, .tile, dl.figures div { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  /* Paper cannot scroll sideways: long ids and names wrap instead. */
  tr[data-run] code, thead th, td.num { white-space: normal; overflow-wrap: anywhere; }
  table { font-size: 9pt; }
  a { color: inherit; text-decoration: none; }
  nav { display: none; }
}
`;
