/**
 * Env files (`.env`): KEY=VALUE lines, optional `export `, # comments, single or double quotes
 * (double quotes understand \n, \t, \" and \\). Parse problems are reported with their line.
 */

export interface EnvFileProblem {
  readonly line: number;
  readonly message: string;
}

/** Parses env-file text into a map, collecting problems instead of throwing. */
export function parseEnvFile(text: string): { values: Record<string, string>; problems: EnvFileProblem[] } {
  const values: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      problems.push({ line: i + 1, message: 'expected KEY=VALUE' });
      return;
    }
    let value = m[2]!;
    if (value.startsWith('"')) {
      const end = findClosingQuote(value);
      if (end === -1) {
        problems.push({ line: i + 1, message: `unterminated double quote in value of ${m[1]}` });
        return;
      }
      value = value.slice(1, end).replace(/\\([nt"\\])/g, (_, c: string) => ({ n: '\n', t: '\t', '"': '"', '\\': '\\' })[c] ?? c);
    } else if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      if (end === -1) {
        problems.push({ line: i + 1, message: `unterminated single quote in value of ${m[1]}` });
        return;
      }
      value = value.slice(1, end);
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    values[m[1]!] = value;
  });
  return { values, problems };
}

function findClosingQuote(value: string): number {
  for (let i = 1; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i;
  }
  return -1;
}
