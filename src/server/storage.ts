import { join } from 'node:path';
import { KeylessError } from '../core/errors.js';
import { LogEngine } from '../log/index.js';
import type { StorageConfig, StorageDriverName } from './config.js';

/** The log engines the services keep their trees in: the transparency logs, and the CT log. */
export interface LogStorage {
  transparency: LogEngine;
  ct: LogEngine;
  close(): Promise<void>;
}

/**
 * The one place a storage driver is chosen. Each driver opens the engines from the data
 * directory and its configuration; PostgreSQL becomes one more entry here (and in
 * STORAGE_DRIVERS, which the configuration is checked against).
 */
const DRIVERS: Record<StorageDriverName, (dataDir: string) => LogStorage> = {
  // Two SQLite files in <dataDir>/log, each committing in its own writer thread, so the
  // CT log's fsyncs and the Rekor logs' fsyncs run side by side instead of queueing
  // behind each other (bench/flows: 1.1-1.4x the flows per second when the disk is the limit).
  sqlite: (dataDir) => {
    const transparency = LogEngine.openSqlite(join(dataDir, 'log'));
    const ct = LogEngine.openSqlite(join(dataDir, 'log'), 'ct.db');
    return { transparency, ct, close: async () => void (await Promise.all([transparency.close(), ct.close()])) };
  },
};

export function openLogStorage(config: StorageConfig, dataDir: string): LogStorage {
  const open = Object.hasOwn(DRIVERS, config.driver) ? DRIVERS[config.driver] : undefined;
  if (!open) {
    throw new KeylessError('STORAGE_DRIVER_UNKNOWN', `unknown storage driver ${JSON.stringify(config.driver)} (available: ${Object.keys(DRIVERS).join(', ')})`);
  }
  return open(dataDir);
}
