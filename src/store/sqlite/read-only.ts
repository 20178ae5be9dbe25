import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Opens the SQLite file at `path` for reading through `open`, given its `mode=ro` URI. A reader
 * of a WAL database needs its -shm file, which it creates when no connection has it open. In a
 * directory it cannot write (a user with read access only, the daemon stopped) it cannot: then
 * no process has the database open, because every connection keeps the -shm and -wal files
 * while it is open, and the file can be read as it is, as immutable. With a -wal file holding
 * commits, that would miss them: the error stands.
 */
export function openReadOnlyFile<T>(path: string, open: (uri: string) => T): T {
  const uri = `${pathToFileURL(path).href}?mode=ro`;
  try {
    return open(uri);
  } catch (error) {
    const wal = `${path}-wal`;
    if (!/readonly|read-only/i.test(String((error as Error).message)) || (existsSync(wal) && statSync(wal).size > 0)) throw error;
    return open(`${uri}&immutable=1`);
  }
}
