/** A metrics report as Prometheus text exposition, for node-exporter's textfile collector. (Being built; replaced by the real renderer.) */
import type { MetricsReport } from '../report.js';

/** Renders the report as Prometheus text exposition, for node-exporter's textfile collector. */
export function formatProm(report: MetricsReport): string {
  void report;
  throw new Error('the prom format is not built yet');
}
