import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { KeylessError } from '../core/errors.js';
import { isErrorCode } from '../core/error-codes.js';
import type { BatchWrite, LogRecord, StorageDriver, StoredCheckpoint, StoredEntry, TileRecord } from './driver.js';

/** Entry rows are keyed by (log id << 40) + index: one compact rowid table for all logs. */
const INDEX_BITS = 2 ** 40;
const INDEX_BITS_TEXT = '1099511627776';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, origin TEXT NOT NULL, tree_id TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, body BLOB NOT NULL, integrated_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS leaves (log_id INTEGER NOT NULL, leaf_hash BLOB NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY (log_id, leaf_hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (log_id INTEGER NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (log_id, level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (log_id INTEGER NOT NULL, size INTEGER NOT NULL, root_hash BLOB NOT NULL,
  signed TEXT NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (log_id, size)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search (log_id INTEGER NOT NULL, key BLOB NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY (log_id, key, idx)) WITHOUT ROWID;
`;

/** Write statements, shared by the in-thread path and the writer thread. */
const WRITE_SQL = {
  sizeOf: 'SELECT size FROM logs WHERE id = ?',
  setSize: 'UPDATE logs SET size = ? WHERE id = ?',
  insertEntry: 'INSERT INTO entries (id, body, integrated_time) VALUES (?, ?, ?)',
  insertLeaf: 'INSERT INTO leaves (log_id, leaf_hash, idx) VALUES (?, ?, ?)',
  upsertTile: 'INSERT INTO tiles (log_id, level, idx, data) VALUES (?, ?, ?, ?) ON CONFLICT (log_id, level, idx) DO UPDATE SET data = excluded.data',
  insertCheckpoint: 'INSERT OR REPLACE INTO checkpoints (log_id, size, root_hash, signed, timestamp) VALUES (?, ?, ?, ?, ?)',
  // Only the latest checkpoint is kept: older roots are recomputed from tiles when needed.
  pruneCheckpoints: 'DELETE FROM checkpoints WHERE log_id = ? AND size < ?',
  insertSearch: 'INSERT OR IGNORE INTO search (log_id, key, idx) VALUES (?, ?, ?)',
};

const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 10000', 'cache_size = -65536'];

/**
 * The writer thread (plain CommonJS, evaluated from this string so that it runs the
 * same from the sources and from the bundle): one connection that commits batches, so
 * the WAL fsync never blocks the event loop. Same statements, same checks as inline.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path);
for (const p of workerData.pragmas) db.pragma(p);
const q = {};
for (const [k, v] of Object.entries(workerData.sql)) q[k] = db.prepare(v);
const commitOne = (logId, b) => {
  const row = q.sizeOf.get(logId);
  if (!row || row.size !== b.startIndex) {
    const e = new Error('batch starts at ' + b.startIndex + ' but the log has ' + (row && row.size) + ' entries');
    e.code = 'LOG_STATE_CONFLICT';
    throw e;
  }
  const base = logId * ${INDEX_BITS_TEXT};
  for (let i = 0; i < b.entries.length; i++) {
    const e = b.entries[i];
    const idx = b.startIndex + i;
    q.insertEntry.run(base + idx, e.body, e.integratedTime);
    q.insertLeaf.run(logId, e.leafHash, idx);
    for (const k of e.indexKeys) q.insertSearch.run(logId, k, idx);
  }
  for (const t of b.tiles) q.upsertTile.run(logId, t.level, t.index, t.data);
  const cp = b.checkpoint;
  q.insertCheckpoint.run(logId, cp.size, cp.rootHash, cp.signed, cp.timestamp);
  q.pruneCheckpoints.run(logId, cp.size);
  q.setSize.run(b.startIndex + b.entries.length, logId);
};
const commit = db.transaction((items) => { for (const it of items) commitOne(it.logId, it.batch); });
const buf = (u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.postMessage({ id: m.id }); return; }
  try {
    // Entries arrive packed (see packBatch): bodies, leaf hashes and search keys concatenated.
    for (const it of m.items) {
      const p = it.batch;
      const bodies = buf(p.bodies), leaves = buf(p.leafHashes), keys = buf(p.keys);
      const entries = [];
      let bo = 0, ko = 0;
      for (let i = 0; i < p.bodyLengths.length; i++) {
        const body = bodies.subarray(bo, bo + p.bodyLengths[i]); bo += p.bodyLengths[i];
        const indexKeys = [];
        for (let k = 0; k < p.keyCounts[i]; k++) { indexKeys.push(keys.subarray(ko, ko + 16)); ko += 16; }
        entries.push({ body, leafHash: leaves.subarray(i * 32, i * 32 + 32), integratedTime: p.integratedTimes[i], indexKeys });
      }
      it.batch = { startIndex: p.startIndex, entries, tiles: p.tiles.map((t) => ({ level: t.level, index: t.index, data: buf(t.data) })), checkpoint: { ...p.checkpoint, rootHash: buf(p.checkpoint.rootHash) } };
    }
    commit(m.items);
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { code: e.code || 'LOG_WRITE_FAILED', message: String(e.message) } });
  }
});
`;

interface LogRow { id: number; name: string; origin: string; tree_id: string; size: number; created_at: number }

function toRecord(r: LogRow): LogRecord {
  return { id: r.id, name: r.name, origin: r.origin, treeId: r.tree_id, size: r.size, createdAt: r.created_at };
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
    if (options.writerThread ?? true) this.writer = this.startWriter();
    const db = this.db;
    this.stmts = {
      getLog: db.prepare<[string], LogRow>('SELECT * FROM logs WHERE name = ?'),
      listLogs: db.prepare<[], LogRow>('SELECT * FROM logs ORDER BY id'),
      insertLog: db.prepare('INSERT INTO logs (name, origin, tree_id, size, created_at) VALUES (?, ?, ?, 0, ?)'),
      sizeOf: db.prepare<[number], { size: number }>(WRITE_SQL.sizeOf),
      setSize: db.prepare(WRITE_SQL.setSize),
      insertEntry: db.prepare(WRITE_SQL.insertEntry),
      insertLeaf: db.prepare(WRITE_SQL.insertLeaf),
      findLeaf: db.prepare<[number, Buffer], { idx: number }>('SELECT idx FROM leaves WHERE log_id = ? AND leaf_hash = ?'),
      upsertTile: db.prepare(WRITE_SQL.upsertTile),
      readTile: db.prepare<[number, number, number], { data: Buffer }>('SELECT data FROM tiles WHERE log_id = ? AND level = ? AND idx = ?'),
      insertCheckpoint: db.prepare(WRITE_SQL.insertCheckpoint),
      pruneCheckpoints: db.prepare(WRITE_SQL.pruneCheckpoints),
      latestCheckpoint: db.prepare<[number], CheckpointRow>('SELECT * FROM checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1'),
      checkpointAt: db.prepare<[number, number], CheckpointRow>('SELECT * FROM checkpoints WHERE log_id = ? AND size = ?'),
      insertSearch: db.prepare(WRITE_SQL.insertSearch),
      searchKey: db.prepare<[number, Buffer, number], { idx: number }>('SELECT idx FROM search WHERE log_id = ? AND key = ? ORDER BY idx LIMIT ?'),
      readEntries: db.prepare<[number, number], { id: number; body: Buffer; integrated_time: number }>('SELECT id, body, integrated_time FROM entries WHERE id >= ? AND id < ? ORDER BY id'),
    };
  }

  private readonly commitTx = (logId: number, batch: BatchWrite): void => {
    const s = this.stmts;
    const current = s.sizeOf.get(logId)?.size;
    if (current !== batch.startIndex) {
      throw new KeylessError('LOG_STATE_CONFLICT', `batch starts at ${batch.startIndex} but the log has ${String(current)} entries`);
    }
    const base = logId * INDEX_BITS;
    batch.entries.forEach((e, i) => {
      const idx = batch.startIndex + i;
      s.insertEntry.run(base + idx, e.body, e.integratedTime);
      s.insertLeaf.run(logId, e.leafHash, idx);
      for (const k of e.indexKeys) s.insertSearch.run(logId, k, idx);
    });
    for (const t of batch.tiles) s.upsertTile.run(logId, t.level, t.index, t.data);
    const cp = batch.checkpoint;
    s.insertCheckpoint.run(logId, cp.size, cp.rootHash, cp.signed, cp.timestamp);
    s.pruneCheckpoints.run(logId, cp.size);
    s.setSize.run(batch.startIndex + batch.entries.length, logId);
  };

  private readonly commitTransaction = (): ((logId: number, batch: BatchWrite) => void) => this.db.transaction(this.commitTx);
  private tx: ((logId: number, batch: BatchWrite) => void) | undefined;

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

  private writer: { worker: Worker; pending: Map<number, { resolve: () => void; reject: (e: unknown) => void }>; nextId: number } | undefined;

  private startWriter(): NonNullable<SqliteDriver['writer']> {
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WRITER_SOURCE, { eval: true, workerData: { modulePath, path: this.path, pragmas: PRAGMAS, sql: WRITE_SQL } });
    const writer = { worker, pending: new Map<number, { resolve: () => void; reject: (e: unknown) => void }>(), nextId: 1 };
    worker.on('message', (m: { id: number; error?: { code: string; message: string } }) => {
      const p = writer.pending.get(m.id);
      writer.pending.delete(m.id);
      // An idle writer must not keep the process alive; a busy one must.
      if (writer.pending.size === 0) worker.unref();
      if (!p) return;
      if (m.error) p.reject(new KeylessError(isErrorCode(m.error.code) ? m.error.code : 'LOG_WRITE_FAILED', m.error.message));
      else p.resolve();
    });
    const failAll = (e: unknown): void => {
      for (const p of writer.pending.values()) p.reject(new KeylessError('LOG_WRITE_FAILED', `log writer stopped: ${(e as Error)?.message ?? String(e)}`));
      writer.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`exit ${code}`)));
    worker.unref();
    return writer;
  }

  private toWriter(message: Record<string, unknown>): Promise<void> {
    const w = this.writer!;
    const id = w.nextId++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      w.worker.ref();
      w.worker.postMessage({ ...message, id });
    });
  }

  /** Batches waiting while a commit is in flight: they go together, one transaction, one fsync. */
  private groupQueue: { logId: number; batch: BatchWrite; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private groupInFlight = false;

  private flushGroup(): void {
    if (this.groupInFlight || this.groupQueue.length === 0) return;
    const group = this.groupQueue.splice(0);
    this.groupInFlight = true;
    this.toWriter({ items: group.map((g) => ({ logId: g.logId, batch: packBatch(g.batch) })) }).then(
      () => group.forEach((g) => g.resolve()),
      (e) => group.forEach((g) => g.reject(e)),
    ).finally(() => {
      this.groupInFlight = false;
      this.flushGroup();
    });
  }

  async commitBatch(logId: number, batch: BatchWrite): Promise<void> {
    if (this.writer) {
      return new Promise((resolve, reject) => {
        this.groupQueue.push({ logId, batch, resolve, reject });
        this.flushGroup();
      });
    }
    this.tx ??= this.commitTransaction();
    this.tx(logId, batch);
  }

  async readEntries(logId: number, start: number, count: number): Promise<StoredEntry[]> {
    const base = logId * INDEX_BITS;
    return this.stmts.readEntries.all(base + start, base + start + count).map((r) => ({ index: r.id - base, body: r.body, integratedTime: r.integrated_time }));
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

  async storageBytes(): Promise<number> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return statSync(this.path).size;
  }

  async close(): Promise<void> {
    if (this.writer) {
      await this.toWriter({ close: true });
      await this.writer.worker.terminate();
      this.writer = undefined;
    }
    if (this.db.open) this.db.close();
  }

  /** Bulk path for benchmarks' tree builders: runs `fn` inside one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

/**
 * A batch as one message to the writer with few, compact buffers: structured-cloning many
 * small Buffer views would copy each one's whole (pooled) backing store.
 */
function packBatch(b: BatchWrite): Record<string, unknown> {
  const keys: Buffer[] = [];
  for (const e of b.entries) {
    for (const k of e.indexKeys) {
      if (k.length !== 16) throw new KeylessError('LOG_SEARCH_KEY', 'search keys are 16 bytes');
      keys.push(k);
    }
  }
  const own = (parts: Buffer[]): Buffer => {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const out = Buffer.allocUnsafeSlow(total);
    let o = 0;
    for (const p of parts) {
      p.copy(out, o);
      o += p.length;
    }
    return out;
  };
  return {
    startIndex: b.startIndex,
    bodies: own(b.entries.map((e) => e.body)),
    bodyLengths: b.entries.map((e) => e.body.length),
    leafHashes: own(b.entries.map((e) => e.leafHash)),
    integratedTimes: b.entries.map((e) => e.integratedTime),
    keys: own(keys),
    keyCounts: b.entries.map((e) => e.indexKeys.length),
    tiles: b.tiles.map((t) => ({ level: t.level, index: t.index, data: own([t.data]) })),
    checkpoint: { ...b.checkpoint, rootHash: own([b.checkpoint.rootHash]) },
  };
}

interface CheckpointRow { size: number; root_hash: Buffer; signed: string; timestamp: number }
