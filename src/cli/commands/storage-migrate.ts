import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { copySqliteLogsToPostgres } from '../../log/index.js';
import { lockDataDir, parseDatabaseUrl } from '../../server/index.js';

/**
 * Copies `<dir>/log/log.db` (Rekor v1 and v2) and `<dir>/log/ct.db` (the CT log) into the
 * database, holding the data directory's lock so that no SQLite-backed serve writes meanwhile.
 */
export async function runStorageMigrate(opts: { from: string; to: string }): Promise<void> {
  const dataDir = resolve(opts.from);
  const url = parseDatabaseUrl(opts.to, '--to');
  const files = ['log.db', 'ct.db'].map((f) => join(dataDir, 'log', f)).filter((f) => existsSync(f));
  if (files.length === 0) {
    process.stderr.write(
      `keyless storage migrate: error: no log database in ${join(dataDir, 'log')} (is ${dataDir} a keyless data directory?)\n`,
    );
    process.exitCode = 1;
    return;
  }
  const unlock = lockDataDir(dataDir);
  try {
    const t0 = Date.now();
    const logs = await copySqliteLogsToPostgres(files, { connectionString: url }, (m) =>
      process.stderr.write(`keyless storage migrate: ${m}\n`),
    );
    for (const l of logs) process.stdout.write(`${l.name}: ${l.size} entries\n`);
    process.stderr.write(
      `keyless storage migrate: done in ${((Date.now() - t0) / 1000).toFixed(1)} s; start the frontends with --data-dir ${dataDir} --database ${url}\n`,
    );
  } finally {
    unlock();
  }
}
