/**
 * Formats for machines: JSON, GitHub Actions annotations, and SARIF 2.1.0 for code scanning.
 * JSON.stringify escapes C0 controls (ESC, BEL, CR) but not C1 controls or bidi overrides,
 * which `json` escapes too; the GitHub format is read by the runner line by line and shown in
 * a browser and logs, so it escapes them on its own (see `data`).
 */
import { escapeControl } from '../../text/escape.js';
import type { Diagnostic } from '../diagnostic.js';

export interface RuleInfo {
  readonly id: string;
  readonly description: string;
  readonly severity: 'error' | 'warning';
}

/** A JSON array of `{file, line, column, endLine, endColumn, severity, ruleId, message}`. */
export function formatJson(diagnostics: readonly Diagnostic[]): string {
  return `${json(diagnostics.map((d) => ({
    file: d.file, line: d.line, column: d.column, endLine: d.endLine ?? d.line, endColumn: d.endColumn ?? d.column,
    severity: d.severity, ruleId: d.ruleId, message: d.message,
  })))}\n`;
}

/** GitHub Actions workflow commands, one `::error` or `::warning` line per problem. */
export function formatGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => {
    const props = [`file=${prop(d.file)}`, `line=${d.line}`, `col=${d.column}`];
    if (d.endLine !== undefined) props.push(`endLine=${d.endLine}`);
    if (d.endColumn !== undefined && d.endLine === d.line) props.push(`endColumn=${d.endColumn}`);
    props.push(`title=${prop(`flux lint (${d.ruleId})`)}`);
    return `::${d.severity} ${props.join(',')}::${data(d.message)}\n`;
  }).join('');
}

/**
 * A workflow command's message: control characters shown escaped (so an ESC or a bidi override
 * in a file's value reaches no terminal), then GitHub's own escapes for `%`, CR and LF, which
 * keep a value from ending the command and starting another (`\n::add-mask::`).
 */
function data(s: string): string {
  return escapeControl(s, { keepLines: true }).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function prop(s: string): string {
  return data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** A SARIF 2.1.0 log with one run, its rules, and one result per problem. */
export function formatSarif(diagnostics: readonly Diagnostic[], rules: readonly RuleInfo[], version: string): string {
  const known = new Map(rules.map((r) => [r.id, r]));
  const used = [...new Set(diagnostics.map((d) => d.ruleId))].sort();
  const ruleIndex = new Map(used.map((id, i) => [id, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'flux',
          version,
          rules: used.map((id) => ({
            id,
            shortDescription: { text: known.get(id)?.description ?? builtinDescription(id) },
            defaultConfiguration: { level: known.get(id)?.severity ?? 'error' },
          })),
        },
      },
      results: diagnostics.map((d) => ({
        ruleId: d.ruleId,
        ruleIndex: ruleIndex.get(d.ruleId),
        level: d.severity,
        message: { text: d.message },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: d.file.split('\\').join('/') },
            region: {
              startLine: d.line, startColumn: d.column,
              ...(d.endLine !== undefined ? { endLine: d.endLine } : {}),
              ...(d.endColumn !== undefined ? { endColumn: d.endColumn } : {}),
            },
          },
        }],
      })),
    }],
  };
  return `${json(log)}\n`;
}

// Characters a terminal obeys that JSON.stringify leaves raw: C1 controls (0x9B is a one-byte
// CSI) and the bidirectional embedding, override and isolate characters.
const RAW_IN_JSON = /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Pretty JSON in which every terminal control is a \u escape: the same data, safe to print. */
function json(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function builtinDescription(id: string): string {
  const texts: Record<string, string> = {
    schema: 'The workflow must match schemas/workflow.schema.json.',
    yaml: 'The file must be well-formed YAML.',
    io: 'The file must be readable.',
    encoding: 'The file must be UTF-8 text.',
    'file-size': 'The file must not exceed the size limit.',
    'empty-file': 'The file must hold a workflow.',
  };
  return texts[id] ?? id;
}
