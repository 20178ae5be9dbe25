/**
 * The terminal format: `file:line:col: message [rule-id]`, the source line, and a caret
 * marker under the span, like compilers and actionlint print. File names, messages (which
 * quote the file's values) and source lines come from outside: their control characters are
 * shown escaped, never sent to the terminal.
 */
import { escapeControl } from '../../text/escape.js';
import { countBySeverity, type Diagnostic } from '../diagnostic.js';

export interface Paint {
  readonly location: (s: string) => string;
  readonly error: (s: string) => string;
  readonly warning: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly rule: (s: string) => string;
}

export const plain: Paint = { location: (s) => s, error: (s) => s, warning: (s) => s, dim: (s) => s, rule: (s) => s };

/** Formats diagnostics; `sources` gives each file's text for the excerpt lines. */
export function formatStylish(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, paint: Paint = plain, checked?: number): string {
  if (diagnostics.length === 0) return checked === undefined ? '' : `${plural(checked, 'file')} checked, no problems\n`;
  const out: string[] = [];
  const lineCache = new Map<string, string[]>();
  for (const d of diagnostics) {
    const level = d.severity === 'warning' ? `${paint.warning('warning:')} ` : '';
    const message = escapeControl(d.message);
    out.push(`${paint.location(`${escapeControl(d.file)}:${d.line}:${d.column}:`)} ${level}${d.severity === 'error' ? paint.error(message) : message} ${paint.rule(`[${d.ruleId}]`)}`);
    const text = sources.get(d.file);
    if (text === undefined) continue;
    let lines = lineCache.get(d.file);
    if (!lines) {
      lines = text.split(/\r?\n/);
      lineCache.set(d.file, lines);
    }
    const source = lines[d.line - 1];
    if (source === undefined) continue;
    const gutter = String(d.line);
    const pad = ' '.repeat(gutter.length);
    const shown = source.length > 200 ? source.slice(0, 200) : source;
    const start = Math.min(Math.max(0, d.column - 1), shown.length);
    const end = d.endLine === d.line && d.endColumn !== undefined && d.endColumn > d.column ? Math.min(d.endColumn - 1, shown.length) : shown.length;
    // Escaping widens a control character to several (ESC to `\e`), so the marker is measured
    // on the escaped text: the lead under what precedes the span, the tildes under the span.
    const lead = visible(shown.slice(0, start)).replace(/[^\t]/g, ' ');
    const width = Math.max(1, visible(shown.slice(start, end)).length);
    out.push(paint.dim(`${pad} |`));
    out.push(`${paint.dim(`${gutter} |`)} ${visible(shown)}`);
    out.push(`${paint.dim(`${pad} |`)} ${lead}${paint[d.severity === 'error' ? 'error' : 'warning'](`^${'~'.repeat(width - 1)}`)}`);
  }
  if (diagnostics.length > 0) {
    const { errors, warnings } = countBySeverity(diagnostics);
    const files = new Set(diagnostics.map((d) => d.file)).size;
    out.push('');
    out.push(`${plural(errors + warnings, 'problem')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}) in ${plural(files, 'file')}`);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** A source line as shown: tabs kept (the marker lead copies them), other controls escaped. */
function visible(text: string): string {
  return escapeControl(text, { keepLines: true });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
