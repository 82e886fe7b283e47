// The one commit path of the SQLite driver, run by the writer thread (sqlite-writer.worker.ts)
// or, with `writerThread: false`, by the driver's own connection.
import type Database from 'better-sqlite3';
import { KeylessError } from '../core/errors.js';
import type { BatchWrite } from './driver.js';

/** Entry rows are keyed by (log id << 40) + index: one compact rowid table for all logs. */
export const INDEX_BITS = 2 ** 40;

export const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 10000', 'cache_size = -65536'];

export interface CommitItem<B = BatchWrite> {
  logId: number;
  batch: B;
}

/**
 * A function committing a group of batches in one transaction (one fsync), each checked to
 * start where its log ends.
 */
export function prepareCommit(db: Database.Database): (items: readonly CommitItem[]) => void {
  const q = {
    sizeOf: db.prepare<[number], { size: number }>('SELECT size FROM logs WHERE id = ?'),
    setSize: db.prepare('UPDATE logs SET size = ? WHERE id = ?'),
    insertEntry: db.prepare('INSERT INTO entries (id, body, integrated_time) VALUES (?, ?, ?)'),
    insertLeaf: db.prepare('INSERT INTO leaves (log_id, leaf_hash, idx) VALUES (?, ?, ?)'),
    insertExtra: db.prepare('INSERT INTO entry_extra (id, data) VALUES (?, ?)'),
    upsertTile: db.prepare(
      'INSERT INTO tiles (log_id, level, idx, data) VALUES (?, ?, ?, ?) ON CONFLICT (log_id, level, idx) DO UPDATE SET data = excluded.data',
    ),
    insertCheckpoint: db.prepare('INSERT OR REPLACE INTO checkpoints (log_id, size, root_hash, signed, timestamp) VALUES (?, ?, ?, ?, ?)'),
    // Only the latest checkpoint is kept: older roots are recomputed from tiles when needed.
    pruneCheckpoints: db.prepare('DELETE FROM checkpoints WHERE log_id = ? AND size < ?'),
    insertSearch: db.prepare('INSERT OR IGNORE INTO search (log_id, key, idx) VALUES (?, ?, ?)'),
  };
  const commitOne = ({ logId, batch }: CommitItem): void => {
    const current = q.sizeOf.get(logId)?.size;
    if (current !== batch.startIndex) {
      throw new KeylessError('LOG_STATE_CONFLICT', `batch starts at ${batch.startIndex} but the log has ${String(current)} entries`);
    }
    const base = logId * INDEX_BITS;
    batch.entries.forEach((e, i) => {
      const idx = batch.startIndex + i;
      q.insertEntry.run(base + idx, e.body, e.integratedTime);
      q.insertLeaf.run(logId, e.leafHash, idx);
      if (e.extra) q.insertExtra.run(base + idx, e.extra);
      for (const k of e.indexKeys) q.insertSearch.run(logId, k, idx);
    });
    for (const t of batch.tiles) q.upsertTile.run(logId, t.level, t.index, t.data);
    const cp = batch.checkpoint;
    q.insertCheckpoint.run(logId, cp.size, cp.rootHash, cp.signed, cp.timestamp);
    q.pruneCheckpoints.run(logId, cp.size);
    q.setSize.run(batch.startIndex + batch.entries.length, logId);
  };
  const tx = db.transaction((items: readonly CommitItem[]) => items.forEach(commitOne));
  return (items) => tx(items);
}

/**
 * A batch as one message to the writer thread with few, compact buffers, each owning its
 * memory so it can be transferred: structured-cloning many small Buffer views would copy
 * each one's whole (pooled) backing store.
 */
export interface PackedBatch {
  startIndex: number;
  bodies: Uint8Array;
  bodyLengths: number[];
  leafHashes: Uint8Array;
  integratedTimes: number[];
  /** Search keys, 16 bytes each, `keyCounts[i]` of them for entry i. */
  keys: Uint8Array;
  keyCounts: number[];
  /** Extra data of the entries that have it: `lengths[i]` bytes for entry i, -1 for none. */
  extras?: { data: Uint8Array; lengths: number[] };
  tiles: { level: number; index: number; data: Uint8Array }[];
  checkpoint: { size: number; rootHash: Uint8Array; signed: string; timestamp: number };
}

const SEARCH_KEY_BYTES = 16;

function own(parts: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) o += p.copy(out, o);
  return out;
}

export function packBatch(b: BatchWrite): PackedBatch {
  const keys: Buffer[] = [];
  for (const e of b.entries) {
    for (const k of e.indexKeys) {
      if (k.length !== SEARCH_KEY_BYTES) throw new KeylessError('LOG_SEARCH_KEY', `search keys are ${SEARCH_KEY_BYTES} bytes`);
      keys.push(k);
    }
  }
  return {
    startIndex: b.startIndex,
    bodies: own(b.entries.map((e) => e.body)),
    bodyLengths: b.entries.map((e) => e.body.length),
    leafHashes: own(b.entries.map((e) => e.leafHash)),
    integratedTimes: b.entries.map((e) => e.integratedTime),
    keys: own(keys),
    keyCounts: b.entries.map((e) => e.indexKeys.length),
    ...(b.entries.some((e) => e.extra)
      ? {
          extras: { data: own(b.entries.flatMap((e) => (e.extra ? [e.extra] : []))), lengths: b.entries.map((e) => e.extra?.length ?? -1) },
        }
      : {}),
    tiles: b.tiles.map((t) => ({ level: t.level, index: t.index, data: own([t.data]) })),
    checkpoint: { ...b.checkpoint, rootHash: own([b.checkpoint.rootHash]) },
  };
}

/** The buffers of a packed batch, to transfer rather than copy. */
export function packedBuffers(p: PackedBatch): ArrayBuffer[] {
  return [p.bodies, p.leafHashes, p.keys, p.checkpoint.rootHash, ...(p.extras ? [p.extras.data] : []), ...p.tiles.map((t) => t.data)].map(
    (u) => u.buffer as ArrayBuffer,
  );
}

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function unpackBatch(p: PackedBatch): BatchWrite {
  const bodies = buf(p.bodies);
  const leaves = buf(p.leafHashes);
  const keys = buf(p.keys);
  const extras = p.extras && buf(p.extras.data);
  let bo = 0;
  let ko = 0;
  let xo = 0;
  const entries = p.bodyLengths.map((length, i) => {
    const body = bodies.subarray(bo, (bo += length));
    const indexKeys: Buffer[] = [];
    for (let k = 0; k < p.keyCounts[i]!; k++) indexKeys.push(keys.subarray(ko, (ko += SEARCH_KEY_BYTES)));
    const extraLength = p.extras?.lengths[i] ?? -1;
    const extra = extras && extraLength >= 0 ? extras.subarray(xo, (xo += extraLength)) : undefined;
    return {
      body,
      leafHash: leaves.subarray(i * 32, i * 32 + 32),
      integratedTime: p.integratedTimes[i]!,
      indexKeys,
      ...(extra ? { extra } : {}),
    };
  });
  return {
    startIndex: p.startIndex,
    entries,
    tiles: p.tiles.map((t) => ({ level: t.level, index: t.index, data: buf(t.data) })),
    checkpoint: { ...p.checkpoint, rootHash: buf(p.checkpoint.rootHash) },
  };
}
