/**
 * The package version, for `--version`, user agents and SARIF output. Its own module so that
 * commands do not import main.ts, which imports them.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The package version, read once from package.json. */
export function version(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
