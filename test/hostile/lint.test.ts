// Hostile files and paths for `flux lint` (and `flux run`, where the loader is the point).
// Each case spawns the real binary through the contract (bounded time, the exit code, never 3,
// no stack trace) and then checks the one message that case must produce, naming the path.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectContract, head, unprivilegedUser, workspace, type HostileCase, type Outcome } from './harness.js';

// Generous for a loaded CI machine (a run takes well under a second); a hang is still caught.
const WITHIN_MS = 8000;
const TEST_MS = 15_000;
const ESCALATE = 'on_error:\n  escalate: { uses: http, with: { method: POST, url: "https://chat.example.com/alerts" } }\n';
const VALID = `${head('ok')}steps:\n  - id: a\n    set: { x: 1 }\n${ESCALATE}`;

/** A scratch directory that another user may enter (mkdtemp makes it 0700). */
function openWorkspace() {
  const ws = workspace('flux-hostile-lint-');
  chmodSync(ws.dir, 0o755);
  return ws;
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A Unix socket at `path`, kept listening while the cases run. */
async function socketAt(path: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
}

interface PathCase {
  readonly name: string;
  /** Builds the hostile path in `dir`; returns the arguments to flux. */
  readonly setup: (dir: string) => Promise<readonly string[]> | readonly string[];
  readonly exit: number;
  /** Text the output must contain (stdout + stderr). */
  readonly expect: readonly (string | RegExp)[];
  /** Text it must not contain. */
  readonly never?: readonly (string | RegExp)[];
  readonly user?: boolean;
}

const fifo = (dir: string, name: string) => execFileSync('mkfifo', [join(dir, name)]);

const cases: readonly PathCase[] = [
  {
    name: 'an unreadable directory is an io problem, not a clean run',
    user: true,
    setup: (dir) => {
      mkdirSync(join(dir, 'flows/team'), { recursive: true });
      writeFileSync(join(dir, 'flows/ok.yaml'), VALID);
      writeFileSync(join(dir, 'flows/team/hidden.yaml'), 'name: [broken\n');
      chmodSync(join(dir, 'flows/team'), 0o000);
      return ['lint', 'flows'];
    },
    exit: 2,
    expect: ['flows/team:1:1: cannot read directory: permission denied [io]'],
    never: ['no problems'],
  },
  {
    name: 'an unreadable file is an io problem',
    user: true,
    setup: (dir) => {
      writeFileSync(join(dir, 'secret.yaml'), VALID);
      chmodSync(join(dir, 'secret.yaml'), 0o000);
      return ['lint', 'secret.yaml'];
    },
    exit: 2,
    expect: ['secret.yaml:1:1: cannot read file: permission denied [io]'],
  },
  {
    name: 'an unreadable glob base is an io problem, not "no match"',
    user: true,
    setup: (dir) => {
      mkdirSync(join(dir, 'locked'));
      writeFileSync(join(dir, 'locked/a.yaml'), VALID);
      chmodSync(join(dir, 'locked'), 0o000);
      return ['lint', 'locked/*.yaml'];
    },
    exit: 2,
    expect: ['locked:1:1: cannot read directory: permission denied [io]'],
  },
  {
    name: 'a FIFO named x.yaml is never opened',
    setup: (dir) => {
      fifo(dir, 'x.yaml');
      return ['lint', 'x.yaml'];
    },
    exit: 2,
    expect: ['x.yaml:1:1: cannot read file: not a regular file (a FIFO)'],
  },
  {
    name: 'a FIFO found by walking a directory is reported, and the other files still checked',
    setup: (dir) => {
      mkdirSync(join(dir, 'flows'));
      fifo(join(dir, 'flows'), 'pipe.yaml');
      writeFileSync(join(dir, 'flows/bad.yaml'), `${head('bad')}steps: []\n${ESCALATE}`);
      return ['lint', 'flows'];
    },
    exit: 2,
    expect: ['flows/pipe.yaml:1:1: cannot read file: not a regular file (a FIFO)', 'flows/bad.yaml:4:8: `steps` must have at least 1 item [schema]'],
  },
  {
    name: 'a FIFO matched by a glob is reported',
    setup: (dir) => {
      fifo(dir, 'g.yaml');
      return ['lint', '*.yaml'];
    },
    exit: 2,
    expect: ['g.yaml:1:1: cannot read file: not a regular file (a FIFO)'],
  },
  {
    name: 'a socket is not a regular file',
    setup: async (dir) => {
      await socketAt(join(dir, 's.yaml'));
      return ['lint', 's.yaml'];
    },
    exit: 2,
    expect: ['s.yaml:1:1: cannot read file: not a regular file (a socket)'],
  },
  {
    name: 'a symlink to /dev/zero is a device, not an empty file',
    setup: (dir) => {
      symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
      return ['lint', 'zero.yaml'];
    },
    exit: 2,
    expect: ['zero.yaml:1:1: cannot read file: not a regular file (a character device)'],
    never: ['empty'],
  },
  {
    name: 'a symlink loop given by name says it is a loop',
    setup: (dir) => {
      symlinkSync('loop.yaml', join(dir, 'loop.yaml'));
      return ['lint', 'loop.yaml'];
    },
    exit: 2,
    expect: ['loop.yaml:1:1: cannot read file: symlink loop (ELOOP)'],
    never: ['no such file'],
  },
  {
    name: 'a symlink loop found by walking says it is a loop',
    setup: (dir) => {
      mkdirSync(join(dir, 'flows'));
      symlinkSync('b.yaml', join(dir, 'flows/a.yaml'));
      symlinkSync('a.yaml', join(dir, 'flows/b.yaml'));
      return ['lint', 'flows'];
    },
    exit: 2,
    expect: ['flows/a.yaml:1:1: cannot read file: symlink loop (ELOOP)', 'flows/b.yaml:1:1: cannot read file: symlink loop (ELOOP)'],
  },
  {
    name: 'a directory named x.yaml is searched, not read as a file',
    setup: (dir) => {
      mkdirSync(join(dir, 'x.yaml'));
      writeFileSync(join(dir, 'x.yaml/inner.yaml'), `${head('inner')}steps: []\n${ESCALATE}`);
      return ['lint', 'x.yaml'];
    },
    exit: 1,
    expect: ['x.yaml/inner.yaml:4:8: `steps` must have at least 1 item [schema]'],
  },
  {
    name: 'a symlink named x.yaml to a directory is not followed into a walk',
    setup: (dir) => {
      mkdirSync(join(dir, 'flows'));
      symlinkSync('.', join(dir, 'flows/self.yaml'));
      return ['lint', 'flows'];
    },
    exit: 2,
    expect: ['flows/self.yaml:1:1: cannot read file: it is a directory, not a workflow file [io]'],
  },
  {
    name: 'a file over the size limit is refused unread',
    setup: (dir) => {
      writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
      return ['lint', 'huge.yaml'];
    },
    exit: 1,
    expect: [/huge\.yaml:1:1: file is \d+ bytes; workflow files are limited to 1048576 bytes \[file-size\]/],
  },
  {
    name: 'a binary file is refused',
    setup: (dir) => {
      writeFileSync(join(dir, 'bin.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x00, 0x1b, 0x5b]));
      return ['lint', 'bin.yaml'];
    },
    exit: 1,
    expect: ['bin.yaml:1:1: file looks binary (a NUL byte at offset 5)'],
  },
  {
    name: 'a document nested ten thousand levels deep is refused before parsing',
    setup: (dir) => {
      writeFileSync(join(dir, 'deep.yaml'), `a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`);
      return ['lint', 'deep.yaml'];
    },
    exit: 1,
    expect: ['nests more than 500 levels deep'],
  },
  // flux run: a file that cannot be read has nothing to fix; say why, and only that.
  {
    name: 'flux run of a missing file says it is missing',
    setup: () => ['run', 'missing.yaml'],
    exit: 2,
    expect: ['flux: cannot read missing.yaml: no such file\n'],
    never: ['has errors', 'fix them'],
  },
  {
    name: 'flux run of a FIFO does not hang',
    setup: (dir) => {
      fifo(dir, 'run.yaml');
      return ['run', 'run.yaml'];
    },
    exit: 2,
    expect: ['flux: cannot read run.yaml: not a regular file (a FIFO)'],
    never: ['has errors'],
  },
  {
    name: 'flux run of a directory says it is a directory',
    setup: (dir) => {
      mkdirSync(join(dir, 'flow.yaml'));
      return ['run', 'flow.yaml'];
    },
    exit: 2,
    expect: ['flux: cannot read flow.yaml: it is a directory, not a workflow file'],
    never: ['has errors'],
  },
  {
    name: 'flux run of a symlink loop says it is a loop',
    setup: (dir) => {
      symlinkSync('self.yaml', join(dir, 'self.yaml'));
      return ['run', 'self.yaml'];
    },
    exit: 2,
    expect: ['flux: cannot read self.yaml: symlink loop (ELOOP)'],
  },
  {
    name: 'flux run of an unreadable file says permission denied',
    user: true,
    setup: (dir) => {
      writeFileSync(join(dir, 'locked.yaml'), VALID);
      chmodSync(join(dir, 'locked.yaml'), 0o000);
      return ['run', '--dry-run', 'locked.yaml'];
    },
    exit: 2,
    expect: ['flux: cannot read locked.yaml: permission denied'],
  },
  {
    name: 'flux run of a file with errors still says to fix them',
    setup: (dir) => {
      writeFileSync(join(dir, 'broken.yaml'), `${head('broken')}steps: []\n`);
      return ['run', 'broken.yaml'];
    },
    exit: 2,
    expect: ['broken.yaml:4:8: `steps` must have at least 1 item [schema]', 'has errors; fix them before running it'],
  },
];

function contains(o: Outcome, needle: string | RegExp): boolean {
  const all = `${o.stdout}${o.stderr}`;
  return typeof needle === 'string' ? all.includes(needle) : needle.test(all);
}

describe('flux lint and flux run on hostile paths', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const ws = openWorkspace();
      const args = await c.setup(ws.dir);
      const user = c.user ? unprivilegedUser() : undefined;
      const run: HostileCase = { args, cwd: ws.dir, exit: c.exit, withinMs: WITHIN_MS, ...(user ? { user } : {}) };
      const o = await expectContract(run);
      for (const needle of c.expect) expect(contains(o, needle), `missing ${String(needle)} in:\n${o.stdout}${o.stderr}`).toBe(true);
      for (const needle of c.never ?? []) expect(contains(o, needle), `unexpected ${String(needle)} in:\n${o.stdout}${o.stderr}`).toBe(false);
    }, TEST_MS);
  }
});

// Raw terminal controls: ESC (0x1b), BEL (0x07), CR, and the bidi override U+202E.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('flux lint never prints control characters from the file', () => {
  // A value (double-quoted YAML escapes, quoted back in the owner message), a raw ESC and BEL
  // in a key (the source excerpt and the unknown-key message), a lone CR inside a comment line,
  // and a file name holding an escape sequence.
  const evil = [
    'name: evil',
    'owner: "x\\e]0;pwned\\a\\r\\u202e\\x9b"',
    'trigger: manual',
    'steps:',
    '  - id: a',
    '    set: { x: 1 }',
    `    "k\u001b[2J\u0007y": 1 # a comment\rOVERWRITTEN`,
    ESCALATE,
  ].join('\n');
  const fileName = 'e\u001b[31mvil\u202e.yaml';

  for (const format of ['stylish', 'github'] as const) {
    it(`in the ${format} format`, async () => {
      const ws = openWorkspace();
      ws.write(fileName, evil);
      const o = await expectContract({ args: ['lint', '--format', format, '.'], cwd: ws.dir, exit: 1, withinMs: WITHIN_MS });
      const output = o.stdout.replace(/\n/g, '');
      expect(RAW_CONTROL.exec(output), `a raw control character in:\n${JSON.stringify(o.stdout)}`).toBeNull();
      expect(o.stdout).toContain('e\\e[31mvil\\u202e.yaml'); // the file name
      expect(o.stdout).toContain('x\\e]0;pwned\\x07\\r\\u202e\\x9b'); // the owner value, quoted in the message
      expect(o.stdout).toContain('k\\e[2J\\x07y'); // the key
      if (format === 'stylish') expect(o.stdout).toContain('# a comment\\rOVERWRITTEN'); // the excerpt line
      if (format === 'github') {
        // One workflow command per problem: nothing in a value can start a line of its own.
        for (const line of o.stdout.trimEnd().split('\n')) expect(line).toMatch(/^::(error|warning) file=/);
      }
    }, TEST_MS);
  }
  it('in the json format, where JSON.stringify leaves C1 controls and bidi overrides raw', async () => {
    const ws = openWorkspace();
    ws.write(fileName, evil);
    const o = await expectContract({ args: ['lint', '--format', 'json', '.'], cwd: ws.dir, exit: 1, withinMs: WITHIN_MS });
    expect(RAW_CONTROL.exec(o.stdout.replace(/\n/g, '')), `a raw control character in:\n${JSON.stringify(o.stdout)}`).toBeNull();
    const parsed = JSON.parse(o.stdout) as { file: string; message: string }[];
    expect(parsed.map((d) => d.file)).toContain(fileName);
  }, TEST_MS);
  it('in what flux run prints about a file with errors', async () => {
    const ws = openWorkspace();
    ws.write(fileName, evil);
    const o = await expectContract({ args: ['run', fileName], cwd: ws.dir, exit: 2, withinMs: WITHIN_MS });
    expect(RAW_CONTROL.exec(o.stderr.replace(/\n/g, '')), `a raw control character in:\n${JSON.stringify(o.stderr)}`).toBeNull();
    expect(o.stderr).toContain('flux: e\\e[31mvil\\u202e.yaml has errors; fix them');
  }, TEST_MS);
});
