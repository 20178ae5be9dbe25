/** The terminal table of a metrics report. (Being built; replaced by the real renderer.) */
import type { MetricsReport } from '../report.js';

/** Options of the table: colour (chalk, off for NO_COLOR and pipes) and the width to fit. */
export interface TableOptions {
  readonly color: boolean;
  readonly width: number;
}

/** Renders the report as a table for a terminal. */
export function formatTable(report: MetricsReport, options: TableOptions): string {
  void report; void options;
  throw new Error('the table format is not built yet');
}
