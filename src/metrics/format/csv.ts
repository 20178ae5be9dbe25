/** A metrics report as CSV: one row per workflow and period. (Being built; replaced by the real renderer.) */
import type { MetricsReport } from '../report.js';

/** Renders the report as CSV: one row per workflow and period. */
export function formatCsv(report: MetricsReport): string {
  void report;
  throw new Error('the csv format is not built yet');
}
