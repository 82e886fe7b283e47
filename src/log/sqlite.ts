import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../core/worker-rpc.js';
import type { BatchWrite, LogRecord, StorageDriver, StoredCheckpoint, StoredEntry, TileRecord } from './driver.js';
import { INDEX_BITS, PRAGMAS, packBatch, packedBuffers, prepareCommit, type CommitItem, type PackedBatch } from './sqlite-commit.js';
import type { SqliteWriterData, SqliteWriterRequest } from './sqlite-writer.worker.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, origin TEXT NOT NULL, tree_id TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, index_version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, body BLOB NOT NULL, integrated_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS leaves (log_id INTEGER NOT NULL, leaf_hash BLOB NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY (log_id, leaf_hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (log_id INTEGER NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (log_id, level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (log_id INTEGER NOT NULL, size INTEGER NOT NULL, root_hash BLOB NOT NULL,
  signed TEXT NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (log_id, size)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search (log_id INTEGER NOT NULL, key BLOB NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY (log_id, key, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entry_extra (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
`;

/** A `logs` row as SQLite stores it (also read by the migration to PostgreSQL). */
export interface LogRow {
  id: number;
  name: string;
  origin: string;
  tree_id: string;
  size: number;
  created_at: number;
  /** Absent in files written before search-key versions existed. */
  index_version?: number;
}

function toRecord(r: LogRow): LogRecord {
  return {
    id: r.id,
    name: r.name,
    origin: r.origin,
    treeId: r.tree_id,
    size: r.size,
    createdAt: r.created_at,
    indexVersion: r.index_version ?? 0,
  };
}

/**
 * Brings a file written by an older Keyless to this schema: `logs.index_version` (the
 * search-key version; 0 means the entries carry only the keys their writer passed).
 */
function upgradeSchema(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(logs)').all();
  if (!columns.some((c) => c.name === 'index_version')) db.exec('ALTER TABLE logs ADD COLUMN index_version INTEGER NOT NULL DEFAULT 0');
}

/** A random positive 63-bit tree ID, as Trillian assigns. */
function newTreeId(): string {
  const v = randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
  return (v === 0n ? 1n : v).toString();
}

export interface SqliteDriverOptions {
  /** Directory holding the database file (created 0700 if absent). */
  dataDir: string;
  fileName?: string;
  /** Commit batches in a writer thread so fsyncs never block the event loop (default true). */
  writerThread?: boolean;
}

/**
 * The embedded default: one SQLite file in WAL mode with synchronous=FULL, so a commit
 * returns only after the WAL is fsynced. better-sqlite3 is synchronous; a batch commit
 * costs well under a millisecond plus the fsync.
 */
export class SqliteDriver implements StorageDriver {
  private readonly db: Database.Database;
  readonly path: string;
  private readonly stmts;

  constructor(options: SqliteDriverOptions) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.path = join(options.dataDir, options.fileName ?? 'log.db');
    this.db = new Database(this.path);
    for (const p of PRAGMAS) this.db.pragma(p);
    this.db.exec(SCHEMA);
    upgradeSchema(this.db);
    if (options.writerThread ?? true) {
      this.writer = new WorkerClient<SqliteWriterRequest, null>(new URL('./sqlite-writer.worker.ts', import.meta.url), {
        workerData: { path: this.path } satisfies SqliteWriterData,
        failureCode: 'LOG_WRITE_FAILED',
      });
    }
    const db = this.db;
    this.stmts = {
      getLog: db.prepare<[string], LogRow>('SELECT * FROM logs WHERE name = ?'),
      listLogs: db.prepare<[], LogRow>('SELECT * FROM logs ORDER BY id'),
      insertLog: db.prepare('INSERT INTO logs (name, origin, tree_id, size, created_at) VALUES (?, ?, ?, 0, ?)'),
      findLeaf: db.prepare<[number, Buffer], { idx: number }>('SELECT idx FROM leaves WHERE log_id = ? AND leaf_hash = ?'),
      readTile: db.prepare<[number, number, number], { data: Buffer }>('SELECT data FROM tiles WHERE log_id = ? AND level = ? AND idx = ?'),
      latestCheckpoint: db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1'),
      checkpointAt: db.prepare<[number, number], CheckpointRow>('SELECT * FROM checkpoints WHERE log_id = ? AND size = ?'),
      searchKey: db.prepare<[number, Buffer, number], { idx: number }>(
        'SELECT idx FROM search WHERE log_id = ? AND key = ? ORDER BY idx LIMIT ?',
      ),
      insertSearch: db.prepare('INSERT OR IGNORE INTO search (log_id, key, idx) VALUES (?, ?, ?)'),
      setIndexVersion: db.prepare('UPDATE logs SET index_version = ? WHERE id = ? AND index_version < ?'),
      readEntries: db.prepare<[number, number], { id: number; body: Buffer; integrated_time: number; extra: Buffer | null }>(
        'SELECT e.id, e.body, e.integrated_time, x.data AS extra FROM entries e LEFT JOIN entry_extra x ON x.id = e.id WHERE e.id >= ? AND e.id < ? ORDER BY e.id',
      ),
    };
  }

  /** The in-thread commit path (no writer thread), prepared on first use. */
  private commitInThread: ((items: readonly CommitItem[]) => void) | undefined;

  async ensureLog(name: string, origin: (treeId: string) => string): Promise<LogRecord> {
    const existing = this.stmts.getLog.get(name);
    if (existing) return toRecord(existing);
    const treeId = newTreeId();
    this.stmts.insertLog.run(name, origin(treeId), treeId, Date.now());
    return toRecord(this.stmts.getLog.get(name)!);
  }

  async listLogs(): Promise<LogRecord[]> {
    return this.stmts.listLogs.all().map(toRecord);
  }

  private writer: WorkerClient<SqliteWriterRequest, null> | undefined;

  /** Batches waiting while a commit is in flight: they go together, one transaction, one fsync. */
  private groupQueue: { item: CommitItem<PackedBatch>; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private groupInFlight = false;

  private flushGroup(): void {
    if (this.groupInFlight || this.groupQueue.length === 0) return;
    const group = this.groupQueue.splice(0);
    this.groupInFlight = true;
    const items = group.map((g) => g.item);
    this.writer!.request(
      { kind: 'commit', items },
      items.flatMap((it) => packedBuffers(it.batch)),
    )
      .then(
        () => group.forEach((g) => g.resolve()),
        (e) => group.forEach((g) => g.reject(e)),
      )
      .finally(() => {
        this.groupInFlight = false;
        this.flushGroup();
      });
  }

  async commitBatch(logId: number, batch: BatchWrite): Promise<void> {
    if (this.writer) {
      return new Promise((resolve, reject) => {
        this.groupQueue.push({ item: { logId, batch: packBatch(batch) }, resolve, reject });
        this.flushGroup();
      });
    }
    this.commitInThread ??= prepareCommit(this.db);
    this.commitInThread([{ logId, batch }]);
  }

  async readEntries(logId: number, start: number, count: number): Promise<StoredEntry[]> {
    const base = logId * INDEX_BITS;
    return this.stmts.readEntries
      .all(base + start, base + start + count)
      .map((r) => ({ index: r.id - base, body: r.body, integratedTime: r.integrated_time, ...(r.extra ? { extra: r.extra } : {}) }));
  }

  async findLeaves(logId: number, leafHashes: readonly Buffer[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const h of leafHashes) {
      const row = this.stmts.findLeaf.get(logId, h);
      if (row) out.set(h.toString('hex'), row.idx);
    }
    return out;
  }

  async readTiles(logId: number, refs: readonly { level: number; index: number }[]): Promise<TileRecord[]> {
    const out: TileRecord[] = [];
    for (const r of refs) {
      const row = this.stmts.readTile.get(logId, r.level, r.index);
      if (row) out.push({ level: r.level, index: r.index, data: row.data });
    }
    return out;
  }

  async readCheckpoint(logId: number, size?: number): Promise<StoredCheckpoint | undefined> {
    const row = size === undefined ? this.stmts.latestCheckpoint.get(logId) : this.stmts.checkpointAt.get(logId, size);
    return row ? { size: row.size, rootHash: row.root_hash, signed: row.signed, timestamp: row.timestamp } : undefined;
  }

  async search(logId: number, keys: readonly Buffer[], operator: 'and' | 'or', limit: number): Promise<number[]> {
    if (keys.length === 0) return [];
    const sets = keys.map((k) => this.stmts.searchKey.all(logId, k, operator === 'and' ? 1_000_000 : limit).map((r) => r.idx));
    let result: number[];
    if (operator === 'or') result = [...new Set(sets.flat())];
    else {
      const [first, ...rest] = sets as [number[], ...number[][]];
      const others = rest.map((s) => new Set(s));
      result = first.filter((i) => others.every((o) => o.has(i)));
    }
    return result.sort((a, b) => a - b).slice(0, limit);
  }

  async addSearchKeys(logId: number, rows: readonly { index: number; keys: readonly Buffer[] }[]): Promise<void> {
    // On the main connection: WAL lets it write beside the writer thread (busy_timeout waits for it).
    this.db.transaction(() => {
      for (const r of rows) for (const k of r.keys) this.stmts.insertSearch.run(logId, k, r.index);
    })();
  }

  async setIndexVersion(logId: number, version: number): Promise<void> {
    this.stmts.setIndexVersion.run(version, logId, version);
  }

  async storageBytes(): Promise<number> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return statSync(this.path).size;
  }

  async close(): Promise<void> {
    if (this.writer) {
      await this.writer.request({ kind: 'close' });
      await this.writer.terminate();
      this.writer = undefined;
    }
    if (this.db.open) this.db.close();
  }

  /** Bulk path for benchmarks' tree builders: runs `fn` inside one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

interface CheckpointRow {
  size: number;
  root_hash: Buffer;
  signed: string;
  timestamp: number;
}
