/** A metrics report as one self-contained HTML file. (Being built; replaced by the real renderer.) */
import type { MetricsReport } from '../report.js';

/** Renders the report as one self-contained HTML file. */
export function formatHtml(report: MetricsReport): string {
  void report;
  throw new Error('the html format is not built yet');
}
