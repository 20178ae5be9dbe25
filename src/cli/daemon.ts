/**
 * `flux daemon [paths…]`: lint the workflows (refusing to start on errors, or with
 * `--skip-invalid` serving the valid ones and reporting the rest), then serve their webhooks
 * and run what the state directory's store holds until SIGTERM or SIGINT, which stop intake
 * and let running steps finish within the grace period. SIGHUP re-reads the workflow files.
 * `--print-systemd` prints a unit for these paths and flags instead of starting.
 * Exit 0 after a clean stop, 2 when it cannot start (lint errors, the state directory in use
 * by another daemon, bad flags).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnectors } from '../connectors/index.js';
import { DEFAULT_MAX_CHAIN_DEPTH } from '../daemon/events.js';
import { StateDirLocked, startDaemon } from '../daemon/daemon.js';
import { isPostgresSpec, isStoreOpenError, resolveStoreSpec, shownStore, unsupportedScheme } from '../store/open.js';
import { createDaemonLog, maskDeclaredSecrets, type LogFormat } from '../daemon/log.js';
import { systemdUnit } from '../daemon/systemd.js';
import { readWorkflowFiles } from '../daemon/workflow-files.js';
import { clockFromEnv } from '../engine/test-clock.js';
import { formatStylish, plain } from '../lint/format/stylish.js';
import { Masker } from '../secrets/masker.js';
import { escapeControl } from '../text/escape.js';
import { parseDuration } from '../workflow/duration.js';
import { displayPath, ExitCode, UsageError, type Io } from './io.js';
import { version } from './version.js';

export interface DaemonCommandOptions {
  readonly stateDir?: string | undefined;
  /** A postgres:// URL (or a SQLite file) to keep the runs in instead of the state directory's flux.db; default $FLUX_STORE_URL. */
  readonly store?: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  readonly lease: string;
  readonly grace: string;
  readonly resumeBudget?: number;
  /** `text` (default) or `json`: one JSON object per log line. */
  readonly logFormat?: string | undefined;
  /** Serve the workflows that lint clean and report the others, instead of refusing to start. */
  readonly skipInvalid?: boolean | undefined;
  /** Print a systemd unit for this command and exit. */
  readonly printSystemd?: boolean | undefined;
  /** With --print-systemd: the user the service runs as. */
  readonly user?: string | undefined;
  readonly maxChainDepth?: number;
  /** Serve workflows that can fail with nobody told (no `on_error.escalate`). */
  readonly allowSilent?: boolean | undefined;
  /** The URL people reach this daemon at, for acknowledgement links (default: the listen address). */
  readonly publicUrl?: string | undefined;
  /** This daemon's name in leases and run logs (else FLUX_DAEMON_ID, else `<hostname>:<pid>:<random>`). */
  readonly daemonId?: string | undefined;
  /** Where this daemon writes the run logs of the runs it executes (default: <state dir>/logs). */
  readonly logDir?: string | undefined;
}

/** The state directory of a daemon run by systemd when none is given: systemd's own place for it. */
const SYSTEMD_STATE_DIR = '/var/lib/flux';
/** Where the unit tells systemd to read the secrets from. */
const SYSTEMD_ENV_FILE = '/etc/flux/flux.env';

/** Runs the daemon until it is told to stop; returns the exit code. */
export async function daemonCommand(paths: readonly string[], options: DaemonCommandOptions, io: Io): Promise<number> {
  const leaseMs = durationOption('--lease', options.lease);
  const graceMs = durationOption('--grace', options.grace);
  const logFormat = (options.logFormat ?? 'text') as LogFormat;
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format takes text or json, not \`${escapeControl(logFormat)}\``);
  if (options.user !== undefined && !options.printSystemd) throw new UsageError('--user goes with --print-systemd (it names the user the service runs as)');
  const args = paths.length > 0 ? paths : existsSync(join(io.cwd, 'workflows')) ? ['workflows'] : [];
  if (args.length === 0) throw new UsageError('no paths given and no workflows/ directory here; try `flux daemon path/to/workflows`');
  const absolute = args.map((p) => (isAbsolute(p) ? p : join(io.cwd, p)));
  const nameOf = (path: string) => displayPath(path, io.cwd);
  const silent = { allowSilent: options.allowSilent === true };
  const publicUrl = publicUrlOption(options.publicUrl);
  const daemonId = daemonIdOption(options.daemonId ?? io.env.FLUX_DAEMON_ID, options.daemonId !== undefined ? '--daemon-id' : 'FLUX_DAEMON_ID');
  const files = await readWorkflowFiles(absolute, nameOf, silent);
  if (files.missing.length > 0) throw new UsageError(`${files.missing.map((m) => `\`${escapeControl(m)}\``).join(', ')}: no such file, directory, or glob match`);
  if (files.unlisted.length > 0) throw new UsageError(`cannot read ${files.unlisted.map((u) => `${escapeControl(u.path)} (${u.reason})`).join(', ')}`);
  // The store is checked before either branch: the unit --print-systemd writes carries it too.
  const storeGiven = options.store ?? (io.env.FLUX_STORE_URL || undefined);
  const store = storeGiven === undefined ? undefined : resolveStoreSpec({ store: storeGiven, env: io.env, cwd: io.cwd });
  const scheme = store === undefined ? undefined : unsupportedScheme(store);
  if (scheme !== undefined) throw new UsageError(`--store takes a SQLite file or a postgres:// URL, not a ${escapeControl(scheme)}:// URL`);
  if (options.printSystemd) return printSystemd(absolute, options, store, graceMs, logFormat, io);
  if (files.invalid.length > 0 && !options.skipInvalid) {
    io.stderr.write(formatStylish(files.errors, files.texts, plain));
    io.stderr.write('flux: the daemon does not start while workflows have errors (flux lint shows them all; --skip-invalid serves the others)\n');
    return ExitCode.usage;
  }
  const stateDir = options.stateDir !== undefined ? (isAbsolute(options.stateDir) ? options.stateDir : join(io.cwd, options.stateDir)) : join(io.cwd, '.flux');
  let clock;
  try {
    clock = clockFromEnv(io.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // SIGHUP's default is to end the process: from here on it means "reload", and one that
  // comes while the daemon is still starting is kept for when it has started.
  let onHup: () => void = () => (hupWhileStarting = true);
  let hupWhileStarting = false;
  const hup = () => onHup();
  process.on('SIGHUP', hup);
  const masker = new Masker();
  maskDeclaredSecrets(masker, files.valid.map((v) => v.workflow), io.env);
  const log = createDaemonLog({ format: logFormat, write: (line) => io.stdout.write(line), now: () => clock.now(), masker });
  for (const i of files.invalid) {
    io.stderr.write(`flux: not serving ${escapeControl(masker.mask(i.firstError))}\n`);
    log.error(`not serving ${i.file}: ${i.firstError}`, { kind: 'workflow.invalid', file: i.file, error: i.firstError });
  }
  const connectors = await createConnectors({ userAgent: `flux/${version()} (daemon)` });
  let daemon;
  try {
    daemon = await startDaemon({
      workflows: files.valid, stateDir, ...(store !== undefined ? { store } : {}), host: options.host, port: options.port, concurrency: options.concurrency, leaseMs, env: io.env,
      clock, connectors, logDir: options.logDir !== undefined ? (isAbsolute(options.logDir) ? options.logDir : join(io.cwd, options.logDir)) : join(stateDir, 'logs'), log, masker, reread: () => readWorkflowFiles(absolute, nameOf, silent),
      ...(publicUrl !== undefined ? { publicUrl } : {}),
      ...(daemonId !== undefined ? { daemonId } : {}),
      ...(options.maxChainDepth !== undefined ? { maxChainDepth: options.maxChainDepth } : {}),
      ...(options.resumeBudget !== undefined ? { resumeBudget: options.resumeBudget } : {}),
      // A test clock jumps whenever the test rewrites its file: look at it often.
      ...(io.env.FLUX_TEST_CLOCK ? { scheduleTickMs: 10 } : {}),
    });
  } catch (error) {
    process.off('SIGHUP', hup);
    await Promise.all(Object.values(connectors).map((c) => c.close?.()));
    if (error instanceof StateDirLocked) throw new UsageError(error.message);
    // The database is down or refuses us: exit 1 (a supervisor retries), saying where, without a password.
    if (isStoreOpenError(error)) {
      io.stderr.write(`flux: ${escapeControl(error.message)}\n`);
      return ExitCode.problems;
    }
    throw error;
  }
  const started = daemon;
  let stopping = false;
  onHup = () => {
    if (stopping) return log.info('SIGHUP while stopping: not reloading', { kind: 'reload.ignored' });
    log.info('SIGHUP: reloading the workflow files', { kind: 'reload.requested' });
    void started.reload();
  };
  if (hupWhileStarting) onHup();
  // Listening first, then saying so: whoever reads the line may signal at once.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve(s));
  });
  const served = `${files.valid.length} workflow${files.valid.length === 1 ? '' : 's'}`;
  if (logFormat === 'text') io.stdout.write(`flux daemon listening on ${daemon.url} (${served}, state in ${displayPath(stateDir, io.cwd)}${store !== undefined ? `, store ${escapeControl(shownStore(store))}` : ''})\n`);
  else log.info(`flux daemon listening on ${daemon.url} (${served})`, { kind: 'daemon.listening', url: daemon.url, workflows: files.valid.length, skipped: files.invalid.length, state_dir: stateDir, ...(store !== undefined ? { store: shownStore(store) } : {}), pid: process.pid, daemon: daemon.id });
  // A stop signal, or the state database's thread dying: then nothing more can be stored, and
  // exiting non-zero lets systemd (Restart=on-failure) start a fresh daemon that resumes all.
  const ended = await Promise.race([stopSignal.then((signal) => ({ signal })), daemon.dead.then((error) => ({ error }))]);
  stopping = true;
  if ('signal' in ended) log.info(`${ended.signal}: stopping intake; running steps get ${options.grace} to finish`, { kind: 'daemon.stopping', signal: ended.signal });
  else log.error(`${ended.error.message}; stopping so that a restart can resume the runs`, { kind: 'daemon.store_failed' });
  await daemon.stop('signal' in ended ? graceMs : 0);
  process.off('SIGHUP', hup);
  await Promise.all(Object.values(connectors).map((c) => c.close?.()));
  log.info('stopped', { kind: 'daemon.stopped' });
  return 'signal' in ended ? ExitCode.ok : ExitCode.problems;
}

/** `--print-systemd`: the unit for this command line, on stdout. */
function printSystemd(paths: readonly string[], options: DaemonCommandOptions, store: string | undefined, graceMs: number, logFormat: LogFormat, io: Io): number {
  const stateDir = options.stateDir === undefined ? SYSTEMD_STATE_DIR : isAbsolute(options.stateDir) ? options.stateDir : join(io.cwd, options.stateDir);
  const bin = fileURLToPath(new URL('../../bin/flux.js', import.meta.url));
  const logDir = options.logDir === undefined ? undefined : isAbsolute(options.logDir) ? options.logDir : join(io.cwd, options.logDir);
  // A PostgreSQL URL may carry a password: it belongs in the environment file, not the unit.
  // A SQLite file other than the state directory's is a path, written out like the others.
  const pgStore = store !== undefined && isPostgresSpec(store);
  const storeFile = store !== undefined && !pgStore ? store : undefined;
  const words = [process.execPath, bin, ...paths, stateDir, options.user ?? '', logDir ?? '', storeFile ?? ''];
  // A unit is line-based: a path with a newline in it would end the setting and start another.
  const bad = words.find((w) => /[\u0000-\u001f\u007f]/.test(w));
  if (bad !== undefined) throw new UsageError(`cannot write a systemd unit for \`${escapeControl(bad)}\`: it holds a control character`);
  if (options.user !== undefined && !/^[a-z_][a-z0-9_-]*[$]?$/i.test(options.user)) throw new UsageError(`--user takes a user name, not \`${escapeControl(options.user)}\``);
  const flags = [
    '--host', options.host, '--port', String(options.port), '--concurrency', String(options.concurrency), '--lease', options.lease, '--grace', options.grace,
    ...(logFormat !== 'text' ? ['--log-format', logFormat] : []), ...(options.skipInvalid ? ['--skip-invalid'] : []), ...(options.allowSilent ? ['--allow-silent'] : []),
    ...(options.publicUrl !== undefined ? ['--public-url', options.publicUrl] : []),
    ...(options.daemonId !== undefined ? ['--daemon-id', options.daemonId] : []),
    ...(logDir !== undefined ? ['--log-dir', logDir] : []),
    ...(storeFile !== undefined ? ['--store', storeFile] : []),
    ...(options.resumeBudget !== undefined ? ['--resume-budget', String(options.resumeBudget)] : []),
    ...(options.maxChainDepth !== undefined && options.maxChainDepth !== DEFAULT_MAX_CHAIN_DEPTH ? ['--max-chain-depth', String(options.maxChainDepth)] : []),
  ];
  io.stdout.write(systemdUnit({ node: process.execPath, bin, paths, stateDir, flags, graceMs, user: options.user, environmentFile: SYSTEMD_ENV_FILE }));
  if (pgStore) {
    io.stderr.write(`flux: the store URL is not written into the unit (it may hold a password): put FLUX_STORE_URL=${escapeControl(shownStore(store))} (with its password) in ${SYSTEMD_ENV_FILE}\n`);
  }
  if (logDir !== undefined && !`${logDir}/`.startsWith(`${stateDir}/`)) {
    io.stderr.write(`flux: the unit lets the service write only its state directory (ProtectSystem=strict): add ReadWritePaths=${escapeControl(logDir)} under [Service] for --log-dir\n`);
  }
  if (options.user === undefined && !stateDir.startsWith('/var/lib/')) {
    io.stderr.write(`flux: the unit runs as a dynamic user, who cannot write ${escapeControl(stateDir)}; give --user, or a --state-dir under /var/lib\n`);
  }
  return ExitCode.ok;
}

/** `--public-url`: an http(s) URL with no query or fragment, kept without a trailing slash. */
function publicUrlOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new UsageError(`--public-url takes the http(s) URL people reach this daemon at, such as https://flux.example.com, not \`${escapeControl(value)}\``);
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * `--daemon-id` (or FLUX_DAEMON_ID): a name for leases and run logs, so printable and short; it
 * must be unique among the daemons sharing a store (two with one name would take each other's
 * runs for their own).
 */
function daemonIdOption(value: string | undefined, from: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[A-Za-z0-9._:@/-]{1,128}$/.test(value)) {
    throw new UsageError(`${from} takes up to 128 letters, digits and . _ : @ / -, such as flux-1 or host:1234, not \`${escapeControl(value)}\``);
  }
  return value;
}

function durationOption(flag: string, value: string): number {
  const d = parseDuration(value);
  if (!d.ok) throw new UsageError(`${flag} takes a duration such as 10s or 1m, not \`${value}\``);
  return d.ms;
}
