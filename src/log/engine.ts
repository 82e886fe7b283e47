import type { StorageDriver } from './driver.js';
import { SqliteDriver } from './sqlite.js';
import { PostgresDriver, type PostgresDriverOptions } from './postgres.js';
import { TransparencyLog, type CheckpointSigner, type LogOptions } from './log.js';
import { KeylessError } from '../core/errors.js';

export interface OpenLogOptions extends LogOptions {
  /** Stable name of the log inside the engine (e.g. "rekor-v1", "rekor-v2", "ct"). */
  name: string;
  /**
   * Checkpoint origin, fixed when the log is created. A function receives the new
   * tree ID (Rekor v1 origins are `<host> - <treeID>`).
   */
  origin: string | ((treeId: string) => string);
  /** Builds the signer of new tree heads from the stored origin and tree ID. */
  signer: (log: { origin: string; treeId: string }) => CheckpointSigner;
  /**
   * For a log whose search keys are a function of the entry body (the CT log): when the
   * stored log's keys are of an older `version` (a data directory or database from before
   * they existed, or from before they changed), every stored entry is re-indexed with
   * `keysOf` before the log opens. Appends must pass the same keys.
   */
  index?: {
    version: number;
    keysOf: (body: Buffer) => string[];
    /** Told before a non-empty log is re-indexed (the open waits for it). */
    reindexing?: (entries: number) => void;
  };
}

/**
 * One storage engine hosting several logs (each its own tree, origin and key): the
 * transparency logs (Rekor v1 and v2) and the CT log share it.
 */
export class LogEngine {
  private readonly logs = new Map<string, TransparencyLog>();
  private refreshTimer: NodeJS.Timeout | undefined;

  /**
   * `refreshMs`: on a shared driver, how often every log picks up what other processes
   * integrated, so the checkpoint served is at most that old (reads that name a newer
   * index or size look at once).
   */
  private constructor(
    readonly driver: StorageDriver,
    refreshMs = 500,
  ) {
    if (driver.shared && refreshMs > 0) {
      this.refreshTimer = setInterval(() => {
        for (const log of this.logs.values()) log.refresh(refreshMs / 2).catch(() => {});
      }, refreshMs);
      this.refreshTimer.unref();
    }
    // Commits announced by any process wake the log up at once; the timer above stays the fallback.
    driver.watch?.((logId, size) => {
      for (const log of this.logs.values()) if (log.record.id === logId) log.noticeCommit(size);
    });
  }

  /** The embedded default: one SQLite file in `dataDir`. */
  static openSqlite(dataDir: string, fileName = 'log.db'): LogEngine {
    return new LogEngine(new SqliteDriver({ dataDir, fileName }));
  }

  static withDriver(driver: StorageDriver, options: { refreshMs?: number } = {}): LogEngine {
    return new LogEngine(driver, options.refreshMs);
  }

  /** Logs on PostgreSQL, shared with any other process opened on the same database. */
  static async openPostgres(options: PostgresDriverOptions & { refreshMs?: number }): Promise<LogEngine> {
    return new LogEngine(await PostgresDriver.open(options), options.refreshMs);
  }

  /** Creates the log on first use, then opens it (one instance per name). */
  async openLog(options: OpenLogOptions): Promise<TransparencyLog> {
    const open = this.logs.get(options.name);
    if (open) return open;
    const originFor = typeof options.origin === 'string' ? () => options.origin as string : options.origin;
    const record = await this.driver.ensureLog(options.name, originFor);
    if (typeof options.origin === 'string' && record.origin !== options.origin) {
      throw new KeylessError('LOG_ORIGIN_MISMATCH', `log ${options.name} has origin ${record.origin}, not ${options.origin}`);
    }
    const log = await TransparencyLog.open(this.driver, record, options.signer({ origin: record.origin, treeId: record.treeId }), options);
    if (options.index && record.indexVersion < options.index.version) {
      if (log.size > 0) options.index.reindexing?.(log.size);
      await log.reindex(options.index.version, options.index.keysOf);
    }
    this.logs.set(options.name, log);
    return log;
  }

  getLog(name: string): TransparencyLog | undefined {
    return this.logs.get(name);
  }

  /** Drains every log's queue, then closes the storage. */
  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    for (const log of this.logs.values()) await log.close();
    await this.driver.close();
  }
}
