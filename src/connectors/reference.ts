/**
 * The reference text of connectors, from their specs: the list, one connector's operations,
 * one operation's fields with an example step. `flux connectors` prints it; the same text,
 * as markdown, is docs/connectors.md (`flux connectors --markdown`), kept up to date by a test.
 */
import { stringify } from 'yaml';
import { connectorSpecs } from './index.js';
import { operationFields, type ConnectorSpec, type FieldSpec, type Idempotency, type OperationSpec } from './spec.js';

/** The auth a connection of this connector usually takes, for examples. */
function exampleAuth(spec: ConnectorSpec, secret: string): Record<string, unknown> {
  if (spec.auth?.[0] === 'api_key' && spec.apiKey) return { api_key: { header: spec.apiKey.header, value: `${spec.apiKey.prefix ?? ''}\${{ secrets.${secret} }}` } };
  return spec.auth?.[0] === 'basic' ? { basic: { username: `\${{ secrets.${secret} }}` } } : { bearer: `\${{ secrets.${secret} }}` };
}

/** The `headers` a connection of this connector must set, with example values. */
function connectionHeaders(spec: ConnectorSpec): { headers?: Record<string, string> } {
  const entries = Object.entries(spec.connectionHeaders ?? {});
  return entries.length > 0 ? { headers: Object.fromEntries(entries.map(([k, h]) => [k, h.example])) } : {};
}

/**
 * An example step calling `operation`, with its connection, as YAML: the required fields, the
 * first of each one-of group, or, when that is nothing, every field with an example.
 */
export function exampleStep(spec: ConnectorSpec, name: string, op: OperationSpec): string {
  const wanted = new Set([...Object.entries(op.fields).filter(([, f]) => f.required).map(([k]) => k), ...(op.oneOf ?? []).map((g) => g[0]!)]);
  const pick = (k: string, f: FieldSpec): boolean => f.example !== undefined && (wanted.size === 0 || wanted.has(k));
  const params = Object.fromEntries(Object.entries(op.fields).filter(([k, f]) => pick(k, f)).map(([k, f]) => [k, f.example]));
  const secret = `${spec.name.toUpperCase()}_TOKEN`;
  // Examples of secret fields (a webhook token) and of connection headers (a tenant) name their own secrets.
  const named = [...JSON.stringify(params).matchAll(/\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
  const headerSecrets = Object.values(spec.connectionHeaders ?? {}).flatMap((h) => [...h.example.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
  const doc = {
    secrets: [...new Set([secret, ...named, ...headerSecrets])],
    connections: { [spec.name]: { connector: spec.name, ...connectionHeaders(spec), auth: exampleAuth(spec, secret) } },
    steps: [{ id: name, uses: `${spec.name}.${name}`, ...(Object.keys(params).length > 0 ? { with: params } : {}) }],
  };
  return stringify(doc, { lineWidth: 0, flowCollectionPadding: false });
}

function typeOf(f: FieldSpec): string {
  const t = Array.isArray(f.type) ? f.type.join(' | ') : String(f.type);
  const range = f.minimum !== undefined || f.maximum !== undefined ? ` (${f.minimum ?? ''}..${f.maximum ?? ''})` : '';
  return (f.items && t.includes('array') ? t.replace('array', `array of ${Array.isArray(f.items.type) ? f.items.type.join(' | ') : String(f.items.type)}`) : t) + range;
}

function checkedText(spec: ConnectorSpec): string {
  const c = spec.vendorCheck;
  if (!c) return 'n/a';
  return c.checked ? `checked against ${c.file}` : `not checked (${c.reason})`;
}

const RAW_REQUEST = 'A connection of this connector also takes `request` (the fields of http.request): a raw call relative to its base URL, with its auth, for what has no operation yet.';

/** `flux connectors`: one line per connector. */
export function listText(): string {
  const rows = Object.values(connectorSpecs).map((s) => [s.name, s.category ?? '-', Object.keys(s.operations).join(', '), s.vendorCheck ? (s.vendorCheck.checked ? 'checked' : 'not checked') : '-']);
  const head = ['NAME', 'CATEGORY', 'OPERATIONS', 'VENDOR DESCRIPTION'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[head, ...rows].map(line).join('\n')}\n\nflux connectors NAME shows a connector's operations; flux connectors NAME OPERATION its fields and an example step.\n`;
}

/** `flux connectors NAME`. */
export function connectorText(spec: ConnectorSpec): string {
  const out = [`${spec.name}: ${spec.summary}`];
  if (spec.category) out.push(`category: ${spec.category}`);
  if (spec.baseUrl) out.push(`base URL: ${spec.baseUrl} (a connection's base_url overrides it)`);
  if (spec.auth) out.push(`auth: ${spec.auth.join(', ')}`);
  for (const [name, h] of Object.entries(spec.connectionHeaders ?? {})) out.push(`connection header ${name} (required under headers:): ${h.description}`);
  if (spec.vendorCheck) out.push(`vendor description: ${checkedText(spec)}`);
  out.push('', 'operations:');
  const width = Math.max(...Object.keys(spec.operations).map((n) => n.length));
  for (const [name, op] of Object.entries(spec.operations)) out.push(`  ${name.padEnd(width)}  ${op.summary}`);
  if (spec.baseUrl) out.push('', RAW_REQUEST);
  return `${out.join('\n')}\n`;
}

/** `flux connectors NAME OPERATION`. */
export function operationText(spec: ConnectorSpec, name: string, op: OperationSpec): string {
  const out = [`${spec.name}.${name}: ${op.summary}`];
  if (op.http) out.push(`request: ${op.http.method} ${op.http.path}${op.http.body ? ` (${op.http.body} body)` : ''}`);
  if (op.idempotency) out.push(`idempotency: ${idempotencyText(op.idempotency, (s) => s)}, the same on every retry of the step`);
  out.push('', 'fields:');
  for (const [k, f] of Object.entries(operationFields(op))) {
    out.push(`  ${k}${f.required ? ' (required)' : ''}: ${typeOf(f)}${f.enum ? ` (${f.enum.join(', ')})` : ''}`);
    out.push(`      ${f.description}${f.default !== undefined ? ` Default: ${JSON.stringify(f.default)}.` : ''}`);
  }
  for (const group of op.oneOf ?? []) out.push(`  give at least one of: ${group.join(', ')}`);
  out.push('', `output: ${op.output}`, '', 'example:', ...exampleStep(spec, name, op).trimEnd().split('\n').map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/connectors.md. */
export function referenceMarkdown(): string {
  const out = [
    '# Connectors',
    '',
    '<!-- Generated from the connector specs by `flux connectors --markdown`; do not edit. -->',
    '',
    'A step calls a connector operation with `uses: <connection>.<operation>`, where the connection names the connector:',
    '',
    '```yaml',
    'connections:',
    '  chat: { connector: slack, auth: { bearer: "${{ secrets.SLACK_TOKEN }}" } }',
    'steps:',
    '  - id: tell_sales',
    '    uses: chat.post_message',
    '    with: { channel: C0123456789, text: "New lead: ${{ event.company }}" }',
    '```',
    '',
    '| connector | category | operations | vendor description |',
    '| --- | --- | --- | --- |',
    ...Object.values(connectorSpecs).map((s) => `| [${s.name}](#${s.name}) | ${s.category ?? '-'} | ${Object.keys(s.operations).map((o) => `\`${o}\``).join(', ')} | ${checkedText(s)} |`),
  ];
  for (const spec of Object.values(connectorSpecs)) {
    out.push('', `## ${spec.name}`, '', spec.summary, '');
    if (spec.category) out.push(`- category: ${spec.category}`);
    if (spec.baseUrl) out.push(`- base URL: \`${spec.baseUrl}\` (a connection's \`base_url\` overrides it)`);
    if (spec.auth) out.push(`- auth: ${spec.auth.join(', ')}`);
    if (spec.vendorCheck) out.push(`- vendor description: ${checkedText(spec)}`);
    for (const [name, value] of Object.entries(spec.headers ?? {})) out.push(`- sends \`${name}: ${value}\` on every call (a connection's \`headers\` may override it)`);
    for (const [name, h] of Object.entries(spec.connectionHeaders ?? {})) out.push(`- connection header \`${name}\` (required under \`headers:\`): ${h.description}`);
    if (spec.rateLimit?.resetEpochSeconds) out.push(`- rate limits: a 429 waits for Retry-After, else until \`${spec.rateLimit.resetEpochSeconds}\` (epoch seconds)`);
    if (spec.baseUrl) out.push('', RAW_REQUEST);
    if (spec.standalone) out.push(...operationMarkdown(spec, spec.name, spec.standalone, `\`uses: ${spec.name}\``));
    for (const [name, op] of Object.entries(spec.operations)) out.push(...operationMarkdown(spec, name, op, `\`${spec.name}.${name}\``));
  }
  return `${out.join('\n')}\n`;
}

function operationMarkdown(spec: ConnectorSpec, name: string, op: OperationSpec, title: string): string[] {
  const out = ['', `### ${title}`, '', op.summary];
  const notes: string[] = [];
  if (op.http) notes.push(`Request: \`${op.http.method} ${op.http.path}\`${op.http.body ? ` (${op.http.body} body)` : ''}.`);
  if (op.idempotency) notes.push(`Idempotency: ${idempotencyText(op.idempotency, (s) => `\`${s}\``)}, the same on every retry of the step.`);
  if (op.pagination) notes.push(op.pagination.style === 'page'
    ? `Pagination: \`paginate: true\` asks for page after page in \`${op.pagination.cursorField}\`, collecting \`${op.pagination.items}\`, until a page is empty${op.pagination.pageCount ? ` or \`${op.pagination.pageCount}\` is reached` : ''}.`
    : `Pagination: \`paginate: true\` follows \`${op.pagination.lastItemCursor ? `${op.pagination.items}[last].${op.pagination.lastItemCursor}` : op.pagination.nextCursor ?? ''}\` into \`${op.pagination.cursorField}\`, collecting \`${op.pagination.items}\`.`);
  if (notes.length > 0) out.push('', ...notes);
  out.push('', '| field | type | required | description |', '| --- | --- | --- | --- |');
  for (const [k, f] of Object.entries(operationFields(op))) {
    const extra = `${f.enum ? ` One of ${f.enum.map((e) => `\`${e}\``).join(', ')}.` : ''}${f.default !== undefined ? ` Default \`${JSON.stringify(f.default)}\`.` : ''}`;
    out.push(`| \`${k}\` | ${cell(typeOf(f))} | ${f.required ? 'yes' : ''} | ${cell(f.description + extra)} |`);
  }
  if (op.oneOf) out.push('', ...op.oneOf.map((g) => `Give at least one of ${g.map((x) => `\`${x}\``).join(', ')}.`));
  out.push('', `Output: ${op.output}`);
  if (spec.standalone !== op) out.push('', '```yaml', exampleStep(spec, name, op).trimEnd(), '```');
  return out;
}

/** Where the idempotency key goes, with the vendor's name for it quoted by `quote`. */
function idempotencyText(i: Idempotency, quote: (name: string) => string): string {
  if ('header' in i) return `${quote(i.header)} header`;
  if ('bodyField' in i) return `${quote(i.bodyField)} body field`;
  return `${quote(i.query)} query parameter`;
}
