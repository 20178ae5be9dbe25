/**
 * The flux command line. `main(argv, io)` parses arguments, loads the one command asked for
 * (lazily, so `flux --version` stays as fast as bare node) and returns the exit code.
 * Only this layer prints.
 */
import { escapeControl } from '../text/escape.js';
import { ExitCode, processIo, UsageError, type Io } from './io.js';
import { version } from './version.js';

/** Runs flux with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    // The hot path for scripts and health checks: no argument parser, nothing else loaded.
    io.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
  const { Command, CommanderError, Option } = await import('commander');
  const debug = argv.includes('--debug');
  let code: number = ExitCode.ok;
  const program = new Command('flux')
    .description('Run business workflows written as YAML: lint them, run them, measure them.')
    .version(version(), '-V, --version', 'print the flux version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(escapeControl(s.replace(/^error: /, 'flux: '), { keepLines: true })),
    });
  program.addOption(new Option('--debug', 'print stack traces for internal errors').hideHelp());

  program
    .command('lint')
    .description('check workflow files against the schema and the lint rules')
    .argument('[paths...]', 'files, directories (searched for *.yaml, *.yml) or globs; default: workflows/')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['stylish', 'json', 'github', 'sarif']).default('stylish'))
    .option('--max-warnings <n>', 'fail when there are more than n warnings', parseCount)
    .option('--no-color', 'never colour the output')
    .option('--debug', 'print stack traces for internal errors')
    .action(async (paths: string[], options: { format: string; maxWarnings?: number; color?: boolean }) => {
      const { lintCommand } = await import('./lint.js');
      code = await lintCommand(paths, { format: options.format as 'stylish', maxWarnings: options.maxWarnings, color: options.color }, io);
    });

  program
    .command('connectors')
    .description("list connectors, or show a connector's operations or an operation's fields")
    .argument('[name]', 'a connector, e.g. slack')
    .argument('[operation]', 'one of its operations, e.g. post_message')
    .option('--markdown', 'print the whole reference as markdown (docs/connectors.md)')
    .action(async (name: string | undefined, operation: string | undefined, options: { markdown?: boolean }) => {
      const { connectorsCommand } = await import('./connectors.js');
      code = connectorsCommand(name, operation, options, io);
    });

  program
    .command('connect')
    .description('get an OAuth refresh token for a connector or connection (authorization code with PKCE, loopback redirect); prints it once')
    .argument('<name>', 'a connector with OAuth (google_calendar, xero, ...), or a connection in --workflow FILE')
    .option('--workflow <file>', "NAME is a connection in this workflow file: its oauth2 block gives the endpoints, client and scope")
    .option('--client-id <id>', "the OAuth client's id (from the app registered with the vendor)")
    .option('--client-secret <secret>', 'the client secret, for a confidential client (better: env FLUX_CLIENT_SECRET)')
    .option('--scope <scope>', "a scope to ask for, instead of the connector's (repeatable)", (v: string, previous: string[] = []) => [...previous, v])
    .option('--authorize-url <url>', 'the authorization endpoint, over the connector\'s')
    .option('--token-url <url>', "the token endpoint, over the connector's")
    .option('--secret <name>', 'the secret name the printed line uses (default: NAME_REFRESH_TOKEN)')
    .option('-p, --port <port>', 'loopback port for the redirect (default: any free port)', (v) => (/^\d+$/.test(v) && Number(v) <= 65535 ? Number(v) : usage(`--port takes a port number, not \`${v}\``)))
    .option('--timeout <duration>', 'give up waiting after this long', '5m')
    .option('--open', 'open the URL in the desktop browser too')
    .option('--debug', 'print stack traces for internal errors')
    .action(async (name: string, options: { workflow?: string; clientId?: string; clientSecret?: string; scope?: string[]; authorizeUrl?: string; tokenUrl?: string; secret?: string; port?: number; timeout: string; open?: boolean }) => {
      const { connectCommand } = await import('./connect.js');
      code = await connectCommand(name, options, io);
    });

  program
    .command('run')
    .description('run a workflow once, now')
    .argument('<file>', 'the workflow file')
    .option('-e, --event <json>', 'the event payload: JSON, @file.json, or - for standard input')
    .option('-s, --set <key=value>', 'set an event field (dotted keys; values parsed as JSON when they are)', collect, [])
    .option('-E, --env-file <path>', 'read secrets and env values from this file (default: .env when present)')
    .option('--log-dir <dir>', 'where run logs go (default: .flux/logs, or $FLUX_HOME/logs)')
    .option('--dry-run', 'evaluate conditions and render requests without sending anything')
    .option('--answer <step=choice>', 'answer an approval step without asking anyone (repeatable); without it an approval step fails: it needs flux daemon', collect, [])
    .option('--json', 'print the run result as one JSON document on stdout')
    .option('--no-color', 'never colour the output')
    .option('--debug', 'print stack traces for internal errors')
    .action(async (file: string, options: { event?: string; set?: string[]; envFile?: string; logDir?: string; dryRun?: boolean; answer?: string[]; json?: boolean; color?: boolean }) => {
      const { runCommand } = await import('./run.js');
      code = await runCommand(file, options, io);
    });

  program
    .command('demo')
    .description('run the example workflows against a local sandbox (no accounts, no network)')
    .option('--dir <dir>', 'where the workflows are', 'workflows')
    .option('--log-dir <dir>', 'where run logs go (default: .flux/logs)')
    .option('--no-daemon', 'skip the second part, the daemon serving webhooks, events, waits and schedules')
    .action(async (options: { dir?: string; logDir?: string; daemon?: boolean }) => {
      const { demoCommand } = await import('./demo.js');
      code = await demoCommand(options, io);
    });

  program
    .command('daemon')
    .description('serve webhooks and run workflows durably until stopped (runs survive restarts)')
    .argument('[paths...]', 'workflow files, directories or globs; default: workflows/')
    .option('--state-dir <dir>', 'where the store, the lock and the run logs live (default: .flux)')
    .option('--store <url|file>', 'keep runs in this store instead: a postgres:// URL several daemons share (default: $FLUX_STORE_URL)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'port to listen on (0: any free port)', (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port takes a port number, not \`${v}\``);
      return Number(v);
    }, 8787)
    .option('--concurrency <n>', 'runs at once', (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--concurrency takes a whole number from 1, not \`${v}\``);
      return Number(v);
    }, 10)
    .option('--lease <duration>', 'how long a run stays with this daemon without renewal before another may resume it', '10s')
    .option('--grace <duration>', 'how long running steps may take to finish on SIGTERM', '30s')
    .option('--resume-budget <n>', 'how often a run may be resumed after its daemon died before it is failed and escalated (default: 3)', (v) => (/^\d{1,6}$/.test(v) ? Number(v) : usage(`--resume-budget takes a whole number from 0, not \`${v}\``)))
    .addOption(new Option('--log-format <format>', 'log lines as text or one JSON object each').choices(['text', 'json']).default('text'))
    .option('--skip-invalid', 'serve the workflows that lint clean and report the others, instead of refusing to start')
    .option('--print-systemd', 'print a systemd unit that runs this command, and exit')
    .option('--user <user>', 'with --print-systemd: the user the service runs as')
    .option('--max-chain-depth <n>', 'how many event hops a chain of runs may take; an event past it starts nothing', (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--max-chain-depth takes a whole number from 1, not \`${v}\``);
      return Number(v);
    }, 10)
    .option('--allow-silent', 'serve workflows that can fail with nobody told (a trigger but no on_error.escalate)')
    .option('--public-url <url>', 'the URL people reach this daemon at, for acknowledgement links (default: the listen address)')
    .option('--daemon-id <id>', "this daemon's name in leases and run logs, unique among daemons sharing a store (default: $FLUX_DAEMON_ID, else <hostname>:<pid>:<random>)")
    .option('--log-dir <dir>', 'where this daemon writes the logs of the runs it executes (default: <state dir>/logs)')
    .action(async (paths: string[], options: { daemonId?: string; logDir?: string; stateDir?: string; store?: string; host: string; port: number; concurrency: number; lease: string; grace: string; logFormat: string; skipInvalid?: boolean; printSystemd?: boolean; user?: string; resumeBudget?: number; maxChainDepth: number; allowSilent?: boolean; publicUrl?: string }) => {
      const { daemonCommand } = await import('./daemon.js');
      code = await daemonCommand(paths, options, io);
    });

  // `flux runs` lists; `flux runs show|retry|cancel ID` act on one run. The list is a default
  // subcommand, so `runs` itself has no options to take the subcommands' `--json`/`--state-dir`.
  const runs = program.command('runs').description("the daemon's runs: list them (the default), show, retry, cancel or acknowledge one");
  runs
    .command('list', { isDefault: true })
    .description('list runs, newest first')
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--status <status>', 'only runs in this state: queued, running, waiting, succeeded, failed, escalated, cancelled, rejected (several: comma-separated)')
    .option('--since <when>', 'only runs created since: a duration back from now (7d, 12h) or a date (2026-11-01)')
    .option('--limit <n>', 'at most this many runs (default 50)')
    .option('--json', 'print the runs as one JSON document')
    .option('--state-dir <dir>', "the daemon's state directory (default: .flux)")
    .option('--store <url|file>', 'the daemons\' store: a postgres:// URL, or a SQLite file (default: $FLUX_STORE_URL, else the state directory\'s)')
    .action(async (options: { workflow?: string; status?: string; since?: string; limit?: string; json?: boolean; stateDir?: string; store?: string }) => {
      const { runsListCommand } = await import('./runs.js');
      code = await runsListCommand(options, withStore(io, options.store));
    });
  runs
    .command('show')
    .description('one run: its state, workflow version, steps with outputs and errors, and what it waits for')
    .argument('<id>', 'the run id')
    .option('--json', 'print the run as one JSON document (outputs whole)')
    .option('--state-dir <dir>', "the daemon's state directory (default: .flux)")
    .option('--store <url|file>', 'the daemons\' store: a postgres:// URL, or a SQLite file (default: $FLUX_STORE_URL, else the state directory\'s)')
    .option('--workflows <path>', "where the workflow files are, to tell whether the run's version is the file there (default: workflows/)")
    .option('-E, --env-file <path>', 'secret values, to show whole outputs from the journal (masked) when the environment lacks them')
    .option('--log-dir <dir>', "another daemon's log directory, to read the parts of the run's log it wrote (repeatable)", collect, [])
    .action(async (id: string, options: { json?: boolean; stateDir?: string; store?: string; workflows?: string; envFile?: string; logDir?: string[] }) => {
      const { runsShowCommand } = await import('./runs-show.js');
      code = await runsShowCommand(id, options, withStore(io, options.store));
    });
  runs
    .command('retry')
    .description("run a failed or escalated run again from its failed step, with the earlier steps' outputs")
    .argument('<id>', 'the run id')
    .option('--state-dir <dir>', "the daemon's state directory (default: .flux)")
    .action(async (id: string, options: { stateDir?: string }) => {
      const { runsRetryCommand } = await import('./runs-change.js');
      code = await runsRetryCommand(id, options, io);
    });
  runs
    .command('cancel')
    .description('cancel a run: a queued or waiting one at once, a running one before its next step')
    .argument('<id>', 'the run id')
    .option('--state-dir <dir>', "the daemon's state directory (default: .flux)")
    .action(async (id: string, options: { stateDir?: string }) => {
      const { runsCancelCommand } = await import('./runs-change.js');
      code = await runsCancelCommand(id, options, io);
    });
  runs
    .command('ack')
    .description("acknowledge an escalated run's escalation, as its owner or a member or the backup of its owner team")
    .argument('<id>', 'the run id')
    .requiredOption('--as <name>', 'who acknowledges: the owner, or a member or the backup of the owner team')
    .option('--state-dir <dir>', "the daemon's state directory (default: .flux)")
    .action(async (id: string, options: { as: string; stateDir?: string }) => {
      const { runsAckCommand } = await import('./runs-ack.js');
      code = await runsAckCommand(id, options, io);
    });

  program
    .command('approve')
    .description('answer an approval step a waiting run asks (recorded in the state directory; the daemon goes on with the run)')
    .argument('<run-id>', 'the run id')
    .argument('[step]', 'the approval step (may be left out when the run waits on one approval)')
    .requiredOption('-c, --choice <choice>', 'the choice, one of those the step offers')
    .option('-i, --input <name=value>', 'a form value the step asks for (repeatable)', collect, [])
    .requiredOption('--as <name>', 'who answers: one of the step\'s approvers')
    .option('--state-dir <dir>', 'the daemon\'s state directory (default: .flux)')
    .action(async (runId: string, step: string | undefined, options: { choice: string; input?: string[]; as: string; stateDir?: string }) => {
      const { approveCommand } = await import('./approve.js');
      code = await approveCommand(runId, step, options, io);
    });

  program
    .command('event')
    .description('send an event to event-triggered workflows and waiting wait_for steps (stored in the state directory; a daemon delivers it)')
    .argument('<name>', 'the event name, e.g. booking.confirmed')
    .option('-d, --data <json>', 'the event data: a JSON object, or @file.json')
    .option('--state-dir <dir>', 'the daemon\'s state directory (default: .flux)')
    .option('--store <url>', 'the daemons\' shared store instead, a postgres:// URL (default: $FLUX_STORE_URL)')
    .action(async (name: string, options: { data?: string; stateDir?: string; store?: string }) => {
      const { eventCommand } = await import('./event.js');
      code = await eventCommand(name, options, io);
    });

  const store = program.command('store').description("the daemon's store (a SQLite file or PostgreSQL): migrate its schema, or show where it stands");
  for (const [name, description] of [['migrate', 'apply the schema migrations the store lacks, and print each one applied'], ['status', 'print the schema version, pending migrations and runs by state']] as const) {
    store
      .command(name)
      .description(description)
      .option('--store <url|file>', 'a postgres:// URL or a SQLite file (default: $FLUX_STORE_URL, else flux.db in the state directory)')
      .option('--state-dir <dir>', "the daemon's state directory (default: .flux)")
      .action(async (options: { store?: string; stateDir?: string }) => {
        const { storeMigrateCommand, storeStatusCommand } = await import('./store.js');
        code = await (name === 'migrate' ? storeMigrateCommand : storeStatusCommand)(options, io);
      });
  }

  program
    .command('sandbox')
    .description('serve the sandbox (the named connectors\' vendors, checked against their API descriptions, and a help desk) on 127.0.0.1')
    .option('-p, --port <port>', 'port to listen on', (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port takes a port number, not \`${v}\``);
      return Number(v);
    }, 4780)
    .action(async (options: { port: number }) => {
      const { sandboxCommand } = await import('./demo.js');
      code = await sandboxCommand(options, io);
    });

  program
    .command('metrics')
    .description('read run logs and report runs, leaks, time-to-response, cycle time and reclaimed hours per workflow and owner')
    .argument('[paths...]', 'log files or directories (searched for *.jsonl, *.jsonl.gz); default: .flux/logs, or $FLUX_HOME/logs')
    .option('--log-dir <dir>', 'read the logs in this directory (as flux run --log-dir)')
    .option('--since <when>', 'count runs started since: a duration back from now (7d, 12h) or a date (2026-11-01)')
    .option('--until <when>', 'count runs started until, and judge open runs as of: a duration back from now or a date (default: now)')
    .option('--workflow <name>', 'only this workflow (repeatable)', collect, [])
    .option('--by <period>', 'the trend period: day, week or month (UTC, weeks from Monday)', 'day')
    .option('-f, --format <format>', 'table, json, csv, prom or html (default: table on a terminal, json otherwise, or from --out)')
    .option('-o, --out <file>', 'write the report to this file (atomically) instead of standard output')
    .option('--stale-after <duration>', 'a run with no end and no record for this long has leaked (default: 24h)')
    .option('--fail-on-leak', 'exit 1 when any run leaked')
    .option('--store <url|file>', 'also read the daemons\' store (a postgres:// URL or a SQLite file, read-only): runs in flight now, escalations, failing polls, and runs whose logs have no end (default: $FLUX_STORE_URL)')
    .option('--workflows <dir>', 'the workflow files, to draw each workflow\'s map in the HTML report (default: workflows/ when present)')
    .option('--no-color', 'never colour the output')
    .option('--debug', 'print stack traces for internal errors')
    .action(async (paths: string[], options: { logDir?: string; since?: string; until?: string; workflow?: string[]; by?: string; format?: string; out?: string; staleAfter?: string; failOnLeak?: boolean; color?: boolean; workflows?: string; store?: string }) => {
      const { metricsCommand } = await import('./metrics.js');
      code = await metricsCommand(paths, options, io);
    });

  program
    .command('graph')
    .description('draw a workflow (or a directory of them and how they link) as Mermaid, DOT or SVG')
    .argument('<path>', 'a workflow file, or a directory of them')
    .option('-f, --format <format>', 'mermaid, dot or svg (default: mermaid, or from --out: .mmd, .dot, .svg)')
    .option('-o, --out <file>', 'write the drawing to this file (atomically) instead of standard output')
    .option('--debug', 'print stack traces for internal errors')
    .action(async (path: string, options: { format?: string; out?: string }) => {
      const { graphCommand } = await import('./graph.js');
      code = await graphCommand(path, options, io);
    });

  program
    .command('schema')
    .description('print the workflow JSON Schema')
    .action(async () => {
      const { workflowSchemaText } = await import('../workflow/schema.js');
      io.stdout.write(workflowSchemaText());
    });

  if (argv.length === 0) {
    // No command is a usage error, as in git: the help goes to stderr and the exit code is 2.
    io.stderr.write(program.helpInformation());
    return ExitCode.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`flux: ${escapeControl(error.message, { keepLines: true })}\n`);
      return ExitCode.usage;
    }
    io.stderr.write(`flux: internal error: ${escapeControl(error instanceof Error ? error.message : String(error))}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    else io.stderr.write('flux: run again with --debug for a stack trace, and report it as a bug\n');
    return ExitCode.internal;
  }
}

/**
 * The runs commands read their store from FLUX_STORE_URL (runs-state.ts); `--store` given on
 * the command line takes its place.
 */
function withStore(io: Io, store: string | undefined): Io {
  return store === undefined ? io : { ...io, env: { ...io.env, FLUX_STORE_URL: store } };
}

/** Throws a usage error; an expression, for option parsers written on one line. */
function usage(message: string): never {
  throw new UsageError(message);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--max-warnings takes a whole number, not \`${value}\``);
  return Number(value);
}
