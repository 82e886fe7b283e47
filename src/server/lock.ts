import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KeylessError } from '../core/errors.js';

/**
 * One `keyless serve` per data directory: two servers appending to the same logs would
 * break their sequencing. The lock file holds the owner's pid; a lock left by a process
 * that no longer runs (a crash, SIGKILL) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'serve.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new KeylessError('DATA_DIR_LOCKED', `another keyless serve (pid ${owner}) is using ${dataDir}`);
      }
      unlinkSync(path);
    }
  }
  throw new KeylessError('DATA_DIR_LOCKED', `cannot lock ${dataDir}`);
}

/**
 * Frontends on a shared database (PostgreSQL) may share a data directory: each holds the
 * lock only while it starts, so keys, certificates and trust files are created once, by
 * the first, and only read by the others. A frontend that finds the lock taken waits.
 */
export async function lockDataDirWhileStarting(dataDir: string, waitMs = 60_000): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return lockDataDir(dataDir);
    } catch (e) {
      if (!(e instanceof KeylessError && e.code === 'DATA_DIR_LOCKED') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
