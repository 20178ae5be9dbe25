/**
 * What `flux runs show` may print, masked with what. The store's journal keeps each step's
 * output whole and unmasked (replay needs the real value); the run log was masked as it was
 * written, with every secret the daemon knew (derived credentials too), but cuts outputs at
 * 16 KiB. So show prints the run log's copy wherever it is whole, masked again with the values
 * known here; the journal's copy only where the log's was cut or is missing, and only when
 * every secret the workflow version declares has its value here (environment or --env-file),
 * masked with those values. Otherwise the cut copy is shown, or nothing, and show says why.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseEnvFile } from '../secrets/env-file.js';
import { Masker } from '../secrets/masker.js';
import { escapeControl } from '../text/escape.js';
import { parseSource } from '../workflow/source.js';
import { displayPath, UsageError, type Io } from './io.js';

/** What show knows of the run's secrets. */
export interface Reveal {
  /** Masks every known value of a declared secret. */
  readonly masker: Masker;
  /** True when the journal's whole outputs may be shown (masked): every declared secret's value is known. */
  readonly journalOutputs: boolean;
  /** Declared secrets with no value here; empty when `journalOutputs`. */
  readonly missing: readonly string[];
}

/** Reads `--env-file` (values there stand beside the environment's). */
export function envFileValues(option: string | undefined, io: Io): Readonly<Record<string, string>> {
  if (option === undefined) return {};
  const path = isAbsolute(option) ? option : join(io.cwd, option);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --env-file ${escapeControl(displayPath(path, io.cwd))}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const { values, problems } = parseEnvFile(text);
  const first = problems[0];
  if (first) throw new UsageError(`${escapeControl(displayPath(path, io.cwd))}:${first.line}: ${first.message}`);
  return values;
}

/** The masking for a run of the workflow version `versionText` (undefined: the store lacks it). */
export function revealFor(versionText: string | undefined, env: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>>): Reveal {
  const masker = new Masker();
  const declared = declaredSecrets(versionText);
  // Without the version text, which secrets it declares is unknown: show only what the log holds.
  if (declared === undefined) return { masker, journalOutputs: false, missing: ['(the workflow version is not in the store)'] };
  const missing: string[] = [];
  for (const name of declared) {
    const value = Object.hasOwn(extra, name) ? extra[name] : Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined || value === '') missing.push(name);
    else masker.add(value);
  }
  return { masker, journalOutputs: missing.length === 0, missing };
}

/** The `secrets:` a workflow text declares, or undefined when it cannot be read. */
function declaredSecrets(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const parsed = parseSource('workflow.yaml', text);
  if (!parsed.ok) return undefined;
  const secrets = parsed.source.value.secrets;
  if (secrets === undefined || secrets === null) return [];
  return Array.isArray(secrets) ? secrets.filter((s): s is string => typeof s === 'string') : undefined;
}
