// The generator's quick check (--check, --check-only): reads a sample of the generated files
// (about 200, spread over every workflow and both layouts, gzipped ones too) and validates each
// record against schemas/run-log.schema.json with Ajv, as flux's own tests validate what the
// engine writes; checks the key order flux writes, and that every single-run file holds one
// run that starts with run.started and ends at most once, in time order.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const BASE = ['v', 'type', 'ts', 'run_id', 'workflow', 'workflow_version', 'owner', 'baseline'];
/** Fields flux is gaining in parallel (optional); added to the schema when it lacks them yet. */
const NEW_FIELDS = { 'run.started': { received_at: { type: 'string', format: 'date-time' }, response_step: { type: 'string' } }, 'step.finished': { method: { type: 'string' } } };

/** Every *.jsonl and *.jsonl.gz under dir, as paths relative to it, sorted. */
export function logFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && (e.name.endsWith('.jsonl') || e.name.endsWith('.jsonl.gz')))
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length).replace(/^\/+/, ''))
    .sort();
}

function validator() {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/run-log.schema.json', import.meta.url), 'utf8'));
  const added = [];
  for (const branch of schema.allOf) {
    const type = branch.if.properties.type.const;
    for (const [name, spec] of Object.entries(NEW_FIELDS[type] ?? {})) {
      if (branch.then.properties[name] === undefined) {
        branch.then.properties[name] = spec;
        added.push(`${type}.${name}`);
      }
    }
  }
  const addFormatsFn = addFormats.default ?? addFormats;
  return { validate: addFormatsFn(new Ajv2020({ strict: true, allErrors: true })).compile(schema), added };
}

/** Checks a sample of the files under dir; returns ok and a one-paragraph summary. */
export function checkSample(dir, maxFiles = 200) {
  const { validate, added } = validator();
  const files = logFiles(dir);
  const step = Math.max(1, Math.floor(files.length / maxFiles));
  const problems = [];
  const types = {};
  let records = 0;
  let sampled = 0;
  for (let i = 0; i < files.length; i += step) {
    const file = files[i];
    sampled++;
    const raw = readFileSync(join(dir, file));
    const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    if (!text.endsWith('\n')) problems.push(`${file}: does not end with a newline`);
    const lines = text.split('\n').slice(0, -1);
    const single = /\/[0-9A-HJKMNP-TV-Z]{26}\.jsonl$/.test(file);
    let lastTs = '';
    lines.forEach((line, n) => {
      const where = `${file}:${n + 1}`;
      let rec;
      try {
        rec = JSON.parse(line);
      } catch (e) {
        problems.push(`${where}: ${e.message}`);
        return;
      }
      records++;
      types[rec.type] = (types[rec.type] ?? 0) + 1;
      if (Object.keys(rec).slice(0, BASE.length).join() !== BASE.join()) problems.push(`${where}: keys not in flux's order: ${Object.keys(rec).join()}`);
      if (!validate(rec)) problems.push(`${where}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
      if (single) {
        if (n === 0 && rec.type !== 'run.started') problems.push(`${where}: a run file must start with run.started`);
        if (rec.run_id !== file.slice(file.lastIndexOf('/') + 1, -'.jsonl'.length)) problems.push(`${where}: run_id ${rec.run_id} is not the file's`);
        if (rec.type === 'run.finished' && n !== lines.length - 1) problems.push(`${where}: run.finished is not the last record`);
        if (rec.ts < lastTs) problems.push(`${where}: ts goes back in time`);
        lastTs = rec.ts;
      }
    });
  }
  const byType = Object.entries(types).sort().map(([t, n]) => `${t} ${n}`).join(', ');
  const note = added.length > 0 ? `; the schema lacks ${added.join(', ')} yet, so they were checked as optional fields added to it` : '';
  const summary = problems.length === 0
    ? `check: ${records.toLocaleString('en')} records in ${sampled} of ${files.length} files valid against schemas/run-log.schema.json, keys in flux's order (${byType})${note}`
    : `check: ${problems.length} problems in ${sampled} of ${files.length} files${note}:\n  ${problems.slice(0, 10).join('\n  ')}`;
  return { ok: problems.length === 0, summary };
}
