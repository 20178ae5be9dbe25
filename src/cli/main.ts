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
    .command('run')
    .description('run a workflow once, now')
    .argument('<file>', 'the workflow file')
    .option('-e, --event <json>', 'the event payload: JSON, @file.json, or - for standard input')
    .option('-s, --set <key=value>', 'set an event field (dotted keys; values parsed as JSON when they are)', collect, [])
    .option('-E, --env-file <path>', 'read secrets and env values from this file (default: .env when present)')
    .option('--log-dir <dir>', 'where run logs go (default: .flux/logs, or $FLUX_HOME/logs)')
    .option('--dry-run', 'evaluate conditions and render requests without sending anything')
    .option('--json', 'print the run result as one JSON document on stdout')
    .option('--no-color', 'never colour the output')
    .option('--debug', 'print stack traces for internal errors')
    .action(async (file: string, options: { event?: string; set?: string[]; envFile?: string; logDir?: string; dryRun?: boolean; json?: boolean; color?: boolean }) => {
      const { runCommand } = await import('./run.js');
      code = await runCommand(file, options, io);
    });

  program
    .command('demo')
    .description('run the example workflows against a local sandbox (no accounts, no network)')
    .option('--dir <dir>', 'where the workflows are', 'workflows')
    .option('--log-dir <dir>', 'where run logs go (default: .flux/logs)')
    .action(async (options: { dir?: string; logDir?: string }) => {
      const { demoCommand } = await import('./demo.js');
      code = await demoCommand(options, io);
    });

  program
    .command('daemon')
    .description('serve webhooks and run workflows durably until stopped (runs survive restarts)')
    .argument('[paths...]', 'workflow files, directories or globs; default: workflows/')
    .option('--state-dir <dir>', 'where the store, the lock and the run logs live (default: .flux)')
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
    .action(async (paths: string[], options: { stateDir?: string; host: string; port: number; concurrency: number; lease: string; grace: string }) => {
      const { daemonCommand } = await import('./daemon.js');
      code = await daemonCommand(paths, options, io);
    });

  program
    .command('sandbox')
    .description('serve the sandbox CRM, calendar, ledger, chat, email and tickets on 127.0.0.1')
    .option('-p, --port <port>', 'port to listen on', (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port takes a port number, not \`${v}\``);
      return Number(v);
    }, 4780)
    .action(async (options: { port: number }) => {
      const { sandboxCommand } = await import('./demo.js');
      code = await sandboxCommand(options, io);
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

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--max-warnings takes a whole number, not \`${value}\``);
  return Number(value);
}
