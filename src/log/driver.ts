/**
 * The storage seam. A driver stores logs, entries, tiles, checkpoints and the search
 * index; everything the sequencer writes for one batch goes through `commitBatch`, which
 * must be atomic and durable when it resolves. SQLite is the default driver (one process
 * writes); the PostgreSQL driver is shared by several processes and adds `beginWrite`.
 */
export interface LogRecord {
  id: number;
  name: string;
  origin: string;
  /** A stable random 63-bit tree ID (decimal), used by Rekor v1 entry IDs and checkpoint origins. */
  treeId: string;
  size: number;
  createdAt: number;
  /**
   * Version of the search keys its entries carry (0: whatever the writer passed). A log
   * opened with a newer `index.version` derives the keys of every stored entry from its
   * body once, then records the version here (see `OpenLogOptions.index`).
   */
  indexVersion: number;
}

export interface StoredEntry {
  index: number;
  body: Buffer;
  /** Unix seconds at which the entry was integrated. */
  integratedTime: number;
  /** Kept with the entry, outside its leaf (a CT entry's chain, RFC 6962 extra_data); absent when none was given. */
  extra?: Buffer;
}

export interface StoredCheckpoint {
  size: number;
  rootHash: Buffer;
  /** The signed text exactly as served. */
  signed: string;
  /** Unix milliseconds at which it was signed. */
  timestamp: number;
}

export interface TileRecord {
  /** Tile level (each level is 8 Merkle levels). */
  level: number;
  index: number;
  /** Concatenated 32-byte hashes: 256 for a full tile, fewer for the right edge. */
  data: Buffer;
}

export interface BatchEntry {
  body: Buffer;
  leafHash: Buffer;
  integratedTime: number;
  /** Search keys (already hashed to a fixed width by the caller). */
  indexKeys: Buffer[];
  /** Data kept with the entry but not part of its leaf (see StoredEntry.extra). */
  extra?: Buffer;
}

export interface BatchWrite {
  /** Index of the first entry; must equal the stored size. */
  startIndex: number;
  entries: BatchEntry[];
  /** Every tile that changed, with its full new content. */
  tiles: TileRecord[];
  checkpoint: StoredCheckpoint;
}

/**
 * A right-edge tile read under the write lock. `from` (default 0): how many hashes at its
 * start were left out because the writer already holds them (the same tile in its view of
 * `knownSize`: tiles only grow by appending), so catching up reads only what is new.
 */
export type EdgeTile = TileRecord & { from?: number };

/**
 * One integration by one of several writers: the log's write lock is held from
 * `beginWrite` until `commit` or `release`. `size` is the stored size under the lock; the
 * writer catches up to it, and `commit` is a compare-and-set on it.
 */
export interface WriteSession {
  readonly size: number;
  /**
   * When `size` differs from the size the writer said it knew: the stored checkpoint and
   * the right-edge tiles at `size`, read under the lock (drivers may leave it out; the
   * writer then reads them itself).
   */
  readonly head?: { checkpoint: StoredCheckpoint; edgeTiles: EdgeTile[] };
  /**
   * Index of each of the writer's `leafHashes` already in the log, read under the lock, so
   * authoritative until `commit` (drivers may leave it out; the writer then looks them up).
   */
  readonly existing?: Map<string, number>;
  /** Atomic and durable like `commitBatch`; releases the lock. */
  commit(batch: BatchWrite): Promise<void>;
  /** Releases the lock without writing (no-op after commit). */
  release(): Promise<void>;
}

export interface StorageDriver {
  /** Other processes may write the same logs: the log integrates through `beginWrite` and refreshes its view on reads. */
  readonly shared?: boolean;
  /**
   * Takes the log's write lock (drivers shared by several processes); `knownSize`: the
   * writer's view; `leafHashes`: the batch's, looked up under the lock (`existing`).
   */
  beginWrite?(logId: number, knownSize?: number, leafHashes?: readonly Buffer[]): Promise<WriteSession>;
  /**
   * Calls `listener` when another process (or this one) committed to a log: a hint to look
   * sooner than the next poll, which stays the fallback (hints are lost while disconnected).
   */
  watch?(listener: (logId: number, size: number) => void): void;
  /** The log of that name; if absent it is created with a new tree ID and the origin computed from it. */
  ensureLog(name: string, origin: (treeId: string) => string): Promise<LogRecord>;
  listLogs(): Promise<LogRecord[]>;
  /** Atomic and durable: entries, leaf index, search index, tiles, checkpoint and the new size. */
  commitBatch(logId: number, batch: BatchWrite): Promise<void>;
  readEntries(logId: number, start: number, count: number): Promise<StoredEntry[]>;
  /** Index of each leaf hash already in the log. */
  findLeaves(logId: number, leafHashes: readonly Buffer[]): Promise<Map<string, number>>;
  readTiles(logId: number, refs: readonly { level: number; index: number }[]): Promise<TileRecord[]>;
  /** The latest checkpoint, or the one for an exact size (drivers may keep only the latest). */
  readCheckpoint(logId: number, size?: number): Promise<StoredCheckpoint | undefined>;
  /** Indexes of entries carrying the keys (all of them for 'and', any for 'or'), ascending, at most `limit`. */
  search(logId: number, keys: readonly Buffer[], operator: 'and' | 'or', limit: number): Promise<number[]>;
  /** Adds search keys to stored entries (idempotent: a key already there is kept). */
  addSearchKeys(logId: number, rows: readonly { index: number; keys: readonly Buffer[] }[]): Promise<void>;
  /** Records the version of the search keys every stored entry now carries. */
  setIndexVersion(logId: number, version: number): Promise<void>;
  /** Bytes used on disk (for benchmarks). */
  storageBytes(): Promise<number>;
  close(): Promise<void>;
}
